"""Each CPU's LAPIC timer, the kernel's alone (NOVA-NRE.md §4; K:src/lapic.cpp).

The scheduler programs it with the end of the dispatched SC's remaining budget
(TSC-deadline mode: it writes the CPU's deadline register `Cpu.deadline`, in the CPU's
own clock, virtual us); the interrupt goes to a vector of the kernel's own
(`Kernel.timer_irq`). It raises no GSI and has no port: it registers itself with the
kernel as `Cpu.lapic` (runtime/kernel/timer.py), so no user program can program it or
wait for it. User timers are the PIT's IRQ 0 through a GSI semaphore.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kernel.timer import NEVER

if TYPE_CHECKING:
    from ..kernel.cpu import Cpu
    from ..kernel.kernel import Kernel

__all__ = ["LapicTimer"]


class LapicTimer:
    __slots__ = ("cpu", "fired", "k")

    def __init__(self, k: Kernel, cpu: Cpu) -> None:
        self.k = k
        self.cpu = cpu
        self.fired = 0  # interrupts delivered
        cpu.lapic = self

    @property
    def deadline(self) -> int:
        """The TSC-deadline register (NEVER: stopped, or fired)."""
        return self.cpu.deadline

    def current(self) -> int:
        """us left before it fires, 0 when stopped or fired."""
        d = self.cpu.deadline
        return max(d - self.cpu.clock, 0) if d != NEVER else 0

    def poll(self) -> None:
        """At an instruction boundary of its CPU: deliver the interrupt if it is due."""
        cpu = self.cpu
        if cpu.deadline <= cpu.clock:
            cpu.deadline = NEVER  # as the register does when it fires
            self.fired += 1
            self.k.timer_irq(cpu.id)
