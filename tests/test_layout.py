"""Encoded sizes per WIRE.md §3, on IR built by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from idlc import ir
from idlc.layout import (
    ARCHES,
    FRAME_LIMITS,
    UnsizedType,
    compute_sizes,
    method_sizes,
    type_size,
)
from idlc.source import Span

MS = ir.MessageSize


def sp(line: int = 1, col: int = 1) -> Span:
    return Span("t.idl", line, col, line, col + 1)


def prim(kind: str) -> ir.Primitive:
    return ir.Primitive(kind)


def fld(name: str, t: ir.Type, *, optional: bool = False, line: int = 1) -> ir.Field:
    return ir.Field(name, t, sp(line), optional=optional)


def struct(name: str, *fields: ir.Field, base: str | None = None) -> ir.Struct:
    return ir.Struct(name, sp(), (), None, base, fields)


def spec(*decls: ir.Declaration) -> ir.Specification:
    return ir.Specification("t.idl", ("t.idl",), decls)


def ref(decl: ir.Declaration) -> ir.Ref:
    return ir.Ref(decl.name, decl.kind)


def size(t: ir.Type, arch: str, *decls: ir.Declaration) -> ir.MessageSize:
    return type_size(spec(*decls), t, arch)


def both(t: ir.Type, *decls: ir.Declaration) -> tuple[ir.MessageSize, ir.MessageSize]:
    return size(t, "x86_64", *decls), size(t, "x86_32", *decls)


def test_tables() -> None:
    assert ARCHES == {"x86_64": 8, "x86_32": 4}
    assert FRAME_LIMITS == {"x86_64": (253, 126), "x86_32": (509, 254)}


@pytest.mark.parametrize("kind", ["boolean", "octet", "char", "wchar", "int8", "uint16", "float"])
def test_small_scalars_are_one_word(kind: str) -> None:
    assert both(prim(kind)) == (MS(1, 1, 0, 0), MS(1, 1, 0, 0))


@pytest.mark.parametrize("kind", ["int64", "uint64", "double"])
def test_wide_scalars_take_two_words_on_x86_32(kind: str) -> None:
    assert both(prim(kind)) == (MS(1, 1, 0, 0), MS(2, 2, 0, 0))


def test_struct_of_int64() -> None:
    s = struct("demo::S", fld("a", prim("int64")))
    assert both(ref(s), s) == (MS(1, 1, 0, 0), MS(2, 2, 0, 0))


def test_struct_includes_base_members() -> None:
    base = struct("demo::B", fld("x", prim("int32")), fld("y", prim("double")))
    derived = struct("demo::D", fld("z", prim("octet")), base="demo::B")
    assert both(ref(derived), base, derived) == (MS(3, 3, 0, 0), MS(4, 4, 0, 0))


def test_bounded_octet_sequence() -> None:
    t = ir.Sequence(prim("octet"), 3)
    assert both(t) == (MS(1, 2, 0, 0), MS(1, 2, 0, 0))
    # 9 octets need two words of 8 bytes, three of 4.
    assert both(ir.Sequence(prim("octet"), 9)) == (MS(1, 3, 0, 0), MS(1, 4, 0, 0))


def test_packed_int64_sequence_same_on_both_arches() -> None:
    t = ir.Sequence(prim("int64"), 2)
    assert both(t) == (MS(1, 3, 0, 0), MS(1, 5, 0, 0))


def test_packed_int64_words_by_bytes() -> None:
    # WIRE: a 64-bit element is 8 bytes in a run on both arches; the run is 16 bytes,
    # so 2 words of 8 or 4 words of 4.
    t = ir.Array(prim("int64"), (2,))
    assert both(t) == (MS(2, 2, 0, 0), MS(4, 4, 0, 0))


def test_unbounded_sequence_of_packable_has_no_max() -> None:
    assert both(ir.Sequence(prim("int32"))) == (MS(1, None, 0, 0), MS(1, None, 0, 0))


def test_strings() -> None:
    assert both(ir.String(False, 16)) == (MS(1, 3, 0, 0), MS(1, 5, 0, 0))
    assert both(ir.String(False)) == (MS(1, None, 0, 0), MS(1, None, 0, 0))
    # wstring<3>: 12 bytes of UTF-32.
    assert both(ir.String(True, 3)) == (MS(1, 3, 0, 0), MS(1, 4, 0, 0))


def test_multidimensional_array_of_typedef_row_is_one_run() -> None:
    row = ir.Typedef("demo::Row", sp(), (), None, ir.Array(prim("int16"), (3,)))
    g = ir.Array(ref(row), (2,))
    # 6 int16 = 12 bytes: 2 words of 8, 3 of 4.
    assert both(g, row) == (MS(2, 2, 0, 0), MS(3, 3, 0, 0))
    seq = ir.Sequence(ref(row), 2)
    assert both(seq, row) == (MS(1, 3, 0, 0), MS(1, 4, 0, 0))


def test_enum_packs_as_four_bytes() -> None:
    e = ir.Enum("demo::E", sp(), (), None, (ir.Enumerator("A", 0, sp()),))
    assert both(ref(e), e) == (MS(1, 1, 0, 0), MS(1, 1, 0, 0))
    assert both(ir.Array(ref(e), (3,)), e) == (MS(2, 2, 0, 0), MS(3, 3, 0, 0))


def test_bitmask_width_follows_bit_bound() -> None:
    small = ir.Bitmask("demo::Small", sp(), (), None, 32, ())
    big = ir.Bitmask("demo::Big", sp(), (), None, 33, ())
    assert both(ref(small), small) == (MS(1, 1, 0, 0), MS(1, 1, 0, 0))
    assert both(ref(big), big) == (MS(1, 1, 0, 0), MS(2, 2, 0, 0))


def test_non_packable_elements_are_elementwise() -> None:
    s = struct("demo::P", fld("x", prim("int32")), fld("y", prim("int64")))
    assert both(ir.Sequence(ref(s), 4), s) == (MS(1, 9, 0, 0), MS(1, 13, 0, 0))
    assert both(ir.Array(ref(s), (2, 2)), s) == (MS(8, 8, 0, 0), MS(12, 12, 0, 0))
    strings = ir.Array(ir.String(False, 8), (2,))
    assert both(strings) == (MS(2, 4, 0, 0), MS(2, 6, 0, 0))


def test_optional_member() -> None:
    s = struct("demo::O", fld("a", ir.String(False, 8), optional=True))
    assert both(ref(s), s) == (MS(1, 3, 0, 0), MS(1, 4, 0, 0))


def _union(implicit_default: bool) -> tuple[ir.Union_, ir.Struct]:
    pair = struct("demo::Pair", fld("a", prim("int32")), fld("b", prim("int32")))
    u = ir.Union_(
        "demo::U",
        sp(),
        (),
        None,
        prim("int64"),
        (
            ir.UnionCase((1,), False, fld("one", prim("octet"))),
            ir.UnionCase((2,), False, fld("two", ref(pair))),
        ),
        implicit_default,
    )
    return u, pair


def test_union_discriminator_plus_cases() -> None:
    u, pair = _union(False)
    assert both(ref(u), u, pair) == (MS(2, 3, 0, 0), MS(3, 4, 0, 0))


def test_union_implicit_default_may_select_nothing() -> None:
    u, pair = _union(True)
    assert both(ref(u), u, pair) == (MS(1, 3, 0, 0), MS(2, 4, 0, 0))


def test_capabilities_are_items() -> None:
    iface = ir.Interface("demo::I", sp(), (), None, "interface", 1, (), (), ())
    assert both(ref(iface), iface)[0] == MS(0, 0, 1, 1)
    assert both(ir.Capability("memory"))[1] == MS(0, 0, 1, 1)
    assert both(ir.Sequence(ir.Capability("portal"), 3))[0] == MS(1, 1, 0, 3)
    # Unbounded: the length word is still bounded, the items are not.
    assert both(ir.Sequence(ir.Capability("portal")))[0] == MS(1, 1, 0, None)


def test_unbounded_sequence_of_strings_has_no_items() -> None:
    assert both(ir.Sequence(ir.String(False)))[0] == MS(1, None, 0, 0)


def test_recursive_struct() -> None:
    tree = struct(
        "demo::Tree",
        fld("v", prim("int32")),
        fld("kids", ir.Sequence(ir.Ref("demo::Tree", "struct"), 2)),
    )
    assert both(ref(tree), tree) == (MS(2, None, 0, 0), MS(2, None, 0, 0))


def test_recursive_struct_with_capability_has_unbounded_items() -> None:
    node = struct(
        "demo::Node",
        fld("p", ir.Capability("portal")),
        fld("next", ir.Sequence(ir.Ref("demo::Node", "struct"), 1)),
    )
    assert size(ref(node), "x86_64", node) == MS(1, None, 1, None)


def test_mutual_recursion_through_union() -> None:
    a = struct("demo::A", fld("bs", ir.Sequence(ir.Ref("demo::B", "union"))))
    b = ir.Union_(
        "demo::B",
        sp(),
        (),
        None,
        prim("int32"),
        (ir.UnionCase((1,), False, fld("a", ir.Ref("demo::A", "struct"))),),
        False,
    )
    s = spec(a, b)
    assert type_size(s, ref(a), "x86_64") == MS(1, None, 0, 0)
    # B's minimum is its discriminator plus A's length word, even though B was first
    # reached while A was being sized.
    assert type_size(s, ref(b), "x86_64") == MS(2, None, 0, 0)


def test_unsized_types_raise() -> None:
    with pytest.raises(UnsizedType):
        size(ir.Opaque("any"), "x86_64")
    with pytest.raises(UnsizedType):
        size(prim("longdouble"), "x86_64")
    with pytest.raises(UnsizedType):
        size(ir.Ref("demo::Missing", "struct"), "x86_64")
    with pytest.raises(ValueError):
        size(prim("int32"), "arm")


def _method(
    name: str,
    params: tuple[ir.Param, ...] = (),
    *,
    result: ir.Type | None = None,
    raises: tuple[str, ...] = (),
    oneway: bool = False,
    fid: int = 0,
) -> ir.Method:
    return ir.Method(
        name, "operation", "demo::I", fid, 0x10000 | fid, oneway, result, params, raises, sp()
    )


def test_method_sizes_request_and_reply() -> None:
    exc = ir.Exception_(
        "demo::Bad", sp(), (), None, 7, (fld("code", prim("int64")), fld("what", prim("int32")))
    )
    m = _method(
        "op",
        (
            ir.Param("a", "in", prim("int64"), sp()),
            ir.Param("b", "out", prim("int32"), sp()),
            ir.Param("c", "inout", ir.String(False, 8), sp()),
        ),
        result=prim("double"),
        raises=("demo::Bad",),
    )
    s = spec(exc)
    req, rep = method_sizes(s, m, "x86_64")
    assert req == MS(3, 4, 0, 0)  # opcode, a, c (1..2)
    # success: status, result, b, c = 4..5; error: 2; exception: status, id, 2 members = 4.
    assert rep == MS(2, 5, 0, 0)
    req32, rep32 = method_sizes(s, m, "x86_32")
    assert req32 == MS(4, 6, 0, 0)
    # success: 1 + 2 + 1 + (1..3) = 5..7; exception: 2 + 2 + 1 = 5.
    assert rep32 == MS(2, 7, 0, 0)


def test_exception_can_dominate_reply() -> None:
    exc = ir.Exception_("demo::Big", sp(), (), None, 7, (fld("why", ir.String(False, 64)),))
    m = _method("op", raises=("demo::Big",))
    _, rep = method_sizes(spec(exc), m, "x86_64")
    assert rep == MS(1, 11, 0, 0)  # status + id + 1..9 words


def test_error_string_does_not_unbound_the_reply() -> None:
    _, rep = method_sizes(spec(), _method("ping"), "x86_64")
    assert rep == MS(1, 2, 0, 0)


def test_oneway_has_no_reply() -> None:
    m = _method("log", (ir.Param("line", "in", ir.String(False), sp()),), oneway=True)
    assert method_sizes(spec(), m, "x86_64") == (MS(2, None, 0, 0), None)


def test_compute_sizes_covers_all_methods_and_skips_unsized() -> None:
    good = _method("good", (ir.Param("x", "in", prim("int64"), sp()),))
    bad = _method("bad", (ir.Param("x", "in", ir.Opaque("any"), sp()),), fid=1)
    base = ir.Interface("demo::Base", sp(), (), None, "interface", 1, (), (good,), (good,))
    derived = ir.Interface(
        "demo::D", sp(), (), None, "interface", 2, ("demo::Base",), (bad,), (good, bad)
    )
    sizes = compute_sizes(spec(base, derived))
    assert set(sizes) == {"x86_64", "x86_32"}
    assert sizes["x86_32"]["demo::D"] == {"good": (MS(3, 3, 0, 0), MS(1, 2, 0, 0))}
    assert sizes["x86_64"]["demo::Base"]["good"][0] == MS(2, 2, 0, 0)


# --- properties ----------------------------------------------------------------------

_SIZED_PRIMITIVES = [k for k in ir.PRIMITIVE_KINDS if k != "longdouble"]


def _types() -> st.SearchStrategy[ir.Type]:
    leaves: st.SearchStrategy[ir.Type] = st.one_of(
        st.sampled_from(_SIZED_PRIMITIVES).map(ir.Primitive),
        st.builds(ir.String, st.booleans(), st.none() | st.integers(1, 40)),
        st.sampled_from(["portal", "memory", "ioports"]).map(ir.Capability),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(ir.Sequence, inner, st.none() | st.integers(1, 5)),
            st.builds(
                ir.Array, inner, st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple)
            ),
        ),
        max_leaves=4,
    )


@given(_types())
def test_size_bounds_are_consistent(t: ir.Type) -> None:
    s64, s32 = both(t)
    for s in (s64, s32):
        assert s.max_words is None or s.min_words <= s.max_words
        assert s.max_items is None or s.min_items <= s.max_items
    # Items do not depend on the word size; words never shrink with smaller words.
    assert (s64.min_items, s64.max_items) == (s32.min_items, s32.max_items)
    assert s64.min_words <= s32.min_words
    assert (s64.max_words is None) == (s32.max_words is None)
    if s64.max_words is not None and s32.max_words is not None:
        assert s64.max_words <= s32.max_words
