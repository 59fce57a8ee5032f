"""Scale benchmarks of the runtime: what grows with the number of objects, CPUs and cycles.

Every key is a ratio, a byte count or a CPU count measured within one run, so a loaded
machine moves them far less than absolute times (bench/README.md, "Scale").

1 `churn_cost_ratio`: spawn a process whose thread returns at once, run, kill it; the
  seconds of the last block of cycles over the first (flat: 1.0).
  `churn_bytes_per_cycle`: tracemalloc's current size after the cycles minus before, per
  cycle (what a dead process leaves behind).
2 `revoke_fanout_ratio`: revoke (children only) of one capability delegated to N slots;
  ns per child at the big N over the small N (linear: 1.0).
3 `null_call_population_ratio`: a null portal call with 100,000 idle local ECs in the
  machine over the same call with 10 (medians of alternated rounds, both machines alive).
  `create_ns_per_object`: creating those ECs (an EC and a portal each), per object;
  `create_gc_share`: the share of that time in Python's garbage collector (gc.callbacks).
4 `max_cpus_with_services`: the largest N in (64, 128, 256) for which Machine(cpus=N)
  with a service on every CPU answers a call from every CPU (0 if none).

    python bench/scale.py                # full sizes, a table
    python bench/scale.py --quick --json # smaller sizes, one JSON line last on stdout (< 60 s)
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import runtime.kernel.kernel as kernel_module  # noqa: E402
from runtime import Machine  # noqa: E402
from runtime.api import Context, LocalThread, Syscalls  # noqa: E402
from runtime.crd import Crd  # noqa: E402
from runtime.kernel import mdb  # noqa: E402
from runtime.kernel.crd import ALL  # noqa: E402
from runtime.machine import pd_of  # noqa: E402
from runtime.utcb import UtcbFrame  # noqa: E402


def _nothing(ctx: Context) -> None:
    pass


def churn(cycles: int, block: int) -> tuple[float, list[float]]:
    """Spawn -> run -> kill `cycles` times; (seconds of the last block / the first, the
    seconds of every block)."""
    m = Machine(cpus=1)
    for _ in range(block // 10):  # warm-up: first-time costs out of the first block
        m.spawn("warm", _nothing).kill()
        m.run()
    blocks: list[float] = []
    t0 = time.perf_counter()
    for i in range(1, cycles + 1):
        p = m.spawn("churn", _nothing)
        m.run()
        p.kill()
        if i % block == 0:
            t1 = time.perf_counter()
            blocks.append(t1 - t0)
            t0 = t1
    first, last = min(blocks[:2]), min(blocks[-2:])  # the better of two: noise, not trend
    return last / first, blocks


def churn_bytes(cycles: int) -> float:
    """Bytes kept per spawn -> run -> kill cycle (tracemalloc, after warm-up cycles)."""
    m = Machine(cpus=1)

    def cycle() -> None:
        p = m.spawn("churn", _nothing)
        m.run()
        p.kill()

    for _ in range(200):
        cycle()
    gc.collect()
    tracemalloc.start()
    try:
        # traced warm-up: the death log (a ring of DEATH_LOG) turns over once, so what it
        # holds at the end was allocated under tracing, as at the start
        for _ in range(kernel_module.DEATH_LOG + 50):
            cycle()
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(cycles):
            cycle()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / cycles


def revoke_ns_per_child(n: int, total: int) -> float:
    """ns per child to revoke (children only) capabilities delegated to `n` slots each,
    `total // n` of them: the same number of nodes, so the same memory (and cache
    misses) whatever the fan-out; only the fan-out's width differs."""
    m = Machine(cpus=1)
    a, b = m.spawn("a"), m.spawn("b")
    sels = []
    with a.acting():
        for _ in range(total // n):
            sel = a.env.alloc()
            Syscalls(m.gate).create_sm(sel, 0)
            sels.append(sel)
    src, dst = pd_of(a).obj, pd_of(b).obj
    had = len(dst.nodes)
    t = 0x10000
    for sel in sels:
        for _ in range(n):
            mdb.delegate(src, sel, dst, t, 0, ALL)
            t += 1
    assert all(len(src.nodes[sel].children) == n for sel in sels)
    sys_ = Syscalls(m.gate)
    t0 = time.perf_counter()
    with a.acting():
        for sel in sels:
            sys_.revoke(Crd.obj(sel), self_=False)
    t1 = time.perf_counter() - t0
    assert len(dst.nodes) == had and all(not src.nodes[sel].children for sel in sels)
    return t1 * 1e9 / (n * len(sels))


def _population(idle: int) -> tuple[Machine, Any, float, float]:
    """A machine with a server portal, `idle` idle local ECs (each with a portal) and a
    client holding the portal at 0x5000; (machine, client, ns per created object, share
    of the creation time spent in Python's garbage collector)."""
    m = Machine(cpus=1)
    srv = m.spawn("srv")
    pt = srv.portal(_drop)
    gc_time = [0.0]
    gc_start = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_start[0]

    idler = m.spawn("idle")
    gc.callbacks.append(on_gc)
    try:
        t0 = time.perf_counter()
        with idler.acting():
            for _ in range(idle):
                LocalThread(idler.env, 0).portal(_drop)
        t_create = time.perf_counter() - t0
    finally:
        gc.callbacks.remove(on_gc)
    client = m.spawn("client")
    srv.grant(pt.sel, client, 0x5000)
    per = t_create * 1e9 / (2 * idle) if idle else 0.0
    return m, client, per, (gc_time[0] / t_create if t_create else 0.0)


def _null_calls(m: Machine, client: Any, calls: int) -> float:
    """Seconds per null call (the kernel's call entry), the best of 3 loops."""
    out: list[float] = []

    def body(ctx: Context) -> None:
        call = m.k.ipc_call
        w = 0x5000 << 8
        call(w)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(calls):
                call(w)
            best = min(best, time.perf_counter() - t0)
        out.append(best / calls)

    client.thread(body)
    m.run()
    return out[0]


def population(few: int, many: int, calls: int, rounds: int) -> tuple[float, float, float, float]:
    """(median s per null call with `few` idle ECs, with `many`, ns per created object,
    GC share of creating `many`): both machines alive, measured in alternated rounds, so
    load on the host and the process's heap weigh on both alike."""
    m1, c1, _, _ = _population(few)
    m2, c2, create_ns, gc_share = _population(many)
    a: list[float] = []
    b: list[float] = []
    for _ in range(rounds):
        a.append(_null_calls(m1, c1, calls))
        b.append(_null_calls(m2, c2, calls))
    return statistics.median(a), statistics.median(b), create_ns, gc_share


def _drop(f: UtcbFrame) -> None:
    pass


def services_on(cpus: int) -> bool:
    """Machine(cpus=N), a service on every CPU, a call from every CPU answered."""
    try:
        m = Machine(cpus=cpus)
        m.spawn("srv").serve("svc", lambda f: None)
        answered: set[int] = set()

        def client(c: int) -> Callable[[Context], None]:
            def body(ctx: Context) -> None:
                pt = ctx.connect("svc")
                with ctx.frame() as f:
                    pt.call(f)
                answered.add(c)

            return body

        cl = m.spawn("cli")
        for c in range(cpus):
            cl.thread(client(c), cpu=c)
        r = m.run(check=False)
        return r.reason == "idle" and answered == set(range(cpus))
    except Exception:
        return False


def max_cpus() -> int:
    best = 0
    for n in (64, 128, 256):
        if not services_on(n):
            break
        best = n
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes: under a minute")
    ap.add_argument("--json", action="store_true", help="print one JSON line last on stdout")
    args = ap.parse_args()
    q = args.quick
    res: dict[str, Any] = {}
    log = sys.stderr if args.json else sys.stdout

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=log)

    cycles, block = 10000, 1000
    with step(f"churn {cycles} cycles"):
        ratio, blocks = churn(cycles, block)
    res["churn_cycles"] = cycles
    res["churn_cost_ratio"] = round(ratio, 2)
    res["churn_us_per_cycle_first"] = round(blocks[0] * 1e6 / block, 1)
    res["churn_us_per_cycle_last"] = round(blocks[-1] * 1e6 / block, 1)
    with step("churn bytes"):
        res["churn_bytes_per_cycle"] = round(churn_bytes(1000 if q else 5000), 1)
    small, big = 1000, 100_000
    with step(f"revoke {small} / {big}"):
        ns_small, ns_big = float("inf"), float("inf")
        for _ in range(3):  # alternated, the best of each
            ns_small = min(ns_small, revoke_ns_per_child(small, big))
            ns_big = min(ns_big, revoke_ns_per_child(big, big))
    res["revoke_fanout"] = [small, big]
    res["revoke_ns_per_child"] = [round(ns_small, 1), round(ns_big, 1)]
    res["revoke_fanout_ratio"] = round(ns_big / ns_small, 2)
    calls = 2000 if q else 20000
    with step("population 10 / 100,000"):
        few, many, create_ns, gc_share = population(10, 100_000, calls, 7 if q else 15)
    res["null_call_ns"] = [round(few * 1e9, 1), round(many * 1e9, 1)]
    res["null_call_population_ratio"] = round(many / few, 2)
    res["create_ns_per_object"] = round(create_ns, 1)
    res["create_gc_share"] = round(gc_share, 2)
    with step("services on 64/128/256 CPUs"):
        res["max_cpus_with_services"] = max_cpus()
    res["kernel"] = "interpreted" if str(kernel_module.__file__).endswith(".py") else "compiled"
    if args.json:
        print(json.dumps(res))
        return
    for k, v in res.items():
        print(f"{k:<30} {v}")


if __name__ == "__main__":
    main()
