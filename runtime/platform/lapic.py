"""Per-CPU LAPIC timer in virtual time: one-shot and periodic (NOVA-NRE.md §6).

The timer of CPU c is delivered like a GSI: its semaphore is the kernel's GSI semaphore
`lapic_gsi(c)` (the first GSIs after the IOAPIC pins, this emulation's choice), fetched
through the "gsi" service like any other. Counts are in virtual microseconds (the
emulated bus clock runs at 1 MHz with divide-by-1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Board

__all__ = ["LapicTimer"]


class LapicTimer:
    def __init__(self, platform: Board, cpu: int, gsi: int) -> None:
        self.platform = platform
        self.cpu = cpu
        self.gsi = gsi
        self.initial = 0
        self.periodic = False
        self.deadline: int | None = None
        self.fired = 0
        self._gen = 0  # invalidates events of an earlier programming

    def arm(self, count_us: int, periodic: bool = False) -> None:
        """Write the initial count (0 stops the timer) and the mode."""
        self._gen += 1
        self.initial = count_us
        self.periodic = periodic
        if count_us <= 0:
            self.deadline = None
            return
        self._schedule(self.platform.now() + count_us)

    def stop(self) -> None:
        self.arm(0)

    def current(self) -> int:
        """The current count register: microseconds left."""
        if self.deadline is None:
            return 0
        return max(self.deadline - self.platform.now(), 0)

    def _schedule(self, t: int) -> None:
        self.deadline = t
        gen = self._gen
        self.platform.at(t, lambda: self._expire(gen), cpu=self.cpu)

    def _expire(self, gen: int) -> None:
        if gen != self._gen or self.deadline is None:
            return
        self.fired += 1
        self.platform.raise_gsi(self.gsi)
        if self.periodic:
            self._schedule(self.deadline + self.initial)
        else:
            self.deadline = None
