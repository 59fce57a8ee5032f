"""The emulated x86 board: IOAPIC, LAPIC timers, PIT, PS/2 keyboard, 16550 UART, RTC
(NOVA-NRE.md §6, §8.2), the hardware under the kernel.

`Board(kernel, cpus)` registers itself with the kernel (`Kernel.platform`: timed device
events and interrupts; `Kernel.io_bus`: port I/O); the user layer's `runtime.devices`
puts root's "io" and "gsi" services and NRE's `Ports`/`Gsi` on top of it.

- Devices sit on an I/O port bus reached with `Insn.inb/outb...` (runtime.platform.fault);
  the access is checked against the EC's PD's I/O space first: no capability, #GP.
- Time: device events (timer expiries, scripted input) sit on one queue in virtual
  microseconds. The scheduler fires those due at each decision and bounds every time
  slice by the next one; when every CPU is idle, time jumps to the next event.
- GSIs 0..pins-1 are IOAPIC pins (`level={gsi: True}` overrides the trigger mode, like
  ACPI's interrupt source overrides); the LAPIC timer of CPU c is GSI pins + c. GSI g's
  semaphore is the kernel PD's capability num_cpu + g (NUM_CPU, 64 as NOVA fixes it; §6).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..kernel.sm import Sm as SmObj
from .fault import attach_io
from .ioapic import IoApic
from .lapic import LapicTimer
from .pit import PIT_IRQ, Pit
from .ps2 import KEYBOARD_IRQ, Ps2
from .rtc import DEFAULT_EPOCH, Rtc
from .uart import COM1, COM1_IRQ, Uart

if TYPE_CHECKING:
    import datetime as dt

    from ..kernel.cpu import Cpu
    from ..kernel.kernel import Kernel

__all__ = [
    "COM1",
    "COM1_IRQ",
    "KEYBOARD_IRQ",
    "MAX_GSIS",
    "NEVER",
    "PIT_IRQ",
    "RTC_IRQ",
    "Board",
    "Device",
]

RTC_IRQ = 8
NEVER = 1 << 62
MAX_GSIS = 128  # IOAPIC pins + one LAPIC timer per CPU


class Device(Protocol):
    def io_in(self, port: int, size: int) -> int: ...

    def io_out(self, port: int, size: int, value: int) -> None: ...


class Board:
    def __init__(
        self,
        k: Kernel,
        cpus: int,
        pins: int = 24,
        level: dict[int, bool] | None = None,
        kbd_fifo: int = 16,
        uart_sink: Callable[[str], object] | None = None,
        epoch: dt.datetime = DEFAULT_EPOCH,
    ) -> None:
        if pins + cpus > MAX_GSIS:
            raise ValueError("at most 128 GSIs (IOAPIC pins + one LAPIC timer per CPU)")
        self.k = k
        self.cpus = cpus
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = 0
        self.next_event = NEVER
        self._time: int | None = None
        self.ioapic = IoApic(pins, self._deliver, level or {})
        self.lapic = [LapicTimer(self, c, pins + c) for c in range(cpus)]
        self.pit = Pit(self)
        self.kbd = Ps2(self, kbd_fifo)
        self.uart = Uart(self, sink=uart_sink)
        self.rtc = Rtc(self, epoch)
        self.bus: dict[int, Device] = {}
        for dev in (self.pit, self.kbd, self.uart, self.rtc):
            for port in dev.ports:
                self.bus[port] = dev
        self.irqs = 0
        k.platform = self
        attach_io(k, self)

    @property
    def gsis(self) -> int:
        """How many GSIs there are: the IOAPIC's pins and one LAPIC timer per CPU."""
        return len(self.ioapic.pins) + self.cpus

    @staticmethod
    def of(k: Kernel) -> Board | None:
        p: Board | None = k.platform
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
        sm = self.k.kernel_pd.obj.nodes[self.k.num_cpu + gsi].obj
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
