"""Straight-line marshalling code per type, message and architecture (WIRE.md §2-4).

The walkers here turn IR types into Python statements. Consecutive scalars (also those of
nested structs whose members are all scalars) are merged into one precompiled
``struct.Struct``: encoding packs them in one call (struct checks the ranges; only on
failure does ``runtime.codec.run_error`` find the field), decoding unpacks them in one call
and then checks high bytes and padding, booleans, enum values and code points.

Encoders append to ``_buf: bytearray`` and ``_items: list[(crd, flags)]`` and raise
``MarshalError`` whose path is relative to what they were given; callers prefix it.
Decoders read ``_b: bytes`` from byte offset ``_o`` and typed items from ``_it:
runtime.codec.Items``, and raise ``DecodeError`` with the absolute word index.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterator

from idlc import ir
from idlc.backends.python.names import field_names
from idlc.layout import OBJECT_CAPABILITIES, layout_for

# struct character and natural size per primitive kind
SCALARS: dict[str, tuple[str, int]] = {
    "boolean": ("B", 1),
    "octet": ("B", 1),
    "uint8": ("B", 1),
    "char": ("B", 1),
    "int8": ("b", 1),
    "int16": ("h", 2),
    "uint16": ("H", 2),
    "int32": ("i", 4),
    "uint32": ("I", 4),
    "wchar": ("I", 4),
    "int64": ("q", 8),
    "uint64": ("Q", 8),
    "float": ("f", 4),
    "double": ("d", 8),
}
# largest valid word value of unsigned kinds decoded as a whole word
UNSIGNED_MAX = {
    "boolean": 1,
    "octet": 0xFF,
    "uint8": 0xFF,
    "char": 0xFF,
    "uint16": 0xFFFF,
    "uint32": 0xFFFFFFFF,
    "wchar": 0x10FFFF,
    "uint64": 0xFFFFFFFFFFFFFFFF,
}
CRD_TYPE = {"memory": 1, "ioports": 2}
ARCH_WORD = {"x86_64": 8, "x86_32": 4}


def crd_type(kind: str) -> int:
    return 3 if kind in OBJECT_CAPABILITIES else CRD_TYPE[kind]


class Unsupported(Exception):
    """A type the Python backend cannot hold (reported as E0901 by the generator)."""

    def __init__(self, construct: str) -> None:
        super().__init__(construct)
        self.construct = construct


class Context:
    """What the walkers need from the generator: the spec, names and the module pools."""

    def __init__(self, spec: ir.Specification, gen: Pools) -> None:
        self.spec = spec
        self.gen = gen
        self._attrs: dict[int, str] | None = None  # id(member) -> its Python attribute

    def resolve(self, t: ir.Type) -> ir.Type | ir.Declaration:
        """Follow typedefs; a Ref to anything else gives its declaration."""
        seen = 0
        while isinstance(t, ir.Ref):
            d = self.spec.lookup(t.name)
            if d is None:
                raise Unsupported(f"unresolved type '{t.name}'")
            if isinstance(d, ir.Typedef):
                t = d.type
                seen += 1
                if seen > 100:
                    raise Unsupported(f"typedef cycle at '{d.name}'")
                continue
            return d
        return t

    def octets(self, t: ir.Type) -> bool:
        """True for octet/uint8 (after typedefs): a 1-D run of them is Python bytes."""
        r = self.resolve(t)
        return isinstance(r, ir.Primitive) and r.kind in ("octet", "uint8")

    def array_shape(self, t: ir.Array) -> tuple[ir.Type, tuple[int, ...]]:
        """Element type and all dimensions of nested arrays (typedefs included)."""
        dims = list(t.dims)
        el = t.element
        while True:
            r = self.resolve(el)
            if isinstance(r, ir.Array):
                dims.extend(r.dims)
                el = r.element
            else:
                return el, tuple(dims)

    def flat_fixed(self, t: ir.Type, path: frozenset[str] = frozenset()) -> bool:
        """A type of scalars only (no strings, sequences, arrays, optionals, unions,
        capabilities): it can be merged into a struct run."""
        r = self.resolve(t)
        if isinstance(r, ir.Primitive):
            return r.kind in SCALARS
        if isinstance(r, ir.Enum | ir.Bitmask):
            return True
        if isinstance(r, ir.Struct):
            if r.name in path:
                return False
            inner = path | {r.name}
            if r.base is not None and not self.flat_fixed(ir.Ref(r.base, "struct"), inner):
                return False
            return all(not f.optional and self.flat_fixed(f.type, inner) for f in r.fields)
        return False

    def attr(self, f: ir.Field) -> str:
        """The Python attribute of a struct's or an exception's member (names.field_names)."""
        if self._attrs is None:
            self._attrs = {}
            for d in self.spec.declarations:
                if isinstance(d, ir.Struct | ir.Exception_):
                    py = field_names(self.spec, d)
                    self._attrs.update((id(g), py[g.name]) for g in d.fields)
        return self._attrs[id(f)]

    def struct_fields(self, d: ir.Struct) -> list[ir.Field]:
        out: list[ir.Field] = []
        if d.base is not None:
            base = self.spec.lookup(d.base)
            assert isinstance(base, ir.Struct)
            out.extend(self.struct_fields(base))
        out.extend(d.fields)
        return out

    def min_size(self, t: ir.Type, arch: str) -> tuple[int, int]:
        s = layout_for(self.spec, arch).size(t)
        return s.min_words, s.min_items


class Pools:
    """Module-level constants shared by all generated functions of one module."""

    def __init__(self) -> None:
        self.structs: dict[str, str] = {}
        self.getters: dict[str, str] = {}
        self.tables: dict[str, str] = {}

    def table(self, expr: str) -> str:
        """A module constant holding ``expr`` (a table of Structs indexed by lengths)."""
        name = self.tables.get(expr)
        if name is None:
            name = self.tables[expr] = f"_T{len(self.tables)}"
        return name

    def struct(self, fmt: str) -> str:
        name = self.structs.get(fmt)
        if name is None:
            name = self.structs[fmt] = f"_S{len(self.structs)}"
        return name

    def getter(self, member: str) -> str:
        name = self.getters.get(member)
        if name is None:
            name = self.getters[member] = f"_G{len(self.getters)}"
        return name

    def constants(self) -> Iterator[tuple[str, str]]:
        for fmt, name in self.structs.items():
            yield name, f"_struct.Struct({fmt!r})"
        for member, name in self.getters.items():
            yield name, f"_attrgetter({member!r})"
        for expr, name in self.tables.items():
            yield name, expr


class Emitter:
    def __init__(self, ctx: Context, refs: Refs, arch: str) -> None:
        self.ctx = ctx
        self.refs = refs
        self.arch = arch
        self.w = ARCH_WORD[arch]
        self.lines: list[str] = []
        self.depth = 0
        self.counter = 0
        self.sfx = "64" if self.w == 8 else "32"

    def tmp(self, prefix: str = "t") -> str:
        """A fresh local: ``_``-prefixed, so never an IDL-derived name (names.py), which a
        local would shadow (a union ``t1`` decoded through a temporary ``t1``)."""
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def wstruct(self) -> str:
        return "_W8" if self.w == 8 else "_W4"

    def pads(self) -> str:
        return "_P8" if self.w == 8 else "_P4"


class Refs:
    """How generated code names other generated things (set by the generator)."""

    def cls(self, name: str) -> str:
        raise NotImplementedError

    def fn(self, prefix: str, name: str, sfx: str) -> str:
        raise NotImplementedError

    def table(self, name: str, what: str) -> str:
        raise NotImplementedError


def _fields_path(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


# --- encoding ------------------------------------------------------------------------


def thunk(expr: str) -> str:
    """``lambda n=n, ...: expr``, binding the names ``expr`` reads as defaults. A closure
    (``lambda: expr``) would make each local it reads a cell of the whole function, so
    every read of ``_v`` on the fast path, too, would be a LOAD_DEREF instead of a
    LOAD_FAST; the thunks are made and called at once (run_error), so early binding
    reads the same values."""
    tree = list(ast.walk(ast.parse(expr, mode="eval")))
    bound = {n.arg for n in tree if isinstance(n, ast.arg)}
    bound |= {n.id for n in tree if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    names = {n.id for n in tree if isinstance(n, ast.Name)} - bound
    params = ", ".join(f"{n}={n}" for n in sorted(names))
    return f"lambda {params}: {expr}" if params else f"lambda: {expr}"


class Encoder(Emitter):
    """Statements that append ``value`` of a type to ``_buf``/``_items``."""

    def __init__(self, ctx: Context, refs: Refs, arch: str) -> None:
        super().__init__(ctx, refs, arch)
        # pending run: (format, value expression, path, prechecks)
        self.run: list[tuple[str, str, str, list[str]]] = []
        self.calls = False  # other encoders are called (they take ``_items``)

    def flush(self, into: str = "") -> None:
        """Pack the pending run: ``_buf += S.pack(...)``, or ``S.pack_into(<into>, ...)``
        when ``into`` gives the buffer and offset."""
        if not self.run:
            return
        run, self.run = self.run, []
        fmt = "<" + "".join(f for f, _, _, _ in run)
        name = self.ctx.gen.struct(fmt)
        self.emit("try:")
        self.depth += 1
        for _, _, _, pre in run:
            for line in pre:
                self.emit(line)
        args = ", ".join(v for _, v, _, _ in run)
        if not into and all(v.isdigit() and not pre for _, v, _, pre in run):
            # constants alone (an opcode, a status): nothing to name on failure
            self.depth -= 1
            self.lines.pop()
            self.emit(f"_buf += {name}.pack({args})")
            return
        if into:
            self.emit(f"{name}.pack_into({into}, {args})")
        else:
            self.emit(f"_buf += {name}.pack({args})")
        self.depth -= 1
        self.emit("except (_struct.error, _TypeError, _OverflowError, _AttributeError):")
        checks = ", ".join(f"({p!r}, {thunk(v)}, {f!r})" for f, v, p, _ in run)
        one = "," if len(run) == 1 else ""  # a tuple of checks; no magic trailing comma
        self.emit(f"    raise _c.run_error(({checks}{one})) from None")

    def const_word(self, value: int) -> None:
        self.run.append(("Q" if self.w == 8 else "I", str(value), "", []))

    def scalar(self, kind: str, x: str, path: str) -> None:
        ch, size = SCALARS[kind]
        fmt = ch if size >= self.w else f"{ch}{self.w - size}x"
        pre: list[str] = []
        value = x
        if kind == "boolean":
            pre.append(
                f"if {x} is not True and {x} is not False: "
                f"raise _c.MarshalError({path!r}, 'expected a bool')"
            )
        elif kind == "char":
            value = f"_c.char_byte({x}, {path!r})"
        elif kind == "wchar":
            value = f"_c.code_point({x}, {path!r})"
        self.run.append((fmt, value, path, pre))

    def value(
        self, t: ir.Type, x: str, path: str, translate: bool = False, mask: int = 0x1F
    ) -> None:
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Primitive):
            if r.kind not in SCALARS:
                raise Unsupported("long double")
            self.scalar(r.kind, x, path)
        elif isinstance(r, ir.Enum):
            fmt = "I" if self.w == 4 else "I4x"
            values = self.refs.table(r.name, "VALUES")
            pre = [
                f"if {x} not in {values}: "
                f"raise _c.MarshalError({path!r}, f'{{{x}!r}} is not a {r.local_name}')"
            ]
            self.run.append((fmt, x, path, pre))
        elif isinstance(r, ir.Bitmask):
            wide = r.bit_bound > 32
            fmt = "Q" if wide else ("I" if self.w == 4 else "I4x")
            mask_name = self.refs.table(r.name, "MASK")
            pre = [
                f"if {x} & ~{mask_name}: "
                f"raise _c.MarshalError({path!r}, f'{{{x}!r}} has bits outside {r.local_name}')"
            ]
            self.run.append((fmt, x, path, pre))
        elif isinstance(r, ir.String):
            self.string(r, x, path)
        elif isinstance(r, ir.Sequence):
            self.sequence(r, x, path, translate, mask)
        elif isinstance(r, ir.Array):
            self.array(r, x, path, translate, mask)
        elif isinstance(r, ir.Struct):
            if self.ctx.flat_fixed(t):
                for f in self.ctx.struct_fields(r):
                    self.value(f.type, f"{x}.{self.ctx.attr(f)}", _fields_path(path, f.name))
            else:
                self.call("_e", r.name, x, path)
        elif isinstance(r, ir.Union_):
            self.call("_e", r.name, x, path)
        elif isinstance(r, ir.Capability):
            self.cap(crd_type(r.kind), x, path, translate, mask)
        elif isinstance(r, ir.Interface):
            self.cap(3, x, path, translate, mask)
        else:
            raise Unsupported(_construct(r))

    def cap(self, want: int, x: str, path: str, translate: bool, mask: int) -> None:
        self.emit(f"_c.put_cap(_items, {x}, {want}, {not translate}, 0x{mask:X}, {path!r})")

    def call(self, prefix: str, name: str, x: str, path: str) -> None:
        self.flush()
        self.calls = True
        fn = self.refs.fn(prefix, name, self.sfx)
        if not path:
            self.emit(f"{fn}({x}, _buf, _items)")
            return
        self.emit("try:")
        self.emit(f"    {fn}({x}, _buf, _items)")
        self.emit("except _c.MarshalError as _err:")
        self.emit(f"    raise _err.within({path!r}) from None")

    def length(self, x: str, path: str, bound: int | None, what: str = "elements") -> str:
        n = self.tmp("n")
        self.emit(f"{n} = _len({x})")
        if bound is not None:
            self.emit(
                f"if {n} > {bound}: raise _c.MarshalError({path!r}, "
                f"f'{{{n}}} {what}, at most {bound} allowed')"
            )
        return n

    def string(self, t: ir.String, x: str, path: str) -> None:
        self.flush()
        if not t.wide:  # runtime/kernel/wirestr.py: the same errors, compiled
            bound = -1 if t.bound is None else t.bound
            self.emit(f"_ws.put{self.sfx}(_buf, {x}, {bound}, {path!r})")
            return
        s = self.tmp("s")
        self.emit("try:")
        codec = '"utf-32-le"' if t.wide else ""
        self.emit(f"    {s} = {x}.encode({codec})")
        self.emit("except (_AttributeError, _TypeError, _UnicodeError):")
        self.emit(
            f"    raise _c.MarshalError({path!r}, "
            f"f'expected a str of valid code points, got {{{x}!r}}') from None"
        )
        n = self.tmp("n")
        self.emit(f"{n} = _len({s})")
        if t.bound is not None:
            limit = t.bound * 4 if t.wide else t.bound
            unit = "code points" if t.wide else "UTF-8 bytes"
            count = f"{n} // 4" if t.wide else n
            self.emit(
                f"if {n} > {limit}: raise _c.MarshalError({path!r}, "
                f"f'{{{count}}} {unit}, at most {t.bound} allowed')"
            )
        count = f"{n} >> 2" if t.wide else n
        self.emit(f"_buf += {self.wstruct()}.pack({count})")
        self.emit(f"_buf += {s}")
        self.emit(f"_buf += {self.pads()}[{n} & {self.w - 1}]")

    def packed_run(
        self, el: ir.Type, dims: tuple[int, ...], x: str, path: str, n: str | None
    ) -> None:
        """One packed run (WIRE.md §3) of ``x``: a sequence of ``n`` elements (n given,
        ``dims`` the element's own array dims) or an array of ``dims``."""
        r = self.ctx.resolve(el)
        size = 4 if isinstance(r, ir.Enum) else SCALARS[r.kind][1]  # type: ignore[union-attr]
        per = math.prod(dims)
        one_d_octets = self.ctx.octets(el) and ((n is not None and not dims) or len(dims) == 1)
        if one_d_octets and n is None:
            self.emit(
                f"if not _isinstance({x}, (_bytes, _bytearray)) or _len({x}) != {dims[0]}: "
                f"raise _c.MarshalError({path!r}, 'expected {dims[0]} bytes')"
            )
            self.emit(f"_buf += {x}")
            self.emit(f"_buf += {self.pads()}[{dims[0] % self.w}]")
            return
        if self.ctx.octets(el) and n is not None and not dims:
            self.emit(
                f"if not _isinstance({x}, (_bytes, _bytearray)): "
                f"raise _c.MarshalError({path!r}, 'expected bytes')"
            )
            self.emit(f"_buf += {x}")
            self.emit(f"_buf += {self.pads()}[{n} & {self.w - 1}]")
            return
        flat = self.tmp("v")
        if n is None:
            self.emit(f"{flat} = _c.flatten({x}, {dims!r}, {path!r})")
            count = str(per)
        elif dims:
            self.emit(f"{flat} = []")
            i = self.tmp("i")
            e = self.tmp("e")
            self.emit(f"for {i}, {e} in _enumerate({x}):")
            self.emit(f"    {flat} += _c.flatten({e}, {dims!r}, f'{path}[{{{i}}}]')")
            count = f"{n} * {per}"
        else:
            flat = x
            count = n
        kind = "enum" if isinstance(r, ir.Enum) else r.kind  # type: ignore[union-attr]
        ch = "I" if kind == "enum" else SCALARS[kind][0]
        if kind == "boolean":
            self.emit(
                f"if not _all(_q is True or _q is False for _q in {flat}): "
                f"raise _c.MarshalError({path!r}, 'expected bools')"
            )
        elif kind == "enum":
            values = self.refs.table(r.name, "VALUES")  # type: ignore[union-attr]
            self.emit(
                f"if not {values}.issuperset({flat}): "
                f"raise _c.MarshalError({path!r}, 'not a {r.name.rsplit('::', 1)[-1]}')"  # type: ignore[union-attr]
            )
        elif kind == "char":
            fl2 = self.tmp("v")
            self.emit(f"{fl2} = [_c.char_byte(_q, {path!r}) for _q in {flat}]")
            flat = fl2
        elif kind == "wchar":
            fl2 = self.tmp("v")
            self.emit(f"{fl2} = [_c.code_point(_q, {path!r}) for _q in {flat}]")
            flat = fl2
        self.emit("try:")
        self.emit(f"    _buf += _struct.pack(f'<{{{count}}}{ch}', *{flat})")
        self.emit("except (_struct.error, _TypeError, _OverflowError):")
        self.emit(f"    raise _c.seq_error({flat}, {ch!r}, {path!r}) from None")
        if (size * (per if n is None else 1)) % self.w or n is not None:
            nbytes = f"({count}) * {size}" if n is not None else str(size * per)
            self.emit(f"_buf += {self.pads()}[({nbytes}) & {self.w - 1}]")

    def sequence(self, t: ir.Sequence, x: str, path: str, translate: bool, mask: int) -> None:
        self.flush()
        n = self.length(x, path, t.bound)
        if (
            t.bound is not None
            and t.bound <= 256
            and self.bounded_plain(t, x, path, n, translate, mask)
        ):
            return
        self.emit(f"_buf += {self.wstruct()}.pack({n})")
        layout = layout_for(self.ctx.spec, self.arch)
        if layout.packed(t.element) is not None:
            el: ir.Type = t.element
            dims: tuple[int, ...] = ()
            r = self.ctx.resolve(el)
            if isinstance(r, ir.Array):
                el, dims = self.ctx.array_shape(r)
            self.packed_run(el, dims, x, path, n)
            return
        self.loop(t.element, x, path, translate, mask)

    def bounded_plain(
        self, t: ir.Sequence, x: str, path: str, n: str, translate: bool, mask: int
    ) -> bool:
        """A bounded sequence of plain structs: length word and all members in one pack
        (one Struct per length, the members interleaved at C level); False if not."""
        plain = self.plain_struct(t.element)
        if plain is None or t.bound is None:
            return False
        st, names = plain
        body = next(fmt for fmt, name in self.ctx.gen.structs.items() if name == st)[1:]
        wch = "Q" if self.w == 8 else "I"
        table = self.ctx.gen.table(
            f"[_struct.Struct({'<' + wch!r} + {body!r} * _q) for _q in _range({t.bound + 1})]"
        )
        m = len(names)
        getters = [f"_map({self.ctx.gen.getter(name)}, {x})" for name in names]
        self.emit("try:")
        if m == 1:
            self.emit(f"    _buf += {table}[{n}].pack({n}, *{getters[0]})")
        else:
            flat = self.tmp("v")
            self.emit(f"    {flat} = [0] * ({m} * {n})")
            for i, g in enumerate(getters):
                self.emit(f"    {flat}[{i}::{m}] = {g}")
            self.emit(f"    _buf += {table}[{n}].pack({n}, *{flat})")
        self.emit(
            "except (_struct.error, _TypeError, _ValueError, _OverflowError, _AttributeError):"
        )
        self.depth += 1
        self.emit(f"_buf += {self.wstruct()}.pack({n})")
        self.slow_loop(t.element, x, path, translate, mask)  # finds the element and raises
        self.emit(f"raise _c.MarshalError({path!r}, 'elements cannot be encoded')")
        self.depth -= 1
        return True

    def plain_struct(self, el: ir.Type) -> tuple[str, list[str]] | None:
        """(Struct name, member names) when each element of type ``el`` is one run of
        plain members (no checks or conversions): then a whole sequence packs at C level."""
        r = self.ctx.resolve(el)
        if not isinstance(r, ir.Struct) or not self.ctx.flat_fixed(el):
            return None
        scratch = Encoder(self.ctx, self.refs, self.arch)
        scratch.value(el, "e", "")
        if scratch.lines or not scratch.run or any(pre for _, _, _, pre in scratch.run):
            return None
        names = [v[2:] for _, v, _, _ in scratch.run]
        if any(
            not v.startswith("e.") or "." in n
            for (_, v, _, _), n in zip(scratch.run, names, strict=True)
        ):
            return None
        return self.ctx.gen.struct("<" + "".join(f for f, _, _, _ in scratch.run)), names

    def loop(self, el: ir.Type, x: str, path: str, translate: bool, mask: int) -> None:
        plain = self.plain_struct(el)
        if plain is not None:
            st, names = plain
            getters = ", ".join(f"_map({self.ctx.gen.getter(n)}, {x})" for n in names)
            self.emit("try:")
            self.emit(f"    _buf += b''.join(_map({st}.pack, {getters}))")
            self.emit("except (_struct.error, _TypeError, _OverflowError, _AttributeError):")
            self.depth += 1
            self.slow_loop(el, x, path, translate, mask)  # finds the element and raises
            self.emit(f"raise _c.MarshalError({path!r}, 'elements cannot be encoded')")
            self.depth -= 1
            return
        self.slow_loop(el, x, path, translate, mask)

    def slow_loop(self, el: ir.Type, x: str, path: str, translate: bool, mask: int) -> None:
        i = self.tmp("i")
        e = self.tmp("e")
        self.emit(f"for {i}, {e} in _enumerate({x}):")
        self.depth += 1
        self.emit("try:")
        self.depth += 1
        self.value(el, e, "", translate, mask)
        self.flush()
        self.depth -= 1
        self.emit("except _c.MarshalError as _err:")
        self.emit(f"    raise _err.within(f'{path}[{{{i}}}]') from None")
        self.depth -= 1

    def array(self, t: ir.Array, x: str, path: str, translate: bool, mask: int) -> None:
        self.flush()
        layout = layout_for(self.ctx.spec, self.arch)
        el, dims = self.ctx.array_shape(t)
        if layout.packed(t) is not None:
            self.packed_run(el, dims, x, path, None)
            return
        # not packable: each element by its own rule, row by row
        self.emit(
            f"if _len({x}) != {dims[0]}: "
            f"raise _c.MarshalError({path!r}, f'expected {dims[0]} elements, got {{_len({x})}}')"
        )
        inner: ir.Type = el if len(dims) == 1 else ir.Array(el, dims[1:])
        self.loop(inner, x, path, translate, mask)

    def fields(self, fields: list[ir.Field], x: str, translate: bool = False) -> None:
        for f in fields:
            fx = f"{x}.{self.ctx.attr(f)}"
            tr = translate or f.translate
            mask = 0x1F if f.rights is None else f.rights
            if f.optional:
                self.flush()
                # a local: mypy narrows it (not the attribute) in the lambdas of run_error
                px = self.tmp("p")
                self.emit(f"{px} = {fx}")
                self.emit(f"if {px} is None:")
                self.emit(f"    _buf += {self.wstruct()}.pack(0)")
                self.emit("else:")
                self.depth += 1
                self.emit(f"_buf += {self.wstruct()}.pack(1)")
                self.value(f.type, px, f.name, tr, mask)
                self.flush()
                self.depth -= 1
            else:
                self.value(f.type, fx, f.name, tr, mask)


# --- decoding ------------------------------------------------------------------------


class Decoder(Emitter):
    """Statements that read a value of a type at ``_o`` and give an expression for it."""

    def __init__(self, ctx: Context, refs: Refs, arch: str) -> None:
        super().__init__(ctx, refs, arch)
        # pending run: (format, [variables], check lines with {w} for the word index)
        self.run: list[tuple[str, list[str], list[str]]] = []
        self.run_words = 0
        self.calls = False  # b must be bytes: other decoders are called, or octets sliced
        # the end of the message in b and its start (for word indices), when b holds more
        self.end = "_len(_b)"
        self.base = ""

    def word_at(self, k: int | str = 0, at: str = "_o") -> str:
        shift = 3 if self.w == 8 else 2
        if self.base:
            at = f"{at} - {self.base}"
        return f"({at} >> {shift}) + {k}" if k else f"({at} >> {shift})"

    def flush(self) -> None:
        if not self.run:
            return
        run, self.run = self.run, []
        words, self.run_words = self.run_words, 0
        fmt = "<" + "".join(f for f, _, _ in run)
        name = self.ctx.gen.struct(fmt)
        size = words * self.w
        self.emit(
            f"if _o + {size} > {self.end}: raise _c.DecodeError({self.word_at()}, "
            f"'message too short: {words} more words expected')"
        )
        names = [v for _, vs, _ in run for v in vs]
        target = ", ".join(names) if len(names) > 1 else f"({names[0]},)"
        self.emit(f"{target} = {name}.unpack_from(_b, _o)")
        lines = [line for _, _, checks in run for line in checks]
        if len(lines) > 1:
            # one test on the good path; the first failing check names the word
            self.emit(f"if {any_of([_cond(line) for line in lines])}:")
            self.depth += 1
        for line in lines:
            self.emit(line)
        if len(lines) > 1:
            self.depth -= 1
        self.emit(f"_o += {size}")

    def add(self, fmt: str, nvars: int, words: int, checks: list[str]) -> list[str]:
        """Queue a run element; checks may use {v0}, {v1}, {w} (its word index) and {at}
        (its byte offset in b: checks run before o moves past the run)."""
        vs = [self.tmp() for _ in range(nvars)]
        w = self.word_at(self.run_words)
        at = f"_o + {self.run_words * self.w}" if self.run_words else "_o"
        names = {f"v{i}": v for i, v in enumerate(vs)}
        self.run.append((fmt, vs, [c.format(w=w, at=at, **names) for c in checks]))
        self.run_words += words
        return vs

    def const_word(self, value: int, what: str) -> None:
        self.add(
            "Q" if self.w == 8 else "I",
            1,
            1,
            [f"if {{v0}} != {value}: raise _c.DecodeError({{w}}, '{what}')"],
        )

    def scalar(self, kind: str, path: str) -> str:
        ch, size = SCALARS[kind]
        words = 2 if size > self.w else 1
        # a NaN is rare: only then is the word tested for a signalling NaN (the fast frame
        # decoders drop the second test and take any NaN to the step-by-step path)
        snan = (
            [
                f"if {{v0}} != {{v0}} and _c.snan32(_b, {{at}}): "
                f"raise _c.DecodeError({{w}}, '{path}: signalling NaN')"
            ]
            if kind == "float"
            else []
        )
        if size >= self.w and kind != "wchar":  # a wchar word is checked and converted
            (v,) = self.add(ch, 1, words, snan)
            return v
        if kind in UNSIGNED_MAX:
            wch = "Q" if self.w == 8 else "I"
            limit = UNSIGNED_MAX[kind]
            if kind == "wchar":
                check = (
                    "if {v0} > 0x10FFFF or 0xD800 <= {v0} <= 0xDFFF: "
                    f"raise _c.DecodeError({{w}}, '{path}: invalid wchar code point')"
                )
            elif kind == "uint32" and self.w == 8:
                # the high half apart, tested by truth: a compare with 2**32 - 1 (not a
                # small int) takes CPython's slow path
                check = f"if {{v1}}: raise _c.DecodeError({{w}}, '{path}: non-zero high bytes')"
                v, _high = self.add("II", 2, 1, [check])
                return v
            else:
                what = "boolean other than 0 or 1" if kind == "boolean" else "non-zero high bytes"
                check = f"if {{v0}} > {limit}: raise _c.DecodeError({{w}}, '{path}: {what}')"
            (v,) = self.add(wch, 1, 1, [check])
            if kind == "boolean":
                return f"{v} == 1"
            if kind in ("char", "wchar"):
                return f"_chr({v})"
            return v
        pad = self.w - size
        v, _pad = self.add(
            f"{ch}{pad}s",
            2,
            1,
            [
                f"if {{v1}} != _Z{pad}: raise _c.DecodeError({{w}}, '{path}: non-zero high bytes')",
                *snan,
            ],
        )
        return v

    def value(self, t: ir.Type, path: str, translate: bool = False) -> str:
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Primitive):
            if r.kind not in SCALARS:
                raise Unsupported("long double")
            return self.scalar(r.kind, path)
        if isinstance(r, ir.Enum):
            by = self.refs.table(r.name, "BY_VALUE")
            (v,) = self.add(
                "Q" if self.w == 8 else "I",
                1,
                1,
                [
                    f"if {{v0}} not in {by}: raise _c.DecodeError({{w}}, "
                    f"'{path}: undeclared {r.local_name} value')"
                ],
            )
            return f"{by}[{v}]"
        if isinstance(r, ir.Bitmask):
            wide = r.bit_bound > 32
            mask = self.refs.table(r.name, "MASK")
            (v,) = self.add(
                "Q" if wide or self.w == 8 else "I",
                1,
                2 if wide and self.w == 4 else 1,
                [
                    f"if {{v0}} & ~{mask}: raise _c.DecodeError({{w}}, "
                    f"'{path}: undeclared {r.local_name} bits')"
                ],
            )
            return f"{self.refs.cls(r.name)}({v})"
        if isinstance(r, ir.String):
            return self.string(r, path)
        if isinstance(r, ir.Sequence):
            return self.sequence(r, path, translate)
        if isinstance(r, ir.Array):
            return self.array(r, path, translate)
        if isinstance(r, ir.Struct):
            if self.ctx.flat_fixed(t):
                args = [
                    self.value(f.type, _fields_path(path, f.name))
                    for f in self.ctx.struct_fields(r)
                ]
                return f"{self.refs.cls(r.name)}({', '.join(args)})"
            return self.call(r.name)
        if isinstance(r, ir.Union_):
            return self.call(r.name)
        if isinstance(r, ir.Capability):
            return self.cap(crd_type(r.kind), translate)
        if isinstance(r, ir.Interface):
            return self.cap(3, translate)
        raise Unsupported(_construct(r))

    def cap(self, want: int, translate: bool) -> str:
        v = self.tmp("c")
        self.emit(f"{v} = _it.cap({want}, {not translate}, {self.word_at(self.run_words)})")
        return v

    def call(self, name: str) -> str:
        self.flush()
        self.calls = True
        v = self.tmp("x")
        self.emit(f"{v}, _o = {self.refs.fn('_d', name, self.sfx)}(_b, _o, _it)")
        return v

    def length(self, path: str, bound: int | None, what: str = "length") -> str:
        """Read a length word; check the bound. Leaves _o after the word."""
        self.flush()
        n = self.tmp("n")
        self.emit(
            f"if _o + {self.w} > {self.end}: raise _c.DecodeError({self.word_at()}, "
            f"'{path}: {what} word missing')"
        )
        self.emit(f"{n} = {self.wstruct()}.unpack_from(_b, _o)[0]")
        if bound is not None:
            self.emit(
                f"if {n} > {bound}: raise _c.DecodeError({self.word_at()}, "
                f"f'{path}: {what} {{{n}}} above the bound {bound}')"
            )
        self.emit(f"_o += {self.w}")
        return n

    def bytes_run(self, nbytes: str, path: str) -> str:
        """Check that ``nbytes`` bytes plus padding remain and the padding is zero; gives
        the end offset variable (o stays at the run's start)."""
        e = self.tmp("e")
        self.emit(f"{e} = _o + (({nbytes}) + {self.w - 1} & -{self.w})")
        self.emit(
            f"if {e} > {self.end}: raise _c.DecodeError({self.word_at()} - 1, "
            f"'{path}: length exceeds the words that remain')"
        )
        self.emit(
            f"if _b[_o + ({nbytes}) : {e}] != {self.pads()}[({nbytes}) & {self.w - 1}]: "
            f"raise _c.DecodeError({self.word_at(at=e)} - 1, "
            f"'{path}: non-zero padding')"
        )
        return e

    def string(self, t: ir.String, path: str) -> str:
        bound = t.bound
        if not t.wide and not self.base:  # runtime/kernel/wirestr.py: the same errors
            self.flush()
            s = self.tmp("s")
            limit = -1 if bound is None else bound
            self.emit(f"{s}, _o = _ws.take{self.sfx}(_b, _o, {limit}, {path!r})")
            return s
        n = self.length(path, bound)
        nbytes = f"{n} * 4" if t.wide else n
        e = self.bytes_run(nbytes, path)
        s = self.tmp("s")
        self.emit("try:")
        codec = "utf-32-le" if t.wide else "utf-8"
        self.emit(f"    {s} = _b[_o : _o + {nbytes}].decode({codec!r})")
        self.emit("except _UnicodeDecodeError as _err:")
        self.emit(
            f"    raise _c.DecodeError({self.word_at(at='_o + _err.start')}, "
            f"'{path}: invalid {'code point' if t.wide else 'UTF-8'}') from None"
        )
        self.emit(f"_o = {e}")
        return s

    def packed_run(self, el: ir.Type, dims: tuple[int, ...], count: str, path: str) -> str:
        """Decode ``count`` scalars of a packed run; reshape to ``dims`` if given."""
        r = self.ctx.resolve(el)
        kind = "enum" if isinstance(r, ir.Enum) else getattr(r, "kind", "")
        size = 4 if kind == "enum" else SCALARS[kind][1]
        nbytes = f"({count}) * {size}" if size > 1 else count
        e = self.bytes_run(nbytes, path)
        word = self.word_at()
        v = self.tmp("v")
        if kind in ("octet", "uint8"):
            self.calls = True  # the value must be bytes, not a slice of a bytearray
            self.emit(f"{v} = _b[_o : _o + {nbytes}]")
        elif kind == "char":
            self.emit(f"{v} = _list(_b[_o : _o + {nbytes}].decode('latin-1'))")
        else:
            ch = "I" if kind == "enum" else SCALARS[kind][0]
            raw = self.tmp("v")
            self.emit(f"{raw} = _struct.unpack_from(f'<{{{count}}}{ch}', _b, _o)")
            if kind == "boolean":
                self.emit(
                    f"if _any(_q > 1 for _q in {raw}): raise _c.DecodeError({word}, "
                    f"'{path}: boolean other than 0 or 1')"
                )
                self.emit(f"{v} = [_q == 1 for _q in {raw}]")
            elif kind == "enum":
                by = self.refs.table(r.name, "BY_VALUE")  # type: ignore[union-attr]
                self.emit(
                    f"if not {by}.keys() >= _set({raw}): raise _c.DecodeError({word}, "
                    f"'{path}: undeclared enum value')"
                )
                self.emit(f"{v} = [{by}[_q] for _q in {raw}]")
            elif kind == "wchar":
                self.emit(f"{v} = _c.check_wchars({raw}, {word})")
            else:
                if kind == "float":
                    # the sum is a NaN if an element is one (or infinities cancel): only
                    # then are the words tested for a signalling NaN
                    t = self.tmp("s")
                    self.emit(f"{t} = _sum({raw})")
                    self.emit(f"if {t} != {t}:")
                    self.emit(f"    _c.check_snan32(_b, _o, {count}, {word}, {self.w}, '{path}')")
                self.emit(f"{v} = _list({raw})")
        self.emit(f"_o = {e}")
        if len(dims) > 1:
            return f"_c.reshape({v}, {dims!r})"
        return v

    def sequence(self, t: ir.Sequence, path: str, translate: bool) -> str:
        n = self.length(path, t.bound)
        layout = layout_for(self.ctx.spec, self.arch)
        packed = layout.packed(t.element)
        if packed is not None:
            el: ir.Type = t.element
            dims: tuple[int, ...] = ()
            r = self.ctx.resolve(el)
            if isinstance(r, ir.Array):
                el, dims = self.ctx.array_shape(r)
            per = math.prod(dims)
            v = self.packed_run(el, (), f"{n} * {per}" if per > 1 else n, path)
            if dims:
                return f"_c.reshape({v}, ({n}, *{dims!r}))"
            return v
        min_words, min_items = self.ctx.min_size(t.element, self.arch)
        if min_words:
            self.emit(
                f"if {n} * {min_words * self.w} > {self.end} - _o: "
                f"raise _c.DecodeError({self.word_at()} - 1, "
                f"'{path}: length exceeds the words that remain')"
            )
        if min_items:
            self.emit(f"_it.need({n} * {min_items}, {self.word_at()} - 1)")
        return self.loop(t.element, n, path, translate)

    def loop(self, el: ir.Type, count: str, path: str, translate: bool) -> str:
        r = self.ctx.resolve(el)
        if isinstance(r, ir.Struct) and self.ctx.flat_fixed(el):
            # elements of plain members without checks: one iter_unpack, at C level
            scratch = Decoder(self.ctx, self.refs, self.arch)
            expr = scratch.value(el, f"{path}[]", translate)
            names = [v for _, vs, _ in scratch.run for v in vs]
            cls = self.refs.cls(r.name)
            if not any(c for _, _, c in scratch.run) and expr == f"{cls}({', '.join(names)})":
                st = self.ctx.gen.struct("<" + "".join(f for f, _, _ in scratch.run))
                size = scratch.run_words * self.w
                out = self.tmp("l")
                self.emit(
                    f"if _o + {count} * {size} > {self.end}: raise _c.DecodeError("
                    f"{self.word_at()}, '{path}: length exceeds the words that remain')"
                )
                self.emit(
                    f"{out} = _list(_starmap({cls}, "
                    f"{st}.iter_unpack(_b[_o : _o + {count} * {size}])))"
                )
                self.emit(f"_o += {count} * {size}")
                return out
        out = self.tmp("l")
        self.emit(f"{out} = []")
        self.emit(f"for _ in _range({count}):")
        self.depth += 1
        v = self.value(el, f"{path}[]", translate)
        self.flush()
        self.emit(f"{out}.append({v})")
        self.depth -= 1
        return out

    def array(self, t: ir.Array, path: str, translate: bool) -> str:
        self.flush()
        layout = layout_for(self.ctx.spec, self.arch)
        el, dims = self.ctx.array_shape(t)
        if layout.packed(t) is not None:
            return self.packed_run(el, dims, str(math.prod(dims)), path)
        inner: ir.Type = el if len(dims) == 1 else ir.Array(el, dims[1:])
        return self.loop(inner, str(dims[0]), path, translate)

    def fields(self, fields: list[ir.Field], path: str, translate: bool = False) -> list[str]:
        out = []
        for f in fields:
            fp = _fields_path(path, f.name)
            tr = translate or f.translate
            if f.optional:
                self.flush()
                p = self.tmp("p")
                self.emit(
                    f"if _o + {self.w} > {self.end}: raise _c.DecodeError({self.word_at()}, "
                    f"'{fp}: presence word missing')"
                )
                self.emit(f"{p} = {self.wstruct()}.unpack_from(_b, _o)[0]")
                self.emit(
                    f"if {p} > 1: raise _c.DecodeError({self.word_at()}, "
                    f"'{fp}: presence word other than 0 or 1')"
                )
                self.emit(f"_o += {self.w}")
                x = self.tmp("x")
                self.emit(f"{x} = None")
                self.emit(f"if {p}:")
                self.depth += 1
                v = self.value(f.type, fp, tr)
                self.flush()
                self.emit(f"{x} = {v}")
                self.depth -= 1
                out.append(x)
            else:
                out.append(self.value(f.type, fp, tr))
        return out


def _construct(r: object) -> str:
    if isinstance(r, ir.Map):
        return "map"
    if isinstance(r, ir.Fixed):
        return "fixed"
    if isinstance(r, ir.Opaque):
        return r.construct
    if isinstance(r, ir.Declaration):
        return r.kind
    return type(r).__name__


# --- whole messages in a UTCB frame -----------------------------------------------------
#
# ``_fe_T_64(v, f)`` makes ``v`` the message of a ``runtime.utcb.UtcbFrame`` (its untyped
# words and typed items, cursors rewound) and returns ``f``; ``_fd_T_64(f)`` decodes the
# frame's unread words and items as one ``T``, rejects anything left over and consumes
# them. Both work on the UTCB's bytearray in place (pack_into/unpack_from after WIRE.md
# §1's header of 5 words) with the capacity rule of ``UtcbFrame.pack``; a message that
# does not fit is handed to the frame's ``put_words``, which raises its
# ``CapacityError`` before anything is written.

_HDR = 5  # UTCB header words (WIRE.md §1)


def _struct_items(ctx: Context, fields: list[ir.Field], arch: str) -> bool:
    layout = layout_for(ctx.spec, arch)
    for f in fields:
        try:
            s = layout.field_size(f.type, f.optional)
        except Exception:  # unsized (recursive) types may carry anything
            return True
        if s.max_items is None or s.max_items:
            return True
    return False


def frame_encoder(
    ctx: Context, refs: Refs, arch: str, name: str, fields: list[ir.Field]
) -> tuple[str, list[str]]:
    """(signature, body) of ``_fe_<name>_<sfx>``: the fast path (one pack_into), then
    ``_e_<name>_<sfx>`` into a bytearray, which raises the precise MarshalError for
    whatever the fast path did not take, copied in. The step-by-step code is called, not
    repeated: its locals would make every call's frame larger (each is set up and cleared
    on every call, also of the fast path)."""
    enc = Encoder(ctx, refs, arch)
    w = enc.w
    shift = 3 if w == 8 else 2
    caps = _struct_items(ctx, fields, arch)
    sig = f"def _fe_{name}_{enc.sfx}(_v: {name}, _f: _UtcbFrame) -> _UtcbFrame:"
    head = [*fast_frame_encoder(ctx, refs, arch, fields), "_u = _f.utcb"]
    # rewind(): one call into the compiled frame, about half the cost of two stores
    tail = ["_f.rewind()"]
    items = "_items" if caps else "[]"
    call = f"_e_{name}_{enc.sfx}(_v, _buf, {items})"
    note = ["# what the fast path did not take: MarshalError"] if len(head) > 1 else []
    enc.fields(fields, "_v")
    if not enc.lines and not caps and enc.run:
        # one fixed run: the room first (CapacityError before MarshalError), then its bytes
        size = struct_size("<" + "".join(fm for fm, _, _, _ in enc.run))
        return sig, [
            *head,
            f"if _u.room < {size // w}:",
            "    _f.clear()",
            f"    _f.put_words(_bytes({size}))  # raises CapacityError",
            "_buf = _bytearray()",
            *note,
            call,
            f"_u.buf[{_HDR * w}:{_HDR * w + size}] = _buf",
            f"_u.set_items({size // w}, 0)",
            *tail,
            "return _f",
        ]
    body = [*head, "_buf = _bytearray()"]
    if caps:
        body.append("_items: _list[_tuple[_int, _int]] = []")
    body += [
        *note,
        call,
        "_k = _len(_buf)",
        f"if _k >> {shift} > _u.room:",
        "    _f.clear()",
        "    _f.put_words(_buf)  # raises CapacityError",
        f"_u.buf[{_HDR * w} : {_HDR * w} + _k] = _buf",
        f"_u.set_items(_k >> {shift}, 0)",
        *tail,
    ]
    if caps:
        body += ["for _crd, _flags in _items:", "    _f.put_item(_crd, _flags)"]
    body.append("return _f")
    return sig, body


def frame_decoder(
    ctx: Context, refs: Refs, arch: str, name: str, fields: list[ir.Field]
) -> tuple[str, list[str]]:
    """(signature, body) of ``_fd_<name>_<sfx>``: the fast path, then the step-by-step
    decoder, in place (on the UTCB page) for a struct without one and that calls no other
    decoder, else ``_d_<name>_<sfx>`` called on a copy of the words (as for
    ``frame_encoder``, the fast path's frame then stays small)."""
    w = ARCH_WORD[arch]
    shift = 3 if w == 8 else 2
    caps = _struct_items(ctx, fields, arch)
    start = f"{_HDR} + _f.upos << {shift}"
    end = f"{_HDR} + _u.untyped << {shift}"
    fast = fast_frame_decoder(ctx, refs, arch, name, fields)
    dec = Decoder(ctx, refs, arch)
    # in place: b is the whole UTCB page, the message is b[s:end]
    dec.end, dec.base = "_end", "_s"
    exprs = dec.fields(fields, "")
    dec.flush()
    body = [*fast, "_u = _f.utcb"]  # (the fast path, which returns, reads the frame itself)
    if caps:
        body.append("_it = _c.Items(_list(_f.items())[_f.tpos :])")
    else:
        body += [
            "if _f.tpos != _u.typed:",
            "    raise _c.DecodeError(0, 'typed items left over', _f.tpos)",
        ]
    if fast or dec.calls:
        items = "_it" if caps else "_c.Items(())"
        body += [
            f"_b = _bytes(_u.buf[{start} : {end}])",
            f"_zv, _o = _d_{name}_{dec.sfx}(_b, 0, {items})",
            f"if _o != _len(_b): raise _c.DecodeError(_o >> {shift}, 'words left over')",
        ]
    else:
        body += ["_b = _u.buf", f"_s = _o = {start}", f"_end = {end}"]
        body += dec.lines
        body.append(f"if _o != _end: raise _c.DecodeError(_o - _s >> {shift}, 'words left over')")
        body.append(f"_zv = {name}({', '.join(exprs)})")
    if caps:
        body += [f"_it.finish(_o >> {shift})", "_f.tpos = _u.typed"]
    body += ["_f.upos = _u.untyped", "return _zv"]
    return sig_dec(name, dec.sfx), body


def sig_dec(name: str, sfx: str) -> str:
    return f"def _fd_{name}_{sfx}(_f: _UtcbFrame) -> {name}:"


def struct_size(fmt: str) -> int:
    import struct as _struct

    return _struct.calcsize(fmt)


def _negate(cond: str) -> str:
    m = re.fullmatch(r"(\S+) is not True and \1 is not False", cond)
    return f"({m[1]} is True or {m[1]} is False)" if m else f"not ({cond})"


_SLICE = re.compile(r"\[(-?[0-9]*) : (-?[0-9]*)\]")


def _simple_slices(line: str) -> str:
    """``x[1 : -1]`` as black writes a slice of plain numbers: ``x[1:-1]``."""
    return _SLICE.sub(r"[\1:\2]", line)


def all_of(conds: list[str]) -> str:
    """``a and b``; a lone parenthesized condition without the parentheses black drops."""
    if len(conds) == 1 and _parenthesized(conds[0]):
        return conds[0][1:-1]
    return " and ".join(conds)


def _parenthesized(cond: str) -> bool:
    """Whether the parentheses around ``cond`` are one pair that encloses it all."""
    if not (cond.startswith("(") and cond.endswith(")")):
        return False
    level = 0
    for i, ch in enumerate(cond):
        level += (ch == "(") - (ch == ")")
        if level == 0 and i < len(cond) - 1:
            return False
    return True


def any_of(conds: list[str]) -> str:
    """``(a) or (b)``; a lone condition without the parentheses black would drop, a
    name (a word tested by truth) without any."""
    if len(conds) == 1:
        return conds[0]
    return " or ".join(c if c.isidentifier() else f"({c})" for c in conds)


def _cond(line: str) -> str:
    """COND of a generated check ``if COND: raise ...``."""
    assert line.startswith("if ") and ": raise " in line, line
    return line[3:].split(": raise ", 1)[0]


# --- frame fast paths ------------------------------------------------------------------
#
# A struct of scalars (also nested all-scalar structs), bounded strings (not wide),
# bounded octet sequences and bounded packed sequences of numbers, booleans or enums,
# without capabilities, optionals or unions, is one precompiled Struct per combination
# of its lengths (a table indexed by them, as the hand-written floor does): the frame
# encoder packs the whole message with one pack_into, the frame decoder reads the length
# words' low bytes, picks the Struct, unpacks once and tests every WIRE.md §2 rule in one
# condition. Whatever the fast path does not accept (a check fails, an index or a value
# is out of range, a capacity or size mismatch) falls through to the exact step-by-step
# code after it, which raises the precise MarshalError/DecodeError (or, should the fast
# path have been too cautious, produces the same result).

_FAST_TABLE_MAX = 512  # Structs per table: the product of (bound + 1) over the lengths
_FAST_SKIP = ("char", "wchar")  # packed sequences of these convert element by element


def _fast_plan(
    ctx: Context, arch: str, fields: list[ir.Field]
) -> list[tuple[str, ir.Field, int, object]] | None:
    """[(kind, field, bound, element)] with kind run/str/oct/seq, or None when the
    struct does not qualify."""
    if _struct_items(ctx, fields, arch):
        return None
    layout = layout_for(ctx.spec, arch)
    plan: list[tuple[str, ir.Field, int, object]] = []
    combos = 1
    for f in fields:
        if f.optional:
            return None
        if ctx.flat_fixed(f.type):
            plan.append(("run", f, 0, None))
            continue
        r = ctx.resolve(f.type)
        if isinstance(r, ir.String) and not r.wide and r.bound is not None and r.bound < 256:
            plan.append(("str", f, r.bound, None))
        elif (
            isinstance(r, ir.Sequence)
            and r.bound is not None
            and r.bound < 256
            and layout.packed(r.element) is not None
        ):
            el = ctx.resolve(r.element)
            if isinstance(el, ir.Enum):
                plan.append(("seq", f, r.bound, el))
            elif isinstance(el, ir.Primitive) and el.kind in ("octet", "uint8"):
                plan.append(("oct", f, r.bound, None))
            elif isinstance(el, ir.Primitive) and el.kind in SCALARS and el.kind not in _FAST_SKIP:
                plan.append(("seq", f, r.bound, el))
            else:
                return None
        else:
            return None
        combos *= plan[-1][2] + 1
    return plan if combos <= _FAST_TABLE_MAX else None


def _element(el: object) -> tuple[str, str, int]:
    """(kind, struct character, bytes) of a packed sequence element."""
    if isinstance(el, ir.Enum):
        return "enum", "I", 4
    assert isinstance(el, ir.Primitive)
    ch, size = SCALARS[el.kind]
    return el.kind, ch, size


def _table(
    ctx: Context,
    fmt: list[str],
    dims: list[tuple[str, int]],
    static: int,
    terms: list[str],
    extra: tuple[str, ...] = (),
) -> str:
    """Name of the module table: Structs (and word counts, then the ``extra`` values)
    indexed by the lengths."""
    words = " + ".join([str(static), *terms])
    inner = f'(_struct.Struct(f"<{"".join(fmt)}"), {", ".join([words, *extra])})'
    for a, bound in reversed(dims):
        inner = f"[{inner} for {a} in _range({bound + 1})]"
    return ctx.gen.table(inner)


_FAST_CATCH = (
    "except (_struct.error, _ValueError, _TypeError, _AttributeError, _OverflowError, _IndexError):"
)


def fast_frame_encoder(ctx: Context, refs: Refs, arch: str, fields: list[ir.Field]) -> list[str]:
    """Lines (at function level) that encode the message with one pack_into and return;
    empty when the struct does not qualify."""
    plan = _fast_plan(ctx, arch, fields)
    if plan is None:
        return []
    w = ARCH_WORD[arch]
    wch = "Q" if w == 8 else "I"
    pre: list[str] = []
    ok: list[str] = []
    fmt: list[str] = []
    args: list[str] = []
    dims: list[tuple[str, int]] = []
    lens: list[str] = []
    static = 0
    terms: list[str] = []
    for k, (kind, f, bound, el) in enumerate(plan, 1):
        fx = f"_v.{ctx.attr(f)}"
        if kind == "run":
            sc = Encoder(ctx, refs, arch)
            sc.value(f.type, fx, f.name)
            assert not sc.lines
            for fm, val, _, checks in sc.run:
                fmt.append(fm)
                args.append(val)
                ok += [_negate(_cond(line)) for line in checks]
                static += struct_size("<" + fm) // w
            continue
        a, n, x = f"_a{k}", f"_zn{k}", f"_zx{k}"
        dims.append((a, bound))
        lens.append(n)
        static += 1  # the length word
        pre.append(f"{x} = {fx}.encode()" if kind == "str" else f"{x} = {fx}")
        pre.append(f"{n} = _len({x})")
        if kind in ("str", "oct"):
            fmt.append(f"{wch}{{{a}}}s{{-{a} % {w}}}x")
            args += [n, x]
            terms.append(f"({a} + {w - 1}) // {w}")
            continue
        ekind, ch, size = _element(el)
        fmt.append(f"{wch}{{{a}}}{ch}" + (f"{{-{a} * {size} % {w}}}x" if size % w else ""))
        args += [n, f"*{x}"]
        terms.append(f"({a} * {size} + {w - 1}) // {w}")
        if ekind == "boolean":
            ok.append(f"_all(_q is True or _q is False for _q in {x})")
        elif ekind == "enum":
            ok.append(f"{refs.table(el.name, 'VALUES')}.issuperset({x})")  # type: ignore[attr-defined]
    if not static:
        return []  # nothing to pack (an empty struct)
    if dims:
        st = _table(ctx, fmt, dims, static, terms)
        pick = [f"_zt, _zw = {st}{''.join(f'[{n}]' for n in lens)}"]
        st, words = "_zt", "_zw"
    else:
        st, words, pick = ctx.gen.struct("<" + "".join(fmt)), str(static), []
    # one call into the compiled frame (each costs ~250 instructions from here): the
    # words are its message from now on and it gives the page to pack them into (or,
    # when they do not fit, clears it and raises CapacityError as the general path
    # would); a pack that fails leaves the message empty (`clear`), as the general path
    # then fails or writes all of it
    body = [
        *pick,
        f"{st}.pack_into(_f.begin({words}), {_HDR * w}, {', '.join(args)})",
        "return _f",
    ]
    if ok:
        body = [f"if {all_of(ok)}:", *("    " + line for line in body)]
    return ["try:", *("    " + line for line in pre + body), _FAST_CATCH, "    _f.clear()"]


_SNAN32 = re.compile(r" and _c\.snan32\([^()]*\)")


def _subst(pattern: re.Pattern[str], sub: dict[str, str], text: str) -> str:
    if not sub:  # a run without values (an empty final struct): the pattern is ""
        return text
    return pattern.sub(lambda m: sub[m[0]], text)


class _Marked(Decoder):
    """A decoder whose variables are markers (``@t1@``), replaced by tuple items."""

    def tmp(self, prefix: str = "t") -> str:
        return f"@{super().tmp(prefix)}@"


def fast_frame_decoder(
    ctx: Context, refs: Refs, arch: str, name: str, fields: list[ir.Field]
) -> list[str]:
    """Lines (at function level) that decode the message with one unpack_from and
    return; empty when the struct does not qualify."""
    plan = _fast_plan(ctx, arch, fields)
    if plan is None:
        return []
    w = ARCH_WORD[arch]
    wch = "Q" if w == 8 else "I"
    pads = "_P8" if w == 8 else "_P4"
    variable = any(kind != "run" for kind, _, _, _ in plan)
    fmt: list[str] = []
    bad: list[str] = []
    exprs: list[str] = []
    dims: list[tuple[str, int]] = []
    lens: list[str] = []
    reads: list[str] = []
    static = 0
    terms: list[str] = []
    offset: list[str] = ["0"]  # byte offset of the current word from _zo
    index: list[str] = []  # counts of earlier sequences (tuple index = count + these)
    count = 0
    names: list[str] = []
    places: list[tuple[int, int]] = []  # (static item index, sequences before it)
    pad: list[tuple[str, str]] = []  # (local, table value) of the expected paddings

    def at(i: int) -> str:
        if not variable:
            names.append(f"_zr{i}")
            return f"_zr{i}"
        places.append((i, len(index)))
        return f"_zr[\x00{len(places) - 1}\x00]"

    def place(m: re.Match[str]) -> str:
        # items after the last sequence count from the end (no index arithmetic)
        i, seqs = places[int(m[1])]
        if seqs == len(index) and seqs:
            return f"-{count - i}" if count > i else ""
        return " + ".join([str(i), *index[:seqs]])

    for k, (kind, f, bound, el) in enumerate(plan, 1):
        if kind == "run":
            sc = _Marked(ctx, refs, arch)
            expr = sc.value(f.type, f.name)
            assert not sc.lines
            sub: dict[str, str] = {}
            conds: list[str] = []
            for fm, vs, checks in sc.run:
                fmt.append(fm)
                for v in vs:
                    sub[v] = at(count)
                    count += 1
                conds += [_SNAN32.sub("", _cond(line)) for line in checks]
            static += sc.run_words
            offset.append(str(sc.run_words * w))
            pattern = re.compile("|".join(map(re.escape, sub)))
            bad += [_subst(pattern, sub, c) for c in conds]
            exprs.append(_subst(pattern, sub, expr))
            continue
        a, n = f"_a{k}", f"_zn{k}"
        dims.append((a, bound))
        lens.append(n)
        fixed = sum(int(t) for t in offset if t.isdigit())
        reads.append(
            f"{n} = _zb[{' + '.join(['_zo', *(t for t in offset if not t.isdigit()), str(fixed)])}]"
        )
        static += 1
        offset.append(str(w))
        length = at(count)
        bad.append(f"{length} != {n}")
        count += 1
        if kind in ("str", "oct"):
            fmt.append(f"{wch}{{{a}}}s{{-{a} % {w}}}s")
            terms.append(f"({a} + {w - 1}) // {w}")
            offset.append(f"({n} + {w - 1} & -{w})")
            data = at(count)
            # the expected padding comes with the Struct from the table
            pad.append((f"_zq{k}", f"{pads}[{a} & {w - 1}]"))
            bad.append(f"{at(count + 1)} != _zq{k}")
            count += 2
            exprs.append(f"{data}.decode()" if kind == "str" else data)
            continue
        ekind, ch, size = _element(el)
        fmt.append(f"{wch}{{{a}}}{ch}" + (f"{{-{a} * {size} % {w}}}s" if size % w else ""))
        terms.append(f"({a} * {size} + {w - 1}) // {w}")
        offset.append(f"({n} * {size} + {w - 1} & -{w})" if size % w else f"{n} * {size}")
        lo = at(count)
        index.append(n)
        hi = at(count)
        items = f"_zr[{lo[4:-1]} : {hi[4:-1]}]"  # marker : marker
        if size % w:
            pad.append((f"_zq{k}", f"{pads}[{a} * {size} & {w - 1}]"))
            bad.append(f"{at(count)} != _zq{k}")
            count += 1
        if ekind == "boolean":
            bad.append(f"_any(_q > 1 for _q in {items})")
            exprs.append(f"[_q == 1 for _q in {items}]")
        elif ekind == "enum":
            by = refs.table(el.name, "BY_VALUE")  # type: ignore[attr-defined]
            bad.append(f"not {by}.keys() >= _set({items})")
            exprs.append(f"[{by}[_q] for _q in {items}]")
        else:
            if ekind == "float":
                # any NaN (or cancelling infinities) takes the step-by-step path, which
                # rejects signalling NaNs
                bad.append(f"(_zs{k} := _sum({items})) != _zs{k}")
            exprs.append(f"_list({items})")
    # the consumed words are the static count or the table's: the items word is read once
    value = [f"_zv = {name}({', '.join(exprs)})", "_f.skip(_zw)", "return _zv"]
    if bad:
        value = [f"if not ({any_of(bad)}):", *("    " + v for v in value)]
    if not static:
        return []  # nothing to unpack (an empty struct)
    if not variable:
        # one call into the compiled frame: on an unread frame whose message is exactly
        # these words (no items), the Struct reads the header's items word (which `take`
        # compares) and the words in one unpack_from, and they are consumed; given back
        # when a check fails
        head = "<I28x" if w == 8 else "<I12x"  # the items word, the rest of the header
        # the Struct's bound unpack_from, a module constant: the compiled frame calls it
        # without a method lookup
        st = ctx.gen.table(f"{ctx.gen.struct(head + ''.join(fmt))}.unpack_from")
        target = ", ".join(["_zi", *names])
        made = [f"return {name}({', '.join(exprs)})"]
        if bad:
            made = [f"if not ({any_of(bad)}):", "    " + made[0]]
            made.append(f"_f.give_back({static})")
        return [
            f"_zr = _f.take({st}, {static})",
            "if _zr is not None:",
            f"    {target} = _zr",
            *("    " + v for v in made),
        ]
    st = _table(ctx, fmt, dims, static, terms, tuple(v for _, v in pad))
    marker = re.compile("\x00([0-9]+)\x00")
    value = [_simple_slices(marker.sub(place, line)) for line in value]
    # an item read twice (a boolean: tested, then converted) is read once
    item = re.compile(r"_zr\[-?[0-9]+\]")
    seen = [m[0] for line in value for m in item.finditer(line)]
    twice = {x: f"_zh{i}" for i, x in enumerate(dict.fromkeys(seen)) if seen.count(x) > 1}
    if twice:
        value = [item.sub(lambda m: twice.get(m[0], m[0]), line) for line in value]
    inner = [
        *reads,
        f"_zt, _zw{''.join(f', {q}' for q, _ in pad)} = {st}{''.join(f'[{n}]' for n in lens)}",
        "if _zx >> 16 == _zw:",
        "    _zr = _zt.unpack_from(_zb, _zo)",
        *(f"    {h} = {x}" for x, h in twice.items()),
        *("    " + v for v in value),
    ]
    # one call into the compiled frame tells the unread words and where they start (when
    # no item is left to read); the words are consumed once the value is made
    return [
        "_zx = _f.rest()",
        "if _zx >= 0:",
        "    _zb = _f.page",
        "    _zo = _zx & 0xFFFF",
        "    try:",
        *("        " + line for line in inner),
        "    except (_IndexError, _UnicodeDecodeError):",
        "        pass",
    ]
