"""Per interface: message codecs, the client class, the implementation's abstract class and
the server dispatch (docs/cxx-backend.md, Interfaces)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from idlc import ir
from idlc.backends.cxx.names import ident, mangle
from idlc.backends.python.marshal import crd_type
from idlc.layout import FRAME_LIMITS

if TYPE_CHECKING:
    from idlc.backends.cxx.generator import Header

_SCALAR = {"bool", "char", "int8_t", "uint8_t", "int16_t", "uint16_t", "int32_t", "uint32_t"}
_SCALAR |= {"int64_t", "uint64_t", "float", "double", "char32_t"}


def mname(m: ir.Method) -> str:
    return mangle(f"{m.interface}::{m.name}")


def ins(m: ir.Method) -> list[ir.Param]:
    return [p for p in m.params if p.mode in ("in", "inout")]


def outs(m: ir.Method) -> list[ir.Param]:
    return [p for p in m.params if p.mode in ("out", "inout")]


def _mask(p: ir.Param) -> int:
    return 0x1F if p.rights is None else p.rights


def _by_arch(h: Header, m: ir.Method, reply: bool, items: bool) -> str:
    vals = []
    for arch, lay in (("x86_64", h.g.lay64), ("x86_32", h.g.lay32)):
        req, rep = lay.method_sizes(m)
        words, nitems = FRAME_LIMITS[arch]
        if reply:
            n = nitems if items else words
            if items and rep is not None and rep.max_items is not None:
                n = min(n, rep.max_items)
        else:
            mx = req.max_items if items else req.max_words
            n = (nitems if items else words) if mx is None else min(mx, nitems if items else words)
        vals.append(max(n, 1))
    return f"(sizeof(::word_t) >= 8 ? {vals[0]} : {vals[1]})"


def codecs(h: Header, iface: ir.Interface) -> None:
    g = h.g
    for m in iface.methods:
        n = mname(m)
        # request
        args = "".join(f", const {g.ctype(p.type)} &p_{p.name}" for p in ins(m))
        refs = "".join(f", {g.ctype(p.type)} &p_{p.name}" for p in ins(m))
        h.protos.append(f"template <class W> bool rq_{n}(::idlc::Out<W> &o{args});")
        body = [f"template <class W> bool rq_{n}(::idlc::Out<W> &o{args}) {{"]
        body.append(f"    if (!o.put(static_cast<W>(0x{m.opcode:x}u))) return false;")
        for p in ins(m):
            body.append(f'    o.where = "{p.name}";')
            body += ["    " + s for s in g.enc(p.type, f"p_{p.name}", p.translate, _mask(p))]
        body += ["    return true;", "}"]
        body.append(f"template <class W> bool dq_{n}(::idlc::In<W> &i{refs}) {{")
        for p in ins(m):
            body += ["    " + s for s in g.dec(p.type, f"p_{p.name}", p.translate)]
        body += ["    return i.finish();", "}"]
        if not m.oneway:
            body += reply_codecs(h, m)
        h.codecs += body


def reply_codecs(h: Header, m: ir.Method) -> list[str]:
    g = h.g
    n = mname(m)
    vals: list[tuple[str, ir.Type, bool, int]] = []
    if m.result is not None:
        vals.append(("_return", m.result, False, 0x1F))
    vals += [(f"p_{p.name}", p.type, p.translate, _mask(p)) for p in outs(m)]
    cargs = "".join(f", const {g.ctype(t)} &{x}" for x, t, _, _ in vals)
    rargs = "".join(f", {g.ctype(t)} &{x}" for x, t, _, _ in vals)
    excs = [g.spec.lookup(e) for e in m.raises]
    eargs = "".join(f", {g.n.qual(e.name)} &_e{k}" for k, e in enumerate(excs) if e is not None)
    out = [
        f"template <class W> bool rp_{n}(::idlc::Out<W> &o{cargs}) {{",
        "    if (!o.put(0)) return false;",
    ]
    for x, t, tr, mask in vals:
        out += ["    " + s for s in g.enc(t, x, tr, mask)]
    out += ["    return true;", "}"]
    out += [
        f"template <class W> bool dp_{n}(::idlc::In<W> &i, uint32_t &st, unsigned &which, "
        f"::idlc::String<> &msg{rargs}{eargs}) {{",
        "    W s;",
        "    if (!i.get(s)) return false;",
        "    st = static_cast<uint32_t>(s);",
        "    which = 0;",
        "    if (s == 0) {",
    ]
    for x, t, tr, _ in vals:
        out += ["        " + s for s in g.dec(t, x, tr)]
    out += [
        "        return i.finish();",
        "    }",
        "    if (s >= 1 && s <= 19) return ::idlc::get(i, msg) && i.finish();",
    ]
    if excs:
        out += [
            "    if (s == 32) {",
            "        uint32_t id;",
            "        if (!::idlc::get(i, id)) return false;",
        ]
        for k, e in enumerate(excs):
            assert isinstance(e, ir.Exception_)
            out += [
                f"        if (id == 0x{e.exception_id:x}u) {{",
                f"            which = {k};",
                f"            return d_{mangle(e.name)}<W>(i, _e{k}) && i.finish();",
                "        }",
            ]
        out += [
            "        i.pos--;",
            '        return i.fail("an exception id not in raises");',
            "    }",
        ]
    out += ["    i.pos--;", '    return i.fail("a reserved status");', "}"]
    return out


# --- windows (WIRE.md §4): what a message may carry ---------------------------------------


def _caps(h: Header, t: ir.Type, tr: bool, seen: set[str], acc: set[tuple[int, bool]]) -> None:
    r = h.g.resolve(t)
    if isinstance(r, ir.Capability):
        acc.add((crd_type(r.kind), tr))
    elif isinstance(r, ir.Interface):
        acc.add((3, tr))
    elif isinstance(r, ir.Sequence | ir.Array):
        _caps(h, r.element, tr, seen, acc)
    elif isinstance(r, ir.Struct | ir.Union_ | ir.Exception_):
        if r.name in seen:
            return
        seen.add(r.name)
        if isinstance(r, ir.Struct) and r.base:
            _caps(h, ir.Ref(r.base, "struct"), False, seen, acc)
        fields = [c.field for c in r.cases] if isinstance(r, ir.Union_) else list(r.fields)
        for f in fields:
            _caps(h, f.type, f.translate, seen, acc)


def windows(h: Header, msgs: list[tuple[list[tuple[ir.Type, bool]], int | None]]) -> list[str]:
    """Statements arming `uf`'s windows for messages of the given (values, max items)."""
    acc: set[tuple[int, bool]] = set()
    most = 0
    for values, items in msgs:
        mine: set[tuple[int, bool]] = set()
        for t, tr in values:
            _caps(h, t, tr, set(), mine)
        if any(not tr for _, tr in mine):
            most = max(most, items if items is not None else 1 << 7)
        acc |= mine
    out = []
    for kind, tr in sorted(acc):
        if tr:
            attr = {1: "MEM_ALL", 2: "IO_ALL", 3: "OBJ_ALL"}[kind]
            out.append(f"uf.accept_translates(0, 31, ::nre::Crd::{attr});")
        elif kind == 3:
            out.append(f"uf.accept_delegates({max(0, math.ceil(math.log2(max(most, 1))))});")
        elif kind == 2:
            out.append("uf.delegation_window(::nre::Crd(0, 16, ::nre::Crd::IO_ALL));")
        # memory: the caller picks free pages (NRE's VirtualMemory) and arms the window
    return out


# --- classes ---------------------------------------------------------------------------


def _param(h: Header, p: ir.Param) -> str:
    ct = h.g.ctype(p.type)
    if p.mode != "in":
        return f"{ct} &{ident(p.name)}"
    return f"{ct} {ident(p.name)}" if ct in _SCALAR else f"const {ct} &{ident(p.name)}"


def interface(h: Header, d: ir.Interface, ns: list[str], local: str) -> None:
    g = h.g
    codecs(h, d)
    out = h.ifaces
    h.into(out, ns)
    names: dict[str, str] = {}
    for m in d.all_methods:
        n = ident(m.name)
        names[m.name] = n + "_" if n in (local, f"{local}Client", f"{local}Server") else n
    # the implementation's abstract class
    bases = ", ".join(f"public virtual {g.n.qual(b)}" for b in d.bases)
    out.append(f"class {local}{' : ' + bases if bases else ''} {{")
    out.append("public:")
    out.append(f"    virtual ~{local}() {{}}")
    for m in d.methods:
        params = [_param(h, p) for p in m.params]
        ret = "void" if m.result is None else g.ctype(m.result)
        excs = [g.n.qual(e) for e in m.raises]
        code = params + ([f"{ret} &_return"] if m.result is not None else [])
        code += [f"{e} &_e{k}" for k, e in enumerate(excs)]
        out += [
            "#if IDLC_EXCEPTIONS",
            f"    virtual {ret} {names[m.name]}({', '.join(params)}) = 0;",
            "#else",
            f"    virtual uint32_t {names[m.name]}({', '.join(code)}) = 0;",
            "#endif",
        ]
    out.append("};")
    client(h, d, local, names)
    server(h, d, local, names)


def client(h: Header, d: ir.Interface, local: str, names: dict[str, str]) -> None:
    g = h.g
    out = h.ifaces
    out += [
        f"class {local}Client {{",
        "public:",
        f"    explicit {local}Client(::capsel_t pt) : _pt(pt) {{}}",
        "    // the message of the last error reply (status 1..19)",
        "    const char *last_message() const { return _msg.c_str(); }",
    ]
    for m in d.all_methods:
        n = mname(m)
        name = names[m.name]
        ret = "void" if m.result is None else g.ctype(m.result)
        params = [_param(h, p) for p in m.params]
        excs = [g.n.qual(e) for e in m.raises]
        core = params + ([f"{ret} &_return"] if m.result is not None else [])
        core += [f"{e} *_e{k}" for k, e in enumerate(excs)]
        call_in = "".join(f", {ident(p.name)}" for p in ins(m))
        out.append(f"    uint32_t _call_{name}({', '.join(core)}) {{")
        out += [
            "        ::nre::UtcbFrame uf;",
            f"        ::word_t _w[{_by_arch(h, m, False, False)}];",
            f"        ::word_t _it[2 * {_by_arch(h, m, False, True)}];",
            "        size_t _wcap = sizeof(_w) / sizeof(_w[0]), _icap = sizeof(_it) / "
            "sizeof(_it[0]) / 2;",
            "        if (uf.free_untyped() < _wcap) _wcap = uf.free_untyped();",
            "        if (uf.free_typed() < _icap) _icap = uf.free_typed();",
            "        ::idlc::Out< ::word_t> o(_w, _wcap, _it, _icap);",
            f"        if (!::idlc_gen::rq_{n}< ::word_t>(o{call_in})) return o.err;",
            "        ::idlc_gen::write_frame(uf, o);",
        ]
        if not m.oneway:
            lay = g.lay64
            rep = lay.method_sizes(m)[1]
            vals = ([(m.result, False)] if m.result is not None else []) + [
                (p.type, p.translate) for p in outs(m)
            ]
            for e in m.raises:
                ex = g.spec.lookup(e)
                if isinstance(ex, ir.Exception_):
                    vals += [(f.type, f.translate) for f in ex.fields]
            out += [
                "        " + s for s in windows(h, [(vals, None if rep is None else rep.max_items)])
            ]
        out.append("        _pt.call(uf);")
        if m.oneway:
            for p in m.params:
                out.append(f"        (void){ident(p.name)};")
            out += ["        return 0;", "    }"]
        else:
            rargs = ""
            if m.result is not None:
                rargs += ", _return"
            rargs += "".join(f", {ident(p.name)}" for p in outs(m))
            locs = [f"        {e} _x{k};" for k, e in enumerate(excs)]
            xargs = "".join(f", _x{k}" for k in range(len(excs)))
            out += [
                f"        ::word_t _r[{_by_arch(h, m, True, False)}];",
                f"        ::word_t _ri[2 * {_by_arch(h, m, True, True)}];",
                "        size_t _n, _ni;",
                "        bool _fits;",
                "        ::idlc_gen::read_frame(uf, _r, _n, sizeof(_r) / sizeof(_r[0]), _ri, _ni,",
                "                               sizeof(_ri) / sizeof(_ri[0]) / 2, _fits);",
                "        if (!_fits) return ::idlc::S_ARGS_INVALID;",
                "        ::idlc::In< ::word_t> i(_r, _n, _ri, _ni);",
                "        uint32_t _st = 0;",
                "        unsigned _which = 0;",
                *locs,
                f"        if (!::idlc_gen::dp_{n}< ::word_t>(i, _st, _which, "
                f"_msg{rargs}{xargs}))",
                "            return ::idlc::S_ARGS_INVALID;",
            ]
            if excs:
                out.append("        if (_st == 32) {")
                for k in range(len(excs)):
                    out.append(f"            if (_which == {k} && _e{k}) *_e{k} = _x{k};")
                out += ["            return ::idlc::raise(_which);", "        }"]
            out += ["        return _st;", "    }"]
        # the public method in the chosen error mode
        pargs = ", ".join(ident(p.name) for p in m.params)
        out.append("#if IDLC_EXCEPTIONS")
        out.append(f"    {ret} {name}({', '.join(params)}) {{")
        locs = [f"        {e} _x{k};" for k, e in enumerate(excs)]
        out += locs
        cargs = [pargs] if pargs else []
        if m.result is not None:
            out.append(f"        {ret} _ret{{}};")
            cargs.append("_ret")
        cargs += [f"&_x{k}" for k in range(len(excs))]
        out.append(f"        uint32_t _st = _call_{name}({', '.join(cargs)});")
        for k in range(len(excs)):
            out.append(f"        if (_st == 0x{0x100 + k:x}u) throw _x{k};")
        out.append("        if (_st != 0)")
        out.append(
            "            throw ::nre::Exception(static_cast< ::nre::ErrorCode>(_st), "
            "::nre::String(_msg.c_str()));"
        )
        if m.result is not None:
            out.append("        return _ret;")
        out.append("    }")
        out.append("#else")
        dflt = [f"{e} *_e{k} = 0" for k, e in enumerate(excs)]
        sig = params + ([f"{ret} &_return"] if m.result is not None else []) + dflt
        cargs = [pargs] if pargs else []
        if m.result is not None:
            cargs.append("_return")
        cargs += [f"_e{k}" for k in range(len(excs))]
        out += [
            f"    uint32_t {name}({', '.join(sig)}) {{",
            f"        return _call_{name}({', '.join(cargs)});",
            "    }",
            "#endif",
        ]
    out += ["", "private:", "    ::nre::Pt _pt;", "    ::idlc::String<> _msg;", "};"]


def server(h: Header, d: ir.Interface, local: str, names: dict[str, str]) -> None:
    g = h.g
    out = h.ifaces
    out += [
        f"class {local}Server {{",
        "public:",
        "    // Answers the request w[0..n) with items it[0..2*ni) into o (WIRE.md §2).",
        "    template <class W>",
        f"    static void dispatch({local} &impl, const W *w, size_t n, const W *it, size_t ni,",
        "                         ::idlc::Out<W> &o) {",
        "        if (n == 0) {",
        '            ::idlc_gen::put_error(o, ::idlc::S_ARGS_INVALID, "no opcode");',
        "            return;",
        "        }",
        "        switch (static_cast<uint64_t>(w[0])) {",
    ]
    msgs: list[tuple[list[tuple[ir.Type, bool]], int | None]] = []
    for m in d.all_methods:
        n = mname(m)
        name = names[m.name]
        excs = [g.n.qual(e) for e in m.raises]
        rq = g.lay64.method_sizes(m)[0]
        msgs.append(([(p.type, p.translate) for p in ins(m)], rq.max_items))
        out.append(f"        case 0x{m.opcode:x}u: {{")
        b = ["::idlc::In<W> i(w, n, it, ni);", "i.pos = 1;"]
        for p in m.params:
            b.append(f"{g.ctype(p.type)} p_{p.name}{{}};")
        if m.result is not None:
            b.append(f"{g.ctype(m.result)} _ret{{}};")
        dargs = "".join(f", p_{p.name}" for p in ins(m))
        b.append(f"if (!::idlc_gen::dq_{n}<W>(i{dargs})) {{")
        if m.oneway:
            b.append("    o.n = o.ni = 0;")
        else:
            b.append("    ::idlc_gen::put_error(o, ::idlc::S_ARGS_INVALID, i.why);")
        b += ["    return;", "}"]
        cargs = ", ".join(f"p_{p.name}" for p in m.params)
        assign = "_ret = " if m.result is not None else ""
        b.append("#if IDLC_EXCEPTIONS")
        if m.oneway:
            b += [
                "try {",
                f"    impl.{name}({cargs});",
                "} catch (...) {",
                "}",
            ]
        else:
            b += ["try {", f"    {assign}impl.{name}({cargs});"]
            for k, e in enumerate(excs):
                b += [
                    f"}} catch (const {e} &_x) {{",
                    f"    if (!::idlc_gen::x_{mangle(m.raises[k])}<W>(o, _x))",
                    '        ::idlc_gen::put_error(o, ::idlc::S_CAPACITY, "the exception '
                    'does not fit");',
                    "    return;",
                ]
            b += [
                "} catch (const ::nre::Exception &_x) {",
                "    uint32_t _c = static_cast<uint32_t>(_x.code());",
                "    ::idlc_gen::put_error(o, _c >= 1 && _c <= 19 ? _c : ::idlc::S_FAILURE, "
                "_x.msg());",
                "    return;",
                "} catch (...) {",
                '    ::idlc_gen::put_error(o, ::idlc::S_FAILURE, "an undeclared exception");',
                "    return;",
                "}",
            ]
        b.append("#else")
        b += [f"{e} _e{k}{{}};" for k, e in enumerate(excs)]
        code = [f"p_{p.name}" for p in m.params] + (["_ret"] if m.result is not None else [])
        code += [f"_e{k}" for k in range(len(excs))]
        b.append(f"uint32_t _st = impl.{name}({', '.join(code)});")
        if not m.oneway:
            for k in range(len(excs)):
                b += [
                    f"if (_st == 0x{0x100 + k:x}u) {{",
                    f"    if (!::idlc_gen::x_{mangle(m.raises[k])}<W>(o, _e{k}))",
                    '        ::idlc_gen::put_error(o, ::idlc::S_CAPACITY, "the exception '
                    'does not fit");',
                    "    return;",
                    "}",
                ]
            b += [
                "if (_st != 0) {",
                "    ::idlc_gen::put_error(o, _st >= 1 && _st <= 19 ? _st : "
                '::idlc::S_FAILURE, "");',
                "    return;",
                "}",
            ]
        else:
            b.append("(void)_st;")
        b.append("#endif")
        if m.oneway:
            b += ["o.n = o.ni = 0;", "return;"]
        else:
            rargs = "_ret" if m.result is not None else ""
            rest = [f"p_{p.name}" for p in outs(m)]
            rargs = ", ".join(([rargs] if rargs else []) + rest)
            b += [
                f"if (!::idlc_gen::rp_{n}<W>(o{', ' + rargs if rargs else ''}))",
                "    ::idlc_gen::put_error(o, o.err == ::idlc::S_CAPACITY ? "
                "::idlc::S_CAPACITY : ::idlc::S_FAILURE, o.why);",
                "return;",
            ]
        out += ["            " + s if not s.startswith("#") else s for s in b]
        out.append("        }")
    out += [
        "        default:",
        '            ::idlc_gen::put_error(o, ::idlc::S_NOT_FOUND, "no method with this opcode");',
        "            return;",
        "        }",
        "    }",
        "    // Arms the receive windows the requests need (WIRE.md §4), as a handler does",
        "    // before its first call and after each reply.",
        "    static void arm(::nre::UtcbFrameRef &uf) {",
        *["        " + s for s in windows(h, msgs)],
        "        (void)uf;",
        "    }",
        "    // The body of an NRE portal handler: the request in this EC's UTCB, the reply back.",
        f"    static void serve({local} &impl) {{",
        "        ::nre::UtcbFrameRef uf;",
        "        ::word_t _w[sizeof(::word_t) >= 8 ? 253 : 509];",
        "        ::word_t _it[2 * (sizeof(::word_t) >= 8 ? 126 : 254)];",
        "        size_t _n, _ni;",
        "        bool _fits;",
        "        ::idlc_gen::read_frame(uf, _w, _n, sizeof(_w) / sizeof(_w[0]), _it, _ni,",
        "                               sizeof(_it) / sizeof(_it[0]) / 2, _fits);",
        "        uf.clear();",
        "        ::word_t _r[sizeof(_w) / sizeof(_w[0])];",
        "        ::word_t _ri[sizeof(_it) / sizeof(_it[0])];",
        "        size_t _rcap = uf.free_untyped() < sizeof(_r) / sizeof(_r[0]) ? "
        "uf.free_untyped() : sizeof(_r) / sizeof(_r[0]);",
        "        ::idlc::Out< ::word_t> o(_r, _rcap, _ri, sizeof(_ri) / sizeof(_ri[0]) / 2);",
        "        if (_fits)",
        "            dispatch(impl, _w, _n, _it, _ni, o);",
        "        else",
        '            ::idlc_gen::put_error(o, ::idlc::S_ARGS_INVALID, "too many words or items");',
        "        ::idlc_gen::write_frame(uf, o);",
        "        arm(uf);",
        "    }",
        "};",
    ]
