"""Emulated physical memory and the page-table walk (NOVA-NRE.md §3).

- `PhysMem.of(kernel)`: frames of 4 KiB allocated on first write (sparse; reads of
  untouched frames give zeros), registered with the kernel as `Kernel.phys`.
- A PD's memory capability space *is* its page table: `check` walks it for an access and
  raises `PageFault` with the x86 error code (bit 0 present, 1 write, 2 user, 4 fetch)
  and the faulting address for the first page that is unmapped or lacks the right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kernel.arch import PAGE_SIZE
from ..kernel.crd import MemRights

if TYPE_CHECKING:
    from ..kernel.kernel import Kernel
    from ..kernel.pd import Pd

# A page of memory: a physical frame number, or an EC's UTCB page itself.
Frame = int | bytearray

__all__ = [
    "PF_FETCH",
    "PF_PRESENT",
    "PF_USER",
    "PF_WRITE",
    "Frame",
    "PageFault",
    "PhysMem",
    "check",
]

PF_PRESENT = 1 << 0
PF_WRITE = 1 << 1
PF_USER = 1 << 2
PF_FETCH = 1 << 4


class PhysMem:
    """Physical memory: `frames` frames of 4 KiB, materialised on first write."""

    __slots__ = ("frames", "store")

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.store: dict[int, bytearray] = {}

    @classmethod
    def of(cls, k: Kernel) -> PhysMem:
        pm: PhysMem | None = k.phys
        if pm is None:
            root = k.root_pd
            n = 0 if root is None else (max(root.mem.nodes, default=-1) + 1)
            pm = k.phys = cls(n)
        return pm

    def read(self, frame: Frame, off: int, n: int) -> bytes:
        page = frame if isinstance(frame, bytearray) else self.store.get(frame)
        return bytes(n) if page is None else bytes(page[off : off + n])

    def page(self, frame: int) -> bytearray:
        """Frame `frame`'s bytes, materialised now: an emulated CPU maps them directly
        (runtime.platform.guest), so they never move or get replaced."""
        page = self.store.get(frame)
        if page is None:
            page = self.store[frame] = bytearray(PAGE_SIZE)
        return page

    def write(self, frame: Frame, off: int, data: bytes | bytearray | memoryview) -> None:
        if isinstance(frame, bytearray):  # a UTCB page: the EC's own buffer
            frame[off : off + len(data)] = data
            return
        page = self.store.get(frame)
        if page is None:
            page = self.store[frame] = bytearray(PAGE_SIZE)
        page[off : off + len(data)] = data


class PageFault(Exception):
    def __init__(self, err: int, cr2: int) -> None:
        super().__init__(f"#PF err={err:#x} cr2={cr2:#x}")
        self.err = err
        self.cr2 = cr2


def _utcb_page(pd: Pd, addr: int) -> bytearray | None:
    """The UTCB page of `pd`'s live EC at `addr` (None: that EC is gone)."""
    for ec in pd.ecs:
        if ec.utcb_addr == addr and not ec.dead:
            return ec.utcb.buf
    return None


_NEED = {"r": MemRights.R, "w": MemRights.W, "x": MemRights.X}
_KIND_ERR = {"r": 0, "w": PF_WRITE, "x": PF_FETCH}


def check(pd: Pd, addr: int, n: int, kind: str) -> list[tuple[Frame, int, int]]:
    """The (frame, offset, length) pieces of an access of `n` bytes at `addr`, or
    PageFault for the first page that is unmapped or lacks the right (`kind` r/w/x).

    An EC's UTCB is mapped at its address in its PD, read and write, not executable, as
    the kernel maps it (NOVA-NRE.md §2): its frame is the UTCB page itself."""
    need = _NEED[kind] | MemRights.R  # a page without R is not present
    nodes = pd.mem.nodes
    utcbs = pd.utcbs
    out: list[tuple[Frame, int, int]] = []
    a, end = addr, addr + max(n, 1)
    while a < end:
        page, off = a >> 12, a & 0xFFF
        ln = min(PAGE_SIZE - off, end - a)
        if utcbs and page << 12 in utcbs and (buf := _utcb_page(pd, page << 12)) is not None:
            if kind == "x":
                raise PageFault(PF_PRESENT | PF_USER | PF_FETCH, a)
            out.append((buf, off, ln))
            a += ln
            continue
        node = nodes.get(page)
        if node is None or not node.rights & MemRights.R:
            raise PageFault(PF_USER | _KIND_ERR[kind], a)
        if node.rights & need != need:
            raise PageFault(PF_PRESENT | PF_USER | _KIND_ERR[kind], a)
        out.append((int(node.obj), off, ln))  # type: ignore[call-overload]
        a += ln
    return out
