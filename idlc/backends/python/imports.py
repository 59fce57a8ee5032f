"""Where a generated module imports the other generated modules it uses.

IDL modules may refer to each other both ways (an inner module's struct has a member of
the outer module's enum, the outer module's operation returns that struct), but Python
runs a module's top level in order: if the outer module imported the inner one at its top
and the inner one needed the outer's enum while it is being defined (a default value, a
base class), whichever was imported first would meet the other half-made. So an import
whose module is used only inside functions (and in annotations, which are not evaluated)
moves to the end: when the other module imports this one back, everything here exists.
An import used at import time (class bodies, bases, defaults, module-level tables)
stays at the top.

The scan reads the generated text by indentation, before long lines are laid out (so a
statement is mostly one line): a line indented below a ``def`` is inside the function;
anything it cannot place counts as used at import time, which is the order of before.
"""

from __future__ import annotations

import re

__all__ = ["import_cycle", "imports_last", "place_imports"]

_DEF = ("def ", "async def ")
LATE_NOTE = (
    "# Imported last: used only inside functions here, so a module that imports this one"
    " back\n# finds it complete (docs/python-backend.md, Imports).\n# ruff: noqa: E402\n"
)


def imports_last(text: str, imports: list[str]) -> str:
    """``text`` with the lines of ``imports`` (``from P import M as ALIAS``) whose alias
    is used only inside functions moved to its end."""
    return place_imports(text, imports)[0]


def place_imports(text: str, imports: list[str]) -> tuple[str, set[str]]:
    """`imports_last`, and the aliases whose imports stay at the top."""
    aliases = {line.rsplit(" as ", 1)[1]: line for line in imports if " as " in line}
    if not aliases:
        return text, set()
    lines = text.split("\n")
    keep = import_time_aliases(lines, set(aliases))
    late = [line for alias, line in aliases.items() if alias not in keep]
    if not late:
        return text, keep
    moved = set(late)
    body = "\n".join(line for line in lines if line not in moved).rstrip("\n")
    return f"{body}\n\n\n{LATE_NOTE}" + "".join(f"{line}\n" for line in late), keep


def import_cycle(needs: dict[str, set[str]]) -> list[str]:
    """Modules (aliases) each needing the next while it is imported, the last needing the
    first: none of them can be imported first. [] when there is no such cycle."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(a: str) -> list[str]:
        state[a] = 1
        path.append(a)
        for b in sorted(needs.get(a, ())):
            if state.get(b) == 1:
                return path[path.index(b) :]
            if b not in state and (found := visit(b)):
                return found
        path.pop()
        state[a] = 2
        return []

    for a in sorted(needs):
        if a not in state and (found := visit(a)):
            return found
    return []


def import_time_aliases(lines: list[str], aliases: set[str]) -> set[str]:
    """The aliases some line outside a function body uses (a default in a signature
    counts: it is evaluated when the ``def`` runs)."""
    word = re.compile(r"\b(" + "|".join(map(re.escape, sorted(aliases))) + r")\.")
    default = re.compile(r"=[^=]*?\b(" + "|".join(map(re.escape, sorted(aliases))) + r")\.")
    found: set[str] = set()
    defs: list[int] = []  # indents of the enclosing defs
    in_signature = False
    for line in lines:
        stripped = line.lstrip()
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        closing = in_signature and defs and indent == defs[-1] and stripped[0] in ")]"
        while defs and indent <= defs[-1] and not closing:
            defs.pop()
            in_signature = False
        if stripped.startswith(_DEF):
            defs.append(indent)
            in_signature = True
        if in_signature:  # annotations are not evaluated; defaults are
            if "=" in line:
                found.update(m[1] for m in default.finditer(line))
            if line.rstrip().endswith(":") or line.rstrip().endswith(": ..."):
                in_signature = False
        elif not defs and "_" in stripped and word.search(line):
            found.update(m[1] for m in word.finditer(evaluated(line)))
    return found


_ANNOTATED = re.compile(r"^(\s*[A-Za-z_]\w*): [^=]*?(?= = |$)")


def evaluated(line: str) -> str:
    """What of a line outside functions runs at import time: without an annotation
    (``x: T = v`` keeps ``x = v``; ``from __future__ import annotations`` leaves ``T`` a
    string) and without lambda bodies (``default_factory=lambda: T()`` runs later). A
    lambda whose body goes on past the line is kept whole: counted, as before."""
    line = _ANNOTATED.sub(r"\1", line, count=1)
    out: list[str] = []
    i = 0
    while (j := line.find("lambda", i)) >= 0:
        colon = line.find(":", j)
        if colon < 0:
            break
        out.append(line[i : colon + 1])
        depth, k = 0, colon + 1
        while k < len(line):
            c = line[k]
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    break
                depth -= 1
            elif c == "," and depth == 0:
                break
            k += 1
        if k == len(line) and depth:  # the body continues on the next line
            return "".join(out) + line[colon + 1 :]
        i = k
    out.append(line[i:])
    return "".join(out)
