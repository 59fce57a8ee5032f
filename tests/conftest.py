"""Test-wide settings."""

from __future__ import annotations

from hypothesis import settings

# Hypothesis's per-example deadline measures wall time, which another process's load (or
# pytest-xdist's second worker on a 2-core machine) can exceed; hang guards in the tests
# measure CPU time instead.
settings.register_profile("idlc", deadline=None)
settings.load_profile("idlc")
