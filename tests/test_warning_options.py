"""Warnings users control, GCC-style (issue 14 item 3), through the command: -Wno-CODE,
-WCODE, -Werror=CODE, -Wno-error=CODE, -Werror, -w; a code or its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlc.cli import main

# W0001 (opt-in) on line 1, W0003 on line 2, W0006 on line 3, W0004 on line 5.
SOURCE = """\
#pragma frobnicate
@frobnicate struct S {
  long context;
};
interface Journal { void log(in string s); };
"""

# Reported in phase order: W0001 preprocessing, W0006 parsing, W0003 analysis, W0004 the
# wire checks; a phase that reported an error (a warning made one) is the last to run.
PHASES = ["W0001", "W0006", "W0003", "W0004"]
DEFAULT = ["W0006", "W0003", "W0004"]  # W0001 is opt-in

# (options, the codes reported, those of them reported as errors)
CASES: list[tuple[list[str], list[str], list[str]]] = [
    ([], DEFAULT, []),
    (["-WW0001"], PHASES, []),
    (["-Wunknown-pragma"], PHASES, []),
    (["-Wno-W0006"], ["W0003", "W0004"], []),
    (["-Wno-keyword-as-identifier", "-Wno-may-not-fit"], ["W0003"], []),
    (["-Wno-W0006", "-WW0006"], DEFAULT, []),
    (["-WW0006", "-Wno-W0006"], ["W0003", "W0004"], []),
    (["-Werror=W0004"], DEFAULT, ["W0004"]),
    (["-Werror=unknown-annotation"], ["W0006", "W0003"], ["W0003"]),
    (["-Werror=W0006"], ["W0006"], ["W0006"]),
    (["-Werror=unknown-pragma"], ["W0001"], ["W0001"]),
    (["-Werror"], ["W0006"], ["W0006"]),
    (["-Werror", "-Wno-error=W0006"], ["W0006", "W0003"], ["W0003"]),
    (["-Werror", "-Wno-error=W0006", "-Wno-error=W0003"], DEFAULT, ["W0004"]),
    (["-Werror", "-Wno-error=W0006", "-Wno-error=W0003", "-Wno-error=W0004"], DEFAULT, []),
    (["-Werror", "-Wno-error"], DEFAULT, []),
    (["-Werror", "-Wno-W0006", "-Wno-W0003", "-Wno-W0004"], [], []),
    (["-Werror=W0004", "-Wno-W0004"], ["W0006", "W0003"], []),
    (["-Werror=W0004", "-Wno-error=W0004"], DEFAULT, []),
    (["-w"], [], []),
    (["-w", "-Werror=W0004"], ["W0004"], ["W0004"]),  # -w hides warnings, not errors
]


def diagnostics(err: str) -> list[tuple[str, str]]:
    out = []
    for line in err.splitlines():
        for severity in ("error", "warning"):
            _head, sep, rest = line.partition(f": {severity}[")
            if sep and not line.startswith(" "):
                out.append((rest[:5], severity))
    return out


@pytest.mark.parametrize(("options", "codes", "errors"), CASES)
def test_warning_options(
    options: list[str],
    codes: list[str],
    errors: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    src = tmp_path / "w.idl"
    src.write_text(SOURCE)
    status = main(["--check", *options, str(src)])
    err = capsys.readouterr().err
    expected = [(c, "error" if c in errors else "warning") for c in codes]
    assert (status, diagnostics(err)) == (1 if errors else 0, expected)


@pytest.mark.parametrize(
    "option", ["-Wno-E0201", "-Werror=E0302", "-Wno-bogus", "-WW0005", "-Wno-error=W9999"]
)
def test_bad_warning_options_are_usage_errors(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "w.idl"
    src.write_text(SOURCE)
    assert main(["--check", option, str(src)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith("idlc: error: ")
    assert option in err
