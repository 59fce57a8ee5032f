"""The run trace: (clock, cpu, ec, event, value) tuples, exportable to Chrome/Perfetto.

Recorded only with `Machine(trace=True)`: a "run" when the scheduler dispatches an SC,
"lapic" when it programs the CPU's LAPIC timer for an SC (the value: its budget in us),
"timer" for the timer's interrupt, "sysN" with the status of every system call, "block"
and "die". Two runs with the same seed produce equal traces.
"""

from __future__ import annotations

import json

__all__ = ["Trace", "TraceEvent"]

TraceEvent = tuple[int, int, str, str, int]


class Trace(list[TraceEvent]):
    def chrome(self) -> dict[str, object]:
        """The trace as Chrome trace-event JSON (instant events, one thread per CPU)."""
        events = [
            {
                "name": what,
                "ph": "i",
                "s": "t",
                "ts": clock,
                "pid": 0,
                "tid": cpu,
                "args": {"ec": ec, "value": value},
            }
            for clock, cpu, ec, what, value in self
        ]
        return {"traceEvents": events, "displayTimeUnit": "ns"}

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.chrome(), fh)
