"""Kernel-wide invariants checked by the property tests."""

from __future__ import annotations

from collections import Counter

from runtime.kernel.kernel import Kernel
from runtime.kernel.kobject import Kobject
from runtime.kernel.mdb import Node
from runtime.machine import Machine, pd_of


def all_spaces(m: Machine) -> list[object]:
    k = m.k
    pds = [k.kernel_pd] + [pd_of(p) for p in m.processes] + list(extra_pds(m))
    return [sp for pd in pds for sp in (pd.obj, pd.mem, pd.pio)]


def extra_pds(m: Machine) -> list[object]:
    """PDs made by random create_pd calls (reachable through some capability)."""
    from runtime.kernel.pd import Pd

    seen = {id(pd_of(p)) for p in m.processes} | {id(m.k.kernel_pd)}
    out: list[Pd] = []
    todo = [pd_of(p) for p in m.processes]
    while todo:
        pd = todo.pop()
        for n in pd.obj.nodes.values():
            if isinstance(n.obj, Pd) and id(n.obj) not in seen:
                seen.add(id(n.obj))
                out.append(n.obj)
                todo.append(n.obj)
    return out


def check(m: Machine, creators: dict[int, tuple[object, int]] | None = None) -> None:
    k: Kernel = m.k
    refs: Counter[int] = Counter()
    objs: dict[int, Kobject] = {}
    roots: Counter[int] = Counter()
    for sp in all_spaces(m):
        for unit, n in sp.nodes.items():  # type: ignore[attr-defined]
            assert isinstance(n, Node)
            assert n.unit == unit and n.space is sp
            assert n.rights != 0, "a capability without rights must vanish"
            assert n.rights & ~0x1F == 0
            p = n.parent
            if p is None:
                roots[id(n.obj)] += 1
                if creators is not None and id(n.obj) in creators:
                    # A root capability sits where its creator made it, nowhere else.
                    assert creators[id(n.obj)] == (sp.owner, unit)  # type: ignore[attr-defined]
            else:
                assert p.space.nodes.get(p.unit) is p, "parent vanished under a child"
                assert n in p.children
                assert n.rights & ~p.rights == 0, "a child has more rights than its parent"
                assert n.obj is p.obj
            for c in n.children:
                assert c.parent is n
            if isinstance(n.obj, Kobject):
                refs[id(n.obj)] += 1
                objs[id(n.obj)] = n.obj
    for oid, obj in objs.items():
        assert obj.refs == refs[oid], f"{obj!r}: refs {obj.refs} != {refs[oid]}"
        assert roots[oid] <= 1, "an object has two roots"
    # Semaphores and blocked ECs.
    queued: Counter[int] = Counter()
    for sm in k.sms:
        assert sm.count >= 0
        if sm.queue:
            assert sm.count == 0, "waiters while the counter is positive"
        for ec in sm.queue:
            assert ec.blocked_on is sm and not ec.dead
            queued[id(ec)] += 1
    for ec in k.ecs:
        if ec.blocked_on is not None:
            assert queued[id(ec)] == 1, "a blocked EC must be in exactly one queue"
        else:
            assert queued[id(ec)] == 0
        if ec.partner is not None:
            assert ec.partner.rcap is ec
    # Every SC is in exactly one place: running, queued, or blocked on one EC.
    where: Counter[int] = Counter()
    for cpu in k.cpus:
        if cpu.current is not None:
            where[id(cpu.current)] += 1
        for q in cpu.queues:
            for sc in q:
                where[id(sc)] += 1
    for ec in k.ecs:
        for sc in ec.blocked_scs:
            where[id(sc)] += 1
    for sc in k.scs:
        if sc.dead or sc.ec.dead:
            assert where[id(sc)] <= 1
        else:
            assert where[id(sc)] == 1, f"{sc!r} is in {where[id(sc)]} places"
    for cpu in k.cpus:
        n = sum(len(q) for q in cpu.queues)
        assert n == cpu.ready_count
        for q in cpu.queues:
            for sc in q:
                assert sc.queued and sc.cpu == cpu.id
    # The tables hold what lives: a dead EC no capability names, an SC without
    # capabilities and an unnamed semaphore nobody waits on are gone (after a run, which
    # ends with a collect); blocked() is the scan of every EC it replaces.
    if not k.graveyard:
        for ec in k.ecs:
            assert not (ec.dead and ec.refs == 0), f"{ec!r} destroyed but still listed"
        for sc in k.scs:
            assert sc.refs > 0, f"{sc!r} destroyed but still listed"
        for sm in k.sms:
            assert sm.refs > 0 or sm.queue, f"{sm!r} destroyed but still listed"
    scan = {
        id(e) for e in k.ecs if not e.dead and (e.blocked_on is not None or e.partner is not None)
    }
    assert {id(e) for e in k.blocked()} == scan
    assert set(k.waiting) == {e for e in k.ecs if e.blocked_on is not None}
    assert k.faults == [], k.faults
