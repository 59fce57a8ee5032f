"""The UTCB frame functions `_fe_T_*`/`_fd_T_*` (bench/bench.idl): same words as the
bytes encoders, strict decoding in place, capacity, and the C-level sequence paths."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from runtime.arch import X86_32, X86_64
from runtime.codec import DecodeError, Items, MarshalError
from runtime.status import CapacityError
from runtime.utcb import Utcb, UtcbFrame
from tests.backend.roundtrip import imported

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("marshal")
    with imported(ROOT / "bench" / "bench.idl", root, "mf_pkg", "bench.bench_idl") as (module,):
        yield module


def values(g: Any) -> dict[str, Any]:
    return {
        "Small": g.Small(0xDEADBEEF, -1234567890123, True),
        "Call": g.Call(42, "open_file_handle", [7, -1, 1000, -(2**31), 0], True),
        "Nested": g.Nested(
            g.Head(2**40 + 7, 200),
            [g.Point(i * 0.5 + 0.1, -i * 1.25 - 0.3) for i in range(32)],
            "label-ü",
        ),
    }


@pytest.mark.parametrize("arch", [X86_64, X86_32])
@pytest.mark.parametrize("name", ["Small", "Call", "Nested"])
def test_frame_round_trip_equals_bytes_codec(gen: Any, arch: Any, name: str) -> None:
    sfx = "64" if arch is X86_64 else "32"
    v = values(gen)[name]
    buf = bytearray()
    getattr(gen, f"_e_{name}_{sfx}")(v, buf, [])
    f = UtcbFrame(Utcb(arch))
    f.put_word(99)  # replaced, not appended to
    assert getattr(gen, f"_fe_{name}_{sfx}")(v, f) is f
    assert f.get_words(f.left) == bytes(buf)
    f.rewind()
    assert getattr(gen, f"_fd_{name}_{sfx}")(f) == v
    assert f.left == 0
    back, o = getattr(gen, f"_d_{name}_{sfx}")(bytes(buf), 0, Items(()))
    assert back == v and o == len(buf)


def _load(words: bytes) -> UtcbFrame:
    f = UtcbFrame(Utcb())
    f.put_words(words)
    return f


def test_frame_decoder_is_strict(gen: Any) -> None:
    ok = struct.pack("<QqQ", 1, -2, 1)
    assert gen._fd_Small_64(_load(ok)) == gen.Small(1, -2, True)
    for bad, word in [
        (struct.pack("<QqQ", 1, -2, 2), 2),  # boolean 2
        (struct.pack("<QqQ", 1 << 32, -2, 0), 0),  # high bytes
        (struct.pack("<Qq", 1, -2), 0),  # too short
        (struct.pack("<QqQQ", 1, -2, 0, 0), 3),  # left over
    ]:
        with pytest.raises(DecodeError) as e:
            gen._fd_Small_64(_load(bad))
        assert e.value.word == word
    f = _load(ok)
    f.put_item(0, 0)
    with pytest.raises(DecodeError):
        gen._fd_Small_64(f)
    # a points length beyond the words there are: rejected before reading the UTCB page
    head = struct.pack("<QQQ", 1, 2, 32)
    with pytest.raises(DecodeError) as e:
        gen._fd_Nested_64(_load(head + bytes(16)))
    assert e.value.word == 2


def test_frame_encoder_errors_and_capacity(gen: Any) -> None:
    f = UtcbFrame(Utcb())
    with pytest.raises(MarshalError) as e:
        gen._fe_Small_64(gen.Small(1, 2, 2), f)
    assert e.value.path == "c"
    pts = [gen.Point(1.0, 2.0), gen.Point(1.0, "y")]
    with pytest.raises(MarshalError) as e:
        gen._fe_Nested_64(gen.Nested(gen.Head(1, 2), pts, ""), f)
    assert e.value.path == "points[1].y"
    utcb = Utcb()
    outer = UtcbFrame(utcb)
    outer.put_words(bytes(8 * 240))
    inner = UtcbFrame(utcb)  # little room left
    with pytest.raises(CapacityError):
        gen._fe_Nested_64(values(gen)["Nested"], inner)
    inner.close()
    assert outer.left == 240


# The fast decoders test the frame's cursors against one read of the items word
# (untyped - upos == words and tpos == typed): a message behind words already read, with
# items read or not, must decode exactly as the step-by-step decoder says.
CURSORS = [
    # (words before the message, items in the frame, items read before decoding, decodes)
    (0, 0, 0, True),
    (1, 0, 0, True),
    (3, 0, 0, True),
    (0, 1, 1, True),
    (2, 2, 2, True),
    (0, 1, 0, False),  # an item left over
    (1, 2, 1, False),
]


@pytest.mark.parametrize("arch", [X86_64, X86_32])
@pytest.mark.parametrize("name", ["Small", "Call", "Nested"])
@pytest.mark.parametrize(("before", "items", "read", "decodes"), CURSORS)
def test_frame_decoder_at_any_cursor(
    gen: Any, arch: Any, name: str, before: int, items: int, read: int, decodes: bool
) -> None:
    sfx = "64" if arch is X86_64 else "32"
    v = values(gen)[name]
    buf = bytearray()
    getattr(gen, f"_e_{name}_{sfx}")(v, buf, [])
    f = UtcbFrame(Utcb(arch))
    for k in range(before):
        f.put_word(k + 1)
    f.put_words(bytes(buf))
    for k in range(items):
        f.put_item(k + 1, 0)
    for _ in range(before):
        f.get_word()
    for _ in range(read):
        f.get_item()
    decode = getattr(gen, f"_fd_{name}_{sfx}")
    if not decodes:
        with pytest.raises(DecodeError, match="typed items left over"):
            decode(f)
        return
    assert decode(f) == v
    assert (f.left, f.items_left) == (0, 0)
    # a word after the message is left over: rejected
    f.rewind()
    for _ in range(before):
        f.get_word()
    for _ in range(read):
        f.get_item()
    f.put_word(0)
    with pytest.raises(DecodeError, match="left over"):
        decode(f)


# (message, a value that fails to encode, the path of the MarshalError): failures in the
# fast path's pack (after the frame took the words) and before it
BAD_VALUES: list[tuple[str, Any, str]] = [
    ("Small", lambda g: g.Small(1, 2**70, True), "b"),  # fails inside pack_into
    ("Small", lambda g: g.Small(-1, 2, True), "a"),
    ("Small", lambda g: g.Small(1, 2, 2), "c"),  # fails the fast path's own check
    ("Call", lambda g: g.Call(1, "n", [1, 2**40], True), "values[1]"),
    ("Call", lambda g: g.Call(1, "x" * 17, [], True), "name"),
    ("Nested", lambda g: g.Nested(g.Head(1, 256), [], ""), "head.prio"),
    ("Nested", lambda g: g.Nested(g.Head(1, 2), [g.Point(1.0, "y")], ""), "points[0].y"),
]


@pytest.mark.parametrize("arch", [X86_64, X86_32])
@pytest.mark.parametrize(("name", "make", "path"), BAD_VALUES)
def test_a_failed_encode_leaves_the_frame_empty_or_as_it_was(
    gen: Any, arch: Any, name: str, make: Any, path: str
) -> None:
    """An encoder that raises MarshalError leaves the frame's message as it was or empty,
    never the old word count over words it half overwrote; the next encode works."""
    sfx = "64" if arch is X86_64 else "32"
    f = UtcbFrame(Utcb(arch))
    old = [0xA5] * 40
    f.put_words(old)
    with pytest.raises(MarshalError) as e:
        getattr(gen, f"_fe_{name}_{sfx}")(make(gen), f)
    assert e.value.path.startswith(path)
    u = f.utcb
    assert u.typed == 0
    assert u.untyped == 0 or f.words() == old
    v = values(gen)[name]
    assert getattr(gen, f"_fd_{name}_{sfx}")(getattr(gen, f"_fe_{name}_{sfx}")(v, f)) == v
