"""Where each IDL declaration lands in Python (docs/python-backend.md, "Naming").

Declarations of IDL module ``a::b`` that come from file ``x.idl`` go to the Python module
``a/b/x_idl.py`` (package ``a.b``, module ``x_idl``) under their unqualified names;
declarations outside any module go to ``x_idl.py`` at the top of the output directory. A
declaration nested in an interface (``a::I::T``) is ``I_T`` in ``a``'s module. A name
that is a Python keyword or builtin constant gets a trailing underscore (``from_``), so
does a declaration named like a public name its module defines (``INTERFACES_``).
IDL identifiers never start with ``_``: every name the generated code itself uses does.
Class bodies and methods name the module's own IDL types by aliases (``type_alias``),
since a member, parameter or operation there may be named like a type.
"""

from __future__ import annotations

import keyword
import os
import re

from idlc import ir

_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | {"None", "True", "False", "self", "cls"}
)


_PER_INTERFACE = ("Client", "Server", "Codec")


def py_ident(name: str) -> str:
    """An IDL identifier as a Python identifier."""
    return name + "_" if name in _RESERVED else name


def type_alias(local: str) -> str:
    """The module-level alias of the declaration ``local`` (its Python name in its
    module), by which class bodies and methods name it: ``_r_T`` for ``r``. A member,
    union branch, parameter or operation named ``r`` there would shadow ``r`` itself.

    The alias is ``_`` + the name + ``_T``, which nothing else can be: IDL names never
    start with ``_`` (the front end removes an escaping underscore, ``_r`` is ``r``), and
    no other generated private name ends in ``_T`` (tables ``_K_VALUES``, ``_K_BY_VALUE``,
    ``_K_MASK``; codecs ``_e_r_64``; ``_T1``, ``_S1``; ``_IClient``; builtins ``_int``).
    A prefix would not do: ``_t_VALUES`` is also the table of an enum ``t``.
    """
    return f"_{local}_T"


def file_stem(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    stem = re.sub(r"\W", "_", stem)
    if not stem or stem[0].isdigit():
        stem = "_" + stem
    return stem + "_idl"


class Unit:
    """One generated Python module: the declarations of one IDL module from one file."""

    def __init__(self, file: str, package: tuple[str, ...]) -> None:
        self.file = file
        self.package = package  # IDL module path, e.g. ("demo",)
        self.module = file_stem(file)
        self.declarations: list[ir.Declaration] = []

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.file, self.package

    @property
    def relpath(self) -> str:
        return os.path.join(*[py_ident(p) for p in self.package], self.module + ".py")

    @property
    def dotted(self) -> str:
        return ".".join([*(py_ident(p) for p in self.package), self.module])

    @property
    def alias(self) -> str:
        """The name other generated modules import this one as."""
        return "_m_" + "_".join([*self.package, self.module])


class Naming:
    """Maps declarations to units and Python names for one specification."""

    def __init__(self, spec: ir.Specification) -> None:
        self.spec = spec
        self.modules = {d.name for d in spec.declarations if isinstance(d, ir.Module)}
        self.units: dict[tuple[str, tuple[str, ...]], Unit] = {}
        self.unit_of: dict[str, Unit] = {}
        self.local: dict[str, str] = {}
        for d in spec.declarations:
            if isinstance(d, ir.Module):
                continue
            package, rest = self.split(d.name)
            key = (d.span.file, package)
            unit = self.units.get(key)
            if unit is None:
                unit = self.units[key] = Unit(d.span.file, package)
            unit.declarations.append(d)
            self.unit_of[d.name] = unit
            self.local[d.name] = py_ident("_".join(rest))
        for unit in self.units.values():
            self._avoid_generated(unit)

    def _avoid_generated(self, unit: Unit) -> None:
        """A declaration named like a public name the module also defines (``INTERFACES``,
        ``IClient``/``IServer``/``ICodec`` of an interface ``I``) gets trailing underscores."""
        while True:
            taken = {"INTERFACES"} | {
                self.local[d.name] + suffix
                for d in unit.declarations
                if isinstance(d, ir.Interface)
                for suffix in _PER_INTERFACE
            }
            clash = [d for d in unit.declarations if self.local[d.name] in taken]
            if not clash:
                return
            for d in clash:
                self.local[d.name] += "_"

    def split(self, scoped: str) -> tuple[tuple[str, ...], list[str]]:
        parts = scoped.split("::")
        i = len(parts) - 1
        while i > 0 and "::".join(parts[:i]) not in self.modules:
            i -= 1
        return tuple(parts[:i]), parts[i:]

    def relative_import(self, frm: Unit, to: Unit) -> str:
        """``from <x> import <module> as <alias>`` from ``frm`` to ``to``."""
        depth = len(frm.package)
        dots = "." * (depth + 1)
        pkg = ".".join(py_ident(p) for p in to.package)
        return f"from {dots}{pkg} import {to.module} as {to.alias}"
