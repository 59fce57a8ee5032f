"""The lecture's IPC lessons (samples/lessons/, docs/lessons.md): each run's outcome is the
one the lesson predicts, read from virtual time and the SCs' consumed time. Each would
fail if the kernel did otherwise: without time donation a portal handler's job would not
be billed to the caller's SC and the medium EC would delay it; without helping the rest
of the earlier request would be paid by its own caller; without the help bound a
handler calling its own portal would spin forever; a page fault that is not retried
would lose the store."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from runtime.memory import PF_USER, PF_WRITE

ROOT = Path(__file__).resolve().parents[1]
OVERHEAD = 20  # us: the system calls around a job (1 us each), never a job's worth


def _forget() -> None:
    for name in list(sys.modules):
        if name == "build" or name.startswith(("build.", "samples.lessons.")):
            del sys.modules[name]


@pytest.fixture(scope="module")
def lessons(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """samples.lessons, its stubs (`build.lessons.*_idl`) generated into a temp dir."""
    root = tmp_path_factory.mktemp("lessons")
    pkg = importlib.import_module("samples.lessons")
    pkg.generate(root / "build")
    _forget()
    sys.path.insert(0, str(root))
    try:
        yield pkg
    finally:
        sys.path.remove(str(root))
        _forget()


def lesson(pkg: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{pkg.__name__}.{name}")


# -- priority inversion and time donation ----------------------------------------------------

# (job, medium's work, when medium wakes): medium wakes during the job, except in the last
# row, where the job is done before its timer fires
INVERSION = [(1000, 3000, 200), (500, 2000, 100), (2000, 700, 1500), (300, 1000, 800)]


@pytest.mark.parametrize(("job", "medium", "arrives"), INVERSION)
def test_without_donation_the_medium_ec_delays_the_high_client(
    lessons: ModuleType, job: int, medium: int, arrives: int
) -> None:
    inv = lesson(lessons, "inversion")
    o = inv.run(donate=False, job_us=job, medium_us=medium, arrives_us=arrives)
    assert o.worker_sc >= job and o.high_sc < OVERHEAD  # the worker's SC paid for the job
    if arrives < job:
        # medium preempted the worker mid-job: high waited for all of medium's work
        assert o.job[0] < o.medium[0] < o.medium[1] < o.job[1] <= o.answered
        assert job + medium <= o.latency <= job + medium + OVERHEAD
    else:  # the timer fired after the job: nothing came between
        assert o.answered <= o.medium[0]
        assert job <= o.latency <= job + OVERHEAD


@pytest.mark.parametrize(("job", "medium", "arrives"), INVERSION)
def test_through_a_portal_the_job_runs_on_the_callers_sc_and_medium_waits(
    lessons: ModuleType, job: int, medium: int, arrives: int
) -> None:
    inv = lesson(lessons, "inversion")
    o = inv.run(donate=True, job_us=job, medium_us=medium, arrives_us=arrives)
    assert o.worker_sc == 0
    assert job <= o.high_sc <= job + OVERHEAD  # billed to high's SC: donation
    assert o.asked < o.job[0] < o.job[1] <= o.answered <= o.medium[0]
    assert job <= o.latency <= job + OVERHEAD


def test_the_inversion_costs_exactly_medium_s_work(lessons: ModuleType) -> None:
    inv = lesson(lessons, "inversion")
    worker, portal = inv.run(donate=False), inv.run(donate=True)
    assert worker.asked == portal.asked  # the same start, the same request
    assert worker.latency - portal.latency - inv.MEDIUM_US in range(OVERHEAD)


# -- helping ---------------------------------------------------------------------------------

# (low's page, high's page, when high wakes): always while low's page is rendered
HELPING = [(1000, 200, 300), (1000, 200, 900), (400, 400, 100), (3000, 50, 1500)]


@pytest.mark.parametrize(("low", "high", "arrives"), HELPING)
def test_a_busy_server_finishes_the_earlier_request_on_the_helper_s_time(
    lessons: ModuleType, low: int, high: int, arrives: int
) -> None:
    o = lesson(lessons, "helping").run(low_us=low, high_us=high, arrives_us=arrives)
    assert o.helps == 1  # high found the handler busy once, and helped
    assert o.low_page[0] < o.high[0] < o.low_page[1]  # high asked mid-page
    assert o.low_page[1] <= o.high_page[0]  # low's page first: the handler serves in order
    assert o.high[1] <= o.low[1]  # high is answered before low's SC runs again
    # high's SC paid for the rest of low's page and its own; low's only for the start
    assert o.helped_us + high <= o.high_sc <= o.helped_us + high + OVERHEAD
    assert o.low_sc <= o.high[0] - o.low[0] + OVERHEAD
    assert o.low_sc + o.helped_us >= low
    # high waited for the rest of low's page, never for low's priority
    assert o.high[1] - o.high[0] <= o.helped_us + high + OVERHEAD


# -- the livelock ----------------------------------------------------------------------------


def test_a_handler_calling_its_own_portal_dies_and_its_caller_gets_com_abt(
    lessons: ModuleType,
) -> None:
    o = lesson(lessons, "livelock").run()
    assert o.statuses == ["COM_ABT", "COM_TIM"]  # aborted; then the handler is dead
    assert o.deaths == [("countdown", "Livelock")]
    assert o.helps == 99  # NOVA's bound: the 100th attempt kills the caller
    assert o.seen == [3]  # the nested call never reached a handler


def test_recursion_inside_the_server_is_no_livelock(lessons: ModuleType) -> None:
    o = lesson(lessons, "livelock").run(direct=True)
    assert o.statuses == ["returned 3", "returned 2"]
    assert o.deaths == [] and o.helps == 0 and o.seen == [3, 2]


# -- exception handling ----------------------------------------------------------------------


def test_the_pager_fixes_each_page_fault_and_the_store_runs_again(lessons: ModuleType) -> None:
    pf = lesson(lessons, "pagefault")
    o = pf.run()
    # one fault per page, at the first store to it: a write to a page not present
    first: dict[int, int] = {}
    for index, _ in pf.PUTS:
        first.setdefault((pf.TABLE + 8 * index) >> 12, pf.TABLE + 8 * index)
    assert o.faults == [(PF_WRITE | PF_USER, addr) for addr in first.values()]
    assert o.got == [dict(pf.PUTS).get(i, 0) for i in pf.GETS]  # every store landed
    assert o.deaths == []  # the server's handler EC resumed each time
    costs = dict(o.calls)
    # the fault's handling (the pager clears the page) ran inside the call, on the
    # client's donated SC
    assert costs["put(0)"] - costs["put(1)"] >= pf.CLEAR_US
    assert o.client_sc >= len(o.faults) * pf.CLEAR_US


# -- traces, the runner, the demo and the docs -----------------------------------------------


def test_each_lesson_writes_a_perfetto_trace_with_the_kernel_and_the_lesson(
    lessons: ModuleType, tmp_path: Path
) -> None:
    traces = lessons.show(list(lessons.LESSONS), tmp_path)
    assert [t.name for t in traces] == [
        "lesson-inversion-worker.json",
        "lesson-inversion-portal.json",
        "lesson-helping.json",
        "lesson-livelock.json",
        "lesson-pagefault.json",
    ]
    for path in traces:
        events = json.loads(path.read_text())["traceEvents"]
        kernel = {e["name"] for e in events if e["pid"] == 0}
        spans = [e for e in events if e["pid"] == 1 and e["ph"] == "X"]
        assert {"run", "sys0"} <= kernel, path.name
        assert spans and all(e["dur"] >= 0 for e in spans), path.name


def _runner(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "samples.lessons", *args, "--root", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_runner_prints_two_lines_per_lesson(tmp_path: Path) -> None:
    proc = _runner("livelock", "helping", root=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5 and lines[0].startswith("  livelock: ")
    assert lines[2].startswith("  helping: ") and "lesson-helping.json" in lines[4]
    assert (tmp_path / "build" / "lesson-livelock.json").is_file()


def test_the_runner_names_an_unknown_lesson(tmp_path: Path) -> None:
    proc = _runner("deadlock", root=tmp_path)
    assert proc.returncode == 2
    assert "no lesson deadlock; there are inversion, helping, livelock, pagefault" in proc.stderr


def test_docs_quote_what_the_lessons_print(
    lessons: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lessons.show(list(lessons.LESSONS), tmp_path)
    printed = capsys.readouterr().out.splitlines()
    doc = (ROOT / "docs" / "lessons.md").read_text()
    for line in printed:
        assert line in doc, f"docs/lessons.md does not quote {line!r}"
