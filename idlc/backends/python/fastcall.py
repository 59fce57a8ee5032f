"""The fixed shape of a portal call (docs/python-backend.md, "Fixed-size calls").

A two-way method whose request and successful reply are each one run of scalars (plain
numbers, booleans, chars, enums, bitmasks and structs of them: no strings, sequences,
arrays, optionals, unions or capabilities) has one size per architecture. For it the
generated stub calls ``Kernel.call_fixed`` with one precompiled Struct each way, and the
skeleton answers the request from the UTCB with one ``unpack_from`` and one
``pack_into``. Every check of the general codecs stays: a value the fast path does not
take (a failed check, a wrong word count, an error reply) goes to the general code,
which gives the exact error.
"""

from __future__ import annotations

import re

from idlc import ir
from idlc.backends.python import marshal as M
from idlc.backends.python.names import parameter_names

_SNAN32 = re.compile(r" and _c\.snan32\([^()]*\)")
# the untyped words an empty UTCB frame holds (WIRE.md §1): 253 on x86_64, 509 on x86_32
_ROOM = {8: 253, 4: 509}


class Shape:
    """The fast path of one method on one architecture; strings are Python source."""

    def __init__(self) -> None:
        # Structs: the request as packed (rq) and unpacked (rq_in), opcode first; the
        # successful reply as packed (rp_out) and unpacked (rp), status 0 first
        self.rq = self.rq_in = self.rp = self.rp_out = ""
        self.args = ""  # the client's call_fixed arguments after rq and rp
        self.send_if = ""  # what the client's arguments must satisfy ("" = always)
        self.plain = False  # the arguments are names and numbers only
        self.words_in = 0
        self.op = ""  # a request of the opcode alone: the kernel writes it (this word)
        self.words_out = 0
        self.mr0 = 0  # byte offset of mr[0] in the UTCB page
        # client: the reply tuple _fr -> (unpacking line or "", rejecting condition or "",
        # returned expression)
        self.unpack_reply = ""
        self.reply_bad = ""
        self.result = ""
        # skeleton: unpacking line, rejecting condition, the implementation's arguments
        self.unpack_request = ""
        self.request_bad = ""
        self.impl_args = ""
        # skeleton: what the result r must satisfy, and the reply Struct's arguments
        self.reply_if = ""
        self.reply_args = ""


def shape(
    ctx: M.Context,
    refs: M.Refs,
    arch: str,
    m: ir.Method,
    in_fields: list[ir.Field],
    out_fields: list[ir.Field],
) -> Shape | None:
    """The fixed shape of ``m`` on ``arch``, or None when it has none."""
    if m.oneway:
        return None
    w = M.ARCH_WORD[arch]
    outs = ["_r"] if len(out_fields) == 1 else [f"_r[{k}]" for k in range(len(out_fields))]
    try:
        py = parameter_names(m)
        fmt, args, ok = _encode(
            ctx, refs, arch, m.opcode, in_fields, [py[f.name] for f in in_fields]
        )
        rfmt, rargs, rok = _encode(ctx, refs, arch, 0, out_fields, outs)
        dfmt, fields, bad, exprs = _decode(ctx, refs, arch, in_fields)
        rdfmt, rfields, rbad, rexprs = _decode(ctx, refs, arch, out_fields)
    except _NotFixed:
        return None
    s = Shape()
    s.mr0 = M._HDR * w
    s.words_in = M.struct_size(fmt) // w
    s.words_out = M.struct_size(rfmt) // w
    # Rebuilding a rejected reply's bytes from its values (for the exact error) is exact
    # for every format but float32, whose signalling NaNs the conversion would quiet.
    if max(s.words_in, s.words_out) > _ROOM[w] or "f" in rdfmt:
        return None
    s.rq, s.rp = ctx.gen.struct(fmt), ctx.gen.struct(rdfmt)
    s.rp_out = ctx.gen.struct(rfmt)
    s.args = ", ".join(args)
    s.send_if = M.all_of(ok)
    # plain names and numbers cannot raise: no need to evaluate them apart from the call
    s.plain = not ok and all(re.fullmatch(r"[A-Za-z_]\w*|-?\d+", a) for a in args)
    if s.words_in == 1 and args == [str(m.opcode)]:
        s.op = args[0]
    # the reply's first value is its status, 0 (the kernel checked it)
    values = rfields[1:]
    if not rbad and rexprs == values:
        s.result = {0: "None", 1: "_fr[1]"}.get(len(values), "_fr[1:]")
    else:
        s.unpack_reply = f"{', '.join(rfields)}{',' if len(rfields) == 1 else ''} = _fr"
        s.reply_bad = M.any_of(rbad)
        s.result = _tuple(rexprs)
    # The stub's expressions run among the method's parameters, which may be named like
    # a class they build (``Point at(in long Point)``): ``refs`` names the module's
    # classes by their private aliases (generator.InsideRefs), which no parameter shadows.
    # the request's opcode was matched by the dispatch: skipped, not unpacked
    del fields[0]
    if fields:
        s.rq_in = ctx.gen.struct(f"<{w}x{dfmt[2:]}")
        s.unpack_request = (
            f"{', '.join(fields) if len(fields) > 1 else f'({fields[0]},)'} = "
            f"{s.rq_in}.unpack_from(_u.buf, {M._HDR * w})"
        )
    s.request_bad = M.any_of(bad)
    s.impl_args = ", ".join(exprs)
    s.reply_if = M.all_of(rok)
    plain = not rok and len(outs) > 1 and rargs[1:] == outs
    s.reply_args = "0, *_r" if plain else ", ".join(rargs)
    return s


def _tuple(exprs: list[str]) -> str:
    if not exprs:
        return "None"
    if len(exprs) == 1:
        return exprs[0]
    return f"({', '.join(exprs)})"


class _NotFixed(Exception):
    pass


def _encode(
    ctx: M.Context, refs: M.Refs, arch: str, first: int, fields: list[ir.Field], xs: list[str]
) -> tuple[str, list[str], list[str]]:
    """(Struct format, values, conditions they must meet) of the word ``first`` and the
    fields (values ``xs``) as one run; raises _NotFixed if they are not one run."""
    enc = M.Encoder(ctx, refs, arch)
    enc.const_word(first)
    for f, x in zip(fields, xs, strict=True):
        if f.optional or not ctx.flat_fixed(f.type):
            raise _NotFixed
        enc.value(f.type, x, f.name, f.translate, 0x1F if f.rights is None else f.rights)
    if enc.lines or enc.calls:
        raise _NotFixed
    fmt = "<" + "".join(fm for fm, _, _, _ in enc.run)
    values = [v for _, v, _, _ in enc.run]
    ok = [M._negate(M._cond(line)) for _, _, _, pre in enc.run for line in pre]
    return fmt, values, ok


def _decode(
    ctx: M.Context, refs: M.Refs, arch: str, fields: list[ir.Field]
) -> tuple[str, list[str], list[str], list[str]]:
    """(Struct format, variables of the unpacked values, conditions that reject them, the
    fields' expressions) of a leading word and the fields as one run."""
    dec = M.Decoder(ctx, refs, arch)
    dec.add("Q" if dec.w == 8 else "I", 1, 1, [])  # the opcode or status: checked before
    exprs = [dec.value(f.type, f.name, f.translate) for f in fields]
    if dec.lines:
        raise _NotFixed
    fmt = "<" + "".join(fm for fm, _, _ in dec.run)
    names = [v for _, vs, _ in dec.run for v in vs]
    # any NaN takes the general path, whose decoder tells signalling NaNs apart
    bad = [_SNAN32.sub("", M._cond(line)) for _, _, checks in dec.run for line in checks]
    return fmt, names, bad, exprs
