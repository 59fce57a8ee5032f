"""idlc's pytest plugin, registered through the ``pytest11`` entry point (installed with
the package; docs/testing.md):

- ``nova_machine``: a fresh `runtime.Machine` per test (``@pytest.mark.nova_machine(
  cpus=2, trace=True)`` passes arguments); at teardown it is run (until idle) and the
  test errors when an EC raised or died for any reason but exiting or its PD's
  destruction (``allow_deaths=True`` in the mark allows it);
- ``idl``: `idlc.load` with paths relative to the test file's folder;
- ``idl_strategy(module_or_path, "M::T")``: a type's hypothesis strategy for ``@given``
  (`idlc.testing.idl_strategy`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from idlc.testing import idl_strategy

if TYPE_CHECKING:
    from runtime.machine import Machine

__all__ = ["idl", "idl_strategy", "nova_machine"]

# Deaths that are no failure: an EC that returned, the ECs of a killed process.
NORMAL_DEATHS = frozenset({"exit", "PD destroyed"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nova_machine(**kwargs): the Machine(...) arguments of the nova_machine fixture "
        "(cpus, seed, trace, ...); allow_deaths=True lets ECs die",
    )


@pytest.fixture
def nova_machine(request: pytest.FixtureRequest) -> Iterator[Machine]:
    """A fresh `Machine`; run and checked for dead ECs at teardown."""
    from runtime.machine import ExecutionFault, Machine

    mark = request.node.get_closest_marker("nova_machine")
    kwargs: dict[str, Any] = dict(mark.kwargs) if mark is not None else {}
    allow_deaths = bool(kwargs.pop("allow_deaths", False))
    m = Machine(**kwargs)
    yield m
    try:
        m.run()
    except ExecutionFault as e:
        if not allow_deaths:
            pytest.fail(f"nova_machine: {e} (an EC died of an exception)", pytrace=False)
    dead = [(ec, why) for ec, why in m.k.deaths if why not in NORMAL_DEATHS]
    if dead and not allow_deaths:
        raised = {ec.name: exc for ec, exc in m.k.ec_faults}
        listed = ", ".join(
            f"{ec} ({why}{': ' + repr(raised[ec]) if ec in raised else ''})" for ec, why in dead
        )
        pytest.fail(f"nova_machine: ECs died: {listed}", pytrace=False)


IdlLoader = Callable[..., ModuleType]


@pytest.fixture
def idl(request: pytest.FixtureRequest) -> IdlLoader:
    """``idl("echo.idl", include=(), defines=None)``: `idlc.load`, a relative path taken
    from the test file's folder."""
    from idlc.loader import load

    here = os.path.dirname(str(request.path))

    def loader(
        path: str | os.PathLike[str],
        *,
        include: tuple[str | os.PathLike[str], ...] | list[str | os.PathLike[str]] = (),
        defines: Mapping[str, str] | None = None,
    ) -> ModuleType:
        p = os.fspath(path)
        if not os.path.isabs(p):
            p = os.path.join(here, p)
        dirs = [os.path.join(here, os.fspath(d)) for d in include]  # absolute ones stay
        return load(p, include=dirs, defines=defines)

    return loader
