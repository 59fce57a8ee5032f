"""idlc's pytest plugin (idlc/pytest_plugin.py, entry point pytest11), tested with pytester:
each test writes a test file, runs pytest on it and checks the outcome."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ECHO = (Path(__file__).resolve().parent.parent / "samples" / "echo" / "echo.idl").read_text()

SERVICE = """
from runtime import Machine, RemoteError
from runtime.api import Context


class Impl:
    def ping(self, text):
        if text == "die":
            raise SystemExit("bye")
        return text

    def log(self, line):
        pass


def ping_die(e, ctx: Context) -> None:
    try:
        e.EchoClient(ctx.connect("echo")).ping("die")
    except RemoteError:
        pass  # the server answered and goes on serving


def serve(m: Machine, e) -> list:
    m.spawn("server").serve("echo", e.EchoServer(Impl()))
    got = []
    return got
"""


@pytest.fixture
def echo(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".idl", echo=ECHO)
    pytester.makepyfile(service=SERVICE)
    pytester.syspathinsert()
    return pytester


def test_entry_point_is_registered() -> None:
    eps = importlib.metadata.entry_points(group="pytest11")
    assert [e.value for e in eps if e.name == "idlc"] == ["idlc.pytest_plugin"]


def test_fixtures_are_listed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--fixtures")
    result.stdout.fnmatch_lines(["*nova_machine*", "*idl*"])


def test_nova_machine_runs_a_service(echo: pytest.Pytester) -> None:
    echo.makepyfile(test_ok="""
        import pytest
        from service import serve

        @pytest.mark.nova_machine(cpus=2, trace=True)
        def test_ping(nova_machine, idl):
            e = idl("echo.idl")
            got = serve(nova_machine, e)

            @nova_machine.spawn("client")
            def client(ctx):
                got.append(e.EchoClient(ctx.connect("echo")).ping("hi"))

            nova_machine.run()
            assert got == ["hi"]
            assert nova_machine.cpus == 2 and len(nova_machine.trace) > 0

        def test_left_to_teardown(nova_machine, idl):
            e = idl("echo.idl")
            serve(nova_machine, e)
            nova_machine.spawn("client", lambda ctx: e.EchoClient(ctx.connect("echo")).ping("x"))
        """)
    echo.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


# (the client's body, the mark, what the teardown reports or None when it passes)
DEATHS = [
    ("raise ValueError('client bug')", "", "*ECs died: client (EXC ValueError: *client bug*"),
    ("raise ValueError('client bug')", "@pytest.mark.nova_machine(allow_deaths=True)", None),
    ("ping_die(e, ctx)", "", None),  # the server's SystemExit is an error reply
    ("ctx.pt(0x999).call()", "", "*ECs died: client (EXC SyscallError: *BAD_CAP*"),
]


@pytest.mark.parametrize(("body", "mark", "report"), DEATHS)
def test_nova_machine_checks_dead_ecs_at_teardown(
    echo: pytest.Pytester, body: str, mark: str, report: str | None
) -> None:
    echo.makepyfile(test_dies=f"""
        import pytest
        from service import ping_die, serve

        {mark}
        def test_it(nova_machine, idl):
            e = idl("echo.idl")
            serve(nova_machine, e)

            @nova_machine.spawn("client")
            def client(ctx):
                {body}

            nova_machine.run(check=False)
        """)
    result = echo.runpytest("-p", "no:cacheprovider")
    if report is None:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(passed=1, errors=1)
        result.stdout.fnmatch_lines([report])


def test_idl_fixture_reports_compile_errors(pytester: pytest.Pytester) -> None:
    pytester.makefile(".idl", bad="module b { struct S { long x }; };")
    pytester.makepyfile(test_bad="""
        import idlc, pytest

        def test_it(idl):
            with pytest.raises(idlc.CompileError) as info:
                idl("bad.idl")
            assert info.value.codes
        """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_idl_strategy_round_trips(echo: pytest.Pytester) -> None:
    echo.makepyfile(test_props="""
        import idlc
        from hypothesis import given, settings
        from idlc.pytest_plugin import idl_strategy

        e = idlc.load("echo.idl")

        @settings(max_examples=20)
        @given(idl_strategy("echo.idl", "demo::Empty"))
        def test_exception(exc):
            assert isinstance(exc, e.Empty) and len(exc.why.encode()) <= 64

        @settings(max_examples=20)
        @given(idl_strategy(e, "demo::Echo::ping", arch="x86_32"))
        def test_request(args):
            codec = e.EchoCodec.ping
            assert codec.parse_request(codec.request("x86_32", *args)) == args

        def test_unknown_name():
            import pytest
            with pytest.raises(LookupError, match="demo::Nope"):
                idl_strategy(e, "demo::Nope")
        """)
    echo.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)
