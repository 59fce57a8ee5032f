"""Generated code: imports, is mypy --strict clean, and runs on the runtime end to end
(samples/echo/echo.idl)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from idlc.backends.python import generate
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").rglob("*.idl"))
CONFORMANCE = Path(os.environ.get("IDLC_CONFORMANCE", "/nonexistent"))


def _gen(idl: Path, out: Path) -> Diagnostics:
    diags = Diagnostics()
    result = compile_file(str(idl), Options(), diags)
    assert result.spec is not None
    assert generate(result.spec, str(out), diags)
    return diags


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gen")
    pkg = root / "gen_pkg"
    pkg.mkdir()
    for idl in SAMPLES:
        _gen(idl, pkg)
    # the fixed-size calls' interface (every shape their stubs and skeletons take)
    from tests.test_fixed_calls import IDL as FIXED

    (root / "fixed.idl").write_text(FIXED)
    _gen(root / "fixed.idl", pkg)
    if CONFORMANCE.is_dir():
        for vec in sorted(CONFORMANCE.glob("*.json")):
            sub = pkg / f"conf_{vec.stem}"
            sub.mkdir()
            src = root / f"{vec.stem}.idl"
            src.write_text(json.loads(vec.read_text())["idl"])
            _gen(src, sub)
    return root


def test_generated_code_imports(generated: Path) -> None:
    sys.path.insert(0, str(generated))
    try:
        for f in sorted((generated / "gen_pkg").rglob("*_idl.py")):
            rel = f.relative_to(generated).with_suffix("")
            importlib.import_module(".".join(rel.parts))
    finally:
        sys.path.remove(str(generated))


def test_generated_code_is_mypy_strict_clean(generated: Path) -> None:
    env = dict(os.environ, MYPYPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            "-p",
            "gen_pkg",
        ],
        cwd=generated,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_echo_end_to_end(generated: Path) -> None:
    from runtime import Machine
    from runtime.api import Context
    from runtime.status import ErrorCode, RemoteError

    sys.path.insert(0, str(generated))
    try:
        demo: Any = importlib.import_module("gen_pkg.demo.echo_idl")
    finally:
        sys.path.remove(str(generated))

    lines: list[str] = []

    class EchoImpl:
        def ping(self, text: str) -> str:
            if not text:
                raise demo.Empty(why="nothing to echo")
            if text == "boom":
                raise RuntimeError("undeclared")
            if text == "big":
                return "x" * 65  # above the bound of the reply: the reply does not encode
            return text

        def log(self, line: str) -> None:
            lines.append(line)
            raise RuntimeError("a oneway failure is only logged")

    m = Machine(cpus=2)
    server = m.spawn("echo-server")
    skeleton = demo.EchoServer(EchoImpl())
    server.serve("echo", skeleton, cpus=[0, 1], accept=skeleton.accept)
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        echo = demo.EchoClient(ctx.connect("echo"))
        results.append(echo.ping("hi"))
        try:
            echo.ping("")
        except demo.Empty as e:
            results.append(e.why)
        for text in ("boom", "big"):
            try:
                echo.ping(text)
            except RemoteError as e:
                results.append(e.code)
        echo.log("a line")
        # an unknown opcode and a request that does not decode
        pt = ctx.connect("echo")
        for words in ([1 << 16 | 77], [1 << 16 | 0, 1000]):
            with pt.frame() as f:
                for w in words:
                    f.put_word(w)
                pt.call(f)
                results.append(f.get_word())

    r = m.run()
    assert results == [
        "hi",
        "nothing to echo",
        ErrorCode.E_FAILURE,
        ErrorCode.E_FAILURE,
        ErrorCode.E_NOT_FOUND,
        ErrorCode.E_ARGS_INVALID,
    ]
    assert lines == ["a line"]
    assert r.blocked == []
