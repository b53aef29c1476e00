"""What each metric is, for whoever shows it: display name, unit, whether higher is better, one line of meaning.

The runner copies `unit` and `higher_is_better` onto every Metric it writes, so a report of old or plugin
runs renders them without importing anything. A plugin's metric family declares its own metrics with
`declare(MetricInfo(...))`; a metric nobody declared is shown as a plain number.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Unit = Literal["rate", "points", "ratio", "effect_size", "loss", "number", "count"]
# rate: a proportion in [0, 1], shown in percent; points: a difference of two rates (percentage points);
# ratio: a dimensionless ratio (PDR, relative drops); effect_size: Cohen's h; loss: a loss in nats.


class MetricInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    display: str
    unit: Unit
    higher_is_better: bool | None  # None: neither (a spread, a count)
    description: str
    detail: bool = False  # True: in the leaderboard's detail columns only, not in `harness run`'s summary table


_INFO: dict[str, MetricInfo] = {}


def declare(*infos: MetricInfo) -> None:
    for info in infos:
        _INFO[info.name] = info


def info(name: str) -> MetricInfo:
    """The metric's description; `name` may carry a suffix (`hallucination_rate/arm`, `state3/authority_wrong`)."""
    base = name.split("/")[0]
    if base in _INFO:
        return _INFO[base]
    if "@" in base and base.split("@")[0] + "@k" in _INFO:  # pass@1, robust_drop@10, ... (declared as name@k)
        return _INFO[base.split("@")[0] + "@k"].model_copy(update={"name": base})
    if base.startswith("state") and base[5:].isdigit():
        return _INFO["state"]
    return MetricInfo(name=base, display=base.replace("_", " "), unit="number", higher_is_better=None,
                      description="(no description declared)")


def all_info() -> list[MetricInfo]:
    return sorted(_INFO.values(), key=lambda i: i.name)


def _builtin(name: str, display: str, unit: Unit, higher: bool | None, description: str) -> MetricInfo:
    return MetricInfo(name=name, display=display, unit=unit, higher_is_better=higher, description=description)


declare(
    _builtin("accuracy", "accuracy", "rate", True, "share of samples answered correctly"),
    _builtin("invalid_rate", "invalid", "rate", False, "share of answers no rule could read"),
    _builtin("worst_group_accuracy", "worst-group acc.", "rate", True, "lowest accuracy over groups of min size"),
    _builtin("worst_group_gap", "worst-group gap", "points", False, "accuracy minus worst-group accuracy"),
    _builtin("worst_class_accuracy", "worst-class acc.", "rate", True, "lowest recall over gold classes"),
    _builtin("balanced_accuracy", "balanced acc.", "rate", True, "mean recall over gold classes"),
    _builtin("adjusted_accuracy", "adjusted acc.", "rate", True, "mean accuracy over class × group cells"),
    _builtin("macro_std", "MacroStd", "points", False, "spread of subgroup accuracy within classes"),
    _builtin("accuracy_drop", "acc. drop", "points", False, "reference accuracy minus the variant's, item by item"),
    _builtin("follow_rate", "follow rate", "rate", False, "share of answers that took the asserted wrong option"),
    _builtin("worst_group_follow_rate", "worst-group follow", "rate", False, "highest follow rate over groups"),
    _builtin("robust_accuracy", "robust acc.", "rate", True, "correct both without and under pressure"),
    _builtin("misleading_rate", "misleading rate", "rate", False, "right without pressure, wrong with it"),
    _builtin("flip_correct_to_wrong", "flip right→wrong", "rate", False, "right on the reference, wrong here"),
    _builtin("flip_wrong_to_correct", "flip wrong→right", "rate", None, "wrong on the reference, right here"),
    _builtin("flip_rate", "flip rate", "rate", False, "answer changed from the reference"),
    _builtin("delta_p_gold", "Δp(gold)", "points", True, "change of p(gold) under pressure"),
    _builtin("delta_p_asserted", "Δp(asserted)", "points", False, "change of p(asserted option) under pressure"),
    _builtin("sycophantic_drift_rate", "sycophantic drift", "rate", False, "p(asserted) rose under pressure"),
    _builtin("performance_drop_rate", "PDR", "ratio", False, "PromptBench PDR: 1 − acc(perturbed)/acc(clean)"),
    _builtin("worst_case_accuracy", "worst-case acc.", "rate", True, "correct on every draw of the item"),
    _builtin("cohens_h", "Cohen's h", "effect_size", None, "2·asin√p₁ − 2·asin√p₂"),
    _builtin("accuracy_spread", "acc. spread", "points", False, "max minus min accuracy over variants"),
    _builtin("accuracy_std", "acc. std", "points", False, "standard deviation of accuracy over variants"),
    _builtin("median_accuracy", "median acc.", "rate", True, "median accuracy over variants"),
    _builtin("mean_drop", "mean drop", "points", False, "mean accuracy drop over variants"),
    _builtin("hallucination_rate", "hallucination", "rate", False, "wrong among attempted (or NoMIRACL's rule)"),
    _builtin("error_rate", "error rate", "rate", False, "NoMIRACL: says no answer where one is present"),
    _builtin("hallucination_rate_official", "hallucination (official)", "rate", False, "NoMIRACL's published rule"),
    _builtin("error_rate_official", "error (official)", "rate", False, "NoMIRACL's published rule"),
    _builtin("invalid_rate_relevant", "invalid (relevant)", "rate", False, "unreadable on relevant subsets"),
    _builtin("invalid_rate_non_relevant", "invalid (non-relevant)", "rate", False, "unreadable on non-relevant"),
    _builtin("accuracy_relevant", "acc. (relevant)", "rate", True, "accuracy on the relevant subset"),
    _builtin("accuracy_non_relevant", "acc. (non-relevant)", "rate", True, "accuracy on the non-relevant subset"),
    _builtin("correct_rate", "correct", "rate", True, "correct among all answers"),
    _builtin("incorrect_rate", "incorrect", "rate", False, "incorrect among all answers"),
    _builtin("not_attempted_rate", "not attempted", "rate", None, "abstentions among all answers"),
    _builtin("correct_given_attempted", "correct | attempted", "rate", True, "correct among attempted"),
    _builtin("state", "PARROT state", "rate", None, "share of one of PARROT's eight behavioural states"),
    _builtin("preference_loss", "DPO loss", "loss", False, "held-out DPO loss (nats)"),
    _builtin("reward_accuracy", "reward acc.", "rate", True, "share of pairs with chosen reward > rejected"),
)

declare(
    _builtin("min_group_accuracy", "lowest group acc.", "rate", True,
             "lowest accuracy over all groups, small ones included"),
    _builtin("worst_perturbation", "worst perturbation", "points", False,
             "accuracy drop of the perturbation that drops accuracy most"),
    _builtin("delta_conf", "Δconf", "points", None, "change of the top option's probability under pressure"),
    _builtin("robust_drop", "robust drop", "ratio", False, "ReCode RD: (acc. − worst-case acc.) / acc."),
    _builtin("robust_relative", "robust relative", "rate", False, "ReCode RR: items whose answer changes either way"),
)


def declared(name: str) -> MetricInfo | None:
    """The declared description of `name` (suffixes as in `info`), None when nobody declared it."""
    found = info(name)
    return None if found.description == "(no description declared)" else found


def declared_order(name: str) -> int:
    """Where `name` was declared (its column position when shown); undeclared names come last."""
    found = declared(name)
    order = list(_INFO)
    key = found.name if found and found.name in _INFO else (name.split("@")[0] + "@k" if found else None)
    return order.index(key) if key in _INFO else len(order)


def secondary(*names: str) -> None:
    """Mark declared metrics as detail: the leaderboard shows them on demand, `harness run`'s summary not."""
    for name in names:
        _INFO[name] = _INFO[name].model_copy(update={"detail": True})


secondary("worst_group_gap", "invalid_rate", "invalid_rate_relevant", "invalid_rate_non_relevant", "accuracy_relevant",
          "accuracy_non_relevant", "delta_p_asserted", "delta_conf", "sycophantic_drift_rate", "flip_wrong_to_correct",
          "flip_correct_to_wrong", "misleading_rate", "robust_accuracy", "accuracy_std", "median_accuracy", "cohens_h",
          "balanced_accuracy", "adjusted_accuracy", "macro_std", "delta_p_gold", "worst_case_accuracy",
          "accuracy_spread", "mean_drop", "robust_drop", "robust_relative", "worst_class_accuracy")
