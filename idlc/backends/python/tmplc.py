"""Compile the jinja2 templates (templates/*.j2) into plain Python: ``_templates.py``.

jinja2 stays the authoring format, but is used here only, at build time (as lark is for
the grammar's tables, idlc/grammar/build.py): code generation calls one function per
template, ``module(m)`` and ``strategies(m)``, that appends the template's text to a list,
so ``idlc -o`` neither imports jinja2 (~45 ms) nor compiles the templates at every run
(~100 ms). Run ``python -m idlc.backends.python.tmplc`` (``make templates``) after editing
a template; tests/backend/test_templates.py fails while ``_templates.py`` is stale and
checks that both render the same text.

The translation covers the part of jinja2 the templates use: ``{{ }}`` output (``str`` of
the value), ``if``/``elif``/``else``, ``for`` (tuple targets, ``else``, ``loop.first``,
``.last``, ``.previtem``, ``.nextitem``), attribute and item lookup as jinja2 does them
(attribute first, then item, or the other way round for ``x["k"]``; a missing one raises,
as ``StrictUndefined`` does), constants, tuples, calls, ``not``/``and``/``or``, ``+``,
comparisons, ``a if c else b`` and the filters ``join``, ``length``, ``format`` and
``tojson``. Anything else is refused here, at build time.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import nodes

HERE = Path(__file__).resolve().parent
TEMPLATES = {"module": "module.py.j2", "strategies": "strategies.py.j2"}
OUTPUT = HERE / "_templates.py"

_HEADER = '''"""The templates of templates/*.j2 compiled to plain Python by tmplc.py (do not edit:
run `python -m idlc.backends.python.tmplc`, or `make templates`, after changing a template).
"""

# ruff: noqa
# fmt: off
# mypy: ignore-errors
from json import dumps as _dumps

SOURCES_SHA256 = {digest!r}


def _ga(o, n):
    try:
        return getattr(o, n)
    except AttributeError:
        return o[n]


def _gi(o, k):
    try:
        return o[k]
    except (TypeError, LookupError):
        if isinstance(k, str):
            return getattr(o, k)
        raise


def _tojson(v):
    return (
        _dumps(v, sort_keys=True)
        .replace("<", "\\\\u003c")
        .replace(">", "\\\\u003e")
        .replace("&", "\\\\u0026")
        .replace("'", "\\\\u0027")
    )


def _join(v, sep=""):
    return str(sep).join(map(str, v))
'''

_CMP = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "lteq": "<=",
    "gt": ">",
    "gteq": ">=",
    "in": "in",
    "notin": "not in",
}


def environment() -> object:
    """The jinja2 environment the templates are written for (build time and tests)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def sources_digest() -> str:
    h = hashlib.sha256()
    for name in sorted(TEMPLATES.values()):
        h.update(name.encode() + b"\0" + (HERE / "templates" / name).read_bytes() + b"\0")
    return h.hexdigest()


class _Compiler:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.scopes: list[dict[str, str]] = [{"m": "m"}]
        self.loops: list[dict[str, str]] = []  # loop.<attr> -> Python expression
        self.counter = 0
        self.pending: list[str] = []  # literal text not yet written

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"_{stem}{self.counter}"

    def line(self, depth: int, text: str) -> None:
        self.out.append("    " * depth + text)

    def flush(self, depth: int) -> None:
        if self.pending:
            self.line(depth, f"_w({''.join(self.pending)!r})")
            self.pending = []

    def body(self, items: list[nodes.Node], depth: int) -> None:
        from jinja2 import nodes

        start = len(self.out)
        for node in items:
            if isinstance(node, nodes.Output):
                for child in node.nodes:
                    if isinstance(child, nodes.TemplateData):
                        if child.data:
                            self.pending.append(child.data)
                    else:
                        self.flush(depth)
                        self.line(depth, f"_w(str({self.expr(child)}))")
            elif isinstance(node, nodes.If):
                self.flush(depth)
                self.line(depth, f"if {self.expr(node.test)}:")
                self.block(node.body, depth + 1)
                for elif_ in node.elif_:
                    self.line(depth, f"elif {self.expr(elif_.test)}:")
                    self.block(elif_.body, depth + 1)
                if node.else_:
                    self.line(depth, "else:")
                    self.block(node.else_, depth + 1)
            elif isinstance(node, nodes.For):
                self.flush(depth)
                self.loop(node, depth)
            else:
                raise SystemExit(f"tmplc: unsupported template construct {type(node).__name__}")
        self.flush(depth)
        if len(self.out) == start:
            self.line(depth, "pass")

    def block(self, items: list[nodes.Node], depth: int) -> None:
        self.body(items, depth)

    def loop(self, node: nodes.For, depth: int) -> None:
        from jinja2 import nodes

        if node.test is not None or node.recursive:
            raise SystemExit("tmplc: for-loop filters and recursive loops are not supported")
        seq, idx, n = self.fresh("seq"), self.fresh("i"), self.fresh("n")
        self.line(depth, f"{seq} = list({self.expr(node.iter)})")
        self.line(depth, f"{n} = len({seq})")
        scope: dict[str, str] = {}
        if isinstance(node.target, nodes.Name):
            scope[node.target.name] = self.fresh(node.target.name)
            target = scope[node.target.name]
        elif isinstance(node.target, nodes.Tuple):
            names = []
            for item in node.target.items:
                assert isinstance(item, nodes.Name)
                scope[item.name] = self.fresh(item.name)
                names.append(scope[item.name])
            target = "(" + ", ".join(names) + ",)"
        else:
            raise SystemExit("tmplc: unsupported loop target")
        self.line(depth, f"for {idx}, {target} in enumerate({seq}):")
        self.scopes.append(scope)
        self.loops.append(
            {
                "first": f"({idx} == 0)",
                "last": f"({idx} == {n} - 1)",
                "index0": idx,
                "index": f"({idx} + 1)",
                "length": n,
                "previtem": f"({seq}[{idx} - 1] if {idx} else None)",
                "nextitem": f"({seq}[{idx} + 1] if {idx} + 1 < {n} else None)",
            }
        )
        self.block(node.body, depth + 1)
        self.loops.pop()
        self.scopes.pop()
        if node.else_:
            self.line(depth, f"if not {n}:")
            self.block(node.else_, depth + 1)

    def name(self, name: str) -> str:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise SystemExit(f"tmplc: unknown name {name!r} in a template")

    def expr(self, node: nodes.Node) -> str:
        from jinja2 import nodes

        if isinstance(node, nodes.Name):
            return self.name(node.name)
        if isinstance(node, nodes.Const):
            return repr(node.value)
        if isinstance(node, nodes.Getattr):
            if isinstance(node.node, nodes.Name) and node.node.name == "loop" and self.loops:
                if node.attr not in self.loops[-1]:
                    raise SystemExit(f"tmplc: unsupported loop.{node.attr}")
                return self.loops[-1][node.attr]
            return f"_ga({self.expr(node.node)}, {node.attr!r})"
        if isinstance(node, nodes.Getitem):
            return f"_gi({self.expr(node.node)}, {self.expr(node.arg)})"
        if isinstance(node, nodes.Tuple):
            return "(" + "".join(f"{self.expr(i)}, " for i in node.items) + ")"
        if isinstance(node, nodes.Call):
            if node.kwargs or node.dyn_args or node.dyn_kwargs:
                raise SystemExit("tmplc: only positional arguments in calls")
            args = ", ".join(self.expr(a) for a in node.args)
            return f"{self.expr(node.node)}({args})"
        if isinstance(node, nodes.Not):
            return f"(not {self.expr(node.node)})"
        if isinstance(node, nodes.And):
            return f"({self.expr(node.left)} and {self.expr(node.right)})"
        if isinstance(node, nodes.Or):
            return f"({self.expr(node.left)} or {self.expr(node.right)})"
        if isinstance(node, nodes.Add):
            return f"({self.expr(node.left)} + {self.expr(node.right)})"
        if isinstance(node, nodes.CondExpr):
            if node.expr2 is None:
                raise SystemExit("tmplc: a conditional expression needs an else")
            test, a, b = self.expr(node.test), self.expr(node.expr1), self.expr(node.expr2)
            return f"({a} if {test} else {b})"
        if isinstance(node, nodes.Compare):
            out = self.expr(node.expr)
            for op in node.ops:
                out += f" {_CMP[op.op]} {self.expr(op.expr)}"
            return f"({out})"
        if isinstance(node, nodes.Filter):
            assert node.node is not None
            value = self.expr(node.node)
            fargs = [self.expr(a) for a in node.args]
            if node.kwargs or node.dyn_args or node.dyn_kwargs:
                raise SystemExit("tmplc: only positional filter arguments")
            if node.name == "join":
                return f"_join({', '.join([value, *fargs])})"
            if node.name == "length" and not fargs:
                return f"len({value})"
            if node.name == "format":
                return f"({value} % ({''.join(a + ', ' for a in fargs)}))"
            if node.name == "tojson" and not fargs:
                return f"_tojson({value})"
            raise SystemExit(f"tmplc: unsupported filter {node.name!r}")
        raise SystemExit(f"tmplc: unsupported expression {type(node).__name__}")


def build() -> str:
    """The source of ``_templates.py`` for the current templates."""
    env = environment()
    parts = [_HEADER.format(digest=sources_digest())]
    for func, name in TEMPLATES.items():
        source = (HERE / "templates" / name).read_text(encoding="utf-8")
        tree = env.parse(source)  # type: ignore[attr-defined]
        c = _Compiler()
        c.body(tree.body, 1)
        parts.append(f"\n\ndef {func}(m: object) -> str:\n    _o = []\n    _w = _o.append\n")
        parts.append("\n".join(c.out) + '\n    return "".join(_o)\n')
    return "".join(parts)


def main() -> int:
    OUTPUT.write_text(build(), encoding="utf-8")
    print(f"tmplc: wrote {OUTPUT.relative_to(HERE.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
