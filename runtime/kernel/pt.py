"""Portal: the entry into a local EC (§4). The handler learns `id`, the selector at which
the creator made the portal, whatever selector the caller uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .kobject import Kobject

if TYPE_CHECKING:
    from .ec import Ec

__all__ = ["Pt"]


class Pt(Kobject):
    __slots__ = ("calls", "ec", "entry", "fast", "fast_base", "id", "ip", "mtd")

    TYPE = "pt"

    def __init__(
        self, graveyard: list[Kobject], ec: Ec, mtd: int, ip: int, pid: int, name: str = ""
    ) -> None:
        super().__init__(graveyard, name or f"pt:{pid:#x}")
        self.ec = ec
        self.mtd = mtd  # only used for exception messages
        self.ip = ip  # an address in the kernel's code table (Kernel.register_code)
        self.id = pid
        self.calls = 0
        self.entry: Any = None  # the Python callable at `ip`, resolved by the kernel
        # its fixed-size handlers by first word minus `fast_base` (Kernel.new_pt)
        self.fast: Any = None
        self.fast_base = 0
