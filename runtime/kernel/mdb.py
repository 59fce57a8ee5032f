"""The mapping database: who derived which capability from whom (NOVA-NRE.md §3, §7).

Every capability is a node `(space, unit, object, rights)` with a parent (the node it
was delegated from; none for the one made by create_*) and children. Rights only
shrink down the tree: a child's rights are always a subset of its parent's.
"""

from __future__ import annotations

from .crd import CrdType, crd
from .kobject import Kobject
from .space import Space

__all__ = [
    "Node",
    "aligned_ranges",
    "del_crd",
    "delegate",
    "insert_root",
    "lookup",
    "revoke",
    "xlt_crd",
]

_XLT_RANGE_LIMIT = 1 << 12  # translate checks contiguity of at most this many units
_PIO = int(CrdType.PIO)


class Node:
    __slots__ = ("children", "obj", "order", "parent", "rights", "space", "unit")

    def __init__(
        self, space: Space, unit: int, obj: object, rights: int, parent: Node | None, order: int
    ) -> None:
        self.space = space
        self.unit = unit
        # the order of the range this unit was made in (one node per unit here; NOVA's
        # node covers the range): what `lookup` reports while the range is whole
        self.order = order
        self.obj = obj  # Kobject (OBJ), physical page frame (MEM) or port (PIO)
        self.rights = rights
        self.parent = parent
        # an ordered set: a child leaves in O(1), so revoking a wide fan-out is linear
        # (and an empty dict is not tracked by Python's garbage collector)
        self.children: dict[Node, None] = {}

    def __repr__(self) -> str:
        return f"Node({self.space.kind.name} {self.unit:#x} -> {self.obj!r}, {self.rights:#x})"


def _link(
    space: Space, unit: int, obj: object, rights: int, parent: Node | None, order: int = 0
) -> Node:
    node = Node(space, unit, obj, rights, parent, order)
    space.nodes[unit] = node
    space.gen += 1
    if parent is not None:
        parent.children[node] = None
    if isinstance(obj, Kobject):
        obj.acquire()
    return node


def _unlink(node: Node) -> None:
    del node.space.nodes[node.unit]
    node.space.gen += 1
    if node.parent is not None:
        del node.parent.children[node]
        node.parent = None
    if isinstance(node.obj, Kobject):
        node.obj.release()


def insert_root(space: Space, unit: int, obj: object, rights: int, order: int = 0) -> bool:
    """Make the first capability of a new object (or one unit of a resource range of
    `order` that the kernel hands out whole, such as root's memory); False if the slot
    is taken."""
    if unit >= space.limit or unit < 0 or unit in space.nodes:
        return False
    _link(space, unit, obj, rights, None, order)
    return True


def aligned_ranges(base: int, count: int) -> list[tuple[int, int]]:
    """[base, base+count) as naturally aligned power-of-two (base, order) pieces, biggest
    first where alignment allows (NRE's CapRange split, NOVA-NRE.md §3)."""
    out: list[tuple[int, int]] = []
    end = base + count
    while base < end:
        o = (base & -base).bit_length() - 1 if base else (end - base).bit_length() - 1
        while base + (1 << o) > end:
            o -= 1
        out.append((base, o))
        base += 1 << o
    return out


def delegate(src: Space, sb: int, dst: Space, rb: int, order: int, attr: int) -> None:
    """Derive children in `dst` at rb.. from `src` at sb..; holes and taken slots are skipped."""
    if not order:  # one unit: the common case (a single capability)
        parent = src.nodes.get(sb)
        if parent is None or rb >= dst.limit or rb in dst.nodes:
            return  # a hole in the source, or a taken target: skipped silently
        rights = parent.rights & attr
        if rights:
            _link(dst, rb, parent.obj, rights, parent)
        return
    count = 1 << order
    taken = dst.nodes
    for u in src.units_in(sb, count):
        t = rb + (u - sb)
        if t >= dst.limit or t in taken:
            continue  # the kernel skips an occupied target silently
        parent = src.nodes[u]
        rights = parent.rights & attr
        if rights:  # a child covers the smaller of the two ranges (NOVA's clamp)
            _link(dst, t, parent.obj, rights, parent, min(order, parent.order))


def del_crd(src: Space, dst: Space, item: int, hotspot: int, window: int) -> int:
    """One delegated typed item; returns the Crd reported to the receiver.

    Paraphrase of the kernel's `del_crd`: types must match and share a right; both Crds
    are aligned to their order; the smaller one decides the order and the hotspot picks
    the part of the bigger one. PIO ignores the hotspot: port numbers stay the same.
    """
    typ = item & 3
    a = (item >> 2) & (window >> 2) & 0x1F
    if not typ or typ != (window & 3) or not a:  # typ 0: CrdType.NULL
        return 0
    if not (item | window) & 0xF80 and typ != _PIO:
        # Both of order 0 (one capability into a one-slot window, every object item):
        # no alignment, the hotspot selects nothing, the window's slot is the target.
        rb = window >> 12
        delegate(src, item >> 12, dst, rb, 0, a)
        return rb << 12 | a << 2 | typ  # crd(typ, rb, 0, a): every field is in range
    so, ro = (item >> 7) & 0x1F, (window >> 7) & 0x1F
    sb = (item >> 12) & ~((1 << so) - 1)
    rb = (window >> 12) & ~((1 << ro) - 1)
    if typ == _PIO:
        # Identity mapping: the overlap of item and window, if any.
        o = min(so, ro)
        lo, hi = max(sb, rb), min(sb + (1 << so), rb + (1 << ro))
        if lo >= hi:
            return 0
        base = lo & ~((1 << o) - 1)
        delegate(src, base, dst, base, o, a)
        return crd(typ, base, o, a)
    if so <= ro:
        o = so
        rb |= hotspot & ((1 << ro) - 1) & ~((1 << so) - 1)
    else:
        o = ro
        sb |= hotspot & ((1 << so) - 1) & ~((1 << ro) - 1)
    delegate(src, sb, dst, rb, o, a)
    return crd(typ, rb, o, a)


def _receiver_name(node: Node, dst: Space, lo: int, hi: int) -> Node | None:
    p = node.parent
    while p is not None:
        if p.space is dst and lo <= p.unit < hi:
            return p
        p = p.parent
    return None


def xlt_crd(src: Space, dst: Space, item: int, window: int) -> int:
    """One translated typed item: the receiver's own name for the sender's object, or 0.

    Walks up from the sender's node (excluding it) to the first ancestor in the
    receiver's space inside the window; the result carries the sender node's rights
    (NOVA-NRE.md §3: not masked by the item's). A range translates to a range only
    where the receiver holds it contiguously.
    """
    typ = item & 3
    if typ == CrdType.NULL or typ != (window & 3):
        return 0
    so, wo = (item >> 7) & 0x1F, (window >> 7) & 0x1F
    sb = (item >> 12) & ~((1 << so) - 1)
    lo = (window >> 12) & ~((1 << wo) - 1)
    hi = lo + (1 << wo)
    node = src.nodes.get(sb)
    if node is None:
        return 0
    found = _receiver_name(node, dst, lo, hi)
    if found is None:
        return 0
    a = node.rights
    o = min(so, wo)
    if o:
        if (1 << o) > _XLT_RANGE_LIMIT or found.unit & ((1 << o) - 1):
            o = 0
        else:
            for i in range(1, 1 << o):
                n = src.nodes.get(sb + i)
                f = None if n is None else _receiver_name(n, dst, lo, hi)
                if f is None or f.unit != found.unit + i:
                    o = 0
                    break
    return crd(typ, found.unit, o, a)


def revoke(space: Space, base: int, order: int, attr: int, include_self: bool) -> None:
    """Strip `attr` from every node in the range and, recursively, from all derived nodes;
    the range's own nodes only if `include_self`. Nodes left without rights vanish."""
    for u in space.units_in(base & ~((1 << order) - 1), 1 << order):
        top = space.nodes.get(u)
        if top is None:
            continue
        # Post-order over the subtree, iteratively: derivation chains can be long.
        order_list: list[Node] = []
        stack = [top]
        while stack:
            n = stack.pop()
            order_list.append(n)
            stack.extend(n.children)
        for n in reversed(order_list):
            if n is top and not include_self:
                continue
            n.rights &= ~attr
            n.space.gen += 1
            if not n.rights:
                for c in list(n.children):  # unreachable by the subset rule; kept safe
                    _drop_subtree(c)
                _unlink(n)


def _drop_subtree(node: Node) -> None:
    stack = [node]
    post: list[Node] = []
    while stack:
        n = stack.pop()
        post.append(n)
        stack.extend(n.children)
    for n in reversed(post):
        _unlink(n)


def lookup(space: Space, unit: int) -> int:
    """The Crd of the capability at `unit`, or 0 (NOVA's lookup, NOVA-NRE.md §1): the
    base and order of the range it was created or delegated in, while every unit of that
    range is still there with the same order and rights; else the unit alone (order 0),
    as NOVA's node would have been split by then."""
    nodes = space.nodes
    node = nodes.get(unit)
    if node is None:
        return 0
    o, rights = node.order, node.rights
    if o:
        base = unit & ~((1 << o) - 1)
        for u in range(base, base + (1 << o)):
            n = nodes.get(u)
            if n is None or n.order != o or n.rights != rights:
                return crd(space.kind, unit, 0, rights)
        return crd(space.kind, base, o, rights)
    return crd(space.kind, unit, 0, rights)
