"""`idlc wire`, the command that checks a vector or a hand-written message (issue 4, item
5): every conformance vector through the command both ways, and bad input answered with
exit 1 and one line on stderr naming where, never a traceback."""

from __future__ import annotations

import importlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idlc.backends.python.jsonvalue import message_fields
from idlc.backends.python.wire import Loaded, deep, run
from idlc.cli import main
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

from .backend.roundtrip import EXAMPLES, mutated
from .backend.test_conformance import _cases

IDL = """module m {
  struct P { int32 x; int32 y; };
  interface I { P get(in int32 x); };
};
"""


def _run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _argv(idl: Path, case: dict[str, Any]) -> list[str]:
    return [
        "wire",
        str(idl),
        "--arch",
        case["arch"],
        "--interface",
        case["interface"],
        "--method",
        case["method"],
        "--dir",
        case["dir"],
    ]


@pytest.mark.parametrize(("path", "index"), _cases())
def test_vector_through_the_command(
    path: Path, index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads(path.read_text())
    case = data["cases"][index]
    idl = tmp_path / f"{path.stem}.idl"
    idl.write_text(data["idl"])
    message = json.dumps({"words": case["words"], "items": case["items"]})
    code, out, err = _run([*_argv(idl, case), "--decode"], message, monkeypatch)
    if case.get("reject"):
        assert (code, out) == (1, ""), err
        assert err.startswith("idlc wire: does not decode: word") or "item" in err, err
        assert err.count("\n") == 1 and "Traceback" not in err
        return
    assert code == 0, err
    # What the command decoded encodes back to exactly the vector's words and items.
    code, out, err = _run(_argv(idl, case), out, monkeypatch)
    assert code == 0, err
    assert json.loads(out) == {"words": case["words"], "items": case["items"]}
    # And the vector's own values encode to them too.
    code, out, err = _run(_argv(idl, case), json.dumps(case["values"]), monkeypatch)
    assert code == 0, err
    assert json.loads(out) == {"words": case["words"], "items": case["items"]}


@pytest.mark.parametrize(
    ("decode", "stdin", "message"),
    [
        (True, '{"words": ["zz"], "items": []}', 'words[0]: expected a hex string like "0x1f"'),
        (True, '{"words": [5], "items": []}', "words[0]: expected a hex string"),
        (True, '{"words": "0x1", "items": []}', "words: expected a list"),
        (True, '{"words": [], "items": [["0x1"]]}', "items[0]: expected a pair"),
        (True, '{"words": [], "items": [["0x3", 7]]}', "items[0][1]: expected a hex string"),
        (True, "[1, 2]", 'expected {"words": [...], "items": [...]}'),
        (True, '{"words": ["0x1"]}', 'expected {"words": [...], "items": [...]}'),
        (True, "{", "bad input"),
        (True, '{"words": [], "items": []}', "does not decode: word 0"),
        (True, '{"words": ["0x10000000000000000"], "items": []}', "does not fit a 64-bit word"),
        (True, '{"words": ["0x0", "0x1", "0x2", "0x3"], "items": []}', "does not decode"),
        (False, '{"x": "5"}', "x: expected an integer"),
        (False, '{"x": 2147483648}', "cannot encode x"),
        (False, '{"y": 1}', "bad input"),
    ],
)
def test_bad_input_is_one_line(
    decode: bool, stdin: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    idl = tmp_path / "m.idl"
    idl.write_text(IDL)
    case = {"arch": "x86_64", "interface": "m::I", "method": "get", "dir": "request"}
    argv = _argv(idl, case) + (["--decode"] if decode else [])
    code, out, err = _run(argv, stdin, monkeypatch)
    assert (code, out) == (1, "")
    assert message in err
    assert err.startswith("idlc wire: ") and err.count("\n") == 1
    assert "Traceback" not in err


# --- issue 13, item 5: no input ends in an internal error ----------------------------------

ADV = """module adv {
  enum Color { RED, GREEN, BLUE };
  bitmask Flags { F_A, F_B, @position(5) F_C };
  union U switch (Color) { case RED: float f; case GREEN: string<8> s; default: Color c; };
  union N switch (int32) { case 1: sequence<N, 2> more; case 2: int64 leaf; };
  struct Tree { sequence<Tree> kids; @optional Tree next; };
  struct All {
    int8 i8; uint8 u8; int16 i16; uint16 u16; int32 i32; uint32 u32; int64 i64; uint64 u64;
    float f; double d; boolean b; char c; wchar wc; string s; wstring ws; string<4> bs;
    sequence<octet> bytes; octet arr[3]; int32 grid[2][2]; sequence<float, 3> fs;
    Color e; Flags fl; U u; @optional double od;
  };
  exception Oops { string why; float level; };
  interface I {
    All put(in All a, in Tree t, in N n, @translate in nova::Semaphore sm, inout float x,
      out int64 y)
      raises (Oops);
    void map(@max_order(2) in nova::Memory m, @translate in nova::Portal p);
    nova::IoPorts ports(in sequence<uint64, 2> v, in Flags f);
    float f32(in float v);
    N deep(in N n);
    Tree tree(in Tree t);
  };
};
"""
# A valid request of put, to vary one value at a time.
_ALL = {
    "i8": -1, "u8": 1, "i16": -1, "u16": 1, "i32": -1, "u32": 1, "i64": -1, "u64": 1,
    "f": 1.5, "d": -2.25, "b": True, "c": "x", "wc": "é", "s": "hi", "ws": "wide", "bs": "abcd",
    "bytes": {"bytes": "00ff"}, "arr": {"bytes": "010203"}, "grid": [[1, 2], [3, 4]],
    "fs": [0.5], "e": "GREEN", "fl": ["F_A", "F_C"], "u": {"_d": "GREEN", "s": "eight"},
    "od": None,
}  # fmt: skip
_PUT = {"a": _ALL, "t": {"kids": [], "next": None}, "n": {"_d": 2, "leaf": 5}, "sm": None,
        "x": 0.0}  # fmt: skip


def _put(**changes: Any) -> str:
    """put's request with members of `a` (or other parameters, `__` prefixed) changed."""
    a = {**_ALL, **{k: v for k, v in changes.items() if not k.startswith("__")}}
    rest = {k[2:]: v for k, v in changes.items() if k.startswith("__")}
    return json.dumps({**_PUT, "a": a, **rest})


def _raw(text: str, **changes: Any) -> str:
    """_put with the value of member `a.X` spelled as raw JSON text (Infinity, 1e999...)."""
    ((name, _),) = changes.items()
    return _put(**{name: "@RAW@"}).replace('"@RAW@"', text)


def _f32(word: str) -> str:
    """f32's reply: status 0, then the binary32 word."""
    return json.dumps({"words": ["0x0", word], "items": []})


def _tree(levels: int) -> str:
    """tree's request: a Tree nested `levels` deep in its first kid."""
    tree = '{"kids": [' * levels + '{"kids": [], "next": null}' + '], "next": null}' * levels
    return '{"t": ' + tree + "}"


def _deep(levels: int) -> str:
    """deep's reply: union N's case 1 with one element, `levels` times, then a leaf."""
    words = ["0x0", *["0x1", "0x1"] * levels, "0x2", "0x5"]
    return json.dumps({"words": words, "items": []})


# (decode, method, direction, stdin, exit status, what stderr or stdout says)
# fmt: off
EDGES = [
    # binary32 edges decode to the shortest decimal that gives the bits back
    (True, "f32", "reply", _f32("0x7f7fffff"), 0, '"return": 3.4028235e+38'),
    (True, "f32", "reply", _f32("0xff7fffff"), 0, '"return": -3.4028235e+38'),
    (True, "f32", "reply", _f32("0x00000001"), 0, '"return": 1e-45'),
    (True, "f32", "reply", _f32("0x7f800000"), 0, '"return": {"float": "inf"}'),
    (True, "f32", "reply", _f32("0xff800000"), 0, '"return": {"float": "-inf"}'),
    (True, "f32", "reply", _f32("0x7fc00000"), 0, '"return": {"float": "nan"}'),
    (True, "f32", "reply", _f32("0x7fc00001"), 0, '"return": {"bits": "0x7fc00001"}'),
    (True, "f32", "reply", _f32("0x7f800001"), 1, "signalling NaN"),
    # encoding: numbers past the type, NaN and infinities as JSON, {"bits"} and {"float"}
    (False, "put", "request", _put(f={"bits": "0x100000000"}), 1, "a.f.bits: does not fit 32"),
    (False, "put", "request", _put(d={"bits": "0x1" + "0" * 16}), 1, "a.d.bits: does not fit 64"),
    (False, "put", "request", _put(f={"bits": "-0x1"}), 1, "a.f.bits: expected a hex string"),
    (False, "put", "request", _put(f={"bits": 7}), 1, "a.f.bits: expected a hex string"),
    (False, "put", "request", _put(f={"bits": "0x7f7fffff"}), 0, '"words"'),
    (False, "put", "request", _put(f={"float": "Infinity"}), 1, "a.f: expected a number"),
    (False, "put", "request", _put(f={"float": ["inf"]}), 1, "a.f: expected a number"),
    (False, "put", "request", _put(f={"float": "-inf"}), 0, '"words"'),
    (False, "put", "request", _raw("Infinity", f=0), 1, "Infinity is not JSON"),
    (False, "put", "request", _raw("-Infinity", d=0), 1, "-Infinity is not JSON"),
    (False, "put", "request", _raw("NaN", f=0), 1, "NaN is not JSON"),
    (False, "put", "request", _raw("Infinity", i32=0), 1, "Infinity is not JSON"),
    (False, "put", "request", _raw("3.4028235e38", f=0), 0, '"words"'),
    (False, "put", "request", _raw("3.4028236e38", f=0), 1, "a.f: 3.4028236E+38 rounds to"),
    (False, "put", "request", _raw("1e999999999", f=0), 1, "a.f: 1E+999999999 rounds to"),
    (False, "put", "request", _raw("-1e-999999999", f=0), 0, '"words"'),
    (False, "put", "request", _raw("1e-999999999", d=0), 0, '"words"'),
    (False, "put", "request", _raw("1e309", d=0), 1, "a.d: 1E+309 rounds to infinity"),
    (False, "put", "request", _raw("1" + "0" * 400, d=0), 1, "a.d: 1000"),
    (False, "put", "request", _raw("1" + "0" * 400, f=0), 1, "rounds to infinity as a float"),
    (False, "put", "request", _raw("1" + "0" * 5000, i64=0), 1, "bad input: Exceeds the limit"),
    (False, "put", "request", _raw("1.0", i8=0), 1, "a.i8: expected an integer"),
    # integers, enums, bitmasks out of range or of the wrong JSON type
    (False, "put", "request", _put(i8=128), 1, "cannot encode a.i8: 128 is out of range"),
    (False, "put", "request", _put(u8=-1), 1, "cannot encode a.u8: -1 is out of range"),
    (False, "put", "request", _put(u32=2**32), 1, "cannot encode a.u32: 4294967296 is out"),
    (False, "put", "request", _put(u64=2**64), 1, "cannot encode a.u64"),
    (False, "put", "request", _put(i64=-(2**63) - 1), 1, "cannot encode a.i64"),
    (False, "put", "request", _put(b=1), 1, "a.b: expected true or false"),
    (False, "put", "request", _put(e="PURPLE"), 1, "a.e: expected an enumerator of adv::Color"),
    (False, "put", "request", _put(e=1), 1, "a.e: expected an enumerator"),
    (False, "put", "request", _put(fl=["F_D"]), 1, "a.fl: expected a list of flag names"),
    (False, "put", "request", _put(fl=[["F_A"]]), 1, "a.fl: expected a list of flag names"),
    (False, "put", "request", _put(fl=7), 1, "a.fl: expected a list of flag names"),
    (False, "put", "request", _put(c="é" * 2), 1, "a.c: expected a one-character string"),
    (False, "put", "request", _put(c="\u0394"), 1, "cannot encode a.c"),
    (False, "put", "request", _put(wc="\ud800"), 1, "cannot encode a.wc"),
    (False, "put", "request", _put(s="\ud800"), 1, r"a.s: lone surrogate '\ud800' is not"),
    (False, "put", "request", _put(bs="abcde"), 1, "cannot encode a.bs"),
    (False, "put", "request", _put(grid=[[1, 2]]), 1, "cannot encode a.grid"),
    (False, "put", "request", _put(grid=[[1, 2], 3]), 1, "a.grid[1]: expected a list"),
    (False, "put", "request", _put(arr={"bytes": "0102"}), 1, "cannot encode a.arr"),
    (False, "put", "request", _put(bytes={"bytes": "0g"}), 1, "a.bytes: invalid hex"),
    (False, "put", "request", _put(u={"_d": "BLUE", "s": "x"}), 1, "a.u: expected member c"),
    (False, "put", "request", _put(u={"_d": ["RED"]}), 1, "a.u._d: expected an enumerator"),
    (False, "put", "request", _put(u=[]), 1, "a.u: expected an object with _d"),
    (False, "put", "request", _put(od="1"), 1, "a.od: expected a number"),
    (False, "put", "request", _put(__n={"_d": 3, "leaf": 1}), 1, "n: the discriminator selects"),
    (False, "put", "request", _put(__n={"_d": 2**40}), 1, "cannot encode n"),
    (False, "put", "request", _put(__x=True), 1, "x: expected a number"),
    (False, "put", "request", _put(__y=1), 1, "y: not a value of the request"),
    (False, "put", "reply", '{"status": true}', 1, "status: expected an error status"),
    (False, "put", "reply", '{"status": 3, "message": 5}', 1, "message: expected a string"),
    (False, "put", "reply", '{"status": 3, "message": "\\udc00"}', 1, "message: lone surrogate"),
    (False, "put", "reply", '{"raises": ["adv::Oops"]}', 1, "raises: expected the scoped"),
    (False, "put", "reply", '{"raises": "adv::::Oops"}', 1, "raises: 'adv::::Oops' is not"),
    (False, "put", "reply", '{"raises": "adv::Oops", "value": {"why": "", "level": 1e40}}', 1,
     "value.level: 1E+40 rounds to infinity"),
    # capabilities: kinds, members and their types, bases beyond the word
    (False, "put", "request", _put(__sm={"cap": ["object"]}), 1, 'unknown capability kind ["'),
    (False, "put", "request", _put(__sm={"cap": "object"}), 1, "capability needs an integer"),
    (False, "put", "request", _put(__sm="@").replace('"@"', '{"cap": 1e9}'), 1,
     "unknown capability kind 1E+9"),
    (False, "put", "request", _put(__sm={"cap": "object", "sel": 1.5}), 1, "sm.sel: expected an"),
    (False, "put", "request", _put(__sm="@").replace('"@"', '{"cap": "io", "port": Infinity}'), 1,
     "Infinity is not JSON"),
    (False, "put", "request", _put(__sm={"cap": "object", "sel": True}), 1, "sm.sel: expected"),
    (False, "put", "request", _put(__sm={"cap": "object", "sel": 1, "x": 1}), 1, "sm.x: not a"),
    (False, "put", "request", _put(__sm={"cap": "object", "sel": 2**60}), 1, "cannot encode item"),
    (False, "put", "request", _put(__sm={"cap": "object", "sel": -1}), 1, "cannot encode sm"),
    (False, "put", "request", _put(__sm={"cap": "mem", "page": 1}), 1, "cannot encode sm"),
    (
        False,
        "put",
        "request",
        _put(__sm={"cap": "object", "sel": 3, "rights": 99}),
        1,
        "cannot encode sm: invalid",
    ),
    # not JSON, or not the message's shape
    (False, "put", "request", '"', 1, "bad input: Unterminated string"),
    (False, "put", "request", "[]", 1, "bad input: expected a JSON object of values"),
    (True, "put", "request", '{"words": [[]], "items": []}', 1, "words[0]: expected a hex"),
    (True, "put", "request", '{"words": [1e999999999], "items": []}', 1, "got 1E+999999999"),
    (True, "put", "request", '{"words": ["0x1"], "items": [[[], "0x1"]]}', 1, "items[0][0]"),
    # nesting: JSON deeper than the recursion limit, values deep but fine, words too deep
    (False, "put", "request", "[" * 100_000 + "]" * 100_000, 1, "bad input: nested too deeply"),
    (False, "put", "request", '{"a": ' * 100_000 + "1" + "}" * 100_000, 1, "nested too deeply"),
    (False, "tree", "request", _tree(600), 0, '"words"'),
    (False, "tree", "request", _tree(20_000), 1, "bad input: nested too deeply"),
    (True, "deep", "reply", _deep(600), 0, '"leaf": 5'),
    (True, "deep", "reply", _deep(100_000), 1, "does not decode: nested too deeply"),
]
# fmt: on


def _edge_id(case: tuple[Any, ...]) -> str:
    decode, method, direction, _, code, says = case
    return f"{'decode' if decode else 'encode'}-{method}-{direction}-{code}-{says}"


@pytest.fixture(scope="module")
def adv(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    idl = tmp_path_factory.mktemp("adv") / "adv.idl"
    idl.write_text(ADV)
    diags = Diagnostics()
    result = compile_file(str(idl), Options(), diags)
    assert result.spec is not None, [str(d) for d in diags.items]
    loaded = Loaded(result.spec, diags)
    assert loaded.ok, [str(d) for d in diags.items]
    return loaded


def _check(result: tuple[int, str, str], code: int | None = None) -> None:
    """Exit 0 with one JSON line, or exit 1 with one line naming what is wrong."""
    got, out, err = result
    assert got in (0, 1) if code is None else got == code, err
    if got == 0:
        assert err == "" and out.endswith("\n") and out.count("\n") == 1
        deep(lambda: json.loads(out))  # as deep as the command's own output
    else:
        assert out == "" and err.startswith("idlc wire: ") and err.count("\n") == 1, err
        assert "Traceback" not in err and "internal" not in err, err


@pytest.mark.parametrize(
    ("decode", "method", "direction", "stdin", "code", "says"), EDGES, ids=map(_edge_id, EDGES)
)
def test_edge_values_exit_0_or_1(
    decode: bool, method: str, direction: str, stdin: str, code: int, says: str, adv: Loaded
) -> None:
    """Each of these ended in an internal error (exit 3) or a hang, or is of their family:
    now exit 0 with the value, or exit 1 with one line naming the field."""
    result = run(adv, "x86_64", "adv::I", method, direction, decode, stdin)
    _check(result, code)
    assert says in (result[1] if code == 0 else result[2])


@pytest.mark.parametrize(
    ("method", "direction", "stdin", "decode"),
    [
        ("f32", "reply", _f32("0x7f7fffff"), True),
        ("put", "request", _put(f={"bits": "0x100000000"}), False),
        ("put", "request", _raw("Infinity", i32=0), False),
        ("put", "request", "[" * 100_000 + "]" * 100_000, False),
    ],
)
def test_the_reported_cases_through_the_command(
    method: str,
    direction: str,
    stdin: str,
    decode: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The four inputs issue 13 reported with exit 3, through `idlc wire` itself."""
    idl = tmp_path / "adv.idl"
    idl.write_text(ADV)
    case = {"arch": "x86_64", "interface": "adv::I", "method": method, "dir": direction}
    argv = _argv(idl, case) + (["--decode"] if decode else [])
    _check(_run(argv, stdin, monkeypatch), 0 if method == "f32" else 1)


# --- adversarial JSON, drawn ------------------------------------------------------------


class Raw:
    """JSON text spliced in as it is (Infinity, 1e999999999, nesting past any limit)."""

    def __init__(self, text: str) -> None:
        self.text = text


def _dump(v: Any) -> str:
    if isinstance(v, Raw):
        return v.text
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_dump(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(map(_dump, v)) + "]"
    return json.dumps(v)


# fmt: off
_RAW_NUMBERS = [
    "Infinity", "-Infinity", "NaN", "1e999999999", "-1e999999999", "1e-999999999", "-0",
    "-0.0", "3.4028235e38", "3.40282357e38", "3.4028236e38", "1.4e-45", "7e-46", "1e308",
    "1.8e308", "0.1", "1" + "0" * 400, "1" + "0" * 5000, "18446744073709551616",
    "-9223372036854775809", "4294967296", "2147483648", "256", "-129", "1.5", "1e2",
]
_HEXES = ["0x0", "0x7f7fffff", "0x7f800001", "0xffffffff", "0x100000000", "0x7ff0000000000001",
          "0xffffffffffffffff", "0x10000000000000000", "-0x1", "zz", "", "0x"]
# fmt: on


def _leaves() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(_RAW_NUMBERS).map(Raw),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
        st.text(max_size=10),
        st.sampled_from(["\ud800", "RED", "BLUE", "F_A", "F_D", "object", "mem", "io", "é"]),
        st.sampled_from(_HEXES).map(lambda h: {"bits": h}),
        st.sampled_from(["nan", "inf", "-inf", "NaN", 1]).map(lambda f: {"float": f}),
        st.sampled_from(["00", "0g", "", "0"]).map(lambda b: {"bytes": b}),
        st.fixed_dictionaries(
            {"cap": st.sampled_from(["object", "mem", "io", "x", 1])},
            optional={
                "sel": st.integers(-1, 2**64),
                "page": st.integers(-1, 2**64),
                "port": st.integers(-1, 2**17),
                "order": st.integers(-1, 40),
                "rights": st.integers(-1, 40),
                "junk": st.just(1),
            },
        ),
        st.integers(1, 40_000).map(lambda n: Raw("[" * n + "]" * n)),
        st.integers(1, 40_000).map(lambda n: Raw('{"_d": ' * n + "1" + "}" * n)),
    )


@st.composite
def _mutated_json(draw: st.DrawFn, value: Any) -> Any:
    """``value`` (a valid message's JSON) with up to three nodes changed: replaced by an
    adversarial leaf, a member dropped or added, a list repeated or emptied, or wrapped."""

    def paths(v: Any, here: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        out = [here]
        if isinstance(v, dict):
            for k, x in v.items():
                out += paths(x, (*here, k))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                out += paths(x, (*here, i))
        return out

    def get(v: Any, path: tuple[Any, ...]) -> Any:
        for k in path:
            v = v[k]
        return v

    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(paths(value, ())))
        node = get(value, path)
        op = draw(st.integers(0, 4))
        new: Any
        if op == 0 or not path:
            new = draw(_leaves())
        elif op == 1 and isinstance(node, dict) and node:
            new = dict(node)
            del new[draw(st.sampled_from(sorted(new)))]
        elif op == 2 and isinstance(node, dict):
            key = draw(st.sampled_from(["_d", "x", "bits", "cap", "kids"]))
            new = {**node, key: draw(_leaves())}
        elif op == 3 and isinstance(node, list):
            new = node * draw(st.integers(0, 70))
        else:
            new = [node] if draw(st.booleans()) else {"_d": node}
        if not path:
            value = new
        else:
            get(value, path[:-1])[path[-1]] = new
    return value


_METHODS = [
    ("put", "request"),
    ("put", "reply"),
    ("map", "request"),
    ("ports", "reply"),
    ("ports", "request"),
    ("f32", "reply"),
    ("deep", "request"),
    ("tree", "reply"),
]


@st.composite
def _command(draw: st.DrawFn, loaded: Loaded) -> tuple[str, str, str, bool, str]:
    """(arch, method, direction, decode, stdin): a valid message's JSON or words, mutated."""
    arch = draw(st.sampled_from(["x86_64", "x86_32"]))
    method, direction = draw(st.sampled_from(_METHODS))
    strat = importlib.import_module(loaded.module("adv::I").__name__ + "_strategies")
    table = strat.REQUESTS if direction == "request" else strat.REPLIES
    values = draw(table["adv::I"][method](arch))
    m, codec = loaded.codec("adv::I", method)
    fields = message_fields(loaded.spec, m, direction)
    conv = loaded.converter
    valid = {f.name: conv.to_json(f.type, v) for f, v in zip(fields, values, strict=True)}
    if not draw(st.booleans()):
        return arch, method, direction, False, _dump(draw(_mutated_json(valid)))
    msg = codec.request(arch, *values) if direction == "request" else codec.reply(arch, *values)
    words, items = draw(mutated(msg))
    body: Any = {"words": [hex(w) for w in words], "items": [[hex(c), hex(f)] for c, f in items]}
    if draw(st.integers(0, 4)) == 0:
        body = draw(_mutated_json(body))
    return arch, method, direction, True, _dump(body)


def test_adversarial_json_never_an_internal_error(adv: Loaded) -> None:
    """Drawn from valid messages of every kind of type (JSON values and words), then
    mutated: exit 0 or 1, one line, never exit 3 or a traceback; a message that encodes
    decodes back (exit 0). Both outcomes occur in every encode and decode direction."""
    seen: set[tuple[bool, int]] = set()

    @settings(
        max_examples=max(EXAMPLES * 25, 200),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_command(adv))
    def prop(cmd: tuple[str, str, str, bool, str]) -> None:
        arch, method, direction, decode, stdin = cmd
        result = run(adv, arch, "adv::I", method, direction, decode, stdin)
        _check(result)
        seen.add((decode, result[0]))
        if result[0] == 0 and not decode:
            again = run(adv, arch, "adv::I", method, direction, True, result[1])
            _check(again, 0)

    prop()
    assert seen == {(False, 0), (False, 1), (True, 0), (True, 1)}
