"""The `idlc` command. Exit status: 0 success, 1 errors in the input, 2 bad usage,
3 an internal compiler error (a bug: reported in one line, never as a traceback)."""

from __future__ import annotations

import argparse
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

DESCRIPTION = """\
Compile OMG IDL 4.2 files into typed Python stubs and skeletons for NOVA IPC.

Each FILE is preprocessed (#include, #define, #if; the macro __IDLC__ is predefined),
parsed and checked; diagnostics go to stderr as `file:line:col: error[E0123]: ...`
with the source line (docs/errors.md explains every code).
"""

EPILOG = """\
examples:
  idlc --check demo.idl               check only; exit 0 if the file is valid
  idlc -I include -DDEBUG=1 demo.idl  with an include path and a macro
  idlc --emit ir demo.idl             print the IR as JSON (docs/ir.md)
  idlc --sizes demo.idl               per-method message sizes in words, per arch
  idlc -M demo.idl                    make-style dependencies of the file

exit status: 0 ok, 1 errors in the input, 2 bad usage, 3 internal error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        sys.stderr.write(f"idlc: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def _build_parser() -> argparse.ArgumentParser:
    from idlc import __version__

    p = _Parser(
        prog="idlc",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="IDL files to compile")
    p.add_argument(
        "-I",
        dest="include_dirs",
        action="append",
        default=[],
        metavar="DIR",
        help="add DIR to the #include search path (searched in order)",
    )
    p.add_argument(
        "-D",
        dest="defines",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="define a macro (VALUE defaults to 1)",
    )
    p.add_argument(
        "-U",
        dest="undefines",
        action="append",
        default=[],
        metavar="NAME",
        help="undefine a macro, also a predefined one",
    )
    p.add_argument(
        "-o",
        dest="output",
        metavar="DIR",
        default=".",
        help="directory for generated files (default: the current directory)",
    )
    p.add_argument(
        "-l",
        "--language",
        default="python",
        choices=["python"],
        help="the backend to generate code with (default: python)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="run the front end only; generate nothing"
    )
    mode.add_argument(
        "--emit", choices=["ir"], help="print the IR as JSON on stdout instead of generating"
    )
    mode.add_argument(
        "--sizes",
        action="store_true",
        help="print each method's request/reply size bounds in words and items, per arch",
    )
    mode.add_argument(
        "-M",
        dest="deps",
        action="store_true",
        help="print make-style dependencies (the files each FILE reads) and stop",
    )
    p.add_argument(
        "-W",
        dest="warnings",
        action="append",
        default=[],
        metavar="CODE|error",
        help="-Werror turns warnings into errors; -W<CODE> enables an opt-in warning "
        "such as W0001 (unknown #pragma)",
    )
    p.add_argument("-w", dest="no_warnings", action="store_true", help="suppress all warnings")
    p.add_argument(
        "--max-errors",
        type=int,
        default=50,
        metavar="N",
        help="stop after N errors (default 50)",
    )
    p.add_argument("--version", action="version", version=f"idlc {__version__}")
    return p


def _parse_defines(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not name.isidentifier():
            _usage(f"invalid macro name in -D{item}")
        out[name] = value if eq else "1"
    return out


def _usage(message: str) -> NoReturn:
    sys.stderr.write(f"idlc: error: {message}\n")
    raise SystemExit(EXIT_USAGE)


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
    args = _build_parser().parse_args(argv)
    werror = False
    enabled: set[str] = set()
    for w in args.warnings:
        if w == "error":
            werror = True
        elif len(w) == 5 and w[0] == "W" and w[1:].isdigit():
            enabled.add(w)
        else:
            _usage(f"unknown warning option -W{w}")
    if args.max_errors < 1:
        _usage("--max-errors must be at least 1")

    from idlc.diagnostics import Diagnostics
    from idlc.driver import Options, compile_file

    options = Options(
        include_dirs=list(args.include_dirs),
        defines=_parse_defines(args.defines),
        undefines=list(args.undefines),
    )
    status = EXIT_OK
    out: TextIO = sys.stdout
    for path in args.files:
        diags = Diagnostics(
            werror=werror, max_errors=args.max_errors, enabled_warnings=frozenset(enabled)
        )
        result = compile_file(path, options, diags)
        if args.no_warnings:
            diags.items = [d for d in diags.items if d.severity.value == "error"]
            diags.warning_count = 0
        diags.print_all(sys.stderr)
        if diags.has_errors or result.spec is None:
            status = EXIT_ERRORS
            continue
        if args.deps:
            out.write(_make_rule(path, args.output, result.dependencies))
        elif args.emit == "ir":
            from idlc.irjson import dumps

            out.write(dumps(result.spec) + "\n")
        elif args.sizes:
            out.write(_format_sizes(result.spec))
        elif not args.check:
            status = max(status, _generate(result.spec, args.language, args.output, diags))
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
