"""runtime.kernel.wirestr against the inline string code it replaced in generated
codecs: the same words, the same MarshalError path and text, the same DecodeError word
index and text (docs/python-backend.md, "Shared helpers"), on both word sizes."""

from __future__ import annotations

import struct

import pytest

from runtime.codec import DecodeError, MarshalError
from runtime.kernel import wirestr

# the generated modules' _P8/_P4: the padding after n bytes, by n modulo the word
PADS = {w: tuple(bytes(-q % w) for q in range(w)) for w in (8, 4)}


def inline_put(w: int, buf: bytearray, s: object, bound: int, path: str) -> None:
    """What the generator wrote per string member before the helper."""
    try:
        data = s.encode()  # type: ignore[attr-defined]
    except (AttributeError, TypeError, UnicodeError):
        raise MarshalError(path, f"expected a str of valid code points, got {s!r}") from None
    n = len(data)
    if bound >= 0 and n > bound:
        raise MarshalError(path, f"{n} UTF-8 bytes, at most {bound} allowed")
    buf += struct.pack("<Q" if w == 8 else "<I", n)
    buf += data
    buf += PADS[w][n & (w - 1)]


def inline_take(w: int, b: bytes, o: int, bound: int, path: str) -> tuple[str, int]:
    shift = 3 if w == 8 else 2
    if o + w > len(b):
        raise DecodeError(o >> shift, f"{path}: length word missing")
    n = struct.unpack_from("<Q" if w == 8 else "<I", b, o)[0]
    if bound >= 0 and n > bound:
        raise DecodeError(o >> shift, f"{path}: length {n} above the bound {bound}")
    o += w
    e = o + (n + w - 1 & -w)
    if e > len(b):
        raise DecodeError((o >> shift) - 1, f"{path}: length exceeds the words that remain")
    if b[o + n : e] != PADS[w][n & (w - 1)]:
        raise DecodeError((e >> shift) - 1, f"{path}: non-zero padding")
    try:
        s = b[o : o + n].decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError(o + err.start >> shift, f"{path}: invalid UTF-8") from None
    return s, e


def outcome(fn: object, *args: object) -> object:
    try:
        return fn(*args)  # type: ignore[operator]
    except (MarshalError, DecodeError) as e:
        return (type(e).__name__, e.args, str(e))


PUT_VALUES = ["", "a", "seven b", "exactly8", "ünïcode", "x" * 17, 5, b"bytes", None, "\ud800"]
BOUNDS = [-1, 0, 8, 16]


@pytest.mark.parametrize("w", [8, 4])
@pytest.mark.parametrize("bound", BOUNDS)
@pytest.mark.parametrize("value", PUT_VALUES, ids=repr)
def test_put_as_inline(w: int, bound: int, value: object) -> None:
    put = wirestr.put64 if w == 8 else wirestr.put32
    got, want = bytearray(b"\x01"), bytearray(b"\x01")
    assert outcome(put, got, value, bound, "s.name") == outcome(
        inline_put, w, want, value, bound, "s.name"
    )
    assert got == want


def words(w: int, n: int, body: bytes) -> bytes:
    return struct.pack("<Q" if w == 8 else "<I", n) + body


# (what, length word, bytes after it): every rejection and some good strings
TAKE_CASES = [
    ("empty", 0, b""),
    ("short", 5, b"hello\0\0\0"),
    ("no length word", None, b""),
    ("above bound", 40, b""),
    ("beyond the words", 9, b"123456789"),
    ("non-zero padding", 3, b"abcX\0\0\0\0"),
    ("invalid UTF-8", 4, b"ab\xff\xfe\0\0\0\0"),
    ("invalid UTF-8, second word", 10, b"abcdefgh\xc3(\0\0\0\0\0\0"),
    ("words after it", 2, b"ok\0\0\0\0\0\0" + bytes(8)),
]


@pytest.mark.parametrize("w", [8, 4])
@pytest.mark.parametrize("bound", BOUNDS)
@pytest.mark.parametrize("at", [0, 8])
@pytest.mark.parametrize(("what", "n", "body"), TAKE_CASES, ids=[c[0] for c in TAKE_CASES])
def test_take_as_inline(w: int, bound: int, at: int, what: str, n: int | None, body: bytes) -> None:
    take = wirestr.take64 if w == 8 else wirestr.take32
    b = bytes(at) + (b"" if n is None else words(w, n, body))
    got = outcome(take, b, at, bound, "label")
    assert got == outcome(inline_take, w, b, at, bound, "label")
    if what in ("no length word", "non-zero padding") or "invalid" in what:
        assert isinstance(got, tuple) and got[0] == "DecodeError", what
