"""The diagnostics table, its examples and its documentation agree.

Every live code in ``idlc.errcodes.TABLE`` has a small example in ``tests/errors/<CODE>.idl``
whose first line reads ``// expect: <CODE> at <line>:<col>`` (optionally ``in <file>``,
relative to tests/errors, when the diagnostic points into an included file), and a
``## <CODE> <name>`` section in docs/errors.md. The tests assert on codes and locations,
never on message text.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest

from idlc.diagnostics import Diagnostic, Diagnostics
from idlc.driver import Options, Result, compile_file
from idlc.errcodes import TABLE, DiagDef, Severity

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "errors"
DOC = ROOT / "docs" / "errors.md"

# Live codes that no check reports yet: their tests are strict xfails, so implementing one
# (and adding its example) turns the xfail into a failure that asks for this entry to go.
NOT_EMITTED: dict[str, str] = {}

# Codes that only code generation reports: the example is compiled, then generated into
# a fresh folder ("out") or into the example file itself, which is no folder ("self").
GENERATE: dict[str, str] = {"E0901": "out", "E0902": "self"}

# Codes that only making a wire layout reports (WIRE.md 1.1): the example is compiled as
# for `--sizes`; every other example as for `--check`, where these are W0012 and W0013.
LAYOUT: frozenset[str] = frozenset({"E0513", "E0518"})

# Codes whose natural trigger is the command line, not a file's content: the file named
# here (relative to tests/errors) is compiled, and the diagnostic has no location.
COMMAND_LINE: dict[str, str] = {
    "E0013": "no-such-file.idl",
}

EXPECT = re.compile(
    r"// expect: (?P<code>[EW]\d{4}) at (?P<line>\d+):(?P<col>\d+)(?: in (?P<file>\S+))?"
)
HEADING = re.compile(r"^## (?P<code>[EW]\d{4}) (?P<name>[a-z0-9-]+)$", re.MULTILINE)
ANY_CODE = re.compile(r"\b[EW]\d{4}\b")

LIVE = sorted(code for code, d in TABLE.items() if not d.retired)


def _range(code: str) -> tuple[str, int]:
    """E0302 is number 2 of range E03; W0004 is number 4 of range W0."""
    if code.startswith("E"):
        return code[:3], int(code[3:])
    return code[:2], int(code[2:])


def _live_params() -> list[object]:
    params: list[object] = []
    for code in LIVE:
        marks = []
        if code in NOT_EMITTED:
            marks.append(
                pytest.mark.xfail(strict=True, reason=f"not emitted yet: {NOT_EMITTED[code]}")
            )
        params.append(pytest.param(code, marks=marks, id=code))
    return params


# --- the table ---------------------------------------------------------------------------


def test_codes_are_well_formed_and_unique() -> None:
    names: dict[str, str] = {}
    for key, defn in TABLE.items():
        assert isinstance(defn, DiagDef)
        assert key == defn.code, f"TABLE[{key!r}] holds {defn.code}"
        assert re.fullmatch(r"E\d{4}|W0\d{3}", key), key
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", defn.name), f"{key}: {defn.name!r}"
        if not defn.retired:
            assert defn.name not in names, f"{key} and {names[defn.name]} share '{defn.name}'"
            names[defn.name] = key


def test_codes_are_dense_within_each_range() -> None:
    ranges: dict[str, list[int]] = defaultdict(list)
    for code in TABLE:
        prefix, number = _range(code)
        ranges[prefix].append(number)
    for prefix, numbers in ranges.items():
        assert sorted(numbers) == list(
            range(1, len(numbers) + 1)
        ), f"range {prefix} has gaps or does not start at 1: {sorted(numbers)}"


def test_severity_matches_the_code() -> None:
    for code, defn in TABLE.items():
        expected = Severity.ERROR if code.startswith("E") else Severity.WARNING
        assert defn.severity is expected, code
        assert not (defn.opt_in and defn.severity is Severity.ERROR), f"{code}: opt-in error"
        assert not (defn.opt_in and defn.retired), code


def test_bookkeeping_names_only_live_codes() -> None:
    for code in (*NOT_EMITTED, *COMMAND_LINE, *LAYOUT):
        assert code in TABLE and not TABLE[code].retired, code
    assert not set(NOT_EMITTED) & set(COMMAND_LINE)
    assert not LAYOUT & set(GENERATE)


# --- the examples ------------------------------------------------------------------------


def _compile(path: Path, code: str) -> tuple[Diagnostics, Result]:
    enabled = frozenset({code}) if TABLE[code].opt_in else frozenset()
    diags = Diagnostics(enabled_warnings=enabled)
    layout = code in LAYOUT or code in GENERATE
    result = compile_file(str(path), Options(layout=layout), diags)
    if code in GENERATE and result.spec is not None:
        from idlc.backends.python import generate

        with tempfile.TemporaryDirectory() as out:
            target = out if GENERATE[code] == "out" else str(path)
            generate(result.spec, target, diags)
        result = Result(None, result.dependencies)
    return diags, result


def _first(diags: Diagnostics, code: str) -> Diagnostic:
    found = next((d for d in diags.items if d.code == code), None)
    assert found is not None, f"{code} not reported; got {diags.codes()}"
    return found


def _check_outcome(diags: Diagnostics, result: Result, code: str) -> None:
    assert set(diags.codes()) == {code}, f"the example reports more than {code}: {diags.codes()}"
    if TABLE[code].severity is Severity.ERROR:
        assert diags.has_errors and result.spec is None, f"{code} did not fail the compile"
    else:
        assert not diags.has_errors and result.spec is not None


@pytest.mark.parametrize("code", _live_params())
def test_example_reports_its_code_at_the_expected_place(code: str) -> None:
    if code in COMMAND_LINE:
        diags, result = _compile(EXAMPLES / COMMAND_LINE[code], code)
        assert _first(diags, code).span is None
        _check_outcome(diags, result, code)
        return
    path = EXAMPLES / f"{code}.idl"
    assert path.is_file(), f"no example {path.relative_to(ROOT)}"
    if GENERATE.get(code) == "self":
        diags, result = _compile(path, code)
        assert _first(diags, code).span is None
        _check_outcome(diags, result, code)
        return
    first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
    m = EXPECT.fullmatch(first_line)
    assert m is not None, f"{path.name}: first line must be '// expect: {code} at L:C'"
    assert m["code"] == code
    diags, result = _compile(path, code)
    diag = _first(diags, code)
    assert diag.span is not None
    where = (Path(diag.span.file).resolve(), diag.span.line, diag.span.col)
    expected_file = (EXAMPLES / m["file"]) if m["file"] else path
    assert where == (expected_file.resolve(), int(m["line"]), int(m["col"]))
    _check_outcome(diags, result, code)


def test_every_example_belongs_to_a_live_code() -> None:
    for path in EXAMPLES.glob("*.idl"):
        code = path.stem
        assert code in TABLE and not TABLE[code].retired, f"stray example {path.name}"
        assert code not in NOT_EMITTED, f"{code} has an example: drop it from NOT_EMITTED"
        assert code not in COMMAND_LINE, f"{code} is a command-line case"


# --- the documentation -------------------------------------------------------------------


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _sections() -> dict[str, str]:
    """Each heading's code -> the section text up to the next heading."""
    text = _doc()
    heads = list(HEADING.finditer(text))
    out: dict[str, str] = {}
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        assert h["code"] not in out, f"two sections for {h['code']}"
        out[h["code"]] = text[h.start() : end]
    return out


@pytest.mark.parametrize("code", [pytest.param(c, id=c) for c in LIVE])
def test_doc_has_a_section(code: str) -> None:
    heads = {h["code"]: h["name"] for h in HEADING.finditer(_doc())}
    assert code in heads, f"docs/errors.md has no '## {code} {TABLE[code].name}'"
    assert heads[code] == TABLE[code].name
    section = _sections()[code]
    example = EXAMPLES / f"{code}.idl"
    if example.is_file():
        # The example shown is the example tested.
        assert f"```idl\n{example.read_text(encoding='utf-8')}```" in section


def test_doc_mentions_only_codes_in_the_table() -> None:
    text = _doc()
    unknown = sorted(set(ANY_CODE.findall(text)) - set(TABLE))
    assert not unknown, f"docs/errors.md mentions codes not in the table: {unknown}"
    for code in HEADING.findall(text):
        assert not TABLE[code[0]].retired, f"retired {code[0]} has a section"
