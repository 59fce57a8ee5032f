"""The JSON IR: every construct serialises to plain JSON that round-trips unchanged."""

from __future__ import annotations

import json
import math
import struct
from typing import Any

from idlc import ir
from idlc.irjson import dumps, to_json, type_, value
from idlc.source import Span


def sp(line: int, col: int = 1) -> Span:
    return Span("t.idl", line, col, line, col + 1)


def sample() -> ir.Specification:
    point = ir.Struct(
        "demo::Point",
        sp(2),
        (ir.Annotation("final"),),
        "A point.",
        None,
        (
            ir.Field("x", ir.Primitive("int32"), sp(3)),
            ir.Field("tag", ir.String(False, 16), sp(4), optional=True),
        ),
    )
    color = ir.Enum(
        "demo::Color",
        sp(6),
        (),
        None,
        (ir.Enumerator("RED", 0, sp(6, 20)), ir.Enumerator("BLUE", 7, sp(6, 30))),
    )
    shape = ir.Union_(
        "demo::Shape",
        sp(8),
        (),
        None,
        ir.Ref("demo::Color", "enum"),
        (
            ir.UnionCase(
                (ir.EnumValue("demo::Color", "RED", 0),),
                False,
                ir.Field("p", ir.Ref("demo::Point", "struct"), sp(9)),
            ),
        ),
        True,
    )
    flags = ir.Bitmask("demo::Flags", sp(11), (), None, 16, (ir.Enumerator("A", 3, sp(11)),))
    bits = ir.Bitset(
        "demo::Bits", sp(12), (), None, None, (ir.Bitfield("lo", 3, ir.Primitive("uint8")),)
    )
    row = ir.Typedef("demo::Row", sp(13), (), None, ir.Array(ir.Primitive("int16"), (3, 2)))
    nan = ir.Const("demo::NAN", sp(14), (), None, ir.Primitive("double"), math.nan)
    inf = ir.Const("demo::NEG", sp(15), (), None, ir.Primitive("double"), -math.inf)
    big = ir.Const("demo::BIG", sp(16), (), None, ir.Primitive("uint64"), 2**64 - 1)
    col = ir.Const(
        "demo::C",
        sp(17),
        (),
        None,
        ir.Ref("demo::Color", "enum"),
        ir.EnumValue("demo::Color", "BLUE", 7),
    )
    exc = ir.Exception_(
        "demo::Empty", sp(18), (), None, 0xDEADBEEF, (ir.Field("why", ir.String(False), sp(18)),)
    )
    ping = ir.Method(
        "ping",
        "operation",
        "demo::Echo",
        0,
        0x10000,
        False,
        ir.String(False, 64),
        (
            ir.Param("text", "in", ir.String(False, 64), sp(21)),
            ir.Param("pt", "out", ir.Capability("portal"), sp(21, 40), translate=True, rights=3),
        ),
        ("demo::Empty",),
        sp(21),
    )
    log = ir.Method(
        "log",
        "operation",
        "demo::Echo",
        1,
        0x10001,
        True,
        None,
        (ir.Param("line", "in", ir.Sequence(ir.Ref("demo::Row", "typedef")), sp(22)),),
        (),
        sp(22),
    )
    echo = ir.Interface(
        "demo::Echo",
        sp(20),
        (ir.Annotation("id", (("value", 1),)),),
        None,
        "interface",
        1,
        (),
        (ping, log),
        (ping, log),
    )
    derived = ir.Interface(
        "demo::More", sp(24), (), None, "interface", 0x2222, ("demo::Echo",), (), (ping, log)
    )
    vt = ir.Unsupported("demo::V", sp(26), (), None, "valuetype")
    return ir.Specification(
        "t.idl",
        ("t.idl", "inc.idl"),
        (
            ir.Module("demo", sp(1), (), None),
            point,
            color,
            shape,
            flags,
            bits,
            row,
            nan,
            inf,
            big,
            col,
            exc,
            echo,
            derived,
            vt,
            ir.Native("demo::N", sp(27), (), None),
        ),
        (ir.Pragma("prefix", '"omg.org"', sp(1)),),
    )


def by_name(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found = [d for d in doc["declarations"] if d["name"] == name]
    assert len(found) == 1
    result: dict[str, Any] = found[0]
    return result


def test_round_trip_through_json() -> None:
    spec = sample()
    doc = to_json(spec)
    assert json.loads(dumps(spec)) == doc
    assert json.loads(json.dumps(doc, allow_nan=False)) == doc


def test_header_and_order() -> None:
    doc = to_json(sample())
    assert doc["ir_version"] == ir.IR_VERSION
    assert doc["main_file"] == "t.idl"
    assert doc["files"] == ["t.idl", "inc.idl"]
    assert [d["kind"] for d in doc["declarations"]] == [
        "module",
        "struct",
        "enum",
        "union",
        "bitmask",
        "bitset",
        "typedef",
        "const",
        "const",
        "const",
        "const",
        "exception",
        "interface",
        "interface",
        "valuetype",
        "native",
    ]
    assert doc["pragmas"] == [
        {"name": "prefix", "args": '"omg.org"', "loc": {"file": "t.idl", "line": 1, "col": 1}}
    ]


def test_struct_and_fields() -> None:
    point = by_name(to_json(sample()), "demo::Point")
    assert point["loc"] == {"file": "t.idl", "line": 2, "col": 1}
    assert point["doc"] == "A point."
    assert point["annotations"] == [{"name": "final", "args": {}}]
    assert point["base"] is None
    tag = point["fields"][1]
    assert tag["type"] == {"string": {"wide": False, "bound": 16}}
    assert tag["optional"] is True


def test_types_are_tagged() -> None:
    assert type_(ir.Primitive("int32")) == {"primitive": "int32"}
    assert type_(ir.Sequence(ir.Ref("demo::Point", "struct"), 4)) == {
        "sequence": {"element": {"ref": "demo::Point", "kind": "struct"}, "bound": 4}
    }
    assert type_(ir.Array(ir.Primitive("octet"), (2, 3))) == {
        "array": {"element": {"primitive": "octet"}, "dims": [2, 3]}
    }
    assert type_(ir.Capability("portal")) == {"capability": "portal"}
    assert type_(ir.Opaque("any")) == {"opaque": "any"}
    assert type_(ir.Map(ir.String(True), ir.Fixed(5, 2))) == {
        "map": {
            "key": {"string": {"wide": True, "bound": None}},
            "value": {"fixed": {"digits": 5, "scale": 2}},
            "bound": None,
        }
    }


def test_values_are_json_safe() -> None:
    doc = to_json(sample())
    assert by_name(doc, "demo::NAN")["value"] == {"float": "nan"}
    assert by_name(doc, "demo::NEG")["value"] == {"float": "-inf"}
    assert by_name(doc, "demo::BIG")["value"] == 2**64 - 1
    assert by_name(doc, "demo::C")["value"] == {"enum": "demo::Color", "name": "BLUE", "value": 7}
    assert value(True) is True
    assert value(1.5) == 1.5
    payload = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000001))[0]
    assert value(payload) == {"bits": "0x7ff0000000000001"}


def test_union_and_enum() -> None:
    doc = to_json(sample())
    shape = by_name(doc, "demo::Shape")
    assert shape["discriminator"] == {"ref": "demo::Color", "kind": "enum"}
    assert shape["implicit_default"] is True
    assert shape["cases"][0]["labels"] == [{"enum": "demo::Color", "name": "RED", "value": 0}]
    assert shape["cases"][0]["default"] is False
    color = by_name(doc, "demo::Color")
    assert [(e["name"], e["value"]) for e in color["enumerators"]] == [("RED", 0), ("BLUE", 7)]
    assert by_name(doc, "demo::Bits")["fields"] == [
        {"name": "lo", "width": 3, "type": {"primitive": "uint8"}}
    ]


def test_interface_methods_and_sizes() -> None:
    doc = to_json(sample())
    echo = by_name(doc, "demo::Echo")
    assert echo["iid"] == 1
    assert echo["annotations"] == [{"name": "id", "args": {"value": 1}}]
    ping = echo["methods"][0]
    assert ping["opcode"] == 0x10000
    assert ping["raises"] == ["demo::Empty"]
    assert ping["params"][1]["translate"] is True
    assert ping["params"][1]["rights"] == 3
    assert echo["methods"][1]["result"] is None
    more = by_name(doc, "demo::More")
    assert more["methods"] == []
    assert more["all_methods"] == [
        {"interface": "demo::Echo", "name": "ping", "opcode": 0x10000},
        {"interface": "demo::Echo", "name": "log", "opcode": 0x10001},
    ]
    sizes = doc["sizes"]["x86_64"]["demo::Echo"]
    assert sizes["ping"]["request"] == {
        "min_words": 2,
        "max_words": 10,
        "min_items": 0,
        "max_items": 0,
    }
    assert sizes["ping"]["reply"]["max_items"] == 1
    assert sizes["log"]["reply"] is None
    assert sizes["log"]["request"]["max_words"] is None
    assert set(doc["sizes"]["x86_32"]) == {"demo::Echo", "demo::More"}


def test_precomputed_sizes_are_used() -> None:
    spec = sample()
    given = ir.Specification(
        spec.main_file,
        spec.files,
        spec.declarations,
        spec.pragmas,
        {"x86_64": {"demo::Echo": {"ping": (ir.MessageSize(1, 1, 0, 0), None)}}},
    )
    assert to_json(given)["sizes"] == {
        "x86_64": {
            "demo::Echo": {
                "ping": {
                    "request": {"min_words": 1, "max_words": 1, "min_items": 0, "max_items": 0},
                    "reply": None,
                }
            }
        }
    }
