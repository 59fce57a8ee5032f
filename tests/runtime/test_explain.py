"""A runtime that explains itself (issue 17 item 3): every message it gives a user who
got something wrong, and the calls that make capabilities easy to use."""

from __future__ import annotations

import gc
import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import idlc
import runtime
from runtime import Machine, NotInEcError, RemoteError, SyscallError, UnrunMachineWarning
from runtime.api import Context, Sm
from runtime.crd import Crd, CrdType, SmRights
from runtime.status import Status

ROOT = Path(__file__).resolve().parents[2]

CALC = """
module t {
  exception Bad { string<32> why; };
  interface Calc {
    long add(in long a, in long b);
    string<64> name(in string<16> x) raises (Bad);
    oneway void note(in string<32> line);
    void give(in nova::Semaphore sm);
    long ask(in Calc peer, in long a);
  };
};
"""


@pytest.fixture(scope="module")
def t(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    src = tmp_path_factory.mktemp("calc") / "calc.idl"
    src.write_text(CALC)
    return idlc.load(src)


class Calc:
    """A Calc whose methods fail as `self.fail` says."""

    def __init__(self, fail: dict[str, BaseException] | None = None) -> None:
        self.fail = fail or {}
        self.got: list[object] = []

    def _maybe(self, name: str) -> None:
        if name in self.fail:
            raise self.fail[name]

    def add(self, a: int, b: int) -> int:
        self._maybe("add")
        return a + b

    def name(self, x: str) -> str:
        self._maybe("name")
        return x

    def note(self, line: str) -> None:
        self._maybe("note")
        self.got.append(line)

    def give(self, sm: Crd | None) -> None:
        assert sm is not None
        runtime.current().sm(sel=sm).up()  # a received capability, used in one line
        self.got.append(sm)

    def ask(self, peer: Crd | None, a: int) -> int:
        assert peer is not None
        other: Any = runtime.current().client(self.client_cls, peer)
        return int(other.add(a, 1))

    client_cls: Any = None


def serve(t: ModuleType, impl: Calc, trace: bool = False) -> Machine:
    impl.client_cls = t.CalcClient
    m = Machine(trace=trace)
    m.spawn("calc").serve("calc", t.CalcServer(impl))
    return m


def client(m: Machine, t: ModuleType, body: Callable[[Any, Context], None]) -> None:
    @m.spawn("client")
    def run(ctx: Context) -> None:
        body(t.CalcClient(ctx.connect("calc")), ctx)


# --- a machine that was never run ----------------------------------------------------------


@pytest.mark.parametrize(("spawned", "message"), [(1, "1 process"), (2, "2 processes")])
def test_unrun_machine_warns_when_collected(spawned: int, message: str) -> None:
    m = Machine()
    for i in range(spawned):
        m.spawn(f"p{i}", lambda ctx: None)
    with pytest.warns(UnrunMachineWarning) as caught:
        del m
        gc.collect()
    assert str(caught[0].message) == f"Machine with {message} was never run; call m.run()"
    assert caught[0].filename == __file__  # where the machine was made


@pytest.mark.parametrize("run", [True, False])
def test_no_warning_for_a_run_machine_or_one_without_work(run: bool, recwarn: Any) -> None:
    m = Machine()
    if run:
        m.spawn("p", lambda ctx: None)
        m.run()
    del m
    gc.collect()
    assert not [w for w in recwarn if issubclass(w.category, UnrunMachineWarning)]


def test_unrun_machine_warns_at_exit() -> None:
    code = "from runtime import Machine\nm = Machine()\nm.spawn('a')\nm.spawn('b')\n"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "UnrunMachineWarning: Machine with 2 processes was never run; call m.run()" in (
        out.stderr
    )


# --- calls outside an EC --------------------------------------------------------------------

# (what is called outside the run, the name the message gives)
OUTSIDE: list[tuple[str, Callable[[Any, Sm], object], str]] = [
    ("general", lambda c, sm: c.name("x"), "CalcClient.name"),
    ("fixed-size", lambda c, sm: c.add(1, 2), "CalcClient.add"),
    ("oneway", lambda c, sm: c.note("x"), "CalcClient.note"),
    ("semaphore", lambda c, sm: sm.up(), "sm up"),
]


@pytest.mark.parametrize(("kind", "call", "who"), OUTSIDE, ids=[o[0] for o in OUTSIDE])
def test_calls_outside_an_ec_say_so(
    t: ModuleType, kind: str, call: Callable[[Any, Sm], object], who: str
) -> None:
    m = serve(t, Calc())
    kept: dict[str, Any] = {}
    client(m, t, lambda c, ctx: kept.update(c=c, sm=ctx.sm()))
    m.run()
    with pytest.raises(NotInEcError) as info:
        call(kept["c"], kept["sm"])
    assert str(info.value).startswith(f"{who} was called outside an EC")
    assert "m.run()" in str(info.value) and "@m.spawn" in str(info.value)
    assert isinstance(info.value, SyscallError) and info.value.status == Status.BAD_HYP


def test_current_outside_an_ec() -> None:
    with pytest.raises(NotInEcError, match=r"runtime.current\(\) was called outside an EC"):
        runtime.current()


# --- a server's exception -------------------------------------------------------------------

# (method, the call, the message the client's RemoteError carries)
RAISING: list[tuple[str, Callable[[Any], object], str]] = [
    ("name", lambda c: c.name("x"), "E_FAILURE: Calc.name raised ValueError: no x"),
    ("add", lambda c: c.add(1, 2), "E_FAILURE: Calc.add raised ValueError: no x"),
]


@pytest.mark.parametrize(("method", "call", "message"), RAISING, ids=["general", "fixed-size"])
def test_server_exception_reaches_the_client_named(
    t: ModuleType, method: str, call: Callable[[Any], object], message: str
) -> None:
    m = serve(t, Calc({method: ValueError("no x")}), trace=True)
    got: list[BaseException] = []

    def body(c: Any, ctx: Context) -> None:
        try:
            call(c)
        except RemoteError as e:
            got.append(e)

    client(m, t, body)
    m.run()
    (err,) = got
    assert str(err) == message
    notes = "\n".join(getattr(err, "__notes__", []))
    assert "the server's traceback" in notes and "in _maybe" in notes and "ValueError" in notes
    (entry,) = m.log
    assert f"Calc.{method} raised ValueError: no x" in entry and "in _maybe" in entry
    events = [(e, i) for i, e in enumerate(m.trace) if e[3] == "handler-error"]
    assert len(events) == 1 and events[0][0][2].startswith("ec@calc:")
    chrome: Any = json.loads(json.dumps(m.trace.chrome()))
    texts = [ev["args"].get("text", "") for ev in chrome["traceEvents"]]
    assert any("in _maybe" in x for x in texts)


def test_declared_and_remote_errors_keep_their_own_message(t: ModuleType) -> None:
    m = serve(t, Calc({"name": RemoteError(14, "gone"), "add": t.Bad("x")}))
    got: list[str] = []

    def body(c: Any, ctx: Context) -> None:
        try:
            c.name("x")
        except RemoteError as e:
            got.append(str(e))
            got.append(str(getattr(e, "__notes__", None)))

    client(m, t, body)
    m.run()
    assert got == ["E_NOT_FOUND: gone", "None"]
    assert m.log == []


def test_failing_oneway_names_its_method(t: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    m = serve(t, Calc({"note": KeyError("k")}))
    client(m, t, lambda c, ctx: c.note("x"))
    with caplog.at_level(logging.WARNING, logger="runtime.binding"):
        m.run()
    (record,) = [r for r in caplog.records if r.name == "runtime.binding"]
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("oneway Calc.note raised KeyError: 'k'\nTraceback")
    assert "oneway Calc.note raised KeyError" in m.log[0]


# --- capabilities in user code --------------------------------------------------------------


def test_handler_turns_received_capabilities_into_objects(t: ModuleType) -> None:
    impl = Calc()
    m = serve(t, impl)
    other = Calc()
    other.client_cls = t.CalcClient
    m.spawn("other").serve("other", t.CalcServer(other))  # a handler cannot call itself
    out: list[object] = []

    def body(c: Any, ctx: Context) -> None:
        sm = ctx.sm()
        c.give(sm.cap(SmRights.UP))  # one call sends it, with the rights given
        sm.down()  # the server upped it
        peer = t.CalcClient(ctx.connect("other"))
        out.append(c.ask(runtime.cap(peer), 41))  # a client stub sent as a portal
        out.append(c.ask(ctx.connect("other").cap(), 1))  # a Pt

    client(m, t, body)
    r = m.run()
    assert all(why == "exit" for _, why in r.deaths) and out == [42, 2]
    (sent,) = [g for g in impl.got if isinstance(g, Crd)]
    assert sent.rights == SmRights.UP


@pytest.mark.parametrize(
    ("value", "rights"),
    [
        (Crd(CrdType.OBJ, 0x99, 0, 0x3), 0x3),  # a Crd as it is
        ("sm", 0x1F),
        ("pt", 0x1F),
    ],
)
def test_cap_builds_object_crds(value: object, rights: int) -> None:
    from runtime.api import Pt

    seen: list[Crd] = []

    def body(ctx: Context) -> None:
        v = {"sm": ctx.sm(), "pt": Pt(ctx.gate, 0x24)}.get(value, value)  # type: ignore[call-overload]
        seen.append(runtime.cap(v))

    m = Machine()
    m.spawn("p", body)
    m.run()
    assert seen[0].type == CrdType.OBJ and seen[0].rights == rights


# --- typing ---------------------------------------------------------------------------------


def test_readme_example_is_typed_for_mypy(tmp_path: Path) -> None:
    """`from runtime import Machine` is typed (the lazy names are imported for mypy), so
    the README's @m.spawn example passes mypy --strict."""
    src = tmp_path / "example.py"
    src.write_text(textwrap.dedent("""
            import idlc
            import runtime
            from runtime import Context, Machine, NotInEcError, Sm

            m = Machine(cpus=2, trace=True)
            mod = idlc.load("echo.idl")


            @m.spawn("client", cpu=0)
            def client(ctx: Context) -> None:
                sm: Sm = ctx.sm()
                sm.up()
                here: Context = runtime.current()
                print(here.cpu, runtime.cap(sm).rights, mod.EchoClient)


            r = m.run()
            print(r.deadlocked, m.stats()["clock"], len(m.trace), m.log, NotInEcError)
            """))
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(src)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
