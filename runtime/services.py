"""Services as NRE builds them (NOVA-NRE.md §8.3): a name registry in root, reached
through per-CPU portals at 64*cpu + 0x24, and sessions with a liveness token.

Registry protocol (words; strings as WIRE.md §3: length word, UTF-8, zero padding; a CPU
mask is NUM_CPU bits in whole words, NRE's `BitField<64>`: one word on x86_64, two on
x86_32, more above 64 CPUs):
- REGISTER 0, name, cpu mask; the portals delegated so that CPU c's lands at window + c:
  one range item over an aligned block (NRE's `CapRange`, portal c at block + c), or one
  item per CPU with hotspot = cpu. Reply: E_SUCCESS, or E_EXISTS + message.
- GET 1, name. Reply: E_SUCCESS, cpu mask, the portals as one range item (CPU c's at the
  client's window + c); or E_NOT_FOUND + message.
- UNREGISTER 2, name. Only the PD that registered the name may. Reply: E_SUCCESS, or
  E_NOT_FOUND / E_CAP + message. Root revokes its copies, so every client's copy goes.

Every PD reaches the registry through portals of its own (root makes one per child and
CPU, the portal id names the client), so the registry knows who calls from what the
kernel vouches for. Each registry EC re-arms its delegate window after every request and
revokes whatever landed in it that the request did not declare (NRE servers revoke their
window on error, §8.1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from .api import SRV_SERVICE, Context, Env, Handler, LocalThread, Pt, Syscalls, contained
from .binding import text
from .kernel.crd import Crd, CrdType, crd, crd_type
from .kernel.status import ErrorCode, RemoteError, UtcbError
from .kernel.syscalls import FLAG0, Sys, word0
from .kernel.utcb import UtcbFrame

if TYPE_CHECKING:
    from .kernel.gate import Gate
    from .machine import Machine, Process

__all__ = [
    "BLOCK",
    "GET",
    "REGISTER",
    "UNREGISTER",
    "Registry",
    "cpu_order",
    "drop_portals",
    "get_mask",
    "get_string",
    "mask_cpus",
    "one_slot",
    "put_error",
    "put_mask",
    "put_string",
    "register",
    "registry_get",
    "start_registry",
]

_P = TypeVar("_P")

REGISTER, GET, UNREGISTER, CLIENT_DIED = 0, 1, 2, 3
BLOCK = 64  # selectors per CPU block (NRE's service_caps = 2 * cfg_exc); evt = BLOCK * cpu
CONNECT_RETRIES = 1000


def cpu_order(gate: Gate) -> int:
    """NRE's cpu_order: 2**order selectors hold one capability per CPU (6 for NUM_CPU 64)."""
    return max(0, (gate.num_cpu - 1).bit_length())


def service_sel(cpu: int, offset: int = SRV_SERVICE) -> int:
    """The selector of a parent portal (registry, io, gsi, sc) for `cpu` in every PD."""
    return BLOCK * cpu + offset


def _mask_words(f: UtcbFrame, k_num_cpu: int) -> int:
    bits = 8 * f.utcb.word
    return (k_num_cpu + bits - 1) // bits


def put_mask(f: UtcbFrame, mask: int, num_cpu: int) -> None:
    """A CPU mask of `num_cpu` bits in whole words, lowest word first (`BitField`)."""
    bits = 8 * f.utcb.word
    for i in range(_mask_words(f, num_cpu)):
        f.put_word(mask >> (bits * i) & ((1 << bits) - 1))


def get_mask(f: UtcbFrame, num_cpu: int) -> int:
    bits = 8 * f.utcb.word
    mask = 0
    for i in range(_mask_words(f, num_cpu)):
        mask |= f.get_word() << (bits * i)
    return mask


def mask_cpus(mask: int) -> list[int]:
    out = []
    c = 0
    while mask:
        if mask & 1:
            out.append(c)
        mask >>= 1
        c += 1
    return out


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


def pieces(base: int, count: int, limit: int = 31) -> list[tuple[int, int]]:
    """Aligned power-of-two pieces (base, order) of [base, base+count) (NRE's CapRange)."""
    out = []
    while count > 0:
        o = 0
        while not base & (1 << o) and (2 << o) <= count and o < limit:
            o += 1
        out.append((base, o))
        base += 1 << o
        count -= 1 << o
    return out


def clear_window(sys: Syscalls, base: int, order: int, keep: set[int] | None = None) -> None:
    """Revoke whatever landed in the object window Crd(base, order) except the units
    `base + i` for i in `keep` (a request's undeclared capabilities): one revoke per
    aligned piece of the rest."""
    size = 1 << order
    if not keep:
        sys.revoke(Crd.obj(base, order), self_=True)
        return
    start = 0
    for i in [*sorted(u for u in keep if 0 <= u < size), size]:
        for b, o in pieces(base + start, i - start):
            sys.revoke(Crd.obj(b, o), self_=True)
        start = i + 1


def drop_portals(m: Machine, clients: dict[int, _P], proc: _P) -> None:
    """Root revokes the per-client portals it made for `proc` and forgets their ids."""
    mine = [sel for sel, p in clients.items() if p is proc]
    with m.root.acting():
        sys = Syscalls(m.gate)
        for sel in mine:
            sys.revoke(Crd.obj(sel), self_=True)
            del clients[sel]


def one_slot(
    env: Env, windows: dict[int, int], cpu: int, take: Callable[[UtcbFrame, int], bool]
) -> Handler:
    """The handler of a service EC on `cpu` whose delegate window is one selector,
    `windows[cpu]`: `take(frame, window)` answers a request and says whether it keeps
    what landed there. Every receive re-arms the window: after a request that kept it
    on a fresh selector, after any other with whatever landed revoked, so a capability
    sent along with a request that does not declare one never stays."""

    def handler(f: UtcbFrame) -> None:
        win = windows[cpu]
        kept = False
        try:
            kept = take(f, win)
        finally:
            if kept:
                win = windows[cpu] = env.alloc()
            else:
                Syscalls(env.gate).revoke(Crd.obj(win), self_=True)
            f.delegation_window(crd(CrdType.OBJ, win))

    return handler


@dataclass
class Entry:
    owner: object  # the registering client (a Process)
    sels: dict[int, int]  # cpu -> root's selector of the portal
    base: int  # the window block they landed in (portal c at base + c)


@dataclass
class Registry:
    """Root's registry: a local EC per CPU; `portals` are root's own registry portals,
    `clients` the client of every registry portal id (root's and each child's)."""

    machine: Machine
    portals: dict[int, Pt] = field(default_factory=dict)
    names: dict[str, Entry] = field(default_factory=dict)
    threads: dict[int, LocalThread] = field(default_factory=dict)
    clients: dict[int, object] = field(default_factory=dict)  # portal id -> Process
    windows: dict[int, int] = field(default_factory=dict)  # cpu -> window base
    ips: dict[int, int] = field(default_factory=dict)  # cpu -> the handler's code address

    @property
    def order(self) -> int:
        return cpu_order(self.machine.gate)

    def handler(self, cpu: int) -> Handler:
        def handle(f: UtcbFrame) -> None:
            self.handle(f, cpu)

        return handle

    def add_client(self, proc: Process) -> None:
        """Root makes `proc` its registry portal on every CPU (its id names the client)
        and grants it at BLOCK*c + SRV_SERVICE in the client's space."""
        m = self.machine
        root = m.root
        for cpu, lt in self.threads.items():
            with root.acting():
                sel = root.env.alloc()
                Syscalls(m.gate).create_pt(sel, lt.sel, self.ips[cpu])
            self.clients[sel] = proc
            root.grant(sel, proc, service_sel(cpu))

    def drop_client(self, proc: Process) -> None:
        """After root killed `proc`: its registry portals and the names it registered go."""
        drop_portals(self.machine, self.clients, proc)
        sys = Syscalls(self.machine.gate)
        for name, e in list(self.names.items()):
            if e.owner is proc:
                del self.names[name]
                with self.machine.root.acting():
                    clear_window(sys, e.base, self.order)

    def handle(self, f: UtcbFrame, cpu: int) -> None:
        win = self.windows[cpu]
        keep: set[int] = set()
        try:
            client = self.clients.get(f.pid)
            cmd = f.get_word()
            name = get_string(f)
            if client is None:
                put_error(f, ErrorCode.E_CAP, "not a registry portal")
            elif cmd == REGISTER:
                keep = self._register(f, name, client, win)
            elif cmd == GET:
                f.finish_input()
                self._get(f, name)
            elif cmd == UNREGISTER:
                f.finish_input()
                self._unregister(f, name, client)
            else:
                put_error(f, ErrorCode.E_ARGS_INVALID, "unknown command")
        except UtcbError as e:
            put_error(f, e.code, str(e))
        except BaseException as e:
            if not contained(e):
                raise
            put_error(f, ErrorCode.E_FAILURE, type(e).__name__)
        finally:
            # Every receive re-arms the window: what a REGISTER keeps stays where it
            # landed (the next window is fresh), anything else that landed is revoked.
            sys = Syscalls(self.machine.gate)
            clear_window(sys, win, self.order, keep)
            if keep:
                win = self.windows[cpu] = self.machine.root.env.alloc(1 << self.order)
            f.delegation_window(crd(CrdType.OBJ, win, self.order))

    def _register(self, f: UtcbFrame, name: str, client: object, win: int) -> set[int]:
        gate = self.machine.gate
        mask = get_mask(f, gate.num_cpu)
        while f.items_left:  # where they landed is checked below, item by item or range
            f.get_item()
        f.finish_input()
        if not mask or mask >> gate.ncpus:
            put_error(f, ErrorCode.E_ARGS_INVALID, "bad cpu mask")
            return set()
        if name in self.names:
            put_error(f, ErrorCode.E_EXISTS, name)
            return set()
        sys = Syscalls(gate)
        cpus = mask_cpus(mask)
        if any(sys.lookup(Crd.obj(win + c)).type != CrdType.OBJ for c in cpus):
            put_error(f, ErrorCode.E_ARGS_INVALID, "a portal is missing")
            return set()
        self.names[name] = Entry(client, {c: win + c for c in cpus}, win)
        f.put_word(ErrorCode.E_SUCCESS)
        return set(cpus)

    def _get(self, f: UtcbFrame, name: str) -> None:
        e = self.names.get(name)
        if e is None:
            put_error(f, ErrorCode.E_NOT_FOUND, name)
            return
        mask = 0
        for cpu in e.sels:
            mask |= 1 << cpu
        f.put_word(ErrorCode.E_SUCCESS)
        put_mask(f, mask, self.machine.gate.num_cpu)
        f.delegate(crd(CrdType.OBJ, e.base, self.order))  # one item: portal c at window + c

    def _unregister(self, f: UtcbFrame, name: str, client: object) -> None:
        e = self.names.get(name)
        if e is None:
            put_error(f, ErrorCode.E_NOT_FOUND, name)
            return
        if e.owner is not client:
            put_error(f, ErrorCode.E_CAP, f"{name}: not registered by this PD")
            return
        del self.names[name]
        clear_window(Syscalls(self.machine.gate), e.base, self.order)
        f.put_word(ErrorCode.E_SUCCESS)


def start_registry(m: Machine) -> Registry:
    """Root's registry ECs, one per CPU, and root's own registry portals at BLOCK*c +
    SRV_SERVICE (children get theirs from `Registry.add_client` at spawn)."""
    reg = Registry(m)
    root = m.root
    order = cpu_order(m.gate)
    for cpu in range(m.cpus):
        with root.acting():
            lt = LocalThread(root.env, cpu)
            reg.ips[cpu] = m.gate.register_code(reg.handler(cpu), in_pd=False)
            sel = service_sel(cpu)
            Syscalls(m.gate).create_pt(sel, lt.sel, reg.ips[cpu])
        reg.portals[cpu] = Pt(m.gate, sel)
        reg.clients[sel] = root
        reg.threads[cpu] = lt
        block = root.env.alloc(1 << order)
        reg.windows[cpu] = block
        lt.utcb.dele = crd(CrdType.OBJ, block, order)
    return reg


def register(ctx: Context, name: str, pts: dict[int, Pt]) -> None:
    """Register this PD's portals (cpu -> portal) under `name`: one range item when they
    sit at block + cpu of an aligned block (as `Process.serve` makes them), else one item
    per CPU with hotspot = cpu."""
    reg = Pt(ctx.gate, service_sel(ctx.cpu))
    order = cpu_order(ctx.gate)
    with ctx.frame() as f:
        f.put_word(REGISTER)
        put_string(f, name)
        mask = 0
        for cpu in pts:
            mask |= 1 << cpu
        put_mask(f, mask, ctx.gate.num_cpu)
        bases = {pt.sel - cpu for cpu, pt in pts.items()}
        base = next(iter(bases)) if len(bases) == 1 else -1
        if base >= 0 and not base & ((1 << order) - 1):
            f.delegate(crd(CrdType.OBJ, base, order))
        else:
            for cpu, pt in sorted(pts.items()):
                f.delegate(crd(CrdType.OBJ, pt.sel), hotspot=cpu)
        reg.call(f)
        check_reply(f)


def unregister(ctx: Context, name: str) -> None:
    reg = Pt(ctx.gate, service_sel(ctx.cpu))
    with ctx.frame() as f:
        f.put_word(UNREGISTER)
        put_string(f, name)
        reg.call(f)
        check_reply(f)


def lookup_service(ctx: Context, name: str) -> dict[int, Pt]:
    """One GET: the service's portals per CPU (raises RemoteError E_NOT_FOUND)."""
    reg = Pt(ctx.gate, service_sel(ctx.cpu))
    with ctx.frame() as f:
        block = ctx.accept_delegates(f, cpu_order(ctx.gate))
        f.put_word(GET)
        put_string(f, name)
        reg.call(f)
        check_reply(f)
        mask = get_mask(f, ctx.gate.num_cpu)
        return {cpu: Pt(ctx.gate, block + cpu) for cpu in mask_cpus(mask)}


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
def guard(handler: Handler, gate: Gate | None = None) -> Handler:
    """Wrap a handler like NRE's handler template (§8.3): a request that does not decode
    (UtcbError) is answered with E_ARGS_INVALID (or the frame's own code, e.g.
    E_CAPACITY), any other exception with E_FAILURE. With `gate`, what arrived in the
    delegation window is revoked on error, as NRE servers do. The server keeps serving."""

    def guarded(f: UtcbFrame) -> None:
        try:
            handler(f)
        except UtcbError as e:
            code = e.code
            if code in (ErrorCode.E_UTCB_UNTYPED, ErrorCode.E_UTCB_TYPED):
                code = ErrorCode.E_ARGS_INVALID
            _drop_window(f, gate)
            put_error(f, code, text(e))
        except BaseException as e:  # the server's own bug (any kind): report it, do not die
            if not contained(e):
                raise
            _drop_window(f, gate)
            put_error(f, ErrorCode.E_FAILURE, f"{type(e).__name__}: {text(e)}")

    return guarded


def _drop_window(f: UtcbFrame, gate: Gate | None) -> None:
    win = f.utcb.dele
    if gate is not None and crd_type(win) != CrdType.NULL:
        gate.syscall(word0(Sys.REVOKE, 0, FLAG0), win | 0x1F << 2)
