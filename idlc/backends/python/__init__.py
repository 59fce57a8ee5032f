"""The Python backend (docs/python-backend.md): typed model classes, straight-line
marshalling per WIRE.md, client stubs, server skeletons and kernel-free codecs."""

from __future__ import annotations

import contextlib
import os

from idlc import errcodes, ir
from idlc.diagnostics import Diagnostics, TooManyErrors

__all__ = ["generate", "render"]


def render(spec: ir.Specification, diags: Diagnostics) -> dict[str, str]:
    """Relative path -> generated source for every module and package ``__init__``;
    {} when the backend reported errors (the error limit included)."""
    from idlc.backends.python.generator import render as _render

    try:
        return _render(spec, diags)
    except TooManyErrors:
        return {}


def generate(
    spec: ir.Specification,
    outdir: str,
    diags: Diagnostics,
    sources: dict[str, str] | None = None,
) -> list[str]:
    """Write the modules under ``outdir``; returns the paths written ([] on errors).

    ``sources`` (output path -> IDL file) spans the specifications of one run: a module
    that an earlier one generated from another IDL file (``a/x.idl`` and ``b/x.idl``,
    both ``x_idl.py``), or one whose package would shadow such a module or the other way
    round (``x_idl/`` of ``module x_idl`` in ``y.idl``), is not written but reported
    (E0902)."""
    files = render(spec, diags)
    origin: dict[str, str] = {}  # module path -> its IDL file
    if files:  # hypothesis strategies beside each module (docs/python-strategies.md)
        from idlc.backends.python.names import Naming
        from idlc.backends.python.strategies import companion
        from idlc.backends.python.strategies import render as _strategies

        files.update(_strategies(spec))
        for unit in Naming(spec).units.values():
            source = os.path.realpath(unit.file)
            origin[unit.relpath] = origin[companion(unit.relpath)] = source
    sources = {} if sources is None else sources
    written: list[str] = []
    for rel, text in sorted(files.items()):
        path = os.path.join(outdir, rel)
        key = os.path.normpath(os.path.abspath(path))
        if rel not in origin:  # a package's __init__: not where it would shadow a module
            if _shadowing(key, sources):
                continue
        elif clash := _clash(key, origin[rel], sources):
            if not rel.endswith("_strategies.py"):  # its companion: one report is enough
                with contextlib.suppress(TooManyErrors):
                    diags.report(errcodes.BACKEND_WRITE_ERROR, None, path=path, reason=clash)
            continue
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


def _clash(key: str, source: str, sources: dict[str, str]) -> str | None:
    """Why the module ``key`` generated from ``source`` cannot be written beside the ones
    in ``sources`` (generated from other IDL files), else None (then it is recorded)."""
    stem = key[: -len(".py")]
    for other, first in sources.items():
        if first == source:
            continue
        if other == key:
            return f"it is also generated from '{first}'"
        if other.startswith(stem + os.sep):
            return f"the package of '{other}' (from '{first}') would shadow it"
        if key.startswith(other[: -len(".py")] + os.sep):
            return f"its package would shadow '{other}' (from '{first}')"
    sources[key] = source
    return None


def _shadowing(init: str, sources: dict[str, str]) -> bool:
    """Whether the package ``__init__.py`` would make a directory shadow a module."""
    folder = os.path.dirname(init)
    while os.path.dirname(folder) != folder:
        if folder + ".py" in sources:
            return True
        folder = os.path.dirname(folder)
    return False
