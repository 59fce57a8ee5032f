"""Building harnesses and generated headers once per test session."""

from __future__ import annotations

from pathlib import Path

from idlc import ir
from idlc.backends.cxx import render
from idlc.backends.cxx.wire import Harness
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

_HARNESS: dict[str, Harness] = {}


def spec_of(path: Path) -> ir.Specification:
    diags = Diagnostics()
    result = compile_file(str(path), Options(), diags)
    assert result.spec is not None and not diags.has_errors, [str(d) for d in diags.items]
    return result.spec


def harness(path: Path) -> Harness:
    """The running harness of an IDL file (compiled on first use, cached by content)."""
    key = str(path.resolve())
    if key not in _HARNESS:
        spec = spec_of(path)
        diags = Diagnostics()
        files = render(spec, diags)
        assert files, [str(d) for d in diags.items]
        _HARNESS[key] = Harness(spec, files)
    return _HARNESS[key]
