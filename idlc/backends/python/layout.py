"""Lines as black lays them out, without running black: the generator writes black's
layout itself (black stays the tests' oracle, tests/backend/test_black.py).

Templates and the marshalling code emit short lines as black formats them. What only a
line's width decides is done here, per line of the rendered module:

- ``if COND: raise ...`` (the form the marshalling checks are kept in, marshal.py) becomes
  two lines;
- a line longer than 100 columns is split as black splits it: the part of black's
  ``linegen`` the generated code needs (right-hand splits with black's rules for optional
  parentheses and trailers, delimiter splits with trailing commas, left-hand splits of
  ``def`` lines, magic trailing commas). Comments, multi-line strings, type comments and
  black's preview features are outside it; the generator does not put them on long lines.

Lines inside triple-quoted strings (docstrings) are left as they are.
"""

from __future__ import annotations

import re

WIDTH = 100

_TOKEN = re.compile(
    r"""(?P<ws>[ \t]*)(?:
      (?P<str>[rRbBfFuU]{0,2}(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"))
    | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
    | (?P<num>0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*\.?[\d_]*|\.\d[\d_]*)(?:[eE][+-]?\d+)?j?)
    | (?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%&|^@]=?|[<>=!]=|[<>~=.,:;()\[\]{}])
    )""",
    re.VERBOSE,
)
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = {")", "]", "}"}
_KEYWORDS = frozenset(
    [
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "elif",
        "for",
        "while",
        "return",
        "lambda",
        "yield",
        "await",
        "del",
        "assert",
        "raise",
        "from",
        "import",
        "as",
        "with",
        "try",
        "except",
        "finally",
        "class",
        "def",
        "pass",
        "break",
        "continue",
        "global",
        "nonlocal",
        "None",
        "True",
        "False",
    ]
)
_CONSTANTS = frozenset(("None", "True", "False"))
_MATH = {
    "|": 9,
    "^": 8,
    "&": 7,
    "<<": 6,
    ">>": 6,
    "+": 5,
    "-": 5,
    "*": 4,
    "/": 4,
    "//": 4,
    "%": 4,
    "@": 4,
    "~": 3,
    "**": 2,
}
_COMPARATORS = {"<", ">", "==", "!=", "<=", ">="}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "//=", "%=", "&=", "|=", "^=", ">>=", "<<=", "**=", "@="}
COMPREHENSION, COMMA, TERNARY, LOGIC, STRING, COMPARATOR, DOT = 20, 18, 16, 14, 12, 10, 1


class CannotSplit(Exception):
    pass


class Leaf:
    __slots__ = ("kind", "match", "prefix", "trailer", "value")

    def __init__(self, kind: str, value: str, prefix: str) -> None:
        self.kind = kind  # str, name, num, op
        self.value = value
        self.prefix = prefix
        self.match: Leaf | None = None  # the other bracket of a pair
        self.trailer = False  # a bracket of a call, subscript or def (not an atom)

    @property
    def opening(self) -> bool:
        return (self.kind == "op" and self.value in _OPEN) or self.kind == "lpar"

    @property
    def closing(self) -> bool:
        return (self.kind == "op" and self.value in _CLOSE) or self.kind == "rpar"


def _invisible(kind: str) -> Leaf:
    return Leaf(kind, "", "")


class Line:
    """Leaves at one indentation ``depth``, with black's bracket tracking: depths of the
    leaves relative to the line and the delimiter priority after each leaf."""

    __slots__ = ("delims", "depth", "depths", "explode", "inside", "is_def", "leaves", "magic")

    def __init__(self, leaves: list[Leaf], depth: int, inside: bool, track: bool = True) -> None:
        self.leaves = leaves
        self.depth = depth
        self.inside = inside
        self.is_def = bool(leaves) and leaves[0].kind == "name" and leaves[0].value == "def"
        self.depths: list[int] = []
        self.delims: dict[int, int] = {}  # index of the leaf a split follows -> priority
        self.magic = False  # a magic trailing comma
        self.explode = False  # black's should_split_rhs
        self._track(track)

    def _track(self, record: bool) -> None:
        """Depths always; delimiters and magic commas when black tracks the line."""
        depth = 0
        lambdas: list[int] = []
        fors: list[int] = []
        comprehension = False  # a comprehension's ``for`` was seen at depth 0
        prev: Leaf | None = None
        leaves = self.leaves
        for i, leaf in enumerate(leaves):
            for_in = False
            if fors and depth == fors[-1] and leaf.kind == "name" and leaf.value == "in":
                depth -= 1
                fors.pop()
                for_in = True
            if lambdas and depth == lambdas[-1] and leaf.kind == "op" and leaf.value == ":":
                depth -= 1
                lambdas.pop()
            if leaf.closing:
                if depth == 0:  # its opening bracket is on an earlier line
                    self.depths.append(0)
                    prev = leaf
                    continue
                depth -= 1
                if record and leaf.value and i and leaves[i - 1].value == "," and self._magic(i):
                    self.magic = True
            self.depths.append(depth)
            if depth == 0 and record:
                pri = 0 if for_in else self._before(leaf, prev, i, comprehension)
                if leaf.kind == "name" and leaf.value == "for" and i > 0:
                    comprehension = True
                if pri and prev is not None:
                    self.delims[i - 1] = pri
                if leaf.kind == "op" and leaf.value == ",":
                    self.delims[i] = COMMA
            if leaf.opening:
                depth += 1
            prev = leaf
            if leaf.kind == "name" and leaf.value == "lambda":
                depth += 1
                lambdas.append(depth)
            elif leaf.kind == "name" and leaf.value == "for":
                depth += 1
                fors.append(depth)

    def _magic(self, i: int) -> bool:
        """Whether the comma before the closing bracket ``leaves[i]`` is magic."""
        closing = self.leaves[i]
        if closing.value == "}":
            return True
        opening = closing.match
        assert opening is not None
        if closing.value == "]":
            return not (closing.trailer and self._one_sequence(opening, i))
        if closing.trailer:  # a call or a def: arglist
            return True
        return not self._one_sequence(opening, i)

    def _one_sequence(self, opening: Leaf, i: int) -> bool:
        j = self.leaves.index(opening)
        level, commas = 0, 0
        for leaf in self.leaves[j + 1 : i]:
            if leaf.closing:
                level -= 1
            if level == 0 and leaf.value == ",":
                commas += 1
            if leaf.opening:
                level += 1
        return commas < 2

    def _before(self, leaf: Leaf, prev: Leaf | None, i: int, comp: bool) -> int:
        v, k = leaf.value, leaf.kind
        if k == "op":
            if v == "." and prev is not None and prev.closing:
                return DOT
            if v in _MATH and not _unary(prev, v):
                return _MATH[v]
            if v in _COMPARATORS:
                return COMPARATOR
            return 0
        if k == "str":
            return STRING if prev is not None and prev.kind == "str" else 0
        if k != "name":
            return 0
        if v == "for" and i > 0:
            return COMPREHENSION
        if v == "if" and i > 0:
            return COMPREHENSION if comp else TERNARY
        if v == "else" and i > 0:
            return TERNARY
        if v == "is":
            return COMPARATOR
        if v == "in" and not (prev is not None and prev.value == "not"):
            return COMPARATOR
        if v == "not":
            nxt = self.leaves[i + 1] if i + 1 < len(self.leaves) else None
            if nxt is not None and nxt.value == "in" and not (prev and prev.value == "is"):
                return COMPARATOR
            return 0
        if v in ("and", "or"):
            return LOGIC
        return 0

    def max_priority(self, exclude_last: bool = False) -> int:
        last = len(self.leaves) - 1
        values = [p for i, p in self.delims.items() if not (exclude_last and i == last)]
        return max(values) if values else 0

    def count(self, priority: int) -> int:
        return sum(1 for p in self.delims.values() if p == priority)

    def render(self) -> str:
        leaves = self.leaves
        if not leaves:
            return ""
        rest = "".join(x.prefix + x.value for x in leaves[1:])
        return "    " * self.depth + leaves[0].value + rest

    def short(self) -> bool:
        return len(self.render()) <= WIDTH


def _unary(prev: Leaf | None, op: str) -> bool:
    """Whether ``op`` is a unary operator or a star of arguments (no delimiter then)."""
    if op not in ("-", "+", "~", "*", "**"):
        return False
    if prev is None:
        return True
    if prev.kind == "op":
        return not prev.closing
    if prev.kind in ("lpar",):
        return True
    return prev.kind == "name" and prev.value in _KEYWORDS and prev.value not in _CONSTANTS


def lex(text: str) -> list[Leaf]:
    """The leaves of one logical line (no indentation), brackets matched."""
    leaves: list[Leaf] = []
    pos, end = 0, len(text)
    stack: list[Leaf] = []
    while pos < end:
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise CannotSplit(f"cannot tokenize at {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        assert kind is not None
        leaf = Leaf(kind, m.group(kind), " " if m.group("ws") else "")
        if leaf.opening:
            prev = leaves[-1] if leaves else None
            leaf.trailer = prev is not None and (
                prev.closing
                or prev.kind == "str"
                or (
                    prev.kind == "name"
                    and (prev.value not in _KEYWORDS or prev.value in _CONSTANTS)
                )
            )
            stack.append(leaf)
        elif leaf.closing:
            if not stack:
                raise CannotSplit("unbalanced brackets")
            opening = stack.pop()
            opening.match, leaf.match, leaf.trailer = leaf, opening, opening.trailer
        leaves.append(leaf)
        pos = m.end()
    if stack:
        raise CannotSplit("unbalanced brackets")
    return leaves


def _wrap(leaves: list[Leaf], start: int, stop: int) -> None:
    """Invisible parentheses around ``leaves[start:stop]`` (black's optional parens),
    unless it is one bracketed atom already."""
    if start >= stop:
        return
    first, last = leaves[start], leaves[stop - 1]
    if first.opening and first.match is last and not first.trailer:
        return
    lpar, rpar = _invisible("lpar"), _invisible("rpar")
    lpar.prefix, first.prefix = first.prefix, ""
    lpar.match, rpar.match = rpar, lpar
    leaves.insert(stop, rpar)
    leaves.insert(start, lpar)


def statement(text: str) -> list[Leaf]:
    """Leaves of a statement with black's invisible parentheses: after ``return``, after
    ``if``/``elif``/``while`` (up to the colon) and after every ``=`` of an assignment."""
    leaves = lex(text)
    if not leaves:
        return leaves
    head = leaves[0].value
    if head == "return" and leaves[0].kind == "name":
        _wrap(leaves, 1, len(leaves))
    elif head in ("if", "elif", "while") and leaves[-1].value == ":":
        _wrap(leaves, 1, len(leaves) - 1)
    elif head == "def":
        _wrap_parameter_annotations(leaves)
        level, arrow = 0, -1
        for i, leaf in enumerate(leaves):  # the return annotation, up to the colon
            if leaf.opening:
                level += 1
            elif leaf.closing:
                level -= 1
            elif level == 0 and leaf.kind == "op" and leaf.value == "->":
                arrow = i
            elif level == 0 and leaf.kind == "op" and leaf.value == ":" and arrow >= 0:
                _wrap(leaves, arrow + 1, i)
                break
    elif head in ("class", "for", "with", "raise", "assert", "del", "import", "from"):
        pass
    else:
        level, cuts, lam = 0, [], False
        comma = -1  # a comma of a tuple target before the first ``=``
        annotation = -1  # the colon of an annotated assignment
        for i, leaf in enumerate(leaves):
            if leaf.opening:
                level += 1
            elif leaf.closing:
                level -= 1
            elif level == 0 and leaf.kind == "name" and leaf.value == "lambda":
                lam = True
            elif level == 0 and lam and leaf.value == ":":
                lam = False
            elif level == 0 and leaf.kind == "op" and leaf.value in _ASSIGN:
                cuts.append(i)
            elif level == 0 and leaf.value == "," and not cuts and comma < 0:
                comma = i
            elif level == 0 and leaf.value == ":" and not cuts and not lam and annotation < 0:
                annotation = i
        for n, i in reversed(list(enumerate(cuts))):
            stop = cuts[n + 1] if n + 1 < len(cuts) else len(leaves)
            _wrap(leaves, i + 1, stop)
        if annotation > 0:  # ``x: T = v``: T too (black's tname)
            _wrap(leaves, annotation + 1, cuts[0] if cuts else len(leaves))
        if cuts and 0 <= comma < cuts[0]:  # black's parentheses around a tuple target
            _wrap(leaves, 0, cuts[0])
    return leaves


def _wrap_parameter_annotations(leaves: list[Leaf]) -> None:
    """Invisible parentheses around each parameter's annotation (black's tname)."""
    start = next((i for i, x in enumerate(leaves) if x.value == "("), -1)
    closing = leaves[start].match if start >= 0 else None
    if closing is None:
        return
    stop = leaves.index(closing)
    spans: list[tuple[int, int]] = []
    level, colon = 0, -1
    for i in range(start + 1, stop + 1):
        leaf = leaves[i]
        if level == 0 and colon >= 0 and (leaf.value in (",", "=") or i == stop):
            spans.append((colon + 1, i))
            colon = -1
        if leaf.opening:
            level += 1
        elif leaf.closing:
            level -= 1
        elif level == 0 and leaf.value == ":":
            colon = i
    for a, b in reversed(spans):
        _wrap(leaves, a, b)


# --- black's transforms ----------------------------------------------------------------


def transform(line: Line) -> list[Line]:
    if not line.magic and not line.explode and line.short():
        return [line]
    if line.is_def and not _magic_return_type(line):
        transforms = [_left_hand_split]
    elif line.inside:
        transforms = [_delimiter_split, _rhs]
    else:
        transforms = [_rhs]
    text = line.render()
    for fn in transforms:
        try:
            return _run(line, fn, text, force=False)
        except CannotSplit:
            continue
    return [line]


def _magic_return_type(line: Line) -> bool:
    """black's should_split_funcdef_with_rhs: a magic trailing comma in the return type."""
    leaves, inside = [], False
    for leaf in line.leaves:
        if leaf.value == ":" and leaf.kind == "op":
            inside = False
        if inside:
            leaves.append(leaf)
        if leaf.value == "->":
            inside = True
    return Line(leaves, line.depth, False).magic


def _run(line: Line, fn: object, text: str, force: bool) -> list[Line]:
    result: list[Line] = []
    for piece in fn(line, force):  # type: ignore[operator]
        piece.leaves[0].prefix = ""
        if piece.render() == text:
            raise CannotSplit("unchanged")
        result.extend(transform(piece))
    optional = [
        x for i, x in enumerate(line.leaves) if x.kind in ("lpar", "rpar") and not line.depths[i]
    ]
    if (
        force
        or fn is not _rhs
        or not any(x.kind in ("lpar", "rpar") for x in line.leaves)
        or any(x.value for x in optional)
        or result[0].short()
    ):
        return result
    # black's second opinion: the optional parentheses kept (the same leaves)
    second = _run(Line(line.leaves, line.depth, line.inside), fn, text, force=True)
    if all(x.short() for x in second):
        return second
    return result


def _build(leaves: list[Leaf], line: Line, part: str, opening: Leaf) -> Line:
    if part == "body":
        if (
            leaves
            and line.is_def
            and opening.value == "("
            and not any(x.value == "," for x in leaves)
            and not _in_return_annotation(line, opening)
        ):  # black's _ensure_trailing_comma: a def's only parameter
            leaves = [*leaves, Leaf("op", ",", "")]
        body = Line(leaves, line.depth + 1, True)
        body.explode = _should_explode(body, opening)
        return body
    # black tracks the head's brackets, not the tail's
    return Line(leaves, line.depth, False, track=part == "head")


def _in_return_annotation(line: Line, opening: Leaf) -> bool:
    i = line.leaves.index(opening)
    return any(x.value == "->" for x in line.leaves[:i])


def _should_explode(body: Line, opening: Leaf) -> bool:
    """black's should_split_line: a collection (not a call) of several elements, or one
    with a magic trailing comma, explodes one element per line."""
    trailing = bool(body.leaves) and body.leaves[-1].value == ","
    if body.max_priority(exclude_last=trailing) != COMMA:
        return False
    return trailing or not opening.trailer


def _left_hand_split(line: Line, force: bool) -> list[Line]:
    """The first bracket pair that holds something: a def's parameters, else (``def
    f() -> X``) its return annotation's optional parentheses."""
    leaves = line.leaves
    for kind in ("(", "["):
        for i, leaf in enumerate(leaves):
            if (leaf.value == kind or (kind == "(" and leaf.kind == "lpar")) and leaf.match:
                j = leaves.index(leaf.match)
                if j == i + 1:
                    continue
                head, body, tail = leaves[: i + 1], leaves[i + 1 : j], leaves[j:]
                _check_split(line, body, tail)
                if leaf.kind == "lpar":
                    leaf.value, leaf.match.value = "(", ")"
                return _pieces(line, head, body, tail, leaf)
    raise CannotSplit("no brackets")


def _check_split(line: Line, body: list[Leaf], tail: list[Leaf]) -> None:
    """bracket_split_succeeded_or_raise"""
    if not body:
        tail_len = len("".join(x.prefix + x.value for x in tail).strip())
        if tail_len == 0:
            raise CannotSplit("same line")
        if tail_len < 3:
            raise CannotSplit("not worth it")


def _pieces(
    line: Line, head: list[Leaf], body: list[Leaf], tail: list[Leaf], opening: Leaf
) -> list[Line]:
    lines = [
        _build(head, line, "head", opening),
        _build(body, line, "body", opening),
        _build(tail, line, "tail", opening),
    ]
    return [x for x in lines if x.leaves]


Split = tuple[list[Leaf], list[Leaf], list[Leaf], Leaf, Leaf]


def _first_rhs(line: Line, omit: set[int]) -> Split:
    """The last bracket pair that holds something (an empty one stays in the tail)."""
    leaves = line.leaves
    for j in range(len(leaves) - 1, -1, -1):
        leaf = leaves[j]
        if leaf.closing and id(leaf) not in omit:
            opening = leaf.match
            assert opening is not None
            if opening not in leaves:
                break
            i = leaves.index(opening)
            if i == j - 1:
                continue
            head, body, tail = leaves[: i + 1], leaves[i + 1 : j], leaves[j:]
            if not head:
                break
            _check_split(line, body, tail)
            return head, body, tail, opening, leaf
    raise CannotSplit("no brackets")


def _rhs(line: Line, force: bool) -> list[Line]:
    """right_hand_split_with_omits."""
    first: list[Line] | None = None
    prefix_len: dict[int, int] = {}
    n = 4 * line.depth
    for leaf in line.leaves:
        prefix_len[id(leaf)] = n
        n += len(leaf.prefix) + len(leaf.value)
    for omit in _trailers_to_omit(line):
        if omit:
            target = next(
                (x.match for x in reversed(line.leaves) if x.closing and id(x) not in omit), None
            )
            if target is not None and target.value and prefix_len.get(id(target), 0) > WIDTH:
                continue
        lines = _right_hand_split(line, omit, force)
        if first is None and not omit:
            first = lines
        if lines[0].short():
            return lines
    if first is not None:
        return first
    return _right_hand_split(line, set(), force)


def _right_hand_split(line: Line, omit: set[int], force: bool) -> list[Line]:
    return _maybe_omit_optional(line, _first_rhs(line, omit), omit, force)


def _maybe_omit_optional(line: Line, rhs: Split, omit: set[int], force: bool) -> list[Line]:
    head, body, tail, opening, closing = rhs
    if (
        not force
        and opening.kind == "lpar"
        and not opening.value
        and closing.kind == "rpar"
        and not closing.value
        and _can_omit_invisible(line, body)
    ):
        omit2 = {id(closing), *omit}
        try:
            oop = _first_rhs(line, omit2)
            if _prefer_oop(line, head, oop[0]):
                return _maybe_omit_optional(line, oop, omit2, force)
        except CannotSplit:
            bl = Line(body, line.depth + 1, True)
            if _is_chained(line):
                pass
            elif not _can_be_split(bl) and not bl.short():
                raise
    opening.value, closing.value = (
        ("(", ")")
        if opening.kind == "lpar"
        else (
            opening.value,
            closing.value,
        )
    )
    return _pieces(line, head, body, tail, opening)


def _is_chained(line: Line) -> bool:
    level, n = 0, 0
    for leaf in line.leaves:
        if leaf.opening:
            level += 1
        elif leaf.closing:
            level -= 1
        elif level == 0 and leaf.value == "=":
            n += 1
    return n > 1


def _can_be_split(line: Line) -> bool:
    leaves = line.leaves
    if len(leaves) < 2:
        return False
    if leaves[0].kind == "str" and leaves[1].value == ".":
        calls = dots = 0
        nxt = leaves[-1]
        for leaf in leaves[-2::-1]:
            if leaf.opening:
                if not nxt.closing:
                    return False
                calls += 1
            elif leaf.value == ".":
                dots += 1
            elif leaf.kind == "name":
                if not (nxt.value == "." or nxt.opening):
                    return False
            elif not leaf.closing:
                return False
            if dots > 1 and calls > 1:
                return False
            nxt = leaf
    return True


def _prefer_oop(line: Line, head: list[Leaf], head_oop: list[Leaf]) -> bool:
    """_prefer_split_rhs_oop_over_rhs (no type comments, no preview features)."""
    if not (len(head) >= 2 and head[-2].value == "=" and head[-2].kind == "op"):
        return True
    if not any(x.opening or x.closing for x in head[:-1]):
        return True
    hl = Line(head, line.depth, False)
    if len(hl.render()) > WIDTH - 1:
        return True
    if hl.magic:
        return True
    equals = sum(1 for x in head if x.value == "=" and x.kind == "op")
    equals_oop = sum(1 for x in head_oop if x.value == "=" and x.kind == "op")
    if equals > 1 and equals > equals_oop:
        return False
    closing_after = False
    for leaf in reversed(head_oop):
        if leaf.value == "=" and leaf.kind == "op":
            break
        if leaf.closing:
            closing_after = True
            break
    hol = Line(head_oop, line.depth, False)
    return closing_after or (equals_oop > 0 and hol.short())


def _can_omit_invisible(line: Line, body: list[Leaf]) -> bool:
    bl = Line(body, line.depth + 1, True)
    if not bl.delims:
        return True
    top = bl.max_priority()
    if bl.count(top) > 1:
        return False
    if top == DOT:
        return True
    if len(body) < 2:
        return False
    first, second = body[0], body[1]
    if first.opening and not second.closing and _can_omit_opening(bl, first):
        return True
    last, penultimate = body[-1], body[-2]
    if last.value == ")" or last.value == "}" or (last.value == "]" and not last.trailer):
        if penultimate.opening:
            return False
        if _can_omit_closing(bl, last):
            return True
    return False


def _can_omit_opening(line: Line, first: Leaf) -> bool:
    remainder = False
    length = 4 * line.depth
    index = -1
    for index, leaf in enumerate(line.leaves):  # noqa: B007 (index is read after the loop)
        if leaf.closing and leaf.match is first:
            remainder = True
        if remainder:
            length += len(leaf.prefix) + len(leaf.value)
            if length > WIDTH:
                break
            if leaf.opening:
                remainder = False
    else:
        if len(line.leaves) == index + 1:
            return True
    return False


def _can_omit_closing(line: Line, last: Leaf) -> bool:
    length = 4 * line.depth
    seen_other = False
    for leaf in line.leaves:
        length += len(leaf.prefix) + len(leaf.value)
        if leaf is last.match:
            if seen_other or length <= WIDTH:
                return True
        elif leaf.opening:
            seen_other = True
    return False


def _trailers_to_omit(line: Line) -> list[set[int]]:
    """generate_trailers_to_omit, as a list of the cumulative omit sets."""
    out: list[set[int]] = []
    omit: set[int] = set()
    if not line.magic:
        out.append(set())
    length = 4 * line.depth
    opening: Leaf | None = None
    closing: Leaf | None = None
    inner: set[int] = set()
    leaves = line.leaves
    for index in range(len(leaves) - 1, -1, -1):
        leaf = leaves[index]
        length += len(leaf.prefix) + len(leaf.value)
        if length > WIDTH:
            break
        if opening is not None:
            if leaf is opening:
                opening = None
            elif leaf.closing:
                prev = leaves[index - 1] if index > 0 else None
                if prev is not None and prev.value == "," and not _one_seq(line, leaf):
                    break
                inner.add(id(leaf))
        elif leaf.closing:
            prev = leaves[index - 1] if index > 0 else None
            if prev is not None and prev.opening:
                inner.add(id(leaf))
                continue
            if closing is not None:
                omit.add(id(closing))
                omit.update(inner)
                inner.clear()
                out.append(set(omit))
            if prev is not None and prev.value == "," and not _one_seq(line, leaf):
                break
            if leaf.value:
                opening, closing = leaf.match, leaf
    return out


def _one_seq(line: Line, closing: Leaf) -> bool:
    """is_one_sequence_between for parentheses (a call's arguments never are)."""
    if closing.value != ")" or closing.trailer:
        return False
    return line._one_sequence(closing.match, line.leaves.index(closing))  # type: ignore[arg-type]


def _delimiter_split(line: Line, force: bool) -> list[Line]:
    leaves = line.leaves
    if not leaves:
        raise CannotSplit("empty")
    top = line.max_priority(exclude_last=True)
    if not top:
        raise CannotSplit("no delimiters")
    if top == DOT and line.count(DOT) == 1:
        raise CannotSplit("a single attribute")
    out: list[Line] = []
    current: list[Leaf] = []
    lowest = 1 << 30
    safe = True
    for i, leaf in enumerate(leaves):
        current.append(leaf)
        lowest = min(lowest, line.depths[i])
        if (
            safe
            and line.depths[i] == lowest
            and leaf.value in ("*", "**")
            and _unary(leaves[i - 1] if i else None, leaf.value)
        ):
            safe = True  # trailing commas after *args are fine from Python 3.6 on
        if line.delims.get(i) == top:
            out.append(Line(current, line.depth, line.inside))
            current = []
    if current:
        if safe and top == COMMA and current[-1].value != ",":
            current.append(Leaf("op", ",", ""))
        out.append(Line(current, line.depth, line.inside))
    return out


# --- whole modules ---------------------------------------------------------------------


def split(text: str, depth: int) -> list[str]:
    """One logical line (``text`` without indentation) as black lays it out."""
    if text.startswith("from ") and " import " in text and "(" not in text:
        # black wraps the names of a long import in parentheses, one per line
        head, names = text.split(" import ", 1)
        indent = "    " * depth
        lines = [f"{indent}{head} import ("]
        lines += [f"{indent}    {name.strip()}," for name in names.split(",")]
        return [*lines, f"{indent})"]
    lines = [x.render() for x in transform(Line(statement(text), depth, False))]
    for _ in range(3):  # black's fixed point: its own output again (magic commas it added)
        again = [x.render() for x in transform(Line(statement(_join(lines)), depth, False))]
        if again == lines:
            break
        lines = again
    return lines


def _join(lines: list[str]) -> str:
    """Lines of one statement as one logical line, trailing commas kept."""
    out = ""
    for piece in (x.strip() for x in lines):
        if out and not (out[-1] in "([{" or piece[0] in ")]}"):
            out += " "
        out += piece
    return out


def tidy(source: str) -> str:
    """The module ``source`` with its one-line checks split and its long lines laid out."""
    out: list[str] = []
    lines = source.split("\n")
    n = len(lines)
    i = 0
    code = ""  # the last line of code before a docstring
    while i < n:
        line = lines[i]
        i += 1
        triple = line.count('"""')
        if triple % 2:  # a string of several lines: up to the line that closes it
            j = i
            while j < n and lines[j].count('"""') % 2 == 0:
                j += 1
            block = lines[i - 1 : j + 1]
            i = j + 1
            stripped = line.lstrip(" ")
            if stripped.startswith('"""') and (not code or code.endswith(":")):
                block = _docstring(block, len(line) - len(stripped))
            out.extend(block)
            code = block[-1]
            continue
        if line.strip():
            code = line.rstrip()
        if "'" in line and not line.lstrip().startswith("#"):
            line = quotes(line)
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("if ") and ": raise " in stripped:
            cond, stmt = stripped.split(": raise ", 1)
            _add(out, cond + ":", indent)
            _add(out, "raise " + stmt, indent + 4)
        elif len(line) > WIDTH and not triple and not stripped.startswith("#"):
            _add(out, stripped, indent)
        else:
            out.append(line)
    return "\n".join(out).rstrip("\n") + "\n"


_STRING = re.compile(r"""[rRbBfFuU]{0,2}(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")""")
_UNESCAPED_DQ = re.compile(r'(([^\\]|^)(\\\\)*)"')
_ESCAPED_DQ = re.compile(r'([^\\]|^)\\((?:\\\\)*)"')
_ESCAPED_SQ = re.compile(r"([^\\]|^)\\((?:\\\\)*)'")


def _twice(regex: re.Pattern[str], replacement: str, text: str) -> str:
    return regex.sub(replacement, regex.sub(replacement, text))


def _quote(m: re.Match[str]) -> str:
    """black's normalize_string_quotes for a single-quoted literal: double quotes unless
    they need more escapes."""
    value = m.group()
    pos = value.index("'") if "'" in value[:3] else -1
    if pos < 0 or value[pos] != "'" or ('"' in value[:pos]):
        return value
    prefix, body = value[:pos], value[pos + 1 : -1]
    if "r" in prefix.lower():
        if body.count('"') != body.count('\\"'):
            return value
        new = body
    else:
        new = _twice(_ESCAPED_DQ, r"\1\2\"", body)
        if body != new:
            body = new
        new = _twice(_ESCAPED_SQ, r"\1\2'", new)
        new = _twice(_UNESCAPED_DQ, r'\1\\"', new)
    if "f" in prefix.lower():
        for expr in re.findall(r"(?:(?<!\{)|^)\{([^{].*?)\}(?:(?!\})|$)", new):
            if "\\" in str(expr):
                return value
    if new.count("\\") > body.count("\\"):
        return value
    return f'{prefix}"{new}"'


def quotes(line: str) -> str:
    """The line with its single-quoted strings in double quotes where black puts them."""
    return _STRING.sub(_quote, line)


def _docstring(block: list[str], indent: int) -> list[str]:
    """A docstring of several lines as black writes it (fix_multiline_docstring): the
    first line stripped, the others dedented to the docstring's indentation, trailing
    spaces gone, the closing quotes at the indentation when alone on their line."""
    text = "\n".join(block)
    start, end = text.index('"""') + 3, text.rindex('"""')
    lines = [x.expandtabs() if x[:1] == "\t" else x for x in text[start:end].split("\n")]
    rest = lines[1:]
    margin = min((len(x) - len(x.lstrip()) for x in rest if x.strip()), default=0)
    prefix = " " * indent
    trimmed = [lines[0].strip()]
    for k, x in enumerate(rest):
        body = x[margin:].rstrip()
        trimmed.append(prefix + body if body or k == len(rest) - 1 else "")
    if len(trimmed) > 1 and trimmed[-1] and len(trimmed[-1]) + 3 > WIDTH:
        trimmed.append(prefix)  # black puts the closing quotes on a line of their own
    return (prefix + '"""' + "\n".join(trimmed) + text[end:]).split("\n")


def _add(out: list[str], text: str, indent: int) -> None:
    if indent + len(text) <= WIDTH:
        out.append(" " * indent + text)
        return
    try:
        out.extend(split(text, indent // 4))
    except CannotSplit:  # outside what this module lays out: as it is (the tests see it)
        out.append(" " * indent + text)
