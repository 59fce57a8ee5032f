"""How generated client stubs and server skeletons meet the runtime (docs/runtime.md,
"Binding generated code"; WIRE.md §2).

``call`` sends one encoded request through a portal and returns the reply's words and
items; ``serve`` runs one request on the server side: it dispatches on the opcode, turns
every failure into the reply WIRE.md §2 prescribes and never lets an exception escape.

Receive windows (WIRE.md §4 *Windows*): a client arms them per call for the reply
(``call``'s ``accept``/``translate``); a server's are armed once for the requests of all
its methods and kept by ``receiving``, which a portal runs around its handler: it arms a
fresh delegate window after a request whose capabilities the server kept, and revokes what
a request the server rejected delegated (``serve`` marks it), so nothing stays behind.

Interface references: every generated client stub derives from ``Client`` (a portal and
the calls through it). A stub passed where an interface is expected sends its portal
(``cap``); an interface reference that comes back is turned into the generated stub of
that interface behind the caller's gate (``stub``). Everything here reaches the kernel
through the portal's gate (``runtime.kernel.gate``), never as an object.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .api import Env, Pt, contained, failure, outside_ec, report
from .codec import DecodeError, Items, MarshalError, error_reply_bytes, remember_failure
from .kernel.crd import ALL, Crd, CrdType, crd
from .kernel.kernel import NOT_SENT, REPLY_LEFT, portal_entry, run_fixed
from .kernel.status import CapacityError, ErrorCode, RemoteError, Status, SyscallError

if TYPE_CHECKING:
    from .api import Handler as PortalHandler
    from .api import LocalThread
    from .kernel.gate import Gate
    from .kernel.utcb import Utcb, UtcbFrame

__all__ = [
    "NOT_SENT",
    "Client",
    "Handler",
    "answer",
    "call",
    "cap",
    "failed",
    "fixed",
    "receiving",
    "reply",
    "serve",
    "stub",
    "window",
]

log = logging.getLogger("runtime.binding")


# The typed items of a request without any: nothing can move its cursor (Items.cap raises
# before it advances), so one instance serves every such request.
_NO_ITEMS = Items(())

# A server-side method: (word size, request bytes, items) -> reply (bytes, items), or None
# for oneway methods.
Handler = Callable[[int, bytes, Items], "tuple[bytearray, list[tuple[int, int]]] | None"]


class Client:
    """Base of generated client stubs: the portal (``runtime.api.Pt``) calls go through.

    ``EchoClient(ctx.connect("echo"))`` connects by name; ``EchoClient(ctx.pt(sel))`` wraps
    any portal selector the calling PD holds. Its only attributes are underscored, so
    no IDL operation name collides with them.
    """

    __slots__ = ("_fixed", "_idle", "_pt", "_sel", "_w64")

    def __init__(self, pt: Pt) -> None:
        self._pt = pt
        self._w64 = pt.gate.arch.word == 8
        # the fixed-size methods' two gate entries, bound once
        self._idle = pt.gate.idle_utcb
        self._fixed = pt.gate.call_fixed
        self._sel = pt.sel

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pt!r})"


_C = TypeVar("_C", bound=Client)


def cap(value: Client | Pt | Crd | None) -> Crd | None:
    """What an interface-typed argument sends: a client stub's or a ``Pt``'s portal as an
    object capability (all rights; ``@rights`` masks it); a Crd or None unchanged."""
    if isinstance(value, Client):
        value = value._pt
    if isinstance(value, Pt):
        return Crd(CrdType.OBJ, value.sel, 0, ALL)
    return value


def stub(cls: type[_C], via: Pt, value: Crd | None) -> _C | None:
    """A received interface reference as a client stub of ``cls`` (None stays None): the
    selector it landed at in the calling PD, behind the gate of the portal it came ``via``."""
    if value is None:
        return None
    return cls(Pt(via.gate, value.base))


def call(
    pt: Pt,
    data: bytes | bytearray,
    items: list[tuple[int, int]],
    accept: int | None = None,
    translate: bool = False,
    kind: int = CrdType.OBJ,
    xlt: int = CrdType.OBJ,
) -> tuple[bytes, list[tuple[int, int]]]:
    """Send a request and return the reply (words, items). ``accept=order`` arms a delegate
    window of 2**order units of Crd type ``kind`` for the reply (WIRE.md §4: objects at
    fresh selectors, memory at fresh pages of the calling PD, I/O ports 1:1), and
    ``translate`` a translate window over the whole space of type ``xlt``."""
    try:
        if accept is None and not translate:
            return pt.gate.call_words(pt.sel, data, 0, items)  # no reply window: no frame
        with pt.frame() as f:
            f.put_words(data)
            for crd, flags in items:
                f.put_item(crd, flags)
            if accept is not None:
                if kind == CrdType.OBJ:
                    pt.accept_delegates(f, accept)
                else:
                    f.delegation_window(window(pt, kind, accept))
            if translate:
                if xlt == CrdType.OBJ:
                    pt.accept_translates(f)
                else:
                    f.translation_window(whole(pt.gate, xlt))
            pt.call(f)
            return f.get_words(f.left), list(f.items())
    except SyscallError as e:
        if e.status == Status.BAD_HYP and outside_ec(pt.gate):
            raise failure(int(e.status), pt.gate, _caller()) from None
        raise


def _caller() -> str:
    """The client stub method (``EchoClient.ping``) that called into this module, for
    messages (on error paths only: it walks the stack)."""
    frame = sys._getframe(1)
    while frame is not None:
        who = frame.f_locals.get("self")
        if isinstance(who, Client):
            return f"{type(who).__name__}.{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "a client stub's call"


def reply(pt: Pt, r: tuple[Any, ...]) -> tuple[bytes, list[tuple[int, int]]]:
    """The reply of a ``Kernel.call_fixed`` that did not return one of the stub's shape:
    raise ``SyscallError`` for a failed call, else take the message it left in the UTCB
    (words, items) for the general decoder."""
    if r[0] != REPLY_LEFT[0]:
        raise failure(r[0], pt.gate, _caller())
    return pt.gate.take_reply()


# The first page of the PDs' memory receive windows (`Env.next_page` bumps from there, like
# Env.alloc's selectors), far above what boot maps identically, and inside the memory
# space of either architecture (x86_32 has 0xC0000 pages).
_MEM_BASE = 1 << 18


def window(pt: Pt, kind: int, order: int) -> int:
    """A fresh delegate window Crd of 2**order units of ``kind`` for the calling PD:
    selectors or pages never handed out before (aligned to the order), I/O ports 1:1 over
    the whole port space (the kernel maps port n to port n)."""
    if kind == CrdType.PIO:
        return _fresh(None, kind, order)
    env = Env.current(pt.gate)
    if env is None:
        raise SyscallError(Status.BAD_HYP, "no EC or selector allocator")
    return _fresh(env, kind, order)


def _fresh(env: Env | None, kind: int, order: int) -> int:
    """A delegate window of 2**order units of ``kind`` where ``env``'s PD holds nothing:
    fresh selectors, fresh pages (``env.next_page``) or every port (1:1)."""
    if kind == CrdType.PIO or env is None:
        return crd(CrdType.PIO, 0, 16)
    size = 1 << order
    if kind == CrdType.OBJ:
        return crd(CrdType.OBJ, env.alloc(size), order)
    base = (max(env.next_page, _MEM_BASE) + size - 1) & ~(size - 1)
    env.next_page = base + size
    return crd(CrdType.MEM, base, order)


def whole(gate: Gate, kind: int) -> int:
    """A translate window over the whole space of ``kind``."""
    if kind == CrdType.PIO:
        return crd(CrdType.PIO, 0, 16)
    if kind == CrdType.OBJ:
        return crd(CrdType.OBJ, 0, gate.arch.sel_bits)
    pages = gate.arch.user_addr >> 12
    return crd(CrdType.MEM, 0, min(31, pages.bit_length() - 1))


# id() of the UTCBs whose request ``serve`` rejected (no opcode, unknown opcode, did not
# decode) with typed items: ``receiving`` takes the mark after the handler and revokes
# what the request delegated. A UTCB is one EC's and an EC serves one request at a time,
# so a mark is never another request's.
_rejected: set[int] = set()


def receiving(
    handler: PortalHandler,
    thread: LocalThread,
    accept: int | None,
    kind: int = CrdType.OBJ,
    translate: bool = False,
    xlt: int = CrdType.OBJ,
) -> PortalHandler:
    """Arm ``thread``'s receive windows for the requests of ``handler`` (WIRE.md §4: a
    delegate window of 2**accept units of Crd type ``kind``, a translate window over the
    whole space of type ``xlt``) and return what its portal runs: with a delegate window,
    ``handler`` wrapped so that

    - after a request whose delegated capabilities the server kept, a fresh delegate
      window is armed (object selectors from the PD's ``Env``, pages never handed out;
      I/O ports map 1:1 and need none), so they never block the next request's (the
      kernel skips an occupied slot silently);
    - after a request that ``serve`` rejected (no opcode, unknown opcode, did not decode:
      the server called nothing), every capability it delegated is revoked and the window
      stays as it is, empty again (WIRE.md §4: nothing delegated stays behind).
    """
    env = thread.env
    dele = 0 if accept is None else _fresh(env, kind, accept)
    u = thread.utcb
    u.dele = dele
    u.xlt = whole(env.gate, xlt) if translate else 0
    if accept is None:
        return handler
    return _Receiving(handler, env, kind, accept)


class _Receiving:
    """A portal's code with a delegate window: the handler, then the window kept (see
    ``receiving``). Requests without items go straight to the handler, and the kernel
    finds a skeleton's fixed-size handlers through ``fast_table`` as without the window
    (they never take a request with items)."""

    __slots__ = ("accept", "env", "handler", "inner", "kind")

    def __init__(self, handler: PortalHandler, env: Env, kind: int, accept: int) -> None:
        self.handler = handler
        self.inner: Callable[[UtcbFrame], None] = portal_entry(handler) or handler
        self.env = env
        self.kind = kind
        self.accept = accept

    def fast_table(self, word: int) -> Any:
        table = getattr(self.handler, "fast_table", None)
        return None if table is None else table(word)

    def __call__(self, f: UtcbFrame) -> None:
        u = f.utcb
        t = u.typed
        if not t:
            self.inner(f)
            return
        # what arrived delegated (bit 0 of B; Crd 0: refused or null), before the handler
        # reads the items and writes its reply over them
        got = [(c, b) for c, b in u.item_pairs(t) if c and b & 1]
        key = id(u)
        _rejected.discard(key)  # a mark of a dead UTCB that had this id
        try:
            self.inner(f)
        finally:
            if key in _rejected:
                _rejected.discard(key)
                if got:
                    # objects and memory inside the (fresh) window; I/O ports only where
                    # the server's capability derives from the caller's (Gate)
                    self.env.gate.revoke_received(u.dele, got)
            elif got:
                u.dele = _fresh(self.env, self.kind, self.accept)


def _reject(u: Any) -> None:
    if u.dele:  # without a delegate window nothing delegated arrived
        _rejected.add(id(u))


# A skeleton's fixed-size handlers by opcode: (request words, handler(frame, utcb) -> r),
# r as the kernel's receive loop takes it (FastTable in runtime.kernel.kernel).
Fixed = dict[int, tuple[int, Callable[["UtcbFrame", "Utcb"], int]]]


def fixed(f: UtcbFrame, t64: Fixed, t32: Fixed) -> bool:
    """Run the fixed-size handler the request in ``f`` selects, as the kernel's receive
    loop does where it takes the skeleton's table itself (docs/runtime.md, "Fixed-size
    calls"): exactly the handler's words, no items, no nested frame saved. The request is
    consumed before the handler runs (calls the implementation makes find the UTCB idle);
    its result r is the reply's word count at mr[0], 0 for the status E_SUCCESS alone, -1
    for a reply it wrote through the frame, -2 for a request it did not take. False: not
    taken, the request is as it came, for ``serve``."""
    u = f.utcb
    n = u.items
    if not 0 < n <= 0xFFFF or f.upos or u.saved_u:
        return False
    e = (t64 if u.word == 8 else t32).get(u.word_at(5))
    if e is None or e[0] != n:
        return False
    return run_fixed(f, u, e[1], n) != -2


def serve(f: UtcbFrame, table: dict[int, tuple[Handler, bool]]) -> None:
    """Answer the request in ``f`` with the handler its opcode selects."""
    u = f.utcb
    w = u.word
    oneway = False
    t = 0
    handler: Handler | None = None
    try:
        # f.get_words(f.left), f.items() and f.clear(), inlined: every request starts here.
        buf, mr0 = u.buf, u.mr0
        start, end = mr0 + f.upos * w, mr0 + u.untyped * w
        data = bytes(buf[start:end])
        t = u.typed
        items = Items(u.item_pairs(t)) if t else _NO_ITEMS
        u.untyped = u.typed = f.upos = f.tpos = 0
        if end - start < w:
            if t:
                _reject(u)
            _error(f, w, ErrorCode.E_ARGS_INVALID, "no opcode")
            return
        op = u.wst.unpack_from(buf, start)[0]
        entry = table.get(op)
        if entry is None:
            if t:
                _reject(u)
            _error(f, w, ErrorCode.E_NOT_FOUND, f"no method with opcode {op:#x}")
            return
        handler, oneway = entry
        reply = handler(w, data, items)
        if reply is not None:
            out, out_items = reply
            n = len(out)
            if not out_items and not n % w and n <= u.room * w:
                buf[mr0 : mr0 + n] = out  # f.put_words(out): whole words that fit
                u.untyped = n // w
            else:
                _put_reply(f, reply)
    except BaseException as e:  # SystemExit, GreenletExit, ... too: answer, keep serving
        if not contained(e):
            raise
        if t and isinstance(e, DecodeError):
            _reject(u)  # the request did not decode: the server called nothing
        failed(f, e, oneway, method_name(handler))


def method_name(handler: object) -> str:
    """``Echo.ping`` for a generated skeleton's handler of ping (``EchoServer._h_ping``)."""
    if handler is None:
        return ""
    try:
        cls, _, fn = str(getattr(handler, "__qualname__", "")).rpartition(".")
        iface = cls.removesuffix("Server")
        return f"{iface}.{fn.removeprefix('_h_')}" if iface else fn
    except BaseException:  # a handler's own __getattr__ must not take the server down
        return ""


def answer(f: UtcbFrame, make: Callable[[], tuple[bytearray, list[tuple[int, int]]]]) -> None:
    """Reply what ``make()`` encodes (a skeleton's fast path hands its rare cases here:
    a declared exception, a result its one ``pack_into`` did not take); whatever it
    raises becomes the error reply that ``serve`` would give."""
    try:
        _put_reply(f, make())
    except BaseException as e:
        if not contained(e):
            raise
        failed(f, e)


def _put_reply(f: UtcbFrame, reply: tuple[bytearray, list[tuple[int, int]]]) -> None:
    w = f.utcb.word
    out, out_items = reply
    try:
        f.put_words(out)
        for crd, flags in out_items:
            f.put_item(crd, flags)
    except CapacityError as e:
        f.clear()
        _error(f, w, ErrorCode.E_CAPACITY, str(e))


def failed(f: UtcbFrame, e: BaseException, oneway: bool = False, method: str = "") -> None:
    """Answer a request whose handling raised ``e`` (WIRE.md §2): E_ARGS_INVALID for a
    request that did not decode, a RemoteError's own code (1..19), else E_FAILURE with
    "<method> raised <type>: <text>"; a oneway request gets no words, only a log line
    that names the method. It never raises: an exception whose text cannot be had
    (``__str__`` raises, a message that is no string) is named by its type alone.

    An exception that is not the protocol's (a bug in the server's code) keeps its
    traceback where the user sees it (docs/runtime.md, "Errors in servers and clients"):
    the running machine's ``log`` and trace, the log record, and the ``__notes__`` of the
    `RemoteError` the client gets."""
    w = f.utcb.word
    where = f"{method} " if method else ""
    if isinstance(e, DecodeError):
        _fail(f, w, oneway, ErrorCode.E_ARGS_INVALID, f"bad request{_to(method)}: " + text(e))
    elif isinstance(e, RemoteError):
        code = e.code if isinstance(e.code, int) and 1 <= e.code <= 19 else ErrorCode.E_FAILURE
        msg = e.message
        _fail(f, w, oneway, int(code), msg if type(msg) is str else text(msg))
    elif isinstance(e, MarshalError):
        _fail(f, w, oneway, ErrorCode.E_FAILURE, f"{where}reply does not encode: " + text(e))
    else:
        message = f"{where}raised {_type_name(e)}: {text(e)}"
        _keep_traceback(e, message[:200], oneway)
        _fail(f, w, oneway, ErrorCode.E_FAILURE, message, logged=True)


def _to(method: str) -> str:
    return f" to {method}" if method else ""


def _keep_traceback(e: BaseException, message: str, oneway: bool) -> None:
    """Record the server side's traceback of ``e``: the running machine's log and trace,
    a log record, and (keyed by the reply's message) for the client's `RemoteError`."""
    try:
        tb = "".join(traceback.format_exception(e))
    except BaseException:
        tb = f"{_type_name(e)} (no traceback: formatting it failed)\n"
    head = f"oneway {message}" if oneway else message
    report("handler-error", f"{head}\n{tb}".rstrip("\n"))
    log.log(logging.WARNING if oneway else logging.INFO, "%s\n%s", head, tb.rstrip("\n"))
    if not oneway:
        remember_failure(message, tb)


def text(x: object) -> str:
    """``str(x)`` as a plain string, or "" when that raises (never raises itself)."""
    try:
        s = str(x)
        return s if type(s) is str else ""
    except BaseException:  # a broken __str__ must not take the server down
        return ""


def _type_name(e: BaseException) -> str:
    try:
        name = type(e).__name__
        return name if type(name) is str else "Exception"
    except BaseException:
        return "Exception"


def _fail(
    f: UtcbFrame, w: int, oneway: bool, code: int, message: str, logged: bool = False
) -> None:
    f.clear()
    if oneway:
        if not logged:
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
