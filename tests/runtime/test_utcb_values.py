"""UTCB frames against a model (NOVA-NRE.md §2, §8.1; WIRE.md §1): nested frames at their
exact capacities, on both architectures.

The model is a stack of frames (words, items, windows). A frame's room follows from what
the frames below it saved: each saving push takes 1 + 5 + u untyped words below
POS_SLOT and 2t + 1 words above it; the outermost frame of an idle UTCB saves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.arch import X86_32, X86_64, Arch
from runtime.kernel.crd import DELEGATE
from runtime.status import CapacityError, ErrorCode, UtcbError
from runtime.utcb import Utcb, UtcbFrame


@dataclass
class Frame:
    words: list[int] = field(default_factory=list)
    items: list[tuple[int, int]] = field(default_factory=list)
    xlt: int = 0
    dele: int = 0
    saved: tuple[int, int] = (0, 0)  # what its push took: (untyped words, typed words)


class Model:
    def __init__(self, arch: Arch) -> None:
        self.mask = 2 ** (8 * arch.word) - 1
        self.msg = 4096 // arch.word - 5  # message words of the page
        self.slot = self.msg // 2
        self.frames: list[Frame] = [Frame()]  # [0]: the UTCB outside any frame

    def used(self) -> tuple[int, int]:
        return sum(f.saved[0] for f in self.frames), sum(f.saved[1] for f in self.frames)

    def room(self) -> tuple[int, int]:
        su, st_ = self.used()
        return self.slot - su, (self.msg - self.slot - 1 - st_) // 2

    def push(self) -> bool:
        live = self.frames[-1]
        u, t = len(live.words), len(live.items)
        idle = len(self.frames) == 1 and not (u or t or live.xlt or live.dele)
        saved = (0, 0) if idle else (1 + 5 + u, 2 * t + 1)
        su, st_ = self.used()
        if su + saved[0] > self.slot or self.slot + 1 + st_ + saved[1] > self.msg - 2 * t:
            return False
        self.frames.append(Frame(saved=saved))
        return True


def _apply(u: Utcb, open_frames: list[UtcbFrame], m: Model, op: tuple[Any, ...]) -> None:
    live = m.frames[-1]
    f = open_frames[-1] if open_frames else None
    kind = op[0]
    if kind == "push":
        if m.push():
            open_frames.append(UtcbFrame(u))
        else:
            with pytest.raises(CapacityError):
                UtcbFrame(u)
    elif kind == "pop":
        if f is None:
            with pytest.raises(UtcbError):
                u.pop()
        else:
            f.close()
            open_frames.pop()
            m.frames.pop()
    elif f is None:
        return
    elif kind == "words":
        data = [v & m.mask for v in range(op[1], op[1] + op[2])]
        if len(live.words) + len(data) > m.room()[0]:
            with pytest.raises(CapacityError):
                (
                    f.put_words(data)
                    if op[3]
                    else f.put_words(b"".join(v.to_bytes(u.word, "little") for v in data))
                )
        else:
            if op[3]:
                f.put_words(data)
            else:
                f.put_words(b"".join(v.to_bytes(u.word, "little") for v in data))
            live.words += data
    elif kind == "word":
        if len(live.words) >= m.room()[0]:
            with pytest.raises(CapacityError):
                f.put_word(op[1])
        else:
            f.put_word(op[1])
            live.words.append(op[1] & m.mask)
    elif kind == "items":
        for k in range(op[1]):
            c = (op[2] + k) & m.mask
            if len(live.items) >= m.room()[1]:
                with pytest.raises(CapacityError):
                    f.put_item(c, k)
                break
            f.put_item(c, k)
            live.items.append((c, k))
    elif kind == "window":
        f.translation_window(op[1])
        f.delegation_window(op[2])
        live.xlt, live.dele = op[1] & m.mask, op[2] & m.mask
    elif kind == "clear":
        f.clear()
        live.words, live.items = [], []


ops = st.one_of(
    st.just(("push",)),
    st.just(("pop",)),
    st.tuples(st.just("words"), st.integers(0, 2**64), st.integers(0, 260), st.booleans()),
    st.tuples(st.just("word"), st.integers(0, 2**64)),
    st.tuples(st.just("items"), st.integers(0, 130), st.integers(0, 2**64)),
    st.tuples(st.just("window"), st.integers(0, 2**40), st.integers(0, 2**40)),
    st.just(("clear",)),
)


# (arch, outermost untyped words, outermost items) -> each nested frame's capacity.
CAPACITIES = [(X86_64, 253, 126), (X86_32, 509, 254)]


@pytest.mark.parametrize(("arch", "cu", "ct"), CAPACITIES, ids=["x86_64", "x86_32"])
def test_exact_capacities_when_nested(arch: Arch, cu: int, ct: int) -> None:
    u = Utcb(arch)
    with UtcbFrame(u) as f:
        assert (f.free_untyped, f.free_typed) == (cu, ct)
        f.put_words([7] * 10)
        f.put_item(1, 2)
        with UtcbFrame(u) as g:
            # 1 + 5 + 10 untyped words and 2 + 1 item words saved: half an item more
            assert (g.free_untyped, g.free_typed) == (cu - 16, ct - 1)
            g.put_words([1] * (cu - 16))
            with pytest.raises(CapacityError):
                g.put_word(0)
            for k in range(ct - 2):  # items and untyped words share no space
                g.put_item(k, 0)
            # the words of g and its last item leave no room for another frame
            with pytest.raises(CapacityError):
                UtcbFrame(u)
            assert (g.free_untyped, g.free_typed) == (0, 1)
            assert u.layer == 2
        assert f.words() == [7] * 10 and list(f.items()) == [(1, 2)]
    assert u.layer == 0 and (u.untyped, u.typed) == (0, 0)


@pytest.mark.parametrize(("arch", "cu", "ct"), CAPACITIES, ids=["x86_64", "x86_32"])
def test_outermost_frame_of_a_used_utcb_saves(arch: Arch, cu: int, ct: int) -> None:
    u = Utcb(arch)
    u.xlt = 0x1234  # an armed window: the UTCB is not idle
    with UtcbFrame(u) as f:
        assert (f.free_untyped, f.free_typed) == (cu - 6, ct - 0)
        assert u.xlt == 0  # the new frame's windows are closed
    assert u.xlt == 0x1234 and u.layer == 0


def test_items_delegate_and_translate_aux() -> None:
    u = Utcb(X86_64)
    with UtcbFrame(u) as f:
        f.delegate(0x5003, hotspot=0x42, flags=0xFFF)
        f.translate(0x6003)
        assert list(f.items()) == [(0x5003, DELEGATE | 0xFFE | 0x42 << 12), (0x6003, 0)]
        assert f.get_item() == (0x5003, 0x42FFF) and f.items_left == 1


def test_reading_edges() -> None:
    u = Utcb(X86_32)
    with UtcbFrame(u) as f:
        f.put_words([1, 2, 3, 2**32 + 4])
        assert f.words() == [1, 2, 3, 4]  # masked to the 4-byte word
        assert f.get_word() == 1 and f.left == 3
        assert f.get_words(2) == (2).to_bytes(4, "little") + (3).to_bytes(4, "little")
        with pytest.raises(UtcbError) as e:
            f.get_words(2)
        assert e.value.code == ErrorCode.E_UTCB_UNTYPED
        with pytest.raises(UtcbError):
            f.get_words(-1)
        with pytest.raises(UtcbError):
            f.skip(2)
        f.skip(1)
        assert f.left == 0 and bytes(f.view()) == b""
        with pytest.raises(UtcbError):
            f.get_word()
        with pytest.raises(UtcbError) as e:
            f.get_item()
        assert e.value.code == ErrorCode.E_UTCB_TYPED
        f.rewind()
        assert f.left == 4 and bytes(f.view()[:4]) == (1).to_bytes(4, "little")
        with pytest.raises(UtcbError) as e:
            f.finish_input()
        assert e.value.code == ErrorCode.E_ARGS_INVALID
        f.skip(4)
        f.finish_input()
        assert (f.untyped, f.typed, f.left) == (0, 0, 0)


@settings(max_examples=150)
@given(st.sampled_from([X86_64, X86_32]), st.lists(ops, max_size=14))
def test_frames_match_the_model(arch: Arch, script: list[tuple[Any, ...]]) -> None:
    u = Utcb(arch)
    m = Model(arch)
    open_frames: list[UtcbFrame] = []
    for op in script:
        _apply(u, open_frames, m, op)
        live = m.frames[-1]
        assert u.layer == len(open_frames)
        assert (u.untyped, u.typed) == (len(live.words), len(live.items))
        assert (u.xlt, u.dele) == (live.xlt, live.dele)
        if open_frames:
            f = open_frames[-1]
            room_u, room_t = m.room()
            assert (f.free_untyped, f.free_typed) == (
                room_u - len(live.words),
                room_t - len(live.items),
            )
            assert (u.untyped_capacity, u.typed_capacity) == (room_u, room_t)
            assert f.words() == live.words
            assert list(f.items()) == live.items
    while open_frames:  # every saved frame comes back as it was
        open_frames.pop().close()
        m.frames.pop()
        live = m.frames[-1]
        assert [u.mr(i) for i in range(len(live.words))] == live.words
        assert [u.item(k) for k in range(len(live.items))] == live.items
        assert (u.xlt, u.dele) == (live.xlt, live.dele)
    assert u.layer == 0


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
def test_page_words_and_header(arch: Arch) -> None:
    u = Utcb(arch)
    w, top = arch.word, 2 ** (8 * arch.word) - 1
    assert u.idle() and u.layer == 0 and repr(u) == f"Utcb({arch.name}, u=0, t=0, layer=0)"
    for bad in (top + 1, top + 8, -1):  # no word of the architecture: refused, not masked
        with pytest.raises(ValueError):
            u.set_mr0(bad)
    with pytest.raises(TypeError):
        u.set_mr0("7")
    assert u.mr(0) == 0
    u.set_mr0(top)
    assert u.mr(0) == top
    u.set_mr0(7)
    assert u.mr(0) == 7 and u.word_at(5) == 7
    u.set_word(6, -1)
    assert u.mr(1) == top and bytes(u.buf[6 * w : 7 * w]) == b"\xff" * w
    assert u.idle()  # message words do not make the UTCB busy
    assert bytes(u.buf[u.msg[2]]) == (7).to_bytes(w, "little") + b"\xff" * w
    assert len(u.msg) == u.msg_words + 1 and u.msg[0] == slice(5 * w, 5 * w)
    u.set_items(0x1_0002, 0x3)  # each count is 16 bits of the items word
    assert (u.untyped, u.typed, u.items, u.delivered) == (2, 3, 2 | 3 << 16, 2 | 3 << 16)
    assert not u.idle()
    u.untyped = 0x1_0005
    u.typed = 0x1_0001
    assert (u.untyped, u.typed) == (5, 1) and u.word_at(1) == 5 | 1 << 16
    u.set_items(0, 0)
    for window in ("xlt", "dele"):
        setattr(u, window, top + 2)
        assert getattr(u, window) == 1 and not u.idle()
        setattr(u, window, 0)
    assert u.idle()
    for k in range(3):
        u.set_item(k, 100 + k, top + 1 + k)
    assert [u.item(k) for k in range(3)] == [(100 + k, k) for k in range(3)]
    assert u.item_pairs(1) == [(100, 0)] and u.item_pairs(3) == [u.item(k) for k in range(3)]
    assert u.word_at(u.page_words - 2) == 100 and u.word_at(u.page_words - 3) == 1
    u.reset()
    assert u.word_at(1) == u.xlt == u.dele == 0


def test_a_message_over_the_saved_frames_resets_the_utcb() -> None:
    u = Utcb(X86_64)
    outer = u.frame()
    outer.put_words([1, 2, 3])
    inner = UtcbFrame(u)
    assert u.layer == 2 and u.room == u.pos_slot - 9
    # a receive that wrote the whole page overwrote the saved frame's length word
    u.set_word(5 + u.room, 10**6)
    with pytest.raises(UtcbError) as e:
        inner.close()
    assert e.value.code == ErrorCode.E_ASSERT
    assert (u.layer, u.saved_u, u.saved_t, u.room) == (0, 0, 0, u.pos_slot)
    assert (u.untyped, u.typed, u.xlt, u.dele) == (0, 0, 0, 0)
    outer.close()  # below the reset: closing it does nothing
    assert u.layer == 0
    with pytest.raises(UtcbError):
        u.pop()


def test_frames_close_once_and_innermost_first() -> None:
    u = Utcb(X86_32)
    a = UtcbFrame(u)
    a.put_word(1)
    b = UtcbFrame(u)
    with pytest.raises(UtcbError) as e:
        a.close()
    assert e.value.code == ErrorCode.E_ASSERT and u.layer == 2
    with pytest.raises(UtcbError):
        a.__exit__(None, None, None)
    b.close()
    b.close()  # twice: nothing
    with b:
        pass  # a closed frame's exit: nothing
    assert u.layer == 1 and a.words() == [1]
    ref = UtcbFrame(u, push=False, pid=7)
    assert ref.layer == -1 and ref.pid == 7 and ref.words() == [1]
    ref.close()
    assert u.layer == 1
    a.close()
    assert u.layer == 0 and u.idle()


def test_pack_unpack_view_and_repr() -> None:
    import struct

    u = Utcb(X86_64)
    two = struct.Struct("<QQ")
    with u.frame() as f:
        f.pack(two, 5, 6)
        f.put_words(b"\x01\x02\x03")  # zero-padded to a word
        f.put_words(memoryview(b"\x04" * 8))
        assert f.words() == [5, 6, 0x030201, 0x0404040404040404]
        assert repr(f) == "UtcbFrame(u=4@0, t=0@0)"
        assert f.unpack(two) == (5, 6) and f.left == 2
        assert bytes(f.view()) == b"\x01\x02\x03" + bytes(5) + b"\x04" * 8
        with pytest.raises(UtcbError):
            f.unpack(struct.Struct("<QQQ"))
        f.skip(2)
        assert repr(f) == "UtcbFrame(u=4@4, t=0@0)"
        f.put_words([0] * (f.free_untyped - 1))
        with pytest.raises(CapacityError):
            f.pack(two, 1, 2)
        with pytest.raises(CapacityError):
            f.put_words(bytes(9))
        f.pack(struct.Struct("<Q"), 9)
        assert f.free_untyped == 0


def _full() -> tuple[Utcb, UtcbFrame]:
    u = Utcb(X86_64)
    f = UtcbFrame(u)
    f.put_words([1] * 253)
    return u, f


def _one_word() -> tuple[Utcb, UtcbFrame]:
    u = Utcb(X86_64)
    f = UtcbFrame(u)
    f.put_word(1)
    return u, f


def _two_frames() -> tuple[Utcb, UtcbFrame]:
    u = Utcb(X86_64)
    f = UtcbFrame(u)
    UtcbFrame(u)
    return u, f


def _all_items() -> tuple[Utcb, UtcbFrame]:
    u = Utcb(X86_64)
    f = UtcbFrame(u)
    for k in range(126):
        f.put_item(k, 0)
    return u, f


# Every refusal of a frame operation: (setup, operation, the exception's code: message).
REFUSALS: list[tuple[str, Any, Any, str]] = [
    (
        "nest",
        _full,
        lambda u, f: UtcbFrame(u),
        "E_CAPACITY: no room in the UTCB to nest another frame",
    ),
    ("pop", lambda: (Utcb(), None), lambda u, f: u.pop(), "E_ASSERT: pop without push"),
    (
        "close",
        _two_frames,
        lambda u, f: f.close(),
        "E_ASSERT: frames must be closed innermost first",
    ),
    (
        "exit",
        _two_frames,
        lambda u, f: f.__exit__(None, None, None),
        "E_ASSERT: frames must be closed innermost first",
    ),
    (
        "finish",
        _one_word,
        lambda u, f: f.finish_input(),
        "E_ARGS_INVALID: words or items left over",
    ),
    ("put_word", _full, lambda u, f: f.put_word(0), "E_CAPACITY: untyped words exhausted"),
    (
        "put_words",
        _one_word,
        lambda u, f: f.put_words([0] * 253),
        "E_CAPACITY: 253 words do not fit, 252 free",
    ),
    (
        "put bytes",
        _one_word,
        lambda u, f: f.put_words(bytes(2017)),
        "E_CAPACITY: 253 words do not fit, 252 free",
    ),
    (
        "pack",
        _full,
        lambda u, f: f.pack(__import__("struct").Struct("<Q"), 0),
        "E_CAPACITY: 1 words do not fit, 0 free",
    ),
    ("put_item", _all_items, lambda u, f: f.put_item(0, 0), "E_CAPACITY: typed items exhausted"),
    (
        "get_word",
        lambda: (Utcb(), UtcbFrame(Utcb())),
        lambda u, f: f.get_word(),
        "E_UTCB_UNTYPED: no untyped word left",
    ),
    ("get_words", _one_word, lambda u, f: f.get_words(2), "E_UTCB_UNTYPED: 2 words wanted, 1 left"),
    (
        "unpack",
        _one_word,
        lambda u, f: f.unpack(__import__("struct").Struct("<QQ")),
        "E_UTCB_UNTYPED: 2 words wanted, 1 left",
    ),
    ("skip", _one_word, lambda u, f: f.skip(2), "E_UTCB_UNTYPED: cannot skip 2 words"),
    ("get_item", _one_word, lambda u, f: f.get_item(), "E_UTCB_TYPED: no typed item left"),
]


@pytest.mark.parametrize(
    ("setup", "op", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_every_refusal_and_its_message(setup: Any, op: Any, message: str) -> None:
    u, f = setup()
    with pytest.raises(UtcbError) as e:
        op(u, f)
    assert str(e.value) == message


def test_reading_advances_one_at_a_time() -> None:
    u = Utcb(X86_64)
    with UtcbFrame(u) as f:
        f.put_words([10, 11, 12])
        f.put_item(1, 0)
        f.put_item(2, 0)
        assert [f.get_word(), f.get_word()] == [10, 11] and f.upos == 2
        assert [f.get_item(), f.get_item()] == [(1, 0), (2, 0)] and f.tpos == 2
        assert f.items_left == 0 and f.left == 1
        f.clear()
        assert (f.upos, f.tpos, f.untyped, f.typed) == (0, 0, 0, 0)
        f.put_words([5, 6])
        assert f.get_word() == 5  # reading starts again at the first word


@pytest.mark.parametrize("how", ["close", "exit"])
def test_a_closed_frame_never_closes_the_next_one(how: str) -> None:
    u = Utcb(X86_64)
    a = UtcbFrame(u)
    a.put_word(1)
    UtcbFrame(u, push=False).close()  # a reference (NRE's UtcbFrameRef) pops nothing
    with UtcbFrame(u, push=False):
        pass
    assert u.layer == 1
    a.close() if how == "close" else a.__exit__(None, None, None)
    b = UtcbFrame(u)  # the same layer again
    b.put_word(2)
    a.close() if how == "close" else a.__exit__(None, None, None)
    assert u.layer == 1 and b.words() == [2]
    b.close()
    assert u.layer == 0


def test_message_slices_cover_n_words_from_mr0() -> None:
    from runtime.kernel import utcb as mod

    for arch in (X86_64, X86_32):
        mod._SLICES.pop(arch.name, None)
        t = mod._message_slices(arch)
        w = arch.word
        assert len(t) == arch.msg_words + 1
        assert (t[0], t[3], t[-1]) == (
            slice(5 * w, 5 * w),
            slice(5 * w, 8 * w),
            slice(5 * w, (5 + arch.msg_words) * w),
        )
        assert mod._message_slices(arch) is t  # one tuple per architecture
        assert Utcb(arch).msg is t and Utcb(arch).mr0 == 5 * w


def test_bookkeeping_word_at_pos_slot() -> None:
    """mr[POS_SLOT]: saved untyped words (bits 11..0), layer (15..12), saved typed (31..16)."""
    u = Utcb(X86_64)
    assert u.delivered == 0
    a = UtcbFrame(u)  # saves nothing
    assert u.mr(u.pos_slot) == 1 << 12
    a.put_words([1, 2])
    a.put_item(5, 6)
    b = UtcbFrame(u)  # saves 1 + 5 + 2 words and 2 + 1 item words
    assert u.mr(u.pos_slot) == 8 | 2 << 12 | 3 << 16
    b.close()
    assert u.mr(u.pos_slot) == 1 << 12
    a.close()
    assert u.mr(u.pos_slot) == 0


@pytest.mark.parametrize("window", ["xlt", "dele"])
def test_windows_of_the_outermost_frame(window: str) -> None:
    u = Utcb(X86_64)
    with UtcbFrame(u):
        setattr(u, window, 0x1003)  # armed inside: closed when the frame goes
    assert (u.xlt, u.dele, u.layer) == (0, 0, 0)
    setattr(u, window, 0x2003)  # armed outside: the frame saves and restores it
    with UtcbFrame(u) as f:
        assert (u.xlt, u.dele) == (0, 0) and f.free_untyped == 253 - 6
    assert getattr(u, window) == 0x2003


def test_a_received_message_is_saved_by_the_first_frame() -> None:
    u = Utcb(X86_64)
    u.set_word(5, 11)
    u.set_items(1, 0)  # a message delivered outside any frame
    with UtcbFrame(u) as f:
        assert (f.untyped, f.typed, f.free_untyped) == (0, 0, 253 - 7)
    assert (u.untyped, u.mr(0)) == (1, 11)


@pytest.mark.parametrize(("words", "ok"), [(247, True), (248, False)])
def test_nesting_at_the_untyped_edge(words: int, ok: bool) -> None:
    u = Utcb(X86_64)
    with UtcbFrame(u) as f:
        f.put_words([3] * words)
        if ok:
            with UtcbFrame(u) as g:
                assert g.free_untyped == 0
        else:
            with pytest.raises(CapacityError):
                UtcbFrame(u)
        assert f.words() == [3] * words


@pytest.mark.parametrize(("items", "ok"), [(63, True), (64, False)])
def test_nesting_at_the_typed_edge(items: int, ok: bool) -> None:
    u = Utcb(X86_64)
    with UtcbFrame(u) as f:
        for k in range(items):
            f.put_item(k, 0)
        if ok:
            with UtcbFrame(u) as g:
                free = g.free_typed
                for k in range(free):
                    g.put_item(k, 0)
                with pytest.raises(CapacityError):
                    g.put_item(0, 0)
                assert free == (507 - 253 - 1 - (2 * items + 1)) // 2
        else:
            with pytest.raises(CapacityError):
                UtcbFrame(u)
        assert len(list(f.items())) == items


@pytest.mark.parametrize("which", ["untyped", "typed"])
def test_saved_lengths_are_checked_at_their_edges(which: str) -> None:
    for delta, refused in ((0, False), (1, True)):
        u = Utcb(X86_64)
        outer = UtcbFrame(u)
        outer.put_words([1, 2, 3])
        outer.put_item(7, 0)
        outer.put_item(8, 0)
        inner = UtcbFrame(u)
        if which == "untyped":
            u.set_word(5 + u.room, 3 + delta)  # the saved untyped count
        else:
            u.set_word(5 + u.pos_slot + u.saved_t, 2 + delta)  # the saved typed count
        if refused:
            with pytest.raises(UtcbError) as e:
                inner.close()
            assert str(e.value) == "E_ASSERT: a message overwrote the frames saved in this UTCB"
            assert u.layer == 0
        else:
            inner.close()
            assert outer.words() == [1, 2, 3] and list(outer.items()) == [(7, 0), (8, 0)]


def test_a_frame_dropped_by_a_reset_stays_closed() -> None:
    u = Utcb(X86_64)
    UtcbFrame(u)
    a = UtcbFrame(u)
    a.put_word(1)
    b = UtcbFrame(u)
    u.set_word(5 + u.room, 10**6)  # overwritten: the pop resets the UTCB
    with pytest.raises(UtcbError):
        b.close()
    for how in ("close", "exit"):
        a.close() if how == "close" else a.__exit__(None, None, None)  # below: closed now
        UtcbFrame(u)
        c = UtcbFrame(u)  # a's layer again
        a.close() if how == "close" else a.__exit__(None, None, None)
        assert u.layer == 2
        c.close()
        u.pop()


def test_full_words_edges() -> None:
    u = Utcb(X86_64)
    top = 2**64 - 1
    u.set_mr0(top)
    assert u.mr(0) == top
    with UtcbFrame(u) as f:
        f.put_words([top, 2**63])
        assert f.words() == [top, 2**63]
        assert f.get_words(0) == b"" and f.left == 2
        f.skip(0)
        f.pack(__import__("struct").Struct("<Q"), 9)  # after two words
        assert f.get_word() == top
        assert f.unpack(__import__("struct").Struct("<QQ")) == (2**63, 9)  # exactly what is left
        assert f.upos == 3
    with UtcbFrame(u) as f:
        f.put_words(bytes(253 * 8))  # exactly the capacity, as bytes
        assert f.free_untyped == 0
        for k in range(2):
            f.put_item(k, k)
        assert u.item_pairs(2) == [(0, 0), (1, 1)]
    v = Utcb(X86_32)
    v.set_items(0, 0x8000)
    assert v.typed == 0x8000 and v.items == 0x8000 << 16
