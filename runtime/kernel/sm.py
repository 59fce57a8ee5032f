"""Semaphore: a counter and a FIFO queue of blocked ECs (§6). Kernel has no timeouts."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from .kobject import Kobject

if TYPE_CHECKING:
    from .ec import Ec

__all__ = ["Sm"]


class Sm(Kobject):
    __slots__ = ("count", "gsi", "queue")

    TYPE = "sm"

    def __init__(
        self, graveyard: list[Kobject], count: int, name: str = "", gsi: int | None = None
    ) -> None:
        super().__init__(graveyard, name)
        self.count = count
        self.queue: deque[Ec] = deque()
        self.gsi = gsi  # set for the kernel's interrupt semaphores
