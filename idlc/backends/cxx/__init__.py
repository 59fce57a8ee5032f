"""The C++ backend: `idlc -l cxx -o DIR FILE.idl` (docs/cxx-backend.md)."""

from __future__ import annotations

import os

from idlc import ir
from idlc.diagnostics import Diagnostics

# The support headers the generated code includes (-I this directory, and its nre/ for
# the host stand-ins of NRE's headers).
INCLUDE = os.path.join(os.path.dirname(__file__), "include")


def render(spec: ir.Specification, diags: Diagnostics) -> dict[str, str]:
    """Header name -> text; {} (with a diagnostic) when something has no C++ mapping."""
    from idlc.backends.cxx.generator import render as _render
    from idlc.backends.python.marshal import Unsupported

    try:
        return _render(spec)
    except Unsupported as e:
        from idlc import errcodes

        diags.report(errcodes.BACKEND_UNSUPPORTED, None, construct=e.construct, backend="cxx")
        return {}


def generate(spec: ir.Specification, outdir: str, diags: Diagnostics) -> list[str]:
    """Write one header per IDL file under ``outdir``; the paths written."""
    files = render(spec, diags)
    written = []
    os.makedirs(outdir, exist_ok=True)
    for name, text in files.items():
        path = os.path.join(outdir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(path)
    return written
