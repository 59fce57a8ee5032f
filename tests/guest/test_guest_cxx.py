"""C++ stubs as guest code (issue 18 item 4, docs/cxx-backend.md "Guest flavour"): the
generated C++ client of samples/shapes.idl in a guest calls the Python echo and canvas
servers, a Python client calls the generated C++ dispatch serving in a guest; and the
guest flavour of the NRE headers on its own: the UTCB layout the kernel reads, nested
frames, capacities, every sample and golden IDL compiling warning-free for the guest."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from idlc import cli
from runtime import Machine
from runtime.kernel.utcb import UtcbFrame
from tests.cxx.build import headers, instantiate
from tests.cxx.test_compile import FILES

from .build import CACHE, cxx

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="no g++")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """samples.guest.cxx with the generated Python package `build` it imports."""
    root = tmp_path_factory.mktemp("cxxguest")
    src = [str(ROOT / "samples/echo/echo.idl"), str(ROOT / "samples/shapes.idl")]
    assert cli.main([*src, "-o", str(root / "build")]) == 0
    saved = {k: v for k, v in sys.modules.items() if k == "build" or k.startswith("build.")}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(root))
    try:
        import samples.guest.cxx as mod

        yield mod
    finally:
        sys.path.remove(str(root))
        for k in [k for k in sys.modules if k == "build" or k.startswith("build.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_cxx_guest_client_calls_python_servers(sample: ModuleType) -> None:
    client, _ = sample.build(CACHE)
    assert sample.cxx_calls_python(client) == [
        "cxx-client: exit 0",  # every check of cxx_client.cpp passed (else "FAILED line N")
        "C++ guest: ping -> 'hello from C++', ping('') raised Empty('nothing to echo')",
        "C++ guest: canvas: move, put x3, measure x3, shapes() -> 2 shapes, "
        "NotFound('circle', 404)",
        "C++ guest: watch() -> semaphore: up BAD_CAP, down ok; console().ping -> "
        "'via the canvas'",
        "canvas: C++ was here",  # the oneway log, forwarded by the Python canvas to echo
    ]


def test_python_client_calls_cxx_guest_servers(sample: ModuleType) -> None:
    _, server = sample.build(CACHE)
    assert sample.python_calls_cxx(server) == [
        "py-client: ping('hi') -> 'hi'",
        "py-client: ping('') raised Empty(why='C++ has nothing to echo')",
        "py-client: move(Point(1, 2), 5) -> (Point(x=6, y=2), 'C++ moved it')",
        "py-client: put(tri, 0x1) -> (True, 65), again (False, 66)",
        "py-client: put(empty) raised NotFound(what='empty', code=400)",
        "py-client: put(sq, 0x2) -> (True, 66)",
        "py-client: measure('tri', 1) -> Value(1, -3)",
        "py-client: measure('sq', 2) -> Value(2, 'blue')",
        "py-client: measure('sq', 0) -> Value(0, 5.0)",
        "py-client: measure('circle', 1) raised NotFound(what='circle', code=404)",
        "py-client: shapes() -> [('sq', 4, 'BLUE', 2.5), ('tri', 3, 'GREEN', None)]",
        "py-client: scale -> 0.25",
        "py-client: put('a', 0) -> (True, 64)",
        "py-client: put('b', 0) -> (True, 64)",
        "py-client: put('c', 0) -> E_CAPACITY",
        "py-client: watch() -> semaphore; up() -> BAD_CAP",  # @rights(2): down only
        "py-client: down() returned (the C++ server upped it)",
        "py-client: console() -> EchoClient, ping -> 'via the C++ canvas'",
        "cxx-server: exit 0",  # the "bye" logged to the C++ echo ended its main
    ]


# The guest UtcbFrame writes the page as the kernel reads it: a Python portal at 0x300
# sees the words and items, its reply is read back; a nested frame leaves the outer intact.
FRAMES = r"""
#include <idlc/guest.hpp>

int main(struct utcb *u, word) {
    nre::guest::start(u);
    nre::UtcbFrame outer;
    if (outer.free_untyped() != 253 || outer.free_typed() != 126) return 1;
    outer << 11 << 22;
    outer.delegate(nre::Crd(0x20, 0, nre::Crd::OBJ_ALL), 5);
    {
        nre::UtcbFrame uf;  // nested: starts empty, the outer frame is saved
        if (uf.untyped() || uf.typed()) return 2;
        for (word_t i = 0; i < 253; i++) uf << i * 3;
        uf.translate(nre::Crd(0x21, 0, nre::Crd::OBJ_ALL));
        uf.accept_delegates(1);
        nre::Pt(0x300).call(uf);
        word_t a = 0, b = 0;
        uf >> a >> b;
        if (uf.untyped() != 2 || a != 253 || b != 756 || uf.typed() != 0) return 3;
    }
    if (outer.untyped() != 2 || outer.typed() != 1 || u->mr[1] != 22) return 4;
    if (utcb_item_crd(u, 0) != nre::Crd(0x20, 0, nre::Crd::OBJ_ALL).value()) return 5;
    if (u->del || u->xlt) return 6;  // the nested frame's window went with it
    return 0;
}
"""


def test_guest_utcb_frame_is_the_kernels_page() -> None:
    m = Machine(mem_pages=256)
    py = m.spawn("py")
    seen: list[tuple[list[int], list[tuple[int, int]]]] = []

    def portal(f: UtcbFrame) -> None:
        words = [f.get_word() for _ in range(f.left)]
        items = [f.get_item() for _ in range(f.items_left)]
        seen.append((words, items))
        f.clear()
        f.put_word(len(words))
        f.put_word(words[-1])

    pt = py.portal(portal, cpu=0)
    g = m.spawn_elf("g", cxx(FRAMES))
    py.grant(pt.sel, g, 0x300)
    r = m.run()
    assert ("g", "exit 0") in r.deaths, r
    words, items = seen[0]
    assert words == [i * 3 for i in range(253)]
    assert len(items) == 1 and items[0][1] == 0  # translated: aux 0 (WIRE.md §4)


# Past the frame's capacity the guest flavour traps (ud2; NRE would throw): no #UD portal,
# so the kernel kills the EC.
OVERFLOW = r"""
#include <idlc/guest.hpp>

int main(struct utcb *u, word) {
    nre::guest::start(u);
    nre::UtcbFrame uf;
    for (word_t i = 0; i < %d; i++) uf << i;
    return 0;
}
"""


@pytest.mark.parametrize(("words", "death"), [(253, "exit 0"), (254, "PT not found")])
def test_guest_frame_capacity(words: int, death: str) -> None:
    m = Machine(mem_pages=256)
    m.spawn_elf("g", cxx(OVERFLOW % words))
    assert ("g", death) in m.run().deaths


@pytest.mark.parametrize("idl", FILES)
def test_guest_flavour_compiles_warning_free(idl: str) -> None:
    """Every server dispatch and client of the file in one guest program (-Wall -Wextra
    -Werror, freestanding, no exceptions): it links and exits 0."""
    spec, files = headers(ROOT / idl)
    main = "#include <idlc/guest.hpp>\n" + "".join(f'#include "{h}"\n' for h in files)
    lines = instantiate(spec).splitlines()
    main += "".join(f"{t}\n" for t in lines if "<uint64_t>" in t)  # the guest is x86_64
    main += "int main(struct utcb *u, word) {\n    nre::guest::start(u);\n    return 0;\n}\n"
    m = Machine(mem_pages=256)
    m.spawn_elf("g", cxx(main, files))
    assert ("g", "exit 0") in m.run().deaths
