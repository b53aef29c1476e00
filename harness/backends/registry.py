"""Backends by name: `--backend NAME --model MODEL --backend-arg key=value ...`.

Every backend registers its class in BACKENDS (harness/core/plugins.py) and declares its settings
as a pydantic model, `Options`. The command line's values (strings) are validated against it, so a
wrong key or value is one line naming the key; `create_backend` then asks the class for an
instance (`Backend.create`: a local backend loads its weights lazily).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.backends.base import Backend
from harness.config.yamlfile import describe_error
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS


def parse_backend_args(pairs: Sequence[str]) -> dict[str, str]:
    """`["key=value", ...]` (repeated `--backend-arg`) as a dict; each key once."""
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise HarnessError(f"'{pair}' is not key=value", field="--backend-arg")
        if key in values:
            raise HarnessError(f"'{key}' is given twice", field="--backend-arg")
        values[key] = value
    return values


def backend_options(name: str, values: Mapping[str, Any]) -> BaseModel:
    """`values` validated against backend `name`'s Options, or one line naming the first wrong key."""
    cls: type[Backend] = BACKENDS.get(name)
    try:
        return cls.Options.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else ""
        fields = cls.Options.model_fields
        if err["type"] == "extra_forbidden":
            known = ", ".join(fields) or "none"
            message = f"the {name} backend has no option '{key}' (its options: {known})"
        elif err["type"] == "missing":
            what = fields[key].description if key in fields else None
            message = f"the {name} backend needs --backend-arg {key}=..." + (f" ({what})" if what else "")
        elif key:
            message = f"{key}={values.get(key)!r}: {describe_error(err)}"
        else:  # a check across options
            message = describe_error(err)
        raise HarnessError(message, field="--backend-arg") from None


def create_backend(name: str, model: str | None, values: Mapping[str, Any]) -> Backend:
    """The backend for `--backend NAME --model MODEL` with its options."""
    cls: type[Backend] = BACKENDS.get(name)
    return cls.create(model, backend_options(name, values))


def option_lines(cls: type[Backend]) -> list[str]:
    """`key=default  description` for each of a backend's options (`harness backends`)."""
    lines = []
    for key, field in cls.Options.model_fields.items():
        default = " (required)" if field.is_required() else f"={field.get_default(call_default_factory=True)!r}"
        lines.append(f"{key}{default}" + (f"  {field.description}" if field.description else ""))
    return lines
