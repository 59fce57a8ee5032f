"""The C++ source of the host harness behind `idlc wire --backend cxx`: every message of a
specification through the generated codecs, for both word types (docs/cxx-backend.md).

Protocol, one line per command on stdin, one line per answer on stdout:
  E <64|32> <method#> <q|p> <values> -> W <n> words <ni> items | X <where> <why>
  D <64|32> <method#> <q|p> <n> words.. <ni> items..   -> V <tokens> | R word|item <at> <why>
A reply's values start with a kind: 0 success values, 1 <k> the k-th exception's members,
2 <status> <message string>. Tokens: see idlc/harness.hpp.
"""

from __future__ import annotations

from idlc import ir
from idlc.backends.cxx.generator import Gen, Header
from idlc.backends.cxx.interfaces import ins, mname, outs
from idlc.backends.cxx.names import mangle


def methods(spec: ir.Specification) -> list[tuple[ir.Interface, ir.Method]]:
    """Every (interface, method) a message can be asked for, in the harness's numbering."""
    out = []
    for d in spec.declarations:
        if isinstance(d, ir.Interface):
            out += [(d, m) for m in d.all_methods]
    return out


def source(spec: ir.Specification, headers: list[str]) -> str:
    g = Gen(spec)
    aggs = [d for d in spec.declarations if isinstance(d, ir.Struct | ir.Union_ | ir.Exception_)]
    lines = [f'#include "{h}"' for h in headers]
    lines += ["#include <idlc/harness.hpp>", "", "namespace idlc_h {"]
    for d in aggs:
        q = g.n.qual(d.name)
        lines += [f"void rd(Tok &t, {q} &v);", f"void wr(Sink &s, const {q} &v);"]
    lines += ["}", "#include <idlc/harness_impl.hpp>", "namespace idlc_h {"]
    for d in aggs:
        lines += _aggregate(g, d)
    for k, (_iface, m) in enumerate(methods(spec)):
        lines += _method(g, k, m)
    lines += ["}  // namespace idlc_h", ""]
    lines += _main(len(methods(spec)))
    return "\n".join(lines) + "\n"


def _aggregate(g: Gen, d: ir.Declaration) -> list[str]:
    q = g.n.qual(d.name)
    local = g.n.split(d.name)[1]
    rd = [f"void rd(Tok &t, {q} &v) {{"]
    wr = [f"void wr(Sink &s, const {q} &v) {{"]
    if isinstance(d, ir.Struct) and d.base:
        bq = g.n.qual(d.base)
        rd.append(f"    rd(t, static_cast<{bq} &>(v));")
        wr.append(f"    wr(s, static_cast<const {bq} &>(v));")
    if isinstance(d, ir.Union_):
        rd += ["    rd(t, v._d);", f"    switch (::idlc_gen::c_{mangle(d.name)}(v._d)) {{"]
        wr += ["    wr(s, v._d);", f"    switch (::idlc_gen::c_{mangle(d.name)}(v._d)) {{"]
        for k, c in enumerate(d.cases):
            x = f"v.{Header.member(local, c.field.name)}"
            rd.append(f"    case {k}: rd(t, {x}); break;")
            wr.append(f"    case {k}: wr(s, {x}); break;")
        rd += ["    default: break;", "    }"]
        wr += ["    default: break;", "    }"]
    else:
        assert isinstance(d, ir.Struct | ir.Exception_)
        for f in d.fields:
            x = f"v.{Header.member(local, f.name)}"
            rd.append(f"    rd(t, {x});")
            wr.append(f"    wr(s, {x});")
        if not d.fields:
            rd.append("    (void)t; (void)v;")
            wr.append("    (void)s; (void)v;")
    return [*rd, "}", *wr, "}"]


def _method(g: Gen, k: int, m: ir.Method) -> list[str]:
    n = mname(m)
    out = [f"template <class W> void m{k}(char op, bool reply, Tok &t) {{"]
    pin = [(f"p_{p.name}", p.type) for p in ins(m)]
    args = "".join(f", {x}" for x, _ in pin)
    decl = [f"    {g.ctype(t)} {x}{{}};" for x, t in pin]
    out += [
        "    if (op == 'E' && !reply) {",
        *decl,
        *[f"    rd(t, {x});" for x, _ in pin],
        '        if (t.bad) { printf("B tokens\\n"); return; }',
        "        Buffers<W> b;",
        "        idlc::Out<W> o = b.out();",
        f"        if (::idlc_gen::rq_{n}<W>(o{args})) print_out(o); else print_enc_error(o);",
        "        return;",
        "    }",
        "    if (op == 'D' && !reply) {",
        *decl,
        "        Msg<W> msg(t);",
        "        idlc::In<W> i = msg.in();",
        f"        if (i.n == 0 || static_cast<uint64_t>(i.w[0]) != 0x{m.opcode:x}u) {{",
        '            i.fail(i.n ? "another method\'s opcode" : "word missing");',
        "            print_dec_error(i);",
        "            return;",
        "        }",
        "        i.pos = 1;",
        f"        if (!::idlc_gen::dq_{n}<W>(i{args})) {{ print_dec_error(i); return; }}",
        "        Sink s;",
        *[f"        wr(s, {x});" for x, _ in pin],
        '        printf("V%s\\n", s.s.c_str());',
        "        return;",
        "    }",
    ]
    if m.oneway:
        out += [
            "    if (op == 'E') { Buffers<W> b; print_out(b.out()); return; }",
            "    Msg<W> msg(t);",
            "    idlc::In<W> i = msg.in();",
            "    if (!i.finish()) { print_dec_error(i); return; }",
            '    printf("V 0\\n");',
            "}",
        ]
        return out
    vals: list[tuple[str, ir.Type]] = []
    if m.result is not None:
        vals.append(("_return", m.result))
    vals += [(f"p_{p.name}", p.type) for p in outs(m)]
    excs = [g.spec.lookup(e) for e in m.raises]
    decl = [f"    {g.ctype(t)} {x}{{}};" for x, t in vals]
    decl += [f"    {g.n.qual(e.name)} _e{j}{{}};" for j, e in enumerate(excs) if e is not None]
    rargs = "".join(f", {x}" for x, _ in vals)
    eargs = "".join(f", _e{j}" for j in range(len(excs)))
    out += decl
    out += [
        "    if (op == 'E') {",
        "        Buffers<W> b;",
        "        idlc::Out<W> o = b.out();",
        "        unsigned long long kind = t.u();",
        "        bool ok = false;",
        "        if (kind == 0) {",
        *[f"            rd(t, {x});" for x, _ in vals],
        f"            ok = ::idlc_gen::rp_{n}<W>(o{rargs});",
        "        } else if (kind == 2) {",
        "            uint32_t st = static_cast<uint32_t>(t.u());",
        "            idlc::String<> text;",
        "            rd(t, text);",
        "            ok = ::idlc_gen::put_error(o, st, text.c_str()) && text.length() == "
        "idlc::String<>::length_of(text.c_str());",
        "        } else {",
        "            unsigned long long which = t.u();",
        "            (void)which;",
    ]
    for j, e in enumerate(excs):
        assert isinstance(e, ir.Exception_)
        out += [
            f"            if (which == {j}) {{",
            f"                rd(t, _e{j});",
            f"                ok = ::idlc_gen::x_{mangle(e.name)}<W>(o, _e{j});",
            "            }",
        ]
    out += [
        "        }",
        '        if (t.bad) { printf("B tokens\\n"); return; }',
        "        if (ok) print_out(o); else print_enc_error(o);",
        "        return;",
        "    }",
        "    Msg<W> msg(t);",
        "    idlc::In<W> i = msg.in();",
        "    uint32_t st = 0;",
        "    unsigned which = 0;",
        "    idlc::String<> text;",
        f"    if (!::idlc_gen::dp_{n}<W>(i, st, which, text{rargs}{eargs})) {{ "
        f"print_dec_error(i); return; }}",
        "    Sink s;",
        "    if (st == 0) {",
        "        s.num(0);",
        *[f"        wr(s, {x});" for x, _ in vals],
        "    } else if (st == 32) {",
        "        s.num(1);",
        "        s.num(which);",
    ]
    for j in range(len(excs)):
        out.append(f"        if (which == {j}) wr(s, _e{j});")
    out += [
        "    } else {",
        "        s.num(2);",
        "        s.num(st);",
        "        wr(s, text);",
        "    }",
        '    printf("V%s\\n", s.s.c_str());',
        "}",
    ]
    return out


def _main(count: int) -> list[str]:
    table64 = ", ".join(f"idlc_h::m{k}<uint64_t>" for k in range(count))
    table32 = ", ".join(f"idlc_h::m{k}<uint32_t>" for k in range(count))
    return [
        "typedef void (*Fn)(char, bool, idlc_h::Tok &);",
        f"static const Fn T64[] = {{{table64 or '0'}}};",
        f"static const Fn T32[] = {{{table32 or '0'}}};",
        "int main() {",
        "    std::string line;",
        "    char buf[1 << 16];",
        "    while (fgets(buf, sizeof buf, stdin)) {",
        "        line += buf;",
        "        if (line.empty() || line[line.size() - 1] != '\\n') continue;",
        "        idlc_h::Tok t;",
        "        size_t a = 0;",
        "        while (a < line.size()) {",
        '            size_t b = line.find_first_of(" \\n", a);',
        "            if (b == std::string::npos) b = line.size();",
        "            if (b > a) t.t.push_back(line.substr(a, b - a));",
        "            a = b + 1;",
        "        }",
        "        line.clear();",
        "        std::string op = t.next();",
        "        bool w64 = t.u() == 64;",
        "        size_t k = t.u();",
        '        bool reply = t.next() == "p";',
        f'        if (k >= {count}u) {{ printf("B method\\n"); fflush(stdout); continue; }}',
        "        (w64 ? T64 : T32)[k](op[0], reply, t);",
        "        fflush(stdout);",
        "    }",
        "    return 0;",
        "}",
    ]
