"""ECs that execute x86-64 machine code (issue 16): the emulated CPU under a guest PD.

A PD whose `Pd.machine` is a `GuestMachine` runs machine code: each of its ECs gets a
`GuestCpu` (one `x86emu.Core`) when it is created, and its `ec.regs` become a live view of
that core's registers (`GuestRegs`), so exception IPC (runtime.kernel.exc) reads and
writes the real registers. The kernel asks the PD's machine for a portal's entry and a
global EC's start; everything else is the kernel's usual path:

- **System calls**: the `syscall` hook stops the core after the instruction; the driver
  takes word0 and ARG2..ARG5 from rdi, rsi, rdx, rax, r8 (NOVA-NRE.md §1), makes the call
  through `Kernel.syscall` on the EC's own greenlet (it may block or switch there, never
  inside unicorn's C frames), writes the status into rdi's low byte (lookup, sc_ctrl,
  assign_gsi: their results into rsi, rdx) and the core goes on. A local
  EC's `reply` ends its portal entry, and the kernel's receive loop replies (NRE's
  landing spot); the stack it replied on is its stack for the next call.
- **Memory**: a page is present exactly when the PD holds a memory capability for it
  with R (W for writes, X for fetches), or is the UTCB page of one of the PD's live ECs
  (read/write). Pages are mapped on first touch, straight over the frame's bytes in
  `PhysMem` (nothing is copied); whenever the PD's memory space changed (`Space.gen`)
  the mappings that no longer match are dropped before the core runs again.
- **Faults**: an exception (UC_HOOK_INTR: #DE, #BP, ...), an invalid opcode (#UD), an
  access the capabilities do not allow (#PF with CR2 and the error code: present, write,
  user, fetch), port I/O without an I/O capability (#GP 0), `int n` (#GP, n<<3|2) stop the
  core at the instruction (after it for #BP, a trap) and go through `exc.fault`, the
  kernel's exception IPC. An instruction fetch at 0x800 + code is NRE's exit
  (`ExecEnv.h`): the EC dies with the reason "exit <code>".
- **Time**: the core runs in quanta of `quantum` instructions; each full quantum costs
  `quantum // insns_per_us` virtual us (at least 1) and is a preemption point, so a
  timer interrupt, a recall (checked before each quantum) or the end of a CPU's seeded
  slice lands between two instructions. A quantum cut short by a kernel entry is not
  charged beyond that entry's own cost.
- The core runs in unicorn's ring 0 with flat segments: privileged instructions other
  than port I/O (cli, hlt, mov to CR, wrmsr) do not fault; `hlt` ends the quantum.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..kernel import exc
from ..kernel.crd import MemRights, PioRights
from ..kernel.exc import Vector
from ..kernel.regs import GPRS, Regs
from .memory import PF_FETCH, PF_PRESENT, PF_USER, PF_WRITE, PhysMem, _utcb_page
from .x86emu import ACCESS_FETCH, ACCESS_WRITE, GPR_IDS, PROT_R, PROT_W, PROT_X, Core

if TYPE_CHECKING:
    from ..kernel.ec import Ec
    from ..kernel.kernel import Kernel
    from ..kernel.mdb import Node
    from ..kernel.pd import Pd
    from ..kernel.utcb import UtcbFrame

__all__ = ["EXIT_BASE", "QUANTUM", "GuestCpu", "GuestMachine", "GuestRegs"]

QUANTUM = 1000  # instructions per quantum
INSNS_PER_US = 1000  # the emulated core's speed: 1 GHz at one instruction per cycle
EXIT_BASE = 0x800  # NRE's exit protocol: a fetch at 0x800 + code (ExecEnv.h)
_RIP, _RSP, _RDI = GPR_IDS["rip"], GPR_IDS["rsp"], GPR_IDS["rdi"]
_REPLY = (-1, 0, None)  # `pending` of a local EC that replied
_SYSCALL = (-2, 0, None)  # `pending` of a `syscall` instruction


class GuestRegs(Regs):
    """`ec.regs` of a guest EC: the core's registers, read and written in place."""

    __slots__ = ("cpu",)

    def __init__(self, cpu: GuestCpu) -> None:
        self.cpu = cpu
        self.err = 0
        self.cr2 = 0

    def set(self, name: str, value: int) -> None:
        if name not in GPR_IDS and name not in ("err", "cr2"):
            raise AttributeError(name)
        setattr(self, name, value)


def _reg_property(rid: int) -> property:
    def get(self: GuestRegs) -> int:
        return self.cpu.core.get(rid)

    def put(self: GuestRegs, value: int) -> None:
        self.cpu.core.set(rid, value)

    return property(get, put)


for _name in (*GPRS, "rip", "rflags"):
    setattr(GuestRegs, _name, _reg_property(GPR_IDS[_name]))


def _prot(rights: int) -> int:
    p = PROT_R
    if rights & MemRights.W:
        p |= PROT_W
    if rights & MemRights.X:
        p |= PROT_X
    return p


class GuestCpu:
    """The core one guest EC runs on, and the driver loop around it."""

    __slots__ = (
        "core",
        "ec",
        "gen",
        "io_rip",
        "k",
        "mapped",
        "pd",
        "pending",
        "phys",
        "quantum",
        "slice_us",
        "sp",
    )

    def __init__(self, k: Kernel, ec: Ec, quantum: int) -> None:
        self.k = k
        self.ec = ec
        self.pd: Pd = ec.pd
        self.core = Core(self._syscall, self._intr, self._invalid, self._mem, self._in, self._out)
        self.phys = PhysMem.of(k)
        # virtual page -> (its node, None for a UTCB page; the protection mapped)
        self.mapped: dict[int, tuple[Node | None, int]] = {}
        self.gen = -1
        self.pending: tuple[int, int, int | None] | None = None  # (vector, error, CR2)
        self.io_rip = -1  # the rip of a refused in/out (the core already moved past it)
        self.quantum = quantum
        self.slice_us = max(1, quantum // INSNS_PER_US)
        self.sp = ec.sp  # a local EC's stack for its next call

    # -- the driver --------------------------------------------------------------------
    def step(self) -> None:
        """One quantum (or less, to the next fault), then what ended it."""
        k, ec, core = self.k, self.ec, self.core
        if ec.recall:
            exc.recall(k, ec)
        if self.pd.mem.gen != self.gen:
            self._flush()
        self.pending = None
        err = core.run(core.get(_RIP), self.quantum)
        p = self.pending
        if p is None:
            if err:  # a fault no hook reported (unicorn's own): a #GP
                exc.fault(k, ec, Vector.GP, 0)
                return
            k.tick(self.slice_us)  # the quantum's time; a preemption point
            return
        if p is _SYSCALL:
            self._do_syscall()
            return
        if p is _REPLY:
            return
        vector, err, cr2 = p
        if self.io_rip >= 0:
            core.set(_RIP, self.io_rip)
            self.io_rip = -1
        fetch = vector == Vector.PF and err & PF_FETCH
        if fetch and cr2 is not None and EXIT_BASE <= cr2 < EXIT_BASE + 0x20:
            k.die(ec, f"exit {cr2 - EXIT_BASE}")
            k._dispatch_from_ec()  # never returns: a dead EC is not resumed
        exc.fault(k, ec, vector, err, cr2)

    def run_global(self) -> None:
        """A global EC's code: quanta until it dies."""
        while True:
            self.step()

    def portal(self, ip: int) -> Callable[[UtcbFrame], None]:
        """A portal's entry at `ip`: the core starts there with rdi = the portal id on the
        EC's stack, and returns at the EC's `reply` system call."""
        core = self.core

        def entry(frame: UtcbFrame) -> None:
            core.set(_RDI, frame.pid)
            core.set(_RSP, self.sp)
            core.set(_RIP, ip)
            while self.pending is not _REPLY:
                self.step()
            self.pending = None

        return entry

    # -- hooks -------------------------------------------------------------------------
    def _syscall(self) -> None:
        """The `syscall` hook: the core stops after the instruction, and `step` makes
        the call outside the emulator (never suspended inside it: a greenlet left in
        unicorn's C frames could outlive the engine when a machine is collected)."""
        self.pending = _SYSCALL
        self.core.stop()

    def _do_syscall(self) -> None:
        core = self.core
        w0, a2, a3, a4, a5 = core.args()
        num = w0 & 0xF
        if num == 1 and not self.ec.glb:  # a local EC's reply: its portal entry returns
            self.sp = core.get(_RSP)
            self.pending = _REPLY
            core.set_status(w0, 0)
            return
        k = self.k
        if num == 0:
            st = k.ipc_call(w0)
        else:
            st, out2, out3 = k.syscall(w0, a2, a3, a4, a5)
            if num in (8, 10, 13):  # lookup, sc_ctrl, assign_gsi answer in ARG2, ARG3
                core.set_out(out2, out3)
        if st != w0 & 0xFF:  # rdi already reads so for a call without flags that succeeded
            core.set_status(w0, st)
        # a revoke (or another EC meanwhile) may have changed the memory space: `step`
        # flushes before the core runs again

    def _fault(self, vector: int, err: int = 0, cr2: int | None = None) -> None:
        self.pending = (vector, err, cr2)
        self.core.stop()

    def _intr(self, intno: int) -> None:
        if intno < 32:
            self._fault(intno)
        else:  # `int n` through a gate user code may not use (NOVA's IDT: DPL 0)
            self._fault(Vector.GP, intno << 3 | 2)

    def _invalid(self) -> None:
        self._fault(Vector.UD)

    def _mem(self, kind: int, prot: bool, addr: int) -> bool:
        err = self._map(addr >> 12, kind)
        if err < 0:
            return True  # mapped now: the access runs again
        if kind & ACCESS_WRITE:
            err |= PF_WRITE
        if kind & ACCESS_FETCH:
            err |= PF_FETCH
        self._fault(Vector.PF, err | PF_USER, addr)
        return False

    def _ports_ok(self, port: int, size: int) -> bool:
        nodes = self.pd.pio.nodes
        for p in range(port, port + size):
            n = nodes.get(p)
            if n is None or not n.rights & PioRights.A:
                return False
        return True

    def _in(self, port: int, size: int) -> int:
        mask = (1 << (8 * size)) - 1
        if not self._ports_ok(port, size):
            self.io_rip = self.core.get(_RIP)
            self._fault(Vector.GP, 0)
            return self.core.get(GPR_IDS["rax"]) & mask  # rax stays as it was
        bus: Any = self.k.io_bus
        return mask if bus is None else int(bus.io_in(port, size)) & mask

    def _out(self, port: int, size: int, value: int) -> None:
        if not self._ports_ok(port, size):
            self.io_rip = self.core.get(_RIP)
            self._fault(Vector.GP, 0)
            return
        bus: Any = self.k.io_bus
        if bus is not None:
            bus.io_out(port, size, value & ((1 << (8 * size)) - 1))

    # -- memory ------------------------------------------------------------------------
    def _map(self, page: int, kind: int) -> int:
        """Map `page` for an access of `kind` if the PD may make it: -1; else the #PF's
        present bit (0 or PF_PRESENT)."""
        core, mapped, addr = self.core, self.mapped, page << 12
        if page in mapped:
            core.unmap_page(addr)
            del mapped[page]
        if addr in self.pd.utcbs:
            buf = _utcb_page(self.pd, addr)
            if buf is not None:
                if kind & ACCESS_FETCH:
                    return PF_PRESENT
                core.map_page(addr, buf, PROT_R | PROT_W)
                mapped[page] = (None, PROT_R | PROT_W)
                return -1
        node = self.pd.mem.nodes.get(page)
        if node is None or not node.rights & MemRights.R:
            return 0
        if kind & ACCESS_WRITE and not node.rights & MemRights.W:
            return PF_PRESENT
        if kind & ACCESS_FETCH and not node.rights & MemRights.X:
            return PF_PRESENT
        prot = _prot(node.rights)
        core.map_page(addr, self.phys.page(int(node.obj)), prot)  # type: ignore[call-overload]
        mapped[page] = (node, prot)
        return -1

    def _flush(self) -> None:
        """Drop the mappings the PD's memory space no longer backs (a TLB shootdown)."""
        pd, core = self.pd, self.core
        nodes = pd.mem.nodes
        for page, (node, prot) in list(self.mapped.items()):
            if node is None:
                keep = _utcb_page(pd, page << 12) is not None
            else:
                cur = nodes.get(page)
                keep = cur is node and _prot(cur.rights) == prot
            if not keep:
                core.unmap_page(page << 12)
                del self.mapped[page]
        self.gen = pd.mem.gen


class GuestMachine:
    """`Pd.machine` of a PD that runs machine code: a core per EC."""

    __slots__ = ("k", "quantum")

    def __init__(self, k: Kernel, quantum: int = QUANTUM) -> None:
        self.k = k
        self.quantum = quantum

    def attach(self, ec: Ec) -> None:
        """A new EC of the PD: its core, with rsp = the stack create_ec gave."""
        cpu = GuestCpu(self.k, ec, self.quantum)
        ec.regs = GuestRegs(cpu)
        ec.regs.rsp = ec.sp
        ec.regs.rflags = 0x202

    def portal_entry(self, ec: Ec, ip: int) -> Callable[[UtcbFrame], None]:
        return cpu_of(ec).portal(ip)

    def global_entry(self, ec: Ec) -> Callable[[], None]:
        return cpu_of(ec).run_global


def cpu_of(ec: Ec) -> GuestCpu:
    """The core of guest EC `ec` (TypeError for a Python EC)."""
    regs = ec.regs
    if not isinstance(regs, GuestRegs):
        raise TypeError(f"{ec.name} runs no machine code")
    return regs.cpu
