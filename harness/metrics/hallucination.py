"""Hallucination metrics: NoMIRACL's hallucination/error rates (SPEC.md §2.4) and open-answer rates.

NoMIRACL (labels from `harness.scoring.nomiracl.parse`; positive = "Yes, answer is present"):
- hallucination_rate = FP / (FP + TN): share of "answer" among the *valid* responses on the
  non-relevant subset; error_rate = FN / (FN + TP): share of "no_answer" among the valid
  responses on the relevant subset. These are the README formulas (SPEC.md §2.4). An Invalid
  response is neither a positive nor a negative prediction, so it is left out of the
  denominator and reported on its own as invalid_rate_non_relevant / invalid_rate_relevant
  (share of all responses of the subset), so that nothing is hidden.
- hallucination_rate_official / error_rate_official: what the official scorer publishes
  (`ConfusionMetric.evaluate` + `examples/hallucination_evaluation.py`): the count divided by
  *all* responses of the subset, Invalid included; and the error entry is only filled in when
  the subset's correct label occurs at all, the report script writing 0.0 otherwise. So the
  official hallucination rate is 0 whenever no "I don't know" occurs on the non-relevant
  subset (llama-2-70b-chat, English: 224/250 "Yes, answer is present", published 0.0), and the
  official error rate is 0 whenever no "Yes, answer is present" occurs on the relevant subset.
  Point values only (ci_method None).
- accuracy_non_relevant / accuracy_relevant: the official "Accuracy" column (share of the
  correct label among all responses); it has no quirk (0 when absent is its true value).
The official scorer counts one response per query id; here every response passed in counts.

Open answers (classes from `harness.scoring.abstention.classify`): correct_rate, incorrect_rate,
not_attempted_rate over all responses; hallucination_rate = incorrect / attempted and
correct_given_attempted = correct / attempted, over attempted responses only.

CIs: every rate here is a proportion: Wilson score interval on the item-clustered effective n
(`estimate_mean(proportion=True)`); per-group breakdowns via `group_breakdown`, computed on the
same responses as the metric (higher_is_better=False for rates of wrong behaviour). A metric with
no response to average has value None and n = 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from harness.metrics.groups import estimate_mean, group_breakdown
from harness.results.schema import GroupBreakdown, Metric

NOMIRACL_LABELS = ("answer", "no_answer", "invalid")
OPEN_CLASSES = ("correct", "incorrect", "not_attempted")


def _check(name: str, values: Sequence[object], n: int) -> None:
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries, expected {n}")


class _Scorer:
    """Shared bootstrap settings: one mean with CI, and its per-group breakdowns."""

    def __init__(self, item_ids: Sequence[str], groups: dict[str, list[str]] | None, *, seed: int,
                 resamples: int, level: float, min_group_size: int) -> None:
        self.clusters = np.asarray(list(item_ids), dtype=str)
        self.groups = groups or {}
        self.seed, self.resamples, self.level, self.min_group_size = seed, resamples, level, min_group_size
        for key, labels in self.groups.items():
            _check(f"groups['{key}']", labels, len(self.clusters))

    def mean(self, name: str, formula: str, values: np.ndarray, mask: np.ndarray) -> Metric:
        if not mask.any():
            return Metric(name=name, value=None, n=0, formula=formula, reason="no response is in the denominator")
        est, _ = estimate_mean(values[mask].astype(float), self.clusters[mask], seed=self.seed, name=name,
                               resamples=self.resamples, level=self.level, proportion=True)
        return Metric(name=name, formula=formula, ci_method=est.method, **est.model_dump())

    def breakdowns(self, metric: str, values: np.ndarray, mask: np.ndarray, *,
                   higher_is_better: bool) -> list[GroupBreakdown]:
        out = []
        for key, labels in self.groups.items():
            bd, _ = group_breakdown(values[mask].astype(float), self.clusters[mask],
                                    [str(g) for g, keep in zip(labels, mask) if keep], key, seed=self.seed,
                                    resamples=self.resamples, level=self.level,
                                    min_group_size=self.min_group_size, metric=metric,
                                    higher_is_better=higher_is_better, proportion=True)
            out.append(bd)
        return out


def _official(name: str, formula: str, count: int, total: int, present: bool) -> Metric:
    value = (count / total if present else 0.0) if total else None
    return Metric(name=name, value=value, n=total, formula=formula, ci_method=None,
                  reason=None if total else "the subset has no response")


def nomiracl_metrics(labels: list[str], relevant: list[bool], item_ids: list[str],
                     groups: dict[str, list[str]] | None = None, *, seed: int, resamples: int, level: float,
                     min_group_size: int) -> tuple[list[Metric], list[GroupBreakdown]]:
    """NoMIRACL hallucination / error / invalid rates, both conventions (SPEC.md §2.4).

    `labels[i]` is `parse(output_i)`; `relevant[i]` says whether response i belongs to the
    relevant subset (True) or the non-relevant one (False); `item_ids[i]` is its query id (the
    bootstrap cluster); `groups` maps a group key to one label per response.
    """
    n = len(labels)
    _check("relevant", relevant, n)
    _check("item_ids", item_ids, n)
    bad = sorted(set(labels) - set(NOMIRACL_LABELS))
    if bad:
        raise ValueError(f"unknown NoMIRACL labels {bad}; expected {list(NOMIRACL_LABELS)}")
    s = _Scorer(item_ids, groups, seed=seed, resamples=resamples, level=level, min_group_size=min_group_size)
    lab = np.asarray(labels, dtype=object)
    rel = np.asarray(relevant, dtype=bool)
    yes, idk, invalid = lab == "answer", lab == "no_answer", lab == "invalid"
    non_rel = ~rel
    valid = ~invalid

    metrics = [
        s.mean("hallucination_rate", "#'Yes, answer is present' / #valid responses on the non-relevant subset "
               "= FP/(FP+TN) (NoMIRACL's README formula; Invalid excluded, see invalid_rate_non_relevant)",
               yes, non_rel & valid),
        s.mean("error_rate", "#'I don't know' / #valid responses on the relevant subset = FN/(FN+TP) "
               "(NoMIRACL's README formula; Invalid excluded, see invalid_rate_relevant)", idk, rel & valid),
        s.mean("invalid_rate_non_relevant", "#Invalid / #responses on the non-relevant subset (NoMIRACL's parsing)",
               invalid, non_rel),
        s.mean("invalid_rate_relevant", "#Invalid / #responses on the relevant subset (NoMIRACL's parsing)",
               invalid, rel),
        s.mean("accuracy_non_relevant", "#'I don't know' / #responses on the non-relevant subset, Invalid "
               "included (official 'Accuracy')", idk, non_rel),
        s.mean("accuracy_relevant", "#'Yes, answer is present' / #responses on the relevant subset, Invalid "
               "included (official 'Accuracy')", yes, rel),
        _official("hallucination_rate_official",
                  "#'Yes, answer is present' / #responses (Invalid included) on the non-relevant subset; "
                  "0 when no 'I don't know' occurs there (official ConfusionMetric)",
                  int((yes & non_rel).sum()), int(non_rel.sum()), bool((idk & non_rel).any())),
        _official("error_rate_official",
                  "#'I don't know' / #responses (Invalid included) on the relevant subset; "
                  "0 when no 'Yes, answer is present' occurs there (official ConfusionMetric)",
                  int((idk & rel).sum()), int(rel.sum()), bool((yes & rel).any())),
    ]
    breakdowns = (s.breakdowns("hallucination_rate", yes, non_rel & valid, higher_is_better=False)
                  + s.breakdowns("error_rate", idk, rel & valid, higher_is_better=False))
    return metrics, breakdowns


def open_answer_metrics(classes: list[str], item_ids: list[str], groups: dict[str, list[str]] | None = None, *,
                        seed: int, resamples: int, level: float,
                        min_group_size: int) -> tuple[list[Metric], list[GroupBreakdown]]:
    """Open-answer rates from `classify` outputs (SimpleQA-style; module docstring)."""
    n = len(classes)
    _check("item_ids", item_ids, n)
    bad = sorted(set(classes) - set(OPEN_CLASSES))
    if bad:
        raise ValueError(f"unknown open-answer classes {bad}; expected {list(OPEN_CLASSES)}")
    s = _Scorer(item_ids, groups, seed=seed, resamples=resamples, level=level, min_group_size=min_group_size)
    cls = np.asarray(classes, dtype=object)
    correct, incorrect, skipped = cls == "correct", cls == "incorrect", cls == "not_attempted"
    everything = np.ones(n, dtype=bool)
    attempted = ~skipped
    metrics = [
        s.mean("correct_rate", "#correct / #responses", correct, everything),
        s.mean("incorrect_rate", "#incorrect / #responses", incorrect, everything),
        s.mean("not_attempted_rate", "#not_attempted / #responses (abstained or empty)", skipped, everything),
        s.mean("hallucination_rate", "#incorrect / #attempted (attempted = correct + incorrect)", incorrect,
               attempted),
        s.mean("correct_given_attempted", "#correct / #attempted (attempted = correct + incorrect)", correct,
               attempted),
    ]
    breakdowns = (s.breakdowns("hallucination_rate", incorrect, attempted, higher_is_better=False)
                  + s.breakdowns("correct_rate", correct, everything, higher_is_better=True))
    return metrics, breakdowns
