"""Common base of kernel objects: a reference count of the capabilities naming it.

When the last capability to an object vanishes (revoke), the object is queued on the
kernel's graveyard and destroyed once the mapping database is consistent again, as
NOVA frees objects through RCU after the last reference is gone.
"""

from __future__ import annotations

__all__ = ["Kobject"]


class Kobject:
    __slots__ = ("graveyard", "name", "refs")  # no __weakref__, as when compiled (setup.py)

    TYPE = "obj"

    def __init__(self, graveyard: list[Kobject], name: str = "") -> None:
        self.refs = 0
        self.graveyard = graveyard
        self.name = name

    def acquire(self) -> None:
        self.refs += 1

    def release(self) -> None:
        self.refs -= 1
        if self.refs == 0:
            self.graveyard.append(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
