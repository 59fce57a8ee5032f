"""Compile the kernel's core with mypyc, in place (`make venv` runs this).

The modules below are what every portal call runs through: the kernel, the objects it
reads and writes on each call (EC, portal, UTCB, CPU, SC, semaphore, PD, capability
spaces) and the mapping database. mypyc compiles them as they are, with every check;
compiled code reaches the attributes of other compiled objects directly, which is why
they go together (the kernel compiled alone is slower than interpreted). The extension
modules land next to their sources, where the import system prefers them, and
`runtime/__init__.py` refuses a compiled module older than its source.

    python -m tools.native          # build in place (about 20 s)
    python -m tools.native --clean  # remove what it built: the sources run interpreted
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORE = [
    "runtime/kernel/kernel.py",
    "runtime/kernel/ec.py",
    "runtime/kernel/pt.py",
    "runtime/kernel/utcb.py",
    "runtime/kernel/cpu.py",
    "runtime/kernel/sc.py",
    "runtime/kernel/sm.py",
    "runtime/kernel/pd.py",
    "runtime/kernel/kobject.py",
    "runtime/kernel/space.py",
    "runtime/kernel/mdb.py",
]
GROUP = "runtime_native"  # the shared library of the group: <GROUP>__mypyc.*.so
BUILD = REPO / "build" / "native"


def built() -> list[Path]:
    """The extension modules a build left in the tree."""
    out = [p for src in CORE for p in (REPO / src).parent.glob(Path(src).stem + ".*.so")]
    return out + list(REPO.glob(f"{GROUP}__mypyc.*.so"))


def clean() -> None:
    for p in built():
        p.unlink()
    shutil.rmtree(BUILD, ignore_errors=True)


def build() -> None:
    from mypyc.build import mypycify
    from setuptools import setup  # type: ignore[import-untyped]

    clean()  # nothing stale survives a failed build
    os.chdir(REPO)
    setup(
        name="runtime-native",
        ext_modules=mypycify(CORE, group_name=GROUP, target_dir=str(BUILD / "c")),
        script_args=["-q", "build_ext", "--inplace", "--build-temp", str(BUILD / "o")],
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.native", description=__doc__)
    ap.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = ap.parse_args(argv)
    if args.clean:
        clean()
    else:
        build()
        have = {p.name.split(".", 1)[0] for p in built()}
        missing = [s for s in CORE if Path(s).stem not in have]
        if missing:
            print(f"native: not built: {', '.join(missing)}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
