"""What the platform registers with the kernel for time: the machine's time base
(`Kernel.timer`) and each CPU's LAPIC timer (`Cpu.lapic`), the one thing that ends a
time slice (NOVA-NRE.md §4: an SC's budget is its quantum in us; a preempted SC keeps
what is left of it).

NOVA's scheduler (K:src/sc.cpp `Sc::schedule`, K:src/lapic.cpp) programs the CPU's LAPIC
timer with the remaining budget of the SC it dispatches and, when it reschedules, reads
what the timer has left as that SC's budget (K writes a one-shot count; later NOVA an
absolute TSC deadline, as this interface does). The timer's interrupt is a vector of the
kernel's own, not a GSI: its handler asks for a reschedule (HZD_SCHED) once the timer
reached 0. No PD can map the LAPIC or get a capability for it; user timers are the PIT
behind a GSI semaphore (§6; this board has no HPET).

Only the scheduler (`Kernel.run`, `Kernel._preempt`) uses these, never the IPC path: an
EC runs until a preemption point finds its CPU's clock at `cpu.switch_at`, which the
scheduler sets to the LAPIC deadline or the next device event (or earlier, to
interleave CPUs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    from .cpu import Cpu

__all__ = ["NEVER", "Lapic", "Timer"]

# A time never reached (a stopped timer's deadline, no device event): the largest int
# compiled code holds unboxed, so comparing with it stays cheap.
NEVER: Final = (1 << 62) - 1


class Lapic(Protocol):
    """One CPU's LAPIC timer in TSC-deadline mode: it fires when the CPU's clock (its TSC,
    `Cpu.clock`) reaches the deadline register (`Cpu.deadline`), which the scheduler
    writes at every dispatch and the timer clears when it fires."""

    def current(self) -> int:
        """us left before it fires; 0 once it fired (or when it is stopped)."""

    def poll(self) -> None:
        """The CPU is at an instruction boundary (a preemption point): a due interrupt
        is delivered now, to `Kernel.timer_irq`."""


class Timer(Protocol):
    """The machine's time base: device events (the PIT's, the RTC's, scripted input).
    It keeps `Kernel.next_event`, the time of the next one, up to date."""

    def schedule_point(self, cpu: Cpu | None, until: int | None) -> Cpu | None:
        """Before the scheduler runs `cpu` (None: every CPU is idle) when
        `Kernel.next_event` is due: fire the device events that are; with every CPU
        idle, advance time to the next one. Returns the CPU to run, None when nothing
        is left before `until`."""
