"""Prompt templates: jinja2 in a bounded sandbox, with undefined variables as errors.

Templates may come from strangers, so they render in `harness/config/sandbox.py`'s environment
(no internals, files or OS; bounded size, loops, calls and ranges; no include or import), never
autoescaped (prompts are plain text; HTML escaping happens only in the report). Whatever goes
wrong while a template is read or rendered is one HarnessError naming the template file.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SecurityError

from harness.config.sandbox import BoundedSandbox, Refused, render
from harness.core.errors import HarnessError

MAX_TEMPLATE_BYTES = 1 << 20


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined that says when a template asks for a column hidden from it (a target)."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        row = self._undefined_obj
        if isinstance(row, TemplateRow) and self._undefined_name in row._hidden:
            return (f"row.{row._path}{self._undefined_name} is a target column (the gold answer), hidden from "
                    "prompt templates; set prompt.row_targets: true to show it")
        return super()._undefined_message


class TemplateRow(dict):  # type: ignore[type-arg]
    """A dataset row as templates see it: without the target columns (named in `_hidden`, which templates
    cannot read: the sandbox refuses names starting with `_`)."""

    def __init__(self, row: dict[str, Any], hidden: frozenset[str], path: str = "") -> None:
        super().__init__(row)
        self._hidden = hidden
        self._path = path  # "meta." for the object row["meta"]


_ENV = BoundedSandbox(
    undefined=_Undefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PromptTemplate:
    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            if file.stat().st_size > MAX_TEMPLATE_BYTES:
                raise HarnessError(f"template larger than {MAX_TEMPLATE_BYTES >> 20} MiB", file=file)
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HarnessError(f"cannot read template ({exc})", file=file) from None
        try:
            self.variables = frozenset(meta.find_undeclared_variables(_ENV.parse(text)))
            self._template = _ENV.from_string(text)
        except Refused as exc:
            raise HarnessError(exc.message or "", file=file, line=exc.lineno) from None
        except jinja2.TemplateSyntaxError as exc:
            raise HarnessError(f"template syntax error: {exc.message}", file=file, line=exc.lineno) from None
        except (RecursionError, SyntaxError, MemoryError) as exc:  # nesting deeper than jinja2 or Python compile
            raise HarnessError(f"template cannot be compiled ({type(exc).__name__}: nested too deeply?)",
                               file=file) from None

    def render(self, context: dict[str, Any], *, item_id: str = "", strip: bool = True) -> str:
        """The rendered text; `strip=False` keeps its leading and trailing whitespace (code prompts)."""
        where = f" (item {item_id})" if item_id else ""
        try:
            text = render(self._template, context)
            return text.strip() if strip else text
        except jinja2.UndefinedError as exc:
            raise HarnessError(f"template uses an unknown variable: {exc.message}{where}",
                               file=self.file) from None
        except SecurityError as exc:
            raise HarnessError(f"template tried an unsafe operation: {exc}{where}", file=self.file) from None
        except jinja2.TemplateError as exc:
            raise HarnessError(f"template error: {exc}{where}", file=self.file) from None
        except RecursionError:
            raise HarnessError(f"template recursion too deep (a macro calling itself?){where}",
                               file=self.file) from None
        except HarnessError:
            raise
        except Exception as exc:  # a template is code from the task's author: any failure is theirs
            raise HarnessError(f"template failed: {type(exc).__name__}: {exc}{where}", file=self.file) from None


@lru_cache(maxsize=256)
def load_template(file: Path) -> PromptTemplate:
    return PromptTemplate(file)
