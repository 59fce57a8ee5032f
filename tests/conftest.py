"""Test-wide settings."""

from __future__ import annotations

import os

from hypothesis import settings

# Hypothesis's per-example deadline measures wall time, which another process's load (or
# pytest-xdist's second worker on a 2-core machine) can exceed; hang guards in the tests
# measure CPU time instead.
# `make test` (CI) draws the same examples on every run, so a red run is the change's
# doing and replays exactly; `make fuzz` (IDLC_FUZZ_EXAMPLES set) explores new ones.
settings.register_profile("idlc", deadline=None, derandomize="IDLC_FUZZ_EXAMPLES" not in os.environ)
settings.load_profile("idlc")

# idlc.load's cache (docs/python-backend.md): the tests' own, never the user's ~/.cache.
if "IDLC_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["IDLC_CACHE_DIR"] = _cache = tempfile.mkdtemp(prefix="idlc-test-cache-")
    atexit.register(shutil.rmtree, _cache, True)
