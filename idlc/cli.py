"""The `idlc` command. Exit status: 0 success, 1 errors in the input, 2 bad usage,
3 an internal compiler error (a bug: reported in one line, never as a traceback)."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
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
    if argv and argv[0] == "wire":
        return _wire(argv[1:])
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

    options = Options(
        include_dirs=cmd.include_dirs,
        defines=cmd.defines,
        undefines=cmd.undefines,
        layout=cmd.mode != "check",
    )
    status = EXIT_OK
    out: TextIO = sys.stdout
    sources: dict[str, str] = {}  # generated path -> its IDL file, across the files
    for path in cmd.files:
        diags = Diagnostics(
            werror=cmd.werror,
            max_errors=cmd.max_errors,
            enabled_warnings=frozenset(cmd.enabled_warnings),
            disabled_warnings=frozenset(cmd.disabled_warnings),
            error_warnings=frozenset(cmd.error_warnings),
            no_error_warnings=frozenset(cmd.no_error_warnings),
            no_warnings=cmd.no_warnings,
        )
        result = compile_file(path, options, diags)
        spec = result.spec
        if spec is not None and not diags.has_errors:
            if cmd.mode == "deps":
                out.write(_make_rule(cmd.output, result.dependencies, spec, diags))
            elif cmd.mode == "emit-ir":
                from idlc.irjson import dumps

                out.write(dumps(spec))
            elif cmd.mode == "sizes":
                out.write(_format_sizes(spec))
            elif cmd.mode == "generate" and cmd.language == "cxx":
                from idlc.backends.cxx import generate as generate_cxx

                generate_cxx(spec, cmd.output, diags)
            elif cmd.mode == "generate":
                from idlc.backends.python import generate

                generate(spec, cmd.output, diags, sources=sources)
        diags.print_all(sys.stderr)
        if diags.has_errors or spec is None:
            status = EXIT_ERRORS
    return status


def _make_rule(outdir: str, deps: Sequence[str], spec: object, diags: object) -> str:
    """A make rule: every module the Python backend writes depends on every file read."""
    from idlc import ir
    from idlc.backends.python import render
    from idlc.diagnostics import Diagnostics

    assert isinstance(spec, ir.Specification) and isinstance(diags, Diagnostics)
    from idlc.backends.python.strategies import companion

    modules = render(spec, diags)
    # the strategies companions too (docs/python-strategies.md)
    outputs = sorted([*modules, *(companion(r) for r in modules if not r.endswith("__init__.py"))])
    targets = " ".join(_escape(os.path.join(outdir, rel)) for rel in outputs) or outdir
    lines = [f"{targets}: " + " \\\n  ".join(_escape(d) for d in deps)]
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


def _wire(argv: list[str]) -> int:
    """`idlc wire FILE.idl --arch A --interface I --method M --dir request|reply [--decode]`:
    JSON on stdin -> {"words", "items"} on stdout, or back with --decode."""
    from idlc.options import UsageError, parse_wire

    try:
        w = parse_wire(argv)
    except UsageError as err:
        sys.stderr.write(
            f"usage: idlc wire FILE.idl --arch x86_64|x86_32 --interface NAME "
            f"--method NAME --dir request|reply [--decode] [--backend python|cxx]\n"
            f"idlc: error: {err}\n"
        )
        return EXIT_USAGE
    from idlc.backends.python.wire import Loaded, run
    from idlc.diagnostics import Diagnostics
    from idlc.driver import Options, compile_file

    diags = Diagnostics()
    result = compile_file(w.file, Options(include_dirs=w.include_dirs), diags)
    diags.items = [d for d in diags.items if d.severity.value == "error"]
    if result.spec is None or diags.has_errors:
        diags.print_all(sys.stderr)
        return EXIT_ERRORS
    if w.backend == "cxx":
        return _wire_cxx(w, result.spec, diags)
    loaded = Loaded(result.spec, diags)
    if not loaded.ok:
        diags.print_all(sys.stderr)
        return EXIT_ERRORS
    try:
        text = sys.stdin.read()
    except UnicodeDecodeError as e:
        sys.stderr.write(f"idlc wire: bad input: not UTF-8 ({e.reason} at byte {e.start})\n")
        return EXIT_ERRORS
    code, out, complaint = run(loaded, w.arch, w.interface, w.method, w.direction, w.decode, text)
    sys.stdout.write(out)
    sys.stderr.write(complaint)
    return code


def _wire_cxx(w: object, spec: object, diags: object) -> int:
    """`idlc wire --backend cxx`: the words made by the generated C++ (a compiled harness,
    cached per content; docs/cxx-backend.md)."""
    from idlc import ir
    from idlc.backends.cxx import render
    from idlc.backends.cxx.wire import BuildError, Harness, run
    from idlc.diagnostics import Diagnostics
    from idlc.options import WireCommand

    assert isinstance(w, WireCommand) and isinstance(spec, ir.Specification)
    assert isinstance(diags, Diagnostics)
    files = render(spec, diags)
    if not files:
        diags.print_all(sys.stderr)
        return EXIT_ERRORS
    try:
        text = sys.stdin.read()
    except UnicodeDecodeError as e:
        sys.stderr.write(f"idlc wire: bad input: not UTF-8 ({e.reason} at byte {e.start})\n")
        return EXIT_ERRORS
    try:
        harness = Harness(spec, files)
    except BuildError as e:
        sys.stderr.write(f"idlc wire: {str(e).splitlines()[0]}\n")
        return EXIT_INTERNAL
    try:
        code, out, complaint = run(
            harness, w.arch, w.interface, w.method, w.direction, w.decode, text
        )
    finally:
        harness.close()
    sys.stdout.write(out)
    sys.stderr.write(complaint)
    return code


if __name__ == "__main__":
    sys.exit(main())
