"""Bounded UTF-8 strings of WIRE.md §3 for the generated step-by-step codecs.

Generated encoders and decoders call these instead of repeating the same dozen lines per
string member; compiled with the core (native.py CORE), one call costs fewer instructions
than the interpreted lines it replaces. Errors are the generated code's own: the same
MarshalError path and text, the same DecodeError word index and text. ``bound`` < 0 means
unbounded. Wide strings (UTF-32) stay inline in the generated code.
"""

from __future__ import annotations

import struct
from typing import Final

from .wireerr import DecodeError, MarshalError

_W8: Final = struct.Struct("<Q")
_W4: Final = struct.Struct("<I")
_PAD: Final = tuple(bytes(n) for n in range(8))


def _encoded(s: object, bound: int, path: str) -> bytes:
    try:
        data: bytes = s.encode()  # type: ignore[attr-defined]
    except (AttributeError, TypeError, UnicodeError):
        raise MarshalError(path, f"expected a str of valid code points, got {s!r}") from None
    n = len(data)
    if 0 <= bound < n:
        raise MarshalError(path, f"{n} UTF-8 bytes, at most {bound} allowed")
    return data


# One function per word size, with the size's constants written in: one body taking the
# size as arguments measured +69 instructions per string request (14,286 -> 14,355).


def put64(buf: bytearray, s: object, bound: int, path: str) -> None:
    """Append ``s`` as a length word, its UTF-8 bytes and zero padding to 8 bytes."""
    data = _encoded(s, bound, path)
    n = len(data)
    buf += _W8.pack(n)
    buf += data
    buf += _PAD[-n & 7]


def put32(buf: bytearray, s: object, bound: int, path: str) -> None:
    """Append ``s`` as a length word, its UTF-8 bytes and zero padding to 4 bytes."""
    data = _encoded(s, bound, path)
    n = len(data)
    buf += _W4.pack(n)
    buf += data
    buf += _PAD[-n & 3]


def take64(b: bytes, o: int, bound: int, path: str) -> tuple[str, int]:
    """The string whose length word is at byte ``o`` of ``b``, and the offset after it."""
    end = len(b)
    if o + 8 > end:
        raise DecodeError(o >> 3, f"{path}: length word missing")
    n: int = _W8.unpack_from(b, o)[0]
    if 0 <= bound < n:
        raise DecodeError(o >> 3, f"{path}: length {n} above the bound {bound}")
    o += 8
    e = o + (n + 7 & -8)
    if e > end:
        raise DecodeError((o >> 3) - 1, f"{path}: length exceeds the words that remain")
    if b[o + n : e] != _PAD[-n & 7]:
        raise DecodeError((e >> 3) - 1, f"{path}: non-zero padding")
    try:
        s = b[o : o + n].decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(o + err.start >> 3, f"{path}: invalid UTF-8") from None
    return s, e


def take32(b: bytes, o: int, bound: int, path: str) -> tuple[str, int]:
    """The string whose length word is at byte ``o`` of ``b``, and the offset after it."""
    end = len(b)
    if o + 4 > end:
        raise DecodeError(o >> 2, f"{path}: length word missing")
    n: int = _W4.unpack_from(b, o)[0]
    if 0 <= bound < n:
        raise DecodeError(o >> 2, f"{path}: length {n} above the bound {bound}")
    o += 4
    e = o + (n + 3 & -4)
    if e > end:
        raise DecodeError((o >> 2) - 1, f"{path}: length exceeds the words that remain")
    if b[o + n : e] != _PAD[-n & 3]:
        raise DecodeError((e >> 2) - 1, f"{path}: non-zero padding")
    try:
        s = b[o : o + n].decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(o + err.start >> 2, f"{path}: invalid UTF-8") from None
    return s, e
