"""Sessions as NRE builds them (NOVA-NRE.md §8.3): a service EC per CPU answers OPEN and
CLOSE; each session gets one portal per CPU on a session EC; the client's PD capability,
delegated at OPEN, is the liveness token.

Protocol on the service portal (registered under the service's name):
- OPEN 0, one delegated item: the client's PD cap. Reply: E_SUCCESS, the cpu mask (as
  the registry's) and the session's portals as one range item, CPU c's at the client's
  window + c (the client arms a window of cpu_order: 64 selectors for NUM_CPU 64).
- CLOSE 1, one translated item: the client's session portal. The server's translate
  window covers its whole object space, so the kernel names the server's own portal.
  Reply: E_SUCCESS or E_NOT_FOUND.
Each service EC re-arms its one-selector delegate window after every request: only the
token of an OPEN that succeeds stays where it landed; anything else that landed there (a
CLOSE or a refused request carrying a delegation) is revoked.
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
from .kernel.crd import Crd, CrdType, PdRights, SmRights, crd, crd_base, crd_type
from .kernel.status import ErrorCode, RemoteError
from .kernel.utcb import UtcbFrame
from .services import (
    check_reply,
    cpu_order,
    get_mask,
    guard,
    mask_cpus,
    one_slot,
    put_error,
    put_mask,
    register,
)

if TYPE_CHECKING:
    from .kernel.gate import Gate
    from .machine import Process

__all__ = ["CLOSE", "OPEN", "ClientSession", "Service", "Session"]

OPEN, CLOSE = 0, 1


@dataclass
class Session:
    id: int
    token: int  # the server's selector of the client's PD capability
    portals: dict[int, int] = field(default_factory=dict)  # cpu -> server selector
    closed: bool = False
    block: int = 0  # the portals' aligned block (CPU c's at block + c)


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
        from .machine import machine_of

        m = machine_of(proc)
        self.gate: Gate = m.gate
        self.env: Env = proc.env
        self.name = name
        self.factory = factory
        self.cpus = list(range(m.cpus)) if cpus is None else cpus
        self.sessions: dict[int, Session] = {}
        self.by_portal: dict[int, Session] = {}
        self.next_id = 0
        self.session_ecs: dict[int, LocalThread] = {}
        pts: dict[int, Pt] = {}
        self.order = cpu_order(self.gate)
        self.windows: dict[int, int] = {}  # cpu -> the service EC's window (one selector)
        with proc.acting():
            block = self.env.alloc(1 << self.order)  # service portal c at block + c
            for cpu in self.cpus:
                svc = LocalThread(self.env, cpu)
                serve = one_slot(self.env, self.windows, cpu, self._command)
                pts[cpu] = svc.portal(guard(serve, self.gate), block + cpu)
                svc.utcb.xlt = crd(CrdType.OBJ, 0, self.gate.arch.sel_bits)
                self.windows[cpu] = self.env.alloc()
                svc.utcb.dele = crd(CrdType.OBJ, self.windows[cpu])
                self.session_ecs[cpu] = LocalThread(self.env, cpu)
            self.kill_sm = self.env.alloc()
            Syscalls(self.gate).create_sm(self.kill_sm, 0)
        # The parent (root) may only up it, as NRE's parent signals CLIENT_DIED.
        self.kill_sm_in_root = m.root.env.alloc()
        proc.grant(self.kill_sm, m.root, self.kill_sm_in_root, SmRights.UP)

        def registrar(ctx: Context) -> None:
            register(ctx, name, pts)

        proc.thread(registrar, self.cpus[0], name=f"{proc.name}:register")
        reaper = proc.thread(self._reaper, self.cpus[0], name=f"{proc.name}:reaper")
        from .machine import ec_of

        m.daemons.add(ec_of(proc, reaper.ec_sel))
        m.session_services.append(self)
        self.proc = proc

    # -- service EC ------------------------------------------------------------------------
    def _command(self, f: UtcbFrame, win: int) -> bool:
        """Answer one request; True when its token was taken (it stays at `win`)."""
        cmd = f.get_word()
        if cmd == OPEN:
            item, aux = f.get_item()
            f.finish_input()
            if crd_type(item) != CrdType.OBJ or not aux & 1 or crd_base(item) != win:
                put_error(f, ErrorCode.E_ARGS_INVALID, "no liveness token")
                return False
            s = self._open(win)
            f.put_word(ErrorCode.E_SUCCESS)
            mask = 0
            for c in s.portals:
                mask |= 1 << c
            put_mask(f, mask, self.gate.num_cpu)
            f.delegate(crd(CrdType.OBJ, s.block, self.order))  # portal c at window + c
            return True
        if cmd == CLOSE:
            item, aux = f.get_item()
            f.finish_input()
            found = self.by_portal.get(crd_base(item)) if item and not aux & 1 else None
            if found is None:
                put_error(f, ErrorCode.E_NOT_FOUND, "no such session")
                return False
            self.destroy(found)
            f.put_word(ErrorCode.E_SUCCESS)
            return False
        put_error(f, ErrorCode.E_ARGS_INVALID, f"unknown command {cmd}")
        return False

    def _open(self, token: int) -> Session:
        s = Session(self.next_id, token)
        self.next_id += 1
        handler = self.factory(s)
        sys = Syscalls(self.gate)
        ip = self.gate.register_code(handler)
        s.block = self.env.alloc(1 << self.order)
        for cpu in self.cpus:
            sel = s.block + cpu
            sys.create_pt(sel, self.session_ecs[cpu].sel, ip)
            s.portals[cpu] = sel
            self.by_portal[sel] = s
        self.sessions[s.id] = s
        return s

    def destroy(self, s: Session) -> None:
        """Revoke the session's portals (the client's copies go too) and the token."""
        sys = Syscalls(self.gate)
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
        from .machine import machine_of

        with machine_of(self.proc).root.acting():
            Syscalls(self.gate).sm_up(self.kill_sm_in_root)


class ClientSession:
    """Client side: OPEN on construction, `pt` for the caller's CPU, `close()`."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.service = ctx.connect(name)
        self.portals: dict[int, Pt] = {}
        with ctx.frame() as f:
            block = ctx.accept_delegates(f, cpu_order(ctx.gate))
            f.put_word(OPEN)
            f.delegate(crd(CrdType.OBJ, SELF_PD, 0, PdRights.CREATE_SM))
            self.service.call(f)
            check_reply(f)
            for cpu in mask_cpus(get_mask(f, ctx.gate.num_cpu)):
                self.portals[cpu] = Pt(ctx.gate, block + cpu)
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
