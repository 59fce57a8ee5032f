"""IR -> header-only C++11 for NRE (docs/cxx-backend.md): per IDL file one header with the
types, their word codecs (templated on the word type), per interface a client class, the
implementation's abstract class and a server dispatch. Sizes come from idlc.layout."""

from __future__ import annotations

import math

from idlc import ir
from idlc.backends.cxx.names import Naming, header_of, ident, mangle
from idlc.backends.python.marshal import Unsupported, crd_type
from idlc.layout import layout_for

_PRIM = {
    "boolean": "bool",
    "octet": "uint8_t",
    "uint8": "uint8_t",
    "char": "char",
    "int8": "int8_t",
    "wchar": "char32_t",
    "int16": "int16_t",
    "uint16": "uint16_t",
    "int32": "int32_t",
    "uint32": "uint32_t",
    "int64": "int64_t",
    "uint64": "uint64_t",
    "float": "float",
    "double": "double",
}
_SCALAR_BYTES = {"bool": 1, "uint8_t": 1, "char": 1, "int8_t": 1, "int16_t": 2, "uint16_t": 2}

PRELUDE = """#include <idlc/wire.hpp>

#include <Desc.h>
#include <Exception.h>
#include <kobj/Pt.h>
#include <utcb/UtcbFrame.h>
"""

SUPPORT = """
#ifndef IDLC_CXX_SUPPORT
#define IDLC_CXX_SUPPORT
namespace idlc {
// A capability in a value: an nre::Crd that can be default-constructed (null) and stored in
// sequences and arrays.
class Cap {
public:
    Cap() : _v(0) {}
    Cap(const ::nre::Crd &crd) : _v(crd.value()) {}
    operator ::nre::Crd() const { return ::nre::Crd(_v); }
    ::word_t value() const { return _v; }
    bool operator==(const Cap &o) const { return _v == o._v; }
    bool operator!=(const Cap &o) const { return _v != o._v; }

private:
    ::word_t _v;
};
}  // namespace idlc
namespace idlc_gen {
// The next typed item of a frame: NRE's TypedItem is private to UtcbFrameRef, so its type
// is deduced from get_typed's signature.
template <class F, class C, class T>
inline void typed_item(F &uf, void (C::*)(T &), ::word_t &crd, ::word_t &aux) {
    T item;
    uf.get_typed(item);
    crd = item.crd().value();
    aux = item.aux();
}
template <class F>
inline void read_frame(F &uf, ::word_t *w, size_t &n, size_t wcap, ::word_t *it,
                       size_t &ni, size_t icap, bool &fits) {
    n = uf.untyped();
    ni = uf.typed();
    fits = n <= wcap && ni <= icap;
    if (!fits) return;
    for (size_t k = 0; k < n; k++) uf >> w[k];
    for (size_t k = 0; k < ni; k++) typed_item(uf, &F::get_typed, it[2 * k], it[2 * k + 1]);
}
template <class F>
inline void write_frame(F &uf, const ::idlc::Out< ::word_t> &o) {
    for (size_t k = 0; k < o.n; k++) uf << o.w[k];
    for (size_t k = 0; k < o.ni; k++) {
        ::word_t crd = o.items[2 * k], aux = o.items[2 * k + 1];
        if (aux & 1)
            uf.delegate(::nre::Crd(crd), aux >> 12);
        else
            uf.translate(::nre::Crd(crd));
    }
}
template <class W>
inline bool put_error(::idlc::Out<W> &o, uint32_t status, const char *msg) {
    o.n = o.ni = 0;
    o.err = 0;
    ::idlc::String<> s(msg);
    return o.put(status) && ::idlc::put(o, s);
}
}  // namespace idlc_gen
#endif
"""


class Gen:
    def __init__(self, spec: ir.Specification) -> None:
        self.spec = spec
        self.n = Naming(spec)
        self.lay64 = layout_for(spec, "x86_64")
        self.lay32 = layout_for(spec, "x86_32")
        self.k = 0

    # -- types --

    def resolve(self, t: ir.Type) -> ir.Type | ir.Declaration:
        while isinstance(t, ir.Ref):
            d = self.spec.lookup(t.name)
            if d is None:
                raise Unsupported(f"unresolved type '{t.name}'")
            if isinstance(d, ir.Typedef):
                t = d.type
                continue
            return d
        return t

    def ctype(self, t: ir.Type) -> str:
        if isinstance(t, ir.Primitive):
            if t.kind not in _PRIM:
                raise Unsupported(t.kind)
            return _PRIM[t.kind]
        if isinstance(t, ir.String):
            cls = "WString" if t.wide else "String"
            return f"::idlc::{cls}<{'' if t.bound is None else t.bound}>"
        if isinstance(t, ir.Sequence):
            bound = "" if t.bound is None else f", {t.bound}"
            return f"::idlc::Sequence< {self.ctype(t.element)}{bound}>"
        if isinstance(t, ir.Array):
            inner = self.ctype(t.element)
            for d in reversed(t.dims):
                inner = f"::idlc::Array< {inner}, {d}>"
            return inner
        if isinstance(t, ir.Capability):
            return "::idlc::Cap"
        if isinstance(t, ir.Ref):
            decl = self.spec.lookup(t.name)
            if isinstance(decl, ir.Interface):
                return "::idlc::Cap"
            kinds = ir.Struct | ir.Union_ | ir.Enum | ir.Bitmask | ir.Typedef | ir.Exception_
            if isinstance(decl, kinds):
                return self.n.qual(t.name)
            raise Unsupported(decl.kind if decl is not None else t.name)
        raise Unsupported(type(t).__name__)

    def packed(self, t: ir.Type) -> tuple[int, int] | None:
        return self.lay64.packed(t)

    def mins(self, t: ir.Type) -> tuple[str, str]:
        a, b = self.lay64.size(t), self.lay32.size(t)
        return f"::idlc::arch<W>({a.min_words}, {b.min_words})", str(a.min_items)

    def var(self) -> str:
        self.k += 1
        return f"_k{self.k}"

    # -- encoding: statements that return false on failure --

    def enc(self, t: ir.Type, x: str, tr: bool = False, mask: int = 0x1F) -> list[str]:
        r = self.resolve(t)
        if isinstance(r, ir.Primitive | ir.String):
            self.ctype(r)
            return [f"if (!::idlc::put(o, {x})) return false;"]
        if isinstance(r, ir.Enum):
            return [
                f"if (!::idlc_gen::ok_{mangle(r.name)}(static_cast<uint32_t>({x}))) "
                'return o.fail(::idlc::S_ARGS_INVALID, "an undeclared enum value");',
                f"if (!::idlc::put(o, static_cast<uint32_t>({x}))) return false;",
            ]
        if isinstance(r, ir.Bitmask):
            u = "uint64_t" if r.bit_bound > 32 else "uint32_t"
            return [
                f"if (static_cast<uint64_t>({x}) & "
                f"~static_cast<uint64_t>({self.bitmask_mask(r)}u)) "
                'return o.fail(::idlc::S_ARGS_INVALID, "bits outside the bitmask");',
                f"if (!::idlc::put(o, static_cast<{u}>({x}))) return false;",
            ]
        if isinstance(r, ir.Sequence):
            out = [f"if (!::idlc::length(o, {x}.size(), {x}.bound)) return false;"]
            if self.packed(r.element) is not None:
                return out + self.run_out(r.element, x, f"{x}.size()")
            k = self.var()
            out.append(f"for (size_t {k} = 0; {k} < {x}.size(); {k}++) {{")
            out += ["    " + s for s in self.enc(r.element, f"{x}[{k}]", tr, mask)]
            return [*out, "}"]
        if isinstance(r, ir.Array):
            if self.packed(r) is not None:
                return self.run_out(r, x, None)
            return self.array_loop(r, x, lambda el, e: self.enc(el, e, tr, mask))
        if isinstance(r, ir.Struct | ir.Union_ | ir.Exception_):
            return [f"if (!::idlc_gen::e_{mangle(r.name)}<W>(o, {x})) return false;"]
        if isinstance(r, ir.Capability | ir.Interface):
            want = 3 if isinstance(r, ir.Interface) else crd_type(r.kind)
            d = "false" if tr else "true"
            return [f"if (!::idlc::put_cap(o, {x}.value(), {want}, {d}, 0x{mask:X})) return false;"]
        raise Unsupported(getattr(r, "kind", type(r).__name__))

    def array_loop(self, t: ir.Array, x: str, body: object) -> list[str]:
        out: list[str] = []
        e = x
        for depth, d in enumerate(t.dims):
            k = self.var()
            out.append("    " * depth + f"for (size_t {k} = 0; {k} < {d}; {k}++) {{")
            e = f"{e}[{k}]"
        inner = body(t.element, e)  # type: ignore[operator]
        out += ["    " * len(t.dims) + s for s in inner]
        out += ["    " * i + "}" for i in reversed(range(len(t.dims)))]
        return out

    def run_out(self, t: ir.Type, x: str, count: str | None) -> list[str]:
        """One packed run of the scalars of ``x`` (a sequence of ``count`` elements of
        ``t``, or the packable array ``t`` itself when count is None)."""
        out = ["{", "    ::idlc::RunOut<W> _r(o);"]
        heads: list[str] = []
        e = x
        if count is not None:
            k = self.var()
            heads.append(f"for (size_t {k} = 0; {k} < {count}; {k}++) {{")
            e = f"{x}[{k}]"
            r = self.resolve(t)
        else:
            r = self.resolve(t)
        while isinstance(r, ir.Array):
            for d in r.dims:
                k = self.var()
                heads.append(f"for (size_t {k} = 0; {k} < {d}; {k}++) {{")
                e = f"{e}[{k}]"
            r = self.resolve(r.element)
        ind = "    "
        for h in heads:
            out.append(ind + h)
            ind += "    "
        if isinstance(r, ir.Enum):
            out.append(
                ind + f"if (!::idlc_gen::ok_{mangle(r.name)}(static_cast<uint32_t>({e}))) "
                'return o.fail(::idlc::S_ARGS_INVALID, "an undeclared enum value");'
            )
            out.append(ind + f"if (!::idlc::add(_r, static_cast<uint32_t>({e}))) return false;")
        else:
            out.append(ind + f"if (!::idlc::add(_r, {e})) return false;")
        for _ in heads:
            ind = ind[4:]
            out.append(ind + "}")
        out += ["    if (!_r.end()) return false;", "}"]
        return out

    # -- decoding --

    def dec(self, t: ir.Type, x: str, tr: bool = False) -> list[str]:
        r = self.resolve(t)
        if isinstance(r, ir.Primitive | ir.String):
            self.ctype(r)
            return [f"if (!::idlc::get(i, {x})) return false;"]
        if isinstance(r, ir.Enum):
            return [
                "{",
                "    uint32_t _e;",
                "    if (!::idlc::get(i, _e)) return false;",
                f"    if (!::idlc_gen::ok_{mangle(r.name)}(_e)) {{",
                "        i.pos--;",
                '        return i.fail("an undeclared enum value");',
                "    }",
                f"    {x} = static_cast< {self.n.qual(r.name)}>(_e);",
                "}",
            ]
        if isinstance(r, ir.Bitmask):
            u = "uint64_t" if r.bit_bound > 32 else "uint32_t"
            back = 2 if r.bit_bound > 32 else 1
            return [
                "{",
                f"    {u} _b;",
                "    if (!::idlc::get(i, _b)) return false;",
                f"    if (static_cast<uint64_t>(_b) & "
                f"~static_cast<uint64_t>({self.bitmask_mask(r)}u)) {{",
                f"        i.pos -= (sizeof(W) < 8 ? {back} : 1);",
                '        return i.fail("bits outside the bitmask");',
                "    }",
                f"    {x} = static_cast< {self.n.qual(r.name)}>(_b);",
                "}",
            ]
        if isinstance(r, ir.Sequence):
            p = self.packed(r.element)
            if p is not None:
                size, count = p
                return [
                    "{",
                    "    size_t _n;",
                    f"    if (!i.length(_n, {x}.bound, 0, 0)) return false;",
                    f"    if (!i.room(static_cast<uint64_t>(_n) * {size * count})) {{",
                    "        i.pos--;",
                    '        return i.fail("length exceeds the words left");',
                    "    }",
                    f"    {x}.resize(_n);",
                    *["    " + s for s in self.run_in(r.element, x, "_n")],
                    "}",
                ]
            mw, mi = self.mins(r.element)
            k = self.var()
            body = self.dec(r.element, f"{x}[{k}]", tr)
            return [
                "{",
                "    size_t _n;",
                f"    if (!i.length(_n, {x}.bound, {mw}, {mi})) return false;",
                f"    {x}.resize(_n);",
                f"    for (size_t {k} = 0; {k} < _n; {k}++) {{",
                *["        " + s for s in body],
                "    }",
                "}",
            ]
        if isinstance(r, ir.Array):
            p = self.packed(r)
            if p is not None:
                size, count = p
                return [
                    f"if (!i.room({size * count})) return false;",
                    *self.run_in(r, x, None),
                ]
            return self.array_loop(r, x, lambda el, e: self.dec(el, e, tr))
        if isinstance(r, ir.Struct | ir.Union_ | ir.Exception_):
            return [f"if (!::idlc_gen::d_{mangle(r.name)}<W>(i, {x})) return false;"]
        if isinstance(r, ir.Capability | ir.Interface):
            want = 3 if isinstance(r, ir.Interface) else crd_type(r.kind)
            d = "false" if tr else "true"
            return [
                "{",
                "    uint64_t _c;",
                f"    if (!i.cap({want}, {d}, _c)) return false;",
                f"    {x} = ::nre::Crd(static_cast< ::word_t>(_c));",
                "}",
            ]
        raise Unsupported(getattr(r, "kind", type(r).__name__))

    def run_in(self, t: ir.Type, x: str, count: str | None) -> list[str]:
        out = ["{", "    ::idlc::RunIn<W> _r(i);"]
        heads: list[str] = []
        e = x
        if count is not None:
            k = self.var()
            heads.append(f"for (size_t {k} = 0; {k} < {count}; {k}++) {{")
            e = f"{x}[{k}]"
        r = self.resolve(t)
        while isinstance(r, ir.Array):
            for d in r.dims:
                k = self.var()
                heads.append(f"for (size_t {k} = 0; {k} < {d}; {k}++) {{")
                e = f"{e}[{k}]"
            r = self.resolve(r.element)
        ind = "    "
        for h in heads:
            out.append(ind + h)
            ind += "    "
        if isinstance(r, ir.Enum):
            out += [
                ind + "uint32_t _e;",
                ind + "if (!::idlc::take(_r, _e)) return false;",
                ind + f'if (!::idlc_gen::ok_{mangle(r.name)}(_e)) return i.fail("an undeclared '
                f'enum value");',
                ind + f"{e} = static_cast< {self.n.qual(r.name)}>(_e);",
            ]
        else:
            out.append(ind + f"if (!::idlc::take(_r, {e})) return false;")
        for _ in heads:
            ind = ind[4:]
            out.append(ind + "}")
        out += ["    if (!_r.end()) return false;", "}"]
        return out

    # -- declarations --

    def bitmask_mask(self, b: ir.Bitmask) -> str:
        return hex(sum(1 << f.value for f in b.flags))

    def literal(self, t: ir.Type, v: ir.ConstValue) -> str:
        r = self.resolve(t)
        if isinstance(v, ir.EnumValue):
            return f"{self.n.qual(v.enum)}::{ident(v.name)}"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(r, ir.Primitive) and r.kind in ("float", "double"):
            f = float(v)
            if math.isnan(f) or math.isinf(f):
                raise Unsupported("non-finite constant")
            return repr(f) + ("f" if r.kind == "float" else "")
        if isinstance(r, ir.Primitive) and r.kind == "char" and isinstance(v, str):
            return f"static_cast<char>({ord(v)})"
        if isinstance(r, ir.Primitive) and r.kind == "wchar" and isinstance(v, str):
            return f"static_cast<char32_t>({ord(v)})"
        if isinstance(v, int):
            if isinstance(r, ir.Primitive) and r.kind in ("int64", "uint64"):
                return f"{v}ull" if v >= 0 else f"(-{-v - 1}ll - 1)"
            return f"{v}u" if v >= 2**31 else (str(v) if v >= -(2**31) + 1 else f"({v + 1} - 1)")
        raise Unsupported("constant")


def _cstr(s: str) -> str:
    out = []
    for b in s.encode("utf-8"):
        out.append(chr(b) if 32 <= b < 127 and chr(b) not in '"\\?' else f"\\{b:03o}")
    return '"' + "".join(out) + '"'


# --- one header per IDL file -------------------------------------------------------------


class Header:
    """The header of one IDL file of ``spec``."""

    def __init__(self, g: Gen, path: str, decls: list[ir.Declaration]) -> None:
        self.g = g
        self.path = path
        self.decls = decls
        self.types: list[str] = []
        self.codecs: list[str] = []
        self.protos: list[str] = []
        self.ifaces: list[str] = []
        self.ns: dict[int, list[str]] = {}  # the namespaces open at the end of each list

    # namespaces: reopened around each run of declarations
    def into(self, out: list[str], ns: list[str]) -> None:
        if ns == self.ns.get(id(out), []):
            return
        self.close(out)
        for n in ns:
            out.append(f"namespace {n} {{")
        self.ns[id(out)] = ns

    def close(self, out: list[str]) -> None:
        for n in reversed(self.ns.get(id(out), [])):
            out.append(f"}}  // namespace {n}")
        self.ns[id(out)] = []

    def render(self, includes: list[str]) -> str:
        g = self.g
        fwd: list[str] = []
        for d in self.decls:
            if isinstance(d, ir.Struct | ir.Union_ | ir.Exception_):
                self.into(fwd, g.n.split(d.name)[0])
                fwd.append(f"struct {g.n.split(d.name)[1]};")
        self.close(fwd)
        for d in self.decls:
            self.decl(d)
        self.close(self.types)
        self.close(self.ifaces)
        guard = "IDLC_" + mangle(header_of(self.path).replace(".", "_")).upper() + "_"
        head = [
            f"// Generated by idlc -l cxx from {header_of(self.path)[:-8]}.idl; do not edit.",
            f"#ifndef {guard}",
            f"#define {guard}",
            "",
            PRELUDE,
            *[f'#include "{h}"' for h in includes],
            SUPPORT,
        ]
        body = [
            *fwd,
            "",
            *self.types,
            "",
            "namespace idlc_gen {",
            *self.protos,
            "",
            *self.codecs,
            "}  // namespace idlc_gen",
            "",
            *self.ifaces,
            "",
            f"#endif  // {guard}",
            "",
        ]
        return "\n".join(head + body)

    def decl(self, d: ir.Declaration) -> None:
        g = self.g
        ns, local = g.n.split(d.name)
        t = self.types
        if isinstance(d, ir.Enum):
            self.into(t, ns)
            vals = ", ".join(f"{ident(e.name)} = {e.value}u" for e in d.enumerators)
            t.append(f"enum class {local} : uint32_t {{ {vals} }};")
            cases = " ".join(f"case {e.value}u:" for e in d.enumerators)
            self.protos.append(
                f"inline bool ok_{mangle(d.name)}(uint32_t v) {{ switch (v) {{ {cases} "
                f"return true; "
                "default: return false; } }"
            )
        elif isinstance(d, ir.Bitmask):
            self.into(t, ns)
            u = "uint64_t" if d.bit_bound > 32 else "uint32_t"
            vals = ", ".join(f"{ident(f.name)} = 0x{1 << f.value:x}ull" for f in d.flags)
            t.append(f"enum class {local} : {u} {{ {vals} }};")
            for op in "|&^":
                t.append(
                    f"inline {local} operator{op}({local} a, {local} b) {{ return "
                    f"static_cast<{local}>"
                    f"(static_cast<{u}>(a) {op} static_cast<{u}>(b)); }}"
                )
        elif isinstance(d, ir.Typedef):
            self.into(t, ns)
            t.append(f"typedef {g.ctype(d.type)} {local};")
        elif isinstance(d, ir.Const):
            self.const(d, ns, local)
        elif isinstance(d, ir.Struct):
            self.into(t, ns)
            base = f" : public {g.n.qual(d.base)}" if d.base else ""
            t.append(f"struct {local}{base} {{")
            t += ["    " + s for s in self.members(local, d.fields)]
            t.append("};")
            self.aggregate(d, list(d.fields), d.base)
        elif isinstance(d, ir.Exception_):
            self.into(t, ns)
            t.append(f"struct {local} {{")
            t.append(f"    static const uint32_t ID = 0x{d.exception_id:x}u;")
            t += ["    " + s for s in self.members(local, d.fields)]
            t.append("};")
            self.aggregate(d, list(d.fields), None)
            q = g.n.qual(d.name)
            m = mangle(d.name)
            self.protos.append(f"template <class W> bool x_{m}(::idlc::Out<W> &o, const {q} &v);")
            self.codecs += [
                f"template <class W> bool x_{m}(::idlc::Out<W> &o, const {q} &v) {{",
                "    o.n = o.ni = 0;",
                "    o.err = 0;",
                f"    return o.put(32) && ::idlc::put(o, "
                f"static_cast<uint32_t>(0x{d.exception_id:x}u)) && e_{m}<W>(o, v);",
                "}",
            ]
        elif isinstance(d, ir.Union_):
            self.union(d, ns, local)
        elif isinstance(d, ir.Interface):
            from idlc.backends.cxx.interfaces import interface

            interface(self, d, ns, local)

    def const(self, d: ir.Const, ns: list[str], local: str) -> None:
        g = self.g
        r = g.resolve(d.type)
        try:
            if isinstance(r, ir.String):
                if r.wide or not isinstance(d.value, str):
                    return
                self.into(self.types, ns)
                self.types.append(f"static const char {local}[] = {_cstr(d.value)};")
                return
            lit = g.literal(d.type, d.value)
            ctype = g.ctype(d.type)
        except Unsupported:
            return
        self.into(self.types, ns)
        self.types.append(f"const {ctype} {local} = {lit};")

    def members(self, owner: str, fields: tuple[ir.Field, ...] | list[ir.Field]) -> list[str]:
        out = []
        for f in fields:
            ct = self.g.ctype(f.type)
            if f.optional:
                ct = f"::idlc::Optional< {ct}>"
            out.append(f"{ct} {self.member(owner, f.name)}{{}};")
        return out

    @staticmethod
    def member(owner: str, name: str) -> str:
        n = ident(name)
        return n + "_" if n == owner else n

    def aggregate(self, d: ir.Declaration, fields: list[ir.Field], base: str | None) -> None:
        g = self.g
        q, m = g.n.qual(d.name), mangle(d.name)
        local = g.n.split(d.name)[1]
        self.protos += [
            f"template <class W> bool e_{m}(::idlc::Out<W> &o, const {q} &v);",
            f"template <class W> bool d_{m}(::idlc::In<W> &i, {q} &v);",
        ]
        enc = [f"template <class W> bool e_{m}(::idlc::Out<W> &o, const {q} &v) {{"]
        dec = [f"template <class W> bool d_{m}(::idlc::In<W> &i, {q} &v) {{"]
        if base is not None:
            enc.append(f"    if (!e_{mangle(base)}<W>(o, v)) return false;")
            dec.append(f"    if (!d_{mangle(base)}<W>(i, v)) return false;")
        if not fields and base is None:
            enc.append("    (void)o;")
            enc.append("    (void)v;")
            dec.append("    (void)i;")
            dec.append("    (void)v;")
        for f in fields:
            x = f"v.{self.member(local, f.name)}"
            enc += ["    " + s for s in self.field_enc(f, x)]
            dec += ["    " + s for s in self.field_dec(f, x)]
        self.codecs += [*enc, "    return true;", "}", *dec, "    return true;", "}"]

    def field_enc(self, f: ir.Field, x: str) -> list[str]:
        mask = 0x1F if f.rights is None else f.rights
        if not f.optional:
            return self.g.enc(f.type, x, f.translate, mask)
        return [
            f"if ({x}.has_value()) {{",
            "    if (!o.put(1)) return false;",
            *["    " + s for s in self.g.enc(f.type, f"{x}.value()", f.translate, mask)],
            "} else if (!o.put(0)) {",
            "    return false;",
            "}",
        ]

    def field_dec(self, f: ir.Field, x: str) -> list[str]:
        if not f.optional:
            return self.g.dec(f.type, x, f.translate)
        return [
            "{",
            "    W _p;",
            "    if (!i.get(_p)) return false;",
            "    if (_p > 1) {",
            "        i.pos--;",
            '        return i.fail("a presence word other than 0 or 1");',
            "    }",
            f"    {x}.reset();",
            "    if (_p) {",
            f"        {x}.emplace();",
            *["        " + s for s in self.g.dec(f.type, f"{x}.value()", f.translate)],
            "    }",
            "}",
        ]

    def union(self, d: ir.Union_, ns: list[str], local: str) -> None:
        g = self.g
        q, m = g.n.qual(d.name), mangle(d.name)
        dt = g.ctype(d.discriminator)
        first = next((c.labels[0] for c in d.cases if c.labels), None)
        init = "" if first is None else g.literal(d.discriminator, first)
        t = self.types
        self.into(t, ns)
        t.append(f"struct {local} {{")
        t.append(f"    {dt} _d{{{init}}};")
        t += ["    " + s for s in self.members(local, [c.field for c in d.cases])]
        t.append("};")
        # the case a discriminator value selects: its index, or -1 for none
        sel = [f"inline int c_{m}({dt} d) {{"]
        default = -1
        for k, c in enumerate(d.cases):
            if c.is_default:
                default = k
            for lab in c.labels:
                sel.append(f"    if (d == {g.literal(d.discriminator, lab)}) return {k};")
        if not any(c.labels for c in d.cases):
            sel.append("    (void)d;")
        sel += [f"    return {default};", "}"]
        self.protos += [
            *sel,
            f"template <class W> bool e_{m}(::idlc::Out<W> &o, const {q} &v);",
            f"template <class W> bool d_{m}(::idlc::In<W> &i, {q} &v);",
        ]
        enc = [f"template <class W> bool e_{m}(::idlc::Out<W> &o, const {q} &v) {{"]
        enc += ["    " + s for s in g.enc(d.discriminator, "v._d")]
        dec = [f"template <class W> bool d_{m}(::idlc::In<W> &i, {q} &v) {{"]
        dec += ["    " + s for s in g.dec(d.discriminator, "v._d")]
        enc.append(f"    switch (c_{m}(v._d)) {{")
        dec.append(f"    switch (c_{m}(v._d)) {{")
        for k, c in enumerate(d.cases):
            x = f"v.{self.member(local, c.field.name)}"
            enc += [f"    case {k}: {{", *["        " + s for s in self.field_enc(c.field, x)]]
            enc += ["        break;", "    }"]
            dec += [f"    case {k}: {{", *["        " + s for s in self.field_dec(c.field, x)]]
            dec += ["        break;", "    }"]
        enc += ["    default:", "        break;", "    }", "    return true;", "}"]
        dec += ["    default:", "        break;", "    }", "    return true;", "}"]
        self.codecs += enc + dec


def render(spec: ir.Specification) -> dict[str, str]:
    """Header file name -> text, one per IDL file that declares something."""
    g = Gen(spec)
    by_file: dict[str, list[ir.Declaration]] = {}
    for d in spec.declarations:
        by_file.setdefault(d.span.file, []).append(d)
    order = list(by_file)  # first declarations in source order: includes come first
    out: dict[str, str] = {}
    for i, path in enumerate(order):
        includes = [header_of(p) for p in order[:i]]
        out[header_of(path)] = Header(g, path, by_file[path]).render(includes)
    return out
