"""Key pragmas of DDS IDL: `#pragma keylist Type member...` (Cyclone DDS, OpenSplice) and
`#pragma DCPS_DATA_KEY "Type path"` (OpenDDS). They name a struct's key members by path
(`a.b`, `arr[2]`); idlc checks that every path names a member, and for DCPS_DATA_KEY
also OpenDDS's rule that a key ends at a scalar, enum or string (arrays fully indexed).
"""

from __future__ import annotations

from idlc import errcodes as E
from idlc import ir, regex
from idlc.diagnostics import Diagnostics
from idlc.source import Span

_STEP = regex.compile(r"([A-Za-z_]\w*)((?:\[\d+\])*)")
_INDEX = regex.compile(r"\[(\d+)\]")


def check(spec: ir.Specification, diags: Diagnostics) -> None:
    for pragma in spec.pragmas:
        if pragma.name == "keylist":
            words = pragma.args.replace(",", " ").split()
            if words:
                _check(spec, diags, pragma.span, words[0], words[1:], strict=False)
        elif pragma.name == "DCPS_DATA_KEY":
            text = pragma.args.strip()
            if len(text) >= 2 and text[0] == text[-1] == '"':
                text = text[1:-1]
            words = text.split()
            if len(words) != 2:
                diags.report(
                    E.PP_BAD_PRAGMA,
                    pragma.span,
                    name=pragma.name,
                    detail='expected "Type member.path"',
                )
                continue
            _check(spec, diags, pragma.span, words[0], words[1:], strict=True)


def _find_struct(spec: ir.Specification, name: str) -> ir.Struct | None:
    name = name.removeprefix("::")
    decl = spec.lookup(name)
    if isinstance(decl, ir.Struct):
        return decl
    # keylist names the type relative to where the pragma stands: accept a unique match.
    matches = [
        d
        for d in spec.declarations
        if isinstance(d, ir.Struct) and (d.name == name or d.name.endswith("::" + name))
    ]
    return matches[0] if len(matches) == 1 else None


def _check(
    spec: ir.Specification,
    diags: Diagnostics,
    span: Span,
    type_name: str,
    paths: list[str],
    *,
    strict: bool,
) -> None:
    struct = _find_struct(spec, type_name)
    if struct is None:
        diags.report(E.KEY_BAD_PATH, span, path=type_name, detail="no such struct")
        return
    for path in paths:
        problem = _walk(spec, struct, path, strict)
        if problem is not None:
            if len(problem) > 200:  # a 5000-digit index, quoted
                problem = f"{problem[:100]}..."
            shown = path if len(path) <= 80 else f"{path[:72]}..."
            diags.report(E.KEY_BAD_PATH, span, path=f"{type_name} {shown}", detail=problem)


def _walk(spec: ir.Specification, struct: ir.Struct, path: str, strict: bool) -> str | None:
    t: ir.Type = ir.Ref(struct.name, "struct")
    for step in path.split("."):
        m = _STEP.fullmatch(step)
        if m is None:
            return f"'{step}' is not a member name with optional [index]es"
        t = _resolve(spec, t)
        if not isinstance(t, ir.Ref) or t.kind != "struct":
            return f"'{m.group(1)}' is a member of a {_describe(t)}, not of a struct"
        fields = _all_fields(spec, t.name)
        found = next((f for f in fields if f.name == m.group(1)), None)
        if found is None:
            return f"'{t.name}' has no member '{m.group(1)}'"
        t = found.type
        for index in _INDEX.findall(m.group(2)):
            t = _resolve(spec, t)
            if not isinstance(t, ir.Array):
                return f"'{m.group(1)}' is not an array and cannot be indexed"
            # the length test first: int() refuses texts of more than 4300 digits
            if len(index.lstrip("0")) > 20 or int(index) >= t.dims[0]:
                return f"index {index} is out of range for '{m.group(1)}'"
            t = ir.Array(t.element, t.dims[1:]) if len(t.dims) > 1 else t.element
    t = _resolve(spec, t)
    if strict:
        if isinstance(t, ir.Array):
            return "an array key must be indexed down to one element"
        if isinstance(t, ir.Ref) and t.kind == "struct":
            return "a key must name a member inside this struct, not the whole struct"
        if not isinstance(t, (ir.Primitive, ir.String)) and not (
            isinstance(t, ir.Ref) and t.kind == "enum"
        ):
            return f"a key cannot be a {_describe(t)}"
    return None


def _resolve(spec: ir.Specification, t: ir.Type) -> ir.Type:
    for _ in range(100):
        if not (isinstance(t, ir.Ref) and t.kind == "typedef"):
            return t
        decl = spec.lookup(t.name)
        if not isinstance(decl, ir.Typedef):
            return t
        t = decl.type
    return t


def _all_fields(spec: ir.Specification, name: str) -> list[ir.Field]:
    decl = spec.lookup(name)
    if not isinstance(decl, ir.Struct):
        return []
    base = _all_fields(spec, decl.base) if decl.base else []
    return base + list(decl.fields)


def _describe(t: ir.Type) -> str:
    if isinstance(t, ir.Ref):
        return t.kind
    return type(t).__name__.lower()
