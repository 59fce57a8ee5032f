"""Encoded sizes of IDL values and messages per architecture (WIRE.md §3).

A size is an ``ir.MessageSize``: the least and the most untyped words and typed items a
value can take; a maximum of None means unbounded (an unbounded string or sequence, or a
type that reaches itself through a sequence).

The minimum and the maximum are computed separately. The minimum never looks inside a
sequence's element type (an empty sequence is one length word), so it is finite and
well-founded even for recursive types. The maximum guards against recursion with a
visiting set: a type met again while it is being sized has an unbounded word count (each
level of nesting costs at least a sequence length word), and an unbounded item count only
if a capability is reachable from it. Both are memoised per (declaration name, arch) in a
``Layout`` that is cached on the Specification, so sizing every method of a large file
walks each named type once.

Types the wire format does not define (``any``/``Object``/``ValueBase``, ``fixed``,
``map``, ``long double``, native, bitset, valuetype and the like, or an unresolved
reference) raise ``UnsizedType``; sema has already reported them. ``compute_sizes`` leaves
a method with such a type out of its table.
"""

from __future__ import annotations

import math

from idlc import ir

# Word size in bytes per architecture (WIRE.md §1).
ARCHES: dict[str, int] = {"x86_64": 8, "x86_32": 4}

# (untyped words, typed items) of one frame in an otherwise empty UTCB (WIRE.md §1).
FRAME_LIMITS: dict[str, tuple[int, int]] = {"x86_64": (253, 126), "x86_32": (509, 254)}

# Capability kinds that travel as object capabilities (Crd type 3).
OBJECT_CAPABILITIES = frozenset({"portal", "semaphore", "pd", "ec", "sc"})

# Natural size in bytes of each packable primitive inside a packed run (WIRE.md §3).
_PACKED_BYTES: dict[str, int] = {
    "boolean": 1,
    "octet": 1,
    "char": 1,
    "int8": 1,
    "uint8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "float": 4,
    "wchar": 4,
    "int64": 8,
    "uint64": 8,
    "double": 8,
}
_ENUM_BYTES = 4

# Primitives that take two words on an architecture with 4-byte words.
_WIDE_SCALARS = frozenset({"int64", "uint64", "double"})

# Sizes of one message: the opcode word of a request, the status word of a reply, and the
# exception id word of a user exception.
_STATUS_WORDS = 1
_EXCEPTION_ID_WORDS = 1

EMPTY = ir.MessageSize(0, 0, 0, 0)


class UnsizedType(Exception):
    """A type that has no encoding in WIRE.md (sema reports it; layout only refuses)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


# --- arithmetic on sizes -------------------------------------------------------------


def _opt_add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def _opt_mul(n: int, a: int | None) -> int | None:
    if n == 0 or a == 0:
        return 0
    return None if a is None else n * a


def _opt_max(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else max(a, b)


def add(a: ir.MessageSize, b: ir.MessageSize) -> ir.MessageSize:
    """The size of a value of ``a`` followed by one of ``b``."""
    return ir.MessageSize(
        a.min_words + b.min_words,
        _opt_add(a.max_words, b.max_words),
        a.min_items + b.min_items,
        _opt_add(a.max_items, b.max_items),
    )


def either(a: ir.MessageSize, b: ir.MessageSize) -> ir.MessageSize:
    """The size of a value that is one of ``a`` or ``b``."""
    return ir.MessageSize(
        min(a.min_words, b.min_words),
        _opt_max(a.max_words, b.max_words),
        min(a.min_items, b.min_items),
        _opt_max(a.max_items, b.max_items),
    )


def fixed(words: int, items: int = 0) -> ir.MessageSize:
    return ir.MessageSize(words, words, items, items)


# --- the engine ----------------------------------------------------------------------


class Layout:
    """Sizes of types of one specification on one architecture, memoised per name."""

    def __init__(self, spec: ir.Specification, arch: str) -> None:
        if arch not in ARCHES:
            raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHES)}")
        self.spec = spec
        self.arch = arch
        self.word = ARCHES[arch]
        self._min: dict[str, tuple[int, int]] = {}
        self._max: dict[str, tuple[int | None, int | None]] = {}
        self._caps: dict[str, bool] = {}
        self._visiting: set[str] = set()

    # -- public --

    def size(self, t: ir.Type) -> ir.MessageSize:
        min_words, min_items = self._min_of(t, frozenset())
        max_words, max_items = self._max_of(t)
        return ir.MessageSize(min_words, max_words, min_items, max_items)

    def field_size(self, t: ir.Type, optional: bool = False) -> ir.MessageSize:
        """A struct, union or exception member: ``@optional`` adds a presence word and
        makes the value itself optional."""
        s = self.size(t)
        if not optional:
            return s
        return ir.MessageSize(1, _opt_add(1, s.max_words), 0, s.max_items)

    def fields_size(self, fields: tuple[ir.Field, ...]) -> ir.MessageSize:
        total = EMPTY
        for f in fields:
            total = add(total, self.field_size(f.type, f.optional))
        return total

    def can_hold_capabilities(self, t: ir.Type) -> bool:
        """True when some value of ``t`` carries a typed item."""
        return self._caps_of(t, frozenset())

    # -- resolution --

    def resolve(self, name: str) -> ir.Declaration:
        decl = self.spec.lookup(name)
        if decl is None:
            raise UnsizedType(f"unresolved reference '{name}'")
        return decl

    def packed(self, t: ir.Type) -> tuple[int, int] | None:
        """(bytes per scalar, scalars per value) if ``t`` is packable, else None."""
        if isinstance(t, ir.Primitive):
            size = _PACKED_BYTES.get(t.kind)
            return None if size is None else (size, 1)
        if isinstance(t, ir.Array):
            inner = self.packed(t.element)
            if inner is None:
                return None
            return inner[0], inner[1] * math.prod(t.dims)
        if isinstance(t, ir.Ref):
            decl = self.spec.lookup(t.name)
            if isinstance(decl, ir.Enum):
                return _ENUM_BYTES, 1
            if isinstance(decl, ir.Typedef):
                return self.packed(decl.type)
        return None

    def _run_words(self, scalar_bytes: int, count: int) -> int:
        return -(-(scalar_bytes * count) // self.word)

    def _scalar_words(self, kind: str) -> int:
        if kind not in _PACKED_BYTES:
            raise UnsizedType(kind)  # long double
        if kind in _WIDE_SCALARS and self.word < 8:
            return 8 // self.word
        return 1

    def _bitmask_words(self, decl: ir.Bitmask) -> int:
        return 1 if decl.bit_bound <= 32 else self._scalar_words("uint64")

    def _string_max(self, t: ir.String) -> int | None:
        if t.bound is None:
            return None
        return 1 + -(-(t.bound * (4 if t.wide else 1)) // self.word)

    # -- minimum: never enters a sequence element, so recursion cannot loop --

    def _min_of(self, t: ir.Type, path: frozenset[str]) -> tuple[int, int]:
        if isinstance(t, ir.Primitive):
            return self._scalar_words(t.kind), 0
        if isinstance(t, ir.String | ir.Sequence):
            if isinstance(t, ir.Sequence):
                self._check_supported(t.element)
            return 1, 0
        if isinstance(t, ir.Array):
            packed = self.packed(t)
            if packed is not None:
                return self._run_words(*packed), 0
            words, items = self._min_of(t.element, path)
            n = math.prod(t.dims)
            return n * words, n * items
        if isinstance(t, ir.Capability):
            return 0, 1
        if isinstance(t, ir.Ref):
            return self._min_named(t.name, path)
        raise UnsizedType(_describe(t))

    def _check_supported(self, t: ir.Type) -> None:
        """Refuse unsized element types even where the minimum would not look at them."""
        if isinstance(t, ir.Map | ir.Fixed | ir.Opaque):
            raise UnsizedType(_describe(t))
        if isinstance(t, ir.Primitive) and t.kind not in _PACKED_BYTES:
            raise UnsizedType(t.kind)

    def _min_named(self, name: str, path: frozenset[str]) -> tuple[int, int]:
        cached = self._min.get(name)
        if cached is not None:
            return cached
        if name in path:
            # Recursion outside a sequence: sema reports it (TYPE_RECURSIVE).
            raise UnsizedType(f"'{name}' contains itself")
        path = path | {name}
        decl = self.resolve(name)
        result: tuple[int, int]
        if isinstance(decl, ir.Typedef):
            result = self._min_of(decl.type, path)
        elif isinstance(decl, ir.Enum):
            result = 1, 0
        elif isinstance(decl, ir.Bitmask):
            result = self._bitmask_words(decl), 0
        elif isinstance(decl, ir.Interface):
            result = 0, 1
        elif isinstance(decl, ir.Struct):
            words = items = 0
            if decl.base is not None:
                words, items = self._min_named(decl.base, path)
            for f in decl.fields:
                w, i = (1, 0) if f.optional else self._min_of(f.type, path)
                words, items = words + w, items + i
            result = words, items
        elif isinstance(decl, ir.Union_):
            disc, _ = self._min_of(decl.discriminator, path)
            options = [(0, 0)] if decl.implicit_default else []
            for case in decl.cases:
                f = case.field
                try:
                    options.append((1, 0) if f.optional else self._min_of(f.type, path))
                except UnsizedType:
                    # A case that leads back to a type being sized (recursion through an
                    # @external member) is never the smallest value: skip it.
                    continue
            if not options:
                raise UnsizedType(f"every case of '{name}' contains it")
            words = min((w for w, _ in options), default=0)
            items = min((i for _, i in options), default=0)
            result = disc + words, items
        else:
            raise UnsizedType(f"{decl.kind} '{name}'")
        self._min[name] = result
        return result

    # -- maximum: recursion means unbounded words --

    def _max_of(self, t: ir.Type) -> tuple[int | None, int | None]:
        if isinstance(t, ir.Primitive):
            return self._scalar_words(t.kind), 0
        if isinstance(t, ir.String):
            return self._string_max(t), 0
        if isinstance(t, ir.Sequence):
            packed = self.packed(t.element)
            if packed is not None:
                if t.bound is None:
                    return None, 0
                return 1 + self._run_words(packed[0], packed[1] * t.bound), 0
            words, items = self._max_of(t.element)
            if t.bound is None:
                # Elements that take no words (capabilities) still need their length word.
                return (1 if words == 0 else None), (0 if items == 0 else None)
            return _opt_add(1, _opt_mul(t.bound, words)), _opt_mul(t.bound, items)
        if isinstance(t, ir.Array):
            packed = self.packed(t)
            if packed is not None:
                return self._run_words(*packed), 0
            words, items = self._max_of(t.element)
            n = math.prod(t.dims)
            return _opt_mul(n, words), _opt_mul(n, items)
        if isinstance(t, ir.Capability):
            return 0, 1
        if isinstance(t, ir.Ref):
            return self._max_named(t.name)
        raise UnsizedType(_describe(t))

    def _max_named(self, name: str) -> tuple[int | None, int | None]:
        cached = self._max.get(name)
        if cached is not None:
            return cached
        if name in self._visiting:
            return None, (None if self._caps_named(name, frozenset()) else 0)
        decl = self.resolve(name)
        self._visiting.add(name)
        try:
            result = self._max_decl(name, decl)
        finally:
            self._visiting.discard(name)
        self._max[name] = result
        return result

    def _max_decl(self, name: str, decl: ir.Declaration) -> tuple[int | None, int | None]:
        if isinstance(decl, ir.Typedef):
            return self._max_of(decl.type)
        if isinstance(decl, ir.Enum):
            return 1, 0
        if isinstance(decl, ir.Bitmask):
            return self._bitmask_words(decl), 0
        if isinstance(decl, ir.Interface):
            return 0, 1
        if isinstance(decl, ir.Struct):
            words: int | None = 0
            items: int | None = 0
            if decl.base is not None:
                words, items = self._max_named(decl.base)
            for f in decl.fields:
                w, i = self._max_of(f.type)
                if f.optional:
                    w = _opt_add(1, w)
                words, items = _opt_add(words, w), _opt_add(items, i)
            return words, items
        if isinstance(decl, ir.Union_):
            disc, _ = self._max_of(decl.discriminator)
            words, items = 0, 0
            for case in decl.cases:
                w, i = self._max_of(case.field.type)
                if case.field.optional:
                    w = _opt_add(1, w)
                words, items = _opt_max(words, w), _opt_max(items, i)
            return _opt_add(disc, words), items
        raise UnsizedType(f"{decl.kind} '{name}'")

    # -- can a value carry capabilities at all --

    def _caps_of(self, t: ir.Type, path: frozenset[str]) -> bool:
        if isinstance(t, ir.Capability):
            return True
        if isinstance(t, ir.Sequence | ir.Array):
            return self._caps_of(t.element, path)
        if isinstance(t, ir.Ref):
            return self._caps_named(t.name, path)
        return False

    def _caps_named(self, name: str, path: frozenset[str]) -> bool:
        cached = self._caps.get(name)
        if cached is not None:
            return cached
        if name in path:
            return False  # whatever the cycle holds is found on the way in
        path = path | {name}
        decl = self.spec.lookup(name)
        result = False
        if isinstance(decl, ir.Interface):
            result = True
        elif isinstance(decl, ir.Typedef):
            result = self._caps_of(decl.type, path)
        elif isinstance(decl, ir.Struct):
            result = (decl.base is not None and self._caps_named(decl.base, path)) or any(
                self._caps_of(f.type, path) for f in decl.fields
            )
        elif isinstance(decl, ir.Union_):
            result = any(self._caps_of(c.field.type, path) for c in decl.cases)
        elif isinstance(decl, ir.Exception_):
            result = any(self._caps_of(f.type, path) for f in decl.fields)
        if result or not path - {name}:
            # True is final; False is final only from the outermost call, since inside a
            # cycle a type met again was answered False provisionally.
            self._caps[name] = result
        return result

    # -- messages --

    def method_sizes(self, method: ir.Method) -> tuple[ir.MessageSize, ir.MessageSize | None]:
        request = fixed(1)  # opcode
        for p in method.params:
            if p.mode in ("in", "inout"):
                request = add(request, self.size(p.type))
        if method.oneway:
            return request, None
        success = fixed(_STATUS_WORDS)
        if method.result is not None:
            success = add(success, self.size(method.result))
        for p in method.params:
            if p.mode in ("out", "inout"):
                success = add(success, self.size(p.type))
        # An NRE error code with its message string: counted as the status word and the
        # string's length word only; the message text is left out of the maximum, since a
        # server that cannot fit it answers E_CAPACITY (WIRE.md §2) and a bound check
        # would otherwise call every two-way method unbounded.
        reply = either(success, fixed(_STATUS_WORDS + 1))
        for name in method.raises:
            exc = self.spec.lookup(name)
            if not isinstance(exc, ir.Exception_):
                raise UnsizedType(f"'{name}' is not an exception")
            user = add(fixed(_STATUS_WORDS + _EXCEPTION_ID_WORDS), self.fields_size(exc.fields))
            reply = either(reply, user)
        return request, reply


def _describe(t: ir.Type) -> str:
    if isinstance(t, ir.Opaque):
        return t.construct
    if isinstance(t, ir.Fixed):
        return "fixed"
    if isinstance(t, ir.Map):
        return "map"
    return type(t).__name__


# --- module-level API ----------------------------------------------------------------


def layout_for(spec: ir.Specification, arch: str) -> Layout:
    """The memoising Layout of ``spec`` on ``arch``, kept on the spec for its lifetime."""
    cache: dict[str, Layout] = spec.__dict__.setdefault("_layouts", {})
    found = cache.get(arch)
    if found is None:
        found = cache[arch] = Layout(spec, arch)
    return found


def type_size(spec: ir.Specification, t: ir.Type, arch: str) -> ir.MessageSize:
    """Min/max words and items of a value of ``t``; raises UnsizedType (see module doc)."""
    return layout_for(spec, arch).size(t)


def method_sizes(
    spec: ir.Specification, method: ir.Method, arch: str
) -> tuple[ir.MessageSize, ir.MessageSize | None]:
    """(request, reply) of ``method``; reply None for oneway. Raises UnsizedType."""
    return layout_for(spec, arch).method_sizes(method)


def compute_sizes(
    spec: ir.Specification,
) -> dict[str, dict[str, dict[str, tuple[ir.MessageSize, ir.MessageSize | None]]]]:
    """sizes[arch][interface][method] for every method an interface serves (its
    ``all_methods``); a method whose parameters have no encoding is left out."""
    sizes: dict[str, dict[str, dict[str, tuple[ir.MessageSize, ir.MessageSize | None]]]] = {}
    for arch in ARCHES:
        lay = layout_for(spec, arch)
        per_arch = sizes[arch] = {}
        for decl in spec.declarations:
            if not isinstance(decl, ir.Interface):
                continue
            per_iface = per_arch[decl.name] = {}
            for method in decl.all_methods:
                try:
                    per_iface[method.name] = lay.method_sizes(method)
                except UnsizedType:
                    continue
    return sizes
