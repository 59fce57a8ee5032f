"""Helpers for the runtime tests: a booted machine and syscalls made as one of its PDs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from runtime.kernel import backdoor
from runtime.kernel.kernel import Kernel
from runtime.machine import Machine, Process, pd_of

# Hypothesis budget for the property tests; raise it for a long fuzzing campaign.
FUZZ_EXAMPLES = int(os.environ.get("IDLC_FUZZ_EXAMPLES", "40"))


def sys_as(p: Process, w0: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0) -> int:
    """Make one system call as PD `p` (through its boot shadow EC) and return the status."""
    with p.acting():
        return backdoor(p).syscall(w0, a2, a3, a4, a5)[0]


def out_as(
    p: Process, w0: int, a2: int = 0, a3: int = 0, a4: int = 0, a5: int = 0
) -> tuple[int, int, int]:
    with p.acting():
        return backdoor(p).syscall(w0, a2, a3, a4, a5)


def snapshot(k: Kernel, m: Machine) -> object:
    """Everything a failed system call must leave unchanged."""
    spaces = []
    for p in m.processes:
        for sp in (pd_of(p).obj, pd_of(p).mem, pd_of(p).pio):
            spaces.append(sorted((u, type(n.obj).__name__, n.rights) for u, n in sp.nodes.items()))
    sms = [(s.count, len(s.queue)) for s in k.sms]
    return spaces, sms, len(k.ecs), len(k.scs)


@pytest.fixture
def machine() -> Iterator[Machine]:
    yield Machine(cpus=2)


@pytest.fixture
def proc(machine: Machine) -> Process:
    return machine.spawn("p")
