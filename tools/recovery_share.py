"""The one-error share of issue 14 item 4, on a uniform sample of single-token edits.

Each run takes a valid corpus file (tests/edits.py), applies one edit (delete, duplicate,
swap neighbours, misspell an identifier) at a random token, and keeps the edits that
make the file invalid; the share is the part of those that draw exactly one error on the
edited token's line or the previous token's. The verdict "invalid" is omniidl's where
omniidl is on PATH and accepts the unedited file (an edit it refuses and idlc accepts is
a miss), idlc's own otherwise (an edit idlc accepts is then left out).

    IDLC_CORPUS=../shared/corpus/omg-idl python tools/recovery_share.py [-n 2000] [--list]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.edits import KINDS, Edit, Seed, accepted, judge, load_seeds, make_edit


def _omniidl_accepts(omniidl: str, seed: Seed, text: str) -> bool | None:
    """omniidl's verdict on text in place of the seed (written beside it so that its
    includes resolve); None when it cannot run."""
    target = seed.path.with_name("__edit__" + seed.path.name)
    target.write_text(text, encoding="utf-8")
    flags = [f"-I{d}" for d in seed.options.include_dirs]
    flags += [f"-D{k}={v}" for k, v in seed.options.defines.items()]
    try:
        proc = subprocess.run(
            [omniidl, "-bdump", *flags, str(target)], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    finally:
        target.unlink()
    return proc.returncode == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=os.environ.get("IDLC_CORPUS", "../shared/corpus/omg-idl"))
    ap.add_argument("-n", type=int, default=1000, help="edits to try (default 1000)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--no-omniidl", action="store_true", help="idlc's verdict only")
    ap.add_argument("--list", action="store_true", help="print every miss")
    args = ap.parse_args()
    root = Path(args.corpus)
    if not (root / "MANIFEST.tsv").is_file():
        print(f"recovery_share: {root}/MANIFEST.tsv not found", file=sys.stderr)
        return 2
    omniidl = None if args.no_omniidl else shutil.which("omniidl")
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        seeds = [s for s in load_seeds(root, Path(tmp) / "tree") if accepted(s)]
        oracle = {
            s.name: omniidl is not None and _omniidl_accepts(omniidl, s, s.text) for s in seeds
        }
        tried = invalid = good = by_omniidl = 0
        misses: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        kinds_good: Counter[str] = Counter()
        shown: list[str] = []
        while tried < args.n:
            seed = rng.choice(seeds)
            edit = make_edit(
                seed, rng.choice(KINDS), rng.randrange(len(seed.tokens)), rng.randrange(64)
            )
            if edit is None:
                continue
            tried += 1
            outcome = judge(edit)
            if omniidl is not None and oracle[seed.name]:
                bad = _omniidl_accepts(omniidl, seed, edit.text) is False
                by_omniidl += 1
            else:
                bad = outcome.errors > 0
            if not bad:
                continue
            invalid += 1
            kinds[edit.kind] += 1
            if outcome.good:
                good += 1
                kinds_good[edit.kind] += 1
                continue
            why = (
                "no error"
                if outcome.errors == 0
                else ("one error elsewhere" if outcome.errors == 1 else "several errors")
            )
            misses[f"{edit.kind}: {why}"] += 1
            if args.list:
                shown.append(_describe(edit, why))
    oracle_note = f"omniidl's verdict for {by_omniidl} of {tried}" if omniidl else "idlc's verdict"
    print(f"seeds: {len(seeds)} files; edits tried: {tried}; invalid: {invalid} ({oracle_note})")
    for kind in KINDS:
        if kinds[kind]:
            good_kind, all_kind = kinds_good[kind], kinds[kind]
            print(f"  {kind:9} {good_kind}/{all_kind} = {good_kind / all_kind:.1%}")
    for what, n in misses.most_common():
        print(f"  miss: {what}: {n}")
    for line in shown:
        print(line)
    share = good / invalid if invalid else 0.0
    print(f"one-error share: {good}/{invalid} = {share:.1%}")
    return 0


def _describe(edit: Edit, why: str) -> str:
    tok = edit.seed.tokens[edit.index]
    return f"  {why}: {edit.seed.name}:{tok.line} {edit.kind} {tok.text!r}"


if __name__ == "__main__":
    sys.exit(main())
