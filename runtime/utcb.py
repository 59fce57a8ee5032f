"""The UTCB and NRE's `UtcbFrame`, as user code and generated stubs use them.

The user layer's view of the kernel's runtime.kernel.utcb (what NRE's headers give user
code); generated stubs import it from here.
"""

from .kernel.utcb import (
    Utcb,
    UtcbFrame,
)

__all__ = [
    "Utcb",
    "UtcbFrame",
]
