"""The IR as JSON (``idlc --emit ir``), for backends written in other languages.

The schema is docs/ir.md; ``ir.IR_VERSION`` is bumped on any change a consumer could
trip over. Output order is IR order (declarations in source order, members in declaration
order), so a dump is stable and diffs well; every value is a plain JSON value, so
``json.loads(dumps(spec)) == to_json(spec)``.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from idlc import ir
from idlc.layout import compute_sizes
from idlc.source import Span

Json = dict[str, Any]

_CANONICAL_NAN_BITS = 0x7FF8000000000000


def dumps(spec: ir.Specification, *, indent: int | None = 2) -> str:
    return json.dumps(to_json(spec), indent=indent, ensure_ascii=False, allow_nan=False) + "\n"


def to_json(spec: ir.Specification) -> Json:
    sizes = spec.sizes or compute_sizes(spec)
    return {
        "ir_version": ir.IR_VERSION,
        "main_file": spec.main_file,
        "files": list(spec.files),
        "declarations": [declaration(d) for d in spec.declarations],
        "pragmas": [{"name": p.name, "args": p.args, "loc": loc(p.span)} for p in spec.pragmas],
        "sizes": {
            arch: {
                iface: {
                    name: {"request": message_size(req), "reply": message_size(rep)}
                    for name, (req, rep) in methods.items()
                }
                for iface, methods in per_arch.items()
            }
            for arch, per_arch in sizes.items()
        },
    }


def loc(span: Span) -> Json:
    return {"file": span.file, "line": span.line, "col": span.col}


def message_size(size: ir.MessageSize | None) -> Json | None:
    if size is None:
        return None
    return {
        "min_words": size.min_words,
        "max_words": size.max_words,
        "min_items": size.min_items,
        "max_items": size.max_items,
    }


# --- types ---------------------------------------------------------------------------


def type_(t: ir.Type) -> Json:
    if isinstance(t, ir.Primitive):
        return {"primitive": t.kind}
    if isinstance(t, ir.String):
        return {"string": {"wide": t.wide, "bound": t.bound}}
    if isinstance(t, ir.Sequence):
        return {"sequence": {"element": type_(t.element), "bound": t.bound}}
    if isinstance(t, ir.Array):
        return {"array": {"element": type_(t.element), "dims": list(t.dims)}}
    if isinstance(t, ir.Map):
        return {"map": {"key": type_(t.key), "value": type_(t.value), "bound": t.bound}}
    if isinstance(t, ir.Fixed):
        return {"fixed": {"digits": t.digits, "scale": t.scale}}
    if isinstance(t, ir.Ref):
        return {"ref": t.name, "kind": t.kind}
    if isinstance(t, ir.Capability):
        return {"capability": t.kind}
    return {"opaque": t.construct}


def optional_type(t: ir.Type | None) -> Json | None:
    return None if t is None else type_(t)


# --- values --------------------------------------------------------------------------


def value(v: ir.ConstValue) -> Any:
    if isinstance(v, ir.EnumValue):
        return {"enum": v.enum, "name": v.name, "value": v.value}
    if isinstance(v, float):
        if math.isnan(v):
            bits: int = struct.unpack("<Q", struct.pack("<d", v))[0]
            if bits & ~(1 << 63) == _CANONICAL_NAN_BITS:
                return {"float": "nan"}
            return {"bits": f"0x{bits:016x}"}
        if math.isinf(v):
            return {"float": "inf" if v > 0 else "-inf"}
    return v  # bool, int, finite float, str (also fixed as decimal text)


def annotation_list(anns: tuple[ir.Annotation, ...]) -> list[Json]:
    return [{"name": a.name, "args": {k: value(v) for k, v in a.args}} for a in anns]


# --- declarations --------------------------------------------------------------------


def field(f: ir.Field) -> Json:
    return {
        "name": f.name,
        "type": type_(f.type),
        "loc": loc(f.span),
        "optional": f.optional,
        "translate": f.translate,
        "rights": f.rights,
        "max_order": f.max_order,
        "annotations": annotation_list(f.annotations),
        "doc": f.doc,
    }


def enumerator(e: ir.Enumerator) -> Json:
    return {"name": e.name, "value": e.value, "loc": loc(e.span), "doc": e.doc}


def param(p: ir.Param) -> Json:
    return {
        "name": p.name,
        "mode": p.mode,
        "type": type_(p.type),
        "loc": loc(p.span),
        "translate": p.translate,
        "rights": p.rights,
        "max_order": p.max_order,
        "annotations": annotation_list(p.annotations),
    }


def method(m: ir.Method) -> Json:
    return {
        "name": m.name,
        "kind": m.kind,
        "interface": m.interface,
        "fid": m.fid,
        "opcode": m.opcode,
        "oneway": m.oneway,
        "result": optional_type(m.result),
        "params": [param(p) for p in m.params],
        "raises": list(m.raises),
        "loc": loc(m.span),
        "annotations": annotation_list(m.annotations),
        "doc": m.doc,
    }


def declaration(d: ir.Declaration) -> Json:
    out: Json = {
        "kind": d.kind,
        "name": d.name,
        "loc": loc(d.span),
        "annotations": annotation_list(d.annotations),
        "doc": d.doc,
    }
    out.update(_members(d))
    return out


def _members(d: ir.Declaration) -> Json:
    if isinstance(d, ir.Const):
        return {"type": type_(d.type), "value": value(d.value)}
    if isinstance(d, ir.Struct):
        return {"base": d.base, "fields": [field(f) for f in d.fields]}
    if isinstance(d, ir.Union_):
        return {
            "discriminator": type_(d.discriminator),
            "cases": [
                {
                    "labels": [value(v) for v in c.labels],
                    "default": c.is_default,
                    "field": field(c.field),
                }
                for c in d.cases
            ],
            "implicit_default": d.implicit_default,
        }
    if isinstance(d, ir.Enum):
        return {"enumerators": [enumerator(e) for e in d.enumerators]}
    if isinstance(d, ir.Bitmask):
        return {"bit_bound": d.bit_bound, "flags": [enumerator(e) for e in d.flags]}
    if isinstance(d, ir.Bitset):
        return {
            "base": d.base,
            "fields": [{"name": b.name, "width": b.width, "type": type_(b.type)} for b in d.fields],
        }
    if isinstance(d, ir.Typedef):
        return {"type": type_(d.type)}
    if isinstance(d, ir.Exception_):
        return {"exception_id": d.exception_id, "fields": [field(f) for f in d.fields]}
    if isinstance(d, ir.Interface):
        return {
            "interface_kind": d.interface_kind,
            "iid": d.iid,
            "bases": list(d.bases),
            "methods": [method(m) for m in d.methods],
            # Each served method once, by reference: its full form is in the "methods"
            # of the interface that declares it.
            "all_methods": [
                {"interface": m.interface, "name": m.name, "opcode": m.opcode}
                for m in d.all_methods
            ],
        }
    if isinstance(d, ir.Unsupported):
        return {"construct": d.construct}
    return {}  # module, native: nothing beyond the common keys
