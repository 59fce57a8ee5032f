"""The kernel is not handed to user code (issue 15, item 6; docs/runtime.md, "The gate").

Every object user code is given is walked by plain attribute access (non-dunder
attributes, bound methods' ``__self__``, container elements, a few levels deep): no
kernel, kernel object, capability space, mapping-database node, CPU or `Machine` (which
holds the kernel) is reachable. The issue's attack, a PD without capabilities taking
another PD's semaphore, fails through the public API. The back door works for tests, and
machines that are dropped take their kernels along.
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from greenlet import greenlet  # type: ignore[import-untyped]

from runtime import Machine
from runtime.api import Context, Pt
from runtime.crd import Crd, CrdType
from runtime.exc import ExcState
from runtime.kernel import backdoor
from runtime.kernel.cpu import Cpu
from runtime.kernel.gate import Gate, open_gate
from runtime.kernel.kernel import Kernel
from runtime.kernel.kobject import Kobject
from runtime.kernel.mdb import Node
from runtime.kernel.space import Space
from runtime.kernel.trace import Trace
from runtime.machine import Process, pd_of
from runtime.status import RemoteError, Status, SyscallError
from tests.backend.roundtrip import imported

# What must not be reachable from anything user code holds.
FORBIDDEN: tuple[type, ...] = (Kernel, Kobject, Space, Node, Cpu, Trace, Machine, greenlet)
# Leaves that reach nothing (their attributes are their own methods and numbers).
LEAVES = (int, float, str, bytes, bytearray, bool, type(None), memoryview, type)
DEPTH = 4

IDL = """
module gt {
  struct Pair { long a; long b; };
  interface Calc { long add(in long a, in long b); Pair swap(in Pair p); };
};
"""


def _children(obj: object) -> Iterator[tuple[str, object]]:
    """What one step of plain attribute access (or indexing a container) gives."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"[{k!r}]", v
            yield "<key>", k
        return
    if isinstance(obj, list | tuple | set | frozenset | deque):
        for i, v in enumerate(obj):
            yield f"[{i}]", v
        return
    self_ = getattr(obj, "__self__", None)
    if self_ is not None:
        yield ".__self__", self_
    for name in dir(obj):
        if name.startswith("__"):
            continue
        try:
            yield f".{name}", getattr(obj, name)
        except Exception:  # a property that needs a running EC, say
            continue


def reachable(root: object) -> list[str]:
    """Paths from `root` to forbidden objects, breadth first up to DEPTH steps."""
    seen = {id(root)}
    todo: deque[tuple[object, str, int]] = deque([(root, "", 0)])
    found: list[str] = []
    while todo:
        obj, path, depth = todo.popleft()
        if isinstance(obj, FORBIDDEN):
            found.append(f"{path} -> {type(obj).__name__}")
            continue
        if depth == DEPTH or isinstance(obj, LEAVES):
            continue
        for step, child in _children(obj):
            if id(child) not in seen:
                seen.add(id(child))
                todo.append((child, path + step, depth + 1))
    return found


@pytest.fixture(scope="module")
def gt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("gate")
    src = tmp / "gt.idl"
    src.write_text(IDL)
    with imported(src, tmp, "gt_pkg", "gt.gt_idl") as (module,):
        yield module


class CalcImpl:
    def add(self, a: int, b: int) -> int:
        return a + b

    def swap(self, p: Any) -> Any:
        return type(p)(p.b, p.a)


def _given(gt: Any) -> dict[str, object]:
    """Every kind of object user code is given, collected from a running machine."""
    m = Machine(cpus=2)
    srv = m.spawn("srv")
    skeleton = gt.CalcServer(CalcImpl())
    pt = srv.portal(skeleton)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, 0x500)
    out: dict[str, object] = {"Process": cli, "Pt (Process.portal)": pt, "skeleton": skeleton}

    @cli
    def body(ctx: Context) -> None:
        stub = gt.CalcClient(ctx.pt(0x500))
        assert stub.add(1, 2) == 3
        with ctx.frame() as f:
            out.update({"UtcbFrame": f, "Utcb": f.utcb, "ExcState": ExcState(f)})
        try:
            ctx.sys.sm_up(0x7777)
        except SyscallError as e:
            out["SyscallError"] = e
        out.update(
            {
                "Context": ctx,
                "Env": ctx.env,
                "Syscalls": ctx.sys,
                "Gate": ctx.gate,
                "Context.utcb": ctx.utcb,
                "Pt": ctx.pt(0x500),
                "Sm": ctx.sm(1),
                "LocalThread": ctx.local_thread(),
                "GlobalThread": ctx.thread(lambda c: None),
                "client stub": stub,
                "stub method": stub.add,
                "RemoteError": RemoteError(1, "x"),
                "registry Pt": Pt(ctx.gate, 0x24),
            }
        )

    out["RunResult"] = m.run()
    return out


KINDS = [
    "Process",
    "Pt (Process.portal)",
    "skeleton",
    "UtcbFrame",
    "Utcb",
    "ExcState",
    "SyscallError",
    "Context",
    "Env",
    "Syscalls",
    "Gate",
    "Context.utcb",
    "Pt",
    "Sm",
    "LocalThread",
    "GlobalThread",
    "client stub",
    "stub method",
    "RemoteError",
    "registry Pt",
    "RunResult",
]


@pytest.fixture(scope="module")
def given(gt: Any) -> dict[str, object]:
    return _given(gt)


@pytest.mark.parametrize("kind", KINDS)
def test_no_kernel_object_is_reachable_by_attribute(given: dict[str, object], kind: str) -> None:
    assert kind in given
    assert reachable(given[kind]) == []


def test_the_walk_finds_what_it_looks_for() -> None:
    """The walk itself: a kernel two steps away through a bound method is found."""

    class Holder:
        def __init__(self, k: Kernel) -> None:
            self.k = k

        def call(self) -> None:
            pass

    k = Kernel()
    assert reachable(Holder(k)) == [".k -> Kernel"]
    assert reachable({"m": [Holder(k).call]}) == ["['m'][0].__self__.k -> Kernel"]


def test_gate_entries_have_no_self_and_no_attributes() -> None:
    gate = open_gate(Kernel())
    for name in ("call_fixed", "idle_utcb", "ipc_call", "syscall", "call_words", "unlock"):
        fn = getattr(gate, name)
        assert not isinstance(getattr(fn, "__self__", None), Kernel), name
        assert [a for a in dir(fn) if not a.startswith("__")] == [], name


# The attack: a PD without capabilities takes another PD's semaphore. Each way
# tried through what its code holds must fail, and the semaphore must stay out of reach.
ATTACKS: dict[str, tuple[Callable[[Context, int], object], type[BaseException] | None]] = {
    "ctx.k.mdb.delegate (the issue's way)": (lambda ctx, sel: ctx.k, AttributeError),  # type: ignore[attr-defined]
    "ctx.env.pd": (lambda ctx, sel: ctx.env.pd, AttributeError),  # type: ignore[attr-defined]
    "ctx.ec": (lambda ctx, sel: ctx.ec, AttributeError),  # type: ignore[attr-defined]
    "gate.unlock without the key": (lambda ctx, sel: ctx.gate.unlock(object()), PermissionError),
    "sm_down on the victim's selector": (lambda ctx, sel: ctx.sys.sm_down(sel), SyscallError),
    "utcb_of the victim's selector": (lambda ctx, sel: ctx.gate.utcb_of(sel), SyscallError),
    "lookup the victim's selector": (lambda ctx, sel: ctx.sys.lookup(Crd.obj(sel)), None),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_pd_without_capabilities_cannot_take_a_semaphore(name: str) -> None:
    attack, raises = ATTACKS[name]
    m = Machine()
    victim = m.spawn("victim")
    evil = m.spawn("evil")
    sels: list[int] = []
    seen: list[object] = []

    @victim
    def own(ctx: Context) -> None:
        sels.append(ctx.sm(0).sel)

    m.run()

    @evil
    def steal(ctx: Context) -> None:
        try:
            seen.append(attack(ctx, sels[0]))
        except BaseException as e:
            seen.append(e)

    m.run()
    assert len(seen) == 1
    if raises is None:
        assert seen[0] == Crd(CrdType.NULL, 0, 0, 0) or getattr(seen[0], "type", None) == 0
    else:
        assert isinstance(seen[0], raises), seen[0]
        if isinstance(seen[0], SyscallError):
            assert seen[0].status == Status.BAD_CAP
    victim_sm = pd_of(victim).obj.nodes[sels[0]].obj
    assert all(n.obj is not victim_sm for n in pd_of(evil).obj.nodes.values())


def test_backdoor_reaches_the_kernel_for_tests_and_tools(given: dict[str, object]) -> None:
    k = backdoor(given["Context"])
    assert isinstance(k, Kernel)
    for kind in ("Process", "Env", "Pt", "Sm", "Syscalls", "Gate", "client stub"):
        assert backdoor(given[kind]) is k, kind
    with pytest.raises(TypeError):
        backdoor(object())


def _cycle() -> None:
    m = Machine()
    p = m.spawn("p")
    gt = p.env.gate
    with p.acting():
        Pt(gt, 0x500), Context(p.env)  # what user code would hold, made as p
    assert backdoor(gt) is m.k


def test_dropped_machines_take_their_kernels_along() -> None:
    """The gate keeps no table: 200 machines (and their gates, processes and contexts)
    built and dropped leave no kernel behind. (A machine that ran is another matter:
    its suspended EC greenlets keep it, with or without the gate.)"""

    def kernels() -> int:
        gc.collect()
        return sum(type(o) is Kernel for o in gc.get_objects())

    _cycle()
    before = kernels()
    for _ in range(200):
        _cycle()
        open_gate(Kernel())
    assert kernels() <= before


def test_process_refers_to_its_machine_weakly() -> None:
    m = Machine()
    p = m.spawn("p")
    assert isinstance(p, Process) and isinstance(m.gate, Gate)
    assert backdoor(p) is m.k
    assert reachable(p) == []
