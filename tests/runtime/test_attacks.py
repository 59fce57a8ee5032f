"""Regression tests for what an attack campaign found in the services and the Python
edges (issue 15, item 7), and services on more than 64 CPUs (item 5): each replays the
case; families are tables."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from greenlet import GreenletExit  # type: ignore[import-untyped]

from bench.cpus import max_cpus_with_services, serve_on_every_cpu
from runtime.admission import CHILD_PD_RIGHTS
from runtime.api import Context, Pt
from runtime.binding import serve
from runtime.codec import Items
from runtime.crd import ALL, Crd, CrdType, PdRights, crd
from runtime.devices import KEYBOARD_IRQ, SRV_GSI, SRV_IO, Gsi, Platform, Ports
from runtime.kernel.syscalls import Sys, qpd, word0
from runtime.machine import Machine, Process, pd_of
from runtime.platform.fault import Insn
from runtime.services import (
    GET,
    REGISTER,
    UNREGISTER,
    guard,
    lookup_service,
    notify_client_died,
    put_mask,
    put_string,
    service_sel,
    unregister,
)
from runtime.session import CLOSE, OPEN, ClientSession, Service, Session
from runtime.status import ErrorCode, RemoteError, Status, SyscallError
from runtime.utcb import UtcbFrame

from .conftest import sys_as


def _answer(tag: int) -> Callable[[UtcbFrame], None]:
    def handler(f: UtcbFrame) -> None:
        f.clear()
        f.put_words([ErrorCode.E_SUCCESS, tag])

    return handler


def _call_words(pt: Pt, words: list[int]) -> list[int]:
    with pt.frame() as f:
        f.put_words(words)
        pt.call(f)
        return list(f.words())


def _window_units(m: Machine, cpu: int = 0) -> list[int]:
    """The units of root's registry EC window on `cpu` that hold a capability."""
    base = m.registry.windows[cpu]
    nodes = pd_of(m.root).obj.nodes
    return [u for u in range(base, base + (1 << m.registry.order)) if u in nodes]


# -- name registry ---------------------------------------------------------------------------
def _request(cmd: int) -> Callable[[UtcbFrame, int], None]:
    """Registry requests of every kind, each carrying the attacker's portal delegated."""

    def build(f: UtcbFrame, mask_words: int) -> None:
        f.put_word(cmd)
        put_string(f, "svc" if cmd != GET else "nope")
        if cmd == REGISTER:
            f.put_words([0] * mask_words)  # an empty mask: refused
        elif cmd == 9:
            pass  # an unknown command

    return build


@pytest.mark.parametrize(
    "cmd", [GET, UNREGISTER, REGISTER, 9], ids=["GET", "UNREGISTER", "REGISTER-bad", "unknown"]
)
def test_registry_request_with_a_stray_delegation_leaves_nothing_behind(cmd: int) -> None:
    """Replays: a GET carrying a delegated item landed in root's window slot (GET did not
    re-arm it) and the next REGISTER recorded the genuine name pointing at the
    attacker's portal. Every request kind now revokes what it did not declare."""
    m = Machine()
    evil = m.spawn("evil")
    evil_pt = evil.portal(_answer(666))
    srv = m.spawn("srv")
    srv_pts = srv.serve("svc", _answer(1))
    seen: list[object] = []

    @evil
    def attack(ctx: Context) -> None:
        reg = Pt(ctx.gate, service_sel(ctx.cpu))
        with ctx.frame() as f:
            _request(cmd)(f, 1)
            f.delegate(crd(CrdType.OBJ, evil_pt.sel), hotspot=0)
            reg.call(f)
            seen.append(f.get_word())
        seen.append(_window_units(m))

    @m.spawn("client")
    def client(ctx: Context) -> None:
        ctx.yield_()
        ctx.yield_()
        seen.append(_call_words(ctx.connect("svc"), [0]))

    m.run()
    assert seen[0] != ErrorCode.E_SUCCESS
    assert seen[1] == []  # nothing of the attacker's stays in root's window
    assert seen[2] == [ErrorCode.E_SUCCESS, 1]  # the genuine service answered
    assert srv_pts[0].sel != evil_pt.sel


def test_registry_unregister_only_by_the_registering_pd() -> None:
    """Replays: any PD could UNREGISTER any name and register its own under it."""
    m = Machine()
    m.spawn("srv").serve("svc", _answer(1))
    evil = m.spawn("evil")
    evil_pt = evil.portal(_answer(666))
    seen: list[object] = []

    @evil
    def attack(ctx: Context) -> None:
        ctx.connect("svc")  # it exists
        for step in ("unregister", "register"):
            try:
                if step == "unregister":
                    unregister(ctx, "svc")
                else:
                    from runtime.services import register

                    register(ctx, "svc", {0: evil_pt})
            except RemoteError as e:
                seen.append(e.code)

    @m.spawn("client")
    def client(ctx: Context) -> None:
        for _ in range(3):
            ctx.yield_()
        seen.append(_call_words(ctx.connect("svc"), [0]))

    m.run()
    assert seen == [ErrorCode.E_CAP, ErrorCode.E_EXISTS, [ErrorCode.E_SUCCESS, 1]]


def test_registry_refuses_a_mask_without_portals_and_cpus_beyond_the_machine() -> None:
    m = Machine(cpus=2)
    codes: list[int] = []

    @m.spawn("p")
    def main(ctx: Context) -> None:
        reg = Pt(ctx.gate, service_sel(ctx.cpu))
        for mask in (0b11, 0b100, 0):
            with ctx.frame() as f:
                f.put_word(REGISTER)
                put_string(f, "x")
                put_mask(f, mask, m.num_cpu)
                reg.call(f)
                codes.append(f.get_word())

    m.run()
    assert codes == [ErrorCode.E_ARGS_INVALID] * 3
    assert _window_units(m) == []


# -- root's io and gsi services ----------------------------------------------------------------
@pytest.mark.parametrize("what", ["ports", "gsi"])
def test_io_and_gsi_only_the_owner_releases(what: str) -> None:
    """Replays: any PD could RELEASE the keyboard driver's ports and IRQ and ALLOC them
    (the driver then died with #GP); owners were recorded as root."""
    m = Machine()
    plat = Platform(m)
    plat.kbd_script([(2000, "a")])
    drv = m.spawn("kbd")
    evil = m.spawn("evil")
    seen: list[object] = []

    @drv
    def driver(ctx: Context) -> None:
        Ports(ctx, 0x60)
        Ports(ctx, 0x64)
        gsi = Gsi(KEYBOARD_IRQ, ctx)
        gsi.down()
        ins = Insn(ctx)
        if ins.inb(0x64) & 1:
            seen.append(("key", ins.inb(0x60)))

    @evil
    def attack(ctx: Context) -> None:
        ctx.yield_()
        pt = Pt(ctx.gate, service_sel(ctx.cpu, SRV_IO if what == "ports" else SRV_GSI))
        words = [1, 0x60, 1] if what == "ports" else [1, KEYBOARD_IRQ]
        seen.append(("release", _call_words(pt, words)[0]))
        seen.append(("alloc", _call_words(pt, [0, *words[1:]])[0]))

    r = m.run(until=10_000)
    assert ("release", ErrorCode.E_CAP) in seen
    assert ("alloc", ErrorCode.E_EXISTS) in seen
    assert ("key", 0x1E) in seen  # the driver still has its ports and its IRQ
    assert [d for d in r.deaths if d[0] == "kbd" and d[1] != "exit"] == []
    assert set(plat.allocated_ports.values()) == {drv}
    assert plat.allocated_gsis == {KEYBOARD_IRQ: drv}


# -- sessions --------------------------------------------------------------------------------
def _counter(m: Machine) -> Service:
    def factory(s: Session) -> object:
        def handler(f: UtcbFrame) -> None:
            f.finish_input()
            f.put_words([ErrorCode.E_SUCCESS, s.id])

        return handler

    return Service(m.spawn("srv"), "counter", factory)  # type: ignore[arg-type]


@pytest.mark.parametrize("cmd", [CLOSE, OPEN, 7], ids=["CLOSE", "OPEN-twice", "unknown"])
def test_session_request_with_a_stray_delegation_never_becomes_a_token(cmd: int) -> None:
    """Replays: a CLOSE carrying a delegated item landed in the service EC's window (only
    OPEN re-armed it) and became the next client's session token; the attacker revoked
    it and so killed that session."""
    m = Machine()
    svc = _counter(m)
    evil = m.spawn("evil")
    seen: list[object] = []

    @evil
    def attack(ctx: Context) -> None:
        bait = ctx.sm(0)
        pt = ctx.connect("counter")
        with ctx.frame() as f:
            f.put_word(cmd)
            f.delegate(crd(CrdType.OBJ, bait.sel))
            if cmd == OPEN:
                f.delegate(crd(CrdType.OBJ, bait.sel), hotspot=1)  # a second item
            pt.call(f)
            seen.append(f.get_word())
        ctx.yield_()  # the victim opens its session now
        ctx.yield_()
        ctx.sys.revoke(Crd.obj(bait.sel), self_=True)  # would kill the victim's session

    sessions: list[ClientSession] = []
    victim = m.spawn("victim")
    victim.thread(lambda ctx: sessions.append(ClientSession(ctx, "counter")))
    m.run()
    notify_client_died(m)  # as root does when a PD dies: the reaper looks at every token
    m.run()
    victim.thread(lambda ctx: seen.append(_call_words(sessions[0].pt, [])[0]))
    m.run()
    assert seen[0] != ErrorCode.E_SUCCESS or cmd == OPEN
    assert seen[-1] == ErrorCode.E_SUCCESS  # the victim's session survived
    alive = list(svc.sessions.values())
    assert len(alive) == 1 and alive[0].token in pd_of(svc.proc).obj.nodes


# -- children's PD capability ------------------------------------------------------------------
def test_children_get_no_create_sc_and_cannot_starve_others() -> None:
    """Replays: children had CREATE_SC; a priority-127 SC starved every other PD."""
    m = Machine()
    hog = m.spawn("hog")
    seen: list[object] = []

    @hog
    def main(ctx: Context) -> None:
        seen.append(ctx.sys.lookup(Crd.obj(0x20)).rights)
        try:  # the kernel itself refuses: the PD capability lacks CREATE_SC
            ctx.sys.create_ec(0x300, 0x30000000, sp=0, glb=True)
            ctx.sys.create_sc(0x301, 0x300, prio=127)
        except SyscallError as e:
            seen.append(e.status)

        def spin(c: Context) -> None:
            for _ in range(2000):
                c.work(10)

        t = ctx.thread(spin, prio=127)  # root's SC service lowers it to the ceiling
        seen.append(t.sc_sel)

    @m.spawn("victim")
    def victim(ctx: Context) -> None:
        for _ in range(5):
            ctx.work(10)
        seen.append(("victim done", m.k.cpus[0].clock < 5000))  # before the spinner

    m.run()
    assert seen[0] == CHILD_PD_RIGHTS and not seen[0] & PdRights.CREATE_SC
    assert seen[1] == Status.BAD_CAP
    sc = pd_of(hog).obj.nodes[int(seen[2])].obj  # type: ignore[call-overload]
    assert sc.prio == 1  # type: ignore[attr-defined]
    assert ("victim done", True) in seen


def test_root_gives_a_child_sc_only_for_its_own_global_ec() -> None:
    m = Machine()
    other = m.spawn("other")
    evil = m.spawn("evil")
    with other.acting():
        from runtime.api import Syscalls

        Syscalls(m.gate).create_ec(0x300, 0x30000000, sp=0, glb=True)
    other.grant(0x300, evil, 0x300)  # evil holds another PD's global EC
    codes: list[int] = []

    @evil
    def main(ctx: Context) -> None:
        pt = Pt(ctx.gate, service_sel(ctx.cpu, 0x28))
        with ctx.frame() as f:
            ctx.accept_delegates(f, 0)
            f.put_words([1, 0, 0, qpd(127, 1000)])
            f.delegate(crd(CrdType.OBJ, 0x300))
            pt.call(f)
            codes.append(f.get_word())

    m.run()
    assert codes == [ErrorCode.E_ARGS_INVALID]
    assert [s for s in m.k.scs if s.ec.pd is pd_of(other)] == []


def test_kernel_tests_may_still_give_every_right() -> None:
    m = Machine()
    p = m.spawn("p", pd_rights=ALL)
    assert sys_as(p, word0(Sys.CREATE_EC, 0x300, 1 << 4), 0x20, 0x30000000) == Status.SUCCESS
    assert sys_as(p, word0(Sys.CREATE_SC, 0x301), 0x20, 0x300, qpd(5, 100)) == Status.SUCCESS


# -- exceptions in servers and clients ---------------------------------------------------------
class _BadStr(Exception):
    def __str__(self) -> str:
        raise ValueError("no text for you")


class _Custom(BaseException):
    pass


RAISED: list[tuple[str, Callable[[], BaseException]]] = [
    ("__str__ raises", _BadStr),
    ("RemoteError(18, int)", lambda: RemoteError(18, 12345)),  # type: ignore[arg-type]
    ("GreenletExit", GreenletExit),
    ("SystemExit", lambda: SystemExit(3)),
    ("KeyboardInterrupt", KeyboardInterrupt),
    ("GeneratorExit", GeneratorExit),
    ("custom BaseException", _Custom),
]


def _skeleton(boom: Callable[[], BaseException]) -> Callable[[UtcbFrame], None]:
    """A generated skeleton's shape: binding.serve with opcode 1 raising, 2 answering."""

    def bad(w: int, data: bytes, items: Items) -> tuple[bytearray, list[tuple[int, int]]]:
        raise boom()

    def good(w: int, data: bytes, items: Items) -> tuple[bytearray, list[tuple[int, int]]]:
        return bytearray(w), []

    table = {1: (bad, False), 2: (good, False)}
    return lambda f: serve(f, table)  # type: ignore[arg-type]


def _guarded(boom: Callable[[], BaseException]) -> Callable[[UtcbFrame], None]:
    def handler(f: UtcbFrame) -> None:
        if f.get_word() == 1:
            raise boom()
        f.clear()
        f.put_word(ErrorCode.E_SUCCESS)

    return guard(handler)


@pytest.mark.parametrize("kind", [_skeleton, _guarded], ids=["skeleton", "guard"])
@pytest.mark.parametrize("name,boom", RAISED, ids=[n for n, _ in RAISED])
def test_server_answers_any_exception_and_keeps_serving(
    kind: Callable[[Callable[[], BaseException]], Callable[[UtcbFrame], None]],
    name: str,
    boom: Callable[[], BaseException],
) -> None:
    m = Machine()
    srv = m.spawn("srv")
    pt = srv.portal(kind(boom))
    got: list[int] = []

    @srv
    def client(ctx: Context) -> None:
        for op in (1, 2, 1, 2):
            got.append(_call_words(pt, [op])[0])

    r = m.run()
    assert got[0] == got[2] and got[0] in (ErrorCode.E_FAILURE, ErrorCode.E_ARGS_INVALID)
    assert got[1] == got[3] == ErrorCode.E_SUCCESS
    assert r.reason == "idle" and r.blocked == [] and m.k.ec_faults == []
    assert [d for d in r.deaths if d[1] != "exit"] == []


@pytest.mark.parametrize("name,boom", RAISED, ids=[n for n, _ in RAISED])
def test_client_that_raises_anything_dies_with_a_reason(
    name: str, boom: Callable[[], BaseException]
) -> None:
    m = Machine()
    after: list[str] = []

    @m.spawn("client")
    def client(ctx: Context) -> None:
        raise boom()

    @m.spawn("other")
    def other(ctx: Context) -> None:
        ctx.yield_()
        after.append("ran")

    r = m.run(check=False)  # returns: no hang, nothing escapes
    exc = boom()
    assert ("client", f"EXC {type(exc).__name__}") in r.deaths
    assert after == ["ran"] and r.reason == "idle"
    assert [type(e) for _, e in m.k.ec_faults] == [type(exc)]


@pytest.mark.parametrize("name,boom", RAISED, ids=[n for n, _ in RAISED])
def test_raw_handler_that_raises_anything_dies_and_its_caller_gets_a_status(
    name: str, boom: Callable[[], BaseException]
) -> None:
    m = Machine()

    def handler(f: UtcbFrame) -> None:
        raise boom()

    srv = m.spawn("srv")
    pt = srv.portal(handler)
    got: list[object] = []

    @srv
    def client(ctx: Context) -> None:
        try:
            _call_words(pt, [1])
        except SyscallError as e:
            got.append(e.status)

    r = m.run(check=False)
    assert got == [Status.COM_ABT]
    assert r.reason == "idle" and r.blocked == []


# -- nested calls ------------------------------------------------------------------------------
def _chain(m: Machine, depth: int, inner: Callable[[UtcbFrame], None]) -> tuple[Process, list[Pt]]:
    p = m.spawn("chain")
    pts: list[Pt] = []

    def link(i: int) -> Callable[[UtcbFrame], None]:
        def handler(f: UtcbFrame) -> None:
            if i + 1 == depth:
                inner(f)
                return
            nxt = pts[i + 1]
            with nxt.frame() as g:
                g.put_word(i)
                nxt.call(g)
                code = g.get_word()
            f.clear()
            f.put_word(code)

        return guard(handler)

    for i in range(depth):
        pts.append(p.portal(link(i)))
    return p, pts


@pytest.mark.parametrize("depth", [250, 1000])
def test_a_deep_chain_of_nested_calls_works(depth: int) -> None:
    """Replays: ECs shared one Python recursion budget, so ~246 nested portal calls
    raised RecursionError out of run(). Each EC now starts with its own budget."""
    m = Machine()
    reached: list[int] = []

    def inner(f: UtcbFrame) -> None:
        reached.append(depth)
        f.clear()
        f.put_word(ErrorCode.E_SUCCESS)

    p, pts = _chain(m, depth, inner)
    got: list[int] = []
    p.thread(lambda ctx: got.append(_call_words(pts[0], [0])[0]))
    r = m.run()
    assert reached == [depth] and got == [ErrorCode.E_SUCCESS] and r.blocked == []


def test_running_out_of_recursion_in_a_chain_is_a_status() -> None:
    m = Machine()

    def inner(f: UtcbFrame) -> None:
        def down(n: int) -> int:
            return down(n + 1) + 1

        down(0)  # RecursionError in the innermost server

    p, pts = _chain(m, 50, inner)
    got: list[int] = []
    p.thread(lambda ctx: got.append(_call_words(pts[0], [0])[0]))
    r = m.run()
    assert got == [ErrorCode.E_FAILURE] and r.blocked == []


# -- more than 64 CPUs -------------------------------------------------------------------------
@pytest.mark.parametrize("cpus", [65, 256])
def test_a_service_on_every_cpu_above_64(cpus: int) -> None:
    """Replays: the registry portal at 64*c + 0x24 collided with dynamic selectors at 65
    CPUs and the registry masked 64 CPU bits."""
    assert serve_on_every_cpu(cpus)


def test_num_cpu_follows_the_machine_above_64_only() -> None:
    small, big = Machine(cpus=4), Machine(cpus=256)
    assert (small.num_cpu, big.num_cpu) == (64, 256)
    assert small.root.env.next_sel >= 4096 and Process  # NOVA's layout below 65 CPUs
    assert 64 + 0 in small.k.kernel_pd.obj.nodes and 256 + 0 in big.k.kernel_pd.obj.nodes
    env = big.spawn("p").env
    assert env.next_sel >= 64 * 256  # dynamic selectors above every CPU block


def test_max_cpus_with_services_helper() -> None:
    assert max_cpus_with_services(limit=65) == 65


def test_registry_mask_round_trips_on_x86_32_above_32_cpus() -> None:
    from runtime.arch import X86_32

    m = Machine(cpus=40, arch=X86_32)
    m.spawn("srv").serve("svc", _answer(5), cpus=[0, 33, 39])
    got: dict[int, int] = {}

    @m.spawn("c", cpu=39)
    def main(ctx: Context) -> None:
        ctx.connect("svc")  # waits until it is registered
        pts = lookup_service(ctx, "svc")
        got.update({c: p.sel for c, p in pts.items()})
        got[-1] = _call_words(pts[39], [0])[1]

    m.run()
    assert sorted(got) == [-1, 0, 33, 39] and got[-1] == 5


def test_root_forgets_a_killed_child() -> None:
    """Root's per-client portals, its copies of the child's EC and SC, the names it
    registered and the ports it held go when root kills it: nothing grows per child."""
    m = Machine()
    plat = Platform(m)
    root_nodes = len(pd_of(m.root).obj.nodes)
    for i in range(3):
        p = m.spawn(f"srv{i}")
        p.serve("svc", _answer(i))

        @p
        def drv(ctx: Context) -> None:
            Ports(ctx, 0x60)

        m.run()
        assert "svc" in m.registry.names and 0x60 in plat.allocated_ports
        p.kill()
        m.run()
        assert "svc" not in m.registry.names and plat.allocated_ports == {}
    assert len(pd_of(m.root).obj.nodes) == root_nodes


def test_register_portals_one_item_per_cpu_when_not_in_a_block() -> None:
    m = Machine(cpus=2)
    p = m.spawn("p")
    a, b = p.portal(_answer(10), cpu=0), p.portal(_answer(11), cpu=1)
    assert b.sel - a.sel != 1  # not portal c at block + c: one item per CPU
    got: list[list[int]] = []

    @p
    def main(ctx: Context) -> None:
        from runtime.services import register

        register(ctx, "two", {0: a, 1: b})

    for cpu in (0, 1):
        m.spawn(f"c{cpu}", lambda ctx: got.append(_call_words(ctx.connect("two"), [])), cpu=cpu)
    m.run()
    assert sorted(got) == [[ErrorCode.E_SUCCESS, 10], [ErrorCode.E_SUCCESS, 11]]


def test_a_session_on_a_cpu_above_64() -> None:
    m = Machine(cpus=66)
    _counter(m)
    got: list[int] = []

    @m.spawn("c", cpu=65)
    def main(ctx: Context) -> None:
        s = ClientSession(ctx, "counter")
        got.append(len(s.portals))
        got.extend(_call_words(s.pt, []))
        s.close()

    r = m.run()
    assert got == [66, ErrorCode.E_SUCCESS, 0] and r.blocked == []
