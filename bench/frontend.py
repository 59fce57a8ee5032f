"""Front-end benchmarks: cold start against omniidl, and corpus throughput.

Cold start (issue 14 item 7): `idlc --check FILE` and `omniidl -bdump FILE` as whole
processes on the same small corpus file, run in alternating pairs (A B A B ..., after a
warm-up of each) so that a drift of the machine's speed hits both; the figure is the
median of the pairs' ratios idlc/omniidl, of wall time and of CPU time (user + system,
children included: omniidl runs its preprocessor as a process of its own). The target is
a wall ratio of at most 0.9. idlc is the installed command beside this interpreter, as a
user runs it (`make` installs it).

Corpus throughput (not with --quick): preprocess + parse + check every valid corpus file
in one process through compile_file, the best of a few rounds, in MB/s.

    IDLC_CORPUS=../shared/corpus/omg-idl python bench/frontend.py [--quick] [--json] [--pairs N]

--quick: cold start only, 15 pairs. --json: the last line on stdout is one JSON object
with ratio (wall), cpu_ratio, idlc_ms and omniidl_ms (medians), pairs and file.
omniidl is needed (`apt-get install omniidl`, a benchmark tool, not a dependency): without
it the cold start cannot be compared, which the script says, exiting with status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from idlc.diagnostics import Diagnostics  # noqa: E402
from idlc.driver import Options, compile_file  # noqa: E402

VALID = ("valid", "valid-needs-flags")
TARGET_RATIO = 0.9


def corpus_root() -> Path:
    value = os.environ.get("IDLC_CORPUS")
    root = Path(value) if value else REPO.parent / "shared" / "corpus" / "omg-idl"
    if not (root / "MANIFEST.tsv").is_file():
        sys.exit(f"bench: {root / 'MANIFEST.tsv'} not found (set IDLC_CORPUS)")
    return root


def corpus_files(root: Path) -> list[Path]:
    with open(root / "MANIFEST.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    files = [
        root / r["path"]
        for r in rows
        if r["expect"] in VALID and not r["path"].startswith("dialects/")
    ]
    return sorted(p for p in files if p.is_file())


def small_file(files: list[Path], omniidl: str) -> Path:
    """The smallest file of at least 500 bytes that both accept (exit status 0)."""
    for path in sorted(files, key=lambda p: (p.stat().st_size, str(p))):
        if path.stat().st_size < 500:
            continue
        diags = Diagnostics()
        compile_file(str(path), Options(), diags)
        if diags.has_errors:
            continue
        if subprocess.run([omniidl, "-bdump", str(path)], capture_output=True).returncode == 0:
            return path
    sys.exit("bench: no corpus file of >= 500 bytes that idlc and omniidl both accept")


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, with the process's own children) of argv."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {proc.returncode}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def cold_start(idlc: list[str], omniidl: list[str], pairs: int) -> dict[str, float]:
    for _ in range(2):  # warm the page cache and both bytecode caches
        run_once(idlc)
        run_once(omniidl)
    a_wall, b_wall, a_cpu, b_cpu = [], [], [], []
    for _ in range(pairs):
        wall, cpu = run_once(idlc)
        a_wall.append(wall)
        a_cpu.append(cpu)
        wall, cpu = run_once(omniidl)
        b_wall.append(wall)
        b_cpu.append(cpu)
    return {
        "ratio": statistics.median(a / b for a, b in zip(a_wall, b_wall, strict=True)),
        "cpu_ratio": statistics.median(a / b for a, b in zip(a_cpu, b_cpu, strict=True) if b > 0),
        "idlc_ms": statistics.median(a_wall) * 1e3,
        "omniidl_ms": statistics.median(b_wall) * 1e3,
        "idlc_cpu_ms": statistics.median(a_cpu) * 1e3,
        "omniidl_cpu_ms": statistics.median(b_cpu) * 1e3,
    }


def throughput(files: list[Path], rounds: int = 3) -> tuple[float, float]:
    """MB and the best seconds of compiling every file in this process."""
    nbytes = sum(p.stat().st_size for p in files)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for path in files:
            compile_file(str(path), Options(), Diagnostics())
        best = min(best, time.perf_counter() - start)
    return nbytes / 1e6, best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="cold start only, 15 pairs")
    ap.add_argument("--json", action="store_true", help="end with one JSON line")
    ap.add_argument("--pairs", type=int, default=None, help="cold-start pairs (default 15/31)")
    args = ap.parse_args()
    omniidl = shutil.which("omniidl")
    if omniidl is None:
        print(
            "bench: omniidl is not on PATH: the cold start of idlc is measured against "
            "`omniidl -bdump` (install it with `apt-get install -y omniidl`)",
            file=sys.stderr,
        )
        return 2
    files = corpus_files(corpus_root())
    target = small_file(files, omniidl)
    script = Path(sys.executable).with_name("idlc")
    idlc = [str(script)] if script.exists() else [sys.executable, "-m", "idlc"]
    pairs = args.pairs or (15 if args.quick else 31)
    result: dict[str, object] = {"file": target.name, "pairs": pairs}
    cold = cold_start([*idlc, "--check", str(target)], [omniidl, "-bdump", str(target)], pairs)
    result.update({k: round(v, 3) for k, v in cold.items()})
    print(f"cold start, {target.name} ({target.stat().st_size} bytes), {pairs} pairs, medians:")
    print(f"  idlc --check     {cold['idlc_ms']:.1f} ms wall, {cold['idlc_cpu_ms']:.1f} ms CPU")
    print(
        f"  omniidl -bdump   {cold['omniidl_ms']:.1f} ms wall, {cold['omniidl_cpu_ms']:.1f} ms CPU"
    )
    verdict = "within" if cold["ratio"] <= TARGET_RATIO else "above"
    print(
        f"  ratio idlc/omniidl: {cold['ratio']:.2f}x wall ({verdict} the {TARGET_RATIO}x "
        f"target), {cold['cpu_ratio']:.2f}x CPU"
    )
    if not args.quick:
        mb, seconds = throughput(files)
        rate = mb / seconds
        print(f"corpus: {len(files)} files, {mb:.3f} MB, best {seconds:.2f} s -> {rate:.3f} MB/s")
        result["corpus_mb_per_s"] = round(mb / seconds, 3)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
