"""The lecture's IPC lessons on the emulated NOVA machine, one small IDL service each
(docs/lessons.md explains them with their timelines):

- `inversion`: priority inversion with a server thread fed through a semaphore, and none
  when the same job goes through a portal (time donation);
- `helping`: a busy server finishes the earlier request on the helper's time;
- `livelock`: a handler calling its own portal dies, its caller gets COM_ABT;
- `pagefault`: an exception handler fixes a page fault and the EC resumes.

`python -m samples.lessons [NAME ...] [--root DIR]` generates the stubs with idlc into
DIR/build (default: the repository root), runs the lessons, prints what each shows in
two lines and writes a Perfetto trace per run (DIR/build/lesson-*.json). Each lesson
module has `run(...)` returning its outcome, and `summary(...)`, its two lines.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from idlc import cli

HERE = Path(__file__).resolve().parent
LESSONS = ("inversion", "helping", "livelock", "pagefault")


def generate(build: Path) -> None:
    """`idlc samples/lessons/*.idl -o build/`: the package `build.lessons`."""
    sources = [str(HERE / f"{name}.idl") for name in LESSONS]
    if cli.main([*sources, "-o", str(build)]) != 0:
        raise SystemExit("idlc failed on samples/lessons/*.idl")


def _inversion(build: Path) -> tuple[tuple[str, str], list[Path]]:
    from . import inversion

    paths = [build / "lesson-inversion-worker.json", build / "lesson-inversion-portal.json"]
    worker = inversion.run(donate=False, trace_path=str(paths[0]))
    portal = inversion.run(donate=True, trace_path=str(paths[1]))
    return inversion.summary(worker, portal), paths


def _single(name: str) -> Callable[[Path], tuple[tuple[str, str], list[Path]]]:
    def show(build: Path) -> tuple[tuple[str, str], list[Path]]:
        lesson = importlib.import_module(f"{__name__}.{name}")
        path = build / f"lesson-{name}.json"
        return lesson.summary(lesson.run(trace_path=str(path))), [path]

    return show


SHOW: dict[str, Callable[[Path], tuple[tuple[str, str], list[Path]]]] = {
    "inversion": _inversion,
    **{name: _single(name) for name in LESSONS[1:]},
}


def show(names: list[str], build: Path) -> list[Path]:
    """Run the lessons `names` (the stubs already generated into `build`), printing two
    lines for each; returns the trace files written."""
    traces: list[Path] = []
    for name in names:
        lines, paths = SHOW[name](build)
        for line in lines:
            print(f"  {line}")
        traces += paths
    return traces


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m samples.lessons", description=__doc__.splitlines()[0]
    )
    ap.add_argument("names", nargs="*", metavar="NAME", help=f"of {', '.join(LESSONS)} (all)")
    ap.add_argument("--root", type=Path, default=HERE.parents[1], help="where build/ goes")
    args = ap.parse_args(argv)
    unknown = [n for n in args.names if n not in LESSONS]
    if unknown:
        ap.error(f"no lesson {', '.join(unknown)}; there are {', '.join(LESSONS)}")
    root = args.root.resolve()
    generate(root / "build")
    sys.path.insert(0, str(root))  # `import build.lessons.inversion_idl`
    traces = show(args.names or list(LESSONS), root / "build")
    print(f"  traces (open in ui.perfetto.dev): {', '.join(p.name for p in traces)}")
    return 0
