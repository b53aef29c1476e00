"""What a run changes in every task it runs, lm-eval style: `--gen-kwargs key=value,...` (the task's
`generation:` block: max_tokens, temperature, top_p, stop) and `--system-instruction TEXT` (a system
message before the task's own system prompt, if any)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from harness.config.spec import GenerationSpec
from harness.core.errors import HarnessError


def _value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_gen_kwargs(text: str | None) -> dict[str, Any]:
    """`temperature=0.7,max_tokens=64,stop=###` as a dict, each key checked against the `generation:` block."""
    if not text:
        return {}
    values: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            raise HarnessError(f"'{part}' is not key=value (e.g. temperature=0.7,max_tokens=64)", field="--gen-kwargs")
        key = key.strip()
        values[key] = [value] if key == "stop" else _value(value.strip())
    check_generation(GenerationSpec(), values)
    return values


def check_generation(current: GenerationSpec, values: dict[str, Any]) -> GenerationSpec:
    """The `generation:` block with `values` applied, or one line naming the first bad key."""
    try:
        return GenerationSpec.model_validate({**current.model_dump(), **values})
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"])
        known = ", ".join(GenerationSpec.model_fields)
        why = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        raise HarnessError(f"{key}: {why} (keys: {known})", field="--gen-kwargs") from None
