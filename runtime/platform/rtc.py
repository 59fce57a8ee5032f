"""MC146818 CMOS RTC: index port 0x70 (bit 7 = NMI disable), data port 0x71.

Registers 0 seconds, 2 minutes, 4 hours, 6 weekday, 7 day, 8 month, 9 year (BCD unless
status B bit 2, 24-hour if B bit 1), 0x32 century; status A (0x0A) has UIP (bit 7) in
the last 244 us of every second; status B (0x0B) holds the mode bits; D reads 0x80
(valid RAM and time). The time is `epoch` plus the virtual time of the machine.
Other indices are battery-backed RAM. Writes to the time registers are kept in RAM but
do not set the clock (this emulation's simplification).

Interrupts on IRQ 8 (edge, as on the ISA bus): with B's PIE (bit 6) the periodic flag PF
is set every 1/rate s, rate = 32768 >> (RS - 1) Hz for A's rate select RS = 3..15 (RS 1
and 2: 256 and 128 Hz, RS 0: none), at multiples of the period in virtual time; with
UIE (bit 4) the update-ended flag UF is set at every whole second, when UIP ends. A
flag whose enable bit is set also sets IRQF (bit 7) and raises IRQ 8 when IRQF was
clear; reading C returns the flags and clears them, so the next interrupt needs that
read (the line stays asserted until then on real hardware). Flags are tracked only
while their enable bit is set; the alarm (AIE) is not emulated.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["Rtc"]

INDEX, DATA = 0x70, 0x71
RTC_IRQ = 8
PIE, AIE, UIE = 0x40, 0x20, 0x10  # status B
IRQF, PF, AF, UF = 0x80, 0x40, 0x20, 0x10  # status C
DEFAULT_EPOCH = dt.datetime(2012, 12, 1, tzinfo=dt.UTC)


class Rtc:
    ports = (INDEX, DATA)

    def __init__(self, platform: Board, epoch: dt.datetime = DEFAULT_EPOCH) -> None:
        self.p = platform
        self.epoch = epoch
        self.index = 0
        self.nmi_disabled = False
        self.ram = bytearray(128)
        self.ram[0x0A] = 0x26
        self.ram[0x0B] = 0x02  # 24-hour, BCD
        self.flags = 0  # status C
        self.gen = 0  # bumped by every write to A or B: stale events do nothing
        self.irqs = 0

    def period_us(self) -> int:
        """The periodic interrupt's period for A's rate select (0: none)."""
        rs = self.ram[0x0A] & 0xF
        if not rs:
            return 0
        hz = 32768 >> (rs - 1) if rs >= 3 else 256 >> (rs - 1)
        return max(1, round(1_000_000 / hz))

    def _arm(self) -> None:
        self.gen += 1
        gen, now, b = self.gen, self.p.now(), self.ram[0x0B]
        period = self.period_us()
        if b & PIE and period:
            self.p.at((now // period + 1) * period, lambda: self._periodic(gen, period))
        if b & UIE:
            self.p.at((now // 1_000_000 + 1) * 1_000_000, lambda: self._update(gen))

    def _periodic(self, gen: int, period: int) -> None:
        if gen == self.gen:
            self._flag(PF)
            self.p.at(self.p.now() + period, lambda: self._periodic(gen, period))

    def _update(self, gen: int) -> None:
        if gen == self.gen:
            self._flag(UF)
            self.p.at(self.p.now() + 1_000_000, lambda: self._update(gen))

    def _flag(self, flag: int) -> None:
        was = self.flags & IRQF
        self.flags |= flag
        if self.ram[0x0B] & (PIE | AIE | UIE) & self.flags:
            self.flags |= IRQF
            if not was:
                self.irqs += 1
                self.p.ioapic.pulse(RTC_IRQ)

    def time(self) -> dt.datetime:
        return self.epoch + dt.timedelta(microseconds=self.p.now())

    def _enc(self, v: int) -> int:
        return v if self.ram[0x0B] & 4 else (v // 10) << 4 | v % 10

    def io_in(self, port: int, size: int) -> int:
        if port == INDEX:
            return 0xFF  # write-only on real chipsets
        i = self.index
        t = self.time()
        if i == 0x0A:
            uip = 0x80 if self.p.now() % 1_000_000 >= 1_000_000 - 244 else 0
            return (self.ram[0x0A] & 0x7F) | uip
        if i == 0x0C:
            flags, self.flags = self.flags, 0
            return flags
        if i == 0x0D:
            return 0x80
        fields = {
            0x00: t.second,
            0x02: t.minute,
            0x06: t.isoweekday() % 7 + 1,
            0x07: t.day,
            0x08: t.month,
            0x09: t.year % 100,
            0x32: t.year // 100,
        }
        if i in fields:
            return self._enc(fields[i])
        if i == 0x04:
            h = t.hour
            if self.ram[0x0B] & 2:
                return self._enc(h)
            pm = 0x80 if h >= 12 else 0
            return self._enc(h % 12 or 12) | pm
        return self.ram[i]

    def io_out(self, port: int, size: int, value: int) -> None:
        if port == INDEX:
            self.index = value & 0x7F
            self.nmi_disabled = bool(value & 0x80)
            return
        if self.index not in (0x0C, 0x0D):
            self.ram[self.index] = value & 0xFF
            if self.index in (0x0A, 0x0B):
                self._arm()
