"""Where the runtime followed NOVA only loosely and now matches it (issue 15, item 4),
one table per point; docs/runtime.md ("NOVA's semantics, point by point") cites
NOVA-NRE.md for each."""

from __future__ import annotations

import pytest

from runtime.api import Context, Syscalls
from runtime.crd import ALL, Crd, CrdType, PdRights, SmRights, crd
from runtime.devices import Gsi, Platform, Ports
from runtime.exc import ExcState, Mtd, Vector, event_portal
from runtime.kernel import mdb
from runtime.kernel.kobject import Kobject
from runtime.kernel.pd import Pd
from runtime.kernel.sm import Sm
from runtime.kernel.syscalls import FLAG0, Sys, qpd, word0
from runtime.machine import Machine, pd_of
from runtime.platform.fault import Insn
from runtime.status import Status
from runtime.utcb import UtcbFrame

from . import invariants
from .conftest import out_as, snapshot, sys_as

# -- translate: the receiver gets the sender node's rights (§3) ------------------------------


@pytest.mark.parametrize(
    ("node_rights", "item_attr"),
    [
        (ALL, ALL),
        (ALL, 0),
        (ALL, SmRights.UP),
        (SmRights.UP, ALL),
        (SmRights.UP, SmRights.DOWN),
        (SmRights.DOWN, 0),
        (SmRights.UP | SmRights.DOWN, SmRights.UP),
    ],
)
def test_translate_gives_the_sender_nodes_rights(node_rights: int, item_attr: int) -> None:
    g: list[Kobject] = []
    srv, cli = Pd(g, Machine().k.arch, "srv"), Pd(g, Machine().k.arch, "cli")
    mdb.insert_root(srv.obj, 5, Sm(g, 0), ALL)
    mdb.delegate(srv.obj, 5, cli.obj, 40, 0, node_rights)
    win = crd(CrdType.OBJ, 0, 26)
    res = mdb.xlt_crd(cli.obj, srv.obj, crd(CrdType.OBJ, 40, 0, item_attr), win)
    assert res == crd(CrdType.OBJ, 5, 0, node_rights)


def test_translate_through_a_call_reports_the_sender_nodes_rights() -> None:
    m = Machine()
    srv, cli = m.spawn("srv"), m.spawn("cli")
    seen: list[int] = []

    def handler(f: UtcbFrame) -> None:
        seen.append(f.utcb.word_at(f.utcb.page_words - 2))  # the first item's Crd

    pt = srv.portal(handler, translate=True)
    srv.grant(pt.sel, cli, 0x5000)
    with srv.acting():
        sm_sel = srv.env.alloc()
        Syscalls(m.gate).create_sm(sm_sel)
    srv.grant(sm_sel, cli, 0x6000, SmRights.UP)

    @cli
    def main(ctx: Context) -> None:
        with ctx.frame() as f:
            f.translate(crd(CrdType.OBJ, 0x6000, 0, SmRights.DOWN))  # asks for DOWN only
            ctx.gate.ipc_call(0x5000 << 8)

    m.run()
    assert seen == [crd(CrdType.OBJ, sm_sel, 0, SmRights.UP)]


# -- lookup: the node's base and order (§1) --------------------------------------------------


@pytest.mark.parametrize(
    ("order", "probe", "revoke", "expect"),
    [
        (0, 0, None, (0, 0)),
        (2, 0, None, (0, 2)),
        (2, 3, None, (0, 2)),  # any unit of the range reports the range
        (3, 5, None, (0, 3)),
        (3, 5, 2, (5, 0)),  # a unit of the range gone: the rest stand alone
        (3, 2, 2, None),  # the revoked unit itself: nothing
        (4, 15, 0, (15, 0)),
    ],
)
def test_lookup_reports_base_and_order(
    order: int, probe: int, revoke: int | None, expect: tuple[int, int] | None
) -> None:
    m = Machine(mem_pages=64)  # root's memory: one node of order 6
    p = m.spawn("p")
    base = 0x40  # p's pages at 0x40.., from root's 0x10..
    res = mdb.del_crd(
        pd_of(m.root).mem,
        pd_of(p).mem,
        crd(CrdType.MEM, 0x10, order, ALL),
        0,
        crd(CrdType.MEM, base, order),
    )
    assert res == crd(CrdType.MEM, base, order, ALL)  # what the window and item share
    if revoke is not None:
        sys_as(p, word0(Sys.REVOKE, 0, FLAG0), crd(CrdType.MEM, base + revoke, 0, ALL))
    _, out, _ = out_as(p, word0(Sys.LOOKUP), crd(CrdType.MEM, base + probe, 0, 0))
    if expect is None:
        assert out == 0
    else:
        assert out == crd(CrdType.MEM, base + expect[0], expect[1], 7)


def test_lookup_of_a_range_delegated_on_keeps_the_smaller_order() -> None:
    m = Machine(mem_pages=64)
    a, b = m.spawn("a"), m.spawn("b")  # a gets two order-1 ranges from root's order-6
    mdb.del_crd(
        pd_of(m.root).mem, pd_of(a).mem, crd(CrdType.MEM, 0, 1, ALL), 0, crd(CrdType.MEM, 0x40, 1)
    )
    mdb.del_crd(
        pd_of(m.root).mem, pd_of(a).mem, crd(CrdType.MEM, 2, 1, ALL), 0, crd(CrdType.MEM, 0x42, 1)
    )
    # b gets a's two order-1 nodes as one order-2 range: NOVA's clamp keeps them order 1
    mdb.del_crd(
        pd_of(a).mem, pd_of(b).mem, crd(CrdType.MEM, 0x40, 2, ALL), 0, crd(CrdType.MEM, 0x80, 2)
    )
    _, out, _ = out_as(b, word0(Sys.LOOKUP), crd(CrdType.MEM, 0x83, 0, 0))
    assert out == crd(CrdType.MEM, 0x82, 1, 7)


# -- the order of the checks of create_ec and assign_gsi (§1) ----------------------------------

UTCB = 0x20000000
GOOD_PD, NOT_PD, TAKEN = 0x20, 0x24, 0x20  # self PD; the registry portal; a taken slot
FREE = 0x300


@pytest.mark.parametrize(
    ("cpu", "utcb", "pd", "sel", "expect"),
    [
        (9, 0, NOT_PD, TAKEN, Status.BAD_CPU),  # everything wrong: the CPU first
        (0, 0, NOT_PD, TAKEN, Status.BAD_FTR),  # no UTCB (a vCPU) before the PD capability
        (0, UTCB, NOT_PD, TAKEN, Status.BAD_CAP),  # the PD capability before the UTCB
        (0, 0x7FFFFFFFF000, NOT_PD, FREE, Status.BAD_CAP),
        (0, 0x7FFFFFFFF000, GOOD_PD, TAKEN, Status.BAD_PAR),  # the UTCB before the slot
        (0, UTCB, GOOD_PD, TAKEN, Status.BAD_CAP),  # the slot last
        (1, UTCB, GOOD_PD, FREE, Status.SUCCESS),
    ],
)
def test_create_ec_checks_in_novas_order(
    cpu: int, utcb: int, pd: int, sel: int, expect: Status
) -> None:
    m = Machine(cpus=2)
    p = m.spawn("p")
    before = snapshot(m.k, m)
    assert sys_as(p, word0(Sys.CREATE_EC, sel), pd, utcb | cpu) == expect
    if expect != Status.SUCCESS:
        assert snapshot(m.k, m) == before  # nothing half-made
    invariants.check(m)


@pytest.mark.parametrize(
    ("cpu", "sm", "expect"),
    [
        (9, 0x300, Status.BAD_CPU),  # no capability there either: the CPU first
        (9, 0x301, Status.BAD_CPU),  # not a GSI semaphore either
        (0, 0x300, Status.BAD_CAP),
        (0, 0x301, Status.BAD_CAP),
        (1, 0x200, Status.SUCCESS),
    ],
)
def test_assign_gsi_checks_the_cpu_first(cpu: int, sm: int, expect: Status) -> None:
    m = Machine(cpus=2)
    p = m.spawn("p")
    mdb.delegate(m.k.kernel_pd.obj, 64 + 3, pd_of(p).obj, 0x200, 0, ALL)
    assert sys_as(p, word0(Sys.CREATE_SM, 0x301), GOOD_PD, 0) == Status.SUCCESS
    assert sys_as(p, word0(Sys.ASSIGN_GSI, sm), 0, cpu) == expect


# -- a global EC starts through its startup portal or dies (§5) --------------------------------


@pytest.mark.parametrize(
    ("portal", "death"),
    [
        ("none", "PT not found"),
        ("other cpu", "PT wrong CPU"),
        ("kills", "EXC"),  # NRE's kill idiom in the handler
        ("starts", "exit"),
    ],
)
def test_global_ec_without_a_startup_portal_dies(portal: str, death: str) -> None:
    m = Machine(cpus=2)
    p = m.spawn("p", pd_rights=ALL)  # it creates its own SC (a kernel check)
    ran: list[int] = []
    k = m.k
    ip = k.register_code(lambda: ran.append(1), pd_of(p))

    def start(f: UtcbFrame) -> None:
        st = ExcState(f)
        if portal == "kills":
            st.kill()
        else:
            st.rip = st.rsp
            st.reply(Mtd.RIP_LEN)

    if portal != "none":
        with p.acting():
            event_portal(p.env, Vector.STARTUP, start, Mtd.RSP, 1 if portal == "other cpu" else 0)
    assert sys_as(p, word0(Sys.CREATE_EC, 0x300, FLAG0), GOOD_PD, UTCB, ip, 0) == 0
    assert sys_as(p, word0(Sys.CREATE_SC, 0x301), GOOD_PD, 0x300, qpd(1, 1000)) == 0
    r = m.run()
    assert r.deaths[1:] == [("ec@p:0x300", death)]  # after root's own thread
    assert ran == ([1] if death == "exit" else [])


def test_threads_of_the_user_layer_start_through_their_cpus_startup_portal() -> None:
    m = Machine(cpus=3)
    p = m.spawn("p")
    ran: list[int] = []
    for c in (0, 2, 2):
        p.thread(lambda ctx: ran.append(ctx.cpu), cpu=c)
    r = m.run()
    assert sorted(ran) == [0, 2, 2] and m.k.counters["exceptions"] == 3
    assert {n for n, why in r.deaths if why != "exit"} == set()
    pts = {u for u, n in pd_of(p).obj.nodes.items() if u % 64 == Vector.STARTUP}
    assert pts == {Vector.STARTUP, 2 * 64 + Vector.STARTUP}  # one per CPU used
    assert m.k.root_ec is not None and m.k.root_ec.death == "exit"  # root: no event


def test_a_cpu_beyond_64_gets_an_event_block_from_the_allocator() -> None:
    m = Machine(cpus=66)
    p = m.spawn("p")
    ran: list[int] = []
    for c in (65, 65, 63):
        p.thread(lambda ctx: ran.append(ctx.cpu), cpu=c)
    r = m.run()
    assert sorted(ran) == [63, 65, 65] and all(why == "exit" for _, why in r.deaths)
    evt = p.env.evts[65]
    assert evt >= 4096 and evt % 32 == 0 and list(p.env.evts) == [65]  # 63: NRE's block
    assert {evt + Vector.STARTUP, 63 * 64 + Vector.STARTUP} <= set(pd_of(p).obj.nodes)


# -- #PF at or above USER_ADDR kills at once (NRE's kernel) ------------------------------------


@pytest.mark.parametrize(
    ("addr", "pager_calls", "death"),
    [
        (0x7FFFFFFFEFFF, 1, "EXC"),  # user address: the pager is asked (and kills)
        (0x7FFFFFFFF000, 0, "EXC"),  # USER_ADDR itself
        (0x7FFFFFFFF000 + 0x5000, 0, "EXC"),
        (0xFFFFFFFFFFFFF000, 0, "EXC"),
    ],
)
def test_page_fault_at_a_kernel_address_kills_without_the_pager(
    addr: int, pager_calls: int, death: str
) -> None:
    m = Machine()
    p = m.spawn("p")
    calls: list[int] = []

    def pager(f: UtcbFrame) -> None:
        st = ExcState(f)
        calls.append(st.cr2)
        st.kill()

    with p.acting():
        event_portal(p.env, Vector.PF, pager, Mtd.QUAL)

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).read(addr, 1)

    r = m.run()
    assert len(calls) == pager_calls and r.deaths[1:] == [("p", death)]


# -- a PD whose last capability is revoked takes its ECs along (documented deviation) ----------


def test_revoking_a_pd_capability_kills_its_ecs_and_empties_it() -> None:
    m = Machine()
    p = m.spawn("p")
    m.root.grant(p.sel_in_root, m.root, 0x7000, ALL & ~PdRights.CREATE_SC)  # a second name
    waiting: list[int] = []

    @p
    def main(ctx: Context) -> None:
        waiting.append(1)
        ctx.sm().down()

    m.run()
    with m.root.acting():  # one name goes: the PD is still named, its EC still waits
        Syscalls(m.gate).revoke(Crd.obj(0x7000), self_=True)
    assert not pd_of(p).dead and any(e.blocked_on is not None for e in pd_of(p).ecs)
    with m.root.acting():  # the last: the PD goes with its ECs (NOVA: they would hold it)
        Syscalls(m.gate).revoke(Crd.obj(p.sel_in_root), self_=True)
    m.run()
    assert pd_of(p).dead and not pd_of(p).obj.nodes and waiting == [1] and m.k.blocked() == []
    invariants.check(m)


# -- the RTC raises IRQ 8 as its registers say ------------------------------------------------

S = 1_000_000


def _rtc_program(ctx: Context, a: int, b: int) -> tuple[Gsi, Insn]:
    """Take the RTC's ports and IRQ 8, write status A and B."""
    Ports(ctx, 0x70, 2)
    gsi = Gsi(8, ctx)
    ins = Insn(ctx)
    for reg, value in ((0x0A, a), (0x0B, b)):
        ins.outb(0x70, reg)
        ins.outb(0x71, value)
    return gsi, ins


@pytest.mark.parametrize(
    ("a", "b", "n", "expect"),
    [
        (0x2F, 0x42, 3, [(S // 2, 0xC0), (S, 0xC0), (3 * S // 2, 0xC0)]),  # PIE, 2 Hz
        (0x26, 0x12, 2, [(S, 0x90), (2 * S, 0x90)]),  # UIE: update ended, every second
        (0x2E, 0x52, 4, [(S // 4, 0xC0), (S // 2, 0xC0), (3 * S // 4, 0xC0), (S, 0xD0)]),
        (0x20, 0x42, 0, []),  # PIE with rate select 0: nothing
        (0x2F, 0x02, 0, []),  # a rate but no enable bit: nothing
    ],
)
def test_rtc_raises_irq8_for_periodic_and_update_ended(
    a: int, b: int, n: int, expect: list[tuple[int, int]]
) -> None:
    m = Machine()
    plat = Platform(m)
    seen: list[tuple[int, int]] = []

    @m.spawn("rtc")
    def drv(ctx: Context) -> None:
        gsi, ins = _rtc_program(ctx, a, b)
        for _ in range(n):
            gsi.down()
            ins.outb(0x70, 0x0C)
            seen.append((plat.now(), ins.inb(0x71)))  # reading C clears it
        ins.outb(0x70, 0x0B)
        ins.outb(0x71, 0x02)  # interrupts off: the machine goes idle

    r = m.run(until=3 * S)
    assert r.reason == "idle" and r.blocked == []
    assert [(t // 1000, c) for t, c in seen] == [(t // 1000, c) for t, c in expect]
    assert plat.rtc.irqs == n


def test_rtc_raises_irq8_again_only_after_c_is_read() -> None:
    m = Machine()
    plat = Platform(m)

    @m.spawn("rtc")
    def drv(ctx: Context) -> None:
        gsi, _ = _rtc_program(ctx, 0x2F, 0x42)  # 2 Hz, PIE
        gsi.down()
        gsi.down()  # C never read: IRQF stays set, no second edge

    m.run(until=3 * S)
    assert plat.rtc.irqs == 1 and plat.rtc.flags == 0xC0
