"""The compiled core (tools/native.py, docs/runtime.md "The compiled core"): what `make`
builds is what runs, and a compiled module older than its source is refused."""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import pytest

import runtime
from tools.native import CORE

_NATIVE = os.environ.get("IDLC_NATIVE")


@pytest.mark.skipif(_NATIVE is None, reason="IDLC_NATIVE is not set (`make test` sets it)")
def test_the_core_runs_compiled_exactly_when_make_built_it() -> None:
    """`make test` (NATIVE=1) imports every core module as an extension module and the
    benchmarks measure that; NATIVE=0 imports the sources."""
    for src in CORE:
        mod = importlib.import_module(src[:-3].replace("/", "."))
        compiled = not str(mod.__file__).endswith(".py")
        assert compiled == (_NATIVE == "1"), (src, mod.__file__)


def test_a_compiled_module_older_than_its_source_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both in the package and in its subpackages (runtime/kernel/ holds the core)."""
    for sub in ("", "kernel/"):
        pkg = tmp_path / sub.rstrip("/")
        pkg.mkdir(exist_ok=True)
        so = pkg / "kernel.cpython-311-x86_64-linux-gnu.so"
        so.write_bytes(b"")
        src = pkg / "kernel.py"
        src.write_text("")
        monkeypatch.setattr(runtime, "__file__", str(tmp_path / "__init__.py"))
        past = time.time() - 60
        os.utime(so, (past, past))
        where = f"{tmp_path.name}/{sub}kernel"
        with pytest.raises(ImportError, match=rf"{where}\.cpython.*{where}\.py"):
            runtime._refuse_stale_native()
        os.utime(src, (past - 60, past - 60))  # the source older: accepted
        runtime._refuse_stale_native()
        src.unlink()  # no source beside it (another extension): accepted
        runtime._refuse_stale_native()
