"""What the platform registers with the kernel for time: the machine's time base
(`Kernel.timer`) and each CPU's LAPIC timer (`Cpu.lapic`), the one thing that ends a
time slice (NOVA-NRE.md §4: an SC's budget is its quantum in us; a preempted SC keeps
what is left of it).

NOVA's scheduler (K:src/sc.cpp `Sc::schedule`, K:src/lapic.cpp) programs the CPU's LAPIC
timer with the remaining budget of the SC it dispatches and, when it reschedules, takes
what is left of it as that SC's budget (K counts down the one-shot timer's register;
later NOVA keeps the absolute deadline and programs TSC-deadline mode, which this
interface follows). The timer's interrupt is a vector of the kernel's own, not a GSI:
its handler asks for a reschedule (HZD_SCHED) once the timer reached 0. No PD can map
the LAPIC or get a capability for it; user timers are the PIT (and HPET) behind GSI
semaphores (§6).

Only the scheduler (`Kernel.run`, `Kernel._preempt`) uses these, never the IPC path: an
EC runs until a preemption point finds its CPU's clock at `cpu.switch_at`, which the
scheduler sets to the LAPIC deadline or the next device event (or earlier, to
interleave CPUs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .cpu import Cpu

__all__ = ["Lapic", "Timer"]


class Lapic(Protocol):
    """One CPU's LAPIC timer, counting that CPU's clock in virtual us."""

    # TSC-deadline mode's register: the timer fires when the CPU's clock reaches it (a
    # plain attribute, written as the register is, at every dispatch)
    deadline: int

    def current(self) -> int:
        """us left before it fires; 0 once it fired (or when it is stopped)."""

    def poll(self) -> None:
        """The CPU is at an instruction boundary (a preemption point): a due interrupt
        is delivered now, to `Kernel.timer_irq`."""


class Timer(Protocol):
    """The machine's time base: device events (the PIT's, the RTC's, scripted input)."""

    next_event: int  # the time of the next device event

    def schedule_point(self, cpu: Cpu | None, until: int | None) -> Cpu | None:
        """Before the scheduler runs `cpu` (None: every CPU is idle) when `next_event` is
        due: fire the device events that are; with every CPU idle, advance time to the
        next one. Returns the CPU to run, None when nothing is left before `until`."""
