"""The intermediate representation: resolved, typed, frozen. Backends see only this.

Every declaration has its scoped name (``demo::Point``, no leading ``::``); types refer to
declarations by that name through ``Ref``, so the IR is a flat, acyclic table that dumps to
JSON (``idlc --emit ir``, schema in docs/ir.md, version IR_VERSION).
"""

from __future__ import annotations

from idlc.record import field, record
from idlc.source import Span

TYPE_CHECKING = False

IR_VERSION = 1

# --- types --------------------------------------------------------------------------

# Primitive kinds, by their IDL 4 names.
INTEGER_KINDS = (
    "int8",
    "uint8",
    "int16",
    "uint16",
    "int32",
    "uint32",
    "int64",
    "uint64",
)
PRIMITIVE_KINDS = (
    "boolean",
    "octet",
    "char",
    "wchar",
    *INTEGER_KINDS,
    "float",
    "double",
    "longdouble",
)

INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "int8": (-(2**7), 2**7 - 1),
    "uint8": (0, 2**8 - 1),
    "octet": (0, 2**8 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "uint32": (0, 2**32 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint64": (0, 2**64 - 1),
}


@record
class Primitive:
    kind: str  # one of PRIMITIVE_KINDS


@record
class String:
    wide: bool
    bound: int | None = None


@record
class Sequence:
    element: Type
    bound: int | None = None


@record
class Array:
    element: Type
    dims: tuple[int, ...]


@record
class Map:
    key: Type
    value: Type
    bound: int | None = None


@record
class Fixed:
    digits: int
    scale: int


@record
class Ref:
    """A named type: struct, union, enum, bitmask, bitset, typedef, interface (a portal
    capability to a server of it), native, or a declaration no backend holds (valuetype,
    eventtype, component...)."""

    name: str
    kind: str  # the declaration's kind, as Declaration.kind


@record
class Capability:
    """A kernel object from the built-in ``nova`` module (WIRE.md §4)."""

    kind: str  # portal, semaphore, pd, ec, sc, memory, ioports


@record
class Opaque:
    """A type that IDL has and the IR does not model: any, Object, ValueBase."""

    construct: str


# --- values -------------------------------------------------------------------------

# Constant values: int (integers, octet), bool, float (float/double; long double too),
# str (char, wchar, string, wstring), EnumValue, or a fixed value as decimal text.


@record
class EnumValue:
    enum: str
    name: str
    value: int


# --- declarations -------------------------------------------------------------------


@record
class Annotation:
    """An applied annotation with its arguments evaluated (positional one as 'value')."""

    name: str
    args: tuple[tuple[str, ConstValue], ...] = ()

    def arg(self, key: str = "value") -> ConstValue | None:
        for k, v in self.args:
            if k == key:
                return v
        return None


@record
class Field:
    name: str
    type: Type
    span: Span
    optional: bool = False
    translate: bool = False  # capabilities: translate rather than delegate (WIRE.md §4)
    rights: int | None = None  # capabilities: rights mask
    max_order: int = 0  # memory capabilities: largest order
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Declaration:
    name: str  # scoped name without leading ::
    span: Span
    annotations: tuple[Annotation, ...]
    doc: str | None

    @property
    def kind(self) -> str:
        raise NotImplementedError

    @property
    def local_name(self) -> str:
        return self.name.rsplit("::", 1)[-1]


@record
class Module(Declaration):
    @property
    def kind(self) -> str:
        return "module"


@record
class Const(Declaration):
    type: Type
    value: ConstValue

    @property
    def kind(self) -> str:
        return "const"


@record
class Struct(Declaration):
    base: str | None
    fields: tuple[Field, ...]

    @property
    def kind(self) -> str:
        return "struct"


@record
class UnionCase:
    labels: tuple[ConstValue, ...]  # discriminator values, in the discriminator's type
    is_default: bool
    field: Field


@record
class Union_(Declaration):
    discriminator: Type
    cases: tuple[UnionCase, ...]
    # True when no label names some discriminator value and there is no default: such a
    # value selects no member (WIRE.md §3, Unions).
    implicit_default: bool

    @property
    def kind(self) -> str:
        return "union"


@record
class Enumerator:
    name: str
    value: int
    span: Span
    doc: str | None = None


@record
class Enum(Declaration):
    enumerators: tuple[Enumerator, ...]

    @property
    def kind(self) -> str:
        return "enum"


@record
class Bitmask(Declaration):
    bit_bound: int
    flags: tuple[Enumerator, ...]  # value = bit position

    @property
    def kind(self) -> str:
        return "bitmask"


@record
class Bitfield:
    name: str | None  # None: anonymous padding
    width: int
    type: Primitive


@record
class Bitset(Declaration):
    base: str | None
    fields: tuple[Bitfield, ...]

    @property
    def kind(self) -> str:
        return "bitset"


@record
class Typedef(Declaration):
    type: Type

    @property
    def kind(self) -> str:
        return "typedef"


@record
class Native(Declaration):
    @property
    def kind(self) -> str:
        return "native"


@record
class Exception_(Declaration):
    exception_id: int  # WIRE.md §2: crc32 of the scoped name, or @id
    fields: tuple[Field, ...]

    @property
    def kind(self) -> str:
        return "exception"


@record
class Param:
    name: str
    mode: str  # in, out, inout
    type: Type
    span: Span
    translate: bool = False
    rights: int | None = None
    max_order: int = 0
    annotations: tuple[Annotation, ...] = ()


@record
class Method:
    """An operation, or an attribute's _get_x/_set_x (WIRE.md §2)."""

    name: str  # as on the wire: op name, _get_x, _set_x
    kind: str  # operation, getter, setter
    interface: str  # the declaring interface
    fid: int
    opcode: int
    oneway: bool
    result: Type | None  # None for void
    params: tuple[Param, ...]
    raises: tuple[str, ...]  # exception scoped names
    span: Span
    annotations: tuple[Annotation, ...] = ()
    doc: str | None = None


@record
class Interface(Declaration):
    interface_kind: str  # interface, abstract interface, local interface
    iid: int
    bases: tuple[str, ...]
    methods: tuple[Method, ...]  # its own, in declaration order
    all_methods: tuple[Method, ...]  # own plus every base's, each once, by opcode order

    @property
    def kind(self) -> str:
        return "interface"


@record
class Unsupported(Declaration):
    """A declaration that the front end checks but the IR does not model (valuetype,
    eventtype, component, home, porttype, connector, template module, @annotation)."""

    construct: str

    @property
    def kind(self) -> str:
        return self.construct


@record
class MessageSize:
    """Bounds of one message in untyped words and typed items; None = unbounded."""

    min_words: int
    max_words: int | None
    min_items: int
    max_items: int | None


@record
class Pragma:
    name: str
    args: str
    span: Span


@record
class Specification:
    """One compiled IDL file (with everything it includes)."""

    main_file: str
    files: tuple[str, ...]
    declarations: tuple[Declaration, ...]  # in source order, modules included
    pragmas: tuple[Pragma, ...] = ()
    # sizes[arch][interface][method] = (request, reply or None for oneway)
    sizes: dict[str, dict[str, dict[str, tuple[MessageSize, MessageSize | None]]]] = field(
        default_factory=dict
    )

    def lookup(self, name: str) -> Declaration | None:
        return self._index().get(name)

    def _index(self) -> dict[str, Declaration]:
        index = self.__dict__.get("_by_name")
        if index is None:
            index = {d.name: d for d in self.declarations}
            self.__dict__["_by_name"] = index
        return index


# Type aliases, for the type checker only (typing is not imported at run time: start-up).
if TYPE_CHECKING:
    from typing import Union

    Type = Union[Primitive, String, Sequence, Array, Map, Fixed, Ref, Capability, Opaque]
    ConstValue = Union[int, bool, float, str, EnumValue]
