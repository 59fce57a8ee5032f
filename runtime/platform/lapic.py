"""Each CPU's LAPIC timer, the kernel's alone (NOVA-NRE.md §4; K:src/lapic.cpp).

NOVA runs the timer one-shot: the scheduler writes the initial count (the dispatched
SC's remaining budget), reads the current count back when it reschedules, and takes the
interrupt on a vector of its own. This model counts the CPU's own clock in virtual us
(a 1 MHz bus with divide-by-1) and raises no GSI: the timer reaches the kernel only
through `Kernel.timer` (runtime.platform.timebase), so no user program can program it or
wait for it. User timers are the PIT's IRQ 0 through a GSI semaphore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..kernel.cpu import Cpu
    from ..kernel.kernel import Kernel

__all__ = ["NEVER", "LapicTimer"]

NEVER = 1 << 62  # a stopped timer's deadline


class LapicTimer:
    __slots__ = ("cpu", "deadline", "fired", "initial", "k", "programmed")

    def __init__(self, k: Kernel, cpu: Cpu) -> None:
        self.k = k
        self.cpu = cpu
        self.initial = 0  # the initial count last written
        self.deadline = NEVER  # the CPU's clock at which it fires; NEVER: stopped
        self.programmed = 0  # initial-count writes
        self.fired = 0  # interrupts delivered

    def program(self, count: int) -> None:
        """Write the initial count: fire after `count` us of the CPU's time (0 stops)."""
        self.initial = count
        self.programmed += 1
        self.deadline = self.cpu.clock + count if count > 0 else NEVER

    def current(self) -> int:
        """The current-count register: us left, 0 when stopped or fired."""
        d = self.deadline
        return max(d - self.cpu.clock, 0) if d != NEVER else 0

    def poll(self) -> None:
        """At an instruction boundary of its CPU: deliver the interrupt if it is due."""
        if self.deadline <= self.cpu.clock:
            self.deadline = NEVER  # one-shot: the count stays at 0
            self.fired += 1
            self.k.timer_irq(self.cpu.id)
