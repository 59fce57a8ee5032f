"""IPC benchmarks of the runtime (pyperf), all measured in one run on the same machine.

1 `greenlet_round_trip`: a bare greenlet switch there and back (the floor of any portal
  call: the caller's EC switches to the handler's and the reply switches back).
2 `null_call`: a null call through a stub shaped like the generated ones: the client pushes
  a frame, puts the opcode, calls, reads the status and checks the reply is consumed; the
  skeleton reads the opcode, checks the request is consumed and answers a status word.
3 `call_8_words`: the same with 8 words in and 8 words out (plus opcode and status).
4 `call_delegate`: the null call plus one delegated capability (a semaphore, SM_UP) that the
  kernel maps into the server's delegate window; the server arms a fresh window after each
  request that carried items (what `accept=` does), so every call really maps a capability.

Every check of the kernel stays in place: the portal capability and its type, the CPU, the
busy/helping logic, the receive windows and frame capacities.

    python bench/ipc.py                 # a table with the ratios to (1)
    python bench/ipc.py --quick --json  # one JSON object on stdout, within a minute

Other pyperf options (`--fast`, `--rigorous`, `-o FILE`, ...) work as usual.
"""

from __future__ import annotations

import contextlib
import json
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyperf  # type: ignore[import-untyped]
from greenlet import getcurrent, greenlet  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime import Machine  # noqa: E402
from runtime.api import Context, Pt  # noqa: E402
from runtime.crd import CrdType, SmRights, crd  # noqa: E402
from runtime.machine import Process  # noqa: E402
from runtime.status import ErrorCode, RemoteError, UtcbError  # noqa: E402
from runtime.utcb import UtcbFrame  # noqa: E402

IID = 7
OP_NULL, OP_WORDS, OP_SIGNAL = IID << 16 | 0, IID << 16 | 1, IID << 16 | 2
E_SUCCESS = int(ErrorCode.E_SUCCESS)
E_ARGS_INVALID = int(ErrorCode.E_ARGS_INVALID)
E_NOT_FOUND = int(ErrorCode.E_NOT_FOUND)
WORDS8 = struct.Struct("<8Q")

NAMES = ("greenlet_round_trip", "null_call", "call_8_words", "call_delegate")


# -- stubs in the shape the Python backend generates -----------------------------------------
class BenchClient:
    def __init__(self, pt: Pt) -> None:
        self._pt = pt

    def null(self) -> None:
        with self._pt.frame() as f:
            f.put_word(OP_NULL)
            self._pt.call(f)
            status = f.get_word()
            if status != E_SUCCESS:
                raise RemoteError(status, "null")
            f.finish_input()

    def words(self, a: tuple[int, ...]) -> tuple[object, ...]:
        with self._pt.frame() as f:
            f.put_word(OP_WORDS)
            f.pack(WORDS8, *a)
            self._pt.call(f)
            status = f.get_word()
            if status != E_SUCCESS:
                raise RemoteError(status, "words")
            out = f.unpack(WORDS8)
            f.finish_input()
            return out

    def signal(self, sm_sel: int) -> None:
        with self._pt.frame() as f:
            f.put_word(OP_SIGNAL)
            f.delegate(crd(CrdType.OBJ, sm_sel, 0, SmRights.UP), hotspot=0)
            self._pt.call(f)
            status = f.get_word()
            if status != E_SUCCESS:
                raise RemoteError(status, "signal")
            f.finish_input()


class BenchServer:
    """The skeleton: `skeleton(frame)` for each call."""

    def __call__(self, f: UtcbFrame) -> None:
        try:
            op = f.get_word()
            if op == OP_NULL:
                f.finish_input()
                f.put_word(E_SUCCESS)
            elif op == OP_WORDS:
                a = f.unpack(WORDS8)
                f.finish_input()
                f.put_word(E_SUCCESS)
                f.pack(WORDS8, *a)
            elif op == OP_SIGNAL:
                c, aux = f.get_item()
                f.finish_input()
                if c & 3 != CrdType.OBJ or not aux & 1:
                    raise UtcbError(ErrorCode.E_ARGS_INVALID, "expected a delegated object")
                f.put_word(E_SUCCESS)
            else:
                f.put_word(E_NOT_FOUND)
        except UtcbError:
            f.clear()
            f.put_word(E_ARGS_INVALID)


# -- the machine, built once per worker process ----------------------------------------------
_MACHINE: list[Machine] = []


def machine() -> Machine:
    if not _MACHINE:
        m = Machine(cpus=1)
        srv = m.spawn("bench-server")
        skeleton = BenchServer()
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
        c = BenchClient(ctx.connect("bench"))
        null = c.null
        null()
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            null()
        return time.perf_counter() - t0

    return run_client(body)


def bench_words(loops: int) -> float:
    def body(ctx: Context) -> float:
        c = BenchClient(ctx.connect("bench"))
        words = c.words
        a = tuple(range(1, 9))
        assert words(a) == a
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            words(a)
        return time.perf_counter() - t0

    return run_client(body)


def bench_delegate(loops: int) -> float:
    def body(ctx: Context) -> float:
        c = BenchClient(ctx.connect("bench-accept"))
        signal = c.signal
        sel = ctx.sm().sel
        signal(sel)
        r = range(loops)
        t0 = time.perf_counter()
        for _ in r:
            signal(sel)
        return time.perf_counter() - t0

    return run_client(body)


FUNCS: dict[str, Callable[[int], float]] = {
    "greenlet_round_trip": bench_greenlet,
    "null_call": bench_null,
    "call_8_words": bench_words,
    "call_delegate": bench_delegate,
}


def add_cmdline_args(cmd: list[str], args: object) -> None:
    pass  # --quick and --json only matter to the parent process


def main() -> None:
    runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
    runner.argparser.add_argument(
        "--quick", action="store_true", help="few processes and values: about half a minute"
    )
    runner.argparser.add_argument(
        "--json", action="store_true", help="print one JSON object of mean ns per operation"
    )
    args = runner.parse_args()
    worker = bool(args.worker)
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
    if args.json:
        print(json.dumps(summary))
        return
    print()
    print(f"{'benchmark':<22} {'ns/op':>10} {'x greenlet':>11}")
    for n in NAMES:
        print(f"{n:<22} {results[n]:>10.1f} {results[n] / base:>11.2f}")


if __name__ == "__main__":
    main()
