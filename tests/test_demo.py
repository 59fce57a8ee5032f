"""`make demo` (samples/demo.py) runs end to end: idlc generates the stubs, the echo,
shapes and jobs services and the keyboard driver and UART console run on the emulated
machine, guest code in C and C++ calls (and serves) Python, and the output shows each
step."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _demo(root: Path) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "samples.demo", "--root", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_demo_runs_and_shows_each_step(tmp_path: Path) -> None:
    out = _demo(tmp_path)
    build = tmp_path / "build"
    assert (build / "demo" / "echo_idl.py").is_file()
    assert (build / "shapes" / "shapes_idl.py").is_file()
    assert (build / "jobs" / "jobs_idl.py").is_file()
    assert (build / "dev" / "keyboard_idl.py").is_file()
    for line in [
        "$ idlc samples/echo/echo.idl samples/shapes.idl samples/jobs/jobs.idl -o build/",
        "  client: ping('hi') -> 'hi'",
        "  client: ping('') raised demo.Empty: server said 'nothing to echo'",
        "  [echo-server] log: hello from the client (oneway)",
        "  client-b (CPU 1): ping('from cpu 1') -> 'from cpu 1'",
        "  painter: up() on it -> BAD_CAP (only the down right was sent)",
        "  painter: measure('tri', 2) -> Value(2, 'GREEN')",
        "  painter: measure('circle', 1) raised NotFound(what='circle', code=404)",
        "  painter: shapes() -> [('tri', 3, None), ('sq', 4, 2.5)]",
        "  painter: console() -> EchoClient (an interface reference)",
        "  painter: console.ping('via the canvas') -> 'via the canvas'",
        "  [echo-server] log: canvas: painter was here",
        "  watcher (CPU 1): canvas changed (3)",
        "  QueueServer.accept = 1: a delegate window of 2 selectors, from submit's request",
        "  jobs-server: down() on the client's semaphore -> BAD_CAP",
        "  client: submit('sum-1000', 1000) -> 2 queued before it",
        "  client callback: finished('sum-1000', 500500)",
        "  client: done.down() returned (3 of 3)",
        "== 5. devices: an IRQ-driven keyboard driver and a UART console",
        "$ idlc samples/devices/keyboard.idl -o build/",
        "  wrote build/dev/keyboard_idl.py",
        "  kbd: 22 interrupts, 22 scancodes read from port 0x60",
        "  shell: 21 x Keyboard.read(), 12 x Console.write(), line 'hello nova\\n'",
        "  UART transmitted: '> hello nova\\n'",
        "  run ended: idle, EC faults: 0",
        "== 6. lessons: IPC on NOVA, one small IDL service each (docs/lessons.md)",
        "  wrote build/lessons/inversion_idl.py",
        "  livelock: Countdown's handler calls its own portal: it helps itself 99 times, the "
        "100th attempt kills it",
        "== 7. guest: x86-64 machine code (C) calls the Python echo server",
        "  [echo-server] log: the guest got its echo back",
        "  guest-client: exit 0",
        "== 8. C++ guests: idlc -l cxx stubs calling and serving Python (echo, shapes)",
        "  [echo-server] log: C++ guest: watch() -> semaphore: up BAD_CAP, down ok; "
        "console().ping -> 'via the canvas'",
        "  [echo-server] log: canvas: C++ was here",
        "    cxx-client: exit 0",
        "    py-client: measure('circle', 1) raised NotFound(what='circle', code=404)",
        "    py-client: console() -> EchoClient, ping -> 'via the C++ canvas'",
        "    cxx-server: exit 0",
        "demo done",
    ]:
        assert line in out.splitlines(), f"missing {line!r} in:\n{out}"
    assert "deadlock: True" not in out
    assert "    ipc_per_portal: " in out
    trace = json.loads((build / "echo-trace.json").read_text())
    assert trace["traceEvents"]
    assert len(list(build.glob("lesson-*.json"))) == 5


def test_demo_is_deterministic(tmp_path: Path) -> None:
    a = _demo(tmp_path / "a").replace(str(tmp_path / "a"), "ROOT")
    b = _demo(tmp_path / "b").replace(str(tmp_path / "b"), "ROOT")
    assert a == b
