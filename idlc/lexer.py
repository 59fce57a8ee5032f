"""IDL tokens. Lexing is split in two: this module cuts the text into raw tokens with one
regular expression; the parser driver decides, from its LALR state, whether a word is a
keyword or an identifier and whether `>>` closes two templates (IDL's contextual lexing).
"""

from __future__ import annotations

from idlc import regex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

# One pass over the text; group names say what each raw token is.
_RAW = regex.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<lc>//[^\n]*)
  | (?P<bc>/\*[\s\S]*?\*/)
  | (?P<str>L?"(?:[^"\\\n]|\\[^\n])*")
  | (?P<chr>L?'(?:[^'\\\n]|\\[^\n])*')
  | (?P<num>\.?[0-9](?:[eE][+-][0-9]|[0-9A-Za-z_.])*)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>::|<<|>>|@annotation\b|[{}()\[\];:,=+\-*/%~<>|^&@])
  | (?P<badstr>L?["'][^\n]*)
  | (?P<badcomment>/\*[\s\S]*)
  | (?P<bad>.)
    """,
    regex.VERBOSE,
)

_INT_DEC = regex.compile(r"[1-9][0-9]*|0")
_INT_OCT = regex.compile(r"0[0-7]+")
_INT_HEX = regex.compile(r"0[xX][0-9a-fA-F]+")
_FLOAT = regex.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+")
_FIXED = regex.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)[dD]")


class RawToken:
    """kind is id, num, str, chr, punct, eof, or an error kind: badnum, badstr, bad,
    badcomment. line and col are 1-based positions in the preprocessed text."""

    __slots__ = ("col", "kind", "line", "text", "type")

    def __init__(self, kind: str, text: str, line: int, col: int) -> None:
        self.kind = kind
        self.text = text
        self.line = line
        self.col = col
        # The grammar terminal, set by the parser from its state (contextual keywords).
        self.type = ""

    def __repr__(self) -> str:
        return f"RawToken({self.kind}, {self.text!r}, {self.line}:{self.col})"


def number_kind(text: str) -> str:
    """INTEGER, FLOATING or FIXED for a well-formed literal, else 'badnum'."""
    if _INT_DEC.fullmatch(text) or _INT_HEX.fullmatch(text) or _INT_OCT.fullmatch(text):
        return "INTEGER"
    if _FLOAT.fullmatch(text):
        return "FLOATING"
    if _FIXED.fullmatch(text):
        return "FIXED"
    return "badnum"


def tokenize(text: str, comments: list[tuple[int, int, str]] | None = None) -> Iterator[RawToken]:
    """Yield raw tokens, then one ``eof`` token. Comments go to ``comments`` as
    (line, col, text) when a list is given, for doc comments."""
    line = 1
    line_start = 0
    pos = 0
    match = _RAW.match
    while True:
        m = match(text, pos)
        if m is None:
            break
        kind = m.lastgroup
        tok_text = m.group()
        start = pos
        pos = m.end()
        if kind == "ws":
            continue
        if kind == "nl":
            line += 1
            line_start = pos
            continue
        col = start - line_start + 1
        if kind == "lc" or kind == "bc":
            if comments is not None:
                comments.append((line, col, tok_text))
            if kind == "bc":
                newlines = tok_text.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + tok_text.rindex("\n") + 1
            continue
        if kind == "num":
            kind = "num" if number_kind(tok_text) != "badnum" else "badnum"
        yield RawToken(kind or "bad", tok_text, line, col)
        if kind == "badcomment":
            break
    yield RawToken("eof", "", line, pos - line_start + 1)
