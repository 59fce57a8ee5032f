"""The errors of marshalling (runtime.codec re-exports them, where users import them).

They live in the kernel package so that the compiled string helpers (wirestr.py) raise
them without importing the runtime above the kernel (docs/runtime.md, layers).
"""

from __future__ import annotations


class MarshalError(ValueError):
    """A value that cannot be encoded. ``path`` names the field (``shape.points[3].x``),
    ``reason`` says what is wrong with it."""

    __module__ = "runtime.codec"  # where users import it from

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def within(self, outer: str) -> MarshalError:
        """The same error seen from the enclosing field or element ``outer``."""
        if not self.path:
            self.path = outer
        elif self.path.startswith("["):
            self.path = outer + self.path
        else:
            self.path = f"{outer}.{self.path}"
        self.args = (self.path, self.reason)
        return self

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class DecodeError(ValueError):
    """Words or items that no encoder produces (WIRE.md §2). ``word`` is the index of the
    untyped word where decoding failed; for a typed item ``item`` is its index."""

    __module__ = "runtime.codec"

    def __init__(self, word: int, reason: str, item: int | None = None) -> None:
        super().__init__(word, reason)
        self.word = word
        self.reason = reason
        self.item = item

    def __str__(self) -> str:
        where = f"item {self.item}" if self.item is not None else f"word {self.word}"
        return f"{where}: {self.reason}"
