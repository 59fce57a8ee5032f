"""The thin Pythonic layer services use, like NRE's kobj wrappers (NOVA-NRE.md §8.2).

Everything here is built on the system-call gate (`runtime.kernel.gate.Gate`), never on
the kernel itself: the objects of this module hold a gate and selectors, no kernel
object. Failures raise `SyscallError`. All calls act as the EC that is running, in that
EC's own PD, exactly as a user program makes system calls. Selectors are handed out by
`Env`, a per-PD bump allocator like NRE's `CapSelSpace` (dynamic selectors from 4096
upwards).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from greenlet import GreenletExit, getcurrent  # type: ignore[import-untyped]

from .kernel.arch import PAGE_SIZE
from .kernel.crd import ALL, NULL_CRD, Crd, CrdType, PdRights, crd
from .kernel.exc import HDR, NUM_EXC, Mtd, Vector, layout
from .kernel.gate import Gate
from .kernel.kernel import ReplyUnwind
from .kernel.sc import DEFAULT_PRIO, DEFAULT_QUANTUM
from .kernel.status import Status, SyscallError
from .kernel.syscalls import FLAG0, FLAG1, Sys, qpd, word0
from .kernel.utcb import UtcbFrame
from .status import NotInEcError

if TYPE_CHECKING:
    from .binding import Client
    from .kernel.pd import Pd

__all__ = [
    "FIRST_DYNAMIC",
    "SELF_PD",
    "Context",
    "Env",
    "GlobalThread",
    "Handler",
    "LocalThread",
    "Pt",
    "Sm",
    "Syscalls",
    "cap",
    "contained",
    "current",
    "outside_ec",
    "startup_portal",
]

SELF_PD = 0x20  # every PD holds a capability to itself here (NRE INIT_PD)
SELF_EC = 0x21
SELF_SC = 0x22
SRV_SERVICE = 0x24  # the name registry's portal (NRE SRV_SERVICE)
FIRST_DYNAMIC = 4096
_UTCB_BASE = 0x10000000

Handler = Callable[[UtcbFrame], None]
_C = TypeVar("_C", bound="Client")

# The gates of the kernels inside `Machine.run` (innermost last), for `contained`.
RUNNING: list[Gate] = []
# What each of them does with a report (`report`): its machine's log and trace.
REPORTS: list[Callable[[str, str], None]] = []


def report(kind: str, text: str) -> None:
    """Hand ``text`` to the running machine's log (`Machine.log`) and trace (an event
    ``kind``, with the text); nothing outside `Machine.run`."""
    if REPORTS:
        REPORTS[-1](kind, text)


def contained(e: BaseException) -> bool:
    """Whether a server may answer `e` with an error status and keep serving: anything
    its own code raised (SystemExit, KeyboardInterrupt, GeneratorExit, GreenletExit
    included), except the kernel's `ReplyUnwind` and the GreenletExit that greenlet
    throws into the EC of a machine that was garbage collected (no running kernel is
    executing this greenlet then), which must go on unwinding."""
    if isinstance(e, ReplyUnwind):
        return False
    if isinstance(e, GreenletExit):
        g = getcurrent()
        return any(gate.executes(g) for gate in RUNNING)
    return True


def outside_ec(gate: Gate) -> bool:
    """Whether a call through ``gate`` is made where no EC runs: its machine is not inside
    `Machine.run` (the host's own code, before or after a run)."""
    return not any(g is gate for g in RUNNING)


def failure(status: int, gate: Gate, what: str) -> SyscallError:
    """The exception of a failed system call: `NotInEcError` for BAD_HYP outside an EC
    (it says what to do), else `SyscallError`."""
    if status & 0xFF == Status.BAD_HYP and outside_ec(gate):
        return NotInEcError(what)
    return SyscallError(status, what)


def current() -> Context:
    """The context of the EC that is running: a server's method (or any code an EC runs)
    uses it for the capabilities it received (`Context.client`, `Context.sm`) without
    having been given one. Raises `NotInEcError` outside `Machine.run`."""
    for gate in reversed(RUNNING):
        env = Env.current(gate)
        if env is not None:
            return Context(env)
    raise NotInEcError("runtime.current()")


def cap(value: Pt | Sm | Client | Crd, rights: int = ALL) -> Crd:
    """What user code sends for a capability parameter or result: a portal, a semaphore
    or a client stub's portal as an object capability with ``rights`` (all by default;
    the IDL's ``@rights`` masks it further), a `Crd` as it is (``rights`` ignored)."""
    if isinstance(value, Crd):
        return value
    from .binding import Client

    if isinstance(value, Client):
        value = value._pt
    return Crd(CrdType.OBJ, value.sel, 0, rights)


class Syscalls:
    """Typed wrappers of the 14 system calls for the running EC."""

    __slots__ = ("gate",)

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def _ok(self, r: tuple[int, int, int], what: str) -> tuple[int, int, int]:
        if r[0] != Status.SUCCESS:
            raise failure(r[0], self.gate, what)
        return r

    def call(self, pt: int, nonblocking: bool = False) -> None:
        st = self.gate.ipc_call(pt << 8 | (FLAG0 if nonblocking else 0))
        if st:
            raise failure(st, self.gate, "call")

    def reply(self) -> None:
        self._ok(self.gate.syscall(word0(Sys.REPLY)), "reply")

    def create_pd(self, sel: int, pd: int = SELF_PD, caps: Crd = NULL_CRD) -> None:
        self._ok(self.gate.syscall(word0(Sys.CREATE_PD, sel), pd, caps.value), "create_pd")

    def create_ec(
        self,
        sel: int,
        utcb: int,
        cpu: int = 0,
        sp: int = 0,
        evt: int = 0,
        pd: int = SELF_PD,
        glb: bool = False,
    ) -> None:
        w = word0(Sys.CREATE_EC, sel, FLAG0 if glb else 0)
        self._ok(self.gate.syscall(w, pd, utcb | cpu, sp, evt), "create_ec")

    def create_sc(
        self,
        sel: int,
        ec: int,
        prio: int = DEFAULT_PRIO,
        quantum: int = DEFAULT_QUANTUM,
        pd: int = SELF_PD,
    ) -> None:
        self._ok(
            self.gate.syscall(word0(Sys.CREATE_SC, sel), pd, ec, qpd(prio, quantum)), "create_sc"
        )

    def create_pt(self, sel: int, ec: int, ip: int, mtd: int = 0, pd: int = SELF_PD) -> None:
        self._ok(self.gate.syscall(word0(Sys.CREATE_PT, sel), pd, ec, mtd, ip), "create_pt")

    def create_sm(self, sel: int, count: int = 0, pd: int = SELF_PD) -> None:
        self._ok(self.gate.syscall(word0(Sys.CREATE_SM, sel), pd, count), "create_sm")

    def revoke(self, caps: Crd, self_: bool = False) -> None:
        self._ok(
            self.gate.syscall(word0(Sys.REVOKE, 0, FLAG0 if self_ else 0), caps.value), "revoke"
        )

    def lookup(self, caps: Crd) -> Crd:
        return Crd.decode(self._ok(self.gate.syscall(word0(Sys.LOOKUP), caps.value), "lookup")[1])

    def ec_ctrl(self, ec: int) -> None:
        self._ok(self.gate.syscall(word0(Sys.EC_CTRL, ec)), "ec_ctrl")

    def sc_ctrl(self, sc: int) -> int:
        r = self._ok(self.gate.syscall(word0(Sys.SC_CTRL, sc)), "sc_ctrl")
        return r[1] << 32 | r[2]

    def sm_up(self, sm: int) -> None:
        self._ok(self.gate.syscall(word0(Sys.SM_CTRL, sm)), "sm up")

    def sm_down(self, sm: int, zero: bool = False) -> None:
        flags = FLAG0 | (FLAG1 if zero else 0)
        self._ok(self.gate.syscall(word0(Sys.SM_CTRL, sm, flags)), "sm down")

    def assign_pci(self, pd: int, cfg: int, hint: int = 0) -> None:
        self._ok(self.gate.syscall(word0(Sys.ASSIGN_PCI, pd), cfg, hint), "assign_pci")

    def assign_gsi(self, sm: int, cpu: int, cfg: int = 0) -> tuple[int, int]:
        r = self._ok(self.gate.syscall(word0(Sys.ASSIGN_GSI, sm), cfg, cpu), "assign_gsi")
        return r[1], r[2]


class Env:
    """User-level state of one PD: its selector, UTCB and receive-window allocators.

    The PD's ECs share it, like NRE's process-wide selector space; `Env.current(gate)`
    finds the running EC's. It holds the gate, not the PD."""

    __slots__ = ("evts", "gate", "name", "next_page", "next_sel", "next_utcb")

    def __init__(self, gate: Gate, pd: Pd, name: str) -> None:
        self.gate = gate
        self.name = name
        self.next_sel = 64 * gate.num_cpu  # above the per-CPU blocks (FIRST_DYNAMIC for 64)
        self.next_utcb = _UTCB_BASE
        self.next_page = 0  # the next free page of memory receive windows (binding.window)
        self.evts: dict[int, int] = {}  # event blocks of CPUs beyond NRE's 64 (startup_portal)
        pd.env = self  # the kernel keeps it for the PD's ECs (`current`)

    @staticmethod
    def of(pd: Pd) -> Env | None:
        """The environment of a PD, if it has one (for tools holding the PD)."""
        env: Env | None = pd.env
        return env

    @staticmethod
    def current(gate: Gate) -> Env | None:
        """The environment of the running EC's PD, if it has one."""
        env: Env | None = gate.env()
        return env

    def alloc(self, count: int = 1) -> int:
        """`count` selectors (rounded up to a power of two), aligned to their size."""
        n = 1
        while n < count:
            n <<= 1
        sel = (self.next_sel + n - 1) & ~(n - 1)
        self.next_sel = sel + n
        return sel

    def alloc_utcb(self) -> int:
        addr = self.next_utcb
        self.next_utcb += PAGE_SIZE
        return addr


class Pt:
    """A portal capability held by the running PD (NRE `Pt(sel)`)."""

    __slots__ = ("gate", "sel")

    def __init__(self, gate: Gate, sel: int) -> None:
        self.gate = gate
        self.sel = sel

    def frame(self) -> UtcbFrame:
        """A fresh frame on the calling EC's UTCB; close it (or `with`) after the call."""
        try:
            return UtcbFrame(self.gate.utcb())
        except SyscallError as e:
            raise failure(int(e.status), self.gate, "a portal call") from None

    def accept_delegates(self, frame: UtcbFrame, order: int = 0) -> int:
        """Arm `frame` to receive 2**order delegated objects in the reply, at fresh
        selectors of the calling PD; returns the first one."""
        env = Env.current(self.gate)
        if env is None:
            raise SyscallError(Status.BAD_HYP, "no selector allocator for this PD")
        base = env.alloc(1 << order)
        frame.delegation_window(crd(CrdType.OBJ, base, order))
        return base

    def accept_translates(self, frame: UtcbFrame) -> None:
        frame.translation_window(crd(CrdType.OBJ, 0, self.gate.arch.sel_bits))

    def call(self, frame: UtcbFrame | None = None, nonblocking: bool = False) -> None:
        """Send the current frame and receive the reply into it (cursors rewound)."""
        st = self.gate.ipc_call(self.sel << 8 | (FLAG0 if nonblocking else 0))
        if st:
            raise failure(st, self.gate, "call")
        if frame is not None:
            frame.upos = 0
            frame.tpos = 0

    def cap(self, rights: int = ALL) -> Crd:
        """This portal as a capability to send (`runtime.api.cap`)."""
        return Crd(CrdType.OBJ, self.sel, 0, rights)

    def __repr__(self) -> str:
        return f"Pt({self.sel:#x})"


class Sm:
    """A semaphore capability (NRE `Sm`)."""

    __slots__ = ("gate", "sel")

    def __init__(self, gate: Gate, sel: int) -> None:
        self.gate = gate
        self.sel = sel

    def up(self) -> None:
        Syscalls(self.gate).sm_up(self.sel)

    def down(self) -> None:
        Syscalls(self.gate).sm_down(self.sel)

    def zero(self) -> None:
        Syscalls(self.gate).sm_down(self.sel, zero=True)

    def cap(self, rights: int = ALL) -> Crd:
        """This semaphore as a capability to send, with ``rights`` (`SmRights`: UP, DOWN;
        all by default) (`runtime.api.cap`)."""
        return Crd(CrdType.OBJ, self.sel, 0, rights)

    def __repr__(self) -> str:
        return f"Sm({self.sel:#x})"


class LocalThread:
    """A local EC of the running PD on one CPU; portals bound to it run its handlers."""

    __slots__ = ("cpu", "env", "sel", "utcb")

    def __init__(self, env: Env, cpu: int = 0) -> None:
        self.env = env
        self.cpu = cpu
        self.sel = env.alloc()
        Syscalls(env.gate).create_ec(self.sel, env.alloc_utcb(), cpu=cpu, evt=64 * cpu)
        # its UTCB page, mapped in this PD: the creator arms its receive windows there
        self.utcb = env.gate.utcb_of(self.sel)

    def portal(
        self,
        handler: Handler,
        sel: int | None = None,
        accept: int | None = None,
        translate: bool = False,
    ) -> Pt:
        """Create a portal to this EC that runs `handler(frame)` for each call.

        The EC's receive windows (WIRE.md §4 *Windows*) come from the handler: a generated
        skeleton declares them as class attributes, from the requests of all its methods
        (`accept`: the delegate window's order or None, `kind`: its Crd type; `translate`,
        `xlt`: a translate window over the whole space of that type). `accept=order`
        overrides the order (of the skeleton's kind, objects for any other handler) and
        `translate=True` adds an object translate window. With a delegate window the
        binding keeps it (`runtime.binding.receiving`): a fresh one after every request
        whose capabilities the server kept, so they never block the next (an occupied slot
        would be skipped silently), and what a rejected request delegated is revoked.
        """
        from .binding import receiving

        gate = self.env.gate
        s = self.env.alloc() if sel is None else sel
        if accept is None:
            accept = getattr(handler, "accept", None)
        kind = int(getattr(handler, "kind", CrdType.OBJ))
        xlt = int(getattr(handler, "xlt", CrdType.OBJ))
        if translate and not getattr(handler, "translate", False):
            xlt = CrdType.OBJ
        translate = translate or bool(getattr(handler, "translate", False))
        code = receiving(handler, self, accept, kind, translate, xlt)
        Syscalls(gate).create_pt(s, self.sel, gate.register_code(code))
        return Pt(gate, s)

    def window(self, delegate: Crd = NULL_CRD, translate: Crd = NULL_CRD) -> None:
        """Arm this EC's receive windows (they persist across calls)."""
        self.utcb.dele = delegate.value
        self.utcb.xlt = translate.value


def _start_at_sp(f: UtcbFrame) -> None:
    """The startup handler (event 30, MTD RSP): the EC starts at its stack pointer's
    address, where `GlobalThread` registered its body; the reply writes rip back."""
    u = f.utcb
    lay = layout(u.arch)
    u.set_word(HDR + lay["rip"], u.word_at(HDR + lay["rsp"]))
    u.set_word(HDR + lay["mtd"], Mtd.RIP_LEN)


def startup_portal(env: Env, cpu: int) -> int:
    """The PD's startup portal for `cpu` at `evt + 0x1E`, evt = 64*cpu (NRE's per-CPU
    event block, NOVA-NRE.md §5, §7; for a CPU beyond NRE's 64, whose block would lie
    among the dynamic selectors, a 32-selector block from the allocator), made on first
    use: a local EC of the PD on `cpu` running `_start_at_sp`. A portal already there
    (the PD's own handler) is kept. Call it as that PD. NOVA kills a global EC that
    starts without one; NRE's parent provides it."""
    evt = 64 * cpu
    if evt + NUM_EXC > FIRST_DYNAMIC:
        evt = env.evts.get(cpu, -1)
        if evt < 0:
            evt = env.evts[cpu] = env.alloc(NUM_EXC)
    sel = evt + Vector.STARTUP
    if not env.gate.holds(sel):
        t = LocalThread(env, cpu)
        Syscalls(env.gate).create_pt(sel, t.sel, env.gate.register_code(_start_at_sp), Mtd.RSP)
    return sel


class GlobalThread:
    """A global EC with its own SC running `fn(ctx)` (NRE `GlobalThread`), started
    through its PD's startup portal for the CPU (`startup_portal`, evt = 64*cpu)."""

    __slots__ = ("ec_sel", "env", "sc_sel")

    def __init__(
        self,
        env: Env,
        fn: Callable[[Context], object],
        cpu: int = 0,
        prio: int = DEFAULT_PRIO,
        quantum: int = DEFAULT_QUANTUM,
        name: str = "",
        start: Callable[[int, int, int, int], None] | None = None,
    ) -> None:
        """`start(ec_sel, sc_sel, prio, quantum)` makes the SC instead (a parent's setup
        for its child before `run`); otherwise a PD whose own capability has CREATE_SC
        makes it, and any other asks its parent's SC service (runtime.admission)."""
        gate = env.gate
        self.env = env
        self.ec_sel = env.alloc()
        self.sc_sel = env.alloc()

        def body() -> None:
            fn(Context(env))

        sys = Syscalls(gate)
        evt = startup_portal(env, cpu) - Vector.STARTUP
        sp = gate.register_code(body)
        sys.create_ec(self.ec_sel, env.alloc_utcb(), cpu=cpu, sp=sp, evt=evt, glb=True)
        if name:
            gate.name_ec(self.ec_sel, name)
        if start is not None:  # the parent's setup before run (Process.thread)
            start(self.ec_sel, self.sc_sel, prio, quantum)
        elif sys.lookup(Crd.obj(SELF_PD)).rights & PdRights.CREATE_SC:
            sys.create_sc(self.sc_sel, self.ec_sel, prio, quantum)
        else:  # a child, as NRE makes it: the parent's SC service makes the SC
            self.sc_sel = _start_by_parent(env, self.ec_sel, cpu, prio, quantum, name)


SRV_SC = 0x28  # the parent's SC service (NRE SRV_SC; runtime.admission)
_START = 1


def _start_by_parent(env: Env, ec_sel: int, cpu: int, prio: int, quantum: int, name: str) -> int:
    """NRE's `GlobalThread::start`: START, name, cpu, qpd + the EC to the parent's SC
    portal of the calling EC's CPU; the SC comes back (root may lower the priority)."""
    pt = Pt(env.gate, 64 * env.gate.cpu() + SRV_SC)
    with pt.frame() as f:
        base = pt.accept_delegates(f, 0)
        raw = name.encode()[:200]
        f.put_word(_START)
        f.put_word(len(raw))
        f.put_words(raw)
        f.put_word(cpu)
        f.put_word(qpd(prio, quantum))
        f.delegate(crd(CrdType.OBJ, ec_sel))
        pt.call(f)
        if f.get_word() != 0:
            raise SyscallError(Status.BAD_CAP, "create_sc (the parent refused)")
        return base


class Context:
    """What an EC body gets: its PD's environment, the system-call gate (`gate`: the
    calls it makes; no kernel object), its CPU and its UTCB page. Made by the EC itself
    when it starts (`GlobalThread`)."""

    __slots__ = ("_utcb", "cpu", "env", "gate", "sys")

    def __init__(self, env: Env) -> None:
        self.env = env
        self.gate = env.gate
        self.sys = Syscalls(env.gate)
        self.cpu = self.gate.cpu()  # an EC stays on its CPU
        self._utcb = self.gate.utcb()

    @property
    def utcb(self) -> UtcbFrame:
        """A view of this EC's live frame (NRE `UtcbFrameRef`)."""
        return UtcbFrame(self._utcb, push=False)

    def frame(self) -> UtcbFrame:
        return UtcbFrame(self._utcb)

    def pt(self, sel: int | Crd) -> Pt:
        """The portal capability at `sel` of this PD (NRE `Pt(sel)`); a received `Crd`
        names its selector."""
        return Pt(self.gate, sel.base if isinstance(sel, Crd) else sel)

    def client(self, cls: type[_C], sel: int | Crd | Pt) -> _C:
        """A received portal (a `Crd` that arrived, its selector, or a `Pt`) as a client
        stub of the generated class ``cls``: ``ctx.client(demo.EchoClient, crd)``."""
        pt = sel if isinstance(sel, Pt) else self.pt(sel)
        return cls(pt)

    def accept_delegates(self, frame: UtcbFrame, order: int = 0) -> int:
        """Arm `frame`'s delegate window on 2**order fresh, aligned selectors (NRE
        `accept_delegates`); returns the first selector."""
        base = self.env.alloc(1 << order)
        frame.delegation_window(crd(CrdType.OBJ, base, order))
        return base

    def accept_translates(self, frame: UtcbFrame) -> None:
        """Arm `frame`'s translate window on the whole object space (NRE default)."""
        frame.translation_window(crd(CrdType.OBJ, 0, self.gate.arch.sel_bits))

    def sm(self, count: int = 0, sel: int | Crd | None = None) -> Sm:
        """A new semaphore with `count` (NRE `Sm(count)`), or with `sel` the semaphore
        capability this PD holds there (a received `Crd` names its selector)."""
        if sel is not None:
            return Sm(self.gate, sel.base if isinstance(sel, Crd) else sel)
        s = self.env.alloc()
        self.sys.create_sm(s, count)
        return Sm(self.gate, s)

    def local_thread(self, cpu: int | None = None) -> LocalThread:
        return LocalThread(self.env, self.cpu if cpu is None else cpu)

    def thread(
        self, fn: Callable[[Context], object], cpu: int | None = None, prio: int = DEFAULT_PRIO
    ) -> GlobalThread:
        return GlobalThread(self.env, fn, self.cpu if cpu is None else cpu, prio)

    def work(self, us: int) -> None:
        """Spend `us` of virtual time: a preemption point."""
        self.gate.tick(us)

    def yield_(self) -> None:
        self.gate.yield_()

    def connect(self, name: str) -> Pt:
        """The portal of service `name` for this EC's CPU, from the name registry."""
        from .services import registry_get

        return registry_get(self, name)
