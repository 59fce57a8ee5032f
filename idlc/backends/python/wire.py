"""Encode and decode one message as JSON (WIRE.md §5) with freshly generated code: what
``idlc wire`` and the conformance tests run."""

from __future__ import annotations

import importlib
import itertools
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from idlc import ir
from idlc.backends.python.jsonvalue import (
    Converter,
    JsonError,
    find_method,
    message_fields,
    message_from_json,
)
from idlc.backends.python.names import Naming
from idlc.diagnostics import Diagnostics

_counter = itertools.count()


class Loaded:
    """The generated modules of one specification, imported from a private package."""

    def __init__(self, spec: ir.Specification, diags: Diagnostics) -> None:
        from idlc.backends.python import generate

        self.spec = spec
        self.naming = Naming(spec)
        self.tmp = tempfile.mkdtemp(prefix="idlc-wire-")
        self.package = f"_idlc_wire_{os.getpid()}_{next(_counter)}"
        root = os.path.join(self.tmp, self.package)
        os.makedirs(root)
        self.ok = bool(generate(spec, root, diags))
        if self.tmp not in sys.path:
            sys.path.insert(0, self.tmp)
        self.modules: dict[str, Any] = {}
        self.converter = Converter(spec, self.cls)

    def module(self, scoped: str) -> Any:
        unit = self.naming.unit_of[scoped]
        mod = self.modules.get(unit.dotted)
        if mod is None:
            mod = importlib.import_module(f"{self.package}.{unit.dotted}")
            self.modules[unit.dotted] = mod
        return mod

    def cls(self, scoped: str) -> Any:
        return getattr(self.module(scoped), self.naming.local[scoped])

    def codec(self, interface: str, method: str) -> tuple[ir.Method, Any]:
        name = interface.lstrip(":")
        m = find_method(self.spec, name, method)
        table = self.module(name).INTERFACES[name]
        return m, table[method]

    # -- one message --

    def encode(self, arch: str, interface: str, method: str, direction: str, values: Any) -> Any:
        """JSON values -> runtime.codec.Message."""
        from runtime.status import RemoteError

        m, codec = self.codec(interface, method)
        conv = self.converter
        if not isinstance(values, dict):
            raise JsonError("", "expected a JSON object of values")
        if direction == "reply" and "raises" in values:
            raises = values["raises"]
            if not isinstance(raises, str):
                raise JsonError("raises", "expected the scoped name of an exception")
            exc = self.spec.lookup(raises.lstrip(":"))
            if not isinstance(exc, ir.Exception_) or exc.name not in m.raises:
                raise JsonError("raises", f"'{values['raises']}' is not raised by {method}")
            value = conv.from_json(ir.Ref(exc.name, "exception"), values.get("value", {}), "value")
            return codec.error(arch, value)
        if direction == "reply" and "status" in values:
            status = values["status"]
            if isinstance(status, bool) or not isinstance(status, int) or not 1 <= status <= 19:
                raise JsonError("status", "expected an error status 1..19")
            message = values.get("message", "")
            if not isinstance(message, str):
                raise JsonError("message", "expected a string")
            conv.check_text(message, "message")
            return codec.error(arch, RemoteError(status, message))
        fields = message_fields(self.spec, m, direction)
        names = {f.name for f in fields}
        for k in values:
            if k not in names:
                raise JsonError(k, f"not a value of the {direction}")
        args = []
        for f in fields:
            if f.name not in values:
                raise JsonError(f.name, "missing")
            args.append(conv.from_json(f.type, values[f.name], f.name))
        if direction == "request":
            return codec.request(arch, *args)
        return codec.reply(arch, *args)

    def decode(self, msg: Any, interface: str, method: str, direction: str) -> Any:
        """runtime.codec.Message -> JSON values (DecodeError if the words do not decode)."""
        from runtime.status import RemoteError

        m, codec = self.codec(interface, method)
        conv = self.converter
        fields = message_fields(self.spec, m, direction)
        if direction == "request":
            values = codec.parse_request(msg)
        else:
            values = codec.parse_reply(msg)
            if isinstance(values, RemoteError):
                return {"status": int(values.code), "message": values.message}
            if isinstance(values, BaseException):
                for scoped, cls in codec.raises.items():
                    if type(values) is cls:
                        return {
                            "raises": scoped,
                            "value": conv.to_json(ir.Ref(scoped, "exception"), values),
                        }
                raise TypeError(f"unexpected {values!r}")
        return {f.name: conv.to_json(f.type, v) for f, v in zip(fields, values, strict=True)}


# --- the command ------------------------------------------------------------------------

# How deep a value may nest in `idlc wire`: the JSON, its conversion and the generated
# codecs recurse once or a few times per level, and a message that fits a frame nests at
# most ~500 levels (one length, discriminator or presence word each; a frame holds 253
# words on x86_64, 509 on x86_32). Deeper input is an error of the input (exit 1), never
# a RecursionError from inside (exit 3).
RECURSION_LIMIT = 20_000
# The stack of the thread the command runs on: CPython's JSON parser and printer recurse
# in C, so a recursion limit above the default needs more than the main thread's stack.
STACK_BYTES = 256 << 20

T = TypeVar("T")


def deep(fn: Callable[[], T]) -> T:
    """fn() on a thread with a large stack and a recursion limit of RECURSION_LIMIT; its
    exception, if any, is raised here."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, fn()))
        except BaseException as e:  # handed to the calling thread
            box.append((False, e))

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size(STACK_BYTES)
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    try:
        t = threading.Thread(target=target, name="idlc-wire")
        t.start()
        t.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    ok, value = box[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def _no_constant(name: str) -> Any:
    spelled = {"Infinity": "inf", "-Infinity": "-inf", "NaN": "nan"}[name]
    raise JsonError("", f'{name} is not JSON; WIRE.md §5 writes {{"float": "{spelled}"}}')


def parse_json(text: str) -> Any:
    """JSON with numbers as int or Decimal (exact); NaN and Infinity refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_no_constant)


def run(
    loaded: Loaded,
    arch: str,
    interface: str,
    method: str,
    direction: str,
    decode: bool,
    text: str,
) -> tuple[int, str, str]:
    """One `idlc wire` run on ``text`` (stdin): (exit status, stdout, stderr). Status 1
    for every error of the input, with one line on stderr of one of these kinds:
    ``bad input: PATH: REASON`` (not JSON, or not the shape or range of the type),
    ``cannot encode PATH: REASON`` (a value the encoder refuses), ``does not decode:
    word N: REASON`` (words or items no encoder produces) and ``bad input: nested too
    deeply`` / ``does not decode: nested too deeply`` (deeper than RECURSION_LIMIT
    allows). Anything else raised is a bug (the caller's internal error, exit 3)."""
    from runtime.codec import WORD, DecodeError, MarshalError, Message

    def once() -> str:
        data = parse_json(text)
        if decode:
            words, items = message_from_json(data)
            msg = Message.from_words(arch, words, items)
            value = loaded.decode(msg, interface, method, direction)
            return json.dumps(value, ensure_ascii=False) + "\n"
        msg = loaded.encode(arch, interface, method, direction, data)
        bits = 8 * WORD[arch]
        for i, pair in enumerate(msg.items):  # a capability's base beyond the word
            if not all(0 <= x >> bits == 0 for x in pair):
                raise MarshalError(f"items[{i}]", f"does not fit a {bits}-bit word")
        out = {
            "words": [hex(x) for x in msg.words],
            "items": [[hex(c), hex(f)] for c, f in msg.items],
        }
        return json.dumps(out) + "\n"

    return answer(once, decode, MarshalError, DecodeError)


def answer(
    once: Callable[[], str],
    decode: bool,
    refused: type[Exception],
    rejected: type[Exception],
) -> tuple[int, str, str]:
    """Run one `idlc wire` conversion and map its failures to the command's one-line
    errors, for both backends (the same messages whichever backend converts):
    ``refused`` is the backend's "cannot encode" error (with ``path`` and ``reason``),
    ``rejected`` its "does not decode"."""
    try:
        return 0, deep(once), ""
    except refused as e:
        path, reason = getattr(e, "path", ""), getattr(e, "reason", str(e))
        return 1, "", f"idlc wire: cannot encode {path or 'the value'}: {reason}\n"
    except rejected as e:
        return 1, "", f"idlc wire: does not decode: {e}\n"
    except RecursionError:
        what = "does not decode" if decode else "bad input"
        return 1, "", f"idlc wire: {what}: nested too deeply\n"
    except (JsonError, ValueError) as e:  # json's own errors are ValueErrors
        return 1, "", f"idlc wire: bad input: {_one_line(str(e))}\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())
