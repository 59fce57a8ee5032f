"""Corner cases: global callees, FROM_HV, raw reply, PD destruction, cross-CPU wakeups,
and that the invariant checker itself catches corruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.api import Context, Pt, Syscalls
from runtime.crd import ALL, FROM_HV, CrdType, crd
from runtime.kernel import mdb
from runtime.kernel.pt import Pt as PtObj
from runtime.kernel.sm import Sm
from runtime.kernel.syscalls import Sys, word0
from runtime.machine import Machine, ec_of, pd_of
from runtime.status import Status, SyscallError
from runtime.utcb import UtcbFrame

from . import invariants


def test_portal_to_a_global_ec_is_bad_cpu() -> None:
    m = Machine()
    p = m.spawn("p")
    t = p.thread(lambda ctx: None)
    # create_pt refuses global ECs, so build such a portal behind the kernel's back.
    bogus = PtObj(m.k.graveyard, ec_of(p, t.ec_sel), 0, 0, 0x700)
    mdb.insert_root(pd_of(p).obj, 0x700, bogus, ALL)
    seen: list[int] = []

    @p
    def main(ctx: Context) -> None:
        seen.append(ctx.gate.syscall(word0(Sys.CALL, 0x700))[0])

    m.run()
    assert seen == [Status.BAD_CPU]


def test_root_fetches_gsi_semaphore_from_the_kernel() -> None:
    """FROM_HV: only root's delegations may name the kernel PD's capabilities (§3, §6)."""
    m = Machine()
    root = m.root

    def hv(f: UtcbFrame) -> None:
        gsi = f.get_word()
        f.finish_input()
        f.delegate(crd(CrdType.OBJ, 64 + gsi), flags=FROM_HV)

    pt = root.portal(hv)
    evil = m.spawn("evil")
    got: dict[str, int] = {}

    def fetch(name: str, portal: int) -> object:
        def body(ctx: Context) -> None:
            win = ctx.env.alloc()
            with ctx.frame() as f:
                f.delegation_window(crd(CrdType.OBJ, win))
                f.put_word(9)
                Pt(ctx.gate, portal).call(f)
                got[name] = f.get_item()[0]
            got[name + "_sel"] = win

        return body

    root.thread(fetch("root", pt.sel))  # type: ignore[arg-type]

    def evil_hv(f: UtcbFrame) -> None:  # a non-root PD trying the same trick
        f.get_word()
        f.finish_input()
        f.delegate(crd(CrdType.OBJ, 64 + 9), flags=FROM_HV)

    ept = evil.portal(evil_hv)
    evil.thread(fetch("evil", ept.sel))  # type: ignore[arg-type]
    m.run()
    node = pd_of(root).obj.nodes[got["root_sel"]]
    assert isinstance(node.obj, Sm) and node.obj.gsi == 9
    assert got["evil_sel"] not in pd_of(evil).obj.nodes  # its own selector 64+9 is empty


def test_handler_that_replies_itself_starts_afresh_next_time() -> None:
    m = Machine()
    srv = m.spawn("srv")
    runs: list[str] = []

    def handler(f: UtcbFrame) -> None:
        runs.append("in")
        f.clear()
        f.put_word(len(runs))
        m.k.syscall(word0(Sys.REPLY))
        runs.append("after reply")  # never reached

    pt = srv.portal(handler)
    got: list[int] = []

    @srv
    def main(ctx: Context) -> None:
        for _ in range(2):
            with ctx.frame() as f:
                Pt(ctx.gate, pt.sel).call(f)
                got.append(f.get_word())

    m.run()
    assert got == [1, 2] and runs == ["in", "in"]


def test_killing_a_pd_removes_its_blocked_ecs_from_queues() -> None:
    m = Machine()
    owner = m.spawn("owner")
    victim = m.spawn("victim")
    sem: list[int] = []

    @owner
    def setup(ctx: Context) -> None:
        sm = ctx.sm(0)
        sem.append(sm.sel)
        owner.grant(sm.sel, victim, 0x300)
        ctx.yield_()

    def waiter(ctx: Context) -> None:
        ctx.sys.sm_down(0x300)

    victim.thread(waiter)
    victim.thread(waiter)
    r = m.run()
    sm = pd_of(owner).obj.nodes[sem[0]].obj
    assert isinstance(sm, Sm) and len(sm.queue) == 2 and len(r.blocked) == 2
    victim.kill()
    invariants.check(m)
    assert len(sm.queue) == 0 and pd_of(victim).dead
    assert 0x300 not in pd_of(victim).obj.nodes
    assert m.run().blocked == []


def test_wakeup_from_another_cpu_preempts_lower_priority() -> None:
    m = Machine(cpus=2, seed=3)
    p = m.spawn("p")
    log: list[str] = []
    gate: list[int] = []

    def setup(ctx: Context) -> None:
        gate.append(ctx.sm(0).sel)
        ctx.thread(high, cpu=0, prio=50)
        ctx.thread(low, cpu=0, prio=5)
        ctx.thread(waker, cpu=1, prio=5)

    def high(ctx: Context) -> None:
        ctx.sys.sm_down(gate[0])
        log.append("high")

    def low(ctx: Context) -> None:
        for i in range(200):
            ctx.work(1)
            if log and log[-1] == "high":
                log.append(f"low {i}")
                return
        log.append("low never preempted")

    def waker(ctx: Context) -> None:
        ctx.work(20)
        ctx.sys.sm_up(gate[0])

    p.thread(setup, cpu=0, prio=60)
    m.run()
    assert log[0] == "high" and log[1].startswith("low ")


def test_invariant_checker_catches_corruption() -> None:
    m = Machine()
    p = m.spawn("p")
    with p.acting():
        Syscalls(m.gate).create_sm(0x100, 1)
    mdb.delegate(pd_of(p).obj, 0x100, pd_of(p).obj, 0x101, 0, 1)
    invariants.check(m)
    pd_of(p).obj.nodes[0x101].rights = ALL  # a child with more rights than its parent
    pd_of(p).obj.nodes[0x100].rights = 1
    with pytest.raises(AssertionError):
        invariants.check(m)
    pd_of(p).obj.nodes[0x100].rights = ALL
    sm = pd_of(p).obj.nodes[0x100].obj
    assert isinstance(sm, Sm)
    sm.queue.append(next(iter(m.k.ecs)))  # an EC queued without being blocked
    with pytest.raises(AssertionError):
        invariants.check(m)


def test_syscalls_layer_raises_on_status() -> None:
    m = Machine()
    p = m.spawn("p")
    with p.acting(), pytest.raises(SyscallError) as e:
        Syscalls(m.gate).sm_up(0x999)
    assert e.value.status == Status.BAD_CAP


def test_trace_exports_chrome_json(tmp_path: Path) -> None:
    m = Machine(trace=True)
    m.spawn("p", lambda ctx: ctx.sm(1).down())
    m.run()
    out = tmp_path / "trace.json"
    m.trace.save(str(out))
    data = json.loads(out.read_text())
    names = {e["name"] for e in data["traceEvents"]}
    assert {"run", "sys6", "sys11", "die"} <= names


def test_kill_from_a_root_thread_during_the_run() -> None:
    from runtime.session import ClientSession, Service

    m = Machine()
    svc = Service(m.spawn("srv"), "s", lambda sess: (lambda f: None))
    cli = m.spawn("cli")
    opened: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        ClientSession(ctx, "s")
        opened.append(1)

    def killer(ctx: Context) -> None:
        while not opened:
            ctx.yield_()
        cli.kill()

    m.root.thread(killer)
    r = m.run()
    assert opened == [1] and svc.sessions == {} and pd_of(cli).dead
    assert r.blocked == []


def test_blocking_calls_outside_run_answer_bad_hyp() -> None:
    m = Machine()
    srv = m.spawn("srv")
    pt = srv.portal(lambda f: None)
    with srv.acting():
        assert m.k.syscall(word0(Sys.CALL, pt.sel))[0] == Status.BAD_HYP
        Syscalls(m.gate).create_sm(0x100, 0)
        assert m.k.syscall(word0(Sys.SM_CTRL, 0x100, 0x10))[0] == Status.BAD_HYP
    assert m.k.faults == []
