"""The raw syntax tree, straight from the parser: every node keeps its span.

Nothing here is resolved; names are still text. ``idlc.sema`` turns this into the IR.
"""

from __future__ import annotations

from idlc.record import record
from idlc.source import Span

TYPE_CHECKING = False

# --- names and expressions ----------------------------------------------------------


@record
class Name:
    parts: tuple[str, ...]
    absolute: bool
    span: Span

    def __str__(self) -> str:
        return ("::" if self.absolute else "") + "::".join(self.parts)


@record
class Literal:
    kind: str  # int, float, fixed, string, wstring, char, wchar, boolean
    value: object  # int, float, str, bool; fixed as its literal text
    span: Span


@record
class NameExpr:
    name: Name
    span: Span


@record
class Unary:
    op: str  # - + ~
    operand: Expr
    span: Span


@record
class Binary:
    op: str  # | ^ & << >> + - * / %
    left: Expr
    right: Expr
    span: Span


# --- annotations --------------------------------------------------------------------


@record
class AnnotationArg:
    name: str | None  # None for the single positional argument
    value: Expr
    span: Span


@record
class Annotation:
    name: Name
    args: tuple[AnnotationArg, ...]
    span: Span


# --- types --------------------------------------------------------------------------


@record
class BaseType:
    """A keyword type: short, long, longlong, ushort, ulong, ulonglong, int8, uint8, float,
    double, longdouble, char, wchar, boolean, octet, any, Object, ValueBase, void, fixed."""

    kind: str
    span: Span


@record
class StringType:
    wide: bool
    bound: Expr | None
    span: Span


@record
class SequenceType:
    element: TypeSpec
    bound: Expr | None
    span: Span
    annotations: tuple[Annotation, ...] = ()


@record
class FixedType:
    digits: Expr
    scale: Expr
    span: Span


@record
class MapType:
    key: TypeSpec
    value: TypeSpec
    bound: Expr | None
    span: Span


# A type named by a scoped name is the Name itself. A struct/union/enum/bitset/bitmask
# declared inline (in a typedef or member) is the declaration node.

# --- declarations -------------------------------------------------------------------


@record
class Declarator:
    name: str
    span: Span
    sizes: tuple[Expr, ...] = ()
    annotations: tuple[Annotation, ...] = ()


@record
class Module:
    name: str
    span: Span
    definitions: tuple[Definition, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Const:
    name: str
    span: Span
    type: TypeSpec
    value: Expr
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Member:
    type: TypeSpec
    declarators: tuple[Declarator, ...]
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Struct:
    name: str
    span: Span
    base: Name | None
    members: tuple[Member, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Forward:
    """A forward declaration: kind is struct, union, interface, abstract interface, local
    interface, valuetype, eventtype, component or porttype."""

    kind: str
    name: str
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class CaseLabel:
    value: Expr | None  # None is `default`
    span: Span


@record
class UnionCase:
    labels: tuple[CaseLabel, ...]
    type: TypeSpec
    declarator: Declarator
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Union_:
    name: str
    span: Span
    discriminator: TypeSpec
    cases: tuple[UnionCase, ...]
    annotations: tuple[Annotation, ...] = ()
    discriminator_annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Enumerator:
    name: str
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Enum:
    name: str
    span: Span
    enumerators: tuple[Enumerator, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Bitmask:
    name: str
    span: Span
    values: tuple[Enumerator, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Bitfield:
    width: Expr
    type: TypeSpec | None
    names: tuple[Declarator, ...]  # empty: anonymous padding
    span: Span
    annotations: tuple[Annotation, ...] = ()


@record
class Bitset:
    name: str
    span: Span
    base: Name | None
    fields: tuple[Bitfield, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Native:
    name: str
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Typedef:
    type: TypeSpec
    declarators: tuple[Declarator, ...]
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Exception_:
    name: str
    span: Span
    members: tuple[Member, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Param:
    mode: str  # in, out, inout
    type: TypeSpec
    name: str
    span: Span
    annotations: tuple[Annotation, ...] = ()
    sizes: tuple[Expr, ...] = ()  # idlc extension: array parameters


@record
class Operation:
    name: str
    span: Span
    oneway: bool
    result: TypeSpec
    params: tuple[Param, ...]
    raises: tuple[Name, ...]
    context: tuple[str, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Attribute:
    name: str
    span: Span
    readonly: bool
    type: TypeSpec
    getraises: tuple[Name, ...] = ()
    setraises: tuple[Name, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Interface:
    kind: str  # interface, abstract interface, local interface
    name: str
    span: Span
    bases: tuple[Name, ...]
    body: tuple[Definition, ...]
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class StateMember:
    public: bool
    member: Member


@record
class Factory:
    """A valuetype initializer or a home's factory/finder operation."""

    kind: str  # factory, finder
    name: str
    span: Span
    params: tuple[Param, ...]
    raises: tuple[Name, ...]


@record
class ValueType:
    """valuetype/eventtype definitions and boxes, parsed so that names resolve; no backend
    holds them yet."""

    kind: str  # valuetype, eventtype
    modifier: str | None  # custom, abstract
    name: str
    span: Span
    form: str  # def, box
    bases: tuple[Name, ...] = ()
    supports: tuple[Name, ...] = ()
    truncatable: bool = False
    boxed: TypeSpec | None = None
    body: tuple[Definition | StateMember | Factory, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Port:
    """provides/uses/emits/publishes/consumes/port/mirrorport in components and friends."""

    kind: str
    type: Name | BaseType
    name: str
    span: Span
    multiple: bool = False


@record
class Component:
    """component, home, porttype and connector declarations (CCM)."""

    kind: str  # component, home, porttype, connector
    name: str
    span: Span
    base: Name | None = None
    supports: tuple[Name, ...] = ()
    manages: Name | None = None
    primary_key: Name | None = None
    body: tuple[Definition | Port | Factory, ...] = ()
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class TemplateModule:
    """A template module declaration (opaque: its body is parsed, not checked)."""

    name: str
    span: Span
    params: tuple[tuple[str, str], ...]  # (kind, name)
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class TemplateInstance:
    template: Name
    name: str
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class RepositoryIdDecl:
    """typeid / typeprefix declarations and import."""

    kind: str  # typeid, typeprefix, import
    target: Name | None
    value: str | None
    span: Span


@record
class AnnotationMember:
    type: TypeSpec
    name: str
    default: Expr | None
    span: Span


@record
class AnnotationDecl:
    name: str
    span: Span
    members: tuple[AnnotationMember, ...]
    definitions: tuple[Definition, ...] = ()
    doc: str | None = None


@record
class Specification:
    """One translation unit after preprocessing."""

    definitions: tuple[Definition, ...]
    comments: tuple[tuple[Span, str], ...] = ()


# Type aliases, for the type checker only (typing is not imported at run time: start-up).
if TYPE_CHECKING:
    from typing import Union

    Expr = Union[Literal, NameExpr, Unary, Binary]
    TypeSpec = Union[
        BaseType,
        StringType,
        SequenceType,
        FixedType,
        MapType,
        Name,
        Struct,
        Union_,
        Enum,
        Bitset,
        Bitmask,
    ]
    Definition = Union[
        Module,
        Const,
        Struct,
        Forward,
        Union_,
        Enum,
        Bitmask,
        Bitset,
        Native,
        Typedef,
        Exception_,
        Interface,
        Operation,
        Attribute,
        ValueType,
        Component,
        TemplateModule,
        TemplateInstance,
        RepositoryIdDecl,
        AnnotationDecl,
    ]
