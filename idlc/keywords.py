"""The spec's rules for identifiers against keywords (OMG IDL 4.2 §7.2.3-7.2.4).

idlc lexes keywords in context, so a word is only a keyword where the grammar can take
it. The spec reserves the CORBA core keywords below everywhere, and forbids identifiers
that differ from one only in case (`Interface`, `MODULE`); real files (omniORB's COS
services, rosidl) break both rules, so idlc warns (W0006, W0007; errors under -Werror)
and suggests the escape: write `_interface` to use such a word as a name. The keywords
that IDL 4 building blocks and CCM added (`map`, `bitset`, `port`, `home`, `int8`, ...)
stay usable as names where their building block is not in play, as real DDS and CORBA files expect.
"""

from __future__ import annotations

from idlc import errcodes as E
from idlc.diagnostics import Diagnostics
from idlc.source import Span

RESERVED = frozenset(
    [
        "abstract",
        "any",
        "attribute",
        "boolean",
        "case",
        "char",
        "const",
        "context",
        "custom",
        "default",
        "double",
        "enum",
        "exception",
        "FALSE",
        "factory",
        "fixed",
        "float",
        "in",
        "inout",
        "interface",
        "local",
        "long",
        "module",
        "native",
        "Object",
        "octet",
        "oneway",
        "out",
        "private",
        "public",
        "raises",
        "readonly",
        "sequence",
        "short",
        "string",
        "struct",
        "supports",
        "switch",
        "TRUE",
        "truncatable",
        "typedef",
        "unsigned",
        "union",
        "ValueBase",
        "valuetype",
        "void",
        "wchar",
        "wstring",
    ]
)

_BY_LOWER = {k.lower(): k for k in RESERVED}


def check_identifier(text: str, span: Span, diags: Diagnostics) -> None:
    """Report a reserved word used as a name, or one that collides with it by case."""
    keyword = _BY_LOWER.get(text.lower())
    if keyword is None:
        return
    if keyword == text:
        diags.report(E.W_KEYWORD_AS_IDENTIFIER, span, name=text)
    else:
        diags.report(E.W_KEYWORD_CASE, span, name=text, keyword=keyword)
