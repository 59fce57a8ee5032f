"""What a dead process leaves behind (nothing) and revoke of wide fan-outs (issue 15,
item 5). Correctness only: the timings and byte counts are bench/scale.py's."""

from __future__ import annotations

from greenlet import greenlet  # type: ignore[import-untyped]

from runtime.api import Context, Syscalls
from runtime.crd import ALL, Crd, SmRights
from runtime.kernel import mdb
from runtime.kernel.ec import Ec
from runtime.kernel.kernel import DEATH_LOG
from runtime.kernel.pd import Pd
from runtime.kernel.sc import Sc
from runtime.kernel.sm import Sm
from runtime.machine import Machine, Process, pd_of
from runtime.status import Status, SyscallError
from runtime.utcb import UtcbFrame

from . import invariants


def _objects_of(m: Machine, pd: Pd) -> tuple[list[Ec], list[Sc], list[Sm]]:
    k = m.k
    return (
        [e for e in k.ecs if e.pd is pd],
        [s for s in k.scs if s.ec.pd is pd],
        [s for s in k.sms if s.name.startswith("sm:") and s in _sms_named_by(pd)],
    )


def _sms_named_by(pd: Pd) -> set[Sm]:
    return {n.obj for n in pd.obj.nodes.values() if isinstance(n.obj, Sm)}


def test_a_killed_process_leaves_no_object_code_or_capability() -> None:
    m = Machine(cpus=2)
    srv = m.spawn("srv")
    srv_pt = srv.portal(lambda f: None)
    p = m.spawn("p")
    unwound: list[int] = []
    got: dict[str, int] = {}

    @p
    def main(ctx: Context) -> None:
        sm = ctx.sm()
        got["sm"] = sm.sel
        ctx.local_thread(1).portal(lambda f: None)

        def waiter(c: Context) -> None:
            try:
                sm.down()  # blocks for good: the process is killed while it waits
            finally:
                try:  # code that runs while its greenlet is unwound acts as no EC
                    c.sys.sm_up(sm.sel)
                except SyscallError as e:
                    unwound.append(int(e.status))

        ctx.thread(waiter, cpu=1)

    srv.grant(srv_pt.sel, p, 0x5000)
    m.run()
    k = m.k
    pd = pd_of(p)
    ecs, scs, sms = _objects_of(m, pd)
    assert len(ecs) == 5 and len(scs) == 2 and len(sms) == 1  # 2 startup ECs, one per CPU
    waiter_ec = next(e for e in ecs if e.blocked_on is not None)
    assert waiter_ec in k.waiting and [e.name for e in k.blocked()] == [waiter_ec.name]
    code = list(pd.code)
    assert len(code) == 5 and all(ip in k.code for ip in code)
    pt_node = pd_of(srv).obj.nodes[srv_pt.sel]
    assert len(pt_node.children) == 1
    registry = [n for n in pd_of(m.root).obj.nodes.values() if type(n.obj).__name__ == "Pt"]
    fanout = sum(len(n.children) for n in registry)

    p.kill()
    m.run()  # the hub unwinds the blocked thread's greenlet
    assert pd.dead and pd.ecs == [] and not pd.code and not pd.utcbs
    assert not pd.obj.nodes and not pd.mem.nodes and not pd.pio.nodes
    assert all(e not in k.ecs for e in ecs) and all(e.dead for e in ecs)
    assert all(s not in k.scs for s in scs) and all(s.dead for s in scs)
    assert all(s not in k.sms for s in sms)
    assert all(ip not in k.code for ip in code)
    assert waiter_ec not in k.waiting and k.blocked() == []
    assert [e.glet for e in ecs] == [None] * 5 and k.zombies == []
    assert unwound == [Status.BAD_HYP]
    assert pt_node.children == {}  # the portal it was given: revoked
    # root's portals: the child's own (its registry and SC service portals, one per CPU)
    # are gone with it, and none of root's other portals has a child in p's space
    left = [n for n in pd_of(m.root).obj.nodes.values() if type(n.obj).__name__ == "Pt"]
    assert len(left) < len(registry)
    assert all(c.space is not pd.obj for n in left for c in n.children)
    assert sum(len(n.children) for n in left) < fanout
    assert p not in m.processes and p.sel_in_root not in pd_of(m.root).obj.nodes
    assert all(s.pd is not pd for s in m.shadows.values())  # its boot shadow EC too
    assert pd.env is None
    invariants.check(m)


def test_capabilities_a_killed_process_delegated_are_revoked_everywhere() -> None:
    m = Machine()
    p, q = m.spawn("p"), m.spawn("q")
    with p.acting():
        sel = p.env.alloc()
        Syscalls(m.gate).create_sm(sel, 1)
    p.grant(sel, q, 0x5000, SmRights.UP)
    q.grant(0x5000, m.root, 0x6000, SmRights.UP)  # and on, one level further
    sm = pd_of(p).obj.nodes[sel].obj
    assert isinstance(sm, Sm) and sm.refs == 3
    p.kill()
    assert 0x5000 not in pd_of(q).obj.nodes and 0x6000 not in pd_of(m.root).obj.nodes
    assert sm.refs == 0 and sm not in m.k.sms
    invariants.check(m)


def test_churn_keeps_every_table_at_its_size() -> None:
    m = Machine(cpus=2)

    def body(ctx: Context) -> None:
        ctx.sm()
        ctx.local_thread().portal(lambda f: None)

    def sizes() -> tuple[int, ...]:
        k = m.k
        root = pd_of(m.root)
        return (
            len(k.ecs),
            len(k.scs),
            len(k.sms),
            len(k.code),
            len(k.waiting),
            len(k.graveyard),
            len(m.processes),
            len(root.obj.nodes),
            sum(len(n.children) for n in root.obj.nodes.values()),
        )

    seen = []
    for i in range(60):
        p = m.spawn("churn", body, cpu=i % 2)
        m.run()
        p.kill()
        if i in (9, 59):
            seen.append(sizes())
    assert seen[0] == seen[1]
    assert m.k.n_deaths >= 60


def test_death_log_is_a_ring_and_a_run_reports_its_own_deaths() -> None:
    m = Machine()
    for i in range(DEATH_LOG + 5):
        m.spawn(f"t{i}", lambda ctx: None)
    r1 = m.run()
    assert len(r1.deaths) == DEATH_LOG and m.k.n_deaths == DEATH_LOG + 6  # and root's
    assert len(m.k.deaths) == DEATH_LOG and m.k.deaths[-1] == r1.deaths[-1]
    m.spawn("last", lambda ctx: None)
    r2 = m.run()
    assert r2.deaths == [("last", "exit")]
    assert m.stats()["deaths"] == DEATH_LOG + 7


def test_run_from_another_greenlet_reparents_the_live_ecs() -> None:
    m = Machine()
    s = m.spawn("s")
    sm_sel: list[int] = []
    done: list[int] = []

    @s
    def waiter(ctx: Context) -> None:
        sm = ctx.sm()
        sm_sel.append(sm.sel)
        sm.down()
        done.append(1)

    greenlet(m.run).switch()  # the first run on a greenlet of its own, which ends
    with s.acting():
        Syscalls(m.gate).sm_up(sm_sel[0])
    r = m.run()  # from the main greenlet: the waiter resumes here, not in the dead one
    assert done == [1] and r.blocked == []


def _fanout(m: Machine, n: int) -> tuple[int, list[tuple[Process, int]]]:
    a, b, c = m.spawn("a"), m.spawn("b"), m.spawn("c")
    with a.acting():
        sel = a.env.alloc()
        Syscalls(m.gate).create_sm(sel, 0)
    targets = []
    for i in range(n):  # interleaved over two spaces, mixed rights
        dst = b if i % 2 else c
        rights = ALL if i % 3 else SmRights.UP
        mdb.delegate(pd_of(a).obj, sel, pd_of(dst).obj, 0x10000 + i, 0, rights)
        targets.append((dst, 0x10000 + i))
    return sel, targets


def test_revoke_of_a_wide_fanout_strips_every_child_and_keeps_the_order() -> None:
    m = Machine()
    n = 5000
    sel, targets = _fanout(m, n)
    a = m.processes[1]
    top = pd_of(a).obj.nodes[sel]
    sm = top.obj
    assert isinstance(sm, Sm) and sm.refs == n + 1
    # Strip UP: the UP-only children (every third) vanish, the rest keep DOWN, in order.
    with a.acting():
        Syscalls(m.gate).revoke(Crd.obj(sel, 0, SmRights.UP), self_=False)
    kept = [(d, u) for i, (d, u) in enumerate(targets) if i % 3]
    assert [(c.space.owner, c.unit) for c in top.children] == [(pd_of(d), u) for d, u in kept]
    assert all(c.rights == ALL & ~SmRights.UP for c in top.children)
    assert top.rights == ALL and sm.refs == len(kept) + 1
    for i, (d, u) in enumerate(targets):
        assert (u in pd_of(d).obj.nodes) == bool(i % 3)
    # Then everything, the node itself included.
    with a.acting():
        Syscalls(m.gate).revoke(Crd.obj(sel), self_=True)
    assert sel not in pd_of(a).obj.nodes and sm.refs == 0 and sm not in m.k.sms
    assert all(u not in pd_of(d).obj.nodes for d, u in targets)
    invariants.check(m)


def test_a_child_leaves_a_wide_fanout_and_the_siblings_keep_their_order() -> None:
    m = Machine()
    sel, targets = _fanout(m, 2000)
    a = m.processes[1]
    top = pd_of(a).obj.nodes[sel]
    gone = targets[::7]
    for d, u in gone:  # revoke single children from the middle, by their holders
        with d.acting():
            Syscalls(m.gate).revoke(Crd.obj(u), self_=True)
    left = [t for t in targets if t not in gone]
    assert [(c.space.owner, c.unit) for c in top.children] == [(pd_of(d), u) for d, u in left]
    # A grandchild under a middle child goes with it, and only it.
    d, u = left[500]
    mdb.delegate(pd_of(d).obj, u, pd_of(m.root).obj, 0x9000, 0, ALL)
    with a.acting():
        Syscalls(m.gate).revoke(Crd.obj(sel), self_=False)
    assert top.children == {} and 0x9000 not in pd_of(m.root).obj.nodes
    invariants.check(m)


def test_a_frame_unwound_with_its_greenlet_leaves_the_utcb_alone() -> None:
    m = Machine()
    p = m.spawn("p")
    entered: list[int] = []

    @p
    def main(ctx: Context) -> None:
        sm = ctx.sm()
        with UtcbFrame(ctx.utcb.utcb) as f:
            f.put_word(7)
            entered.append(1)
            sm.down()

    m.run()
    ec = next(e for e in m.k.ecs if e.pd is pd_of(p) and e.glb)
    p.kill()
    m.run()
    assert entered == [1] and ec.glet is None and ec.utcb.layer == 0
