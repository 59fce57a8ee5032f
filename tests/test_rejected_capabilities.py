"""Capabilities in requests a skeleton serves without ``accept=`` (WIRE.md §4 *Windows*):
what they deliver is used, and what arrives with a request the skeleton rejects (no
opcode, unknown opcode, does not decode) does not stay in the server's space. The table
replays the attack campaign's cases against the conformance IDL's service (100 rejected
requests left 100 semaphores; its four-semaphore method got four Crds naming one
semaphore); a property sends random requests and counts the server's capabilities."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime import Machine, binding
from runtime.api import Context, Pt, Sm
from runtime.arch import X86_32, X86_64, Arch
from runtime.crd import Crd, PioRights
from runtime.kernel import mdb
from runtime.machine import Process, pd_of
from runtime.platform.fault import Insn
from runtime.status import ErrorCode
from tests.backend.roundtrip import imported
from tests.runtime.conftest import FUZZ_EXAMPLES

IDL = """
module demo {
  @id(7) interface Svc {  // the conformance vectors' service (caps.json)
    void give(in nova::Semaphore sm, in string tag);
    Svc self();
    void show(@translate in nova::Portal session);
    void many(in sequence<nova::Semaphore, 4> sms);
  };
  interface Kv { boolean give(in nova::Semaphore sm); };
  interface Ports { void take(in nova::IoPorts p); };
};
"""
ARCHES = pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
GIVE, SELF, SHOW, MANY = 0x70000, 0x70001, 0x70002, 0x70003
PT = 0x300  # the client's copy of the server's portal


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("rejected")
    (root / "demo.idl").write_text(IDL)
    with imported(root / "demo.idl", root, "rejpkg", "demo.demo_idl") as (mod,):
        yield mod


def caps(p: Process) -> int:
    return len(pd_of(p).obj) + len(pd_of(p).mem) + len(pd_of(p).pio)


class SvcImpl:
    def __init__(self, m: Machine) -> None:
        self.m = m
        self.down = True  # many() downs what it got
        self.calls: list[tuple[str, Any]] = []

    def give(self, sm: Crd | None, tag: str) -> None:
        self.calls.append(("give", sm))

    def self(self) -> None:
        self.calls.append(("self", None))

    def show(self, session: Crd | None) -> None:
        self.calls.append(("show", session))

    def many(self, sms: list[Crd | None]) -> None:
        for sm in sms if self.down else ():
            assert sm is not None
            Sm(self.m.k, sm.base).down()
        self.calls.append(("many", sms))


def svc(demo: ModuleType, arch: Arch) -> tuple[Machine, Process, Process, SvcImpl]:
    m = Machine(arch=arch, io_ports=range(0x60, 0x64))
    srv, cli = m.spawn("srv"), m.spawn("cli")
    impl = SvcImpl(m)
    pt = srv.portal(demo.SvcServer(impl))  # no accept=
    srv.grant(pt.sel, cli, PT)
    return m, srv, cli, impl


@ARCHES
def test_give_a_semaphore_served_without_accept(demo: ModuleType, arch: Arch) -> None:
    """The issue's check: ``boolean give(in nova::Semaphore sm)``, no ``accept=``."""
    m = Machine(arch=arch)
    downs: list[int] = []

    class Kv:
        def give(self, sm: Crd | None) -> bool:
            assert sm is not None
            Sm(m.gate, sm.base).down()
            downs.append(sm.base)
            return True

    m.spawn("kv").serve("kv", demo.KvServer(Kv()))
    got: list[bool] = []

    @m.spawn("client")
    def client(ctx: Context) -> None:
        sm = ctx.sm(2)
        kv = demo.KvClient(ctx.connect("kv"))
        got.append(kv.give(Crd.obj(sm.sel)))
        got.append(kv.give(Crd.obj(sm.sel, rights=0x3)))  # a Crd, any rights it holds

    m.run()
    assert got == [True, True] and len(set(downs)) == 2


def words(arch: Arch, *values: int) -> bytes:
    return struct.pack(("<%dQ" if arch.word == 8 else "<%dI") % len(values), *values)


def sm_item(sel: int, hotspot: int = 0) -> tuple[int, int]:
    return Crd.obj(sel).value, 1 | hotspot << 12


# (name, request words, number of delegated semaphores (hotspots 0, 1, ...), status)
CAMPAIGN = [
    ("unknown opcode", [0x70009], 1, ErrorCode.E_NOT_FOUND),
    ("another interface's opcode", [0x10000], 2, ErrorCode.E_NOT_FOUND),
    ("no opcode", [], 1, ErrorCode.E_ARGS_INVALID),
    ("give: tag not UTF-8", [GIVE, 2, 0xFFFF], 1, ErrorCode.E_ARGS_INVALID),
    ("give: tag longer than the words", [GIVE, 1000], 1, ErrorCode.E_ARGS_INVALID),
    ("give: a word left over", [GIVE, 0, 5], 1, ErrorCode.E_ARGS_INVALID),
    ("give: an item left over", [GIVE, 0], 2, ErrorCode.E_ARGS_INVALID),
    ("give: items beyond the window", [GIVE, 0], 6, ErrorCode.E_ARGS_INVALID),
    ("self: an item it has no place for", [SELF], 1, ErrorCode.E_ARGS_INVALID),
    ("show: delegated where translated", [SHOW], 1, ErrorCode.E_ARGS_INVALID),
    ("many: length above the bound", [MANY, 5], 4, ErrorCode.E_ARGS_INVALID),
    ("many: fewer items than the length", [MANY, 4], 3, ErrorCode.E_ARGS_INVALID),
    ("many: more items than the length", [MANY, 3], 4, ErrorCode.E_ARGS_INVALID),
    ("many: a word left over", [MANY, 4, 0], 4, ErrorCode.E_ARGS_INVALID),
]


@ARCHES
@pytest.mark.parametrize(
    ("name", "sent", "n_items", "status"), CAMPAIGN, ids=[c[0] for c in CAMPAIGN]
)
def test_rejected_requests_leave_nothing_behind(
    demo: ModuleType, arch: Arch, name: str, sent: list[int], n_items: int, status: int
) -> None:
    m, srv, cli, impl = svc(demo, arch)
    before = caps(srv)
    selectors = srv.env.next_sel
    statuses: list[int] = []
    counts: list[int] = []

    @cli
    def client(ctx: Context) -> None:
        sms = [ctx.sm(1).sel for _ in range(n_items)]
        items = [sm_item(sel, i) for i, sel in enumerate(sms)]
        for _ in range(100):  # the campaign's 100 repetitions
            reply, _items = binding.call(Pt(ctx.gate, PT), words(arch, *sent), items)
            statuses.append(struct.unpack_from("<Q" if arch.word == 8 else "<I", reply)[0])
            counts.append(caps(srv))

    m.run()
    assert statuses == [status] * 100
    assert counts == [before] * 100  # nothing stayed behind, after any of them
    assert srv.env.next_sel == selectors  # the window was kept (emptied), not re-armed
    assert impl.calls == []


@ARCHES
def test_four_semaphores_arrive_as_four(demo: ModuleType, arch: Arch) -> None:
    """The four-semaphore method gets four distinct selectors, each usable, also when the
    client sends the same semaphore four times; and a fresh window for every request."""
    m, srv, cli, impl = svc(demo, arch)

    @cli
    def client(ctx: Context) -> None:
        s = demo.SvcClient(Pt(ctx.gate, PT))
        sems = [ctx.sm(1).sel for _ in range(4)]
        s.many([Crd.obj(sel) for sel in sems])
        same = ctx.sm(4).sel
        s.many([Crd.obj(same)] * 4)

    m.run()
    assert [what for what, _ in impl.calls] == ["many", "many"]
    first, second = ([c.base for c in got] for _, got in impl.calls)
    assert len(set(first)) == 4 and len(set(second)) == 4
    assert not set(first) & set(second)
    assert all(
        pd_of(srv).obj.nodes[sel].obj is pd_of(srv).obj.nodes[second[0]].obj for sel in second
    )


@ARCHES
def test_rejected_ports_revoke_only_what_the_caller_delegated(demo: ModuleType, arch: Arch) -> None:
    """I/O ports land 1:1, wherever the port is: a rejected request naming a port the server
    already holds (the kernel skips it, and still reports it) leaves the server's own
    port; a port the caller did delegate goes."""
    m = Machine(arch=arch, io_ports=range(0x60, 0x64))
    srv, cli = m.spawn("srv"), m.spawn("cli")
    taken: list[int] = []

    class Ports:
        def take(self, p: Crd | None) -> None:
            assert p is not None
            ec = m.k.current
            assert ec is not None
            assert Insn.of(m.k, ec).inb(p.base) == 0xFF
            taken.append(p.base)

    pt = srv.portal(demo.PortsServer(Ports()))
    srv.grant(pt.sel, cli, PT)
    root = pd_of(m.root).pio
    mdb.delegate(root, 0x60, pd_of(srv).pio, 0x60, 0, PioRights.A)  # the server's own port
    mdb.delegate(root, 0x61, pd_of(cli).pio, 0x61, 0, PioRights.A)
    mdb.delegate(root, 0x62, pd_of(cli).pio, 0x62, 0, PioRights.A)
    held: list[list[int]] = []

    @cli
    def client(ctx: Context) -> None:
        p = Pt(ctx.gate, PT)
        for port in (0x60, 0x61):  # unknown opcode: rejected
            item = (Crd.pio(port).value, 1)
            binding.call(p, words(arch, 0x1234), [item])
            held.append(sorted(pd_of(srv).pio.nodes))
        demo.PortsClient(p).take(Crd.pio(0x62))  # accepted: the server keeps it
        held.append(sorted(pd_of(srv).pio.nodes))

    m.run()
    assert held == [[0x60], [0x60], [0x60, 0x62]]
    assert taken == [0x62]


# --- random requests ------------------------------------------------------------------

_ITEM = st.one_of(
    st.tuples(st.just("sm"), st.integers(0, 7), st.just(1)),  # delegated, any hotspot
    st.tuples(st.just("sm"), st.just(0), st.just(0)),  # translated
    st.tuples(st.just("null"), st.just(0), st.integers(0, 1)),
    st.tuples(st.just("pt"), st.integers(0, 3), st.integers(0, 1)),
    st.tuples(st.just("port"), st.just(0), st.just(1)),
)
_REQUEST = st.tuples(
    st.one_of(st.sampled_from([GIVE, SELF, SHOW, MANY]), st.integers(0, 2**32 - 1)),
    st.lists(st.one_of(st.integers(0, 8), st.integers(0, 2**32 - 1)), max_size=6),
    st.lists(_ITEM, max_size=6),
    st.booleans(),  # send no opcode at all
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    arch=st.sampled_from([X86_64, X86_32]),
    requests=st.lists(_REQUEST, min_size=1, max_size=8),
)
def test_random_rejected_requests_leave_nothing_behind(
    demo: ModuleType, arch: Arch, requests: list[Any]
) -> None:
    m, srv, cli, impl = svc(demo, arch)
    impl.down = False
    mdb.delegate(pd_of(m.root).pio, 0x60, pd_of(cli).pio, 0x60, 0, PioRights.A)
    out: list[tuple[int, int, int]] = []

    @cli
    def client(ctx: Context) -> None:
        p = Pt(ctx.gate, PT)
        sm = ctx.sm(1).sel
        for op, rest, items, no_opcode in requests:
            data = b"" if no_opcode else words(arch, op, *(v & arch.word_mask for v in rest))
            sent = []
            for what, hotspot, flags in items:
                if what == "null":
                    sent.append((0, flags))
                elif what == "port":
                    sent.append((Crd.pio(0x60).value, flags))
                else:
                    sel = sm if what == "sm" else PT  # PT: the server's own portal
                    sent.append((Crd.obj(sel).value, flags | hotspot << 12))
            before = caps(srv)
            reply, _ = binding.call(p, data, sent)
            status = struct.unpack_from("<Q" if arch.word == 8 else "<I", reply)[0]
            out.append((status, before, caps(srv)))

    result = m.run()
    assert not result.blocked
    assert len(out) == len(requests)  # every request answered: the server never died
    for status, before, after in out:
        if status != ErrorCode.E_SUCCESS:
            assert after == before, (status, before, after)
