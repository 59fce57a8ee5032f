"""The platform as user code sees it: root's io and gsi services and NRE's `Ports` and
`Gsi` over the emulated board (runtime.platform, NOVA-NRE.md §6, §8.2).

```python
m = Machine()
plat = Platform(m)                                 # the board, root's io and gsi services
plat.kbd_script([(1000, "a"), (1500, "b")])        # key presses at virtual times (us)

@m.spawn("kbd")
def driver(ctx):
    Ports(ctx, 0x60); Ports(ctx, 0x64)             # NRE Ports: io service ALLOC
    gsi = Gsi(KEYBOARD_IRQ, ctx)                   # NRE Gsi: gsi service ALLOC + assign_gsi
    ins = Insn(ctx)
    while True:
        gsi.down()
        if ins.inb(0x64) & 1:
            print(hex(ins.inb(0x60)))
```

Root owns every device port and (copies of) every GSI semaphore and hands them out as
NRE's root does (§8.3, "Parent per-CPU portals"): through portals of each PD's own at
BLOCK*cpu + SRV_IO (`ALLOC 0, base, count` / `RELEASE 1, base, count`) and BLOCK*cpu +
SRV_GSI (`ALLOC 0, gsi` / `RELEASE 1, gsi`). The portal id names the client, so root
records the client PD as the owner and only the owner may release.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING

from .api import Context, Env, LocalThread, Pt, Sm, Syscalls
from .kernel import mdb
from .kernel.crd import ALL, Crd, CrdType, PioRights, crd
from .kernel.status import ErrorCode, RemoteError
from .kernel.utcb import UtcbFrame
from .platform import COM1, COM1_IRQ, KEYBOARD_IRQ, PIT_IRQ, RTC_IRQ, Board
from .platform.rtc import DEFAULT_EPOCH
from .services import drop_portals, guard, service_sel

if TYPE_CHECKING:
    import datetime as dt

    from .machine import Machine, Process

__all__ = [
    "COM1",
    "COM1_IRQ",
    "KEYBOARD_IRQ",
    "PIT_IRQ",
    "RTC_IRQ",
    "Gsi",
    "Platform",
    "Ports",
]

ALLOC, RELEASE = 0, 1
SRV_IO, SRV_GSI = 0x25, 0x26  # NRE's per-CPU parent portals (NOVA-NRE.md §7)

# The live platforms (weakly: a machine that is gone takes its platform along), for
# `_current_context`; each machine finds its own as `Kernel.platform`.
_ACTIVE: weakref.WeakSet[Platform] = weakref.WeakSet()


class Platform(Board):
    """The board of machine `m`, with root owning its ports and GSIs and serving them."""

    def __init__(
        self,
        m: Machine,
        pins: int = 24,
        level: dict[int, bool] | None = None,
        kbd_fifo: int = 16,
        uart_sink: Callable[[str], object] | None = None,
        epoch: dt.datetime = DEFAULT_EPOCH,
    ) -> None:
        super().__init__(m.k, m.cpus, pins, level, kbd_fifo, uart_sink, epoch)
        k = m.k
        self.m = m
        self.allocated_ports: dict[int, Process] = {}  # port -> the client that has it
        self.allocated_gsis: dict[int, Process] = {}
        # Root owns the device ports and a copy of every GSI semaphore (what it would
        # fetch from the kernel with FROM_HV delegations, §6).
        from .machine import pd_of  # root's own capabilities, as the Machine sees them

        root = m.root
        root_pd = pd_of(root)
        for port in self.bus:
            mdb.insert_root(root_pd.pio, port, port, PioRights.A)
        with root.acting():
            self.gsi_base = root.env.alloc(128)
        for g in range(self.gsis):
            mdb.delegate(k.kernel_pd.obj, k.num_cpu + g, root_pd.obj, self.gsi_base + g, 0, ALL)
        # One local EC per CPU and service; every PD gets portals of its own to them.
        self.clients: dict[int, Process] = {}  # portal id -> client
        self._eps: list[tuple[int, dict[int, LocalThread], int]] = []
        for offset, handler in ((SRV_IO, self._io_service), (SRV_GSI, self._gsi_service)):
            ip = m.gate.register_code(guard(handler, m.gate), in_pd=False)
            with root.acting():
                ecs = {c: LocalThread(root.env, c) for c in range(m.cpus)}
            self._eps.append((offset, ecs, ip))
        for proc in m.processes:
            self.add_client(proc)
        m.spawn_hooks.append(self.add_client)
        m.kill_hooks.append(self.drop_client)
        _ACTIVE.add(self)

    def add_client(self, proc: Process) -> None:
        """Root makes `proc` its io and gsi portals on every CPU (NRE's SRV_IO, SRV_GSI)."""
        root = self.m.root
        sys = Syscalls(self.m.gate)
        for offset, ecs, ip in self._eps:
            for cpu, lt in ecs.items():
                with root.acting():
                    sel = service_sel(cpu, offset) if proc is root else root.env.alloc()
                    sys.create_pt(sel, lt.sel, ip)
                self.clients[sel] = proc
                if proc is not root:
                    root.grant(sel, proc, service_sel(cpu, offset))

    def drop_client(self, proc: Process) -> None:
        """After root killed `proc`: its io and gsi portals go, its ports and GSIs are free
        again (its capabilities went with its PD)."""
        drop_portals(self.m, self.clients, proc)
        for table in (self.allocated_ports, self.allocated_gsis):
            for unit in [u for u, owner in table.items() if owner is proc]:
                del table[unit]

    # -- root's services -------------------------------------------------------------------
    def _client(self, f: UtcbFrame) -> Process | None:
        """The client whose portal carried the request: the portal id, which the kernel
        vouches for (not the EC that happens to run the service)."""
        return self.clients.get(f.pid)

    def _io_service(self, f: UtcbFrame) -> None:
        op, base, count = f.get_word(), f.get_word(), f.get_word()
        f.finish_input()
        client = self._client(f)
        ports = range(base, base + count)
        if (
            client is None
            or not count
            or base + count > 1 << 16
            or any(p not in self.bus for p in ports)
        ):
            f.put_word(ErrorCode.E_ARGS_INVALID)
            return
        if op == ALLOC:
            if any(p in self.allocated_ports for p in ports):
                f.put_word(ErrorCode.E_EXISTS)
                return
            for p in ports:
                self.allocated_ports[p] = client
            f.put_word(ErrorCode.E_SUCCESS)
            for p, o in _pieces(base, count):
                f.delegate(crd(CrdType.PIO, p, o, PioRights.A))
        elif op == RELEASE:
            if any(self.allocated_ports.get(p) is not client for p in ports):
                f.put_word(ErrorCode.E_CAP)  # only the owner releases
                return
            for p, o in _pieces(base, count):
                Syscalls(self.m.gate).revoke(Crd.pio(p, o), self_=False)
            for p in ports:
                del self.allocated_ports[p]
            f.put_word(ErrorCode.E_SUCCESS)
        else:
            f.put_word(ErrorCode.E_ARGS_INVALID)

    def _gsi_service(self, f: UtcbFrame) -> None:
        op, gsi = f.get_word(), f.get_word()
        f.finish_input()
        client = self._client(f)
        if client is None or gsi >= self.gsis:
            f.put_word(ErrorCode.E_ARGS_INVALID)
            return
        sel = self.gsi_base + gsi
        if op == ALLOC:
            if gsi in self.allocated_gsis:
                f.put_word(ErrorCode.E_EXISTS)
                return
            self.allocated_gsis[gsi] = client
            f.put_word(ErrorCode.E_SUCCESS)
            f.delegate(crd(CrdType.OBJ, sel, 0))
        elif op == RELEASE:
            if self.allocated_gsis.get(gsi) is not client:
                f.put_word(ErrorCode.E_CAP)  # only the owner releases
                return
            Syscalls(self.m.gate).revoke(Crd.obj(sel), self_=False)
            del self.allocated_gsis[gsi]
            f.put_word(ErrorCode.E_SUCCESS)
        else:
            f.put_word(ErrorCode.E_ARGS_INVALID)


def _pieces(base: int, count: int) -> list[tuple[int, int]]:
    """Aligned power-of-two pieces of [base, base+count) (NRE's CapRange split)."""
    out = []
    while count:
        o = 0
        while not base & (1 << o) and (2 << o) <= count and o < 16:
            o += 1
        out.append((base, o))
        base += 1 << o
        count -= 1 << o
    return out


def _call(ctx: Context, service: int, words: list[int], window: int = 0) -> UtcbFrame:
    pt = Pt(ctx.gate, service_sel(ctx.cpu, service))
    f = ctx.frame()
    try:
        if window:
            f.delegation_window(window)
        for w in words:
            f.put_word(w)
        pt.call(f)
        code = f.get_word()
        if code != ErrorCode.E_SUCCESS:
            raise RemoteError(code, f"{service} {words}")
    except BaseException:
        f.close()
        raise
    return f


class Ports:
    """I/O ports [base, base+count) for the running PD (NRE `Ports`: io service ALLOC)."""

    def __init__(self, ctx: Context, base: int, count: int = 1) -> None:
        self.ctx, self.base, self.count = ctx, base, count
        _call(ctx, SRV_IO, [ALLOC, base, count], crd(CrdType.PIO, 0, 16)).close()

    def release(self) -> None:
        _call(self.ctx, SRV_IO, [RELEASE, self.base, self.count]).close()


class Gsi:
    """An interrupt for the running EC (NRE `Gsi`): fetches the GSI semaphore from root's
    gsi service, routes it to `cpu` (default: the EC's) with assign_gsi; `down()` waits
    for the next interrupt (and unmasks a level-triggered one)."""

    def __init__(self, gsi: int, ctx: Context | None = None, cpu: int | None = None) -> None:
        if ctx is None:
            ctx = _current_context()
        self.ctx = ctx
        self.gsi = gsi
        sel = ctx.env.alloc()
        f = _call(ctx, SRV_GSI, [ALLOC, gsi], crd(CrdType.OBJ, sel, 0))
        f.close()
        self.sm = Sm(ctx.gate, sel)
        self.msi = ctx.sys.assign_gsi(sel, ctx.cpu if cpu is None else cpu)

    def down(self) -> None:
        self.sm.down()

    def zero(self) -> None:
        self.sm.zero()

    def release(self) -> None:
        _call(self.ctx, SRV_GSI, [RELEASE, self.gsi]).close()


def _current_context() -> Context:
    """The Context of the running EC of the (only) machine with a platform."""
    for p in list(_ACTIVE):
        k = p.k
        ec = k.current
        if ec is not None and k.hub is not None:
            env = Env.of(ec.pd)
            if env is not None:
                return Context(env)
    raise RuntimeError("Gsi(irq) without a context needs a running EC")
