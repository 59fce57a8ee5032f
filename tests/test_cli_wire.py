"""`idlc wire`, the command that checks a vector or a hand-written message (issue 4, item
5): every conformance vector through the command both ways, and bad input answered with
exit 1 and one line on stderr naming where, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from idlc.cli import main

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
