"""The UTCB and NRE's copy-mode `UtcbFrame` (NOVA-NRE.md §2, §8.1; WIRE.md §1).

Layout of the 4 KiB page, in words of the architecture (W = 512 on x86_64, 1024 on x86_32):
word 0 top/bottom (always 0 in copy mode), 1 items = untyped | typed<<16, 2 translate
window, 3 delegate window, 4 tls, then the message words mr[0..]. Typed item k is two
words at W-2-2k (Crd) and W-1-2k (flags | hotspot<<12), growing down from the page end.

Nested frames follow NRE's copy mode: the live frame is always at the base; pushing a
frame saves the live header and untyped words on a stack that grows down from
`POS_SLOT = msg_words // 2`, and its typed words on a stack that grows up from
`POS_SLOT + 1`; mr[POS_SLOT] is the bookkeeping word (saved untyped in bits 11..0, layer
in 15..12, saved typed in 31..16).

The page is the interface, as in NOVA: the live frame's counters *are* the items word
(word 1), so what user code writes there is what the kernel sends, and what the kernel
delivers is what the receiver reads. The frames are NRE's, user-level bookkeeping the
kernel knows nothing of.
"""

from __future__ import annotations

import operator
import struct
import sys
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType
from typing import Any, Final

from .arch import PAGE_SIZE, X86_64, Arch
from .crd import DELEGATE
from .status import CapacityError, ErrorCode, UtcbError

__all__ = ["Utcb", "UtcbFrame"]

_HDR = 5  # header words
_PAIR_64, _PAIR_32 = struct.Struct("<QQ"), struct.Struct("<II")
# `Utcb.words` reads the page in the host's byte order; the items word is read through it
# only where that is the page's (x86's) little-endian order.
_LE: Final = sys.byteorder == "little"
_SLICES: dict[str, tuple[slice, ...]] = {}


def _message_slices(arch: Arch) -> tuple[slice, ...]:
    """One slice per untyped count up to the page's capacity, shared by every UTCB of the
    architecture: the kernel's copy of n words is `dst[msg[n]] = src[msg[n]]`."""
    t = _SLICES.get(arch.name)
    if t is None:
        w, mr0 = arch.word, _HDR * arch.word
        t = _SLICES[arch.name] = tuple(slice(mr0, mr0 + n * w) for n in range(arch.msg_words + 1))
    return t


class Utcb:
    """One EC's UTCB page with its live frame counters."""

    __slots__ = (
        "arch",
        "buf",
        "delivered",
        "layer",
        "mask",
        "mr0",
        "msg",
        "msg_words",
        "page_words",
        "pair",
        "pos_slot",
        "room",
        "saved_t",
        "saved_u",
        "slot_off",
        "word",
        "words",
        "wst",
    )

    def __init__(self, arch: Arch = X86_64) -> None:
        self.arch = arch
        self.word = arch.word
        self.page_words = arch.page_words
        self.msg_words = arch.msg_words
        self.pos_slot = self.msg_words // 2
        self.buf = bytearray(PAGE_SIZE)
        self.wst = struct.Struct("<Q" if arch.word == 8 else "<I")
        # two words at once: a typed item (Crd, aux), or the windows (xlt, del)
        self.pair = _PAIR_64 if arch.word == 8 else _PAIR_32
        self.mask = arch.word_mask
        # the items word as `set_items` (the kernel's deliveries among them) last wrote it:
        # what NRE's code would read from the page right after the kernel returns, as no
        # code of this EC ran since (the receive loop and `call_fixed` read it there only)
        self.delivered = 0
        self.saved_u = 0
        self.room = self.pos_slot  # pos_slot - saved_u: the live frame's untyped capacity
        self.saved_t = 0
        self.layer = 0
        self.mr0 = _HDR * self.word  # byte offset of mr[0]
        self.slot_off = (_HDR + self.pos_slot) * self.word  # byte offset of mr[POS_SLOT]
        self.msg = _message_slices(arch)  # msg[n]: the bytes of mr[0..n), for the kernel
        # the page as words in the host's byte order: for zero tests of header words only
        # (a zero word reads 0 in either order), ~2x faster than a bytes comparison
        self.words = memoryview(self.buf).cast("Q" if self.word == 8 else "I")

    # -- raw words -------------------------------------------------------------------------
    def word_at(self, index: int) -> int:
        """Word `index` of the page (0 = header word 0)."""
        return int(self.wst.unpack_from(self.buf, index * self.word)[0])

    def set_word(self, index: int, value: int) -> None:
        self.wst.pack_into(self.buf, index * self.word, value & self.mask)

    def set_mr0(self, value: Any) -> None:
        """mr[0], the first message word (the opcode of a request, the status of a reply).
        ``value`` is an int in the word's range, written as the object given (compiled,
        an ``int`` parameter is unboxed and a large one boxed again, ~600 instructions
        of a null call); anything else raises ValueError, TypeError or OverflowError."""
        if _LE:
            self.words[5] = value
        else:
            w = operator.index(value)
            if w < 0 or w > self.mask:
                raise ValueError(f"mr[0] {w:#x} does not fit a word")
            self.set_word(5, w)

    def mr(self, i: int) -> int:
        return self.word_at(_HDR + i)

    @property
    def xlt(self) -> int:
        """The translate receive window (header word 2)."""
        return self.word_at(2)

    @xlt.setter
    def xlt(self, value: int) -> None:
        self.set_word(2, value)

    @property
    def dele(self) -> int:
        """The delegate receive window (header word 3)."""
        return self.word_at(3)

    @dele.setter
    def dele(self, value: int) -> None:
        self.set_word(3, value)

    def idle(self) -> bool:
        """No live frame, no message, both receive windows closed: a request written at
        mr[0] of this page disturbs nothing (zero words read 0 in either byte order)."""
        v = self.words
        return not (self.layer or v[1] or v[2] or v[3])

    # -- the items word: untyped (bits 15..0) | typed (bits 31..16) (NOVA-NRE.md §2) -----
    @property
    def items(self) -> int:
        """The header's items word (its low 32 bits, which the kernel reads)."""
        if _LE:
            return int(self.words[1]) & 0xFFFFFFFF
        return self.word_at(1) & 0xFFFFFFFF

    def set_items(self, untyped: int, typed: int) -> None:
        v = self.delivered = untyped | typed << 16
        if _LE:
            self.words[1] = v
        else:
            self.set_word(1, v)

    @property
    def untyped(self) -> int:
        """The live frame's untyped words: bits 15..0 of the items word."""
        return self.items & 0xFFFF

    @untyped.setter
    def untyped(self, n: int) -> None:
        self.set_items(n & 0xFFFF, self.items >> 16)

    @property
    def typed(self) -> int:
        """The live frame's typed items: bits 31..16 of the items word."""
        return self.items >> 16

    @typed.setter
    def typed(self, n: int) -> None:
        self.set_items(self.items & 0xFFFF, n & 0xFFFF)

    def item(self, k: int) -> tuple[int, int]:
        """Typed item k as (crd, aux)."""
        w = self.page_words - 2 - 2 * k
        return self.word_at(w), self.word_at(w + 1)

    def item_pairs(self, t: int) -> list[tuple[int, int]]:
        """The first ``t`` typed items as (crd, aux) pairs: `item` for each, one unpack each."""
        unpack, w, buf = self.pair.unpack_from, self.word, self.buf
        top = (self.page_words - 2) * w
        if t == 1:  # one capability, the common case: no comprehension
            return [unpack(buf, top)]
        return [unpack(buf, top - 2 * w * k) for k in range(t)]

    def set_item(self, k: int, crd: int, aux: int) -> None:
        w = self.page_words - 2 - 2 * k
        self.set_word(w, crd)
        self.set_word(w + 1, aux)

    # -- capacities ------------------------------------------------------------------------
    @property
    def untyped_capacity(self) -> int:
        """Untyped words the live frame can hold at most (also what a receive may write)."""
        return self.room

    @property
    def typed_capacity(self) -> int:
        return (self.msg_words - self.pos_slot - 1 - self.saved_t) // 2

    @property
    def free_untyped(self) -> int:
        return self.room - self.untyped

    @property
    def free_typed(self) -> int:
        return (self.msg_words - self.pos_slot - 1 - self.saved_t - 2 * self.typed) // 2

    def reset(self) -> None:
        """Empty the live frame and close both receive windows (NRE `reset()`)."""
        self.set_word(1, 0)
        self.set_word(2, 0)
        self.set_word(3, 0)

    # -- nesting ---------------------------------------------------------------------------
    def _bookkeeping(self) -> None:
        self.set_word(
            _HDR + self.pos_slot, self.saved_u | (self.layer & 0xF) << 12 | self.saved_t << 16
        )

    def push(self) -> None:
        """Save the live frame and start an empty one; CapacityError leaves all unchanged.

        Like NRE, the outermost frame of an idle UTCB saves nothing, so it gets the full
        253/126 (x86_64) or 509/254 (x86_32) words and items.
        """
        u, t, w = self.untyped, self.typed, self.word
        buf = self.buf
        v = self.words
        if not (self.layer or u or t or v[2] or v[3] or v[4]):
            # The fast path of every outermost frame (each stub call): words 1..4 are
            # already 0, so reset() has nothing left to do.
            self.layer = 1
            self.wst.pack_into(buf, self.slot_off, self.saved_u | 1 << 12 | self.saved_t << 16)
            return
        need_u = 1 + _HDR + u
        need_t = 2 * t + 1
        if self.saved_u + need_u > self.pos_slot or (
            self.pos_slot + 1 + self.saved_t + need_t > self.msg_words - 2 * t
        ):
            raise CapacityError("no room in the UTCB to nest another frame")
        # Untyped stack grows down: [len][5 header words][u words] at the lowest address.
        lo = _HDR + self.room - need_u
        buf = self.buf
        block = bytes(buf[0 : _HDR * w]) + bytes(buf[_HDR * w : (_HDR + u) * w])
        buf[(lo + 1) * w : (lo + need_u) * w] = block
        self.set_word(lo, u)
        # Typed stack grows up: [2t item words][len] with the length on top.
        tlo = _HDR + self.pos_slot + 1 + self.saved_t
        end = PAGE_SIZE
        buf[tlo * w : (tlo + 2 * t) * w] = bytes(buf[end - 2 * t * w : end])
        self.set_word(tlo + 2 * t, t)
        self.saved_u += need_u
        self.room -= need_u
        self.saved_t += need_t
        self.layer += 1
        self._bookkeeping()
        self.reset()

    def pop(self) -> None:
        """Drop the live frame and restore the one saved by the matching push."""
        layer = self.layer
        if layer == 0:
            raise UtcbError(ErrorCode.E_ASSERT, "pop without push")
        if layer == 1 and not self.saved_u:
            # The push saved nothing (only the first push of an idle UTCB does that, and a
            # saving push always grows saved_u). Inlined _bookkeeping() and reset().
            self.layer = 0
            buf = self.buf
            self.wst.pack_into(buf, self.slot_off, self.saved_t << 16)
            v = self.words
            v[1] = 0  # a zero word in either byte order
            if v[2] or v[3]:  # a window still armed: close it
                v[2] = v[3] = 0
            return
        w, buf = self.word, self.buf
        tl = _HDR + self.pos_slot + 1 + self.saved_t - 1
        t = self.word_at(tl)
        lo = _HDR + self.room
        u = self.word_at(lo)
        if lo + 1 + _HDR + u > _HDR + self.pos_slot or tl - 2 * t < _HDR + self.pos_slot + 1:
            # The saved frame's length words were overwritten: the kernel copies a message
            # up to the page's capacity, past the live frame, as NOVA does (§2). What was
            # saved is lost; start over with an empty UTCB rather than restore garbage.
            self.layer = self.saved_u = self.saved_t = 0
            self.room = self.pos_slot
            self._bookkeeping()
            self.reset()
            raise UtcbError(ErrorCode.E_ASSERT, "a message overwrote the frames saved in this UTCB")
        end = PAGE_SIZE
        if t:
            buf[end - 2 * t * w : end] = bytes(buf[(tl - 2 * t) * w : tl * w])
        self.saved_t -= 2 * t + 1
        buf[0 : (_HDR + u) * w] = bytes(buf[(lo + 1) * w : (lo + 1 + _HDR + u) * w])
        self.saved_u -= 1 + _HDR + u
        self.room += 1 + _HDR + u
        self.layer -= 1  # the restored header holds the saved frame's items word (u, t)
        self._bookkeeping()

    def frame(self) -> UtcbFrame:
        """A new nested frame on this UTCB (NRE `UtcbFrame`)."""
        return UtcbFrame(self)

    def __repr__(self) -> str:
        return f"Utcb({self.arch.name}, u={self.untyped}, t={self.typed}, layer={self.layer})"


class UtcbFrame:
    """A cursor over the live frame of a UTCB.

    `UtcbFrame(utcb)` pushes a fresh frame (close it, or use `with`, to pop it);
    `UtcbFrame(utcb, push=False)` is NRE's `UtcbFrameRef`, which a portal handler gets
    for the message it received. Writes append; reads advance their own cursors.
    """

    __slots__ = ("_closed", "layer", "page", "pid", "tpos", "upos", "utcb")

    def __init__(self, utcb: Utcb, *, push: bool = True, pid: int = -1) -> None:
        if push:
            utcb.push()
        self.utcb = utcb
        self.page = utcb.buf  # the UTCB page (one attribute read for generated decoders)
        self.layer = utcb.layer if push else -1
        self.upos = 0
        self.tpos = 0
        self.pid = pid  # for a handler's frame: the id of the portal that was called
        self._closed = False

    # -- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed or self.layer < 0 or self.utcb.layer < self.layer:
            self._closed = True  # (below its layer: dropped with a destroyed save, `pop`)
            return
        if self.utcb.layer != self.layer:
            raise UtcbError(ErrorCode.E_ASSERT, "frames must be closed innermost first")
        self._closed = True
        self.utcb.pop()

    def __enter__(self) -> UtcbFrame:
        return self

    def __exit__(
        self,
        et: type[BaseException] | None,
        ev: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close(), inlined: every stub call ends here.
        u = self.utcb
        if self._closed or self.layer < 0 or u.layer < self.layer:
            self._closed = True
            return
        if u.layer != self.layer:
            raise UtcbError(ErrorCode.E_ASSERT, "frames must be closed innermost first")
        self._closed = True
        u.pop()

    # -- state -----------------------------------------------------------------------------
    @property
    def untyped(self) -> int:
        return self.utcb.untyped

    @property
    def typed(self) -> int:
        return self.utcb.typed

    @property
    def free_untyped(self) -> int:
        return self.utcb.free_untyped

    @property
    def free_typed(self) -> int:
        return self.utcb.free_typed

    def clear(self) -> None:
        """Drop the message and rewind (windows stay armed)."""
        self.utcb.set_items(0, 0)
        self.upos = 0
        self.tpos = 0

    def rewind(self) -> None:
        self.upos = 0
        self.tpos = 0

    def finish_input(self) -> None:
        """Check that every word and item was read, then clear for the reply."""
        u = self.utcb
        if self.upos != u.untyped or self.tpos != u.typed:
            raise UtcbError(ErrorCode.E_ARGS_INVALID, "words or items left over")
        u.set_items(0, 0)  # clear(), inlined
        self.upos = self.tpos = 0

    def delegation_window(self, crd: int) -> None:
        self.utcb.dele = crd

    def translation_window(self, crd: int) -> None:
        self.utcb.xlt = crd

    # -- writing ---------------------------------------------------------------------------
    def put_word(self, value: int) -> None:
        u = self.utcb
        n = u.untyped
        if n >= u.room:
            raise CapacityError("untyped words exhausted")
        u.wst.pack_into(u.buf, (_HDR + n) * u.word, value & u.mask)
        u.untyped = n + 1

    def put_words(self, data: bytes | bytearray | memoryview | Sequence[int]) -> None:
        """Append words: little-endian bytes (zero-padded to a word) or a sequence of ints."""
        u = self.utcb
        w = u.word
        if isinstance(data, (bytes, bytearray, memoryview)):
            nbytes = data.nbytes if isinstance(data, memoryview) else len(data)
            n = (nbytes + w - 1) // w
            if u.untyped + n > u.room:
                raise CapacityError(f"{n} words do not fit, {u.free_untyped} free")
            off = (_HDR + u.untyped) * w
            u.buf[off : off + nbytes] = data
            if nbytes % w:
                u.buf[off + nbytes : off + n * w] = bytes(n * w - nbytes)
        else:
            n = len(data)
            if u.untyped + n > u.room:
                raise CapacityError(f"{n} words do not fit, {u.free_untyped} free")
            fmt = ("<%dQ" if w == 8 else "<%dI") % n
            mask = u.mask
            struct.pack_into(fmt, u.buf, (_HDR + u.untyped) * w, *[v & mask for v in data])
        u.untyped += n

    def pack(self, st: struct.Struct, *values: object) -> None:
        """Append `st.pack(*values)` in place; `st.size` must be a multiple of the word."""
        u = self.utcb
        n = st.size // u.word
        if u.untyped + n > u.room:
            raise CapacityError(f"{n} words do not fit, {u.free_untyped} free")
        st.pack_into(u.buf, (_HDR + u.untyped) * u.word, *values)
        u.untyped += n

    def put_item(self, crd: int, aux: int) -> None:
        u = self.utcb
        if (u.msg_words - u.pos_slot - 1 - u.saved_t - 2 * u.typed) // 2 < 1:
            raise CapacityError("typed items exhausted")
        u.set_item(u.typed, crd, aux)
        u.typed += 1

    def delegate(self, crd: int, hotspot: int = 0, flags: int = 0) -> None:
        """Append a delegate item (NRE `DelItem`: aux = 1 | flags | hotspot<<12)."""
        self.put_item(crd, DELEGATE | (flags & 0xFFE) | hotspot << 12)

    def translate(self, crd: int) -> None:
        """Append a translate item (NRE `XltItem`: aux = 0)."""
        self.put_item(crd, 0)

    # -- the fixed-size paths of generated codecs: one call into the frame each -----------
    # (from interpreted code, each attribute read of a compiled object costs ~120
    # instructions: these save four of them per encode and five per decode)
    def begin(self, n: int) -> bytearray:
        """For a generated encoder: make ``n`` untyped words at mr[0] the frame's message
        (items word ``n``, no items, rewound) and return the page, where the encoder
        packs them (clearing the frame if that fails). Without room for them the frame
        is cleared and `CapacityError` raised, as the general path's `put_words` then
        does. (Raising rather than returning None spares the encoder a test.)"""
        u = self.utcb
        if u.room < n:
            self.clear()
            raise CapacityError(f"{n} words do not fit, {u.room} free")
        u.set_items(n, 0)
        self.upos = 0
        self.tpos = 0
        return u.buf

    def take(
        self, unpack: Callable[[bytearray, int], tuple[Any, ...]], n: int
    ) -> tuple[Any, ...] | None:
        """For a generated decoder of a fixed-size message: when the frame is unread and
        its message is exactly ``n`` untyped words without items, read the page from
        header word 1 with ``unpack`` (a Struct's bound ``unpack_from``, whose format reads
        the items word's low 32 bits, skips the rest of the header, then reads the ``n``
        words) and consume the words; else None, nothing consumed. `give_back` undoes it
        when a check of the values fails. (One unpack for the items word and the words: a
        word read apart costs ~200 instructions; the bound method spares a method lookup
        per call.)"""
        if self.upos or self.tpos:
            return None
        u = self.utcb
        r = unpack(u.buf, u.word)
        items: int = r[0]
        if items != n:
            return None
        self.upos = n
        return r

    def give_back(self, n: int) -> None:
        """Unread the last ``n`` untyped words (what `take` consumed)."""
        if n < 0 or n > self.upos:
            raise UtcbError(ErrorCode.E_UTCB_UNTYPED, f"cannot give back {n} words")
        self.upos -= n

    def rest(self) -> int:
        """For a generated decoder of a variable-size message: ``left << 16 | offset``,
        the unread untyped words and the byte offset in `page` of the next one, when no
        typed item is left to read; else -1. One call for what are otherwise five
        attribute reads."""
        u = self.utcb
        i = u.items
        if i >> 16 != self.tpos:
            return -1
        p = self.upos
        left = (i & 0xFFFF) - p
        if left < 0:
            return -1
        return left << 16 | (u.mr0 + p * u.word)

    # -- reading ---------------------------------------------------------------------------
    def get_word(self) -> int:
        u = self.utcb
        pos = self.upos
        if pos >= u.untyped:
            raise UtcbError(ErrorCode.E_UTCB_UNTYPED, "no untyped word left")
        v: int = u.wst.unpack_from(u.buf, (_HDR + pos) * u.word)[0]
        self.upos = pos + 1
        return v

    def get_words(self, n: int) -> bytes:
        """The next n words as little-endian bytes."""
        u = self.utcb
        if n < 0 or self.upos + n > u.untyped:
            raise UtcbError(ErrorCode.E_UTCB_UNTYPED, f"{n} words wanted, {self.left} left")
        off = (_HDR + self.upos) * u.word
        self.upos += n
        return bytes(u.buf[off : off + n * u.word])

    def unpack(self, st: struct.Struct) -> tuple[object, ...]:
        """Read `st.size` bytes (whole words) in place with `st.unpack_from`."""
        u = self.utcb
        n = st.size // u.word
        if self.upos + n > u.untyped:
            raise UtcbError(ErrorCode.E_UTCB_UNTYPED, f"{n} words wanted, {self.left} left")
        off = (_HDR + self.upos) * u.word
        self.upos += n
        return st.unpack_from(u.buf, off)

    def view(self) -> memoryview:
        """The unread untyped words as a read-only view (valid until the next message)."""
        u = self.utcb
        w = u.word
        return memoryview(u.buf)[(_HDR + self.upos) * w : (_HDR + u.untyped) * w].toreadonly()

    def skip(self, n: int) -> None:
        if n < 0 or self.upos + n > self.utcb.untyped:
            raise UtcbError(ErrorCode.E_UTCB_UNTYPED, f"cannot skip {n} words")
        self.upos += n

    @property
    def left(self) -> int:
        """Unread untyped words."""
        return self.utcb.untyped - self.upos

    @property
    def items_left(self) -> int:
        return self.utcb.typed - self.tpos

    def get_item(self) -> tuple[int, int]:
        """The next typed item as (crd, aux)."""
        u = self.utcb
        if self.tpos >= u.typed:
            raise UtcbError(ErrorCode.E_UTCB_TYPED, "no typed item left")
        it = u.item(self.tpos)
        self.tpos += 1
        return it

    def items(self) -> Iterator[tuple[int, int]]:
        """All typed items of the frame as (crd, aux), not moving the cursor."""
        u = self.utcb
        for k in range(u.typed):
            yield u.item(k)

    def words(self) -> list[int]:
        """All untyped words of the frame (for tests and debugging)."""
        u = self.utcb
        fmt = ("<%dQ" if u.word == 8 else "<%dI") % u.untyped
        return list(struct.unpack_from(fmt, u.buf, _HDR * u.word))

    def __repr__(self) -> str:
        return f"UtcbFrame(u={self.untyped}@{self.upos}, t={self.typed}@{self.tpos})"
