"""C++ client -> UTCB page -> C++ server and back on the host (the stand-in nre::Pt runs the
handler): results, declared exceptions, NRE error codes, a reply over its bound, a
delegated capability each way, in both error modes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .build import HOSTED, compile_cached, headers

ROOT = Path(__file__).resolve().parents[2]


def _run(flags: list[str]) -> list[str]:
    _, files = headers(ROOT / "samples/shapes.idl")
    main = (Path(__file__).parent / "loopback.cpp").read_text()
    code, err, exe = compile_cached(files, main, flags, True)
    assert code == 0, err
    return subprocess.run([exe], capture_output=True, text=True, check=True).stdout.splitlines()


def test_exceptions_mode() -> None:
    assert _run(HOSTED) == [
        "ping hello",
        "Empty nothing",
        "log a line",
        "clear",
        "move -2 4 moved",
        "put 1 13",
        "NotFound none 7",
        "measure -5 blue 0.5",
        "error 14 no nine",
        "error 19 an undeclared exception",
        "error 19 longer than its bound",
        "watch 12 11",  # @rights(2): only SM_DN (Crd bit 3) of SM_UP | SM_DN survives
        "console 40",
        "scale 2.5",
    ]


@pytest.mark.parametrize("extra", [["-fno-exceptions"]])
def test_status_code_mode(extra: list[str]) -> None:
    assert _run([*HOSTED, *extra]) == ["ping 0 hello", "ping 256 nothing", "log a line"]
