"""Protection domain: three capability spaces and the UTCB addresses in use (§1, §3, §7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .arch import Arch
from .crd import CrdType
from .kobject import Kobject
from .space import Space

if TYPE_CHECKING:
    from .ec import Ec

__all__ = ["Pd"]

_OBJ, _MEM, _PIO = int(CrdType.OBJ), int(CrdType.MEM), int(CrdType.PIO)


class Pd(Kobject):
    __slots__ = ("code", "dead", "ecs", "env", "machine", "mem", "obj", "pio", "utcbs")

    TYPE = "pd"

    def __init__(self, graveyard: list[Kobject], arch: Arch, name: str = "") -> None:
        super().__init__(graveyard, name)
        self.obj = Space(self, CrdType.OBJ, arch.selectors)
        self.mem = Space(self, CrdType.MEM, arch.user_addr >> 12)
        self.pio = Space(self, CrdType.PIO, 1 << 16)
        self.utcbs: set[int] = set()  # UTCB addresses taken in this address space
        self.ecs: list[Ec] = []
        self.code: list[int] = []  # code addresses registered in this space (Kernel.register_code)
        self.dead = False
        # What the user layers keep per PD (a plain attribute, not a weak registry, so
        # the kernel objects need no weak references): its api.Env, which the gate
        # gives the PD's running EC (Gate.env).
        self.env: Any = None
        # The emulated CPU that executes this PD's machine code (runtime.platform.guest,
        # set by the loader), or None: its ECs are Python callables at code addresses.
        # It gives a portal's entry and a global EC's start (syscalls, exc.startup).
        self.machine: Any = None

    def space(self, kind: int) -> Space | None:
        # Plain ints: comparing with an IntEnum member costs far more (typed transfer path).
        if kind == _OBJ:
            return self.obj
        if kind == _MEM:
            return self.mem
        if kind == _PIO:
            return self.pio
        return None
