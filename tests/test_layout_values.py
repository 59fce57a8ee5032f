"""Encoded sizes (WIRE.md §3) against an oracle written from the wire format's table:
random types over every construct (scalars, strings, packed and element-wise arrays and
sequences, enums, bitmasks, typedefs, structs with bases and @optional members, unions
with and without an implicit default, capabilities) and random methods with exceptions,
on both architectures."""

from __future__ import annotations

from math import prod

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idlc import ir
from idlc.layout import method_sizes, type_size
from idlc.source import Span

SP = Span("t.idl", 1, 1, 1, 2)
WORD = {"x86_64": 8, "x86_32": 4}
BYTES = {
    "boolean": 1, "octet": 1, "char": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
    "int32": 4, "uint32": 4, "float": 4, "wchar": 4, "int64": 8, "uint64": 8, "double": 8,
}  # fmt: skip
Size = tuple[int, int | None, int, int | None]  # min words, max words, min items, max items


def ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


class Oracle:
    def __init__(self, decls: dict[str, ir.Declaration], arch: str) -> None:
        self.decls, self.w = decls, WORD[arch]

    def packable(self, t: ir.Type) -> tuple[int, int] | None:
        """(bytes per scalar, scalars) of a packed run's element, or None."""
        if isinstance(t, ir.Primitive):
            return (BYTES[t.kind], 1) if t.kind in BYTES else None
        if isinstance(t, ir.Array):
            inner = self.packable(t.element)
            return None if inner is None else (inner[0], inner[1] * prod(t.dims))
        if isinstance(t, ir.Ref):
            d = self.decls[t.name]
            if isinstance(d, ir.Enum):
                return 4, 1
            if isinstance(d, ir.Typedef):
                return self.packable(d.type)
        return None

    def size(self, t: ir.Type) -> Size:
        w = self.w
        if isinstance(t, ir.Primitive):
            n = 2 if w == 4 and BYTES[t.kind] == 8 else 1
            return n, n, 0, 0
        if isinstance(t, ir.String):
            per = 4 if t.wide else 1
            return 1, None if t.bound is None else 1 + ceil_div(t.bound * per, w), 0, 0
        if isinstance(t, ir.Capability):
            return 0, 0, 1, 1
        if isinstance(t, ir.Array):
            p = self.packable(t)
            if p is not None:
                n = ceil_div(p[0] * p[1], w)
                return n, n, 0, 0
            k = prod(t.dims)
            lo_w, hi_w, lo_i, hi_i = self.size(t.element)
            return k * lo_w, _times(k, hi_w), k * lo_i, _times(k, hi_i)
        if isinstance(t, ir.Sequence):
            p = self.packable(t.element)
            if p is not None:
                hi = None if t.bound is None else 1 + ceil_div(p[0] * p[1] * t.bound, w)
                return 1, hi, 0, 0
            _, hi_w, _, hi_i = self.size(t.element)
            if t.bound is None:  # any number of elements: bounded only where they are empty
                return 1, 1 if hi_w == 0 else None, 0, 0 if hi_i == 0 else None
            return 1, _plus(1, _times(t.bound, hi_w)), 0, _times(t.bound, hi_i)
        assert isinstance(t, ir.Ref)
        d = self.decls[t.name]
        if isinstance(d, ir.Enum):
            return 1, 1, 0, 0
        if isinstance(d, ir.Bitmask):
            n = 1 if d.bit_bound <= 32 or w == 8 else 2
            return n, n, 0, 0
        if isinstance(d, ir.Interface):
            return 0, 0, 1, 1
        if isinstance(d, ir.Typedef):
            return self.size(d.type)
        if isinstance(d, ir.Struct):
            total: Size = (0, 0, 0, 0)
            if d.base is not None:
                total = self.size(ir.Ref(d.base, "struct"))
            for f in d.fields:
                total = _add(total, self.member(f))
            return total
        assert isinstance(d, ir.Union_)
        options = [self.member(c.field) for c in d.cases]
        if d.implicit_default:
            options.append((0, 0, 0, 0))
        body = (
            min(o[0] for o in options),
            _max(o[1] for o in options),
            min(o[2] for o in options),
            _max(o[3] for o in options),
        )
        return _add(self.size(d.discriminator), body)

    def member(self, f: ir.Field) -> Size:
        lo_w, hi_w, lo_i, hi_i = self.size(f.type)
        if f.optional:  # a presence word; the value may be absent
            return 1, _plus(1, hi_w), 0, hi_i
        return lo_w, hi_w, lo_i, hi_i


def _times(k: int, v: int | None) -> int | None:
    return 0 if k == 0 or v == 0 else None if v is None else k * v  # no element: none


def _plus(a: int, v: int | None) -> int | None:
    return None if v is None else a + v


def _max(vs: object) -> int | None:
    vals = list(vs)  # type: ignore[call-overload]
    return None if None in vals else max(vals)


def _add(a: Size, b: Size) -> Size:
    return (
        a[0] + b[0],
        None if a[1] is None or b[1] is None else a[1] + b[1],
        a[2] + b[2],
        None if a[3] is None or b[3] is None else a[3] + b[3],
    )


def _either(a: Size, b: Size) -> Size:
    return min(a[0], b[0]), _max([a[1], b[1]]), min(a[2], b[2]), _max([a[3], b[3]])


# --- random types --------------------------------------------------------------------


def _fixed_decls() -> dict[str, ir.Declaration]:
    e = ir.Enum("t::E", SP, (), None, (ir.Enumerator("a", 0, SP), ir.Enumerator("b", 1, SP)))
    b16 = ir.Bitmask("t::B16", SP, (), None, 16, ())
    b32 = ir.Bitmask("t::B32", SP, (), None, 32, ())
    b33 = ir.Bitmask("t::B33", SP, (), None, 33, ())
    i = ir.Interface("t::I", SP, (), None, "interface", 1, (), (), ())
    return {d.name: d for d in (e, b16, b32, b33, i)}


@st.composite
def types(draw: st.DrawFn, decls: dict[str, ir.Declaration], depth: int = 0) -> ir.Type:
    leaf = depth >= 3 or draw(st.booleans())
    if leaf:
        return draw(
            st.one_of(
                st.sampled_from(sorted(BYTES)).map(ir.Primitive),
                st.builds(ir.String, st.booleans(), st.none() | st.integers(0, 70)),
                st.sampled_from(["portal", "memory"]).map(ir.Capability),
                st.sampled_from(sorted(_fixed_decls())).map(lambda n: ir.Ref(n, "x")),
            )
        )
    inner = draw(types(decls, depth + 1))
    kind = draw(st.sampled_from(["seq", "array", "typedef", "struct", "union"]))
    n = len(decls)
    if kind == "seq":
        return ir.Sequence(inner, draw(st.none() | st.integers(0, 9)))
    if kind == "array":
        return ir.Array(inner, tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))))
    if kind == "typedef":
        decls[f"t::T{n}"] = ir.Typedef(f"t::T{n}", SP, (), None, inner)
        return ir.Ref(f"t::T{n}", "typedef")
    other = draw(types(decls, depth + 1))
    fields = tuple(
        ir.Field(f"f{k}", t, SP, optional=draw(st.booleans()) and not isinstance(t, ir.Capability))
        for k, t in enumerate((inner, other))
    )
    n = len(decls)
    if kind == "struct":
        bases = [k for k, d in decls.items() if isinstance(d, ir.Struct)]
        base = draw(st.none() | st.sampled_from(bases)) if bases else None
        decls[f"t::S{n}"] = ir.Struct(f"t::S{n}", SP, (), None, base, fields)
        return ir.Ref(f"t::S{n}", "struct")
    disc = draw(st.sampled_from(["int32", "int64", "octet", "uint16"]))
    cases = tuple(ir.UnionCase((k,), False, f) for k, f in enumerate(fields))
    decls[f"t::U{n}"] = ir.Union_(
        f"t::U{n}", SP, (), None, ir.Primitive(disc), cases, draw(st.booleans())
    )
    return ir.Ref(f"t::U{n}", "union")


def flat(s: ir.MessageSize) -> Size:
    return s.min_words, s.max_words, s.min_items, s.max_items


def _spec(decls: dict[str, ir.Declaration]) -> ir.Specification:
    return ir.Specification("t.idl", ("t.idl",), tuple(decls.values()))


# Hand-computed sizes where a wrong rounding, width or bound shows: (type, decls, x86_64,
# x86_32) as (min words, max words, min items, max items).
E = _fixed_decls()
CASES: list[tuple[str, ir.Type, Size, Size]] = [
    ("octets: 9 bytes", ir.Sequence(ir.Primitive("octet"), 9), (1, 3, 0, 0), (1, 4, 0, 0)),
    ("octets: 8 bytes", ir.Sequence(ir.Primitive("octet"), 8), (1, 2, 0, 0), (1, 3, 0, 0)),
    ("string<8>", ir.String(False, 8), (1, 2, 0, 0), (1, 3, 0, 0)),
    ("string<9>", ir.String(False, 9), (1, 3, 0, 0), (1, 4, 0, 0)),
    ("wstring<3>", ir.String(True, 3), (1, 3, 0, 0), (1, 4, 0, 0)),
    ("enums: 3 x 4 bytes", ir.Array(ir.Ref("t::E", "enum"), (3,)), (2, 2, 0, 0), (3, 3, 0, 0)),
    ("int16[3][2]", ir.Array(ir.Primitive("int16"), (3, 2)), (2, 2, 0, 0), (3, 3, 0, 0)),
    ("doubles<2>", ir.Sequence(ir.Primitive("double"), 2), (1, 3, 0, 0), (1, 5, 0, 0)),
    ("bitmask 32", ir.Ref("t::B32", "bitmask"), (1, 1, 0, 0), (1, 1, 0, 0)),
    ("bitmask 33", ir.Ref("t::B33", "bitmask"), (1, 1, 0, 0), (2, 2, 0, 0)),
    ("portals<3>", ir.Sequence(ir.Capability("portal"), 3), (1, 1, 0, 3), (1, 1, 0, 3)),
    ("portals", ir.Sequence(ir.Capability("portal")), (1, 1, 0, None), (1, 1, 0, None)),
    ("empty seq bound 0", ir.Sequence(ir.String(False, 4), 0), (1, 1, 0, 0), (1, 1, 0, 0)),
    ("interfaces[2]", ir.Array(ir.Ref("t::I", "interface"), (2,)), (0, 0, 2, 2), (0, 0, 2, 2)),
]


@pytest.mark.parametrize(("t", "s64", "s32"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hand_computed_sizes(t: ir.Type, s64: Size, s32: Size) -> None:
    spec = _spec(dict(E))
    assert flat(type_size(spec, t, "x86_64")) == s64
    assert flat(type_size(spec, t, "x86_32")) == s32
    assert Oracle(E, "x86_64").size(t) == s64 and Oracle(E, "x86_32").size(t) == s32


@settings(max_examples=150)
@given(st.data())
def test_type_sizes_match_the_oracle(data: st.DataObject) -> None:
    decls = _fixed_decls()
    t = data.draw(types(decls))
    spec = _spec(decls)
    for arch in WORD:
        want = Oracle(decls, arch).size(t)
        assert flat(type_size(spec, t, arch)) == want, arch


@settings(max_examples=60)
@given(st.data())
def test_method_sizes_match_the_oracle(data: st.DataObject) -> None:
    decls = _fixed_decls()
    params = tuple(
        ir.Param(f"p{k}", data.draw(st.sampled_from(["in", "out", "inout"])), t, SP)
        for k, t in enumerate(data.draw(st.lists(types(decls), max_size=3)))
    )
    result = data.draw(st.none() | types(decls))
    raises = []
    for k in range(data.draw(st.integers(0, 2))):
        fields = tuple(
            ir.Field(f"f{j}", t, SP)
            for j, t in enumerate(data.draw(st.lists(types(decls), max_size=2)))
        )
        decls[f"t::X{k}"] = ir.Exception_(f"t::X{k}", SP, (), None, k, fields)
        raises.append(f"t::X{k}")
    oneway = data.draw(st.booleans())
    m = ir.Method("op", "operation", "t::I", 0, 0x10000, oneway, result, params, tuple(raises), SP)
    spec = _spec(decls)
    for arch in WORD:
        o = Oracle(decls, arch)
        request: Size = (1, 1, 0, 0)  # the opcode
        for p in params:
            if p.mode != "out":
                request = _add(request, o.size(p.type))
        req, rep = method_sizes(spec, m, arch)
        assert flat(req) == request
        if oneway:
            assert rep is None
            continue
        success: Size = (1, 1, 0, 0)  # the status
        if result is not None:
            success = _add(success, o.size(result))
        for p in params:
            if p.mode != "in":
                success = _add(success, o.size(p.type))
        reply = _either(success, (2, 2, 0, 0))  # an error code and its string's length
        for name in raises:
            exc = decls[name]
            assert isinstance(exc, ir.Exception_)
            user: Size = (2, 2, 0, 0)  # status and exception id
            for f in exc.fields:
                user = _add(user, o.member(f))
            reply = _either(reply, user)
        assert rep is not None and flat(rep) == reply


def _struct(name: str, *fields: ir.Field, base: str | None = None) -> ir.Struct:
    return ir.Struct(name, SP, (), None, base, fields)


def _f(t: ir.Type, optional: bool = False) -> ir.Field:
    return ir.Field("f", t, SP, optional=optional)


CAP = ir.Capability("portal")
SELF_A, SELF_B = ir.Ref("t::A", "struct"), ir.Ref("t::B", "struct")
# (type, declarations) -> can a value of it carry a capability?
HOLDS: list[tuple[str, ir.Type, list[ir.Declaration], bool]] = [
    ("a scalar", ir.Primitive("int32"), [], False),
    ("a capability", CAP, [], True),
    ("a sequence of them", ir.Sequence(CAP, 2), [], True),
    ("an array of strings", ir.Array(ir.String(False, 3), (2,)), [], False),
    ("an interface", ir.Ref("t::I", "interface"), list(_fixed_decls().values()), True),
    ("an enum", ir.Ref("t::E", "enum"), list(_fixed_decls().values()), False),
    ("a typedef of one", ir.Ref("t::T", "typedef"), [ir.Typedef("t::T", SP, (), None, CAP)], True),
    ("a member", SELF_A, [_struct("t::A", _f(ir.Primitive("int8")), _f(CAP))], True),
    ("no member", SELF_A, [_struct("t::A", _f(ir.Primitive("int8")))], False),
    ("a base's member", SELF_A, [_struct("t::A", base="t::B"), _struct("t::B", _f(CAP))], True),
    (
        "a base without",
        SELF_A,
        [_struct("t::A", base="t::B"), _struct("t::B", _f(ir.Primitive("int8")))],
        False,
    ),
    (
        "a union case",
        ir.Ref("t::U", "union"),
        [
            ir.Union_(
                "t::U",
                SP,
                (),
                None,
                ir.Primitive("int32"),
                (ir.UnionCase((1,), False, _f(CAP)),),
                False,
            )
        ],
        True,
    ),
    (
        "no union case",
        ir.Ref("t::U", "union"),
        [
            ir.Union_(
                "t::U",
                SP,
                (),
                None,
                ir.Primitive("int32"),
                (ir.UnionCase((1,), False, _f(ir.Primitive("int8"))),),
                False,
            )
        ],
        False,
    ),
    (
        "an exception's member",
        ir.Ref("t::X", "exception"),
        [ir.Exception_("t::X", SP, (), None, 1, (_f(CAP),))],
        True,
    ),
    (
        "an exception without",
        ir.Ref("t::X", "exception"),
        [ir.Exception_("t::X", SP, (), None, 1, (_f(ir.Primitive("int8")),))],
        False,
    ),
    ("itself, no capability", SELF_A, [_struct("t::A", _f(ir.Sequence(SELF_A)))], False),
    ("itself and one", SELF_A, [_struct("t::A", _f(ir.Sequence(SELF_A)), _f(CAP))], True),
    # A reaches B reaches A; only B holds the capability, found after the cycle closes.
    (
        "through a cycle",
        SELF_A,
        [
            _struct("t::A", _f(ir.Sequence(SELF_B))),
            _struct("t::B", _f(ir.Sequence(SELF_A)), _f(CAP)),
        ],
        True,
    ),
    (
        "a cycle without",
        SELF_A,
        [_struct("t::A", _f(ir.Sequence(SELF_B))), _struct("t::B", _f(ir.Sequence(SELF_A)))],
        False,
    ),
]


@pytest.mark.parametrize(("t", "decls", "want"), [h[1:] for h in HOLDS], ids=[h[0] for h in HOLDS])
def test_can_hold_capabilities(t: ir.Type, decls: list[ir.Declaration], want: bool) -> None:
    from idlc.layout import layout_for

    lay = layout_for(_spec({d.name: d for d in decls}), "x86_64")
    assert lay.can_hold_capabilities(t) is want
    assert lay.can_hold_capabilities(t) is want  # again, from what was cached
    # B answered on its own agrees with A's answer where B is what holds it
    if decls and isinstance(decls[-1], ir.Struct) and decls[-1].name == "t::B":
        b_holds = any(isinstance(f.type, ir.Capability) for f in decls[-1].fields)
        assert lay.can_hold_capabilities(SELF_B) is b_holds


def test_optional_members_and_what_is_unsized() -> None:
    from idlc.layout import UnsizedType, layout_for

    lay = layout_for(_spec({}), "x86_32")
    s = lay.field_size(ir.String(False, 8), optional=True)
    assert flat(s) == (1, 1 + 1 + 2, 0, 0)
    s = lay.field_size(CAP, optional=False)
    assert flat(s) == (0, 0, 1, 1)
    s = lay.field_size(ir.Sequence(CAP, 3), optional=True)
    assert flat(s) == (1, 2, 0, 3)
    for t, what in (
        (ir.Fixed(5, 2), "fixed"),
        (ir.Map(CAP, CAP), "map"),
        (ir.Opaque("any"), "any"),
    ):
        with pytest.raises(UnsizedType) as e:
            lay.size(t)
        assert e.value.what == what and str(e.value) == what
    with pytest.raises(UnsizedType) as e:
        lay.size(ir.Sequence(ir.Fixed(5, 2)))
    assert e.value.what == "fixed"


def test_compute_sizes_skips_only_what_it_must() -> None:
    from idlc.layout import compute_sizes

    def method(name: str, t: ir.Type, fid: int) -> ir.Method:
        p = (ir.Param("x", "in", t, SP),)
        return ir.Method(name, "operation", "t::I", fid, fid, False, None, p, (), SP)

    bad, good = method("bad", ir.Opaque("any"), 0), method("good", ir.Primitive("int8"), 1)
    iface = ir.Interface("t::I", SP, (), None, "interface", 1, (), (bad, good), (bad, good))
    other = ir.Interface("t::J", SP, (), None, "interface", 2, (), (good,), (good,))
    first = _struct("t::S", _f(ir.Primitive("int8")))
    sizes = compute_sizes(_spec({d.name: d for d in (first, iface, other)}))
    for arch in WORD:
        assert set(sizes[arch]) == {"t::I", "t::J"}
        assert set(sizes[arch]["t::I"]) == {"good"} and set(sizes[arch]["t::J"]) == {"good"}
