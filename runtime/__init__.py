"""runtime: an emulation of the NOVA microhypervisor's IPC that generated stubs run on.

The names below load lazily, so `import runtime.status` (what generated stubs need) does
not start the kernel's imports. The kernel's core may be compiled in place with mypyc
(`python -m tools.native`, which `make venv` runs); a compiled module older than its
source is refused here, so an edit never runs as stale machine code.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any


def _refuse_stale_native() -> None:
    here = Path(__file__).parent
    for so in (*here.glob("*.so"), *here.glob("*/*.so")):
        src = so.parent / (so.name.split(".", 1)[0] + ".py")
        if src.exists() and src.stat().st_mtime > so.stat().st_mtime:
            rel_so, rel_src = so.relative_to(here.parent), src.relative_to(here.parent)
            raise ImportError(
                f"{rel_so} was compiled before {rel_src} last changed: "
                "run `make venv` to compile it again, or `python -m tools.native --clean` "
                "to run the sources"
            )


_refuse_stale_native()

__all__ = [
    "Context",
    "Crd",
    "CrdType",
    "ErrorCode",
    "Machine",
    "Process",
    "Pt",
    "RemoteError",
    "Sm",
    "Status",
    "SyscallError",
    "UtcbError",
    "UtcbFrame",
]

_WHERE = {
    "Context": "api",
    "Pt": "api",
    "Sm": "api",
    "Crd": "crd",
    "CrdType": "crd",
    "ErrorCode": "status",
    "RemoteError": "status",
    "Status": "status",
    "SyscallError": "status",
    "UtcbError": "status",
    "Machine": "machine",
    "Process": "machine",
    "UtcbFrame": "utcb",
}


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"runtime.{mod}"), name)
