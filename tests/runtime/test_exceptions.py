"""Exception IPC (NOVA-NRE.md §5): MTD-selected message words on both architectures,
replies that change registers or kill, missing/wrong-CPU portals, startup and recall,
and the Python-level fault sources (#DE, #BP, #UD, #GP, #NM)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.api import Context, Pt
from runtime.arch import X86_32, X86_64, Arch
from runtime.exc import ExcState, Mtd, Vector, event_portal, layout, message_words
from runtime.kernel import backdoor
from runtime.kernel.regs import EFLAGS_IF, GPRS
from runtime.machine import Machine, Process, pd_of
from runtime.platform.fault import Insn
from runtime.status import Status, SyscallError
from runtime.utcb import UtcbFrame

Handler = Callable[[UtcbFrame], None]
NON_VM = [Mtd.GPR_ACDB, Mtd.GPR_BSD, Mtd.RSP, Mtd.RIP_LEN, Mtd.RFLAGS, Mtd.QUAL]


def on(p: Process, vector: int, handler: Handler, mtd: int, cpu: int = 0, evt: int = 0) -> int:
    with p.acting():
        return event_portal(p.env, vector, handler, mtd, cpu, evt)


def death(m: Machine, name: str) -> str | None:
    for n, why in m.k.deaths:
        if n == name:
            return why
    return None


def expected_words(arch: Arch, mtd: int) -> set[int]:
    lay = layout(arch)
    names: set[str] = {"mtd"}
    if mtd & Mtd.GPR_ACDB:
        names |= {"rax", "rcx", "rdx", "rbx"}
    if mtd & Mtd.GPR_BSD:
        names |= {"rbp", "rsi", "rdi"} | (
            {f"r{i}" for i in range(8, 16)} if arch.word == 8 else set()
        )
    if mtd & Mtd.RSP:
        names.add("rsp")
    if mtd & Mtd.RIP_LEN:
        names.add("rip")
    if mtd & Mtd.RFLAGS:
        names.add("rflags")
    out = {lay[n] for n in names}
    if mtd & Mtd.QUAL:
        q = (lay["qual0"], lay["qual1"])
        out |= set(q) if arch.word == 8 else {q[0], q[0] + 1, q[1], q[1] + 1}
    return out


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
@pytest.mark.parametrize("mtd", [0, *NON_VM, Mtd.GPR_ACDB | Mtd.QUAL | Mtd.RIP_LEN, 0x803F])
def test_mtd_decides_exactly_which_words_are_written(arch: Arch, mtd: int) -> None:
    m = Machine(arch=arch)
    p = m.spawn("p")
    sentinel = 0x5A5A5A5A
    seen: dict[str, object] = {}

    def handler(f: UtcbFrame) -> None:
        u = f.utcb
        seen["words"] = [u.word_at(5 + i) for i in range(message_words(arch) + 4)]
        seen["untyped"], seen["typed"], seen["pid"] = f.untyped, f.typed, f.pid
        ExcState(f).rip += 2  # also a reply MTD of 0 would leave rip: write RIP_LEN
        ExcState(f).reply(Mtd.RIP_LEN)

    sel = on(p, Vector.UD, handler, mtd)
    h_ec = pd_of(p).obj.nodes[sel].obj.ec  # type: ignore[attr-defined]
    h_ec.utcb.buf[:] = sentinel.to_bytes(4, "little") * 1024

    @p
    def main(ctx: Context) -> None:
        r = backdoor(ctx).current.regs
        for i, n in enumerate(GPRS):
            setattr(r, n, 0x1000 + i)
        r.rip, r.rflags, r.err, r.cr2 = 0x4000, 0x202, 0x77, 0x12345678
        Insn(ctx).ud2()
        seen["rip_after"] = r.rip

    m.run()
    words = seen["words"]
    assert isinstance(words, list)
    fill = sentinel if arch.word == 4 else sentinel | sentinel << 32
    changed = {i for i, w in enumerate(words) if w != fill}
    # A field may legitimately equal the sentinel only by accident; our values do not.
    assert changed == expected_words(arch, mtd)
    lay = layout(arch)
    assert words[lay["mtd"]] == mtd
    if mtd & Mtd.RIP_LEN:
        assert words[lay["rip"]] == 0x4000
    if mtd & Mtd.GPR_ACDB:
        assert [words[lay[n]] for n in ("rax", "rcx", "rdx", "rbx")] == [
            0x1000,
            0x1001,
            0x1002,
            0x1003,
        ]
    if mtd & Mtd.QUAL:
        assert words[lay["qual0"]] == 0  # #UD has no error code; CR2 keeps its last value
        assert words[lay["qual1"]] == 0x12345678
    assert seen["untyped"] == message_words(arch) and seen["typed"] == 0
    assert seen["pid"] == sel
    # the handler read rip only if the MTD carried it; otherwise it wrote rip+2 of garbage
    if mtd & Mtd.RIP_LEN:
        assert seen["rip_after"] == 0x4002


def test_layout_offsets_match_the_reference() -> None:
    l64, l32 = layout(X86_64), layout(X86_32)
    assert (l64["rip"], l64["rflags"], l64["rax"], l64["rdi"], l64["r15"]) == (2, 3, 6, 13, 21)
    assert (l64["qual0"], l64["qual1"]) == (22, 23)
    assert (l32["rax"], l32["rsp"], l32["rdi"], l32["qual0"], l32["qual1"]) == (8, 12, 15, 16, 18)
    assert message_words(X86_64) == 56 and message_words(X86_32) == 72


def test_handler_that_advances_rip_makes_the_ec_continue() -> None:
    m = Machine()
    p = m.spawn("p")
    vectors: list[int] = []

    def handler(f: UtcbFrame) -> None:
        st = ExcState(f)
        vectors.append(f.pid)
        st.rip = st.rip + 2
        st.reply(Mtd.RIP_LEN)

    on(p, Vector.UD, handler, Mtd.RIP_LEN)
    after: list[int] = []

    @p
    def main(ctx: Context) -> None:
        backdoor(ctx).current.regs.rip = 0x2000
        ins = Insn(ctx)
        ins.ud2()
        ins.ud2()
        after.append(backdoor(ctx).current.regs.rip)

    m.run()
    assert vectors == [Vector.UD, Vector.UD]
    assert after == [0x2004]
    assert m.k.counters["exceptions"] == 3  # and the thread's startup event


def test_reply_changes_registers_retry_or_skip() -> None:
    """#DE: one handler fixes the divisor and retries, the other supplies a result."""
    m = Machine()
    p = m.spawn("p")
    mode = {"fix": True}

    def handler(f: UtcbFrame) -> None:
        st = ExcState(f)
        if mode["fix"]:
            st.rcx = 7  # retry with rip unchanged: the instruction runs again
            st.reply(Mtd.GPR_ACDB)
        else:
            st.rax = 0xBEEF
            st.rip += 3
            st.reply(Mtd.GPR_ACDB | Mtd.RIP_LEN)

    on(p, Vector.DE, handler, Mtd.GPR_ACDB | Mtd.RIP_LEN)
    out: list[int] = []

    @p
    def main(ctx: Context) -> None:
        ins = Insn(ctx)
        out.append(ins.div(100, 4))
        out.append(ins.div(70, 0))
        mode["fix"] = False
        out.append(ins.div(70, 0))
        out.append(ins.div(1 << 64, 1))  # quotient wider than a word: #DE too

    m.run()
    assert out == [25, 10, 0xBEEF, 0xBEEF]


def test_rflags_write_forces_if_and_clears_system_bits() -> None:
    m = Machine()
    p = m.spawn("p")

    def handler(f: UtcbFrame) -> None:
        st = ExcState(f)
        st.rflags = (3 << 12) | (1 << 16) | (1 << 17) | (1 << 19) | (1 << 20) | 1
        st.rip += 2
        st.reply(Mtd.RFLAGS | Mtd.RIP_LEN)

    on(p, Vector.UD, handler, Mtd.RIP_LEN | Mtd.RFLAGS)
    got: list[int] = []

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).ud2()
        got.append(backdoor(ctx).current.regs.rflags)

    m.run()
    assert got == [1 | EFLAGS_IF]


def test_kill_reply_kills() -> None:
    m = Machine()
    p = m.spawn("p")
    on(p, Vector.BP, lambda f: ExcState(f).kill(), Mtd.RIP_LEN)
    reached: list[bool] = []

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).int3()
        reached.append(True)

    m.run()
    assert reached == []
    assert death(m, "p") == "EXC"


def test_breakpoint_is_a_trap_and_continues() -> None:
    m = Machine()
    p = m.spawn("p")
    rips: list[int] = []

    def handler(f: UtcbFrame) -> None:
        rips.append(ExcState(f).rip)
        ExcState(f).reply(0)  # change nothing

    on(p, Vector.BP, handler, Mtd.RIP_LEN)

    @p
    def main(ctx: Context) -> None:
        backdoor(ctx).current.regs.rip = 0x3000
        Insn(ctx).int3()
        rips.append(backdoor(ctx).current.regs.rip)

    m.run()
    assert rips == [0x3001, 0x3001]


def test_missing_portal_kills_and_the_caller_learns_it() -> None:
    m = Machine()
    srv = m.spawn("srv")
    k = m.k

    def faulty(f: UtcbFrame) -> None:
        ec = k.current
        assert ec is not None
        Insn.of(k, ec).ud2()  # no portal at evt+6 in srv
        f.put_word(1)

    pt = srv.portal(faulty)
    cl = m.spawn("cl")
    srv.grant(pt.sel, cl, 0x500)
    got: list[int] = []

    @cl
    def main(ctx: Context) -> None:
        with ctx.frame() as f:
            try:
                Pt(ctx.gate, 0x500).call(f)
            except SyscallError as e:
                got.append(int(e.status))

    m.run()
    assert got == [Status.COM_ABT]
    assert ("PT not found") in [why for _, why in m.k.deaths]


def test_portal_on_the_wrong_cpu_kills() -> None:
    m = Machine(cpus=2)
    p = m.spawn("p")
    on(p, Vector.UD, lambda f: None, Mtd.RIP_LEN, cpu=1)

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).ud2()

    m.run()
    assert death(m, "p") == "PT wrong CPU"


def test_handler_death_kills_the_faulting_ec() -> None:
    m = Machine()
    p = m.spawn("p")

    def handler(f: UtcbFrame) -> None:
        raise RuntimeError("handler bug")

    on(p, Vector.UD, handler, Mtd.RIP_LEN)

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).ud2()

    m.run(check=False)
    assert death(m, "p") == "IPC Abort"


def test_exception_handler_in_another_pd() -> None:
    """NRE's layout: the parent's local EC handles the child's faults (a granted portal)."""
    m = Machine()
    parent, child = m.spawn("parent"), m.spawn("child")
    seen: list[tuple[int, int]] = []

    def handler(f: UtcbFrame) -> None:
        st = ExcState(f)
        seen.append((f.pid, st.err))
        st.rip += 1
        st.reply(Mtd.RIP_LEN)

    with parent.acting():
        sel = event_portal(parent.env, 0x100 + Vector.GP, handler, Mtd.RIP_LEN | Mtd.QUAL)
    parent.grant(sel, child, Vector.GP)
    vals: list[int] = []

    @child
    def main(ctx: Context) -> None:
        backdoor(ctx).current.regs.rax = 0x1234
        vals.append(Insn(ctx).inb(0x60))  # no I/O capability: #GP(0), skipped
        Insn(ctx).privileged("hlt")

    m.run()
    assert seen == [(sel, 0), (sel, 0)]
    assert vals == [0x34]  # `in al` skipped: al as the handler left it


def test_nm_is_handled_in_the_kernel() -> None:
    m = Machine()
    a, b = m.spawn("a"), m.spawn("b")

    def body(ctx: Context) -> None:
        for _ in range(3):
            Insn(ctx).fpu()
            ctx.yield_()

    a.thread(body)
    b.thread(body)
    m.run()
    assert not m.k.deaths or all(why == "exit" for _, why in m.k.deaths)
    assert m.k.counters["fpu_switches"] >= 2
    assert m.k.counters["exceptions"] == 2  # the two startup events, no #NM


def test_startup_event_on_first_run() -> None:
    m = Machine()
    p = m.spawn("p")
    seen: list[int] = []
    order: list[str] = []

    def other(ctx: Context | None = None) -> None:
        order.append("other")

    alt = m.k.register_code(other)

    def handler(f: UtcbFrame) -> None:
        st = ExcState(f)
        seen.append(st.rsp)
        order.append("startup")
        st.rip = st.rsp if len(seen) == 1 else alt  # the entry is registered at sp
        st.reply(Mtd.RIP_LEN)

    on(p, Vector.STARTUP, handler, Mtd.RSP)

    @p
    def main(ctx: Context) -> None:
        order.append("main")

    p.thread(lambda ctx: order.append("never"))
    m.run()
    assert order == ["startup", "main", "startup", "other"]
    assert len(seen) == 2 and all(seen)


def test_startup_without_code_at_rip_faults_then_dies() -> None:
    m = Machine()
    p = m.spawn("p")
    on(p, Vector.STARTUP, lambda f: ExcState(f).reply(0), Mtd.RSP)
    p.thread(lambda ctx: None, name="t")
    m.run()
    assert death(m, "t") == "PT not found"  # rip 0 holds no code: #PF, and no #PF portal


def test_recall_event() -> None:
    m = Machine()
    p = m.spawn("p")
    recalls: list[int] = []

    def handler(f: UtcbFrame) -> None:
        recalls.append(ExcState(f).rip)
        ExcState(f).reply(0)

    on(p, Vector.RECALL, handler, Mtd.RIP_LEN)
    k = m.k
    box: dict[str, int] = {}

    def worker(ctx: Context) -> None:
        sm = ctx.sm(0)
        box["sm"] = sm.sel
        sm.down()  # recalled while blocked: delivered on the way back
        box["woke"] = 1

    w = p.thread(worker, name="worker")

    @p
    def main(ctx: Context) -> None:
        ctx.yield_()
        ctx.sys.ec_ctrl(w.ec_sel)
        ctx.sys.sm_up(box["sm"])

    m.run()
    assert len(recalls) == 1 and box.get("woke") == 1
    assert k.counters["exceptions"] == 3  # and the two threads' startup events


def test_recall_without_portal_kills() -> None:
    m = Machine()
    p = m.spawn("p")
    box: dict[str, int] = {}

    def worker(ctx: Context) -> None:
        sm = ctx.sm(0)
        box["sm"] = sm.sel
        sm.down()
        box["woke"] = 1

    w = p.thread(worker, name="worker")

    @p
    def main(ctx: Context) -> None:
        ctx.yield_()
        ctx.sys.ec_ctrl(w.ec_sel)
        ctx.sys.sm_up(box["sm"])

    m.run()
    assert death(m, "worker") == "PT not found" and "woke" not in box


def test_exception_reply_delegates_only_memory() -> None:
    """The kernel-made window of an exception reply is MEM: a port item does not land
    (§3), so the retried `in` faults again; the second time the handler kills."""
    m = Machine(io_ports=range(0x80, 0x81))
    root, p = m.root, m.spawn("p")
    from runtime.crd import CrdType, crd

    calls: list[int] = []

    def handler(f: UtcbFrame) -> None:
        calls.append(ExcState(f).err)
        if len(calls) > 1:
            ExcState(f).kill()
            return
        f.delegate(crd(CrdType.PIO, 0x80, 0, 1))
        ExcState(f).reply(0)

    with root.acting():
        sel = event_portal(root.env, 0x200, handler, Mtd.QUAL)
    root.grant(sel, p, Vector.GP)

    @p
    def main(ctx: Context) -> None:
        Insn(ctx).inb(0x80)

    m.run()
    assert calls == [0, 0]
    assert 0x80 not in pd_of(p).pio.nodes
    assert death(m, "p") == "EXC"
