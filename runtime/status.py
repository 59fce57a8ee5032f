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
    "NotInEcError",
    "RemoteError",
    "Status",
    "SyscallError",
    "UtcbError",
]


class NotInEcError(SyscallError):
    """A system call (a stub's call, a semaphore's up or down, ...) made where no EC runs:
    outside `Machine.run`, from the host's own code. Its status is BAD_HYP, as the kernel
    answers such a call."""

    def __init__(self, what: str) -> None:
        super().__init__(Status.BAD_HYP, what)
        self.args = (
            f"{what} was called outside an EC: system calls (a stub's calls, a semaphore's "
            "up and down) need a running EC. Make the call in a function that runs in one "
            "(`@m.spawn(name)` or `process.thread(fn)`, or a server's method while it "
            "handles a call) and start the machine with `m.run()`",
        )
