"""The frame fast paths (one Struct per combination of lengths, docs/python-backend.md):
for valid and invalid values and for mutated words, `_fe_T`/`_fd_T` give exactly what
the step-by-step bytes codecs `_e_T`/`_d_T` give (words, values, error path or word)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from runtime.arch import X86_32, X86_64
from runtime.codec import DecodeError, Items, MarshalError
from runtime.utcb import Utcb, UtcbFrame
from tests.backend.roundtrip import imported

ROOT = Path(__file__).resolve().parents[2]

IDL = """
module mff {
  enum Color { RED, GREEN, BLUE };
  struct In { int16 s; char c; };
  struct Mix1 { In inner; sequence<boolean, 5> flags; sequence<Color, 3> colors; uint16 last; };
  struct Mix2 { sequence<octet, 9> raw; string<7> tag; sequence<double, 2> ds; };
  struct Mix3 { sequence<int8, 3> b; sequence<uint16, 5> h; wchar w; boolean ok; };
  struct Empty { };
};
"""
NAMES = ("Mix1", "Mix2", "Mix3", "Call", "Small")


@pytest.fixture(scope="module")
def gen(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("fast")
    idl = root / "mff.idl"
    idl.write_text(IDL + (ROOT / "bench" / "bench.idl").read_text())
    with imported(idl, root, "mff_pkg", "mff.mff_idl", "bench.mff_idl") as mods:
        yield type("G", (), {k: v for m in mods for k, v in vars(m).items()})


def test_fast_paths_are_generated(gen: Any) -> None:
    import inspect

    for name in NAMES:
        for sfx in ("64", "32"):
            assert "zr" in inspect.getsource(getattr(gen, f"_fd_{name}_{sfx}"))
            assert "pack_into" in inspect.getsource(getattr(gen, f"_fe_{name}_{sfx}"))


def _value(g: Any, name: str, rnd: random.Random, bad: bool) -> Any:
    def maybe(good: Any, wrong: Any) -> Any:
        return wrong if bad and rnd.random() < 0.15 else good

    r = rnd.randrange
    if name == "Mix1":
        return g.Mix1(
            g.In(maybe(r(-(2**15), 2**15), 2**15), maybe(chr(r(256)), "Ā")),
            maybe([rnd.random() < 0.5 for _ in range(r(6))], rnd.choice([[True] * 6, [1, 0]])),
            maybe([g.Color(r(3)) for _ in range(r(4))], [1, 7]),
            maybe(r(2**16), -1),
        )
    if name == "Mix2":
        return g.Mix2(
            maybe(bytes(r(256) for _ in range(r(10))), "text"),
            maybe("".join(rnd.choice("aé€x") for _ in range(r(3))), "x" * 8),
            maybe([rnd.random() for _ in range(r(3))], ["1.0"]),
        )
    if name == "Mix3":
        return g.Mix3(
            maybe([r(-128, 128) for _ in range(r(4))], [200]),
            maybe([r(2**16) for _ in range(r(6))], [1] * 6),
            maybe(chr(r(0x10FFFF)).replace("\ud800", "a"), "\ud800"),
            maybe(rnd.random() < 0.5, 1),
        )
    if name == "Call":
        return g.Call(
            maybe(r(2**32), 2**32),
            maybe("".join(rnd.choice("ab€") for _ in range(r(7))), "y" * 17),
            maybe([r(-(2**31), 2**31) for _ in range(r(9))], [0] * 9),
            maybe(rnd.random() < 0.5, None),
        )
    return g.Small(maybe(r(2**32), -1), r(-(2**63), 2**63), maybe(rnd.random() < 0.5, 0))


def _encode(g: Any, name: str, sfx: str, v: Any) -> tuple[str, Any]:
    buf = bytearray()
    try:
        getattr(g, f"_e_{name}_{sfx}")(v, buf, [])
    except MarshalError as e:
        return "error", e.path
    return "words", bytes(buf)


def _decode(g: Any, name: str, sfx: str, data: bytes) -> tuple[str, Any]:
    try:
        v, o = getattr(g, f"_d_{name}_{sfx}")(data, 0, Items(()))
    except DecodeError as e:
        return "error", e.word
    if o != len(data):
        return "error", o // (8 if sfx == "64" else 4)
    return "value", v


@pytest.mark.parametrize("arch", [X86_64, X86_32])
@pytest.mark.parametrize("name", NAMES)
def test_fast_paths_agree_with_the_step_by_step_codecs(gen: Any, arch: Any, name: str) -> None:
    sfx = "64" if arch is X86_64 else "32"
    w = 8 if sfx == "64" else 4
    fe, fd = getattr(gen, f"_fe_{name}_{sfx}"), getattr(gen, f"_fd_{name}_{sfx}")
    rnd = random.Random(f"{name}{sfx}")
    f = UtcbFrame(Utcb(arch))
    for i in range(400):
        v = _value(gen, name, rnd, bad=i % 2 == 1)
        want = _encode(gen, name, sfx, v)
        try:
            fe(v, f)
            got: tuple[str, Any] = ("words", f.get_words(f.left))
        except MarshalError as e:
            got = ("error", e.path)
        assert got == want, v
        if want[0] != "words":
            continue
        data = bytearray(want[1])
        for _ in range(rnd.randrange(3)):  # mutate: flip a byte, cut or add words
            op = rnd.randrange(4)
            if op == 0 and data:
                data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
            elif op == 1 and data:
                del data[-w:]
            elif op == 2:
                data += bytes(w)
            elif data:
                data[rnd.randrange(len(data))] = rnd.choice((0, 1, 2, 0x80, 0xFF))
        f.clear()
        f.put_words(bytes(data))
        try:
            got = ("value", fd(f))
            assert f.left == 0
        except DecodeError as e:
            got = ("error", e.word)
        assert got == _decode(gen, name, sfx, bytes(data)), data.hex()


def test_fast_decoder_rejects_what_hides_in_length_words(gen: Any) -> None:
    import struct

    good = struct.pack("<QQ8sQ4iQ", 1, 5, b"abcde", 3, 1, 2, 3, 0, 1)
    f = UtcbFrame(Utcb())
    f.put_words(good)
    assert gen._fd_Call_64(f) == gen.Call(1, "abcde", [1, 2, 3], True)
    for bad, word in [
        (struct.pack("<QQ8sQ4iQ", 1, 5 | 1 << 40, b"abcde", 3, 1, 2, 3, 0, 1), 1),
        (struct.pack("<QQ8sQ4iQ", 1, 5, b"abcde", 3 | 1 << 8, 1, 2, 3, 0, 1), 3),
        (struct.pack("<QQ8sQ4iQ", 1, 5, b"abcde\0\0\1", 3, 1, 2, 3, 0, 1), 2),
        (struct.pack("<QQ8sQ4iQ", 1, 5, b"abcde", 3, 1, 2, 3, 9, 1), 5),
        (struct.pack("<QQ8sQ4iQ", 1, 5, b"ab\xffde", 3, 1, 2, 3, 0, 1), 2),
    ]:
        f.clear()
        f.put_words(bad)
        with pytest.raises(DecodeError) as e:
            gen._fd_Call_64(f)
        assert e.value.word == word
    f.clear()
    f.put_words(good)
    f.put_item(0, 0)
    with pytest.raises(DecodeError):
        gen._fd_Call_64(f)


def test_empty_struct(gen: Any) -> None:
    f = UtcbFrame(Utcb())
    gen._fe_Empty_64(gen.Empty(), f)
    assert f.left == 0
    assert gen._fd_Empty_64(f) == gen.Empty()
