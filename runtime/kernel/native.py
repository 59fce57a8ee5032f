"""Which kernel core runs: the one mypyc compiled, or its Python sources.

The package build (`setup.py`, docs/runtime.md "The compiled core") compiles the modules
of `runtime/kernel/` named in `CORE` with mypyc when a C compiler is there: `pip install
.`, `pip wheel .` and `make venv` (which also copies them beside the sources of the
checkout). The extension modules sit next to their sources, where the import system
prefers them; the code of all of them is one library beside the `runtime` package
(`<GROUP>__mypyc.*.so`, where mypyc looks for it). `RECORD`, next to the modules, holds
the SHA-256 of each source they were compiled from, in `sha256sum`'s format. `import
runtime` checks it (`check`), so an edited source never runs as stale machine code, and
a core that is compiled only in part never runs.

This module imports nothing of the runtime: `setup.py` loads it on its own, and
`runtime/__init__.py` imports it to check the core before anything else is imported.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Literal

# The modules of runtime/kernel/ that are compiled: the kernel and the objects every
# portal call reads and writes. They go together: compiled code reaches the attributes
# of compiled objects directly (the kernel compiled alone is slower than interpreted).
CORE = (
    "kernel",
    "ec",
    "pt",
    "utcb",
    "cpu",
    "sc",
    "sm",
    "pd",
    "kobject",
    "space",
    "mdb",
    "gate",  # the system-call gate: compiled, its closures expose no kernel (gate.py)
    "wirestr",  # the generated codecs' string helpers: compiled, cheaper than inline
)
GROUP = "runtime_native"  # runtime_native__mypyc.*.so, next to runtime/: the core's code
RECORD = "_core.sha256"  # runtime/kernel/_core.sha256: what that code was compiled from
KERNEL = Path(__file__).resolve().parent

Core = Literal["compiled", "interpreted"]


def digest(source: Path) -> str:
    import hashlib  # only a compiled core is checked: the sources run without it

    return hashlib.sha256(source.read_bytes()).hexdigest()


def record(kernel: Path) -> str:
    """The text of RECORD for the sources in `kernel` as they are now."""
    return "".join(f"{digest(kernel / f'{m}.py')}  {m}.py\n" for m in CORE)


def artefacts(kernel: Path) -> list[Path]:
    """What a build of the core left in `kernel` (the modules, RECORD) and beside the
    package (the library)."""
    found = [kernel / (m + s) for m in CORE for s in EXTENSION_SUFFIXES]
    found += [kernel.parent.parent / f"{GROUP}__mypyc{s}" for s in EXTENSION_SUFFIXES]
    return [p for p in (*found, kernel / RECORD) if p.exists()]


def _compiled(kernel: Path, module: str) -> bool:
    return any((kernel / (module + s)).exists() for s in EXTENSION_SUFFIXES)


def check(kernel: Path = KERNEL) -> Core:
    """Which core the modules in `kernel` make, or ImportError when it must not run:
    compiled in part, or compiled from sources other than those beside it."""
    compiled = [m for m in CORE if _compiled(kernel, m)]
    if not compiled:
        return "interpreted"
    where = f"{kernel.parent.name}/{kernel.name}"
    remedy = (
        ": compile it again (`make venv` in the checkout, else install the package again), "
        "or run the sources (`make NATIVE=0 venv`, which removes the compiled modules)"
    )
    if len(compiled) < len(CORE):
        missing = ", ".join(f"{m}.py" for m in CORE if m not in compiled)
        raise ImportError(f"{where}: the compiled core lacks {missing}{remedy}")
    try:
        text = (kernel / RECORD).read_text()
    except OSError:
        raise ImportError(f"{where}/{RECORD} is missing{remedy}") from None
    built = {name: sha for sha, _, name in (line.partition("  ") for line in text.splitlines())}
    for m in CORE:
        src = kernel / f"{m}.py"
        if src.exists() and built.get(src.name) != digest(src):
            raise ImportError(f"{where}/{src.name} changed after it was compiled{remedy}")
    return "compiled"


_CORE: Core | None = None


def kernel_core() -> Core:
    """'compiled' when the kernel's core runs as the extension modules mypyc built,
    'interpreted' when it runs from its Python sources (no C compiler at install time,
    IDLC_NATIVE=0, `make NATIVE=0`)."""
    global _CORE
    if _CORE is None:
        _CORE = check()
    return _CORE
