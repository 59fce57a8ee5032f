"""The kernel: what the NOVA microhypervisor does (NOVA-NRE.md §1-§6).

Kernel objects (`pd`, `ec`, `sc`, `pt`, `sm`, `kobject`), capability spaces (`space`),
the mapping database (`mdb`), UTCBs and frames (`utcb`), CPUs (`cpu`), the system-call
table (`syscalls`), the delivery of exception, startup and recall messages (`exc`) and
the `Kernel` itself (`kernel`: execution, IPC, scheduling). It imports nothing of the
runtime above it: the platform registers its objects with the kernel (`Kernel.timer`
and `Cpu.lapic`, the interfaces in `timer`; `Kernel.platform`, `Kernel.io_bus`,
`Kernel.phys`), and user code reaches it through system calls, by the gate (`gate`: user
objects hold a `Gate`, never the `Kernel`).

Nothing is imported here, so `runtime.kernel.status` (what generated stubs need) does not
load the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .kernel import Kernel


def backdoor(obj: object) -> Kernel:
    """The kernel behind a gate or an object holding one, for tests and tools
    (`runtime.kernel.gate.backdoor`; docs/runtime.md, "The gate")."""
    from .gate import backdoor as _backdoor

    return _backdoor(obj)
