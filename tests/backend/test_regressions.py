"""Minimal IDL for Python backend bugs the corpus round trip found: each case generates
into its own package, which must import, be `mypy --strict` clean (one mypy run over all
cases) and pass the round-trip properties of tests/backend/roundtrip.py."""

from __future__ import annotations

import ast
import builtins
import contextlib
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from runtime.arch import X86_32, X86_64
from runtime.codec import DecodeError, Items
from runtime.utcb import Utcb, UtcbFrame

from .roundtrip import (
    check_arbitrary,
    check_methods,
    check_types,
    compile_and_generate,
    run,
    stub_modules,
    stub_pairs,
)

ROOT = Path(__file__).resolve().parents[2]

_DENSE = (
    "union I8 switch (int8) {"
    + "".join(f" case {i}:" for i in range(-128, 128) if i not in (45, 99))
    + " default: long a; };\n"
    + "union U8 switch (octet) {"
    + "".join(f" case {i}:" for i in range(1, 256))
    + " long a; };\n"
    + "union C8 switch (char) {"
    + "".join(f" case '\\x{i:02x}':" for i in range(1, 255))
    + " long a; default: string b; };\n"
    + "union Z8 switch (octet) {"
    + "".join(f" case {i}:" for i in range(256))
    + " default: long a; };\n"
    + "union W switch (wchar) { case L'a': case L'b': long a; default: string b; };\n"
    + "struct S { I8 i; U8 u; C8 c; Z8 z; W w; };\n"
)

# names::-like, for names taken by IDL types: see "idl_names_shadow_types" below
_SHADOW = """
module shadow {
  struct r { long a; };
  enum K { A, B };
  bitmask F { f1, f2 };
  typedef long T;
  struct p_x { long y; };
  struct ID { long i; };
  struct value { long v; };
  struct make_b { long q; };
  exception e { r r; K K; F F; T T; K k2; F f2; T t2; r rs[2]; K ks[2]; };
  exception X2 { ID i; };
  union U switch (K) { case A: long K; case B: r r; };
  union V switch (long) {
    case 1: K K; case 2: F F; case 3: K other; case 4: F f2; default: T T;
  };
  union W switch (long) { case 1: value a; case 2: make_b b; case 3: T t; };
  struct s { r r; K K; K k2; F F; F f2; T T; T t2; r rs[2]; K ks[2]; F fs[2]; };
  interface accept { long ping(in long x); };
  interface I {
    ::shadow::r e(in ::shadow::r r);
    ::shadow::r r(in ::shadow::r x) raises (::shadow::e);
    ::shadow::K K(in ::shadow::K T, out ::shadow::F F);
    ::shadow::F F(in ::shadow::F K, inout ::shadow::T T);
    ::shadow::T T(in ::shadow::T F, in ::shadow::K K, in ::shadow::r r)
      raises (::shadow::e, ::shadow::X2);
    attribute ::shadow::r rr;
    string s(in ::shadow::s U, in string r, out ::shadow::K K);
    ::shadow::p_x op(in ::shadow::p_x x);
    ::shadow::U U(in ::shadow::U V, in ::shadow::V s);
    ::shadow::I IClient(in ::shadow::I IServer);
  };
};
module other { struct q { ::shadow::K K; ::shadow::K k2; ::shadow::F F; ::shadow::F f2; }; };
"""

# IDL names that Python or the generated classes already define (docs/python-backend.md,
# Naming): see "reserved_names" below
_RESERVED = """
module rsv {
  enum E {
    name, value, mro, real, imag, numerator, denominator, conjugate, bit_length, bit_count,
    to_bytes, from_bytes, as_integer_ratio, is_integer, from, from_, name_
  };
  bitmask F { name, value, mro, real, to_bytes, from, from_ };
  const E CE = ::rsv::value;
  struct S { long from; long from_; E name; F value; };
  struct S2 : S { long class; long from__; };
  exception X { long args; long with_traceback; long add_note; long ID; long args_; E e; };
  union U switch (long) {
    case 1: long a; case 2: long make_a; case 3: long discriminator; case 4: long value;
    case 5: E make_value_; default: long from;
  };
  union W switch (E) {
    case name: long mro; case value: F real; case from: S2 s; default: long name;
  };
  interface I {
    long METHODS(in long from, in long from_, in E value);
    E op(in E name, out F value, inout S2 s) raises (X);
    attribute long args;
  };
  interface J : I {
    void METHODS_(in long self, in long cls);
    U u(in U un, in W w) raises (X);
  };
  interface K { typedef long T; };
  typedef short K_T;
  struct def { long x; };
  struct def_ { K_T k; K::T t; };
};
"""

_DIAMOND = """
module dia {
  interface R { long base(in long x); };
  interface A : R { long METHODS(in long a); };
  interface B : R { string METHODS_(in string b); };
  interface C : A, B { long own(in long y); };
  interface D : C { void METHODS__(in long z); };
  interface P { long x(in long v); };
  interface Q : P { long METHODS(in long v); };
  interface S { double METHODS_(in double v); };
  interface T : Q, S { };
};
"""

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
        struct S { string str; U u; };
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
    # a float word holding a signalling NaN decoded (quieted: 0x7f800001 re-encoded as
    # 0x7fc00001), so decoders accepted words no encoder produces
    "float_snan": """
        struct F { float v; };
        struct G { long a; float gf; sequence<float, 4> fs; double d; };
        struct H { float arr[3]; sequence<float> fs; sequence<F> ff; F one; };
    """,
    # a member of an empty final struct in a frame fast path: its run has no values, so
    # the substitution pattern was "" (KeyError: '', the XTypes MinimalTypeDetail)
    "empty_final_struct_member": """
        @final struct E {};
        @final struct S { E e; long x; };
        @appendable struct T { long a; E e; };
        @final struct U { E e; };
    """,
    # types named like the codecs' parameters and locals (b, it, buf, items, f, u, err,
    # eid, st, s, end, k, v, o; now _-prefixed) were shadowed by them; in module `names`:
    # declarations named like the builtins and imports the generated code used (len,
    # range, cast, dataclass, Crd, ...; now private aliases) and like the skeleton's and
    # codecs' other locals (args, r, e, w, a1, crd, flags, other; now _-prefixed), members
    # named like decorators (property), parameters named like what a client method body
    # uses (isinstance, BaseException, the client class JClient)
    "type_named_like_decoder_parameter": """
        struct b { long x; };
        struct it { long y; };
        struct buf { string s; };
        struct items { sequence<long> z; };
        struct f { long x; };
        struct u { string t; };
        struct H {
            b inner; sequence<b> bs; string s; it i; sequence<it> its; buf bu; items im;
            sequence<buf> bus; items ims[2]; f ff; u uu;
        };
        struct Fs { f ff; long n; };
        struct Us { u uu; sequence<f> fs; };
        struct err { string m; sequence<u> us; };
        struct eid { long x; };
        struct st { wstring w; };
        struct E3 { err e; sequence<err> es; eid i; st s; };
        struct end { long x; };
        struct s { long x; };
        struct k { long x; };
        struct E4 { end e; sequence<s> ss; k kk; string t; sequence<k> ks; };
        struct v { long x; string y; };
        struct E5 { v a; sequence<v> vs; v arr[2]; };
        struct o { long x; };
        union W switch (long) { case 1: v a; case 2: string t; case 3: o oo; };
        struct E6 { o a; sequence<o> os; o arr[2]; string t; };
        union Var switch (long) {
            case 1: b one; case 2: string s; case 3: it i; case 4: buf bu; case 5: items im;
        };
        exception X { b why; it i; buf bu; items im; };
        interface I {
            b op(in b a, out b c, inout it d) raises (X); oneway void ow(in b a, in it i);
            buf op2(in items a, out buf c, inout items d) raises (X);
            st op3(in err a, out eid c) raises (X);
        };
        module names {
            struct dataclass { long x; };
            enum IntEnum { ie1, ie2 };
            bitmask IntFlag { if1, if2 };
            struct TYPE_CHECKING { long x; };
            struct ClassVar { long x; };
            struct Protocol { string s; };
            typedef long TypeAlias;
            struct cast { string s; };
            struct Crd { long x; };
            struct Pt { long x; };
            struct UtcbFrame { long x; };
            struct annotations { long x; };
            typedef string len;
            typedef sequence<long> range;
            struct bytearray { long x; };
            struct frozenset { long x; };
            enum set { s1, s2 };
            struct enumerate { long x; };
            struct all { long x; };
            struct sum { float f; };
            struct chr { char c; };
            struct type { long x; };
            struct isinstance { long x; };
            struct property { long x; };
            struct classmethod { long x; };
            struct NotImplemented { long x; };
            struct BaseException { long x; };
            struct AttributeError { long x; };
            struct TypeError { long x; };
            struct ValueError { long x; };
            struct OverflowError { long x; };
            struct IndexError { long x; };
            struct UnicodeError { long x; };
            struct UnicodeDecodeError { long x; };
            struct INTERFACES { long x; };
            struct r { long x; };
            struct x { long y; };
            struct n { long x; };
            struct a { long x; };
            struct q { long x; };
            struct flags { long x; };
            struct other { long x; };
            struct accept { long x; };
            struct translate { long x; };
            struct a1 { long x; };
            struct Big {
                dataclass d; IntEnum ie; IntFlag ifl; TYPE_CHECKING tc; ClassVar cv;
                Protocol pr; TypeAlias ta; cast c; Crd cr; Pt pt; UtcbFrame uf;
                annotations an; len l; range rg; bytearray ba; frozenset fs; set st;
                sequence<set> sts; enumerate en; all al; sum sm; chr ch; type ty;
                isinstance ii; property pp; classmethod cm; NotImplemented ni;
                BaseException be; AttributeError ae; TypeError te; ValueError ve;
                OverflowError oe; IndexError ie2; UnicodeError ue; UnicodeDecodeError ude;
                INTERFACES ifs; r rr; x xx; n nn; a aa; q qq; flags fl; other ot;
                accept ac; translate tr; a1 a11; sequence<r> rs; sequence<x, 3> xs;
                x xa[2]; sequence<boolean, 4> bs; sequence<char> cs; sequence<wchar> ws;
                sequence<float, 3> fls; sequence<IntEnum, 2> ies; boolean bz[3];
                wstring wst; string<5> s5; @optional x ox; @optional n on;
            };
            struct Small {
                string<8> s; sequence<set, 2> e; sequence<boolean, 2> b;
                sequence<float, 2> f; long k; sequence<octet, 3> o;
            };
            union Un1 switch (set) { case s1: long property; case s2: string classmethod; };
            union Un2 switch (long) {
                case 1: cast cast_; case 2: x x_; case 3: long range; default: string len_;
            };
            exception args {
                long range; x xs[2]; sequence<long> super; string type; IntEnum isinstance;
            };
            exception e { r rr; };
            exception w { long len; };
            typedef long w_t;
            interface J {
                r op(in len isinstance, in long BaseException, in J JClient, out w_t o)
                    raises (args, e, w);
                J echo(in J JClient, in J range, out J isinstance);
                oneway void ow(in long args, in long r);
                void none(in long e) raises (args);
            };
        };
    """,
    # union decoders kept `_x: object` and a `type: ignore[arg-type]` on the result that
    # mypy found unused where it narrowed _x through every branch (an enum fully covered)
    "union_decoder_narrowing": """
        enum D { d1, d2 };
        struct S1 { long a; string t; };
        struct S2 { string s; };
        union U switch (D) { case d1: S1 one; case d2: S2 two; };
        union V switch (long) { case 1: S1 one; case 2: @optional S2 two; };
    """,
    # an @optional member of all-scalar struct type was read as `_v.p.a` in run_error's
    # lambdas, where mypy does not narrow the attribute (Item "None" has no attribute)
    "optional_flat_struct_member": """
        struct P { octet a; long b; };
        struct S { long x; @optional P p; @optional P q; };
        union W switch (long) { case 1: @optional P p; case 2: long n; };
        exception E { @optional P p; };
    """,
    # a union whose members are all capabilities (or interfaces, through a typedef too)
    # cast _v to the type it already has: a redundant cast
    "union_of_capabilities": """
        interface I { void ping(); };
        typedef I TI;
        union C switch (long) { case 1: nova::Semaphore s; case 2: nova::Portal p; };
        union R switch (long) { case 1: I a; case 2: TI b; };
        union M switch (long) { case 1: I a; case 2: long n; };
        struct H { C c; R r; M m; };
    """,
    # a default case with a label of its own, every enumerator a label: make_e_def's _d
    # defaulted to the int 0, and reading e_def with _d=Enum3 raised AttributeError
    "enum_default_with_label": """
        enum Enumeration { Enum1, Enum2, Enum3 };
        union A switch (Enumeration) {
            case Enum1: long e_enum1; case Enum2: long e_enum2;
            case Enum3: default: long e_def;
        };
        union B switch (Enumeration) { case Enum1: long a; default: string s; };
        union Ch switch (char) { case 'a': long a; case 'b': default: string b; };
    """,
    # an exception's array default was a called lambda, which hid the hint from mypy:
    # `list[list[Never]]` for an array of sequences
    "exception_array_defaults": """
        struct P { long x; };
        exception E {
            sequence<float> fs[6]; long la[3]; P ps[2]; sequence<P> sp[2][2]; string s[2];
        };
    """,
    # a default case's own labels were never drawn, only the values no label names, by a
    # filter: with every value a label of the default case (Z8) no value passed it
    # (Unsatisfiable); the free values are now drawn directly, not filtered
    "dense_union_labels": _DENSE,
    # members, union branches, parameters and operations named like the types they use
    # (`sample_state sample_state;` in DDS files) shadowed those types where a class body
    # or a method named them: U.make_K's default K.A read the property K (import failed),
    # F(0) called the member F, e(r=None) called None, annotations named properties and
    # methods (mypy), ICodec's raises table got the MethodCodec e; each class body and
    # method now names them by private aliases (_r_T), also on the fixed-size call path
    "idl_names_shadow_types": _SHADOW,
    # IDL names that clash with what Python or the generated class already defines: an
    # exception member args (TypeError: it overwrote BaseException.args), with_traceback,
    # add_note or ID (the class variable); union branches make_a beside a (the factory),
    # discriminator and value (the generic properties); enumerators and flags name, value
    # (mypy), mro (ValueError), real, to_bytes, ... (int's); an operation METHODS (the
    # codec's table); keywords made duplicates (from, from_: members, parameters,
    # enumerators, declarations) and a nested K::T beside K_T. Each gets `_` until free.
    "reserved_names": _RESERVED,
    # two bases naming different operations alike in Python (A's METHODS is METHODS_, B
    # has a real METHODS_): D's Protocol, stub, skeleton and codec had both under one
    # name (mypy: incompatible definitions in base classes), the codec's table gave both
    # wire names the same MethodCodec, the skeleton called B's method for A's opcode.
    # The made-up name gets `_` until free in D (METHODS__); D's own METHODS__ is ___.
    "diamond_renamed_operations": _DIAMOND,
    # strategies companions named method strategies rq_<I>__<method>: I__a's b and I's
    # a__b were both rq_I__a__b (the later def won: REQUESTS drew I's strings for I__a's
    # long), I's attribute x and I_'s get_x both rq_I___get_x; the later gets `_`
    # the stub module's message functions were _rq_<I>_<method>_64 (I_a's b and I's a_b
    # both _rq_I_a_b_64: I_a's client sent I's request) and the skeleton's handlers
    # _h_<I>_<method> (D : I_a, I answered b with a_b's handler, also across modules);
    # stems now get `_` on a clash, handlers are named by the Python method name
    "message_stems": """
        module pv {
          interface I_a { long b(in long x); };
          interface I { string a_b(in string s); };
          interface D : I_a, I { };
        };
        module m1 { interface I_a { long b(in long x); }; };
        module m2 {
          interface I { string a_b(in string s); };
          interface D : ::m1::I_a, I { };
        };
    """,
    # generated files and directories that were one path: the IDL module paths_idl of
    # paths.idl (directory paths_idl/ shadowed paths_idl.py), a module paths_idl_strategies
    # (the companion), modules class and class_ (both class_/), two files paths.idl (one
    # included: one module overwrote the other) and the import aliases of a::b's and
    # a_b's modules (_m_a_b_paths_idl); names.Naming._paths gives each its own
    "paths": """
        #include "inc/paths.idl"
        struct Top { long a; };
        module paths_idl {
          struct Inner { Top t; };
          interface P { Top get(in Inner i, in ::inc::Y y); };
        };
        module paths_idl_strategies { struct S { long n; }; };
        module class { struct C { long n; }; };
        module class_ { struct D { class::C c; }; };
        module a { module b { struct AB { long v; }; }; };
        module a_b { struct AB2 { ::a::b::AB ab; ::inc::Y y; Y0 y0; Z z; }; };
    """,
    "strategy_stems": """
        module st {
          interface I__a { long b(in long x); };
          interface I { string a__b(in string s); attribute long x; };
          interface I_ { double get_x(in double d); };
        };
    """,
}


# files the cases include as "inc/<case>.idl"
INCLUDED = {
    "paths": """
        struct Y0 { long y; };
        module inc { struct Y { Y0 y0; }; };
        module a_b { struct Z { long v; }; interface Q { Z twice(in Z z); }; };
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
        if name in INCLUDED:
            (root / "inc").mkdir(exist_ok=True)
            (root / "inc" / f"{name}.idl").write_text(INCLUDED[name])
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


_SNAN32 = (0x7F800001).to_bytes(4, "little")
_QNAN32 = (0x7FC00001).to_bytes(4, "little")


def _float_snan_values(stub: ModuleType) -> list[tuple[str, object]]:
    h = stub.H([1.0, 2.0, 3.0], [4.0, 5.0], [stub.F(6.0)], stub.F(7.0))
    return [("F", stub.F(1.5)), ("G", stub.G(7, 2.5, [1.0, 2.0, 3.0], 4.0)), ("H", h)]


def _float_offsets(buf: bytearray, value: object) -> list[int]:
    """Byte offsets of the value's floats in its encoded words (the values are chosen so
    that no other word looks like one of them)."""
    import struct

    bits: set[bytes] = set()

    def walk(x: object) -> None:
        if isinstance(x, float):
            bits.add(struct.pack("<f", x))
        elif isinstance(x, list):
            for e in x:
                walk(e)
        elif hasattr(x, "__dataclass_fields__"):
            for k in x.__dataclass_fields__:
                walk(getattr(x, k))

    walk(value)
    return [i for i in range(0, len(buf) - 3, 4) if bytes(buf[i : i + 4]) in bits]


@pytest.mark.parametrize("sfx", ["64", "32"])
def test_float_signalling_nan_rejected(generated: Path, sfx: str) -> None:
    ((stub, _),) = _pairs(generated, "float_snan")
    arch = X86_64 if sfx == "64" else X86_32
    w = 8 if sfx == "64" else 4
    for name, value in _float_snan_values(stub):
        enc = getattr(stub, f"_e_{name}_{sfx}")
        dec = getattr(stub, f"_d_{name}_{sfx}")
        frame_dec = getattr(stub, f"_fd_{name}_{sfx}")
        buf = bytearray()
        enc(value, buf, [])
        offsets = _float_offsets(buf, value)
        assert len(offsets) == {"F": 1, "G": 4, "H": 7}[name]
        for at in offsets:
            for bits, signalling in ((_SNAN32, True), (_QNAN32, False)):
                bad = bytearray(buf)
                bad[at : at + 4] = bits
                f = UtcbFrame(Utcb(arch))
                f.put_words(
                    [int.from_bytes(bad[i : i + w], "little") for i in range(0, len(bad), w)]
                )
                if not signalling:
                    back, _ = dec(bytes(bad), 0, Items([]))
                    again = bytearray()
                    enc(back, again, [])
                    assert again == bad  # a quiet NaN keeps its bits
                    again = bytearray()
                    enc(frame_dec(f), again, [])
                    assert again == bad
                    continue
                with pytest.raises(DecodeError) as e:
                    dec(bytes(bad), 0, Items([]))
                assert (e.value.word, e.value.reason.endswith("signalling NaN")) == (
                    at // w,
                    True,
                ), (name, at, e.value)
                with pytest.raises(DecodeError) as e:
                    frame_dec(f)
                assert e.value.word == at // w, (name, at, e.value)


def test_double_signalling_nan_keeps_its_bits(generated: Path) -> None:
    ((stub, _),) = _pairs(generated, "float_snan")
    snan = (0x7FF0000000000001).to_bytes(8, "little")
    for sfx in ("64", "32"):
        buf = bytearray()
        stub_g = stub.G(7, 2.5, [], 4.0)
        getattr(stub, f"_e_G_{sfx}")(stub_g, buf, [])
        buf[-8:] = snan
        back, _ = getattr(stub, f"_d_G_{sfx}")(bytes(buf), 0, Items([]))
        again = bytearray()
        getattr(stub, f"_e_G_{sfx}")(back, again, [])
        assert again == buf


def test_default_case_with_a_label_of_its_own(generated: Path) -> None:
    ((stub, _),) = _pairs(generated, "enum_default_with_label")
    E = stub.Enumeration
    a = stub.A.make_e_def(5)
    assert a.discriminator is E.Enum3 and a.e_def == 5  # its own label, the only free one
    assert stub.A(E.Enum3, 7).e_def == 7
    with pytest.raises(AttributeError):
        print(stub.A(E.Enum3, 7).e_enum1)
    assert stub.B.make_s("x").discriminator is E.Enum2  # the first value no label names
    assert stub.Ch("b", "y").b == "y" and stub.Ch("z", "y").b == "y"
    for sfx in ("64", "32"):
        buf = bytearray()
        getattr(stub, f"_e_A_{sfx}")(stub.A(E.Enum3, 9), buf, [])
        back, _ = getattr(stub, f"_d_A_{sfx}")(bytes(buf), 0, Items([]))
        assert back.e_def == 9


def test_dense_labels_leave_the_free_discriminators(generated: Path) -> None:
    ((_, strat),) = _pairs(generated, "dense_union_labels")
    # the discriminators no label names: those the default or implicit default selects
    free = {"I8": {45, 99}, "U8": {0}, "C8": {"\x00", "\xff"}, "W": None}
    labels: dict[str, set[object]] = {
        "I8": set(range(-128, 128)) - {45, 99},
        "U8": set(range(1, 256)),
        "C8": {chr(i) for i in range(1, 255)},
        "W": {"a", "b"},
    }
    for name, want in free.items():
        values: list[Any] = []
        run(getattr(strat, f"st_{name}")(), values.append, 40)
        drawn = {u._d for u in values}
        other = drawn - labels[name]
        assert other, f"{name}: no value with a free discriminator was drawn"
        if want is not None:
            assert other <= want, (name, other)
        else:  # wchar: never a surrogate
            assert not any(0xD800 <= ord(d) <= 0xDFFF for d in other), other


def test_a_type_without_a_finite_value_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "inf.idl"
    src.write_text(
        "struct N; struct N { long v; @external N child; };\n"  # every N holds an N
        "struct M { N n; };\n"  # so does every M
        "struct F; struct F { long v; @optional @external F next; };\n"  # ends: absent
        "union U; union U switch (long) { case 1: @external U next; case 2: long x; };\n"
    )
    written, diags = compile_and_generate(src, tmp_path / "out")
    assert not written
    refused = sorted((d.span.line, d.message) for d in diags.items if d.code == "E0901" and d.span)
    assert [line for line, _ in refused] == [1, 2], refused
    assert all("contains itself through @external members" in m for _, m in refused)


def test_generated_code_refers_to_private_names_only(generated: Path) -> None:
    """Besides what IDL declares (module-level classes and constants, parameters), stub
    modules name only `_`-prefixed things, which no IDL identifier is: no builtin by its
    bare name, no import under a public name, no local without `_` (docs/python-backend.md,
    Naming). The `names` module of the case above shows why; this finds new slips."""
    modules = sorted(stub_modules(generated / "regr_pkg"))
    assert len(modules) >= len(CASES)
    bad = [slip for f in modules for slip in _slips(f)]
    assert not bad, "\n".join(bad[:40])


def _slips(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out: list[str] = []

    def visit(node: ast.AST, known: set[str], in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            where = f"{path.name}:{getattr(child, 'lineno', getattr(node, 'lineno', 0))}"
            scope, inner = known, in_function
            if isinstance(child, ast.ClassDef):  # its members (an IDL operation `str`)
                scope = known | _defined(child.body)
            if isinstance(child, ast.FunctionDef | ast.Lambda):
                scope = known | {a.arg for a in child.args.args + child.args.kwonlyargs}
                inner = True
            if isinstance(child, ast.alias) and not (child.asname or child.name).startswith("_"):
                out.append(f"{where}: import {child.name}")
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                if hasattr(builtins, child.id) and child.id not in known:
                    out.append(f"{where}: builtin {child.id}")
            elif isinstance(child, ast.Name) and in_function and not child.id.startswith("_"):
                out.append(f"{where}: local {child.id}")
            if isinstance(child, ast.ExceptHandler) and (child.name or "_")[0] != "_":
                out.append(f"{where}: local {child.name}")
            visit(child, scope, inner)

    visit(tree, _defined(tree.body), False)
    return out


def _defined(body: list[ast.stmt]) -> set[str]:
    """The classes, functions and variables a module or class body defines."""
    names = {n.name for n in body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
    for n in body:
        targets = n.targets if isinstance(n, ast.Assign) else []
        targets += [n.target] if isinstance(n, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def test_idl_names_shadow_nothing_end_to_end(generated: Path) -> None:
    """Client and server of `names::J`: parameters named isinstance, BaseException and
    JClient (passed as keywords), exceptions named args, e and w, a oneway with
    parameters args and r, on the runtime."""
    from runtime import Machine
    from runtime.api import Context
    from runtime.crd import Crd

    (stub,) = [
        s
        for s, _ in _pairs(generated, "type_named_like_decoder_parameter")
        if ".names." in s.__name__
    ]
    raised = {1: stub.args(range=5, type="t"), 2: stub.e(rr=stub.r(3)), 3: stub.w(len=4)}
    oneway: list[tuple[int, int]] = []

    class Impl:
        def op(self, isinstance: str, BaseException: int, JClient: Crd | None) -> Any:
            if BaseException in raised:
                raise raised[BaseException]
            return stub.r(len(isinstance)), 7 if JClient is None else 8

        def echo(self, JClient: Crd | None, range: Crd | None) -> Any:
            return range, JClient

        def ow(self, args: int, r: int) -> None:
            oneway.append((args, r))

        def none(self, e: int) -> None:
            return None

    m = Machine(cpus=1)
    server = m.spawn("server")
    skeleton = stub.JServer(Impl())
    server.serve("j", skeleton, cpus=[0], accept=skeleton.accept)
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        j = stub.JClient(ctx.connect("j"))
        results.append(j.op(isinstance="abc", BaseException=0, JClient=None))
        results.append(j.op(isinstance="", BaseException=0, JClient=j))
        for k in raised:
            try:
                j.op(isinstance="", BaseException=k, JClient=None)
            except (stub.args, stub.e, stub.w) as x:
                results.append(x)
        ret, out = j.echo(JClient=j, range=None)
        results.append((ret, type(out)))
        j.ow(args=1, r=2)

    assert m.run().blocked == []
    assert results == [
        (stub.r(3), 7),
        (stub.r(0), 8),
        *raised.values(),
        (None, stub.JClient),
    ]
    assert oneway == [(1, 2)]


def _taken(log: list[bool], r: int) -> int:
    """Log whether a fixed-size handler took its request (-2: not taken), return r."""
    log.append(r != -2)
    return r


@pytest.mark.parametrize("path", ["fixed", "general"])
@pytest.mark.parametrize("arch", ["x86_64", "x86_32"])
def test_idl_names_shadow_no_types_end_to_end(generated: Path, arch: str, path: str) -> None:
    """Client and server of `shadow::I`, whose operations and parameters are named like
    the types they take and return (`K K(in K K, out F F)`, `r e(in r r)`), on the
    runtime: each fixed-size method through its fixed shape (every call and every request
    taken by it) and, with that shape off, through the general codecs; exceptions with
    members named like their types come back either way."""
    from runtime import Machine
    from runtime.api import Context

    ((sh, _),) = [
        p for p in _pairs(generated, "idl_names_shadow_types") if "shadow." in p[0].__name__
    ]
    K, F = sh.K, sh.F
    bad = sh.e(r=sh.r(-1), K=K.B, F=F.f2, T=3, k2=K.B, f2=F.f1, t2=4, rs=[sh.r(1), sh.r(2)])

    class Impl:
        rr = sh.r(0)

        def e(self, r: Any) -> Any:
            return sh.r(r.a + 1)

        def r(self, x: Any) -> Any:
            if x.a < 0:
                raise bad
            return sh.r(x.a * 2)

        def K(self, T: Any) -> Any:
            return (K.B if T == sh.K.A else sh.K.A), sh.F.f1 | sh.F.f2

        def F(self, K: Any, T: int) -> Any:
            return K ^ sh.F.f1, T + 1

        def T(self, F: int, K: Any, r: Any) -> Any:
            if F == 1:
                raise bad
            if F == 2:
                raise sh.X2(i=sh.ID(5))
            return F + int(K) + r.a

        def _get_rr(self) -> Any:
            return self.rr

        def _set_rr(self, value: Any) -> None:
            self.rr = value

        def s(self, U: Any, r: str) -> Any:
            return f"{r}{U.r.a}{U.t2}", U.K

        def op(self, x: Any) -> Any:
            return sh.p_x(x.y + 1)

        def U(self, V: Any, s: Any) -> Any:
            return V if s.discriminator == 1 else sh.U.make_K(s.T)

        def IClient(self, IServer: Any) -> Any:
            return IServer

    fixed = ["e", "r", "K", "F", "T", "_get_rr", "_set_rr", "op"]
    m = Machine(cpus=1, arch=X86_64 if arch == "x86_64" else X86_32)
    server = m.spawn("server")
    skeleton = sh.IServer(Impl())
    table = skeleton._fast64 if arch == "x86_64" else skeleton._fast32
    # every fixed-size method has its fixed shape, also where a parameter is named like
    # the class its reply builds (e, r) or like another method (K, F, T)
    assert len(table) == len(fixed)
    taken: list[bool] = []
    if path == "general":
        table.clear()
    else:
        for op, (n, handler) in list(table.items()):
            table[op] = (n, lambda f, u, h=handler: _taken(taken, h(f, u)))
    server.serve("i", skeleton, cpus=[0], accept=skeleton.accept)
    sent: list[bool] = []
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        i = sh.IClient(ctx.connect("i"))
        call = i._fixed

        def spy(*args: Any) -> Any:
            got = call(*args)
            sent.append(got[0] == 0)
            return got

        i._fixed = spy
        # a live frame: the UTCB is not idle, so every call takes the general path (the
        # kernel refuses to write an opcode-only request: NOT_SENT)
        with ctx.frame() if path == "general" else contextlib.nullcontext():
            calls(i)

    def calls(i: Any) -> None:
        results.append(i.e(r=sh.r(4)))
        results.append(i.r(x=sh.r(5)))
        results.append(i.K(T=K.A))
        results.append(i.F(K=F.f2, T=6))
        results.append(i.T(F=7, K=K.B, r=sh.r(10)))
        i._set_rr(value=sh.r(9))
        results.append(i._get_rr())
        results.append(i.op(x=sh.p_x(1)))
        for call_raising in (lambda: i.r(x=sh.r(-1)), lambda: i.T(F=1, K=K.A, r=sh.r(0))):
            try:
                call_raising()
            except sh.e as x:
                results.append(x)
        try:
            i.T(F=2, K=K.A, r=sh.r(0))
        except sh.X2 as x:
            results.append(x)
        results.append(i.s(U=sh.s(r=sh.r(3), K=K.B, t2=8), r="x"))
        results.append(i.U(V=sh.U.make_r(sh.r(2)), s=sh.V.make_K(K.B)))
        results.append(i.U(V=sh.U.make_r(sh.r(2)), s=sh.V(9, 11)))
        results.append(type(i.IClient(IServer=i)))

    assert m.run().blocked == []
    assert results == [
        sh.r(5),
        sh.r(10),
        (K.B, F.f1 | F.f2),
        (F.f1 | F.f2, 7),
        18,
        sh.r(9),
        sh.p_x(2),
        bad,
        bad,
        sh.X2(i=sh.ID(5)),
        ("x38", K.B),
        sh.U.make_r(sh.r(2)),
        sh.U.make_K(11),
        sh.IClient,
    ]
    if path == "fixed":
        # e, r, K, F, T, _set_rr, _get_rr, op answered through the fixed shapes; the three
        # exception replies (status 32) were sent by it and decoded by the general code
        assert sent == [True] * 8 + [False] * 3
        assert taken == [True] * 11
    else:  # only _get_rr (the opcode alone) reached the kernel, which sent nothing
        assert sent == [False] and taken == []


def _rsv(generated: Path) -> ModuleType:
    ((stub, _),) = [p for p in _pairs(generated, "reserved_names") if ".rsv." in p[0].__name__]
    return stub


def test_reserved_names_are_renamed(generated: Path) -> None:
    """Each IDL name the class already defines gets `_` (twice where the IDL has the
    name with one), and the class keeps its own attribute."""
    sh = _rsv(generated)
    E, F = sh.E, sh.F
    assert [e.name for e in E][:3] == ["name__", "value_", "mro_"]
    assert [f.name for f in F] == [
        "name_",
        "value_",
        "mro_",
        "real_",
        "to_bytes_",
        "from__",
        "from_",
    ]
    assert E.real_.real == 3 and E(1).value == 1 and E(0).name == "name__"
    assert sh.CE is E.value_
    s = sh.S2(from__=1, from_=2, name=E.from__, value=F.name_, class_=3, from___=4)
    assert (s.from__, s.from_, s.class_, s.from___) == (1, 2, 3, 4)
    x = sh.X(args__=1, with_traceback_=2, add_note_=3, ID_=4, args_=5, e=E.name_)
    assert (x.args__, x.with_traceback_, x.add_note_, x.ID_, x.args_) == (1, 2, 3, 4, 5)
    assert x.args == (1, 2, 3, 4, 5, E.name_) and sh.X.ID == x.ID != 4
    assert x.with_traceback(None) is x
    u = sh.U.make_make_a_(7)  # make_a is a's factory, so the branch make_a is make_a_
    assert (u.make_a_, u.discriminator, u.value) == (7, 2, 7)
    assert sh.U.make_a(1).a == 1 and sh.U.make_value_(4).value_ == 4
    assert sh.U.make_discriminator_(3).discriminator == 3
    assert sh.U.make_make_value__(E.mro_).make_value__ is E.mro_
    assert sh.W.make_name(5).discriminator is E.mro_  # the first enumerator no label names
    assert set(sh.ICodec.METHODS) == {"METHODS", "op", "_get_args", "_set_args"}
    assert sh.ICodec.METHODS["METHODS"] is sh.ICodec.METHODS_
    assert sh.JCodec.METHODS["METHODS_"] is sh.JCodec.METHODS__
    # the codec names parameters as the wire does (IDL names), like its outputs
    assert sh.JCodec.METHODS["METHODS_"].inputs == ("self", "cls")
    assert sh.def__().x == 0 and sh.def_().t == 0  # `def` is def_ but def_ is taken
    assert {"K_T", "K_T_", "def_", "def__"} <= set(sh.__all__)


@pytest.mark.parametrize("arch", ["x86_64", "x86_32"])
def test_reserved_names_end_to_end(generated: Path, arch: str) -> None:
    """Client and server of `rsv::J` (operations METHODS and METHODS_, parameters from,
    from_, self, cls, an exception with members args, ID, ...) on the runtime."""
    from runtime import Machine
    from runtime.api import Context

    sh = _rsv(generated)
    E, F = sh.E, sh.F
    bad = sh.X(args__=1, with_traceback_=2, add_note_=3, ID_=4, args_=5, e=E.name_)
    seen: list[object] = []

    class Impl:
        args = 0

        def METHODS_(self, from__: int, from_: int, value: Any) -> int:
            return from__ * 100 + from_ * 10 + int(value)

        def op(self, name: Any, s: Any) -> Any:
            if name is E.real_:
                raise bad
            return E.name__, F.name_ | F.value_, sh.S2(from__=s.from_, from_=s.from__)

        def _get_args(self) -> int:
            return self.args

        def _set_args(self, value: int) -> None:
            self.args = value

        def METHODS__(self, self_: int, cls_: int) -> None:
            seen.append((self_, cls_))

        def u(self, un: Any, w: Any) -> Any:
            if w.discriminator is E.value_:
                raise bad
            return sh.U.make_value_(un.make_a_ + w.name)

    m = Machine(cpus=1, arch=X86_64 if arch == "x86_64" else X86_32)
    server = m.spawn("server")
    skeleton = sh.JServer(Impl())
    server.serve("j", skeleton, cpus=[0], accept=skeleton.accept)
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        j = sh.JClient(ctx.connect("j"))
        results.append(j.METHODS_(from__=1, from_=2, value=E.value_))
        results.append(j.op(name=E.name__, s=sh.S2(from__=3, from_=4, class_=5)))
        j._set_args(value=9)
        results.append(j._get_args())
        j.METHODS__(self_=6, cls_=7)
        results.append(j.u(un=sh.U.make_make_a_(2), w=sh.W(E.is_integer_, 40)))
        for raising in (
            lambda: j.op(name=E.real_, s=sh.S2()),
            lambda: j.u(un=sh.U(), w=sh.W.make_real(F.mro_)),
        ):
            try:
                raising()
            except sh.X as x:
                results.append(x)

    assert m.run().blocked == []
    assert results == [
        121,
        (E.name__, F.name_ | F.value_, sh.S2(from__=4, from_=3)),
        9,
        sh.U.make_value_(42),
        bad,
        bad,
    ]
    assert seen == [(6, 7)]
    assert results[-1].args__ == 1 and results[-1].ID_ == 4  # type: ignore[attr-defined]


def test_reserved_names_through_wire_json(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`idlc wire` takes and gives the IDL names (WIRE.md §5), whatever the Python
    attributes are called: members from, args, ID, enumerators name, mro, flags value,
    union branches make_a, value, parameters from_, self."""
    import io
    import json

    from idlc.cli import main
    from runtime.codec import Message

    sh = _rsv(generated)
    E, F = sh.E, sh.F
    idl = tmp_path / "rsv.idl"
    idl.write_text(_RESERVED)

    def wire(method: str, direction: str, stdin: object, decode: bool = False) -> Any:
        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(stdin)))
        monkeypatch.setattr("sys.stdout", out)
        monkeypatch.setattr("sys.stderr", err)
        argv = ["wire", str(idl), "--arch", "x86_64", "--interface", "rsv::J"]
        argv += ["--method", method, "--dir", direction, *(["--decode"] if decode else [])]
        assert main(argv) == 0, err.getvalue()
        return json.loads(out.getvalue())

    s2 = {"from": 1, "from_": 2, "name": "name", "value": ["value", "mro"], "class": 3}
    s2["from__"] = 4
    exc = {"args": 1, "with_traceback": 2, "add_note": 3, "ID": 4, "args_": 5, "e": "name_"}
    cases: list[tuple[str, str, dict[str, Any], Any, tuple[Any, ...]]] = [
        (
            "METHODS",
            "request",
            {"from": 1, "from_": 2, "value": "value"},
            sh.JCodec.METHODS_,
            (1, 2, E.value_),
        ),
        ("METHODS_", "request", {"self": 6, "cls": 7}, sh.JCodec.METHODS__, (6, 7)),
        (
            "op",
            "request",
            {"name": "mro", "s": s2},
            sh.JCodec.op,
            (E.mro_, sh.S2(1, 2, E.name__, F.value_ | F.mro_, 3, 4)),
        ),
        (
            "op",
            "reply",
            {"return": "from", "value": ["name", "from"], "s": s2},
            sh.JCodec.op,
            (E.from__, F.name_ | F.from__, sh.S2(1, 2, E.name__, F.value_ | F.mro_, 3, 4)),
        ),
        (
            "u",
            "request",
            {"un": {"_d": 2, "make_a": 5}, "w": {"_d": "value", "real": ["real"]}},
            sh.JCodec.u,
            (sh.U.make_make_a_(5), sh.W.make_real(F.real_)),
        ),
        ("u", "reply", {"return": {"_d": 4, "value": 8}}, sh.JCodec.u, (sh.U.make_value_(8),)),
    ]
    for method, direction, values, codec, python in cases:
        msg = wire(method, direction, values)
        build = codec.request if direction == "request" else codec.reply
        want = build("x86_64", *python)
        assert msg == {"words": [hex(w) for w in want.words], "items": []}, method
        parse = codec.parse_request if direction == "request" else codec.parse_reply
        assert parse(Message.from_words("x86_64", want.words, [])) == python
        assert wire(method, direction, msg, decode=True) == values, method
    msg = wire("op", "reply", {"raises": "rsv::X", "value": exc})
    back = sh.JCodec.op.parse_reply(
        Message.from_words("x86_64", [int(w, 16) for w in msg["words"]], [])
    )
    assert back == sh.X(1, 2, 3, 4, 5, E.name_)
    assert wire("op", "reply", msg, decode=True) == {"raises": "rsv::X", "value": exc}


def _serving(arch: str, skeletons: dict[str, Any]) -> Any:
    """A one-CPU machine whose process "server" serves each skeleton under its name."""
    from runtime import Machine

    m = Machine(cpus=1, arch=X86_64 if arch == "x86_64" else X86_32)
    server = m.spawn("server")
    for name, skeleton in skeletons.items():
        server.serve(name, skeleton, cpus=[0], accept=skeleton.accept)
    return m


def _dia(generated: Path) -> ModuleType:
    ((stub, _),) = _pairs(generated, "diamond_renamed_operations")
    return stub


def test_diamond_renamed_operations_stay_apart(generated: Path) -> None:
    """Every operation of a derived interface has a Python name of its own, the same in
    the Protocol, the client stub, the skeleton and the codec."""
    dia = _dia(generated)
    assert dia.CCodec.METHODS["METHODS"] is dia.CCodec.METHODS__
    assert dia.CCodec.METHODS["METHODS_"] is dia.CCodec.METHODS_
    assert dia.DCodec.METHODS["METHODS__"] is dia.DCodec.METHODS___
    assert dia.DCodec.METHODS["METHODS"] is dia.DCodec.METHODS__
    assert dia.TCodec.METHODS["METHODS"] is dia.TCodec.METHODS__
    assert dia.TCodec.METHODS["METHODS_"] is dia.TCodec.METHODS_
    for i in ("C", "D", "T"):
        codecs = getattr(dia, i + "Codec").METHODS.values()
        assert len({id(c) for c in codecs}) == len(codecs), i
    # B keeps its names in C, so C's classes derive from B's; A's do not
    assert issubclass(dia.CClient, dia.BClient) and not issubclass(dia.CClient, dia.AClient)
    assert issubclass(dia.DClient, dia.CClient)
    for name in ("METHODS_", "METHODS__", "own", "base"):
        assert callable(getattr(dia.DClient, name)), name
    assert {"METHODS_", "METHODS__", "METHODS___"} <= set(dir(dia.D))


@pytest.mark.parametrize("arch", ["x86_64", "x86_32"])
def test_diamond_renamed_operations_end_to_end(generated: Path, arch: str) -> None:
    """Client and server of `dia::D` and `dia::T` on the runtime: each opcode reaches its
    own implementation method."""
    from runtime.api import Context

    dia = _dia(generated)
    seen: list[object] = []

    class DImpl:
        def base(self, x: int) -> int:
            return x + 1

        def METHODS__(self, a: int) -> int:  # A's METHODS
            return a * 2

        def METHODS_(self, b: str) -> str:  # B's METHODS_
            return b + "!"

        def own(self, y: int) -> int:
            return -y

        def METHODS___(self, z: int) -> None:  # D's METHODS__
            seen.append(z)

    class TImpl:
        def x(self, v: int) -> int:
            return v

        def METHODS__(self, v: int) -> int:  # Q's METHODS (METHODS_ in Q)
            return v * 3

        def METHODS_(self, v: float) -> float:  # S's METHODS_
            return v / 2

    m = _serving(arch, {"d": dia.DServer(DImpl()), "t": dia.TServer(TImpl())})
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        d = dia.DClient(ctx.connect("d"))
        results.append(d.base(x=1))
        results.append(d.METHODS__(a=21))
        results.append(d.METHODS_(b="hi"))
        results.append(d.own(y=5))
        d.METHODS___(z=7)
        t = dia.TClient(ctx.connect("t"))
        results.append(t.x(v=4))
        results.append(t.METHODS__(v=5))
        results.append(t.METHODS_(v=3.0))

    assert m.run().blocked == []
    assert results == [2, 42, "hi!", -5, 4, 15, 1.5]
    assert seen == [7]


def test_strategy_stems_are_distinct(generated: Path) -> None:
    """The first method keeps its documented rq_<I>__<method>, a later one with the same
    name gets `_`; the tables name each method's own strategies."""
    ((_, strat),) = _pairs(generated, "strategy_stems")
    for table, prefix in ((strat.REQUESTS, "rq_"), (strat.REPLIES, "rp_"), (strat.RAISES, "ex_")):
        assert {i: {w: f.__name__ for w, f in t.items()} for i, t in table.items()} == {
            "st::I__a": {"b": prefix + "I__a__b"},
            "st::I": {
                "a__b": prefix + "I__a__b_",
                "_get_x": prefix + "I___get_x",
                "_set_x": prefix + "I___set_x",
            },
            "st::I_": {"get_x": prefix + "I___get_x_"},
        }
    assert strat.REQUESTS["st::I"]["a__b"] is strat.rq_I__a__b_
    assert "rq_I__a__b_" in strat.__all__ and "rq_I___get_x_" in strat.__all__


@pytest.mark.parametrize("arch", ["x86_64", "x86_32"])
def test_message_stems_end_to_end(generated: Path, arch: str) -> None:
    """`I_a::b` and `I::a_b` (one module, and two) each reach their own implementation
    method through their own client stubs and a derived skeleton."""
    from runtime.api import Context

    mods = {stub.__name__.split(".")[-2]: stub for stub, _ in _pairs(generated, "message_stems")}

    class Impl:
        def b(self, x: int) -> int:
            return x + 1

        def a_b(self, s: str) -> str:
            return s * 2

    m = _serving(arch, {name: mods[name].DServer(Impl()) for name in ("pv", "m2")})
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        for name, ia in (("pv", mods["pv"].I_aClient), ("m2", mods["m1"].I_aClient)):
            pt = ctx.connect(name)
            results.append((ia(pt).b(x=1), mods[name].IClient(pt).a_b(s="x")))
            d = mods[name].DClient(pt)
            results.append((d.b(x=2), d.a_b(s="y")))

    assert m.run().blocked == []
    assert results == [(2, "xx"), (3, "yy"), (2, "xx"), (3, "yy")]


def test_paths_are_distinct(generated: Path) -> None:
    """Every unit has a file of its own that imports as itself: the directory of an IDL
    module keeps its name, a module file beside it gets `_` (docs/python-backend.md)."""
    root = generated / "regr_pkg" / "paths"
    files = {str(f.relative_to(root)) for f in root.rglob("*.py") if f.stem != "__init__"}
    assert files == {
        "paths_idl_.py",  # inc/paths.idl's Y0: beside the directories paths_idl(_strategies)
        "paths_idl__.py",  # paths.idl's Top
        "paths_idl/paths_idl.py",
        "paths_idl_strategies/paths_idl.py",
        "inc/paths_idl.py",
        "a/b/paths_idl.py",
        "a_b/paths_idl.py",  # inc/paths.idl's Z, Q
        "a_b/paths_idl_.py",  # paths.idl's AB2
        "class_/paths_idl.py",  # module class_
        "class__/paths_idl.py",  # module class (class_ is taken)
    } | {
        f[: -len(".py")] + "_strategies.py"
        for f in (
            "paths_idl_.py",
            "paths_idl__.py",
            "paths_idl/paths_idl.py",
            "paths_idl_strategies/paths_idl.py",
            "inc/paths_idl.py",
            "a/b/paths_idl.py",
            "a_b/paths_idl.py",
            "a_b/paths_idl_.py",
            "class_/paths_idl.py",
            "class__/paths_idl.py",
        )
    }
    stubs = {p[0].__name__.split("regr_pkg.paths.")[1]: p[0] for p in _pairs(generated, "paths")}
    assert stubs["paths_idl_"].Y0 and stubs["paths_idl__"].Top
    assert stubs["paths_idl.paths_idl"].Inner().t == stubs["paths_idl__"].Top()
    assert stubs["paths_idl_strategies.paths_idl"].S
    assert stubs["class__.paths_idl"].C and stubs["class_.paths_idl"].D().c is not None
    assert stubs["a_b.paths_idl"].Z and stubs["a_b.paths_idl_"].AB2().ab.v == 0
    assert stubs["a.b.paths_idl"].AB


@pytest.mark.parametrize("arch", ["x86_64", "x86_32"])
def test_paths_end_to_end(generated: Path, arch: str) -> None:
    """The interfaces of paths_idl/paths_idl.py and a_b/paths_idl.py on the runtime."""
    from runtime.api import Context

    stubs = {p[0].__name__.split("regr_pkg.paths.")[1]: p[0] for p in _pairs(generated, "paths")}
    P, ab, top = stubs["paths_idl.paths_idl"], stubs["a_b.paths_idl"], stubs["paths_idl__"]
    inc = stubs["inc.paths_idl"]

    class PImpl:
        def get(self, i: Any, y: Any) -> Any:
            return top.Top(a=i.t.a + y.y0.y)

    class QImpl:
        def twice(self, z: Any) -> Any:
            return ab.Z(v=z.v * 2)

    m = _serving(arch, {"p": P.PServer(PImpl()), "q": ab.QServer(QImpl())})
    results: list[object] = []

    @m.spawn("client", cpu=0)
    def client(ctx: Context) -> None:
        y = inc.Y(y0=stubs["paths_idl_"].Y0(y=2))
        results.append(P.PClient(ctx.connect("p")).get(i=P.Inner(t=top.Top(a=1)), y=y))
        results.append(ab.QClient(ctx.connect("q")).twice(z=ab.Z(v=21)))

    assert m.run().blocked == []
    assert results == [top.Top(a=3), ab.Z(v=42)]
