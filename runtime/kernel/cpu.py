"""One emulated CPU: a run queue per priority, a virtual clock and NOVA's per-CPU
counters (`ctr_loop` for helping, reset whenever the scheduler picks an SC) and
reschedule hazard (HZD_SCHED: set by the LAPIC timer's interrupt or a higher-priority
wakeup, honoured at the next preemption point)."""

from __future__ import annotations

from collections import deque
from typing import Any

from .sc import MAX_PRIO, Sc
from .timer import NEVER

__all__ = ["Cpu"]


class Cpu:
    __slots__ = (
        "clock",
        "ctr_loop",
        "current",
        "deadline",
        "hazard",
        "id",
        "lapic",
        "queues",
        "ready_count",
        "since",
        "switch_at",
    )

    def __init__(self, cpu_id: int) -> None:
        self.id = cpu_id
        self.clock = 0  # virtual us
        self.current: Sc | None = None
        self.queues: list[deque[Sc]] = [deque() for _ in range(MAX_PRIO + 1)]
        self.ready_count = 0
        # next clock value at which a preemption point leaves the EC: the next interrupt
        # (the LAPIC timer, a device) or, with several CPUs, the end of the slice
        self.switch_at = 0
        self.hazard = False  # reschedule at the next preemption point (NOVA HZD_SCHED)
        self.lapic: Any = None  # its LAPIC timer (`timer.Lapic`), registered by the platform
        # the LAPIC timer's TSC-deadline register (`clock` is the TSC): the scheduler
        # writes the end of the current SC's budget, the timer fires when `clock` reaches it
        self.deadline = NEVER
        self.since = 0  # clock when the current SC was last charged
        self.ctr_loop = 0

    def enqueue(self, sc: Sc, head: bool = False) -> None:
        if sc.queued:
            return
        sc.queued = True
        self.ready_count += 1
        if head:
            self.queues[sc.prio].appendleft(sc)
        else:
            self.queues[sc.prio].append(sc)

    def remove(self, sc: Sc) -> None:
        if sc.queued:
            self.queues[sc.prio].remove(sc)
            sc.queued = False
            self.ready_count -= 1

    def top_prio(self) -> int:
        if self.ready_count:
            for p in range(MAX_PRIO, -1, -1):
                if self.queues[p]:
                    return p
        return -1

    def dequeue(self) -> Sc | None:
        p = self.top_prio()
        if p < 0:
            return None
        sc = self.queues[p].popleft()
        sc.queued = False
        self.ready_count -= 1
        return sc

    def runnable(self) -> bool:
        return self.current is not None or self.ready_count > 0

    def __repr__(self) -> str:
        return f"Cpu({self.id}, t={self.clock}, current={self.current!r}, ready={self.ready_count})"
