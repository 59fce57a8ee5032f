"""Backend inputs that once escaped as internal errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from idlc.cli import main


def test_recursion_through_an_external_member_is_sized(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "rec.idl"
    src.write_text(
        "union U;\n"
        "struct S { @external U inner; };\n"
        "union U switch (long) { case 1: long a; case 2: S s; };\n"
        "struct T { sequence<S> ss; };\n"
        "interface I { T get(); };\n"
    )
    assert main(["--sizes", str(src)]) == 0
    out = capsys.readouterr().out
    # The smallest reply: status, then T's sequence length word.
    assert "reply words 2..inf" in " ".join(out.split())


def test_more_unsupported_uses_than_the_error_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "many.idl"
    src.write_text("".join(f"struct S{i} {{ any a; }};\n" for i in range(120)))
    code = main(["-o", str(tmp_path / "out"), str(src)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("error[E0901]") == 50
    assert "internal compiler error" not in err
