"""Shared by the round-trip property tests: generating IDL into packages, loading the stub
and strategies modules, comparing values (floats by their bits), and the properties
themselves (docs/python-strategies.md).

The properties, per generated module and architecture:
- every struct, union and exception: ``decode(encode(v)) == v`` for drawn ``v``;
- every method: the same for its request, its reply and each exception it raises;
- arbitrary words and items (mutations of valid messages and raw words): decoding either
  raises ``DecodeError`` and nothing else, or gives a value whose encoding is exactly
  those words and the same items up to what a receiver does not check (WIRE.md §4).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import struct
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idlc.backends.python import generate
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from runtime.codec import WORD, DecodeError, Items, Message, MethodCodec

ARCHES = ("x86_64", "x86_32")
EXAMPLES = int(os.environ.get("IDLC_FUZZ_EXAMPLES", "8"))


def fuzz_settings(examples: int = EXAMPLES) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=examples < 100,
        suppress_health_check=list(HealthCheck),
    )


def run(strategy: st.SearchStrategy[Any], check: Callable[[Any], None], examples: int) -> None:
    """Check ``check(v)`` for ``examples`` values drawn from ``strategy``."""

    @fuzz_settings(examples)
    @given(strategy)
    def prop(v: Any) -> None:
        check(v)

    prop()


def compile_and_generate(
    idl: Path, out: Path, include_dirs: list[str] | None = None, defines: Any = None
) -> tuple[list[str], Diagnostics]:
    """Generated paths ([] if the front end or the backend refused) and diagnostics."""
    diags = Diagnostics()
    opts = Options(include_dirs=include_dirs or [], defines=defines or {})
    result = compile_file(str(idl), opts, diags)
    if result.spec is None or diags.has_errors:
        return [], diags
    out.mkdir(parents=True, exist_ok=True)
    return generate(result.spec, str(out), diags), diags


@contextmanager
def on_path(root: Path) -> Iterator[None]:
    sys.path.insert(0, str(root))
    try:
        yield
    finally:
        sys.path.remove(str(root))


@contextmanager
def imported(idl: Path, root: Path, package: str, *modules: str) -> Iterator[list[ModuleType]]:
    """Compile ``idl``, generate it into ``root/package`` and import
    ``package.<module>`` for each module (``"demo.echo_idl"``) while root is on the path."""
    diags = Diagnostics()
    result = compile_file(str(idl), Options(), diags)
    assert result.spec is not None and not diags.has_errors, [str(d) for d in diags.items]
    assert generate(result.spec, str(root / package), diags), [str(d) for d in diags.items]
    with on_path(root):
        yield [importlib.import_module(f"{package}.{m}") for m in modules]


def stub_modules(root: Path) -> list[Path]:
    """Every generated stub module under root: x_idl.py, also x_idl_.py (names.Naming)."""
    return [f for f in root.rglob("*_idl*.py") if not f.stem.endswith("_strategies")]


def stub_pairs(root: Path, package: str) -> list[tuple[ModuleType, ModuleType]]:
    """(stub module, strategies module) for every generated module under root/package."""
    pairs = []
    with on_path(root):
        for f in sorted(stub_modules(root / package)):
            dotted = ".".join(f.relative_to(root).with_suffix("").parts)
            pairs.append(
                (importlib.import_module(dotted), importlib.import_module(dotted + "_strategies"))
            )
    return pairs


# --- comparing values -----------------------------------------------------------------


def float_bits(x: float) -> bytes:
    return struct.pack("<d", x)


def same(a: Any, b: Any, path: str = "v") -> str | None:
    """None when equal (floats by bits, types exactly), else where they differ."""
    if type(a) is not type(b):
        return f"{path}: {type(a).__name__} {a!r} != {type(b).__name__} {b!r}"
    if isinstance(a, float):
        return None if float_bits(a) == float_bits(b) else f"{path}: {a!r} != {b!r}"
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            bad = same(x, y, f"{path}[{i}]")
            if bad:
                return bad
        return None
    if dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            bad = same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
            if bad:
                return bad
        return None
    if hasattr(a, "_d") and hasattr(a, "_v") and hasattr(type(a), "__slots__"):
        return same(a._d, b._d, f"{path}._d") or same(a._v, b._v, f"{path}._v")
    if isinstance(a, BaseException):
        return same(a.args, b.args, f"{path}.args")
    return None if a == b else f"{path}: {a!r} != {b!r}"


def check_same(a: Any, b: Any, what: str) -> None:
    bad = same(a, b)
    assert bad is None, f"{what}: {bad}"


# --- the properties -------------------------------------------------------------------


def types_of(stub: ModuleType, strat: ModuleType) -> list[tuple[str, str]]:
    """(name, kind) of the types with their own codec: struct/union ('e') and
    exception ('x')."""
    out = []
    for fn in strat.__all__:
        if not fn.startswith("st_"):
            continue
        name = fn[3:]
        if name in strat.LARGE:
            continue
        if hasattr(stub, f"_e_{name}_64"):
            out.append((name, "e"))
        elif hasattr(stub, f"_x_{name}_64"):
            out.append((name, "x"))
    return out


def methods_of(stub: ModuleType, strat: ModuleType) -> list[tuple[str, str, MethodCodec]]:
    out = []
    for iface, methods in stub.INTERFACES.items():
        for wire, codec in methods.items():
            assert wire in strat.REQUESTS[iface], (iface, wire)
            if strat.REQUESTS[iface][wire].__name__[3:] in strat.LARGE:
                continue
            out.append((iface, wire, codec))
    return out


def roundtrip_type(stub: ModuleType, name: str, kind: str, arch: str, value: Any) -> None:
    sfx = "64" if arch == "x86_64" else "32"
    w = WORD[arch]
    dec = getattr(stub, f"_d_{name}_{sfx}")
    if kind == "e":
        buf = bytearray()
        items: list[tuple[int, int]] = []
        getattr(stub, f"_e_{name}_{sfx}")(value, buf, items)
        start = 0
    else:
        buf, items = getattr(stub, f"_x_{name}_{sfx}")(value)
        start = 2 * w
    assert len(buf) % w == 0
    it = Items(items)
    back, end = dec(bytes(buf), start, it)
    assert end == len(buf), f"{name}: decoded {end} of {len(buf)} bytes"
    it.finish(end // w)
    check_same(value, back, f"{arch} {name}")


def check_types(stub: ModuleType, strat: ModuleType, examples: int = EXAMPLES) -> int:
    count = 0
    for name, kind in types_of(stub, strat):
        for arch in ARCHES:
            run(
                getattr(strat, f"st_{name}")(arch),
                functools.partial(roundtrip_type, stub, name, kind, arch),
                examples,
            )
        count += 1
    return count


def check_methods(stub: ModuleType, strat: ModuleType, examples: int = EXAMPLES) -> int:
    count = 0
    for iface, wire, codec in methods_of(stub, strat):
        rq = strat.REQUESTS[iface][wire]
        rp = strat.REPLIES[iface][wire]
        ex = strat.RAISES[iface][wire]
        for arch in ARCHES:

            def prop(
                drawn: tuple[tuple[Any, ...], tuple[Any, ...], BaseException | None],
                codec: MethodCodec = codec,
                arch: str = arch,
            ) -> None:
                inputs, outputs, exc = drawn
                msg = codec.request(arch, *inputs)
                assert msg.words[0] == codec.opcode
                check_same(inputs, codec.parse_request(msg), f"{arch} {codec.name} request")
                if codec.oneway:
                    assert codec.reply(arch).data == b""
                    return
                back = codec.parse_reply(codec.reply(arch, *outputs))
                check_same(outputs, back, f"{arch} {codec.name} reply")
                if exc is not None:
                    got = codec.parse_reply(codec.error(arch, exc))
                    check_same(exc, got, f"{arch} {codec.name} raises")

            exc = st.none() if not codec.raises else st.none() | ex(arch)
            run(st.tuples(rq(arch), rp(arch), exc), prop, examples)
        count += 1
    return count


# --- arbitrary words and items ----------------------------------------------------------

_FLOATY = [0x7F800001, 0x7FC00000, 0xFF800000, 0x7FF0000000000001, 0x7FF8000000000000]


def word_values(arch: str) -> st.SearchStrategy[int]:
    top = (1 << (8 * WORD[arch])) - 1
    return st.one_of(
        st.integers(0, 3),
        st.integers(0, 255),
        st.integers(0, 0xFFFF),
        st.integers(0, 0xFFFFFFFF),
        st.integers(0, top),
        st.sampled_from([top, 0x80, 0xD800, 0x110000, *(v for v in _FLOATY if v <= top)]),
    )


def item_values(arch: str) -> st.SearchStrategy[tuple[int, int]]:
    base_bits = 20 if arch == "x86_32" else 52
    crd = st.one_of(
        st.just(0),
        st.builds(
            lambda t, base, order, rights: base << 12
            | (0 if t == 3 else order) << 7
            | rights << 2
            | t,
            st.integers(0, 3),
            st.integers(0, (1 << base_bits) - 1),
            st.integers(0, 4),
            st.integers(0, 31),
        ),
    )
    flags = st.one_of(st.integers(0, 1), st.integers(0, 0xFF).map(lambda h: h << 12 | 1))
    return st.tuples(crd, flags)


@st.composite
def mutated(draw: st.DrawFn, valid: Message) -> tuple[list[int], list[tuple[int, int]]]:
    """Words and items near a valid message: words replaced, inserted, dropped or cut;
    items replaced, added or dropped; or raw words after the valid first word."""
    arch = valid.arch
    words = list(valid.words)
    items = list(valid.items)
    if draw(st.integers(0, 9)) == 0:
        return words[:1] + draw(st.lists(word_values(arch), max_size=12)), draw(
            st.lists(item_values(arch), max_size=3)
        )
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 5))
        if op == 0 and words:
            words[draw(st.integers(0, len(words) - 1))] = draw(word_values(arch))
        elif op == 1:
            words.insert(draw(st.integers(0, len(words))), draw(word_values(arch)))
        elif op == 2 and words:
            del words[draw(st.integers(0, len(words) - 1))]
        elif op == 3:
            words = words[: draw(st.integers(0, len(words)))]
        elif op == 4 and items:
            items[draw(st.integers(0, len(items) - 1))] = draw(item_values(arch))
        elif op == 5:
            if items and draw(st.booleans()):
                del items[draw(st.integers(0, len(items) - 1))]
            else:
                items.insert(draw(st.integers(0, len(items))), draw(item_values(arch)))
    return words, items


def items_match(sent: list[tuple[int, int]], again: list[tuple[int, int]]) -> bool:
    """The re-encoded items equal the received ones in what a receiver checks or keeps:
    count, null-ness, Crd type, base and order, the delegate bit; rights may only shrink
    (an @rights mask), hotspots are the sender's."""
    if len(sent) != len(again):
        return False
    for (c1, f1), (c2, f2) in zip(sent, again, strict=True):
        if c1 == 0 or c2 == 0:
            if c1 != c2:
                return False
            continue
        if c1 & 3 != c2 & 3 or c1 >> 7 != c2 >> 7 or (f1 & 1) != (f2 & 1):
            return False
        if (c2 >> 2) & 0x1F & ~((c1 >> 2) & 0x1F):
            return False
    return True


def redecode(
    words: list[int],
    items: list[tuple[int, int]],
    arch: str,
    decode: Callable[[Message], Any],
    encode: Callable[[Any], Message],
    what: str,
) -> bool:
    """The arbitrary-input property for one message; True when it decoded."""
    msg = Message.from_words(arch, words, items)
    try:
        value = decode(msg)
    except DecodeError:
        return False
    again = encode(value)
    assert again.words == words, f"{what}: {words} decoded to {value!r}, encodes {again.words}"
    assert items_match(items, again.items), f"{what}: items {items} -> {again.items}"
    return True


def check_arbitrary(stub: ModuleType, strat: ModuleType, examples: int = EXAMPLES) -> int:
    count = 0
    for iface, wire, codec in methods_of(stub, strat):
        rq = strat.REQUESTS[iface][wire]
        rp = strat.REPLIES[iface][wire]
        ex = strat.RAISES[iface][wire]
        for arch in ARCHES:

            def enc_reply(v: Any, codec: MethodCodec = codec, arch: str = arch) -> Message:
                if isinstance(v, BaseException):
                    return codec.error(arch, v)
                return codec.reply(arch, *v)

            @st.composite
            def request(draw: st.DrawFn, arch: str = arch, rq: Any = rq, c: Any = codec) -> Any:
                return draw(mutated(c.request(arch, *draw(rq(arch)))))

            @st.composite
            def reply(
                draw: st.DrawFn, arch: str = arch, rp: Any = rp, ex: Any = ex, c: Any = codec
            ) -> Any:
                if c.raises and draw(st.booleans()):
                    valid = c.error(arch, draw(ex(arch)))
                elif draw(st.integers(0, 7)) == 0:
                    valid = c.error(arch, _remote(draw))
                else:
                    valid = c.reply(arch, *draw(rp(arch)))
                return draw(mutated(valid))

            def prop(
                drawn: tuple[Any, Any],
                codec: MethodCodec = codec,
                arch: str = arch,
                enc_reply: Callable[[Any], Message] = enc_reply,
            ) -> None:
                req, rep = drawn
                redecode(
                    *req,
                    arch,
                    codec.parse_request,
                    lambda v: codec.request(arch, *v),
                    f"{arch} {codec.name} request",
                )
                if not codec.oneway:
                    redecode(*rep, arch, codec.parse_reply, enc_reply, f"{arch} {codec.name} reply")

            run(st.tuples(request(), reply()), prop, examples)
        count += 1
    return count


def _remote(draw: st.DrawFn) -> BaseException:
    from runtime.status import RemoteError

    return RemoteError(draw(st.integers(1, 19)), draw(st.text(max_size=8)))


# --- values of the wrong Python type (issue 13, item 4) ---------------------------------


def _nodes(v: Any, path: str) -> Iterator[tuple[str, Any, Callable[[Any], Any]]]:
    """(path, value, rebuild) of every part of ``v`` a wrong type can replace: ``v``
    itself, struct members, list elements, a union's selected member; ``rebuild(x)`` is
    ``v``'s whole value with that part replaced by ``x``. Capabilities and absent
    optionals are left out (put_cap types those; an interface reference takes a client
    stub, a Pt, a Crd or None)."""
    from runtime.crd import Crd

    if v is None or isinstance(v, Crd):
        return
    yield path, v, lambda x: x
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        for f in dataclasses.fields(v):
            for p, x, rebuild in _nodes(getattr(v, f.name), _join(path, f.name)):
                yield p, x, functools.partial(_set_field, v, f.name, rebuild)
    elif isinstance(v, list):
        for i, e in enumerate(v):
            for p, x, rebuild in _nodes(e, f"{path}[{i}]"):
                yield p, x, functools.partial(_set_item, v, i, rebuild)
    elif getattr(type(v), "__slots__", None) == ("_d", "_v"):  # a generated union
        branch = _branch(v)
        if branch is not None:
            for p, x, rebuild in _nodes(v._v, _join(path, branch)):
                yield p, x, functools.partial(_set_union, v, rebuild)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _set_field(v: Any, name: str, rebuild: Callable[[Any], Any], x: Any) -> Any:
    return dataclasses.replace(v, **{name: rebuild(x)})


def _set_item(v: list[Any], i: int, rebuild: Callable[[Any], Any], x: Any) -> Any:
    return [*v[:i], rebuild(x), *v[i + 1 :]]


def _set_union(v: Any, rebuild: Callable[[Any], Any], x: Any) -> Any:
    return type(v)(v._d, rebuild(x))


def _branch(u: Any) -> str | None:
    for name, prop in vars(type(u)).items():
        if isinstance(prop, property) and name not in ("discriminator", "value"):
            try:
                getattr(u, name)
            except AttributeError:
                continue
            return name
    return None


def wrong_type(v: Any) -> Any:
    """A value no encoder takes where ``v`` is."""
    if isinstance(v, str):
        return 1.5
    if isinstance(v, int | float):  # bool, enums, bitmasks included
        return "x"
    if isinstance(v, list | bytes):
        return 7
    if dataclasses.is_dataclass(v):
        return tuple(getattr(v, f.name) for f in dataclasses.fields(v))
    return ("a", "tuple")  # a union


def check_wrong_types(stub: ModuleType, strat: ModuleType, examples: int = EXAMPLES) -> int:
    """A value of the wrong Python type anywhere in a request or reply raises MarshalError
    naming the part's path and both types (``s.points[1]: expected Point, got tuple``),
    never an AttributeError or TypeError text from inside the codec."""
    count = 0
    for iface, wire, codec in methods_of(stub, strat):
        for arch in ARCHES:
            for direction in ("request", "reply"):
                if direction == "reply" and codec.oneway:
                    continue
                names = codec.inputs if direction == "request" else codec.outputs
                if not names:
                    continue
                table = strat.REQUESTS if direction == "request" else strat.REPLIES
                encoder = codec.request if direction == "request" else codec.reply
                run(
                    _wrong_case(table[iface][wire](arch), names),
                    functools.partial(_check_wrong, functools.partial(encoder, arch)),
                    examples,
                )
        count += 1
    return count


@st.composite
def _wrong_case(draw: st.DrawFn, values: st.SearchStrategy[Any], names: tuple[str, ...]) -> Any:
    """(values, path, wrong value) with one part of one value replaced, or None."""
    drawn = list(draw(values))
    parts = [
        (i, *node)
        for i, (name, v) in enumerate(zip(names, drawn, strict=True))
        for node in _nodes(v, name)
    ]
    if not parts:
        return None
    i, path, old, rebuild = draw(st.sampled_from(parts))
    new = wrong_type(old)
    drawn[i] = rebuild(new)
    return drawn, path, new


def _check_wrong(encode: Callable[..., Any], drawn: Any) -> None:
    from runtime.codec import MarshalError

    if drawn is None:
        return
    values, path, new = drawn
    try:
        encode(*values)
    except MarshalError as e:
        assert e.path == path, f"{e} (wrong {type(new).__name__} at {path})"
        got = f", got {type(new).__name__}"
        assert e.reason.startswith("expected ") and e.reason.endswith(got), e
    else:
        raise AssertionError(f"{type(new).__name__} at {path} was encoded")
