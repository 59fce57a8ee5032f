"""The binding protocol for generated code, exercised with hand-written stubs in the
shape the Python backend generates (WIRE.md §2-4, DESIGN.md usage sketch)."""

from __future__ import annotations

import struct
import zlib

import pytest

from runtime import Machine
from runtime.api import Context, Pt, Sm
from runtime.crd import CrdType, SmRights, crd, crd_base, crd_type
from runtime.kernel.kernel import Kernel
from runtime.machine import pd_of
from runtime.services import get_string, put_error, put_string
from runtime.status import ErrorCode, RemoteError, UtcbError
from runtime.utcb import UtcbFrame

IID = 1  # @id(1) interface Echo
OP_PING, OP_LOG, OP_SIGNAL = IID << 16 | 0, IID << 16 | 1, IID << 16 | 2
E_USER_EXCEPTION = 32
EMPTY_ID = zlib.crc32(b"demo::Empty") & 0xFFFFFFFF
_HDR = struct.Struct("<QQ")  # status, exception id


class Empty(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class EchoClient:
    """What `idlc` would generate for the client side."""

    def __init__(self, pt: Pt) -> None:
        self._pt = pt

    def ping(self, text: str) -> str:
        with self._pt.frame() as f:
            f.put_word(OP_PING)
            put_string(f, text)
            self._pt.call(f)
            status = f.get_word()
            if status == ErrorCode.E_SUCCESS:
                out = get_string(f, 64)
                f.finish_input()
                return out
            if status == E_USER_EXCEPTION and f.get_word() == EMPTY_ID:
                raise Empty(get_string(f))
            raise RemoteError(status, get_string(f))

    def log(self, line: str) -> None:  # oneway: the reply is ignored
        with self._pt.frame() as f:
            f.put_word(OP_LOG)
            put_string(f, line)
            self._pt.call(f)

    def signal(self, sm_sel: int) -> None:  # in nova::Semaphore s (delegated)
        with self._pt.frame() as f:
            f.put_word(OP_SIGNAL)
            f.delegate(crd(CrdType.OBJ, sm_sel, 0, SmRights.UP), hotspot=0)
            self._pt.call(f)
            status = f.get_word()
            if status != ErrorCode.E_SUCCESS:
                raise RemoteError(status, get_string(f))


class EchoServer:
    """What `idlc` would generate for the server side: callable as `skeleton(frame)`."""

    def __init__(self, impl: EchoImpl) -> None:
        self._impl = impl

    def __call__(self, f: UtcbFrame) -> None:
        try:
            op = f.get_word()
            if op == OP_PING:
                text = get_string(f, 64)
                f.finish_input()
                try:
                    out = self._impl.ping(text)
                except Empty as e:
                    f.put_word(E_USER_EXCEPTION)
                    f.put_word(EMPTY_ID)
                    put_string(f, e.why)
                    return
                f.put_word(ErrorCode.E_SUCCESS)
                put_string(f, out)
            elif op == OP_LOG:
                line = get_string(f)
                f.finish_input()
                self._impl.log(line)
            elif op == OP_SIGNAL:
                c, aux = f.get_item()
                f.finish_input()
                if crd_type(c) != CrdType.OBJ or not aux & 1:
                    raise UtcbError(ErrorCode.E_ARGS_INVALID, "expected a delegated object")
                self._impl.signal(crd_base(c))
                f.put_word(ErrorCode.E_SUCCESS)
            else:
                put_error(f, ErrorCode.E_NOT_FOUND, f"opcode {op:#x}")
        except UtcbError as e:
            put_error(f, ErrorCode.E_ARGS_INVALID, str(e))


class EchoImpl:
    def __init__(self, k: Kernel) -> None:
        self.lines: list[str] = []
        self.k = k

    def ping(self, text: str) -> str:
        if not text:
            raise Empty("nothing to echo")
        return text

    def log(self, line: str) -> None:
        self.lines.append(line)

    def signal(self, sel: int) -> None:
        Sm(self.k, sel).up()


def test_design_sketch_runs() -> None:
    m = Machine(cpus=2)
    impl = EchoImpl(m.k)
    server = m.spawn("echo-server")
    skeleton = EchoServer(impl)
    server.serve("echo", skeleton, cpus=[0, 1])
    results: list[object] = []

    for cpu in (0, 1):

        @m.spawn(f"client{cpu}", cpu=cpu)
        def client(ctx: Context) -> None:
            echo = EchoClient(ctx.connect("echo"))
            results.append(echo.ping(f"hi {ctx.cpu}"))
            with pytest.raises(Empty) as e:
                echo.ping("")
            results.append(e.value.why)
            echo.log(f"line {ctx.cpu}")
            with pytest.raises(RemoteError) as r, ctx.connect("echo").frame() as f:
                f.put_word(IID << 16 | 99)
                ctx.connect("echo").call(f)
                code = f.get_word()
                raise RemoteError(code, get_string(f))
            results.append(r.value.code)

    r = m.run()
    assert sorted(map(str, results)) == sorted(
        ["hi 0", "hi 1", "nothing to echo", "nothing to echo"] + [str(ErrorCode.E_NOT_FOUND)] * 2
    )
    assert sorted(impl.lines) == ["line 0", "line 1"]
    assert r.blocked == []
    assert m.stats()["syscalls"] > 0


def test_capability_parameter_travels_through_the_window() -> None:
    m = Machine()
    impl = EchoImpl(m.k)
    server = m.spawn("echo-server")
    # One object per request (WIRE §4: the window covers the maximum item count).
    (pt,) = server.serve("echo", EchoServer(impl), cpus=[0], accept=0)
    ec = pd_of(server).obj.nodes[pt.sel].obj.ec  # type: ignore[attr-defined]
    first_window = crd_base(ec.utcb.dele)
    seen: list[int] = []

    @m.spawn("client")
    def client(ctx: Context) -> None:
        echo = EchoClient(ctx.connect("echo"))
        for _ in range(3):  # each call finds a fresh window
            sm = ctx.sm(0)
            echo.signal(sm.sel)
            sm.down()  # the server upped it through the delegated capability
            seen.append(1)

    r = m.run()
    assert seen == [1, 1, 1] and r.blocked == []
    assert pd_of(server).obj.nodes[first_window].rights == SmRights.UP
    assert crd_base(ec.utcb.dele) != first_window


def test_reply_with_capabilities_into_a_stub_armed_window() -> None:
    """A client stub has only its Pt: `pt.accept_delegates` arms the reply window."""
    m = Machine()

    def maker(f: UtcbFrame) -> None:  # returns two semaphores (counts 1 and 2)
        f.finish_input()
        f.put_word(ErrorCode.E_SUCCESS)
        for count in (1, 2):
            sel = srv.env.alloc()
            from runtime.api import Syscalls

            Syscalls(m.gate).create_sm(sel, count)
            f.delegate(crd(CrdType.OBJ, sel), hotspot=count - 1)

    srv = m.spawn("srv")
    srv.serve("maker", maker)
    got: list[int] = []

    @m.spawn("c")
    def client(ctx: Context) -> None:
        pt = ctx.connect("maker")
        with pt.frame() as f:
            base = pt.accept_delegates(f, 1)
            pt.call(f)
            assert f.get_word() == ErrorCode.E_SUCCESS
            got.extend(crd_base(c) - base for c, _ in f.items())
        Sm(ctx.gate, base + 1).down()
        Sm(ctx.gate, base + 1).down()  # count 2: neither blocks
        got.append(-1)

    r = m.run()
    assert got == [0, 1, -1] and r.blocked == []
