"""The compile errors and warnings that WIRE.md names, checked on the IR.

One step, run after sema has built the IR (it needs opcodes, exception ids and the
translate/rights flags filled in): every check collects all it finds, and each problem is
reported once, at the declaration that has to change, with notes at the others.

- opcode collisions among all methods an interface serves (WIRE.md §2);
- exception id collisions within one ``raises`` list (§2);
- per message: one capability kind delegated and one translated, a bounded number of
  capabilities, at most a frame's typed items (§4);
- ``@optional`` on a capability (§3; checked only here, not in sema);
- a warning where a message cannot be proven to fit a frame on some architecture (§3).

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
    from collections.abc import Iterator

# A frame's typed items on the architecture that holds the fewest: a capability count is
# part of the protocol, so the same IDL must be valid for every architecture.
ITEM_LIMIT = min(items for _, items in FRAME_LIMITS.values())

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


def check(spec: ir.Specification, diags: Diagnostics) -> None:
    _Checker(spec, diags).run()


@record
class _Carrier:
    """A parameter, result or exception member that puts a value into a message."""

    type: ir.Type
    translate: bool
    optional: bool
    span: Span


class _Checker:
    def __init__(self, spec: ir.Specification, diags: Diagnostics) -> None:
        self.spec = spec
        self.diags = diags
        self.reported_pairs: set[tuple[tuple[str, str], tuple[str, str]]] = set()
        self.reported_mixes: set[tuple[bool, tuple[tuple[str, str], ...]]] = set()

    def run(self) -> None:
        for decl in self.spec.declarations:
            if isinstance(decl, ir.Struct | ir.Exception_):
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
                        errcodes.CAP_UNBOUNDED,
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
                self.diags.report(
                    errcodes.W_MAY_NOT_FIT,
                    method.span,
                    direction=direction,
                    method=_qualified(method),
                    need=need,
                    arch=arch,
                    limit=word_limit,
                )


def _qualified(method: ir.Method) -> str:
    return f"{method.interface}::{method.name}"
