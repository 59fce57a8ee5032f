"""Services as NRE builds them (NOVA-NRE.md §8.3): a name registry in root, reached
through per-CPU portals at 64*cpu + 0x24, and sessions with a liveness token.

Registry protocol (words; strings as WIRE.md §3: length word, UTF-8, zero padding):
- REGISTER 0, name, cpu mask; one delegated portal per CPU in the mask, hotspot = cpu.
  Reply: E_SUCCESS, or E_EXISTS + message.
- GET 1, name. Reply: E_SUCCESS, cpu mask, the portals delegated (hotspot = cpu); or
  E_NOT_FOUND + message.
- UNREGISTER 2, name. Reply: E_SUCCESS or E_NOT_FOUND + message. Root revokes its copies,
  so every client's copy goes with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .api import SRV_SERVICE, Context, Handler, LocalThread, Pt, Syscalls
from .kernel.crd import CrdType, crd, crd_base, crd_type
from .kernel.status import ErrorCode, RemoteError, UtcbError
from .kernel.syscalls import FLAG0, Sys, word0
from .kernel.utcb import UtcbFrame

if TYPE_CHECKING:
    from .kernel.kernel import Kernel
    from .machine import Machine

__all__ = [
    "GET",
    "REGISTER",
    "UNREGISTER",
    "Registry",
    "get_string",
    "put_error",
    "put_string",
    "register",
    "registry_get",
    "start_registry",
]

REGISTER, GET, UNREGISTER, CLIENT_DIED = 0, 1, 2, 3
_WINDOW_ORDER = 6  # 64 selectors: one per possible CPU (NRE's cpu_order)
CONNECT_RETRIES = 1000


def put_string(f: UtcbFrame, s: str) -> None:
    b = s.encode()
    f.put_word(len(b))
    f.put_words(b)


def get_string(f: UtcbFrame, bound: int = 1 << 16) -> str:
    n = f.get_word()
    w = f.utcb.word
    if n > bound or n > f.left * w:
        raise UtcbError(ErrorCode.E_ARGS_INVALID, "string length out of range")
    raw = f.get_words((n + w - 1) // w)
    if any(raw[n:]):
        raise UtcbError(ErrorCode.E_ARGS_INVALID, "non-zero string padding")
    try:
        return raw[:n].decode()
    except UnicodeDecodeError as e:
        raise UtcbError(ErrorCode.E_ARGS_INVALID, "invalid UTF-8") from e


def put_error(f: UtcbFrame, code: int, message: str = "") -> None:
    """An NRE-style error reply: clear the frame, then code and message."""
    f.clear()
    f.put_word(code)
    put_string(f, message)


def check_reply(f: UtcbFrame) -> None:
    """Raise RemoteError unless the reply starts with E_SUCCESS (NRE `check_reply`)."""
    code = f.get_word()
    if code != ErrorCode.E_SUCCESS:
        try:
            msg = get_string(f)
        except UtcbError:
            msg = ""
        raise RemoteError(code, msg)


@dataclass
class Registry:
    """Root's registry state; `portals` are root's registry portals per CPU."""

    machine: Machine
    portals: dict[int, Pt] = field(default_factory=dict)
    names: dict[str, dict[int, int]] = field(default_factory=dict)  # name -> cpu -> root sel
    threads: list[LocalThread] = field(default_factory=list)

    def handle(self, f: UtcbFrame) -> None:
        try:
            cmd = f.get_word()
            name = get_string(f)
            if cmd == REGISTER:
                self._register(f, name)
            elif cmd == GET:
                self._get(f, name)
            elif cmd == UNREGISTER:
                f.finish_input()
                self._unregister(f, name)
            else:
                put_error(f, ErrorCode.E_ARGS_INVALID, "unknown command")
        except UtcbError as e:
            put_error(f, e.code, str(e))

    def _rearm(self, f: UtcbFrame) -> None:
        block = self.machine.root.env.alloc(1 << _WINDOW_ORDER)
        f.delegation_window(crd(CrdType.OBJ, block, _WINDOW_ORDER))

    def _register(self, f: UtcbFrame, name: str) -> None:
        mask = f.get_word()
        got: dict[int, int] = {}
        for cpu in range(64):
            if mask >> cpu & 1:
                c, _aux = f.get_item()
                if crd_type(c) == CrdType.OBJ:
                    got[cpu] = crd_base(c)
        f.finish_input()
        self._rearm(f)  # the received caps stay where they landed
        if name in self.names:
            put_error(f, ErrorCode.E_EXISTS, name)
        elif len(got) != bin(mask).count("1"):
            put_error(f, ErrorCode.E_ARGS_INVALID, "a portal is missing")
        else:
            self.names[name] = got
            f.put_word(ErrorCode.E_SUCCESS)

    def _get(self, f: UtcbFrame, name: str) -> None:
        f.finish_input()
        pts = self.names.get(name)
        if pts is None:
            put_error(f, ErrorCode.E_NOT_FOUND, name)
            return
        mask = 0
        for cpu in pts:
            mask |= 1 << cpu
        f.put_word(ErrorCode.E_SUCCESS)
        f.put_word(mask)
        for cpu, sel in sorted(pts.items()):
            f.delegate(crd(CrdType.OBJ, sel), hotspot=cpu)

    def _unregister(self, f: UtcbFrame, name: str) -> None:
        pts = self.names.pop(name, None)
        if pts is None:
            put_error(f, ErrorCode.E_NOT_FOUND, name)
            return
        sys = Syscalls(self.machine.k)
        from .kernel.crd import Crd

        for sel in pts.values():
            sys.revoke(Crd.obj(sel), self_=True)
        f.put_word(ErrorCode.E_SUCCESS)


def start_registry(m: Machine) -> Registry:
    reg = Registry(m)
    root = m.root
    for cpu in range(m.cpus):
        with root.acting():
            lt = LocalThread(root.env, cpu)
            reg.portals[cpu] = lt.portal(reg.handle)
        reg.threads.append(lt)
        block = root.env.alloc(1 << _WINDOW_ORDER)
        lt.ec.utcb.dele = crd(CrdType.OBJ, block, _WINDOW_ORDER)
    return reg


def register(ctx: Context, name: str, pts: dict[int, Pt]) -> None:
    """Register this PD's portals (cpu -> portal) under `name`."""
    reg = Pt(ctx.k, 64 * ctx.cpu + SRV_SERVICE)
    with ctx.frame() as f:
        f.put_word(REGISTER)
        put_string(f, name)
        mask = 0
        for cpu in pts:
            mask |= 1 << cpu
        f.put_word(mask)
        for cpu, pt in sorted(pts.items()):
            f.delegate(crd(CrdType.OBJ, pt.sel), hotspot=cpu)
        reg.call(f)
        check_reply(f)


def unregister(ctx: Context, name: str) -> None:
    reg = Pt(ctx.k, 64 * ctx.cpu + SRV_SERVICE)
    with ctx.frame() as f:
        f.put_word(UNREGISTER)
        put_string(f, name)
        reg.call(f)
        check_reply(f)


def lookup_service(ctx: Context, name: str) -> dict[int, Pt]:
    """One GET: the service's portals per CPU (raises RemoteError E_NOT_FOUND)."""
    reg = Pt(ctx.k, 64 * ctx.cpu + SRV_SERVICE)
    with ctx.frame() as f:
        ctx.accept_delegates(f, _WINDOW_ORDER)
        f.put_word(GET)
        put_string(f, name)
        reg.call(f)
        check_reply(f)
        mask = f.get_word()
        out: dict[int, Pt] = {}
        for cpu in range(64):
            if mask >> cpu & 1:
                c, _aux = f.get_item()
                if c:
                    out[cpu] = Pt(ctx.k, crd_base(c))
        return out


def registry_get(ctx: Context, name: str) -> Pt:
    """The portal of `name` for the caller's CPU; waits (yielding) until it is registered."""
    for _ in range(CONNECT_RETRIES):
        try:
            pts = lookup_service(ctx, name)
        except RemoteError as e:
            if e.code != ErrorCode.E_NOT_FOUND:
                raise
            ctx.yield_()
            continue
        if ctx.cpu in pts:
            return pts[ctx.cpu]
        raise RemoteError(ErrorCode.E_CPU, f"{name} does not serve CPU {ctx.cpu}")
    raise RemoteError(ErrorCode.E_NOT_FOUND, name)


def notify_client_died(m: Machine) -> None:
    """Wake every session service's reaper, as NRE's parent does on CLIENT_DIED."""
    for svc in getattr(m, "session_services", []):
        svc.client_died()


# -- server-side guard (what a generated skeleton does around its dispatch) ----------------
def guard(handler: Handler, k: Kernel | None = None) -> Handler:
    """Wrap a handler like NRE's handler template (§8.3): a request that does not decode
    (UtcbError) is answered with E_ARGS_INVALID (or the frame's own code, e.g.
    E_CAPACITY), any other exception with E_FAILURE. With `k`, what arrived in the
    delegation window is revoked on error, as NRE servers do. The server keeps serving."""

    def guarded(f: UtcbFrame) -> None:
        try:
            handler(f)
        except UtcbError as e:
            code = e.code
            if code in (ErrorCode.E_UTCB_UNTYPED, ErrorCode.E_UTCB_TYPED):
                code = ErrorCode.E_ARGS_INVALID
            _drop_window(f, k)
            put_error(f, code, str(e))
        except Exception as e:  # the server's own bug: report it, do not die
            _drop_window(f, k)
            put_error(f, ErrorCode.E_FAILURE, f"{type(e).__name__}: {e}")

    return guarded


def _drop_window(f: UtcbFrame, k: Kernel | None) -> None:
    win = f.utcb.dele
    if k is not None and crd_type(win) != CrdType.NULL:
        k.syscall(word0(Sys.REVOKE, 0, FLAG0), win | 0x1F << 2)
