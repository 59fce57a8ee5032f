"""Compile C++ for the tests once per content: a stamp (or binary) in IDLC_CXX_CACHE keyed
by the hash of the sources, the support headers and the command."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from idlc import ir
from idlc.backends.cxx import INCLUDE, render
from idlc.backends.cxx.names import Naming
from idlc.backends.cxx.wire import _compiler_id, _support_text, cache_dir
from idlc.diagnostics import Diagnostics

from .helpers import spec_of

HOSTED = ["-std=c++11", "-Wall", "-Wextra", "-Werror"]
FREESTANDING = [*HOSTED, "-ffreestanding", "-fno-exceptions", "-fno-rtti", "-nostdlib"]


def compile_cached(
    files: dict[str, str], main: str, flags: list[str], link: bool
) -> tuple[int, str, str]:
    """(status, output or error text, binary path) of compiling ``main`` beside ``files``."""
    h = hashlib.sha256()
    for part in (main, *sorted(files.items()), _support_text(), _compiler_id(), *flags, link):
        h.update(str(part).encode())
    where = Path(cache_dir()) / ("t" + h.hexdigest()[:32])
    stamp = where / "ok"
    exe = where / "a.out"
    if stamp.exists():
        return 0, "", str(exe)
    where.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (where / name).write_text(text)
    (where / "main.cpp").write_text(main)
    cmd = [
        "g++",
        *flags,
        "-I",
        INCLUDE,
        "-I",
        os.path.join(INCLUDE, "nre"),
        str(where / "main.cpp"),
    ]
    cmd += ["-o", str(exe)] if link else ["-fsyntax-only"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode == 0:
        stamp.write_text("")
    return run.returncode, run.stderr, str(exe)


def headers(idl: Path) -> tuple[ir.Specification, dict[str, str]]:
    spec = spec_of(idl)
    diags = Diagnostics()
    files = render(spec, diags)
    assert files, [str(d) for d in diags.items]
    return spec, files


def instantiate(spec: ir.Specification) -> str:
    """Explicit instantiations of every server dispatch for both word types."""
    n = Naming(spec)
    out = []
    for d in spec.declarations:
        if isinstance(d, ir.Interface):
            q = n.qual(d.name)
            for w in ("uint64_t", "uint32_t"):
                out.append(
                    f"template void {q}Server::dispatch<{w}>({q} &, const {w} *, size_t, "
                    f"const {w} *, size_t, ::idlc::Out<{w}> &);"
                )
    return "\n".join(out) + "\n"
