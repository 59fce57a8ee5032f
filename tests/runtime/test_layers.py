"""The runtime's layers (docs/runtime.md, DESIGN.md "Runtime"): imports only go down.

Every import statement counts: at module level, inside functions and under
`TYPE_CHECKING`. The kernel (`runtime/kernel/`) imports nothing of the runtime outside
its own package, the platform (`runtime/platform/`) only the kernel and itself, and the
user layer (the rest of `runtime/`) anything. Module-level imports that run when a module
loads form no circle, so every module imports on its own in any order.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "runtime"
KERNEL, PLATFORM, USER = "kernel", "platform", "user"
# what each layer may import (besides itself)
ALLOWED = {KERNEL: {KERNEL}, PLATFORM: {KERNEL, PLATFORM}, USER: {KERNEL, PLATFORM, USER}}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) > 1 and parts[1] in (KERNEL, PLATFORM):
        return parts[1]
    return USER


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported runtime module, line, runs at load) for every import in `path`."""
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))

    def visit(node: ast.AST, at_load: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for a in child.names:
                    if a.name.split(".")[0] == "runtime":
                        yield a.name, child.lineno, at_load
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                if target.split(".")[0] != "runtime":
                    continue
                for a in child.names:  # `from pkg import submodule` imports the submodule
                    sub = f"{target}.{a.name}"
                    is_mod = (ROOT.parent / (sub.replace(".", "/") + ".py")).exists() or (
                        ROOT.parent / sub.replace(".", "/") / "__init__.py"
                    ).exists()
                    yield (sub if is_mod else target), child.lineno, at_load
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) or (
                isinstance(child, ast.If) and _type_checking(child.test)
            ):
                yield from visit(child, False)  # runs later, or never
            else:
                yield from visit(child, at_load)

    yield from visit(tree, True)


SOURCES = sorted(ROOT.rglob("*.py"))
GRAPH = {module_name(p): list(imports(p)) for p in SOURCES}


def test_the_three_layers_exist() -> None:
    layers = {layer(m) for m in GRAPH}
    assert layers == {KERNEL, PLATFORM, USER}
    assert "runtime.kernel.kernel" in GRAPH and "runtime.kernel.syscalls" in GRAPH


@pytest.mark.parametrize("mod", sorted(GRAPH), ids=str)
def test_no_upward_import(mod: str) -> None:
    bad = [
        f"line {line}: {target} ({layer(target)})"
        for target, line, _ in GRAPH[mod]
        if layer(target) not in ALLOWED[layer(mod)]
    ]
    assert not bad, f"{mod} ({layer(mod)}) imports above its layer: {bad}"


def test_the_kernel_does_not_import_the_runtime_package_itself() -> None:
    """`runtime/__init__` is the user layer's: importing it from the kernel would be
    upward (the layer rule above) however it is spelled."""
    for mod, edges in GRAPH.items():
        if layer(mod) != USER:
            assert "runtime" not in [t for t, _, _ in edges], mod


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A circle in `edges`, as a path that starts and ends at one node, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return [*stack[stack.index(m) :], m]
            if m not in state and (found := dfs(m)) is not None:
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if n not in state and (found := dfs(n)) is not None:
            return found
    return None


def test_no_circle_between_layers() -> None:
    edges: dict[str, set[str]] = {}
    for mod, imps in GRAPH.items():
        for target, _, _ in imps:
            if layer(target) != layer(mod):
                edges.setdefault(layer(mod), set()).add(layer(target))
    assert _cycle(edges) is None, edges


def test_no_circle_among_module_level_imports() -> None:
    edges = {
        mod: {t for t, _, at_load in imps if at_load and t != mod and t in GRAPH}
        for mod, imps in GRAPH.items()
    }
    assert _cycle(edges) is None


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


def test_an_upward_import_is_seen(tmp_path: Path) -> None:
    """The walker sees imports inside functions and under TYPE_CHECKING (they count)."""
    src = ROOT / "kernel" / "_probe_for_test.py"
    text = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from ..api import Env\n"
        "def f() -> None:\n    from ..platform import Board\n    import runtime.machine\n"
        "from . import mdb\n"
    )
    src.write_text(text)
    try:
        got = {(t, at_load) for t, _, at_load in imports(src)}
    finally:
        src.unlink()
    assert got == {
        ("runtime.api", False),
        ("runtime.platform", False),
        ("runtime.machine", False),
        ("runtime.kernel.mdb", True),
    }


@pytest.mark.parametrize("mod", sorted(m for m in GRAPH if layer(m) == KERNEL), ids=str)
def test_each_kernel_module_imports_alone(mod: str) -> None:
    """In a fresh interpreter, importing a kernel module loads no module of the runtime
    outside the kernel package (the `runtime` package itself aside: Python runs a
    package's __init__ before its subpackages)."""
    code = (
        "import sys, importlib; importlib.import_module(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.startswith('runtime.')"
        " and not m.startswith('runtime.kernel')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, mod],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT.parent,
    ).stdout.strip()
    assert out == "[]", f"{mod} loads {out}"


def test_modules_import() -> None:
    for mod in GRAPH:
        importlib.import_module(mod)
