"""The run trace: (clock, cpu, ec, event, value) tuples, exportable to Chrome/Perfetto.

Recorded only with `Machine(trace=True)`: a "run" when the scheduler dispatches an SC,
"lapic" when it programs the CPU's LAPIC timer for an SC (the value: its budget in us),
"timer" for the timer's interrupt, "sysN" with the status of every system call, "block"
and "die"; the machine adds "handler-error" with its text (`note`: a server's method
raised, its traceback). Two runs with the same seed produce equal traces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["Trace", "TraceEvent"]

TraceEvent = tuple[int, int, str, str, int]


class Trace(list[TraceEvent]):
    def __init__(self, events: Iterable[TraceEvent] = ()) -> None:
        super().__init__(events)
        self.texts: dict[int, str] = {}  # event index -> its text (`note`)

    def note(self, event: TraceEvent, text: str) -> None:
        """Record ``event`` with a text (shown as the Perfetto event's ``text`` argument)."""
        self.texts[len(self)] = text
        self.append(event)

    def chrome(self) -> dict[str, object]:
        """The trace as Chrome trace-event JSON (instant events, one thread per CPU)."""
        events = []
        for i, (clock, cpu, ec, what, value) in enumerate(self):
            args: dict[str, object] = {"ec": ec, "value": value}
            text = self.texts.get(i)
            if text is not None:
                args["text"] = text
            events.append(
                {"name": what, "ph": "i", "s": "t", "ts": clock, "pid": 0, "tid": cpu, "args": args}
            )
        return {"traceEvents": events, "displayTimeUnit": "ns"}

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(self.chrome(), fh)
