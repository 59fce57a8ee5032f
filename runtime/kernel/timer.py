"""What the platform registers as `Kernel.timer`: the machine's time and each CPU's LAPIC
timer, the one thing that ends a time slice (NOVA-NRE.md §4: an SC's budget is its
quantum in us; a preempted SC keeps what is left of it).

NOVA's scheduler (K:src/sc.cpp `Sc::schedule`, K:src/lapic.cpp) programs the CPU's LAPIC
timer, one-shot, with the remaining budget of the SC it dispatches, and when it
reschedules it reads the timer's current count back as that SC's budget. The timer's
interrupt is a vector of the kernel's own, not a GSI: its handler asks for a reschedule
(HZD_SCHED) when the count reached 0. No PD can map the LAPIC or get a capability for
it; user timers are the PIT (and HPET) behind GSI semaphores (§6).

Only the scheduler (`Kernel.run`, `Kernel._preempt`) uses this interface, never the IPC
path: an EC runs until a preemption point finds its CPU's clock at `cpu.switch_at`,
which the scheduler sets to `next_irq` (or earlier, to interleave CPUs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .cpu import Cpu

__all__ = ["Timer"]


class Timer(Protocol):
    next_event: int  # the time of the next device event (not the LAPIC timers')

    def set_timer(self, cpu: int, count: int) -> None:
        """Program CPU `cpu`'s LAPIC timer one-shot: it fires when that CPU's clock has
        advanced `count` us (NOVA `Lapic::set_timer`, the initial-count register)."""

    def get_timer(self, cpu: int) -> int:
        """The timer's current count: us left before it fires, 0 once it fired."""

    def poll(self, cpu: int) -> None:
        """CPU `cpu` is at an instruction boundary (a preemption point): a LAPIC timer
        interrupt that is due is delivered now, to `Kernel.timer_irq`."""

    def next_irq(self, cpu: int) -> int:
        """The earliest time at which an interrupt can reach CPU `cpu`: its LAPIC timer's
        expiry or the next device event."""

    def schedule_point(self, cpu: Cpu | None, until: int | None) -> Cpu | None:
        """Before the scheduler runs `cpu` (None: every CPU is idle) when `next_event` is
        due: fire the device events that are; with every CPU idle, advance time to the
        next one. Returns the CPU to run, None when nothing is left before `until`."""
