"""The emulated platform (NOVA-NRE.md §6): GSI semaphores with edge and level semantics,
keyboard and UART receive under load, PIT, LAPIC timer, RTC, the io/gsi services, and
#GP through exception IPC for every device port without a capability."""

from __future__ import annotations

import itertools

import pytest

from runtime.api import Context
from runtime.devices import COM1, COM1_IRQ, KEYBOARD_IRQ, PIT_IRQ, Gsi, Platform, Ports
from runtime.exc import ExcState, Mtd, Vector, event_portal
from runtime.kernel import backdoor
from runtime.machine import Machine
from runtime.platform.fault import Insn
from runtime.platform.ps2 import break_code, make_code
from runtime.status import ErrorCode, RemoteError
from runtime.utcb import UtcbFrame

KEYS = "abcdefghijklmnopqrstuvwxyz0123456789"


def key_plan(n: int, burst: int, gap: int, t0: int = 1000) -> tuple[list[int], list[list[int]]]:
    """n presses (make + break) in bursts of `burst` every `gap` us."""
    expected: list[int] = []
    bursts: list[list[int]] = []
    for b in range(0, n, burst):
        codes: list[int] = []
        for i in range(b, min(b + burst, n)):
            key = KEYS[i % len(KEYS)]
            codes += [*make_code(key), *break_code(key)]
        bursts.append(codes)
        expected += codes
    return expected, bursts


@pytest.mark.parametrize("level", [False, True], ids=["edge", "level"])
def test_10000_key_presses_under_load(level: bool) -> None:
    n = 10_000
    m = Machine()
    plat = Platform(m, level={KEYBOARD_IRQ: True} if level else {})
    expected, bursts = key_plan(n, burst=8, gap=600)
    for i, codes in enumerate(bursts):
        plat.kbd_bytes(1000 + 600 * i, codes)
    got: list[int] = []
    downs = [0]

    @m.spawn("kbd")
    def driver(ctx: Context) -> None:
        Ports(ctx, 0x60)
        Ports(ctx, 0x64)
        gsi = Gsi(KEYBOARD_IRQ, ctx)
        ins = Insn(ctx)
        while len(got) < len(expected):
            gsi.down()
            downs[0] += 1
            if ins.inb(0x64) & 1:
                got.append(ins.inb(0x60))
                ctx.work(25)  # busy: the next burst arrives while we work

    r = m.run()
    assert r.reason == "idle" and not r.blocked
    assert got == expected  # every scancode, in order, none duplicated
    pin = plat.ioapic.pins[KEYBOARD_IRQ]
    assert plat.kbd.overruns == 0 and pin.lost == 0
    if level:
        # one delivery per unmask (+ the unmask of assign_gsi)
        assert pin.delivered <= pin.unmasks
        assert pin.delivered == len(expected)
    else:
        # edge: the semaphore counted every edge; each down consumed one
        assert pin.edges == len(expected) == pin.delivered
        assert downs[0] == len(expected)
    assert plat._sm(KEYBOARD_IRQ).count == 0


def test_keyboard_fifo_overrun_is_reported() -> None:
    m = Machine()
    plat = Platform(m)
    plat.kbd_bytes(10, list(range(1, 41)))  # 40 bytes at once into a 16-byte FIFO + OBF
    m.run()
    assert plat.kbd.overruns == 40 - 17
    assert list(plat.kbd.fifo)[-1] == 0xFF


def test_uart_receive_10000_bytes_under_load() -> None:
    m = Machine()
    plat = Platform(m)
    data = bytes((i * 7 + 3) & 0xFF for i in range(10_000))
    plat.uart_script((2000 + 400 * (i // 14), data[i : i + 14]) for i in range(0, len(data), 14))
    got = bytearray()

    @m.spawn("com")
    def driver(ctx: Context) -> None:
        Ports(ctx, COM1, 8)
        gsi = Gsi(COM1_IRQ, ctx)
        ins = Insn(ctx)
        ins.outb(COM1 + 2, 0x07)  # FIFO on, cleared
        ins.outb(COM1 + 4, 0x08)  # OUT2: IRQ to the IOAPIC
        ins.outb(COM1 + 1, 0x01)  # received-data interrupt
        while len(got) < len(data):
            gsi.down()
            assert ins.inb(COM1 + 2) & 0x0F in (0x04, 0x01)
            while ins.inb(COM1 + 5) & 1:
                got.append(ins.inb(COM1))
            ctx.work(150)

    r = m.run()
    assert r.reason == "idle" and not r.blocked
    assert bytes(got) == data
    assert plat.uart.overruns == 0


def test_uart_transmit_and_overrun_flag() -> None:
    out: list[str] = []
    m = Machine()
    plat = Platform(m, uart_sink=out.append)
    plat.uart_script([(500, b"0123456789abcdefXYZ")])  # 19 bytes into 16: 3 lost
    lsr: list[int] = []

    @m.spawn("con")
    def console(ctx: Context) -> None:
        Ports(ctx, COM1, 8)
        ins = Insn(ctx)
        ins.outb(COM1 + 2, 0x01)
        for ch in b"hello\n":
            while not ins.inb(COM1 + 5) & 0x20:
                pass
            ins.outb(COM1, ch)
        ctx.work(1000)
        lsr.append(ins.inb(COM1 + 5))
        lsr.append(ins.inb(COM1 + 5))

    m.run()
    assert "".join(out) == "hello\n" == plat.uart.text
    assert lsr[0] & 0x03 == 0x03 and lsr[1] & 0x02 == 0  # DR + OE, OE clears on read
    assert plat.uart.overruns == 3


def test_pit_channel0_periodic_irq0() -> None:
    m = Machine()
    plat = Platform(m)
    ticks: list[int] = []

    @m.spawn("timer")
    def drv(ctx: Context) -> None:
        Ports(ctx, 0x40, 4)
        gsi = Gsi(PIT_IRQ, ctx)
        ins = Insn(ctx)
        reload = 1193  # ~1 ms
        ins.outb(0x43, 0x34)  # channel 0, lo/hi, mode 2
        ins.outb(0x40, reload & 0xFF)
        ins.outb(0x40, reload >> 8)
        for _ in range(5):
            gsi.down()
            ticks.append(plat.now())
        ins.outb(0x43, 0x30)  # mode 0, no reload written: stops the periodic timer

    m.run()
    assert plat.pit.ticks == 5
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(999 <= g <= 1001 for g in gaps), ticks


def test_pit_one_shot_mode0_is_a_user_timer() -> None:
    """User timers are the PIT behind GSI 0 (the LAPIC timers are the kernel's): mode 0
    raises IRQ 0 once per count written, as NRE's timer service programs deadlines."""
    m = Machine()
    plat = Platform(m)
    seen: list[int] = []

    @m.spawn("timer")
    def drv(ctx: Context) -> None:
        Ports(ctx, 0x40, 4)
        gsi = Gsi(PIT_IRQ, ctx)
        ins = Insn(ctx)
        for ms in (3, 1):
            start = plat.now()
            reload = 1193 * ms
            ins.outb(0x43, 0x30)  # channel 0, lo/hi, mode 0: interrupt on terminal count
            ins.outb(0x40, reload & 0xFF)
            ins.outb(0x40, reload >> 8)
            gsi.down()
            seen.append(plat.now() - start)

    m.run()
    assert plat.pit.ticks == 2
    assert [t // 100 for t in seen] == [30, 10]


def test_rtc_reads_bcd_time() -> None:
    m = Machine()
    Platform(m)
    regs: list[int] = []

    @m.spawn("rtc")
    def rd(ctx: Context) -> None:
        Ports(ctx, 0x70, 2)
        ins = Insn(ctx)
        ctx.work(3_500_000)  # 3.5 s after the epoch (2012-12-01 00:00:00)
        for r in (0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x0B, 0x0D):
            ins.outb(0x70, r)
            regs.append(ins.inb(0x71))

    m.run()
    assert regs == [0x03, 0x00, 0x00, 0x01, 0x12, 0x12, 0x02, 0x80]


def test_keyboard_controller_commands() -> None:
    m = Machine()
    plat = Platform(m)
    out: list[int] = []

    @m.spawn("kbd")
    def drv(ctx: Context) -> None:
        Ports(ctx, 0x60)
        Ports(ctx, 0x64)
        ins = Insn(ctx)

        def cmd(port: int, v: int, answers: int) -> None:
            ins.outb(port, v)
            for _ in range(answers):
                while not ins.inb(0x64) & 1:
                    pass
                out.append(ins.inb(0x60))

        cmd(0x64, 0xAA, 1)  # self test
        cmd(0x64, 0x20, 1)  # read command byte
        cmd(0x60, 0xF2, 3)  # identify
        cmd(0x60, 0xED, 1)  # LEDs...
        cmd(0x60, 0x07, 1)  # ...all on
        cmd(0x60, 0xEE, 1)  # echo

    m.run()
    assert out == [0x55, 0x45, 0xFA, 0xAB, 0x83, 0xFA, 0xFA, 0xEE]
    assert plat.kbd.leds == 7


def test_services_refuse_double_allocation_and_release() -> None:
    m = Machine()
    Platform(m)
    codes: list[object] = []

    @m.spawn("a")
    def a(ctx: Context) -> None:
        p = Ports(ctx, 0x60)
        g = Gsi(KEYBOARD_IRQ, ctx)
        ctx.yield_()
        ctx.yield_()
        p.release()
        g.release()
        codes.append(0x60 in backdoor(ctx).current.pd.pio.nodes)

    @m.spawn("b")
    def b(ctx: Context) -> None:
        ctx.yield_()
        for make in (lambda: Ports(ctx, 0x60), lambda: Gsi(KEYBOARD_IRQ, ctx)):
            try:
                make()
            except RemoteError as e:
                codes.append(e.code)
        try:
            Ports(ctx, 0x1234)  # no device there
        except RemoteError as e:
            codes.append(e.code)

    m.run()
    assert codes == [ErrorCode.E_EXISTS, ErrorCode.E_EXISTS, ErrorCode.E_ARGS_INVALID, False]


@pytest.mark.parametrize(
    "port", [0x40, 0x43, 0x60, 0x64, 0x70, 0x71, COM1, COM1 + 5], ids=lambda p: hex(p)
)
def test_wrong_port_capability_is_gp_through_exception_ipc(port: int) -> None:
    m = Machine()
    plat = Platform(m)
    p = m.spawn("drv")
    faults: list[tuple[int, int, int]] = []

    def gp(f: UtcbFrame) -> None:
        st = ExcState(f)
        faults.append((f.pid, st.err, st.rdx))
        st.rip += 1  # skip the in/out
        st.reply(Mtd.RIP_LEN)

    with p.acting():
        event_portal(p.env, Vector.GP, gp, Mtd.GPR_ACDB | Mtd.QUAL | Mtd.RIP_LEN)
    before = (plat.uart.sent[:], plat.rtc.index, plat.kbd.cmd_byte, plat.pit.ch[0].mode)

    @p
    def main(ctx: Context) -> None:
        other = 0x80 if port != 0x80 else 0x81
        Ports(ctx, 0x60 if port != 0x60 else 0x64)  # some port, just not this one
        ins = Insn(ctx)
        ins.inb(port)
        ins.outb(port, 0x60)
        ins.inw(port)
        _ = other

    m.run()
    assert [v for v, _, _ in faults] == [Vector.GP] * 3
    assert all(err == 0 and rdx == port for _, err, rdx in faults)
    assert (plat.uart.sent, plat.rtc.index, plat.kbd.cmd_byte, plat.pit.ch[0].mode) == before
    assert m.k.ec_faults == [] and m.k.faults == []
