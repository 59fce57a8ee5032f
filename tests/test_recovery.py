"""Errors that help (issue 14 item 4): one mistake gives one error, at the mistake, and
names that are not found come with the closest one that is.

The cases are a table: source, the codes reported (errors and warnings, in order), the
line of the first, and a text its message or a note must hold. The share test applies
single-token edits to valid corpus files (tests/edits.py) and keeps the share of invalid
edits that get exactly one error on the edited line above SHARE_THRESHOLD (raise it,
never lower it; tools/recovery_share.py measures it on a uniform sample, with omniidl's
verdict).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from idlc.suggest import closest, distance
from tests.corpus import corpus_dir
from tests.edits import KINDS, Outcome, Seed, accepted, judge, load_seeds, make_edit

# (name, source, codes, line of the first, text in its message or a note)
CASES = [
    (
        "missing-semicolon-member",
        "struct Point {\n  long x\n  long y;\n};\n",
        ["E0110"],
        2,
        "missing ';' after identifier 'x'",
    ),
    (
        "missing-semicolon-struct-then-typedef",
        "module m {\n  struct P { long x; }\n  typedef sequence<P> Ps;\n};\n",
        ["E0110"],
        2,
        "missing ';' after '}'",
    ),
    (
        "missing-semicolon-operation",
        "interface I {\n  void a(in long x)\n  void b();\n};\n",
        ["E0110"],
        2,
        "missing ';' after ')'",
    ),
    (
        "missing-open-brace",
        "struct S\n  long x;\n  long y;\n};\n",
        ["E0110"],
        1,
        "missing '{' after identifier 'S'",
    ),
    (
        "missing-name",
        "struct S {\n  long ;\n  long y;\n};\n",
        ["E0110"],
        2,
        "missing identifier after keyword 'long'",
    ),
    (
        "stray-semicolon-in-struct",
        "struct S {\n  long x; ;\n  long y;\n};\nstruct T { long z; };\n",
        ["E0102"],
        2,
        "unexpected ';'",
    ),
    (
        "doubled-close-brace",
        "module m {\n  struct S { long x; } };\n  struct T { long y; };\n};\n",
        ["E0102"],
        2,
        "unexpected '}'",
    ),
    (
        "swapped-neighbours",
        "interface ; I\n{\n  void a();\n};\n",
        ["E0102"],
        1,
        "unexpected ';'",
    ),
    (
        "capitalised-template-keyword",
        "struct S {\n  String<128> name;\n  long v;\n};\n",
        ["E0111"],
        2,
        "did you mean 'string'?",
    ),
    (
        "misspelled-keyword",
        "strcut S {\n  long x;\n};\n",
        ["E0111"],
        1,
        "did you mean 'struct'?",
    ),
    (
        "misspelled-sequence",
        "struct S {\n  sequnce<long> xs;\n};\n",
        ["E0111"],
        2,
        "did you mean 'sequence'?",
    ),
    (
        "two-mistakes-two-errors",
        "struct S {\n  long x\n};\nstruct T {\n  long y\n};\n",
        ["E0110", "E0110"],
        2,
        "missing ';'",
    ),
    (
        "no-keyword-warning-after-an-error",
        "module m {\n  typedef sequence<,3> A;\n  typedef sequence<long,3> B;\n"
        "  struct C { long x; };\n};\n",
        ["E0110"],
        2,
        "missing identifier after '<'",
    ),
    (
        # After an error `>>` is read as main's parser reads it (idlc/angles.py): the
        # shift operator in the constant, two closers in the typedef.
        "shift-operator-after-an-error",
        "struct P { long x\n  long y; };\nconst long X = 256 >> 4;\n"
        "typedef sequence<sequence<long, X>> Q;\nstruct R { long a };\n",
        ["E0110", "E0110"],
        1,
        "missing ';' after identifier 'x'",
    ),
    (
        "lexical-error-after-a-syntax-error",
        "struct S {\n  long x\n  long y;\n};\nconst long z = 1 $;\n",
        ["E0110", "E0101"],
        2,
        "missing ';'",
    ),
    (
        "end-of-input",
        "interface Counter {\n  long next();\n",
        ["E0103"],
        2,
        "unexpected end of input",
    ),
    (
        "undeclared-name",
        "struct Value { long x; };\nstruct S {\n  Valeu v;\n};\n",
        ["E0203"],
        3,
        "did you mean 'Value'? it is declared here",
    ),
    (
        "undeclared-scoped-name",
        "module m { struct Value { long x; }; };\nstruct S {\n  m::Valeu v;\n};\n",
        ["E0203"],
        3,
        "did you mean 'm::Value'?",
    ),
    (
        "undeclared-without-anything-close",
        "struct Value { long x; };\nstruct S {\n  Quux v;\n};\n",
        ["E0203"],
        3,
        "'Quux' is not declared",
    ),
    (
        "unknown-annotation",
        "struct S {\n  @ky long k;\n};\n",
        ["W0003"],
        2,
        "did you mean '@key'?",
    ),
]


def _compile(text: str) -> Diagnostics:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.idl"
        path.write_text(text, encoding="utf-8")
        diags = Diagnostics()
        compile_file(str(path), Options(), diags)
    return diags


@pytest.mark.parametrize(
    ("text", "codes", "line", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_one_mistake_one_error(text: str, codes: list[str], line: int, says: str) -> None:
    diags = _compile(text)
    assert diags.codes() == codes
    first = diags.items[0]
    assert first.span is not None and first.span.line == line
    texts = [first.message, *(n.message for n in first.notes)]
    assert any(says in t for t in texts), texts


def test_missing_token_points_just_after_the_token_before() -> None:
    diags = _compile("struct Point {\n  long x\n  long y;\n};\n")
    span = diags.items[0].span
    assert span is not None and (span.line, span.col) == (2, 9)


def test_misread_word_keeps_no_warning() -> None:
    """`String` was read as a name (W0007) before the `<` showed it is the keyword."""
    diags = _compile("struct S {\n  String<8> s;\n};\n")
    assert diags.warning_count == 0 and diags.codes() == ["E0111"]


def test_ten_syntax_errors_at_most() -> None:
    text = "".join(f"struct S{i} {{ long x }};\n" for i in range(30))
    diags = _compile(text)
    assert diags.codes() == ["E0110"] * 10


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("Valeu", ["Value", "Vale", "Other"], "Value"),
        ("String", ["string", "wstring"], "string"),
        ("strcut", ["struct", "union"], "struct"),
        ("ky", ["key", "id"], "key"),
        ("x", ["y", "xx"], None),  # one letter: nothing is close enough
        ("Quux", ["Value"], None),
        ("abcdefgh", ["abcdefhg", "abcdxfgh"], "abcdefhg"),  # ties: sorted order
        ("same", ["same"], None),  # the word itself is no suggestion
    ],
)
def test_closest(word: str, candidates: list[str], expected: str | None) -> None:
    assert closest(word, candidates) == expected


@pytest.mark.parametrize(
    ("a", "b", "d"),
    [("abc", "abc", 0), ("abc", "acb", 1), ("abc", "ab", 1), ("abc", "xyz", 3), ("", "ab", 2)],
)
def test_distance(a: str, b: str, d: int) -> None:
    assert distance(a, b, 5) == d


# --- the share over single-token edits of the corpus ------------------------------------

# The hypothesis sample below with CI's budget gave 92.9% of 99 invalid edits
# (2026-12-07; tools/recovery_share.py, 1000 uniform edits with omniidl's verdict: 95.6%).
# Raise it when the share rises, never lower it.
SHARE_THRESHOLD = 0.92
EXAMPLES = int(os.environ.get("IDLC_FUZZ_EXAMPLES", "60")) * 2


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Seed]:
    found = load_seeds(corpus_dir(), tmp_path_factory.mktemp("corpus"))
    assert len(found) > 100, "the corpus has too few valid files"
    return found


def test_one_error_share(seeds: list[Seed]) -> None:
    outcomes: list[Outcome] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    # Files by index: hypothesis seeds its derandomized draws with the strategies' repr,
    # which for the Seed objects would hold the temporary folder's name.
    @given(
        which=st.integers(0, len(seeds) - 1),
        kind=st.sampled_from(KINDS),
        where=st.floats(0, 1, exclude_max=True),
        choice=st.integers(0, 63),
    )
    def edit_once(which: int, kind: str, where: float, choice: int) -> None:
        seed = seeds[which]
        edit = make_edit(seed, kind, int(where * len(seed.tokens)), choice)
        if edit is None or not accepted(seed):
            return
        outcome = judge(edit)
        if outcome.errors:  # idlc's verdict: an edit it accepts is left out
            outcomes.append(outcome)

    edit_once()
    assert len(outcomes) >= EXAMPLES // 2, "too few edits made a file invalid"
    share = sum(o.good for o in outcomes) / len(outcomes)
    assert share >= SHARE_THRESHOLD, f"one-error share {share:.1%} over {len(outcomes)} edits"
