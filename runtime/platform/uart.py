"""NS16550A UART: COM1 at 0x3F8, IRQ 4.

Registers (offset from the base; DLAB = LCR bit 7 switches 0 and 1 to the divisor):
0 RBR (read) / THR (write) / DLL, 1 IER / DLM, 2 IIR (read) / FCR (write), 3 LCR, 4 MCR,
5 LSR, 6 MSR, 7 SCR.
- Transmit: a THR write goes to `sink` (the host terminal, e.g. `sys.stdout.write`) and
  to `sent`; the transmitter is empty again at once (LSR THRE and TEMT stay set).
- Receive: `receive(data)` (or `Board.uart_script`) fills the RX FIFO: 16 bytes with
  FCR bit 0 set, else a 1-byte holding register. A byte that does not fit is lost and
  sets LSR OE (cleared by reading LSR); counted in `overruns`.
- Interrupts (IER bit 0 received data, bit 1 THR empty, bit 2 line status), reported in
  IIR by priority (0x06 line status, 0x04 received data, 0x02 THR empty, 0x01 none;
  bits 7-6 set with the FIFO on). Reading IIR while it reports THR empty, or writing THR,
  clears that source. The IRQ line is gated by MCR OUT2, as on a PC. MCR bit 4 loops
  transmitted bytes back into the receiver.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["COM1", "COM1_IRQ", "Uart"]

COM1 = 0x3F8
COM1_IRQ = 4
LSR_DR, LSR_OE, LSR_THRE, LSR_TEMT = 0x01, 0x02, 0x20, 0x40


class Uart:
    def __init__(
        self,
        platform: Board,
        base: int = COM1,
        irq: int = COM1_IRQ,
        sink: Callable[[str], object] | None = None,
    ) -> None:
        self.p = platform
        self.base = base
        self.irq = irq
        self.ports = range(base, base + 8)
        self.sink = sink
        self.sent = bytearray()
        self.rx: deque[int] = deque()
        self.fifo_on = False
        self.ier = self.lcr = self.mcr = self.scr = 0
        self.dll, self.dlm = 0x0C, 0x00  # 9600 baud
        self.oe = False
        self.thre_pending = False
        self.overruns = 0
        self.received = 0

    @property
    def capacity(self) -> int:
        return 16 if self.fifo_on else 1

    def receive(self, data: bytes | bytearray | list[int]) -> None:
        for b in data:
            self.received += 1
            if len(self.rx) >= self.capacity:
                self.oe = True
                self.overruns += 1
            else:
                self.rx.append(b & 0xFF)
        self._update()

    def _pending(self) -> int:
        if self.oe and self.ier & 4:
            return 0x06
        if self.rx and self.ier & 1:
            return 0x04
        if self.thre_pending and self.ier & 2:
            return 0x02
        return 0x01

    def _update(self) -> None:
        self.p.ioapic.set_line(self.irq, bool(self.mcr & 8) and self._pending() != 0x01)

    def io_in(self, port: int, size: int) -> int:
        r = port - self.base
        dlab = self.lcr & 0x80
        if r == 0:
            if dlab:
                return self.dll
            v = self.rx.popleft() if self.rx else 0
            self._update()
            return v
        if r == 1:
            return self.dlm if dlab else self.ier
        if r == 2:
            iir = self._pending()
            if iir == 0x02:
                self.thre_pending = False
                self._update()
            return iir | (0xC0 if self.fifo_on else 0)
        if r == 3:
            return self.lcr
        if r == 4:
            return self.mcr
        if r == 5:
            v = LSR_THRE | LSR_TEMT | (LSR_DR if self.rx else 0) | (LSR_OE if self.oe else 0)
            if self.oe:
                self.oe = False
                self._update()
            return v
        if r == 6:
            return 0xB0  # CTS, DSR, DCD
        return self.scr

    def io_out(self, port: int, size: int, value: int) -> None:
        r = port - self.base
        value &= 0xFF
        dlab = self.lcr & 0x80
        if r == 0:
            if dlab:
                self.dll = value
                return
            self.sent.append(value)
            if self.sink is not None:
                self.sink(chr(value))
            if self.mcr & 0x10:
                self.receive([value])
            self.thre_pending = True  # sent at once: the holding register is empty again
            self._update()
        elif r == 1:
            if dlab:
                self.dlm = value
                return
            was = self.ier
            self.ier = value & 0x0F
            if self.ier & 2 and not was & 2:
                self.thre_pending = True
            self._update()
        elif r == 2:
            self.fifo_on = bool(value & 1)
            if value & 2 or not self.fifo_on:
                self.rx.clear()
            self._update()
        elif r == 3:
            self.lcr = value
        elif r == 4:
            self.mcr = value & 0x1F
            self._update()
        elif r == 7:
            self.scr = value

    @property
    def text(self) -> str:
        """Everything transmitted so far, as text."""
        return self.sent.decode("latin-1")
