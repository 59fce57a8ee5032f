"""Encode and decode one message as JSON (WIRE.md §5) with freshly generated code: what
``idlc wire`` and the conformance tests run."""

from __future__ import annotations

import importlib
import itertools
import os
import sys
import tempfile
from typing import Any

from idlc import ir
from idlc.backends.python.jsonvalue import Converter, JsonError, find_method, message_fields
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
            exc = self.spec.lookup(str(values["raises"]).lstrip(":"))
            if not isinstance(exc, ir.Exception_) or exc.name not in m.raises:
                raise JsonError("raises", f"'{values['raises']}' is not raised by {method}")
            value = conv.from_json(ir.Ref(exc.name, "exception"), values.get("value", {}), "value")
            return codec.error(arch, value)
        if direction == "reply" and "status" in values:
            status = values["status"]
            if not isinstance(status, int) or not 1 <= status <= 19:
                raise JsonError("status", "expected an error status 1..19")
            return codec.error(arch, RemoteError(status, str(values.get("message", ""))))
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
