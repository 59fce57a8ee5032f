"""What the lessons share: CPU work with preemption points, the PIT as a one-shot alarm,
marks in the trace, and semaphores made at boot."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from runtime.api import Context, Handler, LocalThread, Pt, Sm, Syscalls
from runtime.devices import PIT_IRQ, Gsi, Ports
from runtime.kernel.gate import Gate
from runtime.kernel.trace import Trace, TraceEvent
from runtime.machine import Machine, Process
from runtime.platform.fault import Insn
from runtime.platform.pit import PIT_HZ

CHUNK = 10  # us of work between two preemption points


def spend(gate: Gate, us: int) -> None:
    """Compute for `us` of virtual time, with a preemption point every CHUNK us (where a
    higher priority made ready by an interrupt takes the CPU)."""
    while us > 0:
        step = min(us, CHUNK)
        gate.tick(step)
        us -= step


def alarm(ctx: Context, after_us: int) -> Gsi:
    """Program the PIT (channel 0, mode 0) to raise IRQ 0 once, `after_us` from now; the
    caller's PD gets the ports and the GSI semaphore from root. `down()` on the result
    waits for the interrupt (an edge counts even if it came first)."""
    Ports(ctx, 0x40, 4)
    gsi = Gsi(PIT_IRQ, ctx)
    count = round(after_us * PIT_HZ / 1_000_000)
    ins = Insn(ctx)
    ins.outb(0x43, 0x30)  # channel 0, low then high byte, mode 0: one interrupt
    ins.outb(0x40, count & 0xFF)
    ins.outb(0x40, count >> 8)  # counting starts here
    return gsi


def semaphore(p: Process, count: int = 0) -> Sm:
    """A semaphore in `p`'s space, made at boot (as `p`, before `run`)."""
    with p.acting():
        sel = p.env.alloc()
        Syscalls(p.env.gate).create_sm(sel, count)
    return Sm(p.env.gate, sel)


Span = tuple[str, str, int, int]  # (track, name, start, end) in virtual us


@dataclass
class Marks:
    """What the lessons' ECs note with the virtual time, the emulation's TSC (for a
    lesson's own record; the kernel's trace has the system calls and dispatches)."""

    m: Machine
    events: list[TraceEvent] = field(default_factory=list)

    def note(self, who: str, what: str, value: int = 0) -> int:
        """Record `what` by `who` now; returns the time (virtual us)."""
        k = self.m.k  # the host's instrument, like reading the TSC
        cpu = k.cpu
        now = int(k.timer.now())
        self.events.append((now, cpu.id if cpu else -1, who, what, value))
        return now

    def at(self, who: str, what: str, nth: int = 0) -> int:
        """When `who` noted `what` (the first time, or the `nth` after it)."""
        seen = [c for c, _, w, name, _ in self.events if w == who and name == what]
        if len(seen) <= nth:
            raise LookupError(f"{who} noted {what!r} {len(seen)} times")
        return seen[nth]

    def chrome(self, spans: list[Span]) -> dict[str, object]:
        """The kernel's trace (process 0, a track per CPU: dispatches, system calls,
        blocks, deaths) and the lesson's own (process 1, a track per name in `spans`:
        what each EC was doing, as slices), as Chrome/Perfetto trace-event JSON."""
        out = Trace(sorted([*self.m.trace, *self.events], key=lambda e: e[0])).chrome()
        events = out["traceEvents"]
        assert isinstance(events, list)
        tracks: dict[str, int] = {}
        for track, name, start, end in spans:
            tid = tracks.setdefault(track, len(tracks))
            events.append(
                {"name": name, "ph": "X", "ts": start, "dur": end - start, "pid": 1, "tid": tid}
            )
        for track, tid in tracks.items():
            events.append(
                {"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": track}}
            )
        events.append({"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "lesson"}})
        events.append({"name": "process_name", "ph": "M", "pid": 0, "args": {"name": "kernel"}})
        return out

    def save(self, path: str, spans: list[Span]) -> int:
        """Write `chrome(spans)` to `path`; returns the number of events."""
        out = self.chrome(spans)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(out, fh)
        events = out["traceEvents"]
        assert isinstance(events, list)
        return len(events)


def named_portal(p: Process, handler: Handler, name: str) -> Pt:
    """A portal of `p` to a new local EC named `name` (in the trace and in deaths) that
    runs `handler` (a generated skeleton), made at boot."""
    with p.acting():
        t = LocalThread(p.env)
        p.env.gate.name_ec(t.sel, name)
        return t.portal(handler)
