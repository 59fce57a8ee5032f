"""Corpus acceptance of idlc next to its peers, file by file (issue 3's comparison).

Rebuilds the corpus tree from MANIFEST.tsv exactly as tests/test_corpus.py does, takes
the same files (valid or valid-needs-flags, every include in the corpus), gives each
compiler the same -I and -D flags, and counts which ones each accepts (exit status 0).

    python tools/corpus_peers.py [--corpus DIR] [--peer NAME=COMMAND ...] [--list]

idlc runs in this process through its driver (as the acceptance test does). A peer is a
command line that gets `-I DIR`/`-DNAME=VALUE` options and the file appended; the
default peer is omniidl (`omniidl -bdump`) when it is on PATH. Cyclone DDS's idlc is
accepted the same way (`--peer cyclone='idlc -o /tmp/out'`).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from tests.corpus import (
    CorpusFile,
    include_dirs,
    manifest,
    rebuild,
    with_includes_available,
)


def _idlc_accepts(path: Path, incs: list[str], defines: dict[str, str]) -> bool:
    diags = Diagnostics()
    # as `idlc --check` (WIRE.md 1.1: the wire-layout rules are warnings there)
    compile_file(str(path), Options(include_dirs=incs, defines=defines, layout=False), diags)
    return not diags.has_errors


def _peer_accepts(
    argv: list[str], path: Path, incs: list[str], defines: dict[str, str], cwd: Path
) -> bool:
    flags = [f"-I{d}" for d in incs] + [f"-D{k}={v}" for k, v in defines.items()]
    try:
        proc = subprocess.run([*argv, *flags, str(path)], cwd=cwd, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("IDLC_CORPUS", "../shared/corpus/omg-idl"))
    ap.add_argument(
        "--peer", action="append", default=[], metavar="NAME=COMMAND", help="a peer compiler"
    )
    ap.add_argument("--list", action="store_true", help="print every file where they differ")
    args = ap.parse_args()
    root = Path(args.corpus)
    if not (root / "MANIFEST.tsv").is_file():
        print(f"corpus_peers: {root}/MANIFEST.tsv not found", file=sys.stderr)
        return 2
    peers = dict(p.split("=", 1) for p in args.peer)
    if not peers and shutil.which("omniidl"):
        peers["omniidl"] = "omniidl -bdump"
    files = manifest(root)
    available = with_includes_available(files)
    valid: list[CorpusFile] = [
        cf for cf in files if cf.expect in ("valid", "valid-needs-flags") and cf.path in available
    ]
    accepted: dict[str, set[str]] = {"idlc": set(), **{name: set() for name in peers}}
    with tempfile.TemporaryDirectory() as tmp:
        placed = rebuild(root, files, Path(tmp) / "tree")
        work = Path(tmp) / "out"
        work.mkdir()
        for cf in valid:
            incs = include_dirs(cf, placed)
            defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
            if _idlc_accepts(placed[cf.path], incs, defines):
                accepted["idlc"].add(cf.path)
            for name, cmd in peers.items():
                if _peer_accepts(shlex.split(cmd), placed[cf.path], incs, defines, work):
                    accepted[name].add(cf.path)
    n = len(valid)
    for name, ok in accepted.items():
        print(f"{name:>10}: {len(ok)}/{n} = {100 * len(ok) / n:.1f}%")
    for name in peers:
        only_peer = sorted(accepted[name] - accepted["idlc"])
        only_idlc = sorted(accepted["idlc"] - accepted[name])
        print(f"only {name}: {len(only_peer)}; only idlc: {len(only_idlc)}")
        if args.list:
            for p in only_peer:
                print(f"  only {name}: {p}")
            for p in only_idlc:
                print(f"  only idlc: {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
