"""Intel 8042 PS/2 controller with a keyboard: ports 0x60 (data) and 0x64 (status /
command), IRQ 1, scancode set 1.

Status (0x64 read): bit 0 output buffer full, bit 1 input buffer full (always 0: the
emulated controller takes commands at once), bit 2 system flag, bit 4 keyboard not
inhibited. Reading 0x60 takes the output buffer; the controller then moves the next
byte from the keyboard's FIFO (16 bytes like a real keyboard; `fifo` configures it) into
it. IRQ 1 follows "output buffer full and command byte bit 0", so every byte read gives
the line a fresh rising edge. A key that arrives when the FIFO is full is lost: the
keyboard sends the set-1 overrun code 0xFF in its place (counted in `overruns`).

Controller commands (0x64 write): 0x20 read / 0x60 write the command byte, 0xAA self
test (0x55), 0xAB interface test (0x00), 0xAD/0xAE disable/enable the keyboard clock,
0xA7/0xA8 disable/enable the aux port, 0xD1 write the output port, 0xFE pulse reset.
Keyboard commands (0x60 write): 0xFF reset (0xFA, 0xAA), 0xF4/0xF5 enable/disable
scanning, 0xED LEDs, 0xEE echo, 0xF2 identify (0xFA 0xAB 0x83), 0xF0 scancode set
(only set 1, as translated), 0xF3 typematic; all acknowledged with 0xFA; others 0xFE.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["KEYBOARD_IRQ", "SCANCODES", "Ps2", "break_code", "make_code"]

KEYBOARD_IRQ = 1
DATA, STATUS = 0x60, 0x64

# Scancode set 1 make codes; extended keys are prefixed with 0xE0.
_ROWS = {
    0x02: "1234567890-=",
    0x10: "qwertyuiop[]",
    0x1E: "asdfghjkl;'`",
    0x2B: "\\zxcvbnm,./",
}
SCANCODES: dict[str, tuple[int, ...]] = {
    ch: (base + i,) for base, row in _ROWS.items() for i, ch in enumerate(row)
}
SCANCODES.update(
    {
        "esc": (0x01,),
        "backspace": (0x0E,),
        "tab": (0x0F,),
        "enter": (0x1C,),
        "\n": (0x1C,),
        "lctrl": (0x1D,),
        "lshift": (0x2A,),
        "rshift": (0x36,),
        "lalt": (0x38,),
        " ": (0x39,),
        "space": (0x39,),
        "capslock": (0x3A,),
        **{f"f{i}": (0x3A + i,) for i in range(1, 11)},
        "rctrl": (0xE0, 0x1D),
        "ralt": (0xE0, 0x38),
        "up": (0xE0, 0x48),
        "left": (0xE0, 0x4B),
        "right": (0xE0, 0x4D),
        "down": (0xE0, 0x50),
        "home": (0xE0, 0x47),
        "end": (0xE0, 0x4F),
        "delete": (0xE0, 0x53),
    }
)


def make_code(key: str) -> tuple[int, ...]:
    return SCANCODES[key]


def break_code(key: str) -> tuple[int, ...]:
    *prefix, code = SCANCODES[key]
    return (*prefix, code | 0x80)


class Ps2:
    ports = (DATA, STATUS)

    def __init__(self, platform: Board, fifo: int = 16) -> None:
        self.p = platform
        self.capacity = fifo
        self.fifo: deque[int] = deque()  # the keyboard's internal buffer
        self.obf = False
        self.out = 0
        self.cmd_byte = 0x45  # IRQ1 enabled, system flag, translation
        self.pending: int | None = None  # a command waiting for its data byte
        self.scanning = True
        self.leds = 0
        self.output_port = 0x01
        self.overruns = 0
        self.resets = 0  # reset requests (0xFE pulse, or output port bit 0 cleared)
        self.keys_in = 0  # bytes the keyboard produced

    # -- the keyboard side -----------------------------------------------------------------
    def press(self, key: str) -> None:
        self.scancodes(make_code(key))

    def release(self, key: str) -> None:
        self.scancodes(break_code(key))

    def scancodes(self, codes: tuple[int, ...] | list[int] | bytes) -> None:
        """Bytes from the key matrix; lost (overrun) when the FIFO is full."""
        if not self.scanning:
            return
        for c in codes:
            self.keys_in += 1
            if len(self.fifo) >= self.capacity:
                self.overruns += 1
                self.fifo[-1] = 0xFF  # set-1 overrun marker replaces the last byte
                continue
            self.fifo.append(c & 0xFF)
            if not self.obf:
                self._refill()
        self._refill()

    def _respond(self, *data: int) -> None:
        self.fifo.extendleft(reversed(data))  # responses go before queued keys
        self._refill()

    def _refill(self) -> None:
        if not self.obf and self.fifo and not self.cmd_byte & 0x10:
            self.out = self.fifo.popleft()
            self.obf = True
        self._line()

    def _line(self) -> None:
        self.p.ioapic.set_line(KEYBOARD_IRQ, self.obf and bool(self.cmd_byte & 1))

    def _controller(self, value: int) -> None:
        """A controller's own answer: straight into the output buffer."""
        self.out = value & 0xFF
        self.obf = True
        self._line()

    # -- ports -----------------------------------------------------------------------------
    def io_in(self, port: int, size: int) -> int:
        if port == STATUS:
            return int(self.obf) | 1 << 2 | (0 if self.cmd_byte & 0x10 else 1 << 4)
        v = self.out
        if self.obf:
            self.obf = False
            self._line()
            self._refill()
        return v

    def io_out(self, port: int, size: int, value: int) -> None:
        value &= 0xFF
        if port == STATUS:
            self.pending = None
            if value == 0x20:
                self._controller(self.cmd_byte)
            elif value in (0x60, 0xD1):
                self.pending = value
            elif value == 0xAA:
                self._controller(0x55)
            elif value == 0xAB:
                self._controller(0x00)
            elif value == 0xAD:
                self.cmd_byte |= 0x10
            elif value == 0xAE:
                self.cmd_byte &= ~0x10
                self._refill()
            elif value == 0xFE:
                self.resets += 1
            return
        pending, self.pending = self.pending, None
        if pending == 0x60:
            self.cmd_byte = value
            self._refill()
        elif pending == 0xD1:
            self.output_port = value
            if not value & 1:
                self.resets += 1
        elif pending in (0xED, 0xF0, 0xF3):
            if pending == 0xED:
                self.leds = value & 7
            self._respond(0xFA)
        else:
            self._keyboard(value)

    def _keyboard(self, cmd: int) -> None:
        if cmd == 0xFF:
            self.fifo.clear()
            self.scanning = True
            self._respond(0xFA, 0xAA)
        elif cmd == 0xF4:
            self.scanning = True
            self._respond(0xFA)
        elif cmd == 0xF5:
            self.scanning = False
            self._respond(0xFA)
        elif cmd in (0xED, 0xF0, 0xF3):
            self.pending = cmd
            self._respond(0xFA)
        elif cmd == 0xEE:
            self._respond(0xEE)
        elif cmd == 0xF2:
            self._respond(0xFA, 0xAB, 0x83)
        else:
            self._respond(0xFE)
