"""The Python backend: IR -> one Python module per (IDL file, IDL module).

Model classes here compute every name, type hint, default and function body; the jinja2
template (templates/module.py.j2, compiled to plain Python by tmplc.py) only loops over
them. The code is written as black formats it (black is the tests' oracle, not a step).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterator

from idlc import errcodes, ir
from idlc.backends.python import fastcall
from idlc.backends.python import marshal as M
from idlc.backends.python.names import (
    Naming,
    Unit,
    enumerator,
    enumerator_names,
    field_names,
    operation_names,
    parameter_names,
    type_alias,
    union_names,
)
from idlc.diagnostics import Diagnostics
from idlc.layout import ARCHES, UnsizedType, layout_for
from idlc.source import Span
from idlc.wirecheck import capabilities

BACKEND = "Python"
_NO_FINITE_VALUE = "a type that contains itself through @external members (it has no finite value)"
SFX = {"x86_64": "64", "x86_32": "32"}
# hints in generated signatures: items, a whole message, a decoder's parameters
_ITEMS = "_c.ItemList"
_MESSAGE = "_c.Encoded"
_DEC_ARGS = "_b: _bytes, _o: _int, _it: _c.Items"


def _doc(text: str | None) -> str | None:
    if not text:
        return None
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    # A quote just before the closing triple quote would end the string early.
    return text[:-1] + '\\"' if text.endswith('"') else text


def _literal(value: object, refs: UnitRefs) -> str:
    if isinstance(value, ir.EnumValue):
        return f"{refs.cls(value.enum)}.{enumerator(refs.naming.spec, value)}"
    return repr(value)


class UnitRefs(M.Refs):
    """Names as seen from module-level code of one generated module; records the imports
    it needs. ``inside()`` gives the names as class bodies and methods see them."""

    def __init__(self, naming: Naming, unit: Unit) -> None:
        self.naming = naming
        self.unit = unit
        self.imports: dict[str, Unit] = {}
        # the module's declarations named by their aliases (module.py.j2 defines those)
        self.aliased: set[str] = set()

    def _qual(self, name: str, local: str) -> str:
        other = self.naming.unit_of[name]
        if other is self.unit:
            return local
        self.imports[other.alias] = other
        return f"{other.alias}.{local}"

    def cls(self, name: str) -> str:
        return self._qual(name, self.naming.local[name])

    def fn(self, prefix: str, name: str, sfx: str) -> str:
        return self._qual(name, f"{prefix}_{self.naming.local[name]}_{sfx}")

    def table(self, name: str, what: str) -> str:
        return self._qual(name, f"_{self.naming.local[name]}_{what}")

    def inside(self) -> InsideRefs:
        return InsideRefs(self)


class InsideRefs(UnitRefs):
    """Names as class bodies and methods see them, where a member, union branch,
    parameter or operation may be named like an IDL type (``r r;``, ``K K(in K K)``) and
    would shadow it: the module's own types by their private aliases (``_r_T``,
    names.type_alias), other modules' as always (``_m_x_idl.r``)."""

    def __init__(self, outer: UnitRefs) -> None:
        super().__init__(outer.naming, outer.unit)
        self.imports = outer.imports
        self.aliased = outer.aliased

    def cls(self, name: str) -> str:
        if self.naming.unit_of[name] is not self.unit:
            return super().cls(name)
        local = self.naming.local[name]
        self.aliased.add(local)
        return type_alias(local)


class Function:
    """One generated function: signature line and body lines."""

    def __init__(self, signature: str, body: list[str]) -> None:
        self.signature = signature
        self.body = body


class Hints:
    """Python type hints and defaults for IR types, as seen from one module."""

    def __init__(self, ctx: M.Context, refs: UnitRefs) -> None:
        self.ctx = ctx
        self.refs = refs

    def hint(self, t: ir.Type) -> str:
        if isinstance(t, ir.Primitive):
            # builtins by their private aliases (module.py.j2): IDL names may shadow them
            if t.kind == "boolean":
                return "_bool"
            if t.kind in ("float", "double"):
                return "_float"
            if t.kind in ("char", "wchar"):
                return "_str"
            if t.kind == "longdouble":
                raise M.Unsupported("long double")
            return "_int"
        if isinstance(t, ir.String):
            return "_str"
        if isinstance(t, ir.Sequence):
            if self.ctx.octets(t.element):
                return "_bytes"
            return f"_list[{self.hint(t.element)}]"
        if isinstance(t, ir.Array):
            inner = self.hint(t.element)
            dims = list(t.dims)
            if self.ctx.octets(t.element):
                inner = "_bytes"
                dims = dims[:-1]
            for _ in dims:
                inner = f"_list[{inner}]"
            return inner
        if isinstance(t, ir.Capability):
            return "_Crd | None"
        if isinstance(t, ir.Ref):
            d = self.ctx.spec.lookup(t.name)
            if isinstance(d, ir.Interface):
                return "_Crd | None"
            if isinstance(d, ir.Typedef | ir.Struct | ir.Union_ | ir.Enum | ir.Bitmask):
                return self.refs.cls(t.name)
            raise M.Unsupported(M._construct(d) if d is not None else "unresolved type")
        raise M.Unsupported(M._construct(t))

    def optional(self, t: ir.Type, optional: bool) -> str:
        h = self.hint(t)
        if optional and not h.endswith("| None"):
            h += " | None"
        return h

    def default(self, t: ir.Type) -> tuple[str, bool]:
        """(expression, needs default_factory)"""
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Primitive):
            return {
                "boolean": "False",
                "float": "0.0",
                "double": "0.0",
                "char": "'\\x00'",
                "wchar": "'\\x00'",
            }.get(r.kind, "0"), False
        if isinstance(r, ir.String):
            return "''", False
        if isinstance(r, ir.Sequence):
            return ("b''", False) if self.ctx.octets(r.element) else ("_list", True)
        if isinstance(r, ir.Array):
            el, dims = self.ctx.array_shape(r)
            if self.ctx.octets(el):
                inner, dims = f"_bytes({dims[-1]})", dims[:-1]
            else:
                inner, factory = self.default(el)
                rel = self.ctx.resolve(el)
                if isinstance(rel, ir.Struct | ir.Union_):
                    inner = f"{self.refs.cls(rel.name)}()"
                elif factory:
                    inner = f"{inner}()"
            if not dims:
                return inner, False
            for n in reversed(dims):
                inner = f"[{inner} for _ in _range({n})]"
            return f"lambda: {inner}", True
        if isinstance(r, ir.Enum):
            first = enumerator_names(r)[r.enumerators[0].name]
            return f"{self.refs.cls(r.name)}.{first}", False
        if isinstance(r, ir.Bitmask):
            return f"{self.refs.cls(r.name)}(0)", False
        if isinstance(r, ir.Struct | ir.Union_):
            # a lambda: the class may be defined further down (recursion, @external)
            return f"lambda: {self.refs.cls(r.name)}()", True
        return "None", False


# --- declarations ---------------------------------------------------------------------


class Member:
    def __init__(self, name: str, hint: str, default: str, factory: bool, doc: str | None):
        self.name = name
        self.hint = hint
        self.default = default
        self.factory = factory
        self.doc = doc
        # a new default value as an expression (exceptions' __init__): not a call of the
        # factory lambda, which would hide the hint from mypy (`list[list[Never]]`)
        self.fresh = default
        if factory:
            self.fresh = (
                default.removeprefix("lambda: ")
                if default.startswith("lambda: ")
                else f"{default}()"
            )


class Decl:
    """One declaration to render; ``kind`` selects the template block."""

    def __init__(self, kind: str, name: str, doc: str | None) -> None:
        self.kind = kind
        self.name = name
        self.doc = _doc(doc)
        self.members: list[Member] = []
        self.extra: dict[str, object] = {}


class Param:
    def __init__(self, name: str, hint: str, stub: str | None = None) -> None:
        self.name = name
        self.hint = hint  # as the Protocol sees it
        # an interface reference: the client stub also takes a stub (or Pt) and sends its
        # portal (runtime.binding.cap)
        self.client_hint = f"{_private(stub)} | {hint}" if stub else hint
        self.arg = f"_binding.cap({name})" if stub else name


def _field(p: ir.Param) -> ir.Field:
    """A parameter as the message field it is, with its capability annotations."""
    return ir.Field(
        p.name, p.type, p.span, translate=p.translate, rights=p.rights, max_order=p.max_order
    )


# Crd types of the window kinds (WIRE.md §4)
OBJ, MEM, PIO = 3, 1, 2
CRD_TYPES = {"object": OBJ, "memory": MEM, "ioports": PIO}


class Windows:
    """Receive windows (WIRE.md §4 *Windows*), as ``runtime.binding.call`` and a
    skeleton's class attributes name them: ``accept`` (the delegate window's order, None
    without delegated capabilities) of Crd type ``kind``; ``translate`` (a translate window
    over the whole space) of Crd type ``xlt``."""

    def __init__(self) -> None:
        self.accept: int | None = None
        self.kind = OBJ
        self.translate = False
        self.xlt = OBJ

    @classmethod
    def serving(cls, requests: list[Windows]) -> Windows:
        """A skeleton's windows: one window of each way for the requests of all its
        methods (wirecheck rejects an interface whose requests need two kinds of one
        way), sized for the largest."""
        out = cls()
        for r in requests:
            if r.accept is not None:
                out.kind = r.kind
                out.accept = r.accept if out.accept is None else max(out.accept, r.accept)
            if r.translate:
                out.translate, out.xlt = True, r.xlt
        return out


class MethodModel:
    """One method of an interface, as the Protocol, the stub and the skeleton see it."""

    def __init__(self) -> None:
        self.name = ""
        self.wire = ""
        self.opcode = 0
        self.oneway = False
        self.doc: str | None = None
        self.params: list[Param] = []  # in + inout
        self.inputs: list[str] = []  # wire names of params (in + inout)
        self.outputs: list[str] = []  # wire names (return first)
        self.returns = "None"
        self.fn: dict[str, str] = {}  # kind -> function name stem (without _64/_32)
        self.codec_ns = ""  # the namespace MethodCodec.of finds the functions in
        self.codec_stem = ""
        self.raises: list[tuple[str, str, str]] = []  # (scoped, class, encoder stem)
        self.accept: int | None = None  # the reply's delegate window (client)
        self.reply_translate = False  # the reply translates (client window)
        self.request = Windows()  # the request's windows (server)
        # the fixed-size call (fastcall.py) per architecture suffix, {} when there is none
        self.fast: dict[str, fastcall.Shape] = {}
        # client side: the reply's receive windows beyond an object delegate window
        # (runtime.binding.call keywords, e.g. "kind=1, xlt=3"), the return annotation and
        # the returned expression (interface references become client stubs)
        self.windows = ""
        self.client_returns = "None"
        self.client_result = "_r"
        # server side: the reply encoder's arguments from the implementation's result ``_r``
        self.reply_args = "_r"

    # the skeleton's handlers: named by the method's Python name, which no other method
    # of the interface has (names.operation_names), whichever interface declares it
    @property
    def handler(self) -> str:
        return f"_h_{self.name}"

    @property
    def fast_handler(self) -> str:
        return f"_x_{self.name}"


class InterfaceModel:
    def __init__(self, name: str, doc: str | None) -> None:
        self.name = name
        self.doc = _doc(doc)
        self.scoped = ""
        self.bases: list[str] = []
        self.own: list[MethodModel] = []
        # what the Protocol and the client stub define: the own methods, and inherited
        # ones of a base that is no Python base class (Interface: a renamed operation)
        self.defined: list[MethodModel] = []
        self.all: list[MethodModel] = []
        # the skeleton's receive windows, from the requests of every method it serves
        self.windows = Windows()
        self.fast: list[MethodModel] = []  # methods with a fixed-size call
        self.ref = name


class ModuleModel:
    def __init__(self, unit: Unit, spec: ir.Specification) -> None:
        self.unit = unit
        self.sources = sorted({unit.file, spec.main_file})
        self.decls: list[Decl] = []
        self.interfaces: list[InterfaceModel] = []
        self.functions: list[Function] = []
        self.constants: list[tuple[str, str]] = []
        self.imports: list[str] = []
        self.all: list[str] = []
        # declarations class bodies and methods name by an alias: local name -> alias
        self.aliases: dict[str, str] = {}


class Generator:
    def __init__(self, spec: ir.Specification, diags: Diagnostics) -> None:
        self.spec = spec
        self.diags = diags
        self.naming = Naming(spec)

    # -- support check (E0901) --

    def check(self) -> bool:
        ok = True
        finite = self._finite()
        for d in self.spec.declarations:
            found = list(self._unsupported(d))
            if isinstance(d, ir.Struct | ir.Union_ | ir.Exception_) and d.name not in finite:
                found.append((_NO_FINITE_VALUE, d.span))
            for construct, span in found:
                self.diags.report(
                    errcodes.BACKEND_UNSUPPORTED, span, construct=construct, backend=BACKEND
                )
                ok = False
        return ok

    def _finite(self) -> set[str]:
        """The structs, unions and exceptions that have a finite value. Recursion through
        @external members is valid IDL, but such a member is encoded inline (WIRE.md §3): a
        type whose every value contains itself (no sequence, @optional member or other
        union case ends it) has none, and its Python default would recurse forever."""
        ctx = M.Context(self.spec, M.Pools())
        named = [
            d
            for d in self.spec.declarations
            if isinstance(d, ir.Struct | ir.Union_ | ir.Exception_)
        ]
        finite: set[str] = set()

        def has(t: ir.Type) -> bool:
            try:
                r = ctx.resolve(t)
            except M.Unsupported:  # reported by _unsupported
                return True
            if isinstance(r, ir.Array):
                return has(r.element)
            if isinstance(r, ir.Struct | ir.Union_ | ir.Exception_):
                return r.name in finite
            return True  # sequences may be empty; scalars, strings, capabilities

        def value(d: ir.Struct | ir.Union_ | ir.Exception_) -> bool:
            if isinstance(d, ir.Union_):
                return d.implicit_default or any(
                    c.field.optional or has(c.field.type) for c in d.cases
                )
            if isinstance(d, ir.Struct) and d.base is not None and d.base not in finite:
                return False
            return all(f.optional or has(f.type) for f in d.fields)

        grew = True
        while grew:  # the least fixed point: what has a value without assuming any
            before = len(finite)
            finite |= {d.name for d in named if d.name not in finite and value(d)}
            grew = len(finite) > before
        return finite

    def _unsupported(self, d: ir.Declaration) -> Iterator[tuple[str, Span]]:
        if isinstance(d, ir.Unsupported):
            yield d.construct, d.span
        elif isinstance(d, ir.Native):
            yield "native", d.span
        elif isinstance(d, ir.Bitset):
            yield "bitset", d.span
        elif isinstance(d, ir.Const):
            if isinstance(d.type, ir.Fixed) or (
                isinstance(d.type, ir.Primitive) and d.type.kind == "longdouble"
            ):
                yield self._bad(d.type) or "fixed", d.span
        elif isinstance(d, ir.Typedef):
            bad = self._bad(d.type)
            if bad:
                yield bad, d.span
        elif isinstance(d, ir.Struct | ir.Exception_):
            for f in d.fields:
                bad = self._bad(f.type)
                if bad:
                    yield bad, f.span
        elif isinstance(d, ir.Union_):
            bad = self._bad(d.discriminator)
            if bad:
                yield bad, d.span
            for c in d.cases:
                bad = self._bad(c.field.type)
                if bad:
                    yield bad, c.field.span
        elif isinstance(d, ir.Interface):
            if d.interface_kind == "local interface":
                yield "local interface", d.span
            for m in d.methods:
                if m.result is not None:
                    bad = self._bad(m.result)
                    if bad:
                        yield bad, m.span
                for p in m.params:
                    bad = self._bad(p.type)
                    if bad:
                        yield bad, p.span

    def _bad(self, t: ir.Type, depth: int = 0) -> str | None:
        """The unsupported construct a type uses directly (not through a named type,
        which is reported at its own declaration)."""
        if isinstance(t, ir.Map):
            return "map"
        if isinstance(t, ir.Fixed):
            return "fixed"
        if isinstance(t, ir.Opaque):
            return t.construct
        if isinstance(t, ir.Primitive) and t.kind == "longdouble":
            return "long double"
        if isinstance(t, ir.Sequence | ir.Array):
            return self._bad(t.element)
        if isinstance(t, ir.Ref):
            d = self.spec.lookup(t.name)
            if isinstance(d, ir.Unsupported):
                return d.construct
            if isinstance(d, ir.Native):
                return "native"
            if isinstance(d, ir.Bitset):
                return "bitset"
            if isinstance(d, ir.Interface) and d.interface_kind == "local interface":
                return "local interface"
        return None

    # -- modules --

    def modules(self) -> dict[str, ModuleModel]:
        return {u.relpath: self.module(u) for u in self.naming.units.values()}

    def module(self, unit: Unit) -> ModuleModel:
        mm = ModuleModel(unit, self.spec)
        refs = UnitRefs(self.naming, unit)
        pools = M.Pools()
        ctx = M.Context(self.spec, pools)
        hints = Hints(ctx, refs.inside())  # the hints of class bodies and methods
        for d in unit.declarations:
            self.declaration(d, mm, ctx, refs, hints)
        mm.aliases = {local: type_alias(local) for local in sorted(refs.aliased)}
        mm.constants = list(pools.constants())
        mm.imports = sorted(self.naming.relative_import(unit, u) for u in refs.imports.values())
        return mm

    def declaration(
        self, d: ir.Declaration, mm: ModuleModel, ctx: M.Context, refs: UnitRefs, hints: Hints
    ) -> None:
        name = self.naming.local[d.name]
        if isinstance(d, ir.Const):
            dec = Decl("const", name, d.doc)
            dec.extra["value"] = _literal(d.value, refs)
            top = Hints(ctx, refs)  # module level: no alias needed
            dec.extra["hint"] = top.hint(d.type) if not isinstance(d.type, ir.Ref) else ""
            mm.decls.append(dec)
            mm.all.append(name)
        elif isinstance(d, ir.Enum):
            dec = Decl("enum", name, d.doc)
            py = enumerator_names(d)
            dec.extra["items"] = [(py[e.name], e.value, _doc(e.doc)) for e in d.enumerators]
            mm.decls.append(dec)
            mm.all.append(name)
        elif isinstance(d, ir.Bitmask):
            dec = Decl("bitmask", name, d.doc)
            py = enumerator_names(d)
            dec.extra["items"] = [(py[e.name], 1 << e.value, _doc(e.doc)) for e in d.flags]
            dec.extra["mask"] = sum(1 << e.value for e in d.flags)
            mm.decls.append(dec)
            mm.all.append(name)
        elif isinstance(d, ir.Typedef):
            dec = Decl("typedef", name, d.doc)
            dec.extra["target"] = Hints(ctx, refs).hint(d.type)
            mm.decls.append(dec)
            mm.all.append(name)
        elif isinstance(d, ir.Struct):
            dec = Decl("struct", name, d.doc)
            dec.extra["base"] = refs.cls(d.base) if d.base else ""
            py = field_names(self.spec, d)
            dec.members = [self.member(f, py[f.name], hints) for f in d.fields]
            mm.decls.append(dec)
            mm.all.append(name)
            fields = ctx.struct_fields(d)
            for arch in ARCHES:
                mm.functions.append(self.struct_encoder(d, name, fields, ctx, refs, arch))
                mm.functions.append(self.struct_decoder(d, name, fields, ctx, refs, arch))
                # whole messages in a UTCB frame (docs/python-backend.md, Marshalling)
                mm.functions.append(Function(*M.frame_encoder(ctx, refs, arch, name, fields)))
                mm.functions.append(Function(*M.frame_decoder(ctx, refs, arch, name, fields)))
        elif isinstance(d, ir.Exception_):
            dec = Decl("exception", name, d.doc)
            py = field_names(self.spec, d)
            dec.members = [self.member(f, py[f.name], hints) for f in d.fields]
            dec.extra["id"] = d.exception_id
            dec.extra["scoped"] = d.name
            mm.decls.append(dec)
            mm.all.append(name)
            fields = list(d.fields)
            for arch in ARCHES:
                mm.functions.append(self.exception_encoder(d, name, fields, ctx, refs, arch))
                mm.functions.append(self.struct_decoder(d, name, fields, ctx, refs, arch))
        elif isinstance(d, ir.Union_):
            mm.decls.append(self.union(d, name, hints, hints.refs))
            mm.all.append(name)
            for arch in ARCHES:
                mm.functions.append(self.union_encoder(d, name, ctx, refs, arch))
                mm.functions.append(self.union_decoder(d, name, ctx, refs, arch))
        elif isinstance(d, ir.Interface):
            mm.interfaces.append(self.interface(d, name, mm, ctx, refs, hints))
            mm.all.extend([name, f"{name}Client", f"{name}Server", f"{name}Codec"])

    def member(self, f: ir.Field, name: str, hints: Hints) -> Member:
        hint = hints.optional(f.type, f.optional)
        if f.optional:
            default, factory = "None", False
        else:
            default, factory = hints.default(f.type)
        return Member(name, hint, default, factory, _doc(f.doc))

    def union(self, d: ir.Union_, name: str, hints: Hints, refs: UnitRefs) -> Decl:
        """The union's class; ``hints`` and ``refs`` as its body and methods see names."""
        dec = Decl("union", name, d.doc)
        disc_hint = hints.hint(d.discriminator)
        value, cast = _union_value(d, hints)
        cases = []
        py = union_names(d)
        for c in d.cases:
            h = hints.optional(c.field.type, c.field.optional)
            labels = [_literal(lab, refs) for lab in c.labels]
            if c.is_default:
                # selected by every value the other cases do not name (its own labels too)
                others = [_literal(lab, refs) for o in d.cases if o is not c for lab in o.labels]
                cond = f"self._d not in {_tuple(others)}" if others else "True"
                first = labels[0] if labels else self._free_label(d, refs)
            else:
                cond = f"self._d in {_tuple(labels)}"
                first = labels[0]
            read = f"_cast({h!r}, self._v)" if cast else "self._v"
            cases.append((py[c.field.name], h, cond, first, read, _doc(c.field.doc)))
        first_default, _ = hints.default(d.cases[0].field.type) if d.cases else ("None", False)
        if d.cases and hints.default(d.cases[0].field.type)[1]:
            first_default = "None"
        if d.cases and d.cases[0].field.optional:
            first_default = "None"
        dec.extra.update(
            disc=disc_hint,
            value=value,
            cases=cases,
            init_d=cases[0][3] if cases else hints.default(d.discriminator)[0],
            init_v=first_default,
            ref=refs.cls(d.name),  # the class itself, in its methods' hints and bodies
        )
        return dec

    def _free_label(self, d: ir.Union_, refs: UnitRefs) -> str:
        """A discriminator value that no label names (for the default member)."""
        used = {lab for c in d.cases for lab in c.labels}
        r = M.Context(self.spec, M.Pools()).resolve(d.discriminator)
        if isinstance(r, ir.Enum):
            py = enumerator_names(r)
            for e in r.enumerators:
                if not any(isinstance(u, ir.EnumValue) and u.name == e.name for u in used):
                    return f"{refs.cls(r.name)}.{py[e.name]}"
            # every enumerator is a label (the default is unreachable): any, as typed
            return f"{refs.cls(r.name)}.{py[r.enumerators[0].name]}"
        if isinstance(r, ir.Primitive) and r.kind == "boolean":
            return "False" if False not in used else "True"
        if isinstance(r, ir.Primitive) and r.kind in ("char", "wchar"):
            for i in range(256):
                if chr(i) not in used:
                    return repr(chr(i))
            # every char is a label (the default is unreachable): any, as typed
            return repr(next(lab for c in d.cases for lab in c.labels))
        i = 0
        while i in used:
            i += 1
        return repr(i)

    # -- codec functions --

    def struct_encoder(
        self,
        d: ir.Struct,
        name: str,
        fields: list[ir.Field],
        ctx: M.Context,
        refs: UnitRefs,
        arch: str,
    ) -> Function:
        enc = M.Encoder(ctx, refs, arch)
        enc.depth = 1
        enc.fields(fields, "_v")
        enc.flush()
        fn = f"_e_{name}_{SFX[arch]}"
        body = _guarded(enc.lines, fn, ["_v"]) if enc.lines else ["pass"]
        return Function(
            f"def {fn}(_v: {name}, _buf: _bytearray, " f"_items: {_ITEMS}) -> None:",
            body,
        )

    def struct_decoder(
        self,
        d: ir.Struct | ir.Exception_,
        name: str,
        fields: list[ir.Field],
        ctx: M.Context,
        refs: UnitRefs,
        arch: str,
    ) -> Function:
        dec = M.Decoder(ctx, refs, arch)
        exprs = dec.fields(fields, "")
        dec.flush()
        dec.emit(f"return {name}({', '.join(exprs)}), _o")
        return Function(
            f"def _d_{name}_{SFX[arch]}({_DEC_ARGS}) -> _tuple[{name}, _int]:",
            dec.lines,
        )

    def exception_encoder(
        self,
        d: ir.Exception_,
        name: str,
        fields: list[ir.Field],
        ctx: M.Context,
        refs: UnitRefs,
        arch: str,
    ) -> Function:
        enc = M.Encoder(ctx, refs, arch)
        enc.depth = 1
        enc.const_word(ir_user_exception())
        enc.const_word(d.exception_id)
        enc.fields(fields, "_v")
        enc.flush()
        fn = f"_x_{name}_{SFX[arch]}"
        return Function(
            f"def {fn}(_v: {name}) -> {_MESSAGE}:",
            _message(enc.lines, fn, ["_v"]),
        )

    def union_encoder(
        self, d: ir.Union_, name: str, ctx: M.Context, refs: UnitRefs, arch: str
    ) -> Function:
        enc = M.Encoder(ctx, refs, arch)
        _, cast = _union_value(d, Hints(ctx, refs))
        enc.depth = 1
        enc.emit("_k = _v._d")
        enc.value(d.discriminator, "_k", "_d")
        enc.flush()
        first = True
        default: ir.UnionCase | None = None
        for c in d.cases:
            if c.is_default:
                default = c
                continue
            labels = _tuple([_literal(lab, refs) for lab in c.labels])
            enc.emit(f"{'if' if first else 'elif'} _k in {labels}:")
            first = False
            self._union_member(enc, c.field, cast)
        enc.emit("else:" if not first else "if True:")
        if default is not None:
            self._union_member(enc, default.field, cast)
        elif d.implicit_default:
            enc.emit(
                "    if _v._v is not None: raise _c.MarshalError('_d', "
                "'the discriminator selects no member, but a value is set')"
            )
        else:
            enc.emit("    raise _c.MarshalError('_d', 'the discriminator selects no member')")
        fn = f"_e_{name}_{SFX[arch]}"
        return Function(
            f"def {fn}(_v: {name}, _buf: _bytearray, _items: {_ITEMS}) -> None:",
            _guarded(enc.lines, fn, ["_v"]),
        )

    def _union_member(self, enc: M.Encoder, f: ir.Field, cast: bool) -> None:
        enc.depth += 1
        hint = Hints(enc.ctx, enc.refs).optional(f.type, f.optional)  # type: ignore[arg-type]
        x = enc.tmp("x")
        enc.emit(f"{x} = _cast({hint!r}, _v._v)" if cast else f"{x} = _v._v")
        mask = 0x1F if f.rights is None else f.rights
        if f.optional:
            enc.emit(f"if {x} is None: _buf += {enc.wstruct()}.pack(0)")
            enc.emit("else:")
            enc.depth += 1
            enc.emit(f"_buf += {enc.wstruct()}.pack(1)")
        enc.value(f.type, x, f.name, f.translate, mask)
        enc.flush()
        if f.optional:
            enc.depth -= 1
        enc.depth -= 1

    def union_decoder(
        self, d: ir.Union_, name: str, ctx: M.Context, refs: UnitRefs, arch: str
    ) -> Function:
        dec = M.Decoder(ctx, refs, arch)
        disc = dec.value(d.discriminator, "_d")
        dec.flush()
        dec.emit(f"_k = {disc}")
        dec.emit(f"_x: {_union_value(d, Hints(ctx, refs))[0]} = None")
        first = True
        default: ir.UnionCase | None = None
        for c in d.cases:
            if c.is_default:
                default = c
                continue
            labels = _tuple([_literal(lab, refs) for lab in c.labels])
            dec.emit(f"{'if' if first else 'elif'} _k in {labels}:")
            first = False
            self._union_member_dec(dec, c.field)
        if default is not None:
            dec.emit("else:" if not first else "if True:")
            self._union_member_dec(dec, default.field)
        elif not d.implicit_default:
            dec.emit("else:" if not first else "if True:")
            dec.emit("    raise _c.DecodeError(_o >> 3, '_d: no member for this discriminator')")
        dec.emit(f"return {name}(_k, _x), _o")
        return Function(
            f"def _d_{name}_{SFX[arch]}({_DEC_ARGS}) -> _tuple[{name}, _int]:",
            dec.lines,
        )

    def _union_member_dec(self, dec: M.Decoder, f: ir.Field) -> None:
        dec.depth += 1
        (v,) = dec.fields([f], "")
        dec.flush()
        dec.emit(f"_x = {v}")
        dec.depth -= 1

    # -- interfaces --

    def interface(
        self,
        d: ir.Interface,
        name: str,
        mm: ModuleModel,
        ctx: M.Context,
        refs: UnitRefs,
        hints: Hints,
    ) -> InterfaceModel:
        im = InterfaceModel(name, d.doc)
        im.scoped = d.name
        im.ref = hints.refs.cls(d.name)  # the Protocol, as the skeleton's __init__ names it
        # A base that another listed base already derives from would make Python's MRO
        # inconsistent (`five : four, three` with `four : three`); it adds nothing.
        inherited = {a for b in d.bases for a in self._ancestors(b)}
        # A base whose operations the derived interface names otherwise (two bases named
        # different operations alike: names.operation_names) is no Python base class: its
        # methods are defined again under their names here.
        names = operation_names(self.spec, d)
        covered: set[str] = set()
        for b in d.bases:
            base = self.spec.lookup(b)
            assert isinstance(base, ir.Interface)
            if b in inherited:
                continue
            mine = operation_names(self.spec, base)
            if all(names[w] == py for w, py in mine.items()):
                im.bases.append(refs.cls(b))
                covered |= set(mine)
        for m in d.methods:
            im.own.append(self.method(d, m, mm, ctx, refs, hints, own=True))
        for m in d.all_methods:
            if m.interface == d.name:
                mod = next(x for x in im.own if x.wire == m.name)
            else:
                decl = self.spec.lookup(m.interface)
                assert isinstance(decl, ir.Interface)
                mod = self.method(decl, m, mm, ctx, refs, hints, own=False)
                mod.name = names[m.name]
                if m.name not in covered:
                    im.defined.append(mod)
            im.all.append(mod)
        im.defined += im.own
        im.fast = [x for x in im.all if x.fast]
        im.windows = Windows.serving([x.request for x in im.all])
        return im

    def _ancestors(self, name: str) -> set[str]:
        """Every interface ``name`` derives from, directly or not."""
        out: set[str] = set()
        todo = [name]
        while todo:
            d = self.spec.lookup(todo.pop())
            for b in d.bases if isinstance(d, ir.Interface) else ():
                if b not in out:
                    out.add(b)
                    todo.append(b)
        return out

    def method(
        self,
        iface: ir.Interface,
        m: ir.Method,
        mm: ModuleModel,
        ctx: M.Context,
        refs: UnitRefs,
        hints: Hints,
        own: bool,
    ) -> MethodModel:
        mod = MethodModel()
        iname = self.naming.local[iface.name]
        mod.name = operation_names(self.spec, iface)[m.name]
        mod.wire = m.name
        mod.opcode = m.opcode
        mod.oneway = m.oneway
        mod.doc = _doc(m.doc)
        inputs = [p for p in m.params if p.mode in ("in", "inout")]
        mod.inputs = [p.name for p in inputs]
        outs = [p for p in m.params if p.mode in ("out", "inout")]
        py = parameter_names(m)
        mod.params = [
            Param(py[p.name], hints.hint(p.type), self._stub(p.type, refs)) for p in inputs
        ]
        result_translate = any(a.name == "translate" for a in m.annotations)
        out_fields = []
        if m.result is not None:
            out_fields.append(ir.Field("return", m.result, m.span, translate=result_translate))
        out_fields += [_field(p) for p in outs]
        mod.outputs = [f.name for f in out_fields]
        out_hints = [hints.hint(f.type) for f in out_fields]
        stubs = [self._stub(f.type, refs) for f in out_fields]
        # the implementation may return a stub (or Pt) where an interface is expected
        impl_hints = [
            h if c is None else f"{_private(c)} | {h}"
            for h, c in zip(out_hints, stubs, strict=True)
        ]
        client_hints = [
            h if c is None else f"{_private(c)} | None"
            for h, c in zip(out_hints, stubs, strict=True)
        ]
        mod.returns = _result_hint(impl_hints)
        mod.client_returns = _result_hint(client_hints)
        got = [
            f"_r[{i}]" if c is None else f"_binding.stub({_private(c)}, self._pt, _r[{i}])"
            for i, c in enumerate(stubs)
        ]
        sent = [f"_r[{i}]" if c is None else f"_binding.cap(_r[{i}])" for i, c in enumerate(stubs)]
        if len(got) == 1:
            mod.client_result = got[0]
            mod.reply_args = "_r" if stubs[0] is None else "_binding.cap(_r)"
        elif any(stubs):
            mod.client_result = f"({', '.join(got)})"
            mod.reply_args = ", ".join(sent)
        else:
            mod.client_result = "_r"
            mod.reply_args = "*_r"
        stem = self.naming.method_stem[iface.name, m.name]
        qual = refs.cls(iface.name)
        prefix = qual[: -len(iname)] if qual != iname else ""
        mod.fn = {k: f"{prefix}_{k}_{stem}" for k in ("rq", "dq", "rp", "dp")}
        # runtime.codec.MethodCodec.of finds the four by name in the namespace of their module
        mod.codec_ns = f"{prefix}__dict__" if prefix else "_globals()"
        mod.codec_stem = stem
        for ex in m.raises:
            decl = self.spec.lookup(ex)
            assert isinstance(decl, ir.Exception_)
            mod.raises.append((ex, hints.refs.cls(ex), refs.fn("_x", ex, "").rstrip("_")))
        in_fields = [_field(p) for p in inputs]
        # receive windows: the client's for the reply, the server's for the request
        rwin = self._receive(m, out_fields, reply=True)
        mod.accept, mod.reply_translate = rwin.accept, rwin.translate
        mod.windows = self._client_windows(rwin)
        mod.request = self._receive(m, in_fields, reply=False)
        # in the stub's and the skeleton's methods
        inside = hints.refs
        shapes = {SFX[a]: fastcall.shape(ctx, inside, a, m, in_fields, out_fields) for a in ARCHES}
        mod.fast = {k: v for k, v in shapes.items() if v is not None}
        if len(mod.fast) != len(ARCHES):
            mod.fast = {}
        if own:
            for arch in ARCHES:
                mm.functions.extend(self.messages(iface, m, in_fields, out_fields, ctx, refs, arch))
        return mod

    def _stub(self, t: ir.Type, refs: UnitRefs) -> str | None:
        """The client stub class of an interface reference (through typedefs), else None."""
        seen: set[str] = set()
        while isinstance(t, ir.Ref) and t.name not in seen:
            seen.add(t.name)
            d = self.spec.lookup(t.name)
            if isinstance(d, ir.Interface):
                return refs.cls(d.name) + "Client"
            if not isinstance(d, ir.Typedef):
                return None
            t = d.type
        return None

    def _receive(self, m: ir.Method, fields: list[ir.Field], reply: bool) -> Windows:
        """The receive windows of one message (WIRE.md §4 *Windows*): the request's
        ``fields``, or the reply's (the success reply or any exception ``m`` raises; the
        receiver arms them before it knows which comes). Objects: the most items in a
        message that delegates objects (item k's hotspot is k), rounded up to a power of
        two; memory: every memory item's largest size (``@max_order``), each aligned to
        it, so ``items * 2**(largest order)`` pages; I/O ports: the whole port space."""
        alternatives = [fields]
        if reply:
            for ex in m.raises:
                decl = self.spec.lookup(ex)
                if isinstance(decl, ir.Exception_):
                    alternatives.append(list(decl.fields))
        layout = layout_for(self.spec, "x86_64")
        win = Windows()
        objects, pages = 0, 0
        for alt in alternatives:
            count, memory, order, delegates_objects = 0, 0, 0, False
            for f in alt:
                items = 0
                with contextlib.suppress(UnsizedType):
                    items = layout.field_size(f.type, f.optional).max_items or 0
                count += items
                sites = list(capabilities(self.spec, f.type, f.translate, f.span))
                for site in sites:
                    if site.translate:
                        win.translate, win.xlt = True, CRD_TYPES[site.kind]
                    else:
                        win.kind = CRD_TYPES[site.kind]
                if any(not x.translate and x.kind == "object" for x in sites):
                    delegates_objects = True
                if any(not x.translate and x.kind == "memory" for x in sites):
                    # each item at most 2**order pages, aligned to its own order: the
                    # running offsets stay within items * 2**(largest order)
                    order = max(order, self._max_order(f.type, f.max_order))
                    memory += items
            if delegates_objects:
                objects = max(objects, count)
            pages = max(pages, memory << order)
        if win.kind == OBJ and objects:
            win.accept = max(0, math.ceil(math.log2(objects)))
        elif win.kind == MEM and pages:
            win.accept = max(0, math.ceil(math.log2(pages)))
        elif win.kind == PIO:
            win.accept = 16
        return win

    @staticmethod
    def _client_windows(win: Windows) -> str:
        """The keywords of ``runtime.binding.call`` for windows of other kinds than
        objects, e.g. ``", kind=1, xlt=2"``."""
        out = []
        if win.accept is not None and win.kind != OBJ:
            out.append(f"kind={win.kind}")
        if win.translate and win.xlt != OBJ:
            out.append(f"xlt={win.xlt}")
        return "".join(f", {x}" for x in out)

    def _max_order(self, t: ir.Type, own: int, depth: int = 0) -> int:
        """The largest ``@max_order`` of the memory capabilities inside ``t``."""
        if depth > 32:
            return own
        if isinstance(t, ir.Sequence | ir.Array):
            return self._max_order(t.element, own, depth + 1)
        if not isinstance(t, ir.Ref):
            return own
        d = self.spec.lookup(t.name)
        if isinstance(d, ir.Typedef):
            return self._max_order(d.type, own, depth + 1)
        fields: list[ir.Field] = []
        if isinstance(d, ir.Struct):
            fields = list(d.fields)
        elif isinstance(d, ir.Union_):
            fields = [c.field for c in d.cases]
        return max([own, *(self._max_order(f.type, f.max_order, depth + 1) for f in fields)])

    def messages(
        self,
        iface: ir.Interface,
        m: ir.Method,
        in_fields: list[ir.Field],
        out_fields: list[ir.Field],
        ctx: M.Context,
        refs: UnitRefs,
        arch: str,
    ) -> Iterator[Function]:
        sfx = SFX[arch]
        stem = f"{self.naming.method_stem[iface.name, m.name]}_{sfx}"
        hints = Hints(ctx, refs)
        W = M.ARCH_WORD[arch]
        # request encoder
        enc = M.Encoder(ctx, refs, arch)
        enc.depth = 1
        enc.const_word(m.opcode)
        self._param_fields(enc, in_fields)
        enc.flush()
        args = ", ".join(f"p_{f.name}: {hints.hint(f.type)}" for f in in_fields)
        yield Function(
            f"def _rq_{stem}({args}) -> {_MESSAGE}:",
            _message(enc.lines, f"_rq_{stem}", [f"p_{f.name}" for f in in_fields]),
        )
        # request decoder
        dec = M.Decoder(ctx, refs, arch)
        dec.emit("_o = 0")
        dec.const_word(m.opcode, f"not the opcode of {m.name}")
        exprs = dec.fields(in_fields, "")
        dec.flush()
        dec.emit(_leftover(W))
        in_hints = [hints.hint(f.type) for f in in_fields]
        ret = f"_tuple[{', '.join(in_hints)}]" if in_hints else "_tuple[()]"
        dec.emit(f"return ({', '.join(exprs)}{',' if len(exprs) == 1 else ''})")
        _opcode_alone(dec.lines, m.opcode, W)
        yield Function(f"def _dq_{stem}(_b: _bytes, _it: _c.Items) -> {ret}:", dec.lines)
        # reply encoder and decoder
        out_hints = [hints.hint(f.type) for f in out_fields]
        out_ret = f"_tuple[{', '.join(out_hints)}]" if out_hints else "_tuple[()]"
        names = [f"p_{f.name}" for f in out_fields]
        args = ", ".join(f"{n}: {h}" for n, h in zip(names, out_hints, strict=True))
        if m.oneway:
            yield Function(
                f"def _rp_{stem}() -> {_MESSAGE}:",
                ["return _bytearray(), []"],
            )
            yield Function(
                f"def _dp_{stem}(_b: _bytes, _it: _c.Items) -> _tuple[()] | _BaseException:",
                [
                    "if _b: raise _c.DecodeError(0, 'a oneway reply has no words')",
                    "_it.finish(0)",
                    "return ()",
                ],
            )
            return
        enc = M.Encoder(ctx, refs, arch)
        enc.depth = 1
        enc.const_word(0)
        self._param_fields(enc, out_fields)
        enc.flush()
        yield Function(
            f"def _rp_{stem}({args}) -> {_MESSAGE}:",
            _message(enc.lines, f"_rp_{stem}", names),
        )
        dec = M.Decoder(ctx, refs, arch)
        ws = "_W8" if W == 8 else "_W4"
        if m.raises:
            dec.emit(f"if _len(_b) < {W}: raise _c.DecodeError(0, 'status word missing')")
            dec.emit(f"_st = {ws}.unpack_from(_b, 0)[0]")
            dec.emit("if _st == 0:")
        else:  # status 0 by its bytes; any other (or none) runtime.codec.reply_status
            dec.emit(f"if _b[:{W}] == _Z{W}:")
        dec.depth += 1
        dec.emit(f"_o = {W}")
        exprs = dec.fields(out_fields, "")
        dec.flush()
        dec.emit(_leftover(W))
        dec.emit(f"return ({', '.join(exprs)}{',' if len(exprs) == 1 else ''})")
        dec.depth -= 1
        if m.raises:
            dec.emit("if _st == 32:")
            dec.depth += 1
            dec.emit(f"if _len(_b) < {2 * W}: raise _c.DecodeError(1, 'exception id missing')")
            dec.emit(f"_eid = {ws}.unpack_from(_b, {W})[0]")
            for k, ex in enumerate(m.raises):
                decl = self.spec.lookup(ex)
                assert isinstance(decl, ir.Exception_)
                # one variable per exception: each has its own type
                dec.emit(f"if _eid == {decl.exception_id}:")
                dec.emit(f"    _ex{k}, _o = {refs.fn('_d', ex, sfx)}(_b, {2 * W}, _it)")
                dec.emit(f"    {_leftover(W)}")
                dec.emit(f"    return _ex{k}")
            dec.emit("raise _c.DecodeError(1, f'exception id {_eid:#x} is not raised here')")
            dec.depth -= 1
        dec.emit(f"return _c.reply_status(_b, {W}, _it)")
        yield Function(
            f"def _dp_{stem}(_b: _bytes, _it: _c.Items) -> {out_ret} | _BaseException:",
            dec.lines,
        )

    def _param_fields(self, enc: M.Encoder, fields: list[ir.Field]) -> None:
        for f in fields:
            mask = 0x1F if f.rights is None else f.rights
            enc.value(f.type, f"p_{f.name}", f.name, f.translate, mask)


def _union_value(d: ir.Union_, hints: Hints) -> tuple[str, bool]:
    """The hint of a union's ``_v`` (any member's type, or None) and whether reading a
    member needs a cast: not when all members have the one type that already holds None
    (capabilities, optional members), where mypy --strict flags the cast as redundant."""
    members = [hints.optional(c.field.type, c.field.optional) for c in d.cases]
    value = " | ".join([*dict.fromkeys(h.removesuffix(" | None") for h in members), "None"])
    kinds = {_nullable_kind(c.field, hints) for c in d.cases}
    return value, not (len(kinds) == 1 and next(iter(kinds))[1])


def _nullable_kind(f: ir.Field, hints: Hints) -> tuple[str, bool]:
    """(a member's type through typedefs: its scoped name or hint, whether it holds None)"""
    r = hints.ctx.resolve(f.type)
    if isinstance(r, ir.Capability | ir.Interface):
        return "_Crd", True
    return (r.name if isinstance(r, ir.Declaration) else hints.hint(r)), f.optional


def _tuple(items: list[str]) -> str:
    """A tuple display as black writes it: ``(a,)``, ``(a, b)``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _private(cls: str) -> str:
    """How class bodies and methods name a client stub class: a class of this module by
    its private alias (``_IClient``, module.py.j2), which no IDL parameter or operation
    name can shadow."""
    return cls if "." in cls else f"_{cls}"


def _result_hint(hints: list[str]) -> str:
    if not hints:
        return "None"
    if len(hints) == 1:
        return hints[0]
    return f"_tuple[{', '.join(hints)}]"


def ir_user_exception() -> int:
    return 32


_CONSTANT_PACK = re.compile(r"    _buf \+= _S\d+\.pack\([\d, ]+\)")


def _guarded(lines: list[str], fn: str, values: list[str]) -> list[str]:
    """``lines`` (one level in) in the error path of _catch_encode, or on their own
    when they only pack constants (an opcode, a status word), which cannot fail."""
    if all(_CONSTANT_PACK.fullmatch(line) for line in lines):
        return [line[4:] for line in lines]
    return ["try:", *lines, *_catch_encode(fn, values)]


def _message(lines: list[str], fn: str, values: list[str]) -> list[str]:
    """The body of a whole message's encoder ``fn``: a message of one constant run (a
    request without parameters, a reply of the status alone) in one line."""
    if len(lines) == 1 and _CONSTANT_PACK.fullmatch(lines[0]):
        return [f"return _bytearray({lines[0].partition('+= ')[2]}), []"]
    return [
        "_buf = _bytearray()",
        f"_items: {_ITEMS} = []",
        *_guarded(lines, fn, values),
        "return _buf, _items",
    ]


def _catch_encode(fn: str, values: list[str]) -> list[str]:
    """The error path of encoder ``fn`` of ``values``: runtime.codec.retyped walks them
    against fn's annotations for a value of the wrong Python type (the path and both
    types), else gives the error as it is (an AttributeError or TypeError as a
    MarshalError). Only a failed encoding gets here."""
    return [
        "except (_c.MarshalError, _AttributeError, _TypeError) as _err:",
        f"    raise _c.retyped(_err, {fn}, ({', '.join(values)}{',' if len(values) == 1 else ''}))"
        " from None",
    ]


_OPCODE_UNPACK = re.compile(r"\(_t1,\) = _S\d+\.unpack_from\(_b, _o\)")


def _opcode_alone(lines: list[str], opcode: int, w: int) -> None:
    """A request decoder whose opcode word is a run of its own (a string, a struct with
    a decoder of its own or nothing follows it): its five lines become one comparison of
    the word's bytes (runtime.codec.not_opcode raises what they raised)."""
    check = f"if _t1 != {opcode}: raise _c.DecodeError((_o >> {3 if w == 8 else 2}), "
    if (
        lines[0] == "_o = 0"
        and _OPCODE_UNPACK.fullmatch(lines[2])
        and lines[3].startswith(check)
        and lines[4] == f"_o += {w}"
    ):
        reason = lines[3][len(check) :].removesuffix(")")
        word = opcode.to_bytes(w, "little")
        lines[0:5] = [
            f"if _b[:{w}] != {word!r}: raise _c.not_opcode(_b, {w}, {reason})",
            f"_o = {w}",
        ]


def _leftover(w: int) -> str:
    """The end of a whole message's decoder: no words and no typed items left over."""
    return f"_it.end(_b, _o, {3 if w == 8 else 2})"


# --- rendering ------------------------------------------------------------------------


def render(spec: ir.Specification, diags: Diagnostics) -> dict[str, str]:
    """relative path -> source of every module (and package __init__); {} on errors."""
    gen = Generator(spec, diags)
    if not gen.check():
        return {}
    try:
        models = gen.modules()
    except M.Unsupported as e:  # reported by check() unless the IR is inconsistent
        diags.report(errcodes.BACKEND_UNSUPPORTED, None, construct=e.construct, backend=BACKEND)
        return {}
    from idlc.backends.python._templates import module as template  # compiled: tmplc.py
    from idlc.backends.python.imports import import_cycle, place_imports
    from idlc.backends.python.layout import tidy

    out: dict[str, str] = {}
    needs: dict[str, set[str]] = {}  # module alias -> the modules it needs while imported
    for rel, mm in models.items():
        # placed before tidy lays out long lines: the scan reads one statement a line
        text, needs[mm.unit.alias] = place_imports(template(mm), mm.imports)
        out[rel] = tidy(text)
        # packages
        parts = os.path.dirname(rel).split(os.sep) if os.path.dirname(rel) else []
        for i in range(len(parts) + 1):
            init = os.path.join(*parts[:i], "__init__.py") if i else "__init__.py"
            out.setdefault(init, '"""Generated by idlc: IDL modules as packages."""\n')
    if cycle := import_cycle(needs):
        _report_cycle(cycle, [mm.unit for mm in models.values()], diags)
        return {}
    return out


def _report_cycle(cycle: list[str], units: list[Unit], diags: Diagnostics) -> None:
    """Python modules that each need the next while imported cannot be imported at all
    (docs/python-backend.md, Imports): E0901 at the first one's first declaration."""
    by_alias = {u.alias: u for u in units}
    first = by_alias[cycle[0]]
    names = [
        "::".join(by_alias[a].package) or f"the global scope of {by_alias[a].file}"
        for a in [*cycle, cycle[0]]
    ]
    diags.report(
        errcodes.BACKEND_UNSUPPORTED,
        first.declarations[0].span if first.declarations else None,
        construct="IDL modules whose Python modules need each other while they are imported"
        f" ({' -> '.join(names)}: a base, a default value or a discriminator each way)",
        backend=BACKEND,
    )
