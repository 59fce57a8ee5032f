"""Escape sequences of IDL character and string literals (OMG IDL 4.2 §7.2.6)."""

from __future__ import annotations

from idlc import regex

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re

_ESCAPE = regex.compile(
    r"\\(?:([ntvbrfa\\?'\"])|([0-7]{1,3})|x([0-9a-fA-F]{1,2})|u([0-9a-fA-F]{1,4})|(.?))",
    regex.DOTALL,
)
_SIMPLE = {
    "n": "\n",
    "t": "\t",
    "v": "\v",
    "b": "\b",
    "r": "\r",
    "f": "\f",
    "a": "\a",
    "\\": "\\",
    "?": "?",
    "'": "'",
    '"': '"',
}


class LiteralError(Exception):
    """A bad escape (text is the escape) or a bad character literal (text is empty)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def parse_string(body: str, *, wide: bool) -> str:
    """Decode the escapes in a literal's body (without quotes)."""
    if "\\" not in body:
        return body

    def replace(m: re.Match[str]) -> str:
        simple, octal, hexa, uni, bad = m.groups()
        if simple is not None:
            return _SIMPLE[simple]
        if octal is not None:
            value = int(octal, 8)
        elif hexa is not None:
            value = int(hexa, 16)
        elif uni is not None:
            value = int(uni, 16)
        else:
            raise LiteralError(m.group(0) if bad is None or bad else "\\")
        if value > 0xFF and not wide and uni is None:
            raise LiteralError(m.group(0))
        if 0xD800 <= value <= 0xDFFF:
            raise LiteralError(m.group(0))
        return chr(value)

    return _ESCAPE.sub(replace, body)


def parse_char(body: str, *, wide: bool) -> str:
    value = parse_string(body, wide=wide)
    if len(value) != 1:
        raise LiteralError("")
    return value
