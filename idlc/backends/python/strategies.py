"""Hypothesis strategies for the Python backend (docs/python-strategies.md).

Beside every generated module ``x_idl.py`` goes ``x_idl_strategies.py``: one strategy
function per type (``st_<Name>(arch, mask)``) and per method request, reply and raised
exception (``rq_<I>__<method>(arch)``, ``rp_...``, ``ex_...``), plus the tables
``REQUESTS``, ``REPLIES`` and ``RAISES`` keyed like the stub module's ``INTERFACES``. Only
these companions import hypothesis; the stubs never do.

Every value a strategy draws encodes (WIRE.md §3-4), so ``decode(encode(v)) == v`` holds
(floats by their bits): bounds (string bounds in UTF-8 bytes), enum values, union labels,
defaults and implicit defaults, optional members, array lengths, integer ranges, floats
with NaN and infinities, capabilities (null, or of the right Crd type with rights inside
every enclosing ``@rights`` mask, memory orders up to ``@max_order``, bases that fit a
word of the architecture).
"""

from __future__ import annotations

from idlc import ir
from idlc.backends.python import marshal as M
from idlc.backends.python.generator import Hints, _literal
from idlc.backends.python.names import Naming, Unit, distinct, enumerator_names
from idlc.layout import OBJECT_CAPABILITIES

ALL_RIGHTS = 0x1F
CHARS = "_CHARS"  # every code point but the surrogates
# Arrays longer than this repeat a few drawn elements; values holding more than
# HUGE scalars are listed in the companion's LARGE (too big to draw in tests).
LARGE = 1024
HUGE = 1 << 16


def companion(relpath: str) -> str:
    """The strategies module beside the generated module ``relpath``."""
    return relpath[: -len(".py")] + "_strategies.py"


class StRefs(M.Refs):
    """Every name qualified by the alias of the stub module that defines it; records the
    stub and strategies modules the companion imports."""

    def __init__(self, naming: Naming, unit: Unit) -> None:
        self.naming = naming
        self.unit = unit
        self.stubs: dict[str, Unit] = {unit.alias: unit}
        self.companions: dict[str, Unit] = {}

    def cls(self, name: str) -> str:
        other = self.naming.unit_of[name]
        self.stubs[other.alias] = other
        return f"{other.alias}.{self.naming.local[name]}"

    def strategy(self, name: str) -> str:
        other = self.naming.unit_of[name]
        local = f"st_{self.naming.local[name]}"
        if other is self.unit:
            return local
        alias = "_s" + other.alias[2:]
        self.companions[alias] = other
        return f"{alias}.{local}"

    def fn(self, prefix: str, name: str, sfx: str) -> str:  # pragma: no cover - unused
        raise NotImplementedError

    def table(self, name: str, what: str) -> str:  # pragma: no cover - unused
        raise NotImplementedError


class StFunction:
    def __init__(self, name: str, hint: str, expr: str, doc: str, cached: bool = True) -> None:
        self.name = name
        self.hint = hint
        self.expr = expr
        self.doc = doc
        self.cached = cached


class StMethod:
    def __init__(self, iface: str, wire: str, stem: str) -> None:
        self.iface = iface
        self.wire = wire
        self.stem = stem
        self.request = ""
        self.request_hint = ""
        self.reply = ""
        self.reply_hint = ""
        self.raises = ""
        self.raises_hint = ""
        self.large = False  # values of more than HUGE scalars (LARGE)


class StModule:
    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.stub = unit.module
        self.functions: list[StFunction] = []
        self.methods: list[StMethod] = []
        self.imports: list[str] = []
        self.large: list[str] = []


class Builder:
    """Strategy expressions for IR types, as seen from one companion module. Inside a
    function ``arch`` and ``mask`` are in scope."""

    def __init__(self, spec: ir.Specification, naming: Naming, unit: Unit) -> None:
        self.spec = spec
        self.naming = naming
        self.unit = unit
        self.refs = StRefs(naming, unit)
        self.ctx = M.Context(spec, M.Pools())
        self.hints = Hints(self.ctx, self.refs)  # type: ignore[arg-type]
        self.large: list[str] = []

    def hint(self, t: ir.Type, optional: bool = False) -> str:
        return self.hints.optional(t, optional)

    def field(self, f: ir.Field | ir.Param, mask: str) -> str:
        if f.rights is not None:
            mask = f"{mask} & 0x{f.rights:X}"
        optional = isinstance(f, ir.Field) and f.optional
        s = self.expr(f.type, mask, f.max_order)
        return f"st.none() | {s}" if optional else s

    def expr(self, t: ir.Type, mask: str = "mask", max_order: int = 0) -> str:
        if isinstance(t, ir.Primitive):
            return self.primitive(t.kind)
        if isinstance(t, ir.String):
            if t.wide:
                bound = "" if t.bound is None else f", max_size={t.bound}"
                return f"st.text({CHARS}{bound})"
            if t.bound is None:
                return f"st.text({CHARS})"
            return f"_utf8({t.bound})"
        if isinstance(t, ir.Sequence):
            bound = "" if t.bound is None else f"max_size={t.bound}"
            if self.ctx.octets(t.element):
                return f"st.binary({bound})"
            el = self.expr(t.element, mask, max_order)
            return f"st.lists({el}{', ' + bound if bound else ''})"
        if isinstance(t, ir.Array):
            dims = list(t.dims)
            if self.ctx.octets(t.element):
                n = dims[-1]
                inner = f"st.binary(min_size={n}, max_size={n})"
                if n > LARGE:
                    inner = f"st.binary(min_size=1, max_size=4).map(lambda _b: (_b * {n})[:{n}])"
                dims = dims[:-1]
            else:
                inner = self.expr(t.element, mask, max_order)
            for n in reversed(dims):
                if n > LARGE:  # hypothesis draws at most a few thousand elements
                    inner = f"_repeat({inner}, {n})"
                else:
                    inner = f"st.lists({inner}, min_size={n}, max_size={n})"
            return inner
        if isinstance(t, ir.Capability):
            return self.cap(
                1 if t.kind == "memory" else 2 if t.kind == "ioports" else 3,
                mask,
                t.kind,
                max_order,
            )
        if isinstance(t, ir.Ref):
            d = self.spec.lookup(t.name)
            if isinstance(d, ir.Interface):
                return self.cap(3, mask, "portal", 0)
            if isinstance(d, ir.Enum | ir.Bitmask):
                return f"{self.refs.strategy(d.name)}()"
            if isinstance(d, ir.Typedef):
                if max_order and self._has_memory(d.type):
                    return self.expr(d.type, mask, max_order)
                return f"{self.refs.strategy(d.name)}(arch, {mask})"
            if isinstance(d, ir.Struct | ir.Union_ | ir.Exception_):
                return f"st.deferred(lambda: {self.refs.strategy(d.name)}(arch, {mask}))"
            raise M.Unsupported(M._construct(d) if d is not None else "unresolved type")
        raise M.Unsupported(M._construct(t))

    def _has_memory(self, t: ir.Type) -> bool:
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Capability):
            return r.kind == "memory"
        if isinstance(r, ir.Sequence | ir.Array):
            return self._has_memory(r.element)
        return False

    def cap(self, crd_type: int, mask: str, kind: str, max_order: int) -> str:
        assert crd_type != 3 or kind in OBJECT_CAPABILITIES or kind == "portal"
        order = max_order if crd_type == 1 else 0
        return f"_cap(arch, {crd_type}, {mask}, {order})"

    @staticmethod
    def primitive(kind: str) -> str:
        if kind == "boolean":
            return "st.booleans()"
        if kind == "float":
            return "st.floats(width=32)"
        if kind == "double":
            return "st.floats()"
        if kind == "char":
            return "st.characters(max_codepoint=255)"
        if kind == "wchar":
            return f"{CHARS}"
        if kind in ir.INTEGER_RANGES:
            lo, hi = ir.INTEGER_RANGES[kind]
            return f"st.integers({lo}, {hi})"
        raise M.Unsupported("long double" if kind == "longdouble" else kind)

    # -- declarations --

    def declaration(self, d: ir.Declaration, sm: StModule) -> None:
        name = self.naming.local[d.name]
        fn = f"st_{name}"
        big = not isinstance(d, ir.Interface | ir.Const | ir.Module)
        if big and self.scalars(ir.Ref(d.name, d.kind)) > HUGE:
            self.large.append(name)
        if isinstance(d, ir.Enum):
            cls = self.refs.cls(d.name)
            sm.functions.append(
                StFunction(fn, cls, f"st.sampled_from({cls})", f"Enumerators of {d.name}.", False)
            )
        elif isinstance(d, ir.Bitmask):
            cls = self.refs.cls(d.name)
            bits = [1 << f.value for f in d.flags]
            expr = (
                f"st.sets(st.sampled_from({bits!r})).map(lambda _xs: {cls}(sum(_xs)))"
                if bits
                else f"st.just({cls}(0))"
            )
            sm.functions.append(StFunction(fn, cls, expr, f"Flag sets of {d.name}.", False))
        elif isinstance(d, ir.Typedef):
            sm.functions.append(
                StFunction(fn, self.refs.cls(d.name), self.expr(d.type), f"Values of {d.name}.")
            )
        elif isinstance(d, ir.Struct | ir.Exception_):
            cls = self.refs.cls(d.name)
            fields = self.ctx.struct_fields(d) if isinstance(d, ir.Struct) else list(d.fields)
            args = ", ".join(f"{self.ctx.attr(f)}={self.field(f, 'mask')}" for f in fields)
            sm.functions.append(
                StFunction(
                    fn, cls, f"st.builds({cls}{', ' if args else ''}{args})", f"Values of {d.name}."
                )
            )
        elif isinstance(d, ir.Union_):
            sm.functions.append(
                StFunction(fn, self.refs.cls(d.name), self.union(d), f"Values of {d.name}.")
            )
        elif isinstance(d, ir.Interface):
            self.interface(d, sm)

    def union(self, d: ir.Union_) -> str:
        cls = self.refs.cls(d.name)
        alts: list[str] = []
        for c in d.cases:
            member = self.field(c.field, "mask")
            if c.is_default:
                disc = self.other_discriminators(d)
                if disc is not None:
                    alts.append(f"st.builds({cls}, {disc}, {member})")
            if c.labels:  # a default case may have labels of its own too
                mine = [_literal(lab, self.refs) for lab in c.labels]  # type: ignore[arg-type]
                alts.append(f"st.builds({cls}, st.sampled_from([{', '.join(mine)}]), {member})")
        if d.implicit_default:
            disc = self.other_discriminators(d)
            if disc is not None:
                alts.append(f"st.builds({cls}, {disc}, st.none())")
        if not alts:
            return "st.nothing()"
        return alts[0] if len(alts) == 1 else f"st.one_of({', '.join(alts)})"

    def other_discriminators(self, d: ir.Union_) -> str | None:
        """A strategy of the discriminator values that no label names (None: there are
        none)."""
        used = [lab for c in d.cases for lab in c.labels]
        r = self.ctx.resolve(d.discriminator)
        if isinstance(r, ir.Enum):
            names = {u.name for u in used if isinstance(u, ir.EnumValue)}
            py = enumerator_names(r)
            rest = [
                f"{self.refs.cls(r.name)}.{py[e.name]}"
                for e in r.enumerators
                if e.name not in names
            ]
            return f"st.sampled_from([{', '.join(rest)}])" if rest else None
        assert isinstance(r, ir.Primitive), r
        if r.kind == "boolean":
            rest = [repr(v) for v in (False, True) if v not in used]
            return f"st.sampled_from([{', '.join(rest)}])" if rest else None
        if not used:
            return self.primitive(r.kind)
        # the k-th value no label names, drawn directly: a filter fails for dense labels
        # (hypothesis then gives up); chars by their code points, without surrogates
        text = r.kind in ("char", "wchar")
        if text:
            lo, hi = 0, 0xFF if r.kind == "char" else 0x10FFFF
        else:
            lo, hi = ir.INTEGER_RANGES[r.kind]
        points = sorted({ord(u) if isinstance(u, str) else int(u) for u in used})  # type: ignore[arg-type]
        gaps = [(u, u) for u in points]
        if r.kind == "wchar":
            gaps = sorted([*gaps, (0xD800, 0xDFFF)])
        free = hi - lo + 1 - sum(b - a + 1 for a, b in gaps)
        if free <= 0:
            return None
        pick = f"_skip(_k, {tuple(gaps)!r})"
        return (
            f"st.integers({lo}, {lo + free - 1}).map(lambda _k: {f'chr({pick})' if text else pick})"
        )

    def scalars(self, t: ir.Type, seen: frozenset[str] = frozenset()) -> int:
        """The most scalars one value of ``t`` holds outside sequences (an estimate
        that is exact for arrays of arrays)."""
        if isinstance(t, ir.Array):
            n = 1
            for k in t.dims:
                n *= k
            return n * self.scalars(t.element, seen)
        if isinstance(t, ir.Ref) and t.name not in seen:
            d = self.spec.lookup(t.name)
            inner = seen | {t.name}
            if isinstance(d, ir.Typedef):
                return self.scalars(d.type, inner)
            if isinstance(d, ir.Struct):
                return sum(self.scalars(f.type, inner) for f in self.ctx.struct_fields(d))
            if isinstance(d, ir.Exception_):
                return sum(self.scalars(f.type, inner) for f in d.fields)
            if isinstance(d, ir.Union_):
                return max((self.scalars(c.field.type, inner) for c in d.cases), default=1)
        if isinstance(t, ir.Sequence):
            return self.scalars(t.element, seen)
        return 1

    def interface(self, d: ir.Interface, sm: StModule) -> None:
        iname = self.naming.local[d.name]
        for m in d.all_methods:
            sm.methods.append(self.method(d, iname, m))

    def method(self, d: ir.Interface, iname: str, m: ir.Method) -> StMethod:
        mm = StMethod(d.name, m.name, f"{iname}__{m.name}")
        types = [p.type for p in m.params] + ([m.result] if m.result is not None else [])
        for x in m.raises:
            types.append(ir.Ref(x, "exception"))
        mm.large = any(self.scalars(t) > HUGE for t in types)
        ins = [p for p in m.params if p.mode in ("in", "inout")]
        outs = [p for p in m.params if p.mode in ("out", "inout")]
        mm.request = self._tuple([self.field(p, "0x1F") for p in ins])
        mm.request_hint = self._tuple_hint([self.hint(p.type) for p in ins])
        out_exprs = [self.field(p, "0x1F") for p in outs]
        out_hints = [self.hint(p.type) for p in outs]
        if m.result is not None:
            out_exprs.insert(0, self.expr(m.result, "0x1F"))
            out_hints.insert(0, self.hint(m.result))
        mm.reply = self._tuple(out_exprs)
        mm.reply_hint = self._tuple_hint(out_hints)
        exc = [f"{self.refs.strategy(x)}(arch)" for x in m.raises]
        hints = [self.refs.cls(x) for x in m.raises]
        mm.raises = (
            "st.nothing()"
            if not exc
            else exc[0] if len(exc) == 1 else f"st.one_of({', '.join(exc)})"
        )
        mm.raises_hint = " | ".join(hints) if hints else "Exception"
        return mm

    @staticmethod
    def _tuple(exprs: list[str]) -> str:
        return f"st.tuples({', '.join(exprs)})"

    @staticmethod
    def _tuple_hint(hints: list[str]) -> str:
        return f"tuple[{', '.join(hints)}]" if hints else "tuple[()]"


def module(spec: ir.Specification, naming: Naming, unit: Unit) -> StModule:
    sm = StModule(unit)
    b = Builder(spec, naming, unit)
    for d in unit.declarations:
        b.declaration(d, sm)
    # <I>__<method> can be two methods' (I__a's b, I's a__b): later ones get `_`
    for mm, stem in zip(sm.methods, distinct([mm.stem for mm in sm.methods]), strict=True):
        mm.stem = stem
    imports = []
    for _alias, other in sorted(b.refs.stubs.items()):
        imports.append(naming.relative_import(unit, other))
    for alias, other in sorted(b.refs.companions.items()):
        line = naming.relative_import(unit, other)
        imports.append(line.replace(f" as {other.alias}", f"_strategies as {alias}"))
    sm.imports = imports
    sm.large = sorted(set(b.large) | {mm.stem for mm in sm.methods if mm.large})
    sm.stub = unit.alias
    return sm


def render(spec: ir.Specification) -> dict[str, str]:
    """Relative path -> source of the strategies companion of every generated module."""
    from idlc.backends.python._templates import strategies as template  # compiled: tmplc.py
    from idlc.backends.python.imports import imports_last
    from idlc.backends.python.layout import tidy

    naming = Naming(spec)
    out: dict[str, str] = {}
    for unit in naming.units.values():
        sm = module(spec, naming, unit)
        out[companion(unit.relpath)] = tidy(imports_last(template(sm), sm.imports))
    return out


__all__ = ["companion", "render"]
