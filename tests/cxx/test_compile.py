"""Generated C++ compiles warning-free (-Wall -Wextra -Werror, C++11) for the samples, the
benchmark's and the golden IDL: hosted with exceptions, and freestanding without them
(status-code mode), every server dispatch instantiated for both word types."""

from __future__ import annotations

from pathlib import Path

import pytest

from .build import FREESTANDING, HOSTED, compile_cached, headers, instantiate

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "samples/echo/echo.idl",
    "samples/shapes.idl",
    "bench/bench.idl",
    "tests/golden/constructs.idl",
]


@pytest.mark.parametrize("mode", ["hosted", "freestanding"])
@pytest.mark.parametrize("idl", FILES)
def test_compiles_warning_free(idl: str, mode: str) -> None:
    spec, files = headers(ROOT / idl)
    main = "".join(f'#include "{h}"\n' for h in files) + instantiate(spec)
    code, err, _ = compile_cached(files, main, HOSTED if mode == "hosted" else FREESTANDING, False)
    assert code == 0, err


def test_headers_name_only_nre_api() -> None:
    """What the generated code includes: the support header and NRE's own header paths."""
    _, files = headers(ROOT / "samples/shapes.idl")
    includes = {
        line for text in files.values() for line in text.splitlines() if line.startswith("#include")
    }
    assert includes == {
        "#include <idlc/wire.hpp>",
        "#include <Desc.h>",
        "#include <Exception.h>",
        "#include <kobj/Pt.h>",
        "#include <utcb/UtcbFrame.h>",
        '#include "echo_idl.hpp"',
    }
