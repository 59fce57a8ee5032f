"""Diagnostics: collected while compiling, rendered like gcc/rustc with a quoted line."""

from __future__ import annotations

import sys

from idlc.errcodes import DiagDef, Severity
from idlc.record import field, record
from idlc.source import SourceManager, Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import TextIO


class TooManyErrors(Exception):
    """Raised inside the compiler to stop once the error limit is reached."""


@record(frozen=False)
class Note:
    span: Span | None
    message: str


@record(frozen=False)
class Diagnostic:
    defn: DiagDef
    span: Span | None
    message: str
    severity: Severity
    notes: list[Note] = field(default_factory=list)

    @property
    def code(self) -> str:
        return self.defn.code


class Diagnostics:
    """Collects diagnostics for one compilation; every phase reports through one of these."""

    def __init__(
        self,
        sources: SourceManager | None = None,
        *,
        werror: bool = False,
        max_errors: int = 100,
        enabled_warnings: frozenset[str] = frozenset(),
        disabled_warnings: frozenset[str] = frozenset(),
        error_warnings: frozenset[str] = frozenset(),
        no_error_warnings: frozenset[str] = frozenset(),
        no_warnings: bool = False,
    ) -> None:
        self.sources = sources if sources is not None else SourceManager()
        self.werror = werror
        self.max_errors = max_errors
        # GCC-style control by code: -W<CODE> turns an opt-in warning on (enabled),
        # -Wno-<CODE> turns any warning off (disabled), -Werror=<CODE> makes one an error
        # and -Wno-error=<CODE> exempts one from -Werror; -w hides every warning left.
        self.enabled_warnings = enabled_warnings
        self.disabled_warnings = disabled_warnings
        self.error_warnings = error_warnings
        self.no_error_warnings = no_error_warnings
        self.no_warnings = no_warnings
        self.items: list[Diagnostic] = []
        self.error_count = 0
        self.warning_count = 0

    def report(
        self,
        defn: DiagDef,
        span: Span | None,
        *,
        notes: list[Note] | None = None,
        **args: object,
    ) -> Diagnostic | None:
        """Record one diagnostic; returns None for a warning that is switched off."""
        severity: Severity | None = defn.severity
        if severity is Severity.WARNING:
            severity = self.warning_severity(defn)
        if severity is None:
            return None
        diag = Diagnostic(defn, span, defn.format(**args), severity, notes or [])
        self.items.append(diag)
        if severity is Severity.ERROR:
            self.error_count += 1
            if self.error_count >= self.max_errors:
                raise TooManyErrors
        else:
            self.warning_count += 1
        return diag

    def warning_severity(self, defn: DiagDef) -> Severity | None:
        """What a warning is reported as under the options, or None when it is off."""
        code = defn.code
        if code in self.disabled_warnings or (defn.opt_in and code not in self.enabled_warnings):
            return None
        if code in self.error_warnings or (self.werror and code not in self.no_error_warnings):
            return Severity.ERROR
        return None if self.no_warnings else Severity.WARNING

    @property
    def has_errors(self) -> bool:
        return self.error_count > 0

    def codes(self) -> list[str]:
        return [d.code for d in self.items]

    def first_error(self) -> Diagnostic | None:
        return next((d for d in self.items if d.severity is Severity.ERROR), None)

    # --- rendering -------------------------------------------------------------

    def render(self, diag: Diagnostic) -> str:
        out: list[str] = []
        if diag.span is not None:
            out.extend(_include_chain(diag.span))
        label = f"{diag.severity.value}[{diag.code}]"
        out.append(_headline(diag.span, label, diag.message))
        out.extend(self._quote(diag.span))
        for note in diag.notes:
            out.append(_headline(note.span, "note", note.message))
            out.extend(self._quote(note.span))
        return "\n".join(out)

    def _quote(self, span: Span | None) -> list[str]:
        if span is None:
            return []
        text = self.sources.line(span.file, span.line)
        if text is None:
            return []
        text = text.expandtabs(1)
        num = str(span.line)
        pad = " " * len(num)
        start = max(span.col - 1, 0)
        if span.end_line == span.line:
            width = max(span.end_col - span.col, 1)
        else:
            width = max(len(text) - start, 1)
        if len(text) > 200:
            # Keep huge lines readable: show a window around the column.
            lo = max(start - 80, 0)
            text = text[lo : lo + 160]
            start -= lo
        width = min(width, max(len(text) - start, 1))
        underline = " " * start + "^" + "~" * (width - 1)
        return [f" {num} | {text}", f" {pad} | {underline}"]

    def print_all(self, stream: TextIO | None = None) -> None:
        stream = stream if stream is not None else sys.stderr
        for diag in self.items:
            stream.write(self.render(diag) + "\n")
        if self.error_count or self.warning_count:
            parts = []
            if self.error_count:
                parts.append(f"{self.error_count} error{'s' if self.error_count != 1 else ''}")
            if self.warning_count:
                s = "s" if self.warning_count != 1 else ""
                parts.append(f"{self.warning_count} warning{s}")
            stream.write(" and ".join(parts) + " generated.\n")


def with_article(word: str) -> str:
    """'a struct', 'an enum': for messages that name a kind of declaration or value."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _headline(span: Span | None, label: str, message: str) -> str:
    where = f"{span.file}:{span.line}:{span.col}: " if span is not None else "idlc: "
    return f"{where}{label}: {message}"


def _include_chain(span: Span) -> list[str]:
    chain: list[Span] = []
    site = span.included_from
    while site is not None and len(chain) < 200:
        chain.append(site)
        site = site.included_from
    if len(chain) > 12:
        # A runaway include (a file that includes itself) would print hundreds of lines.
        hidden = len(chain) - 10
        chain = chain[:5] + chain[-5:]
    else:
        hidden = 0
    lines = []
    for i, s in enumerate(chain):
        if hidden and i == 5:
            lines.append(f"                 ... ({hidden} more)")
        lead = "In file included from" if i == 0 else "                 from"
        end = ":" if i == len(chain) - 1 else ","
        lines.append(f"{lead} {s.file}:{s.line}{end}")
    return lines
