"""The Python backend over the OMG IDL corpus ($IDLC_CORPUS, see tests/corpus.py): every
valid file the front end accepts and the backend supports is generated (stubs and
strategies) into its own package; the lot is `mypy --strict` clean (one mypy run) and
imports; and the round-trip properties of tests/backend/roundtrip.py hold for every
struct, union, exception and method on both architectures. Prints what is covered and
why the rest is not."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from idlc.diagnostics import TooManyErrors

from ..corpus import corpus_dir, include_dirs, manifest, rebuild, with_includes_available
from .roundtrip import (
    EXAMPLES,
    check_arbitrary,
    check_methods,
    check_types,
    check_wrong_types,
    compile_and_generate,
    methods_of,
    stub_pairs,
    types_of,
)

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 4
# Per type or method; the corpus is large, so a quarter of the samples' budget.
CORPUS_EXAMPLES = max(2, EXAMPLES // 4)
_CONSTRUCT = re.compile(r"^(.*) is not supported by the Python backend")


@dataclass
class Generated:
    root: Path
    valid: int = 0
    front_end_refused: list[str] = field(default_factory=list)
    unsupported: dict[str, list[str]] = field(default_factory=dict)  # path -> constructs
    crashed: dict[str, str] = field(default_factory=dict)  # path -> exception
    packages: dict[str, str] = field(default_factory=dict)  # package -> corpus path


def _generate(tmp: Path) -> Generated:
    root = corpus_dir()
    files = manifest(root)
    placed = rebuild(root, files, tmp / "tree")
    available = with_includes_available(files)
    out = tmp / "gen"
    gen = Generated(out)
    (out / "corpus_pkg").mkdir(parents=True)
    (out / "corpus_pkg" / "__init__.py").touch()
    for i, cf in enumerate(files):
        if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in available:
            continue
        if cf.path not in placed:
            continue
        gen.valid += 1
        defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
        pkg = f"c{i:03d}"
        try:
            written, diags = compile_and_generate(
                placed[cf.path], out / "corpus_pkg" / pkg, include_dirs(cf, placed), defines
            )
        except TooManyErrors:
            gen.unsupported[cf.path] = ["(more than 100 unsupported uses)"]
            continue
        except Exception as e:  # a backend crash: reported by test_no_backend_crash
            gen.crashed[cf.path] = f"{type(e).__name__}: {e}"
            continue
        if written:
            gen.packages[pkg] = cf.path
            continue
        constructs = sorted(
            {m.group(1) for d in diags.items if (m := _CONSTRUCT.match(d.message)) is not None}
        )
        if any(d.code == "E0901" for d in diags.items) or not constructs:
            if constructs or any(d.code == "E0901" for d in diags.items):
                gen.unsupported[cf.path] = constructs or ["(unsupported)"]
            else:
                gen.front_end_refused.append(cf.path)
        else:
            gen.unsupported[cf.path] = constructs
    return gen


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    return _generate(tmp_path_factory.mktemp("corpus_rt"))


def _modules(gen: Generated) -> list[tuple[str, ModuleType, ModuleType]]:
    out = []
    for pkg in sorted(gen.packages):
        for stub, strat in stub_pairs(gen.root, f"corpus_pkg/{pkg}"):
            out.append((pkg, stub, strat))
    return out


def test_corpus_coverage(generated: Generated) -> None:
    """What the round-trip tests cover and why the rest is not."""
    gen = generated
    mods = _modules(gen)
    types = sum(len(types_of(stub, strat)) for _, stub, strat in mods)
    methods = sum(len(methods_of(stub, strat)) for _, stub, strat in mods)
    reasons: collections.Counter[str] = collections.Counter()
    for constructs in gen.unsupported.values():
        reasons.update(constructs)
    print(
        f"\ncorpus round trip: {len(gen.packages)}/{gen.valid} valid files generate "
        f"({len(mods)} modules, {types} structs/unions/exceptions, {methods} methods); "
        f"{len(gen.front_end_refused)} refused by the front end, {len(gen.unsupported)} "
        f"use constructs the Python backend does not hold, {len(gen.crashed)} crash"
    )
    for construct, n in reasons.most_common():
        print(f"  unsupported {construct}: {n} files")
    for path, err in sorted(gen.crashed.items()):
        print(f"  CRASH {path}: {err}")
    assert len(gen.packages) > 100


def test_no_backend_crash(generated: Generated) -> None:
    """idlc must never crash: a backend exception is an internal compiler error."""
    assert not generated.crashed, "\n".join(f"{p}: {e}" for p, e in generated.crashed.items())


def test_generated_corpus_is_mypy_strict_clean_and_imports(
    generated: Generated, tmp_path: Path
) -> None:
    assert _modules(generated)  # imports every stub and strategies module
    env = dict(os.environ, MYPYPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            "-p",
            "corpus_pkg",
        ],
        cwd=generated.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    by_file: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"corpus_pkg/(c\d+)/\S+:\d+: error: ", line)
        if m:
            by_file.setdefault(generated.packages[m.group(1)], []).append(line)
    assert not by_file, "\n".join(e for p in sorted(by_file) for e in by_file[p][:20])
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr


@pytest.mark.parametrize("shard", range(SHARDS))
def test_corpus_round_trip(generated: Generated, shard: int) -> None:
    mods = [m for i, m in enumerate(_modules(generated)) if i % SHARDS == shard]
    assert mods
    for pkg, stub, strat in mods:
        try:
            check_types(stub, strat, CORPUS_EXAMPLES)
            check_methods(stub, strat, CORPUS_EXAMPLES)
            check_arbitrary(stub, strat, CORPUS_EXAMPLES)
            check_wrong_types(stub, strat, CORPUS_EXAMPLES)
        except Exception as e:
            e.add_note(f"corpus file {generated.packages[pkg]} ({stub.__name__})")
            raise
