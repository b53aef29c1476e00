"""NoMIRACL answer parsing and the recorded-outputs loader (SPEC.md §2).

The model is shown a question and 10 passages and told to answer either "Yes, answer is
present" or "I don't know" (SPEC.md §2.2). `parse` maps a raw output to one of three labels
exactly as the official `VanillaTemplate.postprocess` (project-miracl/nomiracl,
`nomiracl/prompts/template.py`) does, so that scores computed here match the official ones.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harness.core.errors import HarnessError

Label = Literal["answer", "no_answer", "invalid"]
Subset = Literal["relevant", "non_relevant"]

NO_ANSWER = "i don't know"  # NA, lower-cased "I don't know"
ANSWER = "yes, answer is present"  # YA, lower-cased "Yes, answer is present"
_CITATION = re.compile(r"\[\d+\]")  # official: r"\[(\d+|10)\]"; `\d` is Unicode-aware, as there

SUBSETS: tuple[Subset, ...] = ("relevant", "non_relevant")


def parse(output: str | None) -> Label:
    """Label a raw model output "answer", "no_answer" or "invalid" (SPEC.md §2.3).

    The rule, as in the official `VanillaTemplate.postprocess`:

        Lower-case, replace newlines/tabs with spaces; let NA = "i don't know",
        YA = "yes, answer is present".
        1. Both NA and YA present (as substrings) -> Invalid.
        2. Only NA present -> "I don't know".  3. Only YA present -> "Yes, answer is present".
        4. Fallbacks: contains "answer is present" -> Yes; contains "answer is not present" ->
           I don't know; contains a bracket citation `[<digits>]` and the (lower-cased) response
           is shorter than 10 characters -> Yes; otherwise Invalid.

    Details reproduced on purpose, because the official figures depend on them:
    - only "\\n" and "\\t" become spaces; nothing is stripped, other whitespace ("\\r", a
      non-breaking space, a doubled space) stays, so "I don't\\n\\nknow" is not NA;
    - matching is plain substring search: "I don't know" inside a longer sentence counts, and a
      typographic apostrophe ("I don’t know") does not;
    - case 1 is always Invalid: the official code means "YA if YA occurs more than once" but
      counts the phrase by comparing single whitespace-separated words with the whole
      four-word phrase, which never matches (SPEC.md §2.3);
    - the length test of the citation fallback is on the whole lower-cased response, leading
      and trailing whitespace included ("[1] [3]" is Yes; " [10]     " of length 10 is not).
    `None` and "" are Invalid (the official code would fail on `None`).
    """
    if output is None:
        return "invalid"
    response = output.replace("\n", " ").replace("\t", " ").lower()
    has_na, has_ya = NO_ANSWER in response, ANSWER in response
    if has_na and has_ya:
        return "invalid"
    if has_na:
        return "no_answer"
    if has_ya:
        return "answer"
    if "answer is present" in response:
        return "answer"
    if "answer is not present" in response:
        return "no_answer"
    if _CITATION.search(response) and len(response) < 10:
        return "answer"
    return "invalid"


class RecordedRow(BaseModel):
    """One NoMIRACL query with the recorded raw outputs of several models (SPEC.md §2.1)."""

    query_id: str
    subset: Subset = Field(description="relevant (answer among the passages) or non_relevant (none)")
    prompt: str = Field(description="the full vanilla prompt: instruction, query and 10 passages")
    docids: list[str] = Field(default_factory=list)
    outputs: dict[str, str] = Field(description="model name -> recorded raw output")


def _subset_file(folder: Path, subset: Subset) -> Path:
    found = sorted(folder.glob(f"*.{subset}.vanilla_prompt.jsonl.gz")) + sorted(
        folder.glob(f"*.{subset}.vanilla_prompt.jsonl"))
    if len(found) != 1:
        raise HarnessError(f"expected one '*.{subset}.vanilla_prompt.jsonl[.gz]' file, found {len(found)}",
                           file=folder)
    return found[0]


def load_recorded(folder: Path) -> list[RecordedRow]:
    """Read the relevant then the non-relevant recorded-outputs file of `folder`.

    Files are the official `results/baselines/{subset}/{lang}.test.vanilla_prompt.jsonl` rows
    (optionally gzip-compressed) named `{lang}.test.{subset}.vanilla_prompt.jsonl[.gz]`, each row
    with `query_id`, `docids`, `prompt` and `results` (model name -> raw output).
    """
    rows: list[RecordedRow] = []
    for subset in SUBSETS:
        path = _subset_file(Path(folder), subset)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    raw = json.loads(line)
                    rows.append(RecordedRow(query_id=raw["query_id"], subset=subset, prompt=raw["prompt"],
                                            docids=raw.get("docids", []), outputs=raw["results"]))
                except (ValueError, KeyError, TypeError) as exc:
                    raise HarnessError(f"bad recorded row: {exc}", file=path, line=line_no) from exc
    return rows


def model_names(rows: list[RecordedRow]) -> list[str]:
    """The models with a recorded output, in order of first appearance."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row.outputs))
    return list(names)
