"""The `Machine` facade (DESIGN.md usage sketch): boot, spawn processes, run, stats.

Boot follows NOVA/NRE: root PD, EC and SC at 0x20, 0x21, 0x22 (§7). Every PD holds a
capability to itself at 0x20 and the name registry's portal for CPU c at 64*c + 0x24
(NRE's per-CPU selector blocks). Before `run()`, setup calls on behalf of a PD go through
a *shadow EC* of that PD which is never scheduled: it only gives the system calls an
issuer, so the objects land in that PD's own space exactly as if its first thread had
made them. The PD's self capability is derived from root's at boot (NRE's SRV_INIT).

The `Machine` is the host's (a test's, a tool's) handle and holds the kernel (`k`); it
is never given to an EC. What user code holds, `Process` included, reaches the kernel
only through the system-call gate (docs/runtime.md, "The gate"): a `Process` holds its
`Env` and refers to its machine weakly (the machine owns its processes), so no chain of
attribute accesses leads from it to the kernel. `pd_of(process)` is the tools' way to
the PD object.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .api import (
    REPORTS,
    RUNNING,
    SELF_PD,
    Context,
    Env,
    GlobalThread,
    Handler,
    LocalThread,
    Pt,
    Syscalls,
)
from .kernel import mdb
from .kernel.arch import X86_64, Arch
from .kernel.crd import ALL, Crd, MemRights, PioRights
from .kernel.ec import Ec
from .kernel.gate import open_gate
from .kernel.kernel import Kernel
from .kernel.pd import Pd
from .kernel.pt import Pt as PtObj
from .kernel.sc import DEFAULT_PRIO, DEFAULT_QUANTUM
from .kernel.trace import Trace
from .kernel.utcb import Utcb
from .platform.timebase import Timebase

if TYPE_CHECKING:
    from pathlib import Path

    from .session import Service

__all__ = [
    "ExecutionFault",
    "Machine",
    "Process",
    "RunResult",
    "UnrunMachineWarning",
    "ec_of",
    "explore",
    "machine_of",
    "pd_of",
]

ROOT_EC, ROOT_SC = 0x21, 0x22


class ExecutionFault(Exception):
    """One or more ECs raised a Python exception (they died; the first is the cause)."""


class UnrunMachineWarning(RuntimeWarning):
    """A `Machine` with spawned processes was collected (or the interpreter exited)
    without `run()` ever being called: nothing the processes were given has run."""


class _Unrun:
    """What the finalizer of a machine needs to know, without holding the machine: how
    many processes it spawned, whether it ran, and where it was made (the warning's
    location)."""

    __slots__ = ("file", "line", "ran", "spawned")

    def __init__(self, file: str, line: int) -> None:
        self.spawned = 0
        self.ran = False
        self.file = file
        self.line = line


def _warn_unrun(state: _Unrun) -> None:
    if state.spawned and not state.ran:
        n = state.spawned
        warnings.warn_explicit(
            f"Machine with {n} process{'es' if n != 1 else ''} was never run; call m.run()",
            UnrunMachineWarning,
            state.file,
            state.line,
        )


@dataclass
class RunResult:
    reason: str  # "idle", "time" or "steps"
    blocked: list[str] = field(default_factory=list)  # ECs left waiting (deadlock report)
    deaths: list[tuple[str, str]] = field(default_factory=list)  # (ec, reason) in this run
    clock: list[int] = field(default_factory=list)  # per-CPU virtual time

    @property
    def deadlocked(self) -> bool:
        return self.reason == "idle" and bool(self.blocked)


class Process:
    """A PD as its parent (root) sees it, plus helpers that act inside it. It holds no
    kernel object: its `Env` (with the gate) and selectors, and its machine weakly."""

    def __init__(
        self, machine: Machine, env: Env, sel_in_root: int, cpu: int = 0, prio: int = 1
    ) -> None:
        self._machine = weakref.ref(machine)
        self.env = env
        self.sel_in_root = sel_in_root
        self.cpu = cpu  # defaults for the decorator form
        self.prio = prio
        # The highest priority root's SC service gives this PD's SCs (runtime.admission).
        self.max_prio = prio

    @property
    def name(self) -> str:
        return self.env.name

    @contextlib.contextmanager
    def acting(self) -> Iterator[None]:
        """Make system calls as this PD: through its running EC, or the boot shadow EC."""
        m = machine_of(self)
        k = m.k
        pd = pd_of(self)
        cur = k.current
        if k.hub is not None and cur is not None and cur not in m.shadows.values():
            if cur.pd is not pd:
                raise RuntimeError(f"{cur.name} cannot act for {self.name}")
            yield
            return
        shadow = m.shadows.get(self)
        if shadow is None:
            shadow = Ec(k.graveyard, pd, 0, False, Utcb(k.arch), 0, 0, 0, "shadow")
            m.shadows[self] = shadow
        k.current = shadow
        try:
            yield
        finally:
            k.current = cur

    def thread(
        self,
        fn: Callable[[Context], object],
        cpu: int = 0,
        prio: int = DEFAULT_PRIO,
        quantum: int = DEFAULT_QUANTUM,
        name: str = "",
    ) -> GlobalThread:
        m = machine_of(self)
        with self.acting():
            start = None
            if self is not m.root and m.k.current is m.shadows.get(self):
                # The parent's setup: root makes the SC (the child holds no CREATE_SC).
                def start(ec: int, sc: int, prio: int, quantum: int) -> None:
                    m.admission.boot_start(self, ec, sc, prio, quantum)

            return GlobalThread(
                self.env, fn, cpu, prio, quantum, name or f"{self.name}:{cpu}", start
            )

    def __call__(self, fn: Callable[[Context], object]) -> Callable[[Context], object]:
        """Decorator form of `thread` with the CPU and priority given to `spawn`."""
        self.thread(fn, self.cpu, self.prio, name=f"{self.name}")
        return fn

    def local_thread(self, cpu: int = 0) -> LocalThread:
        with self.acting():
            return LocalThread(self.env, cpu)

    def portal(
        self,
        handler: Handler,
        cpu: int = 0,
        accept: int | None = None,
        translate: bool = False,
        sel: int | None = None,
    ) -> Pt:
        """A new local EC on `cpu` with a portal running `handler(frame)` (at `sel`, else a
        fresh selector); see `LocalThread.portal` for the receive windows `accept` and
        `translate`."""
        with self.acting():
            return LocalThread(self.env, cpu).portal(handler, sel, accept, translate)

    def serve(
        self,
        name: str,
        handler: Handler,
        cpus: list[int] | None = None,
        accept: int | None = None,
        translate: bool = False,
    ) -> list[Pt]:
        """Bind `handler` on a local EC per CPU and register the portals under `name`."""
        from .services import cpu_order, register

        cpus = list(range(machine_of(self).cpus)) if cpus is None else cpus
        with self.acting():
            block = self.env.alloc(1 << cpu_order(machine_of(self).gate))  # portal c at block + c
        pts = [self.portal(handler, c, accept, translate, sel=block + c) for c in cpus]

        def registrar(ctx: Context) -> None:
            register(ctx, name, dict(zip(cpus, pts, strict=True)))

        self.thread(registrar, cpus[0], name=f"{self.name}:register")
        return pts

    def grant(self, sel: int, to: Process, to_sel: int, rights: int = ALL) -> None:
        """Boot-time delegation of one object capability (a parent wiring its children)."""
        mdb.delegate(pd_of(self).obj, sel, pd_of(to).obj, to_sel, 0, rights)

    def kill(self) -> None:
        """Root revokes the PD: every capability derived from it and its ECs go. Call it
        between runs or from one of root's own ECs (only the parent may kill)."""
        m = machine_of(self)
        with m.root.acting():
            Syscalls(m.gate).revoke(Crd.obj(self.sel_in_root), self_=True)
        m.k.collect()
        for hook in m.kill_hooks:  # root's services forget it (its portals, its names)
            hook(self)
        if pd_of(self).dead and self in m.processes:
            m.processes.remove(self)  # what root knew of it goes with it
            m.shadows.pop(self, None)
        from .services import notify_client_died

        notify_client_died(m)


class Machine:
    def __init__(
        self,
        cpus: int = 1,
        arch: Arch = X86_64,
        seed: int = 0,
        trace: bool = False,
        slice_max: int = 50,
        mem_pages: int = 0,
        io_ports: range = range(0),
        num_cpu: int = 64,
    ) -> None:
        """`mem_pages` pages of physical memory (identity-mapped, R|W|X) and the
        `io_ports` are given to root at boot, as the kernel hands root its resources;
        one mapping-database node per page or port, so keep them modest.

        `num_cpu` is NOVA's NUM_CPU, the most CPUs the selector layout provides for
        (64, as NOVA fixes it; raised to `cpus` when that is more): per-CPU selector
        blocks below 64*num_cpu, dynamic selectors from there, GSI semaphores at
        num_cpu + gsi in the kernel PD, CPU masks of num_cpu bits."""
        self.cpus = cpus
        self.k = k = Kernel(cpus, arch, seed, slice_max, trace, num_cpu=num_cpu)
        self.gate = gate = open_gate(k)  # what the user objects it makes hold
        Timebase(k)  # device time and the CPUs' LAPIC timers, which end time slices
        self.num_cpu = k.num_cpu
        root_pd = k.new_pd("root")
        k.root_pd = root_pd
        mdb.insert_root(root_pd.obj, SELF_PD, root_pd, ALL)
        # in naturally aligned ranges, as NOVA hands root its memory (what lookup reports)
        rwx = MemRights.R | MemRights.W | MemRights.X
        for base, o in mdb.aligned_ranges(0, mem_pages):
            for page in range(base, base + (1 << o)):
                mdb.insert_root(root_pd.mem, page, page, rwx, o)
        for port in io_ports:
            mdb.insert_root(root_pd.pio, port, port, PioRights.A)
        env = Env(gate, root_pd, "root")
        # each process's PD, for the host's tools (`pd_of`), as long as the process lives
        self.pds: weakref.WeakKeyDictionary[Process, Pd] = weakref.WeakKeyDictionary()
        root_ec = k.new_ec(root_pd, 0, True, arch.user_addr - 2 * 4096, 0, 0, "root")
        mdb.insert_root(root_pd.obj, ROOT_EC, root_ec, ALL)
        k.root_ec = root_ec  # the kernel starts it itself (NOVA's root_invoke)
        root_sc = k.new_sc(root_ec, DEFAULT_PRIO, DEFAULT_QUANTUM)
        mdb.insert_root(root_pd.obj, ROOT_SC, root_sc, ALL)
        root_ec.entry = lambda: None  # root's own thread has nothing to do here
        k.ready(root_sc)
        self.root = Process(self, env, SELF_PD)
        self.pds[self.root] = root_pd
        self.processes: list[Process] = [self.root]
        self.daemons: set[Ec] = set()  # ECs expected to wait forever (service reapers)
        self.session_services: list[Service] = []
        # What root does for every child it spawns (its per-client portals: registry,
        # SC service, the platform's io and gsi), in order; `on_spawn` adds one.
        self.spawn_hooks: list[Callable[[Process], None]] = []
        # the never-scheduled ECs of `Process.acting`, by process
        self.shadows: dict[Process, Ec] = {}
        from .admission import Admission
        from .services import start_registry

        self.registry = start_registry(self)
        self.admission = Admission(self)
        self.spawn_hooks += [self.registry.add_client, self.admission.add_client]
        # What root does when it kills a child (`Process.kill`): drop what it kept for it.
        self.kill_hooks: list[Callable[[Process], None]] = [
            self.registry.drop_client,
            self.admission.drop_client,
        ]
        # What went wrong inside runs that user code did not see raised: a server method's
        # exception with its traceback (runtime.binding.failed), one entry per report.
        self.log: list[str] = []
        made = sys._getframe(1)  # the warning points at the code that made the machine
        self._unrun = _Unrun(made.f_code.co_filename, made.f_lineno)
        # at collection or at exit, whichever comes first
        weakref.finalize(self, _warn_unrun, self._unrun)

    def spawn(
        self,
        name: str,
        fn: Callable[[Context], object] | None = None,
        cpu: int = 0,
        prio: int = DEFAULT_PRIO,
        max_prio: int | None = None,
        pd_rights: int | None = None,
    ) -> Process:
        """A new PD (child of root) with its self capability and its portals to root's
        services (registry, SC service; io and gsi with a `Platform`).

        Its PD capability has what NRE gives a child, every right but CREATE_SC
        (`pd_rights` overrides it: tests of the kernel's own checks pass `ALL`), so its
        SCs come from root, at most at priority `max_prio` (default: the highest that
        root gives one of its threads, `prio` to begin with)."""
        from .admission import CHILD_PD_RIGHTS

        with self.root.acting():
            sel = self.root.env.alloc()
            Syscalls(self.gate).create_pd(sel)
        pd = pd_of(self.root).obj.nodes[sel].obj
        assert isinstance(pd, Pd)
        pd.name = name
        proc = Process(self, Env(self.gate, pd, name), sel, cpu, prio)
        self.pds[proc] = pd
        if max_prio is not None:
            proc.max_prio = max_prio
        self.root.grant(sel, proc, SELF_PD, CHILD_PD_RIGHTS if pd_rights is None else pd_rights)
        for hook in self.spawn_hooks:
            hook(proc)
        self.processes.append(proc)
        self._unrun.spawned += 1
        if fn is not None:
            proc.thread(fn, cpu, prio, name=name)
        return proc

    def spawn_elf(self, name: str, path: str | Path, cpu: int = 0, **kw: int) -> Process:
        """A new PD running the ELF64 x86-64 executable at `path` on `cpu`, its memory
        delegated from root's (`Machine(mem_pages=...)` must leave room); keywords: `prio`,
        `quantum`, `stack_pages`, `insns` (runtime.loader.spawn_image)."""
        from .loader import spawn_elf

        return spawn_elf(self, name, path, cpu, **kw)

    def spawn_flat(self, name: str, code: bytes, cpu: int = 0, **kw: int) -> Process:
        """Like `spawn_elf` for a flat binary loaded (read, write, execute) and started
        at `base` (default runtime.loader.FLAT_BASE)."""
        from .loader import spawn_flat

        return spawn_flat(self, name, code, cpu, **kw)

    def run(
        self, until: int | None = None, max_steps: int | None = None, check: bool = True
    ) -> RunResult:
        """Run until every EC is blocked or gone. With `check`, a Python exception that
        killed an EC is raised here (as ExecutionFault from the first one)."""
        n_faults = len(self.k.ec_faults)
        n_deaths = self.k.n_deaths
        self._unrun.ran = True
        RUNNING.append(self.gate)  # for `runtime.api.contained`
        REPORTS.append(self._report)
        try:
            reason = self.k.run(until, max_steps)
        finally:
            RUNNING.remove(self.gate)
            REPORTS.remove(self._report)
        deaths = self.k.deaths  # the last DEATH_LOG of them
        fresh = min(self.k.n_deaths - n_deaths, len(deaths))
        res = RunResult(
            reason,
            [
                e.name
                for e in self.k.blocked()
                if e.blocked_on is not self.k.reply_sm and e not in self.daemons
            ],
            [deaths[i] for i in range(len(deaths) - fresh, len(deaths))],
            [c.clock for c in self.k.cpus],
        )
        new = self.k.ec_faults[n_faults:]
        if check and new:
            ec, exc = new[0]
            raise ExecutionFault(f"{ec.name} raised {exc!r}") from exc
        return res

    def _report(self, kind: str, text: str) -> None:
        """A report of the user layer (`runtime.api.report`): into `log`, prefixed with
        the virtual time, CPU and EC, and into the trace as an event ``kind``."""
        ec = self.k.current
        cpu = None if ec is None else ec.cpu
        clock = self.k.cpus[cpu].clock if cpu is not None else 0
        name = "-" if ec is None else ec.name
        self.log.append(f"[{clock} us, CPU {cpu}, {name}] {text}")
        if self.k.tracing:
            self.k.trace.note((clock, -1 if cpu is None else cpu, name, kind, 0), text)

    @property
    def trace(self) -> Trace:
        """The run's trace (needs `Machine(trace=True)`); `m.trace.save(path)` writes
        Chrome/Perfetto JSON."""
        return self.k.trace

    def save_trace(self, path: str) -> None:
        self.k.trace.save(path)

    def stats(self) -> dict[str, Any]:
        """Kernel counters, per-CPU clocks and calls per portal ("pd:selector")."""
        pts = {}
        for p in self.processes:
            for node in pd_of(p).obj.nodes.values():
                obj = node.obj
                if isinstance(obj, PtObj) and node.parent is None:
                    pts[f"{p.name}:{node.unit:#x}"] = obj.calls
        return {
            **dict(self.k.stats),
            "clock": [c.clock for c in self.k.cpus],
            "ipc_per_portal": pts,
            "deaths": self.k.n_deaths,
        }


def machine_of(p: Process) -> Machine:
    """The machine of `p` (a process refers to it weakly, so that nothing user code
    holds leads to the kernel by attribute access), for the runtime's own root-side
    code, tests and tools."""
    m = p._machine()
    if m is None:
        raise RuntimeError(f"the machine of {p.name} is gone")
    return m


def pd_of(p: Process) -> Pd:
    """The PD object of `p`, for tests and tools (the back door's way from a process to
    its PD: root's capability to it)."""
    return machine_of(p).pds[p]


def ec_of(p: Process, sel: int) -> Ec:
    """The EC object at `sel` in `p`'s PD, for tests and tools."""
    node = pd_of(p).obj.nodes.get(sel)
    ec = None if node is None else node.obj
    if not isinstance(ec, Ec):
        raise LookupError(f"no EC at {sel:#x} in {p.name}")
    return ec


def explore(
    build: Callable[[int], Machine],
    seeds: range | list[int],
    check: Callable[[Machine, RunResult], None] | None = None,
) -> dict[int, RunResult]:
    """Run a scenario under many seeds (each a different CPU interleaving)."""
    out: dict[int, RunResult] = {}
    for seed in seeds:
        m = build(seed)
        r = m.run()
        if check is not None:
            check(m, r)
        out[seed] = r
    return out
