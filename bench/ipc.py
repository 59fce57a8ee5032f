"""IPC benchmarks of the runtime (pyperf), all measured in one run on the same machine.

The stub and skeleton are the ones idlc generates: the parent process runs idlc on
`bench/ipc.idl` (interface `Null`: `ping`, `words`, `signal`) into a temporary directory
at start and hands it to the pyperf workers, which import the generated module from there.

1 `greenlet_round_trip`: a bare greenlet switch there and back (the floor of any portal
  call: the caller's EC switches to the handler's and the reply switches back).
2 `null_call`: `NullClient.ping()`: the generated stub encodes the opcode, calls through
  `runtime.binding.call`, decodes the status-only reply; the generated skeleton
  (`NullServer` via `runtime.binding.serve`) decodes the request, calls the
  implementation and encodes the status.
3 `call_8_words`: `NullClient.words(a0..a7)`, 8 inout words (plus opcode and status).
4 `call_delegate`: `NullClient.signal(sm)`: the null call plus one delegated capability (a
  semaphore, SM_UP) that the kernel maps into the server's delegate window; the server
  arms a fresh window after each request that carried items (`accept=0`), so every call
  really maps a capability.

Every check of the kernel stays in place: the portal capability and its type, the CPU, the
busy/helping logic, the receive windows and frame capacities.

    python bench/ipc.py                 # a table with the ratios to (1)
    python bench/ipc.py --quick --json  # one JSON object on stdout, within a minute

Other pyperf options (`--fast`, `--rigorous`, `-o FILE`, ...) work as usual.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyperf  # type: ignore[import-untyped]
from greenlet import getcurrent, greenlet  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime import Machine, kernel_core  # noqa: E402
from runtime.api import Context  # noqa: E402
from runtime.crd import Crd, CrdType, SmRights  # noqa: E402
from runtime.machine import Process  # noqa: E402

IDL = REPO / "bench" / "ipc.idl"
NAMES = ("greenlet_round_trip", "null_call", "call_8_words", "call_delegate")
_GEN: list[Any] = []  # the generated module, imported once per process


def generate(out: str) -> None:
    """Run idlc on bench/ipc.idl into `out` (the parent process does this once)."""
    from idlc.cli import main as idlc_main

    if idlc_main(["-o", out, str(IDL)]) != 0:
        raise SystemExit(f"idlc failed on {IDL}")


def generated() -> Any:
    """The generated module (`ipcbench.ipc_idl`) from the directory the parent made."""
    if not _GEN:
        if not _GEN_DIR:
            raise SystemExit("no generated code: run bench/ipc.py itself, not a worker")
        sys.path.insert(0, _GEN_DIR[0])
        _GEN.append(importlib.import_module("ipcbench.ipc_idl"))
    return _GEN[0]


_GEN_DIR: list[str] = []


class Impl:
    """The server's implementation of `Null` (the skeleton calls it)."""

    def ping(self) -> None:
        pass

    def words(self, *a: int) -> tuple[int, ...]:
        return a

    def signal(self, sm: Crd | None) -> None:
        if sm is None:
            raise ValueError("no semaphore")


# -- the machine, built once per worker process ----------------------------------------------
_MACHINE: list[Machine] = []


def machine() -> Machine:
    if not _MACHINE:
        m = Machine(cpus=1)
        srv = m.spawn("bench-server")
        skeleton = generated().NullServer(Impl())
        srv.serve("bench", skeleton, cpus=[0])
        srv.serve("bench-accept", skeleton, cpus=[0], accept=0)
        m.run()
        _MACHINE.append(m)
    return _MACHINE[0]


def run_client(body: Callable[[Context], float]) -> float:
    """Run `body` as a fresh client process; it returns the seconds it measured. The
    process is killed afterwards, so the capabilities it delegated go away too."""
    m = machine()
    out: list[float] = []
    proc: Process = m.spawn("bench-client", lambda ctx: out.append(body(ctx)))
    m.run()
    proc.kill()
    return out[0]


def bench_greenlet(loops: int) -> float:
    main = getcurrent()

    def partner() -> None:
        while True:
            main.switch()

    g = greenlet(partner)
    g.switch()  # start it: it parks in main.switch()
    sw = g.switch
    r = range(loops)
    t0 = time.perf_counter()
    for _ in r:
        sw()
    return time.perf_counter() - t0


def bench_null(loops: int) -> float:
    def body(ctx: Context) -> float:
        c = generated().NullClient(ctx.connect("bench"))
        null = c.ping
        null()
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            null()
        return time.perf_counter() - t0

    return run_client(body)


def bench_words(loops: int) -> float:
    def body(ctx: Context) -> float:
        c = generated().NullClient(ctx.connect("bench"))
        words = c.words
        a = tuple(range(1, 9))
        assert words(*a) == a
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            words(1, 2, 3, 4, 5, 6, 7, 8)
        return time.perf_counter() - t0

    return run_client(body)


def bench_delegate(loops: int) -> float:
    def body(ctx: Context) -> float:
        c = generated().NullClient(ctx.connect("bench-accept"))
        signal = c.signal
        sm = Crd(CrdType.OBJ, ctx.sm().sel, 0, SmRights.UP)
        signal(sm)
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            signal(sm)
        return time.perf_counter() - t0

    return run_client(body)


FUNCS: dict[str, Callable[[int], float]] = {
    "greenlet_round_trip": bench_greenlet,
    "null_call": bench_null,
    "call_8_words": bench_words,
    "call_delegate": bench_delegate,
}


def add_cmdline_args(cmd: list[str], args: Any) -> None:
    # --quick and --json only matter to the parent; the workers get the generated code.
    cmd.extend(["--gen-dir", args.gen_dir])


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.argparser.add_argument(
        "--quick", action="store_true", help="few processes and values: about half a minute"
    )
    runner.argparser.add_argument(
        "--json", action="store_true", help="print one JSON object of mean ns per operation"
    )
    runner.argparser.add_argument("--gen-dir", default="", help=argparse.SUPPRESS)
    args = runner.parse_args()
    worker = bool(args.worker)
    tmp = None
    if not args.gen_dir:
        tmp = tempfile.TemporaryDirectory(prefix="ipcbench-")
        args.gen_dir = tmp.name
        generate(tmp.name)
    _GEN_DIR.append(args.gen_dir)
    if args.quick and not worker:
        args.processes = 3
        args.values = 3
        args.warmups = 1
        args.min_time = 0.05
    if args.json and not worker:
        args.quiet = True
    results: dict[str, float] = {}
    # In --json mode the parent's pyperf chatter goes to stderr; stdout gets the object only.
    redirect = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with redirect:
        for name in NAMES:
            bench = runner.bench_time_func(name, FUNCS[name])
            if bench is not None and not worker:
                results[name] = bench.mean() * 1e9
    if worker or len(results) != len(NAMES):
        return
    base = results["greenlet_round_trip"]
    summary: dict[str, float] = {f"{n}_ns": round(results[n], 1) for n in NAMES}
    for n in NAMES[1:]:
        summary[f"{n}_ratio"] = round(results[n] / base, 2)
    core = kernel_core()  # which kernel was measured: compiled by setup.py, or the sources
    if args.json:
        print(json.dumps({**summary, "kernel": core}))
        return
    print(f"\nkernel core: {core}")
    print(f"{'benchmark':<22} {'ns/op':>10} {'x greenlet':>11}")
    for n in NAMES:
        print(f"{n:<22} {results[n]:>10.1f} {results[n] / base:>11.2f}")


if __name__ == "__main__":
    main()
