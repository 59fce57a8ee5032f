"""The keyboard/console sample (samples/devices/) types a line through the whole stack:
scripted key presses, the IRQ-driven driver, the generated Keyboard and Console stubs
and skeletons, the 16550 UART."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from idlc import cli

ROOT = Path(__file__).resolve().parents[2]
IDL = ROOT / "samples" / "devices" / "keyboard.idl"


def _forget() -> None:
    for name in list(sys.modules):
        if name == "build" or name.startswith(("build.", "samples.devices.main")):
            del sys.modules[name]


@pytest.fixture(scope="module")
def devices(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """samples.devices.main, importing `build.dev.keyboard_idl` generated into a temp dir."""
    root = tmp_path_factory.mktemp("devices")
    assert cli.main([str(IDL), "-o", str(root / "build")]) == 0
    _forget()
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("samples.devices.main")
    finally:
        sys.path.remove(str(root))
        _forget()


def test_keyboard_driver_shell_and_uart_console(devices: ModuleType) -> None:
    text = "the quick brown fox 123\n"
    d = devices.make_machine(text)
    r = d.m.run()
    assert d.plat.uart.text == devices.PROMPT + text
    assert d.stats.line == text
    assert r.reason == "idle" and d.m.k.ec_faults == []
    assert d.plat.kbd.overruns == 0
    # every press and release went through the driver; the shell read all but the last break
    assert d.stats.scancodes == 2 * len(text)
    assert d.stats.reads == 2 * len(text) - 1 and d.stats.left == 1
    assert d.stats.writes == 1 + len(text)


def test_uart_sink_sees_what_the_console_transmits(devices: ModuleType) -> None:
    seen: list[str] = []
    d = devices.make_machine("ok\n", seen.append)
    d.m.run()
    assert "".join(seen) == d.plat.uart.text == "> ok\n"
