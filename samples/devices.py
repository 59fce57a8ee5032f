"""Keyboard driver and UART console on the emulated platform, with the plain runtime API.

Three PDs: `kbd` (an IRQ-driven PS/2 driver serving "keyboard": GET 0 -> E_SUCCESS,
scancode, blocking until a key is there), `console` (owns COM1, serving "console":
PUT 0, byte), and `shell` (reads keys, turns make codes into characters, echoes them to
the console). The IDL-defined Keyboard binding replaces the hand-written messages once
the Python backend lands. Run: `python -m samples.devices`.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable

from runtime.api import Context
from runtime.fault import Insn
from runtime.machine import Machine
from runtime.platform import COM1, KEYBOARD_IRQ, Gsi, Platform, Ports
from runtime.platform.ps2 import SCANCODES
from runtime.status import ErrorCode
from runtime.utcb import UtcbFrame

CHARS = {codes[0]: key for key, codes in SCANCODES.items() if len(key) == 1 and len(codes) == 1}
CHARS[0x1C] = "\n"


def build(text: str, sink: Callable[[str], object] | None = None) -> tuple[Machine, Platform]:
    m = Machine()
    plat = Platform(m, uart_sink=sink)
    plat.kbd_script((1000 + 300 * i, "space" if ch == " " else ch) for i, ch in enumerate(text))

    kbd = m.spawn("kbd")
    keys: deque[int] = deque()
    box: dict[str, object] = {}

    @kbd
    def driver(ctx: Context) -> None:
        Ports(ctx, 0x60)
        Ports(ctx, 0x64)
        gsi = Gsi(KEYBOARD_IRQ, ctx)
        ins = Insn(ctx)
        avail = ctx.sm(0)
        box["avail"] = avail
        while True:
            gsi.down()
            while ins.inb(0x64) & 1:
                keys.append(ins.inb(0x60))
                avail.up()

    def get_key(f: UtcbFrame) -> None:
        op = f.get_word()
        f.finish_input()
        sm = box.get("avail")
        if op != 0 or sm is None:
            f.put_word(ErrorCode.E_ARGS_INVALID)
            return
        sm.down()  # type: ignore[attr-defined]
        f.put_word(ErrorCode.E_SUCCESS)
        f.put_word(keys.popleft())

    kbd.serve("keyboard", get_key)

    con = m.spawn("console")

    @con
    def console_init(ctx: Context) -> None:
        Ports(ctx, COM1, 8)
        ins = Insn(ctx)
        ins.outb(COM1 + 3, 0x03)  # 8N1
        ins.outb(COM1 + 2, 0x01)  # FIFO

    def put(f: UtcbFrame) -> None:
        op, byte = f.get_word(), f.get_word()
        f.finish_input()
        ec = m.k.current
        assert ec is not None
        ins = Insn.of(m.k, ec)  # the handler's own EC executes the port writes
        while not ins.inb(COM1 + 5) & 0x20:
            pass
        ins.outb(COM1, byte)
        f.put_word(ErrorCode.E_SUCCESS if op == 0 else ErrorCode.E_ARGS_INVALID)

    con.serve("console", put)

    shell = m.spawn("shell")

    @shell
    def read_keys(ctx: Context) -> None:
        kb, out = ctx.connect("keyboard"), ctx.connect("console")
        shown = 0
        while shown < len(text):
            with kb.frame() as f:
                f.put_word(0)
                kb.call(f)
                f.get_word()
                code = f.get_word()
            ch = CHARS.get(code)  # break codes (bit 7) and prefixes are not characters
            if ch is None:
                continue
            shown += 1
            with out.frame() as f:
                f.put_word(0)
                f.put_word(ord(ch))
                out.call(f)

    return m, plat


def main() -> int:
    text = "hello nova\n"
    m, plat = build(text, sys.stdout.write)
    m.run()
    return 0 if plat.uart.text == text else 1


if __name__ == "__main__":
    raise SystemExit(main())
