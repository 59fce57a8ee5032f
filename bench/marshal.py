"""Marshalling benchmark (pyperf): one round trip per message, idlc against its peers.

A round trip starts from plain Python values (tuples, lists, ints, floats, str, bool),
builds the system's message objects, encodes, decodes, and reads every field back as
plain values, so a lazy decoder pays for its laziness. Before any timing, every round
trip is checked once: the values it gives back equal the input (types included), and
the two WIRE.md codecs (`struct`, `idlc`) produce exactly the words WIRE.md prescribes
for x86_64.

Systems (rows of the table, keys of the JSON):
  idlc      the generated code of `idlc -l python` for bench/bench.idl, encoding into a
            UTCB frame (runtime.utcb); "unavailable" until the backend exists
  struct    the floor: a hand-written `struct.Struct` codec for the same dataclasses,
            producing the same WIRE.md words and decoding as strictly
  pickle    pickle.dumps/loads of the plain values (no typed objects)
  msgpack   msgpack of the plain values as positional arrays (no typed objects)
  pickle-typed, msgpack-typed
            the race of a user who wants typed messages: the same dataclasses as idlc's
            (built from the plain values, read back field by field), converted by hand to
            the fastest form of pickle/msgpack (positional tuples of the fields) to
            encode, and built again from what decodes
  protobuf  upb message classes built at run time from a FileDescriptorProto
  pycdr2    pycdr2 IdlStruct classes with bounded strings and sequences (XCDR)

    python bench/marshal.py                 # table: ns per round trip, ratio to `struct`
    python bench/marshal.py --quick --json  # < 1 min, {message: {system: ns}}
    python bench/marshal.py --systems struct,idlc --messages Call
"""

from __future__ import annotations

import contextlib
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import starmap
from operator import attrgetter
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyperf

REPO = Path(__file__).resolve().parent.parent
IDL = REPO / "bench" / "bench.idl"

# --------------------------------------------------------------------------------------
# The messages (issue 4), as plain values in member order.

SMALL = (0xDEADBEEF, -1234567890123, True)
CALL = (42, "open_file_handle", [7, -1, 1000, -1000, 2**31 - 1, -(2**31), 123456, 0], True)
NESTED = (
    (2**40 + 7, 200),
    [(i * 0.5 + 0.1, -i * 1.25 - 0.3) for i in range(32)],
    "benchmark-label-" + "x" * 48,
)
MESSAGES: dict[str, Any] = {"Small": SMALL, "Call": CALL, "Nested": NESTED}
SYSTEMS = (
    "idlc",
    "struct",
    "pickle",
    "msgpack",
    "protobuf",
    "pycdr2",
    "pickle-typed",
    "msgpack-typed",
)
FLOOR = "struct"

RoundTrip = Callable[[Any], Any]

_XY = attrgetter("x", "y")  # a Point read back as a plain (x, y) tuple


class Unavailable(Exception):
    """A system that cannot run here (package missing, backend not written yet)."""


# --------------------------------------------------------------------------------------
# WIRE.md words for x86_64, written out from the rules (WIRE §3), independently of the
# codecs: each codec's output is compared with these before anything is timed.


def _le(data: bytes) -> list[int]:
    data += bytes(-len(data) % 8)
    return [int.from_bytes(data[i : i + 8], "little") for i in range(0, len(data), 8)]


def _string_words(s: str) -> list[int]:
    raw = s.encode()
    return [len(raw), *_le(raw)]


def _double_word(x: float) -> int:
    return int.from_bytes(struct.pack("<d", x), "little")


def expected_words(message: str) -> list[int]:
    u64 = (1 << 64) - 1
    if message == "Small":
        a, b, c = SMALL
        return [a, b & u64, int(c)]
    if message == "Call":
        opcode, name, values, flag = CALL
        run = b"".join((v & 0xFFFFFFFF).to_bytes(4, "little") for v in values)
        return [opcode, *_string_words(name), len(values), *_le(run), int(flag)]
    (ident, prio), points, label = NESTED
    pts = [_double_word(v) for p in points for v in p]
    return [ident, prio, len(points), *pts, *_string_words(label)]


def words_of(data: bytes | bytearray | memoryview) -> list[int]:
    data = bytes(data)
    if len(data) % 8:
        raise AssertionError(f"{len(data)} bytes are not whole words")
    return list(struct.unpack(f"<{len(data) // 8}Q", data))


# --------------------------------------------------------------------------------------
# The dataclasses: idlc's generated ones when the backend is there, otherwise the same
# shape written out (`@dataclass(slots=True)`, IDL member names, declaration order).


@dataclass(slots=True)
class _Small:
    a: int = 0
    b: int = 0
    c: bool = False


@dataclass(slots=True)
class _Call:
    opcode: int = 0
    name: str = ""
    values: list[int] = field(default_factory=list)
    flag: bool = False


@dataclass(slots=True)
class _Head:
    id: int = 0
    prio: int = 0


@dataclass(slots=True)
class _Point:
    x: float = 0.0
    y: float = 0.0


@dataclass(slots=True)
class _Nested:
    head: _Head = field(default_factory=_Head)
    points: list[_Point] = field(default_factory=list)
    label: str = ""


def dataclasses_for(gen: Any | None) -> SimpleNamespace:
    src: Any = gen if gen is not None else None
    names = ("Small", "Call", "Head", "Point", "Nested")
    if src is None:
        local = (_Small, _Call, _Head, _Point, _Nested)
        return SimpleNamespace(**dict(zip(names, local, strict=True)), origin="bench/marshal.py")
    return SimpleNamespace(**{n: getattr(src, n) for n in names}, origin="idlc")


# --------------------------------------------------------------------------------------
# Typed round trips: the same build and read-back code for every system whose message
# objects are dataclass-like with positional constructors (struct, idlc, pycdr2).


@dataclass(frozen=True, slots=True)
class Codec:
    """encode(obj) -> buffer, decode(buffer) -> obj, one pair per top-level message."""

    enc_small: Callable[[Any], Any]
    dec_small: Callable[[Any], Any]
    enc_call: Callable[[Any], Any]
    dec_call: Callable[[Any], Any]
    enc_nested: Callable[[Any], Any]
    dec_nested: Callable[[Any], Any]
    # words (bytes) -> what the decoders take (for the rejection check); None: bytes
    load: Callable[[bytes], Any] | None = None
    # the frame the encoders take as their second argument (idlc's _fe_T_64(value, frame));
    # None: they take the object alone
    frame: Any = None

    def encode(self, enc: Callable[..., Any], obj: Any) -> Any:
        return enc(obj) if self.frame is None else enc(obj, self.frame)


def typed_round_trips(cls: SimpleNamespace, codec: Codec) -> dict[str, RoundTrip]:
    Small, Call, Head, Point, Nested = cls.Small, cls.Call, cls.Head, cls.Point, cls.Nested
    enc_small, dec_small = codec.enc_small, codec.dec_small
    enc_call, dec_call = codec.enc_call, codec.dec_call
    enc_nested, dec_nested = codec.enc_nested, codec.dec_nested
    xy = _XY
    if codec.frame is not None:
        return frame_round_trips(cls, codec)

    def small(v: Any) -> Any:
        a, b, c = v
        m = dec_small(enc_small(Small(a, b, c)))
        return (m.a, m.b, m.c)

    def call(v: Any) -> Any:
        opcode, name, values, flag = v
        m = dec_call(enc_call(Call(opcode, name, values, flag)))
        return (m.opcode, m.name, m.values, m.flag)

    def nested(v: Any) -> Any:
        (ident, prio), points, label = v
        m = dec_nested(enc_nested(Nested(Head(ident, prio), list(starmap(Point, points)), label)))
        h = m.head
        return ((h.id, h.prio), list(map(xy, m.points)), m.label)

    return {"Small": small, "Call": call, "Nested": nested}


def frame_round_trips(cls: SimpleNamespace, codec: Codec) -> dict[str, RoundTrip]:
    """typed_round_trips for encoders that take a frame: the same build and read-back
    code, the encoder called with the frame as its second argument, as a caller holding
    its UTCB calls it. (A closure `lambda m: fe(m, frame)` in the Codec would cost every
    round trip one more Python call, which neither the floor nor a real caller makes.)"""
    Small, Call, Head, Point, Nested = cls.Small, cls.Call, cls.Head, cls.Point, cls.Nested
    enc_small, dec_small = codec.enc_small, codec.dec_small
    enc_call, dec_call = codec.enc_call, codec.dec_call
    enc_nested, dec_nested = codec.enc_nested, codec.dec_nested
    xy, f = _XY, codec.frame

    def small(v: Any) -> Any:
        a, b, c = v
        m = dec_small(enc_small(Small(a, b, c), f))
        return (m.a, m.b, m.c)

    def call(v: Any) -> Any:
        opcode, name, values, flag = v
        m = dec_call(enc_call(Call(opcode, name, values, flag), f))
        return (m.opcode, m.name, m.values, m.flag)

    def nested(v: Any) -> Any:
        (ident, prio), points, label = v
        m = dec_nested(
            enc_nested(Nested(Head(ident, prio), list(starmap(Point, points)), label), f)
        )
        h = m.head
        return ((h.id, h.prio), list(map(xy, m.points)), m.label)

    return {"Small": small, "Call": call, "Nested": nested}


# --------------------------------------------------------------------------------------
# struct: the floor. Hand-written for these three messages: one precompiled Struct per
# shape (string and sequence lengths select it), packed runs, one pack call per message
# and as few unpack calls as the length words allow. It decodes as strictly as WIRE.md
# §2 asks: exact size, zero bytes above each scalar and in padding, booleans 0/1, bounds
# checked before the elements, strict UTF-8.


class FloorError(ValueError):
    """A value the floor codec cannot encode, or words it does not accept."""


def _pad8(n: int) -> int:
    return (n + 7) & ~7


_ZEROS = [bytes(i) for i in range(8)]
_Q = struct.Struct("<Q")

# Small: a (uint32 in a word), b (int64 word), c (boolean word).
_SMALL_ENC = struct.Struct("<I4xq?7x")
_SMALL_DEC = struct.Struct("<IIqQ")

# Call: opcode word, string<16> (length word, bytes padded), sequence<int32, 8> (length
# word, packed int32 run padded), boolean word. Indexed [name bytes][element count].
_CALL_ENC = [
    [struct.Struct(f"<I4xQ{_pad8(n)}sQ{k}i{'4x' if k & 1 else ''}?7x") for k in range(9)]
    for n in range(17)
]
# decode: (opcode, hi, n, name, name padding, k, *values, [run padding], flag)
_CALL_DEC = [
    [
        (
            struct.Struct(f"<IIQ{n}s{_pad8(n) - n}sQ{k}i{'I' if k & 1 else ''}Q"),
            _ZEROS[_pad8(n) - n],
            6 + k,
        )
        for k in range(9)
    ]
    for n in range(17)
]

# Nested: Head (id word, prio uint8 word), sequence<Point, 32> (length word, then x and y
# words of each point), string<64>. Encoding indexed [points][padded label words].
_NESTED_ENC = [[struct.Struct(f"<QB7xQ{2 * k}dQ{8 * w}s") for w in range(9)] for k in range(33)]
_NESTED_HEAD = struct.Struct("<QQQ")
_POINT = struct.Struct("<dd")


def struct_codec(cls: SimpleNamespace) -> Codec:
    Small, Call, Head, Point, Nested = cls.Small, cls.Call, cls.Head, cls.Point, cls.Nested
    small_pack, small_unpack = _SMALL_ENC.pack, _SMALL_DEC.unpack
    call_enc, call_dec = _CALL_ENC, _CALL_DEC
    nested_enc, nested_head = _NESTED_ENC, _NESTED_HEAD.unpack_from
    q_from, point_iter = _Q.unpack_from, _POINT.iter_unpack
    zeros, get_x, get_y = _ZEROS, attrgetter("x"), attrgetter("y")

    def enc_small(m: Any) -> bytes:
        return small_pack(m.a, m.b, m.c)

    def dec_small(buf: bytes) -> Any:
        a, hi, b, c = small_unpack(buf)
        if hi or c > 1:
            raise FloorError("Small: bad word")
        return Small(a, b, c == 1)

    def enc_call(m: Any) -> bytes:
        name = m.name.encode()
        values = m.values
        n, k = len(name), len(values)
        if n > 16 or k > 8:
            raise FloorError("Call: name or values over their bound")
        return call_enc[n][k].pack(m.opcode, n, name, k, *values, m.flag)

    def dec_call(buf: bytes) -> Any:
        # The low bytes of the two length words pick the shape; the one unpack then
        # checks the size and gives the whole words back, so the checks below catch
        # anything above those bytes.
        n = buf[8]
        if n > 16:
            raise FloorError("Call: name over its bound")
        k = buf[16 + ((n + 7) & ~7)]
        if k > 8:
            raise FloorError("Call: values over their bound")
        st, pad, end = call_dec[n][k]
        t = st.unpack(buf)
        flag = t[-1]
        if t[1] or t[2] != n or t[5] != k or t[4] != pad or flag > 1 or (k & 1 and t[end]):
            raise FloorError("Call: bad word")
        return Call(t[0], t[3].decode(), list(t[6:end]), flag == 1)

    def enc_nested(m: Any) -> bytes:
        h, points, label = m.head, m.points, m.label.encode()
        k, n = len(points), len(label)
        if k > 32 or n > 64:
            raise FloorError("Nested: points or label over their bound")
        xys = [0.0] * (2 * k)
        xys[0::2] = map(get_x, points)
        xys[1::2] = map(get_y, points)
        return nested_enc[k][(n + 7) >> 3].pack(h.id, h.prio, k, *xys, n, label)

    def dec_nested(buf: bytes) -> Any:
        ident, prio, k = nested_head(buf)
        if prio > 255 or k > 32:
            raise FloorError("Nested: bad prio or points over their bound")
        off = 24 + 16 * k
        n = q_from(buf, off)[0]
        if n > 64:
            raise FloorError("Nested: label over its bound")
        start = off + 8
        end = start + n
        pn = (n + 7) & ~7
        if len(buf) != start + pn or (pn != n and buf[end : start + pn] != zeros[pn - n]):
            raise FloorError("Nested: bad size or padding")
        points = list(starmap(Point, point_iter(buf[24:off])))
        return Nested(Head(ident, prio), points, buf[start:end].decode())

    return Codec(enc_small, dec_small, enc_call, dec_call, enc_nested, dec_nested)


def make_struct(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    return typed_round_trips(ctx.classes, struct_codec(ctx.classes))


# --------------------------------------------------------------------------------------
# idlc: the generated code, encoding into a UTCB frame.
#
# PLUG-IN POINT. `load_idlc` generates bench/bench.idl with `idlc -l python` into a
# temporary directory and imports DIR/bench/bench_idl.py; it works already. What is
# missing is `idlc_codec`: fill in the six encode/decode calls of the generated API
# (docs/python-backend.md) and delete the `raise`. `typed_round_trips` (for encoders that
# take the frame: `frame_round_trips`) then builds the round trips with exactly the
# build/read-back code the `struct` floor uses, and
# `check_words` compares the words with WIRE.md and with the floor before timing.


def idlc_codec(gen: Any) -> Codec:
    """The generated x86_64 codecs of bench.idl, with a UTCB in the round trip.

    ``_fe_T_64(value, frame)`` (generated) makes the value the message of an outermost
    ``runtime.utcb.UtcbFrame``, packed into the UTCB in place, and returns the frame;
    ``_fd_T_64(frame)`` unpacks it from there, checks it as strictly as WIRE.md §2 asks
    (words and items left over included) and consumes the frame's words.
    """
    from runtime.utcb import Utcb, UtcbFrame

    frame = UtcbFrame(Utcb())  # the outermost frame of an empty x86_64 UTCB

    def load(data: bytes) -> UtcbFrame:  # words from elsewhere into the frame
        frame.clear()
        frame.put_words(data)
        return frame

    # The encoders are called with the frame as their second argument (frame_round_trips),
    # as a caller holding its UTCB calls them: no closure or functools.partial around them,
    # which would add a Python call per round trip (a partial with a keyword ~130 ns).
    return Codec(
        gen._fe_Small_64,
        gen._fd_Small_64,
        gen._fe_Call_64,
        gen._fd_Call_64,
        gen._fe_Nested_64,
        gen._fd_Nested_64,
        load,
        frame,
    )


def frame_words(buf: Any) -> list[int]:
    """The untyped words an encoder produced: bytes, or a UtcbFrame's words."""
    if isinstance(buf, (bytes, bytearray, memoryview)):
        return words_of(buf)
    return list(buf.words())


def load_idlc(outdir: str | None) -> Any:
    """Import the generated module from `outdir` (made by `generate_idlc`)."""
    if outdir is None:
        raise Unavailable("the idlc python backend did not generate bench/bench.idl")
    import importlib

    for path in (str(REPO), outdir):  # the repository's runtime, then the generated code
        if path not in sys.path:
            sys.path.insert(0, path)
    try:
        return importlib.import_module("bench.bench_idl")
    except Exception as exc:  # any import failure makes the row unavailable
        raise Unavailable(f"cannot import the generated module: {exc!r}") from exc


def generate_idlc() -> tuple[str | None, str]:
    """Run `idlc -l python -o DIR bench/bench.idl` from this checkout; (DIR or None, why)."""
    outdir = tempfile.mkdtemp(prefix="idlc-bench-")
    cmd = [sys.executable, "-m", "idlc", "-l", "python", "-o", outdir, str(IDL)]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    module = Path(outdir) / "bench" / "bench_idl.py"
    if proc.returncode != 0 or not module.is_file():
        shutil.rmtree(outdir, ignore_errors=True)
        why = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return None, why
    return outdir, ""


def make_idlc(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    if ctx.gen is None:
        raise Unavailable(ctx.gen_error)
    return typed_round_trips(ctx.classes, idlc_codec(ctx.gen))


# --------------------------------------------------------------------------------------
# pickle and msgpack: no typed objects; the plain values are the message.


def make_pickle(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    import pickle

    dumps, loads, proto = pickle.dumps, pickle.loads, pickle.HIGHEST_PROTOCOL

    def round_trip(v: Any) -> Any:
        return loads(dumps(v, proto))

    return {"Small": round_trip, "Call": round_trip, "Nested": round_trip}


def make_msgpack(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    try:
        import msgpack
    except ImportError as exc:
        raise Unavailable("msgpack is not installed") from exc
    packb = msgpack.Packer(use_bin_type=True).pack
    unpackb = msgpack.unpackb
    # Positional arrays (tuples), decoded as tuples: msgpack's fastest form; sequences
    # come back as tuples and are read back as lists.

    def small(v: Any) -> Any:
        return unpackb(packb(v), use_list=False)

    def call(v: Any) -> Any:
        opcode, name, values, flag = unpackb(packb(v), use_list=False)
        return (opcode, name, list(values), flag)

    def nested(v: Any) -> Any:
        head, points, label = unpackb(packb(v), use_list=False)
        return (head, list(points), label)

    return {"Small": small, "Call": call, "Nested": nested}


# --------------------------------------------------------------------------------------
# pickle-typed and msgpack-typed: what a user who wants typed messages writes around pickle
# or msgpack. The round trip starts and ends as idlc's does (the same dataclasses, built
# from the plain values, every field read back); in between, the message is converted by
# hand to the serializer's fastest form, positional tuples of the fields (no `default=`
# hook, no `dataclasses.astuple`, no pickling of the dataclass objects: not measured),
# encoded, decoded, and the dataclasses are built again from what comes back.


def tuple_round_trips(
    cls: SimpleNamespace, dumps: Callable[[Any], Any], loads: Callable[[Any], Any]
) -> dict[str, RoundTrip]:
    """Typed round trips through ``loads(dumps(fields))``; ``loads`` gives lists or
    tuples (the sequences are built into the dataclasses as lists either way)."""
    Small, Call, Head, Point, Nested = cls.Small, cls.Call, cls.Head, cls.Point, cls.Nested
    xy = _XY

    def small(v: Any) -> Any:
        a, b, c = v
        m = Small(a, b, c)
        a, b, c = loads(dumps((m.a, m.b, m.c)))
        m = Small(a, b, c)
        return (m.a, m.b, m.c)

    def call(v: Any) -> Any:
        opcode, name, values, flag = v
        m = Call(opcode, name, values, flag)
        opcode, name, values, flag = loads(dumps((m.opcode, m.name, m.values, m.flag)))
        m = Call(opcode, name, values if type(values) is list else list(values), flag)
        return (m.opcode, m.name, m.values, m.flag)

    def nested(v: Any) -> Any:
        (ident, prio), points, label = v
        m = Nested(Head(ident, prio), list(starmap(Point, points)), label)
        h = m.head
        wire = dumps(((h.id, h.prio), list(map(xy, m.points)), m.label))
        (ident, prio), points, label = loads(wire)
        m = Nested(Head(ident, prio), list(starmap(Point, points)), label)
        h = m.head
        return ((h.id, h.prio), list(map(xy, m.points)), m.label)

    return {"Small": small, "Call": call, "Nested": nested}


def make_pickle_typed(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    import pickle

    # pickle.dumps(fields) as the user writes it: its default protocol (4 here) gives the
    # same opcodes for these values as protocol 5 (which adds out-of-band buffers only),
    # without the keyword or partial call that naming the protocol would cost
    return tuple_round_trips(ctx.classes, pickle.dumps, pickle.loads)


def make_msgpack_typed(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    try:
        import msgpack
    except ImportError as exc:
        raise Unavailable("msgpack is not installed") from exc
    # unpackb's default use_list=True: Call's values come back as the list the dataclass
    # holds, with no copy (use_list=False would need a list() of the tuple)
    return tuple_round_trips(ctx.classes, msgpack.Packer(use_bin_type=True).pack, msgpack.unpackb)


# --------------------------------------------------------------------------------------
# protobuf (upb): the message classes come from a FileDescriptorProto built here.


def protobuf_classes() -> SimpleNamespace:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    one, many = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    proto = descriptor_pb2.FileDescriptorProto(
        name="bench_marshal.proto", package="bench", syntax="proto3"
    )
    shapes: dict[str, list[tuple[str, int, int, str]]] = {
        "Small": [("a", F.TYPE_UINT32, one, ""), ("b", F.TYPE_INT64, one, ""),
                  ("c", F.TYPE_BOOL, one, "")],
        "Call": [("opcode", F.TYPE_UINT32, one, ""), ("name", F.TYPE_STRING, one, ""),
                 ("values", F.TYPE_INT32, many, ""), ("flag", F.TYPE_BOOL, one, "")],
        "Head": [("id", F.TYPE_UINT64, one, ""), ("prio", F.TYPE_UINT32, one, "")],
        "Point": [("x", F.TYPE_DOUBLE, one, ""), ("y", F.TYPE_DOUBLE, one, "")],
        "Nested": [("head", F.TYPE_MESSAGE, one, ".bench.Head"),
                   ("points", F.TYPE_MESSAGE, many, ".bench.Point"),
                   ("label", F.TYPE_STRING, one, "")],
    }  # fmt: skip
    for name, fields in shapes.items():
        msg = proto.message_type.add(name=name)
        for number, (fname, ftype, label, tname) in enumerate(fields, 1):
            f = msg.field.add(name=fname, number=number, type=ftype, label=label)
            if tname:
                f.type_name = tname
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return SimpleNamespace(
        **{
            name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"bench.{name}"))
            for name in shapes
        }
    )


def make_protobuf(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    try:
        from google.protobuf.internal import api_implementation
    except ImportError as exc:
        raise Unavailable("protobuf is not installed") from exc
    if api_implementation.Type() != "upb":
        raise Unavailable(f"protobuf runs its {api_implementation.Type()} backend, not upb")
    pb = protobuf_classes()
    Small, Call, Nested = pb.Small, pb.Call, pb.Nested
    xy = _XY

    def small(v: Any) -> Any:
        a, b, c = v
        m = Small.FromString(Small(a=a, b=b, c=c).SerializeToString())
        return (m.a, m.b, m.c)

    def call(v: Any) -> Any:
        opcode, name, values, flag = v
        wire = Call(opcode=opcode, name=name, values=values, flag=flag).SerializeToString()
        m = Call.FromString(wire)
        return (m.opcode, m.name, list(m.values), m.flag)

    def nested(v: Any) -> Any:
        (ident, prio), points, label = v
        m = Nested(label=label)
        h = m.head
        h.id = ident
        h.prio = prio
        add = m.points.add  # faster in upb than Point(...) objects copied into the list
        for x, y in points:
            add(x=x, y=y)
        m = Nested.FromString(m.SerializeToString())
        h = m.head
        return ((h.id, h.prio), list(map(xy, m.points)), m.label)

    return {"Small": small, "Call": call, "Nested": nested}


# --------------------------------------------------------------------------------------
# pycdr2: IdlStruct dataclasses with pycdr2's own types; XCDR with its 4-byte header.


def make_pycdr2(ctx: SimpleNamespace) -> dict[str, RoundTrip]:
    try:
        from pycdr2 import IdlStruct, make_idl_struct
        from pycdr2.types import bounded_str, float64, int32, int64, sequence, uint8, uint32, uint64
    except ImportError as exc:
        raise Unavailable("pycdr2 is not installed") from exc

    # make_idl_struct rather than class statements: pycdr2 resolves string annotations
    # (this file's `from __future__ import annotations`) in the module's globals.
    def idl(type_name: str, **members: Any) -> Any:
        return make_idl_struct(type_name, f"bench::{type_name}", members)

    Small = idl("Small", a=uint32, b=int64, c=bool)
    Call = idl("Call", opcode=uint32, name=bounded_str[16], values=sequence[int32, 8], flag=bool)
    Head = idl("Head", id=uint64, prio=uint8)
    Point = idl("Point", x=float64, y=float64)
    Nested = idl("Nested", head=Head, points=sequence[Point, 32], label=bounded_str[64])
    cls = SimpleNamespace(Small=Small, Call=Call, Head=Head, Point=Point, Nested=Nested)

    ser = IdlStruct.serialize
    codec = Codec(ser, Small.deserialize, ser, Call.deserialize, ser, Nested.deserialize)
    return typed_round_trips(cls, codec)


MAKERS: dict[str, Callable[[SimpleNamespace], dict[str, RoundTrip]]] = {
    "idlc": make_idlc,
    "struct": make_struct,
    "pickle": make_pickle,
    "msgpack": make_msgpack,
    "protobuf": make_protobuf,
    "pycdr2": make_pycdr2,
    "pickle-typed": make_pickle_typed,
    "msgpack-typed": make_msgpack_typed,
}


# --------------------------------------------------------------------------------------
# Checks before timing.


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, recursively (so True is not 1, (1,) is not [1])."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_round_trips(system: str, trips: dict[str, RoundTrip]) -> None:
    for message, rt in trips.items():
        value = MESSAGES[message]
        back = rt(value)
        if not same(back, value):
            raise AssertionError(f"{system} {message}: round trip gave {back!r}")


def check_words(system: str, codec: Codec, cls: SimpleNamespace) -> None:
    """The encoder's words are WIRE.md's, and its decoder rejects a flipped boolean."""
    (ident, prio), points, label = NESTED
    objects = {
        "Small": (codec.enc_small, cls.Small(*SMALL)),
        "Call": (codec.enc_call, cls.Call(*CALL)),
        "Nested": (
            codec.enc_nested,
            cls.Nested(cls.Head(ident, prio), list(starmap(cls.Point, points)), label),
        ),
    }
    for message, (enc, obj) in objects.items():
        got, want = frame_words(codec.encode(enc, obj)), expected_words(message)
        if got != want:
            raise AssertionError(
                f"{system} {message}: words {[hex(w) for w in got]} != WIRE.md "
                f"{[hex(w) for w in want]}"
            )
    bad = struct.pack("<QqQ", *SMALL[:2], 2)  # boolean word 2: WIRE §2 rejects it
    try:
        codec.dec_small(codec.load(bad) if codec.load else bad)
    except Exception:  # any rejection will do
        pass
    else:
        raise AssertionError(f"{system}: Small with boolean word 2 was accepted")


# --------------------------------------------------------------------------------------
# Running.


def time_round_trip(loops: int, rt: RoundTrip, value: Any) -> float:
    it = range(loops)
    t0 = time.perf_counter()
    for _ in it:
        rt(value)
    return time.perf_counter() - t0


def build(
    systems: list[str], idlc_dir: str | None, gen_error: str
) -> tuple[dict[str, dict[str, RoundTrip]], dict[str, str]]:
    """The checked round trips per system, and why each missing system is missing."""
    gen = None
    if idlc_dir is not None:
        try:
            gen = load_idlc(idlc_dir)
        except Unavailable as exc:
            gen_error = str(exc)
    classes = dataclasses_for(gen)
    ctx = SimpleNamespace(gen=gen, gen_error=gen_error, classes=classes)
    ready: dict[str, dict[str, RoundTrip]] = {}
    missing: dict[str, str] = {}
    for system in systems:
        try:
            trips = MAKERS[system](ctx)
        except Unavailable as exc:
            missing[system] = str(exc)
            continue
        check_round_trips(system, trips)
        ready[system] = trips
    if "struct" in ready:
        check_words("struct", struct_codec(classes), classes)
    if "idlc" in ready:
        check_words("idlc", idlc_codec(gen), classes)
    return ready, missing


def parse_list(text: str, known: tuple[str, ...] | list[str], what: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    for n in names:
        if n not in known:
            sys.exit(f"bench: unknown {what} {n!r} (known: {', '.join(known)})")
    return [k for k in known if k in names]


def table(results: dict[str, dict[str, float]], systems: list[str],
          missing: dict[str, str]) -> str:  # fmt: skip
    head = ["message", *systems]
    rows = [head]
    for message, by_system in results.items():
        floor = by_system.get(FLOOR)
        row = [message]
        for s in systems:
            ns = by_system.get(s)
            if ns is None:
                row.append("unavailable")
            elif floor and s != FLOOR:
                row.append(f"{ns:,.0f} ns ({ns / floor:.2f}x)")
            else:
                row.append(f"{ns:,.0f} ns")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for s, why in missing.items():
        lines.append(f"{s}: unavailable: {why}")
    return "\n".join(lines)


def main() -> None:
    def worker_args(cmd: list[str], args: Any) -> None:
        cmd.extend(["--systems", args.systems, "--messages", args.messages])
        if args.idlc_dir:
            cmd.extend(["--idlc-dir", args.idlc_dir])

    runner = pyperf.Runner(processes=10, add_cmdline_args=worker_args)
    runner.metadata["description"] = "idlc marshalling: one round trip per message"
    ap = runner.argparser
    ap.add_argument("--quick", action="store_true", help="fewer processes: < 1 min in all")
    ap.add_argument("--json", action="store_true",
                    help="print only {message: {system: ns_per_round_trip}}")  # fmt: skip
    ap.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset")
    ap.add_argument("--messages", default=",".join(MESSAGES), help="comma-separated subset")
    ap.add_argument("--idlc-dir", default=None, help=argparse_suppress())
    args = runner.parse_args()
    if args.quick and not args.worker:
        args.processes, args.values, args.warmups, args.min_time = 2, 3, 1, 0.02
    systems = parse_list(args.systems, SYSTEMS, "system")
    messages = parse_list(args.messages, list(MESSAGES), "message")

    gen_error = ""
    owned_dir = None
    if not args.worker and "idlc" in systems:
        args.idlc_dir, gen_error = generate_idlc()
        owned_dir = args.idlc_dir
    try:
        ready, missing = build(systems, args.idlc_dir, gen_error)
        runner.metadata["bench_classes"] = (
            "idlc" if args.idlc_dir and "idlc" in ready else "bench/marshal.py"
        )
        out = sys.stderr if args.json else sys.stdout
        results: dict[str, dict[str, float]] = {m: {} for m in messages}
        with contextlib.redirect_stdout(out):
            for message in messages:
                for system in systems:
                    if system not in ready:
                        continue
                    bench = runner.bench_time_func(
                        f"{message}/{system}",
                        time_round_trip,
                        ready[system][message],
                        MESSAGES[message],
                    )
                    if bench is not None and not args.worker:
                        results[message][system] = bench.mean() * 1e9
        if args.worker:
            return
        if args.json:
            print(json.dumps({m: {s: round(ns, 1) for s, ns in r.items()}
                              for m, r in results.items()}))  # fmt: skip
        else:
            print()
            print(table(results, systems, missing))
    finally:
        if owned_dir:
            shutil.rmtree(owned_dir, ignore_errors=True)


def argparse_suppress() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
