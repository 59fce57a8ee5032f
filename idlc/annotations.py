"""Applied annotations: the built-in ones of IDL 4.2 and DDS-XTypes, idlc's own wire
annotations (WIRE.md: @id, @opcode, @translate, @rights, @max_order), and user-declared
ones (@annotation). Arguments are evaluated and range-checked; unknown names get a
warning and are otherwise ignored.
"""

from __future__ import annotations

from idlc import ast, ir
from idlc import errcodes as E
from idlc.consteval import BOOL, INT, STRING, EvalError, Evaluator, Value
from idlc.diagnostics import Diagnostics, Note
from idlc.diagnostics import with_article as _a
from idlc.record import record


@record
class Spec:
    params: tuple[tuple[str, str], ...] = ()  # (name, category or "word" or "any")
    lo: int | None = None
    hi: int | None = None
    places: frozenset[str] | None = None  # None: anywhere


def _s(
    *params: tuple[str, str],
    lo: int | None = None,
    hi: int | None = None,
    places: str | None = None,
) -> Spec:
    return Spec(tuple(params), lo, hi, frozenset(places.split()) if places else None)


_U32 = 2**32 - 1
_CAP_PLACES = "member parameter"

KNOWN: dict[str, Spec] = {
    # idlc's wire annotations (WIRE.md §2-§4)
    "id": _s(("value", INT), lo=0, hi=_U32),
    "opcode": _s(("value", INT), lo=0, hi=0xFFFF, places="operation attribute"),
    # the range 0..2^32-1 is a wire rule (WIRE.md §3, 1.1), checked in wirecheck
    "value": _s(("value", INT), places="enumerator"),
    "translate": _s(places=_CAP_PLACES),
    "rights": _s(("value", INT), lo=0, hi=31, places=_CAP_PLACES),
    "max_order": _s(("value", INT), lo=0, hi=31, places=_CAP_PLACES),
    # IDL 4.2 / DDS-XTypes built-ins
    "optional": _s(("value", BOOL)),
    "key": _s(("value", BOOL)),
    "must_understand": _s(("value", BOOL)),
    "external": _s(("value", BOOL)),
    "nested": _s(("value", BOOL)),
    "default_nested": _s(("value", BOOL)),
    "non_serialized": _s(("value", BOOL)),
    "ignore_literal_names": _s(("value", BOOL)),
    "default_literal": _s(),
    "autoid": _s(("value", "word")),
    "hashid": _s(("value", STRING)),
    "position": _s(("value", INT), lo=0, hi=0xFFFF),
    "bit_bound": _s(("value", INT), lo=1, hi=64),
    "extensibility": _s(("value", "word")),
    "final": _s(),
    "appendable": _s(),
    "mutable": _s(),
    "default": _s(("value", "any")),
    "range": _s(("min", "any"), ("max", "any")),
    "min": _s(("value", "any")),
    "max": _s(("value", "any")),
    "unit": _s(("value", STRING)),
    "verbatim": _s(("language", STRING), ("placement", "word"), ("text", STRING)),
    "topic": _s(("name", STRING), ("platform", STRING)),
    "service": _s(("platform", STRING)),
    "oneway": _s(("value", BOOL)),
    "ami": _s(("value", BOOL)),
    "data_representation": _s(("value", "word")),
    "try_construct": _s(("value", "word")),
    "choice": _s(),
    "empty": _s(),
}

# The enumerators a built-in annotation's "word" parameter accepts (IDL 4.2 §8.3, their
# declared enum types). A None value lets other expressions through (a string, or a mask
# of several XCDR versions) as before.
WORDS: dict[tuple[str, str], tuple[frozenset[str], bool]] = {
    ("extensibility", "value"): (frozenset({"FINAL", "APPENDABLE", "MUTABLE"}), True),
    ("autoid", "value"): (frozenset({"SEQUENTIAL", "HASH"}), True),
    ("try_construct", "value"): (frozenset({"DISCARD", "USE_DEFAULT", "TRIM"}), True),
    ("data_representation", "value"): (frozenset({"XML", "XCDR1", "XCDR2"}), False),
    ("verbatim", "placement"): (
        frozenset(
            {
                "BEGIN_FILE",
                "BEFORE_DECLARATION",
                "BEGIN_DECLARATION",
                "END_DECLARATION",
                "AFTER_DECLARATION",
                "END_FILE",
            }
        ),
        False,
    ),
}

# Annotations that may be given more than once on one element.
REPEATABLE = frozenset({"verbatim", "unit", "topic"})

# Names that some compilers know and that real files use; accepted without checks.
VENDOR = frozenset(
    [
        "OpenDDS::data_structure_tag",
        "OpenDDS::internal",
        "cpp_mapping",
        "java_mapping",
        "c_mapping",
        "annotation",
        "ros2",
        "rosidl",
        "transfer_mode",
    ]
)


class AnnotationChecker:
    def __init__(self, diags: Diagnostics, evaluator: Evaluator) -> None:
        self.diags = diags
        self.evaluator = evaluator
        self.user: set[str] = set()

    def declare(self, name: str) -> None:
        self.user.add(name)

    def check(
        self, annotations: tuple[ast.Annotation, ...], where: str, type_: ir.Type | None = None
    ) -> tuple[ir.Annotation, ...]:
        out: list[ir.Annotation] = []
        seen: dict[str, ast.Annotation] = {}
        for a in annotations:
            name = a.name.parts[-1]
            full_name = "::".join(a.name.parts)
            if full_name in seen and full_name not in REPEATABLE:
                self.diags.report(
                    E.ANNOTATION_DUPLICATE,
                    a.span,
                    name=full_name,
                    notes=[Note(seen[full_name].span, "first given here")],
                )
                continue
            seen[full_name] = a
            spec = KNOWN.get(name)
            if spec is None or len(a.name.parts) > 1:
                full = "::".join(a.name.parts)
                if full not in VENDOR and name not in self.user and full not in self.user:
                    from idlc.suggest import similar_annotation

                    notes = similar_annotation(name, [*KNOWN, *self.user], a.span)
                    self.diags.report(E.W_UNKNOWN_ANNOTATION, a.span, name=full, notes=notes)
                out.append(ir.Annotation(full, ()))
                continue
            if spec.places is not None and where not in spec.places:
                self.diags.report(E.ANNOTATION_MISPLACED, a.span, name=name, what=_a(where))
                continue
            capability_only = name in ("translate", "rights", "max_order")
            if capability_only and type_ is not None and not _is_capability(type_, name):
                what = "a memory capability" if name == "max_order" else "a capability"
                self.diags.report(
                    E.ANNOTATION_MISPLACED,
                    a.span,
                    name=name,
                    what=f"a non-capability ({what} is needed)",
                )
                continue
            args = self._args(a, name, spec, where)
            if args is not None:
                out.append(ir.Annotation(name, args))
        return tuple(out)

    def _args(
        self, a: ast.Annotation, name: str, spec: Spec, where: str
    ) -> tuple[tuple[str, ir.ConstValue], ...] | None:
        values: list[tuple[str, ir.ConstValue]] = []
        params = dict(spec.params)
        for arg in a.args:
            key = arg.name if arg.name is not None else (spec.params[0][0] if spec.params else "")
            cat = params.get(key)
            if cat is None:
                detail = f"unexpected argument '{key}'" if key else "takes no arguments"
                self.diags.report(E.ANNOTATION_BAD_ARGUMENT, arg.span, name=name, detail=detail)
                return None
            if cat == "word":
                allowed, only = WORDS.get((name, key), (None, False))
                if isinstance(arg.value, ast.NameExpr):
                    word = arg.value.name.parts[-1]
                    if allowed is not None and word not in allowed:
                        detail = f"'{arg.value.name}' is not one of " + ", ".join(sorted(allowed))
                        self.diags.report(
                            E.ANNOTATION_BAD_ARGUMENT, arg.span, name=name, detail=detail
                        )
                        return None
                    values.append((key, str(arg.value.name)))
                    continue
                if only and allowed is not None:
                    detail = "expects one of " + ", ".join(sorted(allowed))
                    self.diags.report(E.ANNOTATION_BAD_ARGUMENT, arg.span, name=name, detail=detail)
                    return None
                cat = "any"
            try:
                v = self.evaluator.eval(arg.value)
            except EvalError:
                return None
            if cat != "any" and v.category != cat:
                self.diags.report(
                    E.ANNOTATION_BAD_ARGUMENT,
                    arg.span,
                    name=name,
                    detail=f"expects a {cat} value, not a {v.category} value",
                )
                return None
            if cat == INT and isinstance(v.value, int):
                lo, hi = spec.lo, spec.hi
                if name == "id" and where == "interface":
                    hi = 0xFFFF
                if (lo is not None and v.value < lo) or (hi is not None and v.value > hi):
                    self.diags.report(
                        E.ANNOTATION_BAD_ARGUMENT,
                        arg.span,
                        name=name,
                        detail=(
                            f"{v.value} is out of range {lo}..{hi:#x}"
                            if hi
                            else f"{v.value} is out of range"
                        ),
                    )
                    return None
            values.append((key, _plain(v)))
        needs_value = name in (
            "id",
            "opcode",
            "value",
            "rights",
            "max_order",
            "position",
            "bit_bound",
        )
        if needs_value and not values:
            self.diags.report(E.ANNOTATION_BAD_ARGUMENT, a.span, name=name, detail="needs a value")
            return None
        return tuple(values)


def _plain(v: Value) -> ir.ConstValue:
    value = v.value
    if isinstance(value, (int, float, str, ir.EnumValue)):
        return value
    return str(value)


def _is_capability(t: ir.Type, name: str) -> bool:
    while isinstance(t, (ir.Sequence, ir.Array)):
        t = t.element
    if isinstance(t, ir.Capability):
        return t.kind == "memory" if name == "max_order" else True
    return isinstance(t, ir.Ref) and t.kind == "interface" and name != "max_order"
