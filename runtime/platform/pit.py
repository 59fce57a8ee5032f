"""Intel 8254 PIT: channel 0 drives IRQ 0 (ports 0x40-0x43).

Control word at 0x43: channel (bits 7-6), access (5-4: 0 latch, 1 low byte, 2 high
byte, 3 low then high), mode (3-1: 0 interrupt on terminal count, 2 rate generator,
3 square wave; 6/7 alias 2/3), BCD (bit 0, not supported: counts are binary).
Writing the reload value of channel 0 starts counting; mode 0 raises IRQ 0 once, modes
2 and 3 periodically every reload / 1.193182 MHz. Reads return the current count (or the
latched one) in the programmed access order. Channels 1 and 2 count but raise nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["PIT_HZ", "Pit"]

PIT_HZ = 1193182
BASE = 0x40
PIT_IRQ = 0


class _Channel:
    def __init__(self) -> None:
        self.mode = 0
        self.access = 3
        self.reload = 0x10000
        self.start = 0  # virtual us when counting started
        self.running = False
        self.latch: int | None = None
        self.low_next = True  # lobyte/hibyte flip-flop for reads and writes
        self.partial = 0
        self.gen = 0


class Pit:
    ports = range(BASE, BASE + 4)

    def __init__(self, platform: Board) -> None:
        self.p = platform
        self.ch = [_Channel() for _ in range(3)]
        self.ticks = 0

    def period_us(self, c: int = 0) -> int:
        return max(1, round(self.ch[c].reload * 1_000_000 / PIT_HZ))

    def _count(self, c: int) -> int:
        ch = self.ch[c]
        if not ch.running:
            return ch.reload & 0xFFFF
        elapsed = (self.p.now() - ch.start) * PIT_HZ // 1_000_000
        if ch.mode == 0:
            return max(ch.reload - elapsed, 0) & 0xFFFF
        return (ch.reload - elapsed % ch.reload) & 0xFFFF

    def io_in(self, port: int, size: int) -> int:
        c = port - BASE
        if c == 3:
            return 0xFF  # the control port is write-only
        ch = self.ch[c]
        v = ch.latch if ch.latch is not None else self._count(c)
        if ch.access == 1:
            out = v & 0xFF
        elif ch.access == 2:
            out = v >> 8
        else:
            out = v & 0xFF if ch.low_next else v >> 8
            ch.low_next = not ch.low_next
            if ch.low_next:
                ch.latch = None
            return out
        ch.latch = None
        return out

    def io_out(self, port: int, size: int, value: int) -> None:
        value &= 0xFF
        c = port - BASE
        if c == 3:
            sel = value >> 6
            if sel == 3:
                return  # read-back command: not emulated
            ch = self.ch[sel]
            access = (value >> 4) & 3
            if access == 0:
                ch.latch = self._count(sel)
                ch.low_next = True
                return
            ch.access = access
            mode = (value >> 1) & 7
            ch.mode = mode - 4 if mode >= 6 else mode
            ch.low_next = True
            ch.running = False
            ch.gen += 1
            return
        ch = self.ch[c]
        if ch.access == 1:
            self._load(c, value)
        elif ch.access == 2:
            self._load(c, value << 8)
        elif ch.low_next:
            ch.partial = value
            ch.low_next = False
        else:
            ch.low_next = True
            self._load(c, ch.partial | value << 8)

    def _load(self, c: int, reload: int) -> None:
        ch = self.ch[c]
        ch.reload = reload or 0x10000
        ch.start = self.p.now()
        ch.running = True
        ch.gen += 1
        if c == 0:
            gen = ch.gen
            self.p.at(ch.start + self.period_us(), lambda: self._tick(gen))

    def _tick(self, gen: int) -> None:
        ch = self.ch[0]
        if gen != ch.gen or not ch.running:
            return
        self.ticks += 1
        self.p.ioapic.pulse(PIT_IRQ)
        if ch.mode in (2, 3):
            self.p.at(self.p.now() + self.period_us(), lambda: self._tick(gen))
        else:
            ch.running = False
