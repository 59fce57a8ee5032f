"""OMG IDL 4.2 rules of constants (§7.4.1.4.4), forward declarations (§7.4.1.4.4.4) and
names and scoping (§7.5) that issue 14 asked for: each rule with a valid and an invalid
case, most of them modelled on the spec's own examples. An invalid case names the one
diagnostic it must give and where; a valid one must compile without errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlc import ir
from idlc.cli import main
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from idlc.errcodes import TABLE, Severity

# (id, source, expected): expected is None for a valid file, else (code, line, col).
Case = tuple[str, str, tuple[str, int, int] | None]

SHIFT: list[Case] = [
    ("shr-const", "const long X = 256 >> 4;\n", None),
    ("shr-bound", "typedef string<256 >> 4> S;\n", None),
    ("shr-closers", "typedef sequence<sequence<long, 8>> Q;\n", None),
    ("shr-in-nested-bound", "typedef sequence<sequence<long, 256 >> 4>> Q;\n", None),
    ("shr-count-past-precision", "const long X = 256 >> 32;\n", ("E0302", 1, 23)),
]

PRECISION: list[Case] = [
    # Sub-expressions of a long constant are unsigned long by default (§7.4.1.4.4.4).
    ("long-via-unsigned", "const long A = 0x7FFFFFFF + 1 - 1;\n", None),
    ("long-long-64-bit", "const long long A = 0xFFFFFFFF + 1 - 1;\n", None),
    ("short-32-bit", "const short A = 65536 / 2 - 32768;\n", None),
    ("complement", "const long A = ~5;\nconst unsigned long B = ~0;\n", None),
    ("negated-minimum", "const long A = -2147483648;\n", None),
    ("ulong-intermediate", "const unsigned long A = 0xFFFFFFFF + 1 - 1;\n", ("E0302", 1, 25)),
    (
        "long-long-operand-in-long",
        "const long long BIG = 0x100000000;\nconst long C = BIG / 2;\n",
        ("E0302", 2, 16),
    ),
    (
        "ulonglong-overflow",
        "const unsigned long long A = 0xFFFFFFFFFFFFFFFF * 2 / 2;\n",
        ("E0302", 1, 30),
    ),
    ("shift-left-past-precision", "const unsigned long A = 1 << 32 >> 1;\n", ("E0302", 1, 30)),
]

# The spec's §7.5.3 example: names used in T are introduced into S and A (out to the
# enclosing non-module scope), so A may not declare them afterwards.
_NESTED = """\
module M {
  typedef long ArgType;
  const long I = 10;
  typedef short Y;
  interface A {
    struct S {
      struct T {
        ArgType x[I];
        long y;
      } m;
    };
%s    typedef short Y;
  };
};
"""

SCOPING: list[Case] = [
    ("introduced-valid", _NESTED % "", None),
    ("introduced-typedef", _NESTED % "    typedef string ArgType;\n", ("E0208", 12, 20)),
    ("introduced-enum", _NESTED % "    enum I { I1, I2 };\n", ("E0208", 12, 10)),
    # S is not nested in a non-module scope: ArgType is introduced into S only.
    (
        "introduced-stops-at-module",
        "module M {\n  typedef long ArgType;\n  module N {\n    struct S { ArgType x; };\n"
        "    typedef string ArgType;\n  };\n};\n",
        None,
    ),
    (
        "introduced-from-parameters",
        "typedef long Count;\ninterface I {\n  void op(in Count n);\n  typedef short Count;\n};\n",
        ("E0208", 4, 17),
    ),
    ("scope-name-valid", "interface Timer { void start(); };\nstruct Point { long x; };\n", None),
    ("scope-name-operation", "interface Timer {\n  void timer();\n};\n", ("E0207", 2, 8)),
    ("scope-name-member", "struct Point { long point; };\n", ("E0207", 1, 21)),
    ("scope-name-exception", "exception Oops { long OOPS; };\n", ("E0207", 1, 23)),
    ("scope-name-union", "union U switch (long) { case 1: long u; };\n", ("E0207", 1, 38)),
    ("scope-name-parameter", "interface K { void op(in long OP); };\n", ("E0207", 1, 31)),
    ("scope-name-module", "module m { struct M { long x; }; };\n", ("E0207", 1, 19)),
    ("scope-name-bitmask", "bitmask Flags { FLAGS };\n", ("E0207", 1, 17)),
    ("scope-name-valuetype", "valuetype V { public long v; };\n", ("E0207", 1, 27)),
    (
        "inherited-valid",
        "interface A { void read(); };\ninterface B : A { void write(); };\n",
        None,
    ),
    (
        "inherited-operation-case",
        "interface A { void read(); };\ninterface B : A { void Read(); };\n",
        ("E0211", 2, 24),
    ),
    (
        "inherited-attribute-case",
        "interface A { attribute long size; };\n"
        "interface C : A { readonly attribute long SIZE; };\n",
        ("E0211", 2, 43),
    ),
    (
        "inherited-from-two-bases-case",
        "interface A { void read(); };\ninterface B { void READ(); };\ninterface C : A, B {};\n",
        ("E0210", 3, 11),
    ),
    ("union-members-valid", "union V switch (long) { case 1: long x; case 2: long y; };\n", None),
    (
        "union-members-case",
        "union V switch (long) { case 1: long x; case 2: long X; };\n",
        ("E0202", 1, 54),
    ),
    ("struct-base-valid", "struct B { long x; };\nstruct D : B { long y; };\n", None),
    ("struct-own-base", "struct R : R { long x; };\n", ("E0306", 1, 12)),
    (
        "struct-base-encloses-it",
        "struct Outer {\n  struct Inner : Outer { long x; } i;\n};\n",
        ("E0306", 2, 18),
    ),
]

# The spec's forward-declaration examples (§7.4.1.4.4.4).
_FORWARD = "struct Foo;\ntypedef sequence<Foo> FooSeq;\n"

FORWARD: list[Case] = [
    (
        "recursive-through-sequence",
        _FORWARD + "struct Foo {\n  long value;\n  FooSeq chain;\n};\n",
        None,
    ),
    (
        "incomplete-sequence-member",
        _FORWARD + "struct Bar {\n  FooSeq chain;\n};\nstruct Foo {\n  Bar b;\n};\n",
        None,
    ),
    (
        "incomplete-struct-used",
        _FORWARD + "struct Bar {\n  FooSeq chain;\n};\nstruct Baz {\n  Bar b;\n};\n"
        "struct Foo { long value; };\n",
        ("E0209", 7, 3),
    ),
    (
        "incomplete-union-used",
        _FORWARD + "union W switch (long) { case 1: FooSeq s; };\nstruct Baz { W w; };\n"
        "struct Foo { long value; };\n",
        ("E0209", 4, 14),
    ),
    (
        "incomplete-through-typedef",
        _FORWARD + "struct Bar { FooSeq chain; };\ntypedef Bar BarAlias;\n"
        "struct Foo { long value; };\n",
        ("E0209", 4, 9),
    ),
    (
        "complete-once-defined",
        _FORWARD + "struct Bar { FooSeq chain; };\nstruct Foo { long value; };\n"
        "struct Baz { Bar b; };\n",
        None,
    ),
    ("forward-never-defined", _FORWARD + "struct Bar { FooSeq chain; };\n", ("E0212", 1, 8)),
    ("forward-union-never-defined", "union U;\n", ("E0212", 1, 7)),
    ("forward-interface-exempt", "interface I;\nstruct S { long x; };\n", None),
]

LITERALS: list[Case] = [
    ("wide-literals", "const wchar C = L'a';\nconst wstring W = L\"abc\";\n", None),
    ("narrow-string-for-wstring", 'const wstring W = "abc";\n', ("E0301", 1, 19)),
    ("wide-char-for-char", "const char C = L'a';\n", ("E0301", 1, 16)),
    ("wide-string-for-string", 'const string S = L"abc";\n', ("E0301", 1, 18)),
    ("narrow-char-for-wchar", "const wchar C = 'a';\n", ("W0011", 1, 17)),
    ("nul-char-literal", "const char C = '\\0';\n", None),
    ("nul-in-string", 'const string S = "a\\0b";\n', ("W0011", 1, 18)),
    ("nul-in-wstring", 'const wstring S = L"\\u0000";\n', ("W0011", 1, 19)),
]

ANNOTATIONS: list[Case] = [
    (
        "extensibility-values",
        "@extensibility(FINAL) struct A { long x; };\n@extensibility(APPENDABLE) struct B "
        "{ long x; };\n@extensibility(MUTABLE) struct C { long x; };\n",
        None,
    ),
    ("extensibility-other", "@extensibility(SEALED)\nstruct S { long x; };\n", ("E0601", 1, 16)),
    ("extensibility-string", '@extensibility("FINAL")\nstruct S { long x; };\n', ("E0601", 1, 16)),
    ("autoid-values", "@autoid(HASH) struct S { long x; };\n", None),
    ("autoid-other", "@autoid(RANDOM) struct S { long x; };\n", ("E0601", 1, 9)),
    ("try-construct-other", "struct S { @try_construct(DROP) long x; };\n", ("E0601", 1, 27)),
]

ALL = SHIFT + PRECISION + SCOPING + FORWARD + LITERALS + ANNOTATIONS


def _compile(tmp_path: Path, source: str) -> tuple[Diagnostics, ir.Specification | None]:
    path = tmp_path / "case.idl"
    path.write_text(source, encoding="utf-8")
    diags = Diagnostics()
    result = compile_file(str(path), Options(), diags)
    return diags, result.spec


@pytest.mark.parametrize(("source", "expected"), [pytest.param(s, e, id=i) for i, s, e in ALL])
def test_rule(tmp_path: Path, source: str, expected: tuple[str, int, int] | None) -> None:
    diags, spec = _compile(tmp_path, source)
    if expected is None:
        assert not diags.has_errors and spec is not None, diags.codes()
        assert not set(diags.codes()) & {"W0011"}, diags.codes()
        return
    code, line, col = expected
    assert diags.codes() == [code], diags.codes()
    span = diags.items[0].span
    assert span is not None and (span.line, span.col) == (line, col)
    if TABLE[code].severity is Severity.ERROR:
        assert spec is None
    else:
        assert spec is not None


def test_every_rule_has_a_valid_and_an_invalid_case() -> None:
    for table in (SHIFT, PRECISION, FORWARD, LITERALS, ANNOTATIONS):
        assert any(e is None for _i, _s, e in table) and any(e for _i, _s, e in table)
    codes = {e[0] for _i, _s, e in SCOPING if e}
    assert {"E0202", "E0207", "E0208", "E0210", "E0211", "E0306"} <= codes


def _values(tmp_path: Path, source: str) -> dict[str, object]:
    diags, spec = _compile(tmp_path, source)
    assert spec is not None, diags.codes()
    out: dict[str, object] = {}
    for d in spec.declarations:
        if isinstance(d, ir.Const):
            out[d.name] = d.value
        elif isinstance(d, ir.Typedef):
            out[d.name] = d.type
    return out


def test_shift_operator_values(tmp_path: Path) -> None:
    got = _values(
        tmp_path,
        "const long X = 256 >> 4;\n"
        "const unsigned long long Y = 1 << 40 >> 8;\n"
        "typedef string<256 >> 4> S;\n"
        "typedef sequence<sequence<long, 256 >> 4>> Q;\n"
        "typedef sequence<sequence<long, 256 >> 4>, 2 >> 1> R;\n",
    )
    assert got["X"] == 16 and got["Y"] == 1 << 32
    assert got["S"] == ir.String(False, 16)
    inner = ir.Sequence(ir.Primitive("int32"), 16)
    assert got["Q"] == ir.Sequence(inner, None)
    assert got["R"] == ir.Sequence(inner, 1)


def test_precision_values(tmp_path: Path) -> None:
    got = _values(
        tmp_path,
        "const long A = ~5;\nconst unsigned long B = ~0;\nconst unsigned short C = ~0;\n"
        "const long long D = 0xFFFFFFFF + 1;\nconst long E = -2147483648;\n",
    )
    assert got == {"A": -6, "B": 2**32 - 1, "C": 0xFFFF, "D": 2**32, "E": -(2**31)}


def test_shr_errors_still_point_at_the_token(tmp_path: Path) -> None:
    """A `>>` that closes two lists before a missing name is one syntax error, just
    after the `>>` (recovery: the missing token, E0110)."""
    diags, _spec = _compile(tmp_path, "typedef sequence<sequence<long, 8>> ;\n")
    assert diags.codes() == ["E0110"]
    assert diags.items[0].message == "missing identifier after '>'"
    span = diags.items[0].span
    assert span is not None and (span.line, span.col) == (1, 36)


# The literals IDL 4.2 forbids but idlc only warns about (W0011), with the options that
# decide what they are: (options, exit status, the severity reported or None).
NONSTANDARD = [c for c in LITERALS if c[2] is not None and c[2][0] == "W0011"]
W0011_OPTIONS: list[tuple[list[str], int, str | None]] = [
    ([], 0, "warning"),
    (["-Werror=W0011"], 1, "error"),
    (["-Werror=nonstandard-literal"], 1, "error"),
    (["-Werror"], 1, "error"),
    (["-Werror", "-Wno-error=W0011"], 0, "warning"),
    (["-Wno-W0011"], 0, None),
    (["-Wno-W0011", "-Werror=W0011"], 1, "error"),
]


@pytest.mark.parametrize(
    ("options", "status", "severity"),
    [pytest.param(o, st, sv, id=" ".join(o) or "default") for o, st, sv in W0011_OPTIONS],
)
@pytest.mark.parametrize(
    ("source", "expected"), [pytest.param(s, e, id=i) for i, s, e in NONSTANDARD]
)
def test_nonstandard_literals_follow_the_warning_options(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    source: str,
    expected: tuple[str, int, int],
    options: list[str],
    status: int,
    severity: str | None,
) -> None:
    path = tmp_path / "case.idl"
    path.write_text(source, encoding="utf-8")
    assert main(["--check", *options, str(path)]) == status
    heads = [line for line in capsys.readouterr().err.splitlines() if line.startswith(str(path))]
    code, line, col = expected
    want = [] if severity is None else [f"{path}:{line}:{col}: {severity}[{code}]"]
    assert [": ".join(h.split(": ")[:2]) for h in heads] == want
