"""The kernel's IPC path at its edges (NOVA-NRE.md §2, §4): the message copy clamped to the
page's capacity in words and items, exactly the words sent, the typed items of every kind
rewritten for the receiver, the counters and the statuses of a refused call."""

from __future__ import annotations

import contextlib
import struct
from typing import Any

import pytest

from runtime.api import Context, Pt
from runtime.arch import X86_32, X86_64, Arch
from runtime.crd import ALL, FROM_HV, CrdType, MemRights, crd
from runtime.kernel import backdoor, mdb
from runtime.kernel.kernel import NOT_SENT
from runtime.machine import Machine, Process, pd_of
from runtime.status import CapacityError, Status, SyscallError
from runtime.utcb import UtcbFrame

from .test_delegate_call import PT_SEL, run, server_utcb

ARCHES = pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])


def _recorder(arch: Arch) -> tuple[Machine, Process, Process, list[tuple[int, int, list[int]]]]:
    """A server that records (untyped, typed, words) of each request and answers with
    the words it got, each plus one."""
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    seen: list[tuple[int, int, list[int]]] = []

    def handler(f: UtcbFrame) -> None:
        words = f.words()
        seen.append((f.untyped, f.typed, words))
        f.clear()
        f.put_words([w + 1 for w in words])

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    return m, srv, cli, seen


@ARCHES
@pytest.mark.parametrize("n", [0, 1, 2, 17])
def test_exactly_the_words_sent_arrive_and_return(arch: Arch, n: int) -> None:
    m, _srv, cli, seen = _recorder(arch)
    back: list[list[int]] = []

    def body(ctx: Context) -> None:
        with Pt(ctx.gate, PT_SEL).frame() as f:
            f.put_words([100 + i for i in range(n)])
            Pt(ctx.gate, PT_SEL).call(f)
            back.append(f.words())

    run(m, cli, body)
    assert seen == [(n, 0, [100 + i for i in range(n)])]
    assert back == [[101 + i for i in range(n)]]
    assert m.k.n_ipc >= 1


@ARCHES
def test_an_items_word_past_the_page_is_clamped(arch: Arch) -> None:
    """A sender whose items word claims more than the page holds sends the page's
    message words and half as many items (NOVA's Utcb::save)."""
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    seen: list[tuple[int, int]] = []
    cap = arch.msg_words

    def handler(f: UtcbFrame) -> None:
        seen.append((f.untyped, f.typed))
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)

    def body(ctx: Context) -> None:
        u = ctx.gate.utcb()
        for untyped, typed in ((cap + 1, 0), (cap, 0), (cap - 1, 0), (3, cap // 2 + 1)):
            u.set_items(untyped, typed)
            ctx.sys.call(PT_SEL)
        u.set_items(0, 0)

    run(m, cli, body)
    assert seen == [(cap, 0), (cap, 0), (cap - 1, 0), (3, cap // 2)]
    assert m.k.counters["items"] == cap // 2


@ARCHES
def test_memory_and_port_items_through_a_call(arch: Arch) -> None:
    """Delegated memory lands where the hotspot points in the receiver's window; ports
    keep their numbers; the receiver sees each item's Crd and its flags (no hotspot)."""
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    got: list[list[tuple[int, int]]] = []
    mem_win, pio_win = crd(CrdType.MEM, 0x400, 4), crd(CrdType.PIO, 0, 16)

    def handler(f: UtcbFrame) -> None:
        got.append(list(f.items()))
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    u = server_utcb(srv)
    for page in range(4):
        mdb.insert_root(pd_of(cli).mem, 0x80 + page, 0x9000 + page, MemRights.R | MemRights.W, 2)
    mdb.insert_root(pd_of(cli).pio, 0x3F8, 0x3F8, ALL)

    def body(ctx: Context) -> None:
        u.dele = mem_win
        with Pt(ctx.gate, PT_SEL).frame() as f:
            f.delegate(crd(CrdType.MEM, 0x80, 2, MemRights.R), hotspot=0x9, flags=0x10)
            Pt(ctx.gate, PT_SEL).call(f)
        u.dele = pio_win
        with Pt(ctx.gate, PT_SEL).frame() as f:
            f.delegate(crd(CrdType.PIO, 0x3F8, 0, ALL), hotspot=0x5)
            Pt(ctx.gate, PT_SEL).call(f)

    run(m, cli, body)
    # hotspot 9 in an order-4 window, aligned to the item's order 2: pages 0x408..0x40b
    assert got[0] == [(crd(CrdType.MEM, 0x408, 2, MemRights.R), 0x11)]
    mem = pd_of(srv).mem.nodes
    assert {p: (mem[p].obj, mem[p].rights) for p in mem} == {
        0x408 + i: (0x9000 + i, MemRights.R) for i in range(4)
    }
    assert got[1] == [(crd(CrdType.PIO, 0x3F8, 0, ALL), 1)]
    assert 0x3F8 in pd_of(srv).pio.nodes


@ARCHES
def test_translate_and_null_items(arch: Arch) -> None:
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    got: list[list[tuple[int, int]]] = []

    def handler(f: UtcbFrame) -> None:
        got.append(list(f.items()))
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    u = server_utcb(srv)
    u.xlt = crd(CrdType.OBJ, 0, 20)

    def body(ctx: Context) -> None:
        with Pt(ctx.gate, PT_SEL).frame() as f:
            f.translate(crd(CrdType.OBJ, PT_SEL, 0, ALL))  # the server's own portal
            f.put_item(0, 0x1FFF)  # a null item: no space, Crd 0, flags kept below bit 12
            Pt(ctx.gate, PT_SEL).call(f)

    run(m, cli, body)
    assert got == [[(crd(CrdType.OBJ, pt.sel, 0, ALL), 0), (0, 0xFFF)]]


def test_from_hv_is_only_roots() -> None:
    """An item flagged FROM_HV comes from the kernel's PD when root sends it; anyone
    else sends from its own space."""
    m = Machine()
    srv = m.spawn("srv")
    got: list[list[tuple[int, int]]] = []

    def handler(f: UtcbFrame) -> None:
        got.append(list(f.items()))
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    u = server_utcb(srv)
    gsi_sel = 64 + 3  # the kernel PD's GSI 3 semaphore; cli holds nothing there

    def body(ctx: Context) -> None:
        u.dele = crd(CrdType.OBJ, 0x900, 0)
        with Pt(ctx.gate, PT_SEL).frame() as f:
            f.delegate(crd(CrdType.OBJ, gsi_sel, 0, ALL), flags=FROM_HV)
            Pt(ctx.gate, PT_SEL).call(f)

    run(m, cli, body)
    assert 0x900 not in pd_of(srv).obj.nodes
    assert got[0][0][1] == FROM_HV | 1


def test_a_refused_call_counts_and_returns_its_status() -> None:
    m = Machine(cpus=2)
    srv = m.spawn("srv")
    pt = srv.portal(lambda f: None, cpu=1)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    seen: list[int] = []

    def body(ctx: Context) -> None:
        for sel in (PT_SEL, 0x7777):
            with pytest.raises(SyscallError) as e:
                ctx.sys.call(sel)
            seen.append(e.value.status)

    before = m.k.n_syscalls
    run(m, cli, body)
    assert seen == [Status.BAD_CPU, Status.BAD_CAP]
    assert m.k.n_syscalls - before >= 2
    assert pd_of(srv).obj.nodes[pt.sel].obj.calls == 0  # type: ignore[attr-defined]


def _echo(arch: Arch) -> tuple[Machine, Process, Process]:
    """A server answering each request with its words, each plus one."""
    m, srv, cli, _seen = _recorder(arch)
    return m, srv, cli


@ARCHES
def test_call_words_at_the_frame_capacity(arch: Arch) -> None:
    m, _srv, cli = _echo(arch)
    w, cap = arch.word, (253 if arch.word == 8 else 509)
    got: list[object] = []

    def body(ctx: Context) -> None:
        g = ctx.gate
        reply, items = g.call_words(PT_SEL, b"\x05")  # one byte: one word
        got.append((reply, items))
        reply, _ = g.call_words(PT_SEL, b"\x01" * (w + 1))  # two words, the second padded
        got.append(reply)
        reply, _ = g.call_words(PT_SEL, bytes(cap * w))  # exactly the frame's capacity
        got.append(len(reply))
        with pytest.raises(CapacityError):
            g.call_words(PT_SEL, bytes(cap * w + 1))
        u = g.utcb()
        u.set_word(4, 7)  # a TLS word: the UTCB is not idle, the frame saves a header
        with pytest.raises(CapacityError):
            g.call_words(PT_SEL, bytes(cap * w))
        reply, _ = g.call_words(PT_SEL, bytes(w))
        got.append(reply)
        assert u.word_at(4) == 7 and u.layer == 0
        u.set_word(4, 0)

    run(m, cli, body)
    one = (6).to_bytes(w, "little")
    assert got[0] == (one, [])
    assert got[1] == (0x0101010101010102 & (2 ** (8 * w) - 1)).to_bytes(w, "little") + (2).to_bytes(
        w, "little"
    )
    assert got[2] == cap * w
    assert got[3] == (1).to_bytes(w, "little")


@pytest.mark.parametrize("armed", ["xlt", "dele", "both"])
def test_windows_armed_during_a_call_are_closed_after_it(armed: str) -> None:
    m = Machine()
    srv = m.spawn("srv")
    cli = m.spawn("cli")
    holder: list[Any] = []

    def handler(f: UtcbFrame) -> None:
        u = holder[0]
        if armed in ("xlt", "both"):
            u.xlt = crd(CrdType.OBJ, 0x40, 2)
        if armed in ("dele", "both"):
            u.dele = crd(CrdType.OBJ, 0x80, 2)
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    srv.grant(pt.sel, cli, PT_SEL)
    after: list[tuple[int, int]] = []

    def body(ctx: Context) -> None:
        u = ctx.gate.utcb()
        holder.append(u)
        ctx.gate.call_words(PT_SEL, bytes(8))
        after.append((u.xlt, u.dele))

    run(m, cli, body)
    assert after == [(0, 0)]


def test_a_window_armed_before_a_call_survives_it() -> None:
    m, _srv, cli = _echo(X86_64)
    after: list[tuple[int, int, int]] = []

    def body(ctx: Context) -> None:
        u = ctx.gate.utcb()
        u.xlt = crd(CrdType.OBJ, 0x40, 2)
        reply, _ = ctx.gate.call_words(PT_SEL, (1).to_bytes(8, "little"))
        after.append((u.xlt, u.layer, int.from_bytes(reply, "little")))
        u.xlt = 0

    run(m, cli, body)
    assert after == [(crd(CrdType.OBJ, 0x40, 2), 0, 2)]


def test_failed_calls_say_what_failed() -> None:
    m, _srv, cli = _echo(X86_64)
    msgs: list[str] = []
    fixed: list[tuple[tuple[int, ...], int]] = []

    def body(ctx: Context) -> None:
        g = ctx.gate
        for live in (False, True):
            f = UtcbFrame(g.utcb()) if live else None
            with pytest.raises(SyscallError) as e:
                g.call_words(0x7777, b"")
            msgs.append(str(e.value))
            assert e.value.status == Status.BAD_CAP
            if f is not None:
                f.close()
        st = g.call_fixed(0x7777, 1, struct.Struct("<Q"), 1)
        fixed.append((st, g.utcb().items))

    run(m, cli, body)
    want = str(SyscallError(Status.BAD_CAP, "call"))
    assert msgs == [want, want] and fixed == [((Status.BAD_CAP,), 0)]  # the UTCB idle again
    with pytest.raises(SyscallError) as e:
        m.k.call_words(PT_SEL, b"")  # outside any EC
    assert str(e.value) == str(SyscallError(Status.BAD_HYP, "no EC is running"))
    with pytest.raises(SyscallError) as e:
        m.k.take_reply()
    assert str(e.value) == str(SyscallError(Status.BAD_HYP, "no EC is running"))
    assert m.k.call_fixed(PT_SEL, 1, struct.Struct("<Q"), 1) == (Status.BAD_HYP,)


def test_an_opcode_zero_request_is_not_sent_from_a_busy_utcb() -> None:
    m, _srv, cli, seen = _recorder(X86_64)
    got: list[object] = []

    def body(ctx: Context) -> None:
        g = ctx.gate
        with UtcbFrame(g.utcb()):
            got.append(g.call_fixed(PT_SEL, 1, struct.Struct("<Q"), 1, 0))
        got.append(g.call_fixed(PT_SEL, 1, struct.Struct("<Q"), 1, 0))

    run(m, cli, body)
    assert got[0] == NOT_SENT
    assert seen == [(1, 0, [0])]


def test_each_call_counts_once() -> None:
    m = Machine(cpus=2)
    srv = m.spawn("srv")
    far = srv.portal(lambda f: None, cpu=1)

    def status_only(f: UtcbFrame) -> None:
        f.clear()
        f.put_word(0)

    near = srv.portal(status_only)
    cli = m.spawn("cli")
    srv.grant(far.sel, cli, PT_SEL)
    srv.grant(near.sel, cli, PT_SEL + 1)
    deltas: list[tuple[int, int]] = []

    def body(ctx: Context) -> None:
        k = backdoor(ctx.gate)
        for sel in (PT_SEL, 0x7777, PT_SEL + 1, PT_SEL + 1):
            before = (k.n_syscalls, k.n_ipc)
            with contextlib.suppress(SyscallError):
                ctx.sys.call(sel)
            deltas.append((k.n_syscalls - before[0], k.n_ipc - before[1]))

    run(m, cli, body)
    assert deltas[:2] == [(1, 0), (1, 0)]  # refused: one system call, no IPC
    assert all(d[1] == 1 for d in deltas[2:])  # delivered: one IPC each
    assert pd_of(srv).obj.nodes[near.sel].obj.calls == 2  # type: ignore[attr-defined]
    assert pd_of(srv).obj.nodes[far.sel].obj.calls == 0  # type: ignore[attr-defined]


def test_reply_from_a_handler_ends_it() -> None:
    from runtime.kernel.syscalls import Sys, word0

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
    srv.grant(pt.sel, cli, PT_SEL)
    got: list[list[int]] = []

    def body(ctx: Context) -> None:
        for _ in range(2):
            with Pt(ctx.gate, PT_SEL).frame() as f:
                f.put_word(1)
                Pt(ctx.gate, PT_SEL).call(f)
                got.append(f.words())

    run(m, cli, body)
    assert got == [[42], [42]] and after == []


@ARCHES
def test_items_between_a_quarter_and_half_the_page_pass_whole(arch: Arch) -> None:
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    seen: list[int] = []

    def handler(f: UtcbFrame) -> None:
        seen.append(f.typed)
        f.clear()
        f.put_word(0)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    quarter = arch.msg_words >> 2

    def body(ctx: Context) -> None:
        u = ctx.gate.utcb()
        u.set_items(0, quarter + 1)  # null items (the page is zero there)
        ctx.sys.call(PT_SEL)
        u.set_items(0, 0)

    run(m, cli, body)
    assert seen == [quarter + 1]


def test_the_call_is_traced_with_its_status() -> None:
    m, _srv, cli, _seen = _recorder(X86_64)
    m.k.tracing = True
    names: list[str] = []

    def body(ctx: Context) -> None:
        names.append(backdoor(ctx.gate).current.name)  # type: ignore[union-attr]
        with contextlib.suppress(SyscallError):
            ctx.sys.call(0x7777)

    run(m, cli, body)
    assert [(e[2], e[3], e[4]) for e in m.k.trace if e[3] == "sys0"] == [
        (names[0], "sys0", Status.BAD_CAP)
    ]


def test_a_global_ec_that_replies_blocks_for_good() -> None:
    m = Machine()
    p = m.spawn("p")
    after: list[int] = []

    @p
    def main(ctx: Context) -> None:
        ctx.sys.reply()
        after.append(1)

    assert m.run().reason == "idle"
    (ec,) = [e for e in pd_of(p).ecs if e.glb]
    assert after == [] and ec.blocked_on is m.k.reply_sm and not ec.dead


def test_a_traced_call_records_the_handlers_side_with_the_portal() -> None:
    """With tracing on, every delivered call adds ("recv", the portal's id) for the EC
    that handles it, after the caller's entry and before its status (sys0)."""
    from runtime.kernel.pt import Pt as PtObj

    m = Machine(trace=True)
    srv = m.spawn("srv")
    srv.serve("s", lambda f: None)

    @m.spawn("cli")
    def cli(ctx: Context) -> None:
        pt = ctx.connect("s")
        for _ in range(3):
            with pt.frame() as f:
                pt.call(f)

    m.run()
    portals = {n.obj for n in pd_of(srv).obj.nodes.values() if type(n.obj) is PtObj}
    events = [(ec, what, value) for _, _, ec, what, value in m.trace]
    recvs = [e for e in events if e[1] == "recv"]
    served = [pt for pt in portals if pt.calls == 3]
    assert len(served) == 1
    mine = [e for e in recvs if e[2] == served[0].id]
    assert len(mine) == 3 and all("srv" in ec for ec, _, _ in mine)
    calls = [i for i, e in enumerate(events) if e[0] == "cli" and e[1] == "sys0"]
    firsts = [i for i, e in enumerate(events) if e[1] == "recv" and e[2] == served[0].id]
    assert len(calls) >= 3 and all(r < c for r, c in zip(firsts, calls[-3:], strict=True))
