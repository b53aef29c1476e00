"""Read the chosen option label out of free text.

Accepted, in order of trust: a JSON object with a `final` key ({"final": "C", ...}, PARROT's
format, code fences allowed); an explicit phrase ("answer is C", "Answer: (C)"); a label at the
very start ("C", "(C)", "C. Jupiter", "C)"); a lone label standing as its own word anywhere
when it is the only label that does. Anything else is unparseable (None) and scored as invalid.
"""

from __future__ import annotations

import json
import re

_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)


def _label_pattern(labels: list[str]) -> str:
    return "|".join(re.escape(lab) for lab in sorted(labels, key=len, reverse=True))


def parse_json_final(text: str, labels: list[str]) -> str | None:
    for match in _JSON_OBJECT.finditer(text):
        try:
            obj = json.loads(match.group(0))
        except ValueError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("final"), str):
            value = obj["final"].strip().strip("()[]. ")
            return value if value in labels else None
    return None


def parse_choice(text: str | None, labels: list[str]) -> str | None:
    if not text or not text.strip():
        return None
    text = text.strip()
    if "{" in text:
        found = parse_json_final(text, labels)
        if found is not None:
            return found
    lab = _label_pattern(labels)
    explicit = re.search(
        rf"(?:answer|option|choice)\s*(?:is|:)?\s*(?:option\s*)?[\(\[]?\s*({lab})\s*[\)\]]?(?![A-Za-z0-9])",
        text, re.IGNORECASE)
    if explicit and explicit.group(1) in labels:
        return explicit.group(1)
    leading = re.match(rf"^[\(\[\*\"']*\s*({lab})\s*(?:[\)\]\.:,\*\"']|$|\n)", text)
    if leading:
        return leading.group(1)
    standalone = {m.group(1) for m in re.finditer(rf"(?<![A-Za-z0-9'])\(?({lab})\)?(?![A-Za-z0-9'])", text)}
    # A lone capital 'A' or 'I' may be an ordinary English word; only accept an unambiguous hit.
    standalone -= {"A", "I"} if len(text.split()) > 3 else set()
    if len(standalone) == 1:
        return standalone.pop()
    return None
