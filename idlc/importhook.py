"""The import hook: ``import echo_idl`` finds ``echo.idl`` and imports what `idlc.load`
makes of it (docs/python-backend.md, "Loading IDL in-process").

`install_import_hook(paths)` puts a finder on ``sys.meta_path`` that takes top-level
names ending in ``_idl``: ``x_idl`` is the file ``x.idl`` in the first of ``paths`` (by
default the folders of ``sys.path``, as they are at import time) that has one. Names it
finds no file for are left to the other finders.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType

__all__ = ["IdlFinder", "install_import_hook", "uninstall_import_hook"]


class IdlFinder(importlib.abc.MetaPathFinder):
    """Finds ``<stem>_idl`` as ``<stem>.idl`` in ``paths`` (None: ``sys.path``)."""

    def __init__(self, paths: Sequence[str] | None = None, include: Sequence[str] = ()) -> None:
        self.paths = None if paths is None else [os.fspath(p) for p in paths]
        self.include = list(include)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if "." in fullname or not fullname.endswith("_idl") or len(fullname) <= 4:
            return None
        stem = fullname[: -len("_idl")]
        for folder in self.paths if self.paths is not None else sys.path:
            candidate = os.path.join(folder or os.getcwd(), stem + ".idl")
            if os.path.isfile(candidate):
                loader = _IdlLoader(os.path.abspath(candidate), self.include)
                return importlib.machinery.ModuleSpec(fullname, loader, origin=candidate)
        return None


class _IdlLoader(importlib.abc.Loader):
    def __init__(self, path: str, include: Sequence[str]) -> None:
        self.path = path
        self.include = include

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None  # the default module; exec_module fills it

    def exec_module(self, module: ModuleType) -> None:
        from idlc.loader import load

        loaded = load(self.path, include=self.include)
        for key, value in vars(loaded).items():
            if not key.startswith("__") or key.startswith("__idlc_"):
                setattr(module, key, value)
        module.__file__ = self.path


def install_import_hook(
    paths: Iterable[str | os.PathLike[str]] | None = None,
    include: Iterable[str | os.PathLike[str]] = (),
) -> IdlFinder:
    """Let ``import x_idl`` load ``x.idl`` from ``paths`` (default: ``sys.path``), with
    the include path ``include``; returns the finder (`uninstall_import_hook` removes
    it). Installing it again with the same arguments adds nothing."""
    folders = None if paths is None else [os.path.abspath(os.fspath(p)) for p in paths]
    inc = [os.path.abspath(os.fspath(p)) for p in include]
    for f in sys.meta_path:
        if isinstance(f, IdlFinder) and f.paths == folders and f.include == inc:
            return f
    finder = IdlFinder(folders, inc)
    sys.meta_path.append(finder)
    return finder


def uninstall_import_hook(finder: IdlFinder | None = None) -> None:
    """Remove ``finder`` (None: every finder `install_import_hook` installed)."""
    sys.meta_path[:] = [
        f
        for f in sys.meta_path
        if not (isinstance(f, IdlFinder) and (finder is None or f is finder))
    ]
