"""System calls at the edges of their ranges, and what they create or report
(NOVA-NRE.md §1): every accepted argument lands in the object made, every limit is
checked on both of its sides. The PD set up is test_syscalls' (`_setup`)."""

from __future__ import annotations

import pytest

from runtime.api import Context
from runtime.api import Pt as Portal
from runtime.crd import ALL, CrdType, MemRights, SmRights, crd
from runtime.kernel import backdoor, mdb
from runtime.kernel.ec import Ec
from runtime.kernel.pt import Pt
from runtime.kernel.sc import Sc
from runtime.kernel.sm import Sm
from runtime.kernel.syscalls import FLAG0, FLAG1, SM_DOWN, SM_ZERO, Sys, qpd, word0
from runtime.machine import Machine, Process, pd_of
from runtime.platform import Board
from runtime.status import Status
from runtime.utcb import UtcbFrame

from .conftest import out_as, sys_as
from .test_syscalls import GEC, GSI, LEC, PD, SC, SM, _setup

NEW = 0x300


def _obj(p: Process, sel: int) -> object:
    return pd_of(p).obj.nodes[sel].obj


def _machine() -> tuple[Machine, Process]:
    m = Machine(cpus=2)
    return m, _setup(m)


def test_word0_and_qpd_encodings() -> None:
    assert word0(Sys.SM_CTRL, 0x123, FLAG0 | FLAG1) == 0x123 << 8 | 0x30 | 11
    assert word0(0x1F, 1, 0x1FF) == 1 << 8 | 0xF0 | 0xF  # each field masked to its bits
    assert (SM_DOWN, SM_ZERO) == (0x10, 0x30)
    assert word0(Sys.LOOKUP) == 8 and word0(2, 0, 0x11) == 0x12  # flags bits 7..4 only
    assert qpd(0x1FF, 3) == 3 << 12 | 0xFF


# (prio, quantum) -> status: 1..127 and any quantum > 0 (prio 128 NOVA only asserts)
SC_ARGS = [((1, 1), Status.SUCCESS), ((127, 5), Status.SUCCESS), ((128, 5), Status.BAD_PAR)]
SC_ARGS += [((0, 5), Status.BAD_PAR), ((5, 0), Status.BAD_PAR), ((0x105, 7), Status.SUCCESS)]


@pytest.mark.parametrize(("args", "want"), SC_ARGS, ids=[str(a) for a, _ in SC_ARGS])
def test_create_sc_priority_and_quantum(args: tuple[int, int], want: Status) -> None:
    _m, p = _machine()
    prio, quantum = args
    assert sys_as(p, word0(Sys.CREATE_SC, NEW), PD, GEC, quantum << 12 | prio) == want
    if want == Status.SUCCESS:
        sc = _obj(p, NEW)
        assert isinstance(sc, Sc)
        assert (sc.prio, sc.quantum, sc.ec) == (prio & 0xFF, quantum, _obj(p, GEC))


# (CPU, UTCB address) -> status, at each edge.
def _ec_cases(p: Process) -> list[tuple[int, int, Status]]:
    top = backdoor(p).arch.user_addr
    return [
        (1, 0x40000000, Status.SUCCESS),  # the last CPU
        (2, 0x40000000, Status.BAD_CPU),
        (0, top - 0x1000, Status.SUCCESS),  # the last page below the kernel
        (0, top, Status.BAD_PAR),
        (0, 0x1000, Status.SUCCESS),
    ]


@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("glb", [False, True])
def test_create_ec_edges_and_fields(case: int, glb: bool) -> None:
    _m, p = _machine()
    cpu, utcb, want = _ec_cases(p)[case]
    flags = FLAG0 if glb else 0
    got = sys_as(p, word0(Sys.CREATE_EC, NEW, flags), PD, utcb | cpu, 0x5000, 0x60)
    assert got == want
    if want == Status.SUCCESS:
        ec = _obj(p, NEW)
        assert isinstance(ec, Ec)
        assert (ec.cpu, ec.glb, ec.utcb_addr, ec.sp, ec.evt) == (cpu, glb, utcb, 0x5000, 0x60)
        assert ec.pd is pd_of(p) and utcb in pd_of(p).utcbs
        # the same UTCB address again is refused
        got = sys_as(p, word0(Sys.CREATE_EC, NEW + 1), PD, utcb | cpu, 0, 0)
        assert got == Status.BAD_PAR


def test_selectors_up_to_the_space_limit() -> None:
    _m, p = _machine()
    limit = pd_of(p).obj.limit
    assert sys_as(p, word0(Sys.CREATE_SM, limit - 1), PD, 1) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_SM, limit), PD, 1) == Status.BAD_CAP
    assert sys_as(p, word0(Sys.CREATE_PD, limit), PD) == Status.BAD_CAP
    assert sys_as(p, word0(Sys.CREATE_SM, 0), PD, 1) == Status.SUCCESS


def test_create_sm_count_is_a_word() -> None:
    _m, p = _machine()
    assert sys_as(p, word0(Sys.CREATE_SM, NEW), PD, 2**64 + 5) == Status.SUCCESS
    sm = _obj(p, NEW)
    assert isinstance(sm, Sm) and sm.count == 5 and sm.gsi is None


def test_create_pt_fields() -> None:
    _m, p = _machine()
    assert sys_as(p, word0(Sys.CREATE_PT, NEW), PD, LEC, 0x77, 0x88) == Status.SUCCESS
    pt = _obj(p, NEW)
    assert isinstance(pt, Pt)
    assert (pt.mtd, pt.ip, pt.id, pt.ec) == (0x77, 0x88, NEW, _obj(p, LEC))


def test_create_pd_takes_only_object_caps() -> None:
    _m, p = _machine()
    mdb.insert_root(pd_of(p).mem, 0x10, 0x99, ALL)
    assert sys_as(p, word0(Sys.CREATE_PD, NEW), PD, crd(CrdType.MEM, 0x10)) == Status.SUCCESS
    child = _obj(p, NEW)
    assert len(child.obj) == 0 and len(child.mem) == 0  # type: ignore[attr-defined]
    assert sys_as(p, word0(Sys.CREATE_PD, NEW + 1), PD, crd(CrdType.OBJ, SM)) == Status.SUCCESS
    child = _obj(p, NEW + 1)
    assert child.obj.nodes[0].obj is _obj(p, SM)  # type: ignore[attr-defined]
    assert child.obj.nodes[0].rights == ALL  # type: ignore[attr-defined]


def test_revoke_decodes_range_rights_and_self() -> None:
    _m, p = _machine()
    mem = pd_of(p).mem
    for u in range(8):
        mdb.insert_root(mem, 0x20 + u, u, MemRights.R | MemRights.W, 3)
    # order 1 at 0x22, only W, not self: the roots keep W (no children to strip)
    assert sys_as(p, word0(Sys.REVOKE), crd(CrdType.MEM, 0x22, 1, MemRights.W)) == 0
    assert mem.nodes[0x22].rights == MemRights.R | MemRights.W
    # the same with self (FLAG0): 0x22, 0x23 lose W, the rest keep it
    assert sys_as(p, word0(Sys.REVOKE, 0, FLAG0), crd(CrdType.MEM, 0x22, 1, MemRights.W)) == 0
    assert [mem.nodes[u].rights for u in range(0x20, 0x28)] == [3, 3, 1, 1, 3, 3, 3, 3]
    # every right, self (flag bit 5 counts too), order 2 from an unaligned base: 0x24..0x27
    assert sys_as(p, word0(Sys.REVOKE, 0, FLAG1), crd(CrdType.MEM, 0x25, 2, ALL)) == 0
    assert sorted(mem.nodes) == [0x20, 0x21, 0x22, 0x23]


def test_lookup_of_each_space() -> None:
    _m, p = _machine()
    mdb.insert_root(pd_of(p).mem, 0x40, 1, MemRights.R, 1)
    mdb.insert_root(pd_of(p).mem, 0x41, 2, MemRights.R, 1)
    mdb.insert_root(pd_of(p).pio, 0x60, 0x60, 1)
    assert out_as(p, word0(Sys.LOOKUP), crd(CrdType.MEM, 0x41))[:2] == (
        0,
        crd(CrdType.MEM, 0x40, 1, MemRights.R),
    )
    assert out_as(p, word0(Sys.LOOKUP), crd(CrdType.PIO, 0x60))[:2] == (
        0,
        crd(CrdType.PIO, 0x60, 0, 1),
    )
    assert out_as(p, word0(Sys.LOOKUP), crd(CrdType.NULL, 0x60))[:2] == (0, 0)
    assert out_as(p, word0(Sys.LOOKUP), crd(CrdType.OBJ, SM))[:2] == (
        0,
        crd(CrdType.OBJ, SM, 0, ALL),
    )


def test_sc_ctrl_splits_the_time_into_two_words() -> None:
    _m, p = _machine()
    sc = _obj(p, SC)
    assert isinstance(sc, Sc)
    sc.consumed = 0x1_2345_6789
    assert out_as(p, word0(Sys.SC_CTRL, SC)) == (Status.SUCCESS, 1, 0x2345_6789)


def test_ec_ctrl_recalls_the_target() -> None:
    _m, p = _machine()
    ec = _obj(p, GEC)
    assert isinstance(ec, Ec) and not ec.recall
    assert sys_as(p, word0(Sys.EC_CTRL, GEC)) == Status.SUCCESS
    assert ec.recall


def test_sm_ctrl_up_down_and_zero_counts() -> None:
    _m, p = _machine()
    sm = _obj(p, SM)
    assert isinstance(sm, Sm) and sm.count == 1
    assert sys_as(p, word0(Sys.SM_CTRL, SM)) == Status.SUCCESS and sm.count == 2
    assert sys_as(p, word0(Sys.SM_CTRL, SM, SM_DOWN)) == Status.SUCCESS and sm.count == 1
    assert sys_as(p, word0(Sys.SM_CTRL, SM)) == Status.SUCCESS and sm.count == 2
    assert sys_as(p, word0(Sys.SM_CTRL, SM, SM_ZERO)) == Status.SUCCESS and sm.count == 0


def test_gsi_semaphores_route_and_unmask() -> None:
    m, p = _machine()
    board = Board(m.k, 2)
    assert Board.of(m.k) is board
    sm = _obj(p, GSI)
    assert isinstance(sm, Sm) and sm.gsi == 3
    pin = board.ioapic.pins[3]
    # the last CPU is fine, one more is not; the MSI address and data name CPU and GSI
    assert out_as(p, word0(Sys.ASSIGN_GSI, GSI), 0, 2) == (Status.BAD_CPU, 0, 0)
    assert out_as(p, word0(Sys.ASSIGN_GSI, GSI), 0, 1) == (
        Status.SUCCESS,
        0xFEE00000 | 1 << 12,
        0x20 + 3,
    )
    assert pin.cpu == 1 and not pin.masked
    pin.masked = True
    sm.count = 1  # a down that does not block
    assert sys_as(p, word0(Sys.SM_CTRL, GSI, SM_DOWN)) == Status.SUCCESS
    assert not pin.masked and sm.count == 0
    pin.masked = True
    assert sys_as(p, word0(Sys.SM_CTRL, GSI)) == Status.SUCCESS  # an up unmasks nothing
    assert pin.masked and sm.count == 1


def test_rights_must_all_be_held() -> None:
    _m, p = _machine()
    space = pd_of(p).obj
    mdb.delegate(space, SM, space, NEW, 0, SmRights.UP | 0b100)  # UP and an unrelated bit
    assert sys_as(p, word0(Sys.SM_CTRL, NEW)) == Status.SUCCESS
    assert sys_as(p, word0(Sys.SM_CTRL, NEW, SM_DOWN)) == Status.BAD_CAP
    mdb.delegate(space, PD, space, NEW + 1, 0, ALL & ~0b1)  # every right but CREATE_PD
    assert sys_as(p, word0(Sys.CREATE_SM, NEW + 2), NEW + 1, 0) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_PD, NEW + 3), NEW + 1) == Status.BAD_CAP


def test_sys_call_entry_refuses_what_is_not_a_portal_here() -> None:
    """The table's call handler (the gate takes `Kernel.ipc_call` directly): no portal,
    another object, or a portal whose EC is on another CPU."""
    m, p = _machine()
    assert sys_as(p, word0(Sys.CREATE_EC, NEW), PD, 0x40000000 | 1) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_PT, NEW + 1), PD, NEW, 0, 0) == Status.SUCCESS
    k = m.k
    with p.acting():
        ec = k.current
        assert ec is not None
        for sel, want in (
            (0x7777, Status.BAD_CAP),
            (SM, Status.BAD_CAP),
            (NEW + 1, Status.BAD_CPU),
        ):
            assert k.table[Sys.CALL](k, ec, word0(Sys.CALL, sel), 0, 0, 0, 0) == want


def test_names_of_created_objects() -> None:
    _m, p = _machine()
    assert sys_as(p, word0(Sys.CREATE_SM, NEW), PD, 1) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_PD, NEW + 1), PD) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_EC, NEW + 2), PD, 0x40000000) == Status.SUCCESS
    pd = pd_of(p)
    names = [_obj(p, s).name for s in (NEW, NEW + 1, NEW + 2)]  # type: ignore[attr-defined]
    assert names == ["sm:0x300", f"pd@{pd.name}:0x301", f"ec@{pd.name}:0x302"]


def test_assign_needs_no_right() -> None:
    _m, p = _machine()
    space = pd_of(p).obj
    mdb.delegate(space, GSI, space, NEW, 0, SmRights.DOWN)  # not bit 0
    mdb.delegate(space, PD, space, NEW + 1, 0, 0b10)
    assert out_as(p, word0(Sys.ASSIGN_GSI, NEW), 0, 0)[0] == Status.SUCCESS
    assert sys_as(p, word0(Sys.ASSIGN_PCI, NEW + 1), 0x1000) == Status.BAD_DEV


def test_reply_from_a_handler_and_from_a_global_ec() -> None:
    """A local EC's reply answers its caller and ends the handler there; a global EC's
    reply blocks it for good (§4)."""
    m = Machine()
    srv = m.spawn("srv")
    after: list[str] = []

    def handler(f: UtcbFrame) -> None:
        f.clear()
        f.put_word(42)
        backdoor(srv).syscall(word0(Sys.REPLY))
        after.append("handler")

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    got: list[list[int]] = []

    @cli
    def main(ctx: Context) -> None:
        with Portal(ctx.gate, 0x500).frame() as f:
            Portal(ctx.gate, 0x500).call(f)
            got.append(f.words())
        ctx.sys.reply()
        after.append("global")

    r = m.run()
    assert got == [[42]] and after == [] and m.k.faults == []
    assert r.reason == "idle"
    (main_ec,) = [e for e in pd_of(cli).ecs if e.glb]
    assert main_ec.blocked_on is m.k.reply_sm and not main_ec.dead
