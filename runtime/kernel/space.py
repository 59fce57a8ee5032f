"""Capability spaces: object, memory and I/O (NOVA-NRE.md §3, §7).

Each space is a sparse map from a unit (selector, virtual page or port) to its mapping
database node. Ranges are kept as one node per unit; that makes every lookup exact and
keeps the per-range code of the kernel (`clamp`) in one place, `mdb.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .crd import CrdType

if TYPE_CHECKING:
    from .mdb import Node

__all__ = ["Space"]


class Space:
    __slots__ = ("gen", "kind", "limit", "nodes", "owner")

    def __init__(self, owner: object, kind: CrdType, limit: int) -> None:
        self.owner = owner  # the Pd
        self.kind = kind
        self.limit = limit  # number of units: 2**26 selectors, pages below USER_ADDR, 2**16 ports
        self.nodes: dict[int, Node] = {}
        # bumped by every node made, removed or stripped of rights: an emulated CPU that
        # caches the memory space (runtime.platform.guest) flushes when it changed, as a
        # TLB shootdown after a revoke
        self.gen = 0

    def lookup(self, unit: int) -> Node | None:
        return self.nodes.get(unit)

    def units_in(self, base: int, count: int) -> list[int]:
        """Occupied units in [base, base+count), ascending; cheap for huge sparse ranges."""
        end = min(base + count, self.limit)
        if base >= end:
            return []
        if end - base <= 2 * len(self.nodes) + 16:
            get = self.nodes.get
            return [u for u in range(base, end) if get(u) is not None]
        return sorted(u for u in self.nodes if base <= u < end)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        return f"Space({self.kind.name}, {len(self.nodes)} entries)"
