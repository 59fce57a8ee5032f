"""Portal calls: donation, reply, helping, livelock, death (NOVA-NRE.md §4, §6)."""

from __future__ import annotations

import pytest

from runtime.api import Context, Pt
from runtime.arch import X86_32, X86_64, Arch
from runtime.kernel import backdoor
from runtime.machine import Machine
from runtime.status import ErrorCode, Status, SyscallError, UtcbError
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
        p = Pt(ctx.gate, 0x777)
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
            Pt(ctx.gate, pt.sel).call()  # the selector means nothing in this PD
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
            Pt(ctx.gate, 0x500).call()
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

        Syscalls(m.gate).sm_down(gate[0])
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
            p = Pt(ctx.gate, 0x500)
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
                Pt(ctx.gate, 0x500).call()
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
        Pt(m.gate, sel[0]).call()  # our own EC is busy: helping ourselves never ends

    pt = srv.portal(handler)
    sel.append(pt.sel)
    seen: list[int] = []

    @srv
    def main(ctx: Context) -> None:
        try:
            Pt(ctx.gate, pt.sel).call()
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
        Pt(m.gate, sels["b_in_a"]).call()

    def hb(f: UtcbFrame) -> None:
        Pt(m.gate, sels["a_in_b"]).call()

    pa, pb = a.portal(ha), b.portal(hb)
    a.grant(pa.sel, b, 0x600)
    b.grant(pb.sel, a, 0x601)
    sels.update(b_in_a=0x601, a_in_b=0x600)
    seen: list[int] = []

    @a
    def main(ctx: Context) -> None:
        try:
            Pt(ctx.gate, pa.sel).call()
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
        p = Pt(m.gate, 0x600)
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
        p = Pt(ctx.gate, 0x500)
        with p.frame() as f:
            f.put_words([1, 2, 3])
            p.call(f)
            got.append(f.words())

    m.run()
    assert got == [[1, 2, 3, 101, 201, pin.sel]]


# A reply of n words into a client whose inner frame follows an outer one of 4 words (the
# saved block, 1 + 5 + 4 words, sits right below POS_SLOT, so the inner frame holds
# POS_SLOT - 10). The kernel copies as NOVA does (NOVA-NRE.md §2): min(n, the page's
# capacity), whatever the frames; the server writes its items word itself for n beyond its
# own frame. A reply that reaches the saved block destroys it, and closing the inner frame
# says so with a UtcbError (never garbage restored, never a Python error).
REPLY_SIZES = [
    (arch, n)
    for arch in (X86_64, X86_32)
    for n in (0, 1, arch.msg_words // 2 - 10, arch.msg_words // 2 - 9, 300, arch.msg_words)
] + [(X86_64, 0xFFFF)]


@pytest.mark.parametrize(("arch", "n"), REPLY_SIZES, ids=lambda v: getattr(v, "name", v))
def test_replies_are_copied_up_to_the_page_whatever_the_frames(arch: Arch, n: int) -> None:
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    cap = arch.msg_words
    room = arch.msg_words // 2 - 10

    def big(f: UtcbFrame) -> None:
        f.clear()
        u = f.utcb
        for i in range(min(n, cap)):
            u.set_word(5 + i, 0xA0 + i)
        u.untyped = n  # the page is the interface: the kernel sends what this word says

    pt = srv.portal(big)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    got: dict[str, object] = {}

    @cli
    def main(ctx: Context) -> None:
        p = Pt(ctx.gate, 0x500)
        with ctx.frame() as outer:
            outer.put_words([1, 2, 3, 4])
            f = p.frame()
            assert f.free_untyped == room
            p.call(f)
            got["untyped"] = f.untyped
            got["last"] = f.utcb.mr(f.untyped - 1) if f.untyped else None
            try:
                f.close()
            except UtcbError as e:
                got["close"] = e.code
                return
            got["outer"] = outer.words()

    m.run()
    k = min(n, cap)
    assert got["untyped"] == k
    assert got["last"] == (0xA0 + k - 1 if k else None)
    if k <= room:
        assert got["outer"] == [1, 2, 3, 4]
    else:
        assert got["close"] == ErrorCode.E_ASSERT


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
        Syscalls(m.gate).ec_ctrl(box["ec"])  # recall the caller while it waits in the call
        f.clear()

    pt = p.portal(handler)

    @p
    def client(ctx: Context) -> None:
        box["ec"] = next(
            s
            for s, n in backdoor(ctx).current.pd.obj.nodes.items()
            if n.obj is backdoor(ctx).current
        )
        with pt.frame() as f:
            pt.call(f)
        box["after"] = len(recalls)

    m.run()
    assert box["after"] == 1 and recalls == [1]


# The items word a sender writes into its page, raw, and what the receiver gets: the
# counts the kernel reads are the page's (NOVA-NRE.md §2), capped at the page's capacity
# of untyped words and half of that in typed items; the receiver's items word says what
# arrived. Bits above 31 are not part of the items word.
ITEMS_WORDS = [
    (arch, u, t)
    for arch in (X86_64, X86_32)
    for u, t in ((0, 0), (1, 0), (2, 0), (7, 3), (arch.msg_words, 0), (0xFFFF, 0), (3, 0xFFFF))
]


@pytest.mark.parametrize(("arch", "u", "t"), ITEMS_WORDS, ids=str)
def test_the_kernel_sends_what_the_items_word_says(arch: Arch, u: int, t: int) -> None:
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    seen: list[tuple[int, int, int, list[int]]] = []

    def handler(f: UtcbFrame) -> None:
        pg = f.utcb
        seen.append((f.untyped, f.typed, pg.word_at(1), [pg.mr(i) for i in range(f.untyped)]))
        pg.set_word(1, 0)  # an empty reply, written as raw as the request

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    status: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        pg = ctx.utcb.utcb
        for i in range(arch.msg_words):
            pg.set_word(5 + i, i + 1)
        extra = 1 << 40 if arch.word == 8 else 0  # not part of the items word
        pg.set_word(1, u | t << 16 | extra)
        status.append(ctx.gate.ipc_call(0x500 << 8))
        status.append(pg.word_at(1))

    m.run()
    cap = arch.msg_words
    want_u, want_t = min(u, cap), min(t, cap // 2)
    assert status == [Status.SUCCESS, 0]
    assert len(seen) == 1
    got_u, got_t, word, words = seen[0]
    assert (got_u, got_t, word) == (want_u, want_t, want_u | want_t << 16)
    # the words as sent, up to where the typed results land (at the page end, NOVA's
    # layout: a full message and many items share the page)
    intact = min(want_u, cap - 2 * want_t)
    assert len(words) == want_u and words[:intact] == list(range(1, intact + 1))
