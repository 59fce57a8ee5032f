"""Front-end benchmarks (pyperf).

A "corpus": preprocess + parse + check every valid corpus file (expect valid or
valid-needs-flags, dialects excluded) in one process through compile_file; throughput is
printed in MB/s from the mean. Errors (e.g. missing include paths) are fine here.

B "cold start": `python -m idlc --check FILE` as a process on a small corpus file, and, if
omniidl is on PATH, `omniidl -bdump FILE` on the same file, with the ratio printed.

    IDLC_CORPUS=../shared/corpus/omg-idl python bench/frontend.py --fast
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyperf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from idlc.diagnostics import Diagnostics  # noqa: E402
from idlc.driver import Options, compile_file  # noqa: E402

VALID = ("valid", "valid-needs-flags")


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


def compile_all(files: list[Path]) -> int:
    """Compile every file; returns the number of bytes read."""
    total = 0
    for path in files:
        total += path.stat().st_size
        compile_file(str(path), Options(), Diagnostics())
    return total


def small_file(files: list[Path], omniidl: str | None) -> Path:
    """A small but non-trivial file that idlc (and omniidl, if present) accept cleanly:
    bench_command needs exit status 0."""
    for _, name in sorted((p.stat().st_size, str(p)) for p in files):
        path = Path(name)
        diags = Diagnostics()
        if path.stat().st_size >= 500:
            compile_file(name, Options(), diags)
            if not diags.has_errors and (
                omniidl is None
                or subprocess.run([omniidl, "-bdump", name], capture_output=True).returncode == 0
            ):
                return path
    sys.exit("bench: no corpus file of >= 500 bytes checks without errors")


def main() -> None:
    runner = pyperf.Runner()
    runner.metadata["description"] = "idlc front end: corpus throughput and cold start"
    root = corpus_root()
    files = corpus_files(root)
    nbytes = sum(p.stat().st_size for p in files)
    omniidl = shutil.which("omniidl")
    target = small_file(files, omniidl)
    python = sys.executable

    corpus = runner.bench_func("corpus", compile_all, files)
    # The installed command, as a user runs it (`make` installs it beside the interpreter);
    # `python -m idlc` from a source tree would also time the tree's stale bytecode.
    script = Path(python).with_name("idlc")
    command = [str(script)] if script.exists() else [python, "-m", "idlc"]
    idlc_cold = runner.bench_command("cold-start-idlc", [*command, "--check", str(target)])
    omni_cold = None
    if omniidl:
        omni_cold = runner.bench_command("cold-start-omniidl", [omniidl, "-bdump", str(target)])

    if runner.args.worker:
        return
    if corpus is not None:
        mean = corpus.mean()
        print(
            f"corpus: {len(files)} files, {nbytes / 1e6:.3f} MB, mean {mean * 1e3:.1f} ms "
            f"-> {nbytes / 1e6 / mean:.3f} MB/s"
        )
    if idlc_cold is not None:
        print(f"cold start idlc --check {target.name}: {idlc_cold.mean() * 1e3:.1f} ms")
    if omni_cold is not None and idlc_cold is not None:
        print(f"cold start omniidl -bdump {target.name}: {omni_cold.mean() * 1e3:.1f} ms")
        print(f"ratio idlc/omniidl: {idlc_cold.mean() / omni_cold.mean():.2f}x")
    elif not omniidl:
        print("omniidl not on PATH: no comparison")


if __name__ == "__main__":
    main()
