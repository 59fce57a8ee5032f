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


# (options in order) -> (enabled, disabled, as errors, exempt from -Werror, -Werror)
WARNING_OPTIONS = [
    (["-WW0010"], ({"W0010"}, set(), set(), set(), False)),
    (["-Wname-used-in-scope"], ({"W0010"}, set(), set(), set(), False)),
    (["-Wno-W0006"], (set(), {"W0006"}, set(), set(), False)),
    (["-Wno-keyword-as-identifier"], (set(), {"W0006"}, set(), set(), False)),
    (["-Wno-W0006", "-WW0006"], ({"W0006"}, set(), set(), set(), False)),
    (["-WW0006", "-Wno-W0006"], (set(), {"W0006"}, set(), set(), False)),
    (["-Werror=W0003"], ({"W0003"}, set(), {"W0003"}, set(), False)),
    (["-Wno-W0003", "-Werror=unknown-annotation"], ({"W0003"}, set(), {"W0003"}, set(), False)),
    (["-Werror=W0003", "-Wno-W0003"], (set(), {"W0003"}, {"W0003"}, set(), False)),
    (["-Werror", "-Wno-error=W0004"], (set(), set(), set(), {"W0004"}, True)),
    (["-Werror=W0004", "-Wno-error=W0004"], ({"W0004"}, set(), set(), {"W0004"}, False)),
    (["-Werror", "-Wno-error"], (set(), set(), set(), set(), False)),
    # a retired code's name, shared with a live one, means the live one
    (["-Wno-default-unreachable"], (set(), {"W0008"}, set(), set(), False)),
]


@pytest.mark.parametrize(("argv", "expected"), WARNING_OPTIONS)
def test_warning_options_gcc_style(
    argv: list[str], expected: tuple[set[str], set[str], set[str], set[str], bool]
) -> None:
    cmd = parse([*argv, "f.idl"])
    got = (
        cmd.enabled_warnings,
        cmd.disabled_warnings,
        cmd.error_warnings,
        cmd.no_error_warnings,
        cmd.werror,
    )
    assert got == expected


def test_help_lists_every_warning_by_code_and_name() -> None:
    from idlc.errcodes import TABLE

    for code, defn in TABLE.items():
        if code.startswith("W") and not defn.retired:
            star = " *" if defn.opt_in else ""
            assert f"{code} {defn.name}{star}" in HELP, code


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
        (["-Wno-foo", "f.idl"], "unknown warning"),
        (["-Werror=foo", "f.idl"], "unknown warning"),
        (["-Wno-error=W0099", "f.idl"], "unknown warning"),
        (["-WW0005", "f.idl"], "unknown warning"),  # retired
        (["-Wno-pragma-ignored", "f.idl"], "unknown warning"),  # a retired name
        (["-Wno-E0201", "f.idl"], "E0201 is an error"),
        (["-Werror=redefinition", "f.idl"], "E0201 is an error"),
        (["--max-errors", "1" * 5000, "f.idl"], "positive"),
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
        "-Werror=CODE",
        "-Wno-error=CODE",
        "-WCODE",
        "-Wno-CODE",
        "-w",
        "--max-errors",
        "--help",
        "--version",
    ):
        assert option in HELP
