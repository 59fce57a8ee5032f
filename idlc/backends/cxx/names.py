"""C++ names of IDL declarations (docs/cxx-backend.md, Naming)."""

from __future__ import annotations

import os

from idlc import ir

# C++11 keywords and alternative tokens, plus names the generated classes define.
KEYWORDS = frozenset(
    [
        "alignas",
        "alignof",
        "and",
        "and_eq",
        "asm",
        "auto",
        "bitand",
        "bitor",
        "bool",
        "break",
        "case",
        "catch",
        "char",
        "char16_t",
        "char32_t",
        "class",
        "compl",
        "const",
        "constexpr",
        "const_cast",
        "continue",
        "decltype",
        "default",
        "delete",
        "do",
        "double",
        "dynamic_cast",
        "else",
        "enum",
        "explicit",
        "export",
        "extern",
        "false",
        "float",
        "for",
        "friend",
        "goto",
        "if",
        "inline",
        "int",
        "long",
        "mutable",
        "namespace",
        "new",
        "noexcept",
        "not",
        "not_eq",
        "nullptr",
        "operator",
        "or",
        "or_eq",
        "private",
        "protected",
        "public",
        "register",
        "reinterpret_cast",
        "return",
        "short",
        "signed",
        "sizeof",
        "static",
        "static_assert",
        "static_cast",
        "struct",
        "switch",
        "template",
        "this",
        "thread_local",
        "throw",
        "true",
        "try",
        "typedef",
        "typeid",
        "typename",
        "union",
        "unsigned",
        "using",
        "virtual",
        "void",
        "volatile",
        "wchar_t",
        "while",
        "xor",
        "xor_eq",
        "NULL",
    ]
)


def ident(name: str) -> str:
    """An IDL identifier as a C++ one: keywords get a trailing underscore."""
    return name + "_" if name in KEYWORDS else name


def mangle(scoped: str) -> str:
    """An injective spelling of a scoped name as one identifier (`a::b_c` -> `a_1b_0c`)."""
    return scoped.replace("_", "_0").replace("::", "_1")


def header_of(path: str) -> str:
    """The header generated from IDL file ``path``: `shapes.idl` -> `shapes_idl.hpp`."""
    stem = os.path.splitext(os.path.basename(path))[0]
    return f"{stem}_idl.hpp"


class Naming:
    def __init__(self, spec: ir.Specification) -> None:
        self.spec = spec
        self.modules = {d.name for d in spec.declarations if isinstance(d, ir.Module)}

    def split(self, scoped: str) -> tuple[list[str], str]:
        """(namespaces, local name): module components are namespaces; a declaration
        nested in an interface or a struct joins the rest with `_` (`a::I::T` -> `I_T`)."""
        parts = scoped.split("::")
        ns: list[str] = []
        i = 0
        while i < len(parts) - 1 and "::".join(parts[: i + 1]) in self.modules:
            ns.append(ident(parts[i]))
            i += 1
        return ns, ident("_".join(parts[i:]))

    def qual(self, scoped: str) -> str:
        ns, local = self.split(scoped)
        return "::" + "::".join([*ns, local])
