"""Emulated physical memory, page tables, pagers and shared dataspaces (NOVA-NRE.md §3, §5).

- **Physical memory**: `PhysMem.of(kernel)`, frames of 4 KiB allocated on first write
  (sparse; reads of untouched frames give zeros). Its size is `Machine(mem_pages=n)`:
  root owns frames 0..n-1 identity-mapped at boot.
- **Page tables**: a PD's memory capability space *is* its page table: virtual page v is
  mapped to the frame its mapping-database node names, with the node's R/W/X rights.
  Memory delegations (Crd type 1, any order) fill it, revoke empties it; there is no
  separate structure to keep coherent (and so no TLB to shoot down).
- **Accesses** from an EC go through `Insn.read/write/fetch` (runtime.platform.fault): every page
  touched is checked; a missing mapping or right is a #PF with the x86 error code
  (bit 0 present, 1 write, 2 user, 4 instruction fetch) in qual[0] and the faulting
  address (CR2) in qual[1]. Nothing is written unless every page of the access is
  writable, so a retried access is idempotent.
- **Pager** (NRE's pattern): the #PF handler replies with a memory delegation at hotspot
  = the fault page; the kernel's window for a faulting EC places it there and the
  access is retried. Revoking the pager's page unmaps it in the client; the next access
  faults again.
- **Dataspace**: pages of one PD delegated to others (the bulk-data path of NRE's
  Producer/Consumer rings); `Ring` is a word ring on top of one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .exc import ExcState, Mtd, Vector, event_portal
from .kernel import mdb
from .kernel.arch import PAGE_SIZE
from .kernel.crd import CrdType, MemRights, crd
from .kernel.utcb import UtcbFrame
from .platform.memory import PF_FETCH, PF_PRESENT, PF_USER, PF_WRITE, PageFault, PhysMem, check

if TYPE_CHECKING:
    from .api import Sm
    from .machine import Machine, Process
    from .platform.fault import Insn

__all__ = [
    "PF_FETCH",
    "PF_PRESENT",
    "PF_USER",
    "PF_WRITE",
    "Dataspace",
    "PageFault",
    "Pager",
    "PhysMem",
    "Ring",
    "check",
    "grant_memory",
]


def grant_memory(src: Process, pages: range, dst: Process, at: int, rights: int = 7) -> None:
    """Boot-time memory delegation: `src`'s pages to `dst` from virtual page `at`."""
    from .machine import pd_of  # the host's boot-time wiring, as the Machine sees the PDs

    for i, p in enumerate(pages):
        mdb.delegate(pd_of(src).mem, p, pd_of(dst).mem, at + i, 0, rights)


class Pager:
    """NRE's pager: a #PF handler in `owner` that maps one of its free pages at every
    fault page of a client. Clients get the portal at their `evt + 14`."""

    def __init__(
        self,
        owner: Process,
        pages: range,
        rights: int = MemRights.R | MemRights.W,
        cpu: int = 0,
    ) -> None:
        self.owner = owner
        self.free = list(reversed(pages))  # owner's virtual pages to hand out
        self.rights = rights
        self.faults = 0
        self.log: list[tuple[int, int]] = []  # (error code, CR2) of every fault
        self.mapped: dict[tuple[str, int], int] = {}  # (client, page) -> owner page
        self.on_fault: Callable[[int, int], None] | None = None
        self.cpu = cpu
        self._clients: dict[int, str] = {}  # portal id -> client name

    def serve(self, client: Process, evt: int = 0) -> None:
        """Install the pager as `client`'s #PF handler: a portal of its own (its id names
        the client, as NRE's per-child portals do) at the client's evt + 14."""
        owner = self.owner
        with owner.acting():
            sel = event_portal(owner.env, owner.env.alloc(32), self._handle, Mtd.QUAL, self.cpu)
        owner.grant(sel, client, evt + Vector.PF)
        self._clients[sel] = client.name

    def _handle(self, f: UtcbFrame) -> None:
        st = ExcState(f)
        err, cr2 = st.err, st.cr2
        self.faults += 1
        self.log.append((err, cr2))
        if self.on_fault is not None:
            self.on_fault(err, cr2)
        if err & PF_PRESENT or not self.free:
            st.kill()  # a protection fault, or out of memory: NRE kills the client
            return
        page = self.free.pop()
        f.delegate(crd(CrdType.MEM, page, 0, self.rights), hotspot=cr2 >> 12)
        st.reply(0)  # registers unchanged: the access runs again
        self.mapped[(self._clients.get(f.pid, ""), cr2 >> 12)] = page

    def owner_page(self, client: Process, client_page: int) -> int | None:
        return self.mapped.get((client.name, client_page))

    def unmap(self, client: Process, client_page: int) -> None:
        """Revoke the owner's page behind `client_page` from everyone it was given to
        (as the owner PD; between runs or from one of the owner's ECs)."""
        from .api import Syscalls
        from .kernel.crd import Crd

        page = self.mapped.pop((client.name, client_page), None)
        if page is None:
            return
        with self.owner.acting():
            Syscalls(self.owner.env.gate).revoke(Crd.mem(page), self_=False)
        self.free.append(page)


class Dataspace:
    """`pages` contiguous virtual pages of `owner`, shared by delegating them."""

    def __init__(self, owner: Process, base_page: int, pages: int) -> None:
        self.owner = owner
        self.base = base_page
        self.pages = pages

    @property
    def addr(self) -> int:
        return self.base << 12

    @property
    def size(self) -> int:
        return self.pages << 12

    def items(self, f: UtcbFrame, rights: int = MemRights.R | MemRights.W) -> None:
        """Append the delegation items of the whole dataspace to a reply frame (aligned
        power-of-two pieces, hotspots relative to the receiver's window)."""
        done = 0
        while done < self.pages:
            start = self.base + done
            o = 0
            while (
                (start & ((2 << o) - 1)) == 0
                and (done & ((2 << o) - 1)) == 0
                and done + (2 << o) <= self.pages
            ):
                o += 1
            f.delegate(crd(CrdType.MEM, start, o, rights), hotspot=done)
            done += 1 << o

    def share(self, to: Process, at_page: int, rights: int = 7) -> None:
        """Boot-time form of `items`: map the dataspace into `to` at `at_page`."""
        grant_memory(self.owner, range(self.base, self.base + self.pages), to, at_page, rights)

    @staticmethod
    def window(f: UtcbFrame, at_page: int, pages: int) -> None:
        """Arm `f` to receive a dataspace of `pages` (a power of two) at `at_page`."""
        order = max(pages - 1, 0).bit_length()
        f.delegation_window(crd(CrdType.MEM, at_page, order))


class Ring:
    """NRE's Producer/Consumer ring in a shared dataspace: header words rpos, wpos, then
    `slots` (a power of two) words; the producer ups `sm` per item, the consumer downs it."""

    def __init__(self, addr: int, slots: int, sm: Sm, word: int = 8) -> None:
        assert slots & (slots - 1) == 0
        self.addr, self.slots, self.sm, self.word = addr, slots, sm, word

    def _rw(self, ins: Insn, i: int, value: int | None = None) -> int:
        a = self.addr + i * self.word
        if value is None:
            return int.from_bytes(ins.read(a, self.word), "little")
        ins.write(a, value.to_bytes(self.word, "little"))
        return value

    def put(self, ins: Insn, value: int) -> bool:
        """Append one word; False if the ring is full."""
        r, w = self._rw(ins, 0), self._rw(ins, 1)
        if w - r >= self.slots:
            return False
        self._rw(ins, 2 + (w & (self.slots - 1)), value)
        self._rw(ins, 1, w + 1)
        self.sm.up()
        return True

    def get(self, ins: Insn) -> int:
        """Wait for and take one word."""
        self.sm.down()
        r = self._rw(ins, 0)
        v = self._rw(ins, 2 + (r & (self.slots - 1)))
        self._rw(ins, 0, r + 1)
        return v


def memory_size(m: Machine) -> int:
    """Bytes of physical memory of the machine."""
    return PhysMem.of(m.k).frames * PAGE_SIZE
