"""The values of constant expressions (OMG IDL 4.2 §7.4.1.4.4), against an independent oracle.

Integer expressions: Python's unbounded integers, range-checked after every literal, name
and operation in the precision of the target type (32 bits up to `long`/`unsigned long`,
64 bits for the `long long` types), the result then checked against the target's range;
`~` is the only masking operation. Every other category: tables of exact values and of
the error each wrong constant gets, with its message.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from math import trunc
from typing import Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idlc import ir
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file


def _compile(source: str) -> tuple[list[tuple[str, str]], dict[str, object]]:
    """(code, message) of each diagnostic, and each constant's value."""
    diags = Diagnostics()
    result = compile_file("case.idl", Options(), diags, text=source)
    # every error points at the expression it is about
    assert all(i.span is not None and i.span.line >= 1 for i in diags.items)
    values: dict[str, object] = {}
    if result.spec is not None:
        for d in result.spec.declarations:
            if isinstance(d, ir.Const):
                values[d.name] = d.value
    return [(i.code, i.message) for i in diags.items], values


# --- the integer oracle --------------------------------------------------------------

# IDL spelling -> (minimum, maximum, precision of sub-expressions in bits).
INT_TYPES: dict[str, tuple[int, int, int]] = {
    "int8": (-(2**7), 2**7 - 1, 32),
    "uint8": (0, 2**8 - 1, 32),
    "octet": (0, 2**8 - 1, 32),
    "short": (-(2**15), 2**15 - 1, 32),
    "unsigned short": (0, 2**16 - 1, 32),
    "long": (-(2**31), 2**31 - 1, 32),
    "unsigned long": (0, 2**32 - 1, 32),
    "int64": (-(2**63), 2**63 - 1, 64),
    "long long": (-(2**63), 2**63 - 1, 64),
    "unsigned long long": (0, 2**64 - 1, 64),
}

Expr = Union[int, tuple[str, "Expr"], tuple[str, "Expr", "Expr"]]


class Reject(Exception):
    """The first error the expression gets: (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message


def oracle(e: Expr, lo: int, hi: int, bits: int, type_name: str) -> int:
    def fit(v: int) -> int:
        if not -(2 ** (bits - 1)) <= v < 2**bits:
            raise Reject("E0302", f"value {v} is out of range for {bits}-bit arithmetic")
        return v

    def ev(e: Expr) -> int:
        if isinstance(e, int):
            if e >= 2**64:
                raise Reject("E0302", f"value {e} is out of range for any integer type")
            return fit(e)
        if len(e) == 2:
            op, v = e[0], ev(e[1])
            if op == "-":
                return fit(-v)
            if op == "+":
                return v
            width = hi.bit_length()  # ~ complements within an unsigned target's width
            if lo == 0 and v >= 0 and v.bit_length() <= width:
                return fit(2**width - 1 - v)
            # otherwise two's complement of the precision, reading a value above the
            # signed half as unsigned
            return fit(-v - 1 if v < 2 ** (bits - 1) else 2**bits - 1 - v)
        op, x, y = e[0], ev(e[1]), ev(e[2])
        if op in "/%" and y == 0:
            raise Reject("E0303", "division by zero in constant expression")
        if op in ("<<", ">>") and not 0 <= y < bits:
            raise Reject("E0302", f"value {y} is out of range for a shift count")
        q = trunc(Fraction(x, y)) if op in "/%" else 0  # C: the quotient truncates
        r = {
            "|": x | y,
            "^": x ^ y,
            "&": x & y,
            "<<": x * 2**y if op == "<<" else 0,
            ">>": x // 2**y if op == ">>" else 0,  # arithmetic: floor
            "+": x + y,
            "-": x - y,
            "*": x * y,
            "/": q,
            "%": x - q * y,
        }[op]
        return fit(r)

    v = ev(e)
    if not lo <= v <= hi:
        raise Reject("E0302", f"value {v} is out of range for {type_name}")
    return v


def render(e: Expr) -> str:
    if isinstance(e, int):
        return str(e)
    if len(e) == 2:
        return f"{e[0]}({render(e[1])})"
    return f"({render(e[1])} {e[0]} {render(e[2])})"


BOUNDARIES = [0, 1, 2, 3, 7, 31, 32, 63, 64, 255, 256, 2**15, 2**31 - 1, 2**31, 2**32 - 1]
BOUNDARIES += [2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64]
literals = st.one_of(st.sampled_from(BOUNDARIES), st.integers(0, 1000), st.integers(0, 2**64))
BINARY = ["|", "^", "&", "<<", ">>", "+", "-", "*", "/", "%"]
exprs: st.SearchStrategy[Expr] = st.recursive(
    literals,
    lambda sub: st.one_of(
        st.tuples(st.sampled_from(["-", "+", "~"]), sub),
        st.tuples(st.sampled_from(BINARY), sub, sub),
    ),
    max_leaves=5,
)


def _check(type_name: str, e: Expr) -> None:
    lo, hi, bits = INT_TYPES[type_name]
    diags, values = _compile(f"const {type_name} C = {render(e)};\n")
    shown = {"int64": "long long"}.get(type_name, type_name)  # messages name the IDL type
    try:
        want = oracle(e, lo, hi, bits, shown)
    except Reject as r:
        assert diags == [(r.code, r.message)], render(e)
        assert values == {}
    else:
        assert diags == [], render(e)
        assert values == {"C": want}, render(e)


# Each operator on operands where a wrong operator gives another value: (type, expr, value
# or the error's (code, message)).
OPERATORS: list[tuple[str, Expr]] = [
    ("long", ("|", 12, 10)),  # 14; & gives 8, ^ gives 6
    ("long", ("^", 12, 10)),
    ("long", ("&", 12, 10)),
    ("long", ("<<", 3, 4)),
    ("long", (">>", 48, 4)),
    ("long", (">>", ("-", 48), 4)),  # -3: arithmetic shift
    ("long", ("+", 7, 5)),
    ("long", ("-", 7, 5)),
    ("long", ("*", 7, 5)),
    ("long", ("/", 7, 2)),
    ("long", ("/", ("-", 7), 2)),  # -3: truncation, not floor (-4)
    ("long", ("/", 7, ("-", 2))),
    ("long", ("/", ("-", 7), ("-", 2))),
    ("long", ("%", 7, 3)),
    ("long", ("%", ("-", 7), 3)),  # -1: the sign of the dividend
    ("long", ("%", 7, ("-", 3))),
    ("long", ("%", 7, 0)),
    ("long", ("/", 7, 0)),
    ("long", ("-", 5)),
    ("long", ("+", 5)),
    ("long", ("~", 5)),
    ("long", ("~", ("-", 1))),
    ("long", ("~", 2**31)),  # above the signed half: read as unsigned
    ("long", ("~", 2**32 - 1)),
    ("unsigned long", ("~", 0)),
    ("unsigned long", ("~", 1)),
    ("unsigned short", ("~", 0)),
    ("unsigned short", ("~", 2**16 - 1)),
    ("unsigned short", ("~", 2**16)),  # wider than the target: not its complement
    ("octet", ("~", 255)),
    ("octet", ("~", 0xF0)),
    ("unsigned long long", ("~", 0)),
    ("unsigned long long", ("~", 2**63)),
    ("long long", ("~", 2**63)),
    ("long long", ("~", 0)),
    ("long", ("<<", 1, 31)),
    ("long", ("<<", 1, 32)),
    ("long", ("<<", 1, ("-", 1))),
    ("long", (">>", 1, 32)),
    ("long long", ("<<", 1, 63)),
    ("unsigned long long", ("<<", 1, 63)),
    ("unsigned long long", ("<<", 1, 64)),
    ("unsigned long", ("<<", 1, 31)),
    ("long", ("+", 2**31 - 1, 1)),  # 2**31: in the precision, not in long
    ("unsigned long", ("+", 2**32 - 1, 0)),
    ("unsigned long", ("+", 2**32 - 1, 1)),
    ("long", ("-", 0, 2**31)),
    ("long", ("-", ("-", 0, 2**31), 1)),
    ("long long", ("+", 2**32, 0)),
    ("unsigned long long", ("+", 2**64 - 1, 0)),
    ("unsigned long long", ("*", 2**32, 2**32)),
    ("long long", ("-", 2**63)),
    ("long long", ("-", ("-", 2**63), 1)),
    ("unsigned long long", 2**64),
    ("short", 2**15),
    ("short", ("-", 2**15)),
    ("short", ("-", 2**15 + 1)),
    ("unsigned short", 2**16 - 1),
    ("unsigned short", 2**16),
    ("unsigned short", ("-", 1)),
    ("int8", ("-", 128)),
    ("int8", 128),
    ("uint8", 255),
    ("uint8", 256),
    ("int64", ("<<", 1, 62)),
]


@pytest.mark.parametrize(("type_name", "e"), OPERATORS, ids=[render(e) for _t, e in OPERATORS])
def test_operator_values(type_name: str, e: Expr) -> None:
    _check(type_name, e)


def test_constants_refer_to_each_other_within_the_precision() -> None:
    # A named constant is a sub-expression: 2**32 from a long long is too wide for long.
    diags, values = _compile(
        "const long long W = 4294967296;\nconst long long X = W * 2;\nconst long Y = W - 1;\n"
    )
    assert diags == [("E0302", "value 4294967296 is out of range for 32-bit arithmetic")]
    assert values == {}
    diags, values = _compile("const long A = 6;\nconst long B = A * A - (A | 1);\n")
    assert diags == [] and values == {"A": 6, "B": 29}


# --- the other categories ------------------------------------------------------------

F32 = struct.Struct("<f")


def f32(x: float) -> float:
    return float(F32.unpack(F32.pack(x))[0])


# Source -> each constant's value.
VALUES: list[tuple[str, dict[str, object]]] = [
    ("const double D = 1.5 + 2.25;", {"D": 3.75}),
    ("const double D = 1.5 - 2.25;", {"D": -0.75}),
    ("const double D = 1.5 * 2.25;", {"D": 3.375}),
    ("const double D = 1.5 / 0.25;", {"D": 6.0}),
    ("const double D = -1.5;", {"D": -1.5}),
    ("const double D = +1.5;", {"D": 1.5}),
    ("const double D = 2.5; const double E = D * D;", {"D": 2.5, "E": 6.25}),
    ("const float F = 0.1;", {"F": f32(0.1)}),
    ("const float F = 3.4e38;", {"F": f32(3.4e38)}),
    ("const long double L = 0.1;", {"L": 0.1}),
    ("const double D = 1e300 * 1e8 / 1e9;", {"D": 1e300 * 1e8 / 1e9}),
    ("const fixed F = 1.5d + 2.25d;", {"F": "3.75"}),
    ("const fixed F = 1.5d - 2.25d;", {"F": "-0.75"}),
    ("const fixed F = 1.5d * 2.0d;", {"F": "3.00"}),
    ("const fixed F = 3.0d / 2.0d;", {"F": "1.5"}),
    ("const fixed F = -1.5d;", {"F": "-1.5"}),
    ("const fixed F = -(-1.5d);", {"F": "1.5"}),
    ("const fixed F = +1.5d;", {"F": "1.5"}),
    ("const fixed F = 7;", {"F": "7"}),
    ("const char C = 'a'; const char D = C;", {"C": "a", "D": "a"}),
    ("const char C = '\\xff';", {"C": "\xff"}),
    ("const wchar W = L'\\u0100'; const wchar V = W;", {"W": "\u0100", "V": "\u0100"}),
    (
        "const boolean T = TRUE; const boolean F = FALSE; const boolean B = T;",
        {"T": True, "F": False, "B": True},
    ),
    ('const string S = "ab"; const string T = S;', {"S": "ab", "T": "ab"}),
    ('const string<2> S = "ab";', {"S": "ab"}),
    ('const string<2> S = "\\u00e9";', {"S": "\u00e9"}),  # two UTF-8 bytes
    ('const wstring<1> W = L"\\u00e9";', {"W": "\u00e9"}),  # one wide character
    ('const wstring W = L"xy"; const wstring V = W;', {"W": "xy", "V": "xy"}),
]


@pytest.mark.parametrize(("source", "want"), VALUES, ids=[s for s, _w in VALUES])
def test_values_of_every_category(source: str, want: dict[str, object]) -> None:
    diags, values = _compile(source + "\n")
    assert diags == []
    assert values == want
    for name, v in want.items():
        assert type(values[name]) is type(v)


def test_enum_constants_refer_to_each_other() -> None:
    diags, values = _compile("enum E { a, b, c };\nconst E X = c;\nconst E Y = X;\n")
    assert diags == []
    assert values["X"] == values["Y"] == ir.EnumValue("E", "c", 2)


# Source -> the one (code, message) it gets.
ERRORS: list[tuple[str, tuple[str, str]]] = [
    ("const double D = 1.0 / 0.0;", ("E0303", "division by zero in constant expression")),
    ("const fixed F = 1.0d / 0.0d;", ("E0303", "division by zero in constant expression")),
    ("const double D = 1e308 * 10.0;", ("E0302", "value inf is out of range for double")),
    ("const double D = 1e309;", ("E0302", "value 1e309 is out of range for double")),
    ("const float F = 1.0e39;", ("E0302", "value 1e+39 is out of range for float")),
    (
        "const double D = 1.0 % 2.0;",
        ("E0304", "operator '%' cannot be applied to floating-point values"),
    ),
    (
        "const double D = ~1.0;",
        ("E0304", "operator '~' cannot be applied to a floating-point value"),
    ),
    ("const fixed F = ~1.0d;", ("E0304", "operator '~' cannot be applied to a fixed-point value")),
    (
        "const fixed F = 1.0d | 2.0d;",
        ("E0304", "operator '|' cannot be applied to fixed-point values"),
    ),
    (
        "const double D = 1.0 + 1;",
        ("E0304", "operator '+' cannot be applied to a floating-point value and an integer value"),
    ),
    (
        "const boolean B = TRUE | FALSE;",
        ("E0304", "operator '|' cannot be applied to boolean values"),
    ),
    ("const boolean B = -TRUE;", ("E0304", "operator '-' cannot be applied to a boolean value")),
    ("const double D = 1;", ("E0301", "an integer value cannot be a value of type double")),
    ("const long L = 1.0;", ("E0301", "a floating-point value cannot be a value of type long")),
    ("const char C = 300;", ("E0301", "an integer value cannot be a value of type char")),
    ("const char C = L'\\u0100';", ("E0301", "a wchar value cannot be a value of type char")),
    ("const wchar W = 1;", ("E0301", "an integer value cannot be a value of type wchar")),
    ("const boolean B = 1;", ("E0301", "an integer value cannot be a value of type boolean")),
    ('const string S = L"x";', ("E0301", "a wstring value cannot be a value of type string")),
    ('const wstring W = "x";', ("E0301", "a string value cannot be a value of type wstring")),
    ('const string<1> S = "ab";', ("E0302", "value 'ab' is out of range for string<1>")),
    ('const string<1> S = "\\u00e9";', ("E0302", "value '\u00e9' is out of range for string<1>")),
    ('const wstring<1> W = L"ab";', ("E0302", "value 'ab' is out of range for wstring<1>")),
    ("const fixed F = 'a';", ("E0301", "a char value cannot be a value of type fixed")),
    (
        "enum E { a }; enum G { b }; const E X = b;",
        ("E0301", "enumerator 'b' of G cannot be a value of type E"),
    ),
    ("enum E { a }; const E X = 1;", ("E0301", "an integer value cannot be a value of type E")),
    (
        "const long L = 18446744073709551616;",
        ("E0302", "value 18446744073709551616 is out of range for any integer type"),
    ),
]


@pytest.mark.parametrize(("source", "want"), ERRORS, ids=[s for s, _w in ERRORS])
def test_errors_of_every_category(source: str, want: tuple[str, str]) -> None:
    diags, values = _compile(source + "\n")
    assert diags == [want]
    assert "D" not in values and "F" not in values and "X" not in values


# Bounds are positive and fit 32 bits (1 .. 2**32-1): each edge, for each kind of bound.
BOUNDS = [
    (1, None),
    (2**32 - 1, None),
    (0, "0"),
    (2**32, "4294967296"),
    ("-1", "-1"),
    ("1.0", "a floating-point value"),
    ("'a'", "a char value"),
]
BOUNDED = [("sequence<long, {}>", "a sequence bound"), ("string<{}>", "a string bound")]


@pytest.mark.parametrize(("bound", "shown"), BOUNDS)
@pytest.mark.parametrize(("spelling", "what"), BOUNDED)
def test_bound_edges(bound: object, shown: str | None, spelling: str, what: str) -> None:
    diags, _values = _compile(f"typedef {spelling.format(bound)} T;\n")
    if shown is None:
        assert diags == []
    else:
        message = f"{what} must be a positive integer constant, not {shown}"
        assert diags == [("E0305", message)]


@settings(max_examples=300)
@given(st.sampled_from(sorted(INT_TYPES)), exprs)
def test_integer_expressions_match_the_oracle(type_name: str, e: Expr) -> None:
    _check(type_name, e)


# Where an error points: (source, (line, column)) of its one diagnostic.
POSITIONS = [
    ("const long X = -(4294967295);", (1, 16)),  # the negation's result is too wide
    ("const long X = 1 + (2 << 40);", (1, 26)),  # the shift count
    ("const long X = (7 / 0) + 1;", (1, 17)),  # the division
]


@pytest.mark.parametrize(("source", "where"), POSITIONS, ids=[s for s, _w in POSITIONS])
def test_error_positions(source: str, where: tuple[int, int]) -> None:
    diags = Diagnostics()
    compile_file("case.idl", Options(), diags, text=source + "\n")
    assert [(i.span.line, i.span.col) for i in diags.items if i.span] == [where]
