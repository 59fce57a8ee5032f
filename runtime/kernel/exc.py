"""Exception IPC: faults, startup and recall delivered through event portals (NOVA-NRE.md §5).

A fault of vector N in an EC becomes a *call* through the portal at `evt + N` of the
EC's PD. The handler's UTCB receives NOVA's exception message: `mtd` plus exactly the
words the portal's MTD selects, at their word offsets from mr[0] (x86_64 or x86_32
layout), and an items word of 56 (x86_64) or 72 (x86_32) untyped words. The reply's
mr[0] is an MTD again: the words it selects are written back to the EC's registers (for
rflags IF is forced on and IOPL, RF, VM, VIF, VIP are cleared; QUAL is load-only). A
reply that leaves rip at a kernel address (>= USER_ADDR) kills the EC, NRE's idiom.

No portal at `evt + N` ("PT not found") or a portal to another CPU ("PT wrong CPU")
kills the EC; so does a handler that dies before replying ("IPC Abort"). Whoever waits
for the EC (its caller, an SC helping it) learns it as for any death: COM_ABT.

The reply's typed items land in the faulting PD through the kernel-made delegate window
`Crd(MEM, cr2 >> 12, order 0x1f, all rights)`, so a pager's delegation at hotspot = the
fault page maps memory there (§3). The window is built from the EC's last CR2 for every
vector, as in NOVA. #NM (7) never leaves the kernel: it drives lazy FPU switching.

Events: 30 (STARTUP) before a global EC's first instruction: without a portal at
`evt + 30` the EC dies ("PT not found"), as in NOVA; only root's first EC, which the
kernel starts itself (NOVA's `root_invoke`), runs without one. The user layer gives
every PD a startup portal per CPU (`runtime.api.GlobalThread`). 31 (RECALL) after
`ec_ctrl`, at the EC's next system call or emulated instruction. A #PF at or above
USER_ADDR kills the EC at once ("EXC", NRE's kernel patch 26b472e), no pager is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum, IntFlag
from typing import TYPE_CHECKING, Any, NoReturn

from .arch import Arch
from .crd import ALL, CrdType, crd
from .pt import Pt
from .regs import EFLAGS_CLEAR, EFLAGS_IF, Regs
from .status import Status
from .utcb import Utcb

if TYPE_CHECKING:
    from .ec import Ec
    from .kernel import Kernel

__all__ = [
    "HDR",
    "NUM_EXC",
    "Mtd",
    "Vector",
    "deliver",
    "fault",
    "layout",
    "lazy_fpu",
    "load_exc",
    "message_words",
    "recall",
    "save_exc",
    "startup",
]

NUM_EXC = 32
HDR = 5  # UTCB header words before mr[0]
SUCCESS = int(Status.SUCCESS)
COM_ABT = int(Status.COM_ABT)


class Mtd(IntFlag):
    """Message transfer descriptor bits (§5)."""

    GPR_ACDB = 1 << 0
    GPR_BSD = 1 << 1
    RSP = 1 << 2
    RIP_LEN = 1 << 3
    RFLAGS = 1 << 4
    DS_ES = 1 << 5
    FS_GS = 1 << 6
    CS_SS = 1 << 7
    TR = 1 << 8
    LDTR = 1 << 9
    GDTR = 1 << 10
    IDTR = 1 << 11
    CR = 1 << 12
    DR = 1 << 13
    SYSENTER = 1 << 14
    QUAL = 1 << 15
    CTRL = 1 << 16
    INJ = 1 << 17
    STA = 1 << 18
    TSC = 1 << 19
    EFER = 1 << 20
    IRQ = RFLAGS | STA | INJ | TSC  # NRE's combination
    ALL = 0xFFFFF & ~CTRL  # NRE's MTD ALL


class Vector(IntEnum):
    """x86 exception vectors and NOVA's two events (NRE `EV_*`)."""

    DE = 0
    DB = 1
    BP = 3
    OF = 4
    BR = 5
    UD = 6
    NM = 7
    DF = 8
    TS = 0xA
    NP = 0xB
    SS = 0xC
    GP = 0xD
    PF = 0xE
    MF = 0x10
    AC = 0x11
    MC = 0x12
    XM = 0x13
    STARTUP = 0x1E
    RECALL = 0x1F


# Word offsets from mr[0] (§5). "qual" entries are (index, offset of the low word); on
# x86_32 each qual is a 64-bit value over two words.
_LAYOUT_64 = {
    "mtd": 0,
    "inst_len": 1,
    "rip": 2,
    "rflags": 3,
    "rax": 6,
    "rcx": 7,
    "rdx": 8,
    "rbx": 9,
    "rsp": 10,
    "rbp": 11,
    "rsi": 12,
    "rdi": 13,
    **{f"r{i}": 6 + i for i in range(8, 16)},
    "qual0": 22,
    "qual1": 23,
}
_LAYOUT_32 = {
    "mtd": 0,
    "inst_len": 1,
    "rip": 2,
    "rflags": 3,
    "rax": 8,
    "rcx": 9,
    "rdx": 10,
    "rbx": 11,
    "rsp": 12,
    "rbp": 13,
    "rsi": 14,
    "rdi": 15,
    "qual0": 16,  # 64-bit: words 16 (low) and 17 (high)
    "qual1": 18,  # words 18 and 19
}

# Which registers each non-VM MTD bit moves. On x86_64, GPR_BSD also moves r8-r15
# (the layout has them right after rdi; §5 names only rbp/rsi/rdi; our reading).
_GROUPS_64: tuple[tuple[int, tuple[str, ...]], ...] = (
    (Mtd.GPR_ACDB, ("rax", "rcx", "rdx", "rbx")),
    (Mtd.GPR_BSD, ("rbp", "rsi", "rdi", *(f"r{i}" for i in range(8, 16)))),
    (Mtd.RSP, ("rsp",)),
    (Mtd.RIP_LEN, ("rip",)),
    (Mtd.RFLAGS, ("rflags",)),
)
_GROUPS_32: tuple[tuple[int, tuple[str, ...]], ...] = (
    (Mtd.GPR_ACDB, ("rax", "rcx", "rdx", "rbx")),
    (Mtd.GPR_BSD, ("rbp", "rsi", "rdi")),
    (Mtd.RSP, ("rsp",)),
    (Mtd.RIP_LEN, ("rip",)),
    (Mtd.RFLAGS, ("rflags",)),
)


def layout(arch: Arch) -> dict[str, int]:
    """Field name -> word offset from mr[0] for `arch`."""
    return dict(_LAYOUT_64 if arch.word == 8 else _LAYOUT_32)


def message_words(arch: Arch) -> int:
    """The untyped count of an exception message: 56 (x86_64) or 72 (x86_32)."""
    return 56 if arch.word == 8 else 72


def _groups(arch: Arch) -> tuple[tuple[int, tuple[str, ...]], ...]:
    return _GROUPS_64 if arch.word == 8 else _GROUPS_32


def load_exc(u: Utcb, regs: Regs, mtd: int) -> None:
    """Write the exception message for `regs` into `u` (NOVA `load_exc`): only the fields
    `mtd` selects, then mtd itself; items = 56/72 untyped, 0 typed; top = bottom = 0."""
    arch = u.arch
    lay = _LAYOUT_64 if arch.word == 8 else _LAYOUT_32
    mask = u.mask
    for bit, names in _groups(arch):
        if mtd & bit:
            for n in names:
                u.set_word(HDR + lay[n], getattr(regs, n) & mask)
    if mtd & Mtd.QUAL:
        for i, v in enumerate((regs.err, regs.cr2)):
            off = HDR + lay[f"qual{i}"]
            if arch.word == 8:
                u.set_word(off, v)
            else:
                u.set_word(off, v & 0xFFFFFFFF)
                u.set_word(off + 1, (v >> 32) & 0xFFFFFFFF)
    u.set_word(HDR + lay["mtd"], mtd)
    u.set_items(message_words(arch), 0)
    u.set_word(0, 0)


def save_exc(u: Utcb, regs: Regs) -> int:
    """Apply a reply in `u` to `regs` (NOVA `save_exc`, non-VM part); returns its MTD."""
    arch = u.arch
    lay = _LAYOUT_64 if arch.word == 8 else _LAYOUT_32
    mtd = u.word_at(HDR + lay["mtd"])
    for bit, names in _groups(arch):
        if mtd & bit:
            for n in names:
                v = u.word_at(HDR + lay[n])
                if n == "rflags":
                    v = (v & ~EFLAGS_CLEAR) | EFLAGS_IF
                setattr(regs, n, v)
    return mtd


# -- delivery ------------------------------------------------------------------------------


def lazy_fpu(k: Kernel, ec: Ec) -> None:
    """#NM, handled in the kernel: the CPU's FPU changes owner (save/restore, counted)."""
    owners = k.fpu_owner
    if owners.get(ec.cpu) is not ec:
        owners[ec.cpu] = ec
        k.counters["fpu_switches"] += 1


def _kill(k: Kernel, ec: Ec, reason: str) -> NoReturn:
    k.die(ec, reason)
    k._dispatch_from_ec()
    while True:  # not reached: a dead EC is never resumed
        k.kernel_fault(f"dead EC {ec.name} resumed")
        k._to_hub()


def deliver(k: Kernel, ec: Ec, vector: int) -> None:
    """Send exception `vector` of the running EC `ec` as a call through `evt + vector`.

    Returns when the handler has replied and `ec.regs` holds the reply's fields; never
    returns if the EC died. The fault source sets `regs.err`/`regs.cr2` beforehand.
    """
    if vector == Vector.NM:
        lazy_fpu(k, ec)
        return
    k.tick(1)  # a kernel entry: one system call's worth of time, a preemption point
    if ec.dead:
        _kill(k, ec, ec.death)
    k.counters["exceptions"] += 1
    if k.tracing:
        k._trace(ec, f"exc{vector}", 0)
    node = ec.pd.obj.nodes.get(ec.evt + vector)
    pt = None if node is None else node.obj
    if type(pt) is not Pt:
        _kill(k, ec, "PT not found")
    h = pt.ec
    if h.xcpu != ec.cpu:
        _kill(k, ec, "PT wrong CPU")
    if (h.rcap is not None or h.dead) and k._call_busy(ec, h, False) != SUCCESS:
        _kill(k, ec, "IPC Timeout")
    regs = ec.regs
    hu = h.utcb
    load_exc(hu, regs, pt.mtd)
    # The reply is copied into a stand-in UTCB of the faulting EC (its real UTCB is not
    # touched, as NOVA writes nothing back to an exception sender). Words the reply does
    # not carry read as the handler received them; the delegate window is the kernel's.
    stand_in = Utcb(k.arch)
    stand_in.buf[:] = hu.buf
    stand_in.xlt = 0
    stand_in.dele = crd(CrdType.MEM, regs.cr2 >> 12, 0x1F, ALL)
    h.rcap = ec
    h.pending = pt
    ec.partner = h
    pt.calls += 1
    real = ec.utcb
    ec.utcb = stand_in
    ec.result = COM_ABT
    k.current = h
    g = h.glet
    if g is None:
        g = k.new_glet(h)
        h.set_glet(g)
    k.n_switches += 1
    try:
        g.switch(h)
    finally:
        ec.utcb = real
    if ec.dead or ec.result != SUCCESS:
        _kill(k, ec, "IPC Abort")
    save_exc(stand_in, regs)
    if regs.rip >= k.arch.user_addr:
        _kill(k, ec, "EXC")  # the EC resumes at a kernel address: NRE's kill idiom


def fault(k: Kernel, ec: Ec, vector: int, err: int = 0, cr2: int | None = None) -> None:
    """Raise `vector` in `ec` with error code `err` (and CR2 for #PF), then deliver it."""
    regs = ec.regs
    regs.err = err
    if cr2 is not None:
        regs.cr2 = cr2
        if vector == Vector.PF and cr2 >= k.arch.user_addr:
            # NRE's kernel (26b472e): a user #PF at a kernel address kills the EC, no pager
            _kill(k, ec, "EXC")
    deliver(k, ec, vector)


def recall(k: Kernel, ec: Ec) -> None:
    """Deliver a pending recall (event 31) to the running EC `ec`."""
    ec.recall = False
    deliver(k, ec, Vector.RECALL)


def startup(k: Kernel, ec: Ec) -> Callable[..., Any] | None:
    """A global EC's first activation: event 30, then the code to start (never returns
    if the EC dies: no portal, or a handler that kills it). The handler picks the start
    by setting rip to a registered code address (the entry is registered at `sp`, so
    `rip = rsp` starts it there). Root's first EC starts at its entry, without event."""
    if ec is k.root_ec:
        ec.regs.rip = ec.sp
        return ec.entry  # type: ignore[no-any-return]
    deliver(k, ec, Vector.STARTUP)
    if ec.pd.machine is not None:  # machine code: the core starts at the rip it holds now
        return ec.pd.machine.global_entry(ec)  # type: ignore[no-any-return]
    regs = ec.regs
    while True:
        fn = k.code.get(regs.rip)
        if fn is not None:
            return fn
        # Nothing to execute at rip: an instruction fetch page fault (user | fetch).
        fault(k, ec, Vector.PF, 0x14, regs.rip)
