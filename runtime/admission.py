"""Root's SC service, NRE's `Admission` (NOVA-NRE.md §7, §8.2): children hold their PD
capability without CREATE_SC, as NRE gives it (SRV_INIT hands a child "its PD (without
PD_SC)"), so every SC of a child is made by root, which decides its priority.

Protocol on each PD's own portal at BLOCK*cpu + SRV_SC (0x28), for a global EC of the
calling PD on that CPU (NRE's `Sc::START`):
- START 1, name (string), cpu, qpd; one delegated item: the global EC (it lands in the
  service EC's one-selector window). Reply: E_SUCCESS, the qpd used, and the SC delegated
  (hotspot 0); or an error code + message.

Policy (NRE's root leaves a TODO there): a child's SCs never get a priority above its
ceiling, `Process.max_prio`: what `Machine.spawn(max_prio=...)` says, else the highest
priority its parent gave one of its threads. A higher request is lowered to the ceiling
and the reply says so (the qpd used), as NRE's reply carries the qpd.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .api import LocalThread, Syscalls
from .kernel.crd import ALL, CrdType, PdRights, crd, crd_base, crd_type
from .kernel.ec import Ec
from .kernel.status import ErrorCode
from .kernel.syscalls import qpd
from .kernel.utcb import UtcbFrame
from .services import drop_portals, get_string, guard, one_slot, put_error, service_sel

if TYPE_CHECKING:
    from .machine import Machine, Process

__all__ = ["CHILD_PD_RIGHTS", "SRV_SC", "START", "Admission"]

SRV_SC = 0x28
CREATE, START, STOP = 0, 1, 2  # NRE's Sc::Command; only START is served
CHILD_PD_RIGHTS = ALL & ~PdRights.CREATE_SC  # what NRE gives a child


class Admission:
    """Root's SC service: one local EC per CPU, a portal per client and CPU."""

    def __init__(self, m: Machine) -> None:
        self.m = m
        self.clients: dict[int, Process] = {}  # portal id -> client
        self.windows: dict[int, int] = {}  # cpu -> the service EC's window
        self.threads: dict[int, LocalThread] = {}
        self.ips: dict[int, int] = {}
        self.held: dict[int, Process] = {}  # root's copies of children's ECs and SCs
        root = m.root
        for cpu in range(m.cpus):
            with root.acting():
                lt = LocalThread(root.env, cpu)
                self.windows[cpu] = root.env.alloc()
            lt.utcb.dele = crd(CrdType.OBJ, self.windows[cpu])
            self.threads[cpu] = lt
            serve = one_slot(root.env, self.windows, cpu, self._start)
            self.ips[cpu] = m.gate.register_code(guard(serve, m.gate), in_pd=False)

    def add_client(self, proc: Process) -> None:
        """Root makes `proc` its SC portal on every CPU (the portal id names the client)."""
        root = self.m.root
        for cpu, lt in self.threads.items():
            with root.acting():
                sel = root.env.alloc()
                Syscalls(self.m.gate).create_pt(sel, lt.sel, self.ips[cpu])
            self.clients[sel] = proc
            root.grant(sel, proc, service_sel(cpu, SRV_SC))

    def drop_client(self, proc: Process) -> None:
        """After root killed `proc`: its SC portals and root's copies of its ECs and SCs go."""
        drop_portals(self.m, self.clients, proc)
        drop_portals(self.m, self.held, proc)

    def boot_start(self, proc: Process, ec_sel: int, sc_sel: int, prio: int, quantum: int) -> None:
        """The parent's own setup before `run` (no IPC yet): root takes the child's EC,
        makes its SC with the priority it chose (which raises the child's ceiling) and
        delegates the SC to the child at `sc_sel`."""
        root = self.m.root
        with root.acting():
            ec_in_root, sc_in_root = root.env.alloc(), root.env.alloc()
        proc.grant(ec_sel, root, ec_in_root)
        with root.acting():
            Syscalls(self.m.gate).create_sc(sc_in_root, ec_in_root, prio, quantum)
        root.grant(sc_in_root, proc, sc_sel)
        self.held.update({ec_in_root: proc, sc_in_root: proc})
        proc.max_prio = max(proc.max_prio, prio)

    # -- the service EC: one START ----------------------------------------------------------
    def _start(self, f: UtcbFrame, win: int) -> bool:
        client = self.clients.get(f.pid)
        cmd = f.get_word()
        get_string(f, 256)  # the thread's name (NRE logs it)
        cpu, q = f.get_word(), f.get_word()
        item, aux = f.get_item()
        f.finish_input()
        if client is None or cmd != START:
            put_error(f, ErrorCode.E_ARGS_INVALID, "unknown command")
            return False
        from .machine import pd_of  # root's own view of its capabilities (the Machine's)

        node = pd_of(self.m.root).obj.nodes.get(win)
        ec = None if node is None else node.obj
        if (
            crd_type(item) != CrdType.OBJ
            or not aux & 1
            or crd_base(item) != win
            or not isinstance(ec, Ec)
            or ec.pd is not pd_of(client)  # only an EC of the calling PD
        ):
            put_error(f, ErrorCode.E_ARGS_INVALID, "no global EC of the caller")
            return False
        if ec.cpu != cpu:
            put_error(f, ErrorCode.E_CPU, f"the EC runs on CPU {ec.cpu}")
            return False
        prio, quantum = min(q & 0xFF, client.max_prio), q >> 12
        root = self.m.root
        sc = root.env.alloc()
        Syscalls(self.m.gate).create_sc(sc, win, prio, quantum)  # SyscallError: an error reply
        self.held.update({win: client, sc: client})
        f.put_word(ErrorCode.E_SUCCESS)
        f.put_word(qpd(prio, quantum))
        f.delegate(crd(CrdType.OBJ, sc))
        return True
