"""Scheduling context: priority, quantum and consumed time of one EC (§4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .kobject import Kobject

if TYPE_CHECKING:
    from .ec import Ec

__all__ = ["DEFAULT_PRIO", "DEFAULT_QUANTUM", "MAX_PRIO", "Sc"]

DEFAULT_PRIO = 1
DEFAULT_QUANTUM = 10000  # us
MAX_PRIO = 127


class Sc(Kobject):
    __slots__ = ("consumed", "cpu", "dead", "ec", "left", "prio", "quantum", "queued")

    TYPE = "sc"

    def __init__(
        self, graveyard: list[Kobject], ec: Ec, prio: int, quantum: int, name: str = ""
    ) -> None:
        super().__init__(graveyard, name or f"sc:{ec.name}")
        self.ec = ec  # the global EC this SC is bound to; it runs whatever that EC calls
        self.cpu = ec.cpu
        self.prio = prio
        self.quantum = quantum
        self.left = quantum  # remaining budget; kept across preemption, refilled at expiry
        self.consumed = 0  # virtual us
        self.queued = False
        self.dead = False
