"""The `idlc` command. Exit status: 0 success, 1 errors in the input, 2 bad usage,
3 an internal compiler error (a bug: reported in one line, never as a traceback)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn, TextIO

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


def run() -> NoReturn:
    """The console entry point: main(), then exit without the interpreter's teardown,
    which would cost a C compiler driver's whole start-up budget again (~5 ms)."""
    status = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        status = status or EXIT_INTERNAL
    from idlc import record

    record.save_cache()
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as stop:
        code = stop.code
        return code if isinstance(code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("idlc: interrupted\n")
        return 130
    except Exception as exc:
        if os.environ.get("IDLC_DEBUG"):
            raise
        sys.stderr.write(
            f"idlc: internal compiler error: {type(exc).__name__}: {exc} "
            "(set IDLC_DEBUG=1 for a traceback)\n"
        )
        return EXIT_INTERNAL


def _main(argv: list[str]) -> int:
    from idlc.options import HELP, USAGE, UsageError, parse

    try:
        cmd = parse(argv)
    except UsageError as err:
        sys.stderr.write(f"{USAGE}\nidlc: error: {err}\n")
        return EXIT_USAGE
    if cmd.help:
        sys.stdout.write(HELP)
        return EXIT_OK
    if cmd.version:
        from idlc import __version__

        sys.stdout.write(f"idlc {__version__}\n")
        return EXIT_OK

    from idlc.diagnostics import Diagnostics
    from idlc.driver import Options, compile_file

    options = Options(include_dirs=cmd.include_dirs, defines=cmd.defines, undefines=cmd.undefines)
    status = EXIT_OK
    out: TextIO = sys.stdout
    for path in cmd.files:
        diags = Diagnostics(
            werror=cmd.werror,
            max_errors=cmd.max_errors,
            enabled_warnings=frozenset(cmd.enabled_warnings),
        )
        result = compile_file(path, options, diags)
        if cmd.no_warnings:
            diags.items = [d for d in diags.items if d.severity.value == "error"]
            diags.warning_count = 0
        diags.print_all(sys.stderr)
        if diags.has_errors or result.spec is None:
            status = EXIT_ERRORS
            continue
        if cmd.mode == "deps":
            out.write(_make_rule(path, cmd.output, result.dependencies))
        elif cmd.mode == "emit-ir":
            from idlc.irjson import dumps

            out.write(dumps(result.spec) + "\n")
        elif cmd.mode == "sizes":
            out.write(_format_sizes(result.spec))
        elif cmd.mode == "generate":
            status = max(status, _generate(result.spec, cmd.language, cmd.output, diags))
    return status


def _make_rule(path: str, outdir: str, deps: Sequence[str]) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    target = os.path.join(outdir, f"{stem}_idl.py")
    lines = [f"{target}: " + " \\\n  ".join(_escape(d) for d in deps)]
    # Phony targets for headers, so deleting one does not break make (as gcc -MP).
    lines.extend(f"{_escape(d)}:" for d in deps[1:])
    return "\n".join(lines) + "\n"


def _escape(path: str) -> str:
    return path.replace(" ", "\\ ")


def _format_sizes(spec: object) -> str:
    from idlc import ir

    assert isinstance(spec, ir.Specification)
    rows: list[str] = []
    for arch, interfaces in spec.sizes.items():
        for iface, methods in interfaces.items():
            for method, (req, rep) in methods.items():
                rows.append(f"{arch:7} {iface}::{method:24} request {_fmt(req)}  reply {_fmt(rep)}")
    return "\n".join(rows) + ("\n" if rows else "")


def _fmt(size: object) -> str:
    from idlc import ir

    if size is None:
        return "-(oneway)"
    assert isinstance(size, ir.MessageSize)
    words = f"{size.min_words}..{'inf' if size.max_words is None else size.max_words}"
    items = f"{size.min_items}..{'inf' if size.max_items is None else size.max_items}"
    return f"words {words:10} items {items:6}"


def _generate(spec: object, language: str, outdir: str, diags: object) -> int:
    sys.stderr.write(
        f"idlc: the {language} backend is not available yet; use --check, --emit ir or --sizes\n"
    )
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
