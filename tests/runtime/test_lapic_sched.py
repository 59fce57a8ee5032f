"""The LAPIC timer ends every time slice, as in NOVA (issue 15 item 4; NOVA-NRE.md §4, §6;
docs/runtime.md "Scheduling"): the kernel programs each CPU's timer with the dispatched
SC's remaining budget, a switch between SCs that still have work happens only where
that timer fired, and user timers are the PIT's IRQ 0 through a GSI semaphore."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from runtime.api import Context
from runtime.devices import PIT_IRQ, Gsi, Platform, Ports
from runtime.kernel.status import ErrorCode, RemoteError
from runtime.machine import Machine
from runtime.platform.fault import Insn

STEP = 3  # us of work between two preemption points


@dataclass
class Spy:
    """The LAPIC timers' programming and interrupts, from the run's trace."""

    # (cpu, clock, budget programmed, EC of the SC) in the order they happened
    sets: list[tuple[int, int, int, str]] = field(default_factory=list)
    # (cpu, clock, deadline) for every LAPIC interrupt delivered
    fires: list[tuple[int, int, int]] = field(default_factory=list)
    # both in the order they happened: (cpu, deadline, is_fire)
    order: list[tuple[int, int, bool]] = field(default_factory=list)
    # the deadline register of a running SC's CPU was its clock at dispatch + budget
    registers_ok: bool = True


def timers(m: Machine) -> Spy:
    spy = Spy()
    last: dict[int, int] = {}
    for clock, cpu, ec, what, value in m.trace:
        if what == "lapic":
            spy.sets.append((cpu, clock, value, ec))
            spy.order.append((cpu, clock + value, False))
            last[cpu] = clock + value
        elif what == "timer":
            spy.fires.append((cpu, clock, last[cpu]))
            spy.order.append((cpu, last[cpu], True))
    return spy


def check_register(m: Machine, cpu: int, spy: Spy) -> None:
    """Inside an EC: its CPU's deadline register is the end of the SC's budget (the
    kernel bills the SC lazily: `since` and `left` move together)."""
    c = m.k.cpus[cpu]
    assert c.current is not None and c.lapic is not None
    if c.deadline != c.since + c.current.left or c.lapic.current() != c.deadline - c.clock:
        spy.registers_ok = False


# -- compute-bound SCs: quantum x priorities x CPUs -------------------------------------------

QUANTA = (5, 12, 40)
PRIOS = ((1, 1), (1, 1, 1), (2, 1, 2))  # the SCs of each CPU
CPUS = (1, 2, 3)


@pytest.mark.parametrize(("quantum", "prios", "cpus"), list(itertools.product(QUANTA, PRIOS, CPUS)))
def test_time_slices_end_when_the_lapic_timer_fires(
    quantum: int, prios: tuple[int, ...], cpus: int
) -> None:
    m = Machine(cpus=cpus, seed=quantum + cpus, trace=True)
    checks = Spy()
    p = m.spawn("p", max_prio=max(prios))
    steps = 6 * quantum // STEP + 2  # several quanta each
    log: dict[int, list[tuple[int, str]]] = {c: [] for c in range(cpus)}  # (clock, name)
    prio_of: dict[str, int] = {}

    def worker(name: str) -> object:
        def body(ctx: Context) -> None:
            for _ in range(steps):
                log[ctx.cpu].append((m.k.cpus[ctx.cpu].clock, name))
                check_register(m, ctx.cpu, checks)
                ctx.work(STEP)
            log[ctx.cpu].append((m.k.cpus[ctx.cpu].clock, name + "/end"))

        return body

    for c in range(cpus):
        for i, prio in enumerate(prios):
            name = f"w{c}.{i}"
            prio_of[name] = prio
            p.thread(worker(name), cpu=c, prio=prio, quantum=quantum, name=name)  # type: ignore[arg-type]
    result = m.run()
    assert not result.blocked and all(len(v) == len(prios) * (steps + 1) for v in log.values())
    assert checks.registers_ok
    spy = timers(m)

    # 1. The timer is programmed with the SC's budget: the full quantum for a worker
    # (nothing preempts them but the timer, so every slice is a new one).
    assert {ec for _, _, _, ec in spy.sets} >= set(prio_of)
    assert all(count == quantum for _, _, count, ec in spy.sets if ec in prio_of)
    # 2. Each interrupt comes at the deadline programmed last on its CPU, at the first
    # preemption point at or after it (the work between two points is STEP us).
    last: dict[int, int] = {}
    for cpu, deadline, fired in spy.order:
        if fired:
            assert deadline == last.pop(cpu)  # one interrupt per programming
        else:
            last[cpu] = deadline
    assert all(d <= clock < d + STEP for _, clock, d in spy.fires)
    # 3. A worker with work left leaves its CPU exactly where its CPU's timer fired, and
    # there every time another worker of its priority still has work.
    fires = {(cpu, clock) for cpu, clock, _ in spy.fires}
    for cpu, entries in log.items():
        ends = {n.removesuffix("/end"): t for t, n in entries if n.endswith("/end")}
        switches, due = set(), set()
        for (t0, a), (t1, b) in itertools.pairwise(entries):
            a = a.removesuffix("/end")
            if a == b.removesuffix("/end"):
                continue
            assert not b.endswith("/end"), "every worker starts with a step"
            if ends[a] > t0:
                switches.add((cpu, t0 + STEP))  # preempted at the end of its step
            # the priority order: a lower priority runs only when no higher one has work
            assert all(prio_of[b] >= prio_of[w] for w, end in ends.items() if end >= t1)
        for fcpu, clock in fires:
            run = [n for t, n in entries if t < clock][-1] if fcpu == cpu else "/end"
            if "/end" in run:
                continue  # another CPU's timer, or the worker had returned
            peers = [w for w in ends if w != run and prio_of[w] == prio_of[run]]
            if any(ends[w] >= clock for w in peers):
                due.add((cpu, clock))
        assert switches == due
    assert m.k.stats["timer_irqs"] == len(spy.fires) > 0


# -- a PIT interrupt wakes a higher priority: the preempted SC keeps its budget -----------------

RELOADS = (44, 119, 600)  # PIT periods of 37, 100 and 503 us
QUANTUM = 10000  # longer than four periods


@pytest.mark.parametrize("reload", RELOADS)
def test_pit_gsi_reaches_a_user_semaphore_and_the_budget_survives(reload: int) -> None:
    m = Machine(trace=True)
    plat = Platform(m)
    checks = Spy()
    p = m.spawn("p", max_prio=3)
    ticks: list[int] = []

    def driver(ctx: Context) -> None:
        Ports(ctx, 0x40, 4)
        gsi = Gsi(PIT_IRQ, ctx)
        ins = Insn(ctx)
        ins.outb(0x43, 0x34)  # channel 0, lo/hi, mode 2: periodic
        ins.outb(0x40, reload & 0xFF)
        ins.outb(0x40, reload >> 8)
        for _ in range(4):
            gsi.down()
            ticks.append(plat.now())
        ins.outb(0x43, 0x30)  # mode 0 without a count: stops it

    def low(ctx: Context) -> None:
        for _ in range(5 * round(reload / 1.193182) + 50):
            check_register(m, 0, checks)
            ctx.work(1)

    p.thread(driver, prio=3, name="drv")
    p.thread(low, prio=1, quantum=QUANTUM, name="low")
    p.thread(low, prio=1, quantum=QUANTUM, name="other")  # waits: low keeps the CPU
    m.run()
    spy = timers(m)
    assert checks.registers_ok
    period = plat.pit.period_us()
    assert plat.pit.ticks == 4 and len(ticks) == 4
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(g in (period - 1, period, period + 1) for g in gaps), ticks
    # The driver ran at each tick (its SC programmed the timer there), and the low SC it
    # preempted got the CPU back (the head of its queue, before "other") and its timer
    # with what its budget had left: no LAPIC interrupt in between (its quantum is
    # longer than the run).
    assert not [f for f in spy.fires if f[2] < ticks[-1]]
    runs = [(clock, count, ec) for _, clock, count, ec in spy.sets]
    lows = [(i, r) for i, r in enumerate(runs) if r[2] == "low"]
    assert len(lows) >= 4
    assert "other" not in [name for clock, _, name in runs if clock <= ticks[-1]]
    for (i, (t0, c0, _)), (_, (_t2, c2, _)) in itertools.pairwise(lows):
        t1 = runs[i + 1][0]  # the driver's dispatch preempted it
        assert runs[i + 1][2] != "low" and c2 == c0 - (t1 - t0) < QUANTUM
    for t in ticks:
        assert any(name == "drv" and t <= clock <= t + 2 for clock, _, name in runs)


def test_the_lapic_timer_is_no_gsi() -> None:
    """No GSI, port or system call reaches the LAPIC timer: the gsi service knows only the
    IOAPIC's pins, so the GSI after them (the LAPIC's until this change) is refused."""
    m = Machine(cpus=2, trace=True)
    plat = Platform(m, pins=24)
    got: list[int] = []

    @m.spawn("t")
    def body(ctx: Context) -> None:
        for gsi in (plat.gsis, plat.gsis + 1):
            try:
                Gsi(gsi, ctx)
            except RemoteError as e:
                got.append(e.code)

    m.run()
    assert plat.gsis == 24
    assert got == [ErrorCode.E_ARGS_INVALID] * 2
    assert timers(m).sets  # the kernel programs it, at every dispatch
