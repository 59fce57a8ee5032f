"""Random system calls from several PDs: no Python exception escapes the kernel and the
invariants of `invariants.check` hold after every call (NOVA-NRE.md §1, §3, §6)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.api import FIRST_DYNAMIC, Context, Syscalls, startup_portal
from runtime.crd import ALL, crd
from runtime.exc import Vector, event_portal
from runtime.kernel import backdoor
from runtime.kernel.kernel import Kernel
from runtime.kernel.syscalls import Sys, word0
from runtime.machine import Machine, pd_of
from runtime.status import Status
from runtime.utcb import UtcbFrame

from . import invariants
from .conftest import FUZZ_EXAMPLES

SELS = [0, 1, 2, 3, 0x20, 0x21, 0x22, 0x24, 64 + 0x24, 4096, 4097, 4098, 4099, 4100, 5000]
UTCBS = [0, 0x20000000, 0x20001000, 0x20002000, 0x7FFFFFFFF000, 0x20000001]

op = st.tuples(
    st.integers(0, 17),
    st.integers(0, len(SELS) - 1),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 2**64 - 1),
)


def _arg(r: int, big: int) -> int:
    """An argument: mostly a selector, sometimes a Crd, sometimes junk."""
    kind = r & 3
    if kind == 0:
        return SELS[(r >> 2) % len(SELS)]
    if kind == 1:
        return crd((r >> 2) & 3, SELS[(r >> 4) % len(SELS)], (r >> 3) & 7, r & 0x1F)
    if kind == 2:
        return UTCBS[(r >> 2) % len(UTCBS)] | (r >> 6) & 3
    return big


def _program(ops: list[tuple[int, int, int, int, int]], m: Machine, creators: dict) -> object:
    k: Kernel = m.k

    def body(ctx: Context) -> None:
        for num, s, r2, r3, big in ops:
            sel = SELS[s]
            u = ctx.utcb.utcb
            if num == 14:  # arm random receive windows
                u.dele = _arg(r2 | 1, big) if r2 & 1 else 0
                u.xlt = _arg(r3 | 1, big) if r3 & 1 else 0
                continue
            if num == 15:  # typed items for the next call
                f = UtcbFrame(u, push=False)
                f.clear()
                f.put_word(r2)
                (
                    f.delegate(_arg(r2 | 1, big), hotspot=r3)
                    if r3 & 1
                    else f.translate(_arg(r3 | 1, big))
                )
                continue
            if num in (16, 17):
                ctx.work(r2 & 15)
                continue
            w0 = sel << 8 | (r2 & 0xF0) | num
            if num == Sys.SM_CTRL and r2 & 0x10:
                node = backdoor(ctx).current.pd.obj.nodes.get(sel)
                if node is None or getattr(node.obj, "count", 0) == 0:
                    w0 &= ~0x10  # only down when it would not block forever: make it up
            if num == Sys.REPLY:
                continue  # a global EC that replies blocks for good; covered elsewhere
            # create_sc gets a plausible Qpd (priorities around the 1..127 bound).
            a4 = (r3 % 130) | (big & 0xFFFF) << 12 if num == Sys.CREATE_SC else _arg(r3, big)
            st_, _, _ = k.syscall(w0, _arg(r2, big), _arg(r3 >> 1, big), a4, 0x1000)
            assert 0 <= st_ <= 8
            if st_ == Status.SUCCESS and Sys.CREATE_PD <= num <= Sys.CREATE_SM:
                creators[id(backdoor(ctx).current.pd.obj.nodes[sel].obj)] = (
                    backdoor(ctx).current.pd,
                    sel,
                )
            invariants.check(m, creators)

    return body


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.lists(st.lists(op, max_size=25), min_size=2, max_size=3), st.integers(0, 2**16))
def test_random_syscalls_keep_invariants(programs: list[list[tuple]], seed: int) -> None:
    m = Machine(cpus=2, seed=seed)
    creators: dict[int, tuple[object, int]] = {}
    rng = random.Random(seed)

    def handler(f: UtcbFrame) -> None:
        f.clear()
        f.put_word(rng.getrandbits(8))
        if rng.random() < 0.5:
            f.delegate(crd(3, rng.choice(SELS)), hotspot=rng.randrange(64))

    procs = [m.spawn(f"p{i}", cpu=i % 2, pd_rights=ALL) for i in range(len(programs))]
    for i, p in enumerate(procs):
        p.env.next_sel = 1 << 14  # the startup portal's EC clear of the programs' selectors
        with p.acting():
            startup_portal(p.env, i % 2)
        p.env.next_sel = FIRST_DYNAMIC
    for i, p in enumerate(procs):
        pt = p.portal(handler, cpu=i % 2)
        for q in procs:  # everyone can call everyone's portal at 4098
            if q is not p:
                p.grant(pt.sel, q, 4100 + i)
    for p, ops in zip(procs, programs, strict=True):
        p.thread(_program(ops, m, creators), cpu=procs.index(p) % 2)
    for i, p in enumerate(procs):
        p.env.next_sel = 1 << 13  # clear of the selectors the programs use
        with p.acting():  # ec_ctrl on itself raises event 31, which needs a portal (§5)
            event_portal(p.env, Vector.RECALL, lambda f: None, 0, i % 2, evt=64 * (i % 2))
    before = m.k.stats["syscalls"]
    r = m.run(until=100_000, check=True)
    invariants.check(m, creators)
    assert m.k.ec_faults == [] and r.reason == "idle"
    # Every program ran to its end, or to a revoke of its own capabilities: each op but
    # the skipped kinds made one system call.
    made = sum(_must_run(ops) for ops in programs)
    assert m.k.stats["syscalls"] - before >= made


def _must_run(ops: list[tuple[int, int, int, int, int]]) -> int:
    """How many of a program's ops make a system call for sure: each one but the skipped
    kinds, up to and including the first revoke with the self flag, which may take the
    capability of the program's own SC (its last one: the SC is gone and the EC never
    runs again, as in NOVA)."""
    n = 0
    for num, _s, r2, _r3, _big in ops:
        if num in (Sys.REPLY, 14, 15, 16, 17):
            continue
        n += 1
        if num == Sys.REVOKE and r2 & 0xF0:
            break
    return n


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 15), st.integers(0, 2**64 - 1)), max_size=40))
def test_raw_words_never_raise(calls: list[tuple[int, int]]) -> None:
    """Fully random words in every argument register, as the kernel could see them."""
    m = Machine()
    p = m.spawn("p")
    with p.acting():
        for num, big in calls:
            if num in (Sys.CALL, Sys.REPLY, Sys.SM_CTRL):
                continue  # would need a running EC; the program test covers them
            r = m.k.syscall((big & ~0xF) | num, big >> 3, big >> 7, big >> 11, big)
            assert 0 <= r[0] <= 8
            invariants.check(m)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 20)), max_size=20),
        min_size=2,
        max_size=4,
    ),
    st.integers(0, 2**16),
    st.integers(-1, 3),
)
def test_blocking_semaphores_calls_and_kills(
    programs: list[list[tuple[int, int, int]]], seed: int, victim: int
) -> None:
    """ECs on two CPUs block on shared semaphores, call each other's portals (whose
    handlers block too) and one PD may be killed mid-run by root: invariants hold after
    every step, nothing raises, and every EC left is dead or blocked in one queue."""
    m = Machine(cpus=2, seed=seed, trace=True)
    owner = m.spawn("owner")
    sems = [0x300 + i for i in range(4)]
    with owner.acting():
        for s in sems:
            Syscalls(m.gate).create_sm(s, 1)
    procs = [m.spawn(f"p{i}", cpu=i % 2, pd_rights=ALL) for i in range(len(programs))]

    def handler(f: UtcbFrame) -> None:
        n = f.get_word() if f.left else 0
        f.clear()
        cur = m.k.current
        if cur is not None and n % 3 == 0:
            # The handler blocks on a semaphore of its own PD, on the caller's SC.
            m.k.syscall(word0(Sys.SM_CTRL, 0x300 + n % 4, 0x10))
        invariants.check(m)

    for i, p in enumerate(procs):
        for s in sems:
            owner.grant(s, p, s)
        pt = p.portal(handler, cpu=i % 2)
        for q in procs:
            if q is not p and (procs.index(q) % 2) == (i % 2):
                p.grant(pt.sel, q, 0x400 + i)

    def program(ops: list[tuple[int, int, int]]) -> object:
        def body(ctx: Context) -> None:
            for kind, which, n in ops:
                if kind == 0:
                    ctx.gate.syscall(word0(Sys.SM_CTRL, sems[which], 0x10))  # down, may block
                elif kind == 1:
                    ctx.gate.syscall(word0(Sys.SM_CTRL, sems[which]))  # up
                elif kind == 2:
                    with ctx.frame() as f:
                        f.put_word(n)
                        ctx.gate.syscall(word0(Sys.CALL, 0x400 + which))
                elif kind == 3:
                    ctx.work(n)
                elif kind == 4:
                    ctx.yield_()
                else:
                    ctx.gate.syscall(word0(Sys.SM_CTRL, sems[which], 0x30))  # zero
                invariants.check(m)

        return body

    for i, (p, ops) in enumerate(zip(procs, programs, strict=True)):
        p.thread(program(ops), cpu=i % 2)  # type: ignore[arg-type]
    if 0 <= victim < len(procs):

        def killer(ctx: Context) -> None:
            ctx.work(5)
            procs[victim].kill()
            invariants.check(m)

        m.root.thread(killer, cpu=1)
    r = m.run(until=50_000)
    invariants.check(m)
    assert r.reason == "idle" and m.k.ec_faults == []
    if 0 <= victim < len(procs):
        dead = pd_of(procs[victim])
        assert dead.dead and all(ec.dead for ec in dead.ecs)
        assert all(not sm.queue or all(e.pd is not dead for e in sm.queue) for sm in m.k.sms)
