""" "Did you mean ...?": the closest of some known words to a word that is not one of them.

Used for misspelled keywords (the parser's recovery), undeclared names (sema) and unknown
annotations. Closeness is the optimal string alignment distance (insertions, deletions,
substitutions and swaps of neighbours, one each), with a difference only in case costing
nothing more than a match would: `String` is at distance 0 from `string` once lowered,
and ranked before any real misspelling.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from idlc.diagnostics import Note
from idlc.source import Span


def distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of a and b, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, prev2[j - 2] + 1)
            cur[j] = best
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def allowed(word: str) -> int:
    """How many edits a suggestion for word may be away: none for a short word (any
    one-letter name is one edit from every other), one up to five letters, two beyond."""
    n = len(word)
    return 0 if n < 2 else 1 if n <= 5 else 2


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to word within allowed(word) edits (a difference only in
    case first), or None; ties go to the length nearer word's (`Valeu` is `Value` with
    two letters swapped, rather than `Vale` with one added), then to sorted order."""
    lowered = word.lower()
    limit = allowed(word)
    best: tuple[int, int, int, str] | None = None
    for cand in candidates:
        if cand == word:
            continue
        low = cand.lower()
        if low == lowered:
            key = (0, 0, 0, cand)
        else:
            d = distance(lowered, low, limit)
            if d > limit:
                continue
            key = (1, d, abs(len(cand) - len(word)), cand)
        if best is None or key < best:
            best = key
    return best[3] if best is not None else None


# Entries that a name in a declaration never refers to: suggesting one would mislead.
_NOT_NAMES = frozenset(
    ["member", "state member", "bitfield", "operation", "attribute", "param", "annotation"]
)


def similar_name(name: Any, scope: Any, root: Any) -> list[Note]:
    """For an undeclared ast.Name looked up from scope (sema's Scope): a note naming the
    closest declaration that its first missing part could have meant, where it is declared;
    or no note."""
    scopes: list[Any] = [root] if name.absolute else []
    s = None if name.absolute else scope
    while s is not None:
        scopes.append(s)
        s = s.parent
    parts: tuple[str, ...] = name.parts
    i = 0  # the first part not found
    while True:
        if i == len(parts):
            return []
        part = parts[i]
        entry = next((e for sc in scopes if (e := _visible(sc).get(part)) is not None), None)
        if entry is None:
            break
        scopes = [entry.scope] if entry.scope is not None else []
        i += 1
    names: dict[str, Any] = {}
    for sc in scopes:
        for key, e in _visible(sc).items():
            if e.kind not in _NOT_NAMES:
                names.setdefault(key, e)
    best = closest(part, sorted(names))
    if best is None:
        return []
    shown = "::".join((*parts[:i], best))
    return [Note(names[best].span, f"did you mean '{shown}'? it is declared here")]


def _visible(scope: Any) -> dict[str, Any]:
    """A scope's own entries and those it inherits (interfaces, valuetypes)."""
    if not scope.bases:
        return scope.entries  # type: ignore[no-any-return]
    out: dict[str, Any] = {}
    stack = [scope]
    seen: set[int] = set()
    while stack:
        s = stack.pop(0)
        if id(s) in seen:
            continue
        seen.add(id(s))
        for key, e in s.entries.items():
            out.setdefault(key, e)
        stack.extend(s.bases)
    return out


def similar_annotation(name: str, known: Iterable[str], span: Span) -> list[Note]:
    """For an unknown annotation (at span): a note naming the closest known one, or none."""
    best = closest(name, sorted(set(known)))
    return [Note(span, f"did you mean '@{best}'?")] if best is not None else []
