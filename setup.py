"""The package build: pyproject.toml has the metadata; this compiles the kernel's core.

The modules runtime/kernel/native.py names (CORE) are compiled with mypyc (docs/runtime.md,
"The compiled core") into the wheel, so `pip install .` and `pip wheel .` carry them; `make
venv` also copies them beside the sources (`python setup.py build_ext --inplace`, which
reuses what the wheel's build compiled in build/). IDLC_NATIVE chooses:

    unset  compile when this machine can build C extensions: a C compiler (CC) and
           Python's headers; without them install the sources and say so on stderr
    1      compile, and fail without a C compiler or Python's headers
    0      install the sources only (runtime.kernel_core() says "interpreted")

A mypyc or compiler error always fails the build: it never falls back to the sources.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import sysconfig
from pathlib import Path
from types import ModuleType
from typing import Any

from setuptools import Extension, setup  # type: ignore[import-untyped]
from setuptools.command.build_ext import build_ext  # type: ignore[import-untyped]

HERE = Path(__file__).resolve().parent
MYPYC_DIR = "build/mypyc"  # the generated C, rewritten only when it changes


def _load_native() -> ModuleType:
    """runtime/kernel/native.py on its own (importing the package would check the core)."""
    path = HERE / "runtime" / "kernel" / "native.py"
    spec = importlib.util.spec_from_file_location("_idlc_native", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


native = _load_native()


def missing_toolchain() -> str | None:
    """Why C extensions cannot be built here, or None when they can."""
    from setuptools._distutils import ccompiler
    from setuptools._distutils import sysconfig as dist_sysconfig
    from setuptools._distutils.errors import DistutilsPlatformError

    cc: Any = ccompiler.new_compiler()
    dist_sysconfig.customize_compiler(cc)
    if hasattr(cc, "compiler_so"):  # unix, mingw, cygwin: the configured commands
        for what, argv in (("C compiler", cc.compiler_so), ("linker", cc.linker_so)):
            if not argv or shutil.which(argv[0]) is None:
                name = argv[0] if argv else "none configured"
                return f"no {what} ({name!r} not found; CC and LDSHARED choose it)"
    else:  # MSVC: finds Visual C++ or raises
        try:
            cc.initialize()
        except DistutilsPlatformError as e:
            return f"no C compiler ({e})"
    include = Path(sysconfig.get_path("include"))
    if not (include / "Python.h").exists():
        return f"no Python headers ({include / 'Python.h'} not found)"
    return None


def core_extensions() -> list[Extension]:
    """Placeholders for the compiled core's extension modules (BuildCore runs mypyc when
    it builds them), or none: the sources are installed."""
    mode = os.environ.get("IDLC_NATIVE", "")
    if mode not in ("", "0", "1"):
        raise SystemExit(f"IDLC_NATIVE={mode!r}: expected 0, 1 or nothing")
    if mode == "0":
        return []
    why = missing_toolchain()
    if why is not None:
        if mode == "1":
            raise SystemExit(f"IDLC_NATIVE=1, but {why}")
        print(
            f"idlc: {why}: the kernel's core is installed as Python sources "
            "(runtime.kernel_core() says 'interpreted')",
            file=sys.stderr,
        )
        return []
    # the names of what mypycify will return: BuildCore fills in the rest
    names = [*(f"runtime.kernel.{m}" for m in native.CORE), f"{native.GROUP}__mypyc"]
    return [Extension(n, []) for n in names]


class BuildCore(build_ext):  # type: ignore[misc]
    """build_ext that runs mypyc only when it builds (pip's metadata steps finalize it
    too, and mypyc's analysis takes seconds), records what it compiled and, in place,
    first removes whatever an earlier build left beside the sources."""

    def run(self) -> None:
        kernel = HERE / "runtime" / "kernel"
        if self.inplace:
            for p in native.artefacts(kernel):
                p.unlink()
        record = ""
        if self.extensions:
            from mypyc.build import mypycify

            record = native.record(kernel)  # before mypyc reads them: never too new
            real = {
                e.name: e
                for e in mypycify(
                    [f"runtime/kernel/{m}.py" for m in native.CORE],
                    group_name=native.GROUP,
                    target_dir=MYPYC_DIR,
                )
            }
            if sorted(real) != sorted(e.name for e in self.extensions):
                raise SystemExit(f"mypyc built {sorted(real)}, not the core's modules")
            for ext in self.extensions:  # keep what finalize_options derived from the names
                done = vars(ext)
                for k, v in vars(real[ext.name]).items():
                    if not (k.startswith("_") and k in done):
                        setattr(ext, k, v)
        super().run()
        if record:
            for root in [Path(self.build_lib), *([HERE] if self.inplace else [])]:
                (root / "runtime" / "kernel" / native.RECORD).write_text(record)


if __name__ == "__main__":
    # `idlc` is a script rather than a [project.scripts] entry point: see scripts/idlc.
    setup(
        ext_modules=core_extensions(),
        cmdclass={"build_ext": BuildCore},
        scripts=["scripts/idlc"],
    )
