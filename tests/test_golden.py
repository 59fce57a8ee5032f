"""Golden files (tests/golden/expected/): what the compiler writes for a few IDL files is
exactly what was last reviewed. After an intended change, `make golden` rewrites them
and the diff goes into the commit."""

from __future__ import annotations

import runpy
from pathlib import Path

_golden = runpy.run_path(str(Path(__file__).resolve().parent.parent / "tools" / "golden.py"))
CASES, EXPECTED, differences = _golden["CASES"], _golden["EXPECTED"], _golden["differences"]


def test_every_case_has_expected_files() -> None:
    for name, _idl, _opts in CASES:
        assert (EXPECTED / name / "ir.json").is_file(), f"run `make golden` ({name})"
        assert any((EXPECTED / name / "python").rglob("*_idl.py")), name


def test_outputs_match_the_golden_files() -> None:
    diffs = differences()
    assert not diffs, "".join(diffs)[:20000] + "\nrun `make golden` and review the diff"
