"""Every conformance vector through the generated C++ (issue 18, item 3): encoding the
values gives exactly the words and items on both architectures, decoding them gives the
values back (floats by their bits), and `reject` cases fail to decode, strictly; the same
through the command, `idlc wire --backend cxx`, for a sample of them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from idlc.backends.cxx.wire import Rejected
from idlc.cli import main

from ..backend.test_conformance import _canon, _cases, vector_files
from .helpers import harness


def _idl(path: Path, tmp: Path) -> Path:
    idl = tmp / f"{path.stem}.idl"
    if not idl.exists():
        idl.write_text(json.loads(path.read_text())["idl"])
    return idl


@pytest.mark.parametrize(("path", "index"), _cases())
def test_vector(path: Path, index: int, tmp_path_factory: pytest.TempPathFactory) -> None:
    case = json.loads(path.read_text())["cases"][index]
    base = tmp_path_factory.getbasetemp() / "cxx-vectors"
    base.mkdir(exist_ok=True)
    h = harness(_idl(path, base))
    where = (case["arch"], case["interface"], case["method"], case["dir"])
    message = {"words": case["words"], "items": case["items"]}
    if case.get("reject"):
        with pytest.raises(Rejected):
            h.decode(*where, message)
        return
    assert h.encode(*where, case["values"]) == message
    decoded = h.decode(*where, message)
    assert _canon(decoded) == _canon(json.loads(json.dumps(case["values"])))
    assert h.encode(*where, decoded) == message


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    return main(argv), out.getvalue(), err.getvalue()


def _argv(idl: Path, case: dict[str, Any]) -> list[str]:
    return [
        "wire",
        str(idl),
        "--backend",
        "cxx",
        "--arch",
        case["arch"],
        "--interface",
        case["interface"],
        "--method",
        case["method"],
        "--dir",
        case["dir"],
    ]


def test_through_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command's JSON, exit codes and one-line errors, as the Python backend's."""
    vector_files()  # skips when IDLC_CONFORMANCE is not set, fails when it holds none
    params = _cases()
    for param in params:
        path, index = param.values
        case = json.loads(path.read_text())["cases"][index]
        idl = _idl(path, tmp_path)
        message = json.dumps({"words": case["words"], "items": case["items"]})
        code, out, err = _run([*_argv(idl, case), "--decode"], message, monkeypatch)
        if case.get("reject"):
            assert (code, out) == (1, ""), err
            assert err.startswith("idlc wire: does not decode: ") and err.count("\n") == 1
            continue
        assert code == 0, err
        code, out, err = _run(_argv(idl, case), out, monkeypatch)
        assert (code, json.loads(out)) == (0, json.loads(message)), err
