"""An annotation's name is not a declaration (issue 14 item 5): the standard `@default(...)`
and `@oneway` drew W0006 "'default' is a keyword"; the keyword rules still hold for names
that are declared or used as names."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

# (source, expected (code, line, col) of each diagnostic)
CASES: list[tuple[str, list[tuple[str, int, int]]]] = [
    # the report: @default on a member
    ("struct S {\n  @default(3) long x;\n};\n", []),
    ("@default(5) struct S {\n  long x;\n};\n", []),
    ("struct S {\n  @key @default(1) long id;\n};\n", []),
    ("struct S {\n  @ default(2) long y;\n};\n", []),
    ("interface I {\n  @oneway void f();\n};\n", []),
    ("struct S {\n  @default(1) @default(2) long x;\n};\n", [("E0603", 2, 15)]),
    # a name in another case is just an unknown annotation
    ("struct S {\n  @Default(2) long y;\n};\n", [("W0003", 2, 3)]),
    # names are still checked where they are names
    ("struct S {\n  long default;\n};\n", [("W0006", 2, 8)]),
    ("struct S {\n  long Default;\n};\n", [("W0007", 2, 8)]),
    ("typedef long default;\n", [("W0006", 1, 14)]),
    ("struct S {\n  @default(3) long context;\n};\n", [("W0006", 2, 20)]),
    ("const long x = 1;\nstruct S {\n  @default(x) long y;\n};\n", []),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_annotation_names_are_not_checked_as_identifiers(
    source: str, expected: list[tuple[str, int, int]], tmp_path: Path
) -> None:
    path = tmp_path / "a.idl"
    path.write_text(source)
    diags = Diagnostics()
    compile_file(str(path), Options(layout=False), diags)
    got = [(d.code, d.span.line, d.span.col) for d in diags.items if d.span is not None]
    assert got == expected
