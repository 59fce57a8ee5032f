"""Semantic analysis: scopes, name resolution, constants and checks; AST in, IR out.

One walk in source order, as the spec's declare-before-use rule reads: a name is visible
from its declaration on. Each definition gets an Entry in its Scope; forward declarations
are completed by their definition; every check reports and goes on where it can, so one
run shows as many errors as possible.
"""

from __future__ import annotations

import zlib

from idlc import ast, ir
from idlc import errcodes as E
from idlc.annotations import AnnotationChecker
from idlc.consteval import ENUM, EvalError, Evaluator, Value
from idlc.diagnostics import Diagnostics, Note
from idlc.diagnostics import with_article as _a
from idlc.record import field, record
from idlc.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

_BASE_KINDS = {
    "short": "int16",
    "long": "int32",
    "longlong": "int64",
    "ushort": "uint16",
    "ulong": "uint32",
    "ulonglong": "uint64",
    "int8": "int8",
    "uint8": "uint8",
    "float": "float",
    "double": "double",
    "longdouble": "longdouble",
    "char": "char",
    "wchar": "wchar",
    "boolean": "boolean",
    "octet": "octet",
}
# IDL spellings for messages.
_IDL_NAMES = {
    "int16": "short",
    "int32": "long",
    "int64": "long long",
    "uint16": "unsigned short",
    "uint32": "unsigned long",
    "uint64": "unsigned long long",
    "longdouble": "long double",
}

# The built-in `nova` module: kernel objects as capability types (DESIGN.md, WIRE.md §4).
NOVA_TYPES = {
    "Portal": "portal",
    "Semaphore": "semaphore",
    "Pd": "pd",
    "Ec": "ec",
    "Sc": "sc",
    "Memory": "memory",
    "IoPorts": "ioports",
}

TYPE_KINDS = {
    "struct",
    "union",
    "enum",
    "bitmask",
    "bitset",
    "typedef",
    "native",
    "interface",
    "capability",
    "valuetype",
    "eventtype",
    "component",
    "home",
    "porttype",
    "connector",
}
_FORWARD_OF = {
    "struct": "struct",
    "union": "union",
    "interface": "interface",
    "abstract interface": "interface",
    "local interface": "interface",
    "pseudo interface": "interface",
    "valuetype": "valuetype",
    "abstract valuetype": "valuetype",
    "eventtype": "eventtype",
    "abstract eventtype": "eventtype",
    "component": "component",
    "porttype": "porttype",
}


@record(frozen=False, eq=False)
class Entry:
    name: str
    kind: str  # module, const, struct, union, enum, enumerator, ..., member, param, ...
    scoped: str
    span: Span
    scope: Scope | None = None  # for modules, interfaces, structs...
    defined: bool = True  # False for a forward declaration not yet completed
    complete: bool = True  # False while a struct/union body is being analysed
    value: Value | None = None  # consts and enumerators
    type: ir.Type | None = None  # typedefs and consts: the resolved type
    decl: Any = None  # the AST node
    opaque: bool = False  # inside a template module: names are not checked
    builtin: bool = False  # predefined; a declaration in the file replaces it
    # Structs and unions: the forward-declared types whose definitions complete this one
    # (it holds a sequence of them, IDL 4.2 §7.4.1.4.4.4); see Analyzer.waiting_for.
    waits: frozenset[str] = frozenset()


@record(frozen=False, eq=False)
class Scope:
    name: str  # scoped name, "" for the root
    kind: str
    parent: Scope | None
    entries: dict[str, Entry] = field(default_factory=dict)
    lower: dict[str, Entry] = field(default_factory=dict)
    bases: list[Scope] = field(default_factory=list)
    opaque: bool = False
    # Names used here that were found in an enclosing scope, with the first use: they
    # may not be declared here afterwards (IDL 4.2 §7.5.3, "introduced" names).
    used: dict[str, tuple[Entry, Span]] = field(default_factory=dict)
    # The first of those per lower-case spelling (written by use(), with `used`).
    used_lower: dict[str, str] = field(default_factory=dict)

    def use(self, name: str, entry: Entry, span: Span) -> None:
        """Record a name found in an enclosing scope; the first use is the one kept."""
        if name not in self.used:
            self.used[name] = (entry, span)
            self.used_lower.setdefault(name.lower(), name)

    def qualify(self, name: str) -> str:
        return f"{self.name}::{name}" if self.name else name


class Analyzer:
    def __init__(self, diags: Diagnostics, main_file: str) -> None:
        self.diags = diags
        self.main_file = main_file
        self.root = Scope("", "root", None)
        self.decls: list[ir.Declaration] = []
        self.evaluator = Evaluator(diags, self._resolve_value)
        self.annotations = AnnotationChecker(diags, self.evaluator)
        self.scope = self.root
        self.forwards: list[Entry] = []
        self._install_nova()

    # --- scopes ----------------------------------------------------------------------
    def _install_nova(self) -> None:
        span = Span("<built-in>", 1, 1, 1, 2)
        nova = Scope("nova", "module", self.root)
        entry = Entry("nova", "module", "nova", span, nova)
        self.root.entries["nova"] = entry
        self.root.lower["nova"] = entry
        for name, kind in NOVA_TYPES.items():
            e = Entry(name, "capability", f"nova::{name}", span, type=ir.Capability(kind))
            nova.entries[name] = e
            nova.lower[name.lower()] = e
        # CORBA's pseudo-objects that its own IDL files use without declaring them.
        corba = Scope("CORBA", "module", self.root)
        entry = Entry("CORBA", "module", "CORBA", span, corba)
        self.root.entries["CORBA"] = entry
        self.root.lower["corba"] = entry
        for name in ("TypeCode", "Principal"):
            e = Entry(name, "native", f"CORBA::{name}", span, builtin=True)
            corba.entries[name] = e
            corba.lower[name.lower()] = e

    def declare(
        self, name: str, kind: str, span: Span, *, scope: Scope | None = None, **kw: Any
    ) -> Entry:
        """Add a name to a scope, reporting redefinitions and case collisions."""
        scope = scope or self.scope
        scoped = scope.qualify(name)
        old = scope.entries.get(name)
        if old is not None and old.builtin:
            del scope.entries[name]
            old = None
        if old is not None:
            fwd = _FORWARD_OF.get(kind)
            if kind == "module" and old.kind == "module":
                return old  # a module may be reopened
            if old.kind == f"forward {fwd}" or (old.kind == fwd and not old.defined):
                # A forward declaration, or a definition after forward declarations.
                old.kind = fwd or kind
                old.span = span
                old.defined = kind == fwd
                for k, v in kw.items():
                    setattr(old, k, v)
                return old
            if kind.startswith("forward ") and old.kind == kind[len("forward ") :]:
                return old  # a forward declaration after the definition is harmless
            if kind.startswith("forward ") and old.kind == kind:
                return old
            if kind.startswith("forward ") or old.kind.startswith("forward "):
                self.diags.report(
                    E.NAME_FORWARD_MISMATCH,
                    span,
                    name=name,
                    old=_a(old.kind.replace("forward ", "")),
                    new=_a(kind.replace("forward ", "")),
                    notes=[Note(old.span, "previous declaration is here")],
                )
            else:
                self.diags.report(
                    E.NAME_REDEFINITION,
                    span,
                    name=name,
                    notes=[Note(old.span, "previous definition is here")],
                )
            return Entry(name, kind, scoped, span, **kw)  # analysed, but not visible
        used = scope.used.get(name)
        if used is not None and not kind.startswith("forward "):
            self.diags.report(
                E.NAME_CHANGED_MEANING,
                span,
                name=name,
                old=f"::{used[0].scoped}",
                notes=[Note(used[1], f"'{name}' is used here, meaning '::{used[0].scoped}'")],
            )
        other = scope.lower.get(name.lower())
        if other is not None and other.name != name:
            self.diags.report(
                E.NAME_CASE_COLLISION,
                span,
                name=name,
                other=other.name,
                notes=[Note(other.span, f"'{other.name}' is declared here")],
            )
        if kind != "state member":  # fields() checked it already
            self.not_scope_name(name, span, scope)
        entry = Entry(name, kind, scoped, span, **kw)
        entry.defined = not kind.startswith("forward ")
        if entry.kind.startswith("forward "):
            self.forwards.append(entry)
        scope.entries[name] = entry
        scope.lower.setdefault(name.lower(), entry)
        return entry

    def not_scope_name(self, name: str, span: Span, scope: Scope | None = None) -> None:
        """A declaration may not take the name of the scope that encloses it, in any case
        (IDL 4.2 §7.5.2: `void timer()` in `interface Timer`), whatever the scope."""
        scope = scope or self.scope
        if scope.kind == "root":
            return
        own = scope.name.rsplit("::", 1)[-1]
        if name.lower() == own.lower():
            self.diags.report(E.NAME_SAME_AS_SCOPE, span, name=name, notes=None)

    def enter(self, entry: Entry, kind: str) -> Scope:
        if entry.scope is None:
            entry.scope = Scope(entry.scoped, kind, self.scope)
        entry.scope.parent = self.scope
        self.scope = entry.scope
        return entry.scope

    def leave(self, scope: Scope) -> None:
        assert scope.parent is not None
        self.scope = scope.parent

    # --- lookup ----------------------------------------------------------------------
    def lookup(self, name: ast.Name, *, report: bool = True) -> Entry | None:
        parts = name.parts
        entry: Entry | None
        if name.absolute:
            entry = self._find_in(self.root, parts[0], name)
        else:
            entry = None
            s: Scope | None = self.scope
            while s is not None and entry is None:
                if s.opaque:
                    return Entry(parts[-1], "opaque", str(name), name.span, opaque=True)
                entry = self._find_in(s, parts[0], name)
                if entry is not None and s is not self.scope:
                    self._introduce(parts[0], entry, name.span, s)
                s = s.parent
        for part in parts[1:]:
            if entry is None:
                break
            if entry.opaque or (entry.scope is not None and entry.scope.opaque):
                return Entry(parts[-1], "opaque", str(name), name.span, opaque=True)
            entry = self._find_in(entry.scope, part, name) if entry.scope else None
        if entry is None and report:
            from idlc.suggest import similar_name

            notes = similar_name(name, self.scope, self.root)
            self.diags.report(E.NAME_UNDECLARED, name.span, name=str(name), notes=notes)
        return entry

    def _introduce(self, name: str, entry: Entry, span: Span, found_in: Scope) -> None:
        """A name found in an enclosing scope is introduced into the scope that uses it
        and, when that scope is nested in a non-module scope, into each enclosing scope
        out to the outermost non-module one (IDL 4.2 §7.5.3): after `struct S { struct T
        { ArgType x; } m; }` in an interface, the interface may not declare ArgType."""
        s: Scope | None = self.scope
        first = True
        while s is not None and s is not found_in and (first or s.kind not in ("module", "root")):
            s.use(name, entry, span)
            s = s.parent
            first = False

    def _find_in(self, scope: Scope, name: str, ref: ast.Name) -> Entry | None:
        entry = scope.entries.get(name)
        if entry is not None:
            return entry
        found: list[Entry] = []
        seen: set[int] = set()
        stack = list(scope.bases)
        while stack:
            base = stack.pop(0)
            if id(base) in seen:
                continue
            seen.add(id(base))
            e = base.entries.get(name)
            if e is not None:
                if all(e is not f for f in found):
                    found.append(e)
                continue
            stack.extend(base.bases)
        if len(found) > 1 and any(f.kind not in ("operation", "attribute") for f in found):
            where = " and ".join(f"'{f.scoped.rsplit('::', 1)[0]}'" for f in found[:2])
            self.diags.report(E.NAME_AMBIGUOUS, ref.span, name=name, where=where)
        return found[0] if found else None

    # --- expressions -----------------------------------------------------------------
    def _resolve_value(self, name: ast.Name) -> Value:
        entry = self.lookup(name)
        if entry is None:
            raise EvalError()
        if entry.opaque:
            raise EvalError()
        if entry.value is None:
            if entry.kind in ("const", "enumerator"):
                raise EvalError()  # its own definition failed and was reported
            self.diags.report(
                E.CONST_NOT_CONSTANT,
                name.span,
                name=str(name),
                notes=[Note(entry.span, f"'{name}' is {_a(entry.kind)}, declared here")],
            )
            raise EvalError()
        return entry.value

    def bound(self, expr: ast.Expr | None, what: str) -> int | None:
        if expr is None:
            return None
        try:
            return self.evaluator.positive_int(expr, what)
        except EvalError:
            return None

    # --- types -----------------------------------------------------------------------
    def resolve_type(self, t: ast.TypeSpec, *, in_sequence: bool = False) -> ir.Type:
        if isinstance(t, ast.BaseType):
            kind = _BASE_KINDS.get(t.kind)
            if kind is not None:
                return ir.Primitive(kind)
            if t.kind == "fixed":
                return ir.Fixed(31, 0)
            return ir.Opaque(t.kind)
        if isinstance(t, ast.StringType):
            return ir.String(t.wide, self.bound(t.bound, "a string bound"))
        if isinstance(t, ast.SequenceType):
            elem = self.resolve_type(t.element, in_sequence=True)
            return ir.Sequence(elem, self.bound(t.bound, "a sequence bound"))
        if isinstance(t, ast.FixedType):
            digits = self.bound(t.digits, "the digits of a fixed type") or 1
            try:
                scale_v = self.evaluator.eval(t.scale)
                scale = scale_v.value if isinstance(scale_v.value, int) else 0
            except EvalError:
                scale = 0
            if digits > 31 or not 0 <= scale <= digits:
                self.diags.report(
                    E.BIT_FIELD_RANGE,
                    t.span,
                    what="fixed digits/scale",
                    value=f"<{digits},{scale}>",
                    lo=1,
                    hi=31,
                )
            return ir.Fixed(digits, scale)
        if isinstance(t, ast.MapType):
            return ir.Map(
                self.resolve_type(t.key, in_sequence=True),
                self.resolve_type(t.value, in_sequence=True),
                self.bound(t.bound, "a map bound"),
            )
        if isinstance(t, ast.Name):
            return self.named_type(t, in_sequence=in_sequence)
        # An inline declaration of a struct, union, enum, bitset or bitmask.
        self.definition(t)
        return ir.Ref(self.scope.qualify(t.name), _node_kind(t))

    def named_type(self, name: ast.Name, *, in_sequence: bool = False) -> ir.Type:
        entry = self.lookup(name)
        if entry is None or entry.opaque:
            return ir.Opaque("unresolved")
        kind = entry.kind
        if kind == "capability":
            assert entry.type is not None
            return entry.type
        if kind.startswith("forward "):
            base = kind[len("forward ") :]
            if base in ("struct", "union") and not in_sequence:
                self.diags.report(
                    E.NAME_INCOMPLETE,
                    name.span,
                    name=str(name),
                    reason="it is forward-declared and not defined yet",
                    notes=[Note(entry.span, "forward-declared here")],
                )
            return ir.Ref(entry.scoped, base)
        if kind in ("struct", "union") and entry.waits and not in_sequence:
            missing = self.waiting_for(entry)
            if missing:
                fwd = self._entry_by_scoped(missing[0])
                self.diags.report(
                    E.NAME_INCOMPLETE,
                    name.span,
                    name=str(name),
                    reason=f"it holds a sequence of '{missing[0]}', which is not defined yet",
                    notes=[Note(fwd.span, "forward-declared here")] if fwd else None,
                )
        if kind in ("struct", "union") and not entry.complete and not in_sequence:
            self.diags.report(
                E.TYPE_RECURSIVE,
                name.span,
                name=str(name),
                notes=[Note(entry.span, "defined here")],
            )
            return ir.Ref(entry.scoped, kind)
        if kind == "exception":
            self.diags.report(E.EXCEPTION_AS_DATA, name.span, name=str(name))
            return ir.Opaque("exception")
        if kind in TYPE_KINDS:
            return ir.Ref(entry.scoped, kind)
        self.diags.report(
            E.NAME_WRONG_KIND,
            name.span,
            name=str(name),
            kind=_a(kind),
            expected="a type",
            notes=[Note(entry.span, "declared here")],
        )
        return ir.Opaque("unresolved")

    def type_waits(self, t: ir.Type) -> frozenset[str]:
        """The forward-declared structs and unions a member of type t makes its struct or
        union wait for: through sequences, arrays, maps and typedefs, and what the structs
        and unions it holds wait for (a struct with a member of incomplete sequence type
        is incomplete until the sequence's element type is defined, IDL 4.2
        §7.4.1.4.4.4)."""
        while isinstance(t, (ir.Sequence, ir.Array)):
            t = t.element
        if isinstance(t, ir.Map):
            return self.type_waits(t.key) | self.type_waits(t.value)
        if not isinstance(t, ir.Ref) or t.kind not in ("typedef", "struct", "union"):
            return frozenset()
        entry = self._entry_by_scoped(t.name)
        if entry is None:
            return frozenset()
        if t.kind == "typedef":
            return self.type_waits(entry.type) if entry.type is not None else frozenset()
        if entry.kind.startswith("forward "):
            return frozenset({entry.scoped})
        return entry.waits

    def waiting_for(self, entry: Entry) -> list[str]:
        """The forward-declared structs and unions, not defined yet, that entry waits for
        (a definition's own waits count in its place)."""
        out: list[str] = []
        seen: set[str] = set()
        stack = list(entry.waits)
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            e = self._entry_by_scoped(name)
            if e is None:
                continue
            if e.kind.startswith("forward "):
                out.append(name)
            else:
                stack.extend(e.waits)
        return sorted(out)

    def array_type(self, t: ir.Type, sizes: tuple[ast.Expr, ...]) -> ir.Type:
        """t with the array sizes of a declarator (or an array parameter) applied."""
        if not sizes:
            return t
        dims = tuple(self.bound(s, "an array size") or 1 for s in sizes)
        return ir.Array(t, dims)

    def first_use(
        self, seen: dict[str, Span], name: str, span: Span, defn: E.DiagDef, note: str
    ) -> bool:
        """Record a member or parameter name; report it (False) when seen already."""
        prev = seen.get(name)
        if prev is not None:
            self.diags.report(defn, span, name=name, notes=[Note(prev, note)])
            return False
        seen[name] = span
        return True

    def not_used_here(self, name: str, span: Span) -> None:
        """IDL 4.2 §7.5.3 forbids a member or parameter a name (in any case) that a type
        or label of the same scope used before (`in Foo foo`, `r r;`): omniidl and JacORB
        refuse it, Cyclone DDS and TAO accept it, and real DDS files do it. A warning."""
        used = self.scope.used_lower.get(name.lower())
        if used is None:
            return
        entry, where = self.scope.used[used]
        self.diags.report(
            E.W_NAME_USED_IN_SCOPE,
            span,
            name=name,
            used=used,
            old=f"::{entry.scoped}",
            notes=[Note(where, f"'{used}' is used here, meaning '::{entry.scoped}'")],
        )

    def unalias(self, t: ir.Type) -> ir.Type:
        """Follow typedefs to the underlying type."""
        seen = 0
        while isinstance(t, ir.Ref) and t.kind == "typedef" and seen < 100:
            entry = self._entry_by_scoped(t.name)
            if entry is None or entry.type is None:
                return t
            t = entry.type
            seen += 1
        return t

    def _entry_by_scoped(self, scoped: str) -> Entry | None:
        scope = self.root
        parts = scoped.split("::")
        entry: Entry | None = None
        for i, p in enumerate(parts):
            entry = scope.entries.get(p)
            if entry is None:
                return None
            if i < len(parts) - 1:
                if entry.scope is None:
                    return None
                scope = entry.scope
        return entry

    def type_name(self, t: ir.Type) -> str:
        if isinstance(t, ir.Primitive):
            return _IDL_NAMES.get(t.kind, t.kind)
        if isinstance(t, ir.String):
            base = "wstring" if t.wide else "string"
            return f"{base}<{t.bound}>" if t.bound else base
        if isinstance(t, ir.Ref):
            return t.name
        if isinstance(t, ir.Fixed):
            return "fixed"
        return type(t).__name__.lower()

    # --- definitions -----------------------------------------------------------------
    def run(self, spec: ast.Specification) -> None:
        for d in spec.definitions:
            self.definition(d)
        # A struct or union forward-declared and never defined is an error (IDL 4.2
        # §7.4.1.4.4.4); an interface is not: CORBA and DDS files declare interfaces they
        # only pass references to (omniORB warns, TAO and OpenDDS accept them).
        for e in self.forwards:
            if e.kind in ("forward struct", "forward union"):
                self.diags.report(
                    E.NAME_NEVER_DEFINED,
                    e.span,
                    kind=e.kind.replace("forward ", ""),
                    name=f"::{e.scoped}",
                    notes=None,
                )

    def definition(self, d: Any) -> None:
        method = getattr(self, "d_" + type(d).__name__, None)
        if method is not None:
            method(d)

    def emit(self, decl: ir.Declaration) -> None:
        self.decls.append(decl)

    def d_Module(self, m: ast.Module) -> None:
        entry = self.declare(m.name, "module", m.span)
        if entry.kind != "module":
            return
        self.annotations.check(m.annotations, "module")
        scope = self.enter(entry, "module")
        self.emit(ir.Module(entry.scoped, m.span, (), m.doc))
        for d in m.definitions:
            self.definition(d)
        self.leave(scope)

    def d_Const(self, c: ast.Const) -> None:
        t = self.resolve_type(c.type)
        target = self.unalias(t)
        entry = self.declare(c.name, "const", c.span, type=t)
        enum = target.name if isinstance(target, ir.Ref) and target.kind == "enum" else None
        if isinstance(target, (ir.Sequence, ir.Array, ir.Map, ir.Opaque, ir.Capability)) or (
            isinstance(target, ir.Ref) and target.kind != "enum"
        ):
            if not (isinstance(target, ir.Opaque) and target.construct == "unresolved"):
                self.diags.report(E.CONST_BAD_TYPE, c.span, type=self.type_name(t))
            return
        try:
            value = self.evaluator.evaluate(c.value, target, self.type_name(t), enum)
        except EvalError:
            return
        from idlc.consteval import category_of

        cat = category_of(target, lambda _: enum) or "integer"
        entry.value = Value(cat, value, enum)
        self.emit(
            ir.Const(
                entry.scoped,
                c.span,
                self.annotations.check(c.annotations, "const"),
                c.doc,
                t,
                value,  # type: ignore[arg-type]
            )
        )

    def d_Forward(self, f: ast.Forward) -> None:
        kind = _FORWARD_OF.get(f.kind, f.kind)
        self.declare(f.name, f"forward {kind}", f.span, decl=f)

    def d_Native(self, n: ast.Native) -> None:
        entry = self.declare(n.name, "native", n.span)
        self.emit(
            ir.Native(entry.scoped, n.span, self.annotations.check(n.annotations, "native"), n.doc)
        )

    def d_Typedef(self, t: ast.Typedef) -> None:
        base = self.resolve_type(t.type)
        annotations = self.annotations.check(t.annotations, "typedef")
        for d in t.declarators:
            full = self.array_type(base, d.sizes)
            entry = self.declare(d.name, "typedef", d.span, type=full)
            self.emit(ir.Typedef(entry.scoped, d.span, annotations, t.doc, full))

    def fields(
        self, members: Iterable[ast.Member], owner: str, seen: dict[str, Span]
    ) -> list[ir.Field]:
        out: list[ir.Field] = []
        # The first name seen per lower-case spelling: one lookup per member keeps the
        # case check linear (a scan of `seen` took 20,000 members minutes).
        lower: dict[str, str] = {}
        for n in seen:
            lower.setdefault(n.lower(), n)
        for m in members:
            t = self.resolve_type(m.type, in_sequence=_indirect(m.annotations))
            for d in m.declarators:
                if not self.member_name(d.name, d.span, seen, lower):
                    continue
                ft = self.array_type(t, d.sizes)
                annotations = self.annotations.check(
                    m.annotations + d.annotations, "member", self.unalias(ft)
                )
                out.append(self.make_field(d.name, ft, d.span, annotations, m.doc))
        return out

    def member_name(
        self, name: str, span: Span, seen: dict[str, Span], lower: dict[str, str]
    ) -> bool:
        """Record a struct, exception or union member's name (seen by spelling, lower by
        lowered spelling); report it (False) when it is taken, in any case."""
        clash = lower.get(name.lower())
        if not self.first_use(seen, name, span, E.NAME_REDEFINITION, "previous definition is here"):
            return False
        if clash is not None:
            self.diags.report(
                E.NAME_CASE_COLLISION,
                span,
                name=name,
                other=clash,
                notes=[Note(seen[clash], f"'{clash}' is declared here")],
            )
        else:
            lower[name.lower()] = name
        self.not_scope_name(name, span)
        self.not_used_here(name, span)
        return True

    def make_field(
        self,
        name: str,
        t: ir.Type,
        span: Span,
        annotations: tuple[ir.Annotation, ...],
        doc: str | None,
    ) -> ir.Field:
        names = {a.name for a in annotations}
        rights = next((a.arg() for a in annotations if a.name == "rights"), None)
        order = next((a.arg() for a in annotations if a.name == "max_order"), 0)
        optional = next((a.arg() for a in annotations if a.name == "optional"), None)
        return ir.Field(
            name,
            t,
            span,
            optional=optional is not False and "optional" in names,
            translate="translate" in names,
            rights=rights if isinstance(rights, int) else None,
            max_order=order if isinstance(order, int) else 0,
            annotations=annotations,
            doc=doc,
        )

    def d_Struct(self, s: ast.Struct) -> None:
        entry = self.declare(s.name, "struct", s.span, complete=False)
        scope = self.enter(entry, "struct")
        seen: dict[str, Span] = {}
        base_name: str | None = None
        if s.base is not None:
            saved, self.scope = self.scope, scope.parent or self.root
            base = self.lookup(s.base)
            self.scope = saved
            if base is not None and base.kind == "struct" and not base.complete:
                # `struct S : S`, or a base that encloses this struct: S would hold itself.
                self.diags.report(
                    E.TYPE_RECURSIVE,
                    s.base.span,
                    name=str(s.base),
                    notes=[Note(base.span, "defined here")],
                )
            elif base is not None and not base.opaque:
                target = self.unalias(ir.Ref(base.scoped, base.kind))
                if not (isinstance(target, ir.Ref) and target.kind == "struct") or not base.defined:
                    self.diags.report(
                        E.STRUCT_BAD_BASE,
                        s.base.span,
                        name=str(s.base),
                        notes=[Note(base.span, "declared here")],
                    )
                else:
                    base_name = target.name
                    self._inherit_fields(target.name, seen)
        fields = self.fields(s.members, entry.scoped, seen)
        waits = [self.type_waits(f.type) for f in fields]
        if base_name is not None:
            waits.append(self.type_waits(ir.Ref(base_name, "struct")))
        entry.waits = frozenset().union(*waits)
        entry.complete = True
        self.leave(scope)
        self.emit(
            ir.Struct(
                entry.scoped,
                s.span,
                self.annotations.check(s.annotations, "struct"),
                s.doc,
                base_name,
                tuple(fields),
            )
        )

    def _inherit_fields(self, struct_name: str, seen: dict[str, Span]) -> None:
        for d in self.decls:
            if isinstance(d, ir.Struct) and d.name == struct_name:
                if d.base:
                    self._inherit_fields(d.base, seen)
                for f in d.fields:
                    seen[f.name] = f.span

    def d_Exception_(self, x: ast.Exception_) -> None:
        entry = self.declare(x.name, "exception", x.span)
        scope = self.enter(entry, "exception")
        fields = self.fields(x.members, entry.scoped, {})
        self.leave(scope)
        annotations = self.annotations.check(x.annotations, "exception")
        eid_arg = next((a.arg() for a in annotations if a.name == "id"), None)
        eid = (
            eid_arg if isinstance(eid_arg, int) else zlib.crc32(entry.scoped.encode()) & 0xFFFFFFFF
        )
        self.emit(ir.Exception_(entry.scoped, x.span, annotations, x.doc, eid, tuple(fields)))

    def d_Enum(self, e: ast.Enum) -> None:
        entry = self.declare(e.name, "enum", e.span)
        if entry.scope is None:
            entry.scope = Scope(entry.scoped, "enum", self.scope)
        enum_scope = entry.scope
        enumerators: list[ir.Enumerator] = []
        by_value: dict[int, ast.Enumerator] = {}
        next_value = 0
        for en in e.enumerators:
            annotations = self.annotations.check(en.annotations, "enumerator")
            v = next((a.arg() for a in annotations if a.name == "value"), None)
            value = v if isinstance(v, int) else next_value
            if value in by_value:
                other = by_value[value]
                self.diags.report(
                    E.ENUM_DUPLICATE_VALUE,
                    en.span,
                    name=en.name,
                    value=value,
                    other=other.name,
                    notes=[Note(other.span, f"'{other.name}' is here")],
                )
            by_value[value] = en
            next_value = value + 1
            ev = ir.EnumValue(entry.scoped, en.name, value)
            # Enumerators are names in the enum's enclosing scope (IDL 4.2 §7.4.1.4.4.4);
            # DDS files also write Enum::ENUMERATOR, so the enum's own scope has them too.
            enum_value = Value(ENUM, ev, entry.scoped)
            self.declare(en.name, "enumerator", en.span, value=enum_value)
            self.declare(en.name, "enumerator", en.span, value=enum_value, scope=enum_scope)
            enumerators.append(ir.Enumerator(en.name, value, en.span, en.doc))
        self.emit(
            ir.Enum(
                entry.scoped,
                e.span,
                self.annotations.check(e.annotations, "enum"),
                e.doc,
                tuple(enumerators),
            )
        )

    def d_Bitmask(self, b: ast.Bitmask) -> None:
        entry = self.declare(b.name, "bitmask", b.span)
        annotations = self.annotations.check(b.annotations, "bitmask")
        bb = next((a.arg() for a in annotations if a.name == "bit_bound"), None)
        bit_bound = bb if isinstance(bb, int) else 32
        if not 1 <= bit_bound <= 64:
            self.diags.report(
                E.BIT_FIELD_RANGE, b.span, what="@bit_bound", value=bit_bound, lo=1, hi=64
            )
            bit_bound = 64
        flags: list[ir.Enumerator] = []
        position = 0
        used: dict[int, str] = {}
        scope = self.enter(entry, "bitmask")
        for v in b.values:
            va = self.annotations.check(v.annotations, "bit_value")
            p = next((a.arg() for a in va if a.name == "position"), None)
            position = p if isinstance(p, int) else position
            if not 0 <= position < bit_bound:
                self.diags.report(
                    E.BIT_FIELD_RANGE,
                    v.span,
                    what="bit position",
                    value=position,
                    lo=0,
                    hi=bit_bound - 1,
                )
            elif position in used:
                self.diags.report(
                    E.ENUM_DUPLICATE_VALUE,
                    v.span,
                    name=v.name,
                    value=position,
                    other=used[position],
                )
            used[position] = v.name
            flag = self.declare(v.name, "bit_value", v.span, value=Value("integer", 1 << position))
            # Cyclone DDS files name flags unqualified (as union labels); make them visible
            # in the enclosing scope too, where that does not shadow anything.
            outer = scope.parent
            if outer is not None and v.name not in outer.entries:
                outer.entries[v.name] = flag
            flags.append(ir.Enumerator(v.name, position, v.span, v.doc))
            position += 1
        self.leave(scope)
        self.emit(ir.Bitmask(entry.scoped, b.span, annotations, b.doc, bit_bound, tuple(flags)))

    def d_Bitset(self, b: ast.Bitset) -> None:
        entry = self.declare(b.name, "bitset", b.span)
        scope = self.enter(entry, "bitset")
        fields: list[ir.Bitfield] = []
        total = 0
        base_name: str | None = None
        if b.base is not None:
            base = self.lookup(b.base)
            if base is not None and base.kind == "typedef":
                target = self.unalias(ir.Ref(base.scoped, base.kind))
                base = self._entry_by_scoped(target.name) if isinstance(target, ir.Ref) else base
            if base is not None and base.kind != "bitset" and not base.opaque:
                self.diags.report(E.STRUCT_BAD_BASE, b.base.span, name=str(b.base))
            elif base is not None:
                base_name = base.scoped
        for f in b.fields:
            width = self.bound(f.width, "a bitfield width") or 1
            if width > 64:
                self.diags.report(
                    E.BIT_FIELD_RANGE, f.span, what="bitfield width", value=width, lo=1, hi=64
                )
            t = self.resolve_type(f.type) if f.type is not None else None
            prim = t if isinstance(t, ir.Primitive) else ir.Primitive(_width_type(width))
            total += width * max(len(f.names), 1)
            if not f.names:
                fields.append(ir.Bitfield(None, width, prim))
            for d in f.names:
                self.declare(d.name, "bitfield", d.span)
                fields.append(ir.Bitfield(d.name, width, prim))
        if total > 64:
            self.diags.report(
                E.BIT_FIELD_RANGE, b.span, what="bitset size", value=total, lo=1, hi=64
            )
        self.leave(scope)
        self.emit(
            ir.Bitset(
                entry.scoped,
                b.span,
                self.annotations.check(b.annotations, "bitset"),
                b.doc,
                base_name,
                tuple(fields),
            )
        )

    def d_Union_(self, u: ast.Union_) -> None:
        entry = self.declare(u.name, "union", u.span, complete=False)
        scope = self.enter(entry, "union")
        disc = self.resolve_type(u.discriminator)
        if isinstance(u.discriminator, ast.Enum):
            disc = ir.Ref(scope.qualify(u.discriminator.name), "enum")
        target = self.unalias(disc)
        ok = (
            isinstance(target, ir.Primitive)
            and target.kind not in ("float", "double", "longdouble")
        ) or (isinstance(target, ir.Ref) and target.kind in ("enum", "bitmask"))
        if not ok and not (isinstance(target, ir.Opaque) and target.construct == "unresolved"):
            self.diags.report(
                E.UNION_BAD_DISCRIMINATOR, _node_span(u.discriminator), type=self.type_name(disc)
            )
        enum = target.name if isinstance(target, ir.Ref) and target.kind == "enum" else None
        # Labels of a bitmask discriminator are flag values, compared as integers.
        label_type = ir.Primitive("uint64") if _is_kind(target, "bitmask") else target
        cases: list[ir.UnionCase] = []
        labels_seen: dict[object, Span] = {}
        default_span: Span | None = None
        seen_names: dict[str, Span] = {}
        seen_lower: dict[str, str] = {}
        for case in u.cases:
            values: list[ir.ConstValue] = []
            is_default = False
            for label in case.labels:
                if label.value is None:
                    if default_span is not None:
                        self.diags.report(
                            E.UNION_DUPLICATE_DEFAULT,
                            label.span,
                            notes=[Note(default_span, "first default label is here")],
                        )
                    default_span = label.span
                    is_default = True
                    continue
                if not ok:
                    continue
                try:
                    v = self.evaluator.evaluate(
                        label.value,
                        label_type,
                        self.type_name(disc),
                        enum,
                        mismatch=E.UNION_BAD_LABEL,
                    )
                except EvalError:
                    continue
                key = v.value if isinstance(v, ir.EnumValue) else v
                if key in labels_seen:
                    self.diags.report(
                        E.UNION_DUPLICATE_LABEL,
                        label.span,
                        value=_show_value(v),
                        notes=[Note(labels_seen[key], "first use is here")],
                    )
                    continue
                labels_seen[key] = label.span
                values.append(v)  # type: ignore[arg-type]
            t = self.resolve_type(case.type, in_sequence=_indirect(case.annotations))
            d = case.declarator
            self.member_name(d.name, d.span, seen_names, seen_lower)
            ft = self.array_type(t, d.sizes)
            annotations = self.annotations.check(
                case.annotations + d.annotations, "member", self.unalias(ft)
            )
            cases.append(
                ir.UnionCase(
                    tuple(values),
                    is_default,
                    self.make_field(d.name, ft, d.span, annotations, case.doc),
                )
            )
        entry.waits = frozenset().union(*(self.type_waits(c.field.type) for c in cases))
        covered = _covers_all(target, len(labels_seen), self._enum_size(enum))
        if default_span is not None and covered:
            self.diags.report(E.W_DEFAULT_UNREACHABLE, default_span, type=self.type_name(disc))
        entry.complete = True
        self.leave(scope)
        self.emit(
            ir.Union_(
                entry.scoped,
                u.span,
                self.annotations.check(u.annotations, "union"),
                u.doc,
                disc,
                tuple(cases),
                implicit_default=default_span is None and not covered,
            )
        )

    def _enum_size(self, enum: str | None) -> int:
        if enum is None:
            return 0
        for d in reversed(self.decls):
            if isinstance(d, ir.Enum) and d.name == enum:
                return len(d.enumerators)
        return 0

    # --- interfaces ------------------------------------------------------------------
    def d_Interface(self, i: ast.Interface) -> None:
        entry = self.declare(i.name, "interface", i.span)
        if entry.kind != "interface":
            return
        annotations = self.annotations.check(i.annotations, "interface")
        bases: list[str] = []
        base_decls: list[ir.Interface] = []
        scope = Scope(entry.scoped, "interface", self.scope)
        for b in i.bases:
            be = self.lookup(b)
            if be is None or be.opaque:
                continue
            if be.kind == "forward interface":
                self.diags.report(
                    E.INTERFACE_BASE_INCOMPLETE,
                    b.span,
                    name=str(b),
                    notes=[Note(be.span, "forward-declared here")],
                )
                continue
            target = self.unalias(ir.Ref(be.scoped, be.kind))
            if not (isinstance(target, ir.Ref) and target.kind == "interface"):
                self.diags.report(
                    E.INTERFACE_BAD_BASE,
                    b.span,
                    name=str(b),
                    notes=[Note(be.span, "declared here")],
                )
                continue
            if target.name in bases:
                self.diags.report(E.INTERFACE_DUPLICATE_BASE, b.span, name=str(b))
                continue
            bases.append(target.name)
            base_entry = self._entry_by_scoped(target.name)
            if base_entry is not None and base_entry.scope is not None:
                scope.bases.append(base_entry.scope)
            decl = next(
                (d for d in self.decls if isinstance(d, ir.Interface) and d.name == target.name),
                None,
            )
            if decl is not None:
                base_decls.append(decl)
        entry.scope = scope
        self.scope = scope
        iid_arg = next((a.arg() for a in annotations if a.name == "id"), None)
        iid = iid_arg if isinstance(iid_arg, int) else zlib.crc32(entry.scoped.encode()) & 0xFFFF
        methods: list[ir.Method] = []
        fid = 0
        inherited = self._inherited_names(i, base_decls)
        for item in i.body:
            if isinstance(item, (ast.Operation, ast.Attribute)):
                fid = self.member(item, entry.scoped, iid, fid, methods, inherited)
            else:
                self.definition(item)
        self.leave(scope)
        all_methods = _all_methods(methods, base_decls)
        self.emit(
            ir.Interface(
                entry.scoped,
                i.span,
                annotations,
                i.doc,
                i.kind,
                iid,
                tuple(bases),
                tuple(methods),
                tuple(all_methods),
            )
        )

    def _inherited_names(self, i: ast.Interface, bases: list[ir.Interface]) -> dict[str, str]:
        """Operation and attribute names from the bases, lowered (names that differ only in
        case collide), with the interface declaring each; one name from two different
        declaring interfaces is an error (IDL 4.2 §7.4.3.4)."""
        out: dict[str, str] = {}
        for b in bases:
            for m in b.all_methods:
                base_name = m.name[5:] if m.kind in ("getter", "setter") else m.name
                first = out.setdefault(base_name.lower(), m.interface)
                if first != m.interface:
                    self.diags.report(
                        E.NAME_INHERITED_CLASH,
                        i.span,
                        name=base_name,
                        first=first,
                        second=m.interface,
                        notes=[Note(m.span, f"'{m.interface}::{base_name}' is declared here")],
                    )
                    out[base_name.lower()] = first
        return out

    def member(
        self,
        item: ast.Operation | ast.Attribute,
        iface: str,
        iid: int,
        fid: int,
        methods: list[ir.Method],
        inherited: dict[str, str],
    ) -> int:
        kind = "operation" if isinstance(item, ast.Operation) else "attribute"
        self.declare(item.name, kind, item.span)
        base = inherited.get(item.name.lower())
        if base is not None:
            self.diags.report(E.NAME_REDEFINES_INHERITED, item.span, name=item.name, base=base)
        annotations = self.annotations.check(item.annotations, kind)
        if isinstance(item, ast.Attribute):
            if any(a.name == "opcode" for a in annotations):
                self.diags.report(E.OPCODE_ON_ATTRIBUTE, item.span)
            t = self.resolve_type(item.type)
            get_raises = self.raises(item.getraises)
            fid = self._add_method(
                methods,
                f"_get_{item.name}",
                "getter",
                iface,
                iid,
                fid,
                False,
                t,
                (),
                get_raises,
                item.span,
                annotations,
                item.doc,
            )
            if not item.readonly:
                param = ir.Param("value", "in", t, item.span)
                fid = self._add_method(
                    methods,
                    f"_set_{item.name}",
                    "setter",
                    iface,
                    iid,
                    fid,
                    False,
                    None,
                    (param,),
                    self.raises(item.setraises),
                    item.span,
                    annotations,
                    item.doc,
                )
            elif item.setraises:
                self.diags.report(
                    E.ANNOTATION_MISPLACED, item.span, name="setraises", what="a readonly attribute"
                )
            return fid
        op_fid = next((a.arg() for a in annotations if a.name == "opcode"), None)
        if isinstance(op_fid, int):
            fid = op_fid
        result_t = (
            None
            if isinstance(item.result, ast.BaseType) and item.result.kind == "void"
            else self.resolve_type(item.result)
        )
        # The parameter list is a scope (IDL 4.2 §7.5.2): what its types use, its
        # parameters should not be named (the result type belongs to the interface).
        outer = self.scope
        self.scope = Scope(outer.qualify(item.name), "operation", outer)
        params: list[ir.Param] = []
        seen: dict[str, Span] = {}
        for p in item.params:
            pt = self.array_type(self.resolve_type(p.type), p.sizes)
            if self.first_use(seen, p.name, p.span, E.PARAM_DUPLICATE, "first declared here"):
                self.not_scope_name(p.name, p.span)
                self.not_used_here(p.name, p.span)
            pa = self.annotations.check(p.annotations, "parameter", self.unalias(pt))
            f = self.make_field(p.name, pt, p.span, pa, None)
            params.append(
                ir.Param(p.name, p.mode, pt, p.span, f.translate, f.rights, f.max_order, pa)
            )
            if item.oneway and p.mode != "in":
                self.diags.report(
                    E.ONEWAY_OUTPUT, p.span, name=item.name, mode=p.mode, param=p.name
                )
        raises = self.raises(item.raises)
        self.scope = outer
        if item.oneway:
            if result_t is not None:
                self.diags.report(E.ONEWAY_RESULT, item.span, name=item.name)
            if item.raises:
                self.diags.report(E.ONEWAY_RAISES, item.raises[0].span, name=item.name)
        return self._add_method(
            methods,
            item.name,
            "operation",
            iface,
            iid,
            fid,
            item.oneway,
            result_t,
            tuple(params),
            raises,
            item.span,
            annotations,
            item.doc,
        )

    def _add_method(
        self,
        methods: list[ir.Method],
        name: str,
        kind: str,
        iface: str,
        iid: int,
        fid: int,
        oneway: bool,
        result: ir.Type | None,
        params: tuple[ir.Param, ...],
        raises: tuple[str, ...],
        span: Span,
        annotations: tuple[ir.Annotation, ...],
        doc: str | None,
    ) -> int:
        if fid > 0xFFFF:
            self.diags.report(E.OPCODE_OVERFLOW, span, name=name, value=hex(fid))
            fid &= 0xFFFF
        methods.append(
            ir.Method(
                name,
                kind,
                iface,
                fid,
                (iid << 16) | fid,
                oneway,
                result,
                params,
                raises,
                span,
                annotations,
                doc,
            )
        )
        return fid + 1

    def raises(self, names: Iterable[ast.Name]) -> tuple[str, ...]:
        out: list[str] = []
        for n in names:
            e = self.lookup(n)
            if e is None or e.opaque:
                continue
            if e.kind != "exception":
                self.diags.report(
                    E.RAISES_NOT_EXCEPTION,
                    n.span,
                    name=str(n),
                    notes=[Note(e.span, f"'{n}' is {_a(e.kind)}")],
                )
                continue
            out.append(e.scoped)
        return tuple(out)

    # --- constructs the IR does not model ----------------------------------------------
    def d_ValueType(self, v: ast.ValueType) -> None:
        entry = self.declare(v.name, v.kind, v.span)
        scope = self.enter(entry, "valuetype")
        for b in (*v.bases, *v.supports):
            be = self.lookup(b)
            if be is not None and be.kind == "typedef":
                target = self.unalias(ir.Ref(be.scoped, be.kind))
                be = self._entry_by_scoped(target.name) if isinstance(target, ir.Ref) else be
            if (
                be is not None
                and not be.opaque
                and be.kind
                not in (
                    "valuetype",
                    "eventtype",
                    "interface",
                    "forward valuetype",
                    "forward eventtype",
                    "forward interface",
                )
            ):
                self.diags.report(
                    E.NAME_WRONG_KIND,
                    b.span,
                    name=str(b),
                    kind=_a(be.kind),
                    expected="a value type or interface",
                )
            if be is not None and be.scope is not None:
                scope.bases.append(be.scope)
        if v.boxed is not None:
            self.resolve_type(v.boxed)
        for item in v.body:
            if isinstance(item, ast.StateMember):
                self.fields([item.member], entry.scoped, {})
                for d in item.member.declarators:
                    self.declare(d.name, "state member", d.span)
            else:
                self._body_item(item, entry.scoped)
        self.leave(scope)
        self.emit(ir.Unsupported(entry.scoped, v.span, (), v.doc, v.kind))

    def _body_item(self, item: Any, owner: str) -> None:
        """A factory, finder, operation, attribute or nested definition in a value type or
        a CCM declaration: checked for names and types, not turned into IR."""
        if isinstance(item, ast.Factory):
            self.declare(item.name, item.kind, item.span)
            for p in item.params:
                self.resolve_type(p.type)
            self.raises(item.raises)
        elif isinstance(item, (ast.Operation, ast.Attribute)):
            self.member(item, owner, 0, 0, [], {})
        else:
            self.definition(item)

    def d_Component(self, c: ast.Component) -> None:
        entry = self.declare(c.name, c.kind, c.span)
        scope = self.enter(entry, c.kind)
        for n in (c.base, c.manages, c.primary_key, *c.supports):
            if n is not None:
                be = self.lookup(n)
                if be is not None and be.scope is not None and n is c.base:
                    scope.bases.append(be.scope)
        for item in c.body:
            if isinstance(item, ast.Port):
                if isinstance(item.type, ast.Name):
                    self.lookup(item.type)
                self.declare(item.name, item.kind, item.span)
            else:
                self._body_item(item, entry.scoped)
        self.leave(scope)
        self.emit(ir.Unsupported(entry.scoped, c.span, (), c.doc, c.kind))

    def d_TemplateModule(self, t: ast.TemplateModule) -> None:
        entry = self.declare(t.name, "template module", t.span)
        entry.scope = Scope(entry.scoped, "template module", self.scope, opaque=True)
        self.emit(ir.Unsupported(entry.scoped, t.span, (), t.doc, "template module"))

    def d_TemplateInstance(self, t: ast.TemplateInstance) -> None:
        self.lookup(t.template)
        entry = self.declare(t.name, "module", t.span)
        entry.scope = Scope(entry.scoped, "module", self.scope, opaque=True)
        entry.opaque = True
        self.emit(ir.Unsupported(entry.scoped, t.span, (), t.doc, "template module instance"))

    def d_RepositoryIdDecl(self, r: ast.RepositoryIdDecl) -> None:
        if r.target is not None and r.kind != "import":
            self.lookup(r.target)

    def d_AnnotationDecl(self, a: ast.AnnotationDecl) -> None:
        self.annotations.declare(a.name)
        entry = self.declare(a.name, "annotation", a.span)
        scope = self.enter(entry, "annotation")
        for d in a.definitions:
            self.definition(d)
        for m in a.members:
            self.resolve_type(m.type)
        self.leave(scope)

    def d_Operation(self, o: ast.Operation) -> None:  # only inside value types/components
        self.member(o, self.scope.name, 0, 0, [], {})

    d_Attribute = d_Operation


def _is_kind(t: ir.Type, kind: str) -> bool:
    return isinstance(t, ir.Ref) and t.kind == kind


def _indirect(annotations: tuple[ast.Annotation, ...]) -> bool:
    """@external and @optional members are held by reference, so they may be recursive or
    of a type that is only forward-declared so far (DDS-XTypes)."""
    return any(a.name.parts[-1] in ("external", "optional") for a in annotations)


def _all_methods(own: list[ir.Method], bases: list[ir.Interface]) -> list[ir.Method]:
    out: list[ir.Method] = []
    seen: set[tuple[str, str]] = set()
    for b in bases:
        for m in b.all_methods:
            key = (m.interface, m.name)
            if key not in seen:
                seen.add(key)
                out.append(m)
    out.extend(own)
    return out


def _width_type(width: int) -> str:
    if width == 1:
        return "boolean"
    if width <= 8:
        return "uint8"
    if width <= 16:
        return "uint16"
    if width <= 32:
        return "uint32"
    return "uint64"


def _covers_all(target: ir.Type, n_labels: int, enum_size: int) -> bool:
    if isinstance(target, ir.Ref) and target.kind == "enum":
        return enum_size > 0 and n_labels >= enum_size
    if isinstance(target, ir.Primitive):
        if target.kind == "boolean":
            return n_labels >= 2
        if target.kind in ("octet", "uint8", "int8", "char"):
            return n_labels >= 256
    return False


def _show_value(v: object) -> str:
    if isinstance(v, ir.EnumValue):
        return v.name
    return repr(v)


def _node_kind(node: Any) -> str:
    return {
        "Struct": "struct",
        "Union_": "union",
        "Enum": "enum",
        "Bitset": "bitset",
        "Bitmask": "bitmask",
    }[type(node).__name__]


def _node_span(node: Any) -> Span:
    return node.span  # type: ignore[no-any-return]


def analyze(
    tree: ast.Specification, pp: Any, main_file: str, diags: Diagnostics
) -> ir.Specification | None:
    """Analyse one parsed file; None when errors were reported."""
    analyzer = Analyzer(diags, main_file)
    analyzer.run(tree)
    if diags.has_errors:
        return None
    pragmas = tuple(ir.Pragma(p.name, p.args, p.span) for p in getattr(pp, "pragmas", ()))
    files = tuple(getattr(pp, "dependencies", (main_file,)))
    return ir.Specification(main_file, files, tuple(analyzer.decls), pragmas)
