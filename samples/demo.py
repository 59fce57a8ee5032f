"""`make demo`: generate typed stubs with idlc, then run services on the emulated NOVA
machine (DESIGN.md, "What using it should feel like").

1. `idlc samples/echo/echo.idl samples/shapes.idl -o build/` writes the package `build`
   (`build.demo.echo_idl`, `build.shapes.shapes_idl`).
2. samples/echo/main.py: an echo server implementing the generated Protocol, clients on
   two CPUs connecting by name: a call, a user exception, a oneway call; stats and a
   Perfetto trace.
3. samples/shapes/main.py: structs, a union, sequences, @optional, a semaphore capability
   and an interface reference that arrives as a typed client stub.
4. samples/jobs/main.py: a client hands a job server a semaphore (up right only) and a
   callback interface in a request; the skeleton's receive window comes from the IDL.
5. samples/devices/main.py: `idlc samples/devices/keyboard.idl -o build/`, then an
   IRQ-driven PS/2 keyboard driver serving the IDL-defined Keyboard, a console serving
   Console through the 16550 UART, and a shell that reads scripted key presses through
   Keyboard and echoes them to the console; prints what the UART transmitted.
6. samples/lessons/: the lecture's IPC lessons, one small IDL service each (priority
   inversion and time donation, helping, the livelock, a page fault fixed by a handler),
   each in two lines, with a Perfetto trace per run (docs/lessons.md).
7. samples/guest/main.py: a C program compiled to x86-64 calls the Python echo server.
8. samples/guest/cxx.py: `idlc -l cxx` stubs compiled for the guest: a C++ client calls
   the Python echo and canvas servers, a Python client calls C++ servers of the same IDL.

`python -m samples.demo [--root DIR]` writes DIR/build (default: the repository root).
Everything is seeded: two runs print the same thing.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from idlc import cli

HERE = Path(__file__).resolve().parent
SOURCES = [HERE / "echo" / "echo.idl", HERE / "shapes.idl", HERE / "jobs" / "jobs.idl"]
DEVICES = [HERE / "devices" / "keyboard.idl"]


def generate(out: Path, sources: list[Path]) -> None:
    rel = [str(p.relative_to(HERE.parent)) for p in sources]
    print(f"$ idlc {' '.join(rel)} -o {out.name}/", flush=True)
    status = cli.main([*map(str, sources), "-o", str(out)])
    if status != 0:
        raise SystemExit(f"idlc failed with status {status}")
    for f in sorted(out.rglob("*_idl.py")):
        if not any(f.name == f"{p.stem}_idl.py" for p in sources):
            continue
        print(f"  wrote {f.relative_to(out.parent)}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE.parent, help="where build/ goes")
    args = ap.parse_args(argv)
    out = args.root.resolve() / "build"

    print("== 1. generate the stubs")
    generate(out, SOURCES)
    sys.path.insert(0, str(out.parent))  # `import build.demo.echo_idl`
    echo = importlib.import_module("samples.echo.main")
    shapes = importlib.import_module("samples.shapes.main")
    jobs = importlib.import_module("samples.jobs.main")

    print("\n== 2. echo: a server, two clients, Machine(cpus=2)")
    trace = out / "echo-trace.json"
    m = echo.main(str(trace))
    print("  m.stats():")
    for key, value in m.stats().items():
        print(f"    {key}: {json.dumps(value)}")

    print("\n== 3. shapes: structs, unions, sequences, optional, capabilities")
    shapes.main()

    print("\n== 4. jobs: a semaphore and a callback from the client to the server")
    jobs.main()

    print("\n== 5. devices: an IRQ-driven keyboard driver and a UART console")
    generate(out, DEVICES)
    devices = importlib.import_module("samples.devices.main")
    devices.main()

    print("\n== 6. lessons: IPC on NOVA, one small IDL service each (docs/lessons.md)")
    lessons = importlib.import_module("samples.lessons")
    generate(out, [HERE / "lessons" / f"{name}.idl" for name in lessons.LESSONS])
    traces = lessons.show(list(lessons.LESSONS), out)
    print(f"  traces: {', '.join(str(t.relative_to(out.parent)) for t in traces)}")

    print("\n== 7. guest: x86-64 machine code (C) calls the Python echo server")
    importlib.import_module("samples.guest.main").main(out, str(out / "guest-trace.json"))

    print("\n== 8. C++ guests: idlc -l cxx stubs calling and serving Python (echo, shapes)")
    importlib.import_module("samples.guest.cxx").main(out)

    print("\ndemo done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
