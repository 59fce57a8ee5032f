"""Status codes, error codes and the exceptions user code sees (NOVA-NRE.md §1, WIRE.md §5).

The user layer's view of the kernel's runtime.kernel.status (what NRE's headers give user
code); generated stubs import it from here.
"""

from .kernel.status import (
    CapacityError,
    ErrorCode,
    RemoteError,
    Status,
    SyscallError,
    UtcbError,
)

__all__ = [
    "CapacityError",
    "ErrorCode",
    "RemoteError",
    "Status",
    "SyscallError",
    "UtcbError",
]
