"""Loading machine code into a new PD (issue 16): ELF64 executables and flat binaries.

Root is the loader, as NRE's parent is. `spawn_image` makes a child PD (`Machine.spawn`:
its self capability and its portals to root's services), marks it as a PD of machine code
(`runtime.platform.guest`), copies each segment into free frames of root's memory and
delegates them to the child at the segment's pages with the segment's rights (R, W if
writable, X if executable), gives it a stack, and makes its first global EC on `cpu`
with an SC from root.

Start protocol (NRE's STARTUP portal, NOVA-NRE.md §5): every PD loaded here gets, per CPU,
a portal at `evt + 30` to a local EC of root; its handler reads the new EC's stack and
starts it with rip = the word at rsp + 8, rdi = the word at rsp + 16 (its UTCB address)
and rsi = the word at rsp + 24 (its SC's selector). The loader writes that frame for the
first EC (its entry point, UTCB and SC, runtime/guest/include/nova.h's `main(u, sc)`); a
global EC the guest makes itself gets the same treatment from the stack it passes to
`create_ec`. Guest code exits by jumping to 0x800 + code (NRE's exit protocol).

Errors: a file that is no ELF64 x86-64 executable, or a segment outside the user
address space, raises `LoadError`; not enough of root's memory raises `LoadError` too.
"""

from __future__ import annotations

import io
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .api import LocalThread, Syscalls
from .exc import ExcState, Mtd, Vector
from .kernel import mdb
from .kernel.arch import PAGE_SIZE
from .kernel.crd import MemRights
from .kernel.sc import DEFAULT_PRIO, DEFAULT_QUANTUM
from .platform.guest import QUANTUM, GuestMachine
from .platform.memory import PageFault, PhysMem, check

if TYPE_CHECKING:
    from .kernel.pd import Pd
    from .kernel.utcb import UtcbFrame
    from .machine import Machine, Process

__all__ = [
    "FLAT_BASE",
    "STACK_TOP",
    "LoadError",
    "Segment",
    "read_elf",
    "spawn_elf",
    "spawn_flat",
    "spawn_image",
]

FLAT_BASE = 0x400000  # where a flat binary is loaded unless told otherwise
STACK_TOP = 0x7FF00000  # the first EC's stack ends here (pages below it, read/write)
_R, _W, _X = int(MemRights.R), int(MemRights.W), int(MemRights.X)


class LoadError(ValueError):
    """The image cannot be loaded (not an ELF64 x86-64 executable, out of memory...)."""


@dataclass(frozen=True)
class Segment:
    """`data` at `vaddr`, `memsz` bytes in all (the rest zero), with MemRights `rights`."""

    vaddr: int
    data: bytes
    memsz: int
    rights: int


def read_elf(image: bytes) -> tuple[list[Segment], int]:
    """The loadable segments and the entry point of an ELF64 x86-64 executable."""
    try:
        elf = ELFFile(io.BytesIO(image))
        if elf.elfclass != 64 or elf["e_machine"] != "EM_X86_64":
            raise LoadError("not an ELF64 x86-64 file")
        if elf["e_type"] != "ET_EXEC":
            raise LoadError(f"not an executable ({elf['e_type']}): link with -static -no-pie")
        segs = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or not seg["p_memsz"]:
                continue
            flags = seg["p_flags"]  # ELF: X 1, W 2, R 4
            rights = _R | (_W if flags & 2 else 0) | (_X if flags & 1 else 0)
            segs.append(Segment(seg["p_vaddr"], seg.data(), seg["p_memsz"], rights))
        return segs, int(elf["e_entry"])
    except ELFError as e:
        raise LoadError(f"bad ELF file: {e}") from None


def spawn_elf(m: Machine, name: str, path: str | Path, cpu: int = 0, **kw: int) -> Process:
    """Load the ELF64 executable at `path` into a new PD and start it on `cpu` (see
    `spawn_image` for the keywords)."""
    segs, entry = read_elf(Path(path).read_bytes())
    return spawn_image(m, name, segs, entry, cpu, **kw)


def spawn_flat(
    m: Machine, name: str, code: bytes, cpu: int = 0, base: int = FLAT_BASE, **kw: int
) -> Process:
    """Load a flat binary at `base` (read, write, execute) and start it there."""
    seg = Segment(base, code, max(len(code), 1), _R | _W | _X)
    return spawn_image(m, name, [seg], base, cpu, **kw)


# free frames of root's memory per machine, taken from the top down (tests and samples
# hand out root's low pages by number)
_frames: weakref.WeakKeyDictionary[Machine, list[int]] = weakref.WeakKeyDictionary()


def _take_frame(m: Machine) -> int:
    free = _frames.get(m)
    if free is None:
        root = m.pds[m.root]
        free = _frames[m] = sorted(p for p, n in root.mem.nodes.items() if n.rights == 7)
    if not free:
        raise LoadError("root has no free memory left (Machine(mem_pages=...))")
    return free.pop()


def _put(m: Machine, pd: Pd, vaddr: int, data: bytes, memsz: int, rights: int) -> None:
    """Back [vaddr, vaddr + memsz) of `pd` with root's frames and copy `data` there."""
    if vaddr < 0 or vaddr + memsz > m.k.arch.user_addr:
        raise LoadError(f"segment at {vaddr:#x} lies outside user space")
    root = m.pds[m.root]
    phys = PhysMem.of(m.k)
    for page in range(vaddr >> 12, (vaddr + memsz + PAGE_SIZE - 1) >> 12):
        node = pd.mem.nodes.get(page)
        if node is None:
            frame = _take_frame(m)
            mdb.delegate(root.mem, frame, pd.mem, page, 0, rights)
        else:  # two segments share the page: it gets both rights
            frame = int(node.obj)  # type: ignore[call-overload]
            node.rights |= rights
        buf = phys.page(frame)
        lo, hi = max(vaddr, page << 12), min(vaddr + len(data), (page + 1) << 12)
        if lo < hi:
            buf[lo & 0xFFF : (lo & 0xFFF) + hi - lo] = data[lo - vaddr : hi - vaddr]


def _write_word(m: Machine, pd: Pd, addr: int, value: int) -> None:
    phys = PhysMem.of(m.k)
    for frame, off, n in check(pd, addr, 8, "w"):
        phys.write(frame, off, value.to_bytes(8, "little")[:n])


def _read_word(m: Machine, pd: Pd, addr: int) -> int:
    phys = PhysMem.of(m.k)
    raw = b"".join(phys.read(fr, off, n) for fr, off, n in check(pd, addr, 8, "r"))
    return int.from_bytes(raw, "little")


class _Starter:
    """Root's STARTUP handler for the PDs it loaded: one local EC per CPU, a portal per
    child and CPU (its id names the child)."""

    def __init__(self, m: Machine) -> None:
        self.m = weakref.ref(m)
        self.threads: dict[int, int] = {}  # cpu -> root's local EC selector
        self.children: dict[int, Pd] = {}  # portal id -> the child's PD

    def portal(self, m: Machine, pd: Pd, cpu: int) -> int:
        root = m.root
        with root.acting():
            t = self.threads.get(cpu)
            if t is None:
                t = self.threads[cpu] = LocalThread(root.env, cpu).sel
            sel = root.env.alloc()
            code = m.gate.register_code(self._start, False)
            Syscalls(m.gate).create_pt(sel, t, code, Mtd.RSP | Mtd.GPR_BSD)
        self.children[sel] = pd
        return sel

    def _start(self, f: UtcbFrame) -> None:
        st = ExcState(f)
        m, pd = self.m(), self.children.get(f.pid)
        if m is None or pd is None:
            st.kill()
            return
        try:
            st.rip = _read_word(m, pd, st.rsp + 8)
            st.rdi = _read_word(m, pd, st.rsp + 16)
            st.rsi = _read_word(m, pd, st.rsp + 24)
        except PageFault:
            st.kill()  # no start frame on that stack
            return
        st.reply(Mtd.RIP_LEN | Mtd.GPR_BSD)


_starters: weakref.WeakKeyDictionary[Machine, _Starter] = weakref.WeakKeyDictionary()


def spawn_image(
    m: Machine,
    name: str,
    segments: list[Segment],
    entry: int,
    cpu: int = 0,
    prio: int = DEFAULT_PRIO,
    quantum: int = DEFAULT_QUANTUM,
    stack_pages: int = 4,
    insns: int = QUANTUM,
) -> Process:
    """A new PD running `segments` from `entry` on `cpu` (an SC of `prio`, `quantum` us);
    its cores run `insns` instructions per quantum of the emulation (see
    runtime.platform.guest)."""
    proc = m.spawn(name, cpu=cpu, prio=prio)
    pd = m.pds[proc]
    pd.machine = GuestMachine(m.k, insns)
    for seg in segments:
        _put(m, pd, seg.vaddr, seg.data, seg.memsz, seg.rights)
    _put(m, pd, STACK_TOP - stack_pages * PAGE_SIZE, b"", stack_pages * PAGE_SIZE, _R | _W)
    starter = _starters.get(m)
    if starter is None:
        starter = _starters[m] = _Starter(m)
    for c in range(m.cpus):  # for the ECs the guest makes on other CPUs too
        m.root.grant(starter.portal(m, pd, c), proc, 64 * c + Vector.STARTUP)
    evt = 64 * cpu
    env = proc.env
    sp = STACK_TOP - 4 * 8
    utcb = env.alloc_utcb()
    ec_sel, sc_sel = env.alloc(), env.alloc()
    for i, v in enumerate((entry, utcb, sc_sel)):
        _write_word(m, pd, sp + 8 * (i + 1), v)
    with proc.acting():
        Syscalls(m.gate).create_ec(ec_sel, utcb, cpu=cpu, sp=sp, evt=evt, glb=True)
        m.gate.name_ec(ec_sel, name)
    m.admission.boot_start(proc, ec_sel, sc_sel, prio, quantum)
    return proc
