"""Evaluate a preference model per group; write the harness results schema (SPEC.md §3.5).

For every held-out pair (x, y_w, y_l) of group g, with policy π and reference π_ref:
- h = [log π(y_w|x) - log π_ref(y_w|x)] - [log π(y_l|x) - log π_ref(y_l|x)]
- reward correct: 1[r_w > r_l] with r = β(log π - log π_ref), i.e. 1[h > 0] (a tie is wrong)
- preference loss: the DPO loss -log σ(βh) or the IPO loss (the config's `loss.type`)
- log-prob correct: 1[log π(y_w|x) > log π(y_l|x)] (the paper's "probability accuracy")

Reported: `accuracy` (= reward accuracy, so it is the leaderboard's accuracy column), its
worst group and gap; `preference_loss`, the worst (highest) group loss and its gap; and
`logprob_accuracy` with its worst group and gap. Every value has n, its formula and a seeded
percentile-bootstrap CI (groups resampled within themselves; whole clusters, the facts that
paraphrased pairs share, when the data has a cluster column), through harness.metrics.groups.
A model evaluated against itself as reference has h = 0 everywhere: reward accuracy 0 and
DPO loss log 2 by definition; its log-prob accuracy still says which answer it prefers.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from harness.metrics.bootstrap import percentile_interval
from harness.metrics.groups import estimate_mean, group_breakdown
from harness.results.schema import GroupBreakdown, Metric, Sample
from harness.train.preferences import PreferenceRow

GROUP_KEY = "group"


@dataclass(frozen=True)
class PairScore:
    """What the policy and the reference say about one pair."""

    row: PreferenceRow
    chosen_logp: float
    rejected_logp: float
    ref_chosen_logp: float
    ref_rejected_logp: float
    loss: float
    beta: float
    prompt_tokens: int = 0

    @property
    def margin(self) -> float:
        """h: the implicit reward margin divided by β."""
        return (self.chosen_logp - self.ref_chosen_logp) - (self.rejected_logp - self.ref_rejected_logp)

    @property
    def reward_correct(self) -> bool:
        return self.margin > 0

    @property
    def logprob_correct(self) -> bool:
        return self.chosen_logp > self.rejected_logp


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def to_sample(score: PairScore) -> Sample:
    """One samples.jsonl line: the pair as a two-option item whose gold option is the chosen answer."""
    from harness.backends.base import Message

    row = score.row
    h = score.margin
    predicted = None if h == 0 else ("chosen" if h > 0 else "rejected")
    key = hashlib.sha256("\x00".join((row.prompt, row.chosen, row.rejected)).encode()).hexdigest()
    return Sample(item_id=row.id, variant="original", groups={GROUP_KEY: row.group},
                  messages=[Message(role="user", content=row.prompt)], choices=[row.chosen, row.rejected],
                  labels=["chosen", "rejected"], target="chosen", output=None,
                  label_logprobs={"chosen": score.chosen_logp, "rejected": score.rejected_logp},
                  predicted=predicted, predicted_option=None if predicted is None else int(h < 0),
                  correct=score.reward_correct, invalid=False, gold_prob=_sigmoid(score.beta * h),
                  prompt_tokens=score.prompt_tokens, output_tokens=0, request_key=key)


@dataclass(frozen=True)
class Quantity:
    name: str  # metric name of the overall value
    worst_name: str
    gap_name: str
    formula: str
    higher_is_better: bool


def preference_metrics(scores: list[PairScore], *, loss_type: str, seed: int, resamples: int, level: float,
                       min_group_size: int, cluster_column: str | None = None,
                       ) -> tuple[list[Metric], list[GroupBreakdown]]:
    """Overall, per-group, worst-group and gap values of reward accuracy, preference loss and log-prob accuracy."""
    loss_formula = ("-log σ(β h)" if loss_type == "dpo" else "(h̄ - 1/(2β))², h̄ per completion token")
    quantities = [
        (Quantity("accuracy", "worst_group_accuracy", "worst_group_gap",
                  "reward accuracy: mean_i 1[r_w > r_l], r = β(log π - log π_ref)", True),
         [s.reward_correct for s in scores]),
        (Quantity("preference_loss", "worst_group_preference_loss", "preference_loss_gap",
                  f"{loss_type.upper()} loss: mean_i {loss_formula}, h = Δ log-ratio chosen - rejected", False),
         [s.loss for s in scores]),
        (Quantity("logprob_accuracy", "worst_group_logprob_accuracy", "worst_group_logprob_gap",
                  "mean_i 1[log π(y_w|x) > log π(y_l|x)]", True),
         [s.logprob_correct for s in scores]),
    ]
    clusters = np.asarray([s.row.unit for s in scores])
    labels = [s.row.group for s in scores]
    unit = f"clusters of pairs (column '{cluster_column}')" if cluster_column else "pairs"
    ci = f"{level:.0%} percentile bootstrap, {resamples} resamples, seed {seed}, resampling {unit}"
    metrics: list[Metric] = []
    breakdowns: list[GroupBreakdown] = []
    for q, raw in quantities:
        values = np.asarray(raw, dtype=float)
        overall, _ = estimate_mean(values, clusters, seed=seed, name=q.name, resamples=resamples, level=level)
        metrics.append(Metric(name=q.name, formula=q.formula, ci_method=ci, **overall.model_dump()))
        bd, reps = group_breakdown(values, clusters, labels, GROUP_KEY, seed=seed, resamples=resamples, level=level,
                                   min_group_size=min_group_size, metric=q.name, higher_is_better=q.higher_is_better)
        breakdowns.append(bd)
        metrics.extend(_worst(q, bd, reps, overall.value or 0.0, overall.n, ci, level,
                              "clusters" if cluster_column else "pairs"))
    return metrics, breakdowns


def _worst(q: Quantity, bd: GroupBreakdown, reps: dict[str, np.ndarray], overall: float, n: int, ci: str,
           level: float, counted: str) -> list[Metric]:
    ci = ci + f" within each group of '{bd.key}'"
    pick = "min" if q.higher_is_better else "max"
    if bd.worst is None:
        return [Metric(name=q.worst_name, value=None, n=0, group_key=bd.key, ci_method=ci,
                       formula=f"{pick}_g {q.name}_g: no group has {bd.min_group_size}+ {counted}")]
    worst = next(g for g in bd.groups if g.group == bd.worst)
    sizes = np.asarray([g.n for g in bd.groups], float)
    overall_reps = np.stack([reps[g.group] for g in bd.groups]).T @ sizes / sizes.sum()
    sign = 1.0 if q.higher_is_better else -1.0
    low, high = percentile_interval(sign * (overall_reps - reps[worst.group]), level)
    gap_formula = f"{q.name} - {q.worst_name}" if q.higher_is_better else f"{q.worst_name} - {q.name}"
    return [
        Metric(name=q.worst_name, value=worst.value, ci_low=worst.ci_low, ci_high=worst.ci_high, n=worst.n,
               group_key=bd.key, group=worst.group, ci_method=ci,
               formula=f"{pick}_g {q.name}_g over groups with >= {bd.min_group_size} {counted}"),
        Metric(name=q.gap_name, value=float(sign * (overall - (worst.value or 0.0))), ci_low=low, ci_high=high, n=n,
               group_key=bd.key, group=worst.group, ci_method=ci, formula=gap_formula),
    ]
