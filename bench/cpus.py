"""How many CPUs the services take: a machine with N CPUs, one service that serves on
every CPU (`Process.serve`), and a client thread on every CPU that connects by name
through the registry and calls it (issue 15, item 5: `max_cpus_with_services`).

    python bench/cpus.py          # prints {"max_cpus_with_services": 256}

`bench/scale.py` calls `max_cpus_with_services()`; tests/runtime/test_attacks.py runs
`serve_on_every_cpu` at 65 and 256 CPUs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.api import Context
from runtime.machine import Machine
from runtime.services import get_string, guard, put_string
from runtime.status import ErrorCode
from runtime.utcb import UtcbFrame

TRIED = (64, 65, 128, 256)


def _echo_cpu(f: UtcbFrame) -> None:
    s = get_string(f, 64)
    f.finish_input()
    f.put_word(ErrorCode.E_SUCCESS)
    put_string(f, s)


def serve_on_every_cpu(n: int, seed: int = 0) -> bool:
    """Build a machine of `n` CPUs, serve "svc" on each and call it from each CPU by name;
    True when every CPU's client got its own answer and nothing died or escaped."""
    try:
        m = Machine(cpus=n, seed=seed)
        m.spawn("srv").serve("svc", guard(_echo_cpu))
        got: dict[int, str] = {}
        cli = m.spawn("cli")

        def body(ctx: Context) -> None:
            pt = ctx.connect("svc")
            with pt.frame() as f:
                put_string(f, f"cpu{ctx.cpu}")
                pt.call(f)
                if f.get_word() == ErrorCode.E_SUCCESS:
                    got[ctx.cpu] = get_string(f)

        for cpu in range(n):
            cli.thread(body, cpu=cpu, name=f"cli:{cpu}")
        r = m.run(check=False)
    except Exception:
        return False
    ok = got == {c: f"cpu{c}" for c in range(n)}
    return ok and r.reason == "idle" and not r.blocked and not m.k.ec_faults


def max_cpus_with_services(limit: int = 256) -> int:
    """The largest of 64, 65, 128, 256 (up to `limit`) at which `serve_on_every_cpu`
    holds, each smaller one holding too; 0 if even 64 fails."""
    best = 0
    for n in (t for t in TRIED if t <= limit):
        if not serve_on_every_cpu(n):
            break
        best = n
    return best


if __name__ == "__main__":
    print(json.dumps({"max_cpus_with_services": max_cpus_with_services()}))
