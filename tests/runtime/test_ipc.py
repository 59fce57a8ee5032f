"""Portal calls: donation, reply, helping, livelock, death (NOVA-NRE.md §4, §6)."""

from __future__ import annotations

import pytest

from runtime.api import Context, Pt
from runtime.machine import Machine
from runtime.status import Status, SyscallError
from runtime.utcb import UtcbFrame


def _echo_plus_one(f: UtcbFrame) -> None:
    words = [f.get_word() + 1 for _ in range(f.left)]
    f.finish_input()
    f.put_words(words)
    f.put_word(f.pid)


def test_call_reply_copies_words_and_reports_portal_id() -> None:
    m = Machine()
    srv = m.spawn("srv")
    pt = srv.portal(_echo_plus_one)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x777)  # the client's name differs from the creation selector
    got: list[list[int]] = []

    @cli
    def main(ctx: Context) -> None:
        p = Pt(ctx.k, 0x777)
        with p.frame() as f:
            f.put_words([1, 2, 3])
            p.call(f)
            got.append(f.words())

    r = m.run()
    assert got == [[2, 3, 4, pt.sel]]
    assert r.reason == "idle" and r.blocked == []
    assert m.stats()["ipc_per_portal"][f"srv:{pt.sel:#x}"] == 1


def test_no_capability_no_call() -> None:
    m = Machine()
    srv = m.spawn("srv")
    pt = srv.portal(_echo_plus_one)
    cli = m.spawn("cli")
    seen: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        with pytest.raises(SyscallError) as e:
            Pt(ctx.k, pt.sel).call()  # the selector means nothing in this PD
        seen.append(e.value.status)

    m.run()
    assert seen == [Status.BAD_CAP]


def test_cross_cpu_call_is_bad_cpu() -> None:
    m = Machine(cpus=2)
    srv = m.spawn("srv")
    pt = srv.portal(_echo_plus_one, cpu=1)
    cli = m.spawn("cli", cpu=0)
    srv.grant(pt.sel, cli, 0x500)
    seen: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        with pytest.raises(SyscallError) as e:
            Pt(ctx.k, 0x500).call()
        seen.append(e.value.status)

    m.run()
    assert seen == [Status.BAD_CPU]


def _blocking_server(m: Machine) -> tuple[Pt, list[str]]:
    """A server whose handler waits on a semaphore that a third thread ups later."""
    srv = m.spawn("srv")
    log: list[str] = []
    gate: list[int] = []

    def handler(f: UtcbFrame) -> None:
        who = f.get_word()
        log.append(f"start {who}")
        from runtime.api import Syscalls

        Syscalls(m.k).sm_down(gate[0])
        log.append(f"end {who}")
        f.finish_input()
        f.put_word(who * 10)

    pt = srv.portal(handler)

    @srv
    def opener(ctx: Context) -> None:
        sm = ctx.sm(0)
        gate.append(sm.sel)
        for _ in range(5):
            ctx.yield_()
        log.append("up")
        sm.up()
        ctx.yield_()
        log.append("up")
        sm.up()

    return pt, log


def test_nonblocking_call_to_busy_ec_is_com_tim_and_blocking_call_helps() -> None:
    m = Machine()
    pt, log = _blocking_server(m)
    cli = m.spawn("cli")
    m.processes[1].grant(pt.sel, cli, 0x500)
    results: dict[str, object] = {}

    def caller(name: str, who: int, nonblocking: bool) -> None:
        def body(ctx: Context) -> None:
            p = Pt(ctx.k, 0x500)
            with p.frame() as f:
                f.put_word(who)
                try:
                    p.call(f, nonblocking=nonblocking)
                    results[name] = f.get_word()
                except SyscallError as e:
                    results[name] = e.status

        cli.thread(body, name=name)

    caller("a", 1, False)
    caller("b", 2, True)
    caller("c", 3, False)
    r = m.run()
    assert results == {"a": 10, "b": Status.COM_TIM, "c": 30}
    assert log.index("end 1") < log.index("start 3")  # c waited (helping), then was served
    assert m.k.stats["helps"] >= 1 and r.blocked == []


def test_handler_death_aborts_caller_and_dead_callee_times_out() -> None:
    m = Machine()
    srv = m.spawn("srv")

    def handler(f: UtcbFrame) -> None:
        raise RuntimeError("server bug")

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    seen: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        for _ in range(2):
            try:
                Pt(ctx.k, 0x500).call()
            except SyscallError as e:
                seen.append(e.status)

    r = m.run(check=False)
    assert seen == [Status.COM_ABT, Status.COM_TIM]
    assert any(reason.startswith("EXC RuntimeError") for _, reason in r.deaths)
    assert len(m.k.ec_faults) == 1


def test_handler_calling_its_own_portal_is_a_livelock() -> None:
    m = Machine()
    srv = m.spawn("srv")
    sel: list[int] = []

    def handler(f: UtcbFrame) -> None:
        Pt(m.k, sel[0]).call()  # our own EC is busy: helping ourselves never ends

    pt = srv.portal(handler)
    sel.append(pt.sel)
    seen: list[int] = []

    @srv
    def main(ctx: Context) -> None:
        try:
            Pt(ctx.k, pt.sel).call()
        except SyscallError as e:
            seen.append(e.status)

    r = m.run()
    assert seen == [Status.COM_ABT]
    assert ("ec@srv:0x1000", "Livelock") in r.deaths or any(
        reason == "Livelock" for _, reason in r.deaths
    )
    assert m.k.stats["helps"] == 99  # NOVA's bound: the 100th attempt dies


def test_mutual_recursion_between_two_servers_is_a_livelock() -> None:
    m = Machine()
    a, b = m.spawn("a"), m.spawn("b")
    sels: dict[str, int] = {}

    def ha(f: UtcbFrame) -> None:
        Pt(m.k, sels["b_in_a"]).call()

    def hb(f: UtcbFrame) -> None:
        Pt(m.k, sels["a_in_b"]).call()

    pa, pb = a.portal(ha), b.portal(hb)
    a.grant(pa.sel, b, 0x600)
    b.grant(pb.sel, a, 0x601)
    sels.update(b_in_a=0x601, a_in_b=0x600)
    seen: list[int] = []

    @a
    def main(ctx: Context) -> None:
        try:
            Pt(ctx.k, pa.sel).call()
        except SyscallError as e:
            seen.append(e.status)

    r = m.run(check=False)
    assert seen == [Status.COM_ABT]
    # b's handler dies of the livelock; a's handler then sees COM_ABT and, not catching
    # it, dies too, so main is aborted as well.
    reasons = [reason for _, reason in r.deaths]
    assert reasons.count("Livelock") == 1 and "EXC SyscallError" in reasons


def test_nested_call_inside_handler_keeps_the_request() -> None:
    m = Machine()
    inner = m.spawn("inner")
    pin = inner.portal(_echo_plus_one)
    outer = m.spawn("outer")
    inner.grant(pin.sel, outer, 0x600)

    def handler(f: UtcbFrame) -> None:
        first = f.get_word()
        p = Pt(m.k, 0x600)
        with p.frame() as g:
            g.put_words([100, 200])
            p.call(g)
            sub = g.words()
        rest = [f.get_word() for _ in range(f.left)]  # the request is intact
        f.finish_input()
        f.put_words([first, *rest, *sub])

    pout = outer.portal(handler)
    cli = m.spawn("cli")
    outer.grant(pout.sel, cli, 0x500)
    got: list[list[int]] = []

    @cli
    def main(ctx: Context) -> None:
        p = Pt(ctx.k, 0x500)
        with p.frame() as f:
            f.put_words([1, 2, 3])
            p.call(f)
            got.append(f.words())

    m.run()
    assert got == [[1, 2, 3, 101, 201, pin.sel]]


def test_reply_never_overwrites_callers_saved_frames() -> None:
    m = Machine()
    srv = m.spawn("srv")

    def big(f: UtcbFrame) -> None:
        f.clear()
        f.put_words([0xAB] * f.free_untyped)  # as much as the server's frame holds

    pt = srv.portal(big)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    got: list[object] = []

    @cli
    def main(ctx: Context) -> None:
        p = Pt(ctx.k, 0x500)
        with ctx.frame() as outer:
            outer.put_words([1, 2, 3, 4])
            with p.frame() as f:
                p.call(f)
                got.append(f.untyped)
                got.append(f.free_untyped)
            got.append(outer.words())

    m.run()
    assert got[0] < 253 and got[1] == 0  # truncated to the inner frame's capacity
    assert got[2] == [1, 2, 3, 4]


def test_semaphore_fifo_wakeup() -> None:
    m = Machine()
    p = m.spawn("p")
    order: list[str] = []
    sem: list[int] = []

    @p
    def setup(ctx: Context) -> None:
        sm = ctx.sm(0)
        sem.append(sm.sel)
        for name in "abc":

            def waiter(c: Context, name: str = name) -> None:
                c.sys.sm_down(sm.sel)
                order.append(name)

            ctx.thread(waiter)
        for _ in range(3):
            ctx.yield_()  # let all three block, in order
        for _ in range(3):
            sm.up()
            ctx.yield_()

    r = m.run()
    assert order == ["a", "b", "c"]
    assert r.blocked == []


def test_blocked_forever_is_reported() -> None:
    m = Machine()
    p = m.spawn("p")

    @p
    def stuck(ctx: Context) -> None:
        ctx.sm(0).down()

    r = m.run()
    assert r.deadlocked and r.blocked == ["p"]


def test_recall_during_a_call_is_delivered_when_the_call_returns() -> None:
    """The call fast path (`Kernel.ipc_call`) ends like every system call: a recall set
    while the caller waited for the reply raises event 31 on the way back (§5)."""
    from runtime.api import Syscalls
    from runtime.exc import ExcState, Mtd, Vector, event_portal

    m = Machine()
    p = m.spawn("p")
    recalls: list[int] = []

    def on_recall(f: UtcbFrame) -> None:
        recalls.append(1)
        ExcState(f).reply(0)

    with p.acting():
        event_portal(p.env, Vector.RECALL, on_recall, Mtd.RIP_LEN, 0, 0)
    box: dict[str, int] = {}

    def handler(f: UtcbFrame) -> None:
        Syscalls(m.k).ec_ctrl(box["ec"])  # recall the caller while it waits in the call
        f.clear()

    pt = p.portal(handler)

    @p
    def client(ctx: Context) -> None:
        box["ec"] = next(s for s, n in ctx.env.pd.obj.nodes.items() if n.obj is ctx.ec)
        with pt.frame() as f:
            pt.call(f)
        box["after"] = len(recalls)

    m.run()
    assert box["after"] == 1 and recalls == [1]
