"""Status codes: NOVA's syscall status and NRE's ErrorCode (NOVA-NRE.md §1).

The first nine ErrorCode values equal the kernel's status codes, so a status can be
carried in a reply's first word unchanged (WIRE.md §2).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["CapacityError", "ErrorCode", "RemoteError", "Status", "SyscallError", "UtcbError"]


class Status(IntEnum):
    """What a NOVA system call returns in ARG1 (only the low byte is meaningful)."""

    SUCCESS = 0
    COM_TIM = 1
    COM_ABT = 2
    BAD_HYP = 3
    BAD_CAP = 4
    BAD_PAR = 5
    BAD_FTR = 6
    BAD_CPU = 7
    BAD_DEV = 8


class ErrorCode(IntEnum):
    """NRE's `ErrorCode` (`include/Errors.h`), used as the status word of every reply."""

    E_SUCCESS = 0
    E_TIMEOUT = 1
    E_ABORT = 2
    E_SYS = 3
    E_CAP = 4
    E_PAR = 5
    E_FTR = 6
    E_CPU = 7
    E_DEV = 8
    E_ASSERT = 9
    E_NO_CAP_SELS = 10
    E_UTCB_UNTYPED = 11
    E_UTCB_TYPED = 12
    E_CAPACITY = 13
    E_NOT_FOUND = 14
    E_EXISTS = 15
    E_ELF_INVALID = 16
    E_ELF_SIG = 17
    E_ARGS_INVALID = 18
    E_FAILURE = 19


class SyscallError(Exception):
    """Raised by the Pythonic layer (runtime.api) when a system call does not succeed.

    The kernel entry itself never raises; like NRE's `SyscallException` the wrappers do.
    """

    def __init__(self, status: int, what: str = "") -> None:
        self.status = Status(status & 0xFF) if (status & 0xFF) <= 8 else status & 0xFF
        self.code = ErrorCode(status & 0xFF) if (status & 0xFF) <= 19 else ErrorCode.E_FAILURE
        super().__init__(f"{what or 'syscall'} failed: {self.status!r}")


class UtcbError(Exception):
    """A frame operation failed: overflow (E_CAPACITY), underflow (E_UTCB_UNTYPED/TYPED),
    leftovers or a wrong item (E_ARGS_INVALID), as NRE's `UtcbException`."""

    def __init__(self, code: ErrorCode, what: str = "") -> None:
        self.code = code
        super().__init__(f"{code.name}: {what}" if what else code.name)


class CapacityError(UtcbError):
    """The message does not fit the frame; the frame and every outer frame are unchanged."""

    def __init__(self, what: str = "") -> None:
        super().__init__(ErrorCode.E_CAPACITY, what)


class RemoteError(Exception):
    """A server answered with a non-zero ErrorCode (1..19) and a message (WIRE.md §2)."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = ErrorCode(code) if 0 <= code <= 19 else code
        self.message = message
        name = self.code.name if isinstance(self.code, ErrorCode) else str(code)
        super().__init__(f"{name}: {message}" if message else name)
