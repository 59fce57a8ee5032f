"""Round-trip properties (tests/backend/roundtrip.py) over the samples and the
conformance IDL ($IDLC_CONFORMANCE), on both architectures, with $IDLC_FUZZ_EXAMPLES
examples per type and method (`make fuzz` runs many)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import ModuleType

import pytest

from .roundtrip import (
    check_arbitrary,
    check_methods,
    check_types,
    check_wrong_types,
    compile_and_generate,
    stub_pairs,
)

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").rglob("*.idl"))


def _sources(tmp: Path) -> list[tuple[str, Path]]:
    out = [(f"s_{p.stem}", p) for p in SAMPLES]
    where = os.environ.get("IDLC_CONFORMANCE")
    if where:
        for vec in sorted(Path(where).glob("*.json")):
            src = tmp / f"{vec.stem}.idl"
            src.write_text(json.loads(vec.read_text())["idl"])
            out.append((f"c_{vec.stem}", src))
    return out


@pytest.fixture(scope="module")
def modules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[ModuleType]]:
    root = tmp_path_factory.mktemp("rt")
    pkg = root / "rt_pkg"
    found: dict[str, list[ModuleType]] = {}
    for sub, src in _sources(root):
        written, diags = compile_and_generate(src, pkg / sub)
        assert written, [str(d) for d in diags.items]
        (pkg / "__init__.py").touch()
        pairs = stub_pairs(root, f"rt_pkg/{sub}")
        found[sub] = [m for pair in pairs for m in pair]
    return found


def _pairs(modules: dict[str, list[ModuleType]]) -> list[tuple[ModuleType, ModuleType]]:
    out = []
    for mods in modules.values():
        out.extend(zip(mods[::2], mods[1::2], strict=True))
    return out


def test_types_round_trip(modules: dict[str, list[ModuleType]]) -> None:
    assert sum(check_types(stub, strat) for stub, strat in _pairs(modules)) > 0


def test_messages_round_trip(modules: dict[str, list[ModuleType]]) -> None:
    assert sum(check_methods(stub, strat) for stub, strat in _pairs(modules)) > 0


def test_arbitrary_words_decode_or_reject(modules: dict[str, list[ModuleType]]) -> None:
    assert sum(check_arbitrary(stub, strat) for stub, strat in _pairs(modules)) > 0


def test_wrong_python_types_are_marshal_errors(modules: dict[str, list[ModuleType]]) -> None:
    assert sum(check_wrong_types(stub, strat) for stub, strat in _pairs(modules)) > 0
