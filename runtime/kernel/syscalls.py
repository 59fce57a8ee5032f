"""The 14 system calls of NOVA (as pinned by NRE), one handler each (NOVA-NRE.md §1).

Argument encoding: word0 = sel<<8 | flags<<4 | number, then ARG2..ARG5. Every handler has
the same shape: decode, look the capability up, check its type and rights, return the
status early, then act. Objects are created in the caller's space at `sel`. The entry
(`Kernel.syscall`) returns (status, out2, out3) and never raises.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, TypeVar

from . import mdb
from .crd import ALL, CrdType, EcRights, PdRights, ScRights, SmRights, crd
from .ec import Ec
from .kobject import Kobject
from .pd import Pd
from .pt import Pt
from .sc import MAX_PRIO, Sc
from .sm import Sm
from .status import Status

if TYPE_CHECKING:
    from .kernel import Kernel

__all__ = [
    "FLAG0",
    "FLAG1",
    "NONBLOCKING",
    "SM_DOWN",
    "SM_ZERO",
    "TABLE",
    "Sys",
    "qpd",
    "word0",
]


class Sys(IntEnum):
    CALL = 0
    REPLY = 1
    CREATE_PD = 2
    CREATE_EC = 3
    CREATE_SC = 4
    CREATE_PT = 5
    CREATE_SM = 6
    REVOKE = 7
    LOOKUP = 8
    EC_CTRL = 9
    SC_CTRL = 10
    SM_CTRL = 11
    ASSIGN_PCI = 12
    ASSIGN_GSI = 13


# Flags as NRE writes them into word0 (already shifted by 4).
FLAG0 = 1 << 4  # global EC / revoke self / sm down / non-blocking call
FLAG1 = 1 << 5
NONBLOCKING = FLAG0
SM_DOWN = FLAG0
SM_ZERO = FLAG0 | FLAG1


def word0(num: int, sel: int = 0, flags: int = 0) -> int:
    """`flags` already shifted (FLAG0...), as NRE passes them."""
    return sel << 8 | (flags & 0xF0) | (num & 0xF)


def qpd(prio: int, quantum: int) -> int:
    return quantum << 12 | (prio & 0xFF)


Handler = Callable[["Kernel", Ec, int, int, int, int, int], int]
K = TypeVar("K", bound=Kobject)


def _cap(pd: Pd, sel: int, cls: type[K], perm: int) -> K | None:
    """The object at `sel` if it has type `cls` and every bit of `perm` (else None)."""
    node = pd.obj.nodes.get(sel)
    if node is None or type(node.obj) is not cls or (node.rights & perm) != perm:
        return None
    return node.obj


def _free(pd: Pd, sel: int) -> bool:
    return 0 <= sel < pd.obj.limit and sel not in pd.obj.nodes


def sys_call(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    node = ec.pd.obj.nodes.get(w0 >> 8)
    pt = None if node is None else node.obj
    if type(pt) is not Pt:
        return Status.BAD_CAP
    return k.call(ec, pt, bool(w0 & FLAG0))


def sys_reply(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    from .kernel import ReplyUnwind

    k.reply(ec)
    if not ec.glb:
        raise ReplyUnwind  # resumed by the next call: start its handler afresh
    return Status.SUCCESS


def sys_create_pd(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    sel = w0 >> 8
    if _cap(ec.pd, a2, Pd, PdRights.CREATE_PD) is None or not _free(ec.pd, sel):
        return Status.BAD_CAP
    pd = k.new_pd(f"pd@{ec.pd.name}:{sel:#x}")
    mdb.insert_root(ec.pd.obj, sel, pd, ALL)
    if a3 & 3 == CrdType.OBJ:  # initial caps land at selector 0 of the new PD
        mdb.del_crd(ec.pd.obj, pd.obj, a3, 0, crd(CrdType.OBJ, 0, k.arch.sel_bits, ALL))
    return Status.SUCCESS


def sys_create_ec(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    # NOVA's order (K:src/syscall.cpp sys_create_ec): CPU, vCPU, PD capability, UTCB, slot
    sel = w0 >> 8
    cpu, utcb = a3 & 0xFFF, a3 & ~0xFFF
    if cpu >= k.ncpus:
        return Status.BAD_CPU
    if utcb == 0:
        return Status.BAD_FTR  # a vCPU; there is no VMX/SVM here
    pd = _cap(ec.pd, a2, Pd, PdRights.CREATE_EC)
    if pd is None:
        return Status.BAD_CAP
    if utcb >= k.arch.user_addr or utcb in pd.utcbs:
        return Status.BAD_PAR
    if not _free(ec.pd, sel):
        return Status.BAD_CAP
    glb = bool(w0 & FLAG0)
    new = k.new_ec(pd, cpu, glb, utcb, a4, a5, f"ec@{pd.name}:{sel:#x}")
    if pd.machine is not None:  # a PD of machine code: the EC gets its emulated core
        pd.machine.attach(new)
    mdb.insert_root(ec.pd.obj, sel, new, ALL)
    return Status.SUCCESS


def sys_create_sc(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    sel = w0 >> 8
    if _cap(ec.pd, a2, Pd, PdRights.CREATE_SC) is None:
        return Status.BAD_CAP
    target = _cap(ec.pd, a3, Ec, EcRights.SC)
    if target is None or not target.glb:
        return Status.BAD_CAP
    prio, quantum = a4 & 0xFF, a4 >> 12
    if not prio or not quantum or prio > MAX_PRIO:  # >127: NOVA only asserts; we refuse
        return Status.BAD_PAR
    if not _free(ec.pd, sel):
        return Status.BAD_CAP
    sc = k.new_sc(target, prio, quantum)
    mdb.insert_root(ec.pd.obj, sel, sc, ALL)
    k.ready(sc)
    return Status.SUCCESS


def sys_create_pt(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    sel = w0 >> 8
    if _cap(ec.pd, a2, Pd, PdRights.CREATE_PT) is None:
        return Status.BAD_CAP
    target = _cap(ec.pd, a3, Ec, EcRights.PT)
    if target is None or target.glb or not _free(ec.pd, sel):
        return Status.BAD_CAP
    pt = k.new_pt(target, a4, a5, sel)
    if target.pd.machine is not None:  # machine code at ip, in the target's address space
        pt.entry = target.pd.machine.portal_entry(target, a5)
        pt.fast = None
    mdb.insert_root(ec.pd.obj, sel, pt, ALL)
    return Status.SUCCESS


def sys_create_sm(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    sel = w0 >> 8
    if _cap(ec.pd, a2, Pd, PdRights.CREATE_SM) is None or not _free(ec.pd, sel):
        return Status.BAD_CAP
    mdb.insert_root(ec.pd.obj, sel, k.new_sm(a3 & k.arch.word_mask, f"sm:{sel:#x}"), ALL)
    return Status.SUCCESS


def sys_revoke(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    space = ec.pd.space(a2 & 3)
    if space is not None:
        order = (a2 >> 7) & 0x1F
        mdb.revoke(space, a2 >> 12, order, (a2 >> 2) & 0x1F, bool(w0 & 0xF0))
    return Status.SUCCESS


def sys_lookup(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    space = ec.pd.space(a2 & 3)
    ec.out2 = 0 if space is None else mdb.lookup(space, a2 >> 12)
    return Status.SUCCESS


def sys_ec_ctrl(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    target = _cap(ec.pd, w0 >> 8, Ec, EcRights.CTRL)
    if target is None:
        return Status.BAD_CAP
    target.recall = True  # event 31 at the target's next system call or instruction (§5)
    return Status.SUCCESS


def sys_sc_ctrl(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    sc = _cap(ec.pd, w0 >> 8, Sc, ScRights.CTRL)
    if sc is None:
        return Status.BAD_CAP
    t = k.consumed(sc)
    ec.out2, ec.out3 = t >> 32, t & 0xFFFFFFFF
    return Status.SUCCESS


def sys_sm_ctrl(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    down = bool(w0 & FLAG0)
    sm = _cap(ec.pd, w0 >> 8, Sm, SmRights.DOWN if down else SmRights.UP)
    if sm is None:
        return Status.BAD_CAP
    if down:
        if sm.gsi is not None and k.platform is not None:
            k.platform.gsi_down(sm.gsi)  # a down on a GSI semaphore unmasks it first (§6)
        return k.sm_down(ec, sm, bool(w0 & FLAG1))
    k.sm_up(sm)
    return Status.SUCCESS


def sys_assign_pci(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    if _cap(ec.pd, w0 >> 8, Pd, 0) is None:
        return Status.BAD_CAP
    return Status.BAD_DEV  # the emulated platform has no IOMMU-assignable device


def sys_assign_gsi(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    if a3 >= k.ncpus:  # NOVA checks the CPU first (K:src/syscall.cpp sys_assign_gsi)
        return Status.BAD_CPU
    sm = _cap(ec.pd, w0 >> 8, Sm, 0)
    if sm is None or sm.gsi is None:
        return Status.BAD_CAP
    ec.out2, ec.out3 = 0xFEE00000 | a3 << 12, 0x20 + sm.gsi  # MSI address/data, emulated
    if k.platform is not None:
        k.platform.assign(sm.gsi, a3)  # route the IOAPIC pin to the CPU and unmask it
    return Status.SUCCESS


def sys_bad(k: Kernel, ec: Ec, w0: int, a2: int, a3: int, a4: int, a5: int) -> int:
    return Status.BAD_HYP


TABLE: tuple[Handler, ...] = (
    sys_call,
    sys_reply,
    sys_create_pd,
    sys_create_ec,
    sys_create_sc,
    sys_create_pt,
    sys_create_sm,
    sys_revoke,
    sys_lookup,
    sys_ec_ctrl,
    sys_sc_ctrl,
    sys_sm_ctrl,
    sys_assign_pci,
    sys_assign_gsi,
    sys_bad,
    sys_bad,
)
