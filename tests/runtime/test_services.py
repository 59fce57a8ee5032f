"""Name registry, sessions with liveness tokens, and guarded servers (NOVA-NRE.md §8.3)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.api import Context
from runtime.arch import X86_32
from runtime.crd import Crd, CrdType, crd
from runtime.machine import ExecutionFault, Machine, pd_of
from runtime.services import (
    check_reply,
    get_string,
    guard,
    lookup_service,
    put_string,
    unregister,
)
from runtime.session import ClientSession, Service, Session
from runtime.status import ErrorCode, RemoteError
from runtime.utcb import UtcbFrame

from .conftest import FUZZ_EXAMPLES


def _upper(f: UtcbFrame) -> None:
    s = get_string(f, 64)
    f.finish_input()
    f.put_word(ErrorCode.E_SUCCESS)
    put_string(f, s.upper())


@pytest.mark.parametrize("arch", [None, X86_32])
def test_connect_by_name_on_every_cpu(arch: object) -> None:
    m = Machine(cpus=2) if arch is None else Machine(cpus=2, arch=X86_32)  # type: ignore[arg-type]
    m.spawn("srv").serve("upper", guard(_upper))
    got: list[tuple[int, str]] = []
    for cpu in (0, 1):

        def body(ctx: Context) -> None:
            pt = ctx.connect("upper")
            with pt.frame() as f:
                put_string(f, f"cpu{ctx.cpu} héllo")
                pt.call(f)
                check_reply(f)
                got.append((ctx.cpu, get_string(f)))

        m.spawn(f"c{cpu}", body, cpu=cpu)
    r = m.run()
    assert sorted(got) == [(0, "CPU0 HÉLLO"), (1, "CPU1 HÉLLO")]
    assert r.blocked == []


def test_unknown_name_and_unregister() -> None:
    m = Machine()
    srv = m.spawn("srv")
    srv.serve("svc", guard(_upper))
    seen: list[object] = []
    step: list[str] = []

    @m.spawn("c")
    def main(ctx: Context) -> None:
        pt = ctx.connect("svc")
        with pytest.raises(RemoteError) as e:
            lookup_service(ctx, "nope")
        seen.append(e.value.code)
        with pytest.raises(RemoteError) as e:
            unregister(ctx, "svc")  # only the PD that registered it may
        seen.append(e.value.code)
        step.append("asked")
        while "gone" not in step:
            ctx.yield_()
        with pytest.raises(RemoteError) as e:
            lookup_service(ctx, "svc")
        seen.append(e.value.code)
        # Root revoked its copies, so our portal went with them.
        seen.append(ctx.sys.lookup(Crd.obj(pt.sel)).type)

    def owner(ctx: Context) -> None:
        while "asked" not in step:
            ctx.yield_()
        unregister(ctx, "svc")
        step.append("gone")

    srv.thread(owner)
    m.run()
    assert seen == [
        ErrorCode.E_NOT_FOUND,
        ErrorCode.E_CAP,
        ErrorCode.E_NOT_FOUND,
        CrdType.NULL,
    ]


def test_guarded_server_answers_errors_and_keeps_serving() -> None:
    m = Machine()

    def picky(f: UtcbFrame) -> None:
        x = f.get_word()
        f.finish_input()
        if x == 13:
            raise ValueError("unlucky")
        f.put_word(ErrorCode.E_SUCCESS)
        f.put_word(x * 2)

    srv = m.spawn("srv")
    srv.serve("picky", guard(picky, m.k))
    seen: list[object] = []

    @m.spawn("c")
    def main(ctx: Context) -> None:
        pt = ctx.connect("picky")
        for words in ([], [1, 2], [13], [21]):
            with pt.frame() as f:
                f.put_words(words)
                pt.call(f)
                try:
                    check_reply(f)
                    seen.append(f.get_word())
                except RemoteError as e:
                    seen.append(e.code)

    m.run()
    assert seen == [ErrorCode.E_ARGS_INVALID, ErrorCode.E_ARGS_INVALID, ErrorCode.E_FAILURE, 42]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, 2**64 - 1), max_size=12),
            st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 2**16)), max_size=3),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_malformed_requests_get_args_invalid(
    msgs: list[tuple[list[int], list[tuple[int, int]]]],
) -> None:
    """Random words and items to a strict server: E_ARGS_INVALID unless well formed."""
    m = Machine()
    st2 = struct.Struct("<QQ")

    def strict(f: UtcbFrame) -> None:  # expects exactly: opcode 7, one word < 100
        op, x = f.unpack(st2)
        f.finish_input()
        if op != 7 or not isinstance(x, int) or x >= 100:
            put_error_args(f)
            return
        f.put_word(ErrorCode.E_SUCCESS)
        f.put_word(x + 1)

    def put_error_args(f: UtcbFrame) -> None:
        from runtime.services import put_error

        put_error(f, ErrorCode.E_ARGS_INVALID, "bad request")

    m.spawn("srv").serve("strict", guard(strict, m.k))
    seen: list[object] = []

    @m.spawn("c")
    def main(ctx: Context) -> None:
        pt = ctx.connect("strict")
        for words, items in [*msgs, ([7, 5], [])]:
            with pt.frame() as f:
                f.put_words(words)
                for c, aux in items:
                    f.put_item(c, aux)
                pt.call(f)
                try:
                    check_reply(f)
                    seen.append(f.get_word())
                except RemoteError as e:
                    seen.append(e.code)

    m.run()
    for (words, items), got in zip(msgs, seen, strict=False):
        ok = len(words) == 2 and not items and words[0] == 7 and words[1] < 100
        assert got == (words[1] + 1 if ok else ErrorCode.E_ARGS_INVALID)
    assert seen[-1] == 6  # still serving after all of it


def test_server_exception_reaches_client_as_error_not_crash() -> None:
    m = Machine()

    def broken(f: UtcbFrame) -> None:
        raise KeyError("missing")

    m.spawn("srv").serve("broken", guard(broken))
    caught: list[RemoteError] = []

    @m.spawn("c")
    def main(ctx: Context) -> None:
        pt = ctx.connect("broken")
        with pt.frame() as f:
            pt.call(f)
            try:
                check_reply(f)
            except RemoteError as e:
                caught.append(e)

    r = m.run()
    assert len(caught) == 1 and caught[0].code == ErrorCode.E_FAILURE
    assert "KeyError" in caught[0].message
    assert not any(reason.startswith("EXC") for _, reason in r.deaths)


def test_unguarded_client_error_surfaces_from_run() -> None:
    m = Machine()

    @m.spawn("c")
    def main(ctx: Context) -> None:
        raise AssertionError("client check failed")

    with pytest.raises(ExecutionFault):
        m.run()


def _counter_service(m: Machine) -> Service:
    def factory(s: Session) -> object:
        state = {"n": 0}

        def handler(f: UtcbFrame) -> None:
            f.finish_input()
            state["n"] += 1
            f.put_words([ErrorCode.E_SUCCESS, s.id, state["n"]])

        return handler

    return Service(m.spawn("srv"), "counter", factory)  # type: ignore[arg-type]


def test_sessions_are_separate_and_close_revokes_portals() -> None:
    m = Machine(cpus=2)
    svc = _counter_service(m)
    got: list[object] = []

    @m.spawn("c", cpu=1)
    def main(ctx: Context) -> None:
        a, b = ClientSession(ctx, "counter"), ClientSession(ctx, "counter")
        for s in (a, a, b):
            with s.pt.frame() as f:
                s.pt.call(f)
                got.append(tuple(f.words()))
        a.close()
        got.append(ctx.sys.lookup(Crd.obj(a.pt.sel)).type)
        with pytest.raises(RemoteError):
            a.close()

    r = m.run()
    assert got[:3] == [(0, 0, 1), (0, 0, 2), (0, 1, 1)]
    assert got[3] == CrdType.NULL
    assert list(svc.sessions) == [1] and r.blocked == []


def test_client_death_tears_down_its_session() -> None:
    m = Machine()
    svc = _counter_service(m)
    cli = m.spawn("c")
    portal: list[int] = []

    @cli
    def main(ctx: Context) -> None:
        s = ClientSession(ctx, "counter")
        portal.append(s.pt.sel)

    m.run()
    assert len(svc.sessions) == 1
    token = next(iter(svc.sessions.values())).token
    assert token in pd_of(svc.proc).obj.nodes
    cli.kill()
    m.run()
    assert svc.sessions == {}
    assert token not in pd_of(svc.proc).obj.nodes
    assert pd_of(cli).dead and all(ec.dead for ec in pd_of(cli).ecs)


def test_open_without_token_is_refused() -> None:
    m = Machine()
    _counter_service(m)
    seen: list[object] = []

    @m.spawn("c")
    def main(ctx: Context) -> None:
        svc = ctx.connect("counter")
        with svc.frame() as f:
            f.put_word(0)
            f.put_item(0, 1)  # a null item
            svc.call(f)
            try:
                check_reply(f)
            except RemoteError as e:
                seen.append(e.code)
        with svc.frame() as f:
            f.put_word(1)
            f.translate(crd(CrdType.OBJ, 0x20))  # not a session portal
            svc.call(f)
            try:
                check_reply(f)
            except RemoteError as e:
                seen.append(e.code)

    m.run()
    assert seen == [ErrorCode.E_ARGS_INVALID, ErrorCode.E_NOT_FOUND]
