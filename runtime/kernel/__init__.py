"""The kernel: what the NOVA microhypervisor does (NOVA-NRE.md §1-§6).

Kernel objects (`pd`, `ec`, `sc`, `pt`, `sm`, `kobject`), capability spaces (`space`),
the mapping database (`mdb`), UTCBs and frames (`utcb`), CPUs (`cpu`), the system-call
table (`syscalls`), the delivery of exception, startup and recall messages (`exc`) and
the `Kernel` itself (`kernel`: execution, IPC, scheduling). It imports nothing of the
runtime above it: the platform registers its objects with the kernel (`Kernel.timer`
and `Cpu.lapic`, the interfaces in `timer`; `Kernel.platform`, `Kernel.io_bus`,
`Kernel.phys`), and user code reaches it through system calls.

Nothing is imported here, so `runtime.kernel.status` (what generated stubs need) does not
load the kernel.
"""
