"""`idlc wire --backend cxx`: the same command as the Python backend's (idlc/backends/python/
wire.py), with the words made and checked by the generated C++ (docs/cxx-backend.md).

JSON is read with the Python backend's converter (so "bad input" means the same), into
plain values that go to a compiled harness as tokens; the harness encodes or decodes with
the generated codecs and answers in tokens, which become JSON again here. The harness is
compiled once per content (generated headers, support headers, compiler) into a cache
directory: $IDLC_CXX_CACHE, else $XDG_CACHE_HOME/idlc/cxx, else ~/.cache/idlc/cxx.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
import subprocess
import tempfile
from typing import Any

from idlc import ir
from idlc.backends.python.jsonvalue import (
    Converter,
    JsonError,
    f32_shortest,
    find_method,
    message_fields,
    message_from_json,
)
from idlc.backends.python.names import enumerator_names, field_names

COMPILER = os.environ.get("CXX", "g++")
FLAGS = ["-std=c++11", "-O1", "-Wall", "-Wextra", "-Werror"]


class BuildError(Exception):
    """The harness did not compile (a bug of the generator, or no compiler)."""


def cache_dir() -> str:
    where = os.environ.get("IDLC_CXX_CACHE")
    if where:
        return where
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "idlc", "cxx")


def _support_text() -> str:
    from idlc.backends.cxx import INCLUDE

    parts = []
    for root, _, names in sorted(os.walk(INCLUDE)):
        for name in sorted(names):
            with open(os.path.join(root, name), encoding="utf-8") as f:
                parts.append(name + "\n" + f.read())
    return "\n".join(parts)


def _compiler_id() -> str:
    try:
        return subprocess.run(
            [COMPILER, "--version"], capture_output=True, text=True, check=False
        ).stdout
    except OSError as e:
        raise BuildError(f"no C++ compiler '{COMPILER}': {e}") from None


def build(spec: ir.Specification, files: dict[str, str]) -> str:
    """The harness binary for ``spec`` (whose headers are ``files``), compiled if the
    cache does not hold it yet."""
    from idlc.backends.cxx import INCLUDE
    from idlc.backends.cxx.harness import source

    main = source(spec, list(files))
    h = hashlib.sha256()
    for part in (main, *sorted(files.items()), _support_text(), _compiler_id(), *FLAGS):
        h.update(str(part).encode())
    where = os.path.join(cache_dir(), h.hexdigest()[:32])
    exe = os.path.join(where, "harness")
    if os.path.exists(exe):
        return exe
    os.makedirs(where, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(where, name), "w", encoding="utf-8") as f:
            f.write(text)
    src = os.path.join(where, "harness.cpp")
    with open(src, "w", encoding="utf-8") as f:
        f.write(main)
    fd, tmp = tempfile.mkstemp(dir=where, prefix="harness.")
    os.close(fd)
    cmd = [COMPILER, *FLAGS, "-I", INCLUDE, "-I", os.path.join(INCLUDE, "nre"), src, "-o", tmp]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        os.unlink(tmp)
        raise BuildError(f"the harness does not compile ({src}):\n{run.stderr[:4000]}")
    os.replace(tmp, exe)  # atomic: a concurrent build of the same content is no clash
    return exe


# --- values: the converter's output, without generated Python classes ---------------------


class _Enum:
    def __init__(self, names: dict[str, str], values: dict[str, int]) -> None:
        for idl, py in names.items():
            setattr(self, py, values[idl])


class _Flags(_Enum):
    def __call__(self, v: int) -> int:
        return v


class _Record:
    def __init__(self, py_to_idl: dict[str, str]) -> None:
        self.py_to_idl = py_to_idl

    def __call__(self, **kwargs: Any) -> dict[str, Any]:
        return {self.py_to_idl[k]: v for k, v in kwargs.items()}


class _UnionCls:
    def __call__(self, d: Any, v: Any) -> tuple[Any, Any]:
        return (d, v)


class _FloatBits:
    """A float or double as its bits: a signalling NaN would not survive a Python float."""

    def __init__(self, bits: int) -> None:
        self.bits = bits


class _Conv(Converter):
    def _prim_in(self, kind: str, j: Any, path: str) -> Any:
        if kind in ("float", "double") and isinstance(j, dict) and set(j) == {"bits"}:
            v = super()._prim_in(kind, j, path)  # checks the hex and the width
            return _FloatBits(int(j["bits"], 16))
        v = super()._prim_in(kind, j, path)
        if kind == "float":
            return _FloatBits(struct.unpack("<I", struct.pack("<f", v))[0])
        if kind == "double":
            return _FloatBits(struct.unpack("<Q", struct.pack("<d", v))[0])
        return v


def _classes(spec: ir.Specification) -> Any:
    def cls(name: str) -> Any:
        d = spec.lookup(name)
        if isinstance(d, ir.Enum):
            return _Enum(enumerator_names(d), {e.name: e.value for e in d.enumerators})
        if isinstance(d, ir.Bitmask):
            return _Flags(enumerator_names(d), {f.name: 1 << f.value for f in d.flags})
        if isinstance(d, ir.Struct | ir.Exception_):
            return _Record({py: idl for idl, py in field_names(spec, d).items()})
        return _UnionCls()

    return cls


_RANGES = {
    "int8": (-(2**7), 2**7),
    "uint8": (0, 2**8),
    "octet": (0, 2**8),
    "int16": (-(2**15), 2**15),
    "uint16": (0, 2**16),
    "int32": (-(2**31), 2**31),
    "uint32": (0, 2**32),
    "int64": (-(2**63), 2**63),
    "uint64": (0, 2**64),
}


class Refused(Exception):
    """A value the C++ types cannot hold ("cannot encode PATH: REASON")."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Codec:
    """Values <-> harness tokens for one specification, driven by the IR."""

    def __init__(self, spec: ir.Specification) -> None:
        self.spec = spec
        self.conv = _Conv(spec, _classes(spec))

    def resolve(self, t: ir.Type) -> Any:
        return self.conv.ctx.resolve(t)

    # -- to tokens --

    def tokens(self, t: ir.Type, v: Any, path: str, out: list[str], optional: bool = False) -> None:
        if optional:
            out.append("0" if v is None else "1")
            if v is None:
                return
        r = self.resolve(t)
        if isinstance(r, ir.Primitive):
            self._prim(r.kind, v, path, out)
        elif isinstance(r, ir.String):
            if r.wide:
                out.append(str(len(v)))
                out += [str(ord(c)) for c in v]
            else:
                b = v.encode("utf-8")
                out += [str(len(b)), b.hex() or "-"]
        elif isinstance(r, ir.Sequence | ir.Array):
            el, n = self._shape(r)
            if isinstance(v, bytes | bytearray):
                v = list(v)
            if isinstance(r, ir.Sequence):
                out.append(str(len(v)))
            elif len(v) != n:
                raise Refused(path, f"expected {n} elements, got {len(v)}")
            for i, e in enumerate(v):
                self.tokens(el, e, f"{path}[{i}]", out)
        elif isinstance(r, ir.Enum | ir.Bitmask):
            out.append(str(int(v)))
        elif isinstance(r, ir.Struct | ir.Exception_):
            fields = self.conv.ctx.struct_fields(r) if isinstance(r, ir.Struct) else r.fields
            for f in fields:
                self.tokens(f.type, v[f.name], _join(path, f.name), out, f.optional)
        elif isinstance(r, ir.Union_):
            d, val = v
            self.tokens(r.discriminator, d, _join(path, "_d"), out)
            case = self.conv._case(r, d)
            if case is not None:
                f = case.field
                self.tokens(f.type, val, _join(path, f.name), out, f.optional)
        elif isinstance(r, ir.Capability | ir.Interface):
            out.append(self._crd(v, path))
        else:
            raise JsonError(path, "unsupported type")

    def _shape(self, r: ir.Sequence | ir.Array) -> tuple[ir.Type, int]:
        if isinstance(r, ir.Sequence):
            return r.element, 0
        inner: ir.Type = r.element if len(r.dims) == 1 else ir.Array(r.element, r.dims[1:])
        return inner, r.dims[0]

    def _prim(self, kind: str, v: Any, path: str, out: list[str]) -> None:
        if kind == "boolean":
            out.append("1" if v else "0")
        elif kind in ("float", "double"):
            out.append(hex(v.bits))
        elif kind == "char":
            if ord(v) > 0xFF:
                raise Refused(path, f"{v!r} is not a Latin-1 character")
            out.append(str(ord(v)))
        elif kind == "wchar":
            out.append(str(ord(v)))
        else:
            lo, hi = _RANGES[kind]
            if not lo <= v < hi:
                raise Refused(path, f"{v} is out of range for {kind}")
            out.append(str(v))

    @staticmethod
    def _crd(v: Any, path: str) -> str:
        if v is None:
            return "0"
        base, order, rights = v.base, v.order, v.rights
        if not (0 <= order < 32 and 0 <= rights < 32 and base >= 0):
            raise Refused(path, f"invalid capability {v!r}")
        crd = base << 12 | order << 7 | rights << 2 | int(v.type)
        if crd >> 64:
            raise Refused(path, "does not fit a 64-bit word")
        return hex(crd)

    # -- from tokens --

    def value(self, t: ir.Type, it: Any, optional: bool = False) -> Any:
        if optional and next(it) == "0":
            return None
        r = self.resolve(t)
        if isinstance(r, ir.Primitive):
            return self._prim_out(r.kind, next(it))
        if isinstance(r, ir.String):
            n = int(next(it))
            if r.wide:
                return "".join(chr(int(next(it))) for _ in range(n))
            h = next(it)
            return bytes.fromhex("" if h == "-" else h).decode("utf-8")
        if isinstance(r, ir.Sequence | ir.Array):
            el, n = self._shape(r)
            if isinstance(r, ir.Sequence):
                n = int(next(it))
            items = [self.value(el, it) for _ in range(n)]
            octets = self.conv.ctx.octets(el)
            if octets and (isinstance(r, ir.Sequence) or len(r.dims) == 1):
                return {"bytes": bytes(items).hex()}
            return items
        if isinstance(r, ir.Enum):
            v = int(next(it))
            return next(e.name for e in r.enumerators if e.value == v)
        if isinstance(r, ir.Bitmask):
            v = int(next(it))
            return [f.name for f in r.flags if v & (1 << f.value)]
        if isinstance(r, ir.Struct | ir.Exception_):
            fields = self.conv.ctx.struct_fields(r) if isinstance(r, ir.Struct) else r.fields
            return {f.name: self.value(f.type, it, f.optional) for f in fields}
        if isinstance(r, ir.Union_):
            raw = _Peek(it)
            dj = self.value(r.discriminator, raw)
            out = {"_d": dj}
            case = self.conv._case(r, self._disc(r.discriminator, raw.seen))
            if case is not None:
                f = case.field
                out[f.name] = self.value(f.type, it, f.optional)
            return out
        if isinstance(r, ir.Capability | ir.Interface):
            c = int(next(it), 16)
            if c == 0:
                return None
            kind, key = {1: ("mem", "page"), 2: ("io", "port"), 3: ("object", "sel")}[c & 3]
            out = {"cap": kind, key: c >> 12}
            order = (c >> 7) & 0x1F
            if kind != "object" or order:
                out["order"] = order
            out["rights"] = (c >> 2) & 0x1F
            return out
        raise JsonError("", "unsupported type")

    def _disc(self, t: ir.Type, tokens: list[str]) -> Any:
        """The discriminator as the converter's _case compares it."""
        r = self.resolve(t)
        tok = tokens[0]
        if isinstance(r, ir.Primitive) and r.kind == "boolean":
            return tok == "1"
        if isinstance(r, ir.Primitive) and r.kind in ("char", "wchar"):
            return chr(int(tok))
        return int(tok)

    @staticmethod
    def _prim_out(kind: str, tok: str) -> Any:
        if kind == "boolean":
            return tok == "1"
        if kind in ("char", "wchar"):
            return chr(int(tok))
        if kind == "float":
            bits = int(tok, 16)
            v = struct.unpack("<f", struct.pack("<I", bits))[0]
            return _float_json(v, bits, 0x7FC00000, lambda: f32_shortest(v))
        if kind == "double":
            bits = int(tok, 16)
            v = struct.unpack("<d", struct.pack("<Q", bits))[0]
            return _float_json(v, bits, 0x7FF8 << 48, lambda: v)
        return int(tok)


def _float_json(v: float, bits: int, nan: int, finite: Any) -> Any:
    if math.isnan(v):
        return {"float": "nan"} if bits == nan else {"bits": hex(bits)}
    if math.isinf(v):
        return {"float": "inf" if v > 0 else "-inf"}
    return finite()


class _Peek:
    """An iterator that remembers what it gave (a union's discriminator tokens)."""

    def __init__(self, it: Any) -> None:
        self.it = it
        self.seen: list[str] = []

    def __iter__(self) -> _Peek:
        return self

    def __next__(self) -> str:
        tok: str = next(self.it)
        self.seen.append(tok)
        return tok


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


# --- the command -------------------------------------------------------------------------


class Harness:
    """A running harness of one specification; ask() sends one command line."""

    def __init__(self, spec: ir.Specification, files: dict[str, str]) -> None:
        from idlc.backends.cxx.harness import methods

        self.spec = spec
        self.exe = build(spec, files)
        self.codec = Codec(spec)
        self.index = {(i.name, m.name): k for k, (i, m) in enumerate(methods(spec))}
        self.proc: subprocess.Popen[str] | None = None

    def ask(self, line: str) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [self.exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise BuildError("the harness stopped")
        return answer.rstrip("\n")

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()  # type: ignore[union-attr]
            self.proc.wait()
            self.proc = None

    def head(
        self, op: str, arch: str, interface: str, method: str, direction: str
    ) -> tuple[ir.Method, str]:
        m = find_method(self.spec, interface, method)
        k = self.index[(interface.lstrip(":"), method)]
        w = "64" if arch == "x86_64" else "32"
        return m, f"{op} {w} {k} {'q' if direction == 'request' else 'p'}"

    def encode(
        self, arch: str, interface: str, method: str, direction: str, values: Any
    ) -> dict[str, Any]:
        """JSON values -> {"words", "items"}; raises JsonError, Refused or Rejected."""
        m, head = self.head("E", arch, interface, method, direction)
        toks: list[str] = []
        conv, codec = self.codec.conv, self.codec
        if not isinstance(values, dict):
            raise JsonError("", "expected a JSON object of values")
        if direction == "reply" and not m.oneway and "raises" in values:
            raises = values["raises"]
            if not isinstance(raises, str):
                raise JsonError("raises", "expected the scoped name of an exception")
            exc = self.spec.lookup(raises.lstrip(":"))
            if not isinstance(exc, ir.Exception_) or exc.name not in m.raises:
                raise JsonError("raises", f"'{raises}' is not raised by {method}")
            t = ir.Ref(exc.name, "exception")
            value = conv.from_json(t, values.get("value", {}), "value")
            toks += ["1", str(m.raises.index(exc.name))]
            codec.tokens(t, value, "value", toks)
        elif direction == "reply" and not m.oneway and "status" in values:
            status = values["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 1 <= status <= 19:
                raise JsonError("status", "expected an error status 1..19")
            message = values.get("message", "")
            if not isinstance(message, str):
                raise JsonError("message", "expected a string")
            conv.check_text(message, "message")
            b = message.encode("utf-8")
            toks += ["2", str(status), str(len(b)), b.hex() or "-"]
        else:
            fields = (
                message_fields(self.spec, m, direction)
                if not (m.oneway and direction == "reply")
                else []
            )
            names = {f.name for f in fields}
            for key in values:
                if key not in names:
                    raise JsonError(key, f"not a value of the {direction}")
            if direction == "reply" and not m.oneway:
                toks.append("0")
            for f in fields:
                if f.name not in values:
                    raise JsonError(f.name, "missing")
                codec.tokens(f.type, conv.from_json(f.type, values[f.name], f.name), f.name, toks)
        answer = self.ask(f"{head} {' '.join(toks)}")
        parts = answer.split(" ")
        if parts[0] == "X":
            where = "" if parts[1] == "-" else parts[1]
            raise Refused(where, " ".join(parts[2:]))
        if parts[0] != "W":
            raise BuildError(f"the harness answered {answer!r}")
        n = int(parts[1])
        words = parts[2 : 2 + n]
        ni = int(parts[2 + n])
        flat = parts[3 + n : 3 + n + 2 * ni]
        return {"words": words, "items": [[flat[2 * i], flat[2 * i + 1]] for i in range(ni)]}

    def decode(self, arch: str, interface: str, method: str, direction: str, data: Any) -> Any:
        """{"words", "items"} -> JSON values; raises JsonError or Rejected."""
        m, head = self.head("D", arch, interface, method, direction)
        words, items = message_from_json(data)
        bits = 64 if arch == "x86_64" else 32
        for i, w in enumerate(words):
            if w >> bits:
                raise JsonError(f"words[{i}]", f"does not fit a {bits}-bit word")
        for i, pair in enumerate(items):
            if any(x >> bits for x in pair):
                raise JsonError(f"items[{i}]", f"does not fit a {bits}-bit word")
        flat = [hex(x) for pair in items for x in pair]
        line = (
            f"{head} {len(words)} {' '.join(hex(w) for w in words)} {len(items)} {' '.join(flat)}"
        )
        answer = self.ask(line)
        parts = answer.split(" ")
        if parts[0] == "R":
            raise Rejected(parts[1], int(parts[2]), " ".join(parts[3:]))
        if parts[0] != "V":
            raise BuildError(f"the harness answered {answer!r}")
        it = iter(parts[1:])
        codec = self.codec
        if direction == "reply" and m.oneway:
            return {}
        if direction == "reply":
            kind = next(it)
            if kind == "1":
                exc = self.spec.lookup(m.raises[int(next(it))])
                assert exc is not None
                return {"raises": exc.name, "value": codec.value(ir.Ref(exc.name, "exception"), it)}
            if kind == "2":
                status = int(next(it))
                n = int(next(it))
                h = next(it)
                text = bytes.fromhex("" if h == "-" else h)[:n].decode("utf-8")
                return {"status": status, "message": text}
        fields = message_fields(self.spec, m, direction)
        return {f.name: codec.value(f.type, it) for f in fields}


class Rejected(Exception):
    """The words or items do not decode (WIRE.md §2): "does not decode: word N: REASON"."""

    def __init__(self, what: str, at: int, reason: str) -> None:
        super().__init__(f"{what} {at}: {reason}")


def run(
    harness: Harness,
    arch: str,
    interface: str,
    method: str,
    direction: str,
    decode: bool,
    text: str,
) -> tuple[int, str, str]:
    """One `idlc wire --backend cxx` run: (exit status, stdout, stderr), as the Python
    backend's wire.run."""
    from idlc.backends.python.wire import answer, parse_json

    def once() -> str:
        data = parse_json(text)
        if decode:
            return (
                json.dumps(
                    harness.decode(arch, interface, method, direction, data), ensure_ascii=False
                )
                + "\n"
            )
        return json.dumps(harness.encode(arch, interface, method, direction, data)) + "\n"

    return answer(once, decode, Refused, Rejected)
