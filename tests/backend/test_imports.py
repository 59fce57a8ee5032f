"""IDL modules that refer to each other both ways: every generated module (stubs and
strategies) imports first, in a fresh interpreter, whichever it is
(idlc/backends/python/imports.py; docs/python-backend.md, Imports). Before, importing
the outer module of tests/golden/constructs.idl first failed with a circular import."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from idlc.backends.python.imports import evaluated, import_cycle, import_time_aliases, imports_last
from idlc.cli import main as idlc

ROOT = Path(__file__).resolve().parents[2]

# (name, IDL): each has a module using another's names at import time (an enum default, a
# base, a discriminator) while the other uses the first's names inside functions
CASES = [
    (
        "member-enum-and-struct",
        """module o { enum E { X, Y };
             module i { struct P { o::E e; }; };
             struct Q { i::P p; }; };""",
    ),
    (
        "return-of-inner-struct",
        """module o { enum E { X, @value(9) Y };
             module i { struct P { o::E a; ::o::E b; }; };
             interface S { i::P get(); void put(in i::P p); }; };""",
    ),
    (
        "union-discriminator",
        """module o { enum E { X, Y };
             module i { union U switch (o::E) { case X: long a; case Y: double b; }; };
             struct Q { i::U u; sequence<i::U, 3> us; }; };""",
    ),
    (
        "exception-raised-outside",
        """module o { enum E { X, Y };
             module i { exception Bad { o::E why; string<8> what; }; };
             interface S { void f() raises (i::Bad); }; };""",
    ),
    (
        "typedef-and-bound",
        """module o { const long N = 3; enum E { X };
             module i { const long M = o::N + 1; typedef long Row[M];
                        struct P { Row r; o::E e; }; };
             struct Q { i::Row r; i::P p; }; };""",
    ),
    (
        "reopened-siblings",
        """module a { enum E { X, Y }; };
           module b { struct P { a::E e; @optional a::E f; }; };
           module a { struct Q { b::P p; }; interface T { b::P m(in b::P x); }; };""",
    ),
    (
        "interface-inheritance",
        """module o { enum E { X };
             interface Base { E get(); };
             module i { interface Sub : o::Base { void put(in o::E e); }; };
             interface User { i::Sub find(); }; };""",
    ),
    (
        "three-levels",
        """module o { enum E { X, Y };
             module m { struct P { o::E e; };
               module i { struct R { o::m::P p; o::E e; }; }; };
             struct Q { m::i::R r; m::P p; }; };""",
    ),
]

_IMPORT_EACH_FIRST = """
import importlib, sys
bad = []
for name in sys.argv[1:]:
    for k in [k for k in sys.modules if k == "gen" or k.startswith("gen.")]:
        del sys.modules[k]
    try:
        importlib.import_module(name)
    except Exception as e:
        bad.append(f"{name}: {type(e).__name__}: {e}")
print("\\n".join(bad))
"""


@pytest.mark.parametrize(("name", "idl"), CASES, ids=[c[0] for c in CASES])
def test_every_module_imports_first(tmp_path: Path, name: str, idl: str) -> None:
    src = tmp_path / f"{name.replace('-', '_')}.idl"
    src.write_text(idl)
    out = tmp_path / "gen"
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert idlc(["-l", "python", "-o", str(out), str(src)]) == 0, err.getvalue()
    (out / "__init__.py").touch()
    modules = sorted(
        "gen." + str(p.relative_to(out))[:-3].replace(os.sep, ".") for p in out.rglob("*_idl*.py")
    )
    assert len(modules) >= 4  # two IDL modules at least: stubs and strategies of each
    # each one first, and also every order's other end: the list reversed
    for order in (modules, modules[::-1]):
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT_EACH_FIRST, *order],
            cwd=tmp_path,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)])),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "", done.stdout


# (line outside functions, what of it runs at import time)
EVALUATED = [
    ("    a: _m_g.Level = _m_g.Level.LOW", "    a = _m_g.Level.LOW"),
    ("T: _TypeAlias = _m_x.U", "T = _m_x.U"),
    ("    x: _m_a.T", "    x"),
    (
        "    p: _m_o.P = _field(default_factory=lambda: _m_o.P())",
        "    p = _field(default_factory=lambda:)",
    ),
    ('    ("a", lambda _v=_v: _v.a, "I4x"),', '    ("a", lambda _v=_v:, "I4x"),'),
    ("d = {1: lambda x: x, 2: _m_a.Q}", "d = {1: lambda x:, 2: _m_a.Q}"),
    ("x = f(lambda: (_m_a.b,", "x = f(lambda: (_m_a.b,"),  # goes on: kept whole
    ('    "k": _m_a.V,', '    "k": _m_a.V,'),
    ("class S(_m_a.Base):", "class S(_m_a.Base):"),
]


@pytest.mark.parametrize(("line", "want"), EVALUATED)
def test_what_runs_at_import_time(line: str, want: str) -> None:
    assert evaluated(line) == want


def test_the_scan_places_uses_by_indentation() -> None:
    """Uses in function bodies and annotations are late; in class bodies, bases,
    module-level statements and signature defaults they are at import time."""
    text = [
        "class C(_m_base.B):",  # a base
        "    x: _m_ann.T = 0",  # an annotation only
        "    def m(",
        "        self, p: _m_sig.T, q: int = _m_dflt.V",  # a default runs with the def
        "    ) -> _m_ret.T:",
        "        return _m_body.f()",
        "    y = _m_cls.W",  # back in the class body
        "def f() -> _m_ret2.T: ...",
        "Z = [",
        "    _m_list.Z,",  # a module-level list's continuation line
        "]",
    ]
    names = {"_m_base", "_m_ann", "_m_sig", "_m_dflt", "_m_ret", "_m_body", "_m_cls"}
    names |= {"_m_ret2", "_m_list"}
    assert import_time_aliases(text, names) == {"_m_base", "_m_dflt", "_m_cls", "_m_list"}


def test_only_late_imports_move() -> None:
    imports = ["from .. import a_idl as _m_a", "from .. import b_idl as _m_b"]
    text = "\n".join([*imports, "X = _m_a.E.X", "def f():", "    return _m_b.g()", ""])
    got = imports_last(text, imports)
    head, tail = got.split("# Imported last", 1)
    assert imports[0] in head and imports[1] not in head
    assert tail.rstrip().endswith(imports[1])
    assert imports_last(text, []) == text


def test_load_gives_nested_modules_that_refer_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's path: `idlc.load` of the golden IDL (an inner module's struct of the
    outer module's enum) raised AttributeError from a circular import."""
    import idlc as api

    monkeypatch.setenv("IDLC_CACHE_DIR", str(tmp_path))
    m = api.load(ROOT / "tests" / "golden" / "constructs.idl")
    pair = m.inner.Pair()
    assert pair.a is m.Level.LOW and pair.b is m.Level.LOW


# (name, IDL, the cycle the error names): modules that each need the other while imported
CYCLES = [
    (
        "base-and-default",
        """module o { enum E { X };
             module i { struct P { o::E e; }; };
             struct Q : i::P { long v; }; };""",
        "o -> o::i -> o",
    ),
    (
        "base-and-discriminator",
        """module o { enum E { X, Y };
             module i { union U switch (o::E) { case X: long a; }; struct P { long v; }; };
             struct Q : i::P { i::U u; }; };""",
        "o -> o::i -> o",
    ),
    (
        "reopened-siblings-with-a-base",
        """module a { enum E { X }; };
           module b { struct P { a::E e; }; };
           module a { struct Q : b::P { long v; }; };""",
        "a -> b -> a",
    ),
]


@pytest.mark.parametrize(("name", "idl", "cycle"), CYCLES, ids=[c[0] for c in CYCLES])
def test_modules_that_need_each_other_are_an_error(
    tmp_path: Path, name: str, idl: str, cycle: str
) -> None:
    """Such modules cannot be imported in any order: E0901 at a declaration, nothing
    written, where before the output failed at import. The front end accepts the IDL."""
    src = tmp_path / f"{name.replace('-', '_')}.idl"
    src.write_text(idl)
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert idlc(["--check", str(src)]) == 0, err.getvalue()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        assert idlc(["-l", "python", "-o", str(tmp_path / "gen"), str(src)]) == 1
    text = err.getvalue()
    assert f"{src.name}:1:" in text and "error[E0901]" in text, text
    assert f"({cycle}: " in text, text
    assert not (tmp_path / "gen").exists() or not list((tmp_path / "gen").rglob("*.py"))


def test_import_cycle_finds_a_cycle_or_none() -> None:
    assert import_cycle({}) == []
    assert import_cycle({"a": {"b"}, "b": set()}) == []
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c"]
    assert import_cycle({"a": {"a"}}) == ["a"]
    assert import_cycle({"x": {"a"}, "a": {"b"}, "b": {"a"}}) == ["a", "b"]
