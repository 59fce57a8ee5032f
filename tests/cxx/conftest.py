"""The C++ backend's tests need g++; the harnesses are compiled once per content into
IDLC_CXX_CACHE (default: a directory under the user's cache, kept between runs)."""

from __future__ import annotations

import shutil

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("g++") is None:
        skip = pytest.mark.skip(reason="no g++")
        for item in items:
            if "tests/cxx/" in str(item.fspath):
                item.add_marker(skip)
