"""The compiled core (setup.py, runtime/kernel/native.py, docs/runtime.md "The compiled core"):
what `make` builds is what runs; a core compiled from other sources, or in part, is
refused; the package build carries the compiled modules, installs the sources only where
there is no C compiler, and fails on a mypyc error."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import runpy
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

import runtime
from runtime.kernel import native
from runtime.kernel.native import CORE, GROUP, RECORD

REPO = Path(__file__).resolve().parents[2]
_NATIVE = os.environ.get("IDLC_NATIVE")
SO = EXTENSION_SUFFIXES[0]  # what this interpreter builds and imports first


@pytest.mark.skipif(_NATIVE is None, reason="IDLC_NATIVE is not set (`make test` sets it)")
def test_the_core_runs_compiled_exactly_when_make_built_it() -> None:
    """`make test` (NATIVE=1) imports every core module as the extension module `make
    venv` put beside its source, and the benchmarks measure that; NATIVE=0 the sources."""
    compiled = _NATIVE == "1"
    assert runtime.kernel_core() == ("compiled" if compiled else "interpreted")
    for m in CORE:
        path = Path(str(importlib.import_module(f"runtime.kernel.{m}").__file__))
        assert path.parent == REPO / "runtime" / "kernel", path
        assert path.name == m + (SO if compiled else ".py"), path
    assert (REPO / "runtime" / "kernel" / RECORD).exists() == compiled
    # one build: the modules beside the sources are those of the package in this venv
    installed = importlib.metadata.distribution("idlc")
    for m in (*(f"runtime/kernel/{m}" for m in CORE), f"{GROUP}__mypyc"):
        beside = REPO / (m + SO)
        assert beside.exists() == compiled, beside
        there = Path(str(installed.locate_file(m + SO)))
        assert there.exists() == compiled, there
        assert not compiled or beside.read_bytes() == there.read_bytes(), m


def _kernel(tmp_path: Path, *, compiled: list[str]) -> Path:
    """A runtime/kernel/ with every core source, and extension modules for `compiled`
    and their record as a build leaves them."""
    kernel = tmp_path / "runtime" / "kernel"
    kernel.mkdir(parents=True)
    for m in CORE:
        (kernel / f"{m}.py").write_text(f"NAME = {m!r}\n")
    for m in compiled:
        (kernel / (m + SO)).write_bytes(b"")
    if compiled:
        (tmp_path / f"{GROUP}__mypyc{SO}").write_bytes(b"")
        (kernel / RECORD).write_text(native.record(kernel))
    return kernel


def test_a_core_built_from_these_sources_is_compiled(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, compiled=list(CORE))
    assert native.check(kernel) == "compiled"
    (kernel / "sm.py").touch()  # a newer file with the same text: still what was compiled
    assert native.check(kernel) == "compiled"
    (kernel / "sm.py").unlink()  # no source beside the module: nothing to compare
    assert native.check(kernel) == "compiled"
    assert sorted(native.artefacts(kernel)) == sorted(
        [*(kernel / (m + SO) for m in CORE), tmp_path / f"{GROUP}__mypyc{SO}", kernel / RECORD]
    )


def test_sources_alone_are_interpreted(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, compiled=[])
    assert native.check(kernel) == "interpreted"
    assert native.artefacts(kernel) == []
    for m in CORE:  # another Python's modules are not imported here
        (kernel / f"{m}.cpython-399-x86_64-linux-gnu.so").write_bytes(b"")
    assert native.check(kernel) == "interpreted"


def test_an_edited_source_is_refused(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, compiled=list(CORE))
    with (kernel / "pd.py").open("a") as f:
        f.write("# edited\n")
    with pytest.raises(ImportError, match=r"runtime/kernel/pd\.py changed after it was compiled"):
        native.check(kernel)


def test_a_core_compiled_in_part_is_refused(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, compiled=[m for m in CORE if m not in ("ec", "mdb")])
    with pytest.raises(ImportError, match=r"compiled core lacks ec\.py, mdb\.py"):
        native.check(kernel)


def test_a_core_without_its_record_is_refused(tmp_path: Path) -> None:
    kernel = _kernel(tmp_path, compiled=list(CORE))
    (kernel / RECORD).unlink()
    with pytest.raises(ImportError, match=rf"runtime/kernel/{RECORD} is missing.*make venv"):
        native.check(kernel)


# --- the package build ---------------------------------------------------------------


def _name(req: Requirement) -> str:
    return req.name.lower().replace("_", "-")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            req = Requirement(line)
            pins[_name(req)] = str(req.specifier).removeprefix("==")
    return pins


def test_the_build_pins_the_lock_and_the_package_asks_for_ranges() -> None:
    """[build-system] requires the lock's exact versions (mypyc's output depends on
    them); the package's dependencies are ranges the lock's versions satisfy."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    lock = _lock()
    build = [Requirement(r) for r in project["build-system"]["requires"]]
    assert {r.name for r in build} >= {"setuptools", "mypy", "greenlet"}
    for r in build:
        assert str(r.specifier) == f"=={lock[_name(r)]}", r
    deps = project["project"]["dependencies"]
    deps += [d for ds in project["project"]["optional-dependencies"].values() for d in ds]
    for d in map(Requirement, deps):
        assert not any(s.operator == "==" for s in d.specifier), d
        assert d.specifier.contains(lock[_name(d)]), (d, lock[_name(d)])


@pytest.fixture
def setup_py(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """setup.py's functions, without running setup()."""
    monkeypatch.delenv("IDLC_NATIVE", raising=False)
    return runpy.run_path(str(REPO / "setup.py"), run_name="idlc_setup")


def test_without_a_c_compiler_the_build_installs_the_sources(
    setup_py: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert setup_py["missing_toolchain"]().startswith("no C compiler ('/nonexistent/cc'")
    assert setup_py["core_extensions"]() == []
    assert "installed as Python sources" in capsys.readouterr().err
    monkeypatch.setenv("IDLC_NATIVE", "1")  # asked to compile: an error, not the sources
    with pytest.raises(SystemExit, match="IDLC_NATIVE=1, but no C compiler"):
        setup_py["core_extensions"]()


def test_the_build_compiles_the_core_where_it_can(
    setup_py: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    if _NATIVE == "1":  # `make` compiled the core: this machine can
        assert setup_py["missing_toolchain"]() is None
    if setup_py["missing_toolchain"]() is None:
        names = [e.name for e in setup_py["core_extensions"]()]
        assert names == [*(f"runtime.kernel.{m}" for m in CORE), f"{GROUP}__mypyc"]
    monkeypatch.setenv("IDLC_NATIVE", "0")
    assert setup_py["core_extensions"]() == []


@pytest.fixture
def compiler(setup_py: dict[str, Any]) -> None:
    why = setup_py["missing_toolchain"]()
    if why is not None:
        pytest.skip(f"this machine cannot compile the core: {why}")


def _sources(dest: Path, *, cache: bool = False) -> Path:
    """The package's sources, without anything a build left beside them, in `dest`; with
    `cache`, also the checkout's build/ work (what `make venv` compiled), so that a
    build reuses whatever is up to date there instead of compiling it again."""
    skip = shutil.ignore_patterns("__pycache__", "*.so", RECORD)
    for d in ("idlc", "runtime", "scripts"):
        shutil.copytree(REPO / d, dest / d, ignore=skip)
    for f in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(REPO / f, dest / f)
    for work in (REPO / "build").glob("*") if cache else []:
        if work.name == "mypyc" or work.name.startswith(("lib.", "temp.")):
            shutil.copytree(work, dest / "build" / work.name)  # mtimes kept: still up to date
    return dest


def _build_wheel(src: Path, out: Path, **env: str) -> Path:
    """`pip wheel` of `src` with the build dependencies of this venv (no network)."""
    environ = {k: v for k, v in os.environ.items() if k != "IDLC_NATIVE"} | env
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    r = subprocess.run(
        [*cmd, "-w", str(out), str(src)], capture_output=True, text=True, env=environ
    )
    assert r.returncode == 0, r.stdout + r.stderr
    (wheel,) = out.glob("idlc-*.whl")
    return wheel


_CALL = """
import importlib, json, runtime
from runtime.api import Pt
from runtime.machine import Machine

def echo(f):
    words = [f.get_word() + 1 for _ in range(f.left)]
    f.finish_input()
    f.put_words(words)

m = Machine()
srv, cli = m.spawn("srv"), m.spawn("cli")
pt = srv.portal(echo)
srv.grant(pt.sel, cli, 0x777)
got = []

@cli
def main(ctx):
    p = Pt(ctx.gate, 0x777)
    with p.frame() as f:
        f.put_words([1, 2, 3])
        p.call(f)
        got.append(f.words())

m.run()
mods = [importlib.import_module("runtime.kernel." + n).__file__ for n in runtime.kernel.native.CORE]
print(json.dumps({"core": runtime.kernel_core(), "files": mods, "got": got}))
"""


def _install_and_call(wheel: Path, venv: Path) -> dict[str, Any]:
    """Install `wheel` into a new venv at `venv` and run a portal call there, from a
    folder outside the checkout."""
    import greenlet  # type: ignore[import-untyped]

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run([*pip, "--no-deps", str(wheel)], check=True)
    # the one dependency the call needs, without the network: this venv's greenlet
    deps = venv / "deps"
    deps.mkdir()
    (deps / "greenlet").symlink_to(Path(greenlet.__file__).parent)
    (site,) = (venv / "lib").glob("python3.*/site-packages")
    (site / "deps.pth").write_text(f"{deps}\n")
    r = subprocess.run(
        [str(python), "-I", "-c", _CALL], cwd=venv, capture_output=True, text=True, check=False
    )
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    assert out["got"] == [[2, 3, 4]]
    assert all(f.startswith(str(site / "runtime" / "kernel")) for f in out["files"]), out
    return out


@pytest.mark.timeout(900)
@pytest.mark.usefixtures("compiler")
def test_pip_wheel_carries_the_compiled_core(tmp_path: Path) -> None:
    """`pip wheel .` of the sources carries the extension modules and their record (the
    build compiles them, or finds them up to date in the copy of build/ when the core has
    not changed since `make venv`); installed in a fresh venv, the core runs compiled
    from there."""
    wheel = _build_wheel(_sources(tmp_path / "src", cache=True), tmp_path / "dist")
    assert "-cp3" in wheel.name and not wheel.name.endswith("-none-any.whl"), wheel.name
    names = set(zipfile.ZipFile(wheel).namelist())
    for n in CORE:
        assert f"runtime/kernel/{n}{SO}" in names, n
    assert f"{GROUP}__mypyc{SO}" in names
    assert f"runtime/kernel/{RECORD}" in names
    out = _install_and_call(wheel, tmp_path / "venv")
    assert out["core"] == "compiled"
    assert all(f.endswith(SO) for f in out["files"]), out


@pytest.mark.timeout(600)
def test_without_a_c_compiler_the_wheel_holds_the_sources(tmp_path: Path) -> None:
    wheel = _build_wheel(_sources(tmp_path / "src"), tmp_path / "dist", CC="/nonexistent/cc")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "runtime/kernel/kernel.py" in names
    assert not [n for n in names if n.endswith(".so") or n.endswith(RECORD)], names
    out = _install_and_call(wheel, tmp_path / "venv")
    assert out["core"] == "interpreted"
    assert all(f.endswith(".py") for f in out["files"]), out


@pytest.mark.timeout(600)
@pytest.mark.usefixtures("compiler")
def test_a_mypyc_error_fails_the_build(tmp_path: Path) -> None:
    """Never the sources instead: the build stops, naming the error."""
    src = _sources(tmp_path / "src")
    with (src / "runtime" / "kernel" / "sm.py").open("a") as f:
        f.write('\n\nBROKEN: int = "not an int"\n')
    environ = {k: v for k, v in os.environ.items() if k != "IDLC_NATIVE"}
    r = subprocess.run(
        [sys.executable, "setup.py", "--quiet", "build_ext"],
        cwd=src,
        capture_output=True,
        text=True,
        env=environ,
    )
    assert r.returncode != 0
    assert "runtime/kernel/sm.py" in r.stdout + r.stderr and "error" in r.stdout + r.stderr
    assert not list((src / "build").rglob("*.so"))


def test_the_docs_name_the_core_that_is_compiled() -> None:
    """README and docs/runtime.md list the modules; runtime.kernel.native.CORE is the list."""
    readme = " ".join((REPO / "README.md").read_text().split())
    listed = readme.split("runtime/kernel/{", 1)[1].split("}.py", 1)[0]
    assert [m.strip() for m in listed.split(",")] == list(CORE)
    doc = " ".join((REPO / "docs" / "runtime.md").read_text().split())
    section = doc.split("### The compiled core", 1)[1].split("###", 1)[0]
    assert all(f"`{m}`" in section or f"{m}.py" in section for m in CORE)
