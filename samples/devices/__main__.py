"""`python -m samples.devices`: generate the stubs into build/, then type one line."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from idlc import cli

ROOT = Path(__file__).resolve().parents[2]


def run() -> int:
    out = ROOT / "build"
    if cli.main([str(ROOT / "samples" / "devices" / "keyboard.idl"), "-o", str(out)]) != 0:
        return 1
    sys.path.insert(0, str(ROOT))
    devices = importlib.import_module("samples.devices.main")
    text = "hello nova\n"
    d = devices.main(text)
    return 0 if d.plat.uart.text == devices.PROMPT + text else 1


if __name__ == "__main__":
    sys.exit(run())
