"""Minimal IDL for Python backend bugs the corpus round trip found: each case generates
into its own package, which must import, be `mypy --strict` clean (one mypy run over all
cases) and pass the round-trip properties of tests/backend/roundtrip.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from runtime.codec import DecodeError, Items

from .roundtrip import check_arbitrary, check_methods, check_types, compile_and_generate, stub_pairs

ROOT = Path(__file__).resolve().parents[2]

CASES: dict[str, str] = {
    # a decoder temporary (t1) shadowed the union t1: 'int' object is not callable
    "temp_shadows_type": """
        union t1 switch (int8) { case -128: char f1; case 1: long f3; };
        struct x1 { t1 a; t1 b; };
        union d switch (long) { case 1: long x; case 2: x1 y; };
    """,
    # frame functions (_fe_/_fd_) called other codecs without `items`/`it`
    "frame_nested_codecs": """
        union U switch (long) { case 1: long a; case 2: double b; };
        struct S { string s; U u; };
        struct T { S s; long n; };
    """,
    # an array of structs defaulted to a list of lambdas
    "array_of_structs": """
        struct P { long x; string s; };
        union V switch (boolean) { case TRUE: long a; };
        struct A { P ps[3]; V vs[2][2]; };
        exception E { P ps[2]; };
    """,
    # two exceptions of one raises list decoded into the same variable
    "raises_two": """
        exception Ex_1 { long a; };
        exception Ex_2 { string b; };
        interface I { long op(in long x) raises (Ex_1, Ex_2); };
    """,
    # members named like builtins or the generated code's imports shadowed them in the
    # class body (hints, defaults); union members named like the generic properties
    "builtin_member_names": """
        struct S {
            string str; long int; boolean bool; octet bytes[4]; sequence<long> list;
            string field; sequence<long> s2; octet o2[3]; double float; string s3;
        };
        struct P { long x; };
        struct A { P str[2]; sequence<P> list; P p; };
        union U switch (long) {
            case 1: string str; case 2: long value; case 3: boolean discriminator;
            case 4: boolean bool; case 5: string s;
        };
        exception E { string str; long int; sequence<long> list; string s; };
        interface I { string str(in string int, in long bool) raises (E); };
    """,
    # ... but defaults must not name a class defined further down at class creation
    "array_default_forward": """
        struct N;
        struct M { @external N n; @external N ns[2]; };
        struct N { long a; };
    """,
    # a type named like the generated code's `import struct`
    "type_named_struct": """
        struct _struct { long a; sequence<long> s; boolean bs[3]; };
        struct starmap { long a; };
        struct Q { sequence<starmap> xs; _struct t; };
    """,
    # an empty sequence of arrays: reshape divided by its length (ZeroDivisionError)
    "empty_sequence_of_arrays": """
        typedef long L4[4];
        typedef octet O3[2][3];
        struct S { sequence<L4> a; sequence<O3, 2> b; };
    """,
    # wchar is a whole word on x86_32: it decoded as an int, unchecked
    "wchar_x86_32": """
        struct W { wchar wc; char c; wchar ws[2]; };
    """,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("regr")
    pkg = root / "regr_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").touch()
    for name, idl in CASES.items():
        src = root / f"{name}.idl"
        src.write_text(idl)
        written, diags = compile_and_generate(src, pkg / name)
        assert written, [str(d) for d in diags.items]
    return root


def _pairs(root: Path, name: str) -> list[tuple[ModuleType, ModuleType]]:
    return stub_pairs(root, f"regr_pkg/{name}")


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(generated: Path, name: str) -> None:
    pairs = _pairs(generated, name)
    assert pairs
    for stub, strat in pairs:
        check_types(stub, strat)
        check_methods(stub, strat)
        check_arbitrary(stub, strat)


def test_mypy_strict_clean(generated: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(tmp_path / "mypy_cache"),
            "-p",
            "regr_pkg",
        ],
        cwd=generated,
        env=dict(os.environ, MYPYPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr


def test_empty_sequence_of_arrays(generated: Path) -> None:
    ((stub, _),) = _pairs(generated, "empty_sequence_of_arrays")
    for sfx in ("64", "32"):
        buf = bytearray()
        getattr(stub, f"_e_S_{sfx}")(stub.S(), buf, [])
        back, _ = getattr(stub, f"_d_S_{sfx}")(bytes(buf), 0, Items([]))
        assert back == stub.S()


def test_wchar_x86_32(generated: Path) -> None:
    ((stub, _),) = _pairs(generated, "wchar_x86_32")
    v = stub.W("\u20ac", "a", ["x", "\U0001f600"])
    for sfx in ("64", "32"):
        buf = bytearray()
        getattr(stub, f"_e_W_{sfx}")(v, buf, [])
        assert getattr(stub, f"_d_W_{sfx}")(bytes(buf), 0, Items([]))[0] == v
    bad = bytearray()
    stub._e_W_32(v, bad, [])
    bad[0:4] = (0xD800).to_bytes(4, "little")  # a surrogate is no code point
    with pytest.raises(DecodeError):
        stub._d_W_32(bytes(bad), 0, Items([]))
