"""idlc's command-line parser."""

from __future__ import annotations

import pytest

from idlc.options import HELP, UsageError, parse


def test_attached_and_separate_values() -> None:
    cmd = parse(["-Iinc", "-I", "more", "-DA", "-D", "B=2", "-UC", "-oout", "x.idl", "y.idl"])
    assert cmd.include_dirs == ["inc", "more"]
    assert cmd.defines == {"A": "1", "B": "2"}
    assert cmd.undefines == ["C"]
    assert cmd.output == "out"
    assert cmd.files == ["x.idl", "y.idl"]
    assert cmd.mode == "generate"


def test_long_options_with_equals() -> None:
    cmd = parse(["--emit=ir", "--max-errors=3", "--language=python", "a.idl"])
    assert (cmd.mode, cmd.max_errors, cmd.language) == ("emit-ir", 3, "python")


def test_define_keeps_everything_after_the_first_equals() -> None:
    assert parse(["-DX=a=b", "f.idl"]).defines == {"X": "a=b"}


def test_double_dash_ends_options() -> None:
    assert parse(["--check", "--", "-odd.idl"]).files == ["-odd.idl"]


def test_warnings() -> None:
    cmd = parse(["-Werror", "-WW0001", "-w", "f.idl"])
    assert cmd.werror and cmd.no_warnings and cmd.enabled_warnings == {"W0001"}


def test_no_format_is_gone() -> None:
    # generated code is written as black formats it; there is no formatting step to skip
    with pytest.raises(UsageError, match="unknown option --no-format"):
        parse(["--no-format", "f.idl"])


def test_the_same_mode_twice_is_fine() -> None:
    assert parse(["--check", "--check", "f.idl"]).mode == "check"


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "no input files"),
        (["-I"], "needs a value"),
        (["--emit", "xml", "f.idl"], "cannot emit"),
        (["-l", "cobol", "f.idl"], "unknown language"),
        (["--check", "-M", "f.idl"], "cannot be combined"),
        (["-Wfoo", "f.idl"], "unknown warning"),
        (["-D=1", "f.idl"], "invalid macro name"),
        (["--max-errors", "0", "f.idl"], "positive"),
        (["--check=yes", "f.idl"], "takes no value"),
        (["--frobnicate", "f.idl"], "unknown option --frobnicate"),
    ],
)
def test_usage_errors(argv: list[str], fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        parse(argv)


def test_help_and_version_need_no_files() -> None:
    assert parse(["--help"]).help
    assert parse(["--version"]).version


def test_help_mentions_every_option() -> None:
    for option in (
        "--check",
        "--emit",
        "--sizes",
        "-M",
        "-I",
        "-D",
        "-U",
        "-o",
        "--language",
        "-Werror",
        "-W<CODE>",
        "-w",
        "--max-errors",
        "--help",
        "--version",
    ):
        assert option in HELP
