"""Constant expressions (OMG IDL 4.2 §7.4.1.4.4.4), evaluated in the constant's type.

Integer expressions are computed exactly and must fit the target type. Every sub-expression
(literals, named constants and intermediate results) must fit the precision of the target
type, signed or unsigned: 32 bits for `long`, `unsigned long` and the smaller types, 64 bits
for `long long` and `unsigned long long` and where no type is given (bounds, annotation
arguments). Floating-point expressions are computed in double.
Operands do not mix categories: an integer literal is not a floating-point value.
"""

from __future__ import annotations

import math
import struct

from idlc import ast, ir
from idlc import errcodes as E
from idlc.diagnostics import Diagnostics, with_article
from idlc.record import record
from idlc.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

# Categories a value can have.
INT, FLOAT, FIXED, CHAR, WCHAR, STRING, WSTRING, BOOL, ENUM = (
    "integer",
    "floating-point",
    "fixed-point",
    "char",
    "wchar",
    "string",
    "wstring",
    "boolean",
    "enum",
)

_WIDE = frozenset({"int64", "uint64"})  # integer kinds with 64-bit sub-expressions


@record
class Value:
    category: str
    value: object  # int, float, str, bool, ir.EnumValue; fixed as str
    enum: str | None = None  # the enum's scoped name for ENUM


class EvalError(Exception):
    """Stops evaluation of one expression after its diagnostic was reported."""


# Resolves a name in an expression to a Value (a const or an enumerator), reporting and
# raising EvalError itself when the name is not a constant.
if TYPE_CHECKING:
    NameResolver = Callable[[ast.Name], Value]


def category_of(t: ir.Type, enum_of: Callable[[str], str | None]) -> str | None:
    """The value category a constant of type t holds (None: cannot be a constant)."""
    if isinstance(t, ir.Primitive):
        k = t.kind
        if k in ir.INTEGER_RANGES:
            return INT
        return {
            "float": FLOAT,
            "double": FLOAT,
            "longdouble": FLOAT,
            "char": CHAR,
            "wchar": WCHAR,
            "boolean": BOOL,
        }.get(k)
    if isinstance(t, ir.String):
        return WSTRING if t.wide else STRING
    if isinstance(t, ir.Fixed):
        return FIXED
    if isinstance(t, ir.Ref) and t.kind == "enum":
        return ENUM
    return None


class Evaluator:
    def __init__(self, diags: Diagnostics, resolve: NameResolver) -> None:
        self.diags = diags
        self.resolve = resolve
        # The integer type being evaluated into: `~` complements within its width.
        self._unsigned_bits: int | None = None
        # The precision of sub-expressions (IDL 4.2 §7.4.1.4.4.4): 32 or 64 bits.
        self._bits = 64
        # The diagnostic for a value of the wrong kind (a union label has its own).
        self._mismatch = E.CONST_TYPE_MISMATCH

    def error(self, defn: E.DiagDef, span: Span, **args: object) -> EvalError:
        self.diags.report(defn, span, notes=None, **args)
        return EvalError()

    # --- entry points ----------------------------------------------------------------
    def evaluate(
        self,
        expr: ast.Expr,
        target: ir.Type,
        target_name: str,
        enum: str | None = None,
        mismatch: E.DiagDef = E.CONST_TYPE_MISMATCH,
    ) -> object:
        """Evaluate expr as a constant of type target; raises EvalError after reporting."""
        cat = category_of(target, lambda _: enum)
        rng = ir.INTEGER_RANGES.get(target.kind) if isinstance(target, ir.Primitive) else None
        self._unsigned_bits = rng[1].bit_length() if rng is not None and rng[0] == 0 else None
        if rng is not None and isinstance(target, ir.Primitive):
            self._bits = 64 if target.kind in _WIDE else 32
        try:
            v = self.eval(expr, cat)
        finally:
            self._unsigned_bits = None
            self._bits = 64
        self._mismatch = mismatch
        try:
            return self.convert(v, target, target_name, expr, enum)
        finally:
            self._mismatch = E.CONST_TYPE_MISMATCH

    def positive_int(self, expr: ast.Expr, what: str) -> int:
        v = self.eval(expr, INT)
        if v.category != INT or not isinstance(v.value, int) or isinstance(v.value, bool):
            raise self.error(E.BOUND_NOT_POSITIVE, _span(expr), what=what, value=_show(v))
        if v.value <= 0 or v.value > 2**32 - 1:
            raise self.error(E.BOUND_NOT_POSITIVE, _span(expr), what=what, value=v.value)
        return v.value

    # --- conversion to the target type -----------------------------------------------
    def convert(
        self, v: Value, target: ir.Type, target_name: str, expr: ast.Expr, enum: str | None
    ) -> object:
        span = _span(expr)
        if isinstance(target, ir.Primitive):
            k = target.kind
            rng = ir.INTEGER_RANGES.get(k)
            if rng is not None:
                self._need(v, INT, target_name, span)
                assert isinstance(v.value, int)
                if not rng[0] <= v.value <= rng[1]:
                    raise self.error(E.CONST_OUT_OF_RANGE, span, value=v.value, type=target_name)
                return v.value
            if k in ("float", "double", "longdouble"):
                self._need(v, FLOAT, target_name, span)
                assert isinstance(v.value, float)
                if k == "float" and math.isfinite(v.value):
                    try:
                        return struct.unpack("<f", struct.pack("<f", v.value))[0]
                    except OverflowError:
                        raise self.error(
                            E.CONST_OUT_OF_RANGE, span, value=v.value, type=target_name
                        ) from None
                return v.value
            if k == "char":
                if v.category == INT and isinstance(v.value, int) and 0 <= v.value <= 0xFF:
                    return chr(v.value)  # TAO and OpenDDS accept `case 0:` for char
                self._need(v, CHAR, target_name, span)
                assert isinstance(v.value, str)
                if ord(v.value) > 0xFF:
                    raise self.error(E.CONST_OUT_OF_RANGE, span, value=repr(v.value), type="char")
                return v.value
            if k == "wchar":
                if v.category == CHAR:
                    # IDL 4.2 §7.4.1.4.4.4 wants a wide literal; JacORB's own tests
                    # write `const wchar C = '\xa';`, so this is W0011, not an error.
                    self.diags.report(
                        E.W_NONSTANDARD_LITERAL,
                        span,
                        what="a narrow character literal for a wchar value",
                        notes=None,
                    )
                    return v.value
                self._need(v, WCHAR, target_name, span)
                return v.value
            if k == "boolean":
                self._need(v, BOOL, target_name, span)
                return v.value
        if isinstance(target, ir.String):
            self._need(v, WSTRING if target.wide else STRING, target_name, span)
            assert isinstance(v.value, str)
            n = len(v.value.encode("utf-8", "surrogatepass")) if not target.wide else len(v.value)
            if target.bound is not None and n > target.bound:
                raise self.error(
                    E.CONST_OUT_OF_RANGE, span, value=repr(v.value)[:40], type=target_name
                )
            return v.value
        if isinstance(target, ir.Fixed):
            if v.category == INT:
                return str(v.value)
            self._need(v, FIXED, target_name, span)
            return v.value
        if isinstance(target, ir.Ref) and target.kind == "enum":
            if v.category != ENUM or v.enum != target.name:
                raise self.error(self._mismatch, span, what=_describe(v), type=target_name)
            return v.value
        raise self.error(E.CONST_BAD_TYPE, span, type=target_name)

    def _need(self, v: Value, cat: str, target_name: str, span: Span) -> None:
        if v.category != cat:
            raise self.error(self._mismatch, span, what=_describe(v), type=target_name)

    # --- evaluation ------------------------------------------------------------------
    def eval(self, expr: ast.Expr, hint: str | None = None) -> Value:
        if isinstance(expr, ast.Literal):
            return self._literal(expr, hint)
        if isinstance(expr, ast.NameExpr):
            v = self.resolve(expr.name)
            if v.category == INT and isinstance(v.value, int) and not isinstance(v.value, bool):
                self._int(v.value, expr.span)
            return v
        if isinstance(expr, ast.Unary):
            return self._unary(expr, hint)
        return self._binary(expr, hint)

    def _literal(self, lit: ast.Literal, hint: str | None) -> Value:
        k = lit.kind
        if k == "int":
            assert isinstance(lit.value, int)
            if lit.value > 2**64 - 1:
                raise self.error(
                    E.CONST_OUT_OF_RANGE, lit.span, value=lit.value, type="any integer type"
                )
            return self._int(lit.value, lit.span)
        if k == "float":
            assert isinstance(lit.value, str)
            value = float(lit.value)
            if math.isinf(value):
                raise self.error(E.CONST_OUT_OF_RANGE, lit.span, value=lit.value, type="double")
            return Value(FLOAT, value)
        if k == "fixed":
            return Value(FIXED, lit.value)
        cat = {"string": STRING, "wstring": WSTRING, "char": CHAR, "wchar": WCHAR}.get(k, BOOL)
        if cat in (STRING, WSTRING) and isinstance(lit.value, str) and "\0" in lit.value:
            # IDL 4.2 §7.2.6.3: a string holds no NUL. OpenDDS's own tests write "\0", so
            # this is W0011, not an error.
            self.diags.report(
                E.W_NONSTANDARD_LITERAL, lit.span, what="a NUL character in a string", notes=None
            )
        return Value(cat, lit.value)

    def _unary(self, e: ast.Unary, hint: str | None) -> Value:
        v = self.eval(e.operand, hint)
        if v.category == INT:
            assert isinstance(v.value, int)
            if e.op == "-":
                return self._int(-v.value, e.span)
            if e.op == "+":
                return v
            # ~: complement within the unsigned target's width, else in two's complement
            # of the precision (a value above the signed half is read as unsigned).
            bits = self._unsigned_bits
            if bits is not None and 0 <= v.value < 2**bits:
                return self._int((2**bits - 1) ^ v.value, e.span)
            top = self._bits
            return self._int(
                ~v.value if v.value < 2 ** (top - 1) else (2**top - 1) ^ v.value, e.span
            )
        if v.category == FLOAT and e.op in "+-":
            assert isinstance(v.value, float)
            return Value(FLOAT, -v.value if e.op == "-" else v.value)
        if v.category == FIXED and e.op in "+-":
            assert isinstance(v.value, str)
            text = v.value
            if e.op == "-":
                text = text[1:] if text.startswith("-") else "-" + text
            return Value(FIXED, text)
        raise self.error(E.CONST_BAD_OPERAND, e.span, op=e.op, what=_describe(v))

    def _binary(self, e: ast.Binary, hint: str | None) -> Value:
        # Iterate down left-deep chains (a + b + c + ...) so long expressions do not
        # recurse once per operator.
        chain: list[ast.Binary] = []
        node: ast.Expr = e
        while isinstance(node, ast.Binary):
            chain.append(node)
            node = node.left
        acc = self.eval(node, hint)
        for b in reversed(chain):
            acc = self._apply(b, acc, self.eval(b.right, hint))
        return acc

    def _apply(self, e: ast.Binary, a: Value, b: Value) -> Value:
        op = e.op
        if a.category != b.category:
            raise self.error(
                E.CONST_BAD_OPERAND, e.span, op=op, what=f"{_describe(a)} and {_describe(b)}"
            )
        if a.category == INT:
            x, y = a.value, b.value
            assert isinstance(x, int) and isinstance(y, int)
            if op in ("/", "%") and y == 0:
                raise self.error(E.CONST_DIVISION_BY_ZERO, e.span)
            if op in ("<<", ">>") and not 0 <= y < self._bits:
                raise self.error(
                    E.CONST_OUT_OF_RANGE, _span(e.right), value=y, type="a shift count"
                )
            r = {
                "|": lambda: x | y,
                "^": lambda: x ^ y,
                "&": lambda: x & y,
                "<<": lambda: x << y,
                ">>": lambda: x >> y,
                "+": lambda: x + y,
                "-": lambda: x - y,
                "*": lambda: x * y,
                "/": lambda: _cdiv(x, y),
                "%": lambda: x - _cdiv(x, y) * y,
            }[op]()
            return self._int(r, e.span)
        if a.category == FLOAT and op in "+-*/":
            x2, y2 = a.value, b.value
            assert isinstance(x2, float) and isinstance(y2, float)
            if op == "/" and y2 == 0.0:
                raise self.error(E.CONST_DIVISION_BY_ZERO, e.span)
            r2 = {"+": x2 + y2, "-": x2 - y2, "*": x2 * y2, "/": x2 / y2 if y2 else 0.0}[op]
            if math.isinf(r2):
                raise self.error(E.CONST_OUT_OF_RANGE, e.span, value=r2, type="double")
            return Value(FLOAT, r2)
        if a.category == FIXED and op in "+-*/":
            from decimal import Decimal, InvalidOperation

            try:
                dx, dy = Decimal(str(a.value)), Decimal(str(b.value))
                if op == "/" and dy == 0:
                    raise self.error(E.CONST_DIVISION_BY_ZERO, e.span)
                rd = {"+": dx + dy, "-": dx - dy, "*": dx * dy, "/": dx / dy if dy else dx}[op]
            except InvalidOperation:
                raise self.error(
                    E.CONST_BAD_OPERAND, e.span, op=op, what="fixed-point values"
                ) from None
            return Value(FIXED, str(rd))
        raise self.error(E.CONST_BAD_OPERAND, e.span, op=op, what=f"{a.category} values")

    def _int(self, value: int, span: Span) -> Value:
        """value as a sub-expression: within the precision, signed or unsigned."""
        bits = self._bits
        if not -(2 ** (bits - 1)) <= value <= 2**bits - 1:
            raise self.error(E.CONST_OUT_OF_RANGE, span, value=value, type=f"{bits}-bit arithmetic")
        return Value(INT, value)


def _cdiv(x: int, y: int) -> int:
    """C division: truncate toward zero."""
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _span(e: ast.Expr) -> Span:
    return e.span


def _describe(v: Value) -> str:
    if v.category == ENUM and isinstance(v.value, ir.EnumValue):
        return f"enumerator '{v.value.name}' of {v.enum}"
    return with_article(f"{v.category} value")


def _show(v: Value) -> str:
    return _describe(v) if v.category != INT else str(v.value)
