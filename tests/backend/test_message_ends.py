"""The errors of whole-message decoders at their ends, which the generated code now
leaves to runtime helpers (docs/python-backend.md, "Shared helpers"): the opcode word
(runtime.codec.not_opcode), the status word (reply_status), words and typed items left
over (Items.end). The table is what samples/shapes.idl's decoders gave before the
helpers (inline code), through the kernel-free codec API, on both architectures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from idlc.backends.python import generate
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from runtime import codec as c

ROOT = Path(__file__).resolve().parents[2]

# (arch, method, request or reply, the message's bytes in hex or "items": the message of
# status/opcode alone with one typed item, what parsing it gives)
CASES = [
    (
        "x86_64",
        "clear",
        "rq",
        "",
        "DecodeError(0, 'message too short: 1 more words expected', None)",
    ),
    (
        "x86_64",
        "clear",
        "rq",
        "0100000000000000",
        "DecodeError(0, 'not the opcode of clear', None)",
    ),
    (
        "x86_64",
        "clear",
        "rq",
        "0000fed9000000",
        "DecodeError(0, 'message too short: 1 more words expected', None)",
    ),
    (
        "x86_64",
        "clear",
        "rq",
        "0000fed9000000000000000000000000",
        "DecodeError(1, 'words left over', None)",
    ),
    ("x86_64", "log", "rq", "0500fed9000000000000000000000000", "('',)"),
    (
        "x86_64",
        "log",
        "rq",
        "0400fed9000000000000000000000000",
        "DecodeError(0, 'not the opcode of log', None)",
    ),
    (
        "x86_64",
        "log",
        "rq",
        "0500fed900000000",
        "DecodeError(1, 'line: length word missing', None)",
    ),
    ("x86_64", "put", "rq", "0300fed900000000", "DecodeError(0, 'not the opcode of put', None)"),
    ("x86_64", "clear", "rp", "", "DecodeError(0, 'status word missing', None)"),
    ("x86_64", "clear", "rp", "0000000000000000", "()"),
    (
        "x86_64",
        "clear",
        "rp",
        "00000000000000000000000000000000",
        "DecodeError(1, 'words left over', None)",
    ),
    (
        "x86_64",
        "clear",
        "rp",
        "050000000000000002000000000000006162000000000000",
        "RemoteError('E_PAR: ab')",
    ),
    ("x86_64", "clear", "rp", "1400000000000000", "DecodeError(0, 'reserved status 20', None)"),
    ("x86_64", "clear", "rp", "2000000000000000", "DecodeError(0, 'reserved status 32', None)"),
    ("x86_64", "clear", "rp", "00000000000000", "DecodeError(0, 'status word missing', None)"),
    (
        "x86_64",
        "move",
        "rp",
        "0700000000000000",
        "DecodeError(1, 'message length word missing', None)",
    ),
    (
        "x86_64",
        "shapes",
        "rp",
        "000000000000000000000000000000000000000000000000",
        "DecodeError(2, 'words left over', None)",
    ),
    ("x86_64", "shapes", "rp", "00000000000000000000000000000000", "([],)"),
    ("x86_64", "put", "rp", "", "DecodeError(0, 'status word missing', None)"),
    ("x86_64", "put", "rp", "2000000000000000", "DecodeError(1, 'exception id missing', None)"),
    (
        "x86_64",
        "put",
        "rp",
        "20000000000000000500000000000000",
        "DecodeError(1, 'exception id 0x5 is not raised here', None)",
    ),
    ("x86_64", "put", "rp", "1500000000000000", "DecodeError(0, 'reserved status 21', None)"),
    (
        "x86_64",
        "put",
        "rp",
        "030000000000000001000000000000007800000000000000",
        "RemoteError('E_SYS: x')",
    ),
    (
        "x86_64",
        "put",
        "rp",
        "0000000000000000010000000000000002000000000000000300000000000000",
        "DecodeError(3, 'words left over', None)",
    ),
    ("x86_64", "watch", "rp", "0000000000000000", "DecodeError(1, 'typed item missing', 0)"),
    (
        "x86_64",
        "watch",
        "rp",
        "00000000000000000000000000000000",
        "DecodeError(1, 'typed item missing', 0)",
    ),
    ("x86_64", "clear", "rq", "items", "DecodeError(1, '1 typed items left over', 0)"),
    ("x86_64", "clear", "rp", "items", "DecodeError(1, '1 typed items left over', 0)"),
    (
        "x86_32",
        "clear",
        "rq",
        "",
        "DecodeError(0, 'message too short: 1 more words expected', None)",
    ),
    ("x86_32", "clear", "rq", "01000000", "DecodeError(0, 'not the opcode of clear', None)"),
    (
        "x86_32",
        "clear",
        "rq",
        "0000fe",
        "DecodeError(0, 'message too short: 1 more words expected', None)",
    ),
    ("x86_32", "clear", "rq", "0000fed900000000", "DecodeError(1, 'words left over', None)"),
    ("x86_32", "log", "rq", "0500fed900000000", "('',)"),
    ("x86_32", "log", "rq", "0400fed900000000", "DecodeError(0, 'not the opcode of log', None)"),
    ("x86_32", "log", "rq", "0500fed9", "DecodeError(1, 'line: length word missing', None)"),
    ("x86_32", "put", "rq", "0300fed9", "DecodeError(0, 'not the opcode of put', None)"),
    ("x86_32", "clear", "rp", "", "DecodeError(0, 'status word missing', None)"),
    ("x86_32", "clear", "rp", "00000000", "()"),
    ("x86_32", "clear", "rp", "0000000000000000", "DecodeError(1, 'words left over', None)"),
    ("x86_32", "clear", "rp", "050000000200000061620000", "RemoteError('E_PAR: ab')"),
    ("x86_32", "clear", "rp", "14000000", "DecodeError(0, 'reserved status 20', None)"),
    ("x86_32", "clear", "rp", "20000000", "DecodeError(0, 'reserved status 32', None)"),
    ("x86_32", "clear", "rp", "000000", "DecodeError(0, 'status word missing', None)"),
    ("x86_32", "move", "rp", "07000000", "DecodeError(1, 'message length word missing', None)"),
    (
        "x86_32",
        "shapes",
        "rp",
        "000000000000000000000000",
        "DecodeError(2, 'words left over', None)",
    ),
    ("x86_32", "shapes", "rp", "0000000000000000", "([],)"),
    ("x86_32", "put", "rp", "", "DecodeError(0, 'status word missing', None)"),
    ("x86_32", "put", "rp", "20000000", "DecodeError(1, 'exception id missing', None)"),
    (
        "x86_32",
        "put",
        "rp",
        "2000000005000000",
        "DecodeError(1, 'exception id 0x5 is not raised here', None)",
    ),
    ("x86_32", "put", "rp", "15000000", "DecodeError(0, 'reserved status 21', None)"),
    ("x86_32", "put", "rp", "030000000100000078000000", "RemoteError('E_SYS: x')"),
    (
        "x86_32",
        "put",
        "rp",
        "00000000010000000200000003000000",
        "DecodeError(3, 'words left over', None)",
    ),
    ("x86_32", "watch", "rp", "00000000", "DecodeError(1, 'typed item missing', 0)"),
    ("x86_32", "watch", "rp", "0000000000000000", "DecodeError(1, 'typed item missing', 0)"),
    ("x86_32", "clear", "rq", "items", "DecodeError(1, '1 typed items left over', 0)"),
    ("x86_32", "clear", "rp", "items", "DecodeError(1, '1 typed items left over', 0)"),
]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    root = tmp_path_factory.mktemp("ends")
    pkg = root / "ends_pkg"
    pkg.mkdir()
    diags = Diagnostics()
    result = compile_file(str(ROOT / "samples" / "shapes.idl"), Options(), diags)
    assert result.spec is not None
    assert generate(result.spec, str(pkg), diags)
    (pkg / "__init__.py").touch()
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module("ends_pkg.shapes.shapes_idl")
    finally:
        sys.path.remove(str(root))


def outcome(shapes: ModuleType, arch: str, meth: str, kind: str, data: str) -> str:
    codec = shapes.CanvasCodec.METHODS[meth]
    parse = codec.parse_request if kind == "rq" else codec.parse_reply
    if data == "items":
        opcode = codec.opcode if kind == "rq" else 0
        msg = c.Message.from_words(arch, [opcode], [(1, 0)])
    else:
        msg = c.Message(arch, bytes.fromhex(data))
    try:
        return repr(parse(msg))
    except c.DecodeError as e:
        return f"DecodeError({e.word}, {e.reason!r}, {e.item})"


@pytest.mark.parametrize(("arch", "meth", "kind", "data", "want"), CASES)
def test_message_end_errors_as_before(
    shapes: ModuleType, arch: str, meth: str, kind: str, data: str, want: str
) -> None:
    assert outcome(shapes, arch, meth, kind, data) == want
