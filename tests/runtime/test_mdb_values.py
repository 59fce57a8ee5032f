"""The mapping database against a reference model (NOVA-NRE.md §3): delegate, translate,
revoke and lookup with orders > 0, hotspots with bits outside the item, unaligned
windows, port ranges at the window's edges, occupied and out-of-range slots.

The model keeps, per space, unit -> [object, rights, parent (space, unit), order] and
computes each operation from the sets of units it covers, not from the kernel's code.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.kernel import mdb
from runtime.kernel.crd import ALL, CrdType
from runtime.kernel.kobject import Kobject
from runtime.kernel.sm import Sm
from runtime.kernel.space import Space

LIMIT = 64  # units per space: windows reach past it
Unit = tuple[int, int]  # (space index, unit)
Model = list[dict[int, list[Any]]]  # [object, rights, parent Unit | None, order]


def word(typ: int, base: int, order: int, attr: int) -> int:
    return base * 4096 + order * 128 + attr * 4 + typ


def ref_insert(m: Model, s: int, unit: int, obj: object, rights: int, order: int) -> bool:
    if not 0 <= unit < LIMIT or unit in m[s]:
        return False
    m[s][unit] = [obj, rights, None, order]
    return True


def ref_del(m: Model, s: int, d: int, item: int, hotspot: int, window: int) -> int:
    typ, so, ro = item % 4, item // 128 % 32, window // 128 % 32
    a = item // 4 % 32 & window // 4 % 32
    if typ == 0 or typ != window % 4 or a == 0:
        return 0
    sb = item // 4096 // 2**so * 2**so  # both ranges aligned to their order
    rb = window // 4096 // 2**ro * 2**ro
    src, dst = set(range(sb, sb + 2**so)), set(range(rb, rb + 2**ro))
    if typ == CrdType.PIO:  # ports keep their numbers: the smaller range, if inside
        small = src if so <= ro else dst
        if not src & dst:
            return 0
        o, base = min(so, ro), min(small)
        pairs = [(u, u) for u in sorted(small)]
        tb = base
    elif so <= ro:  # the item lands where the hotspot points inside the window
        o = so
        tb = rb + hotspot % 2**ro // 2**so * 2**so
        pairs = [(sb + i, tb + i) for i in range(2**so)]
    else:  # the hotspot picks the window-sized part of the item
        o = ro
        start = sb + hotspot % 2**so // 2**ro * 2**ro
        tb = rb
        pairs = [(start + i, rb + i) for i in range(2**ro)]
    for u, t in pairs:
        parent = m[s].get(u)
        if parent is None or t >= LIMIT or t in m[d] or not parent[1] & a:
            continue
        m[d][t] = [parent[0], parent[1] & a, (s, u), min(o, parent[3])]
    return word(typ, tb, o, a)


def _subtree(m: Model, top: Unit) -> list[Unit]:
    out, todo = [], [top]
    while todo:
        n = todo.pop()
        out.append(n)
        todo += [(s, u) for s, sp in enumerate(m) for u, v in sp.items() if v[2] == n]
    return out


def ref_revoke(m: Model, s: int, base: int, order: int, attr: int, self_too: bool) -> None:
    lo = base // 2**order * 2**order
    for u in range(lo, min(lo + 2**order, LIMIT)):
        if u not in m[s]:
            continue
        for t, v in [(n, m[n[0]][n[1]]) for n in _subtree(m, (s, u))]:
            if t != (s, u) or self_too:
                v[1] &= ~attr
        gone = {n for n in _subtree(m, (s, u)) if not m[n[0]][n[1]][1]}
        for n in {x for g in gone for x in _subtree(m, g)}:
            del m[n[0]][n[1]]


def ref_xlt(m: Model, s: int, d: int, item: int, window: int) -> int:
    typ, so, wo = item % 4, item // 128 % 32, window // 128 % 32
    if typ == 0 or typ != window % 4:
        return 0
    sb = item // 4096 // 2**so * 2**so
    lo = window // 4096 // 2**wo * 2**wo

    def name(u: int) -> int | None:  # the first ancestor in d inside the window
        p = m[s][u][2] if u in m[s] else None
        while p is not None:
            if p[0] == d and lo <= p[1] < lo + 2**wo:
                return p[1]
            p = m[p[0]][p[1]][2]
        return None

    found = name(sb)
    if found is None:
        return 0
    o = min(so, wo)
    whole = found % 2**o == 0 and all(name(sb + i) == found + i for i in range(2**o))
    return word(typ, found, o if whole else 0, m[s][sb][1])


def ref_lookup(m: Model, s: int, kind: int, unit: int) -> int:
    if unit not in m[s]:
        return 0
    _obj, rights, _p, o = m[s][unit]
    base = unit // 2**o * 2**o
    same = all(
        base + i in m[s] and m[s][base + i][3] == o and m[s][base + i][1] == rights
        for i in range(2**o)
    )
    return word(kind, base, o, rights) if same else word(kind, unit, 0, rights)


def state(spaces: list[Space]) -> Model:
    """The kernel's spaces as the model's, checking that parents and children agree."""
    index = {id(sp): i for i, sp in enumerate(spaces)}
    out: Model = []
    for sp in spaces:
        d: dict[int, list[Any]] = {}
        for u, n in sp.nodes.items():
            assert n.unit == u and n.space is sp
            p = n.parent
            if p is not None:
                assert p.space.nodes[p.unit] is p and n in p.children
            for c in n.children:
                assert c.parent is n
            d[u] = [n.obj, n.rights, None if p is None else (index[id(p.space)], p.unit), n.order]
        out.append(d)
    return out


# --- the property --------------------------------------------------------------------

KINDS = [CrdType.MEM, CrdType.PIO, CrdType.OBJ]
units = st.integers(0, LIMIT + 8)
orders = st.integers(0, 6)
attrs = st.integers(0, 31)
spaces_i = st.integers(0, 2)
ops = st.one_of(
    st.tuples(st.just("root"), spaces_i, units, attrs, orders),
    st.tuples(
        st.just("del"),
        spaces_i,
        spaces_i,
        st.tuples(st.integers(0, 3), units, orders, attrs),
        st.integers(0, 2**10),
        st.tuples(st.integers(0, 3), units, orders, attrs),
    ),
    st.tuples(st.just("rev"), spaces_i, units, orders, attrs, st.booleans()),
    st.tuples(st.just("xlt"), spaces_i, spaces_i, units, orders, units, orders),
)


def _setup(kind: CrdType) -> tuple[list[Space], Model]:
    spaces = [Space(None, kind, LIMIT) for _ in range(3)]
    m: Model = [{}, {}, {}]
    for u in range(48):  # a whole order-5 range, an order-3 one, then single units
        o, r = (5, ALL) if u < 32 else (3, 0b10101) if u < 40 else (0, 0b01110)
        assert mdb.insert_root(spaces[0], u, 1000 + u, r, o)
        assert ref_insert(m, 0, u, 1000 + u, r, o)
    return spaces, m


def _step(kind: CrdType, spaces: list[Space], m: Model, op: tuple[Any, ...]) -> None:
    if op[0] == "root":
        _, s, u, r, o = op
        assert mdb.insert_root(spaces[s], u, -u, r, o) == ref_insert(m, s, u, -u, r, o)
    elif op[0] == "del":
        _, s, d, (it, ib, io, ia), hot, (wt, wb, wo, wa) = op
        item, window = word(it or kind, ib, io, ia), word(wt and kind, wb, wo, wa)
        got = mdb.del_crd(spaces[s], spaces[d], item, hot, window)
        assert got == ref_del(m, s, d, item, hot, window), op
    elif op[0] == "rev":
        _, s, b, o, a, self_too = op
        mdb.revoke(spaces[s], b, o, a, self_too)
        ref_revoke(m, s, b, o, a, self_too)
    else:
        _, s, d, ib, io, wb, wo = op
        item, window = word(kind, ib, io, ALL), word(kind, wb, wo, 0)
        assert mdb.xlt_crd(spaces[s], spaces[d], item, window) == ref_xlt(m, s, d, item, window)
    assert state(spaces) == m, op


# --- the cases the model must get right, spelled out -------------------------------

# (kind, item (base, order, attr), hotspot, window (base, order, attr)) -> the units the
# receiver gets (target: source) and the Crd reported.
CASES: list[tuple[str, CrdType, tuple[int, int, int], int, tuple[int, int, int]]] = [
    ("one unit of order 1 source", CrdType.OBJ, (4, 0, ALL), 0, (8, 0, ALL)),
    ("order 1 into order 1", CrdType.MEM, (4, 1, ALL), 0, (8, 1, ALL)),
    ("order 2 into an unaligned window", CrdType.MEM, (4, 2, ALL), 0, (9, 2, ALL)),
    ("unaligned item", CrdType.MEM, (6, 2, 0b11), 0, (16, 2, ALL)),
    ("hotspot bits outside the item", CrdType.MEM, (4, 1, ALL), 0b1111110, (16, 3, ALL)),
    ("hotspot bits outside the window", CrdType.MEM, (0, 4, ALL), 0b1111010, (40, 1, ALL)),
    ("window at the space's end", CrdType.MEM, (0, 3, ALL), 0, (60, 3, ALL)),
    ("window past the space's end", CrdType.OBJ, (3, 0, ALL), 0, (64, 0, ALL)),
    ("occupied target", CrdType.OBJ, (5, 0, ALL), 0, (40, 0, ALL)),
    ("ports at the window's start", CrdType.PIO, (16, 2, ALL), 99, (16, 4, ALL)),
    ("ports at the window's end", CrdType.PIO, (28, 2, ALL), 99, (16, 4, ALL)),
    ("ports just past the window", CrdType.PIO, (32, 2, ALL), 99, (16, 4, ALL)),
    ("ports: a small window inside the item", CrdType.PIO, (0, 5, ALL), 0, (12, 2, ALL)),
    ("ports: window at the item's end", CrdType.PIO, (0, 4, ALL), 0, (12, 2, ALL)),
    ("rights shifted by one bit", CrdType.MEM, (2, 0, 0b00110), 0, (8, 0, 0b01100)),
    ("hotspot picks an odd unit", CrdType.MEM, (4, 1, ALL), 1, (8, 0, ALL)),
    ("range window just past the space's end", CrdType.MEM, (0, 1, ALL), 0, (64, 1, ALL)),
    ("ports: one port, another one-port window", CrdType.PIO, (5, 0, ALL), 0, (9, 0, ALL)),
    ("ports: one port into its own slot", CrdType.PIO, (5, 0, ALL), 0, (5, 0, ALL)),
    ("ports just below the window", CrdType.PIO, (8, 2, ALL), 0, (12, 2, ALL)),
]


@pytest.mark.parametrize(
    ("kind", "item", "hot", "win"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_delegate_cases(
    kind: CrdType, item: tuple[int, int, int], hot: int, win: tuple[int, int, int]
) -> None:
    spaces, m = _setup(kind)
    mdb.insert_root(spaces[1], 40, 7, ALL)
    ref_insert(m, 1, 40, 7, ALL, 0)
    w_item, w_win = word(kind, *item), word(kind, *win)
    got = mdb.del_crd(spaces[0], spaces[1], w_item, hot, w_win)
    assert got == ref_del(m, 0, 1, w_item, hot, w_win)
    assert state(spaces) == m


def test_hand_computed_results() -> None:
    """A few results worked out by hand, so the model itself is checked."""
    spaces, m = _setup(CrdType.MEM)
    # order 1 item at 4 into order 3 window at 16, hotspot 6: lands at 16 + 6 & ~1 = 22
    got = mdb.del_crd(spaces[0], spaces[1], word(1, 4, 1, 0b11), 6, word(1, 16, 3, ALL))
    assert got == word(1, 22, 1, 0b11)
    assert {u: (n.obj, n.rights, n.order) for u, n in spaces[1].nodes.items()} == {
        22: (1004, 0b11, 1),
        23: (1005, 0b11, 1),
    }
    # order 4 item at 0 into order 1 window at 40, hotspot 0b1010: units 10, 11
    got = mdb.del_crd(spaces[0], spaces[2], word(1, 0, 4, ALL), 0b1010, word(1, 41, 1, ALL))
    assert got == word(1, 40, 1, ALL)
    assert {u: n.obj for u, n in spaces[2].nodes.items()} == {40: 1010, 41: 1011}
    # ports: an order-2 item at the top of an order-4 window
    p, pm = _setup(CrdType.PIO)
    got = mdb.del_crd(p[0], p[1], word(2, 28, 2, ALL), 0, word(2, 16, 4, ALL))
    assert got == word(2, 28, 2, ALL) and sorted(p[1].nodes) == [28, 29, 30, 31]
    del m, pm


def test_translate_ranges_up_to_the_limit() -> None:
    """A range translates whole only up to 2**12 units; beyond, only its first unit."""
    for order, whole in ((12, True), (13, False)):
        a, b = Space(None, CrdType.MEM, 1 << 14), Space(None, CrdType.MEM, 1 << 14)
        for u in range(1 << order):
            mdb.insert_root(a, u, u, ALL, order)
        mdb.delegate(a, 0, b, 0, order, 0b11)
        got = mdb.xlt_crd(b, a, word(1, 0, order, ALL), word(1, 0, 14, 0))
        assert got == word(1, 0, order if whole else 0, 0b11)


def test_kobject_references_follow_the_nodes() -> None:
    g: list[Kobject] = []
    s = Sm(g, 0, "s")
    a, b = Space(None, CrdType.OBJ, LIMIT), Space(None, CrdType.OBJ, LIMIT)
    assert mdb.insert_root(a, 1, s, ALL) and s.refs == 1
    assert not mdb.insert_root(a, 1, s, ALL) and s.refs == 1  # taken: no new reference
    assert not mdb.insert_root(a, LIMIT, s, ALL) and not mdb.insert_root(a, -1, s, ALL)
    mdb.delegate(a, 1, b, 2, 0, 0b1)
    mdb.delegate(a, 1, b, 3, 0, 0)  # no right in common: no node
    assert s.refs == 2 and 3 not in b.nodes
    mdb.revoke(a, 1, 0, ALL, False)
    assert s.refs == 1 and g == []
    mdb.revoke(a, 1, 0, ALL, True)
    assert s.refs == 0 and g == [s]


@given(st.integers(0, 200), st.integers(0, 200))
def test_aligned_ranges_are_the_greedy_split(base: int, count: int) -> None:
    pieces = mdb.aligned_ranges(base, count)
    at = base
    for b, o in pieces:
        assert b == at and b % 2**o == 0
        # the biggest aligned piece that fits: the next order is misaligned or too long
        assert b % 2 ** (o + 1) or b + 2 ** (o + 1) > base + count
        at += 2**o
    assert at == base + count


def test_revoke_drops_a_subtree_that_broke_the_subset_rule() -> None:
    """A child holding a right its parent lost (which delegation never makes) goes with
    its parent, and its whole subtree with it."""
    a, b, c = (Space(None, CrdType.MEM, LIMIT) for _ in range(3))
    mdb.insert_root(a, 1, 7, 0b011)
    mdb.delegate(a, 1, b, 2, 0, 0b001)
    mdb.delegate(b, 2, c, 3, 0, 0b001)
    mdb.delegate(b, 2, c, 4, 0, 0b001)
    b.nodes[2].rights = 0b101  # a right the root never had
    c.nodes[3].rights = 0b100
    c.nodes[4].rights = 0b110
    mdb.revoke(a, 1, 0, 0b001, False)  # b's node keeps 0b100, its children too
    assert (b.nodes[2].rights, c.nodes[3].rights, c.nodes[4].rights) == (0b100, 0b100, 0b110)
    b.nodes[2].rights = 0b001
    mdb.revoke(a, 1, 0, 0b001, False)  # b's node is left without rights: all below goes
    assert len(b) == 0 and len(c) == 0 and a.nodes[1].children == {}


@settings(max_examples=150)
@given(st.sampled_from(KINDS), st.lists(ops, max_size=12))
def test_operations_match_the_reference_model(kind: CrdType, script: list[Any]) -> None:
    spaces, m = _setup(kind)
    for op in script:
        _step(kind, spaces, m, op)
    for s in range(3):
        for u in range(LIMIT):
            assert mdb.lookup(spaces[s], u) == ref_lookup(m, s, kind, u), (s, u)


# Translations back to the sender's ancestor: b's units -> a's units they come from,
# then (item base, item order, window base, window order) -> (found, order) or None.
XLT: list[tuple[str, dict[int, int], tuple[int, int, int, int], tuple[int, int] | None]] = [
    ("a whole range", {16 + i: 8 + i for i in range(8)}, (16, 3, 0, 5), (8, 3)),
    ("the window's order decides", {16 + i: 8 + i for i in range(8)}, (16, 3, 8, 2), (8, 2)),
    ("a window that is the range", {16 + i: 8 + i for i in range(8)}, (16, 3, 8, 3), (8, 3)),
    ("just past the window's end", {16 + i: 8 + i for i in range(8)}, (20, 0, 8, 2), None),
    ("a one-unit window", {16: 8}, (16, 0, 8, 0), (8, 0)),
    ("a misaligned name", {16: 9, 17: 10}, (16, 1, 0, 5), (9, 0)),
    ("names not contiguous", {16: 8, 17: 12}, (16, 1, 0, 5), (8, 0)),
    ("names not contiguous at 3", {16: 8, 17: 9, 18: 10, 19: 14}, (16, 2, 0, 5), (8, 0)),
    ("a hole in the range", {16: 8}, (16, 1, 0, 5), (8, 0)),
]


@pytest.mark.parametrize(("names", "q", "want"), [c[1:] for c in XLT], ids=[c[0] for c in XLT])
def test_translate_cases(
    names: dict[int, int], q: tuple[int, int, int, int], want: tuple[int, int] | None
) -> None:
    spaces, _m = _setup(CrdType.MEM)
    for t, u in names.items():
        mdb.delegate(spaces[0], u, spaces[1], t, 0, 0b11)
    item, window = word(1, q[0], q[1], ALL), word(1, q[2], q[3], 0)
    got = mdb.xlt_crd(spaces[1], spaces[0], item, window)
    assert got == (0 if want is None else word(1, want[0], want[1], 0b11))
    assert got == ref_xlt(state(spaces), 1, 0, item, window)


def test_lookup_of_a_small_range_inside_a_bigger_alignment() -> None:
    s = Space(None, CrdType.MEM, LIMIT)
    mdb.insert_root(s, 2, 1, ALL, 1)
    mdb.insert_root(s, 3, 2, ALL, 1)
    assert mdb.lookup(s, 3) == mdb.lookup(s, 2) == word(1, 2, 1, ALL)
    assert mdb.lookup(s, 1) == 0


def test_revoke_goes_on_past_a_hole() -> None:
    a, b = Space(None, CrdType.MEM, LIMIT), Space(None, CrdType.MEM, LIMIT)
    mdb.insert_root(a, 1, 1, ALL)
    mdb.delegate(a, 1, b, 1, 0, ALL)
    mdb.revoke(a, 0, 1, ALL, True)  # unit 0 is empty, unit 1 is not
    assert len(a) == 0 and len(b) == 0
