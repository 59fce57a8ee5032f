"""WIRE.md 1.1 "where the rules apply" (issue 14 items 1 and 5).

`idlc --check` asks whether the IDL is valid: the two rules only a wire layout needs, a
bounded capability count (§4) and enumerator values within 0..2^32-1 (§3), are warnings
there (W0012, W0013). Wherever a layout is made (code generation, `-M`, `--emit ir`, which
holds the sizes, `--sizes`, `idlc wire`) they are errors (E0513, E0518). Every other wire
and annotation rule is an error in every mode.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from idlc.cli import main

# A service, so that `idlc wire` has a method to find.
SERVICE = "interface Svc { void ping(in long x); };\n"

# mode -> the command line before the file (OUT: the output folder)
MODES: dict[str, list[str]] = {
    "check": ["--check"],
    "generate": ["-o", "OUT"],
    "deps": ["-M", "-o", "OUT"],
    "emit-ir": ["--emit", "ir"],
    "sizes": ["--sizes"],
    "wire": ["wire", "--interface", "Svc", "--method", "ping", "--dir", "request"],
}
LAYOUT_MODES = [m for m in MODES if m != "check"]


def idlc(
    mode: str,
    source: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    mp: pytest.MonkeyPatch,
) -> tuple[int, str, Path]:
    """Run one mode on source (SERVICE appended): exit status, stderr, output folder."""
    src = tmp_path / "t.idl"
    src.write_text(source + SERVICE)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    argv = [str(out) if a == "OUT" else a for a in MODES[mode]]
    if mode == "wire":
        argv.insert(1, str(src))
        mp.setattr("sys.stdin", io.StringIO('{"x": 1}'))
    else:
        argv.append(str(src))
    code = main(argv)
    _out, err = capsys.readouterr()
    return code, err, out


def located(err: str, severity: str) -> list[tuple[int, int, str]]:
    """(line, col, code) of each diagnostic of one severity, in order."""
    found = []
    for line in err.splitlines():
        head, sep, rest = line.partition(f": {severity}[")
        if sep:
            _path, ln, col = head.rsplit(":", 2)
            found.append((int(ln), int(col), rest[:5]))
    return found


# --- enumerator values (item 5: the replayed bug and the cases around it) -------------

# (enumerators, the names of those out of range); one enumerator per line
ENUMS = [
    # the bug: code generation emitted AFTER = 4294967296
    ("@value(4294967295) LAST,\n AFTER", ["AFTER"]),
    ("@value(4294967294) A,\n B", []),  # B is 2^32-1
    ("@value(4294967295) LAST", []),
    ("@value(0xFFFFFFFF) LAST,\n @value(0) FIRST", []),
    ("@value(4294967295) L,\n @value(7) M,\n N", []),
    ("@value(4294967296) X", ["X"]),
    ("@value(-1) N", ["N"]),
    ("@value(-1) N,\n Z", ["N"]),  # Z counts on to 0
    ("A,\n @value(0x7fffffffffffffff) H", ["H"]),
    # counted on from a refused one: reported once, at the cause
    ("@value(4294967296) X,\n Y,\n Z", ["X"]),
    # a value given after a refused one is a second cause
    ("@value(4294967295) L,\n AFTER,\n @value(4294967300) X", ["AFTER", "X"]),
    ("@value(4294967295) L,\n AFTER,\n @value(5) M,\n N", ["AFTER"]),
    ("@value(MAXV + 1) P", ["P"]),  # a constant expression
]


def enum_source(enumerators: str) -> str:
    return f"const unsigned long long MAXV = 4294967295;\nenum E {{\n {enumerators}\n}};\n"


def places(source: str, names: list[str]) -> list[tuple[int, int]]:
    """(line, col) of each enumerator named: the last word on its line."""
    out = []
    for i, text in enumerate(source.splitlines(), 1):
        text = text.rstrip(",")
        if text.split() and text.split()[-1] in names:
            out.append((i, text.rindex(" ") + 2))
    return out


@pytest.mark.parametrize(("enumerators", "bad"), ENUMS)
def test_enumerator_range_warns_under_check(
    enumerators: str,
    bad: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = enum_source(enumerators)
    code, err, _ = idlc("check", source, tmp_path, capsys, monkeypatch)
    assert code == 0
    assert located(err, "warning") == [(ln, col, "W0013") for ln, col in places(source, bad)]
    assert located(err, "error") == []


@pytest.mark.parametrize("mode", LAYOUT_MODES)
@pytest.mark.parametrize(("enumerators", "bad"), ENUMS)
def test_enumerator_range_is_an_error_wherever_a_layout_is_made(
    mode: str,
    enumerators: str,
    bad: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = enum_source(enumerators)
    code, err, out = idlc(mode, source, tmp_path, capsys, monkeypatch)
    assert located(err, "error") == [(ln, col, "E0518") for ln, col in places(source, bad)]
    assert code == (1 if bad else 0)
    if mode == "generate":
        generated = "".join(p.read_text() for p in out.rglob("*.py"))
        assert bool(generated) != bool(bad)  # nothing is written for a refused file
        assert "4294967296" not in generated


def test_the_bug_as_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, err, out = idlc("generate", enum_source(ENUMS[0][0]), tmp_path, capsys, monkeypatch)
    assert code == 1
    assert "error[E0518]: enumerator 'AFTER' has value 4294967296" in err
    assert "one more than 'LAST'" in err
    assert not list(out.rglob("*.py"))


# --- capability counts ---------------------------------------------------------------

UNBOUNDED = "interface Pool {\n  void donate(in sequence<nova::Semaphore> sems);\n};\n"


@pytest.mark.parametrize("mode", list(MODES))
def test_unbounded_capabilities(
    mode: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, err, _ = idlc(mode, UNBOUNDED, tmp_path, capsys, monkeypatch)
    if mode == "check":
        assert (code, located(err, "warning"), located(err, "error")) == (
            0,
            [(2, 44, "W0012")],
            [],
        )
    else:
        assert (code, located(err, "error")) == (1, [(2, 44, "E0513")])


def test_the_check_warnings_are_warnings_to_switch_like_any_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "t.idl"
    src.write_text(UNBOUNDED + enum_source(ENUMS[0][0]))
    assert main(["--check", "-Wno-W0012", "-Wno-check-enum-value-range", str(src)]) == 0
    assert capsys.readouterr().err == ""
    assert main(["--check", "-Werror=W0013", str(src)]) == 1
    err = capsys.readouterr().err
    assert "error[W0013]" in err and "warning[W0012]" in err
    # switching the warning off does not switch the layout error off
    assert main(["--sizes", "-Wno-W0012", "-Wno-W0013", str(src)]) == 1
    assert {c for _, _, c in located(capsys.readouterr().err, "error")} == {"E0513", "E0518"}


# --- every other wire and annotation rule stays an error under --check ---------------

# (source, code, line, col)
STILL_ERRORS = [
    ("@bit_bound(65) bitmask B { F };\n", "E0601", 1, 12),
    ("interface T {\n  @opcode(70000) void start();\n};\n", "E0601", 2, 11),
    ("enum E { @value(1.5) A };\n", "E0601", 1, 17),
    ("interface I {\n  @opcode(1) void a();\n  @opcode(1) void b();\n};\n", "E0508", 3, 19),
    ("interface I {\n  @opcode(65535) void a();\n  void b();\n};\n", "E0510", 3, 8),
    (
        "interface M {\n  void f(in nova::Memory m, in nova::Semaphore s);\n};\n",
        "E0512",
        2,
        48,
    ),
    ("interface C {\n  void f(in sequence<nova::Semaphore, 200> s);\n};\n", "E0517", 2, 8),
    ("struct S {\n  @optional nova::Portal p;\n};\n", "E0514", 2, 26),
    ("enum E { A, @value(0) B };\n", "E0401", 1, 23),
]


@pytest.mark.parametrize(("source", "code", "line", "col"), STILL_ERRORS)
def test_other_rules_stay_errors_under_check(
    source: str,
    code: str,
    line: int,
    col: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, err, _ = idlc("check", source, tmp_path, capsys, monkeypatch)
    assert status == 1
    assert located(err, "error")[:1] == [(line, col, code)]


# --- one warning for both architectures -----------------------------------------------

# (parameter list, request warning's text after "may need", or None for no warning)
FITS = [
    ("in string s", "unbounded words on x86_64 and x86_32; a frame holds 253 and 509"),
    ("in string<8> s", None),
    # 1 + 130 * 2 = 261 words on x86_64, 1 + 130 * 3 = 391 on x86_32
    ("in string<8> a[130]", "261 words on x86_64; a frame holds 253"),
    # 401 and 601
    (
        "in string<8> a[200]",
        "401 words on x86_64 and 601 words on x86_32; a frame holds 253 and 509",
    ),
]


@pytest.mark.parametrize(("params", "text"), FITS)
def test_may_not_fit_is_reported_once_for_the_architectures_it_holds_on(
    params: str,
    text: str | None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = f"interface Journal {{\n  void log({params});\n}};\n"
    code, err, _ = idlc("check", source, tmp_path, capsys, monkeypatch)
    assert code == 0
    warnings = [ln for ln in err.splitlines() if "warning[W0004]" in ln]
    if text is None:
        assert warnings == []
    else:
        assert [w.split("may need ", 1)[1] for w in warnings] == [text]


def test_plain_strings_give_one_warning_per_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the new user's file: 8 methods with a plain string in and out, 16 messages
    methods = "".join(f"  string op{i}(in string s);\n" for i in range(8))
    code, err, _ = idlc(
        "check", f"interface Chat {{\n{methods}}};\n", tmp_path, capsys, monkeypatch
    )
    assert code == 0
    assert len(located(err, "warning")) == 16
    assert err.splitlines()[-1] == "16 warnings generated."
    assert err.count("on x86_64 and x86_32") == 16
