"""The results schema (versioned pydantic) and atomic writers.

`results.json` holds everything needed to interpret and reproduce a run; `samples.jsonl` holds
one line per sample. The report reads only these files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from harness.core.records import Message, ModelInfo
from harness.scoring.execution.sandbox import Execution

SCHEMA_VERSION = 1


class Estimate(BaseModel):
    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int = Field(description="number of samples the value is computed on")


class Metric(Estimate):
    name: str
    formula: str = Field(description="how the value was computed (SPEC.md terms)")
    ci_method: str | None = None
    group_key: str | None = None
    group: str | None = Field(None, description="for worst/best-group metrics: which group")
    variant: str | None = Field(None, description="the variant or persuasion arm the metric is about")
    p_value: float | None = Field(None, description="for paired differences: two-sided p-value of no difference")
    test: str | None = Field(None, description="how p_value was computed")
    unit: str | None = Field(None, description="rate, points, ratio, effect_size, loss, number or count "
                                               "(harness/metrics/info.py)")
    higher_is_better: bool | None = Field(None, description="which direction is better; None: neither")


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
    worst: str | None
    best: str | None


class BehaviourState(Estimate):
    """One of PARROT's eight behavioural states (SPEC.md §1.6): its share, with CI, among the
    items of one guidance arm (n), and its count."""

    family: str = Field(description="authority or user_belief")
    arm: str
    guidance: Literal["Correct", "Wrong"]
    number: int = Field(ge=1, le=8)
    state: str
    count: int


class TaskRecord(BaseModel):
    name: str
    version: int | str
    file: str
    config_hash: str
    config: dict[str, Any]


class Settings(BaseModel):
    seed: int
    batch_size: int
    limit: int | None
    bootstrap_resamples: int
    ci_level: float
    min_group_size: int


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


class Timing(BaseModel):
    total_s: float
    model_load_s: float
    inference_s: float
    model_s: float = Field(description="time inside the model's forward/generate calls")


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
    predicted: str | None
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
