"""The machine's time: device events in virtual us, registered with the kernel as
`Kernel.timer`, and each CPU's LAPIC timer, registered as `Cpu.lapic` (the interfaces
of runtime/kernel/timer.py).

Every `Machine` has one (a `Board` uses the machine's). Device events (PIT and RTC
interrupts, scripted input) sit on one queue; the scheduler fires the due ones at each
decision and, when every CPU is idle, advances time to the next one. The LAPIC timers
are not on that queue: one CPU's timer concerns that CPU alone, which takes its
interrupt at a preemption point (`poll`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..kernel.timer import NEVER
from .lapic import LapicTimer

if TYPE_CHECKING:
    from ..kernel.cpu import Cpu
    from ..kernel.kernel import Kernel

__all__ = ["NEVER", "Timebase"]


class Timebase:
    def __init__(self, k: Kernel) -> None:
        self.k = k
        self.events: list[tuple[int, int, Callable[[], None]]] = []
        self._seq = 0
        self._time: int | None = None
        self.lapic = [LapicTimer(k, cpu) for cpu in k.cpus]  # each registers as Cpu.lapic
        k.timer = self
        k.next_event = NEVER

    @staticmethod
    def of(k: Kernel) -> Timebase:
        """The kernel's time base; one is made and registered when it has none."""
        t = k.timer
        return t if isinstance(t, Timebase) else Timebase(k)

    # -- device time -----------------------------------------------------------------------
    def now(self) -> int:
        """Virtual us: an event's time while it fires, else the running CPU's clock."""
        if self._time is not None:
            return self._time
        cpu = self.k.cpu
        return cpu.clock if cpu is not None else max(c.clock for c in self.k.cpus)

    def at(self, t: int, fn: Callable[[], None]) -> None:
        """Run `fn` at virtual time `t` (in the scheduler, never inside an EC)."""
        self._seq += 1
        heapq.heappush(self.events, (t, self._seq, fn))
        self.k.next_event = self.events[0][0]

    def _fire_until(self, t: int) -> None:
        ev = self.events
        while ev and ev[0][0] <= t:
            et, _, fn = heapq.heappop(ev)
            self._time = et
            try:
                fn()
            except Exception as e:  # a device model bug must not escape the kernel
                self.k.kernel_fault(f"device event: {type(e).__name__}: {e}")
            finally:
                self._time = None
        self.k.next_event = ev[0][0] if ev else NEVER

    # -- Kernel.timer: the scheduler's side ------------------------------------------------
    def schedule_point(self, cpu: Cpu | None, until: int | None) -> Cpu | None:
        k = self.k
        while True:
            if cpu is not None:
                if k.next_event > cpu.clock:
                    return cpu
                self._fire_until(cpu.clock)
                cpu = k._pick_cpu()
                continue
            if not self.events:
                return None
            t = self.events[0][0]
            if until is not None and t >= until:
                return None
            for c in k.cpus:
                c.clock = max(c.clock, t)
                c.since = max(c.since, t)
            self._fire_until(t)
            cpu = k._pick_cpu()
