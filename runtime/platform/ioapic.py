"""IOAPIC: GSI pins with edge or level trigger, masking and CPU routing (NOVA-NRE.md §6).

Devices drive a pin's *line*. An edge-triggered pin (GSIs below 16 by default) delivers
on every rising edge: the kernel `up`s the GSI semaphore, so the semaphore counts every
event. A level-triggered pin (the rest) delivers while its line is high and it is
unmasked; delivery masks it, and the next `down` on the GSI semaphore unmasks it
(NOVA's "ack is the next down"), so a level source is delivered at most once per unmask.
Every pin starts masked and unrouted; `assign_gsi` routes it to a CPU and unmasks it.
Edges on a masked pin are lost (counted in `lost`), as on the hardware.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["IoApic", "Pin"]


class Pin:
    __slots__ = ("cpu", "delivered", "edges", "gsi", "level", "line", "lost", "masked", "unmasks")

    def __init__(self, gsi: int, level: bool) -> None:
        self.gsi = gsi
        self.level = level  # trigger mode: True = level, False = edge
        self.line = False
        self.masked = True
        self.cpu: int | None = None  # routed by assign_gsi
        self.edges = 0  # rising edges seen
        self.delivered = 0  # times the semaphore was upped
        self.lost = 0  # edges while masked or unrouted
        self.unmasks = 0

    def __repr__(self) -> str:
        mode = "level" if self.level else "edge"
        return f"Pin({self.gsi}, {mode}, line={self.line}, masked={self.masked})"


class IoApic:
    """`pins` GSIs; `deliver(gsi)` is the kernel side (an `up` of the GSI semaphore)."""

    def __init__(self, pins: int, deliver: Callable[[int], None], level: dict[int, bool]) -> None:
        self.deliver = deliver
        self.pins = [Pin(g, level.get(g, g >= 16)) for g in range(pins)]

    def _fire(self, pin: Pin) -> None:
        if pin.level:
            pin.masked = True  # masked on delivery, unmasked by the next down
        pin.delivered += 1
        self.deliver(pin.gsi)

    def set_line(self, gsi: int, high: bool) -> None:
        pin = self.pins[gsi]
        rising = high and not pin.line
        pin.line = high
        if pin.level:
            if high and not pin.masked and pin.cpu is not None:
                self._fire(pin)
        elif rising:
            pin.edges += 1
            if pin.masked or pin.cpu is None:
                pin.lost += 1
            else:
                self._fire(pin)

    def pulse(self, gsi: int) -> None:
        """A short pulse (a timer tick): one rising edge, line low again."""
        self.set_line(gsi, True)
        self.set_line(gsi, False)

    def route(self, gsi: int, cpu: int) -> None:
        """assign_gsi: send the pin to `cpu` and unmask it."""
        pin = self.pins[gsi]
        pin.cpu = cpu
        self.unmask(gsi)

    def unmask(self, gsi: int) -> None:
        """A down on the GSI semaphore: unmask; a level line still high delivers again."""
        pin = self.pins[gsi]
        if not pin.masked:
            return
        pin.masked = False
        pin.unmasks += 1
        if pin.level and pin.line and pin.cpu is not None:
            self._fire(pin)
