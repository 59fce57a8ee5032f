"""The emulated x86 board: IOAPIC, PIT, PS/2 keyboard, 16550 UART, RTC (NOVA-NRE.md §6,
§8.2), the hardware under the kernel; the CPUs' LAPIC timers are the kernel's alone
(`timebase`, `lapic`).

`Board(kernel, cpus)` registers itself with the kernel (`Kernel.platform`: GSI routing;
`Kernel.io_bus`: port I/O) and uses the kernel's time base (`Kernel.timer`,
runtime.platform.timebase); the user layer's `runtime.devices` puts root's "io" and
"gsi" services and NRE's `Ports`/`Gsi` on top of it.

- Devices sit on an I/O port bus reached with `Insn.inb/outb...` (runtime.platform.fault);
  the access is checked against the EC's PD's I/O space first: no capability, #GP.
- Time: device events (PIT and RTC interrupts, scripted input) sit on the time base's
  queue in virtual microseconds. The scheduler fires those due at each decision and
  bounds every time slice by the next one; when every CPU is idle, time jumps to the
  next event.
- GSIs 0..pins-1 are IOAPIC pins (`level={gsi: True}` overrides the trigger mode, like
  ACPI's interrupt source overrides). GSI g's semaphore is the kernel PD's capability
  num_cpu + g (NUM_CPU, 64 as NOVA fixes it; §6). User timers are the PIT (IRQ 0) and
  the RTC (IRQ 8) through their GSI semaphores, as NRE's timer service uses them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from ..kernel.sm import Sm as SmObj
from .fault import attach_io
from .ioapic import IoApic
from .lapic import LapicTimer
from .pit import PIT_IRQ, Pit
from .ps2 import KEYBOARD_IRQ, Ps2
from .rtc import DEFAULT_EPOCH, Rtc
from .timebase import NEVER, Timebase
from .uart import COM1, COM1_IRQ, Uart

if TYPE_CHECKING:
    import datetime as dt

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
    "Timebase",
]

RTC_IRQ = 8
MAX_GSIS = 128  # NOVA's NUM_GSI: the kernel PD's GSI semaphores


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
        if pins > MAX_GSIS:
            raise ValueError("at most 128 GSIs (IOAPIC pins)")
        self.k = k
        self.cpus = cpus
        self.time = Timebase.of(k)
        self.ioapic = IoApic(pins, self._deliver, level or {})
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
        """How many GSIs there are: the IOAPIC's pins."""
        return len(self.ioapic.pins)

    @property
    def lapic(self) -> list[LapicTimer]:
        """The CPUs' LAPIC timers, for inspection: only the kernel programs them."""
        return self.time.lapic

    @staticmethod
    def of(k: Kernel) -> Board | None:
        p: Board | None = k.platform
        return p

    # -- time (the kernel's time base) -----------------------------------------------------
    def now(self) -> int:
        """Virtual microseconds: an event's time while it fires, else the running CPU's."""
        return self.time.now()

    def at(self, t: int, fn: Callable[[], None]) -> None:
        """Run `fn` at virtual time `t` (in the scheduler, never inside an EC)."""
        self.time.at(t, fn)

    # -- interrupts ------------------------------------------------------------------------
    def _sm(self, gsi: int) -> SmObj:
        sm = self.k.kernel_pd.obj.nodes[self.k.num_cpu + gsi].obj
        assert isinstance(sm, SmObj)
        return sm

    def _deliver(self, gsi: int) -> None:
        self.irqs += 1
        self.k.counters["irqs"] += 1
        self.k.sm_up(self._sm(gsi))

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
