"""The front end's pipeline for one file: preprocess, parse, analyse, check the wire rules."""

from __future__ import annotations

from idlc import errcodes as E
from idlc import ir
from idlc.diagnostics import Diagnostics, TooManyErrors
from idlc.record import field, record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


@record(frozen=False)
class Options:
    include_dirs: Sequence[str] = ()
    defines: Mapping[str, str] = field(default_factory=dict)
    undefines: Sequence[str] = ()
    # A wire layout will be made (code generation, --sizes, idlc wire): the rules only a
    # layout needs are errors. False for --check, where they are warnings (WIRE.md 1.1).
    layout: bool = True


@record(frozen=False)
class Result:
    spec: ir.Specification | None
    dependencies: list[str]


def compile_file(
    path: str, options: Options, diags: Diagnostics, *, text: str | None = None
) -> Result:
    """Run the front end; the IR comes back only when there were no errors."""
    deps: list[str] = []
    try:
        return _compile(path, options, diags, deps, text)
    except TooManyErrors:
        return Result(None, deps)
    except RecursionError:
        # Deep input is bounded in the parser; this is the last line of defence.
        import contextlib  # here: importing it costs every run ~1 ms (functools, ...)

        with contextlib.suppress(TooManyErrors):
            diags.report(E.SYNTAX_TOO_DEEP, None, limit="the analyser's")
        return Result(None, deps)


def _compile(
    path: str, options: Options, diags: Diagnostics, deps: list[str], text: str | None
) -> Result:
    from idlc.parser import parse
    from idlc.preprocess import preprocess

    pp = preprocess(
        path,
        diags,
        include_dirs=options.include_dirs,
        defines=options.defines,
        undefines=options.undefines,
        text=text,
    )
    deps.extend(pp.dependencies)
    if diags.has_errors:
        return Result(None, deps)
    tree = parse(pp.text, pp.linemap, diags)  # type: ignore[arg-type]
    if tree is None or diags.has_errors:
        return Result(None, deps)

    from idlc import sema

    spec = sema.analyze(tree, pp, path, diags)
    if spec is None or diags.has_errors:
        return Result(None, deps)
    from idlc import keys, layout, wirecheck

    keys.check(spec, diags)
    wirecheck.check(spec, diags, layout=options.layout)
    if diags.has_errors:
        return Result(None, deps)
    spec.sizes.update(layout.compute_sizes(spec))
    return Result(spec, deps)
