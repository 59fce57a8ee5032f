"""Every conformance vector (``$IDLC_CONFORMANCE/*.json``, WIRE.md) on both architectures:
encoding gives exactly the words and items, decoding gives the values back (floats by
their bits, through the canonical JSON form), and ``reject`` cases raise DecodeError and
nothing else."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from idlc.backends.python.wire import Loaded
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from runtime.codec import DecodeError, Message

ENV = "IDLC_CONFORMANCE"


def _files() -> list[Path]:
    where = os.environ.get(ENV)
    if not where:
        return []
    return sorted(Path(where).glob("*.json"))


def _cases() -> list[Any]:
    params = []
    for path in _files():
        data = json.loads(path.read_text())
        for i, case in enumerate(data["cases"]):
            params.append(pytest.param(path, i, id=f"{path.stem}:{case['name']}"))
    return params


def vector_files() -> list[Path]:
    """The vector files, for a test that needs them: it skips when IDLC_CONFORMANCE is not
    set and fails when it is set but holds no vectors (CI sets it; see .ci/run)."""
    where = os.environ.get(ENV)
    if not where:
        pytest.skip(f"{ENV} is not set (CI sets it; see .ci/run)")
    files = _files()
    if not Path(where).is_dir() or not files:
        pytest.fail(f"{ENV}={where} holds no *.json vectors")
    return files


def test_vectors_are_there() -> None:
    vector_files()


_LOADED: dict[Path, Loaded] = {}


def _load(path: Path, tmp: Path) -> tuple[Loaded, dict[str, Any]]:
    data = json.loads(path.read_text(), parse_float=Decimal)
    if path not in _LOADED:
        idl = tmp / f"{path.stem}.idl"
        idl.write_text(data["idl"])
        diags = Diagnostics()
        result = compile_file(str(idl), Options(), diags)
        assert result.spec is not None, [str(d) for d in diags.items]
        loaded = Loaded(result.spec, diags)
        assert loaded.ok, [str(d) for d in diags.items]
        _LOADED[path] = loaded
    return _LOADED[path], data


@pytest.mark.parametrize(("path", "index"), _cases())
def test_vector(path: Path, index: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    loaded, data = _load(path, tmp_path_factory.mktemp("conf"))
    case = data["cases"][index]
    arch, iface, method, direction = case["arch"], case["interface"], case["method"], case["dir"]
    words = [int(w, 16) for w in case["words"]]
    items = [(int(c, 16), int(f, 16)) for c, f in case["items"]]
    msg = Message.from_words(arch, words, items)
    if case.get("reject"):
        with pytest.raises(DecodeError):
            loaded.decode(msg, iface, method, direction)
        return
    encoded = loaded.encode(arch, iface, method, direction, case["values"])
    assert [hex(w) for w in encoded.words] == case["words"]
    assert [[hex(c), hex(f)] for c, f in encoded.items] == case["items"]
    decoded = loaded.decode(msg, iface, method, direction)
    # the canonical JSON of the vector's values (floats by bits via repr)
    expected = loaded.decode(encoded, iface, method, direction)
    assert _canon(decoded) == _canon(expected)
    assert _canon(decoded) == _canon(json.loads(json.dumps(case["values"], default=str)))


def _canon(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _canon(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_canon(x) for x in v]
    if isinstance(v, float | Decimal) and not isinstance(v, bool):
        return repr(float(v))
    if isinstance(v, str):
        try:
            return repr(float(Decimal(v))) if any(c.isdigit() for c in v) and "." in v else v
        except Exception:
            return v
    return v
