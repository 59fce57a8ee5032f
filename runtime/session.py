"""Sessions as NRE builds them (NOVA-NRE.md §8.3): a service EC per CPU answers OPEN and
CLOSE; each session gets one portal per CPU on a session EC; the client's PD capability,
delegated at OPEN, is the liveness token.

Protocol on the service portal (registered under the service's name):
- OPEN 0, one delegated item: the client's PD cap. Reply: E_SUCCESS and the session's
  portals delegated with hotspot = cpu (the client arms a 64-selector window).
- CLOSE 1, one translated item: the client's session portal. The server's translate
  window covers its whole object space, so the kernel names the server's own portal.
  Reply: E_SUCCESS or E_NOT_FOUND.
When a client dies, its parent revokes its PD; the token in the server goes with it. The
parent ups each service's kill semaphore (NRE's CLIENT_DIED); the service's reaper then
`lookup`s every token and destroys the sessions whose token is gone.

The token is delegated with the CREATE_SM right only: it must carry some right to exist,
and that one lets the server create nothing in the client's address space.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .api import SELF_PD, Context, Env, Handler, LocalThread, Pt, Syscalls
from .kernel.crd import Crd, CrdType, PdRights, SmRights, crd, crd_base
from .kernel.status import ErrorCode, RemoteError
from .kernel.utcb import UtcbFrame
from .services import check_reply, guard, put_error, register

if TYPE_CHECKING:
    from .kernel.kernel import Kernel
    from .machine import Process

__all__ = ["CLOSE", "OPEN", "ClientSession", "Service", "Session"]

OPEN, CLOSE = 0, 1
_WINDOW_ORDER = 6


@dataclass
class Session:
    id: int
    token: int  # the server's selector of the client's PD capability
    portals: dict[int, int] = field(default_factory=dict)  # cpu -> server selector
    closed: bool = False


class Service:
    """Server side. `factory(session)` gives the handler for that session's portals,
    e.g. `lambda s: demo.EchoServer(EchoImpl(s))` with a generated skeleton."""

    def __init__(
        self,
        proc: Process,
        name: str,
        factory: Callable[[Session], Handler],
        cpus: list[int] | None = None,
    ) -> None:
        m = proc.machine
        self.k: Kernel = m.k
        self.env: Env = proc.env
        self.name = name
        self.factory = factory
        self.cpus = list(range(m.cpus)) if cpus is None else cpus
        self.sessions: dict[int, Session] = {}
        self.by_portal: dict[int, Session] = {}
        self.next_id = 0
        self.session_ecs: dict[int, LocalThread] = {}
        pts: dict[int, Pt] = {}
        with proc.acting():
            for cpu in self.cpus:
                svc = LocalThread(self.env, cpu)
                pts[cpu] = svc.portal(guard(self._serve, self.k))
                svc.ec.utcb.xlt = crd(CrdType.OBJ, 0, self.k.arch.sel_bits)
                svc.ec.utcb.dele = crd(CrdType.OBJ, self.env.alloc())
                self.session_ecs[cpu] = LocalThread(self.env, cpu)
            self.kill_sm = self.env.alloc()
            Syscalls(self.k).create_sm(self.kill_sm, 0)
        # The parent (root) may only up it, as NRE's parent signals CLIENT_DIED.
        self.kill_sm_in_root = m.root.env.alloc()
        proc.grant(self.kill_sm, m.root, self.kill_sm_in_root, SmRights.UP)

        def registrar(ctx: Context) -> None:
            register(ctx, name, pts)

        proc.thread(registrar, self.cpus[0], name=f"{proc.name}:register")
        reaper = proc.thread(self._reaper, self.cpus[0], name=f"{proc.name}:reaper")
        m.daemons.add(reaper.ec)
        m.session_services.append(self)
        self.proc = proc

    # -- service EC ------------------------------------------------------------------------
    def _serve(self, f: UtcbFrame) -> None:
        cmd = f.get_word()
        if cmd == OPEN:
            item, _ = f.get_item()
            f.finish_input()
            f.delegation_window(crd(CrdType.OBJ, self.env.alloc()))  # the token stays
            if not item:
                put_error(f, ErrorCode.E_ARGS_INVALID, "no liveness token")
                return
            s = self._open(crd_base(item))
            f.put_word(ErrorCode.E_SUCCESS)
            for cpu, sel in sorted(s.portals.items()):
                f.delegate(crd(CrdType.OBJ, sel), hotspot=cpu)
        elif cmd == CLOSE:
            item, _ = f.get_item()
            f.finish_input()
            found = self.by_portal.get(crd_base(item)) if item else None
            if found is None:
                put_error(f, ErrorCode.E_NOT_FOUND, "no such session")
                return
            self.destroy(found)
            f.put_word(ErrorCode.E_SUCCESS)
        else:
            put_error(f, ErrorCode.E_ARGS_INVALID, f"unknown command {cmd}")

    def _open(self, token: int) -> Session:
        s = Session(self.next_id, token)
        self.next_id += 1
        handler = self.factory(s)
        sys = Syscalls(self.k)
        for cpu in self.cpus:
            sel = self.env.alloc()
            sys.create_pt(sel, self.session_ecs[cpu].sel, self.k.register_code(handler))
            s.portals[cpu] = sel
            self.by_portal[sel] = s
        self.sessions[s.id] = s
        return s

    def destroy(self, s: Session) -> None:
        """Revoke the session's portals (the client's copies go too) and the token."""
        sys = Syscalls(self.k)
        for sel in s.portals.values():
            sys.revoke(Crd.obj(sel), self_=True)
            self.by_portal.pop(sel, None)
        sys.revoke(Crd.obj(s.token), self_=True)
        s.closed = True
        self.sessions.pop(s.id, None)

    # -- liveness --------------------------------------------------------------------------
    def _reaper(self, ctx: Context) -> None:
        while True:
            ctx.sys.sm_down(self.kill_sm)
            for s in list(self.sessions.values()):
                if ctx.sys.lookup(Crd.obj(s.token)).type == CrdType.NULL:
                    self.destroy(s)

    def client_died(self) -> None:
        """Called by the parent (root) after it revoked a client (NRE CLIENT_DIED)."""
        with self.proc.machine.root.acting():
            Syscalls(self.k).sm_up(self.kill_sm_in_root)


class ClientSession:
    """Client side: OPEN on construction, `pt` for the caller's CPU, `close()`."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.service = ctx.connect(name)
        self.portals: dict[int, Pt] = {}
        with ctx.frame() as f:
            block = ctx.accept_delegates(f, _WINDOW_ORDER)
            f.put_word(OPEN)
            f.delegate(crd(CrdType.OBJ, SELF_PD, 0, PdRights.CREATE_SM))
            self.service.call(f)
            check_reply(f)
            for c, _aux in f.items():
                if c:
                    sel = crd_base(c)
                    self.portals[sel - block] = Pt(ctx.k, sel)
        if ctx.cpu not in self.portals:
            raise RemoteError(ErrorCode.E_CPU, f"{name}: no session portal for CPU {ctx.cpu}")

    @property
    def pt(self) -> Pt:
        return self.portals[self.ctx.cpu]

    def close(self) -> None:
        with self.ctx.frame() as f:
            f.put_word(CLOSE)
            f.translate(crd(CrdType.OBJ, self.pt.sel))
            self.service.call(f)
            check_reply(f)
