"""Metrics two runs can be compared on sample by sample (`harness compare --metric`, the report's compare
view): each a 0/1 value per sample, on a stated set of variants, optionally within one group.

- accuracy, pass@1: 1[correct], on the reference variant (original prompts, neutral arm) unless told;
  pass@1 with n samples per prompt is the mean of 1[passed] (Chen et al.'s estimator at k = 1);
- invalid_rate: 1[no answer could be read], on the reference variant;
- follow_rate: 1[answer = the asserted option] on the headline arm (PARROT's authority_wrong);
- flip_rate: 1[answer differs from the same item's answer on the reference variant] (an invalid answer is a
  flip unless the reference answer was invalid too), on every other variant pooled.
A variant set is never chosen silently: `Selection.label` says which, and the default never pools the
reference with the variants.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from harness.core.errors import HarnessError
from harness.report.leaderboard import headline_arm, reference_variant
from harness.results.schema import RunResult, Sample

Score = Callable[[Sample, Sample | None], bool]  # (sample, the item's reference sample) -> 0/1


def _flipped(s: Sample, o: Sample | None) -> bool:
    if o is None or (s.invalid and o.invalid):
        return False
    if s.invalid != o.invalid:
        return True
    return s.predicted_option != o.predicted_option if s.predicted_option is not None else s.predicted != o.predicted


SCORES: dict[str, tuple[str, Score]] = {
    "accuracy": ("reference", lambda s, _: s.correct),
    "pass@1": ("reference", lambda s, _: s.correct),
    "invalid_rate": ("reference", lambda s, _: s.invalid),
    "follow_rate": ("arm", lambda s, _: s.asserted is not None and s.predicted == s.asserted),
    "flip_rate": ("others", _flipped),
}


class Selection(BaseModel):
    metric: str
    variants: list[str]
    group: tuple[str, str] | None
    reference: str | None
    label: str


def select(run: RunResult, samples: list[Sample], metric: str, variant: str | None = None,
           group: tuple[str, str] | None = None) -> Selection:
    """Which variants (and group) `metric` is compared on for this run; HarnessError when none applies."""
    if metric not in SCORES:
        raise HarnessError(f"metric '{metric}' cannot be compared sample by sample (choose one of "
                           f"{', '.join(SCORES)}, or any metric in results.json for an unpaired comparison)",
                           field="--metric")
    present = list(dict.fromkeys(s.variant for s in samples))
    ref = reference_variant(run) if reference_variant(run) in present else (present[0] if present else None)
    where, _ = SCORES[metric]
    if variant == "all":
        chosen, what = present, f"every variant pooled ({len(present)})"
    elif variant is not None:
        if variant not in present:
            raise HarnessError(f"no variant '{variant}' in run {run.run_id} (it has {', '.join(present)})",
                               field="--variant")
        chosen, what = [variant], f"variant {variant}"
    elif where == "reference":
        chosen, what = [ref] if ref else [], f"variant {ref}" if len(present) > 1 else "every sample"
    elif where == "arm":
        arm = headline_arm(run)
        chosen, what = ([arm], f"arm {arm}") if arm else ([], "")
    else:
        chosen = [v for v in present if v != ref]
        what = f"{len(chosen)} variant(s) pooled, each against {ref}"
    if not chosen:
        raise HarnessError(f"metric '{metric}' does not apply to run {run.run_id} ({run.task.name}: "
                           f"variants {', '.join(present) or 'none'})", field="--metric")
    label = f"{metric} on {what}" + (f", {group[0]} = {group[1]}" if group else "")
    return Selection(metric=metric, variants=chosen, group=group, reference=ref, label=label)


def scored(samples: list[Sample], sel: Selection) -> list[Sample]:
    """The selected samples with `correct` set to the metric's 0/1 value, keyed apart by draw and sample
    index (so n samples of one prompt pair up with the other run's same draw)."""
    score = SCORES[sel.metric][1]
    ref = {(s.item_id, s.sample_index): s for s in samples if s.variant == sel.reference}
    out = []
    for s in samples:
        if s.variant not in sel.variants or (sel.group and s.groups.get(sel.group[0]) != sel.group[1]):
            continue
        key = s.variant + (f"#{s.repeat}.{s.sample_index}" if s.repeat or s.sample_index else "")
        value = bool(score(s, ref.get((s.item_id, s.sample_index))))
        out.append(s.model_copy(update={"variant": key, "correct": value}))
    return out


def parse_group(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise HarnessError(f"--group takes KEY=VALUE, got '{text}'", field="--group")
    return key, value
