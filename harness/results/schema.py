"""The results schema (versioned pydantic) and atomic writers.

`results.json` holds everything needed to interpret and reproduce a run; `samples.jsonl` holds
one line per sample. The report reads only these files.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from harness.core.records import LogprobKind, Message, ModelInfo
from harness.scoring.execution.sandbox import Execution
from harness.scoring.judge_grades import JudgeRecord

SCHEMA_VERSION = 1


class Estimate(BaseModel):
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = Field(description="number of samples the value is computed on")


class Metric(Estimate):
    name: str
    formula: str = Field(description="how the value was computed (the notation of docs/metrics.md)")
    ci_method: str | None = None
    group_key: str | None = None
    group: str | None = Field(None, description="for worst/best-group metrics: which group (the first of "
                                                 "tied_groups when several tie)")
    tied_groups: list[str] = Field(default_factory=list, description="for worst/best-group metrics: every group "
                                                                     "at this value when several tie")
    small: bool | None = Field(None, description="for group metrics: the group has fewer items than "
                                                 "min_group_size")
    variant: str | None = Field(None, description="the variant or persuasion arm the metric is about")
    p_value: float | None = Field(None, description="for paired differences: two-sided p-value of no difference")
    test: str | None = Field(None, description="how p_value was computed")
    unit: str | None = Field(None, description="rate, points, ratio, effect_size, loss, number or count "
                                               "(harness/metrics/info.py)")
    higher_is_better: bool | None = Field(None, description="which direction is better; None: neither")
    reason: str | None = Field(None, description="why the metric is undefined (value null); null when computed")

    @model_validator(mode="after")
    def _finite_or_undefined(self) -> Metric:
        """A NaN or infinite value is no number to publish: it becomes undefined, and says so."""
        if self.value is not None and not math.isfinite(self.value):
            self.reason = self.reason or f"the computation gave {self.value}, no finite value ({self.n} samples)"
            self.value = None
        bounds = (self.ci_low, self.ci_high)
        if self.value is None or any(b is not None and not math.isfinite(b) for b in bounds):
            self.ci_low = self.ci_high = None
        return self
    excluded: int = Field(0, description="items left out of n because a value the metric needs is not a "
                                         "measurement (the formula says which)")


class GroupValue(Estimate):
    group: str
    items: int = Field(description="distinct base items in the group")
    small: bool = Field(False, description="below the minimum group size: shown, never crowned worst")


class GroupBreakdown(BaseModel):
    key: str
    metric: str = "accuracy"
    variant: str | None = None
    higher_is_better: bool = Field(True, description="False for rates such as follow_rate: worst = highest")
    min_group_size: int
    groups: list[GroupValue]
    worst: str | None = Field(description="the first of worst_groups")
    best: str | None = Field(description="the first of best_groups")
    worst_groups: list[str] = Field(default_factory=list, description="every group at the worst value (ties), "
                                                                      "among groups with min_group_size+ items")
    best_groups: list[str] = Field(default_factory=list, description="every group at the best value (ties)")
    ci_method: str | None = Field(None, description="how each group's interval was computed")


class BehaviourState(Estimate):
    """One of PARROT's eight behavioural states (docs/metrics.md), or the unreadable row (number 0):
    its share, with CI, among the items of one guidance arm (n), and its count."""

    family: str = Field(description="authority or user_belief")
    arm: str
    guidance: Literal["Correct", "Wrong"]
    number: int = Field(ge=0, le=8, description="1-8: PARROT's states; 0: an unreadable answer (neutral or "
                                                "under pressure), outside the eight")
    state: str
    count: int
    ci_method: str | None = None


class TaskRecord(BaseModel):
    name: str
    version: int | str
    file: str
    config_hash: str
    config: dict[str, Any]


class SeedChoice(BaseModel):
    value: int
    source: Literal["cli", "default", "task"] = Field(description="cli: `--seed` (or evaluate(seed=...)); default: "
                                                      "no seed was given; task: the task file pins this draw's seed")


class Settings(BaseModel):
    seed: int
    batch_size: int = Field(description="prompts per batch at most: the backend's own setting where it has one "
                                        "(hf: --batch-size, default 64), else --batch-size")
    limit: int | None = Field(description="rows evaluated when the run took a subset (--limit), else the task "
                                          "file's `limit:`; None: every row")
    bootstrap_resamples: int
    ci_level: float
    min_group_size: int
    sample: Literal["first", "random", "stratified"] = Field(
        "first", description="how the --limit rows were chosen: the first ones, seeded random, or seeded and "
                             "stratified by the task's first group column")
    limit_fraction: float | None = Field(None, description="--limit given as a share of the rows")
    seeds: dict[str, SeedChoice] = Field(
        default_factory=dict, description="the seed of each draw: run (sampling, --sample, bootstrap), "
                                          "perturbations, persuasion; and where it came from")
    gen_kwargs: dict[str, Any] = Field(default_factory=dict, description="--gen-kwargs: the generation keys the "
                                                                      "run set in every task (task.config: the result)")
    system_instruction: str | None = Field(None, description="--system-instruction: the first system message")


class Environment(BaseModel):
    harness_version: str
    python: str
    platform: str
    packages: dict[str, str]
    git_commit: str | None
    git_dirty: bool | None


class Counts(BaseModel):
    items: int
    samples: int
    requests_unique: int
    requests_cached: int = Field(0, description="answered from the request cache, not sent to the model")
    invalid: int
    truncated: int = Field(0, description="samples whose prompt lost its first tokens (prompt.truncate: left)")
    ties: int = Field(0, description="samples whose highest option log-probs tie exactly: no answer (invalid)")
    skipped: dict[str, int] = Field(default_factory=dict, description="per persuasion arm, the items it could not "
                                    "apply to (no wrong option left to assert): no sample, not in its metrics")
    logprobs_floored: int = Field(0, description="option log-probs, over all samples, that are PARROT's floor (the "
                                                 "label was outside the backend's top k), not a measurement")
    logprobs_partial: int = Field(0, description="option log-probs, over all samples, that pool only the surface "
                                                 "forms inside the backend's top k (a lower bound)")


class Timing(BaseModel):
    total_s: float
    model_load_s: float
    inference_s: float
    model_s: float = Field(description="time inside the model's forward/generate calls")
    prompt_tokens: int | None = Field(None, description="prompt tokens the backend was asked to compute (local "
                                                        "backends; None: not counted)")
    prefix_cache_hits: int | None = Field(None, description="of which served from a shared prefix's key/value cache "
                                                            "(hf: the prefix tree, and a first turn's kept cache for "
                                                            "its second turns; vllm: its prefix cache)")
    prefix_cache_hit_rate: float | None = Field(None, description="prefix_cache_hits / prompt_tokens")


class JudgeInfo(BaseModel):
    model: ModelInfo
    given_by: Literal["command line", "task file"] = Field(description="--judge-* options win over the task's "
                                                                       "`judge:` block")
    requests_unique: int = 0
    requests_cached: int = 0


class RunResult(BaseModel):
    schema_version: Literal[1] = SCHEMA_VERSION
    run_id: str
    created_at: str
    task: TaskRecord
    model: ModelInfo
    settings: Settings
    environment: Environment
    counts: Counts
    metrics: list[Metric]
    groups: list[GroupBreakdown]
    states: list[BehaviourState] = Field(default_factory=list)
    timing: Timing
    judge: JudgeInfo | None = Field(None, description="the judge model of a judged task, and who chose it")

    def metric(self, name: str, variant: str | None = None) -> Metric | None:
        """The metric `name`; with `variant`, the one about that arm (else the first of that name)."""
        return next((m for m in self.metrics if m.name == name and (variant is None or m.variant == variant)), None)

    def variants(self, name: str) -> list[str]:
        return [m.variant for m in self.metrics if m.name == name and m.variant is not None]


class Sample(BaseModel):
    item_id: str
    variant: str
    groups: dict[str, str]
    messages: list[Message]
    choices: list[str]
    labels: list[str]
    target: str
    asserted: str | None = None
    output: str | None
    label_logprobs: dict[str, float] | None
    label_logprob_kind: dict[str, LogprobKind] | None = Field(
        None, description="per option label, how its log-prob was read: exact; partial (some surface forms outside "
                          "the backend's top k: a lower bound); floored (outside the top k: PARROT's floor)")
    predicted: str | None
    tied: list[str] = Field(default_factory=list, description="labels sharing the highest option log-prob "
                                                              "exactly: a tie, scored as no answer (invalid)")
    predicted_option: int | None = Field(
        None, description="the chosen option as an index into the item's own option order (before any reordering)")
    perturbation: str | None = Field(None, description="the declared perturbed variant this sample is a draw of")
    repeat: int = Field(0, description="which draw of a randomized perturbation (0-based)")
    correct: bool
    invalid: bool
    gold_prob: float | None
    prompt_tokens: int
    prompt_truncated: int = Field(0, description="tokens dropped from the prompt's start to fit the context")
    output_tokens: int
    request_key: str
    sample_index: int = Field(0, description="which of the n samples of this prompt (pass@k), each its own request")
    execution: Execution | None = Field(None, description="code tasks: how the program ran against its tests")
    judge: JudgeRecord | None = Field(None, description="judged tasks: the judge's prompt(s), raw output(s) and grade")
    facts: dict[str, Any] = Field(default_factory=dict, description="what the task kind's metric families read "
                                  "per item: options by index into the item's own order (BBQ's unknown and biased "
                                  "options, the behaviour-matching option), numbers (Winogenerated's BLS share)")

    def logprobs_read(self, kind: str) -> int:
        """How many of this sample's option log-probs were read this way (exact, partial, floored)."""
        return list((self.label_logprob_kind or {}).values()).count(kind)
