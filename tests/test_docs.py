"""Generated documentation stays in step with the code."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_errors_page_is_generated_from_the_current_table_and_examples() -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        generate = runpy.run_path(str(ROOT / "tools" / "errors_doc.py"))["generate"]
        expected = generate()
    finally:
        os.chdir(cwd)
    assert (ROOT / "docs" / "errors.md").read_text() == expected, "run `make docs`"
