"""The keyboard/console sample (samples/devices.py) types a line through the whole stack."""

from __future__ import annotations

from samples.devices import build


def test_keyboard_driver_shell_and_uart_console() -> None:
    text = "the quick brown fox 123\n"
    m, plat = build(text)
    r = m.run()
    assert plat.uart.text == text
    assert r.reason == "idle" and m.k.ec_faults == []
    assert plat.kbd.overruns == 0
