"""Source positions: spans into original files, and the files' text for rendering."""

from __future__ import annotations

from idlc.record import record


@record
class Span:
    """A range in an original source file; lines and columns are 1-based, end_col exclusive.

    ``included_from`` is the span of the ``#include`` directive that brought ``file`` in,
    so a diagnostic can print the chain like a C compiler does.
    """

    file: str
    line: int
    col: int
    end_line: int
    end_col: int
    included_from: Span | None = None

    @staticmethod
    def point(file: str, line: int, col: int, included_from: Span | None = None) -> Span:
        return Span(file, line, col, line, col + 1, included_from)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SourceManager:
    """Holds the text of every file read, so diagnostics can quote the offending line."""

    def __init__(self) -> None:
        self._text: dict[str, str] = {}
        self._lines: dict[str, list[str]] = {}

    def add(self, path: str, text: str) -> None:
        self._text[path] = text
        self._lines.pop(path, None)

    def text(self, path: str) -> str | None:
        return self._text.get(path)

    def line(self, path: str, line: int) -> str | None:
        lines = self._lines.get(path)
        if lines is None:
            text = self._text.get(path)
            if text is None:
                return None
            lines = text.splitlines()
            self._lines[path] = lines
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None

    def files(self) -> list[str]:
        return list(self._text)
