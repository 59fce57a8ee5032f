"""Table of the call's status codes (NOVA-NRE.md §1 row 0, §4), each from a running EC."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from runtime.api import Context, Syscalls
from runtime.crd import ALL
from runtime.kernel import mdb
from runtime.kernel.pt import Pt as PtObj
from runtime.kernel.syscalls import NONBLOCKING, Sys, word0
from runtime.machine import Machine, Process, ec_of, pd_of
from runtime.status import Status
from runtime.utcb import UtcbFrame

TARGET = 0x500


def _ok(m: Machine, cli: Process) -> None:
    srv = m.spawn("srv")
    srv.grant(srv.portal(lambda f: None).sel, cli, TARGET)


def _no_cap(m: Machine, cli: Process) -> None:
    m.spawn("srv").portal(lambda f: None)  # nothing granted


def _not_a_portal(m: Machine, cli: Process) -> None:
    with cli.acting():
        Syscalls(m.gate).create_sm(TARGET, 0)


def _other_cpu(m: Machine, cli: Process) -> None:
    srv = m.spawn("srv")
    srv.grant(srv.portal(lambda f: None, cpu=1).sel, cli, TARGET)


def _global_ec(m: Machine, cli: Process) -> None:
    t = cli.thread(lambda ctx: ctx.sm(0).down())
    mdb.insert_root(
        pd_of(cli).obj, TARGET, PtObj(m.k.graveyard, ec_of(cli, t.ec_sel), 0, 0, TARGET), ALL
    )


def _busy(m: Machine, cli: Process, die: bool = False) -> None:
    """The handler blocks forever serving a first caller of the same PD."""
    srv = m.spawn("srv")
    gate: list[int] = []

    def handler(f: UtcbFrame) -> None:
        if die:
            raise RuntimeError("handler fault")
        m.k.syscall(word0(Sys.SM_CTRL, gate[0], 0x10))

    pt = srv.portal(handler)
    with srv.acting():
        gate.append(srv.env.alloc())
        Syscalls(m.gate).create_sm(gate[0], 0)
    srv.grant(pt.sel, cli, TARGET)

    def first(ctx: Context) -> None:
        ctx.gate.syscall(word0(Sys.CALL, TARGET))

    cli.thread(first, prio=9)  # runs first, leaves the handler busy (or dead)


def _dead(m: Machine, cli: Process) -> None:
    _busy(m, cli, die=True)


def _self_call(m: Machine, cli: Process) -> None:
    srv = m.spawn("srv")
    sel: list[int] = []
    pt = srv.portal(lambda f: m.k.syscall(word0(Sys.CALL, sel[0])) and None)
    sel.append(pt.sel)
    srv.grant(pt.sel, cli, TARGET)


CASES: list[tuple[str, Callable[[Machine, Process], None], int, Status]] = [
    ("success", _ok, 0, Status.SUCCESS),
    ("no capability", _no_cap, 0, Status.BAD_CAP),
    ("not a portal", _not_a_portal, 0, Status.BAD_CAP),
    ("callee on another CPU", _other_cpu, 0, Status.BAD_CPU),
    ("callee is global", _global_ec, 0, Status.BAD_CPU),
    ("busy, non-blocking", _busy, NONBLOCKING, Status.COM_TIM),
    ("callee dead", _dead, 0, Status.COM_TIM),
    ("callee dead, non-blocking", _dead, NONBLOCKING, Status.COM_TIM),
    ("handler dies of a livelock", _self_call, 0, Status.COM_ABT),
]


@pytest.mark.parametrize(("name", "setup", "flags", "want"), CASES, ids=[c[0] for c in CASES])
def test_call_status(
    name: str, setup: Callable[[Machine, Process], None], flags: int, want: Status
) -> None:
    m = Machine(cpus=2)
    cli = m.spawn("cli")
    seen: list[int] = []
    setup(m, cli)

    def body(ctx: Context) -> None:
        seen.append(ctx.gate.syscall(word0(Sys.CALL, TARGET, flags))[0])

    cli.thread(body)
    m.run(check=False)
    assert seen == [want], name
    assert m.k.faults == []
