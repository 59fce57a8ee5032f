"""The C-style preprocessor that runs before the IDL lexer (docs/preprocessor.md).

It keeps the lexer's columns: a line that needs no macro expansion is copied byte for byte
(comments included), directive lines and lines in skipped groups become empty lines, and
included files are inlined. A :class:`LineMap` maps every output position back to the
original file, line and column, with the chain of ``#include`` directives.

Only the standard library is imported, and nothing here recurses to a depth that the input
controls without a cap, so no input makes it raise anything but ``TooManyErrors``.
"""

from __future__ import annotations

import gc
import os
from bisect import bisect_right

from idlc import PREDEFINED_MACRO, PREDEFINED_VALUE, regex
from idlc import errcodes as E
from idlc.diagnostics import Diagnostics, Note
from idlc.errcodes import DiagDef
from idlc.record import field, record
from idlc.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Mapping, Sequence

__all__ = [
    "LineMap",
    "Pragma",
    "PreprocessResult",
    "parse_define_option",
    "preprocess",
]

# --- limits ---------------------------------------------------------------------------
MAX_INCLUDE_DEPTH = 200
MAX_EXPANSION_WORK = 200_000  # tokens substituted or collected as arguments, per call
MAX_ARG_NESTING = 100  # nested macro invocations inside macro arguments
MAX_EXPR_DEPTH = 256  # recursion units of the #if expression parser (~2 per paren level)
MAX_ARG_LINES = 200  # physical lines one macro invocation's argument list may span
MAX_OPEN_CONDITIONAL_REPORTS = 20  # unterminated #if reported per file

KNOWN_PRAGMAS = ("prefix", "version", "ID", "keylist")

# --- tokens ---------------------------------------------------------------------------
WS, COMMENT, IDENT, NUM, STR, CHR, PUNCT, PLACEMARKER = range(8)

_TOKEN_RE = regex.compile(
    r"""(?P<w>[ \t\r\f\v\n]+)
      |(?P<c>//[^\n]*|/\*.*?(?:\*/|\Z))
      |(?P<i>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<n>\.?[0-9](?:[eEpP][+-]|[A-Za-z0-9_.])*)
      |(?P<s>"(?:[^"\\\n]|\\.)*"?)
      |(?P<h>'(?:[^'\\\n]|\\.)*'?)
      |(?P<p>\.\.\.|::|<<|>>|<=|>=|==|!=|&&|\|\||\#\#|.)""",
    regex.VERBOSE | regex.DOTALL,
)
_GROUP_KIND = {"w": WS, "c": COMMENT, "i": IDENT, "n": NUM, "s": STR, "h": CHR, "p": PUNCT}
_EMPTY: frozenset[str] = frozenset()

# Strings, char literals and comment openers: enough to track /* */ across lines.
_COMMENT_SCAN = regex.compile(r""""(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|//|/\*""")
_IDCHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_PASTE_TEXT = "::  <<  >>  <=  >=  ==  !=  &&  ||  ++  --  //  /*  */  ->  ##  +=  -=  *=  /="
_PASTE_PAIRS = frozenset((_PASTE_TEXT + "  %=  &=  |=  ^=  <:  :>  <%  %>").split())
_SCOPED = r"(?:::)?[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_PRAGMA_SHAPES = {
    "prefix": (regex.compile(rf"(?:{_STRING}|[^\s\"]+)\Z"), 'expected #pragma prefix "string"'),
    "version": (
        regex.compile(rf"{_SCOPED}\s+\d+(?:\.\d+)?\Z"),
        "expected #pragma version <name> <major>.<minor>",
    ),
    "ID": (regex.compile(rf"{_SCOPED}\s+{_STRING}\Z"), 'expected #pragma ID <name> "id"'),
    "keylist": (
        regex.compile(rf"{_SCOPED}(?:[\s,]+[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)*[\s,]*\Z"),
        "expected #pragma keylist <type> <member>...",
    ),
}
_INT_RE = regex.compile(r"(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)\Z")
_BACKSLASHED = regex.compile(r"\\(.)")
_HEX_DIGITS = regex.compile(r"[0-9a-fA-F]+")
_OCT_DIGITS = regex.compile(r"[0-7]{1,3}")
_INT_SUFFIXES = frozenset(("", "u", "l", "ul", "lu", "ll", "ull", "llu"))
_MASK64 = (1 << 64) - 1
_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "a": 7, "b": 8, "f": 12, "v": 11, "e": 27}

_CONDITIONALS = frozenset(("if", "ifdef", "ifndef", "elif", "else", "endif"))


class Tok:
    """A preprocessing token. ``line``/``col`` are where it came from in the original file
    (for tokens made by an expansion: the outermost invocation), ``exp`` marks those."""

    __slots__ = ("col", "exp", "hide", "kind", "line", "text")

    def __init__(
        self, kind: int, text: str, hide: frozenset[str], line: int, col: int, exp: bool
    ) -> None:
        self.kind = kind
        self.text = text
        self.hide = hide
        self.line = line
        self.col = col
        self.exp = exp

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Tok({self.kind}, {self.text!r}, {self.line}:{self.col}{'*' if self.exp else ''})"


def _lex(text: str, in_comment: bool = False) -> tuple[list[tuple[int, str, int]], bool]:
    """Split ``text`` into (kind, text, offset) tokens; also say whether it ends in a comment."""
    toks: list[tuple[int, str, int]] = []
    pos = 0
    if in_comment:
        k = text.find("*/")
        pos = len(text) if k < 0 else k + 2
        toks.append((COMMENT, text[:pos], 0))
        if k < 0:
            return toks, True
    kinds = _GROUP_KIND
    for m in _TOKEN_RE.finditer(text, pos):
        toks.append((kinds[m.lastgroup or "p"], m.group(), m.start()))
    ends_open = False
    if toks:
        kind, t, _ = toks[-1]
        if kind == COMMENT and t.startswith("/*") and (len(t) < 4 or not t.endswith("*/")):
            ends_open = True
    return toks, ends_open


def _ends_in_comment(line: str, in_comment: bool) -> bool:
    """Whether a block comment is open at the end of ``line`` (strings and // respected)."""
    pos = 0
    if in_comment:
        k = line.find("*/")
        if k < 0:
            return True
        pos = k + 2
    search = _COMMENT_SCAN.search
    while True:
        m = search(line, pos)
        if m is None:
            return False
        tok = m.group()
        if tok == "//":
            return False
        if tok == "/*":
            k = line.find("*/", m.end())
            if k < 0:
                return True
            pos = k + 2
        else:
            pos = m.end()


def _open_comment_col(line: str) -> int:
    """1-based column of the block comment left open at the end of ``line`` (or 1)."""
    pos = 0
    while True:
        m = _COMMENT_SCAN.search(line, pos)
        if m is None or m.group() == "//":
            return 1
        if m.group() == "/*":
            k = line.find("*/", m.end())
            if k < 0:
                return m.start() + 1
            pos = k + 2
        else:
            pos = m.end()


def _has_code(line: str, in_comment: bool) -> bool:
    """Whether ``line`` holds anything but whitespace and comments."""
    pos = 0
    n = len(line)
    if in_comment:
        k = line.find("*/")
        if k < 0:
            return False
        pos = k + 2
    while True:
        while pos < n and line[pos] in " \t\r\f\v":
            pos += 1
        if pos >= n or line.startswith("//", pos):
            return False
        if line.startswith("/*", pos):
            k = line.find("*/", pos + 2)
            if k < 0:
                return False
            pos = k + 2
            continue
        return True


def _pastes(a: str, b: str) -> bool:
    """Would the characters ``a`` then ``b`` run two tokens together?"""
    return (a in _IDCHARS and b in _IDCHARS) or (a + b) in _PASTE_PAIRS


def _unquote(lit: str) -> str:
    body = lit[1:-1] if len(lit) >= 2 and lit.endswith('"') else lit[1:]
    return _BACKSLASHED.sub(_unescaped, body)


def _unescaped(m: re.Match[str]) -> str:
    return m.group(1)


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class _WordFinder:
    """Whether a line holds one of some names as a whole word (a macro to expand). For a
    few names, str.find is faster than a regular expression and needs none compiled at
    run time (see idlc/regex.py); for many, one alternation is."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.pattern: re.Pattern[str] | None = None
        if len(names) > 8:
            import re

            alts = "|".join(re.escape(n) for n in names)
            self.pattern = re.compile(rf"(?<![A-Za-z0-9_])(?:{alts})(?![A-Za-z0-9_])")

    def search(self, line: str) -> bool:
        if self.pattern is not None:
            return self.pattern.search(line) is not None
        for name in self.names:
            i = line.find(name)
            while i >= 0:
                end = i + len(name)
                if (i == 0 or line[i - 1] not in _WORD_CHARS) and (
                    end == len(line) or line[end] not in _WORD_CHARS
                ):
                    return True
                i = line.find(name, i + 1)
        return False


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- public data ----------------------------------------------------------------------


@record
class Pragma:
    """A ``#pragma`` line, kept for the front end (its output line is left blank)."""

    name: str  # first word, as written (e.g. "prefix", "keylist", "ID", "version")
    args: str  # the rest of the line, stripped, comments removed
    span: Span  # the directive's position in its original file
    out_line: int  # 1-based line in PreprocessResult.text where the pragma stood


class LineMap:
    """Maps a position in the preprocessed text back to the original file.

    The output is a series of chunks, each a run of lines that map one to one onto
    consecutive lines of one file; a new chunk starts where an include begins or ends and
    after ``#line``. Lines where a macro was expanded also carry a column segment map.
    """

    __slots__ = ("_files", "_incs", "_last", "_lines", "_segs", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._files: list[str] = []
        self._lines: list[int] = []
        self._incs: list[Span | None] = []
        # out_line -> (out columns, (orig line, orig col, inside an expansion))
        self._segs: dict[int, tuple[list[int], list[tuple[int, int, bool]]]] = {}
        # The chunk of the output line looked up last: the parser asks for many tokens
        # of one line in a row.
        self._last: tuple[int, int] = (0, -1)

    def _chunk(self, out_line: int, file: str, line: int, inc: Span | None) -> None:
        if self._starts and self._starts[-1] == out_line:
            self._starts.pop()
            self._files.pop()
            self._lines.pop()
            self._incs.pop()
        self._starts.append(out_line)
        self._files.append(file)
        self._lines.append(line)
        self._incs.append(inc)

    def locate(self, out_line: int, out_col: int, length: int = 1) -> Span:
        """The original position of output ``out_line``:``out_col`` (both 1-based), as a
        span of ``length`` columns (one where an expansion makes the length meaningless)."""
        if self._last[0] == out_line:
            k = self._last[1]
        else:
            k = bisect_right(self._starts, out_line) - 1
            if k < 0:
                if not self._starts:
                    return Span.point("<input>", out_line, out_col)
                k = 0
            self._last = (out_line, k)
        line = self._lines[k] + (out_line - self._starts[k])
        col = out_col
        seg = self._segs.get(out_line)
        if seg is not None:
            cols, entries = seg
            j = bisect_right(cols, out_col) - 1
            if j >= 0:
                sline, scol, exp = entries[j]
                line = sline
                col = scol if exp else scol + (out_col - cols[j])
                if exp:
                    length = 1
        return Span(self._files[k], line, col, line, col + length, self._incs[k])

    def span(self, line: int, col: int, end_line: int, end_col: int) -> Span:
        """Map an output range; the end is kept when both ends land in the same file."""
        a = self.locate(line, col)
        if end_col <= 1 or (end_line, end_col) <= (line, col):
            return a
        b = self.locate(end_line, end_col - 1)
        if (
            b.file != a.file
            or b.included_from != a.included_from
            or (b.line, b.col)
            < (
                a.line,
                a.col,
            )
        ):
            return a
        return Span(a.file, a.line, a.col, b.line, b.col + 1, a.included_from)


@record(frozen=False)
class PreprocessResult:
    text: str
    linemap: LineMap
    pragmas: list[Pragma]
    dependencies: list[str] = field(default_factory=list)


def parse_define_option(option: str) -> tuple[str, str]:
    """Split a ``-D`` argument: ``NAME`` -> (NAME, "1"), ``NAME=VALUE`` -> (NAME, VALUE)."""
    name, eq, value = option.partition("=")
    return (name, value) if eq else (name, "1")


# --- internals ------------------------------------------------------------------------

B_TOK, B_ARG, B_RAW, B_STR, B_PASTE, B_WS = range(6)
BodyItem = tuple[int, str, int]  # (B_*, text, token kind or parameter index)


class _Macro:
    __slots__ = ("body", "name", "params", "span", "special", "variadic")

    def __init__(
        self,
        name: str,
        params: tuple[str, ...] | None,  # None: object-like
        variadic: bool,
        body: tuple[BodyItem, ...],
        span: Span | None,
        special: str = "",  # "__FILE__" / "__LINE__"
    ) -> None:
        self.name = name
        self.params = params
        self.variadic = variadic
        self.body = body
        self.span = span
        self.special = special

    def same_as(self, other: _Macro) -> bool:
        return (self.params, self.variadic, self.body, self.special) == (
            other.params,
            other.variadic,
            other.body,
            other.special,
        )


class _Cond:
    """One open #if group."""

    __slots__ = ("active", "else_seen", "name", "parent_active", "span", "taken")

    def __init__(
        self, parent_active: bool, taken: bool, else_seen: bool, active: bool, span: Span, name: str
    ) -> None:
        self.parent_active = parent_active
        self.taken = taken  # some branch of the group was taken
        self.else_seen = else_seen
        self.active = active
        self.span = span
        self.name = name


class _Frame:
    """A file being read (the include stack is a list of these, never recursion)."""

    __slots__ = (
        "active",
        "comment_line",
        "conds",
        "delta",
        "dir",
        "guard_name",
        "guard_state",
        "i",
        "in_comment",
        "inc",
        "lines",
        "path",
        "real",
        "rfile",
    )

    def __init__(
        self, path: str, real: str, dir: str, lines: list[str], inc: Span | None, rfile: str
    ) -> None:
        self.path = path  # the path string used in spans and for the SourceManager
        self.real = real  # realpath, identifies the file for #pragma once and guards
        self.dir = dir  # directory searched first by #include "..."
        self.lines = lines
        self.inc = inc
        self.rfile = rfile  # reported file name (#line may change it)
        self.i = 0
        self.delta = 0  # reported line = physical index + 1 + delta
        self.conds: list[_Cond] = []
        self.active = True
        self.in_comment = False
        self.comment_line = 0  # physical index of the line where the open comment began
        self.guard_state = 0  # 0 before anything, 1 inside #ifndef X, 2 after #endif, -1 none
        self.guard_name = ""


class _ExprError(Exception):
    def __init__(self, detail: str, tok: Tok | None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.tok = tok


class _NeedMore(Exception):
    """An invocation's argument list runs past the end of the available lines."""


class _Preprocessor:
    def __init__(self, diags: Diagnostics, include_dirs: Sequence[str]) -> None:
        self.diags = diags
        self.include_dirs = list(include_dirs)
        self.macros: dict[str, _Macro] = {}
        self._macro_re: _WordFinder | None = None
        self._macros_dirty = True
        self.out: list[str] = []
        self.linemap = LineMap()
        self.pragmas: list[Pragma] = []
        self.dependencies: list[str] = []
        self._dep_seen: set[str] = set()
        self._cache: dict[str, str] = {}
        self.once: set[str] = set()
        self.guards: dict[str, str] = {}
        self.frames: list[_Frame] = []
        self.work = 0
        self.exp_disabled = False
        self.includes_disabled = False
        self._pending: list[tuple[DiagDef, Span | None, dict[str, object]]] | None = None
        self._nesting_reported = False

    # --- diagnostics ------------------------------------------------------------------

    def report(
        self, defn: DiagDef, span: Span | None, notes: list[Note] | None = None, **args: object
    ) -> None:
        if self._pending is not None:
            self._pending.append((defn, span, args))
            return
        self.diags.report(defn, span, notes=notes, **args)

    # --- macros -----------------------------------------------------------------------

    def define(self, m: _Macro, name_span: Span | None) -> None:
        old = self.macros.get(m.name)
        if old is not None:
            if old.same_as(m):
                return  # an identical redefinition is allowed; keep the first one
            notes = [Note(old.span, "previous definition is here")] if old.span else None
            self.report(E.W_MACRO_REDEFINED, name_span, notes, name=m.name)
        self.macros[m.name] = m
        if old is None:
            self._macros_dirty = True

    def undefine(self, name: str) -> None:
        if self.macros.pop(name, None) is not None:
            self._macros_dirty = True

    def macro_re(self) -> _WordFinder | None:
        """What finds a line that names a macro (None when there are no macros)."""
        if self._macros_dirty:
            self._macros_dirty = False
            names = sorted(self.macros, key=len, reverse=True)
            self._macro_re = _WordFinder(names) if names else None
        return self._macro_re

    def parse_define(
        self, toks: list[Tok], k: int, at: Tok | None, where: Span | None
    ) -> tuple[_Macro, Span | None] | None:
        """Parse a macro definition from ``toks[k:]`` (the tokens after ``define``)."""
        n = len(toks)
        while k < n and toks[k].kind <= COMMENT:
            k += 1
        if k >= n or toks[k].kind != IDENT:
            bad = toks[k] if k < n else at
            detail = "macro name missing" if k >= n else "macro name must be an identifier"
            self.report(E.PP_BAD_DEFINE, self._tok_span(bad, where), detail=detail)
            return None
        name_tok = toks[k]
        name = name_tok.text
        name_span = self._tok_span(name_tok, where)
        if name == "defined":
            self.report(E.PP_BAD_DEFINE, name_span, detail="'defined' cannot be a macro name")
            return None
        k += 1
        params: tuple[str, ...] | None = None
        variadic = False
        if k < n and toks[k].kind == PUNCT and toks[k].text == "(":
            plist: list[str] = []
            k += 1
            expect_name = True
            closed = False
            while k < n:
                t = toks[k]
                k += 1
                if t.kind <= COMMENT:
                    continue
                if t.text == ")" and (not expect_name or not plist) and not closed:
                    closed = True
                    break
                if expect_name and t.kind == IDENT and not variadic:
                    if t.text in plist:
                        self.report(
                            E.PP_BAD_DEFINE,
                            self._tok_span(t, where),
                            detail=f"duplicate macro parameter '{t.text}'",
                        )
                        return None
                    plist.append(t.text)
                    expect_name = False
                elif t.text == "..." and not variadic:
                    if expect_name:
                        plist.append("__VA_ARGS__")
                    variadic = True
                    expect_name = False
                elif t.text == "," and not expect_name and not variadic:
                    expect_name = True
                else:
                    self.report(
                        E.PP_BAD_DEFINE,
                        self._tok_span(t, where),
                        detail=f"unexpected '{t.text}' in macro parameter list",
                    )
                    return None
            if not closed:
                self.report(
                    E.PP_BAD_DEFINE, name_span, detail="missing ')' in macro parameter list"
                )
                return None
            params = tuple(plist)
        # body: comments become spaces, whitespace collapses, ends are trimmed
        body: list[BodyItem] = []
        for t in toks[k:]:
            if t.kind <= COMMENT:
                if body and body[-1][0] != B_WS:
                    body.append((B_WS, " ", WS))
                continue
            body.append((B_TOK, t.text, t.kind))
        while body and body[-1][0] == B_WS:
            body.pop()
        while body and body[0][0] == B_WS:
            body.pop(0)
        items = self._compile_body(body, params, name_span)
        if items is None:
            return None
        return _Macro(name, params, variadic, items, name_span), name_span

    def _compile_body(
        self, body: list[BodyItem], params: tuple[str, ...] | None, span: Span | None
    ) -> tuple[BodyItem, ...] | None:
        sig = [i for i, b in enumerate(body) if b[0] != B_WS]
        if sig and (body[sig[0]][1] == "##" or body[sig[-1]][1] == "##"):
            self.report(E.PP_BAD_DEFINE, span, detail="'##' cannot appear at either end")
            return None
        index = {p: i for i, p in enumerate(params)} if params is not None else {}
        out: list[BodyItem] = []
        j = 0
        while j < len(body):
            kind, text, tkind = body[j]
            if kind == B_WS:
                # whitespace next to ## is dropped
                nxt = body[j + 1][1] if j + 1 < len(body) else ""
                if not (out and out[-1][0] == B_PASTE) and nxt != "##":
                    out.append(body[j])
                j += 1
                continue
            if text == "##" and tkind == PUNCT:
                out.append((B_PASTE, "##", 0))
                j += 1
                continue
            if params is not None and text == "#" and tkind == PUNCT:
                k = j + 1
                if k < len(body) and body[k][0] == B_WS:
                    k += 1
                if k < len(body) and body[k][1] in index and body[k][2] == IDENT:
                    out.append((B_STR, body[k][1], index[body[k][1]]))
                    j = k + 1
                    continue
                self.report(
                    E.PP_BAD_DEFINE, span, detail="'#' is not followed by a macro parameter"
                )
                return None
            if tkind == IDENT and text in index:
                prev = out[-1][0] if out else -1
                k = j + 1
                if k < len(body) and body[k][0] == B_WS:
                    k += 1
                raw = prev == B_PASTE or (k < len(body) and body[k][1] == "##")
                out.append((B_RAW if raw else B_ARG, text, index[text]))
            else:
                out.append(body[j])
            j += 1
        return tuple(out)

    # --- expansion --------------------------------------------------------------------

    def expand(self, toks: list[Tok], depth: int, mode: int, rfile: str) -> list[Tok]:
        """Macro-expand ``toks`` (hide sets, rescanning). ``mode`` 1 raises _NeedMore when an
        argument list is cut off by the end of ``toks``; mode 2 reports it; mode 0 is quiet."""
        macros = self.macros
        out: list[Tok] = []
        stack = toks[::-1]
        pop = stack.pop
        while stack:
            t = pop()
            if t.kind != IDENT:
                out.append(t)
                continue
            if self.exp_disabled:
                out.append(t)
                out.extend(reversed(stack))
                break
            m = macros.get(t.text)
            if m is None or (t.hide and t.text in t.hide):
                out.append(t)
                continue
            if m.params is None:
                if m.special:
                    if m.special == "__LINE__":
                        v = Tok(NUM, str(t.line), t.hide, t.line, t.col, True)
                    else:
                        v = Tok(STR, _quote(rfile), t.hide, t.line, t.col, True)
                    out.append(v)
                    continue
                res = self.substitute(m, t, [], t.hide | {m.name}, depth, rfile)
                if self._charge(len(res), t, rfile):
                    out.append(t)
                    out.extend(reversed(stack))
                    break
                stack.extend(reversed(res))
                continue
            # function-like: is the next significant token '('?
            j = len(stack) - 1
            while j >= 0 and stack[j].kind <= COMMENT:
                j -= 1
            if j < 0 or stack[j].kind != PUNCT or stack[j].text != "(":
                out.append(t)
                continue
            consumed = [t, *reversed(stack[j:])]
            del stack[j:]
            args: list[list[Tok]] = [[]]
            nparams = len(m.params)
            level = 0
            rp: Tok | None = None
            while stack:
                a = pop()
                consumed.append(a)
                if a.kind == PUNCT:
                    tx = a.text
                    if tx == "(":
                        level += 1
                    elif tx == ")":
                        if level == 0:
                            rp = a
                            break
                        level -= 1
                    elif tx == "," and level == 0 and not (m.variadic and len(args) >= nparams):
                        args.append([])
                        continue
                elif a.kind == COMMENT:
                    a = Tok(WS, " ", a.hide, a.line, a.col, a.exp)
                args[-1].append(a)
            if self._charge(len(consumed), t, rfile):
                out.extend(consumed)
                out.extend(reversed(stack))
                break
            if rp is None:
                if mode == 1:
                    raise _NeedMore
                if mode == 2 and depth == 0:
                    self.report(
                        E.PP_MACRO_ARGUMENTS,
                        self._point(t, rfile),
                        name=m.name,
                        detail="unterminated argument list",
                    )
                out.extend(consumed)
                continue
            for a_list in args:
                while a_list and a_list[-1].kind == WS:
                    a_list.pop()
                while a_list and a_list[0].kind == WS:
                    a_list.pop(0)
            if nparams == 0 and len(args) == 1 and not args[0]:
                args = []
            if m.variadic and len(args) == nparams - 1:
                args.append([])
            if len(args) != nparams:
                s = "" if nparams == 1 else "s"
                self.report(
                    E.PP_MACRO_ARGUMENTS,
                    self._point(t, rfile),
                    name=m.name,
                    detail=f"expects {nparams} argument{s}, {len(args)} given",
                )
                out.extend(consumed)
                continue
            hs = (t.hide & rp.hide) | {m.name}
            res = self.substitute(m, t, args, hs, depth, rfile)
            if self._charge(len(res), t, rfile):
                out.extend(consumed)
                out.extend(reversed(stack))
                break
            stack.extend(reversed(res))
        return out

    def _charge(self, n: int, t: Tok, rfile: str) -> bool:
        """Count expansion work; True (after one report) once the budget is spent."""
        self.work += n
        if self.work > MAX_EXPANSION_WORK and not self.exp_disabled:
            self.exp_disabled = True
            self.report(
                E.PP_MACRO_ARGUMENTS,
                self._point(t, rfile),
                name=t.text,
                detail=f"expansion exceeds {MAX_EXPANSION_WORK} tokens; expansion stopped",
            )
        return self.exp_disabled

    def substitute(
        self,
        m: _Macro,
        inv: Tok,
        args: list[list[Tok]],
        hs: frozenset[str],
        depth: int,
        rfile: str,
    ) -> list[Tok]:
        line, col = inv.line, inv.col
        res: list[Tok] = []
        cache: dict[int, list[Tok]] = {}
        paste = False
        va_index = len(m.params) - 1 if m.params is not None and m.variadic else -1
        for kind, text, val in m.body:
            if kind == B_PASTE:
                paste = True
                continue
            if kind == B_WS:
                res.append(Tok(WS, " ", hs, line, col, True))
                continue
            new: list[Tok]
            if kind == B_TOK:
                new = [Tok(val, text, hs, line, col, True)]
            elif kind == B_ARG:
                got = cache.get(val)
                if got is None:
                    if self.exp_disabled:
                        got = args[val]
                    elif depth + 1 > MAX_ARG_NESTING:
                        if not self._nesting_reported:
                            self._nesting_reported = True
                            self.report(
                                E.PP_MACRO_ARGUMENTS,
                                self._point(inv, rfile),
                                name=m.name,
                                detail=f"macro arguments nested more than {MAX_ARG_NESTING} "
                                "deep; not expanded",
                            )
                        got = args[val]
                    else:
                        got = self.expand(args[val], depth + 1, 0, rfile)
                    cache[val] = got
                new = [Tok(a.kind, a.text, a.hide | hs, line, col, True) for a in got]
            elif kind == B_RAW:
                raw = args[val]
                if raw:
                    new = [Tok(a.kind, a.text, a.hide | hs, line, col, True) for a in raw]
                else:
                    new = [Tok(PLACEMARKER, "", hs, line, col, True)]
            else:  # B_STR
                new = [Tok(STR, _stringize(args[val]), hs, line, col, True)]
            if paste:
                paste = False
                while res and res[-1].kind == WS:
                    res.pop()
                lhs = res.pop() if res else Tok(PLACEMARKER, "", hs, line, col, True)
                rhs = new[0]
                if kind == B_RAW and val == va_index and lhs.text == ",":
                    # GNU: , ## __VA_ARGS__ drops the comma when nothing is passed
                    if rhs.kind == PLACEMARKER:
                        while res and res[-1].kind == WS:
                            res.pop()
                    else:
                        res.append(lhs)
                        res.extend(new)
                    continue
                res.extend(self._paste(lhs, rhs, hs))
                res.extend(new[1:])
            else:
                res.extend(new)
        return [t for t in res if t.kind != PLACEMARKER]

    @staticmethod
    def _paste(lhs: Tok, rhs: Tok, hs: frozenset[str]) -> list[Tok]:
        if lhs.kind == PLACEMARKER:
            return [rhs]
        if rhs.kind == PLACEMARKER:
            return [lhs]
        toks, _ = _lex(lhs.text + rhs.text)
        return [Tok(k, tx, hs, lhs.line, lhs.col, True) for k, tx, _ in toks]

    # --- positions --------------------------------------------------------------------

    @staticmethod
    def _tok_span(t: Tok | None, where: Span | None) -> Span | None:
        if t is None or where is None:
            return where
        n = max(len(t.text), 1) if "\n" not in t.text else 1
        return Span(where.file, t.line, t.col, t.line, t.col + n, where.included_from)

    def _point(self, t: Tok, rfile: str) -> Span | None:
        if not self.frames:
            return None
        return Span(rfile, t.line, t.col, t.line, t.col + max(len(t.text), 1), self.frames[-1].inc)

    # --- files ------------------------------------------------------------------------

    def read(self, path: str, site: Span | None) -> tuple[str, str] | None:
        """Read a file (cached by realpath): returns (text, realpath) or None after a report."""
        try:
            real = os.path.realpath(path)
        except (OSError, ValueError):
            real = path
        text = self._cache.get(real)
        if text is None:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                self.report(E.PP_READ_ERROR, site, path=path, reason=reason)
                return None
            # Invalid UTF-8 becomes U+FFFD; the lexer rejects it outside comments.
            text = data.decode("utf-8", "replace")
            if text.startswith("\ufeff"):
                text = text[1:]
            self._cache[real] = text
        self.diags.sources.add(path, text)
        if real not in self._dep_seen:
            self._dep_seen.add(real)
            self.dependencies.append(path)
        return text, real

    def push_file(self, path: str, real: str, text: str, inc: Span | None) -> None:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        f = _Frame(path, real, os.path.dirname(path), lines, inc, rfile=path)
        self.frames.append(f)
        self.linemap._chunk(len(self.out) + 1, path, 1, inc)

    # --- the main loop ----------------------------------------------------------------

    def run(self) -> None:
        while self.frames:
            f = self.frames[-1]
            if self._scan(f):
                continue  # an #include pushed a new frame
            self._finish(f)
            self.frames.pop()
            if self.frames:
                p = self.frames[-1]
                self.linemap._chunk(len(self.out) + 1, p.rfile, p.i + 1 + p.delta, p.inc)

    def _finish(self, f: _Frame) -> None:
        if f.in_comment:
            k = f.comment_line
            line = f.lines[k] if k < len(f.lines) else ""
            col = _open_comment_col(line)
            span = Span(f.rfile, k + 1 + f.delta, col, k + 1 + f.delta, col + 2, f.inc)
            self.report(E.PP_UNTERMINATED_COMMENT, span)
        for c in f.conds[:MAX_OPEN_CONDITIONAL_REPORTS]:
            self.report(E.PP_UNTERMINATED_CONDITIONAL, c.span, directive=c.name)
        if f.guard_state == 2:
            self.guards[f.real] = f.guard_name

    def _scan(self, f: _Frame) -> bool:
        """Process lines of ``f`` until it ends (False) or an #include pushes a frame (True)."""
        lines = f.lines
        n = len(lines)
        i = f.i
        out = self.out
        append = out.append
        in_comment = f.in_comment
        active = f.active
        mre = self.macro_re()
        watch = f.guard_state in (0, 2)
        while i < n:
            line = lines[i]
            if in_comment:
                if "*/" not in line:
                    append(line if active else "")
                    i += 1
                    continue
            elif "#" in line and line.lstrip(" \t\f\v\r")[:1] == "#":
                f.i = i
                f.in_comment = False
                pushed = self._directive(f)
                i = f.i
                in_comment = f.in_comment
                active = f.active
                mre = self.macro_re()
                watch = f.guard_state in (0, 2)
                if pushed:
                    return True
                continue
            if not active:
                if in_comment or "/*" in line:
                    was = in_comment
                    in_comment = _ends_in_comment(line, in_comment)
                    if in_comment and not was:
                        f.comment_line = i
                append("")
                i += 1
                continue
            if watch and _has_code(line, in_comment):
                f.guard_state = -1
                watch = False
            if mre is not None and mre.search(line):
                f.i = i
                f.in_comment = in_comment
                self._expand_line(f)
                i = f.i
                in_comment = f.in_comment
                continue
            if in_comment or "/*" in line:
                was = in_comment
                in_comment = _ends_in_comment(line, in_comment)
                if in_comment and not was:
                    f.comment_line = i
            append(line)
            i += 1
        f.i = i
        f.in_comment = in_comment
        return False

    # --- macro expansion of text lines ------------------------------------------------

    def _line_toks(
        self, f: _Frame, start: int, text: str, in_comment: bool
    ) -> tuple[list[Tok], bool]:
        raw, ends_open = _lex(text, in_comment)
        base = start + 1 + f.delta
        toks: list[Tok] = []
        if "\n" not in text:
            for kind, tx, off in raw:
                toks.append(Tok(kind, tx, _EMPTY, base, off + 1, False))
            return toks, ends_open
        starts = [0]
        nl = text.find("\n")
        while nl >= 0:
            starts.append(nl + 1)
            nl = text.find("\n", nl + 1)
        for kind, tx, off in raw:
            k = bisect_right(starts, off) - 1
            toks.append(Tok(kind, tx, _EMPTY, base + k, off - starts[k] + 1, False))
        return toks, ends_open

    def _expand_line(self, f: _Frame) -> None:
        lines = f.lines
        start = f.i
        in_comment = f.in_comment
        text = lines[start]
        count = 1
        work0 = self.work
        while True:
            toks, ends_open = self._line_toks(f, start, text, in_comment)
            self._pending = []
            try:
                res = self.expand(toks, 0, 1, f.rfile)
            except _NeedMore:
                self.work = work0
                nxt = start + count
                if (
                    count < MAX_ARG_LINES
                    and nxt < len(lines)
                    and (ends_open or lines[nxt].lstrip(" \t\f\v\r")[:1] != "#")
                ):
                    text += "\n" + lines[nxt]
                    count += 1
                    self._pending = None
                    continue
                self._pending = []
                res = self.expand(toks, 0, 2, f.rfile)
            finally:
                pending, self._pending = self._pending, None
            for defn, span, args in pending or ():
                self.diags.report(defn, span, notes=None, **args)
            break
        out = self.out
        if not any(t.exp for t in res):
            out.extend(lines[start : start + count])
        else:
            out_line = len(out) + 1
            rendered, cols, segs = _render(res, count > 1)
            out.append(rendered)
            out.extend([""] * (count - 1))
            self.linemap._segs[out_line] = (cols, segs)
        if ends_open:
            f.comment_line = start + count - 1
        f.in_comment = ends_open
        f.i = start + count

    # --- directives -------------------------------------------------------------------

    def _directive(self, f: _Frame) -> bool:
        lines = f.lines
        n = len(lines)
        first = f.i
        parts: list[str] = []
        starts: list[int] = []
        j = first
        total = 0
        while True:
            ln = lines[j]
            if ln.endswith("\r"):
                ln = ln[:-1]
            starts.append(total)
            if ln.endswith("\\") and j + 1 < n:
                parts.append(ln[:-1])
                total += len(ln) - 1
                j += 1
                continue
            parts.append(ln)
            break
        last = j
        joined = "".join(parts)
        raw, ends_open = _lex(joined)
        delta = f.delta + 1 + first
        toks: list[Tok] = []
        if last == first:
            for kind, tx, off in raw:
                toks.append(Tok(kind, tx, _EMPTY, delta, off + 1, False))
        else:
            for kind, tx, off in raw:
                k = bisect_right(starts, off) - 1
                toks.append(Tok(kind, tx, _EMPTY, delta + k, off - starts[k] + 1, False))
        sig = [t for t in toks if t.kind > COMMENT]
        # sig[0] is '#'
        f.i = last + 1
        nlines = last - first + 1
        hash_tok = sig[0]
        name_tok = sig[1] if len(sig) > 1 else None
        name = name_tok.text if name_tok is not None else ""
        where = Span(f.rfile, hash_tok.line, hash_tok.col, hash_tok.line, hash_tok.col + 1, f.inc)
        end_tok = sig[-1]
        dspan = Span(
            f.rfile,
            hash_tok.line,
            hash_tok.col,
            end_tok.line,
            end_tok.col + len(end_tok.text),
            f.inc,
        )
        out_line = len(self.out) + 1
        pushed = False
        old_pos = (f.rfile, f.delta)
        if f.guard_state in (0, 2) and f.active:
            self._guard_check(f, name, sig)
        if not f.active and name not in _CONDITIONALS:
            pass
        elif name_tok is None:
            pass  # the null directive
        elif name_tok.kind == IDENT:
            rest = sig[2:]
            nspan = self._tok_span(name_tok, where)
            if name in _CONDITIONALS:
                self._conditional(f, name, rest, nspan, where)
            elif name == "define":
                k = toks.index(name_tok) + 1
                got = self.parse_define(toks, k, name_tok, where)
                if got is not None:
                    self.define(got[0], got[1])
            elif name == "undef":
                if not rest or rest[0].kind != IDENT:
                    self.report(
                        E.PP_BAD_DEFINE,
                        self._tok_span(rest[0] if rest else name_tok, where),
                        detail="#undef needs a macro name",
                    )
                else:
                    self.undefine(rest[0].text)
            elif name == "include":
                pushed = self._include(f, name_tok, rest, toks, dspan, where)
            elif name == "pragma":
                self._pragma(f, name_tok, toks, out_line, where, hash_tok)
            elif name == "error":
                self.report(E.PP_ERROR_DIRECTIVE, nspan, text=_rest_text(toks, name_tok))
            elif name == "warning":
                self.report(E.W_WARNING_DIRECTIVE, nspan, text=_rest_text(toks, name_tok))
            elif name == "line":
                self._line(f, rest, nspan, where, last)
            else:
                self.report(E.PP_UNKNOWN_DIRECTIVE, nspan, name=name)
        elif name_tok.kind == NUM:
            self._line(f, sig[1:], self._tok_span(name_tok, where), where, last)  # "# 33 file"
        else:
            self.report(E.PP_UNKNOWN_DIRECTIVE, self._tok_span(name_tok, where), name=name)
        # output: the directive's lines become empty, unless it opens a comment that stays
        # visible (active code follows), in which case the comment text is kept in place
        if ends_open and f.active:
            ctok = toks[-1]
            k = ctok.line - delta + first  # physical line of the comment start
            for p in range(first, last + 1):
                if p < k:
                    self.out.append("")
                elif p == k:
                    ln = lines[p]
                    self.out.append(" " * (ctok.col - 1) + ln[ctok.col - 1 :])
                else:
                    self.out.append(lines[p])
            f.comment_line = k
        else:
            self.out.extend([""] * nlines)
            if ends_open:
                f.comment_line = last
        f.in_comment = ends_open
        if (f.rfile, f.delta) != old_pos:  # after #line
            self.linemap._chunk(len(self.out) + 1, f.rfile, f.i + 1 + f.delta, f.inc)
        if pushed:
            # the included file's lines come after the directive's (empty) lines
            inc = self.frames[-1]
            self.linemap._chunk(len(self.out) + 1, inc.path, 1, inc.inc)
        return pushed

    def _guard_check(self, f: _Frame, name: str, sig: list[Tok]) -> None:
        if f.guard_state == 0 and not f.conds:
            texts = [t.text for t in sig[2:]]
            guard = ""
            if name == "ifndef" and len(texts) == 1 and sig[2].kind == IDENT:
                guard = texts[0]
            elif name == "if" and len(texts) == 3 and texts[:2] == ["!", "defined"]:
                guard = texts[2]
            elif name == "if" and len(texts) == 5 and texts[:3] == ["!", "defined", "("]:
                guard = texts[3] if texts[4] == ")" else ""
            if guard:
                f.guard_state = 1
                f.guard_name = guard
                return
        f.guard_state = -1

    def _conditional(
        self, f: _Frame, name: str, rest: list[Tok], nspan: Span | None, where: Span
    ) -> None:
        conds = f.conds
        span = nspan or where
        if name in ("if", "ifdef", "ifndef"):
            if not f.active:
                conds.append(_Cond(False, True, False, False, span, name))
                return
            if name == "if":
                val = self._eval_if(f, rest, name, span, where)
            elif not rest or rest[0].kind != IDENT:
                self.report(
                    E.PP_BAD_EXPRESSION,
                    self._tok_span(rest[0], where) if rest else span,
                    directive=name,
                    detail="expected a macro name",
                )
                val = False
            else:
                val = (rest[0].text in self.macros) == (name == "ifdef")
            conds.append(_Cond(True, val, False, val, span, name))
            f.active = val
            return
        if not conds:
            self.report(E.PP_UNMATCHED_DIRECTIVE, span, directive=name)
            return
        c = conds[-1]
        if name == "endif":
            conds.pop()
            if f.guard_state == 1 and not conds:
                f.guard_state = 2
            f.active = c.parent_active
            return
        if f.guard_state == 1 and len(conds) == 1:
            f.guard_state = -1
        if c.else_seen:
            self.report(E.PP_ELSE_AFTER_ELSE, span, directive=name)
            c.active = False
            f.active = False
            return
        if name == "else":
            c.else_seen = True
            c.active = c.parent_active and not c.taken
            c.taken = True
        else:  # elif
            if c.taken or not c.parent_active:
                c.active = False
            else:
                c.active = self._eval_if(f, rest, name, span, where)
                c.taken = c.active
        f.active = c.active

    def _eval_if(self, f: _Frame, rest: list[Tok], directive: str, span: Span, where: Span) -> bool:
        if not rest:
            self.report(E.PP_BAD_EXPRESSION, span, directive=directive, detail="missing expression")
            return False
        try:
            seq: list[Tok] = []
            k = 0
            n = len(rest)
            while k < n:
                t = rest[k]
                if t.kind == IDENT and t.text == "defined":
                    k, val = _defined_operand(rest, k, self.macros)
                    seq.append(Tok(NUM, "1" if val else "0", _EMPTY, t.line, t.col, False))
                    continue
                seq.append(t)
                k += 1
            expanded = [t for t in self.expand(seq, 0, 2, f.rfile) if t.kind > COMMENT]
            value = _Evaluator(expanded, self.macros).run()
        except _ExprError as exc:
            self.report(
                E.PP_BAD_EXPRESSION,
                self._tok_span(exc.tok, where) if exc.tok is not None else span,
                directive=directive,
                detail=exc.detail,
            )
            return False
        return value != 0

    def _include(
        self, f: _Frame, name_tok: Tok, rest: list[Tok], toks: list[Tok], dspan: Span, where: Span
    ) -> bool:
        if not rest:
            self.report(
                E.PP_BAD_INCLUDE, self._tok_span(name_tok, where), detail="missing file name"
            )
            return False
        arg = rest[0]
        aspan = self._tok_span(arg, where)
        text = "".join(t.text for t in toks[toks.index(arg) :]).strip()
        if text[0] not in '"<':
            expanded = self.expand(rest, 0, 2, f.rfile)
            text = "".join(t.text for t in expanded).strip()
        if text.startswith('"'):
            end = text.find('"', 1)
            quoted = True
        elif text.startswith("<"):
            end = text.find(">", 1)
            quoted = False
        else:
            end = -1
            quoted = False
        if end < 0:
            self.report(E.PP_BAD_INCLUDE, aspan, detail='expected "file" or <file>')
            return False
        fname = text[1:end]
        if aspan is not None and arg.kind != IDENT:  # cover the whole "name" or <name>
            aspan = Span(
                aspan.file, arg.line, arg.col, arg.line, arg.col + end + 1, aspan.included_from
            )
        if not fname:
            self.report(E.PP_BAD_INCLUDE, aspan, detail="empty file name")
            return False
        if self.includes_disabled:
            return False
        if len(self.frames) >= MAX_INCLUDE_DEPTH:
            self.report(E.PP_INCLUDE_DEPTH, aspan, limit=MAX_INCLUDE_DEPTH)
            self.includes_disabled = True
            return False
        found = None
        if os.path.isabs(fname):
            if os.path.isfile(fname):
                found = fname
        else:
            dirs = ([f.dir] if quoted else []) + self.include_dirs
            for d in dirs:
                cand = os.path.join(d, fname) if d and d != "." else fname
                if os.path.isfile(cand):
                    found = cand
                    break
        if found is None:
            self.report(E.PP_INCLUDE_NOT_FOUND, aspan, name=fname)
            return False
        try:
            real = os.path.realpath(found)
        except (OSError, ValueError):
            real = found
        if real in self.once:
            return False
        guard = self.guards.get(real)
        if guard is not None and guard in self.macros:
            return False
        got = self.read(found, dspan)
        if got is None:
            return False
        lines = got[0].split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.frames.append(_Frame(found, real, os.path.dirname(found), lines, dspan, rfile=found))
        return True

    def _line(self, f: _Frame, rest: list[Tok], nspan: Span | None, where: Span, last: int) -> None:
        toks = [t for t in self.expand(rest, 0, 2, f.rfile) if t.kind > COMMENT]
        if not toks or toks[0].kind != NUM or not toks[0].text.isdigit():
            bad = toks[0] if toks else None
            self.report(
                E.PP_BAD_LINE,
                self._tok_span(bad, where) if bad else nspan,
                detail="expected a line number",
            )
            return
        # a length test first: int() refuses (slowly) texts of more than 4300 digits
        text = toks[0].text.lstrip("0") or "0"
        num = int(text) if len(text) <= 10 else 2**31
        if num > 2147483647:
            self.report(
                E.PP_BAD_LINE, self._tok_span(toks[0], where), detail="line number out of range"
            )
            return
        if len(toks) > 1:
            if toks[1].kind != STR or not toks[1].text.endswith('"') or len(toks[1].text) < 2:
                self.report(
                    E.PP_BAD_LINE, self._tok_span(toks[1], where), detail="expected a file name"
                )
                return
            f.rfile = _unquote(toks[1].text)
        # the next physical line (last + 1) is reported as line num
        f.delta = num - (last + 2)

    def _pragma(
        self, f: _Frame, name_tok: Tok, toks: list[Tok], out_line: int, where: Span, hash_tok: Tok
    ) -> None:
        k = toks.index(name_tok) + 1
        body = toks[k:]
        text = "".join(" " if t.kind == COMMENT else t.text for t in body).strip()
        sig = [t for t in body if t.kind > COMMENT]
        if not text:
            return
        split = text.split(None, 1)
        word = split[0]
        args = split[1].strip() if len(split) > 1 else ""
        word_span = self._tok_span(sig[0], where) if sig else where
        if word == "once":
            self.once.add(f.real)
            return
        end = sig[-1]
        span = Span(f.rfile, hash_tok.line, hash_tok.col, end.line, end.col + len(end.text), f.inc)
        shape = _PRAGMA_SHAPES.get(word)
        if shape is not None:
            regex, detail = shape
            if not args or regex.match(args) is None:
                after = (sig[0].line, sig[0].col + len(word))
                arg_tok = next((t for t in sig if (t.line, t.col) >= after), None)
                at = self._tok_span(arg_tok, where) if arg_tok is not None else word_span
                self.report(E.PP_BAD_PRAGMA, at, name=word, detail=detail)
                return
        else:
            self.report(E.W_UNKNOWN_PRAGMA, word_span, name=word)
        self.pragmas.append(Pragma(word, args, span, out_line))


def _rest_text(toks: list[Tok], after: Tok) -> str:
    k = toks.index(after) + 1
    return "".join(" " if t.kind == COMMENT else t.text for t in toks[k:]).strip()


def _stringize(arg: list[Tok]) -> str:
    parts: list[str] = []
    for t in arg:
        if t.kind <= COMMENT:
            if parts and parts[-1] != " ":
                parts.append(" ")
        elif t.kind in (STR, CHR):
            parts.append(t.text.replace("\\", "\\\\").replace('"', '\\"'))
        else:
            parts.append(t.text)
    return '"' + "".join(parts).strip() + '"'


def _render(res: list[Tok], multi: bool) -> tuple[str, list[int], list[tuple[int, int, bool]]]:
    """Concatenate tokens; record where each run of output columns comes from."""
    parts: list[str] = []
    cols: list[int] = []
    segs: list[tuple[int, int, bool]] = []
    out_col = 1
    expect = (0, 0)
    prev_text = ""
    prev_exp = False
    last_exp_key = (0, 0)
    for t in res:
        text = t.text
        if multi and "\n" in text:
            text = text.replace("\n", " ")
        if not text:
            continue
        if (t.exp or prev_exp) and prev_text and _pastes(prev_text[-1], text[0]):
            parts.append(" ")
            out_col += 1
        if t.exp:
            key = (t.line, t.col)
            if not prev_exp or key != last_exp_key:
                cols.append(out_col)
                segs.append((t.line, t.col, True))
                last_exp_key = key
            expect = (0, 0)
        else:
            if (t.line, t.col) != expect or prev_exp:
                cols.append(out_col)
                segs.append((t.line, t.col, False))
            expect = (t.line, t.col + len(text))
        parts.append(text)
        out_col += len(text)
        prev_text = text
        prev_exp = t.exp
    return "".join(parts), cols, segs


def _defined_operand(toks: list[Tok], k: int, macros: Mapping[str, _Macro]) -> tuple[int, bool]:
    """Parse ``defined X`` / ``defined ( X )`` at ``toks[k]``: (next index, is defined)."""
    n = len(toks)
    j = k + 1
    paren = j < n and toks[j].kind == PUNCT and toks[j].text == "("
    if paren:
        j += 1
    if j >= n or toks[j].kind != IDENT:
        raise _ExprError("'defined' needs a macro name", toks[j] if j < n else toks[k])
    val = toks[j].text in macros
    j += 1
    if paren:
        if j >= n or toks[j].text != ")":
            raise _ExprError("missing ')' after 'defined'", toks[j] if j < n else toks[k])
        j += 1
    return j, val


_BINARY_PREC = {
    "*": 10,
    "/": 10,
    "%": 10,
    "+": 9,
    "-": 9,
    "<<": 8,
    ">>": 8,
    "<": 7,
    ">": 7,
    "<=": 7,
    ">=": 7,
    "==": 6,
    "!=": 6,
    "&": 5,
    "^": 4,
    "|": 3,
    "&&": 2,
    "||": 1,
}

Value = tuple[int, bool]  # (value, unsigned)


def _wrap(v: int, unsigned: bool) -> Value:
    v &= _MASK64
    if not unsigned and v >= 1 << 63:
        v -= 1 << 64
    return v, unsigned


class _Evaluator:
    """#if expressions over 64-bit integers with C's usual arithmetic conversions."""

    def __init__(self, toks: list[Tok], macros: Mapping[str, _Macro]) -> None:
        self.toks = toks
        self.macros = macros
        self.i = 0
        self.depth = 0
        self.skip = 0  # > 0 inside an operand that is not evaluated (&&, ||, ?:)

    def run(self) -> int:
        v = self.ternary()
        if self.i < len(self.toks):
            t = self.toks[self.i]
            raise _ExprError(f"unexpected '{t.text}'", t)
        return v[0]

    def _peek(self) -> str:
        if self.i < len(self.toks):
            t = self.toks[self.i]
            if t.kind == PUNCT:
                return t.text
        return ""

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXPR_DEPTH:
            t = self.toks[min(self.i, len(self.toks) - 1)]
            raise _ExprError("expression nested too deeply", t)

    def ternary(self) -> Value:
        self._enter()
        cond = self.binary(1)
        if self._peek() == "?":
            self.i += 1
            taken = cond[0] != 0
            self.skip += not taken
            a = self.ternary()
            self.skip -= not taken
            if self._peek() != ":":
                raise _ExprError("expected ':'", self._cur())
            self.i += 1
            self.skip += taken
            b = self.ternary()
            self.skip -= taken
            unsigned = a[1] or b[1]
            cond = _wrap(a[0] if taken else b[0], unsigned)
        self.depth -= 1
        return cond

    def _cur(self) -> Tok | None:
        if self.i < len(self.toks):
            return self.toks[self.i]
        return self.toks[-1] if self.toks else None

    def binary(self, min_prec: int) -> Value:
        self._enter()
        lhs = self.unary()
        while True:
            op = self._peek()
            prec = _BINARY_PREC.get(op)
            if prec is None or prec < min_prec:
                break
            optok = self.toks[self.i]
            self.i += 1
            if op == "&&" or op == "||":
                short = (lhs[0] == 0) if op == "&&" else (lhs[0] != 0)
                self.skip += short
                rhs = self.binary(prec + 1)
                self.skip -= short
                if op == "&&":
                    lhs = (int(lhs[0] != 0 and rhs[0] != 0), False)
                else:
                    lhs = (int(lhs[0] != 0 or rhs[0] != 0), False)
            else:
                rhs = self.binary(prec + 1)
                lhs = self._apply(op, lhs, rhs, optok)
        self.depth -= 1
        return lhs

    def unary(self) -> Value:
        ops: list[str] = []
        while self._peek() in ("+", "-", "!", "~"):
            ops.append(self.toks[self.i].text)
            self.i += 1
        v = self.primary()
        for op in reversed(ops):
            x, u = v
            if op == "-":
                v = _wrap(-x, u)
            elif op == "~":
                v = _wrap(~x, u)
            elif op == "!":
                v = (int(x == 0), False)
        return v

    def primary(self) -> Value:
        if self.i >= len(self.toks):
            raise _ExprError("missing operand", self._cur())
        t = self.toks[self.i]
        self.i += 1
        if t.kind == NUM:
            return _parse_int(t)
        if t.kind == CHR:
            return _parse_char(t)
        if t.kind == IDENT:
            if t.text == "defined":
                self.i, val = _defined_operand(self.toks, self.i - 1, self.macros)
                return int(val), False
            return 0, False  # an identifier that is not a macro is 0
        if t.kind == PUNCT and t.text == "(":
            v = self.ternary()
            if self._peek() != ")":
                raise _ExprError("expected ')'", self._cur())
            self.i += 1
            return v
        if t.kind == STR:
            raise _ExprError("string literal in expression", t)
        raise _ExprError(f"unexpected '{t.text}'", t)

    def _apply(self, op: str, a: Value, b: Value, tok: Tok) -> Value:
        x, ux = a
        y, uy = b
        if op in ("<<", ">>"):
            if y < 0 and not uy:
                op = ">>" if op == "<<" else "<<"
                y = -y
            if op == "<<":
                return _wrap(x << y, ux) if y < 64 else (0, ux)
            if ux:
                x &= _MASK64
            return _wrap(x >> min(y, 64), ux)
        u = ux or uy
        if u:
            x &= _MASK64
            y &= _MASK64
        if op in ("/", "%"):
            if y == 0:
                if self.skip:
                    return 0, u
                raise _ExprError("division by zero", tok)
            q = abs(x) // abs(y)
            if (x < 0) != (y < 0):
                q = -q
            return _wrap(q if op == "/" else x - q * y, u)
        if op == "*":
            return _wrap(x * y, u)
        if op == "+":
            return _wrap(x + y, u)
        if op == "-":
            return _wrap(x - y, u)
        if op == "&":
            return _wrap(x & y, u)
        if op == "^":
            return _wrap(x ^ y, u)
        if op == "|":
            return _wrap(x | y, u)
        r = {
            "<": x < y,
            ">": x > y,
            "<=": x <= y,
            ">=": x >= y,
            "==": x == y,
            "!=": x != y,
        }[op]
        return int(r), False


def _clip(text: str) -> str:
    """A token for a message: a 5000-digit number is shown by its start."""
    return text if len(text) <= 40 else f"{text[:32]}... ({len(text)} characters)"


def _parse_int(t: Tok) -> Value:
    m = _INT_RE.match(t.text)
    if m is None or m.group(2).lower() not in _INT_SUFFIXES:
        raise _ExprError(f"invalid integer constant '{_clip(t.text)}'", t)
    digits = m.group(1)
    try:
        if digits[:2] in ("0x", "0X"):
            v = int(digits[2:], 16)
        elif digits[:2] in ("0b", "0B"):
            v = int(digits[2:], 2)
        elif digits.startswith("0") and len(digits) > 1:
            v = int(digits, 8)
        else:
            v = int(digits)
    except ValueError:
        raise _ExprError(f"invalid integer constant '{_clip(t.text)}'", t) from None
    if v > _MASK64:
        raise _ExprError(f"integer constant '{_clip(t.text)}' is too large", t)
    unsigned = "u" in m.group(2).lower() or v >= 1 << 63
    return v, unsigned


def _parse_char(t: Tok) -> Value:
    text = t.text
    if len(text) < 3 or not text.endswith("'"):
        raise _ExprError("malformed character constant", t)
    body = text[1:-1]
    vals: list[int] = []
    k = 0
    while k < len(body):
        c = body[k]
        if c != "\\":
            vals.append(ord(c))
            k += 1
            continue
        k += 1
        if k >= len(body):
            raise _ExprError("malformed character constant", t)
        c = body[k]
        if c == "x":
            m = _HEX_DIGITS.match(body, k + 1)
            if m is None:
                raise _ExprError("malformed character constant", t)
            vals.append(int(m.group(), 16) & 0xFF)
            k += 1 + len(m.group())
        elif c in "01234567":
            m2 = _OCT_DIGITS.match(body, k)
            assert m2 is not None
            vals.append(int(m2.group(), 8) & 0xFF)
            k += len(m2.group())
        else:
            vals.append(_ESCAPES.get(c, ord(c)))
            k += 1
    v = 0
    for x in vals:
        v = (v << 8) | (x & 0xFF if len(vals) > 1 else x)
    if len(vals) == 1 and vals[0] < 256 and vals[0] >= 128:
        v = vals[0] - 256  # char is signed, as with gcc on x86
    return _wrap(v, False)


# --- entry point ----------------------------------------------------------------------


def preprocess(
    path: str,
    diags: Diagnostics,
    *,
    include_dirs: Sequence[str] = (),
    defines: Mapping[str, str] = {},  # read only
    undefines: Sequence[str] = (),
    text: str | None = None,
) -> PreprocessResult:
    """Preprocess ``path`` (or ``text``, reported as ``path``) into text for the lexer.

    ``defines`` maps ``-D`` names (``F(x)`` allowed) to their replacement text, taken
    verbatim (see :func:`parse_define_option`); ``undefines`` are applied after them.
    """
    pp = _Preprocessor(diags, include_dirs)
    pp.macros[PREDEFINED_MACRO] = _Macro(
        PREDEFINED_MACRO, None, False, ((B_TOK, str(PREDEFINED_VALUE), NUM),), None
    )
    for special in ("__FILE__", "__LINE__"):
        pp.macros[special] = _Macro(special, None, False, (), None, special)
    for name, value in defines.items():
        raw, _ = _lex(f"{name} {value}")
        toks = [Tok(k, tx, _EMPTY, 1, off + 1, False) for k, tx, off in raw]
        got = pp.parse_define(toks, 0, None, None)
        if got is not None:
            pp.define(got[0], None)
    for name in undefines:
        pp.undefine(name)
    if text is None:
        got_file = pp.read(path, None)
        if got_file is None:
            return PreprocessResult("", pp.linemap, [], pp.dependencies)
        text, real = got_file
    else:
        if text.startswith("\ufeff"):
            text = text[1:]
        diags.sources.add(path, text)
        try:
            real = os.path.realpath(path)
        except (OSError, ValueError):
            real = path
        pp._dep_seen.add(real)
        pp.dependencies.append(path)
    pp.push_file(path, real, text, None)
    # Expansion makes many small tracked objects and no cycles: the cyclic GC would only
    # rescan them over and over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pp.run()
    finally:
        if gc_was_enabled:
            gc.enable()
    out = pp.out
    result = "\n".join(out) + "\n" if out else ""
    return PreprocessResult(result, pp.linemap, pp.pragmas, pp.dependencies)
