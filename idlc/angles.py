"""What `>>` means where the grammar could take it either way.

`>>` is the shift operator of constant expressions and, in `sequence<sequence<long>>`, two
template closers. LALR(1) merges the states after an operand in a bound with those of
other expressions, so a `>` lookahead can appear possible where only the operator fits
(`const long X = 256 >> 4;`). The parser driver asks ``shr_is_operator`` whenever both
terminals are in its current state: each reading is run on a copy of the parser's state
stack, over the following tokens if needed, until one of them fails. When both read
through the declaration, `>>` closes templates, as in C++11.
"""

from __future__ import annotations

from idlc.grammar import _tables as T
from idlc.lexer import RawToken, number_kind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

_END = "$END"
_GT = T.LITERALS[">"]
_SHR = T.LITERALS[">>"]
_KEYWORDS = {k: v for k, v in T.LITERALS.items() if k[:1].isalpha()}
_KEYWORD_TYPES = frozenset(_KEYWORDS.values())
_BOOLEANS = {"true", "false", "True", "False"}
# Tokens after which a reading that is still alive has read the whole declaration.
_STOPS = {";", "{", "}"}
# How far to read ahead at most (a bound's expression is short).
_WINDOW = 256


class Lookahead:
    """A token stream the driver reads with next() and ``shr_is_operator`` can peek into."""

    def __init__(self, tokens: Iterator[RawToken]) -> None:
        self._tokens = tokens
        self._buffer: list[RawToken] = []

    def __iter__(self) -> Lookahead:
        return self

    def __next__(self) -> RawToken:
        if self._buffer:
            return self._buffer.pop(0)
        return next(self._tokens)

    def peek(self, i: int) -> RawToken | None:
        """The i-th token ahead (0 is the next one), None after the end of input."""
        while len(self._buffer) <= i:
            if self._buffer and self._buffer[-1].kind == "eof":
                return None
            try:
                self._buffer.append(next(self._tokens))
            except StopIteration:
                return None
        return self._buffer[i]


def terminal(raw: RawToken, actions: dict[str, int]) -> str:
    """The terminal a raw token is in a state with these actions (the driver's rule)."""
    kind = raw.kind
    text = raw.text
    if kind == "id":
        if text in _BOOLEANS and text.upper() in actions:
            return text.upper()
        kw = _KEYWORDS.get(text)
        return kw if kw is not None and kw in actions else "IDENTIFIER"
    if kind == "punct":
        return T.LITERALS[text]
    if kind == "num":
        return number_kind(text)
    if kind == "str":
        return "WSTRING" if text[0] == "L" else "STRING"
    if kind == "chr":
        return "WCHAR" if text[0] == "L" else "CHAR"
    return _END


def _feed(stack: list[int], ttype: str) -> bool:
    """Reduce as the table says, then shift ttype onto stack; False where it is an error."""
    states = T.STATES
    while True:
        actions = states[stack[-1]]
        action = actions.get(ttype)
        if action is None:
            if ttype in _KEYWORD_TYPES and "IDENTIFIER" in actions:
                ttype = "IDENTIFIER"  # a keyword the state no longer takes is a name
                continue
            return False
        if action >= 0:
            stack.append(action)
            return True
        _name, origin, size, _keep, _flags = T.RULES[-1 - action]
        if size:
            del stack[-size:]
        goto = states[stack[-1]].get(origin)
        if goto is None:
            return False
        stack.append(goto)
        if goto == T.END_STATE and ttype == _END:
            return True


def shr_is_operator(state_stack: list[int], peek: Callable[[int], RawToken | None]) -> bool:
    """True when the `>>` about to be read is the shift operator, False when it closes
    two template argument lists; peek(i) is the i-th token after the `>>`."""
    op = list(state_stack)
    split = list(state_stack)
    op_ok = _feed(op, _SHR)
    split_ok = _feed(split, _GT) and _feed(split, _GT)
    if op_ok != split_ok or not op_ok:
        return op_ok
    alive = {"op": op, "split": split}
    for i in range(_WINDOW):
        raw = peek(i)
        if raw is None:
            break
        for name, stack in list(alive.items()):
            if not _feed(stack, terminal(raw, T.STATES[stack[-1]])):
                del alive[name]
        if len(alive) < 2 or raw.kind == "eof" or raw.text in _STOPS:
            break
    return "split" not in alive and "op" in alive
