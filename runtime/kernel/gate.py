"""The system-call gate: how user code reaches the kernel (docs/runtime.md, "The gate").

User-layer objects (`Context`, `Env`, `Pt`, `Sm`, `Syscalls`, generated stubs) hold a
`Gate`, never the `Kernel`. Its entries are functions closed over the kernel: the system
calls (`syscall`, `ipc_call`) and the user halves of the UTCB protocol that generated
code uses (`call_fixed`, `idle_utcb`, `call_words`, `take_reply`), plus what the user
layer needs of the running EC (its UTCB, CPU and PD's user state). Compiled, such a
function keeps the kernel in an environment object with no attributes at all, and
neither it nor the gate has a `__self__`: no chain of attribute accesses from a gate
leads to the kernel, its objects or the mapping database. Python cannot enforce that
against reflection (`gc.get_referents`, a frame's locals); guest machine code gets a
real boundary.

The documented back door for tests and tools is `backdoor(obj)`: the kernel behind a
gate or behind any object that holds one. It needs this module's private key; a gate
exposes the kernel to nothing else. The gate owns no table: the kernel lives exactly as
long as the gates and the `Machine` that hold it (nothing to drop, nothing leaks).
"""

from __future__ import annotations

from collections.abc import Callable
from struct import Struct
from typing import Any

from .arch import Arch
from .crd import ALL, CrdType, crd
from .ec import Ec
from .kernel import Kernel
from .status import Status, SyscallError
from .syscalls import FLAG0, Sys, word0
from .utcb import Utcb

__all__ = ["Gate", "backdoor", "open_gate"]

_BAD_HYP = int(Status.BAD_HYP)
_BAD_CAP = int(Status.BAD_CAP)
_PIO = int(CrdType.PIO)


class _Key:
    """The back door's key: only this module holds the instance."""


_KEY = _Key()


class Gate:
    """The kernel entries of one kernel, as user code holds them (see the module text).

    `arch`, `num_cpu` and `ncpus` are the machine's constants; every other attribute is
    a function. All act as the EC that is running (`Kernel.current`), as a system call
    does; without one they fail with BAD_HYP (a status, or `SyscallError`).
    """

    __slots__ = (
        "arch",
        "call_fixed",
        "call_words",
        "cpu",
        "env",
        "executes",
        "holds",
        "idle_utcb",
        "ipc_call",
        "name_ec",
        "ncpus",
        "num_cpu",
        "register_code",
        "revoke_received",
        "syscall",
        "take_reply",
        "tick",
        "unlock",
        "utcb",
        "utcb_of",
        "yield_",
    )

    def __init__(self, arch: Arch, num_cpu: int, ncpus: int, fns: dict[str, Any]) -> None:
        self.arch = arch
        self.num_cpu = num_cpu
        self.ncpus = ncpus
        # system calls
        self.syscall: Callable[..., tuple[int, int, int]] = fns["syscall"]
        self.ipc_call: Callable[[int], int] = fns["ipc_call"]
        # the user halves of the UTCB protocol (generated stubs bind these once)
        self.call_fixed: Callable[..., tuple[Any, ...]] = fns["call_fixed"]
        self.idle_utcb: Callable[[], bytearray | None] = fns["idle_utcb"]
        self.call_words: Callable[..., tuple[bytes, list[tuple[int, int]]]] = fns["call_words"]
        self.take_reply: Callable[[], tuple[bytes, list[tuple[int, int]]]] = fns["take_reply"]
        # the running EC as its own code sees it
        self.utcb: Callable[[], Utcb] = fns["utcb"]
        self.cpu: Callable[[], int] = fns["cpu"]
        self.env: Callable[[], Any] = fns["env"]
        self.executes: Callable[[Any], bool] = fns["executes"]
        self.holds: Callable[[int], bool] = fns["holds"]
        self.utcb_of: Callable[[int], Utcb] = fns["utcb_of"]
        self.name_ec: Callable[[int, str], None] = fns["name_ec"]
        self.register_code: Callable[..., int] = fns["register_code"]
        self.revoke_received: Callable[[int, list[tuple[int, int]]], None] = fns["revoke_received"]
        # virtual time
        self.tick: Callable[[int], None] = fns["tick"]
        self.yield_: Callable[[], None] = fns["yield_"]
        self.unlock: Callable[[object], Kernel] = fns["unlock"]

    def __repr__(self) -> str:
        return f"Gate({self.ncpus} CPUs, {self.arch.name})"


def open_gate(k: Kernel) -> Gate:
    """A gate to `k`. Each entry is a closure over `k`; a call through one costs one
    native call more than calling the kernel's method."""

    def syscall(
        w0: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0
    ) -> tuple[int, int, int]:
        return k.syscall(w0, a2, a3, a4, a5)

    def ipc_call(w0: int) -> int:
        return k.ipc_call(w0)

    def call_fixed(sel: int, n: int, rp: Struct, m: int, op: object = None) -> tuple[Any, ...]:
        return k.call_fixed(sel, n, rp, m, op)

    def idle_utcb() -> bytearray | None:
        return k.idle_utcb()

    def call_words(
        sel: int,
        data: bytes | bytearray,
        flags: int = 0,
        items: list[tuple[int, int]] | tuple[()] = (),
    ) -> tuple[bytes, list[tuple[int, int]]]:
        return k.call_words(sel, data, flags, items)

    def take_reply() -> tuple[bytes, list[tuple[int, int]]]:
        return k.take_reply()

    def running() -> Ec:
        ec = k.current
        if ec is None:
            raise SyscallError(_BAD_HYP, "no EC is running")
        return ec

    def utcb() -> Utcb:
        """The running EC's UTCB page."""
        return running().utcb

    def cpu() -> int:
        """The running EC's CPU."""
        return running().cpu

    def env() -> Any:
        """The user-level state of the running EC's PD (`runtime.api.Env`), or None."""
        ec = k.current
        return None if ec is None else ec.pd.env

    def executes(glet: Any) -> bool:
        """Whether `glet` is the greenlet of the EC this kernel is running."""
        ec = k.current
        return ec is not None and ec.glet is glet

    def holds(sel: int) -> bool:
        """Whether the running PD holds an object capability at `sel` (what `lookup`
        tells, without a system call's time)."""
        return sel in running().caps

    def own_ec(sel: int) -> Ec:
        ec = running()
        node = ec.caps.get(sel)
        obj = None if node is None else node.obj
        if not isinstance(obj, Ec) or obj.pd is not ec.pd:
            raise SyscallError(_BAD_CAP, f"{sel:#x} is no EC of this PD")
        return obj

    def utcb_of(sel: int) -> Utcb:
        """The UTCB of EC `sel` of the running PD: it is mapped in the PD's own address
        space, so the PD may write it (a local EC's receive windows)."""
        return own_ec(sel).utcb

    def name_ec(sel: int, name: str) -> None:
        """Name EC `sel` of the running PD in death reports and traces."""
        own_ec(sel).name = name

    def register_code(fn: Callable[..., Any], in_pd: bool = True) -> int:
        """An instruction address for `fn` (a portal ip, a global EC's sp): in the
        running PD's address space (it goes with the PD), else, with no EC running or
        `in_pd=False`, for the kernel's lifetime."""
        ec = k.current
        return k.register_code(fn, ec.pd if in_pd and ec is not None else None)

    def revoke_received(window: int, got: list[tuple[int, int]]) -> None:
        """Revoke, in the running (server) EC's PD, what the items `got` of the request
        it is handling delegated to it: objects and memory where they landed inside the
        delegate `window`; I/O ports, which land 1:1 wherever the port is, only where
        the server's capability derives from the caller's (a client may name a port the
        server already holds: the kernel skips it and still reports it)."""
        ec = k.current
        if ec is None:
            return
        caller = ec.rcap
        w_base = (window >> 12) & ~((1 << ((window >> 7) & 0x1F)) - 1)
        w_end = w_base + (1 << ((window >> 7) & 0x1F))
        w_type = window & 3
        for c, _b in got:
            typ, order = c & 3, (c >> 7) & 0x1F
            space = ec.pd.space(typ)
            if space is None:
                continue
            base = (c >> 12) & ~((1 << order) - 1)
            for unit in space.units_in(base, 1 << order):
                if typ == _PIO:
                    node = space.nodes.get(unit)
                    parent = None if node is None else node.parent
                    if caller is None or parent is None or parent.space.owner is not caller.pd:
                        continue
                elif typ != w_type or not w_base <= unit < w_end:
                    continue
                k.syscall(word0(Sys.REVOKE, 0, FLAG0), crd(typ, unit, 0, ALL))

    def tick(us: int) -> None:
        k.tick(us)

    def yield_() -> None:
        k.yield_()

    def unlock(key: object) -> Kernel:
        if key is not _KEY:
            raise PermissionError("the kernel is reached through runtime.kernel.backdoor")
        return k

    fns: dict[str, Any] = {
        "syscall": syscall,
        "ipc_call": ipc_call,
        "call_fixed": call_fixed,
        "idle_utcb": idle_utcb,
        "call_words": call_words,
        "take_reply": take_reply,
        "utcb": utcb,
        "cpu": cpu,
        "env": env,
        "executes": executes,
        "holds": holds,
        "utcb_of": utcb_of,
        "name_ec": name_ec,
        "register_code": register_code,
        "revoke_received": revoke_received,
        "tick": tick,
        "yield_": yield_,
        "unlock": unlock,
    }
    return Gate(k.arch, k.num_cpu, k.ncpus, fns)


def backdoor(obj: object) -> Kernel:
    """The kernel behind `obj`: a `Gate`, or anything that holds one as `gate` (a
    `Machine`, `Context`, `Env`, `Pt`, `Sm`, `Syscalls`), a portal as `_pt` (a generated
    client stub) or an `Env` as `env` (a `Process`). For tests and tools only
    (docs/runtime.md, "The gate")."""
    gate = obj
    for via in ("gate", "_pt", "env"):  # its own; a stub's portal's; a process's Env's
        if isinstance(gate, Gate):
            break
        gate = getattr(obj, via, None)
        if via != "gate":
            gate = getattr(gate, "gate", None)
    if not isinstance(gate, Gate):
        raise TypeError(f"no gate behind {type(obj).__name__}")
    return gate.unlock(_KEY)
