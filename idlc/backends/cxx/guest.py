"""Building C++ guest programs against the guest flavour of the NRE headers
(docs/cxx-backend.md, "Guest flavour"): generated headers, `include/guest` (UtcbFrame on
the EC's UTCB page, Pt::call as NOVA's call), the host stand-ins for the rest and
runtime/guest/include/nova.h. Compiled with the machine's g++ once per content into a
cache directory, like the `idlc wire --backend cxx` harness."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from . import INCLUDE
from .wire import _compiler_id, _support_text

__all__ = ["FLAGS", "GuestBuildError", "build"]

NOVA_H = Path(__file__).resolve().parents[3] / "runtime" / "guest" / "include"
FLAGS = ["-std=c++11", "-O1", "-Wall", "-Wextra", "-Werror", "-ffreestanding", "-nostdlib"]
FLAGS += ["-static", "-fno-pie", "-no-pie", "-fno-exceptions", "-fno-rtti", "-mno-red-zone"]
FLAGS += ["-fno-threadsafe-statics", "-fno-stack-protector", "-fno-asynchronous-unwind-tables"]


class GuestBuildError(RuntimeError):
    """g++ refused the program: its message."""


def include_dirs() -> list[str]:
    """The guest flavour first, so its utcb/UtcbFrame.h and kobj/Pt.h win."""
    return [os.path.join(INCLUDE, "guest"), os.path.join(INCLUDE, "nre"), INCLUDE, str(NOVA_H)]


def build(source: str, headers: dict[str, str], cache: Path) -> Path:
    """The static x86-64 executable of C++ `source` beside the generated `headers`
    (name -> text), from `cache` when the same content was compiled before."""
    h = hashlib.sha256()
    nova = (NOVA_H / "nova.h").read_text(encoding="utf-8")
    for part in (source, *sorted(headers.items()), _support_text(), nova, _compiler_id(), *FLAGS):
        h.update(str(part).encode())
    where = cache / ("g" + h.hexdigest()[:32])
    exe = where / "prog"
    if exe.exists():
        return exe
    where.mkdir(parents=True, exist_ok=True)
    for name, text in headers.items():
        (where / name).write_text(text, encoding="utf-8")
    (where / "prog.cpp").write_text(source, encoding="utf-8")
    inc = [a for d in [str(where), *include_dirs()] for a in ("-I", d)]
    tmp = where / f"prog.{os.getpid()}.tmp"  # parallel test workers may race here
    cmd = ["g++", *FLAGS, *inc, str(where / "prog.cpp"), "-o", str(tmp)]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise GuestBuildError(run.stderr)
    tmp.replace(exe)
    return exe
