"""Which comment documents which declaration (carried into the IR and, from there, into
generated docstrings)."""

from __future__ import annotations

from typing import Any

from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file

SOURCE = """\
module m {
  /// A point.
  struct P {
    long x;   // the x coordinate
    long y;   // the y coordinate
    /** The z coordinate,
     *  in metres. */
    long z;
    long w;
  };

  // Two lines of
  // comment become one docstring.
  exception E { long code; };

  // A comment followed by a blank line documents nothing.

  enum C { A, /* code follows this one */ B };

  /// Leading wins over trailing.
  typedef long T;  // trailing
  typedef long U;  /* a trailing block */
  const long K = 1; const long L = 2;  // several on a line: the first
};
"""


def _docs(tmp_path: Any, source: str = SOURCE) -> dict[str, str | None]:
    path = tmp_path / "d.idl"
    path.write_text(source)
    diags = Diagnostics()
    spec = compile_file(str(path), Options(), diags).spec
    assert spec is not None, [str(d) for d in diags.items]
    out: dict[str, str | None] = {}
    for decl in spec.declarations:
        out[decl.name] = decl.doc
        for part in ("fields", "enumerators"):
            for f in getattr(decl, part, ()):
                out[f"{decl.name}.{f.name}"] = f.doc
    return out


def test_leading_and_trailing_comments(tmp_path: Any) -> None:
    docs = _docs(tmp_path)
    assert docs["m::P"] == "A point."
    assert docs["m::P.x"] == "the x coordinate"
    assert docs["m::P.y"] == "the y coordinate"
    assert docs["m::P.z"] == "The z coordinate,\nin metres."
    assert docs["m::P.w"] is None
    assert docs["m::T"] == "Leading wins over trailing."
    assert docs["m::U"] == "a trailing block"
    assert docs["m::K"] == "several on a line: the first"
    assert docs["m::L"] is None


def test_one_line_declarations_do_not_share_a_comment(tmp_path: Any) -> None:
    docs = _docs(tmp_path)
    assert docs["m::E"] == "Two lines of\ncomment become one docstring."
    assert docs["m::E.code"] is None


def test_comments_that_are_not_docs(tmp_path: Any) -> None:
    docs = _docs(tmp_path)
    assert docs["m::C"] is None  # a blank line separates it from its comment
    assert docs["m::C.A"] is None and docs["m::C.B"] is None  # code follows the comment


def test_many_comments_stay_linear(tmp_path: Any) -> None:
    # Each declaration asks for its doc while the lexer is still running ahead; a
    # recount of every comment per question would make this quadratic.
    body = "".join(f"  // doc {i}\n  const long C{i} = {i};\n" for i in range(3000))
    docs = _docs(tmp_path, f"module m {{\n{body}}};\n")
    assert docs["m::C0"] == "doc 0" and docs["m::C2999"] == "doc 2999"


def test_docstrings_in_generated_code(tmp_path: Any) -> None:
    from idlc.backends.python import render

    source = (
        "module q {\n"
        '  /// Names are written "A::B"\n'
        "  struct S {\n"
        '    long a;  // three quotes """ and a backslash \\ inside\n'
        '    long b;  // ends in a quote "\n'
        "  };\n"
        "};\n"
    )
    path = tmp_path / "q.idl"
    path.write_text(source)
    diags = Diagnostics()
    spec = compile_file(str(path), Options(), diags).spec
    assert spec is not None
    files = render(spec, diags)
    (module,) = [text for name, text in files.items() if name.endswith("q_idl.py")]
    namespace: dict[str, Any] = {}
    exec(compile(module, "q_idl.py", "exec"), namespace)
    assert namespace["S"].__doc__.startswith('Names are written "A::B"')
