"""The precompiled regular expressions (idlc/regex.py, idlc/_patterns.py): the same as
re.compile's, current, and enough that `idlc --check` never imports re or enum."""

from __future__ import annotations

import _sre  # type: ignore[import-not-found]
import re
import subprocess
import sys
from pathlib import Path

import pytest

from idlc import _patterns, regex

ROOT = Path(__file__).resolve().parents[1]
SAME_ENGINE = (_sre.MAGIC, _sre.CODESIZE, sys.byteorder) == _patterns.ENGINE
needs_engine = pytest.mark.skipif(
    not SAME_ENGINE, reason="_patterns.py was made for another regex engine (it falls back)"
)


def _python(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return out.stdout


@pytest.mark.parametrize("key", sorted(_patterns.PATTERNS), ids=lambda k: repr(k[0][:30]))
def test_precompiled_equals_compiled(key: tuple[str, int]) -> None:
    pattern, flags = key
    assert regex.compile(pattern, flags) == re.compile(pattern, flags)


@needs_engine
def test_table_is_current() -> None:
    text = _python("import idlc.regex as r; print(r._build(), end='')")
    current = (ROOT / "idlc" / "_patterns.py").read_text(encoding="utf-8")
    assert text == current, "idlc/_patterns.py is stale: run `make patterns`"


@needs_engine
def test_check_imports_neither_re_nor_enum(tmp_path: Path) -> None:
    idl = tmp_path / "small.idl"
    idl.write_text(
        '#pragma prefix "omg.org"\n#define N 4\nmodule m { struct S { long a[N]; string t; };'
        " interface I { void f(in S s); }; };\n#pragma keylist m::S a\n",
        encoding="utf-8",
    )
    out = _python(
        "import sys\n"
        "from idlc.cli import main\n"
        f"status = main(['--check', {str(idl)!r}])\n"
        "from idlc import regex\n"
        "print(status, sorted({'re', 'enum', 'typing'} & set(sys.modules)), regex.fallbacks)\n"
    )
    assert out.split("\n")[0] == "0 [] []"


@pytest.mark.parametrize(
    ("names", "line", "found"),
    [
        (["N"], "long a[N];", True),
        (["N"], "long NN;", False),
        (["N"], "N", True),
        (["FOO", "N"], "x_N FOO_", False),
        (["FOO"], "a FOO_ FOO", True),
        ([f"M{i}" for i in range(20)], "x M13;", True),  # many names: one alternation
        ([f"M{i}" for i in range(20)], "x M130;", False),
    ],
)
def test_macro_word_finder(names: list[str], line: str, found: bool) -> None:
    from idlc.preprocess import _WordFinder

    assert _WordFinder(sorted(names, key=len, reverse=True)).search(line) is found
