"""black is the oracle of the generated code's layout: idlc writes modules black leaves
unchanged (layout.py, docs/python-backend.md "Layout"), without running it. Checked over
the golden files, every sample, and generated code of the corpus: a sample of the files
the Python backend supports in CI, all of them when IDLC_FUZZ_EXAMPLES is set (`make
fuzz`; black over the whole corpus takes minutes)."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import black
import pytest

from idlc.backends.python import render
from idlc.backends.python.layout import split, tidy
from idlc.backends.python.strategies import render as render_strategies
from idlc.diagnostics import Diagnostics
from idlc.driver import Options, compile_file
from tests.corpus import corpus_dir, include_dirs, manifest, rebuild, with_includes_available

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden" / "expected"
SAMPLES = sorted((ROOT / "samples").rglob("*.idl"))
# the project's black settings (pyproject.toml [tool.black])
MODE = black.Mode(line_length=100, target_versions={black.TargetVersion.PY311})
CORPUS_SAMPLE = 12  # files of the corpus in CI


def _unchanged(name: str, text: str) -> None:
    formatted = black.format_str(text, mode=MODE)
    diff = difflib.unified_diff(
        text.splitlines(True), formatted.splitlines(True), name, "black", n=1
    )
    assert formatted == text, "".join(diff)[:6000]


def _generated(idl: Path, incs: list[str], defines: dict[str, str]) -> dict[str, str]:
    diags = Diagnostics()
    result = compile_file(str(idl), Options(include_dirs=incs, defines=defines), diags)
    if result.spec is None or diags.has_errors:
        return {}
    files = render(result.spec, diags)
    if files:
        files.update(render_strategies(result.spec))
    return files


def test_golden_files_are_black_clean() -> None:
    files = sorted(GOLDEN.rglob("*.py"))
    assert len(files) >= 6
    for path in files:
        _unchanged(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("idl", SAMPLES, ids=lambda p: p.stem)
def test_generated_samples_are_black_clean(idl: Path) -> None:
    files = _generated(idl, [], {})
    assert files
    for rel, text in sorted(files.items()):
        _unchanged(rel, text)


def _corpus_jobs() -> list[tuple[Path, list[str], dict[str, str]]]:
    root = corpus_dir()
    files = manifest(root)
    available = with_includes_available(files)
    tree = Path(os.environ.get("PYTEST_TMP", "/tmp")) / f"idlc-black-corpus-{os.getpid()}"
    placed = rebuild(root, files, tree)
    jobs = []
    for cf in files:
        if cf.expect not in ("valid", "valid-needs-flags") or cf.path not in available:
            continue
        defines = cf.defines() if cf.expect == "valid-needs-flags" else {}
        jobs.append((placed[cf.path], include_dirs(cf, placed), defines))
    return jobs


def test_generated_corpus_is_black_clean() -> None:
    jobs = _corpus_jobs()
    if "IDLC_FUZZ_EXAMPLES" not in os.environ:  # every len/N-th file: the same ones each run
        jobs = jobs[:: max(1, len(jobs) // CORPUS_SAMPLE)][:CORPUS_SAMPLE]
    checked = 0
    for idl, incs, defines in jobs:
        files = _generated(idl, incs, defines)
        for rel, text in sorted(files.items()):
            _unchanged(f"{idl}: {rel}", text)
        checked += bool(files)
    assert checked >= min(len(jobs), 5), "too few corpus files generate code"


@pytest.mark.parametrize(
    "line",
    [
        # a right-hand split whose head keeps the optional parentheses' place
        "if (_t1 not in _m_golden_constructs_idl._Level_BY_VALUE) or "
        "(_t2 not in _m_golden_constructs_idl._Level_BY_VALUE):",
        # a collection explodes one element per line, with a trailing comma
        "_s = _CACHE[_key] = st.one_of(st.builds(_m_x.Value, st.sampled_from([1]), "
        "st.integers(-9223372036854775808, 9223372036854775807)), st.floats())",
        # a def: parameters first, else the return annotation
        "def st_RemoteExceptionCode() -> "
        "SearchStrategy[_m_DDS_RPC_ddsi_xt_typelookup_idl.RemoteExceptionCode]:",
        # a tuple target in parentheses
        "_zr0, _zr1, _zr2, _zr3, _zr4, _zr5, _zr6, _zr7, _zr8, _zr9, _zr10, _zr11, _zr12, "
        "_zr13 = _S7.unpack_from(_u.buf, _M8[_zp])",
        # an annotated assignment whose value moves into parentheses
        "identifier_complete_minimal: _list[_m_DDS_XTypes_ddsi_xt_typeinfo_idl.TypeIdent] = "
        "_field(default_factory=_list)",
        "from ..CdrStreamSignedUnion import CdrStreamSignedUnion_idl as "
        "_m_CdrStreamSignedUnion_CdrStreamSignedUnion_idl",
        # an empty trailer stays in the tail
        "return (_rp_GreetingServiceExt_greetingWithObject_64 if _w == 8 else "
        "_rp_GreetingServiceExt_greetingWithObject_32)()",
        # black's fixed point: the return type it explodes keeps the parameters together
        "def _dq_TimeService_new_universal_time_32(_b: _bytes, _it: _c.Items) -> _tuple["
        + ", ".join(["_m_TimeBase_TimeBase_idl.TimeT"] * 4)
        + "]:",
    ],
)
def test_long_lines_are_split_as_black_splits_them(line: str) -> None:
    body = "    pass\n" if line.endswith(":") else ""
    expected = black.format_str(line + "\n" + body, mode=MODE)
    expected = black.format_str(expected, mode=MODE)  # black's fixed point
    assert "\n".join(split(line, 0)) + "\n" + body == expected
    assert len(expected.splitlines()) > 2  # the case is one black splits


def test_tidy_splits_checks_and_normalizes_quotes() -> None:
    source = "def f(_o: int) -> None:\n    if _o > 1: raise ValueError('it\\'s')\n\n\n"
    out = tidy(source)
    assert out == 'def f(_o: int) -> None:\n    if _o > 1:\n        raise ValueError("it\'s")\n'
    _unchanged("tidy", out)
