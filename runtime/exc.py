"""Exception handlers in user code (NRE's view of NOVA-NRE.md §5): `ExcState` reads and
writes the exception message in a handler's frame, `event_portal` binds a handler to an
event portal. The delivery itself is the kernel's (runtime.kernel.exc); its public names
are re-exported here for handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .kernel.exc import (
    HDR,
    NUM_EXC,
    Mtd,
    Vector,
    deliver,
    fault,
    layout,
    load_exc,
    message_words,
    recall,
    save_exc,
    startup,
)
from .kernel.utcb import UtcbFrame

if TYPE_CHECKING:
    from .api import Env

__all__ = [
    "NUM_EXC",
    "ExcState",
    "Mtd",
    "Vector",
    "deliver",
    "event_portal",
    "fault",
    "layout",
    "load_exc",
    "message_words",
    "recall",
    "save_exc",
    "startup",
]


class ExcState:
    """A handler's view of the exception message in its frame (NRE's `Utcb` fields).

    Reads and writes go to the layout's word offsets whatever the frame's cursors are;
    writing a field keeps the frame's untyped count covering it, so the reply carries
    it. `reply(mtd)` sets the MTD of the reply; `kill()` is NRE's kill idiom.
    """

    __slots__ = ("frame", "lay", "u")

    def __init__(self, frame: UtcbFrame) -> None:
        self.frame = frame
        self.u = frame.utcb
        self.lay = layout(self.u.arch)

    def __getattr__(self, name: str) -> int:
        lay = object.__getattribute__(self, "lay")
        if name in lay:
            u = object.__getattribute__(self, "u")
            v = u.word_at(HDR + lay[name])
            if u.arch.word == 4 and name.startswith("qual"):
                v |= u.word_at(HDR + lay[name] + 1) << 32
            return int(v)
        raise AttributeError(name)

    def __setattr__(self, name: str, value: int) -> None:
        if name in ExcState.__slots__:
            object.__setattr__(self, name, value)
            return
        if name not in self.lay:
            raise AttributeError(name)
        off = self.lay[name]
        self.u.set_word(HDR + off, value)
        if self.u.untyped <= off:
            self.u.untyped = off + 1

    @property
    def err(self) -> int:
        return self.qual0

    @property
    def cr2(self) -> int:
        return self.qual1

    def reply(self, mtd: int) -> None:
        """Make the reply write back the fields `mtd` selects (the rest stay unchanged)."""
        self.mtd = mtd

    def kill(self) -> None:
        """Reply so that the EC resumes at a kernel address, which kills it (§5)."""
        self.mtd = Mtd.RIP_LEN
        self.rip = self.u.arch.user_addr


def event_portal(
    env: Env,
    vector: int,
    handler: Callable[[UtcbFrame], None],
    mtd: int,
    cpu: int = 0,
    evt: int = 0,
) -> int:
    """A local EC on `cpu` and a portal at `evt + vector` in `env`'s PD that runs
    `handler(frame)` for each exception; returns the portal selector. Call it as that PD
    (from one of its ECs, or inside `Process.acting()`)."""
    from .api import LocalThread, Syscalls

    t = LocalThread(env, cpu)
    sel = evt + vector
    Syscalls(env.gate).create_pt(sel, t.sel, env.gate.register_code(handler), mtd)
    return sel
