"""The emulated x86 platform: IOAPIC, LAPIC timers, PIT, PS/2 keyboard, 16550 UART, RTC
(NOVA-NRE.md §6, §8.2).

```python
m = Machine()
plat = Platform(m)                                 # devices, root's "io" and "gsi" services
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

- Devices sit on an I/O port bus reached with `Insn.inb/outb...` (runtime.fault); the
  access is checked against the EC's PD's I/O space first: no capability, #GP.
- Root owns every device port and (copies of) every GSI semaphore; its "io" service
  hands out port ranges (`ALLOC 0, base, count` / `RELEASE 1, base, count`) and its
  "gsi" service GSI semaphores (`ALLOC 0, gsi` / `RELEASE 1, gsi`), as NRE's root does.
- Time: device events (timer expiries, scripted input) sit on one queue in virtual
  microseconds. The scheduler fires those due at each decision and bounds every time
  slice by the next one; when every CPU is idle, time jumps to the next event.
- GSIs 0..pins-1 are IOAPIC pins (`level={gsi: True}` overrides the trigger mode, like
  ACPI's interrupt source overrides); the LAPIC timer of CPU c is GSI pins + c.
"""

from __future__ import annotations

import heapq
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from .. import mdb
from ..api import SRV_SERVICE, Context, Sm
from ..crd import ALL, Crd, CrdType, PioRights, crd
from ..fault import attach_io
from ..services import guard
from ..sm import Sm as SmObj
from ..status import ErrorCode, RemoteError
from ..utcb import UtcbFrame
from .ioapic import IoApic
from .lapic import LapicTimer
from .pit import PIT_IRQ, Pit
from .ps2 import KEYBOARD_IRQ, Ps2
from .rtc import DEFAULT_EPOCH, Rtc
from .uart import COM1, COM1_IRQ, Uart

if TYPE_CHECKING:
    import datetime as dt

    from ..cpu import Cpu
    from ..kernel import Kernel
    from ..machine import Machine

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

RTC_IRQ = 8
NEVER = 1 << 62
ALLOC, RELEASE = 0, 1

# The live platforms (weakly: a machine that is gone takes its platform along), for
# `_current_context`; each machine finds its own as `Kernel.platform`.
_ACTIVE: weakref.WeakSet[Platform] = weakref.WeakSet()


class Device(Protocol):
    def io_in(self, port: int, size: int) -> int: ...

    def io_out(self, port: int, size: int, value: int) -> None: ...


class Platform:
    def __init__(
        self,
        m: Machine,
        pins: int = 24,
        level: dict[int, bool] | None = None,
        kbd_fifo: int = 16,
        uart_sink: Callable[[str], object] | None = None,
        epoch: dt.datetime = DEFAULT_EPOCH,
    ) -> None:
        k = m.k
        if pins + m.cpus > 128:
            raise ValueError("at most 128 GSIs (IOAPIC pins + one LAPIC timer per CPU)")
        self.m = m
        self.k = k
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = 0
        self.next_event = NEVER
        self._time: int | None = None
        self.ioapic = IoApic(pins, self._deliver, level or {})
        self.lapic = [LapicTimer(self, c, pins + c) for c in range(m.cpus)]
        self.pit = Pit(self)
        self.kbd = Ps2(self, kbd_fifo)
        self.uart = Uart(self, sink=uart_sink)
        self.rtc = Rtc(self, epoch)
        self.bus: dict[int, Device] = {}
        for dev in (self.pit, self.kbd, self.uart, self.rtc):
            for port in dev.ports:
                self.bus[port] = dev
        self.irqs = 0
        self.allocated_ports: dict[int, str] = {}
        self.allocated_gsis: dict[int, str] = {}
        # Root owns the device ports and a copy of every GSI semaphore (what it would
        # fetch from the kernel with FROM_HV delegations, §6).
        root = m.root
        for port in self.bus:
            mdb.insert_root(root.pd.pio, port, port, PioRights.A)
        with root.acting():
            self.gsi_base = root.env.alloc(128)
        for g in range(pins + m.cpus):
            mdb.delegate(k.kernel_pd.obj, 64 + g, root.pd.obj, self.gsi_base + g, 0, ALL)
        for c, pt in m.registry.portals.items():  # root registers with its own registry
            if 64 * c + SRV_SERVICE not in root.pd.obj.nodes:
                root.grant(pt.sel, root, 64 * c + SRV_SERVICE)
        root.serve("io", guard(self._io_service, k))
        root.serve("gsi", guard(self._gsi_service, k))
        k.platform = self
        attach_io(k, self)
        _ACTIVE.add(self)

    @staticmethod
    def of(k: Kernel) -> Platform | None:
        p: Platform | None = k.platform
        return p

    # -- time ------------------------------------------------------------------------------
    def now(self) -> int:
        """Virtual microseconds: an event's time while it fires, else the running CPU's."""
        if self._time is not None:
            return self._time
        cpu = self.k.cpu
        return cpu.clock if cpu is not None else max(c.clock for c in self.k.cpus)

    def at(self, t: int, fn: Callable[[], None], cpu: int | None = None) -> None:
        """Run `fn` at virtual time `t` (in the scheduler, never inside an EC)."""
        self._seq += 1
        heapq.heappush(self.events, (t, self._seq, fn))
        self.next_event = self.events[0][0]

    def _fire_until(self, t: int) -> None:
        ev = self.events
        while ev and ev[0][0] <= t:
            et, _, fn = heapq.heappop(ev)
            self._time = et
            try:
                fn()
            except Exception as e:  # a device model bug must not escape the kernel
                self.k.kernel_fault(f"device event: {type(e).__name__}: {e}")
            finally:
                self._time = None
        self.next_event = ev[0][0] if ev else NEVER

    def schedule_point(self, cpu: Cpu | None, until: int | None) -> Cpu | None:
        """Called by the scheduler before it runs `cpu` (None: every CPU is idle)."""
        k = self.k
        while True:
            if cpu is not None:
                if self.next_event > cpu.clock:
                    return cpu
                self._fire_until(cpu.clock)
                cpu = k._pick_cpu()
                continue
            if not self.events:
                return None
            t = self.events[0][0]
            if until is not None and t >= until:
                return None
            for c in k.cpus:
                c.clock = max(c.clock, t)
                c.since = max(c.since, t)
            self._fire_until(t)
            cpu = k._pick_cpu()

    # -- interrupts ------------------------------------------------------------------------
    def _sm(self, gsi: int) -> SmObj:
        sm = self.k.kernel_pd.obj.nodes[64 + gsi].obj
        assert isinstance(sm, SmObj)
        return sm

    def _deliver(self, gsi: int) -> None:
        self.irqs += 1
        self.k.counters["irqs"] += 1
        self.k.sm_up(self._sm(gsi))

    def raise_gsi(self, gsi: int) -> None:
        """A non-IOAPIC source (a LAPIC timer): up the GSI semaphore."""
        if gsi < len(self.ioapic.pins):
            self.ioapic.pulse(gsi)
        else:
            self._deliver(gsi)

    def gsi_down(self, gsi: int) -> None:
        if gsi < len(self.ioapic.pins):
            self.ioapic.unmask(gsi)

    def assign(self, gsi: int, cpu: int) -> None:
        if gsi < len(self.ioapic.pins):
            self.ioapic.route(gsi, cpu)

    # -- port I/O --------------------------------------------------------------------------
    def io_in(self, port: int, size: int) -> int:
        dev = self.bus.get(port)
        if dev is None:
            return (1 << (8 * size)) - 1  # nothing decodes it: the bus floats high
        return dev.io_in(port, size)

    def io_out(self, port: int, size: int, value: int) -> None:
        dev = self.bus.get(port)
        if dev is not None:
            dev.io_out(port, size, value)

    # -- scripted input --------------------------------------------------------------------
    def kbd_script(self, keys: Iterable[tuple[int, str]], release: bool = True) -> None:
        """Press (and release) each key at its virtual time."""
        for t, key in keys:

            def ev(key: str = key) -> None:
                self.kbd.press(key)
                if release:
                    self.kbd.release(key)

            self.at(t, ev)

    def kbd_bytes(self, t: int, codes: list[int]) -> None:
        """Raw scancode bytes arriving together at time `t`."""
        self.at(t, lambda: self.kbd.scancodes(codes))

    def uart_script(self, chunks: Iterable[tuple[int, bytes]]) -> None:
        """Bytes arriving on COM1's receive line at virtual times."""
        for t, data in chunks:

            def ev(data: bytes = data) -> None:
                self.uart.receive(data)

            self.at(t, ev)

    # -- root's services -------------------------------------------------------------------
    def _client(self) -> str:
        ec = self.k.current
        return "" if ec is None else ec.pd.name

    def _io_service(self, f: UtcbFrame) -> None:
        op, base, count = f.get_word(), f.get_word(), f.get_word()
        f.finish_input()
        ports = range(base, base + count)
        if not count or base + count > 1 << 16 or any(p not in self.bus for p in ports):
            f.put_word(ErrorCode.E_ARGS_INVALID)
            return
        if op == ALLOC:
            if any(p in self.allocated_ports for p in ports):
                f.put_word(ErrorCode.E_EXISTS)
                return
            for p in ports:
                self.allocated_ports[p] = self._client()
            f.put_word(ErrorCode.E_SUCCESS)
            for p, o in _pieces(base, count):
                f.delegate(crd(CrdType.PIO, p, o, PioRights.A))
        elif op == RELEASE:
            from ..api import Syscalls

            for p, o in _pieces(base, count):
                Syscalls(self.k).revoke(Crd.pio(p, o), self_=False)
            for p in ports:
                self.allocated_ports.pop(p, None)
            f.put_word(ErrorCode.E_SUCCESS)
        else:
            f.put_word(ErrorCode.E_ARGS_INVALID)

    def _gsi_service(self, f: UtcbFrame) -> None:
        op, gsi = f.get_word(), f.get_word()
        f.finish_input()
        if gsi >= len(self.ioapic.pins) + self.m.cpus:
            f.put_word(ErrorCode.E_ARGS_INVALID)
            return
        sel = self.gsi_base + gsi
        if op == ALLOC:
            if gsi in self.allocated_gsis:
                f.put_word(ErrorCode.E_EXISTS)
                return
            self.allocated_gsis[gsi] = self._client()
            f.put_word(ErrorCode.E_SUCCESS)
            f.delegate(crd(CrdType.OBJ, sel, 0))
        elif op == RELEASE:
            from ..api import Syscalls

            Syscalls(self.k).revoke(Crd.obj(sel), self_=False)
            self.allocated_gsis.pop(gsi, None)
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


def _call(ctx: Context, service: str, words: list[int], window: int = 0) -> UtcbFrame:
    pt = ctx.connect(service)
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
        _call(ctx, "io", [ALLOC, base, count], crd(CrdType.PIO, 0, 16)).close()

    def release(self) -> None:
        _call(self.ctx, "io", [RELEASE, self.base, self.count]).close()


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
        f = _call(ctx, "gsi", [ALLOC, gsi], crd(CrdType.OBJ, sel, 0))
        f.close()
        self.sm = Sm(ctx.k, sel)
        self.msi = ctx.sys.assign_gsi(sel, ctx.cpu if cpu is None else cpu)

    def down(self) -> None:
        self.sm.down()

    def zero(self) -> None:
        self.sm.zero()

    def release(self) -> None:
        _call(self.ctx, "gsi", [RELEASE, self.gsi]).close()


def _current_context() -> Context:
    """The Context of the running EC of the (only) machine with a platform."""
    from ..api import Env

    for p in list(_ACTIVE):
        k = p.k
        ec = k.current
        if ec is not None and k.hub is not None:
            env = Env.of(ec.pd)
            if env is not None:
                return Context(env, ec)
    raise RuntimeError("Gsi(irq) without a context needs a running EC")
