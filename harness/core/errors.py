"""One error type for every bad input: it carries where the problem is.

The CLI prints it as a single line (``file:line: field: message``) and exits with code 2.
"""

from __future__ import annotations

from pathlib import Path


class HarnessError(Exception):
    """A user-facing error with a location: file, line (when known) and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = self.file + (f":{self.line}" if self.line else "") + ": "
        field = f"field '{self.field}': " if self.field else ""
        # Keep it one line whatever the message contains.
        text = " ".join(f"{where}{field}{self.message}".split())
        return text
