"""Prompt templates: jinja2 in a sandbox, with undefined variables as errors.

Templates may come from strangers, so they render in jinja2's ImmutableSandboxedEnvironment
(no attribute access to internals such as __class__, no file or OS access), never autoescaped
(prompts are plain text; HTML escaping happens only in the report).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from harness.core.errors import HarnessError

_ENV = ImmutableSandboxedEnvironment(
    undefined=jinja2.StrictUndefined,
    autoescape=False,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PromptTemplate:
    def __init__(self, file: Path) -> None:
        self.file = file
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise HarnessError(f"cannot read template ({exc})", file=file) from None
        try:
            self.variables = frozenset(meta.find_undeclared_variables(_ENV.parse(text)))
            self._template = _ENV.from_string(text)
        except jinja2.TemplateSyntaxError as exc:
            raise HarnessError(f"template syntax error: {exc.message}", file=file, line=exc.lineno) from None

    def render(self, context: dict[str, Any], *, item_id: str = "", strip: bool = True) -> str:
        """The rendered text; `strip=False` keeps its leading and trailing whitespace (code prompts)."""
        where = f" (item {item_id})" if item_id else ""
        try:
            text = self._template.render(**context)
            return text.strip() if strip else text
        except jinja2.UndefinedError as exc:
            raise HarnessError(f"template uses an unknown variable: {exc.message}{where}",
                               file=self.file) from None
        except SecurityError as exc:
            raise HarnessError(f"template tried an unsafe operation: {exc}{where}", file=self.file) from None
        except jinja2.TemplateError as exc:
            raise HarnessError(f"template error: {exc}{where}", file=self.file) from None


@lru_cache(maxsize=256)
def load_template(file: Path) -> PromptTemplate:
    return PromptTemplate(file)
