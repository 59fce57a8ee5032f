"""Emulated memory (NOVA-NRE.md §3, §5): page tables filled by delegations, checked
accesses, the pager pattern, revoke, shared dataspaces and a Producer/Consumer ring."""

from __future__ import annotations

import pytest

from runtime.api import Context, Pt, Sm, Syscalls
from runtime.arch import X86_32, X86_64, Arch
from runtime.crd import MemRights
from runtime.exc import ExcState, Mtd, Vector, event_portal
from runtime.kernel import backdoor
from runtime.machine import Machine, Process, pd_of
from runtime.memory import (
    PF_FETCH,
    PF_PRESENT,
    PF_USER,
    PF_WRITE,
    Dataspace,
    Pager,
    PhysMem,
    Ring,
    grant_memory,
)
from runtime.platform.fault import Insn
from runtime.utcb import UtcbFrame

BASE = 0x20000  # client virtual page where the test's heap starts (UTCBs sit at 0x10000000)


def death(m: Machine, name: str) -> str | None:
    return next((why for n, why in m.k.deaths if n == name), None)


def recorder(p: Process, log: list[tuple[int, int]]) -> None:
    """A #PF handler in `p` that records (err, cr2) and kills."""

    def h(f: UtcbFrame) -> None:
        st = ExcState(f)
        log.append((st.err, st.cr2))
        st.kill()

    with p.acting():
        event_portal(p.env, Vector.PF, h, Mtd.QUAL)


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
def test_pager_maps_1000_pages_once_each_and_revoke_faults_again(arch: Arch) -> None:
    n = 1000
    m = Machine(arch=arch, mem_pages=n + 64)
    pager = Pager(m.root, range(64, 64 + n))
    p = m.spawn("client")
    pager.serve(p)
    bad: list[int] = []

    @p
    def main(ctx: Context) -> None:
        ins = Insn(ctx)
        for i in range(n):
            ins.write_word((BASE + i) << 12 | 8 * (i % 64), i * 7 + 1)
        for i in range(n):
            if ins.read_word((BASE + i) << 12 | 8 * (i % 64)) != i * 7 + 1:
                bad.append(i)

    m.run()
    assert bad == [] and death(m, "client") == "exit"
    assert pager.faults == n
    assert all(err == PF_USER | PF_WRITE for err, _ in pager.log)
    assert [cr2 >> 12 for _, cr2 in pager.log] == [BASE + i for i in range(n)]
    assert len(pd_of(p).mem.nodes) == n
    assert len(PhysMem.of(m.k).store) == n  # each page went to a frame of its own

    # Revoke one page behind the client's back: its next access faults again.
    pager.unmap(p, BASE + 5)
    assert BASE + 5 not in pd_of(p).mem.nodes
    got: list[int] = []

    def again(ctx: Context) -> None:
        ins = Insn(ctx)
        got.append(ins.read_word((BASE + 5) << 12 | 8 * 5))
        got.append(ins.read_word((BASE + 6) << 12 | 8 * 6))  # still mapped: no fault

    p.thread(again, name="again")
    m.run()
    assert pager.faults == n + 1
    assert pager.log[-1] == (PF_USER, (BASE + 5) << 12 | 8 * 5)  # a read of a missing page
    assert got == [5 * 7 + 1, 6 * 7 + 1]  # the pager handed the same frame back


def test_protection_faults_carry_the_error_code() -> None:
    m = Machine(mem_pages=8)
    p = m.spawn("p")
    grant_memory(m.root, range(0, 1), p, 0x100, MemRights.R)  # read-only, not executable
    grant_memory(m.root, range(1, 2), p, 0x101, MemRights.R | MemRights.W | MemRights.X)
    log: list[tuple[int, int]] = []
    recorder(p, log)
    steps: list[str] = []

    def t(body: str) -> None:
        def run(ctx: Context) -> None:
            ins = Insn(ctx)
            if body == "write-ro":
                ins.write(0x100010, b"x")
            elif body == "fetch-nx":
                ins.fetch(0x100020)
            elif body == "span":
                ins.write(0x101FFC, b"12345678")  # crosses into unmapped page 0x102
            steps.append(body)

        p.thread(run, name=body)

    for b in ("write-ro", "fetch-nx", "span"):
        t(b)
    m.run()
    assert steps == []
    assert log == [
        (PF_PRESENT | PF_WRITE | PF_USER, 0x100010),
        (PF_PRESENT | PF_FETCH | PF_USER, 0x100020),
        (PF_WRITE | PF_USER, 0x102000),
    ]
    # nothing of the spanning write landed in the mapped first page
    assert PhysMem.of(m.k).read(1, 0xFFC, 4) == bytes(4)


def test_no_pf_portal_kills_without_python_exception() -> None:
    m = Machine()
    p = m.spawn("p")

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).read(0x5000, 4)

    m.run()
    assert death(m, "p") == "PT not found" and m.k.ec_faults == []


def test_shared_dataspace_visible_only_through_a_delegation() -> None:
    m = Machine(mem_pages=64)
    owner, reader, other = m.spawn("owner"), m.spawn("reader"), m.spawn("other")
    grant_memory(m.root, range(16, 24), owner, 0x400)  # 8 pages at owner's 0x400000
    ds = Dataspace(owner, 0x400, 8)

    def share(f: UtcbFrame) -> None:
        f.get_word()
        f.finish_input()
        ds.items(f)

    pt = owner.portal(share)
    owner.grant(pt.sel, reader, 0x600)
    owner.grant(pt.sel, other, 0x600)
    seen: dict[str, bytes] = {}
    sm_sel = 0x700
    with owner.acting():
        Syscalls(m.gate).create_sm(sm_sel)
    owner.grant(sm_sel, reader, sm_sel)

    @owner
    def produce(ctx: Context) -> None:
        Insn(ctx).write(ds.addr + 3 * 4096 + 100, b"hello, dataspace")
        Sm(ctx.gate, sm_sel).up()

    @reader
    def consume(ctx: Context) -> None:
        with ctx.frame() as f:
            Dataspace.window(f, 0x900, 8)
            f.put_word(0)
            Pt(ctx.gate, 0x600).call(f)
        Sm(ctx.gate, sm_sel).down()
        seen["reader"] = Insn(ctx).read(0x900000 + 3 * 4096 + 100, 16)

    log: list[tuple[int, int]] = []
    recorder(other, log)

    @other
    def peek(ctx: Context) -> None:
        seen["other"] = Insn(ctx).read(0x900000 + 3 * 4096 + 100, 16)

    m.run()
    assert seen == {"reader": b"hello, dataspace"}
    assert log == [(PF_USER, 0x900000 + 3 * 4096 + 100)] and death(m, "other") == "EXC"
    assert sorted(pd_of(reader).mem.nodes) == list(range(0x900, 0x908))
    # Revoking the owner's pages unmaps them in the reader too.
    with owner.acting():
        from runtime.crd import Crd

        Syscalls(m.gate).revoke(Crd.mem(0x400, 3), self_=False)
    assert pd_of(reader).mem.nodes == {}


def test_ring_in_a_shared_dataspace() -> None:
    m = Machine(mem_pages=8)
    prod, cons = m.spawn("prod"), m.spawn("cons")
    grant_memory(m.root, range(4, 5), prod, 0x200)
    Dataspace(prod, 0x200, 1).share(cons, 0x300)
    with prod.acting():
        Syscalls(m.gate).create_sm(0x700)
    prod.grant(0x700, cons, 0x700)
    got: list[int] = []
    n = 300

    @prod
    def producer(ctx: Context) -> None:
        ring = Ring(0x200000, 16, Sm(ctx.gate, 0x700))
        ins = Insn(ctx)
        i = 0
        while i < n:
            if ring.put(ins, i * i):
                i += 1
            else:
                ctx.yield_()

    @cons
    def consumer(ctx: Context) -> None:
        ring = Ring(0x300000, 16, Sm(ctx.gate, 0x700))
        ins = Insn(ctx)
        for _ in range(n):
            got.append(ring.get(ins))

    m.run()
    assert got == [i * i for i in range(n)]


# An EC's UTCB is mapped at its address in its own PD (NOVA-NRE.md §2): read and write
# through emulated instructions reach the page the kernel and the frames use; an
# instruction fetch there faults; another EC's UTCB of the same PD is mapped too.
@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=lambda a: a.name)
def test_the_utcb_is_mapped_at_its_address(arch: Arch) -> None:
    m = Machine(arch=arch)
    p = m.spawn("p")
    seen: dict[str, object] = {}

    @p
    def main(ctx: Context) -> None:
        ec = backdoor(ctx).current
        ins = Insn(ctx)
        w = arch.word
        with ctx.frame() as f:
            f.put_words([0x1234, 0x5678])
            seen["items"] = ins.read_word(ec.utcb_addr + w)  # header word 1
            seen["mr1"] = ins.read_word(ec.utcb_addr + 6 * w)
            ins.write_word(ec.utcb_addr + 5 * w, 0xBEEF)  # mr[0], through the mapping
            seen["mr0"] = f.get_word()
        ins.fetch(ec.utcb_addr)  # #PF (no handler: the EC dies here)
        seen["alive"] = True

    result = m.run(check=False)
    assert seen["items"] == 2 and seen["mr1"] == 0x5678 and seen["mr0"] == 0xBEEF
    assert "alive" not in seen  # the fetch faulted (#PF, no handler): the EC died there
    assert "PT not found" in [why for _, why in result.deaths]
