"""Scheduling: priorities, round robin with quanta, several CPUs, seeded replay (§4)."""

from __future__ import annotations

from runtime.api import Context
from runtime.machine import Machine, explore, pd_of


def test_higher_priority_runs_first_and_preempts() -> None:
    m = Machine()
    p = m.spawn("p", max_prio=9)  # root's SC service gives it SCs up to priority 9
    log: list[str] = []
    gate: list[int] = []

    def low(ctx: Context) -> None:
        sm = ctx.sm(0)
        gate.append(sm.sel)
        ctx.thread(high, prio=9)  # readied, but blocks on the gate at once
        ctx.work(5)
        log.append("low before up")
        sm.up()  # wakes high: it preempts low at low's next preemption point
        ctx.work(5)
        log.append("low after up")

    def high(ctx: Context) -> None:
        log.append("high starts")
        ctx.sys.sm_down(gate[0])
        log.append("high woke")

    p.thread(low, prio=2)
    m.run()
    assert log == ["high starts", "low before up", "high woke", "low after up"]


def test_round_robin_by_quantum() -> None:
    m = Machine()
    p = m.spawn("p")
    log: list[str] = []

    def worker(name: str) -> object:
        def body(ctx: Context) -> None:
            for _ in range(6):
                log.append(name)
                ctx.work(10)

        return body

    p.thread(worker("a"), quantum=25)  # type: ignore[arg-type]
    p.thread(worker("b"), quantum=25)  # type: ignore[arg-type]
    m.run()
    # Each quantum of 25 us covers three 10-us work items (the third one expires it).
    assert "".join(log) == "aaabbbaaabbb"


def test_preempted_sc_keeps_its_budget() -> None:
    m = Machine()
    p = m.spawn("p")
    t = p.thread(lambda ctx: ctx.work(30), quantum=100)
    sc = pd_of(p).obj.nodes[t.sc_sel].obj
    m.run()
    # and the startup event: a kernel entry and the handler's reply, 1 us each
    assert sc.consumed == 30 + 2  # type: ignore[attr-defined]


def _scenario(seed: int, log: list[tuple[int, str]] | None = None) -> Machine:
    """Two CPUs, producers and consumers on a semaphore-protected counter."""
    m = Machine(cpus=2, seed=seed, trace=True)
    p = m.spawn("p")
    shared = {"n": 0}
    sems: dict[str, int] = {}

    def setup(ctx: Context) -> None:
        lock = ctx.sm(1)
        items = ctx.sm(0)
        sems.update(lock=lock.sel, items=items.sel)
        for cpu in (0, 1):
            ctx.thread(producer, cpu=cpu)
            ctx.thread(consumer, cpu=1 - cpu)

    def producer(ctx: Context) -> None:
        for _ in range(5):
            ctx.sys.sm_down(sems["lock"])
            v = shared["n"]
            ctx.work(3)  # a preemption point inside the critical section
            shared["n"] = v + 1
            ctx.sys.sm_up(sems["lock"])
            ctx.sys.sm_up(sems["items"])
            if log is not None:
                log.append((ctx.cpu, "p"))

    def consumer(ctx: Context) -> None:
        for _ in range(5):
            ctx.sys.sm_down(sems["items"])
            if log is not None:
                log.append((ctx.cpu, "c"))

    p.thread(setup)
    m.shared = shared  # type: ignore[attr-defined]
    return m


def test_same_seed_same_trace() -> None:
    a, b = _scenario(7), _scenario(7)
    ra, rb = a.run(), b.run()
    assert a.trace == b.trace and len(a.trace) > 50
    assert ra.clock == rb.clock and ra.blocked == rb.blocked == []


def test_seeds_explore_different_interleavings() -> None:
    traces = set()
    for seed in range(8):
        log: list[tuple[int, str]] = []
        m = _scenario(seed, log)
        m.run()
        traces.add(tuple(log))
        assert m.shared == {"n": 10}  # type: ignore[attr-defined]
    assert len(traces) > 1


def test_explore_many_seeds_checks_each() -> None:
    checked: list[int] = []

    def check(m: Machine, r: object) -> None:
        assert m.shared == {"n": 10}  # type: ignore[attr-defined]
        assert m.k.blocked() == []
        checked.append(m.k.seed)

    results = explore(_scenario, range(20), check)
    assert checked == list(range(20)) and all(r.reason == "idle" for r in results.values())


def test_run_until_stops_a_spinning_thread() -> None:
    m = Machine()
    p = m.spawn("p")

    @p
    def spin(ctx: Context) -> None:
        while True:
            ctx.work(1)

    r = m.run(until=500)
    assert r.reason == "time" and r.clock[0] == 500
