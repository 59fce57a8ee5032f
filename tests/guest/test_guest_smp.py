"""Guest code on two CPUs: quanta, preemption between instructions, seeded replay
(issue 16, step 4)."""

from __future__ import annotations

from runtime import Machine
from runtime.loader import spawn_flat
from runtime.machine import pd_of
from runtime.memory import grant_memory
from runtime.platform.memory import PhysMem

from .build import asm

SHARED = 0x700  # the shared page: a flag at +0, a lock at +8, a counter at +16
EXIT = "mov rax, 0x800\n jmp rax\n"

# CPU 0 spins on the flag that CPU 1 sets after a while of work
WAITER = f"""
        mov rbx, {SHARED << 12}
    1:  pause
        cmp qword ptr [rbx], 0
        je 1b
"""
SETTER = f"""
        mov rbx, {SHARED << 12}
        mov rcx, 20000
    1:  dec rcx
        jnz 1b
        mov qword ptr [rbx], 1
"""
# both take a test-and-set spinlock 300 times and bump the counter inside it
LOCKER = f"""
        mov rbx, {SHARED << 12}
        mov r12, 300
    1:  mov eax, 1
        xchg rax, [rbx+8]
        test rax, rax
        jz 2f
        pause
        jmp 1b
    2:  mov rax, [rbx+16]
        mov rcx, 50
    3:  dec rcx                # a long critical section: quanta end inside it
        jnz 3b
        inc rax
        mov [rbx+16], rax
        mov qword ptr [rbx+8], 0
        dec r12
        jnz 1b
"""


def scenario(seed: int, a: str, b: str) -> tuple[Machine, list[tuple[object, ...]], bytes]:
    m = Machine(cpus=2, seed=seed, mem_pages=64, trace=True)
    g0 = spawn_flat(m, "cpu0", asm(a + EXIT), cpu=0, insns=200)
    g1 = spawn_flat(m, "cpu1", asm(b + EXIT), cpu=1, insns=200)
    for g in (g0, g1):
        grant_memory(m.root, range(50, 51), g, SHARED)
    r = m.run(until=100_000)
    assert ("cpu0", "exit 0") in r.deaths and ("cpu1", "exit 0") in r.deaths, r
    assert not pd_of(g0).dead
    return m, list(m.trace), bytes(PhysMem.of(m.k).page(50)[:24])


def test_spin_on_a_flag_set_by_the_other_cpu_finishes() -> None:
    m, trace, mem = scenario(1, WAITER, SETTER)
    assert mem[0] == 1
    assert min(c.clock for c in m.k.cpus) > 10  # the 20,000-instruction loop took time
    runs = [e for e in trace if e[3] == "run"]
    assert {e[1] for e in runs} == {0, 1}  # both CPUs ran, interleaved by slices
    assert runs[0][1] != runs[-1][1] or len(runs) > 2


def test_same_seed_same_trace() -> None:
    _, t1, _ = scenario(7, WAITER, SETTER)
    _, t2, _ = scenario(7, WAITER, SETTER)
    assert t1 == t2


def test_two_cpu_spinlock_counts_every_increment() -> None:
    _, t1, mem = scenario(3, LOCKER, LOCKER)
    assert int.from_bytes(mem[16:24], "little") == 600
    _, t2, mem2 = scenario(3, LOCKER, LOCKER)
    assert t1 == t2 and mem2 == mem
    _, t3, _ = scenario(4, LOCKER, LOCKER)
    assert t3 != t1  # another seed interleaves differently


def test_recall_lands_between_instructions() -> None:
    """ec_ctrl from a Python EC on CPU 1 stops a guest spinning on CPU 0: event 31 at a
    quantum's end, with the rip of the loop; the handler kills it."""
    from runtime.api import Context
    from runtime.exc import ExcState, Mtd, Vector, event_portal
    from runtime.kernel.ec import Ec
    from runtime.kernel.utcb import UtcbFrame

    m = Machine(cpus=2, seed=5, mem_pages=64)
    # sm up (0x301: it is spinning now), then spin: `jmp $` at +9
    g = spawn_flat(m, "spin", asm("mov rdi, 0x301 << 8 | 11\n syscall\n 1: jmp 1b\n"), insns=100)
    ec_sel = next(u for u, n in pd_of(g).obj.nodes.items() if isinstance(n.obj, Ec))
    seen: list[int] = []
    h = m.spawn("h")

    def on_recall(f: UtcbFrame) -> None:
        st = ExcState(f)
        seen.append(st.rip)
        st.kill()

    with h.acting():
        sel = event_portal(h.env, h.env.alloc(), on_recall, Mtd.RIP_LEN, cpu=0)
    h.grant(sel, g, Vector.RECALL)
    ctl = m.spawn("ctl", cpu=1)
    g.grant(ec_sel, ctl, 0x300)
    with ctl.acting():
        ctl.env.alloc()
        ctx_sm = ctl.env.alloc()
        from runtime.api import Syscalls

        Syscalls(m.gate).create_sm(ctx_sm)
    ctl.grant(ctx_sm, g, 0x301)

    @ctl
    def stopper(ctx: Context) -> None:
        ctx.sm(sel=ctx_sm).down()
        ctx.gate.tick(20)  # let it spin a while
        ctx.sys.ec_ctrl(0x300)

    r = m.run(until=10_000)
    assert seen == [0x400009] and ("spin", "EXC") in r.deaths
