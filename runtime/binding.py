"""How generated client stubs and server skeletons meet the runtime (docs/runtime.md,
"Binding generated code"; WIRE.md §2).

``call`` sends one encoded request through a portal and returns the reply's words and
items; ``serve`` runs one request on the server side: it dispatches on the opcode, turns
every failure into the reply WIRE.md §2 prescribes and never lets an exception escape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from .codec import DecodeError, Items, MarshalError, error_reply_bytes
from .status import CapacityError, ErrorCode, RemoteError

if TYPE_CHECKING:
    from .api import Pt
    from .utcb import UtcbFrame

__all__ = ["Handler", "call", "serve"]

log = logging.getLogger("runtime.binding")

# A server-side method: (word size, request bytes, items) -> reply (bytes, items), or None
# for oneway methods.
Handler = Callable[[int, bytes, Items], "tuple[bytearray, list[tuple[int, int]]] | None"]


def call(
    pt: Pt,
    data: bytes | bytearray,
    items: list[tuple[int, int]],
    accept: int | None = None,
    translate: bool = False,
) -> tuple[bytes, list[tuple[int, int]]]:
    """Send a request and return the reply (words, items); ``accept=order`` arms a delegate
    window for the reply's objects, ``translate`` a translate window."""
    with pt.frame() as f:
        f.put_words(data)
        for crd, flags in items:
            f.put_item(crd, flags)
        if accept is not None:
            pt.accept_delegates(f, accept)
        if translate:
            pt.accept_translates(f)
        pt.call(f)
        return f.get_words(f.left), list(f.items())


def serve(f: UtcbFrame, table: dict[int, tuple[Handler, bool]]) -> None:
    """Answer the request in ``f`` with the handler its opcode selects."""
    w = f.utcb.word
    oneway = False
    try:
        data = f.get_words(f.left)
        items = list(f.items())
        f.clear()
        if len(data) < w:
            _error(f, w, ErrorCode.E_ARGS_INVALID, "no opcode")
            return
        op = int.from_bytes(data[:w], "little")
        entry = table.get(op)
        if entry is None:
            _error(f, w, ErrorCode.E_NOT_FOUND, f"no method with opcode {op:#x}")
            return
        handler, oneway = entry
        reply = handler(w, data, Items(items))
        if reply is None:
            return
        out, out_items = reply
        try:
            f.put_words(out)
            for crd, flags in out_items:
                f.put_item(crd, flags)
        except CapacityError as e:
            f.clear()
            _error(f, w, ErrorCode.E_CAPACITY, str(e))
    except DecodeError as e:
        _fail(f, w, oneway, ErrorCode.E_ARGS_INVALID, f"bad request: {e}")
    except RemoteError as e:
        code = e.code if isinstance(e.code, int) and 1 <= e.code <= 19 else ErrorCode.E_FAILURE
        _fail(f, w, oneway, int(code), e.message)
    except MarshalError as e:
        _fail(f, w, oneway, ErrorCode.E_FAILURE, f"reply does not encode: {e}")
    except Exception as e:
        _fail(f, w, oneway, ErrorCode.E_FAILURE, f"{type(e).__name__}: {e}")


def _fail(f: UtcbFrame, w: int, oneway: bool, code: int, message: str) -> None:
    f.clear()
    if oneway:
        log.warning("oneway request failed: %s", message)
        return
    _error(f, w, code, message)


def _error(f: UtcbFrame, w: int, code: int, message: str) -> None:
    f.clear()
    data = error_reply_bytes(w, code, message[:200])
    try:
        f.put_words(data)
    except CapacityError:
        f.clear()
        f.put_words(error_reply_bytes(w, code, ""))
