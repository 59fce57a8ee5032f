"""runtime: an emulation of the NOVA microhypervisor's IPC that generated stubs run on.

The names below load lazily, so `import runtime.status` (what generated stubs need) does
not start the kernel's imports; mypy sees them through the `TYPE_CHECKING` imports, so
`from runtime import Machine` is as typed as `from runtime.machine import Machine`.
`kernel_core()` says whether the kernel's core runs compiled (mypyc, at the package
build: docs/runtime.md "The compiled core") or interpreted; `import runtime` refuses a
compiled core built from other sources than those beside it, or compiled in part
(`runtime.kernel.native`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from runtime.kernel.native import kernel_core

if TYPE_CHECKING:
    from runtime.api import Context, Pt, Sm, cap, current
    from runtime.crd import Crd, CrdType
    from runtime.machine import Machine, Process, UnrunMachineWarning
    from runtime.status import (
        ErrorCode,
        NotInEcError,
        RemoteError,
        Status,
        SyscallError,
        UtcbError,
    )
    from runtime.utcb import UtcbFrame

kernel_core()  # checks the compiled core before anything imports it

__all__ = [
    "Context",
    "Crd",
    "CrdType",
    "ErrorCode",
    "Machine",
    "NotInEcError",
    "Process",
    "Pt",
    "RemoteError",
    "Sm",
    "Status",
    "SyscallError",
    "UnrunMachineWarning",
    "UtcbError",
    "UtcbFrame",
    "cap",
    "current",
    "kernel_core",
]

_WHERE = {
    "Context": "api",
    "Pt": "api",
    "Sm": "api",
    "cap": "api",
    "current": "api",
    "Crd": "crd",
    "CrdType": "crd",
    "ErrorCode": "status",
    "NotInEcError": "status",
    "RemoteError": "status",
    "Status": "status",
    "SyscallError": "status",
    "UtcbError": "status",
    "Machine": "machine",
    "Process": "machine",
    "UnrunMachineWarning": "machine",
    "UtcbFrame": "utcb",
}


def __getattr__(name: str) -> object:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(f"runtime.{mod}"), name)
