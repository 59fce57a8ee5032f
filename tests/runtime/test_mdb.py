"""Delegate, translate, revoke and lookup (NOVA-NRE.md §3, §7), directly and through IPC."""

from __future__ import annotations

from runtime.api import Context
from runtime.arch import X86_64
from runtime.crd import ALL, Crd, CrdType, MemRights, SmRights, crd
from runtime.kernel import mdb
from runtime.kernel.kobject import Kobject
from runtime.kernel.pd import Pd
from runtime.kernel.sm import Sm
from runtime.machine import Machine, pd_of
from runtime.utcb import UtcbFrame


def _pds(n: int) -> tuple[list[Kobject], list[Pd]]:
    g: list[Kobject] = []
    return g, [Pd(g, X86_64, f"pd{i}") for i in range(n)]


def test_crd_round_trip() -> None:
    c = Crd.obj(0x1234, 3, SmRights.UP)
    assert c.value == 0x1234 << 12 | 3 << 7 | SmRights.UP << 2 | 3
    assert Crd.decode(c.value) == c
    assert SmRights.UP.crd == 1 << 2 and MemRights.X.crd == 1 << 4
    assert Crd.decode(0).type == CrdType.NULL


def test_delegate_masks_rights_and_skips_occupied() -> None:
    g, (a, b) = _pds(2)
    s1, s2 = Sm(g, 0, "s1"), Sm(g, 0, "s2")
    mdb.insert_root(a.obj, 10, s1, ALL)
    mdb.insert_root(b.obj, 20, s2, ALL)  # occupied target
    res = mdb.del_crd(
        a.obj, b.obj, crd(CrdType.OBJ, 10, 0, SmRights.UP), 20, crd(CrdType.OBJ, 16, 3)
    )
    assert res == crd(CrdType.OBJ, 20, 0, SmRights.UP)  # reported although skipped
    assert b.obj.nodes[20].obj is s2 and b.obj.nodes[20].rights == ALL
    res = mdb.del_crd(
        a.obj, b.obj, crd(CrdType.OBJ, 10, 0, SmRights.UP), 21, crd(CrdType.OBJ, 16, 3)
    )
    n = b.obj.nodes[21]
    assert res == crd(CrdType.OBJ, 21) & ~(ALL << 2) | SmRights.UP << 2
    assert n.obj is s1 and n.rights == SmRights.UP and n.parent is a.obj.nodes[10]
    # Delegating onwards can only keep or drop rights, never add.
    mdb.del_crd(b.obj, a.obj, crd(CrdType.OBJ, 21, 0, ALL), 0, crd(CrdType.OBJ, 30, 0))
    assert a.obj.nodes[30].rights == SmRights.UP


def test_delegate_type_mismatch_or_no_common_right_is_null() -> None:
    g, (a, b) = _pds(2)
    mdb.insert_root(a.obj, 1, Sm(g, 0), ALL)
    assert mdb.del_crd(a.obj, b.obj, crd(CrdType.OBJ, 1), 0, crd(CrdType.MEM, 0, 4)) == 0
    no_rights = crd(CrdType.OBJ, 0, 4, 0)
    assert mdb.del_crd(a.obj, b.obj, crd(CrdType.OBJ, 1, 0, SmRights.UP), 0, no_rights) == 0
    assert len(b.obj) == 0


def test_delegate_hotspot_selects_part_of_bigger_item() -> None:
    _g, (a, b) = _pds(2)
    for i in range(8):
        mdb.insert_root(a.mem, 0x100 + i, 0x5000 + i, MemRights.R | MemRights.W)
    # An order-3 item into an order-1 window: the hotspot picks pages 0x104..0x105.
    res = mdb.del_crd(a.mem, b.mem, crd(CrdType.MEM, 0x100, 3), 4, crd(CrdType.MEM, 0x40, 1))
    assert res == crd(CrdType.MEM, 0x40, 1, ALL)  # reports item & window rights
    assert {u: n.obj for u, n in b.mem.nodes.items()} == {0x40: 0x5004, 0x41: 0x5005}
    assert b.mem.nodes[0x40].rights == MemRights.R | MemRights.W  # parent & mask
    # A smaller item lands at window base | (hotspot within the window).
    res = mdb.del_crd(a.mem, b.mem, crd(CrdType.MEM, 0x102, 0), 0x13, crd(CrdType.MEM, 0x80, 4))
    assert res == crd(CrdType.MEM, 0x83, 0, ALL)
    assert b.mem.nodes[0x83].obj == 0x5002


def test_pio_delegation_is_identity() -> None:
    _g, (a, b) = _pds(2)
    for port in range(0x60, 0x68):
        mdb.insert_root(a.pio, port, port, ALL)
    res = mdb.del_crd(a.pio, b.pio, crd(CrdType.PIO, 0x60, 2), 0x999, crd(CrdType.PIO, 0, 16))
    assert res == crd(CrdType.PIO, 0x60, 2, ALL)
    assert sorted(b.pio.nodes) == [0x60, 0x61, 0x62, 0x63]


def test_translate_finds_receivers_own_name() -> None:
    g, (srv, cli, other) = _pds(3)
    s = Sm(g, 0)
    mdb.insert_root(srv.obj, 5, s, ALL)
    mdb.delegate(srv.obj, 5, cli.obj, 40, 0, ALL)  # server -> client
    mdb.delegate(cli.obj, 40, other.obj, 7, 0, SmRights.UP)  # client -> other
    win = crd(CrdType.OBJ, 0, 26)
    # other presents its cap to the server: two levels up is the server's own name.
    assert mdb.xlt_crd(other.obj, srv.obj, crd(CrdType.OBJ, 7), win) == crd(
        CrdType.OBJ, 5, 0, SmRights.UP
    )
    # Outside the window, for the wrong type or unrelated: null.
    assert mdb.xlt_crd(other.obj, srv.obj, crd(CrdType.OBJ, 7), crd(CrdType.OBJ, 8, 3)) == 0
    assert mdb.xlt_crd(other.obj, srv.obj, crd(CrdType.OBJ, 7), crd(CrdType.MEM, 0, 20)) == 0
    mdb.insert_root(other.obj, 8, Sm(g, 0), ALL)
    assert mdb.xlt_crd(other.obj, srv.obj, crd(CrdType.OBJ, 8), win) == 0
    # The sender's own node does not count, even when sender and receiver are the same.
    assert mdb.xlt_crd(srv.obj, srv.obj, crd(CrdType.OBJ, 5), win) == 0


def test_revoke_is_recursive_and_optionally_self() -> None:
    g, (a, b, c) = _pds(3)
    s = Sm(g, 0)
    mdb.insert_root(a.obj, 1, s, ALL)
    mdb.delegate(a.obj, 1, b.obj, 2, 0, ALL)
    mdb.delegate(b.obj, 2, c.obj, 3, 0, ALL)
    mdb.delegate(b.obj, 2, c.obj, 4, 0, SmRights.DOWN)
    # Strip UP below a: b and c lose it, a keeps it; c:4 had only DOWN and keeps that.
    mdb.revoke(a.obj, 1, 0, SmRights.UP, False)
    assert a.obj.nodes[1].rights == ALL
    assert b.obj.nodes[2].rights == ALL & ~SmRights.UP
    assert c.obj.nodes[4].rights == SmRights.DOWN
    # Strip everything from b including itself: the whole subtree vanishes.
    mdb.revoke(b.obj, 2, 0, ALL, True)
    assert len(b.obj) == 0 and len(c.obj) == 0
    assert a.obj.nodes[1].children == {}
    assert s.refs == 1


def test_last_capability_gone_queues_object() -> None:
    g, (a,) = _pds(1)
    s = Sm(g, 0)
    mdb.insert_root(a.obj, 1, s, ALL)
    mdb.revoke(a.obj, 1, 0, ALL, True)
    assert g == [s] and s.refs == 0


def test_delegation_through_ipc_uses_receivers_window() -> None:
    m = Machine()
    srv = m.spawn("srv")
    got: list[tuple[int, int]] = []

    def handler(f: UtcbFrame) -> None:
        got.extend(f.get_item() for _ in range(f.typed))
        f.finish_input()

    pt = srv.portal(handler)
    lt = srv.local_thread()
    del lt
    ec = pd_of(srv).obj.nodes[pt.sel].obj.ec  # type: ignore[attr-defined]
    ec.utcb.dele = crd(CrdType.OBJ, 0x800, 2)

    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)

    @cli
    def client(ctx: Context) -> None:
        sm = ctx.sm(3)
        with ctx.frame() as f:
            f.delegate(crd(CrdType.OBJ, sm.sel, 0, SmRights.UP), hotspot=1)
            f.delegate(crd(CrdType.MEM, 0, 0), hotspot=0)  # wrong type for the window
            from runtime.api import Pt

            Pt(ctx.gate, 0x500).call(f)

    m.run()
    assert got == [(crd(CrdType.OBJ, 0x801, 0, SmRights.UP), 1), (0, 1)]
    node = pd_of(srv).obj.nodes[0x801]
    assert isinstance(node.obj, Sm) and node.obj.count == 3 and node.rights == SmRights.UP


def test_memory_and_ports_through_ipc_then_revoked() -> None:
    """Root hands a child pages (hotspot-placed) and ports (identity), then takes the
    pages back; the child's own delegations go with them."""
    m = Machine(mem_pages=64, io_ports=range(0x60, 0x70))
    child = m.spawn("child")

    def pager(f: UtcbFrame) -> None:
        f.finish_input()
        f.delegate(crd(CrdType.MEM, 16, 3, MemRights.R | MemRights.W), hotspot=0)
        f.delegate(crd(CrdType.PIO, 0x60, 2), hotspot=0)

    pt = m.root.portal(pager)
    m.root.grant(pt.sel, child, 0x500)
    grand = m.spawn("grand")

    @child
    def main(ctx: Context) -> None:
        from runtime.api import Pt

        with ctx.frame() as f:
            f.delegation_window(crd(CrdType.MEM, 0x100, 4))  # 16 pages at 0x100
            Pt(ctx.gate, 0x500).call(f)
        with ctx.frame() as f:
            f.delegation_window(crd(CrdType.PIO, 0, 16))
            Pt(ctx.gate, 0x500).call(f)

    m.run()
    assert sorted(pd_of(child).mem.nodes) == list(range(0x100, 0x108))
    assert pd_of(child).mem.nodes[0x103].obj == 19 and pd_of(child).mem.nodes[0x103].rights == 3
    # The second call's memory item found no MEM window: only the ports arrived.
    assert sorted(pd_of(child).pio.nodes) == [0x60, 0x61, 0x62, 0x63]
    mdb.delegate(pd_of(child).mem, 0x100, pd_of(grand).mem, 0x10, 1, MemRights.R)
    assert sorted(pd_of(grand).mem.nodes) == [0x10, 0x11]
    with m.root.acting():
        from runtime.api import Syscalls

        Syscalls(m.gate).revoke(Crd.mem(16, 3), self_=False)
    assert pd_of(child).mem.nodes == {} and pd_of(grand).mem.nodes == {}
    assert len(pd_of(m.root).mem) == 64 and len(pd_of(child).pio) == 4
