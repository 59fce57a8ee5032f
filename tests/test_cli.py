"""The `idlc` command: options, output modes and exit statuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from idlc import __version__
from idlc.cli import main

GOOD = """\
module demo {
  struct Point { int32 x; int32 y; };
  @id(1) interface Shapes {
    Point move(in Point p, in int16 dx);
    oneway void log(in string<32> line);
  };
};
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.idl"
    path.write_text(GOOD)
    return path


def test_check_accepts_a_valid_file(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--check", str(good)], capsys)
    assert (code, out, err) == (0, "", "")


def test_errors_exit_1_with_location_and_caret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.idl"
    bad.write_text("module m {\n  const octet x = 300;\n};\n")
    code, _out, err = run(["--check", str(bad)], capsys)
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"{bad}:2:19: error[E0302]: value 300 is out of range for octet"
    assert lines[1].endswith("|   const octet x = 300;")
    assert lines[2].endswith("|                   ^~~")
    assert lines[-1] == "1 error generated."


def test_several_errors_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.idl"
    bad.write_text("module m {\n  const octet x = 300;\n  struct S { Missing a; };\n};\n")
    code, _out, err = run(["--check", str(bad)], capsys)
    assert code == 1
    assert "error[E0302]" in err and "error[E0203]" in err
    assert err.splitlines()[-1] == "2 errors generated."


def test_redefinition_has_a_note_at_the_first_definition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.idl"
    bad.write_text("struct A { long x; };\nstruct A { long y; };\n")
    code, _out, err = run(["--check", str(bad)], capsys)
    assert code == 1
    assert f"{bad}:2:8: error[E0201]" in err
    assert f"{bad}:1:8: note: previous definition is here" in err


def test_include_chain_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "inner.idl").write_text("const octet bad = 256;\n")
    main_file = tmp_path / "main.idl"
    main_file.write_text('// top\n#include "inner.idl"\n')
    code, _out, err = run(["--check", str(main_file)], capsys)
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == f"In file included from {main_file}:2:"
    assert lines[1].startswith(f"{tmp_path / 'inner.idl'}:1:19: error[E0302]")


def test_defines_and_include_dirs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "types.idl").write_text("typedef long Count;\n")
    src = tmp_path / "x.idl"
    src.write_text(
        "#include <types.idl>\n#ifndef WANT\n#error WANT is not defined\n#endif\n"
        "const Count c = VALUE;\n"
    )
    code, _out, err = run(["--check", str(src)], capsys)
    assert code == 1 and "E0001" in err
    code, _out, err = run(["--check", "-I", str(inc), "-DWANT", "-DVALUE=7", str(src)], capsys)
    assert (code, err) == (0, "")
    code, _out, err = run(["--check", "-I", str(inc), "-DVALUE=7", str(src)], capsys)
    assert code == 1 and "error[E0002]: #error WANT is not defined" in err


def test_undefine_the_predefined_macro(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.idl"
    src.write_text("#ifndef __IDLC__\n#error no idlc\n#endif\n")
    assert run(["--check", str(src)], capsys)[0] == 0
    assert run(["--check", "-U__IDLC__", str(src)], capsys)[0] == 1


def test_werror_turns_warnings_into_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "x.idl"
    src.write_text("@frobnicate struct S { long x; };\n")
    code, _out, err = run(["--check", str(src)], capsys)
    assert code == 0 and "warning[W0003]" in err
    code, _out, err = run(["--check", "-Werror", str(src)], capsys)
    assert code == 1 and "error[W0003]" in err
    code, _out, err = run(["--check", "-w", str(src)], capsys)
    assert (code, err) == (0, "")


def test_opt_in_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "x.idl"
    src.write_text("#pragma frobnicate now\nstruct S { long x; };\n")
    assert run(["--check", str(src)], capsys)[2] == ""
    code, _out, err = run(["--check", "-WW0001", str(src)], capsys)
    assert code == 0 and "warning[W0001]" in err


def test_emit_ir_is_versioned_json(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--emit", "ir", str(good)], capsys)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["ir_version"] == 1
    assert out.endswith("}\n")  # one newline after the document, as a text file ends
    names = [d["name"] for d in doc["declarations"]]
    assert names == ["demo", "demo::Point", "demo::Shapes"]


def test_generates_python_modules(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["-o", str(out), str(good)])
    assert code == 0
    module = out / "demo" / "good_idl.py"
    assert module.is_file()
    text = module.read_text()
    assert "class Point" in text and "class ShapesClient" in text
    assert text.startswith('"""') and "do not edit" in text.lower()


def test_unsupported_construct_is_reported_at_its_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "any.idl"
    src.write_text("interface Store {\n  void put(in any item);\n};\n")
    code, _out, err = run(["-o", str(tmp_path / "out"), str(src)], capsys)
    assert code == 1
    assert f"{src}:2:" in err and "error[E0901]" in err
    assert not (tmp_path / "out" / "any_idl.py").exists()
    code, _out, err = run(["--check", str(src)], capsys)
    assert (code, err) == (0, "")


def test_same_module_from_two_files_is_not_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`a/x.idl` and `b/x.idl` in one run both make `x_idl.py` (and `m/x_idl.py`): the
    second is reported (E0902), the first stays; a file generated again from the same IDL
    file (included by another, or given twice) is no clash."""
    for d, body in (("a", "struct A { long x; };"), ("b", "struct B { long x; };")):
        (tmp_path / d).mkdir()
        (tmp_path / d / "x.idl").write_text(f"{body}\nmodule m {{ {body} }};\n")
    (tmp_path / "b" / "y.idl").write_text('#include "../a/x.idl"\nstruct Y { A a; };\n')
    out = tmp_path / "out"
    files = [str(tmp_path / f) for f in ("a/x.idl", "b/y.idl", "b/x.idl", "a/x.idl")]
    code, _out, err = run(["-o", str(out), *files], capsys)
    assert code == 1
    for rel in ("x_idl.py", "m/x_idl.py"):
        assert f"error[E0902]: cannot write '{out / rel}': it is also generated from '" in err
        assert "class A" in (out / rel).read_text() and "class B" not in (out / rel).read_text()
        assert "st_A" in (out / rel.replace(".py", "_strategies.py")).read_text()
    assert err.count("error[E0902]") == 2
    assert (out / "y_idl.py").is_file()


@pytest.mark.parametrize("first", ["x", "y"])
def test_package_shadowing_a_module_of_another_file_is_not_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first: str
) -> None:
    """`module x_idl` of y.idl would make a package `x_idl/` beside x.idl's `x_idl.py`
    (which it shadows on import): whichever comes second is reported, not written."""
    (tmp_path / "x.idl").write_text("struct T { long v; };\n")
    (tmp_path / "y.idl").write_text("module x_idl { struct Q { long v; }; };\n")
    out = tmp_path / "out"
    files = [str(tmp_path / f"{n}.idl") for n in ((first, "y") if first == "x" else ("y", "x"))]
    code, _out, err = run(["-o", str(out), *files], capsys)
    assert code == 1 and err.count("error[E0902]") == 1
    if first == "x":
        assert f"cannot write '{out / 'x_idl' / 'y_idl.py'}': its package would shadow" in err
        assert (out / "x_idl.py").is_file() and not (out / "x_idl").exists()
    else:
        assert f"cannot write '{out / 'x_idl.py'}': the package of " in err
        assert (out / "x_idl" / "y_idl.py").is_file() and not (out / "x_idl.py").exists()


def test_sizes(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["--sizes", str(good)], capsys)
    assert code == 0
    rows = [r.split() for r in out.splitlines()]
    move64 = next(r for r in rows if r[0] == "x86_64" and r[1] == "demo::Shapes::move")
    # request: opcode + Point (2 words) + int16 = 4 words, no items
    assert move64[2:6] == ["request", "words", "4..4", "items"]
    log32 = next(r for r in rows if r[0] == "x86_32" and r[1] == "demo::Shapes::log")
    assert "-(oneway)" in log32


def test_make_dependencies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.idl").write_text("struct A { long x; };\n")
    src = tmp_path / "main.idl"
    src.write_text('#include "a.idl"\nstruct B { A a; };\n')
    code, out, _err = run(["-M", "-o", "out", str(src)], capsys)
    assert code == 0
    targets, _colon, first_dep = out.splitlines()[0].partition(": ")
    modules = {"out/a_idl.py", "out/main_idl.py"}
    companions = {m.replace(".py", "_strategies.py") for m in modules}
    assert set(targets.split()) == {"out/__init__.py"} | modules | companions
    assert first_dep.startswith(str(src))
    assert str(tmp_path / "a.idl") in out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--no-such-option", "x.idl"],
        ["--emit", "xml", "x.idl"],
        ["-Wnonsense", "x.idl"],
        ["-D", "1bad", "x.idl"],
        ["--check", "--sizes", "x.idl"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(argv, capsys)
    assert code == 2
    assert "idlc: error:" in err


def test_missing_file_is_a_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(["--check", "/nonexistent/x.idl"], capsys)
    assert code == 1
    assert "error[E0013]" in err or "error[E0001]" in err


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["--help"], capsys)
    assert code == 0
    for option in ("--check", "--emit", "--sizes", "-M", "-I", "-D", "-U", "-o", "-Werror"):
        assert option in out
    code, out, _err = run(["--version"], capsys)
    assert (code, out.strip()) == (0, f"idlc {__version__}")


def test_as_a_process_no_traceback(tmp_path: Path) -> None:
    src = tmp_path / "x.idl"
    src.write_bytes(b"module \xff\xfe { struct ;; }}} \x00")
    proc = subprocess.run(
        [sys.executable, "-m", "idlc", "--check", str(src)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{src}:1:" in proc.stderr


def test_several_syntax_errors_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.idl"
    bad.write_text(
        "module m {\n"
        "  struct A { long x y; };\n"
        "  const long c = 3;\n"
        "  struct B { long ; };\n"
        "  interface I { void f(in long a,); };\n"
        "};\n"
    )
    code, _out, err = run(["--check", str(bad)], capsys)
    assert code == 1
    located = [ln.split(": error")[0] for ln in err.splitlines() if ": error[" in ln]
    # one error per mistake, each at it (a missing token just after the one before it)
    assert located == [f"{bad}:2:20", f"{bad}:4:18", f"{bad}:5:34"]
