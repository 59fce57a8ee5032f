"""Real faults of guest code through exception IPC (issue 16, step 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime import Machine
from runtime.exc import ExcState, Mtd, Vector, event_portal
from runtime.kernel.crd import MemRights
from runtime.kernel.utcb import UtcbFrame
from runtime.loader import FLAT_BASE, spawn_flat
from runtime.machine import Process, pd_of
from runtime.memory import Pager, grant_memory
from runtime.platform.memory import PhysMem

from .build import asm

EXIT = "mov rax, 0x800\n jmp rax\n"
ALL_REGS = Mtd.GPR_ACDB | Mtd.GPR_BSD | Mtd.RSP | Mtd.RIP_LEN | Mtd.RFLAGS | Mtd.QUAL


def handler(m: Machine, guest: Process, vector: int, fn: Callable[[ExcState], None]) -> None:
    """A Python handler (a local EC of its own PD) at the guest's evt + vector."""
    h = m.spawn(f"h{vector}")

    def run(f: UtcbFrame) -> None:
        fn(ExcState(f))

    with h.acting():
        sel = event_portal(h.env, h.env.alloc(), run, ALL_REGS)
    h.grant(sel, guest, vector)


def regs(p: Process, *names: str) -> list[int]:
    return [pd_of(p).ecs[0].regs.get(n) for n in names]


def test_divide_by_zero_resumed_past_the_instruction() -> None:
    m = Machine(mem_pages=64)
    src = """
        mov rax, 7
        xor ecx, ecx
        div rcx                  # 48 f7 f1: #DE
        mov r13, 42
    """
    g = spawn_flat(m, "g", asm(src + EXIT))
    seen: list[tuple[int, int]] = []

    def skip(st: ExcState) -> None:
        seen.append((st.rip, st.rcx))
        st.rip += 3
        st.rbx = 99
        st.reply(Mtd.RIP_LEN | Mtd.GPR_ACDB)

    handler(m, g, Vector.DE, skip)
    r = m.run()
    assert seen == [(FLAT_BASE + 9, 0)]  # mov rax (7 bytes), xor ecx (2): div at +9
    assert regs(g, "r13", "rbx") == [42, 99]
    assert ("g", "exit 0") in r.deaths


def test_page_fault_served_by_the_python_pager() -> None:
    m = Machine(mem_pages=64)
    src = """
        mov rax, 0x600008
        mov qword ptr [rax], 0x77    # unmapped: #PF, the pager maps a page, run again
        mov r13, [rax]
        mov rax, 0x601000
        mov r14, [rax]               # a second page: a second fault
    """
    g = spawn_flat(m, "g", asm(src + EXIT))
    pager = Pager(m.root, range(8, 12))
    pager.serve(g)
    r = m.run()
    assert pager.log == [(0x6, 0x600008), (0x4, 0x601000)]  # write|user, then user
    assert regs(g, "r13", "r14") == [0x77, 0]
    frame = pager.owner_page(g, 0x600)
    assert frame is not None and PhysMem.of(m.k).page(frame)[8] == 0x77  # the same bytes
    assert ("g", "exit 0") in r.deaths


def test_ud2_is_killed() -> None:
    m = Machine(mem_pages=64)
    g = spawn_flat(m, "g", asm("nop\n ud2\n mov r13, 1\n" + EXIT))
    seen: list[int] = []

    def kill(st: ExcState) -> None:
        seen.append(st.rip)
        st.kill()

    handler(m, g, Vector.UD, kill)
    r = m.run()
    assert seen == [FLAT_BASE + 1]
    assert ("g", "EXC") in r.deaths
    assert regs(g, "r13") == [0]


def test_no_handler_kills_with_pt_not_found() -> None:
    m = Machine(mem_pages=64)
    spawn_flat(m, "g", asm("int3\n" + EXIT))
    assert ("g", "PT not found") in m.run().deaths


READ_ONLY = 0x500


@pytest.mark.parametrize(
    ("src", "vector", "err", "cr2"),
    [
        # a write to a page held read-only: #PF present | write | user
        (f"mov rax, {READ_ONLY << 12 | 8}\n mov qword ptr [rax], 1\n", Vector.PF, 7, 0x500008),
        # a read of a page the guest does not hold (another PD's): #PF user
        ("mov rax, 0x510000\n mov rbx, [rax]\n", Vector.PF, 4, 0x510000),
        # executing a page held without X: #PF present | user | fetch
        (f"mov rax, {READ_ONLY << 12}\n jmp rax\n", Vector.PF, 0x15, 0x500000),
        # the UTCB is never executable
        ("jmp rdi\n", Vector.PF, 0x15, 0x10000000),
        # port I/O without an I/O capability: #GP(0)
        ("in al, 0x60\n", Vector.GP, 0, None),
        ("out 0x61, al\n", Vector.GP, 0, None),
        # int n through a gate user code may not use: #GP(n << 3 | 2)
        ("int 0x80\n", Vector.GP, 0x402, None),
        # a breakpoint: a trap
        ("int3\n", Vector.BP, 0, None),
    ],
)
def test_faults_report_vector_error_and_address(
    src: str, vector: int, err: int, cr2: int | None
) -> None:
    m = Machine(mem_pages=64)
    other = m.spawn("other")
    grant_memory(m.root, range(40, 41), other, 0x510)  # someone else's page
    g = spawn_flat(m, "g", asm("mov r12, 0x1122\n" + src + EXIT))
    grant_memory(m.root, range(41, 42), g, READ_ONLY, MemRights.R)
    seen: list[tuple[int, int, int, int]] = []

    def record(st: ExcState) -> None:
        seen.append((st.err, st.cr2, st.rip, st.r12))
        st.kill()

    handler(m, g, vector, record)
    before = PhysMem.of(m.k).page(41)[:16], PhysMem.of(m.k).page(40)[:16]
    r = m.run()
    assert len(seen) == 1 and ("g", "EXC") in r.deaths
    got_err, got_cr2, rip, r12 = seen[0]
    assert got_err == err and r12 == 0x1122
    if cr2 is not None:
        assert got_cr2 == cr2
    if err & 0x10:  # an instruction fetch faults at its target
        assert rip == cr2
    else:
        assert FLAT_BASE <= rip < FLAT_BASE + 64
    assert (PhysMem.of(m.k).page(41)[:16], PhysMem.of(m.k).page(40)[:16]) == before


def test_port_io_with_the_capability_reaches_the_bus() -> None:
    from runtime.kernel import mdb

    m = Machine(mem_pages=64, io_ports=range(0x80, 0x81))
    g = spawn_flat(m, "g", asm("mov al, 0x3c\n out 0x80, al\n in al, 0x80\n mov r13, rax\n" + EXIT))
    mdb.delegate(pd_of(m.root).pio, 0x80, pd_of(g).pio, 0x80, 0, 1)
    log: list[tuple[str, int, int]] = []

    class Bus:
        def io_in(self, port: int, size: int) -> int:
            log.append(("in", port, size))
            return 0x5A

        def io_out(self, port: int, size: int, value: int) -> None:
            log.append(("out", port, value))

    m.k.io_bus = Bus()
    assert ("g", "exit 0") in m.run().deaths
    assert log == [("out", 0x80, 0x3C), ("in", 0x80, 1)]
    assert regs(g, "r13")[0] & 0xFF == 0x5A


def test_revoke_unmaps_at_once() -> None:
    """A page the pager revokes is gone for the guest: the next access faults again."""
    m = Machine(mem_pages=64)
    src = """
        mov rax, 0x600000
        mov qword ptr [rax], 5
        mov rdi, 0x200 << 8 | 11     # sm up: the host revokes meanwhile
        syscall
        mov rdi, 0x201 << 8 | 1 << 4 | 11   # sm down: wait for it
        syscall
        mov rax, 0x600000
        mov r13, [rax]               # faults again: the pager maps its page anew
    """
    g = spawn_flat(m, "g", asm(src + EXIT))
    pager = Pager(m.root, range(8, 12))
    pager.serve(g)
    from runtime.api import Context, Syscalls

    root = m.root
    with root.acting():
        s1, s2 = root.env.alloc(), root.env.alloc()
        Syscalls(m.gate).create_sm(s1)
        Syscalls(m.gate).create_sm(s2)

    def revoker(ctx: Context) -> None:
        ctx.sm(sel=s1).down()
        assert pager.owner_page(g, 0x600) is not None
        pager.unmap(g, 0x600)  # root revokes the page it lent
        ctx.sm(sel=s2).up()

    root.thread(revoker)
    root.grant(s1, g, 0x200)
    root.grant(s2, g, 0x201)
    m.run()
    assert [c for _, c in pager.log] == [0x600000, 0x600000]
    assert regs(g, "r13") == [5]  # the pager took the same page back and gave it again
