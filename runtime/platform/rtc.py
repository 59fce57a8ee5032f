"""MC146818 CMOS RTC: index port 0x70 (bit 7 = NMI disable), data port 0x71.

Registers 0 seconds, 2 minutes, 4 hours, 6 weekday, 7 day, 8 month, 9 year (BCD unless
status B bit 2, 24-hour if B bit 1), 0x32 century; status A (0x0A) has UIP (bit 7) in
the last 244 us of every second; status B (0x0B) holds the mode bits; C and D read 0x00
and 0x80 (valid RAM and time). The time is `epoch` plus the virtual time of the machine.
Other indices are battery-backed RAM. Writes to the time registers are kept in RAM but
do not set the clock (this emulation's simplification).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["Rtc"]

INDEX, DATA = 0x70, 0x71
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
            return 0x00
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
