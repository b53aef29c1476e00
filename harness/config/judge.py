"""The `judge:` block of a task file: a model that grades the subject's answers with a rubric.

The judge is any backend spec (`backend`, `model`, `args`, as `harness run --backend/--model/-B`);
`harness run --judge-backend/--judge-model/--judge-arg` override it (the command line wins, and the
results record which). Its prompt is a jinja2 file rendered in the same sandbox as every template; its
output is parsed into a grade on a numeric `scale` or one of named `labels`. With `pairwise`, the
subject's answer is compared with another answer (a column) in both orders.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from harness.core.records import Strict

PAIRWISE_LABELS = ("A", "B", "tie")  # what a pairwise judge answers; outcomes are the subject's win, loss or tie


class PairwiseSpec(Strict):
    """Judge the subject's answer against another answer, asked in both orders (position swap)."""

    against: str = Field(description="Column with the other answer (a reference or another model's output).")


class JudgeSpec(Strict):
    """Who grades, with which rubric prompt, and how its output becomes a grade."""

    template: str = Field(description="jinja2 file for the judge's user turn, relative to the task file. "
                                      "Variables: question, answer, row (every column), labels, scale; "
                                      "pairwise: answer_a, answer_b.")
    system: str | None = Field(None, description="jinja2 file for the judge's system prompt (optional).")
    backend: str = Field("hf", description="The judge's backend (`harness backends`).")
    model: str | None = Field(None, description="The judge model, as `--model` (default: the embedded model).")
    args: dict[str, Any] = Field(default_factory=dict, description="The judge backend's options (as -B k=v).")
    scale: tuple[float, float] | None = Field(None, description="Numeric grades [low, high]: the first number "
                                                                "in the judge's output inside it.")
    labels: list[str] | None = Field(None, description="Named grades: the earliest label (whole word, any case) "
                                                       "in the judge's output.")
    pass_label: str | None = Field(None, description="With labels: the grade that counts as a pass "
                                                     "(default: the first label).")
    pass_threshold: float | None = Field(None, description="With scale: grades at or above it pass "
                                                           "(default: the scale's midpoint).")
    human: str | None = Field(None, description="Column with a human grade of the same answer: agreement "
                                                "(accuracy, Cohen's kappa) is reported.")
    pairwise: PairwiseSpec | None = Field(None, description="Compare with another answer in both orders.")
    max_tokens: int = Field(16, ge=1, le=4096, description="The judge's output length.")
    chat_template: str = Field("auto", pattern="^(auto|none)$")

    @model_validator(mode="after")
    def _one_grading(self) -> JudgeSpec:
        if self.pairwise is not None:
            if self.scale is not None or self.labels is not None:
                raise ValueError("a pairwise judge answers A, B or tie: give neither `scale` nor `labels`")
            return self
        if (self.scale is None) == (self.labels is None):
            raise ValueError("give exactly one of `scale` ([low, high]) or `labels`")
        if self.scale is not None and not self.scale[0] < self.scale[1]:
            raise ValueError("`scale` is [low, high] with low < high")
        if self.labels is not None and (not self.labels or len(set(map(str.lower, self.labels))) != len(self.labels)):
            raise ValueError("`labels` must be distinct (ignoring case) and not empty")
        if self.pass_label is not None and self.pass_label not in (self.labels or []):
            raise ValueError(f"pass_label '{self.pass_label}' is not one of the labels")
        return self

    @property
    def grades(self) -> list[str]:
        """The grades a judge's output can be parsed into (numbers as their text, for a scale)."""
        if self.pairwise is not None:
            return list(PAIRWISE_LABELS)
        if self.labels is not None:
            return list(self.labels)
        return []

    def passes(self, grade: str) -> bool:
        if self.labels is not None:
            return grade == (self.pass_label or self.labels[0])
        if self.scale is not None:
            low, high = self.scale
            return float(grade) >= (self.pass_threshold if self.pass_threshold is not None else (low + high) / 2)
        return grade == "win"
