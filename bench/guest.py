"""Guest machine code against Python ECs (issue 16): the cost of leaving the emulated CPU.

1 `guest_syscall`: a guest's semaphore up (sm_ctrl) in a loop: the `syscall` hook, the
  kernel's system call entry, the status written back into rdi.
2 `guest_null_call`: a guest's portal call with a one-word request to a Python server
  whose handler returns at once (the reply is the word left in its UTCB).
3 `python_null_call`: the same call from a Python EC (the same portal and handler, the
  same kernel path `ipc_call`, the request written into its UTCB the same way).
4 `python_syscall`: the semaphore up of (1) from a Python EC (`Gate.syscall`).

Each value is the wall time of `Machine.run()` divided by the loop count (the guest's
start, one startup IPC and the first page mappings, is spread over the loops).

    python bench/guest.py                 # a table
    python bench/guest.py --quick --json  # one JSON object on stdout (the last line)
    python bench/guest.py --once guest_null_call 12000  # one run (for callgrind)
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyperf  # type: ignore[import-untyped]

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runtime import Machine  # noqa: E402
from runtime.api import Context, Syscalls  # noqa: E402
from runtime.kernel.utcb import UtcbFrame  # noqa: E402
from runtime.loader import spawn_flat  # noqa: E402

# mov r12, rdi; mov r13, [rip+count]
# 1: mov qword ptr [r12+8], 1; mov qword ptr [r12+40], 0; mov rdi, 0x100 << 8; syscall
#    dec r13; jnz 1b
# mov rax, 0x800; jmp rax (exit 0); count: .quad (the loop count)
NULL_CALL = bytes.fromhex(
    "4989fc"
    "4c8b2d29000000"
    "49c744240801000000"
    "49c744242800000000"
    "48c7c700000100"
    "0f05"
    "49ffcd"
    "75e0"
    "48c7c000080000"
    "ffe0"
)
# mov r13, [rip+count]; 1: mov rdi, 0x101 << 8 | 11 (sm up); syscall; dec r13; jnz 1b
# mov rax, 0x800; jmp rax; count: .quad
SM_UP = bytes.fromhex(
    "4c8b2d17000000" "48c7c70b010100" "0f05" "49ffcd" "75f2" "48c7c000080000" "ffe0"
)
PT, SM = 0x100, 0x101


def _null(_f: UtcbFrame) -> None:
    """The server: the reply is what the handler leaves, the request word."""


def _machine() -> tuple[Machine, int, int]:
    m = Machine(mem_pages=32)
    srv = m.spawn("server")
    pt = srv.portal(_null, cpu=0).sel
    with srv.acting():
        sm = srv.env.alloc()
        Syscalls(m.gate).create_sm(sm)
    return m, pt, sm


def guest_loop(code: bytes) -> Callable[[int], float]:
    def run(loops: int) -> float:
        m, pt, sm = _machine()
        g = spawn_flat(m, "guest", code + loops.to_bytes(8, "little"))
        srv = m.processes[1]
        srv.grant(pt, g, PT)
        srv.grant(sm, g, SM)
        t0 = time.perf_counter()
        r = m.run()
        dt = time.perf_counter() - t0
        assert ("guest", "exit 0") in r.deaths, r
        return dt

    return run


def python_null_call(loops: int) -> float:
    m, pt, _ = _machine()

    def client(ctx: Context) -> None:
        gate = ctx.gate
        u = gate.utcb()
        call, words = gate.ipc_call, u.words
        for _ in range(loops):
            u.set_items(1, 0)
            words[5] = 0
            call(PT << 8)

    c = m.spawn("client", client)
    m.processes[1].grant(pt, c, PT)
    t0 = time.perf_counter()
    m.run()
    return time.perf_counter() - t0


def python_syscall(loops: int) -> float:
    """The same semaphore up from a Python EC (through the gate's system call entry)."""
    m, _, sm = _machine()

    def client(ctx: Context) -> None:
        call = ctx.gate.syscall
        for _ in range(loops):
            call(SM << 8 | 11)

    c = m.spawn("client", client)
    m.processes[1].grant(sm, c, SM)
    t0 = time.perf_counter()
    m.run()
    return time.perf_counter() - t0


FUNCS: dict[str, Callable[[int], float]] = {
    "guest_syscall": guest_loop(SM_UP),
    "guest_null_call": guest_loop(NULL_CALL),
    "python_null_call": python_null_call,
    "python_syscall": python_syscall,
}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--once":  # for callgrind: one run, no pyperf
        FUNCS[sys.argv[2]](int(sys.argv[3]))
        return
    runner = pyperf.Runner()
    runner.argparser.add_argument("--quick", action="store_true", help="few values")
    runner.argparser.add_argument("--json", action="store_true", help="one JSON object")
    args = runner.parse_args()
    worker = bool(args.worker)
    if args.quick and not worker:
        args.processes, args.values, args.warmups, args.min_time = 2, 3, 1, 0.05
    if args.json and not worker:
        args.quiet = True
    results: dict[str, float] = {}
    redirect = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    with redirect:
        for name, fn in FUNCS.items():
            bench = runner.bench_time_func(name, fn)
            if bench is not None and not worker:
                results[name] = bench.mean() * 1e9
    if worker or len(results) != len(FUNCS):
        return
    summary = {f"{n}_ns": round(v, 1) for n, v in results.items()}
    summary["guest_vs_python_null_call"] = round(
        results["guest_null_call"] / results["python_null_call"], 2
    )
    if args.json:
        print(json.dumps(summary))
        return
    for n, v in results.items():
        print(f"{n:<20} {v:>10.1f} ns")
    print(f"guest null call / Python null call: {summary['guest_vs_python_null_call']}")


if __name__ == "__main__":
    main()
