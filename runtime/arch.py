"""The two architectures a machine can emulate (word size, UTCB layout).

The user layer's view of the kernel's runtime.kernel.arch (what NRE's headers give user
code); generated stubs import it from here.
"""

from .kernel.arch import (
    PAGE_SIZE,
    X86_32,
    X86_64,
    Arch,
)

__all__ = [
    "PAGE_SIZE",
    "X86_32",
    "X86_64",
    "Arch",
]
