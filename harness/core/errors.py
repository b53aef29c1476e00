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


class HarnessErrors(HarnessError):
    """Several problems found at once (every schema error of a file): one line each, after a count."""

    def __init__(self, errors: list[HarnessError]) -> None:
        super().__init__(f"{len(errors)} problems: " + "; ".join(e.message for e in errors), file=errors[0].file)
        self.errors = errors

    def __str__(self) -> str:
        return f"{len(self.errors)} problems:\n" + "\n".join(f"  {e}" for e in self.errors)


def raise_all(errors: list[HarnessError]) -> None:
    """Raise the one error, or all of them together; nothing when the list is empty."""
    if len(errors) == 1:
        raise errors[0] from None
    if errors:
        raise HarnessErrors(errors) from None
