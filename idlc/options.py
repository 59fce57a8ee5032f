"""Command-line options of `idlc`, parsed like a C compiler's: `-I DIR` or `-IDIR`,
`-D NAME[=VALUE]`, `--emit ir` or `--emit=ir`, files anywhere, `--` ends the options.

argparse would do, but importing it (with gettext, locale and shutil) costs about 5 ms,
a sixth of the start-up budget of a command that runs once per file in a build.
"""

from __future__ import annotations

from idlc.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

USAGE = "usage: idlc [options] FILE...   (idlc --help for more)"

HELP = """\
usage: idlc [options] FILE...
       idlc wire FILE --arch x86_64|x86_32 --interface NAME --method NAME
                 --dir request|reply [--decode] [-I DIR] [-D NAME[=VALUE]]

Compile OMG IDL 4.2 files into typed Python stubs and skeletons for NOVA IPC.
Each FILE is preprocessed (#include, #define, #if; the macro __IDLC__ is predefined),
parsed and checked; diagnostics go to stderr as `file:line:col: error[E0123]: ...`
with the source line (docs/errors.md explains every code).

what to do (one of; the default generates code):
  --check              run the front end only; generate nothing. The rules only a wire
                       layout needs are warnings here (W0012, W0013) and errors in the
                       other modes (E0513, E0518; WIRE.md 1.1)
  --emit ir            print the IR as JSON on stdout (docs/ir.md)
  --sizes              print each method's request/reply bounds in words and items, per arch
  -M                   print make-style dependencies (the files each FILE reads)

preprocessor:
  -I DIR               add DIR to the #include search path (searched in order)
  -D NAME[=VALUE]      define a macro (VALUE defaults to 1)
  -U NAME              undefine a macro, also a predefined one such as __IDLC__

output:
  -o DIR               directory for generated files (default: the current directory)
  -l, --language LANG  backend to generate code with: python (the default), cxx

diagnostics (CODE is a warning's code or name, as listed below; a later option wins):
  -Werror              turn every warning into an error
  -Werror=CODE         turn warning CODE on, as an error
  -Wno-error=CODE      keep warning CODE a warning under -Werror
  -WCODE               turn warning CODE on (-WW0010 or -Wname-used-in-scope)
  -Wno-CODE            turn warning CODE off (-Wno-W0006, -Wno-keyword-as-identifier)
  -w                   suppress all warnings
  --max-errors N       stop after N errors (default 50)

  warnings (* off unless turned on):
  W0001 unknown-pragma *            W0008 default-unreachable
  W0002 macro-redefined             W0009 warning-directive
  W0003 unknown-annotation          W0010 name-used-in-scope *
  W0004 may-not-fit                 W0011 nonstandard-literal
  W0006 keyword-as-identifier       W0012 check-unbounded-capabilities
  W0007 keyword-case-collision      W0013 check-enum-value-range

  -h, --help           show this help and exit
  --version            print the version and exit

idlc wire encodes one message given as JSON on stdin (WIRE.md §5) and prints its words
and items as JSON; with --decode it reads {"words": [...], "items": [...]} and prints the
value. It exits 1 with one line naming the field path or word index when that fails
(docs/python-backend.md lists the kinds of errors).

examples:
  idlc --check demo.idl               check only; exit 0 if the file is valid
  idlc -I include -DDEBUG=1 demo.idl  with an include path and a macro
  idlc --emit ir demo.idl             the IR as JSON
  idlc -M -o build demo.idl           dependencies for make

exit status: 0 ok, 1 errors in the input, 2 bad usage, 3 internal error (a bug)
"""

LANGUAGES = ("python", "cxx")
EMITS = ("ir",)


class UsageError(Exception):
    """A bad command line; the message says what is wrong."""


@record(frozen=False)
class CommandLine:
    files: list[str] = field(default_factory=list)
    include_dirs: list[str] = field(default_factory=list)
    defines: dict[str, str] = field(default_factory=dict)
    undefines: list[str] = field(default_factory=list)
    output: str = "."
    language: str = "python"
    mode: str = "generate"  # generate, check, emit-ir, sizes, deps
    werror: bool = False
    # warning codes, after the -W options in order (a later one for a code wins)
    enabled_warnings: set[str] = field(default_factory=set)
    disabled_warnings: set[str] = field(default_factory=set)
    error_warnings: set[str] = field(default_factory=set)
    no_error_warnings: set[str] = field(default_factory=set)
    no_warnings: bool = False
    max_errors: int = 50
    help: bool = False
    version: bool = False


# Options that take a value, and the short ones that may carry it attached (-IDIR).
_VALUED = {"-I", "-D", "-U", "-o", "-l", "--language", "--emit", "--max-errors"}
_ATTACHED = ("-I", "-D", "-U", "-o", "-l")
_MODES = {"--check": "check", "--sizes": "sizes", "-M": "deps"}


def parse(argv: Sequence[str]) -> CommandLine:
    cmd = CommandLine()
    args = list(argv)
    i = 0
    only_files = False
    while i < len(args):
        arg = args[i]
        i += 1
        if only_files or arg == "-" or not arg.startswith("-"):
            cmd.files.append(arg)
            continue
        if arg == "--":
            only_files = True
            continue
        name, value = _split(arg)
        if name in _VALUED and value is None:
            if i >= len(args):
                raise UsageError(f"option {name} needs a value")
            value = args[i]
            i += 1
        _apply(cmd, name, value, arg)
    if cmd.help or cmd.version:
        return cmd
    if not cmd.files:
        raise UsageError("no input files")
    return cmd


def _split(arg: str) -> tuple[str, str | None]:
    if arg.startswith("--"):
        name, eq, value = arg.partition("=")
        return name, value if eq else None
    for short in _ATTACHED:
        if arg.startswith(short) and len(arg) > len(short):
            return short, arg[len(short) :]
    if arg.startswith("-W") and len(arg) > 2:
        return "-W", arg[2:]
    return arg, None


def _apply(cmd: CommandLine, name: str, value: str | None, arg: str) -> None:
    if name == "-I":
        assert value is not None
        cmd.include_dirs.append(value)
    elif name == "-D":
        assert value is not None
        macro, eq, body = value.partition("=")
        if not macro.isidentifier():
            raise UsageError(f"invalid macro name in -D{value}")
        cmd.defines[macro] = body if eq else "1"
    elif name == "-U":
        assert value is not None
        if not value.isidentifier():
            raise UsageError(f"invalid macro name in -U{value}")
        cmd.undefines.append(value)
    elif name == "-o":
        assert value is not None
        cmd.output = value
    elif name in ("-l", "--language"):
        if value not in LANGUAGES:
            raise UsageError(f"unknown language '{value}' (choose from {', '.join(LANGUAGES)})")
        cmd.language = value
    elif name == "--emit":
        if value not in EMITS:
            raise UsageError(f"cannot emit '{value}' (choose from {', '.join(EMITS)})")
        _set_mode(cmd, "emit-ir", arg)
    elif name in _MODES:
        _no_value(name, value)
        _set_mode(cmd, _MODES[name], arg)
    elif name == "-W":
        assert value is not None
        _warning_option(cmd, value)
    elif name == "-w":
        cmd.no_warnings = True
    elif name == "--max-errors":
        assert value is not None
        # a length test first: int() refuses texts of more than 4300 digits
        if not value.isdigit() or len(value) > 18 or int(value) < 1:
            raise UsageError("--max-errors needs a positive number below 10^18")
        cmd.max_errors = int(value)
    elif name in ("-h", "--help"):
        cmd.help = True
    elif name == "--version":
        _no_value(name, value)
        cmd.version = True
    else:
        raise UsageError(f"unknown option {arg}")


def _warning_option(cmd: CommandLine, value: str) -> None:
    """-Werror, -Wno-error, -Werror=X, -Wno-error=X, -Wno-X, -WX; X a warning's code or
    name (W0006 or keyword-as-identifier)."""
    if value in ("error", "no-error"):
        cmd.werror = value == "error"
        return
    for prefix in ("error=", "no-error=", "no-"):
        if value.startswith(prefix):
            code = _warning_code(value[len(prefix) :], f"-W{value}")
            break
    else:
        prefix, code = "", _warning_code(value, f"-W{value}")
    if prefix == "no-error=":
        cmd.no_error_warnings.add(code)
        cmd.error_warnings.discard(code)
        return
    if prefix == "error=":
        # as GCC: -Werror=X also turns X on
        cmd.error_warnings.add(code)
        cmd.no_error_warnings.discard(code)
    on, off = (
        (cmd.disabled_warnings, cmd.enabled_warnings)
        if prefix == "no-"
        else (cmd.enabled_warnings, cmd.disabled_warnings)
    )
    on.add(code)
    off.discard(code)


def _warning_code(word: str, arg: str) -> str:
    from idlc.errcodes import TABLE

    defn = TABLE.get(word) or next(
        (d for d in TABLE.values() if d.name == word and not d.retired), None
    )
    if defn is None or defn.retired:
        raise UsageError(f"unknown warning option {arg}")
    if defn.code.startswith("E"):
        raise UsageError(f"{arg}: {defn.code} is an error, and only warnings can be switched")
    return defn.code


def _no_value(name: str, value: str | None) -> None:
    if value is not None:
        raise UsageError(f"option {name} takes no value")


def _set_mode(cmd: CommandLine, mode: str, arg: str) -> None:
    if cmd.mode != "generate" and cmd.mode != mode:
        raise UsageError(f"{arg} cannot be combined with another of --check/--emit/--sizes/-M")
    cmd.mode = mode


@record(frozen=False)
class WireCommand:
    """`idlc wire FILE --arch A --interface I --method M --dir D [--decode] [-I DIR]`"""

    file: str = ""
    arch: str = "x86_64"
    interface: str = ""
    method: str = ""
    direction: str = ""
    decode: bool = False
    include_dirs: list[str] = field(default_factory=list)
    backend: str = "python"  # whose generated code makes the words: python or cxx


_WIRE_VALUED = {"--arch", "--interface", "--method", "--dir", "-I", "--backend"}


def parse_wire(argv: Sequence[str]) -> WireCommand:
    cmd = WireCommand()
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            if cmd.file:
                raise UsageError("idlc wire takes one FILE")
            cmd.file = arg
            continue
        name, value = _split(arg)
        if name == "--decode":
            _no_value(name, value)
            cmd.decode = True
            continue
        if name not in _WIRE_VALUED:
            raise UsageError(f"unknown option {arg}")
        if value is None:
            if i >= len(args):
                raise UsageError(f"option {name} needs a value")
            value = args[i]
            i += 1
        if name == "--arch":
            if value not in ("x86_64", "x86_32"):
                raise UsageError("--arch is x86_64 or x86_32")
            cmd.arch = value
        elif name == "--interface":
            cmd.interface = value
        elif name == "--method":
            cmd.method = value
        elif name == "--backend":
            if value not in LANGUAGES:
                raise UsageError(f"--backend is one of {', '.join(LANGUAGES)}")
            cmd.backend = value
        elif name == "--dir":
            if value not in ("request", "reply"):
                raise UsageError("--dir is request or reply")
            cmd.direction = value
        else:
            cmd.include_dirs.append(value)
    if not cmd.file:
        raise UsageError("no input file")
    for opt, val in (
        ("--interface", cmd.interface),
        ("--method", cmd.method),
        ("--dir", cmd.direction),
    ):
        if not val:
            raise UsageError(f"{opt} is required")
    return cmd
