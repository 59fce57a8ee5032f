"""The templates compiled to plain Python (idlc/backends/python/_templates.py, written by
tmplc.py): built from the current .j2 sources, rendering what jinja2 renders, and code
generation imports neither jinja2 nor black."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from idlc.backends.python import _templates, tmplc
from idlc.backends.python.generator import Generator
from idlc.backends.python.names import Naming
from idlc.backends.python.strategies import module as strategies_model
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

ROOT = Path(__file__).resolve().parents[2]
IDL = [
    ROOT / "samples" / "shapes.idl",
    ROOT / "samples" / "echo" / "echo.idl",
    ROOT / "tests" / "golden" / "constructs.idl",
]


def test_compiled_templates_are_built_from_the_current_sources() -> None:
    assert tmplc.sources_digest() == _templates.SOURCES_SHA256, "run `make templates`"
    assert tmplc.OUTPUT.read_text(encoding="utf-8") == tmplc.build(), "run `make templates`"


@pytest.mark.parametrize("idl", IDL, ids=lambda p: p.name)
def test_compiled_templates_render_what_jinja2_renders(idl: Path) -> None:
    env: Any = tmplc.environment()
    diags = Diagnostics()
    result = compile_file(str(idl), Options(), diags)
    assert result.spec is not None and not diags.has_errors
    models = Generator(result.spec, diags).modules()
    assert models
    module = env.get_template(tmplc.TEMPLATES["module"])
    for model in models.values():
        assert _templates.module(model) == module.render(m=model)
    naming = Naming(result.spec)
    strategies = env.get_template(tmplc.TEMPLATES["strategies"])
    for unit in naming.units.values():
        model = strategies_model(result.spec, naming, unit)
        assert _templates.strategies(model) == strategies.render(m=model)


def test_a_missing_attribute_raises_as_strict_undefined_does() -> None:
    with pytest.raises(TypeError):  # neither an attribute nor an item "sources"
        _templates.module(object())
    with pytest.raises(KeyError):
        _templates.strategies({})  # no item "unit"


def test_generation_imports_neither_jinja2_nor_black(tmp_path: Path) -> None:
    code = (
        "import sys; from idlc.cli import main; "
        f"assert main(['-o', {str(tmp_path)!r}, {str(IDL[0])!r}]) == 0; "
        "print(sorted(m for m in ('jinja2', 'black') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert (tmp_path / "shapes" / "shapes_idl.py").is_file()


def test_jinja2_and_black_are_the_tests_dependencies_not_the_packages() -> None:
    """Generation imports neither (above), so the package does not require them."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {Requirement(d).name for d in project["dependencies"]}
    test = {Requirement(d).name for d in project["optional-dependencies"]["test"]}
    assert not names & {"jinja2", "black"}
    assert {"jinja2", "black"} <= test
