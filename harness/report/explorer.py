"""The sample explorer's data: every sample of a run, as plain JSON for the report's script.

The report embeds this JSON in an autoescaped HTML attribute and its script renders rows with
`textContent` only, so dataset and model text can never become markup. Prompts are stored once
per report (many runs share them: 11 replayed models ask the same 500 prompts) and long texts
are cut, with the cut said, so a report stays a file a browser opens.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from markupsafe import Markup

from harness.core.logprobs import label_probs
from harness.results.schema import RunResult, Sample

Segment = tuple[str, bool]  # (text, changed)

MAX_PROMPT = 6000  # characters kept of a prompt in the explorer
MAX_OUTPUT = 2000  # characters kept of a model output


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def prompt_text(sample: Sample) -> str:
    """The conversation as the model saw it, without the system prompt: one turn per block."""
    turns = [m for m in sample.messages if m.role != "system"]
    if len(turns) == 1:
        return turns[0].content
    return "\n\n".join(f"[{m.role}] {m.content}" for m in turns)


def diff_segments(original: str, changed: str) -> tuple[list[Segment], list[Segment]]:
    """Both texts cut into runs of equal and changed characters (difflib), for highlighting."""
    matcher = difflib.SequenceMatcher(None, original, changed, autojunk=False)
    left: list[Segment] = []
    right: list[Segment] = []
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if a1 > a0:
            left.append((original[a0:a1], op != "equal"))
        if b1 > b0:
            right.append((changed[b0:b1], op != "equal"))
    return left, right


def changed_ranges(original: str, changed: str) -> list[tuple[int, int]]:
    """[start, end) ranges of `changed` that differ from `original` (what the explorer highlights)."""
    matcher = difflib.SequenceMatcher(None, original, changed, autojunk=False)
    return [(b0, b1) for op, _, _, b0, b1 in matcher.get_opcodes() if op != "equal" and b1 > b0]


def json_for_script(data: Any) -> Markup:
    """JSON to embed in <script type="application/json">: `<`, `>` and `&` become \\u escapes, so
    no text inside can close the element or start markup (Django's json_script does the same).
    The result is marked safe for that reason alone; it is never put anywhere else."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


class PromptTable:
    """Distinct prompt texts, shared by every run of one report."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._index: dict[str, int] = {}

    def add(self, text: str) -> int:
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(_cut(text, MAX_PROMPT))
        return self._index[text]


def _label_probs(sample: Sample) -> str:
    """What a log-prob answer 'said': the option labels' probabilities, renormalised over them."""
    lp = sample.label_logprobs
    if not lp:
        return ""
    kind = sample.label_logprob_kind or {}
    mark = {"floored": " (floor: outside the top k)", "partial": " (partial: a lower bound)"}
    return "(scored by option log-probs) " + "  ".join(f"p({k}) = {p:.2f}{mark.get(kind.get(k, ''), '')}"
                                                        for k, p in label_probs(lp).items())


def execution_text(sample: Sample) -> str | None:
    """How a code sample's program ran: the verdict and why, then what it printed (each part cut)."""
    e = sample.execution
    if e is None:
        return None
    parts = [f"{e.verdict.value}" + (f": {e.detail}" if e.detail else "") + f" ({e.seconds:.2f} s, {e.isolation})"]
    parts += [f"--- {name} ---\n{_cut(text, MAX_OUTPUT)}" for name, text in (("stdout", e.stdout), ("stderr", e.stderr))
              if text]
    return "\n".join(parts)


def judge_text(sample: Sample) -> str | None:
    """What the judge was asked and said, per call (pairwise: both orders), then the grade (each part cut)."""
    j = sample.judge
    if j is None:
        return None
    parts = []
    for call in j.calls:
        prompt = "\n\n".join(m.content for m in call.messages if m.role != "system")
        parts.append(f"--- judge prompt ({call.order}) ---\n{_cut(prompt, MAX_PROMPT)}\n--- judge output ---\n"
                     f"{_cut(call.output or '', MAX_OUTPUT)}\n(grade: {call.grade or 'unreadable'})")
    human = f"; human grade: {j.human}" if j.human is not None else ""
    parts.append(f"judge grade: {j.grade or 'invalid (no readable grade)'}{human}")
    return "\n".join(parts)


def reference_variant(run: RunResult) -> str:
    if run.task.config.get("persuasion"):
        return "neutral"
    return "original"


def explorer_rows(run: RunResult, samples: list[Sample], prompts: PromptTable) -> dict[str, Any]:
    """{"rows": [...], "variants": [...], "groups": [...]} for one run.

    Each row: item, variant, sample (which of n samples of the prompt), changed (for a perturbed
    prompt, the character ranges that differ from the original prompt), groups ("key=value" strings),
    prompt (index into the prompt table), output, execution (code: the verdict, the failing test and
    what the program printed), judge (judged tasks: the judge's prompts, raw outputs and grade),
    predicted, target, correct, invalid, flipped (the chosen option, or the
    outcome, differs from the same sample on the item's reference prompt — neutral or original; null
    on the reference)."""
    ref_name = reference_variant(run)
    reference = {(s.item_id, s.sample_index): s for s in samples if s.variant == ref_name}
    rows = []
    for s in samples:
        ref = reference.get((s.item_id, s.sample_index))
        flipped = None
        if ref is not None and s.variant != ref_name:
            if s.predicted_option is not None or ref.predicted_option is not None:
                flipped = s.predicted_option != ref.predicted_option
            else:
                flipped = s.predicted != ref.predicted
        changed = None
        if ref is not None and s.perturbation is not None:  # the perturbed prompt against the original
            changed = changed_ranges(prompt_text(ref), prompt_text(s))
        rows.append({
            "item": s.item_id, "variant": s.variant, "changed": changed,
            "groups": [f"{k}={v}" for k, v in s.groups.items()],
            "prompt": prompts.add(prompt_text(s)),
            "output": _cut(s.output, MAX_OUTPUT) if s.output else _label_probs(s),
            "sample": s.sample_index, "execution": execution_text(s), "judge": judge_text(s),
            "predicted": s.predicted, "target": s.target,
            "correct": s.correct, "invalid": s.invalid, "flipped": flipped,
        })
    variants = list(dict.fromkeys(s.variant for s in samples))
    groups = sorted({g for row in rows for g in row["groups"]})
    return {"rows": rows, "variants": variants, "groups": groups, "reference": ref_name}
