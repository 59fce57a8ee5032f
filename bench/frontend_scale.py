"""How the front end's work grows with the members of one struct (issue 14 item 6).

`idlc --check` of a generated struct of N members (the last named like the first in
another case, so the case-collision check has one hit), measured in instructions with
callgrind (the VM's wall time is too noisy), for a few N: a linear front end costs the
same instructions per member in every interval.

    .venv/bin/python bench/frontend_scale.py                 # N = 1000 4000 16000
    .venv/bin/python bench/frontend_scale.py --sizes 500 2000 --repo /path/to/other/tree

--repo measures another source tree (its idlc package) with this script.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def struct_source(n: int) -> str:
    names = [f"m{i}" for i in range(n - 1)] + ["M0"] if n else []
    return "struct S {\n" + "".join(f"  long {x};\n" for x in names) + "};\n"


def instructions(repo: Path, path: Path) -> int:
    """Instructions callgrind counts for one `idlc --check path` in a fresh interpreter."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        proc = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-B",
                "-c",
                "import sys; from idlc.cli import main; main(sys.argv[1:])",
                "--check",
                str(path),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(repo), "PYTHONHASHSEED": "0"},
            cwd=repo,  # -c puts the working directory first on sys.path
            check=False,
        )
        for line in proc.stderr.splitlines():
            if "refs:" in line:
                return int(line.rsplit(None, 1)[1].replace(",", ""))
    raise SystemExit(f"callgrind gave no count:\n{proc.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 4000, 16000])
    ap.add_argument("--repo", type=Path, default=REPO)
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("bench: valgrind is not on PATH")
    counts: list[tuple[int, int]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in [0, *args.sizes]:
            path = Path(tmp) / f"s{n}.idl"
            path.write_text(struct_source(n))
            counts.append((n, instructions(args.repo, path)))
            print(f"N={n:6}  {counts[-1][1]:>15,} instructions", flush=True)
    for (n0, i0), (n1, i1) in itertools.pairwise(counts):
        print(f"N {n0:6} -> {n1:6}: {(i1 - i0) / (n1 - n0):>12,.0f} instructions per member")


if __name__ == "__main__":
    main()
