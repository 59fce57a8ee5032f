"""docs/tutorial.md runs: its code blocks, in order, in one empty folder (a block headed
``file=NAME`` is written, a ``sh`` block runs in bash, a ``text`` block after it lists
lines its output must contain, in order). The package is the installed one, as a user's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"
FENCE = re.compile(r"^```(\S*)(.*)$")


def blocks(text: str) -> list[tuple[str, dict[str, str], str]]:
    """(language, attributes, body) of every fenced block."""
    out: list[tuple[str, dict[str, str], str]] = []
    lines = iter(text.splitlines())
    for line in lines:
        m = FENCE.match(line)
        if m is None:
            continue
        attrs = dict(a.split("=", 1) for a in m.group(2).split() if "=" in a)
        body = []
        for inner in lines:
            if inner.startswith("```"):
                break
            body.append(inner)
        out.append((m.group(1), attrs, "\n".join(body) + "\n"))
    return out


def test_every_block_is_of_a_kind_the_runner_knows() -> None:
    found = blocks(TUTORIAL.read_text())
    assert len(found) >= 12
    for lang, attrs, _ in found:
        assert "file" in attrs or lang in ("sh", "text"), (lang, attrs)


def contains_in_order(output: str, expected: str) -> bool:
    got = [line.rstrip() for line in output.splitlines()]
    i = 0
    for want in (w.rstrip() for w in expected.splitlines() if w.strip()):
        while i < len(got) and want not in got[i]:
            i += 1
        if i == len(got):
            return False
        i += 1
    return True


def test_tutorial_runs(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    last = ""
    for lang, attrs, body in blocks(TUTORIAL.read_text()):
        if "file" in attrs:
            (tmp_path / attrs["file"]).write_text(body)
        elif lang == "sh":
            run = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", body],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert run.returncode == 0, f"{body}\n{run.stdout}\n{run.stderr}"
            last = run.stdout + run.stderr
        elif lang == "text":
            assert contains_in_order(last, body), f"expected:\n{body}\ngot:\n{last}"
        else:
            pytest.fail(f"a block the runner does not know: {lang} {attrs}")
