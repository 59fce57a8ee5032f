"""Values as JSON (WIRE.md §5) <-> the generated Python values, driven by the IR.

Used by ``idlc wire`` and the conformance tests; generated code does not need it.
``JsonError`` names the path of a JSON value that does not fit its type.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

from idlc import ir
from idlc.backends.python import marshal as M
from idlc.backends.python.names import enumerator_names, field_names


class JsonError(ValueError):
    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def f32_round(x: Decimal | int | float, path: str) -> float:
    """Round a decimal straight to binary32, ties to even; finite values that round to
    infinity are an error (WIRE.md §5)."""
    if isinstance(x, float):
        x = Decimal(repr(x))
    if isinstance(x, Decimal):
        if not x.is_finite():
            raise JsonError(path, f"{x} is not a finite number")
        # Fraction(x) would compute 10**|exponent|: 1e999999999 must not take forever.
        # FLT_MAX is 3.4e38; half the smallest subnormal 7.0e-46 rounds to zero.
        if x and x.adjusted() > 38:
            raise JsonError(path, f"{x} rounds to infinity as a float")
        if x and x.adjusted() < -46:
            return -0.0 if x.is_signed() else 0.0
    q = Fraction(x)
    if q == 0:
        return -0.0 if isinstance(x, Decimal) and x.is_signed() else 0.0
    sign = -1.0 if q < 0 else 1.0
    a = abs(q)
    e = a.numerator.bit_length() - a.denominator.bit_length()
    if Fraction(2) ** e > a:
        e -= 1
    e = max(e, -126)
    scale = Fraction(2) ** (e - 23)
    m = round(a / scale)  # Fraction rounds half to even
    value = m * scale
    if value >= Fraction(2) ** 128 - Fraction(2) ** 103:
        raise JsonError(path, f"{x} rounds to infinity as a float")
    return sign * float(value)


def f32_shortest(v: float) -> float:
    """The float whose repr is the shortest decimal giving back v's binary32 bits."""
    bits = struct.pack("<f", v)
    for digits in range(1, 10):
        s = f"{v:.{digits}g}"
        try:  # rounding up may leave binary32's range (3.403e+38 for FLT_MAX)
            if struct.pack("<f", float(s)) == bits:
                return float(s)
        except OverflowError:
            continue
    return v


_NAN = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class Converter:
    """``cls(scoped name)`` gives the generated class of a declaration."""

    def __init__(self, spec: ir.Specification, cls: Callable[[str], Any]) -> None:
        self.spec = spec
        self.cls = cls
        self.ctx = M.Context(spec, M.Pools())

    # -- JSON -> Python --

    def from_json(self, t: ir.Type, j: Any, path: str = "", optional: bool = False) -> Any:
        if optional and j is None:
            return None
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Primitive):
            return self._prim_in(r.kind, j, path)
        if isinstance(r, ir.String):
            if not isinstance(j, str):
                raise JsonError(path, "expected a string")
            return self.check_text(j, path)
        if isinstance(r, ir.Sequence | ir.Array):
            if isinstance(r, ir.Array):
                el, dims = self.ctx.array_shape(r)
            else:
                el, dims = r.element, ()
            if isinstance(r, ir.Sequence) and self.ctx.octets(el) and not dims:
                return self._bytes_in(j, path)
            if isinstance(r, ir.Array) and self.ctx.octets(el) and len(dims) == 1:
                return self._bytes_in(j, path)
            if not isinstance(j, list):
                raise JsonError(path, "expected a list")
            inner: ir.Type
            if isinstance(r, ir.Sequence):
                inner = r.element
            else:
                inner = el if len(dims) == 1 else ir.Array(el, dims[1:])
            return [self.from_json(inner, e, f"{path}[{i}]") for i, e in enumerate(j)]
        if isinstance(r, ir.Enum):
            if not isinstance(j, str) or j not in {e.name for e in r.enumerators}:
                raise JsonError(path, f"expected an enumerator of {r.name}")
            return getattr(self.cls(r.name), enumerator_names(r)[j])
        if isinstance(r, ir.Bitmask):
            if not isinstance(j, list):
                raise JsonError(path, "expected a list of flag names")
            flags = self.cls(r.name)
            py = enumerator_names(r)
            v = flags(0)
            for name in j:
                if not isinstance(name, str) or name not in py:
                    raise JsonError(path, f"expected a list of flag names of {r.name}")
                v |= getattr(flags, py[name])
            return v
        if isinstance(r, ir.Struct):
            return self._fields_in(r, self.ctx.struct_fields(r), j, path)
        if isinstance(r, ir.Exception_):
            return self._fields_in(r, list(r.fields), j, path)
        if isinstance(r, ir.Union_):
            if not isinstance(j, dict) or "_d" not in j:
                raise JsonError(path, "expected an object with _d")
            d = self.from_json(r.discriminator, j["_d"], _join(path, "_d"))
            rest = [k for k in j if k != "_d"]
            case = self._case(r, d)
            if case is None:
                if rest:
                    raise JsonError(path, "the discriminator selects no member")
                return self.cls(r.name)(d, None)
            if rest != [case.field.name]:
                raise JsonError(path, f"expected member {case.field.name}")
            f = case.field
            v = self.from_json(f.type, j[f.name], _join(path, f.name), f.optional)
            return self.cls(r.name)(d, v)
        if isinstance(r, ir.Capability | ir.Interface):
            return self._cap_in(j, path)
        raise JsonError(path, "unsupported type")

    @staticmethod
    def check_text(j: str, path: str) -> str:
        """A JSON string that is Unicode text: JSON's escapes can spell a lone surrogate
        (`"\\ud800"`), which no string encodes."""
        if not j.isascii():
            try:
                j.encode("utf-8")
            except UnicodeEncodeError as e:
                raise JsonError(path, f"lone surrogate {j[e.start]!a} is not text") from None
        return j

    def _case(self, u: ir.Union_, d: Any) -> ir.UnionCase | None:
        default = None
        for c in u.cases:
            if c.is_default:
                default = c
            for lab in c.labels:
                value = lab.value if isinstance(lab, ir.EnumValue) else lab
                if d == value:
                    return c
        return default

    def _fields_in(
        self, d: ir.Struct | ir.Exception_, fields: list[ir.Field], j: Any, path: str
    ) -> Any:
        """The value of struct or exception ``d`` (its Python names: names.field_names)."""
        if not isinstance(j, dict):
            raise JsonError(path, "expected an object")
        names = {f.name for f in fields}
        for k in j:
            if k not in names:
                raise JsonError(_join(path, k), "no such member")
        kwargs = {}
        py = field_names(self.spec, d)
        for f in fields:
            if f.name not in j:
                raise JsonError(_join(path, f.name), "missing")
            kwargs[py[f.name]] = self.from_json(f.type, j[f.name], _join(path, f.name), f.optional)
        return self.cls(d.name)(**kwargs)

    def _bytes_in(self, j: Any, path: str) -> bytes:
        if not isinstance(j, dict) or set(j) != {"bytes"} or not isinstance(j["bytes"], str):
            raise JsonError(path, 'expected {"bytes": "hex"}')
        try:
            return bytes.fromhex(j["bytes"])
        except ValueError:
            raise JsonError(path, "invalid hex") from None

    def _cap_in(self, j: Any, path: str) -> Any:
        from runtime.crd import Crd, CrdType

        if j is None:
            return None
        if not isinstance(j, dict) or "cap" not in j:
            raise JsonError(path, "expected a capability object or null")
        kinds = {
            "object": (CrdType.OBJ, "sel"),
            "mem": (CrdType.MEM, "page"),
            "io": (CrdType.PIO, "port"),
        }
        if not isinstance(j["cap"], str) or j["cap"] not in kinds:
            raise JsonError(path, f"unknown capability kind {_show(j['cap'])}")
        typ, key = kinds[j["cap"]]
        for k in j:
            if k not in ("cap", key, "order", "rights"):
                raise JsonError(_join(path, k), f"not a member of a {j['cap']} capability")
        if key not in j:
            raise JsonError(path, f"capability needs an integer {key!r}")
        fields = [j[key], j.get("order", 0), j.get("rights", 0x1F)]
        for name, v in zip((key, "order", "rights"), fields, strict=True):
            if isinstance(v, bool) or not isinstance(v, int):
                raise JsonError(_join(path, name), "expected an integer")
        return Crd(typ, *fields)

    def _prim_in(self, kind: str, j: Any, path: str) -> Any:
        if kind == "boolean":
            if not isinstance(j, bool):
                raise JsonError(path, "expected true or false")
            return j
        if kind in ("char", "wchar"):
            if not isinstance(j, str) or len(j) != 1:
                raise JsonError(path, "expected a one-character string")
            return j
        if kind in ("float", "double"):
            if isinstance(j, dict):
                if set(j) == {"float"} and isinstance(j["float"], str) and j["float"] in _NAN:
                    return _NAN[j["float"]]
                if set(j) == {"bits"}:
                    width = 32 if kind == "float" else 64
                    bits = _hex(j["bits"], _join(path, "bits"))
                    if bits >> width:
                        raise JsonError(_join(path, "bits"), f"does not fit {width} bits")
                    if kind == "float":
                        return struct.unpack("<f", struct.pack("<I", bits))[0]
                    return struct.unpack("<d", struct.pack("<Q", bits))[0]
                raise JsonError(
                    path, 'expected a number, {"float": "nan"|"inf"|"-inf"} or {"bits": "0x..."}'
                )
            if isinstance(j, bool) or not isinstance(j, int | float | Decimal):
                raise JsonError(path, "expected a number")
            if kind == "float":
                return f32_round(j, path)
            if isinstance(j, Decimal) and not j.is_finite():
                raise JsonError(path, f"{j} is not a finite number")
            try:
                v = float(j)  # Decimal: correctly rounded; int: OverflowError beyond double
            except OverflowError:
                v = math.inf
            if math.isinf(v):
                raise JsonError(path, f"{j} rounds to infinity")
            return v
        if isinstance(j, bool) or not isinstance(j, int):
            raise JsonError(path, "expected an integer")
        return j

    # -- Python -> JSON --

    def to_json(self, t: ir.Type, v: Any, optional: bool = False) -> Any:
        if optional and v is None:
            return None
        r = self.ctx.resolve(t)
        if isinstance(r, ir.Primitive):
            if r.kind in ("float", "double"):
                return _float_out(v, r.kind)
            return v
        if isinstance(r, ir.String):
            return v
        if isinstance(r, ir.Sequence | ir.Array):
            if isinstance(v, bytes | bytearray):
                return {"bytes": bytes(v).hex()}
            if isinstance(r, ir.Array):
                el, dims = self.ctx.array_shape(r)
                inner: ir.Type = el if len(dims) == 1 else ir.Array(el, dims[1:])
            else:
                inner = r.element
            return [self.to_json(inner, e) for e in v]
        if isinstance(r, ir.Enum):  # the IDL name, not the Python one (`name_`, `from_`)
            return next(e.name for e in r.enumerators if e.value == int(v))
        if isinstance(r, ir.Bitmask):
            return [f.name for f in r.flags if int(v) & (1 << f.value)]
        if isinstance(r, ir.Struct | ir.Exception_):
            py = field_names(self.spec, r)
            fields = self.ctx.struct_fields(r) if isinstance(r, ir.Struct) else r.fields
            return {
                f.name: self.to_json(f.type, getattr(v, py[f.name]), f.optional) for f in fields
            }
        if isinstance(r, ir.Union_):
            out = {"_d": self.to_json(r.discriminator, v._d)}
            case = self._case(r, v._d)
            if case is not None:
                out[case.field.name] = self.to_json(case.field.type, v._v, case.field.optional)
            return out
        if isinstance(r, ir.Capability | ir.Interface):
            if v is None:
                return None
            kind, key = {1: ("mem", "page"), 2: ("io", "port"), 3: ("object", "sel")}[int(v.type)]
            out = {"cap": kind, key: v.base}
            if kind != "object" or v.order:
                out["order"] = v.order
            out["rights"] = v.rights
            return out
        raise JsonError("", "unsupported type")


def _float_out(v: float, kind: str) -> Any:
    if math.isnan(v):
        bits = struct.pack("<f" if kind == "float" else "<d", v)
        canonical = b"\x00\x00\xc0\x7f" if kind == "float" else struct.pack("<Q", 0x7FF8 << 48)
        if bits == canonical:
            return {"float": "nan"}
        return {"bits": hex(int.from_bytes(bits, "little"))}
    if math.isinf(v):
        return {"float": "inf" if v > 0 else "-inf"}
    return f32_shortest(v) if kind == "float" else v


# --- messages ---------------------------------------------------------------------------


def message_fields(spec: ir.Specification, method: ir.Method, direction: str) -> list[ir.Field]:
    """The values of a request (in/inout) or a successful reply (return, out/inout)."""
    if direction == "request":
        return [
            ir.Field(p.name, p.type, p.span) for p in method.params if p.mode in ("in", "inout")
        ]
    out = []
    if method.result is not None:
        out.append(ir.Field("return", method.result, method.span))
    out += [ir.Field(p.name, p.type, p.span) for p in method.params if p.mode in ("out", "inout")]
    return out


def find_method(spec: ir.Specification, interface: str, method: str) -> ir.Method:
    iface = spec.lookup(interface.lstrip(":"))
    if not isinstance(iface, ir.Interface):
        raise JsonError("", f"no interface '{interface}'")
    for m in iface.all_methods:
        if m.name == method:
            return m
    raise JsonError("", f"interface '{interface}' has no method '{method}'")


_HEX = re.compile(r"(0[xX])?[0-9a-fA-F]+")


def message_from_json(data: object) -> tuple[list[int], list[tuple[int, int]]]:
    """`{"words": ["0x..."], "items": [["0x...", "0x..."]]}` as the vectors write a
    message -> (words, items); JsonError names the entry that is not a hex string."""
    if not isinstance(data, dict) or set(data) != {"words", "items"}:
        raise JsonError("", 'expected {"words": [...], "items": [...]}')
    words, items = data["words"], data["items"]
    if not isinstance(words, list):
        raise JsonError("words", "expected a list")
    if not isinstance(items, list):
        raise JsonError("items", "expected a list")
    out: list[tuple[int, int]] = []
    for i, pair in enumerate(items):
        if not isinstance(pair, list) or len(pair) != 2:
            raise JsonError(f"items[{i}]", 'expected a pair ["0x...", "0x..."] (Crd, flags)')
        out.append((_hex(pair[0], f"items[{i}][0]"), _hex(pair[1], f"items[{i}][1]")))
    return [_hex(x, f"words[{i}]") for i, x in enumerate(words)], out


def _show(v: object) -> str:
    """A JSON value as the input spelled it (Decimal numbers included), for messages."""
    return str(v) if isinstance(v, Decimal) else json.dumps(v, default=str)


def _hex(text: object, path: str) -> int:
    if not isinstance(text, str) or not _HEX.fullmatch(text):
        raise JsonError(path, f'expected a hex string like "0x1f", got {_show(text)}')
    return int(text, 16)
