"""Test-wide settings."""

from __future__ import annotations

import os

import pytest
from hypothesis import Phase, settings

# Hypothesis's per-example deadline measures wall time, which another process's load (or
# pytest-xdist's second worker on a 2-core machine) can exceed; hang guards in the tests
# measure CPU time instead.
# `make test` (CI) draws the same examples on every run, so a red run is the change's
# doing and replays exactly; `make fuzz` (IDLC_FUZZ_EXAMPLES set) explores new ones.
settings.register_profile("idlc", deadline=None, derandomize="IDLC_FUZZ_EXAMPLES" not in os.environ)
# `make mutate` (tools/mutate.py sets IDLC_MUTATE): a failing example is enough to kill a
# mutant, so hypothesis does not shrink it.
settings.register_profile(
    "mutate", parent=settings.get_profile("idlc"), phases=[Phase.explicit, Phase.generate]
)
settings.load_profile("mutate" if "IDLC_MUTATE" in os.environ else "idlc")


# idlc.load's cache (docs/python-backend.md): the tests' own, never the user's ~/.cache.
if "IDLC_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["IDLC_CACHE_DIR"] = _cache = tempfile.mkdtemp(prefix="idlc-test-cache-")
    atexit.register(shutil.rmtree, _cache, True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `make mutate`, the tables first: the property tests take longest, and a
    mutant that a table kills needs no more."""
    if "IDLC_MUTATE" in os.environ:
        items.sort(key=lambda i: bool(getattr(getattr(i, "obj", None), "is_hypothesis_test", 0)))
