"""Where each IDL declaration lands in Python (docs/python-backend.md, "Naming").

Declarations of IDL module ``a::b`` that come from file ``x.idl`` go to the Python module
``a/b/x_idl.py`` (package ``a.b``, module ``x_idl``) under their unqualified names;
declarations outside any module go to ``x_idl.py`` at the top of the output directory. A
declaration nested in an interface (``a::I::T``) is ``I_T`` in ``a``'s module. A name
that is a Python keyword or builtin constant gets a trailing underscore (``from_``), so
does a declaration named like a public name its module defines (``INTERFACES_``) or like
another declaration. Members, union branches, enumerators, operations and parameters
named like a public name their class already defines (``args``, ``make_a``, ``name``,
``METHODS``, the reserved names below) or like a sibling's name get underscores too
(``members``); JSON keeps the IDL names.
IDL identifiers never start with ``_``: every name the generated code itself uses does.
Class bodies and methods name the module's own IDL types by aliases (``type_alias``),
since a member, parameter or operation there may be named like a type.
"""

from __future__ import annotations

import functools
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

# Public names the generated classes already give a meaning (docs/python-backend.md,
# Naming): an IDL member, branch, enumerator or operation named like one of its class's
# gets a trailing underscore (``members``).
# - exceptions: BaseException's attributes and the class variable ID
EXCEPTION_NAMES = frozenset({"args", "with_traceback", "add_note", "ID"})
# - unions: the generic properties; also make_<member> of every member (``union_names``)
UNION_NAMES = frozenset({"discriminator", "value"})
# - enums and bitmasks (IntEnum, IntFlag): Enum's name and value, mro (Enum refuses it),
#   the attributes of int (3.12 adds is_integer)
ENUM_NAMES = frozenset(
    {"name", "value", "mro", "as_integer_ratio", "bit_count", "bit_length", "conjugate"}
    | {"denominator", "from_bytes", "imag", "is_integer", "numerator", "real", "to_bytes"}
)
# - operations: the codec class's table (the Protocol, the client stub and the skeleton
#   define no other public attribute: runtime.binding.Client's are private)
OPERATION_NAMES = frozenset({"METHODS"})


def py_ident(name: str) -> str:
    """An IDL identifier as a Python identifier, where it has no siblings (module and
    package names); members, enumerators, operations and parameters: ``members``."""
    return name + "_" if name in _RESERVED else name


@functools.lru_cache(maxsize=4096)
def members(
    names: tuple[str, ...],
    reserved: frozenset[str] = frozenset(),
    taken: frozenset[str] = frozenset(),
) -> tuple[str, ...]:
    """The Python names of sibling IDL names (the members of one struct, the parameters of
    one operation, ...), in their order. A name that is a Python keyword (or ``self``,
    ``cls``), in ``reserved`` (what the class defines itself) or in ``taken`` (what a base
    class already uses) gets ``_`` appended until it is none of these and no sibling's IDL
    or Python name: ``args`` -> ``args_``, or ``args__`` beside a member ``args_``. Every
    other name stays as it is."""
    idl = set(names)

    def free(n: str) -> bool:
        return n not in _RESERVED and n not in reserved and n not in taken

    used = set(taken) | {n for n in names if free(n)}
    out = []
    for n in names:
        if not free(n):
            n += "_"
            while not free(n) or n in used or n in idl:
                n += "_"
            used.add(n)
        out.append(n)
    return tuple(out)


def field_names(spec: ir.Specification, d: ir.Struct | ir.Exception_) -> dict[str, str]:
    """IDL member name -> Python attribute (and keyword argument) of a struct, its base's
    members first (which keep their base's names), or of an exception."""
    if isinstance(d, ir.Exception_):
        names = tuple(f.name for f in d.fields)
        return dict(zip(names, members(names, EXCEPTION_NAMES), strict=True))
    out: dict[str, str] = {}
    base = spec.lookup(d.base) if d.base is not None else None
    if isinstance(base, ir.Struct):
        out = field_names(spec, base)
    names = tuple(f.name for f in d.fields)
    out.update(zip(names, members(names, taken=frozenset(out.values())), strict=True))
    return out


def union_names(d: ir.Union_) -> dict[str, str]:
    """IDL branch name -> the union's property; its factory is ``make_`` + that. A branch
    named like a generic property or like another branch's factory (``a`` and ``make_a``:
    ``make_a_``) gets ``_``, repeatedly until no factory is named like a branch."""
    names = tuple(c.field.name for c in d.cases)
    reserved = UNION_NAMES
    py = members(names, reserved)
    while not {"make_" + n for n in py}.isdisjoint(py):
        reserved = reserved | {"make_" + n for n in py}
        py = members(names, reserved)
    return dict(zip(names, py, strict=True))


def enumerator_names(d: ir.Enum | ir.Bitmask) -> dict[str, str]:
    """IDL enumerator (or flag) name -> the IntEnum (IntFlag) member."""
    names = tuple(e.name for e in (d.enumerators if isinstance(d, ir.Enum) else d.flags))
    return dict(zip(names, members(names, ENUM_NAMES), strict=True))


def enumerator(spec: ir.Specification, value: ir.EnumValue) -> str:
    """The IntEnum member of an enumerator in a constant or a union label."""
    d = spec.lookup(value.enum)
    if isinstance(d, ir.Enum | ir.Bitmask):
        return enumerator_names(d)[value.name]
    return py_ident(value.name)


def operation_names(spec: ir.Specification, d: ir.Interface) -> dict[str, str]:
    """Wire name -> the Python method (Protocol, client stub) and codec attribute of every
    operation and attribute accessor of ``d``, inherited ones as their interface names
    them; its own avoid those (the stub class inherits them).

    Two bases may name different operations alike (``METHODS``, renamed ``METHODS_``,
    beside a real ``METHODS_``): then one of them keeps the name (the IDL name as it is
    over one made up, else the one of the earlier base) and each other gets ``_`` until
    it is no inherited Python name and no IDL name of ``d``'s operations."""
    inherited: dict[str, str] = {}
    for b in d.bases:
        base = spec.lookup(b)
        if isinstance(base, ir.Interface):
            for wire, py in operation_names(spec, base).items():
                inherited.setdefault(wire, py)
    idl = {m.name for m in d.all_methods} | set(inherited)
    order = sorted(enumerate(inherited), key=lambda x: (inherited[x[1]] != x[1], x[0]))
    owner: dict[str, str] = {}
    clash: list[str] = []
    for _, wire in order:
        if inherited[wire] in owner:
            clash.append(wire)
        else:
            owner[inherited[wire]] = wire
    used = set(owner)
    for wire in sorted(clash, key=list(inherited).index):
        py = inherited[wire] + "_"
        while py in used or py in idl or py in OPERATION_NAMES or py in _RESERVED:
            py += "_"
        inherited[wire] = py
        used.add(py)
    out = dict(inherited)
    names = tuple(m.name for m in d.methods)
    taken = frozenset(out.values())
    out.update(zip(names, members(names, OPERATION_NAMES, taken), strict=True))
    return out


def parameter_names(m: ir.Method) -> dict[str, str]:
    """IDL parameter name -> the Python parameter (Protocol, client stub) of every in and
    inout parameter; out parameters have no Python name."""
    names = tuple(p.name for p in m.params if p.mode in ("in", "inout"))
    return dict(zip(names, members(names), strict=True))


def distinct(names: list[str]) -> list[str]:
    """Generated names in their order, where the first of equal ones keeps its name and
    each later one gets ``_`` until it is no name of the list and not yet given."""
    natural = set(names)
    used: set[str] = set()
    out = []
    for n in names:
        if n in used:
            n += "_"
            while n in used or n in natural:
                n += "_"
        used.add(n)
        out.append(n)
    return out


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
        self.pypackage = tuple(py_ident(p) for p in package)  # its directories (Naming)
        self.declarations: list[ir.Declaration] = []
        self.alias = ""  # the name other generated modules import it as (Naming)

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        return self.file, self.package

    @property
    def relpath(self) -> str:
        return os.path.join(*self.pypackage, self.module + ".py")

    @property
    def dotted(self) -> str:
        return ".".join([*self.pypackage, self.module])


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
        self._paths()
        # (interface, wire name) -> the stem of its message functions (_rq_<stem>_64, ...)
        self.method_stem: dict[tuple[str, str], str] = {}
        for unit in self.units.values():
            self._method_stems(unit)

    def _avoid_generated(self, unit: Unit) -> None:
        """A declaration named like a public name the module also defines (``INTERFACES``,
        ``IClient``/``IServer``/``ICodec`` of an interface ``I``) gets trailing underscores;
        so does one whose name another declaration already has: a nested ``I::T`` (``I_T``)
        or a keyword ``from`` (``from_``) beside a declaration ``I_T`` (``from_``). A name
        that is the IDL name as it is wins over one made up; else the earlier one."""
        while True:
            taken = {"INTERFACES"} | {
                self.local[d.name] + suffix
                for d in unit.declarations
                if isinstance(d, ir.Interface)
                for suffix in _PER_INTERFACE
            }
            clash = {d.name for d in unit.declarations if self.local[d.name] in taken}
            owner: set[str] = set()
            scoped = list(dict.fromkeys(d.name for d in unit.declarations))
            order = sorted(
                enumerate(scoped),
                key=lambda x: (self.local[x[1]] != x[1].rsplit("::", 1)[-1], x[0]),
            )
            for _, name in order:
                if self.local[name] in owner:
                    clash.add(name)
                owner.add(self.local[name])
            if not clash:
                return
            for name in clash:
                self.local[name] += "_"

    def _paths(self) -> None:
        """Directories, files and import aliases that no two units share. An IDL module
        is a directory named like it (``members`` among its sibling modules: ``class`` is
        ``class_``, or ``class__`` beside a module ``class_``). A unit's module ``x_idl``
        (and its companion ``x_idl_strategies``) gets ``_`` until no directory beside it
        and no earlier unit's module there has the name: the IDL module ``x_idl`` of
        ``x.idl`` is the directory ``x_idl/``, the declarations outside it ``x_idl_.py``;
        of two files ``x.idl`` (one includes the other) the later unit's is ``x_idl_``."""
        children: dict[str, list[str]] = {}
        for scoped in sorted(self.modules, key=lambda n: n.count("::")):
            parent, _, name = scoped.rpartition("::")
            children.setdefault(parent, []).append(name)
        py: dict[str, str] = {}
        for parent, names in children.items():
            for name, p in zip(names, members(tuple(names)), strict=True):
                py[f"{parent}::{name}" if parent else name] = p
        dirs: dict[tuple[str, ...], set[str]] = {}
        for unit in self.units.values():
            path = unit.package
            unit.pypackage = tuple(
                py.get("::".join(path[: i + 1]), py_ident(path[i])) for i in range(len(path))
            )
            for i in range(len(path)):
                dirs.setdefault(unit.pypackage[:i], set()).add(unit.pypackage[i])
        files: dict[tuple[str, ...], set[str]] = {}
        for unit in self.units.values():
            taken = dirs.get(unit.pypackage, set()) | files.setdefault(unit.pypackage, set())
            while unit.module in taken or unit.module + "_strategies" in taken:
                unit.module += "_"
            files[unit.pypackage] |= {unit.module, unit.module + "_strategies"}
        # _m_a_b_x_idl: a::b's or a_b's x_idl
        units = list(self.units.values())
        natural = ["_m_" + "_".join([*u.package, u.module]) for u in units]
        for unit, alias in zip(units, distinct(natural), strict=True):
            unit.alias = alias

    def _method_stems(self, unit: Unit) -> None:
        """``<I>_<method>`` per operation and accessor of the module's interfaces, which
        can be two methods' (``I_a`` with ``b``, ``I`` with ``a_b``): the first keeps it,
        each later one gets ``_`` until it is no method's stem."""
        pairs = [
            (d.name, m.name, f"{self.local[d.name]}_{m.name}")
            for d in unit.declarations
            if isinstance(d, ir.Interface)
            for m in d.methods
        ]
        stems = distinct([stem for _, _, stem in pairs])
        for (iface, wire, _), stem in zip(pairs, stems, strict=True):
            self.method_stem[iface, wire] = stem

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
        pkg = ".".join(to.pypackage)
        return f"from {dots}{pkg} import {to.module} as {to.alias}"
