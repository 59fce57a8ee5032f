"""The stub path of an item-carrying call (`binding.call` -> `Kernel.call_words` with
items -> `ipc_call`'s own delivery to an idle callee -> `_xfer_items` -> `mdb.del_crd`'s
one-capability case) and the server's side of it (`binding.serve`, the re-armed window),
on both architectures: every kernel rule of a delegation still holds (NOVA-NRE.md §2-3).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from runtime import Machine, binding
from runtime.api import Context, Pt, Syscalls
from runtime.arch import X86_32, X86_64, Arch
from runtime.codec import Items
from runtime.crd import ALL, Crd, CrdType, SmRights, crd
from runtime.kernel import mdb
from runtime.kernel.sm import Sm
from runtime.kernel.space import Space
from runtime.machine import Process, pd_of
from runtime.status import CapacityError, Status, SyscallError
from runtime.utcb import Utcb, UtcbFrame

ARCHES = pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
OP = 0x70002
PT_SEL = 0x500  # where the client holds the server's portal


def word(arch: Arch, *values: int) -> bytes:
    return struct.pack(("<%dQ" if arch.word == 8 else "<%dI") % len(values), *values)


def obj(sel: int, rights: int = ALL) -> int:
    return crd(CrdType.OBJ, sel, 0, rights)


def server(
    arch: Arch, accept: int | None = None, reply: Callable[[UtcbFrame], None] | None = None
) -> tuple[Machine, Process, Process, list[list[tuple[int, int]]]]:
    """A server whose portal records the items of each request and answers status 0 (or
    what `reply` writes), granted to a client at PT_SEL."""
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    got: list[list[tuple[int, int]]] = []

    def handler(f: UtcbFrame) -> None:
        got.append(list(f.items()))
        f.clear()
        if reply is None:
            f.put_word(0)
        else:
            reply(f)

    pt = srv.portal(handler, accept=accept)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, PT_SEL)
    return m, srv, cli, got


def server_utcb(srv: Process) -> Utcb:
    """The UTCB of the server's one local EC (its receive windows)."""
    (ec,) = [e for e in pd_of(srv).ecs if not e.glb]
    return ec.utcb


def run(m: Machine, cli: Process, body: Callable[[Context], None]) -> None:
    done: list[int] = []

    def main(ctx: Context) -> None:
        body(ctx)
        done.append(1)

    cli(main)
    r = m.run()
    assert done == [1] and r.blocked == [] and m.k.faults == []


@ARCHES
def test_rights_are_masked_and_the_window_is_rearmed(arch: Arch) -> None:
    """child = parent & item & window; the receiver sees item & window rights; each
    request with items finds a fresh window."""
    m, srv, cli, got = server(arch, accept=0)
    u = server_utcb(srv)
    windows: list[int] = []
    sels: list[int] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        weak = ctx.env.alloc()
        mdb.delegate(pd_of(cli).obj, sm.sel, pd_of(cli).obj, weak, 0, SmRights.DOWN)
        sels.extend((sm.sel, weak))
        for item in (obj(sm.sel, SmRights.UP), obj(weak, ALL)):
            windows.append(u.dele)
            data, items = binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(item, 1)])
            assert data == word(arch, 0) and items == []

    run(m, cli, body)
    w0, w1 = windows[0] >> 12, windows[1] >> 12
    assert w0 != w1  # re-armed after the first request
    assert got == [[(obj(w0, SmRights.UP), 1)], [(obj(w1, ALL), 1)]]
    nodes = pd_of(srv).obj.nodes
    assert nodes[w0].rights == SmRights.UP and nodes[w1].rights == SmRights.DOWN
    assert isinstance(nodes[w0].obj, Sm) and nodes[w0].obj is nodes[w1].obj
    assert nodes[w1].parent is pd_of(cli).obj.nodes[sels[1]]
    assert m.k.counters["items"] == 2


@ARCHES
def test_an_occupied_slot_is_skipped_but_reported(arch: Arch) -> None:
    m, srv, cli, got = server(arch)
    u = server_utcb(srv)
    taken = min(pd_of(srv).obj.nodes)
    before = (pd_of(srv).obj.nodes[taken].obj, pd_of(srv).obj.nodes[taken].rights)
    u.dele = obj(taken)
    children: list[int] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(sm.sel, SmRights.UP), 1)])
        children.append(len(pd_of(cli).obj.nodes[sm.sel].children))

    run(m, cli, body)
    assert got == [[(obj(taken, SmRights.UP), 1)]]
    assert (pd_of(srv).obj.nodes[taken].obj, pd_of(srv).obj.nodes[taken].rights) == before
    assert children == [0]


@ARCHES
def test_a_closed_window_receives_nothing(arch: Arch) -> None:
    m, srv, cli, got = server(arch)
    before = dict(pd_of(srv).obj.nodes)

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(sm.sel), 1 | 7 << 12)])

    run(m, cli, body)
    assert got == [[(0, 1)]]  # Crd 0, the sender's flags without the hotspot
    assert pd_of(srv).obj.nodes == before


@ARCHES
def test_a_source_the_sender_does_not_hold_is_skipped(arch: Arch) -> None:
    m, srv, cli, got = server(arch, accept=0)
    u = server_utcb(srv)
    window = u.dele >> 12

    def body(ctx: Context) -> None:
        binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(ctx.env.alloc()), 1)])

    run(m, cli, body)
    assert got == [[(obj(window), 1)]]
    assert window not in pd_of(srv).obj.nodes


def test_a_window_beyond_the_space_is_skipped() -> None:
    """Only x86_64's word holds a selector at the space limit (2**26)."""
    m, srv, cli, got = server(X86_64)
    u = server_utcb(srv)
    limit = X86_64.selectors
    u.dele = obj(limit)

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        binding.call(Pt(ctx.gate, PT_SEL), word(X86_64, OP), [(obj(sm.sel), 1)])

    run(m, cli, body)
    assert got == [[(obj(limit), 1)]]
    assert limit not in pd_of(srv).obj.nodes


def test_del_crd_one_capability_cases() -> None:
    src, dst = Space(None, CrdType.OBJ, 64), Space(None, CrdType.OBJ, 16)
    g: list[object] = []
    mdb.insert_root(src, 1, Sm(g, 0), SmRights.UP | SmRights.DOWN)
    mdb.insert_root(dst, 3, Sm(g, 0), ALL)
    # rights: parent & item & window; the report: item & window
    assert mdb.del_crd(src, dst, obj(1, ALL), 0, obj(2, SmRights.UP | 4)) == obj(2, 1 | 4)
    assert dst.nodes[2].rights == SmRights.UP
    assert mdb.del_crd(src, dst, obj(1), 0, obj(3)) == obj(3)  # occupied: skipped
    assert dst.nodes[3].parent is None
    assert mdb.del_crd(src, dst, obj(1), 0, obj(16)) == obj(16)  # beyond the space
    assert 16 not in dst.nodes
    assert mdb.del_crd(src, dst, obj(1, SmRights.DOWN), 0, obj(4, SmRights.UP)) == 0
    assert mdb.del_crd(src, dst, obj(1), 0, crd(CrdType.MEM, 4)) == 0
    assert mdb.del_crd(src, dst, obj(9), 0, obj(5)) == obj(5) and 5 not in dst.nodes
    assert sorted(dst.nodes) == [2, 3]


@ARCHES
def test_too_many_items_send_nothing(arch: Arch) -> None:
    """An idle UTCB holds 126 (x86_64) or 254 (x86_32) items (NOVA-NRE.md §8.1)."""
    most = {8: 126, 4: 254}[arch.word]
    m, _srv, cli, got = server(arch)
    seen: list[object] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        u = ctx.utcb.utcb
        pt = Pt(ctx.gate, PT_SEL)
        with pytest.raises(CapacityError):
            binding.call(pt, word(arch, OP), [(obj(sm.sel), 1)] * (most + 1))
        seen.append((u.layer, u.untyped, u.typed, u.dele, u.xlt))
        _, items = binding.call(pt, word(arch, OP), [(obj(sm.sel), 1)] * most)
        seen.append((u.layer, u.untyped, u.typed, items))

    run(m, cli, body)
    assert seen == [(0, 0, 0, 0, 0), (0, 0, 0, [])]
    assert got == [[(0, 1)] * most]


@ARCHES
def test_items_from_a_live_frame_keep_it(arch: Arch) -> None:
    """With a frame live (or a window armed) the call nests a frame as UtcbFrame does."""
    m, _srv, cli, got = server(arch, accept=0)
    seen: list[object] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        with ctx.frame() as outer:
            outer.put_word(0xAB)
            outer.delegate(obj(sm.sel), hotspot=3)
            outer.delegation_window(obj(0x900))
            binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(sm.sel, SmRights.UP), 1)])
            u = ctx.utcb.utcb
            seen.append((outer.words(), list(outer.items()), u.dele, u.layer))
            seen.append([(obj(sm.sel), 1 | 3 << 12)])

    run(m, cli, body)
    assert seen[0] == ([0xAB], seen[1], obj(0x900), 1)
    assert len(got) == 1 and got[0][0][0] & 0x7F == obj(0, SmRights.UP)


@ARCHES
def test_reply_items_come_back_in_order(arch: Arch) -> None:
    """No reply window: the kernel reports Crd 0 and only the replier's flags."""

    def reply(f: UtcbFrame) -> None:
        f.put_word(0)
        f.delegate(obj(0x20), hotspot=5)
        f.translate(obj(0x21))

    m, _srv, cli, got = server(arch, reply=reply)
    out: list[object] = []

    def body(ctx: Context) -> None:
        pt = Pt(ctx.gate, PT_SEL)
        out.append(binding.call(pt, word(arch, OP), [(0, 0)]))
        u = ctx.utcb.utcb
        out.append((u.untyped, u.typed))

    run(m, cli, body)
    assert out == [(word(arch, 0), [(0, 1), (0, 0)]), (0, 0)]
    assert got == [[(0, 0)]]


@ARCHES
def test_a_failed_call_with_items_delegates_nothing(arch: Arch) -> None:
    m, _srv, cli, got = server(arch, accept=0)
    out: list[object] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        with pytest.raises(SyscallError) as e:
            binding.call(Pt(ctx.gate, PT_SEL + 1), word(arch, OP), [(obj(sm.sel), 1)])
        u = ctx.utcb.utcb
        out.append((e.value.status, u.untyped, u.typed, pd_of(cli).obj.nodes[sm.sel].children))

    run(m, cli, body)
    assert out == [(Status.BAD_CAP, 0, 0, {})] and got == []


@ARCHES
def test_a_revoke_takes_the_delegated_capability_back(arch: Arch) -> None:
    m, srv, cli, _got = server(arch, accept=0)
    window = server_utcb(srv).dele >> 12
    held: list[bool] = []

    def body(ctx: Context) -> None:
        sm = ctx.sm(0)
        binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(sm.sel), 1)])
        held.append(window in pd_of(srv).obj.nodes)
        Syscalls(ctx.gate).revoke(Crd(CrdType.OBJ, sm.sel), self_=False)
        held.append(window in pd_of(srv).obj.nodes)
        held.append(sm.sel in pd_of(cli).obj.nodes)

    run(m, cli, body)
    assert held == [True, False, True]


@ARCHES
def test_serve_hands_the_handler_the_delivered_items(arch: Arch) -> None:
    """One item (the order-0 path) and two into an order-1 window (the general one);
    an odd-sized reply is padded to a word by the general reply path."""
    seen: list[list[tuple[int, int]]] = []

    def method(w: int, data: bytes, items: Items) -> tuple[bytearray, list[tuple[int, int]]]:
        seen.append(list(items.items))
        return bytearray(b"\0\0\x01"), []

    table = {OP: (method, False)}
    m = Machine(arch=arch)
    srv = m.spawn("srv")
    pts = [srv.portal(lambda f: binding.serve(f, table), accept=a) for a in (0, 1)]
    cli = m.spawn("cli")
    for i, pt in enumerate(pts):
        srv.grant(pt.sel, cli, PT_SEL + i)
    windows = [e.utcb.dele >> 12 for e in pd_of(srv).ecs if not e.glb]  # in portal order
    out: list[bytes] = []

    def body(ctx: Context) -> None:
        a, b = ctx.sm(0), ctx.sm(0)
        r1 = binding.call(Pt(ctx.gate, PT_SEL), word(arch, OP), [(obj(a.sel, SmRights.UP), 1)])
        items = [(obj(a.sel), 1), (obj(b.sel), 1 | 1 << 12)]
        r2 = binding.call(Pt(ctx.gate, PT_SEL + 1), word(arch, OP), items)
        out.extend((r1[0], r2[0]))

    run(m, cli, body)
    w0, w1 = windows
    assert seen == [[(obj(w0, SmRights.UP), 1)], [(obj(w1), 1), (obj(w1 + 1), 1)]]
    assert out == [b"\0\0\x01" + bytes(arch.word - 3)] * 2
    assert isinstance(pd_of(srv).obj.nodes[w1 + 1].obj, Sm)
