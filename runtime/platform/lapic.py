"""Each CPU's LAPIC timer, the kernel's alone (NOVA-NRE.md §4; K:src/lapic.cpp).

The scheduler programs it with the end of the dispatched SC's remaining budget
(TSC-deadline mode, in the CPU's own clock: virtual us) and the interrupt goes to a
vector of the kernel's own (`Kernel.timer_irq`). It raises no GSI and has no port: the
time base registers it with the kernel as `Cpu.lapic` (runtime/kernel/timer.py), so no
user program can program it or wait for it. User timers are the PIT's IRQ 0 through a
GSI semaphore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..kernel.cpu import Cpu
    from ..kernel.kernel import Kernel

__all__ = ["NEVER", "LapicTimer"]

NEVER = 1 << 62  # a stopped timer's deadline


class LapicTimer:
    __slots__ = ("cpu", "deadline", "fired", "k")

    def __init__(self, k: Kernel, cpu: Cpu) -> None:
        self.k = k
        self.cpu = cpu
        # the TSC-deadline register, the kernel writes it: fire when the CPU's clock
        # reaches it; NEVER: stopped
        self.deadline = NEVER
        self.fired = 0  # interrupts delivered

    def current(self) -> int:
        """us left before it fires, 0 when stopped or fired."""
        d = self.deadline
        return max(d - self.cpu.clock, 0) if d != NEVER else 0

    def poll(self) -> None:
        """At an instruction boundary of its CPU: deliver the interrupt if it is due."""
        if self.deadline <= self.cpu.clock:
            self.deadline = NEVER  # one-shot: the count stays at 0
            self.fired += 1
            self.k.timer_irq(self.cpu.id)
