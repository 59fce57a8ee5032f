"""The one table of diagnostics: a stable code, a severity and a message template each.

Codes are never reused. Ranges: E00xx preprocessor, E01xx lexing and syntax, E02xx names
and scopes, E03xx constants and types, E04xx data declarations, E05xx interfaces and the
wire contract (WIRE.md), E06xx annotations, E09xx backends. Warnings: W0xxx. A retired
code stays in the table with ``retired=True``. docs/errors.md documents every live code
with an example, and tests/test_errcodes.py checks the two agree.
"""

from __future__ import annotations

from idlc.record import record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


class Severity:
    """ERROR or WARNING, compared with `is`, and `value` "error" or "warning", like the
    enum.Enum it was: importing enum costs more at every start than this whole module."""

    __slots__ = ("value",)
    value: str
    ERROR: ClassVar[Severity]
    WARNING: ClassVar[Severity]

    def __new__(cls, value: str) -> Severity:
        known = _SEVERITIES.get(value)
        if known is None:
            raise ValueError(f"{value!r} is not a valid Severity")
        return known

    def __repr__(self) -> str:
        return f"<Severity.{self.value.upper()}: {self.value!r}>"


def _severity(value: str) -> Severity:
    made = object.__new__(Severity)
    made.value = value
    _SEVERITIES[value] = made
    return made


_SEVERITIES: dict[str, Severity] = {}
Severity.ERROR = _severity("error")
Severity.WARNING = _severity("warning")


@record
class DiagDef:
    code: str
    name: str
    severity: Severity
    template: str
    opt_in: bool = False  # warnings only: off unless enabled with -W<code>
    retired: bool = False

    def format(self, **args: object) -> str:
        try:
            return self.template.format(**args)
        except (KeyError, IndexError, ValueError):
            # A template/argument mismatch is a compiler bug; never let it hide the error.
            return f"{self.template} {args!r}"


TABLE: dict[str, DiagDef] = {}


def _e(code: str, name: str, template: str) -> DiagDef:
    return _add(DiagDef(code, name, Severity.ERROR, template))


def _w(code: str, name: str, template: str, *, opt_in: bool = False) -> DiagDef:
    return _add(DiagDef(code, name, Severity.WARNING, template, opt_in=opt_in))


def _add(defn: DiagDef) -> DiagDef:
    if defn.code in TABLE:
        raise AssertionError(f"duplicate diagnostic code {defn.code}")
    TABLE[defn.code] = defn
    return defn


# --- E00xx: preprocessor --------------------------------------------------------------
PP_INCLUDE_NOT_FOUND = _e("E0001", "include-not-found", "cannot find include file '{name}'")
PP_ERROR_DIRECTIVE = _e("E0002", "error-directive", "#error {text}")
PP_UNTERMINATED_CONDITIONAL = _e(
    "E0003", "unterminated-conditional", "#{directive} without matching #endif"
)
PP_UNMATCHED_DIRECTIVE = _e("E0004", "unmatched-directive", "#{directive} without #if")
PP_UNKNOWN_DIRECTIVE = _e("E0005", "unknown-directive", "invalid preprocessing directive #{name}")
PP_BAD_EXPRESSION = _e("E0006", "bad-if-expression", "invalid #{directive} expression: {detail}")
PP_MACRO_ARGUMENTS = _e("E0007", "macro-arguments", "macro '{name}': {detail}")
PP_BAD_DEFINE = _e("E0008", "bad-define", "invalid macro definition: {detail}")
PP_INCLUDE_DEPTH = _e("E0009", "include-depth", "#include nested more than {limit} levels deep")
PP_BAD_INCLUDE = _e("E0010", "bad-include", "invalid #include: {detail}")
PP_UNTERMINATED_COMMENT = _e("E0011", "unterminated-comment", "unterminated /* comment")
PP_BAD_LINE = _e("E0012", "bad-line", "invalid #line directive: {detail}")
PP_READ_ERROR = _e("E0013", "read-error", "cannot read '{path}': {reason}")
PP_BAD_PRAGMA = _e("E0014", "bad-pragma", "malformed #pragma {name}: {detail}")
PP_ELSE_AFTER_ELSE = _e("E0015", "else-after-else", "#{directive} after #else")

# --- E01xx: lexing and syntax ---------------------------------------------------------
LEX_BAD_CHARACTER = _e("E0101", "bad-character", "unexpected character {char}")
SYNTAX_UNEXPECTED_TOKEN = _e("E0102", "unexpected-token", "unexpected {found}; expected {expected}")
SYNTAX_UNEXPECTED_EOF = _e(
    "E0103", "unexpected-eof", "unexpected end of input; expected {expected}"
)
LEX_BAD_NUMBER = _e("E0104", "bad-number", "malformed number literal '{text}'")
LEX_UNTERMINATED_LITERAL = _e("E0105", "unterminated-literal", "unterminated {what} literal")
LEX_BAD_ESCAPE = _e("E0106", "bad-escape", "invalid escape sequence '{text}' in {what} literal")
SYNTAX_TOO_DEEP = _e("E0107", "nesting-too-deep", "nesting deeper than {limit} levels")
LEX_BAD_CHAR_LITERAL = _e("E0108", "bad-char-literal", "a {what} literal holds one character")
LEX_NUMBER_TOO_LONG = _e(
    "E0109",
    "number-too-long",
    "integer literal '{text}' is too long: idlc reads values of up to {limit} decimal digits",
)
SYNTAX_MISSING_TOKEN = _e("E0110", "missing-token", "missing {what} after {after}")
SYNTAX_MISSPELLED_KEYWORD = _e(
    "E0111", "misspelled-keyword", "unexpected {found}; did you mean '{keyword}'?"
)

# --- E02xx: names and scopes ----------------------------------------------------------
NAME_REDEFINITION = _e("E0201", "redefinition", "redefinition of '{name}'")
NAME_CASE_COLLISION = _e(
    "E0202",
    "case-collision",
    "'{name}' collides with '{other}': names in one scope may not differ only in case",
)
NAME_UNDECLARED = _e("E0203", "undeclared", "'{name}' is not declared")
NAME_WRONG_KIND = _e("E0204", "wrong-kind", "'{name}' is {kind}, but {expected} is needed here")
NAME_FORWARD_MISMATCH = _e(
    "E0205", "forward-mismatch", "'{name}' was declared as {old} and is now defined as {new}"
)
NAME_AMBIGUOUS = _e("E0206", "ambiguous", "'{name}' is ambiguous: it is declared in {where}")
NAME_SAME_AS_SCOPE = _e(
    "E0207", "same-as-scope", "'{name}' may not have the name of the scope that encloses it"
)
NAME_CHANGED_MEANING = _e(
    "E0208",
    "changed-meaning",
    "'{name}' is declared here after its use in this scope referred to '{old}'",
)
NAME_INCOMPLETE = _e("E0209", "incomplete-type", "'{name}' is incomplete here: {reason}")
NAME_INHERITED_CLASH = _e(
    "E0210", "inherited-clash", "'{name}' is inherited from both '{first}' and '{second}'"
)
NAME_REDEFINES_INHERITED = _e(
    "E0211", "redefines-inherited", "'{name}' redefines a member inherited from '{base}'"
)
NAME_NEVER_DEFINED = _e(
    "E0212", "never-defined", "{kind} '{name}' is forward-declared but never defined"
)

# --- E03xx: constants and types -------------------------------------------------------
CONST_TYPE_MISMATCH = _e("E0301", "const-type-mismatch", "{what} cannot be a value of type {type}")
CONST_OUT_OF_RANGE = _e("E0302", "const-out-of-range", "value {value} is out of range for {type}")
CONST_DIVISION_BY_ZERO = _e("E0303", "division-by-zero", "division by zero in constant expression")
CONST_BAD_OPERAND = _e("E0304", "bad-operand", "operator '{op}' cannot be applied to {what}")
BOUND_NOT_POSITIVE = _e(
    "E0305", "bad-bound", "{what} must be a positive integer constant, not {value}"
)
TYPE_RECURSIVE = _e(
    "E0306",
    "recursive-type",
    "'{name}' contains itself; recursion is only allowed through a sequence",
)
CONST_BAD_TYPE = _e("E0307", "bad-const-type", "a constant cannot have type {type}")
# E0308 type-not-allowed: retired before release; backends report unsupported types (E0901).
TYPE_NOT_ALLOWED = _add(
    DiagDef("E0308", "type-not-allowed", Severity.ERROR, "(retired)", retired=True)
)
CONST_NOT_CONSTANT = _e("E0309", "not-constant", "'{name}' is not a constant")

# --- E04xx: data declarations ---------------------------------------------------------
ENUM_DUPLICATE_VALUE = _e(
    "E0401", "enum-duplicate-value", "enumerator '{name}' has value {value}, as '{other}' does"
)
UNION_BAD_DISCRIMINATOR = _e(
    "E0402", "bad-discriminator", "'{type}' cannot be a union discriminator type"
)
UNION_DUPLICATE_LABEL = _e("E0403", "duplicate-label", "case label {value} is used twice")
UNION_BAD_LABEL = _e("E0404", "bad-label", "case label ({what}) is not a value of {type}")
UNION_DUPLICATE_DEFAULT = _e("E0405", "duplicate-default", "union has more than one default label")
# E0406: retired before release; now the warning W0008.
UNION_RESERVED_0406 = _add(
    DiagDef("E0406", "default-unreachable", Severity.ERROR, "(retired)", retired=True)
)
STRUCT_BAD_BASE = _e("E0407", "bad-struct-base", "'{name}' is not a struct and cannot be a base")
BIT_FIELD_RANGE = _e("E0408", "bit-range", "{what} {value} is out of range {lo}..{hi}")
# E0409 empty-declaration: retired before release; IDL 4 allows empty structs.
EMPTY_DECLARATION = _add(
    DiagDef("E0409", "empty-declaration", Severity.ERROR, "(retired)", retired=True)
)

# --- E05xx: interfaces and the wire contract ------------------------------------------
INTERFACE_BAD_BASE = _e("E0501", "bad-interface-base", "'{name}' is not an interface")
INTERFACE_BASE_INCOMPLETE = _e(
    "E0502", "base-incomplete", "base interface '{name}' is forward-declared but not defined"
)
INTERFACE_DUPLICATE_BASE = _e("E0503", "duplicate-base", "'{name}' is listed as a base twice")
ONEWAY_RESULT = _e("E0504", "oneway-result", "oneway operation '{name}' must return void")
ONEWAY_OUTPUT = _e(
    "E0505", "oneway-output", "oneway operation '{name}' has {mode} parameter '{param}'"
)
ONEWAY_RAISES = _e("E0506", "oneway-raises", "oneway operation '{name}' cannot raise exceptions")
RAISES_NOT_EXCEPTION = _e("E0507", "raises-not-exception", "'{name}' in raises is not an exception")
OPCODE_COLLISION = _e(
    "E0508",
    "opcode-collision",
    "'{first}' and '{second}' both have opcode {opcode}; {hint}",
)
EXCEPTION_ID_COLLISION = _e(
    "E0509", "exception-id-collision", "'{first}' and '{second}' both have exception id {eid}"
)
OPCODE_OVERFLOW = _e(
    "E0510", "opcode-overflow", "method number of '{name}' passes 0xFFFF ({value})"
)
OPCODE_ON_ATTRIBUTE = _e("E0511", "opcode-on-attribute", "@opcode is not allowed on attributes")
CAP_MIXED_KINDS = _e(
    "E0512",
    "mixed-capability-kinds",
    "the {direction} of '{method}' would {how} capabilities of several kinds ({kinds}); "
    "one receive window holds one kind",
)
CAP_UNBOUNDED = _e(
    "E0513",
    "unbounded-capabilities",
    "the {direction} of '{method}' carries an unbounded number of capabilities",
)
OPTIONAL_CAPABILITY = _e(
    "E0514", "optional-capability", "@optional is not allowed on capability '{name}'"
)
EXCEPTION_AS_DATA = _e("E0515", "exception-as-data", "exception '{name}' is not a data type")
PARAM_DUPLICATE = _e("E0516", "duplicate-parameter", "parameter '{name}' is declared twice")
CAP_TOO_MANY = _e(
    "E0517",
    "too-many-capabilities",
    "the {direction} of '{method}' carries up to {count} capabilities; a frame holds {limit}",
)
# WIRE.md 1.1: the two rules only a wire layout needs are errors where a layout is made
# (code generation, --sizes, idlc wire) and warnings (W0012, W0013) under --check.
ENUM_VALUE_RANGE = _e(
    "E0518",
    "enum-value-range",
    "enumerator '{name}' has value {value}, outside 0..4294967295 ({how})",
)

# --- E06xx: annotations ---------------------------------------------------------------
ANNOTATION_BAD_ARGUMENT = _e("E0601", "annotation-argument", "@{name}: {detail}")
ANNOTATION_MISPLACED = _e("E0602", "annotation-misplaced", "@{name} cannot be applied to {what}")
ANNOTATION_DUPLICATE = _e("E0603", "annotation-duplicate", "@{name} is given twice")
KEY_BAD_PATH = _e("E0604", "bad-key", "key '{path}': {detail}")

# --- E09xx: backends ------------------------------------------------------------------
BACKEND_UNSUPPORTED = _e(
    "E0901", "unsupported-construct", "{construct} is not supported by the {backend} backend"
)
BACKEND_WRITE_ERROR = _e("E0902", "write-error", "cannot write '{path}': {reason}")

# --- warnings -------------------------------------------------------------------------
W_UNKNOWN_PRAGMA = _w("W0001", "unknown-pragma", "unknown #pragma '{name}' ignored", opt_in=True)
W_MACRO_REDEFINED = _w("W0002", "macro-redefined", "macro '{name}' redefined")
W_UNKNOWN_ANNOTATION = _w("W0003", "unknown-annotation", "unknown annotation @{name} ignored")
W_MAY_NOT_FIT = _w(
    "W0004",
    "may-not-fit",
    "the {direction} of '{method}' may need {need}; a frame holds {limit}",
)
# W0005 pragma-ignored: retired before release; #warning has W0009.
W_PRAGMA_IGNORED = _add(
    DiagDef("W0005", "pragma-ignored", Severity.WARNING, "(retired)", retired=True)
)
W_KEYWORD_AS_IDENTIFIER = _w(
    "W0006",
    "keyword-as-identifier",
    "'{name}' is a keyword; write '_{name}' to use it as an identifier",
)
W_DEFAULT_UNREACHABLE = _w(
    "W0008", "default-unreachable", "default label is unreachable: the labels cover every {type}"
)
W_WARNING_DIRECTIVE = _w("W0009", "warning-directive", "#warning {text}")
W_NAME_USED_IN_SCOPE = _w(
    "W0010",
    "name-used-in-scope",
    "'{name}' collides with '{used}', which this scope already uses for '{old}' "
    "(IDL 4.2 §7.5.3; other compilers reject this)",
    opt_in=True,
)
W_KEYWORD_CASE = _w(
    "W0007",
    "keyword-case-collision",
    "'{name}' collides with the keyword '{keyword}' (keywords are matched without case)",
)
W_NONSTANDARD_LITERAL = _w(
    "W0011",
    "nonstandard-literal",
    "{what}: IDL 4.2 forbids this, and omniidl refuses it",
)
W_CHECK_UNBOUNDED_CAPABILITIES = _w(
    "W0012",
    "check-unbounded-capabilities",
    "the {direction} of '{method}' carries an unbounded number of capabilities; "
    "code generation refuses this (E0513)",
)
W_CHECK_ENUM_VALUE_RANGE = _w(
    "W0013",
    "check-enum-value-range",
    "enumerator '{name}' has value {value}, outside 0..4294967295 ({how}); "
    "code generation refuses this (E0518)",
)
