"""Building guest programs for the tests: assembly to flat binaries, C to ELF executables.

Both are compiled with the machine's gcc and cached by the SHA-256 of source and flags
under the temporary folder, so a test run compiles each program once.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
INCLUDE = REPO / "runtime" / "guest" / "include"
CACHE = Path(tempfile.gettempdir()) / "idlc-guest-cache"
CFLAGS = ["-O1", "-ffreestanding", "-nostdlib", "-static", "-fno-pie", "-no-pie"]
CFLAGS += ["-fno-stack-protector", "-fno-asynchronous-unwind-tables", "-mno-red-zone"]


def _cached(key: str, suffix: str) -> tuple[Path, bool]:
    CACHE.mkdir(exist_ok=True)
    out = CACHE / (hashlib.sha256(key.encode()).hexdigest()[:24] + suffix)
    return out, out.exists()


def asm(source: str) -> bytes:
    """Intel-syntax assembly as a flat binary (its .text), position 0."""
    text = ".intel_syntax noprefix\n.text\n" + source + "\n"
    out, hit = _cached(text, ".bin")
    if not hit:
        with tempfile.TemporaryDirectory() as d:
            s, o = Path(d) / "a.s", Path(d) / "a.o"
            s.write_text(text)
            subprocess.run(["gcc", "-c", str(s), "-o", str(o)], check=True)
            tmp = Path(d) / "a.bin"
            subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(o), str(tmp)], check=True)
            tmp.replace(out)
    return out.read_bytes()


def cc(source: str) -> Path:
    """A C program (with runtime/guest/include/nova.h) as a static ELF64 executable."""
    header = (INCLUDE / "nova.h").read_text()
    out, hit = _cached(source + header + " ".join(CFLAGS), ".elf")
    if not hit:
        with tempfile.TemporaryDirectory() as d:
            c = Path(d) / "prog.c"
            c.write_text(source)
            tmp = Path(d) / "prog"
            cmd = ["gcc", *CFLAGS, "-I", str(INCLUDE), str(c), "-o", str(tmp)]
            subprocess.run(cmd, check=True)
            tmp.replace(out)
    return out


def cxx(source: str, headers: dict[str, str] | None = None) -> Path:
    """A C++ program against the guest flavour of the NRE headers and `headers` (generated
    by idlc -l cxx, name -> text) as a static ELF64 executable (docs/cxx-backend.md)."""
    from idlc.backends.cxx.guest import build

    return build(source, headers or {}, CACHE)
