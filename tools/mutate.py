"""Mutation testing of the compiler's and the kernel's core (`make mutate`, issue 19).

mutmut 3 mutates one module at a time in a scratch copy of the checkout (build/mutate/),
with the tests that exercise that module (MODULES), on the interpreted sources (a mutated
source beside a compiled module is refused at import). Each mutant runs only the selected
tests that called the mutated function, in a process forked from one that has imported
them. A surviving mutant counts as equivalent only if tools/mutate-equivalent.txt lists
it, with its reason. The last line printed is one JSON object: per module, killed,
survived, equivalent and score = killed / (killed + survived).

    python tools/mutate.py [module path ...]   # default: all of MODULES
    python tools/mutate.py --report [module ...]  # score the last run again
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / "build" / "mutate"
EQUIVALENT = ROOT / "tools" / "mutate-equivalent.txt"

# Each module with the tests that exercise it (the smallest set that kills what they can).
MODULES: dict[str, list[str]] = {
    "runtime/kernel/mdb.py": ["tests/runtime/test_mdb.py", "tests/runtime/test_mdb_values.py"],
    "runtime/kernel/utcb.py": ["tests/runtime/test_utcb.py", "tests/runtime/test_utcb_values.py"],
    "runtime/kernel/syscalls.py": [
        "tests/runtime/test_syscalls.py",
        "tests/runtime/test_syscall_values.py",
    ],
    "runtime/kernel/kernel.py": [
        "tests/runtime/test_ipc.py",
        "tests/runtime/test_delegate_call.py",
        "tests/runtime/test_call_status.py",
        "tests/test_fixed_calls.py",
        "tests/runtime/test_ipc_values.py",
    ],
    "idlc/consteval.py": ["tests/test_consteval.py", "tests/test_omg_rules.py"],
    "idlc/layout.py": ["tests/test_layout.py", "tests/test_layout_values.py"],
}

# Where only part of a module is studied: the functions (mutmut's mangled names, globs)
# whose mutants run and count. The kernel's IPC path: call, reply and the transfer.
_K = "runtime.kernel.kernel.x"
FUNCTIONS: dict[str, list[str]] = {
    "runtime/kernel/kernel.py": [
        f"{_K}_run_fixed*",
        *(
            f"{_K}\u01c1Kernel\u01c1{name}*"
            for name in (
                "ipc_call",
                "call_fixed",
                "take_reply",
                "call_words",
                "call",
                "_call_busy",
                "reply",
                "_answer",
                "transfer",
                "_xfer_items",
            )
        ),
    ],
}

# What a scratch copy needs: the packages, the tests and what they read.
COPY = ["idlc", "runtime", "samples", "tests", "scripts", "bench", "docs", "README.md", "setup.py"]

# mutmut's statuses: a timeout or a crash is a mutant the tests noticed.
KILLED = {"killed", "timeout", "segfault", "suspicious"}
SURVIVED = {"survived", "no tests"}


def equivalent_list(path: Path = EQUIVALENT) -> dict[str, str]:
    """Mutant name -> reason, from `name  reason` lines ('#' starts a comment)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}: {name} has no reason")
        out[name] = reason.strip()
    return out


def _scratch(module: str, tests: list[str]) -> Path:
    work = SCRATCH / Path(module).stem
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    skip = shutil.ignore_patterns("__pycache__", "*.so", "_core.sha256", ".hypothesis")
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=skip)
        elif src.exists():
            shutil.copy2(src, work / name)
    config = (
        "\n[tool.mutmut]\n"
        f'source_paths = ["{module.split("/")[0]}"]\n'
        f'only_mutate = ["{module}"]\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:timeout"]\n'
        # a mutant that loops is stopped after 6x (its tests' recorded time + 1 s) of CPU
        "timeout_multiplier = 3.0\n"
    )
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (work / "pyproject.toml").write_text(text + config, encoding="utf-8")
    return work


def _statuses(work: Path, module: str) -> dict[str, str]:
    """Mutant name -> mutmut's status, from the run's record of the module."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((work / "mutants" / (module + ".meta")).read_text(encoding="utf-8"))
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    return {name: status_by_exit_code[code] for name, code in codes.items()}


def run(
    module: str, equivalent: dict[str, str], log: Path, report_only: bool = False
) -> dict[str, float | int]:
    work = SCRATCH / Path(module).stem
    if not report_only:
        _mutate(module, work, log)
    return _score(module, work, equivalent)


def _mutate(module: str, work: Path, log: Path) -> None:
    _scratch(module, MODULES[module])
    env = dict(os.environ, IDLC_NATIVE="0", IDLC_MUTATE="1", PYTHONDONTWRITEBYTECODE="1")
    jobs = os.environ.get("MUTATE_JOBS", "2")  # mutants at once (2 cores), each niced
    cmd = ["nice", "-n", "19", sys.executable, "-m", "mutmut", "run", "--max-children", jobs]
    cmd += FUNCTIONS.get(module, [])
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n=== {module}\n")
        out.flush()
        done = subprocess.run(cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        # e.g. "failed to collect stats": the module's tests fail unmutated, so no score
        raise SystemExit(f"{module}: mutmut exited {done.returncode} (see build/mutate/mutate.log)")


def _score(module: str, work: Path, equivalent: dict[str, str]) -> dict[str, float | int]:
    if not (work / "mutants" / (module + ".meta")).exists():
        raise SystemExit(f"{module}: no results in {work} (see build/mutate/mutate.log)")
    statuses = {n: s for n, s in _statuses(work, module).items() if s != "not checked"}
    if not statuses:  # nothing ran: a score of 1.0 would be a lie
        raise SystemExit(f"{module}: no mutant was checked (see build/mutate/mutate.log)")
    killed = sum(s in KILLED for s in statuses.values())
    survivors = sorted(n for n, s in statuses.items() if s in SURVIVED)
    eq = [n for n in survivors if n in equivalent]
    left = [n for n in survivors if n not in equivalent]
    _write_diffs(work, module, left, SCRATCH / f"{Path(module).stem}.survivors")
    stale = [n for n in equivalent if n.startswith(_prefix(module)) and n not in survivors]
    for name in stale:
        print(f"listed as equivalent but not a survivor: {name}", file=sys.stderr)
    score = killed / (killed + len(left)) if killed + len(left) else 1.0
    return {"killed": killed, "survived": len(left), "equivalent": len(eq), "score": score}


def _write_diffs(work: Path, module: str, names: list[str], out: Path) -> None:
    """Each survivor's diff, for the reader (mutmut's `show`, without a process each)."""
    from mutmut.configuration import reset_config
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    cwd = Path.cwd()
    os.chdir(work)
    try:
        reset_config()
        text = "".join(f"# {n}\n{get_diff_for_mutant(n, path=module)}\n\n" for n in names)
    finally:
        os.chdir(cwd)
        reset_config()
    out.write_text(text, encoding="utf-8")


def _prefix(module: str) -> str:
    return module.removesuffix(".py").replace("/", ".") + "."


def main(argv: list[str]) -> int:
    report_only = "--report" in argv  # score the last run again (the equivalent list changed)
    argv = [a for a in argv if a != "--report"]
    modules = argv or list(MODULES)
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; known: {', '.join(MODULES)}")
        return 2
    equivalent = equivalent_list()
    SCRATCH.mkdir(parents=True, exist_ok=True)
    log = SCRATCH / "mutate.log"
    if not report_only:
        log.write_text("", encoding="utf-8")
    results: dict[str, dict[str, float | int]] = {}
    begin = time.monotonic()
    for module in modules:
        start = time.monotonic()
        results[module] = run(module, equivalent, log, report_only)
        r = results[module]
        print(
            f"{module}: {r['killed']} killed, {r['survived']} survived, "
            f"{r['equivalent']} equivalent, score {r['score']:.3f} "
            f"({time.monotonic() - start:.0f} s; survivors in build/mutate/*.survivors)",
            file=sys.stderr,
        )
    print(f"all: {time.monotonic() - begin:.0f} s", file=sys.stderr)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
