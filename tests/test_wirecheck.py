"""The compile errors WIRE.md names, on IR built by hand."""

from __future__ import annotations

from idlc import errcodes, ir
from idlc.diagnostics import Diagnostics
from idlc.source import Span
from idlc.wirecheck import ITEM_LIMIT, capabilities, check, is_capability

OPCODE = errcodes.OPCODE_COLLISION.code
EID = errcodes.EXCEPTION_ID_COLLISION.code
MIXED = errcodes.CAP_MIXED_KINDS.code
UNBOUNDED = errcodes.CAP_UNBOUNDED.code
TOO_MANY = errcodes.CAP_TOO_MANY.code
OPTIONAL = errcodes.OPTIONAL_CAPABILITY.code
FIT = errcodes.W_MAY_NOT_FIT.code


def sp(line: int, col: int = 1) -> Span:
    return Span("t.idl", line, col, line, col + 1)


def spec(*decls: ir.Declaration) -> ir.Specification:
    return ir.Specification("t.idl", ("t.idl",), decls)


def run(*decls: ir.Declaration) -> Diagnostics:
    diags = Diagnostics()
    check(spec(*decls), diags)
    return diags


def method(
    iface: str,
    name: str,
    opcode: int,
    line: int,
    params: tuple[ir.Param, ...] = (),
    *,
    result: ir.Type | None = None,
    raises: tuple[str, ...] = (),
    oneway: bool = False,
) -> ir.Method:
    return ir.Method(
        name,
        "operation",
        iface,
        opcode & 0xFFFF,
        opcode,
        oneway,
        result,
        params,
        raises,
        sp(line),
    )


def interface(
    name: str, iid: int, methods: tuple[ir.Method, ...], bases: tuple[str, ...] = (), line: int = 1
) -> ir.Interface:
    return ir.Interface(name, sp(line), (), None, "interface", iid, bases, methods, methods)


def param(name: str, t: ir.Type, mode: str = "in", *, translate: bool = False) -> ir.Param:
    return ir.Param(name, mode, t, sp(50, ord(name[0]) - 96), translate=translate)


def cap(kind: str) -> ir.Capability:
    return ir.Capability(kind)


# --- opcodes -------------------------------------------------------------------------


def test_distinct_opcodes_are_fine() -> None:
    i = interface(
        "demo::I", 1, (method("demo::I", "a", 0x10000, 2), method("demo::I", "b", 0x10001, 3))
    )
    assert run(i).codes() == []


def test_collision_within_one_interface() -> None:
    i = interface(
        "demo::I", 1, (method("demo::I", "a", 0x10000, 2), method("demo::I", "b", 0x10000, 3))
    )
    diags = run(i)
    assert diags.codes() == [OPCODE]
    d = diags.items[0]
    assert d.span == sp(3)
    assert [n.span for n in d.notes] == [sp(2)]


def test_collision_between_two_bases_is_reported_once_at_the_meeting_point() -> None:
    a = interface("demo::A", 5, (method("demo::A", "x", 0x50000, 2),), line=1)
    b = interface("demo::B", 5, (method("demo::B", "y", 0x50000, 4),), line=3)
    c = interface("demo::C", 6, (), ("demo::A", "demo::B"), line=5)
    d = interface("demo::D", 7, (), ("demo::C",), line=6)
    diags = run(a, b, c, d)
    assert diags.codes() == [OPCODE]
    notes = diags.items[0].notes
    assert diags.items[0].span == sp(4)
    assert [n.span for n in notes] == [sp(2), sp(5)]


def test_own_method_colliding_with_inherited_one_points_at_own() -> None:
    base = interface("demo::Base", 1, (method("demo::Base", "x", 0x10000, 2),))
    derived = interface(
        "demo::D", 1, (method("demo::D", "y", 0x10000, 9),), ("demo::Base",), line=8
    )
    diags = run(base, derived)
    assert diags.codes() == [OPCODE]
    assert diags.items[0].span == sp(9)


def test_diamond_inheritance_is_not_a_collision() -> None:
    top = interface("demo::Top", 1, (method("demo::Top", "t", 0x10000, 2),))
    left = interface("demo::L", 2, (method("demo::L", "l", 0x20000, 3),), ("demo::Top",))
    right = interface("demo::R", 3, (method("demo::R", "r", 0x30000, 4),), ("demo::Top",))
    bottom = interface("demo::B", 4, (), ("demo::L", "demo::R"))
    assert run(top, left, right, bottom).codes() == []


# --- exception ids -------------------------------------------------------------------


def exception(name: str, eid: int, line: int, *fields: ir.Field) -> ir.Exception_:
    return ir.Exception_(name, sp(line), (), None, eid, fields)


def test_exception_id_collision() -> None:
    e1 = exception("demo::E1", 42, 1)
    e2 = exception("demo::E2", 42, 2)
    e3 = exception("demo::E3", 43, 3)
    ok = method("demo::I", "ok", 0x10000, 5, raises=("demo::E1", "demo::E3"))
    bad = method("demo::I", "bad", 0x10001, 6, raises=("demo::E1", "demo::E3", "demo::E2"))
    diags = run(e1, e2, e3, interface("demo::I", 1, (ok, bad)))
    assert diags.codes() == [EID]
    assert diags.items[0].span == sp(6)
    assert [n.span for n in diags.items[0].notes] == [sp(1), sp(2)]


# --- capabilities --------------------------------------------------------------------


def single(
    *params: ir.Param, result: ir.Type | None = None, raises: tuple[str, ...] = ()
) -> ir.Interface:
    m = method("demo::I", "m", 0x10000, 2, params, result=result, raises=raises)
    return interface("demo::I", 1, (m,))


def test_object_kinds_mix_freely() -> None:
    i = single(param("a", cap("portal")), param("b", cap("semaphore")), param("c", cap("pd")))
    assert run(i).codes() == []


def test_delegating_memory_and_objects_is_an_error() -> None:
    i = single(param("a", cap("portal")), param("b", cap("memory")))
    diags = run(i)
    assert diags.codes() == [MIXED]
    # The error is at the memory parameter, its note at the other kind.
    assert diags.items[0].span == sp(50, 2)
    assert [n.span for n in diags.items[0].notes] == [sp(50, 1)]


def test_delegate_one_kind_and_translate_another_is_fine() -> None:
    i = single(param("a", cap("portal")), param("b", cap("memory"), translate=True))
    assert run(i).codes() == []


def test_translated_kinds_mixed_inside_a_struct() -> None:
    s = ir.Struct(
        "demo::S",
        sp(10),
        (),
        None,
        None,
        (
            ir.Field("io", cap("ioports"), sp(11), translate=True),
            ir.Field("mem", cap("memory"), sp(12)),
        ),
    )
    # @translate on the parameter covers the member that lacks it.
    diags = run(s, single(param("s", ir.Ref("demo::S", "struct"), translate=True)))
    assert diags.codes() == [MIXED]
    assert [n.span for n in diags.items[0].notes] == [sp(11), sp(12)]
    # Without it the two members travel differently: fine.
    assert run(s, single(param("s", ir.Ref("demo::S", "struct")))).codes() == []


def test_interface_reference_is_an_object_capability() -> None:
    other = interface("demo::Other", 9, (), line=20)
    i = single(param("a", ir.Ref("demo::Other", "interface")), param("b", cap("ioports")))
    assert run(other, i).codes() == [MIXED]
    assert [c.kind for c in capabilities(spec(other), cap("ec"), False, sp(1))] == ["object"]


def test_reply_kinds_span_success_and_exceptions() -> None:
    e = exception("demo::E", 1, 1, ir.Field("m", cap("memory"), sp(2)))
    i = single(result=cap("portal"), raises=("demo::E",))
    assert run(e, i).codes() == [MIXED]
    # Request and reply are separate messages.
    j = single(param("a", cap("portal")), param("b", cap("memory"), "out"))
    assert run(j).codes() == []


def test_unbounded_capabilities() -> None:
    i = single(param("a", ir.Sequence(cap("portal"))))
    diags = run(i)
    assert diags.codes() == [UNBOUNDED]
    assert diags.items[0].span == sp(50)
    assert run(single(param("a", ir.Sequence(cap("portal"), 4)))).codes() == []
    # without a layout (--check), a warning (WIRE.md 1.1)
    diags = Diagnostics()
    check(spec(i), diags, layout=False)
    assert diags.codes() == [errcodes.W_CHECK_UNBOUNDED_CAPABILITIES.code]
    assert not diags.has_errors


def test_local_interfaces_have_no_messages() -> None:
    m = method("demo::L", "m", 0x10000, 2, (param("a", ir.Sequence(cap("portal"))),))
    n = method("demo::L", "n", 0x10000, 3, (param("b", cap("memory")),))
    local = ir.Interface("demo::L", sp(1), (), None, "local interface", 1, (), (m, n), (m, n))
    assert run(local).codes() == []
    remote = ir.Interface("demo::L", sp(1), (), None, "interface", 1, (), (m, n), (m, n))
    # m and n are served by one skeleton: its requests delegate two kinds (E0512)
    assert run(remote).codes() == [OPCODE, MIXED, UNBOUNDED]


def test_recursive_type_with_capability_is_unbounded() -> None:
    node = ir.Struct(
        "demo::Node",
        sp(10),
        (),
        None,
        None,
        (
            ir.Field("p", cap("sc"), sp(11)),
            ir.Field("next", ir.Sequence(ir.Ref("demo::Node", "struct"), 1), sp(12)),
        ),
    )
    i = single(param("n", ir.Ref("demo::Node", "struct"), "out"))
    assert run(node, i).codes() == [UNBOUNDED, FIT]  # the reply, on both architectures


def test_recursive_type_without_capability_only_may_not_fit() -> None:
    tree = ir.Struct(
        "demo::Tree",
        sp(10),
        (),
        None,
        None,
        (ir.Field("kids", ir.Sequence(ir.Ref("demo::Tree", "struct"), 2), sp(11)),),
    )
    diags = run(tree, single(param("t", ir.Ref("demo::Tree", "struct"))))
    assert diags.codes() == [FIT]
    assert "on x86_64 and x86_32" in diags.items[0].message


def test_too_many_capabilities() -> None:
    assert ITEM_LIMIT == 126
    fits = single(param("a", ir.Array(cap("portal"), (ITEM_LIMIT,))))
    assert run(fits).codes() == []
    over = single(param("a", ir.Array(cap("portal"), (ITEM_LIMIT,))), param("b", cap("portal")))
    assert run(over).codes() == [TOO_MANY]


def test_reply_counts_the_largest_alternative() -> None:
    e = exception("demo::E", 1, 1, ir.Field("p", ir.Array(cap("portal"), (100,)), sp(2)))
    i = single(param("a", ir.Array(cap("portal"), (100,)), "out"), raises=("demo::E",))
    assert run(e, i).codes() == []


# --- @optional capability ------------------------------------------------------------


def test_optional_capability() -> None:
    td = ir.Typedef("demo::Pt", sp(1), (), None, cap("portal"))
    s = ir.Struct(
        "demo::S",
        sp(2),
        (),
        None,
        None,
        (
            ir.Field("a", ir.Ref("demo::Pt", "typedef"), sp(3), optional=True),
            ir.Field("b", ir.Sequence(cap("portal"), 2), sp(4), optional=True),
            ir.Field("c", cap("memory"), sp(5)),
        ),
    )
    diags = run(td, s)
    assert diags.codes() == [OPTIONAL]
    assert diags.items[0].span == sp(3)
    assert is_capability(spec(td), ir.Ref("demo::Pt", "typedef"))
    assert not is_capability(spec(), ir.Sequence(cap("portal")))


# --- frame fit -----------------------------------------------------------------------


def test_may_not_fit_per_arch() -> None:
    def big(n: int) -> ir.Interface:
        return single(param("a", ir.Array(ir.String(False, 8), (n,))))

    # opcode + n times string<8>: 1..2 words each on x86_64 and 1..3 on x86_32.
    assert run(big(120)).codes() == []  # 241 and 361
    diags = run(big(130))  # 261 > 253; 391 fits 509
    assert diags.codes() == [FIT]
    assert diags.items[0].span == sp(2)
    assert diags.items[0].message.endswith("261 words on x86_64; a frame holds 253")
    diags = run(big(200))  # 401 and 601: one warning naming both
    assert diags.codes() == [FIT]
    assert diags.items[0].message.endswith(
        "401 words on x86_64 and 601 words on x86_32; a frame holds 253 and 509"
    )


def test_unbounded_request_warns_once_for_both_arches_and_oneway_has_no_reply() -> None:
    m = method("demo::I", "log", 0x10000, 2, (param("s", ir.String(False)),), oneway=True)
    diags = run(interface("demo::I", 1, (m,)))
    assert diags.codes() == [FIT]
    assert "request" in diags.items[0].message


def test_werror_turns_the_warning_into_an_error() -> None:
    diags = Diagnostics(werror=True)
    check(spec(single(param("s", ir.String(False)))), diags)
    assert diags.has_errors
