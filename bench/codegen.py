"""Code generation speed (issues 4 and 13): `idlc -o` of samples/shapes.idl against
`idlc --check` of it (cold processes, as a build runs them), the size of what it writes,
how long the generated module takes to import, and the throughput over every valid
corpus file the Python backend supports.

    python bench/codegen.py [--corpus DIR] [--runs N]   # the whole corpus: about a minute
    python bench/codegen.py --quick --json              # a corpus sample; JSON last on stdout

Keys of the JSON line: ``check_ms`` and ``codegen_ms`` (the fastest of the runs of each,
wall time), ``codegen_check_ratio`` (their ratio; the target is at most 4),
``idl_lines`` (shapes.idl), ``generated_lines`` (every module `idlc -o` writes for it,
strategies and included files too), ``module_lines`` (shapes/shapes_idl.py),
``lines_per_idl_line`` (module_lines / idl_lines), ``import_ms`` (importing
shapes_idl once runtime is imported, bytecode cached, fastest run),
``import_uncached_ms`` (the same, compiling the module from source every time, as
without a writable ``__pycache__`` or with PYTHONDONTWRITEBYTECODE), ``corpus_files``,
``corpus_mb`` (their IDL), ``corpus_seconds`` and ``corpus_mb_per_s`` (generation in one
process through the command line's entry point, front end included, so what a build
that calls idlc per file spends minus interpreter start-up).

The corpus tree is rebuilt as tests/test_corpus.py does, and each file gets its -I/-D
flags. Files the backend refuses (E0901: `any`, value types, ...) are found once, before
timing, and left out.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from idlc.cli import main as idlc  # noqa: E402
from tests.corpus import include_dirs, manifest, rebuild, with_includes_available  # noqa: E402

SHAPES = ROOT / "samples" / "shapes.idl"


def _idlc_command() -> list[str]:
    """The installed `idlc` beside this interpreter (make venv), else the checkout's."""
    script = Path(sys.executable).parent / "idlc"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "idlc"]


def _fastest(argv: list[str], runs: int, cwd: Path = ROOT) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def shapes(runs: int, tmp: Path) -> dict[str, float | int]:
    cmd = _idlc_command()
    out = tmp / "shapes_out"
    check = _fastest([*cmd, "--check", str(SHAPES)], runs)
    codegen = _fastest([*cmd, "-o", str(out / "gen"), str(SHAPES)], runs)
    (out / "gen" / "__init__.py").touch()
    generated = sum(len(p.read_text().splitlines()) for p in (out / "gen").rglob("*.py"))
    module = len((out / "gen" / "shapes" / "shapes_idl.py").read_text().splitlines())
    idl = len(SHAPES.read_text().splitlines())
    code = (
        "import time, runtime.binding, runtime.codec, runtime.crd\n"
        "t = time.perf_counter()\n"
        "import gen.shapes.shapes_idl\n"
        "print(time.perf_counter() - t)\n"
    )
    env = dict(os.environ, PYTHONPATH=f"{out}{os.pathsep}{ROOT}")

    def fastest_import(runs: int, env: dict[str, str]) -> float:
        best = float("inf")
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", code], cwd=out, env=env, check=True, capture_output=True
            )
            best = min(best, float(done.stdout))
        return best

    # compiled from source at every import first (nothing written), then from the
    # bytecode the first cached run writes (an inherited PYTHONDONTWRITEBYTECODE would
    # keep every run compiling)
    uncached = fastest_import(runs, dict(env, PYTHONDONTWRITEBYTECODE="1"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    fastest_import(1, env)
    cached = fastest_import(runs, env)
    return {
        "check_ms": round(check * 1e3, 1),
        "codegen_ms": round(codegen * 1e3, 1),
        "codegen_check_ratio": round(codegen / check, 2),
        "idl_lines": idl,
        "generated_lines": generated,
        "module_lines": module,
        "lines_per_idl_line": round(module / idl, 1),
        "import_ms": round(cached * 1e3, 1),
        "import_uncached_ms": round(uncached * 1e3, 1),
    }


def _run(argv: list[str]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return idlc(argv)


def corpus(root: Path, tmp: Path, quick: bool, runs: int) -> dict[str, float | int]:
    files = manifest(root)
    available = with_includes_available(files)
    placed = rebuild(root, files, tmp / "tree")
    jobs = []
    for cf in files:
        if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in available:
            continue
        defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
        argv = [
            *(f"-I{d}" for d in include_dirs(cf, placed)),
            *(f"-D{k}={v}" for k, v in defines.items()),
            str(placed[cf.path]),
        ]
        if _run(["-o", str(tmp / "probe"), *argv]) == 0:
            jobs.append(argv)
    if quick:
        jobs = jobs[::8]
    size = sum(Path(a[-1]).stat().st_size for a in jobs)
    best = float("inf")
    for run in range(runs):
        t0 = time.perf_counter()
        for argv in jobs:
            _run(["-o", str(tmp / f"out{run}"), *argv])
        best = min(best, time.perf_counter() - t0)
    return {
        "corpus_files": len(jobs),
        "corpus_mb": round(size / 1e6, 3),
        "corpus_seconds": round(best, 2),
        "corpus_mb_per_s": round(size / 1e6 / best, 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("IDLC_CORPUS", "../shared/corpus/omg-idl"))
    ap.add_argument("--runs", type=int, default=0, help="runs per measurement; the best counts")
    ap.add_argument("--quick", action="store_true", help="fewer runs, every 8th corpus file")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON line")
    args = ap.parse_args()
    runs = args.runs or (5 if args.quick else 20)
    results: dict[str, float | int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results.update(shapes(runs, Path(tmp)))
        print(
            f"samples/shapes.idl ({results['idl_lines']} lines): --check"
            f" {results['check_ms']} ms, -o {results['codegen_ms']} ms,"
            f" ratio {results['codegen_check_ratio']}x; shapes_idl.py {results['module_lines']}"
            f" lines ({results['lines_per_idl_line']} per IDL line), all modules"
            f" {results['generated_lines']} lines; import {results['import_ms']} ms"
            f" ({results['import_uncached_ms']} ms compiling it)"
        )
        root = Path(args.corpus)
        if (root / "MANIFEST.tsv").is_file():
            results.update(corpus(root, Path(tmp), args.quick, 1 if args.quick else 2))
            print(
                f"corpus: {results['corpus_files']} files ({results['corpus_mb']} MB IDL) in"
                f" {results['corpus_seconds']} s, {results['corpus_mb_per_s']} MB/s"
            )
        else:
            print(f"codegen: {root}/MANIFEST.tsv not found; corpus left out", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
