"""Execution context: a thread bound to one CPU, with a UTCB (§4).

A local EC has no SC: it is idle until a portal call donates the caller's SC to it, and
busy (NOVA: cont != 0) while it has `rcap`, the EC that called it and waits for the
reply. A global EC needs an SC of its own. `partner` is the EC this one is calling;
following `partner` from an SC's EC gives the EC that actually runs on that SC (NOVA's
`activate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .kobject import Kobject
from .regs import Regs
from .utcb import Utcb

if TYPE_CHECKING:
    from greenlet import greenlet  # type: ignore[import-untyped]

    from .pd import Pd
    from .pt import Pt
    from .sc import Sc
    from .sm import Sm

__all__ = ["Ec"]


class Ec(Kobject):
    __slots__ = (
        "blocked_on",
        "blocked_scs",
        "caps",
        "cpu",
        "dead",
        "death",
        "entry",
        "evt",
        "glb",
        "glet",
        "out2",
        "out3",
        "partner",
        "pd",
        "pending",
        "rcap",
        "recall",
        "regs",
        "result",
        "resume",
        "sp",
        "stacked",
        "utcb",
        "utcb_addr",
        "xcpu",
    )

    TYPE = "ec"

    def __init__(
        self,
        graveyard: list[Kobject],
        pd: Pd,
        cpu: int,
        glb: bool,
        utcb: Utcb,
        utcb_addr: int,
        sp: int,
        evt: int,
        name: str = "",
    ) -> None:
        super().__init__(graveyard, name)
        self.pd = pd
        self.caps = pd.obj.nodes  # its PD's object capabilities by selector (never replaced)
        self.cpu = cpu
        self.glb = glb
        self.xcpu = cpu | int(glb) << 16  # one compare rejects cross-CPU and global callees
        self.utcb = utcb
        self.utcb_addr = utcb_addr
        self.sp = sp
        self.evt = evt
        self.glet: greenlet | None = None
        # glet.switch, bound once: a call of it skips the method lookup of every switch
        self.resume: Any = None
        self.partner: Ec | None = None
        # the caller to reply to: busy while set (every kernel test of it tests dead too,
        # as die() clears it)
        self.rcap: Ec | None = None
        self.blocked_on: Sm | None = None
        self.blocked_scs: list[Sc] = []
        self.pending: Pt | None = None  # the portal of the call being delivered
        self.result = 0  # status handed to this EC when it is resumed
        self.out2 = 0
        self.out3 = 0
        self.dead = False
        self.death = ""
        self.recall = False
        self.entry: Any = None
        self.regs = Regs(rsp=sp)  # emulated user registers (exception IPC, §5)
        # how many callers' C stacks its greenlet started below (Kernel.call): 0 when the
        # nursery started it at run()'s depth
        self.stacked = 0

    def set_glet(self, g: greenlet | None) -> None:
        self.glet = g
        self.resume = None if g is None else g.switch

    def chain_end(self) -> Ec:
        ec = self
        while ec.partner is not None:
            ec = ec.partner
        return ec
