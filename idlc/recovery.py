"""Syntax error recovery: one error for one mistake (issue 14 item 4).

At its first syntax error the parser hands over here and stops building the tree: the
file is parsed again from the start by the bare automaton (states only, no values), so
nothing that the tree builder would say about broken text is reported, and only syntax
errors are looked for. Each error is repaired by the single-token change that carries
the parse furthest over the next WINDOW tokens, a local repair in the manner of
Burke and Fisher: insert a token, delete the unexpected one, replace it, swap it with the
next, or change the token before it (a mistake is often seen one token late, as in
`String<128>`). The message names the repair where that helps: a missing `;` is
reported just after the token it should follow (E0110), a misspelled keyword with "did
you mean" (E0111). Without a repair that carries the parse some way, panic mode: skip
past the next `;` or `}` and drop states until one takes the token after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from idlc import errcodes as E
from idlc.angles import shr_is_operator
from idlc.diagnostics import Diagnostics
from idlc.errcodes import Severity
from idlc.grammar import _tables as T
from idlc.lexer import RawToken
from idlc.parser import (
    BAD,
    MAX_SYNTAX_ERRORS,
    Parser,
    SyntaxFailure,
    describe,
    expected,
    found,
    terminal,
)
from idlc.suggest import closest

WINDOW = 8  # tokens after an error that every candidate repair is tried on
HORIZON = 400  # tokens that the best few (FINALISTS) are tried on
FINALISTS = 12
MIN_ADVANCE = 3  # a repair that parses fewer is no better than panic mode
QUIET = 3  # tokens shifted after panic mode before errors are reported again

_END = "$END"
_GT = T.LITERALS[">"]
_SHR = T.LITERALS[">>"]
_KEYWORD_TYPES = frozenset(v for k, v in T.LITERALS.items() if k[:1].isalpha())
_TEXT = {v: k for k, v in T.LITERALS.items()}
_KEYWORD_TEXT = {v: k for k, v in T.LITERALS.items() if k[:1].isalpha()}
# A stand-in token for each terminal a repair may insert.
_PATTERN_TOKENS = {
    "IDENTIFIER": ("id", "_"),
    "INTEGER": ("num", "1"),
    "FLOATING": ("num", "1.0"),
    "FIXED": ("num", "1d"),
    "STRING": ("str", '""'),
    "WSTRING": ("str", 'L""'),
    "CHAR": ("chr", "'a'"),
    "WCHAR": ("chr", "L'a'"),
}
_ACCEPT = 1 << 30  # a repair that reaches the end of the file

# Terminals whose insertion is a guess rather than a plain omission: keywords, literals,
# and an annotation (after which almost anything parses).
_GUESSES = frozenset(
    [
        *_KEYWORD_TEXT,
        *(t for t in _PATTERN_TOKENS if t != "IDENTIFIER"),
        T.LITERALS["@"],
        T.LITERALS["@annotation"],
    ]
)

# Repair kinds, best first among repairs that parse equally far.
INSERT, DELETE, RESPELL, SWAP, REPLACE, INSERT_WORD, BEFORE = range(7)


class Repair(NamedTuple):
    rank: int
    at_prev: bool  # the change is at the token before the error
    tokens: tuple[RawToken, ...]  # what stands in the window's first `skip` tokens
    skip: int


def step(stack: list[int], ttype: str) -> int:
    """Shift one terminal on stack, in place: 1 shifted, 0 a syntax error (stack holds
    the state after the reductions), 2 accepted."""
    states = T.STATES
    while True:
        actions = states[stack[-1]]
        action = actions.get(ttype)
        if action is None:
            return 0
        if action >= 0:
            stack.append(action)
            return 1
        _, origin, size, _, _ = T.RULES[-1 - action]
        if size:
            del stack[-size:]
        goto = states[stack[-1]][origin]
        stack.append(goto)
        if goto == T.END_STATE and ttype == _END:
            return 2
        after = states[goto]
        if ttype in _KEYWORD_TYPES and ttype not in after and "IDENTIFIER" in after:
            ttype = "IDENTIFIER"  # as the parser does: a keyword no longer possible here


def feed(stack: list[int], raw: RawToken) -> int:
    """step() for a raw token, classified in the state it meets."""
    return step(stack, terminal(raw, T.STATES[stack[-1]]))


def _token(term: str, line: int, col: int) -> RawToken:
    text = _TEXT.get(term)
    if text is not None:
        return RawToken("id" if text[:1].isalpha() else "punct", text, line, col)
    kind, text = _PATTERN_TOKENS[term]
    return RawToken(kind, text, line, col)


def _insertable(actions: dict[str, int]) -> list[str]:
    return [t for t in actions if t in _TEXT or t in _PATTERN_TOKENS]


class _Stream:
    """The parser's raw tokens with lookahead; `>>` is split into two `>` where the
    parser would split it (that depends on the state and on what follows: idlc.angles)."""

    def __init__(self, tokens: Iterator[RawToken]) -> None:
        self.tokens = tokens
        self.buf: list[RawToken] = []

    def peek(self, n: int) -> list[RawToken]:
        """Up to n tokens, fewer only after the end of input."""
        buf = self.buf
        while len(buf) < n and not (buf and buf[-1].kind == "eof"):
            buf.append(next(self.tokens))
        return buf[:n]

    def after(self, i: int) -> RawToken | None:
        """The i-th token after the head, None after the end of input."""
        buf = self.peek(i + 2)
        return buf[i + 1] if len(buf) > i + 1 else None

    def head(self) -> RawToken:
        return self.peek(1)[0]

    def split(self) -> None:
        """Replace a `>>` at the head by two `>`."""
        raw = self.buf[0]
        self.buf[0:1] = [
            RawToken("punct", ">", raw.line, raw.col),
            RawToken("punct", ">", raw.line, raw.col + 1),
        ]

    def drop(self, n: int) -> None:
        self.peek(n)
        del self.buf[:n]


def _after(tokens: list[RawToken], j: int) -> Callable[[int], RawToken | None]:
    """peek() for shr_is_operator: the i-th token after tokens[j], None past the list."""

    def peek(i: int) -> RawToken | None:
        k = j + 1 + i
        return tokens[k] if k < len(tokens) else None

    return peek


def _reach(stack: list[int], repair: Repair, window: list[RawToken], start: int) -> int:
    """How far (an index into the token stream) the parse gets with the repair in place;
    window holds the tokens from index start."""
    stack = list(stack)
    for raw in repair.tokens:
        if feed(stack, raw) != 1:
            return -1
    pos = start + repair.skip
    for j in range(repair.skip, len(window)):
        raw = window[j]
        if raw.kind not in ("id", "num", "str", "chr", "punct", "eof"):
            break  # a lexical error ends what the lookahead can tell
        actions = T.STATES[stack[-1]]
        ttype = terminal(raw, actions)
        if ttype == _SHR and _GT in actions and not shr_is_operator(stack, _after(window, j)):
            result = step(stack, _GT)
            if result == 1:
                result = step(stack, _GT)
        else:
            result = step(stack, ttype)
        if result == 2:
            return _ACCEPT
        if result == 0:
            break
        pos += 1
    return pos


class Recovery:
    def __init__(self, parser: Parser) -> None:
        self.p = parser
        self.diags: Diagnostics = parser.diags
        self.errors = 0

    def run(self, first: RawToken, first_state: int) -> None:
        """Parse from the start, reporting every syntax error; first and first_state are
        where the parser found its error (reported as it stands if the rerun disagrees)."""
        stream = _Stream(self.p.tokens(None))
        stack = [T.START_STATE]
        before: list[int] = stack
        before_prev: list[int] | None = None
        prev: RawToken | None = None
        index = 0  # of the head in the token stream
        quiet = 0
        while True:
            raw = stream.head()
            actions = T.STATES[stack[-1]]
            ttype = terminal(raw, actions)
            if ttype == BAD:
                self.p.lex_error(raw)  # fatal, as in the parser
            if ttype == _SHR and _GT in actions and not shr_is_operator(stack, stream.after):
                stream.split()
                raw = stream.head()
                ttype = _GT
            before = list(stack)
            result = step(stack, ttype)
            if result == 2:
                return
            if result == 1:
                stream.drop(1)
                index += 1
                before_prev, prev = before, raw
                if quiet:
                    quiet -= 1
                continue
            if self.errors == 0 and (raw.line, raw.col) != (first.line, first.col):
                # The rerun must meet the parser's error first; if not, say what it found.
                self._plain(first, first_state)
                return
            repair = self._choose(before, before_prev, prev, stream, index)
            if not quiet:
                self._report(raw, stack[-1], repair, prev)
                if self.errors >= MAX_SYNTAX_ERRORS:
                    return
            if repair is None:
                if raw.kind == "eof":
                    return
                quiet = QUIET
                index += self._panic(stack, stream)
                before_prev = prev = None
                continue
            assert prev is not None or not repair.at_prev
            base = before_prev if repair.at_prev and before_prev is not None else before
            stack = list(base)
            for tok in repair.tokens:
                feed(stack, tok)
            stream.drop(repair.skip - (1 if repair.at_prev else 0))
            index += repair.skip - (1 if repair.at_prev else 0)
            before_prev = None  # no second change to a token just repaired
            prev = repair.tokens[-1] if repair.tokens else prev

    # --- choosing a repair -------------------------------------------------------------
    def _choose(
        self,
        before: list[int],
        before_prev: list[int] | None,
        prev: RawToken | None,
        stream: _Stream,
        index: int,
    ) -> Repair | None:
        # Every candidate over a short window, then the best few over a long one: a
        # wrong repair (closing a struct at a stray `;`) often parses a few tokens.
        window = stream.peek(WINDOW)
        wider = [prev, *window] if before_prev is not None and prev is not None else []
        scored: list[tuple[int, int, Repair, list[int], int]] = []
        for repair in self._candidates(before, window, False):
            reach = _reach(before, repair, window, index)
            scored.append((reach, repair.rank, repair, before, index))
        if wider and before_prev is not None:
            for repair in self._candidates(before_prev, wider, True):
                reach = _reach(before_prev, repair, wider, index - 1)
                scored.append((reach, repair.rank, repair, before_prev, index - 1))
        if not scored:
            return None
        top = max(s[0] for s in scored)
        if top < index + min(MIN_ADVANCE, len(window)):
            return None
        finalists = sorted((s for s in scored if s[0] == top), key=lambda s: s[1])[:FINALISTS]
        if len(finalists) == 1 or top >= _ACCEPT:
            return finalists[0][2]
        far = stream.peek(HORIZON)
        best: tuple[int, int] | None = None
        chosen: Repair | None = None
        before_far = [prev] if prev is not None else []
        for _, rank, repair, stack, start in finalists:
            tokens = far if start == index else [*before_far, *far]
            reach = _reach(stack, repair, tokens, start)
            if best is None or (reach, -rank) > best:
                best, chosen = (reach, -rank), repair
        return chosen

    def _candidates(
        self, stack: list[int], window: list[RawToken], at_prev: bool
    ) -> Iterator[Repair]:
        """Every single-token change at window[0] (at_prev: the token before the error,
        window[1] being the one the error was found at)."""
        tok = window[0]
        actions = T.STATES[stack[-1]]
        terms = _insertable(actions)
        here = terminal(tok, actions)
        line, col = tok.line, tok.col
        word = closest(tok.text, [_KEYWORD_TEXT[t] for t in terms if t in _KEYWORD_TEXT])
        for term in terms:
            if at_prev:
                yield Repair(BEFORE, True, (_token(term, line, col), tok), 1)
            elif term in _GUESSES:
                yield Repair(INSERT_WORD, False, (_token(term, line, col),), 0)
            else:
                yield Repair(INSERT, False, (_token(term, line, col),), 0)
            if tok.kind != "eof" and term != here:
                respelled = (
                    word is not None and tok.kind == "id" and _KEYWORD_TEXT.get(term) == word
                )
                rank = RESPELL if respelled else BEFORE if at_prev else REPLACE
                yield Repair(rank, at_prev, (_token(term, line, col),), 1)
        if tok.kind != "eof":
            yield Repair(BEFORE if at_prev else DELETE, at_prev, (), 1)
            if len(window) > 1 and window[1].kind != "eof":
                yield Repair(SWAP, at_prev, (window[1], tok), 2)

    # --- reporting ---------------------------------------------------------------------
    def _report(
        self, tok: RawToken, state: int, repair: Repair | None, prev: RawToken | None
    ) -> None:
        self.errors += 1
        p = self.p
        if repair is not None and repair.at_prev and prev is not None:
            # The token before was misread (`String` as a name): what the tree builder
            # said of it is void.
            self._retract(p.span((prev.line, prev.col), len(prev.text)))
        if repair is not None and repair.rank == INSERT and prev is not None:
            inserted = repair.tokens[0]
            what = describe(terminal(inserted, {}) if inserted.kind != "id" else "IDENTIFIER")
            span = p.span((prev.line, prev.col + len(prev.text)), 1)
            p.diags.report(E.SYNTAX_MISSING_TOKEN, span, what=what, after=self._found(prev))
            return
        if repair is not None and repair.rank == RESPELL:
            target = repair.tokens[0]
            wrong = prev if repair.at_prev and prev is not None else tok
            span = p.span((wrong.line, wrong.col), len(wrong.text))
            p.diags.report(
                E.SYNTAX_MISSPELLED_KEYWORD,
                span,
                found=self._found(wrong),
                keyword=target.text,
            )
            return
        self._plain(tok, state)

    def _plain(self, tok: RawToken, state: int) -> None:
        p = self.p
        if tok.kind == "eof":
            p.diags.report(E.SYNTAX_UNEXPECTED_EOF, p.end_span(), expected=expected(state))
            return
        span = p.span((tok.line, tok.col), max(len(tok.text), 1))
        p.diags.report(
            E.SYNTAX_UNEXPECTED_TOKEN, span, found=self._found(tok), expected=expected(state)
        )

    @staticmethod
    def _found(tok: RawToken) -> str:
        # Classified as the parser would have where it stood; a word is a keyword if
        # it is one anywhere, which is what found() says of it.
        if not tok.type:
            tok.type = terminal(tok, {}) if tok.kind != "id" else "IDENTIFIER"
        return found(tok)

    def _retract(self, span: object) -> None:
        """Withdraw the warnings the tree builder gave the token now found misspelled
        (W0007 for `String`): the word was never meant as a name."""
        diags = self.diags
        kept = [d for d in diags.items if not (d.severity is Severity.WARNING and d.span == span)]
        diags.warning_count -= len(diags.items) - len(kept)
        diags.items = kept

    # --- panic mode ---------------------------------------------------------------------
    def _panic(self, stack: list[int], stream: _Stream) -> int:
        """Skip past the next `;` or `}`, then drop states until one takes the token
        after it; returns the number of tokens skipped."""
        skipped = 0
        while True:
            raw = stream.head()
            if raw.kind == "eof":
                raise SyntaxFailure
            stream.drop(1)
            skipped += 1
            if raw.kind == "punct" and raw.text in (";", "}"):
                break
        raw = stream.head()
        if raw.kind == "eof":
            raise SyntaxFailure
        while len(stack) > 1:
            if terminal(raw, T.STATES[stack[-1]]) in T.STATES[stack[-1]]:
                return skipped
            stack.pop()
        raise SyntaxFailure


def recover(parser: Parser, tok: RawToken, state: int) -> None:
    """Report the syntax errors of the parser's text, the first being tok's in state."""
    Recovery(parser).run(tok, state)
