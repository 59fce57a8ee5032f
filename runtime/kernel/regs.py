"""Emulated user register state of an EC (NOVA-NRE.md §5).

Every EC carries one `Regs`. Python code running on the EC reads and sets it like a
thread's registers; exception IPC sends the words the portal's MTD selects to the
handler and writes back what the reply selects. `err` and `cr2` hold the last fault's
error code and address (the `qual` words of an exception message).
"""

from __future__ import annotations

__all__ = ["EFLAGS_CLEAR", "EFLAGS_IF", "GPRS", "Regs"]

GPRS = (
    "rax",
    "rcx",
    "rdx",
    "rbx",
    "rsp",
    "rbp",
    "rsi",
    "rdi",
    "r8",
    "r9",
    "r10",
    "r11",
    "r12",
    "r13",
    "r14",
    "r15",
)
EFLAGS_IF = 1 << 9
# Cleared whenever a handler writes rflags (§5): IOPL, RF, VM, VIF, VIP.
EFLAGS_CLEAR = 3 << 12 | 1 << 16 | 1 << 17 | 1 << 19 | 1 << 20


class Regs:
    __slots__ = (*GPRS, "cr2", "err", "rflags", "rip")

    def __init__(self, rip: int = 0, rsp: int = 0) -> None:
        self.rax = self.rcx = self.rdx = self.rbx = 0
        self.rsp = rsp
        self.rbp = self.rsi = self.rdi = 0
        self.r8 = self.r9 = self.r10 = self.r11 = 0
        self.r12 = self.r13 = self.r14 = self.r15 = 0
        self.rip = rip
        self.rflags = EFLAGS_IF | 2  # bit 1 always reads as 1
        self.err = 0
        self.cr2 = 0

    def get(self, name: str) -> int:
        return int(getattr(self, name))

    def set(self, name: str, value: int) -> None:
        if name not in self.__slots__:
            raise AttributeError(name)
        setattr(self, name, value)

    def as_dict(self) -> dict[str, int]:
        return {n: getattr(self, n) for n in (*GPRS, "rip", "rflags", "err", "cr2")}

    def __repr__(self) -> str:
        return f"Regs(rip={self.rip:#x}, rsp={self.rsp:#x}, rax={self.rax:#x})"
