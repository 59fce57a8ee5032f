"""The OMG IDL corpus of ../shared (found through $IDLC_CORPUS), rebuilt as its original
tree so that relative #includes resolve. Tests fail, not skip, when the variable is set
and the data is missing."""

from __future__ import annotations

import csv
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

_DEFINE = re.compile(r"(?<![\w-])-D\s*([A-Za-z_]\w*)(?:=(\S+))?")


@dataclass(frozen=True)
class CorpusFile:
    path: str  # relative to the corpus folder
    source: str
    expect: str
    includes: tuple[str, ...]
    original: str
    note: str

    @property
    def includes_available(self) -> bool:
        return not any(i.startswith("!") for i in self.includes)

    def defines(self) -> dict[str, str]:
        return {m.group(1): m.group(2) or "1" for m in _DEFINE.finditer(self.note)}


def corpus_dir() -> Path:
    value = os.environ.get("IDLC_CORPUS")
    if not value:
        pytest.skip("IDLC_CORPUS is not set (CI sets it; see .ci/run)")
    path = Path(value)
    if not (path / "MANIFEST.tsv").is_file():
        pytest.fail(f"IDLC_CORPUS={value} is set but {path / 'MANIFEST.tsv'} is missing")
    return path


def manifest(root: Path) -> list[CorpusFile]:
    with open(root / "MANIFEST.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for r in rows:
        includes = tuple(i for i in r["includes"].split(";") if i and i != "-")
        out.append(
            CorpusFile(r["path"], r["source"], r["expect"], includes, r["original_path"], r["note"])
        )
    return out


def with_includes_available(files: list[CorpusFile]) -> set[str]:
    """Paths of files whose includes, followed transitively, are all in the corpus."""
    by_name: dict[str, list[CorpusFile]] = {}
    for cf in files:
        by_name.setdefault(Path(cf.original).name, []).append(cf)
    memo: dict[str, bool] = {}

    def ok(cf: CorpusFile, depth: int = 0) -> bool:
        if cf.path in memo:
            return memo[cf.path]
        memo[cf.path] = True  # cycles are guarded by the files themselves
        good = cf.includes_available and depth < 50
        for inc in cf.includes:
            targets = by_name.get(Path(inc.lstrip("~")).name, [])
            targets = sorted(targets, key=lambda t: t.source != cf.source)
            if good and targets:
                good = ok(targets[0], depth + 1)
        memo[cf.path] = good
        return good

    return {cf.path for cf in files if ok(cf)}


def rebuild(root: Path, files: list[CorpusFile], dest: Path) -> dict[str, Path]:
    """Copy each file to dest/<source>/<original_path>; returns corpus path -> new path."""
    placed: dict[str, Path] = {}
    for cf in files:
        if cf.path.startswith("dialects/"):
            continue
        target = dest / cf.source / cf.original
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / cf.path, target)
        placed[cf.path] = target
    return placed


def include_dirs(cf: CorpusFile, placed: dict[str, Path]) -> list[str]:
    """-I directories for the include targets that live elsewhere in the corpus."""
    by_name: dict[str, list[Path]] = {}
    for p in placed.values():
        by_name.setdefault(p.name, []).append(p)
    dirs: list[str] = []
    for inc in cf.includes:
        name = Path(inc.lstrip("~")).name
        candidates = by_name.get(name, [])
        candidates.sort(key=lambda p: (cf.source not in p.parts, len(p.parts)))
        for c in candidates[:1]:
            # An include may carry a directory part: -I must be its base.
            sub = Path(inc.lstrip("~")).parent
            base = c.parent
            for _ in sub.parts:
                base = base.parent
            if str(base) not in dirs:
                dirs.append(str(base))
    return dirs
