"""Golden files: IDL in, IR and generated Python out, kept in tests/golden/expected/ so a
change to the front end or the backend shows up as a diff to review.

    python tools/golden.py          rewrite the expected files (`make golden`)
    python tools/golden.py --check  compare only; print a unified diff, exit 1 if any

Each case runs the real command line in this process (`idlc --emit ir FILE` and
`idlc -o DIR FILE`) from the repository root, so paths in the output are relative.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "golden" / "expected"
# (case name, IDL file relative to the root, extra command-line options)
CASES: list[tuple[str, str, list[str]]] = [
    ("constructs", "tests/golden/constructs.idl", []),
    ("echo", "samples/echo/echo.idl", []),
]


def _idlc(argv: list[str]) -> str:
    from idlc.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"golden: idlc {' '.join(argv)} failed ({code}):\n{err.getvalue()}")
    return out.getvalue()


def produce(dest: Path) -> None:
    """Write every case's outputs under dest/<case>/."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for name, idl, opts in CASES:
            case = dest / name
            (case / "python").mkdir(parents=True, exist_ok=True)
            (case / "ir.json").write_text(_idlc([*opts, "--emit", "ir", idl]), encoding="utf-8")
            _idlc([*opts, "-o", str(case / "python"), idl])
    finally:
        os.chdir(cwd)


def _files(root: Path) -> dict[str, str]:
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def differences() -> list[str]:
    """Unified diffs between the expected files and what the compiler produces now."""
    with tempfile.TemporaryDirectory() as tmp:
        produce(Path(tmp))
        now, then = _files(Path(tmp)), _files(EXPECTED)
    diffs = []
    for rel in sorted(set(now) | set(then)):
        if now.get(rel) != then.get(rel):
            diffs.append(
                "".join(
                    difflib.unified_diff(
                        then.get(rel, "").splitlines(keepends=True),
                        now.get(rel, "").splitlines(keepends=True),
                        f"expected/{rel}",
                        f"now/{rel}",
                        n=2,
                    )
                )
                or f"{rel}: differs\n"
            )
    return diffs


def main() -> int:
    sys.path.insert(0, str(ROOT))
    if "--check" in sys.argv[1:]:
        diffs = differences()
        sys.stdout.write("".join(diffs))
        if diffs:
            print(f"golden: {len(diffs)} file(s) differ; run `make golden` and review the diff")
        return 1 if diffs else 0
    shutil.rmtree(EXPECTED, ignore_errors=True)
    produce(EXPECTED)
    print(f"golden: wrote {len(_files(EXPECTED))} files under {EXPECTED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
