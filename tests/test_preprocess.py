"""Tests for idlc.preprocess: assert on diagnostic codes and spans, not on message text."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from idlc import PREDEFINED_MACRO, PREDEFINED_VALUE
from idlc.diagnostics import Diagnostics, TooManyErrors
from idlc.preprocess import (
    MAX_INCLUDE_DEPTH,
    PreprocessResult,
    parse_define_option,
    preprocess,
)
from idlc.source import Span


def pp(text: str, path: str = "t.idl", **kw: object) -> tuple[PreprocessResult, Diagnostics]:
    d = Diagnostics()
    r = preprocess(path, d, text=text, **kw)  # type: ignore[arg-type]
    return r, d


def out_lines(r: PreprocessResult) -> list[str]:
    return r.text.split("\n")[:-1] if r.text else []


def where(span: Span | None) -> tuple[str, int, int]:
    assert span is not None
    return (os.path.basename(span.file), span.line, span.col)


def write(tmp: Path, name: str, text: str) -> str:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return str(p)


# --- pass-through and line structure -----------------------------------------------------


def test_plain_text_is_unchanged() -> None:
    src = "module M {\n  // a comment\n  struct S { long x; }; /* c */\n};\n"
    r, d = pp(src)
    assert r.text == src
    assert d.codes() == []
    assert r.dependencies == ["t.idl"]
    assert r.pragmas == []
    assert r.linemap.locate(3, 10) == Span("t.idl", 3, 10, 3, 11)


def test_empty_input() -> None:
    r, d = pp("")
    assert r.text == ""
    assert d.codes() == []


def test_directives_become_empty_lines_and_line_count_is_kept() -> None:
    src = "#define X 1 \\\n  + 2\na\n#ifdef X\nb\n#endif\nc\n"
    r, _ = pp(src)
    assert out_lines(r) == ["", "", "a", "", "b", "", "c"]


def test_crlf_lines() -> None:
    r, d = pp("#define X 7\r\nconst long a = X;\r\n#if X == 7\r\nyes\r\n#endif\r\n")
    assert d.codes() == []
    assert out_lines(r) == ["", "const long a = 7;\r", "", "yes\r", ""]


# --- macros -----------------------------------------------------------------------------


def test_object_and_function_macros() -> None:
    src = (
        "#define N 10\n"
        "#define ADD(a, b) ((a) + (b))\n"
        "#define TWICE(x) ADD(x, x)\n"
        "const long v = TWICE(N);\n"
    )
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r)[3] == "const long v = ((10) + (10));"


def test_self_reference_terminates() -> None:
    src = "#define A A B\n#define B A\nA B\n#define f(x) f(x) x\nf(f(1))\n"
    r, d = pp(src)
    assert d.codes() == []
    lines = out_lines(r)
    assert lines[2] == "A A A B"  # as GNU cpp
    assert lines[4] == "f(f(1) 1) f(1) 1"


def test_function_macro_without_parens_is_not_expanded() -> None:
    r, _ = pp("#define F(x) x\nF + F (1)\n")
    assert out_lines(r)[1] == "F + 1"


def test_stringize_paste_and_va_args() -> None:
    src = (
        "#define S(x) #x\n"
        "#define CAT(a, b) a ## b\n"
        "#define V(fmt, ...) fmt(__VA_ARGS__)\n"
        "#define G(fmt, args...) fmt(args)\n"
        "#define C(x, ...) x , ## __VA_ARGS__\n"
        'S( a  "b" ) CAT(my, Name) V(f, 1, 2) G(g, 3) C(1) C(1, 2)\n'
    )
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r)[5] == '"a \\"b\\"" myName f(1, 2) g(3) 1 1 ,2'


def test_multi_line_invocation_keeps_line_count() -> None:
    src = "#define F(a, b) a + b\nx = F(1,\n  2) ; y\nz\n"
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r) == ["", "x = 1 + 2 ; y", "", "z"]
    # "y" came from line 3, column 7
    col = out_lines(r)[1].index("y") + 1
    assert where(r.linemap.locate(2, col)) == ("t.idl", 3, 8)
    assert where(r.linemap.locate(4, 1)) == ("t.idl", 4, 1)


def test_columns_after_expansion_map_back() -> None:
    src = "#define LONGNAME 1\n#define F(x) (x + x + x)\nconst long a = LONGNAME + F(2) + b;\n"
    r, _ = pp(src)
    line = out_lines(r)[2]
    assert line == "const long a = 1 + (2 + 2 + 2) + b;"
    lm = r.linemap
    assert where(lm.locate(3, 1)) == ("t.idl", 3, 1)
    assert where(lm.locate(3, 16)) == ("t.idl", 3, 16)  # the "1" -> LONGNAME
    assert where(lm.locate(3, 22)) == ("t.idl", 3, 27)  # inside F(2) -> the invocation
    b_col = line.index("b") + 1
    assert where(lm.locate(3, b_col)) == ("t.idl", 3, src.splitlines()[2].index("b") + 1)
    assert where(lm.locate(3, b_col + 1)) == ("t.idl", 3, len(src.splitlines()[2]))


def test_comments_and_strings_are_not_expanded() -> None:
    src = "#define X 1\n" "X // X\n\"X\" 'X' /* X\nX */ X\n"
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r) == ["", "1 // X", "\"X\" 'X' /* X", "X */ 1"]


def test_directive_in_block_comment_is_ignored() -> None:
    src = "/*\n#error not me\n#define X 2\n*/\nX\n"
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r) == ["/*", "#error not me", "#define X 2", "*/", "X"]


def test_directive_opening_a_comment_keeps_the_comment() -> None:
    src = "#define X 1 /* starts here\n   #error still a comment */ X\n"
    r, d = pp(src)
    assert d.codes() == []
    assert out_lines(r) == ["            /* starts here", "   #error still a comment */ 1"]


def test_predefined_macros() -> None:
    src = f"{PREDEFINED_MACRO} __LINE__\n__FILE__\n#if __IDLC__ >= 1\nok\n#endif\n"
    r, d = pp(src, path="dir/f.idl")
    assert d.codes() == []
    assert out_lines(r)[:2] == [f"{PREDEFINED_VALUE} 1", '"dir/f.idl"']
    assert out_lines(r)[3] == "ok"


def test_redefinition_warns_only_when_different() -> None:
    _, d = pp("#define A 1\n#define A 1\n#define A  1 \n#define A 2\n")
    assert d.codes() == ["W0002"]
    assert where(d.items[0].span) == ("t.idl", 4, 9)
    assert d.items[0].notes and where(d.items[0].notes[0].span) == ("t.idl", 1, 9)


def test_undef() -> None:
    r, d = pp("#define A 1\n#undef A\nA\n#undef\n")
    assert out_lines(r)[2] == "A"
    assert d.codes() == ["E0008"]


@pytest.mark.parametrize(
    "line",
    [
        "#define",
        "#define 3",
        "#define F(a,a) a",
        "#define F(a",
        "#define F(x) #y",
        "#define A ## b",
    ],
)
def test_bad_defines(line: str) -> None:
    _, d = pp(line + "\n")
    assert d.codes() == ["E0008"]
    assert d.items[0].span is not None and d.items[0].span.line == 1


def test_macro_argument_errors() -> None:
    _, d = pp("#define F(a, b) a\nF(1)\nF(1, 2, 3)\n")
    assert d.codes() == ["E0007", "E0007"]
    assert [where(x.span) for x in d.items] == [("t.idl", 2, 1), ("t.idl", 3, 1)]


def test_unterminated_invocation_at_eof() -> None:
    _, d = pp("#define F(a) a\nx F(1,\n2\n")
    assert d.codes() == ["E0007"]
    assert where(d.items[0].span) == ("t.idl", 2, 3)


def test_expansion_bomb_is_capped() -> None:
    src = "".join(f"#define A{i} A{i + 1} A{i + 1}\n" for i in range(40)) + "A0\n"
    t = time.process_time()
    _, d = pp(src)
    assert time.process_time() - t < 3
    assert d.codes() == ["E0007"]


# --- command-line defines ---------------------------------------------------------------


def test_command_line_defines_and_undefines() -> None:
    src = "#ifdef A\na A\n#endif\n#ifdef B\nb\n#endif\nF(3) " + PREDEFINED_MACRO + "\n"
    r, d = pp(src, defines={"A": "42", "B": "", "F(x)": "x*x"}, undefines=["B", PREDEFINED_MACRO])
    assert d.codes() == []
    assert out_lines(r)[1] == "a 42"
    assert out_lines(r)[4] == ""
    assert out_lines(r)[6] == f"3*3 {PREDEFINED_MACRO}"


def test_parse_define_option() -> None:
    assert parse_define_option("X") == ("X", "1")
    assert parse_define_option("X=") == ("X", "")
    assert parse_define_option("X=a=b") == ("X", "a=b")


# --- conditionals -----------------------------------------------------------------------


def test_elif_chain_and_nested_skipping() -> None:
    src = (
        "#define V 2\n"
        "#if V == 1\none\n"
        "#elif V == 2\ntwo\n"
        "#  if 0\n#error skipped\n#bogus\n#  elif 1\nnested\n#  endif\n"
        "#elif V == 2\nlater\n"
        "#else\nelse\n"
        "#endif\n"
    )
    r, d = pp(src)
    assert d.codes() == []
    kept = [x for x in out_lines(r) if x]
    assert kept == ["two", "nested"]


def test_skipped_groups_do_not_evaluate() -> None:
    src = "#if 0\n#if 1/0\n#endif\n#elif 1/0 + \n#endif\n#if 1\n#elif 1/0\n#endif\n"
    _, d = pp(src)
    assert d.codes() == ["E0006"]  # only the #elif of the outer group is evaluated
    assert d.items[0].span is not None and d.items[0].span.line == 4


@pytest.mark.parametrize(
    ("expr", "value"),
    [
        ("1 + 2 * 3 == 7", True),
        ("(1 + 2) * 3 == 9", True),
        ("10 / 3 == 3 && 10 % 3 == 1 && -7 / 2 == -3", True),
        ("1 << 4 == 16 && 256 >> 4 == 16", True),
        ("(5 & 3) == 1 && (5 | 3) == 7 && (5 ^ 3) == 6 && ~0 == -1", True),
        ("!0 && !!5 && 3 > 2 && 2 >= 2 && 1 < 2 && 2 <= 2 && 1 != 2", True),
        ("1 ? 2 : 3 == 2", True),
        ("0 ? 1 : 0 ? 2 : 3", True),
        ("'A' == 65 && '\\n' == 10 && '\\x41' == 65 && '\\0' == 0", True),
        ("0x10 == 16 && 010 == 8 && 0b11 == 3 && 10UL == 10", True),
        ("-1 < 0u", False),  # usual arithmetic conversions
        ("UNKNOWN == 0 && UNKNOWN + 1", True),
        ("defined X && defined(X) && !defined Y", True),
        ("0 && 1 / 0", False),
        ("1 || 1 / 0", True),
        ("X == 5", True),
    ],
)
def test_if_expressions(expr: str, value: bool) -> None:
    r, d = pp(f"#define X 5\n#if {expr}\nyes\n#else\nno\n#endif\n")
    assert d.codes() == []
    assert ("yes" if value else "no") in out_lines(r)


@pytest.mark.parametrize(
    ("expr", "col"),
    [("1 / 0", 7), ("1 +", 7), ("(1", 6), ("1 2", 7), ('"s"', 5), ("1.5", 5), ("defined", 5)],
)
def test_bad_if_expressions(expr: str, col: int) -> None:
    r, d = pp(f"#if {expr}\nyes\n#endif\n")
    assert d.codes() == ["E0006"]
    assert where(d.items[0].span) == ("t.idl", 1, col)
    assert "yes" not in out_lines(r)


def test_missing_if_expression() -> None:
    _, d = pp("#if\n#endif\n#ifdef\n#endif\n")
    assert d.codes() == ["E0006", "E0006"]


def test_conditional_structure_errors() -> None:
    _, d = pp("#endif\n#else\n#if 1\n#else\n#else\n#elif 1\n#endif\n")
    assert d.codes() == ["E0004", "E0004", "E0015", "E0015"]
    assert [x.span.line for x in d.items if x.span] == [1, 2, 5, 6]


def test_unterminated_conditional() -> None:
    _, d = pp("#ifdef X\n  #if 1\n")
    assert d.codes() == ["E0003", "E0003"]
    assert [where(x.span) for x in d.items] == [("t.idl", 1, 2), ("t.idl", 2, 4)]


def test_deep_if_nesting_is_fast() -> None:
    n = 10_000
    t = time.process_time()
    r, d = pp("#if 1\n" * n + "x\n" + "#endif\n" * n)
    assert time.process_time() - t < 1.0
    assert d.codes() == []
    assert out_lines(r)[n] == "x"


def test_deep_expressions_do_not_recurse_away() -> None:
    for expr in [
        "(" * 50_000 + "1" + ")" * 50_000,
        "!" * 50_000 + "1",
        "1?" * 20_000 + "1" + ":1" * 20_000,
    ]:
        _, d = pp(f"#if {expr}\n#endif\n")
        assert set(d.codes()) <= {"E0006"}


# --- #error, #warning, #line, unknown ----------------------------------------------------


def test_error_directive() -> None:
    _, d = pp("x\n  #  error stop /* c */ here\n")
    assert d.codes() == ["E0002"]
    assert where(d.items[0].span) == ("t.idl", 2, 6)
    assert d.has_errors


def test_warning_directive() -> None:
    _, d = pp("#warning careful\n")
    assert d.codes() == ["W0009"]
    assert not d.has_errors


def test_unknown_and_null_directives() -> None:
    _, d = pp("#\n# /* nothing */\n#frobnicate x\n#if 0\n#frobnicate\n#endif\n")
    assert d.codes() == ["E0005"]
    assert where(d.items[0].span) == ("t.idl", 3, 2)


def test_line_directive() -> None:
    src = 'a\n#line 100 "gen.idl"\nb\nc\n#line 7\nd\n#if 1/0\n#endif\n'
    r, d = pp(src)
    lm = r.linemap
    assert where(lm.locate(1, 1)) == ("t.idl", 1, 1)
    assert where(lm.locate(3, 1)) == ("gen.idl", 100, 1)
    assert where(lm.locate(4, 1)) == ("gen.idl", 101, 1)
    assert where(lm.locate(6, 1)) == ("gen.idl", 7, 1)
    assert d.codes() == ["E0006"]
    assert where(d.items[0].span) == ("gen.idl", 8, 6)


def test_line_directive_affects_line_macro() -> None:
    r, _ = pp("#line 50\n__LINE__\n")
    assert out_lines(r)[1] == "50"


@pytest.mark.parametrize("args", ["", "x", "12 file", '99999999999 "f"'])
def test_bad_line_directive(args: str) -> None:
    _, d = pp(f"#line {args}\n")
    assert d.codes() == ["E0012"]


# --- pragmas ----------------------------------------------------------------------------


def test_pragmas_are_recorded_and_blanked() -> None:
    src = (
        "module M {\n"
        '#pragma prefix "omg.org" // comment\n'
        "#pragma version A 1.2\n"
        '#pragma ID ::M::A "IDL:M/A:1.0"\n'
        "#pragma keylist Foo a b.c\n"
        '#pragma DCPS_DATA_TYPE "X::Y"\n'
        '#  pragma ciao lem \\\n  "x"\n'
        "};\n"
    )
    r, d = pp(src)
    assert d.codes() == []
    assert [(p.name, p.args, p.out_line) for p in r.pragmas] == [
        ("prefix", '"omg.org"', 2),
        ("version", "A 1.2", 3),
        ("ID", '::M::A "IDL:M/A:1.0"', 4),
        ("keylist", "Foo a b.c", 5),
        ("DCPS_DATA_TYPE", '"X::Y"', 6),
        ("ciao", 'lem   "x"', 7),
    ]
    assert r.pragmas[0].span == Span("t.idl", 2, 1, 2, 25)
    assert r.pragmas[-1].span.end_line == 8
    assert out_lines(r)[1:8] == [""] * 7


def test_unknown_pragma_warning_is_opt_in() -> None:
    d = Diagnostics(enabled_warnings=frozenset({"W0001"}))
    r = preprocess("t.idl", d, text='#pragma DCPS_DATA_TYPE "X"\n')
    assert d.codes() == ["W0001"]
    assert where(d.items[0].span) == ("t.idl", 1, 9)
    assert len(r.pragmas) == 1


@pytest.mark.parametrize(
    ("line", "col"),
    [
        ("#pragma prefix", 9),
        ('#pragma prefix "a" "b"', 16),
        ("#pragma version A 1.2.1", 17),
        ("#pragma version 1.2", 17),
        ("#pragma ID A", 12),
        ("#pragma ID A B", 12),
        ("#pragma keylist", 9),
        ("#pragma keylist Foo 3x", 17),
    ],
)
def test_malformed_known_pragmas(line: str, col: int) -> None:
    r, d = pp(line + "\n")
    assert d.codes() == ["E0014"]
    assert where(d.items[0].span) == ("t.idl", 1, col)
    assert r.pragmas == []


def test_lenient_pragma_shapes_from_real_files() -> None:
    # JacORB's own accept tests use these
    _, d = pp('#pragma prefix Foo\n#pragma version GlobalInterface 55\n#pragma prefix ""\n')
    assert d.codes() == []


# --- includes ---------------------------------------------------------------------------


def test_include_quote_and_angle(tmp_path: Path) -> None:
    write(tmp_path, "inc/a.idl", "struct A {};\n")
    write(tmp_path, "main/b.idl", "struct B {};\n")
    main = write(tmp_path, "main/m.idl", '#include "b.idl"\n#include <a.idl>\nx\n')
    d = Diagnostics()
    r = preprocess(main, d, include_dirs=[str(tmp_path / "inc")])
    assert d.codes() == []
    assert out_lines(r) == ["", "struct B {};", "", "struct A {};", "x"]
    lm = r.linemap
    b = lm.locate(2, 8)
    assert where(b) == ("b.idl", 1, 8)
    assert b.included_from is not None and where(b.included_from) == ("m.idl", 1, 1)
    assert where(lm.locate(5, 1)) == ("m.idl", 3, 1)
    assert [os.path.basename(p) for p in r.dependencies] == ["m.idl", "b.idl", "a.idl"]
    assert set(r.dependencies) <= set(d.sources.files())


def test_angle_include_does_not_search_current_dir(tmp_path: Path) -> None:
    write(tmp_path, "a.idl", "x\n")
    main = write(tmp_path, "m.idl", "#include <a.idl>\n")
    d = Diagnostics()
    preprocess(main, d)
    assert d.codes() == ["E0001"]
    assert where(d.items[0].span) == ("m.idl", 1, 10)


def test_include_dir_order(tmp_path: Path) -> None:
    write(tmp_path, "one/x.idl", "one\n")
    write(tmp_path, "two/x.idl", "two\n")
    main = write(tmp_path, "m.idl", '#include "x.idl"\n')
    d = Diagnostics()
    r = preprocess(main, d, include_dirs=[str(tmp_path / "two"), str(tmp_path / "one")])
    assert out_lines(r) == ["", "two"]


def test_nested_include_chain_in_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, "c.idl", "ok\n#error deep\n")
    write(tmp_path, "b.idl", '\n#include "c.idl"\n')
    main = write(tmp_path, "a.idl", 'x\ny\n#include "b.idl"\n')
    d = Diagnostics()
    preprocess(main, d)
    assert d.codes() == ["E0002"]
    span = d.items[0].span
    assert where(span) == ("c.idl", 2, 2)
    assert span is not None and span.included_from is not None
    assert where(span.included_from) == ("b.idl", 2, 1)
    assert span.included_from.included_from is not None
    assert where(span.included_from.included_from) == ("a.idl", 3, 1)
    text = d.render(d.items[0])
    assert "In file included from" in text and "a.idl:3" in text


def test_include_guard_and_pragma_once(tmp_path: Path) -> None:
    write(tmp_path, "g.idl", "// guard\n#ifndef G_IDL\n#define G_IDL\nguarded\n#endif\n")
    write(tmp_path, "o.idl", "#pragma once\nonce\n")
    main = write(
        tmp_path,
        "m.idl",
        '#include "g.idl"\n#include "g.idl"\n#include "o.idl"\n#include "./o.idl"\nend\n',
    )
    d = Diagnostics()
    r = preprocess(main, d)
    assert d.codes() == []
    assert r.text.count("guarded") == 1
    assert r.text.count("once") == 1
    assert len(r.dependencies) == 3
    lines = out_lines(r)
    assert where(r.linemap.locate(lines.index("end") + 1, 1)) == ("m.idl", 5, 1)


def test_include_not_found_and_bad_include() -> None:
    _, d = pp('#include "nope.idl"\n#include\n#include nope\n#include ""\n#include "x\n')
    assert d.codes() == ["E0001", "E0010", "E0010", "E0010", "E0010"]
    assert where(d.items[0].span) == ("t.idl", 1, 10)


def test_macro_include(tmp_path: Path) -> None:
    write(tmp_path, "feat.h", "#define FEATURE 1\n")
    main = write(tmp_path, "m.idl", '#define HDR "feat.h"\n#include HDR\nFEATURE\n')
    d = Diagnostics()
    r = preprocess(main, d)
    assert d.codes() == []
    assert out_lines(r)[-1] == "1"


def test_include_cycle_stops_at_depth_cap(tmp_path: Path) -> None:
    a = write(tmp_path, "a.idl", '#include "b.idl"\n#include "b.idl"\na\n')
    write(tmp_path, "b.idl", '#include "a.idl"\n#include "a.idl"\nb\n')
    d = Diagnostics()
    t = time.process_time()
    r = preprocess(a, d)
    assert time.process_time() - t < 2
    assert d.codes() == ["E0009"]
    assert r.text.count("a\n") <= MAX_INCLUDE_DEPTH


def test_unterminated_conditional_is_per_file(tmp_path: Path) -> None:
    write(tmp_path, "i.idl", "#if 1\n")
    main = write(tmp_path, "m.idl", '#include "i.idl"\n#endif\n')
    d = Diagnostics()
    preprocess(main, d)
    assert d.codes() == ["E0003", "E0004"]
    assert [where(x.span) for x in d.items] == [("i.idl", 1, 2), ("m.idl", 2, 2)]


def test_unreadable_main_file(tmp_path: Path) -> None:
    d = Diagnostics()
    r = preprocess(str(tmp_path / "missing.idl"), d)
    assert d.codes() == ["E0013"]
    assert r.text == ""
    d = Diagnostics()
    preprocess(str(tmp_path), d)
    assert d.codes() == ["E0013"]


# --- comments, junk, limits -------------------------------------------------------------


def test_unterminated_comment() -> None:
    _, d = pp("a\nb /* open\nmore\n")
    assert d.codes() == ["E0011"]
    assert where(d.items[0].span) == ("t.idl", 2, 3)


def test_unterminated_comment_in_included_file(tmp_path: Path) -> None:
    write(tmp_path, "i.idl", "x /*\n")
    main = write(tmp_path, "m.idl", '#include "i.idl"\n#error after\n')
    d = Diagnostics()
    preprocess(main, d)
    assert d.codes() == ["E0011", "E0002"]


def test_random_bytes_never_crash(tmp_path: Path) -> None:
    rng = random.Random(1234)
    for i in range(5):
        data = bytes(rng.randrange(256) for _ in range(20_000))
        p = tmp_path / f"junk{i}.idl"
        p.write_bytes(data)
        d = Diagnostics()
        try:
            r = preprocess(str(p), d)
        except TooManyErrors:
            continue
        assert r.dependencies == [str(p)]


def test_random_directive_soup_never_crashes() -> None:
    rng = random.Random(99)
    alphabet = [
        "#",
        "(",
        ")",
        "/*",
        "*/",
        "//",
        '"',
        "'",
        "\\",
        "\n",
        " ",
        "if",
        "define",
        "x",
        "1",
    ]
    for _ in range(20):
        text = "".join(rng.choice(alphabet) for _ in range(3000))
        d = Diagnostics(max_errors=10_000)
        preprocess("t.idl", d, text=text)


def test_non_utf8_is_replaced(tmp_path: Path) -> None:
    p = tmp_path / "l1.idl"
    p.write_bytes(b"// caf\xe9\nstruct S {};\n")
    d = Diagnostics()
    r = preprocess(str(p), d)
    assert d.codes() == []
    assert out_lines(r) == ["// caf\ufffd", "struct S {};"]


def test_huge_line_passes_through() -> None:
    text = "x" * 1_000_000 + "\n"
    t = time.process_time()
    r, d = pp(text)
    assert d.codes() == []
    assert time.process_time() - t < 1
    assert r.text == text


# --- the corpus (IDLC_CORPUS) -----------------------------------------------------------


def test_corpus_valid_files_preprocess_cleanly(tmp_path: Path) -> None:
    from tests import corpus

    root = corpus.corpus_dir()
    files = corpus.manifest(root)
    placed = corpus.rebuild(root, files, tmp_path)
    complete = corpus.with_includes_available(files)
    failures: list[str] = []
    checked = 0
    for cf in files:
        if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in complete:
            continue
        if cf.path not in placed:
            continue
        d = Diagnostics()
        preprocess(
            str(placed[cf.path]),
            d,
            include_dirs=corpus.include_dirs(cf, placed),
            defines=cf.defines(),
        )
        checked += 1
        if d.has_errors:
            first = d.first_error()
            assert first is not None
            failures.append(f"{cf.path}: {d.render(first).splitlines()[-3]}")
    print(f"preprocessed {checked} valid corpus files, {len(failures)} with errors")
    assert not failures, "\n".join(failures)


def test_corpus_preprocess_speed(tmp_path: Path) -> None:
    from tests import corpus

    root = corpus.corpus_dir()
    files = corpus.manifest(root)
    placed = corpus.rebuild(root, files, tmp_path)
    paths = [str(p) for p in placed.values()]
    size = sum(os.path.getsize(p) for p in paths)
    t = time.process_time()
    for p in paths:
        preprocess(p, Diagnostics(max_errors=1_000_000))
    elapsed = time.process_time() - t
    print(f"preprocessed {len(paths)} files, {size} bytes in {elapsed:.3f} s")
    assert elapsed < 1.0  # about 0.1 s on the 2-core CI machine


def test_include_span_covers_the_name() -> None:
    _, d = pp("#include <a b.idl> // x\n")
    assert d.codes() == ["E0001"]
    assert d.items[0].span == Span("t.idl", 1, 10, 1, 19)
