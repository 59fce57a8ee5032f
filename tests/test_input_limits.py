"""Inputs from the attack campaign (issue 14 item 6).

An integer literal of more than 4,300 digits (Python's limit on converting text to int)
made idlc exit 3 wherever one was converted: a diagnostic now. The case-insensitive
collision check among members was quadratic (20,000 members: 20.6 s): linear, asserted by
counting the interpreter's calls, not by timing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import FrameType

import pytest

from idlc.cli import main
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

LIMIT = 4300
LONG = "1" * (LIMIT + 1)  # the shortest decimal literal refused
LONGEST = "9" * LIMIT  # the longest accepted (and out of range for every type)
HEX = "0x" + "f" * 3572  # 2^14288 - 1 > 10^4300
HEX_OK = "0x" + "f" * 3571  # 2^14284 - 1 < 10^4300

# (template with N where the literal goes, the code reported for LONG there)
PLACES = [
    ("const unsigned long long X = N;\n", "E0109"),
    ("const double X = N;\n", "E0109"),
    ("typedef long A[N];\n", "E0109"),
    ("typedef long A[2][N];\n", "E0109"),
    ("typedef sequence<long, N> S;\n", "E0109"),
    ("typedef string<N> S;\n", "E0109"),
    ("typedef wstring<N> S;\n", "E0109"),
    ("typedef fixed<N, 2> F;\n", "E0109"),
    ("@id(N) interface I { void f(); };\n", "E0109"),
    ("@id(N) exception X { long a; };\n", "E0109"),
    ("interface I { @opcode(N) void f(); };\n", "E0109"),
    ("enum E { @value(N) A };\n", "E0109"),
    ("@bit_bound(N) bitmask B { F };\n", "E0109"),
    ("bitmask B { @position(N) F };\n", "E0109"),
    ("bitset S { bitfield<N> a; };\n", "E0109"),
    ("union U switch (long) { case N: long a; };\n", "E0109"),
    ("struct S { @default(N) long a; };\n", "E0109"),
    ("struct S { @range(min=0, max=N) long a; };\n", "E0109"),
    ("const long X = 1 + (2 * N);\n", "E0109"),
    ("const long X = -N;\n", "E0109"),
    ("#define BIG N\nconst long long X = BIG;\n", "E0109"),
    ("#if N\n#endif\n", "E0006"),
    ("#line N\n", "E0012"),
    ('struct S { long a[3]; };\n#pragma DCPS_DATA_KEY "S a[N]"\n', "E0604"),
]


def where(source: str, marker: str) -> tuple[int, int]:
    for i, line in enumerate(source.splitlines(), 1):
        if marker in line:
            return i, line.index(marker) + 1
    raise AssertionError(marker)


def compile_text(tmp_path: Path, source: str) -> Diagnostics:
    path = tmp_path / "t.idl"
    path.write_text(source)
    diags = Diagnostics()
    compile_file(str(path), Options(), diags)
    return diags


@pytest.mark.parametrize(("template", "code"), PLACES)
def test_a_too_long_literal_is_a_diagnostic_everywhere(
    template: str, code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.idl"
    path.write_text(template.replace("N", LONG))
    assert main(["--check", str(path)]) == 1  # not 3: no internal error
    err = capsys.readouterr().err
    assert "internal compiler error" not in err
    diags = compile_text(tmp_path, template.replace("N", LONG))
    first = diags.first_error()
    assert first is not None and first.span is not None
    assert first.code == code
    if code == "E0109" and "BIG" not in template:
        assert (first.span.line, first.span.col) == where(template, "N")
    assert len(first.message) < 200  # the literal is shortened in the message


@pytest.mark.parametrize(
    ("literal", "refused"), [(LONG, True), (LONGEST, False), (HEX, True), (HEX_OK, False)]
)
@pytest.mark.parametrize("template", [t for t, c in PLACES if c == "E0109" and "#" not in t])
def test_the_limit_is_4300_decimal_digits_of_value(
    template: str, literal: str, refused: bool, tmp_path: Path
) -> None:
    diags = compile_text(tmp_path, template.replace("N", literal))
    assert ("E0109" in diags.codes()) == refused
    assert diags.has_errors  # out of range for every type when not refused


def test_max_errors_with_a_long_number_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.idl"
    path.write_text("const long X = 1;\n")
    assert main(["--check", "--max-errors", LONG, str(path)]) == 2


# --- the case-insensitive collision check is linear ------------------------------------


class _Budget(Exception):
    """More calls than a linear check may make."""


def count_work(source: str, tmp_path: Path, budget: int) -> tuple[int, Diagnostics]:
    """The work of compiling source, counted, as a machine's load cannot change it: every
    Python and C function call, plus the items each list.extend leaves in its list (the
    parser built `member*` lists by copying them once per member). Stops with _Budget
    past budget, so that quadratic work fails in seconds rather than minutes."""
    path = tmp_path / "big.idl"
    path.write_text(source)
    diags = Diagnostics()
    work = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal work
        if event == "c_return":
            target = getattr(arg, "__self__", None)
            if isinstance(target, list) and getattr(arg, "__name__", "") == "extend":
                work += len(target)
        elif event in ("call", "c_call"):
            work += 1
        if work > budget:
            raise _Budget

    sys.setprofile(profile)
    try:
        compile_file(str(path), Options(), diags)
    finally:
        sys.setprofile(None)
    return work, diags


def members(n: int, kind: str) -> str:
    """n members m0..m{n-1}, the last one named like the first in another case."""
    names = [f"m{i}" for i in range(n - 1)] + ["M0"]
    if kind == "struct":
        return "struct S {\n" + "".join(f"  long {x};\n" for x in names) + "};\n"
    if kind == "exception":
        return "exception X {\n" + "".join(f"  long {x};\n" for x in names) + "};\n"
    if kind == "derived":
        base = "struct B {\n  long m0;\n};\n"
        return base + "struct S : B {\n" + "".join(f"  long {x};\n" for x in names[1:]) + "};\n"
    raise AssertionError(kind)


# work per member at most, for any size (about 190 today), and for the rest of the file
PER_MEMBER = 400
FIXED = 100_000


@pytest.mark.parametrize(
    ("kind", "small", "large"),
    [("struct", 2_500, 20_000), ("exception", 1_000, 8_000), ("derived", 1_000, 8_000)],
)
def test_case_collision_check_is_linear_in_members(
    kind: str, small: int, large: int, tmp_path: Path
) -> None:
    work_small, diags = count_work(members(small, kind), tmp_path, FIXED + PER_MEMBER * small)
    assert diags.codes() == ["E0202"]
    work_large, diags = count_work(members(large, kind), tmp_path, FIXED + PER_MEMBER * large)
    # one collision, at the last member
    assert diags.codes() == ["E0202"]
    span = diags.items[0].span
    assert span is not None and span.line == large + (3 if kind == "derived" else 1)
    # eight times the members, eight times the work (quadratic work: 64 times)
    assert work_large / work_small < 8 * 1.1
