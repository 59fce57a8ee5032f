"""The Python backend (docs/python-backend.md): typed model classes, straight-line
marshalling per WIRE.md, client stubs, server skeletons and kernel-free codecs."""

from __future__ import annotations

import contextlib
import os

from idlc import errcodes, ir
from idlc.diagnostics import Diagnostics, TooManyErrors

__all__ = ["generate", "render"]


def render(spec: ir.Specification, diags: Diagnostics, black: bool = True) -> dict[str, str]:
    """Relative path -> generated source for every module and package ``__init__``;
    {} when the backend reported errors (the error limit included)."""
    from idlc.backends.python.generator import render as _render

    try:
        return _render(spec, diags, black)
    except TooManyErrors:
        return {}


def generate(
    spec: ir.Specification, outdir: str, diags: Diagnostics, black: bool = True
) -> list[str]:
    """Write the modules under ``outdir``; returns the paths written ([] on errors)."""
    files = render(spec, diags, black)
    if files:  # hypothesis strategies beside each module (docs/python-strategies.md)
        from idlc.backends.python.strategies import render as _strategies

        files.update(_strategies(spec, black))
    written: list[str] = []
    for rel, text in sorted(files.items()):
        path = os.path.join(outdir, rel)
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            if rel.endswith("__init__.py") and os.path.exists(path):
                continue
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            with contextlib.suppress(TooManyErrors):
                diags.report(
                    errcodes.BACKEND_WRITE_ERROR, None, path=path, reason=e.strerror or str(e)
                )
            return written
        written.append(path)
    return written
