"""idlc.load, its disk cache and the import hook (docs/python-backend.md, "Loading IDL
in-process")."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import idlc
from idlc import driver
from idlc.importhook import install_import_hook, uninstall_import_hook
from runtime.binding import Client

ROOT = Path(__file__).resolve().parent.parent
ECHO = ROOT / "samples" / "echo" / "echo.idl"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("IDLC_CACHE_DIR", str(where))
    return where


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def forget(m: object) -> None:
    """Drop a loaded package from sys.modules, so the next load reads the disk cache."""
    package = str(vars(m)["__idlc_package__"])
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def test_load_exposes_modules_and_a_single_modules_names() -> None:
    m = idlc.load(ECHO)
    assert m.demo.EchoClient is m.EchoClient
    assert issubclass(m.EchoClient, Client)
    assert m.Empty(why="x").why == "x"
    assert m.__name__ == "echo_idl"
    assert "demo::Echo" in m.INTERFACES
    assert idlc.load(str(ECHO)) is not m  # a fresh facade over the same classes
    assert idlc.load(str(ECHO)).EchoClient is m.EchoClient


# (IDL text, attributes the module has, attributes it must not have)
SHAPES = [
    ("module a { struct S { long x; }; };", ["a.S", "S"], []),
    (
        "module a { struct S { long x; }; }; module b { struct T { long y; }; };",
        ["a.S", "b.T"],
        ["S", "T"],
    ),
    ("struct S { long x; }; module a { struct T { long y; }; };", ["S", "a.T"], ["T"]),
    ("module a { module b { struct S { long x; }; }; };", ["a.b.S", "b.S"], ["S"]),
    ("module class { struct S { long x; }; };", ["class_.S", "S"], []),
]


@pytest.mark.parametrize(("text", "present", "absent"), SHAPES)
def test_names_by_module(tmp_path: Path, text: str, present: list[str], absent: list[str]) -> None:
    m = idlc.load(write(tmp_path / "x.idl", text))
    for dotted in present:
        obj: object = m
        for part in dotted.split("."):
            obj = getattr(obj, part)
        assert isinstance(obj, type), dotted
    for name in absent:
        assert not hasattr(m, name), name


def test_included_files_modules_are_reached_too(tmp_path: Path) -> None:
    write(tmp_path / "inc" / "base.idl", "module base { struct P { long x; }; };")
    main = write(
        tmp_path / "main.idl",
        '#include "base.idl"\nmodule app { struct Q { base::P p; }; };',
    )
    m = idlc.load(main, include=[tmp_path / "inc"])
    assert m.app.Q(m.base.P(1)).p.x == 1
    assert m.Q is m.app.Q  # only app is declared by main.idl itself


def test_defines_select_what_is_compiled(tmp_path: Path) -> None:
    src = write(tmp_path / "d.idl", "module d {\n#ifdef EXTRA\nstruct E { long x; };\n#endif\n};")
    assert not hasattr(idlc.load(src), "E")
    assert hasattr(idlc.load(src, defines={"EXTRA": "1"}), "E")


def test_the_disk_cache_is_used_without_compiling(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write(tmp_path / "c.idl", "module c { struct S { long x; }; };")
    first = idlc.load(src)
    assert list(cache.glob("*/manifest.json"))
    forget(first)

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("compiled again")

    monkeypatch.setattr(driver, "compile_file", refuse)
    again = idlc.load(src)
    assert again.S(3).x == 3
    assert vars(again)["__idlc_package__"] == vars(first)["__idlc_package__"]


def test_a_changed_include_regenerates(tmp_path: Path) -> None:
    inc = write(tmp_path / "inc.idl", "module k { struct A { long x; }; };")
    main = write(tmp_path / "main.idl", '#include "inc.idl"\nmodule k { struct B { A a; }; };')
    before = idlc.load(main)
    assert not hasattr(before.k, "C")
    write(inc, "module k { struct A { long x; }; struct C { long y; }; };")
    after = idlc.load(main)
    assert after.k.C(2).y == 2
    assert vars(after)["__idlc_package__"] != vars(before)["__idlc_package__"]
    write(inc, "module k { struct A { long x; }; };")  # back: the first entry again
    assert vars(idlc.load(main))["__idlc_package__"] == vars(before)["__idlc_package__"]


def test_a_changed_file_regenerates(tmp_path: Path) -> None:
    src = write(tmp_path / "f.idl", "module f { struct S { long x; }; };")
    assert not hasattr(idlc.load(src), "T")
    write(src, "module f { struct S { long x; }; struct T { long y; }; };")
    assert idlc.load(src).T(1).y == 1


# (file name, IDL text or None for a missing file, the codes CompileError carries)
BAD = [
    ("range.idl", "module m { const octet x = 300; };", ["E0302"]),
    ("missing.idl", None, ["E0013"]),
    ("include.idl", '#include "nowhere.idl"\n', ["E0001"]),
]


@pytest.mark.parametrize(("name", "text", "codes"), BAD)
def test_errors_raise_compile_error(
    tmp_path: Path, cache: Path, name: str, text: str | None, codes: list[str]
) -> None:
    src = tmp_path / name if text is None else write(tmp_path / name, text)
    with pytest.raises(idlc.CompileError) as info:
        idlc.load(src)
    assert info.value.codes == codes
    assert all(f"error[{c}]" in str(info.value) for c in codes)
    assert info.value.path == str(src)
    assert not list(cache.glob("*/_idlc_*"))  # nothing cached


def test_warnings_are_python_warnings(tmp_path: Path) -> None:
    src = write(tmp_path / "w.idl", '#warning "careful"\nmodule w { struct S { long x; }; };')
    for again in (False, True, False):  # compiled, in this process, from the disk cache
        with pytest.warns(idlc.IdlWarning, match="careful"):
            m = idlc.load(src)
        if again:
            forget(m)


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from idlc.loader import cache_dir

    monkeypatch.delenv("IDLC_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "/x/cache")
    assert cache_dir() == "/x/cache/idlc"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", "/home/u")
    assert cache_dir() == "/home/u/.cache/idlc"


@pytest.fixture
def hook() -> object:
    yield
    uninstall_import_hook()
    for name in [n for n in sys.modules if n.endswith("_idl")]:
        del sys.modules[name]


@pytest.mark.usefixtures("hook")
def test_import_hook_on_given_paths(tmp_path: Path) -> None:
    write(tmp_path / "kv.idl", "module kv { struct Entry { string key; long value; }; };")
    install_import_hook([tmp_path])
    kv_idl = importlib.import_module("kv_idl")
    assert kv_idl.Entry("a", 1).value == 1
    assert kv_idl.kv.Entry is kv_idl.Entry
    assert kv_idl.__file__ == str(tmp_path / "kv.idl")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("absent_idl")


@pytest.mark.usefixtures("hook")
def test_autoload_uses_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "echo.idl", ECHO.read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("idlc.autoload", None)
    importlib.import_module("idlc.autoload")
    from echo_idl import EchoClient  # type: ignore[import-not-found]

    assert issubclass(EchoClient, Client)


@pytest.mark.usefixtures("hook")
def test_import_hook_reports_compile_errors(tmp_path: Path) -> None:
    write(tmp_path / "broken.idl", "module b { struct S { long x }; };")
    install_import_hook([tmp_path])
    with pytest.raises(idlc.CompileError):
        importlib.import_module("broken_idl")


def test_installed_package_loads_from_any_folder(tmp_path: Path, cache: Path) -> None:
    """The README's promise: with the package installed (.venv: `make venv` installs it,
    not editable), a folder outside the checkout loads IDL in one line."""
    work = tmp_path / "elsewhere"
    write(work / "echo.idl", ECHO.read_text())
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = "import idlc; m = idlc.load('echo.idl'); print(m.EchoClient); " "print(idlc.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    stub, where = out.stdout.splitlines()
    assert stub.startswith("<class '_idlc_") and stub.endswith(".demo.echo_idl.EchoClient'>")
    assert not Path(where).resolve().is_relative_to(ROOT.resolve() / "idlc")
