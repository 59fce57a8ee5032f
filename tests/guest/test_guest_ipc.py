"""Guest ECs: machine code calling Python services through portals (issue 16, step 1)."""

from __future__ import annotations

from runtime import Machine
from runtime.kernel.utcb import UtcbFrame
from runtime.loader import FLAT_BASE, spawn_flat
from runtime.machine import Process, pd_of
from runtime.platform.guest import cpu_of
from runtime.platform.memory import PhysMem

from .build import asm

ECHO = 0x100  # where the tests grant the echo portal in the guest

# rdi = the UTCB at start; a request of two words (mr[0] at byte 40, the items word at 8),
# a call of portal ECHO, the reply's status and words kept in r13..r15, then exit 3
CLIENT = f"""
    mov r12, rdi
    mov qword ptr [r12+40], 0x1234
    mov qword ptr [r12+48], 0x5678
    mov qword ptr [r12+8], 2
    mov rdi, {ECHO} << 8
    syscall
    mov r13, rdi
    mov r14, [r12+40]
    mov r15, [r12+48]
    mov rax, 0x803
    jmp rax
"""


def echo_service(m: Machine, log: list[tuple[int, ...]]) -> tuple[Process, int]:
    srv = m.spawn("echo")

    def echo(f: UtcbFrame) -> None:
        words = [f.get_word() for _ in range(f.left)]
        log.append(tuple(words))
        f.clear()
        for w in words:
            f.put_word(w + 1)

    return srv, srv.portal(echo, cpu=0).sel


def guest_regs(p: Process, *names: str) -> list[int]:
    ec = pd_of(p).ecs[0]
    return [ec.regs.get(n) for n in names]


def test_guest_client_calls_python_echo() -> None:
    m = Machine(mem_pages=64, trace=True)
    log: list[tuple[int, ...]] = []
    srv, sel = echo_service(m, log)
    g = spawn_flat(m, "guest", asm(CLIENT))
    srv.grant(sel, g, ECHO)
    r = m.run()
    assert log == [(0x1234, 0x5678)]
    assert ("guest", "exit 3") in r.deaths
    status, a, b = guest_regs(g, "r13", "r14", "r15")
    assert status & 0xFF == 0 and status >> 8 == ECHO  # word0 with the status in byte 0
    assert (a, b) == (0x1235, 0x5679)
    assert any(e[2] == "guest" and e[3] == "sys0" for e in m.trace)


def test_guest_code_is_shared_not_copied() -> None:
    """The guest's page and the frame in physical memory are the same bytes."""
    m = Machine(mem_pages=64)
    src = "mov rax, 0x4000ff\n mov byte ptr [rax], 0x5a\n mov rax, 0x800\n jmp rax\n"
    g = spawn_flat(m, "g", asm(src) + bytes(256))
    m.run()
    pd = pd_of(g)
    frame = pd.mem.nodes[FLAT_BASE >> 12].obj
    assert PhysMem.of(m.k).page(frame)[0xFF] == 0x5A
    assert cpu_of(pd.ecs[0]).core.read(0x4000FF, 1) == b"\x5a"


def test_bad_selector_gives_bad_cap_and_changes_nothing() -> None:
    m = Machine(mem_pages=64)
    src = """
        mov rdi, 0x999 << 8       # call: no capability there
        syscall
        mov r13, rdi
        mov rdi, 0x998 << 8 | 11  # sm_ctrl up: none there either
        syscall
        mov r14, rdi
        mov rdi, 0x20 << 8 | 15   # number 15: no such call
        syscall
        mov r15, rdi
        mov rax, 0x800
        jmp rax
    """
    g = spawn_flat(m, "g", asm(src))
    before = {u: (n.obj, n.rights) for u, n in pd_of(g).obj.nodes.items()}
    m.run()
    assert [v & 0xFF for v in guest_regs(g, "r13", "r14", "r15")] == [4, 4, 3]  # BAD_CAP, BAD_HYP
    assert {u: (n.obj, n.rights) for u, n in pd_of(g).obj.nodes.items()} == before


def test_python_and_guest_semaphore() -> None:
    """sm_ctrl from guest code: a Python EC downs what the guest ups."""
    m = Machine(mem_pages=64)
    py = m.spawn("py")
    with py.acting():
        sel = py.env.alloc()
        from runtime.api import Syscalls

        Syscalls(m.gate).create_sm(sel, 0)
    got: list[int] = []

    @m.spawn("waiter")
    def waiter(ctx: object) -> None:
        from runtime.api import Context

        assert isinstance(ctx, Context)
        ctx.sm(sel=0x200).down()
        got.append(1)

    py.grant(sel, m.processes[-1], 0x200)
    g = spawn_flat(m, "g", asm("mov rdi, 0x300 << 8 | 11\n syscall\n mov rax, 0x800\n jmp rax\n"))
    py.grant(sel, g, 0x300)
    m.run()
    assert got == [1]


def test_python_client_calls_guest_server() -> None:
    """A local EC of the guest PD serves a portal at machine code; Python calls it."""
    from runtime.api import Syscalls
    from runtime.loader import STACK_TOP

    m = Machine(mem_pages=64)
    utcb = 0x20000000
    # the handler: mr[0] += pid, one word back, reply (rdi = 1); its stack is the EC's sp
    server = f"""
        mov rax, {FLAT_BASE + 0x100}
        jmp rax
        .org 0x100
        mov r12, {utcb}
        add [r12+40], rdi
        push rdi                    # the stack works
        pop rsi
        mov qword ptr [r12+8], 1
        mov rdi, 1
        syscall
        ud2                          # a reply does not return
    """
    code = asm(server)
    g = spawn_flat(m, "g", code[:0x100] + code[0x100:])
    with g.acting():
        ec, pt = g.env.alloc(), g.env.alloc()
        sys = Syscalls(m.gate)
        sys.create_ec(ec, utcb, cpu=0, sp=STACK_TOP - 0x800)
        sys.create_pt(pt, ec, FLAT_BASE + 0x100)
    got: list[bytes] = []

    @m.spawn("client")
    def client(ctx: object) -> None:
        from runtime.api import Context

        assert isinstance(ctx, Context)
        for i in range(3):
            reply, _ = ctx.gate.call_words(0x500, (100 * i).to_bytes(8, "little"))
            got.append(reply)

    g.grant(pt, m.processes[-1], 0x500)
    r = m.run()
    assert [int.from_bytes(x, "little") for x in got] == [pt, 100 + pt, 200 + pt]
    assert not [d for d in r.deaths if d[0] != "g" and d[1] != "exit"]


def test_dropped_machines_with_blocked_guests() -> None:
    """A guest blocked in a system call waits outside the emulator (its greenlet never
    stops inside unicorn), so dropping its machine and collecting is safe, and the next
    machine runs."""
    import gc

    from runtime.api import Syscalls

    for _ in range(3):
        m = Machine(mem_pages=64)
        py = m.spawn("py")
        with py.acting():
            sel = py.env.alloc()
            Syscalls(m.gate).create_sm(sel, 0)
        g = spawn_flat(m, "g", asm("mov rdi, 0x300 << 8 | 1 << 4 | 11\n syscall\n ud2\n"))
        py.grant(sel, g, 0x300)
        assert m.run().blocked == ["g"]
        del m, py, g
        gc.collect()
    test_guest_client_calls_python_echo()
