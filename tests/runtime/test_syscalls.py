"""Status codes of every system call for the cases of NOVA-NRE.md §1 (table driven).

Each case sets up a PD `p` (a child of root) holding:
  0x20 its own PD cap (all rights), 0x100 a local EC on CPU 0, 0x101 a global EC on CPU 0,
  0x102 a portal to the local EC, 0x103 a semaphore (count 1), 0x104 an SC,
  0x111.. the same objects with reduced rights (see `_setup`), 0x200 GSI semaphore 3,
  0x121.. its PD cap without one create right (`_pd_without`).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.crd import ALL, CrdType, EcRights, PdRights, ScRights, SmRights, crd
from runtime.kernel import backdoor, mdb
from runtime.kernel.pt import Pt
from runtime.kernel.syscalls import FLAG0, FLAG1, Sys, qpd, word0
from runtime.machine import Machine, Process, pd_of
from runtime.status import Status

from .conftest import out_as, snapshot, sys_as

UTCB = 0x20000000
PD, LEC, GEC, PT, SM, SC = 0x20, 0x100, 0x101, 0x102, 0x103, 0x104
EC_NO = 0x111  # local EC cap without PT right
GEC_NO = 0x112  # global EC cap without SC or CTRL right
SM_UP_ONLY = 0x113
SM_DN_ONLY = 0x114
SC_NO = 0x115
GSI = 0x200
FREE = 0x300


def _setup(m: Machine) -> Process:
    p = m.spawn("p", pd_rights=ALL)  # the kernel's own checks: every right
    ok = [
        sys_as(p, word0(Sys.CREATE_EC, LEC), PD, UTCB | 0),
        sys_as(p, word0(Sys.CREATE_EC, GEC, FLAG0), PD, (UTCB + 0x1000) | 0),
        sys_as(p, word0(Sys.CREATE_PT, PT), PD, LEC, 0, 0x1234),
        sys_as(p, word0(Sys.CREATE_SM, SM), PD, 1),
        sys_as(p, word0(Sys.CREATE_SC, SC), PD, GEC, qpd(1, 1000)),
    ]
    assert ok == [Status.SUCCESS] * 5
    space = pd_of(p).obj
    mdb.delegate(space, LEC, space, EC_NO, 0, ALL & ~EcRights.PT)
    mdb.delegate(space, GEC, space, GEC_NO, 0, ALL & ~(EcRights.SC | EcRights.CTRL))
    mdb.delegate(space, SM, space, SM_UP_ONLY, 0, SmRights.UP)
    mdb.delegate(space, SM, space, SM_DN_ONLY, 0, SmRights.DOWN)
    mdb.delegate(space, SC, space, SC_NO, 0, ALL & ~ScRights.CTRL)
    mdb.delegate(m.k.kernel_pd.obj, 64 + 3, space, GSI, 0, ALL)
    return p


def _pd_without(p: Process, right: int) -> int:
    sel = 0x120 + right.bit_length()
    mdb.delegate(pd_of(p).obj, PD, pd_of(p).obj, sel, 0, ALL & ~right)
    return sel


Case = tuple[str, Callable[[Process], tuple[int, int, int, int, int]], Status]

CASES: list[Case] = [
    # call
    ("call empty selector", lambda p: (word0(Sys.CALL, FREE), 0, 0, 0, 0), Status.BAD_CAP),
    ("call a semaphore", lambda p: (word0(Sys.CALL, SM), 0, 0, 0, 0), Status.BAD_CAP),
    ("call an EC", lambda p: (word0(Sys.CALL, LEC), 0, 0, 0, 0), Status.BAD_CAP),
    # create_pd
    ("create_pd ok", lambda p: (word0(Sys.CREATE_PD, FREE), PD, 0, 0, 0), Status.SUCCESS),
    ("create_pd no PD cap", lambda p: (word0(Sys.CREATE_PD, FREE), SM, 0, 0, 0), Status.BAD_CAP),
    (
        "create_pd without right",
        lambda p: (word0(Sys.CREATE_PD, FREE), _pd_without(p, PdRights.CREATE_PD), 0, 0, 0),
        Status.BAD_CAP,
    ),
    ("create_pd occupied", lambda p: (word0(Sys.CREATE_PD, SM), PD, 0, 0, 0), Status.BAD_CAP),
    # create_ec
    (
        "create_ec ok",
        lambda p: (word0(Sys.CREATE_EC, FREE), PD, 0x30000000 | 1, 0, 0),
        Status.SUCCESS,
    ),
    (
        "create_ec no PD",
        lambda p: (word0(Sys.CREATE_EC, FREE), LEC, 0x30000000, 0, 0),
        Status.BAD_CAP,
    ),
    (
        "create_ec without right",
        lambda p: (
            word0(Sys.CREATE_EC, FREE),
            _pd_without(p, PdRights.CREATE_EC),
            0x30000000,
            0,
            0,
        ),
        Status.BAD_CAP,
    ),
    (
        "create_ec bad cpu",
        lambda p: (word0(Sys.CREATE_EC, FREE), PD, 0x30000000 | 2, 0, 0),
        Status.BAD_CPU,
    ),
    ("create_ec vcpu", lambda p: (word0(Sys.CREATE_EC, FREE), PD, 0, 0, 0), Status.BAD_FTR),
    ("create_ec utcb used", lambda p: (word0(Sys.CREATE_EC, FREE), PD, UTCB, 0, 0), Status.BAD_PAR),
    (
        "create_ec utcb kernel",
        lambda p: (word0(Sys.CREATE_EC, FREE), PD, backdoor(p).arch.user_addr, 0, 0),
        Status.BAD_PAR,
    ),
    (
        "create_ec occupied",
        lambda p: (word0(Sys.CREATE_EC, SM), PD, 0x30000000, 0, 0),
        Status.BAD_CAP,
    ),
    # create_sc
    (
        "create_sc ok",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, GEC, qpd(5, 100), 0),
        Status.SUCCESS,
    ),
    (
        "create_sc local EC",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, LEC, qpd(5, 100), 0),
        Status.BAD_CAP,
    ),
    (
        "create_sc EC w/o right",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, GEC_NO, qpd(5, 100), 0),
        Status.BAD_CAP,
    ),
    (
        "create_sc PD w/o right",
        lambda p: (
            word0(Sys.CREATE_SC, FREE),
            _pd_without(p, PdRights.CREATE_SC),
            GEC,
            qpd(5, 100),
            0,
        ),
        Status.BAD_CAP,
    ),
    (
        "create_sc prio 0",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, GEC, qpd(0, 100), 0),
        Status.BAD_PAR,
    ),
    (
        "create_sc quantum 0",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, GEC, qpd(5, 0), 0),
        Status.BAD_PAR,
    ),
    (
        "create_sc prio 128",
        lambda p: (word0(Sys.CREATE_SC, FREE), PD, GEC, qpd(128, 10), 0),
        Status.BAD_PAR,
    ),
    (
        "create_sc occupied",
        lambda p: (word0(Sys.CREATE_SC, SM), PD, GEC, qpd(5, 100), 0),
        Status.BAD_CAP,
    ),
    # create_pt
    ("create_pt ok", lambda p: (word0(Sys.CREATE_PT, FREE), PD, LEC, 0, 0x99), Status.SUCCESS),
    (
        "create_pt global EC",
        lambda p: (word0(Sys.CREATE_PT, FREE), PD, GEC, 0, 0x99),
        Status.BAD_CAP,
    ),
    (
        "create_pt EC w/o right",
        lambda p: (word0(Sys.CREATE_PT, FREE), PD, EC_NO, 0, 0x99),
        Status.BAD_CAP,
    ),
    (
        "create_pt PD w/o right",
        lambda p: (word0(Sys.CREATE_PT, FREE), _pd_without(p, PdRights.CREATE_PT), LEC, 0, 0),
        Status.BAD_CAP,
    ),
    ("create_pt occupied", lambda p: (word0(Sys.CREATE_PT, PT), PD, LEC, 0, 0x99), Status.BAD_CAP),
    # create_sm
    ("create_sm ok", lambda p: (word0(Sys.CREATE_SM, FREE), PD, 7, 0, 0), Status.SUCCESS),
    (
        "create_sm PD w/o right",
        lambda p: (word0(Sys.CREATE_SM, FREE), _pd_without(p, PdRights.CREATE_SM), 7, 0, 0),
        Status.BAD_CAP,
    ),
    ("create_sm no PD", lambda p: (word0(Sys.CREATE_SM, FREE), SM, 7, 0, 0), Status.BAD_CAP),
    # revoke and lookup always succeed
    (
        "revoke nothing",
        lambda p: (word0(Sys.REVOKE), crd(CrdType.OBJ, FREE), 0, 0, 0),
        Status.SUCCESS,
    ),
    ("revoke null crd", lambda p: (word0(Sys.REVOKE, 0, FLAG0), 0, 0, 0, 0), Status.SUCCESS),
    ("lookup nothing", lambda p: (word0(Sys.LOOKUP), crd(CrdType.MEM, 5), 0, 0, 0), Status.SUCCESS),
    # ec_ctrl
    ("ec_ctrl ok", lambda p: (word0(Sys.EC_CTRL, GEC), 0, 0, 0, 0), Status.SUCCESS),
    ("ec_ctrl not an EC", lambda p: (word0(Sys.EC_CTRL, SM), 0, 0, 0, 0), Status.BAD_CAP),
    ("ec_ctrl w/o right", lambda p: (word0(Sys.EC_CTRL, GEC_NO), 0, 0, 0, 0), Status.BAD_CAP),
    # sc_ctrl
    ("sc_ctrl ok", lambda p: (word0(Sys.SC_CTRL, SC), 0, 0, 0, 0), Status.SUCCESS),
    ("sc_ctrl not an SC", lambda p: (word0(Sys.SC_CTRL, GEC), 0, 0, 0, 0), Status.BAD_CAP),
    ("sc_ctrl w/o right", lambda p: (word0(Sys.SC_CTRL, SC_NO), 0, 0, 0, 0), Status.BAD_CAP),
    # sm_ctrl
    ("sm up", lambda p: (word0(Sys.SM_CTRL, SM), 0, 0, 0, 0), Status.SUCCESS),
    ("sm down (count 1)", lambda p: (word0(Sys.SM_CTRL, SM, FLAG0), 0, 0, 0, 0), Status.SUCCESS),
    (
        "sm zero (count 1)",
        lambda p: (word0(Sys.SM_CTRL, SM, FLAG0 | FLAG1), 0, 0, 0, 0),
        Status.SUCCESS,
    ),
    ("sm up w/o UP", lambda p: (word0(Sys.SM_CTRL, SM_DN_ONLY), 0, 0, 0, 0), Status.BAD_CAP),
    (
        "sm down w/o DN",
        lambda p: (word0(Sys.SM_CTRL, SM_UP_ONLY, FLAG0), 0, 0, 0, 0),
        Status.BAD_CAP,
    ),
    ("sm_ctrl not an SM", lambda p: (word0(Sys.SM_CTRL, PT), 0, 0, 0, 0), Status.BAD_CAP),
    # assign_pci / assign_gsi
    (
        "assign_pci no device",
        lambda p: (word0(Sys.ASSIGN_PCI, PD), 0x1000, 0, 0, 0),
        Status.BAD_DEV,
    ),
    ("assign_pci not a PD", lambda p: (word0(Sys.ASSIGN_PCI, SM), 0x1000, 0, 0, 0), Status.BAD_CAP),
    ("assign_gsi ok", lambda p: (word0(Sys.ASSIGN_GSI, GSI), 0, 1, 0, 0), Status.SUCCESS),
    ("assign_gsi plain SM", lambda p: (word0(Sys.ASSIGN_GSI, SM), 0, 0, 0, 0), Status.BAD_CAP),
    ("assign_gsi bad cpu", lambda p: (word0(Sys.ASSIGN_GSI, GSI), 0, 9, 0, 0), Status.BAD_CPU),
    # empty slots of the table
    ("syscall 14", lambda p: (14, 0, 0, 0, 0), Status.BAD_HYP),
    ("syscall 15", lambda p: (15 | 0xFF00, 1, 2, 3, 4), Status.BAD_HYP),
]


@pytest.mark.parametrize(("name", "args", "want"), CASES, ids=[c[0] for c in CASES])
def test_status(
    name: str, args: Callable[[Process], tuple[int, int, int, int, int]], want: Status
) -> None:
    m = Machine(cpus=2)
    p = _setup(m)
    a = args(p)
    before = snapshot(m.k, m)
    got = sys_as(p, *a)
    assert got == want, name
    if want != Status.SUCCESS:
        assert snapshot(m.k, m) == before, "a failing call changed state"
    assert m.k.faults == []


def test_created_objects_land_in_callers_space() -> None:
    m = Machine()
    p = _setup(m)
    assert sys_as(p, word0(Sys.CREATE_SM, FREE), PD, 3) == Status.SUCCESS
    node = pd_of(p).obj.nodes[FREE]
    assert node.rights == ALL and node.parent is None
    assert FREE not in pd_of(m.root).obj.nodes


def test_portal_id_is_creation_selector() -> None:
    m = Machine()
    p = _setup(m)
    pt = pd_of(p).obj.nodes[PT].obj
    assert isinstance(pt, Pt) and pt.id == PT and pt.ip == 0x1234


def test_create_pd_delegates_caps_to_selector_zero() -> None:
    m = Machine()
    p = _setup(m)
    # Delegate the 4 selectors 0x100..0x103 (order 2): they land at 0..3 in the new PD.
    st = sys_as(p, word0(Sys.CREATE_PD, FREE), PD, crd(CrdType.OBJ, 0x100, 2, SmRights.UP))
    assert st == Status.SUCCESS
    child = pd_of(p).obj.nodes[FREE].obj
    nodes = child.obj.nodes  # type: ignore[attr-defined]
    assert sorted(nodes) == [0, 1, 2, 3]
    assert all(n.rights == SmRights.UP for n in nodes.values())
    assert nodes[3].parent is pd_of(p).obj.nodes[SM]


def test_lookup_reports_type_base_rights() -> None:
    m = Machine()
    p = _setup(m)
    st, out, _ = out_as(p, word0(Sys.LOOKUP), crd(CrdType.OBJ, SM_UP_ONLY))
    assert st == Status.SUCCESS and out == crd(CrdType.OBJ, SM_UP_ONLY, 0, SmRights.UP)
    st, out, _ = out_as(p, word0(Sys.LOOKUP), crd(CrdType.OBJ, FREE))
    assert (st, out) == (Status.SUCCESS, 0)


def test_sc_ctrl_reports_consumed_time() -> None:
    m = Machine()
    p = m.spawn("p", pd_rights=ALL)  # the kernel's own checks: every right
    seen: list[int] = []

    def body(ctx: object) -> None:
        from runtime.api import Context

        assert isinstance(ctx, Context)
        ctx.work(1234)
        seen.append(ctx.sys.sc_ctrl(t.sc_sel))

    t = p.thread(body)
    m.run()
    assert seen and seen[0] >= 1234


def test_sm_zero_sets_count_to_zero() -> None:
    m = Machine()
    p = _setup(m)
    for _ in range(4):
        assert sys_as(p, word0(Sys.SM_CTRL, SM)) == Status.SUCCESS
    sm = pd_of(p).obj.nodes[SM].obj
    assert sm.count == 5  # type: ignore[attr-defined]
    assert sys_as(p, word0(Sys.SM_CTRL, SM, FLAG0 | FLAG1)) == Status.SUCCESS
    assert sm.count == 0  # type: ignore[attr-defined]


def test_internal_error_becomes_status_and_fault(monkeypatch: pytest.MonkeyPatch) -> None:
    m = Machine()
    p = _setup(m)

    def broken(*args: object) -> int:
        raise ZeroDivisionError("bug")

    table = list(m.k.table)
    table[Sys.CREATE_SM] = broken
    monkeypatch.setattr(m.k, "table", tuple(table))
    assert sys_as(p, word0(Sys.CREATE_SM, FREE), PD, 1) == Status.BAD_PAR
    assert len(m.k.faults) == 1 and "ZeroDivisionError" in m.k.faults[0]
    # The kernel keeps working afterwards.
    monkeypatch.undo()
    assert sys_as(p, word0(Sys.CREATE_SM, FREE), PD, 1) == Status.SUCCESS
