"""`idlc.load`: the module generated for an IDL file, in-process, without a build step
(docs/python-backend.md, "Loading IDL in-process").

The generated package is cached on disk: an entry is keyed by idlc's version, the flags,
the file's path and its content (`_entry_key`); it records the files the preprocessor read
(the file and its includes) with their content's hash, and the generated package is
stored under a key of all of them, so an edited include regenerates and an unchanged one
is imported from the cache. Each package is imported under a name of its own
(`_idlc_<key>`), so two IDL files whose modules share names never meet in `sys.modules`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from types import ModuleType

from idlc import __version__

__all__ = ["CompileError", "IdlWarning", "cache_dir", "load"]

# Bumped when the cache's layout changes, so an old entry is never read as a new one.
_LAYOUT = 1


class CompileError(Exception):
    """The IDL file did not compile: ``diagnostics`` holds every message, rendered as the
    `idlc` command prints them (``file:line:col: error[E0302]: ...``), and ``codes`` their
    codes (docs/errors.md)."""

    def __init__(self, path: str, diagnostics: list[str], codes: list[str]) -> None:
        self.path = path
        self.diagnostics = diagnostics
        self.codes = codes
        text = "\n".join(diagnostics)
        super().__init__(f"{path} does not compile:\n{text}" if text else f"{path}: error")


class IdlWarning(UserWarning):
    """A warning of the compiler (docs/errors.md) about a file `idlc.load` compiled."""


def cache_dir() -> str:
    """Where generated packages are kept: ``$IDLC_CACHE_DIR`` when set, else
    ``$XDG_CACHE_HOME/idlc``, else ``~/.cache/idlc``."""
    explicit = os.environ.get("IDLC_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = xdg if xdg and os.path.isabs(xdg) else os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "idlc")


def load(
    path: str | os.PathLike[str],
    *,
    include: Iterable[str | os.PathLike[str]] = (),
    defines: Mapping[str, str] | None = None,
) -> ModuleType:
    """The module generated for the IDL file at ``path`` (``include``: the include path,
    as ``-I``; ``defines``: macros, as ``-D``). Its IDL modules are attributes
    (``m.demo.EchoClient``, ``m.a.b.T`` for ``a::b``); when the file declares one
    top-level module, that module's names are attributes too (``m.EchoClient``).
    Declarations outside any module are attributes of ``m`` itself. Raises
    `CompileError` when the file does not compile (a missing file included)."""
    src = os.path.abspath(os.fspath(path))
    dirs = tuple(os.path.abspath(os.fspath(d)) for d in include)
    macros = dict(sorted((defines or {}).items()))
    entry_key = _entry_key(src, dirs, macros)
    package, units, warned = _cached_or_compiled(src, dirs, macros, entry_key)
    for text in warned:
        warnings.warn(text, IdlWarning, stacklevel=2)
    return _facade(src, package, units)


# --- the cache ---------------------------------------------------------------------------


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "little"))
        h.update(p)
    return h.hexdigest()


def _file_hash(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _entry_key(src: str, dirs: tuple[str, ...], macros: dict[str, str]) -> str:
    flags = json.dumps({"I": dirs, "D": macros, "layout": _LAYOUT})
    content = (_file_hash(src) or "missing").encode()
    return _digest(__version__.encode(), flags.encode(), src.encode(), content)[:32]


# What the manifest of a cache entry says about one compilation: the package's name,
# (file, its hash) for every file read, the units and the compiler's warnings.
Manifest = dict[str, object]


class Unit:
    """One generated module: its IDL module path (``("a", "b")``), its Python package
    path (the generated folders: keywords get ``_``), its dotted name under the package
    and the IDL file its declarations come from."""

    __slots__ = ("dotted", "file", "idl", "py")

    def __init__(self, idl: list[str], py: list[str], dotted: str, file: str) -> None:
        self.idl = tuple(idl)
        self.py = tuple(py)
        self.dotted = dotted
        self.file = file

    def dump(self) -> list[object]:
        return [list(self.idl), list(self.py), self.dotted, self.file]


def _cached_or_compiled(
    src: str, dirs: tuple[str, ...], macros: dict[str, str], entry_key: str
) -> tuple[str, list[Unit], list[str]]:
    """(package name, units, warnings): the package generated for ``src`` imported from
    the cache, compiled into it first when missing or stale."""
    entry = os.path.join(cache_dir(), entry_key)
    manifest = _read_manifest(entry)
    if manifest is not None:
        name = str(manifest["package"])
        warned = [str(w) for w in _list(manifest.get("warnings"))]
        if name in sys.modules:
            return name, _units(manifest), warned
        if os.path.isdir(os.path.join(entry, name)):
            _import_root(name, os.path.join(entry, name))
            return name, _units(manifest), warned
    return _compile(src, dirs, macros, entry)


def _list(x: object) -> list[object]:
    return list(x) if isinstance(x, list) else []


def _units(manifest: Manifest) -> list[Unit]:
    out: list[Unit] = []
    for u in _list(manifest.get("units")):
        if isinstance(u, list) and len(u) == 4:
            idl, py = [str(p) for p in _list(u[0])], [str(p) for p in _list(u[1])]
            out.append(Unit(idl, py, str(u[2]), str(u[3])))
    return out


def _read_manifest(entry: str) -> Manifest | None:
    """The entry's manifest when every file it lists still has the content it had."""
    try:
        with open(os.path.join(entry, "manifest.json"), encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("package"), str):
        return None
    for dep in _list(manifest.get("files")):
        if not (isinstance(dep, list) and len(dep) == 2 and isinstance(dep[0], str)):
            return None
        if _file_hash(dep[0]) != dep[1]:
            return None
    return manifest


def _compile(
    src: str, dirs: tuple[str, ...], macros: dict[str, str], entry: str
) -> tuple[str, list[Unit], list[str]]:
    from idlc.backends.python import generate
    from idlc.backends.python.names import Naming
    from idlc.diagnostics import Diagnostics
    from idlc.driver import Options, compile_file
    from idlc.errcodes import Severity

    diags = Diagnostics()
    result = compile_file(src, Options(include_dirs=dirs, defines=macros), diags)
    spec = result.spec
    files = [(os.path.abspath(d), _file_hash(d)) for d in result.dependencies]
    package = "_idlc_" + _digest(entry.encode(), json.dumps(files).encode())[:20]
    work = None
    if spec is not None and not diags.has_errors:
        try:
            os.makedirs(entry, exist_ok=True)
            work = tempfile.mkdtemp(prefix="tmp-", dir=entry)
        except OSError:  # a read-only cache: this process's own folder
            work = tempfile.mkdtemp(prefix="idlc-")
        generate(spec, work, diags)
        init = os.path.join(work, "__init__.py")
        if not diags.has_errors and not os.path.exists(init):  # nothing declared
            with open(init, "w", encoding="utf-8") as fh:
                fh.write('"""Generated by idlc: nothing declared."""\n')
    if spec is None or diags.has_errors:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
        errors = [d for d in diags.items if d.severity is Severity.ERROR]
        raise CompileError(
            src, [diags.render(d) for d in errors] or ["error"], [d.code for d in errors]
        )
    assert work is not None
    warned = [diags.render(d) for d in diags.items if d.severity is not Severity.ERROR]
    units = [
        Unit(list(u.package), list(u.pypackage), u.dotted, os.path.abspath(u.file))
        for u in Naming(spec).units.values()
    ]
    where = _settle(work, entry, package)
    manifest: Manifest = {
        "package": package,
        "files": files,
        "units": [u.dump() for u in units],
        "warnings": warned,
    }
    _write_manifest(entry, manifest)
    _import_root(package, where)
    return package, units, warned


def _settle(work: str, entry: str, package: str) -> str:
    """Move the generated package ``work`` to its place in ``entry`` (another process may
    have put the same there first: then that one is used)."""
    final = os.path.join(entry, package)
    if os.path.dirname(work) != entry:
        return work  # the cache is not writable: import from the temporary folder
    try:
        os.rename(work, final)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)
    return final if os.path.isdir(final) else work


def _write_manifest(entry: str, manifest: Manifest) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix="manifest-", dir=entry)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(manifest, fh)
        os.replace(tmp, os.path.join(entry, "manifest.json"))
    except OSError:
        pass  # not cached: the next load compiles again


# --- importing ---------------------------------------------------------------------------


def _import_root(name: str, folder: str) -> None:
    """Import the generated package at ``folder`` as the top-level package ``name``."""
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(folder, "__init__.py"), submodule_search_locations=[folder]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - a file we just wrote
        raise ImportError(f"cannot import the package generated in {folder}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _facade(src: str, package: str, units: list[Unit]) -> ModuleType:
    """The module `load` returns: a namespace per IDL module holding the public names of
    its generated modules (every file of the specification: included files' modules too),
    the generated modules themselves imported under ``package``."""
    top = ModuleType(file_stem(src), f"The IDL of {src}, generated by idlc.")
    top.__file__ = src
    top.__dict__["__idlc_package__"] = package
    top.__dict__["__idlc_units__"] = {"::".join(u.idl): f"{package}.{u.dotted}" for u in units}
    names: dict[tuple[str, ...], ModuleType] = {(): top}
    for u in sorted(units, key=lambda u: len(u.py)):
        generated = importlib.import_module(f"{package}.{u.dotted}")
        ns = _namespace(names, u.py, top)
        for key, value in vars(generated).items():
            if not key.startswith("_"):
                setattr(ns, key, value)
    here = os.path.realpath(src)
    declared = {u.py[:1] for u in units if os.path.realpath(u.file) == here}
    if len(declared) == 1 and () not in declared:
        (only,) = declared
        for key, value in vars(names[only]).items():
            if not key.startswith("_") and not hasattr(top, key):
                setattr(top, key, value)
    return top


def _namespace(
    names: dict[tuple[str, ...], ModuleType], path: tuple[str, ...], top: ModuleType
) -> ModuleType:
    """The namespace of the Python package path ``path`` under ``top``, made on first use."""
    ns = names.get(path)
    if ns is None:
        parent = _namespace(names, path[:-1], top)
        ns = ModuleType(f"{top.__name__}.{'.'.join(path)}")
        names[path] = ns
        setattr(parent, path[-1], ns)
    return ns


def file_stem(path: str) -> str:
    """The module name of an IDL file's generated code: ``echo.idl`` -> ``echo_idl``."""
    from idlc.backends.python.names import file_stem as stem

    return stem(path)
