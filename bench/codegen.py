"""Code generation speed over the corpus (issue 4): `idlc -l python` on every valid corpus
file the Python backend supports, with black formatting (the default) and without it
(`--no-format`).

    python bench/codegen.py [--corpus DIR] [--runs N]

The corpus tree is rebuilt as tests/test_corpus.py does, and each file gets its -I/-D
flags. Every file runs through the command line's own entry point in this process (the
front end included), so the figure is what a build that calls idlc per file spends minus
interpreter start-up. Files the backend refuses (E0901: `any`, value types, ...) are
found once, before timing, and left out. Prints seconds per mode and the ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idlc.cli import main as idlc
from tests.corpus import include_dirs, manifest, rebuild, with_includes_available


def _argv(path: Path, incs: list[str], defines: dict[str, str]) -> list[str]:
    return [*(f"-I{d}" for d in incs), *(f"-D{k}={v}" for k, v in defines.items()), str(path)]


def _run(argv: list[str]) -> int:
    with contextlib.redirect_stderr(io.StringIO()):
        return idlc(argv)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("IDLC_CORPUS", "../shared/corpus/omg-idl"))
    ap.add_argument("--runs", type=int, default=1, help="runs per mode; the best is shown")
    args = ap.parse_args()
    root = Path(args.corpus)
    if not (root / "MANIFEST.tsv").is_file():
        print(f"codegen: {root}/MANIFEST.tsv not found", file=sys.stderr)
        return 2
    files = manifest(root)
    available = with_includes_available(files)
    with tempfile.TemporaryDirectory() as tmp:
        placed = rebuild(root, files, Path(tmp) / "tree")
        jobs = []
        for cf in files:
            if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in available:
                continue
            defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
            argv = _argv(placed[cf.path], include_dirs(cf, placed), defines)
            if _run(["--no-format", "-o", f"{tmp}/probe", *argv]) == 0:
                jobs.append(argv)
        size = sum(Path(a[-1]).stat().st_size for a in jobs)
        print(f"{len(jobs)} corpus files the Python backend supports ({size / 1e6:.2f} MB IDL)")
        best: dict[str, float] = {}
        for mode, extra in (("without black (--no-format)", ["--no-format"]), ("with black", [])):
            for run in range(args.runs):
                out = f"{tmp}/{run}{len(extra)}"
                t0 = time.perf_counter()
                for argv in jobs:
                    _run([*extra, "-o", out, *argv])
                best[mode] = min(best.get(mode, float("inf")), time.perf_counter() - t0)
            print(f"  {mode:28} {best[mode]:7.2f} s")
        values = list(best.values())
        print(f"  black is {100 * (1 - values[0] / values[1]):.0f}% of the time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
