"""The compile errors and warnings that WIRE.md names, checked on the IR.

One step, run after sema has built the IR (it needs opcodes, exception ids and the
translate/rights flags filled in): every check collects all it finds, and each problem is
reported once, at the declaration that has to change, with notes at the others.

- opcode collisions among all methods an interface serves (WIRE.md §2);
- exception id collisions within one ``raises`` list (§2);
- per message: one capability kind delegated and one translated, a bounded number of
  capabilities, at most a frame's typed items (§4);
- ``@optional`` on a capability (§3; checked only here, not in sema);
- enumerator values within 0..2^32-1 (§3), given by ``@value`` or counted on from one;
- a warning where a message cannot be proven to fit a frame on some architecture (§3),
  once for the architectures it holds on.

WIRE.md 1.1: the two rules only a wire layout needs (a bounded capability count, the
enumerator range) are errors when a layout is made (``layout=True``: code generation,
``--sizes``, ``idlc wire``) and warnings under ``--check``, which asks only whether the
IDL is valid.

Local interfaces are skipped: their calls never leave the process, so they have no wire
form (CORBA also forbids an unconstrained interface to inherit from a local one).

Which capabilities a value carries and how they travel is ``capabilities()``; backends use
the same function so that the check and the encoding agree.
"""

from __future__ import annotations

from idlc import errcodes, ir
from idlc.diagnostics import Diagnostics, Note
from idlc.layout import (
    ARCHES,
    FRAME_LIMITS,
    OBJECT_CAPABILITIES,
    UnsizedType,
    layout_for,
    method_sizes,
)
from idlc.record import record
from idlc.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

# A frame's typed items on the architecture that holds the fewest: a capability count is
# part of the protocol, so the same IDL must be valid for every architecture.
ITEM_LIMIT = min(items for _, items in FRAME_LIMITS.values())

# Enumerator values travel as a uint32 (WIRE.md §3).
_U32 = 2**32 - 1

# A local interface is never called through a portal: none of its methods is a message.
LOCAL = "local interface"

# An architecture for arch-independent counts (typed items do not depend on word size).
_ANY_ARCH = next(iter(ARCHES))


def window_kind(capability: str) -> str:
    """The receive window kind of a ``nova`` capability kind: object, memory or ioports."""
    if capability in OBJECT_CAPABILITIES:
        return "object"
    return capability


@record
class CapSite:
    """A place in a value's type where a capability travels."""

    kind: str  # window kind: object, memory, ioports
    translate: bool
    span: Span  # the innermost member or parameter that holds it


def capabilities(
    spec: ir.Specification, t: ir.Type, translate: bool, span: Span
) -> Iterator[CapSite]:
    """Every capability position in ``t``, depth first. ``translate`` and ``span`` are
    those of the parameter or member that holds ``t``: ``@translate`` on it applies to
    every capability inside, members inside may add their own ``@translate``."""
    yield from _walk(spec, t, translate, span, frozenset())


def _walk(
    spec: ir.Specification, t: ir.Type, translate: bool, span: Span, path: frozenset[str]
) -> Iterator[CapSite]:
    if isinstance(t, ir.Capability):
        yield CapSite(window_kind(t.kind), translate, span)
    elif isinstance(t, ir.Sequence | ir.Array):
        yield from _walk(spec, t.element, translate, span, path)
    elif isinstance(t, ir.Ref):
        if t.name in path:
            return
        decl = spec.lookup(t.name)
        inner = path | {t.name}
        if isinstance(decl, ir.Interface):
            yield CapSite("object", translate, span)
        elif isinstance(decl, ir.Typedef):
            yield from _walk(spec, decl.type, translate, span, inner)
        elif isinstance(decl, ir.Struct):
            if decl.base is not None:
                yield from _walk(spec, ir.Ref(decl.base, "struct"), translate, span, inner)
            for f in decl.fields:
                yield from _walk(spec, f.type, translate or f.translate, f.span, inner)
        elif isinstance(decl, ir.Union_):
            for case in decl.cases:
                f = case.field
                yield from _walk(spec, f.type, translate or f.translate, f.span, inner)


def is_capability(spec: ir.Specification, t: ir.Type) -> bool:
    """True when ``t`` is itself a capability (after typedefs), not a container of one."""
    seen: set[str] = set()
    while isinstance(t, ir.Ref) and t.name not in seen:
        seen.add(t.name)
        decl = spec.lookup(t.name)
        if isinstance(decl, ir.Interface):
            return True
        if not isinstance(decl, ir.Typedef):
            return False
        t = decl.type
    return isinstance(t, ir.Capability)


# --- the step ------------------------------------------------------------------------


def check(spec: ir.Specification, diags: Diagnostics, *, layout: bool = True) -> None:
    _Checker(spec, diags, layout).run()


@record
class _Carrier:
    """A parameter, result or exception member that puts a value into a message."""

    type: ir.Type
    translate: bool
    optional: bool
    span: Span


class _Checker:
    def __init__(self, spec: ir.Specification, diags: Diagnostics, layout: bool) -> None:
        self.spec = spec
        self.diags = diags
        # (error, warning) per layout-only rule: the one to report.
        self.unbounded = (
            errcodes.CAP_UNBOUNDED if layout else errcodes.W_CHECK_UNBOUNDED_CAPABILITIES
        )
        self.enum_range = errcodes.ENUM_VALUE_RANGE if layout else errcodes.W_CHECK_ENUM_VALUE_RANGE
        self.reported_pairs: set[tuple[tuple[str, str], tuple[str, str]]] = set()
        self.reported_mixes: set[tuple[bool, tuple[tuple[str, str], ...]]] = set()

    def run(self) -> None:
        for decl in self.spec.declarations:
            if isinstance(decl, ir.Enum):
                self.enum_values(decl)
            elif isinstance(decl, ir.Struct | ir.Exception_):
                self.optional_capabilities(decl.fields)
            elif isinstance(decl, ir.Union_):
                self.optional_capabilities(tuple(c.field for c in decl.cases))
            elif isinstance(decl, ir.Interface) and decl.interface_kind != LOCAL:
                self.opcodes(decl)
                self.served_kinds(decl)
                for method in decl.methods:
                    self.exception_ids(method)
                    self.messages(method)
                    self.fit(method)

    # -- @optional capability --

    def optional_capabilities(self, fields: tuple[ir.Field, ...]) -> None:
        for f in fields:
            if f.optional and is_capability(self.spec, f.type):
                self.diags.report(errcodes.OPTIONAL_CAPABILITY, f.span, name=f.name)

    # -- enumerator values --

    def enum_values(self, enum: ir.Enum) -> None:
        """WIRE.md §3: an enum travels as a uint32. sema counts on from the previous
        value, so an enumerator after one of 2^32-1 is 2^32."""
        previous: ir.Enumerator | None = None
        for e in enum.enumerators:
            follows = previous is not None and e.value == previous.value + 1
            bad = not 0 <= e.value <= _U32
            # An enumerator counted on from a refused one is not reported again.
            if bad and not (follows and previous is not None and previous.value > _U32):
                how = (
                    f"one more than '{previous.name}'"
                    if follows and previous is not None
                    else "given by @value"
                )
                self.diags.report(
                    self.enum_range, e.span, name=e.name, value=_show_int(e.value), how=how
                )
            previous = e

    # -- opcodes --

    def served(self, iface: ir.Interface) -> list[ir.Method]:
        """Own methods, then each base interface's own methods, every declaring interface
        once (a diamond reaches its top once), depth first in base order."""
        out: list[ir.Method] = []
        seen: set[str] = set()

        def visit(i: ir.Interface) -> None:
            if i.name in seen:
                return
            seen.add(i.name)
            out.extend(i.methods)
            for b in i.bases:
                base = self.spec.lookup(b)
                if isinstance(base, ir.Interface):
                    visit(base)

        visit(iface)
        return out

    def opcodes(self, iface: ir.Interface) -> None:
        by_opcode: dict[int, ir.Method] = {}
        for m in self.served(iface):
            first = by_opcode.setdefault(m.opcode, m)
            if first is m:
                continue
            key = (first.interface, first.name), (m.interface, m.name)
            if key in self.reported_pairs:
                continue  # the same two methods also meet in a derived interface
            self.reported_pairs.add(key)
            # Point at the later one, unless only the earlier is the interface's own.
            if first.interface == iface.name and m.interface != iface.name:
                primary, other = first, m
            else:
                primary, other = m, first
            notes = [Note(other.span, f"'{_qualified(other)}' is declared here")]
            if primary.interface != iface.name:
                notes.append(Note(iface.span, f"both are methods of interface '{iface.name}'"))
            self.diags.report(
                errcodes.OPCODE_COLLISION,
                primary.span,
                notes=notes,
                first=_qualified(first),
                second=_qualified(m),
                opcode=f"0x{m.opcode:08x}",
                hint=(
                    "give one of them a distinct @opcode"
                    if first.interface == m.interface
                    else "give one interface a distinct @id"
                ),
            )

    # -- exception ids --

    def exception_ids(self, method: ir.Method) -> None:
        by_id: dict[int, ir.Exception_] = {}
        for name in method.raises:
            exc = self.spec.lookup(name)
            if not isinstance(exc, ir.Exception_):
                continue  # sema reports RAISES_NOT_EXCEPTION
            first = by_id.setdefault(exc.exception_id, exc)
            if first.name == exc.name:
                continue
            self.diags.report(
                errcodes.EXCEPTION_ID_COLLISION,
                method.span,
                notes=[
                    Note(first.span, f"'{first.name}' is declared here"),
                    Note(exc.span, f"'{exc.name}' is declared here"),
                ],
                first=first.name,
                second=exc.name,
                eid=f"0x{exc.exception_id:08x}",
            )

    # -- capabilities per message --

    def messages(self, method: ir.Method) -> None:
        request = [
            _Carrier(p.type, p.translate, False, p.span)
            for p in method.params
            if p.mode in ("in", "inout")
        ]
        self.message(method, "request", [request])
        if method.oneway:
            return
        success = []
        if method.result is not None:
            translate = any(a.name == "translate" for a in method.annotations)
            success.append(_Carrier(method.result, translate, False, method.span))
        success += [
            _Carrier(p.type, p.translate, False, p.span)
            for p in method.params
            if p.mode in ("out", "inout")
        ]
        replies = [success]
        for name in method.raises:
            exc = self.spec.lookup(name)
            if isinstance(exc, ir.Exception_):
                replies.append(
                    [_Carrier(f.type, f.translate, f.optional, f.span) for f in exc.fields]
                )
        self.message(method, "reply", replies)

    def message(
        self, method: ir.Method, direction: str, alternatives: list[list[_Carrier]]
    ) -> None:
        """One message, which is one of ``alternatives`` (the success reply or one of the
        exceptions); a receiver arms its windows before it knows which one comes."""
        self.kinds(method, direction, [c for alt in alternatives for c in alt])
        layout = layout_for(self.spec, _ANY_ARCH)
        most = 0
        for alt in alternatives:
            count = 0
            for c in alt:
                try:
                    items = layout.field_size(c.type, c.optional).max_items
                except UnsizedType:
                    continue  # sema reported the type
                if items is None:
                    self.diags.report(
                        self.unbounded,
                        c.span,
                        direction=direction,
                        method=_qualified(method),
                    )
                    return
                count += items
            most = max(most, count)
        if most > ITEM_LIMIT:
            self.diags.report(
                errcodes.CAP_TOO_MANY,
                method.span,
                direction=direction,
                method=_qualified(method),
                count=most,
                limit=ITEM_LIMIT,
            )

    def kinds(self, method: ir.Method, direction: str, carriers: list[_Carrier]) -> None:
        # how -> window kind -> (carrier span, innermost span) of its first capability
        first: dict[bool, dict[str, tuple[Span, Span]]] = {False: {}, True: {}}
        for c in carriers:
            for site in capabilities(self.spec, c.type, c.translate, c.span):
                first[site.translate].setdefault(site.kind, (c.span, site.span))
        for translate, found in first.items():
            if len(found) < 2:
                continue
            kinds = list(found)
            carrier, _ = found[kinds[1]]
            how = "translate" if translate else "delegate"
            notes = [
                Note(where, f"{kind} capability here")
                for kind, (_, where) in found.items()
                if where != carrier
            ]
            self.diags.report(
                errcodes.CAP_MIXED_KINDS,
                carrier,
                notes=notes,
                direction=direction,
                method=_qualified(method),
                how=how,
                kinds=", ".join(kinds),
            )

    def served_kinds(self, iface: ir.Interface) -> None:
        """A server arms its windows before it knows which method is called, so the
        requests of all the methods it serves may delegate one kind and translate one
        kind between them (one method's own mix is ``messages``' report)."""
        first: dict[bool, dict[str, tuple[ir.Method, Span]]] = {False: {}, True: {}}
        for m in self.served(iface):
            for p in m.params:
                if p.mode not in ("in", "inout"):
                    continue
                for site in capabilities(self.spec, p.type, p.translate, p.span):
                    first[site.translate].setdefault(site.kind, (m, site.span))
        for translate, found in first.items():
            methods = {(m.interface, m.name) for m, _ in found.values()}
            if len(found) < 2 or len(methods) < 2:
                continue
            key = (translate, tuple(sorted(methods)))
            if key in self.reported_mixes:
                continue  # the same methods meet again in a derived interface
            self.reported_mixes.add(key)
            how = "translate" if translate else "delegate"
            self.diags.report(
                errcodes.CAP_MIXED_KINDS,
                iface.span,
                notes=[
                    Note(where, f"{kind} capability in the request of '{_qualified(m)}'")
                    for kind, (m, where) in found.items()
                ],
                direction="requests",
                method=iface.name,
                how=how,
                kinds=", ".join(found),
            )

    # -- frame fit --

    def fit(self, method: ir.Method) -> None:
        """One warning per direction, naming every architecture it holds on."""
        over: dict[str, list[tuple[str, str, int]]] = {"request": [], "reply": []}
        for arch, (word_limit, _) in FRAME_LIMITS.items():
            try:
                request, reply = method_sizes(self.spec, method, arch)
            except UnsizedType:
                return
            for direction, size in (("request", request), ("reply", reply)):
                if size is None:
                    continue
                if size.max_words is not None and size.max_words <= word_limit:
                    continue
                need = "unbounded" if size.max_words is None else str(size.max_words)
                over[direction].append((arch, need, word_limit))
        for direction, arches in over.items():
            if not arches:
                continue
            needs = {need for _, need, _ in arches}
            if len(needs) == 1:
                need = f"{arches[0][1]} words on {_and(a for a, _, _ in arches)}"
            else:
                need = _and(f"{n} words on {a}" for a, n, _ in arches)
            self.diags.report(
                errcodes.W_MAY_NOT_FIT,
                method.span,
                direction=direction,
                method=_qualified(method),
                need=need,
                limit=_and(str(limit) for _, _, limit in arches),
            )


def _and(words: Iterable[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(words)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def _qualified(method: ir.Method) -> str:
    return f"{method.interface}::{method.name}"


def _show_int(value: int) -> str:
    """A value for a message; a huge literal is shortened (and would exceed Python's
    limit on converting integers to decimal text)."""
    if value.bit_length() <= 200:
        return str(value)
    return f"{'-' if value < 0 else ''}0x{abs(value):x}"[:24] + f"... ({value.bit_length()} bits)"
