"""Where faults come from: emulated instructions of a Python EC (NOVA-NRE.md §5).

`Insn(ctx)` (or `Insn.of(kernel, ec)`) gives the running EC instructions that can fault
like their x86 counterparts, each executed at `regs.rip`:

| instruction | fault |
|---|---|
| `div(a, b)` (rax / rcx) | #DE 0 when the divisor is 0 or the quotient overflows |
| `int3()` | #BP 3, a trap: rip is already past the instruction |
| `ud2()` | #UD 6 |
| `privileged(name)` (hlt, cli, wrmsr...) | #GP 13, error code 0 |
| `fpu()` | #NM 7, handled inside the kernel (lazy FPU switch) |
| `inb/inw/inl(port)`, `outb/outw/outl(port, v)` | #GP 13 without an I/O capability |
| `read/write/fetch` of emulated memory | #PF 14, error code and CR2 in qual |

A fault is delivered as exception IPC; when the handler replies the instruction is
executed again if rip is unchanged (the handler fixed the cause, e.g. a pager mapped the
page, or it changed the operand registers), or it is skipped if the handler moved rip
(then a value-producing instruction returns what the handler left in rax). A successful
instruction advances rip by its length. A pending recall is delivered before each one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from ..kernel import backdoor, exc
from ..kernel.crd import PioRights
from ..kernel.exc import Vector
from ..kernel.regs import Regs
from ..kernel.status import Status, SyscallError

if TYPE_CHECKING:
    from ..kernel.ec import Ec
    from ..kernel.kernel import Kernel
    from .memory import Frame

__all__ = ["Fault", "Insn", "IoBus", "attach_io"]

T = TypeVar("T")


class Fault(Exception):
    """Raised by an instruction body: deliver `vector` (never escapes `Insn`)."""

    def __init__(self, vector: int, err: int = 0, cr2: int | None = None) -> None:
        super().__init__(vector)
        self.vector = vector
        self.err = err
        self.cr2 = cr2


class IoBus(Protocol):
    """What the platform provides for port I/O (runtime.platform.Board)."""

    def io_in(self, port: int, size: int) -> int: ...

    def io_out(self, port: int, size: int, value: int) -> None: ...


def attach_io(k: Kernel, bus: IoBus) -> None:
    """Route the machine's port I/O to `bus`."""
    k.io_bus = bus


class _Skipped:
    pass


SKIPPED = _Skipped()


class Insn:
    """Faulting instructions for one EC; use it only from that EC's own code."""

    __slots__ = ("ec", "k")

    def __init__(self, ctx: object) -> None:
        """For the EC running now, from what its code holds (a `Context`): the emulated
        CPU executes as that EC, so it reaches the kernel (the back door's way)."""
        k = backdoor(ctx)
        if k.current is None:
            raise SyscallError(Status.BAD_HYP, "no EC is running")
        self.k = k
        self.ec = k.current

    @classmethod
    def of(cls, k: Kernel, ec: Ec) -> Insn:
        self = cls.__new__(cls)
        self.k = k
        self.ec = ec
        return self

    @property
    def regs(self) -> Regs:
        return self.ec.regs

    # -- the execution loop ----------------------------------------------------------------
    def execute(self, length: int, body: Callable[[], T]) -> T | _Skipped:
        """Run `body` as one instruction of `length` bytes at rip (see the module doc)."""
        k, ec = self.k, self.ec
        if k.current is not ec or k.cpu is None:
            raise SyscallError(Status.BAD_HYP, "instructions run only on their own EC")
        regs = ec.regs
        while True:
            if ec.recall:
                exc.recall(k, ec)
            rip = regs.rip
            try:
                result = body()
            except Fault as f:
                exc.fault(k, ec, f.vector, f.err, f.cr2)
                if regs.rip != rip:
                    return SKIPPED
                continue
            regs.rip = rip + length
            return result

    def _value(self, r: int | _Skipped) -> int:
        return self.ec.regs.rax if isinstance(r, _Skipped) else r

    # -- arithmetic and control ------------------------------------------------------------
    def div(self, a: int, b: int) -> int:
        """Unsigned `rax // rcx` (rax = a, rcx = b): #DE on 0 or a quotient too wide."""
        regs = self.ec.regs
        regs.rax, regs.rcx, regs.rdx = a, b, 0
        mask = self.k.arch.word_mask

        def body() -> int:
            if regs.rcx == 0 or regs.rax // regs.rcx > mask:
                raise Fault(Vector.DE)
            q, r = divmod(regs.rax, regs.rcx)
            regs.rax, regs.rdx = q, r
            return q

        return self._value(self.execute(3, body))

    def int3(self) -> None:
        """A breakpoint: #BP is a trap, delivered with rip after the instruction."""
        k, ec = self.k, self.ec
        if k.current is not ec or k.cpu is None:
            raise SyscallError(Status.BAD_HYP, "instructions run only on their own EC")
        if ec.recall:
            exc.recall(k, ec)
        ec.regs.rip += 1
        exc.fault(k, ec, Vector.BP)

    def ud2(self) -> None:
        """An invalid opcode: #UD until a handler moves rip past it."""

        def body() -> None:
            raise Fault(Vector.UD)

        self.execute(2, body)

    def privileged(self, name: str = "hlt") -> None:
        """A ring-0 instruction (hlt, cli, sti, wrmsr, lgdt...) in user mode: #GP(0)."""

        def body() -> None:
            raise Fault(Vector.GP, 0)

        self.execute(1 if name in ("hlt", "cli", "sti") else 2, body)

    def fpu(self) -> None:
        """An FPU instruction: the first one after another EC used the FPU raises #NM,
        which the kernel handles itself (lazy switch); nothing is forwarded."""
        exc.lazy_fpu(self.k, self.ec)
        self.ec.regs.rip += 2

    # -- port I/O --------------------------------------------------------------------------
    def _port_ok(self, port: int, size: int) -> bool:
        nodes = self.ec.pd.pio.nodes
        for p in range(port, port + size):
            n = nodes.get(p)
            if n is None or not n.rights & PioRights.A:
                return False
        return True

    def port_in(self, port: int, size: int = 1) -> int:
        """`in` of `size` bytes from `port` (dx); the value comes back in rax."""
        regs = self.ec.regs
        regs.rdx = port & 0xFFFF
        mask = (1 << (8 * size)) - 1

        def body() -> int:
            p = regs.rdx & 0xFFFF
            if not self._port_ok(p, size):
                raise Fault(Vector.GP, 0)
            bus: IoBus | None = self.k.io_bus
            v = mask if bus is None else bus.io_in(p, size) & mask  # floating bus: all ones
            regs.rax = (regs.rax & ~mask) | v
            return v

        return self._value(self.execute(1, body)) & mask

    def port_out(self, port: int, value: int, size: int = 1) -> None:
        """`out` of `size` bytes of `value` (rax) to `port` (dx)."""
        regs = self.ec.regs
        mask = (1 << (8 * size)) - 1
        regs.rdx = port & 0xFFFF
        regs.rax = (regs.rax & ~mask) | (value & mask)

        def body() -> None:
            p = regs.rdx & 0xFFFF
            if not self._port_ok(p, size):
                raise Fault(Vector.GP, 0)
            bus: IoBus | None = self.k.io_bus
            if bus is not None:
                bus.io_out(p, size, regs.rax & mask)

        self.execute(1, body)

    def inb(self, port: int) -> int:
        return self.port_in(port, 1)

    def inw(self, port: int) -> int:
        return self.port_in(port, 2)

    def inl(self, port: int) -> int:
        return self.port_in(port, 4)

    def outb(self, port: int, value: int) -> None:
        self.port_out(port, value, 1)

    def outw(self, port: int, value: int) -> None:
        self.port_out(port, value, 2)

    def outl(self, port: int, value: int) -> None:
        self.port_out(port, value, 4)

    # -- memory ----------------------------------------------------------------------------
    def _mem(self, addr: int, n: int, kind: str) -> list[tuple[Frame, int, int]]:
        from .memory import PageFault, check

        try:
            return check(self.ec.pd, addr, n, kind)
        except PageFault as pf:
            raise Fault(Vector.PF, pf.err, pf.cr2) from None

    def read(self, addr: int, n: int) -> bytes:
        """Read `n` bytes of emulated memory at virtual `addr` (#PF where unmapped)."""
        from .memory import PhysMem

        pm = PhysMem.of(self.k)

        def body() -> bytes:
            return b"".join(pm.read(fr, off, ln) for fr, off, ln in self._mem(addr, n, "r"))

        r = self.execute(3, body)
        return bytes(n) if isinstance(r, _Skipped) else r

    def write(self, addr: int, data: bytes | bytearray) -> None:
        """Write `data` at virtual `addr`; nothing is written unless every page may be."""
        from .memory import PhysMem

        pm = PhysMem.of(self.k)

        def body() -> None:
            pos = 0
            for fr, off, ln in self._mem(addr, len(data), "w"):
                pm.write(fr, off, data[pos : pos + ln])
                pos += ln

        self.execute(3, body)

    def read_word(self, addr: int) -> int:
        return int.from_bytes(self.read(addr, self.k.arch.word), "little")

    def write_word(self, addr: int, value: int) -> None:
        w = self.k.arch.word
        self.write(addr, (value & self.k.arch.word_mask).to_bytes(w, "little"))

    def fetch(self, addr: int) -> None:
        """An instruction fetch at `addr`: needs an executable mapping (#PF bit 4)."""

        def body() -> None:
            self._mem(addr, 1, "x")

        self.execute(0, body)
