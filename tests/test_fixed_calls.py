"""Fixed-size calls (docs/python-backend.md): generated stubs and skeletons of methods
whose request and reply are one run of scalars keep every kernel check and every WIRE.md
§2 rule. Each test drives the generated code on the runtime and checks what a caller or
server sees, on both architectures where the words differ."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from runtime import Machine
from runtime.api import Context, Pt
from runtime.arch import X86_32, X86_64, Arch
from runtime.codec import DecodeError, MarshalError
from runtime.crd import CrdType, crd
from runtime.kernel import backdoor
from runtime.kernel.kernel import NOT_SENT
from runtime.kernel.syscalls import NONBLOCKING
from runtime.machine import Process
from runtime.status import ErrorCode, RemoteError, Status, SyscallError
from runtime.utcb import Utcb, UtcbFrame
from tests.backend.roundtrip import imported
from tests.runtime.test_call_status import CASES, TARGET

IDL = """
module fx {
  enum Color { RED, GREEN, BLUE };
  struct Point { long x; long y; };
  exception Nope { long code; };
  @id(9) interface Leaf { long twice(in long v); };
  @id(8) interface Calc {
    long add(in long a, in long b);
    void ping();
    Color next(in Color c, out boolean wrapped) raises (Nope);
    Point move(in Point p, in long long dx);
    long nested(in long v);
    string<8> name();
    unsigned long long wide(in unsigned long long a, in double d);
    Point at(in long Point);  // the parameter shadows the class the reply needs
  };
};
"""
OP_ADD, OP_NEXT = 8 << 16 | 0, 8 << 16 | 2


@pytest.fixture(scope="module")
def fx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("fixed")
    src = tmp / "fx.idl"
    src.write_text(IDL)
    with imported(src, tmp, "fx_pkg", "fx.fx_idl") as (module,):
        yield module


class CalcImpl:
    def __init__(self, fx: Any, leaf: Callable[[], Any] | None = None) -> None:
        self.fx = fx
        self.leaf = leaf

    def add(self, a: int, b: int) -> Any:
        if a == 13:
            raise RemoteError(ErrorCode.E_EXISTS, "unlucky")
        if a == 66:
            raise ValueError("not declared")
        if a == 99:
            return "not a long"
        return a + b

    def ping(self) -> None:
        pass

    def next(self, c: Any) -> tuple[Any, bool]:
        if c == self.fx.Color.GREEN:
            raise self.fx.Nope(7)
        nxt = (int(c) + 1) % 3
        return self.fx.Color(nxt), nxt == 0

    def move(self, p: Any, dx: int) -> Any:
        return self.fx.Point(p.x + dx, p.y)

    def nested(self, v: int) -> int:
        assert self.leaf is not None
        return int(self.leaf().twice(v)) + 1

    def name(self) -> str:
        return "calc"

    def wide(self, a: int, d: float) -> int:
        return a + int(d)

    def at(self, x: int) -> Any:
        return self.fx.Point(x, -x)


class LeafImpl:
    def twice(self, v: int) -> int:
        return 2 * v


def _run(m: Machine, body: Callable[[Context], None], cpu: int = 0) -> None:
    cli = m.spawn("cli", cpu=cpu)
    cli(body)
    r = m.run(check=False)
    assert m.k.faults == [] and m.k.ec_faults == [], (m.k.faults, m.k.ec_faults)
    assert r.blocked == [], r.blocked


def _calc(m: Machine, fx: Any) -> Process:
    srv = m.spawn("srv")
    leaf = m.spawn("leaf")
    leaf.serve("leaf", fx.LeafServer(LeafImpl()))
    stubs: list[Any] = []
    srv.serve("calc", fx.CalcServer(CalcImpl(fx, lambda: stubs[0])))

    @srv
    def connect(ctx: Context) -> None:
        stubs.append(fx.LeafClient(ctx.connect("leaf")))

    return srv


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
def test_values_round_trip(fx: Any, arch: Arch) -> None:
    m = Machine(arch=arch)
    _calc(m, fx)
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        got.append(c.add(2, 3))
        got.append(c.add(-(2**31), 2**31 - 1))
        got.append(c.ping())
        got.append(c.next(fx.Color.RED))
        got.append(c.next(fx.Color.BLUE))
        got.append(c.move(fx.Point(1, 2), -5))
        got.append(c.wide(2**64 - 10, 9.5))
        got.append(c.at(7))
        got.append(c.name())  # the general path, after and between fixed calls
        got.append(c.add(1, 1))

    _run(m, body)
    assert got == [
        5,
        -1,
        None,
        (fx.Color.GREEN, False),
        (fx.Color.RED, True),
        fx.Point(-4, 2),
        2**64 - 1,
        fx.Point(7, -7),
        "calc",
        2,
    ]
    assert type(got[3][0]) is fx.Color  # type: ignore[index]


def test_nested_call_from_a_handler(fx: Any) -> None:
    """A fixed-size stub called inside a fixed-size handler, and inside a hand-written
    handler that is halfway through reading its request (a live frame to save)."""
    m = Machine()
    srv = _calc(m, fx)
    leaf_stub: list[Any] = []

    def handler(f: UtcbFrame) -> None:
        a = f.get_word()
        doubled = leaf_stub[0].twice(a)  # the UTCB holds an unread word: frame path
        b = f.get_word()
        f.finish_input()
        f.put_words([doubled, b, f.utcb.layer])

    raw = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(raw.sel, cli, TARGET)

    @srv
    def connect(ctx: Context) -> None:
        leaf_stub.append(fx.LeafClient(ctx.connect("leaf")))

    got: list[object] = []

    @cli
    def body(ctx: Context) -> None:
        got.append(fx.CalcClient(ctx.connect("calc")).nested(20))
        p = Pt(ctx.gate, TARGET)
        with p.frame() as f:
            f.put_words([21, 77])
            p.call(f)
            got.append(f.words())

    r = m.run(check=False)
    assert m.k.ec_faults == [] and r.blocked == []
    assert got == [41, [42, 77, 0]]


def _raw(pt: Pt, words: list[int], items: list[tuple[int, int]] | None = None) -> list[int]:
    """The reply words of a request made of ``words`` (and items) through the frame path."""
    with pt.frame() as f:
        f.put_words(words)
        for c, aux in items or []:
            f.put_item(c, aux)
        pt.call(f)
        return f.words()


@pytest.mark.parametrize(
    ("words", "items", "status"),
    [
        ([0x80077], [], ErrorCode.E_NOT_FOUND),  # unknown opcode
        ([OP_ADD, 1], [], ErrorCode.E_ARGS_INVALID),  # a word short
        ([OP_ADD, 1, 2, 3], [], ErrorCode.E_ARGS_INVALID),  # a word left over
        ([OP_ADD, 1, 2], [(0, 0)], ErrorCode.E_ARGS_INVALID),  # an item left over
        ([OP_ADD, 1 << 40, 2], [], ErrorCode.E_ARGS_INVALID),  # high bytes of a long
        ([OP_NEXT, 3], [], ErrorCode.E_ARGS_INVALID),  # not a Color
        ([OP_ADD, 2, 3], [], ErrorCode.E_SUCCESS),
    ],
)
def test_skeleton_answers_bad_requests(
    fx: Any, words: list[int], items: list[tuple[int, int]], status: int
) -> None:
    m = Machine()
    _calc(m, fx)
    got: list[list[int]] = []

    def body(ctx: Context) -> None:
        got.append(_raw(ctx.connect("calc"), words, items))
        got.append(_raw(ctx.connect("calc"), [OP_ADD, 40, 2]))  # the server goes on

    _run(m, body)
    assert got[0][0] == status
    assert got[1] == [0, 42]
    if status:
        assert len(got[0]) >= 2  # the message string's length word follows


def test_server_errors_reach_the_client(fx: Any) -> None:
    m = Machine()
    _calc(m, fx)
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        for call in (lambda: c.add(13, 0), lambda: c.add(66, 0), lambda: c.add(99, 0)):
            try:
                call()
            except RemoteError as e:
                got.append((int(e.code), e.message))
        try:
            c.next(fx.Color.GREEN)
        except fx.Nope as e:
            got.append(("Nope", e.code))
        got.append(c.add(1, 2))

    _run(m, body)
    assert got[0] == (ErrorCode.E_EXISTS, "unlucky")
    assert got[1] == (ErrorCode.E_FAILURE, "Calc.add raised ValueError: not declared")
    assert got[2][0] == ErrorCode.E_FAILURE and "reply does not encode" in got[2][1]  # type: ignore[index]
    assert got[3:] == [("Nope", 7), 3]


@pytest.mark.parametrize(
    ("reply", "items", "error"),
    [
        ([0, 5, 6], [], DecodeError),  # a word left over
        ([0], [], DecodeError),  # the result missing
        ([0, 1 << 40], [], DecodeError),  # high bytes of a long
        ([0, 3], [(0, 0)], DecodeError),  # an item left over
        ([32, 1], [], DecodeError),  # a user exception on a method without raises
        ([40], [], DecodeError),  # a reserved status
        ([int(ErrorCode.E_NOT_FOUND), 0], [], RemoteError),
    ],
)
def test_stub_checks_every_reply(
    fx: Any, reply: list[int], items: list[tuple[int, int]], error: type
) -> None:
    m = Machine()
    srv = m.spawn("srv")

    def handler(f: UtcbFrame) -> None:
        f.clear()
        f.put_words(reply)
        for c, aux in items:
            f.put_item(c, aux)

    pt = srv.portal(handler)
    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, TARGET)
    got: list[object] = []

    @cli
    def body(ctx: Context) -> None:
        try:
            got.append(fx.CalcClient(Pt(ctx.gate, TARGET)).add(1, 2))
        except (DecodeError, RemoteError) as e:
            got.append(type(e))
        got.append((ctx.utcb.utcb.untyped, ctx.utcb.utcb.typed))  # idle again

    m.run(check=False)
    assert got == [error, (0, 0)]


def test_values_that_do_not_encode(fx: Any) -> None:
    m = Machine()
    _calc(m, fx)
    got: list[str] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        calls = (
            lambda: c.add("x", 1),
            lambda: c.add(1, 2**31),
            lambda: c.next(7),
            lambda: c.next([]),  # unhashable: its check raises
            lambda: c.move(object(), 1),  # not a Point: no members x, y
        )
        for call in calls:
            try:
                call()
            except MarshalError as e:
                got.append(e.path)
                reasons.append(e.reason)
        got.append(str(c.add(1, 2)))

    reasons: list[str] = []
    _run(m, body)
    assert got == ["a", "b", "c", "c", "p", "3"]
    assert reasons[0] == "expected int, got str" and reasons[-1] == "expected Point, got object"


# every status of the call's table but the non-blocking ones (a stub call blocks) and
# success (its handler is no skeleton)
STATUSES = [c for c in CASES if c[2] != NONBLOCKING and c[3] != Status.SUCCESS]


@pytest.mark.parametrize(("name", "setup", "flags", "want"), STATUSES, ids=[c[0] for c in STATUSES])
def test_kernel_statuses_through_a_stub(
    fx: Any, name: str, setup: Callable[[Machine, Process], None], flags: int, want: Status
) -> None:
    m = Machine(cpus=2)
    cli = m.spawn("cli")
    setup(m, cli)
    seen: list[int] = []

    def body(ctx: Context) -> None:
        try:
            fx.CalcClient(Pt(ctx.gate, TARGET)).add(1, 2)
        except SyscallError as e:
            seen.append(e.status)
        seen.append(ctx.utcb.utcb.untyped)

    cli.thread(body)
    m.run(check=False)
    assert seen == [want, 0], name
    assert m.k.faults == []


def test_busy_server_is_helped(fx: Any) -> None:
    """Two clients on their own SCs call one skeleton; its implementation blocks during the
    first call, so the second finds the handler busy and helps it (NOVA `help`)."""
    m = Machine()
    srv = m.spawn("srv")
    gate: list[Any] = []
    log: list[str] = []

    class Slow(CalcImpl):
        def add(self, a: int, b: int) -> Any:
            log.append(f"start {a}")
            if a == 1:
                gate[0].down()
            log.append(f"end {a}")
            return a + b

    srv.serve("calc", fx.CalcServer(Slow(fx)))

    @srv
    def opener(ctx: Context) -> None:
        gate.append(ctx.sm(0))
        for _ in range(5):
            ctx.yield_()
        gate[0].up()

    results: dict[int, int] = {}
    cli = m.spawn("cli")
    for a in (1, 2):
        cli.thread(
            lambda ctx, a=a: results.update({a: fx.CalcClient(ctx.connect("calc")).add(a, 10)})
        )
    r = m.run()
    assert results == {1: 11, 2: 12}
    assert log == ["start 1", "end 1", "start 2", "end 2"]
    assert m.k.stats["helps"] >= 1 and r.blocked == []


def test_armed_window_survives_and_takes_nothing(fx: Any) -> None:
    """A client with a delegate window armed on its idle UTCB: during a stub call the
    window is closed, as the outermost frame's push does, so a capability the server
    wrongly sends back lands nowhere; afterwards the window is armed again."""
    m = Machine()
    srv = m.spawn("srv")
    sms: list[int] = []

    def handler(f: UtcbFrame) -> None:
        f.clear()
        f.put_words([0, 3])
        f.delegate(crd(CrdType.OBJ, sms[0], 0))

    pt = srv.portal(handler)

    @srv
    def make(ctx: Context) -> None:
        sms.append(ctx.sm(0).sel)

    cli = m.spawn("cli")
    srv.grant(pt.sel, cli, TARGET)
    got: list[object] = []
    window = crd(CrdType.OBJ, 0x4000, 0)

    @cli
    def body(ctx: Context) -> None:
        u = ctx.utcb.utcb
        u.dele = window
        with pytest.raises(DecodeError, match="typed items left over"):
            fx.CalcClient(Pt(ctx.gate, TARGET)).add(1, 2)
        got.append(u.dele == window)
        got.append(0x4000 in backdoor(ctx).current.pd.obj.nodes)

    m.run(check=False)
    assert got == [True, False]


def test_time_is_charged_as_for_any_call(fx: Any) -> None:
    """Each stub call is two system calls (call, reply) of virtual time, fixed or not."""
    m = Machine()
    _calc(m, fx)
    costs: list[tuple[int, int]] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        for call in (lambda: c.add(1, 2), c.name):
            clock, calls = m.k.cpus[0].clock, m.k.stats["syscalls"]
            call()
            costs.append((m.k.cpus[0].clock - clock, m.k.stats["syscalls"] - calls))

    _run(m, body)
    assert costs == [(2, 2), (2, 2)]


def _counting_server(fx: Any) -> tuple[type, list[str]]:
    """A CalcServer whose entry (``__call__``) and fixed-size handlers log their runs."""
    log: list[str] = []

    class Counted(fx.CalcServer):  # type: ignore[misc]
        def __call__(self, f: UtcbFrame) -> None:
            log.append("entry")
            super().__call__(f)

        def fast_table(self, word: int) -> Any:
            table = super().fast_table(word)
            return {
                op: (n, lambda f, u, h=h, op=op: log.append(f"fast {op:#x}") or h(f, u))
                for op, (n, h) in table.items()
            }

    return Counted, log


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
def test_kernel_enters_fixed_handlers_itself(fx: Any, arch: Arch) -> None:
    """The local EC's loop runs a fixed-size request's handler from the skeleton's
    fast_table without entering the skeleton; what the table does not take (another
    word count, no words at all, an unknown opcode, a general method) goes to the entry,
    which answers as before. (Without words, the page's first word is the last reply's
    status: whatever handler it names refuses the word count.)"""
    Counted, log = _counting_server(fx)
    m = Machine(arch=arch)
    m.spawn("srv").serve("calc", Counted(CalcImpl(fx)))
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        got.append(c.add(2, 3))
        got.append(_raw(ctx.connect("calc"), [OP_ADD, 1]))
        got.append(_raw(ctx.connect("calc"), []))
        got.append(_raw(ctx.connect("calc"), [0x80077]))
        got.append(c.name())
        got.append(c.add(4, 5))

    _run(m, body)
    assert got[0] == 5 and got[5] == 9 and got[4] == "calc"
    assert [w[0] for w in got[1:4]] == [
        ErrorCode.E_ARGS_INVALID,
        ErrorCode.E_ARGS_INVALID,
        ErrorCode.E_NOT_FOUND,
    ]
    add = f"fast {OP_ADD:#x}"
    # another word count is refused by the table's count before any handler runs
    assert log == [add, "entry", "entry", "entry", "entry", add]


def test_big_endian_hosts_dispatch_in_the_skeleton(
    fx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel keys fast_table by the first word as the host reads it, so it takes
    the table only on a little-endian host; elsewhere every request enters the skeleton,
    whose own dispatch reads the opcode little-endian, with the same answers."""
    import runtime.kernel.kernel

    monkeypatch.setattr(runtime.kernel.kernel.sys, "byteorder", "big")
    Counted, log = _counting_server(fx)
    m = Machine()
    m.spawn("srv").serve("calc", Counted(CalcImpl(fx)))
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        got.extend([c.add(2, 3), c.ping(), c.move(fx.Point(1, 2), 3)])

    _run(m, body)
    assert got == [5, None, fx.Point(4, 2)]
    assert log == ["entry"] * 3


def test_idle_utcb_is_the_page_only_when_nothing_is_live(fx: Any) -> None:
    """Kernel.idle_utcb: the calling EC's page when no frame is live, no message is in it
    and both receive windows are closed, else None (and None without an EC)."""
    m = Machine()
    assert m.k.idle_utcb() is None
    got: list[bool] = []

    def body(ctx: Context) -> None:
        u = ctx.utcb.utcb
        got.append(m.k.idle_utcb() is u.buf)
        with UtcbFrame(u):
            got.append(m.k.idle_utcb() is None)  # a live frame
        got.append(m.k.idle_utcb() is u.buf)
        u.untyped = 1
        got.append(m.k.idle_utcb() is None)  # a message
        u.untyped = 0
        for window in ("dele", "xlt"):
            setattr(u, window, crd(CrdType.OBJ, 0x100, 0))
            got.append(m.k.idle_utcb() is None)  # an armed window
            setattr(u, window, 0)
        got.append(m.k.idle_utcb() is u.buf)

    _run(m, body)
    assert got == [True] * 7


OP_PING = 8 << 16 | 1


@pytest.mark.parametrize("arch", [X86_64, X86_32], ids=["x86_64", "x86_32"])
def test_an_opcode_only_request_is_written_by_the_kernel_only_when_idle(
    fx: Any, arch: Arch
) -> None:
    """call_fixed(..., op): a request of the opcode alone (``ping``) is written at mr[0]
    by the kernel on an idle UTCB and sent; on a UTCB with a live frame, a message or an
    armed window it answers NOT_SENT, writes nothing and calls nobody, and the stub's
    general path then makes the call (one word too, so the server's fixed handler
    answers every one)."""
    Counted, log = _counting_server(fx)
    m = Machine(arch=arch)
    m.spawn("srv").serve("calc", Counted(CalcImpl(fx)))
    assert m.k.call_fixed(0, 1, fx._S0, 1, OP_PING) == (Status.BAD_HYP,)  # no EC
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        u = ctx.utcb.utcb
        k = backdoor(ctx)
        got.append(k.call_fixed(c._sel, 1, fx._S0, 1, OP_PING) == (0,))
        got.append(u.words[5] == 0 and u.untyped == 0)  # the status word, consumed
        calls = k.n_ipc
        with UtcbFrame(u) as f:
            f.put_words(b"\xaa" * u.word)
            before = bytes(u.buf)
            got.append(k.call_fixed(c._sel, 1, fx._S0, 1, OP_PING) is NOT_SENT)
            got.append(bytes(u.buf) == before and k.n_ipc == calls)
            got.append(c.ping())  # the general path, nested in the frame
        for window in ("dele", "xlt"):
            setattr(u, window, crd(CrdType.OBJ, 0x100, 0))
            got.append(k.call_fixed(c._sel, 1, fx._S0, 1, OP_PING) is NOT_SENT)
            got.append(c.ping())
            setattr(u, window, 0)
        got.append(k.call_fixed(c._sel + 1, 1, fx._S0, 1, OP_PING) == (Status.BAD_CAP,))

    _run(m, body)
    assert got == [True, True, True, True, None, True, None, True, None, True]
    assert log == [f"fast {OP_PING:#x}"] * 4


# (architecture, op): opcodes that are no word of the architecture, or no int at all
_BAD_OPS = [
    (X86_64, -1),
    (X86_64, 1 << 64),
    (X86_64, "ping"),
    (X86_64, 1.0),
    (X86_32, -1),
    (X86_32, 1 << 32),
    (X86_32, None.__class__),
]


@pytest.mark.parametrize(("arch", "op"), _BAD_OPS, ids=[f"{a.name}-{o!r}" for a, o in _BAD_OPS])
def test_an_opcode_that_is_no_word_sends_nothing(fx: Any, arch: Arch, op: object) -> None:
    """call_fixed(..., op) with an op the UTCB word cannot hold answers (BAD_PAR,): no
    exception escapes the kernel, no IPC is made and the UTCB stays idle."""
    Counted, log = _counting_server(fx)
    m = Machine(arch=arch)
    m.spawn("srv").serve("calc", Counted(CalcImpl(fx)))
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        u = ctx.utcb.utcb
        k = backdoor(ctx)
        calls = k.n_ipc
        got.append(k.call_fixed(c._sel, 1, fx._S0, 1, op) == (Status.BAD_PAR,))
        got.append(k.n_ipc == calls and u.idle() and u.items == 0)
        got.append(c.ping())  # the stub's own path still works afterwards

    _run(m, body)
    assert got == [True, True, None]
    assert log == [f"fast {OP_PING:#x}"]


def _h(f: UtcbFrame, u: Utcb) -> int:
    return 0


# (a skeleton's fast_table, what the kernel indexes: (lowest opcode, entries) or None)
_TABLES: list[tuple[object, object]] = [
    ({0x80000: (1, _h), 0x80002: (3, _h)}, (0x80000, [(1, _h), None, (3, _h)])),
    ({0x80005: (1, _h)}, (0x80005, [(1, _h)])),
    ({0x8FFFF: (1, _h), 0x80000: (2, _h)}, (0x80000, [(2, _h)] + [None] * 0xFFFE + [(1, _h)])),
    ({0x80000: (1, _h), 0x90000: (1, _h)}, None),  # wider than one interface's methods
    ({-1: (1, _h)}, None),  # no opcode
    ({"ping": (1, _h)}, None),  # other keys
    ({True: (1, _h)}, None),  # a bool is no opcode either
    ({}, None),
    ([(1, _h)], None),  # no dict
]


@pytest.mark.parametrize(("table", "want"), _TABLES, ids=[str(i) for i in range(len(_TABLES))])
def test_fast_tables_are_indexed_by_opcode(table: object, want: object) -> None:
    """Kernel._fast_table turns a skeleton's table into what the receive loop indexes by
    the request's first word minus the lowest opcode; a table it cannot index so leaves
    every request to the skeleton's own dispatch."""
    from runtime.kernel.kernel import _fast_table

    class Code:
        def fast_table(self, word: int) -> object:
            return table

    assert _fast_table(Code(), 8) == want
    assert _fast_table(None, 8) is None


@pytest.mark.parametrize("extra", [None, 0x7FFFF, 0x1_0000_0000], ids=["own", "below", "wide"])
def test_requests_outside_the_indexed_table_enter_the_skeleton(fx: Any, extra: int | None) -> None:
    """Opcodes below or above the indexed range enter the skeleton, which answers them as
    always; a table the kernel does not index (spread wider than an interface) sends
    every request there, with the same answers."""
    Counted, log = _counting_server(fx)

    class Extra(Counted):  # type: ignore[misc,valid-type]
        def fast_table(self, word: int) -> Any:
            t = dict(super().fast_table(word))
            if extra is not None:
                t[extra] = t[OP_ADD]
            return t

    m = Machine()
    m.spawn("srv").serve("calc", Extra(CalcImpl(fx)))
    got: list[object] = []

    def body(ctx: Context) -> None:
        c = fx.CalcClient(ctx.connect("calc"))
        got.append(c.add(2, 3))
        got.append(_raw(ctx.connect("calc"), [OP_ADD - 0x10000, 1, 2])[0])  # below
        got.append(_raw(ctx.connect("calc"), [OP_ADD + 0x100, 1, 2])[0])  # above

    _run(m, body)
    assert got == [5, ErrorCode.E_NOT_FOUND, ErrorCode.E_NOT_FOUND]
    indexed = extra != 0x1_0000_0000
    add = f"fast {OP_ADD:#x}"
    assert log == ([add] if indexed else ["entry"]) + ["entry", "entry"]
