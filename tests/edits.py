"""Single-token edits of valid corpus files, and the judge of what idlc says about them
(issue 14 item 4): an edit that makes a file invalid should draw exactly one error, on
the edited token's line or on the line of the token before it.

Shared by tests/test_recovery.py (a hypothesis sample, CI's threshold) and
tools/recovery_share.py (a uniform sample, with omniidl's verdict as the oracle).
The corpus is read where $IDLC_CORPUS points and rebuilt in a temporary tree by
tests/corpus.py, never copied into the repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from idlc.errcodes import Severity
from idlc.grammar import _tables as T
from idlc.lexer import RawToken, tokenize
from tests.corpus import CorpusFile, include_dirs, manifest, rebuild, with_includes_available

KINDS = ("delete", "duplicate", "swap", "misspell")
# Words the grammar knows as keywords: misspelling works on names only.
_KEYWORDS = frozenset(k for k in T.LITERALS if k[:1].isalpha())


@dataclass(frozen=True)
class Seed:
    """A valid corpus file, placed in the rebuilt tree, with the flags it needs."""

    name: str  # the corpus path
    path: Path
    text: str
    options: Options
    tokens: tuple[RawToken, ...]  # outside preprocessor lines
    offsets: tuple[int, ...]  # each token's offset in text


@dataclass(frozen=True)
class Edit:
    seed: Seed
    kind: str
    index: int  # the edited token (for a swap: the first of the two)
    text: str  # the edited file
    lines: frozenset[int]  # where the one error may be: the edited and previous tokens' lines


@dataclass(frozen=True)
class Outcome:
    errors: int
    on_line: bool  # every error (so the one) is on one of the edit's lines

    @property
    def good(self) -> bool:
        return self.errors == 1 and self.on_line


def load_seeds(root: Path, tree: Path) -> list[Seed]:
    """The valid corpus files (valid or valid-needs-flags, every include in the corpus)
    with the flags they need, rebuilt under tree so that relative includes resolve."""
    files = manifest(root)
    available = with_includes_available(files)
    placed = rebuild(root, files, tree)
    seeds: list[Seed] = []
    for cf in sorted(files, key=lambda f: f.path):
        if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in available:
            continue
        if cf.path not in placed:
            continue
        seed = _seed(cf, placed)
        if seed is not None and seed.tokens:
            seeds.append(seed)
    return seeds


_ACCEPTED: dict[Path, bool] = {}


def accepted(seed: Seed) -> bool:
    """Whether idlc accepts the unedited file (a few valid files it does not): edits
    of the others only are judged. Asked once per file, when it is first drawn."""
    ok = _ACCEPTED.get(seed.path)
    if ok is None:
        ok = _ACCEPTED[seed.path] = errors_of(seed, seed.text)[0] == 0
    return ok


def _seed(cf: CorpusFile, placed: dict[str, Path]) -> Seed | None:
    path = placed[cf.path]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
    options = Options(include_dirs=include_dirs(cf, placed), defines=defines)
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    directive = {n + 1 for n, line in enumerate(text.split("\n")) if line.lstrip().startswith("#")}
    tokens: list[RawToken] = []
    offsets: list[int] = []
    for tok in tokenize(text):
        if tok.kind == "eof":
            break
        if tok.line in directive or tok.kind not in ("id", "num", "str", "chr", "punct"):
            continue
        tokens.append(tok)
        offsets.append(starts[tok.line - 1] + tok.col - 1)
    return Seed(cf.path, path, text, options, tuple(tokens), tuple(offsets))


def errors_of(seed: Seed, text: str) -> tuple[int, list[int]]:
    """idlc's error count for text in place of the seed, and the lines of its errors
    (0 for an error outside the file)."""
    diags = Diagnostics(max_errors=50)
    compile_file(str(seed.path), seed.options, diags, text=text)
    lines = []
    for d in diags.items:
        if d.severity is Severity.ERROR:
            s = d.span
            lines.append(s.line if s is not None and s.file == str(seed.path) else 0)
    return diags.error_count, lines


def misspell(word: str, choice: int) -> str:
    """One of four misspellings of word, by choice: drop, double, swap or change a letter;
    chosen to differ from word."""
    n = len(word)
    at = (choice // 4) % n
    how = choice % 4
    if how == 0 and n > 1:
        return word[:at] + word[at + 1 :]
    if how == 1:
        return word[: at + 1] + word[at:]
    if how == 2 and n > 1:
        at = min(at, n - 2)
        if word[at] != word[at + 1]:
            return word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    ch = word[at]
    swapped = "x" if ch.lower() != "x" else "q"
    return word[:at] + swapped + word[at + 1 :]


def make_edit(seed: Seed, kind: str, index: int, choice: int = 0) -> Edit | None:
    """Apply one edit of kind to the token at index; None when it does not apply (a swap
    at the last token, a misspelling of a keyword, literal or punctuation)."""
    toks = seed.tokens
    if kind == "misspell":
        # index counts names only, so that every edit kind gets a fair share of a sample
        names = [i for i, t in enumerate(toks) if _misspellable(t)]
        if not names:
            return None
        index = names[index % len(names)]
    if not 0 <= index < len(toks):
        return None
    tok = toks[index]
    start = seed.offsets[index]
    end = start + len(tok.text)
    text = seed.text
    lines = {tok.line}
    if index > 0:
        lines.add(toks[index - 1].line)
    if kind == "delete":
        new = text[:start] + text[end:]
    elif kind == "duplicate":
        new = text[:end] + " " + tok.text + text[end:]
    elif kind == "swap":
        if index + 1 >= len(toks):
            return None
        nxt = toks[index + 1]
        nstart = seed.offsets[index + 1]
        nend = nstart + len(nxt.text)
        new = text[:start] + nxt.text + text[end:nstart] + tok.text + text[nend:]
        lines.add(nxt.line)
    elif kind == "misspell":
        new = text[:start] + misspell(tok.text, choice) + text[end:]
    else:
        raise ValueError(kind)
    return Edit(seed, kind, index, new, frozenset(lines))


def _misspellable(tok: RawToken) -> bool:
    return tok.kind == "id" and tok.text not in _KEYWORDS


def judge(edit: Edit) -> Outcome:
    errors, where = errors_of(edit.seed, edit.text)
    return Outcome(errors, all(line in edit.lines for line in where))
