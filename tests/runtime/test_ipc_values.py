"""The kernel's IPC path at its edges (NOVA-NRE.md §2, §4): the message copy clamped to the
page's capacity in words and items, exactly the words sent, the typed items of every kind
rewritten for the receiver, the counters and the statuses of a refused call."""

from __future__ import annotations

import pytest

from runtime.api import Context, Pt
from runtime.arch import X86_32, X86_64, Arch
from runtime.crd import ALL, FROM_HV, CrdType, MemRights, crd
from runtime.kernel import mdb
from runtime.machine import Machine, Process, pd_of
from runtime.status import Status, SyscallError
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
