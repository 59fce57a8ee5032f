"""UTCB layout and NRE copy-mode frames (NOVA-NRE.md §2, §8.1; WIRE.md §1)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.arch import X86_32, X86_64, Arch
from runtime.crd import CrdType, crd
from runtime.status import CapacityError, ErrorCode, UtcbError
from runtime.utcb import Utcb, UtcbFrame

from .conftest import FUZZ_EXAMPLES

ARCHES = [pytest.param(X86_64, id="x86_64"), pytest.param(X86_32, id="x86_32")]
CAPS = {"x86_64": (253, 126), "x86_32": (509, 254)}


@pytest.mark.parametrize("arch", ARCHES)
def test_empty_utcb_frame_capacity(arch: Arch) -> None:
    u = Utcb(arch)
    with UtcbFrame(u) as f:
        assert (f.free_untyped, f.free_typed) == CAPS[arch.name]
        f.put_words([1] * CAPS[arch.name][0])
        with pytest.raises(CapacityError):
            f.put_word(1)
        for i in range(CAPS[arch.name][1]):
            f.put_item(crd(CrdType.OBJ, i), 1)
        with pytest.raises(CapacityError) as e:
            f.put_item(0, 0)
        assert e.value.code == ErrorCode.E_CAPACITY
        # Untyped and typed regions do not overlap: every word still reads back.
        assert f.words() == [1] * CAPS[arch.name][0]
        assert [c for c, _ in f.items()] == [crd(CrdType.OBJ, i) for i in range(CAPS[arch.name][1])]


@pytest.mark.parametrize("arch", ARCHES)
def test_header_and_item_positions(arch: Arch) -> None:
    u = Utcb(arch)
    f = UtcbFrame(u)
    f.put_words([7, 8])
    f.delegate(crd(CrdType.OBJ, 5), hotspot=3, flags=0x200)
    f.translate(crd(CrdType.OBJ, 9))
    f.delegation_window(crd(CrdType.OBJ, 0x100, 4))
    w = arch.word
    assert u.items == 2 | 2 << 16 == u.word_at(1)  # the counters are the page's items word
    assert u.word_at(3) == crd(CrdType.OBJ, 0x100, 4)
    assert int.from_bytes(u.buf[5 * w : 6 * w], "little") == 7  # mr[0] right after the header
    wp = 4096 // w
    assert u.word_at(wp - 2) == crd(CrdType.OBJ, 5)  # item 0: Crd at W-2, aux at W-1
    assert u.word_at(wp - 1) == 1 | 0x200 | 3 << 12
    assert u.word_at(wp - 4) == crd(CrdType.OBJ, 9) and u.word_at(wp - 3) == 0


@pytest.mark.parametrize("arch", ARCHES)
def test_nested_frame_saves_and_restores_outer(arch: Arch) -> None:
    u = Utcb(arch)
    outer = UtcbFrame(u)
    outer.put_words([1, 2, 3])
    outer.delegate(crd(CrdType.OBJ, 4))
    outer.delegation_window(crd(CrdType.OBJ, 0x40, 2))
    full_u, full_t = CAPS[arch.name]
    with UtcbFrame(u) as inner:
        assert inner.untyped == 0 and inner.typed == 0 and u.dele == 0
        assert inner.free_untyped == full_u - (1 + 5 + 3)  # length word, header, 3 words
        assert inner.free_typed <= full_t - 1
        inner.put_words(list(range(inner.free_untyped)))  # fill it completely
        while inner.free_typed:
            inner.put_item(crd(CrdType.OBJ, 77), 1)
        with pytest.raises(CapacityError):
            inner.put_word(0)
    assert outer.words() == [1, 2, 3]
    assert list(outer.items()) == [(crd(CrdType.OBJ, 4), 1)]
    assert u.dele == crd(CrdType.OBJ, 0x40, 2)
    outer.close()
    assert u.layer == 0


def test_overflowing_push_leaves_outer_intact() -> None:
    u = Utcb(X86_64)
    outer = UtcbFrame(u)
    outer.put_words([5] * 253)
    with pytest.raises(CapacityError):
        UtcbFrame(u)  # no room to save 253 words + header
    assert outer.words() == [5] * 253 and u.layer == 1


def test_deep_nesting_until_capacity_error() -> None:
    u = Utcb(X86_64)
    frames = []
    with pytest.raises(CapacityError):
        for i in range(1000):
            f = UtcbFrame(u)
            f.put_word(i)
            frames.append(f)
    assert 10 < len(frames) < 100
    for i, f in reversed(list(enumerate(frames))):
        assert f.words() == [i]
        f.close()
    assert u.layer == 0 and u.saved_u == 0 and u.saved_t == 0


def test_close_out_of_order_is_refused() -> None:
    u = Utcb()
    a = UtcbFrame(u)
    UtcbFrame(u)
    with pytest.raises(UtcbError):
        a.close()


def test_reading_and_finish_input() -> None:
    u = Utcb()
    f = UtcbFrame(u)
    st2 = struct.Struct("<QQ")
    f.pack(st2, 10, 20)
    f.put_words(b"abc")  # padded to a word
    f.put_item(crd(CrdType.OBJ, 1), 1)
    ref = UtcbFrame(u, push=False)
    assert ref.unpack(st2) == (10, 20)
    with pytest.raises(UtcbError) as e:
        ref.finish_input()
    assert e.value.code == ErrorCode.E_ARGS_INVALID
    assert ref.get_words(1) == b"abc" + bytes(5)
    with pytest.raises(UtcbError) as e:
        ref.get_word()
    assert e.value.code == ErrorCode.E_UTCB_UNTYPED
    assert ref.get_item() == (crd(CrdType.OBJ, 1), 1)
    with pytest.raises(UtcbError) as e:
        ref.get_item()
    assert e.value.code == ErrorCode.E_UTCB_TYPED
    ref.finish_input()
    assert ref.untyped == 0 and ref.typed == 0


def test_view_is_zero_copy_and_read_only() -> None:
    u = Utcb()
    f = UtcbFrame(u)
    f.put_words([1, 2])
    v = UtcbFrame(u, push=False).view()
    assert v.readonly and bytes(v) == struct.pack("<QQ", 1, 2)


def test_put_words_rejects_what_does_not_fit_without_writing() -> None:
    u = Utcb()
    f = UtcbFrame(u)
    f.put_words([9] * 250)
    with pytest.raises(CapacityError):
        f.put_words(bytes(8 * 4))
    with pytest.raises(CapacityError):
        f.put_words([1, 2, 3, 4])
    assert f.untyped == 250


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.integers(0, 2**32 - 1), max_size=40), st.integers(0, 5)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([X86_64, X86_32]),
)
def test_random_nesting_round_trips(layers: list[tuple[list[int], int]], arch: Arch) -> None:
    u = Utcb(arch)
    opened: list[tuple[UtcbFrame, list[int], int]] = []
    for words, items in layers:
        try:
            f = UtcbFrame(u)
        except CapacityError:
            break
        try:
            f.put_words(words)
            for i in range(items):
                f.put_item(crd(CrdType.OBJ, i), 0)
            opened.append((f, words, items))
        except CapacityError:
            opened.append((f, f.words(), f.typed))
    for f, words, items in reversed(opened):
        assert f.words() == words
        assert f.typed == items
        f.close()
    assert u.layer == 0


def test_put_words_takes_any_byte_buffer() -> None:
    import array

    u = Utcb(X86_32)
    f = UtcbFrame(u)
    f.put_words(memoryview(array.array("I", [7, 8, 9])))  # 3 words of 4 bytes
    f.put_words(bytearray(b"\x01"))
    assert f.words() == [7, 8, 9, 1]


# -- the generated codecs' entries into the frame (begin, take/give_back, rest) ---------


@pytest.mark.parametrize("arch", ARCHES)
def test_begin_makes_the_words_the_message_exactly_when_they_fit(arch: Arch) -> None:
    """begin(n): when the live frame has room for n words at mr[0] (an outermost frame,
    and a nested one, whose room is what the outer left), the items word says n words
    and no items, the frame is rewound, and the page is returned; else the frame is
    cleared and CapacityError raised with put_words' message, the outer frames
    unchanged."""
    u = Utcb(arch)
    room = CAPS[arch.name][0]
    w = arch.word
    fmt = "<2Q" if w == 8 else "<2I"
    with UtcbFrame(u) as f:
        f.put_words([9])
        f.get_word()
        with pytest.raises(CapacityError) as got:
            f.begin(room + 1)
        assert str(got.value).endswith(f"{room + 1} words do not fit, {room} free")
        assert (u.untyped, u.typed, f.upos, f.tpos) == (0, 0, 0, 0)  # cleared
        for n in (0, 1, room):
            assert f.begin(n) is u.buf, n
            assert (u.untyped, u.typed, f.upos, f.tpos) == (n, 0, 0, 0)
        f.clear()
        f.put_words([7] * 3)
        with UtcbFrame(u) as g:  # the outer frame's words are saved above: less room
            inner = g.free_untyped
            assert inner <= room - 3
            g.put_words([5])
            with pytest.raises(CapacityError):
                g.begin(inner + 1)
            assert g.words() == []
            assert g.begin(inner) is u.buf
            assert g.begin(2) is u.buf
            struct.pack_into(fmt, u.buf, 5 * w, 11, 12)
            assert g.words() == [11, 12]
        assert f.words() == [7, 7, 7]  # the outer message came back


# (message words, items, words read before, n): what take(n) gives after the items word
_TAKES = [
    ([1, 2, 3], 0, 0, 3, (1, 2, 3)),
    ([1, 2, 3], 0, 1, 2, None),  # a read frame: the general decoder's case
    ([1, 2, 3], 0, 0, 2, None),  # a word would be left over
    ([1, 2, 3], 0, 0, 4, None),  # fewer words than wanted
    ([1, 2, 3], 1, 0, 3, None),  # an item too
    ([], 0, 0, 0, ()),
]


@pytest.mark.parametrize(("words", "items", "before", "n", "want"), _TAKES)
@pytest.mark.parametrize("arch", ARCHES)
def test_take_unpacks_an_unread_message_of_exactly_its_words(
    arch: Arch, words: list[int], items: int, before: int, n: int, want: tuple[int, ...] | None
) -> None:
    """take(unpack, n): on an unread frame whose message is exactly n words without
    items, the items word and the words in one unpack (a Struct's unpack_from whose
    format starts at header word 1), consumed;
    else None with nothing consumed. give_back(n) unreads them; more than was read is
    refused."""
    u = Utcb(arch)
    with UtcbFrame(u) as f:
        f.put_words(words)
        for i in range(items):
            f.put_item(crd(CrdType.OBJ, 0x100 + i), 1)
        f.rewind()
        for _ in range(before):
            f.get_word()
        head = "<I28x" if arch.word == 8 else "<I12x"
        st = struct.Struct(head + ("Q" if arch.word == 8 else "I") * n)
        got = f.take(st.unpack_from, n)
        assert got == (None if want is None else (n, *want))
        assert f.upos == (n if want is not None else before)
        if want is not None:
            f.give_back(n)
            assert f.upos == 0
        with pytest.raises(UtcbError):
            f.give_back(f.upos + 1)
        with pytest.raises(UtcbError):
            f.give_back(-1)


# (message words, items, items read, words read): rest() as (left, word index) or -1
_RESTS = [
    ([1, 2, 3], 0, 0, 0, (3, 0)),
    ([1, 2, 3], 0, 0, 2, (1, 2)),
    ([1, 2, 3], 0, 0, 3, (0, 3)),
    ([1, 2, 3], 2, 0, 0, -1),  # items left to read
    ([1, 2, 3], 2, 1, 0, -1),
    ([1, 2, 3], 2, 2, 1, (2, 1)),  # every item read
]


@pytest.mark.parametrize(("words", "items", "tread", "uread", "want"), _RESTS)
@pytest.mark.parametrize("arch", ARCHES)
def test_rest_tells_the_unread_words_and_where_they_start(
    arch: Arch, words: list[int], items: int, tread: int, uread: int, want: object
) -> None:
    """rest(): ``left << 16 | byte offset`` of the unread words in the page when no item
    is left to read, else -1; page is the UTCB page; nothing is consumed."""
    u = Utcb(arch)
    with UtcbFrame(u) as f:
        f.put_words(words)
        for i in range(items):
            f.put_item(crd(CrdType.OBJ, 0x100 + i), 1)
        f.rewind()
        for _ in range(tread):
            f.get_item()
        for _ in range(uread):
            f.get_word()
        r = f.rest()
        assert f.page is u.buf and f.upos == uread
        if want == -1:
            assert r == -1
        else:
            left, at = want  # type: ignore[misc]
            assert (r >> 16, r & 0xFFFF) == (left, (5 + at) * arch.word)
            if left:
                fmt = "<Q" if arch.word == 8 else "<I"
                assert struct.unpack_from(fmt, f.page, r & 0xFFFF)[0] == words[at]
