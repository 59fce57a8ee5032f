"""The LALR(1) driver: idlc's lexer plus the table compiled from grammar/idl.lark.

Each reduction calls the builder method named after the rule (or its alias) with the kept
children, so the syntax tree of ``idlc.ast`` is built during the parse, without an
intermediate parse tree. Positions are tracked in preprocessed coordinates and mapped to
original files through the preprocessor's line map only when a node needs a span.
"""

from __future__ import annotations

from idlc import ast
from idlc import errcodes as E
from idlc.angles import Lookahead, shr_is_operator
from idlc.diagnostics import Diagnostics
from idlc.grammar import _tables as T
from idlc.keywords import check_identifier
from idlc.lexer import RawToken, number_kind, tokenize
from idlc.literals import LiteralError, parse_char, parse_string
from idlc.record import replace
from idlc.source import Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class LineMapLike:
    """What the parser needs of the preprocessor's line map."""

    def locate(
        self, out_line: int, out_col: int, length: int = 1
    ) -> Span:  # pragma: no cover - protocol
        raise NotImplementedError


class IdentityMap(LineMapLike):
    """For text that was not preprocessed: positions are the file's own."""

    def __init__(self, path: str) -> None:
        self.path = path

    def locate(self, out_line: int, out_col: int, length: int = 1) -> Span:
        return Span(self.path, out_line, out_col, out_line, out_col + length)


class SyntaxFailure(Exception):
    """Stops the parse after a syntax error has been reported."""


MAX_NESTING = 256
MAX_SYNTAX_ERRORS = 10
# Integer literals hold at most this many decimal digits: Python's own limit on converting
# text to int (sys.get_int_max_str_digits), which guards against quadratic conversions.
MAX_DIGITS = 4300
# 2**14284 < 10**4300 < 2**14285: a value of fewer bits is below the limit
_BITS_BELOW_LIMIT = 14284

_END = "$END"
_PUNCT_NAMES = {v: k for k, v in T.LITERALS.items()}
_KEYWORDS = {k: v for k, v in T.LITERALS.items() if k[:1].isalpha()}
_KEYWORD_TYPES = frozenset(_KEYWORDS.values())
_BOOLEANS = {"true", "false", "True", "False"}
_GT = T.LITERALS[">"]
_SHR = T.LITERALS[">>"]
_OPENERS = {"{", "(", "[", "<"}
_CLOSERS = {"}", ")", "]", ">"}


# A classified token is the lexer's token with its terminal in `type`.
Tok = RawToken


def _typed(tok: Tok, type_: str) -> Tok:
    tok.type = type_
    return tok


def describe(term: str) -> str:
    if term == _END:
        return "end of input"
    text = _PUNCT_NAMES.get(term)
    if text is not None:
        return f"'{text}'"
    return {
        "IDENTIFIER": "identifier",
        "INTEGER": "integer literal",
        "FLOATING": "floating-point literal",
        "FIXED": "fixed-point literal",
        "STRING": "string literal",
        "WSTRING": "wide string literal",
        "CHAR": "character literal",
        "WCHAR": "wide character literal",
    }.get(term, term)


BAD = "$BAD"  # a token that is no terminal: a lexical error, or nesting too deep


def terminal(raw: RawToken, actions: dict[str, int]) -> str:
    """A raw token's terminal in a parser state with these actions (contextual keywords)."""
    kind = raw.kind
    if kind == "id":
        text = raw.text
        if text in _BOOLEANS and text.upper() in actions:
            # DDS files write true/false in annotations; the spec's literals are TRUE/FALSE.
            return text.upper()
        kw = _KEYWORDS.get(text)
        return kw if kw is not None and kw in actions else "IDENTIFIER"
    if kind == "punct":
        return T.LITERALS[raw.text]
    if kind == "num":
        return number_kind(raw.text)
    if kind == "str":
        return "WSTRING" if raw.text[0] == "L" else "STRING"
    if kind == "chr":
        return "WCHAR" if raw.text[0] == "L" else "CHAR"
    return _END if kind == "eof" else BAD


def found(tok: Tok) -> str:
    """What a syntax error says it found: "keyword 'long'", "';'", "identifier 'x'"."""
    if tok.type == _END:
        return "end of input"
    if tok.type in _KEYWORD_TYPES or (tok.type == "IDENTIFIER" and tok.text in _KEYWORDS):
        return f"keyword '{tok.text}'"
    if tok.type == "IDENTIFIER":
        return f"identifier '{tok.text[:60]}'"
    if tok.type in _PUNCT_NAMES:
        return describe(tok.type)
    return f"{describe(tok.type)} '{tok.text[:60]}'"


def expected(state: int) -> str:
    names = [k for k in T.STATES[state] if k.isupper() or k.startswith("__ANON") or k == _END]
    # Keep the message short: punctuation and the identifier first, then keywords.
    order = sorted(names, key=lambda n: (n in _KEYWORDS.values(), describe(n)))
    shown = [describe(n) for n in order[:8]]
    if len(order) > 8:
        shown.append("...")
    return ", ".join(shown) if shown else "nothing"


class Parser:
    def __init__(self, text: str, linemap: LineMapLike, diags: Diagnostics) -> None:
        self.text = text
        self.linemap = linemap
        self.diags = diags
        self.comments: list[tuple[int, int, str]] = []
        self.last: Tok | None = None  # the token shifted last, for spans of keyword types
        self.prior: Tok | None = None  # the token shifted before it
        self._docs: _DocComments | None = None
        self.builder = Builder(self)

    # --- positions -------------------------------------------------------------------
    def span(self, pos: tuple[int, int], length: int = 1) -> Span:
        return self.linemap.locate(pos[0], pos[1], length)

    def doc(self, pos: tuple[int, int]) -> str | None:
        """The doc comment of the declaration that starts at pos, which must be the first
        token on its line (so `struct S { long x; };` documents S, not x)."""
        if self._docs is None:
            self._docs = _DocComments(self.text)
        if self._docs.seen != len(self.comments):
            self._docs.feed(self.comments)
        return self._docs.at(*pos)

    # --- the driver ------------------------------------------------------------------
    def parse(self) -> ast.Specification | None:
        try:
            result = self._run()
        except SyntaxFailure:
            return None
        assert isinstance(result, ast.Specification)
        return result

    def tokens(self, comments: list[tuple[int, int, str]] | None) -> Any:
        """The raw tokens; a lexical error or nesting too deep is reported when the token
        is consumed (_classify), so that recovery may look ahead past it."""
        depth = 0
        for raw in tokenize(self.text, comments):
            if raw.kind == "punct":
                t = raw.text
                if t in _OPENERS:
                    depth += 1
                    if depth > MAX_NESTING:
                        raw.kind = "deep"
                elif t in _CLOSERS:
                    depth -= 1
                elif t == ">>":
                    depth -= 2
            yield raw

    def lex_error(self, raw: RawToken) -> None:
        """Report the lexical error (or nesting too deep) of a token that is no terminal."""
        if raw.kind == "deep":
            self.fatal(E.SYNTAX_TOO_DEEP, raw, limit=MAX_NESTING)
        elif raw.kind == "badnum":
            self.fatal(E.LEX_BAD_NUMBER, raw, text=raw.text[:40])
        elif raw.kind == "badstr":
            what = "string" if raw.text.lstrip("L").startswith('"') else "character"
            self.fatal(E.LEX_UNTERMINATED_LITERAL, raw, what=what)
        elif raw.kind == "badcomment":
            self.fatal(E.PP_UNTERMINATED_COMMENT, raw)
        else:
            ch = raw.text
            shown = repr(ch) if ch.isprintable() else f"U+{ord(ch):04X}"
            self.fatal(E.LEX_BAD_CHARACTER, raw, char=shown)

    def end_span(self) -> Span:
        """The end of input: just after the last character of the last non-empty line."""
        lines = self.text.splitlines()
        n = len(lines)
        while n > 1 and not lines[n - 1].strip():
            n -= 1
        last = lines[n - 1] if lines else ""
        return self.span((max(n, 1), len(last.rstrip()) + 1))

    def fatal(self, defn: E.DiagDef, raw: RawToken | Tok, **args: object) -> None:
        self.diags.report(defn, self.span((raw.line, raw.col), len(raw.text)), notes=None, **args)
        raise SyntaxFailure

    def _classify(self, raw: RawToken, actions: dict[str, int]) -> Tok:
        """Give a raw token its terminal in this parser state (in place: tokens are many)."""
        ttype = terminal(raw, actions)
        if ttype == BAD:
            self.lex_error(raw)
        raw.type = ttype
        return raw

    def _run(self) -> object:
        states = T.STATES
        rules = T.RULES
        callbacks = self.builder.callbacks
        end_state = T.END_STATE
        state_stack = [T.START_STATE]
        value_stack: list[object] = []
        pos_stack: list[tuple[int, int]] = []
        tokens = Lookahead(self.tokens(self.comments))
        pending: Tok | None = None
        while True:
            state = state_stack[-1]
            actions = states[state]
            if pending is not None:
                tok = pending
                pending = None
            else:
                raw = next(tokens)
                tok = self._classify(raw, actions)
                if (
                    tok.type == _SHR
                    and _GT in actions
                    and not shr_is_operator(state_stack, tokens.peek)
                ):
                    # `>>` closes two template argument lists here (idlc/angles.py).
                    tok = _typed(Tok("punct", ">", raw.line, raw.col), _GT)
                    pending = _typed(Tok("punct", ">", raw.line, raw.col + 1), _GT)
            ttype = tok.type
            while True:
                action = actions.get(ttype)
                if action is None:
                    # Only syntax errors are looked for from here on (idlc.recovery).
                    from idlc.recovery import recover

                    recover(self, tok, state_stack[-1])
                    raise SyntaxFailure
                if action >= 0:
                    self.prior = self.last
                    self.last = tok
                    state_stack.append(action)
                    value_stack.append(tok)
                    pos_stack.append((tok.line, tok.col))
                    break
                name, origin, size, keep, flags = rules[-1 - action]
                if size:
                    children = value_stack[-size:]
                    start = pos_stack[-size]
                    del value_stack[-size:]
                    del pos_stack[-size:]
                    del state_stack[-size:]
                else:
                    children = []
                    start = (tok.line, tok.col)
                kept: list[object] = []
                for k in keep:
                    child = children[k >> 1]
                    if k & 1 and isinstance(child, list):
                        if k == 1:
                            # The list so far of `x*` or `x+` (always the first child):
                            # grow it in place, not copy it per item (quadratic).
                            kept = child
                        else:
                            kept.extend(child)
                    else:
                        kept.append(child)
                value: object
                if flags & 1:
                    value = kept
                elif flags & 2 and len(kept) == 1:
                    value = kept[0]
                else:
                    cb = callbacks.get(name)
                    value = cb(kept, start) if cb is not None else kept
                goto = states[state_stack[-1]][origin]
                state_stack.append(goto)
                value_stack.append(value)
                pos_stack.append(start)
                if goto == end_state and ttype == _END:
                    return value
                actions = states[goto]
                if ttype in _KEYWORD_TYPES and ttype not in actions and "IDENTIFIER" in actions:
                    # A word lexed as a keyword in a state that no longer accepts it
                    # after the reductions: it is an identifier here.
                    ttype = "IDENTIFIER"
                    tok = _typed(Tok("id", tok.text, tok.line, tok.col), "IDENTIFIER")


class _DocComments:
    """Docstrings by the line of the declaration they document, fed incrementally as the
    lexer (which runs ahead of the reductions that ask) finds comments.

    A block of comments on lines of their own documents the declaration that starts on
    the next line; a comment after code, at the end of a line, documents the declaration
    that starts on that line (`long x;  // the x coordinate`). A comment with code after
    it on the same line documents nothing."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.docs: dict[int, str] = {}
        self.seen = 0
        self._block: list[str] = []
        self._last_end = -10
        self._scanned: set[int] = set()

    def feed(self, comments: list[tuple[int, int, str]]) -> None:
        for line, col, raw in comments[self.seen :]:
            kind, body, end = self._classify(line, col, raw)
            if kind == "trailing":
                self._trailing(line, body)
            if kind != "own-line":
                self._last_end = -10
                continue
            if line == self._last_end + 1 and raw.startswith("//"):
                self._block.extend(body)
            else:
                self._block = body
            self._last_end = end
            text = "\n".join(self._block).strip()
            if text:
                self.docs[end + 1] = text
        self.seen = len(comments)

    def _classify(self, line: int, col: int, raw: str) -> tuple[str, list[str], int]:
        """("own-line" | "trailing" | "none", the comment's lines, its last line)."""
        lines = self.lines
        end = line + raw.count("\n")
        last_col = len(raw) - raw.rfind("\n") - 1 if end > line else col - 1 + len(raw)
        if end <= len(lines) and lines[end - 1][last_col:].strip():
            return "none", [], end  # code follows on the same line
        if raw.startswith("//"):
            body = [raw[2:].lstrip("/!").strip()]
        else:
            inner = raw[2:-2].strip("*!")
            body = [ln.strip().lstrip("*").strip() for ln in inner.splitlines()]
        before = lines[line - 1][: col - 1] if line <= len(lines) else ""
        return ("trailing" if before.strip() else "own-line"), body, end

    def _trailing(self, line: int, body: list[str]) -> None:
        text = "\n".join(body).strip()
        if text and line not in self.docs:  # a comment block above wins
            self.docs[line] = text

    def at(self, line: int, col: int) -> str | None:
        """The doc of a declaration starting at line:col if nothing precedes it there."""
        if line > len(self.lines) or self.lines[line - 1][: col - 1].strip():
            return None
        if line not in self.docs and line not in self._scanned and "/" in self.lines[line - 1]:
            # The lexer may not have reached a comment later on this line yet.
            self._scanned.add(line)
            found: list[tuple[int, int, str]] = []
            for _ in tokenize(self.lines[line - 1], found):
                pass
            for _, c, raw in found:
                kind, body, _end = self._classify(line, c, raw)
                if kind == "trailing":
                    self._trailing(line, body)
        return self.docs.get(line)


if TYPE_CHECKING:
    Children = list[Any]
    Pos = tuple[int, int]


class Builder:
    """One method per grammar callback; each gets the kept children and the position of
    the reduction's first token."""

    def __init__(self, parser: Parser) -> None:
        self.p = parser
        self.callbacks: dict[str, Callable[[Children, Pos], object]] = {}
        for name in {r[0] for r in T.RULES}:
            method = getattr(self, "b_" + name, None)
            if method is not None:
                self.callbacks[name] = method

    # --- helpers ---------------------------------------------------------------------
    def span(self, pos: Pos, length: int = 1) -> Span:
        return self.p.span(pos, length)

    def span_to_last(self, pos: Pos) -> Span:
        """From pos to the end of the token shifted last (a keyword type such as
        `unsigned long long` has no token of its own in the tree)."""
        last = self.p.last
        if last is None or last.line != pos[0]:
            return self.span(pos)
        return self.span(pos, last.col + len(last.text) - pos[1])

    def tspan(self, tok: Tok) -> Span:
        return self.p.span((tok.line, tok.col), len(tok.text))

    def ident(self, tok: Tok) -> str:
        """An identifier's name: the escape `_` removed, the spec's keyword rules checked."""
        text = tok.text
        if text.startswith("_"):
            return text[1:]
        check_identifier(text, self.tspan(tok), self.p.diags)
        return text

    def split_annotations(self, c: Children) -> tuple[tuple[ast.Annotation, ...], Children]:
        if c and isinstance(c[0], tuple) and (not c[0] or isinstance(c[0][0], ast.Annotation)):
            return c[0], c[1:]
        return (), c

    # --- top level -------------------------------------------------------------------
    def b_start(self, c: Children, pos: Pos) -> ast.Specification:
        return ast.Specification(self._flat_body(c), ())

    def b_definition(self, c: Children, pos: Pos) -> object:
        if len(c) == 1:
            return c[0]
        annotations, node = c[0], c[1]
        if isinstance(node, list):
            return [self.attach(n, annotations, pos) for n in node]
        return self.attach(node, annotations, pos)

    def attach(self, node: Any, annotations: tuple[ast.Annotation, ...], pos: Pos) -> Any:
        if node is None:
            return None
        changes: dict[str, object] = {}
        if annotations and hasattr(node, "annotations"):
            changes["annotations"] = tuple(annotations) + tuple(node.annotations)
        if hasattr(node, "doc") and node.doc is None:
            doc = self.p.doc(pos)
            if doc:
                changes["doc"] = doc
        if changes:
            return replace(node, **changes)
        return node

    b_export = b_definition
    b_tpl_definition = b_definition

    def b_module_dcl(self, c: Children, pos: Pos) -> ast.Module:
        return ast.Module(self.ident(c[0]), self.tspan(c[0]), self._flat_body(c[1:]))

    # --- names -----------------------------------------------------------------------
    def b_relative_name(self, c: Children, pos: Pos) -> ast.Name:
        tok: Tok = c[0]
        prior = self.p.prior
        if self.p.last is tok and prior is not None and prior.text == "@":
            # An annotation's name: the standard ones include @default and @oneway, so
            # the keyword rules, which are about declaring names, do not apply.
            name = tok.text[1:] if tok.text.startswith("_") else tok.text
            return ast.Name((name,), False, self.tspan(tok))
        return ast.Name((self.ident(tok),), False, self.tspan(tok))

    def b_absolute_name(self, c: Children, pos: Pos) -> ast.Name:
        return ast.Name((self.ident(c[0]),), True, self.span(pos, 2 + len(c[0].text)))

    def b_nested_name(self, c: Children, pos: Pos) -> ast.Name:
        base: ast.Name = c[0]
        last: Tok = c[1]
        end = self.tspan(last)
        s = base.span
        span = Span(s.file, s.line, s.col, end.end_line, end.end_col, s.included_from)
        if end.line != s.line:
            span = end
        return ast.Name((*base.parts, self.ident(last)), base.absolute, span)

    # --- constants -------------------------------------------------------------------
    def b_const_dcl(self, c: Children, pos: Pos) -> ast.Const:
        return ast.Const(self.ident(c[1]), self.tspan(c[1]), c[0], c[2])

    def _binary(op: str) -> Callable[[Builder, Children, Pos], ast.Binary]:  # type: ignore[misc]
        def build(self: Builder, c: Children, pos: Pos) -> ast.Binary:
            return ast.Binary(op, c[0], c[1], _cover(_expr_span(c[0]), _expr_span(c[1])))

        return build

    b_bin_or = _binary("|")
    b_bin_xor = _binary("^")
    b_bin_and = _binary("&")
    b_bin_shr = _binary(">>")
    b_bin_shl = _binary("<<")
    b_bin_add = _binary("+")
    b_bin_sub = _binary("-")
    b_bin_mul = _binary("*")
    b_bin_div = _binary("/")
    b_bin_mod = _binary("%")

    def _unary(op: str) -> Callable[[Builder, Children, Pos], ast.Unary]:  # type: ignore[misc]
        def build(self: Builder, c: Children, pos: Pos) -> ast.Unary:
            return ast.Unary(op, c[0], self.span(pos))

        return build

    b_un_neg = _unary("-")
    b_un_pos = _unary("+")
    b_un_inv = _unary("~")

    def b_name_ref(self, c: Children, pos: Pos) -> ast.NameExpr:
        return ast.NameExpr(c[0], c[0].span)

    def b_paren_expr(self, c: Children, pos: Pos) -> object:
        return c[0]

    def b_int_lit(self, c: Children, pos: Pos) -> ast.Literal:
        text = c[0].text
        if text[:2] in ("0x", "0X"):
            value = int(text, 16)
        elif len(text) > 1 and text[0] == "0":
            value = int(text, 8)
        elif len(text) <= MAX_DIGITS:
            value = int(text)
        else:
            value = -1  # Python refuses to convert it (and it would take long)
        if value < 0 or (value.bit_length() > _BITS_BELOW_LIMIT and value >= 10**MAX_DIGITS):
            # No IDL type holds a 20-digit integer, let alone this (a double holds 309).
            shown = text if len(text) <= 24 else f"{text[:20]}..."
            self.p.diags.report(
                E.LEX_NUMBER_TOO_LONG, self.tspan(c[0]), text=shown, limit=MAX_DIGITS
            )
            value = 0
        return ast.Literal("int", value, self.tspan(c[0]))

    def b_float_lit(self, c: Children, pos: Pos) -> ast.Literal:
        # Keep the text: the value is rounded in the constant's own type later.
        return ast.Literal("float", c[0].text, self.tspan(c[0]))

    def b_fixed_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return ast.Literal("fixed", c[0].text[:-1], self.tspan(c[0]))

    def _strings(self, c: Children, wide: bool) -> ast.Literal:
        parts = []
        for tok in c:
            body = tok.text[2:-1] if wide else tok.text[1:-1]
            try:
                parts.append(parse_string(body, wide=wide))
            except LiteralError as err:
                self.p.diags.report(E.LEX_BAD_ESCAPE, self.tspan(tok), text=err.text, what="string")
                parts.append("")
        return ast.Literal("wstring" if wide else "string", "".join(parts), self.tspan(c[0]))

    def b_string_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return self._strings(c, False)

    def b_wstring_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return self._strings(c, True)

    def _char(self, tok: Tok, wide: bool) -> ast.Literal:
        body = tok.text[2:-1] if wide else tok.text[1:-1]
        what = "wide character" if wide else "character"
        try:
            value = parse_char(body, wide=wide)
        except LiteralError as err:
            if err.text:
                self.p.diags.report(E.LEX_BAD_ESCAPE, self.tspan(tok), text=err.text, what=what)
            else:
                self.p.diags.report(E.LEX_BAD_CHAR_LITERAL, self.tspan(tok), what=what)
            value = "\0"
        return ast.Literal("wchar" if wide else "char", value, self.tspan(tok))

    def b_char_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return self._char(c[0], False)

    def b_wchar_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return self._char(c[0], True)

    def b_true_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return ast.Literal("boolean", True, self.span(pos, 4))

    def b_false_lit(self, c: Children, pos: Pos) -> ast.Literal:
        return ast.Literal("boolean", False, self.span(pos, 5))

    # --- types -----------------------------------------------------------------------
    def _base(kind: str) -> Callable[[Builder, Children, Pos], ast.BaseType]:  # type: ignore[misc]
        def build(self: Builder, c: Children, pos: Pos) -> ast.BaseType:
            return ast.BaseType(kind, self.span_to_last(pos))

        return build

    b_t_short = _base("short")
    b_t_long = _base("long")
    b_t_longlong = _base("longlong")
    b_t_ushort = _base("ushort")
    b_t_ulong = _base("ulong")
    b_t_ulonglong = _base("ulonglong")
    b_t_int8 = _base("int8")
    b_t_uint8 = _base("uint8")
    b_t_float = _base("float")
    b_t_double = _base("double")
    b_t_longdouble = _base("longdouble")
    b_t_char = _base("char")
    b_t_wchar = _base("wchar")
    b_t_boolean = _base("boolean")
    b_t_octet = _base("octet")
    b_t_any = _base("any")
    b_t_object = _base("Object")
    b_t_valuebase = _base("ValueBase")
    b_t_void = _base("void")
    b_t_fixed_const = _base("fixed")

    def b_t_string(self, c: Children, pos: Pos) -> ast.StringType:
        return ast.StringType(False, None, self.span(pos, 6))

    def b_t_wstring(self, c: Children, pos: Pos) -> ast.StringType:
        return ast.StringType(True, None, self.span(pos, 7))

    def b_bounded_string(self, c: Children, pos: Pos) -> ast.StringType:
        return ast.StringType(False, c[0], self.span(pos, 6))

    def b_bounded_wstring(self, c: Children, pos: Pos) -> ast.StringType:
        return ast.StringType(True, c[0], self.span(pos, 7))

    def b_sequence(self, c: Children, pos: Pos) -> ast.SequenceType:
        return ast.SequenceType(c[1], None, self.span(pos, 8), tuple(c[0]))

    def b_bounded_sequence(self, c: Children, pos: Pos) -> ast.SequenceType:
        return ast.SequenceType(c[1], c[2], self.span(pos, 8), tuple(c[0]))

    def b_fixed_pt_type(self, c: Children, pos: Pos) -> ast.FixedType:
        return ast.FixedType(c[0], c[1], self.span(pos, 5))

    def b_map(self, c: Children, pos: Pos) -> ast.MapType:
        return ast.MapType(c[1], c[3], None, self.span(pos, 3))

    def b_bounded_map(self, c: Children, pos: Pos) -> ast.MapType:
        return ast.MapType(c[1], c[3], c[4], self.span(pos, 3))

    # --- declarators -----------------------------------------------------------------
    def b_declarators(self, c: Children, pos: Pos) -> tuple[ast.Declarator, ...]:
        return tuple(c)

    def b_declarator(self, c: Children, pos: Pos) -> ast.Declarator:
        sizes = tuple(x for x in c[1:] if not isinstance(x, ast.Annotation))
        annotations = tuple(x for x in c[1:] if isinstance(x, ast.Annotation))
        return ast.Declarator(self.ident(c[0]), self.tspan(c[0]), sizes, annotations)

    def b_fixed_array_size(self, c: Children, pos: Pos) -> object:
        return c[0]

    def b_simple_declarators(self, c: Children, pos: Pos) -> tuple[ast.Declarator, ...]:
        return tuple(ast.Declarator(self.ident(t), self.tspan(t)) for t in c)

    # --- constructed types -----------------------------------------------------------
    def b_struct_base(self, c: Children, pos: Pos) -> ast.Name | None:
        return c[0] if c else None

    def b_struct_dcl(self, c: Children, pos: Pos) -> ast.Struct:
        return ast.Struct(self.ident(c[0]), self.tspan(c[0]), c[1], tuple(c[2:]))

    def b_struct_forward_dcl(self, c: Children, pos: Pos) -> ast.Forward:
        return ast.Forward("struct", self.ident(c[0]), self.tspan(c[0]))

    def b_member(self, c: Children, pos: Pos) -> ast.Member:
        return ast.Member(c[1], c[2], self.span(pos), tuple(c[0]), self.p.doc(pos))

    def b_union_dcl(self, c: Children, pos: Pos) -> ast.Union_:
        name, disc_annotations, disc = c[0], c[1], c[2]
        return ast.Union_(
            self.ident(name),
            self.tspan(name),
            disc,
            tuple(c[3:]),
            discriminator_annotations=tuple(disc_annotations),
        )

    def b_union_forward_dcl(self, c: Children, pos: Pos) -> ast.Forward:
        return ast.Forward("union", self.ident(c[0]), self.tspan(c[0]))

    def b_union_case(self, c: Children, pos: Pos) -> ast.UnionCase:
        annotations = list(c[0])
        labels = tuple(x for x in c[1:-3] if isinstance(x, ast.CaseLabel))
        annotations.extend(c[-3])
        return ast.UnionCase(
            labels, c[-2], c[-1], self.span(pos), tuple(annotations), self.p.doc(pos)
        )

    def b_case_label(self, c: Children, pos: Pos) -> ast.CaseLabel:
        return ast.CaseLabel(c[0], self.span(pos, 4))

    def b_default_label(self, c: Children, pos: Pos) -> ast.CaseLabel:
        return ast.CaseLabel(None, self.span(pos, 7))

    def b_enum_dcl(self, c: Children, pos: Pos) -> ast.Enum:
        return ast.Enum(self.ident(c[0]), self.tspan(c[0]), tuple(c[1:]))

    def b_enumerator(self, c: Children, pos: Pos) -> ast.Enumerator:
        return ast.Enumerator(self.ident(c[1]), self.tspan(c[1]), tuple(c[0]), self.p.doc(pos))

    b_bit_value = b_enumerator

    def b_bitmask_dcl(self, c: Children, pos: Pos) -> ast.Bitmask:
        return ast.Bitmask(self.ident(c[0]), self.tspan(c[0]), tuple(c[1:]))

    def b_bitset_dcl(self, c: Children, pos: Pos) -> ast.Bitset:
        return ast.Bitset(self.ident(c[0]), self.tspan(c[0]), c[1], tuple(c[2:]))

    def b_bitfield(self, c: Children, pos: Pos) -> ast.Bitfield:
        names: tuple[ast.Declarator, ...] = c[3] if len(c) > 3 else ()
        return ast.Bitfield(c[1], c[2], names, self.span(pos), tuple(c[0]))

    def b_bitfield_type(self, c: Children, pos: Pos) -> object:
        return c[0] if c else None

    def b_native_dcl(self, c: Children, pos: Pos) -> ast.Native:
        return ast.Native(self.ident(c[0]), self.tspan(c[0]))

    def b_typedef_dcl(self, c: Children, pos: Pos) -> ast.Typedef:
        return ast.Typedef(c[1], c[2], self.span(pos, 7), tuple(c[0]))

    def b_except_dcl(self, c: Children, pos: Pos) -> ast.Exception_:
        return ast.Exception_(self.ident(c[0]), self.tspan(c[0]), tuple(c[1:]))

    # --- interfaces ------------------------------------------------------------------
    def b_plain_kind(self, c: Children, pos: Pos) -> str:
        return "interface"

    def b_abstract_kind(self, c: Children, pos: Pos) -> str:
        return "abstract interface"

    def b_local_kind(self, c: Children, pos: Pos) -> str:
        return "local interface"

    def b_pseudo_kind(self, c: Children, pos: Pos) -> str:
        return "pseudo interface"

    def b_interface_inheritance(self, c: Children, pos: Pos) -> tuple[ast.Name, ...]:
        return tuple(c)

    def b_interface_def(self, c: Children, pos: Pos) -> ast.Interface:
        body = self._flat_body(c[3:])
        return ast.Interface(c[0], self.ident(c[1]), self.tspan(c[1]), c[2], body)

    def b_interface_forward_dcl(self, c: Children, pos: Pos) -> ast.Forward:
        return ast.Forward(c[0], self.ident(c[1]), self.tspan(c[1]))

    def b_is_oneway(self, c: Children, pos: Pos) -> bool:
        return True

    def b_not_oneway(self, c: Children, pos: Pos) -> bool:
        return False

    def b_op_dcl(self, c: Children, pos: Pos) -> ast.Operation:
        oneway, result, name, params, raises, context = c
        return ast.Operation(
            self.ident(name), self.tspan(name), oneway, result, params, raises, context
        )

    def b_parameter_dcls(self, c: Children, pos: Pos) -> tuple[ast.Param, ...]:
        return tuple(c)

    def b_param_dcl(self, c: Children, pos: Pos) -> ast.Param:
        annotations, mode, type_, decl = c
        return ast.Param(mode, type_, decl.name, decl.span, tuple(annotations), decl.sizes)

    def b_mode_in(self, c: Children, pos: Pos) -> str:
        return "in"

    def b_mode_out(self, c: Children, pos: Pos) -> str:
        return "out"

    def b_mode_inout(self, c: Children, pos: Pos) -> str:
        return "inout"

    def b_raises_opt(self, c: Children, pos: Pos) -> tuple[ast.Name, ...]:
        return tuple(c[0]) if c else ()

    def b_raises_expr(self, c: Children, pos: Pos) -> tuple[ast.Name, ...]:
        return tuple(c)

    b_exception_list = b_raises_expr

    def b_context_opt(self, c: Children, pos: Pos) -> tuple[str, ...]:
        return tuple(t.text[1:-1] for t in c)

    def b_readonly_attr_raises(self, c: Children, pos: Pos) -> ast.Attribute:
        return ast.Attribute(self.ident(c[1]), self.tspan(c[1]), True, c[0], getraises=c[2])

    def b_readonly_attr(self, c: Children, pos: Pos) -> list[ast.Attribute]:
        return [ast.Attribute(d.name, d.span, True, c[0]) for d in c[1]]

    def b_attr_raises_dcl(self, c: Children, pos: Pos) -> ast.Attribute:
        get, set_ = c[2]
        return ast.Attribute(self.ident(c[1]), self.tspan(c[1]), False, c[0], get, set_)

    def b_attr(self, c: Children, pos: Pos) -> list[ast.Attribute]:
        return [ast.Attribute(d.name, d.span, False, c[0]) for d in c[1]]

    def b_attr_raises(self, c: Children, pos: Pos) -> tuple[object, object]:
        get: tuple[ast.Name, ...] = ()
        set_: tuple[ast.Name, ...] = ()
        for kind, names in c:
            if kind == "get":
                get = names
            else:
                set_ = names
        return get, set_

    def b_get_excep_expr(self, c: Children, pos: Pos) -> tuple[str, object]:
        return "get", c[0]

    def b_set_excep_expr(self, c: Children, pos: Pos) -> tuple[str, object]:
        return "set", c[0]

    # --- value types -----------------------------------------------------------------
    def b_custom_modifier(self, c: Children, pos: Pos) -> str:
        return "custom"

    def b_abstract_modifier(self, c: Children, pos: Pos) -> str:
        return "abstract"

    def b_no_modifier(self, c: Children, pos: Pos) -> None:
        return None

    def b_kw_valuetype(self, c: Children, pos: Pos) -> str:
        return "valuetype"

    def b_kw_eventtype(self, c: Children, pos: Pos) -> str:
        return "eventtype"

    def b_value_dcl(self, c: Children, pos: Pos) -> ast.ValueType | ast.Forward:
        modifier, kind, name, tail = c
        ident, span = self.ident(name), self.tspan(name)
        form = tail[0]
        if form == "forward":
            fwd_kind = f"abstract {kind}" if modifier == "abstract" else kind
            return ast.Forward(fwd_kind, ident, span)
        if form == "box":
            return ast.ValueType(kind, modifier, ident, span, "box", boxed=tail[1])
        _, (bases, truncatable, supports), body = tail
        return ast.ValueType(
            kind,
            modifier,
            ident,
            span,
            "def",
            bases=bases,
            supports=supports,
            truncatable=truncatable,
            body=body,
        )

    def b_value_body(self, c: Children, pos: Pos) -> tuple[object, ...]:
        body = []
        for x in c[1:]:
            if isinstance(x, list):
                body.extend(x)
            elif x is not None:
                body.append(x)
        return ("def", c[0], tuple(body))

    def b_value_box(self, c: Children, pos: Pos) -> tuple[object, ...]:
        return ("box", c[0])

    def b_value_forward(self, c: Children, pos: Pos) -> tuple[object, ...]:
        return ("forward",)

    def b_value_inheritance(self, c: Children, pos: Pos) -> tuple[object, ...]:
        bases, truncatable = c[0]
        return (bases, truncatable, c[1])

    def b_value_bases(self, c: Children, pos: Pos) -> tuple[object, ...]:
        if not c:
            return ((), False)
        return (tuple(c[1:]), c[0])

    def b_is_truncatable(self, c: Children, pos: Pos) -> bool:
        return True

    def b_not_truncatable(self, c: Children, pos: Pos) -> bool:
        return False

    def b_supports_opt(self, c: Children, pos: Pos) -> tuple[ast.Name, ...]:
        return tuple(c)

    def b_value_element(self, c: Children, pos: Pos) -> object:
        return c[0]

    def b_state_member(self, c: Children, pos: Pos) -> ast.StateMember:
        annotations, public, type_, decls = c
        return ast.StateMember(public, ast.Member(type_, decls, self.span(pos), annotations))

    def b_public(self, c: Children, pos: Pos) -> bool:
        return True

    def b_private(self, c: Children, pos: Pos) -> bool:
        return False

    def b_init_dcl(self, c: Children, pos: Pos) -> ast.Factory:
        _, name, params, raises = c
        return ast.Factory("factory", self.ident(name), self.tspan(name), params, raises)

    def b_init_param_dcls(self, c: Children, pos: Pos) -> tuple[ast.Param, ...]:
        return tuple(c)

    def b_init_param_dcl(self, c: Children, pos: Pos) -> ast.Param:
        annotations, type_, name = c
        return ast.Param("in", type_, self.ident(name), self.tspan(name), tuple(annotations))

    def b_typeid_dcl(self, c: Children, pos: Pos) -> ast.RepositoryIdDecl:
        return ast.RepositoryIdDecl("typeid", c[0], c[1].text[1:-1], self.span(pos, 6))

    def b_typeprefix_dcl(self, c: Children, pos: Pos) -> ast.RepositoryIdDecl:
        return ast.RepositoryIdDecl("typeprefix", c[0], c[1].text[1:-1], self.span(pos, 10))

    def b_import_dcl(self, c: Children, pos: Pos) -> ast.RepositoryIdDecl:
        return ast.RepositoryIdDecl("import", c[0], None, self.span(pos, 6))

    def b_import_file(self, c: Children, pos: Pos) -> ast.RepositoryIdDecl:
        return ast.RepositoryIdDecl("import", None, c[0].text[1:-1], self.span(pos, 6))

    # --- components ------------------------------------------------------------------
    def b_component_forward_dcl(self, c: Children, pos: Pos) -> ast.Forward:
        return ast.Forward("component", self.ident(c[0]), self.tspan(c[0]))

    def _flat_body(self, items: Children) -> tuple[Any, ...]:
        body: list[Any] = []
        for x in items:
            if isinstance(x, list):
                body.extend(x)
            elif x is not None:
                body.append(x)
        return tuple(body)

    def b_component_def(self, c: Children, pos: Pos) -> ast.Component:
        name, base, supports = c[0], c[1], c[2]
        return ast.Component(
            "component",
            self.ident(name),
            self.tspan(name),
            base=base,
            supports=supports,
            body=self._flat_body(c[3:]),
        )

    def b_component_export(self, c: Children, pos: Pos) -> object:
        return c[1]

    b_port_export = b_component_export
    b_connector_export = b_component_export

    def _port(kind: str) -> Callable[[Builder, Children, Pos], ast.Port]:  # type: ignore[misc]
        def build(self: Builder, c: Children, pos: Pos) -> ast.Port:
            return ast.Port(kind, c[-2], self.ident(c[-1]), self.tspan(c[-1]))

        return build

    b_provides_dcl = _port("provides")
    b_emits_dcl = _port("emits")
    b_publishes_dcl = _port("publishes")
    b_consumes_dcl = _port("consumes")
    b_port_dcl = _port("port")
    b_mirrorport_dcl = _port("mirrorport")

    def b_uses_dcl(self, c: Children, pos: Pos) -> ast.Port:
        return ast.Port("uses", c[1], self.ident(c[2]), self.tspan(c[2]), multiple=c[0])

    def b_is_multiple(self, c: Children, pos: Pos) -> bool:
        return True

    def b_not_multiple(self, c: Children, pos: Pos) -> bool:
        return False

    def b_home_dcl(self, c: Children, pos: Pos) -> ast.Component:
        name, base, supports, manages, key = c[0], c[1], c[2], c[3], c[4]
        return ast.Component(
            "home",
            self.ident(name),
            self.tspan(name),
            base=base,
            supports=supports,
            manages=manages,
            primary_key=key,
            body=self._flat_body(c[5:]),
        )

    def b_primarykey_opt(self, c: Children, pos: Pos) -> ast.Name | None:
        return c[0] if c else None

    def b_home_export(self, c: Children, pos: Pos) -> object:
        return c[-1]

    def b_factory_dcl(self, c: Children, pos: Pos) -> ast.Factory:
        return ast.Factory("factory", self.ident(c[0]), self.tspan(c[0]), c[1], c[2])

    def b_finder_dcl(self, c: Children, pos: Pos) -> ast.Factory:
        return ast.Factory("finder", self.ident(c[0]), self.tspan(c[0]), c[1], c[2])

    def b_porttype_dcl(self, c: Children, pos: Pos) -> ast.Component:
        return ast.Component(
            "porttype", self.ident(c[0]), self.tspan(c[0]), body=self._flat_body(c[1:])
        )

    def b_porttype_forward_dcl(self, c: Children, pos: Pos) -> ast.Forward:
        return ast.Forward("porttype", self.ident(c[0]), self.tspan(c[0]))

    def b_connector_dcl(self, c: Children, pos: Pos) -> ast.Component:
        return ast.Component(
            "connector",
            self.ident(c[0]),
            self.tspan(c[0]),
            base=c[1],
            body=self._flat_body(c[2:]),
        )

    # --- template modules --------------------------------------------------------------
    def b_template_module_dcl(self, c: Children, pos: Pos) -> ast.TemplateModule:
        name: ast.Name = c[0]
        params = tuple(p for p in c[1:] if isinstance(p, tuple) and len(p) == 2)
        return ast.TemplateModule(name.parts[-1], name.span, params)

    def b_formal_parameter(self, c: Children, pos: Pos) -> tuple[str, str]:
        return ("param", self.ident(c[-1]))

    def b_template_module_inst(self, c: Children, pos: Pos) -> ast.TemplateInstance:
        return ast.TemplateInstance(c[0], self.ident(c[-1]), self.tspan(c[-1]))

    def b_template_alias(self, c: Children, pos: Pos) -> None:
        return None

    # --- annotations -----------------------------------------------------------------
    def b_annotations(self, c: Children, pos: Pos) -> tuple[ast.Annotation, ...]:
        return tuple(c)

    def b_annotation_appl(self, c: Children, pos: Pos) -> ast.Annotation:
        name: ast.Name = c[0]
        return ast.Annotation(name, c[1], self.span(pos, 1 + len(str(name))))

    def b_annotation_args(self, c: Children, pos: Pos) -> tuple[ast.AnnotationArg, ...]:
        args = []
        for x in c:
            if isinstance(x, ast.AnnotationArg):
                args.append(x)
            else:
                args.append(ast.AnnotationArg(None, x, _expr_span(x)))
        return tuple(args)

    def b_annotation_param(self, c: Children, pos: Pos) -> ast.AnnotationArg:
        return ast.AnnotationArg(self.ident(c[0]), c[1], self.tspan(c[0]))

    def b_annotation_dcl(self, c: Children, pos: Pos) -> ast.AnnotationDecl:
        members = tuple(x for x in c[1:] if isinstance(x, ast.AnnotationMember))
        defs = tuple(x for x in c[1:] if x is not None and not isinstance(x, ast.AnnotationMember))
        return ast.AnnotationDecl(self.ident(c[0]), self.tspan(c[0]), members, defs)

    def b_annotation_body(self, c: Children, pos: Pos) -> object:
        return c[0]

    def b_annotation_member(self, c: Children, pos: Pos) -> ast.AnnotationMember:
        return ast.AnnotationMember(c[0], self.ident(c[1]), c[2], self.tspan(c[1]))

    def b_annotation_default(self, c: Children, pos: Pos) -> object:
        return c[0] if c else None


def _cover(first: Span, last: Span) -> Span:
    """The span from the start of first to the end of last (if both are on one line)."""
    if first.file != last.file or first.line != last.line or last.end_col <= first.col:
        return first
    return Span(first.file, first.line, first.col, last.end_line, last.end_col, first.included_from)


def _expr_span(e: Any) -> Span:
    span: Span = e.span
    return span


def parse(text: str, linemap: LineMapLike, diags: Diagnostics) -> ast.Specification | None:
    """Parse preprocessed text; None after a syntax error (already reported)."""
    return Parser(text, linemap, diags).parse()
