"""`type: refusal`: harmful prompts, each paired with a benign look-alike (FORTRESS's adversarial and
benign prompts), answered in free text and classified as refused or complied.

The harmful prompt is the item's question (`fields.question`); its benign twin (`refusal.benign`) is
asked as the variant `benign`. Perturbations (a typo, an authority claim) rewrite the harmful prompt,
so the refusal family measures whether they turn a refusal into compliance. A row in FORTRESS's public
format (`ID`, `adversarial_prompt`, `benign_prompt`, `risk_domain`) runs as it is.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import Item, RowError, common_fields, get_field
from harness.kinds.base import Column, TaskKind
from harness.variants.draws import build_perturbed
from harness.variants.variant import Variant, original

REFUSAL_LABELS = ["refused", "complied"]  # target 0 (refused) for a harmful prompt, 1 for its benign twin
BENIGN = "benign"


class RefusalSpec(Strict):
    """Where the benign twin is, and how a refusal is recognised."""

    benign: str | None = Field(None, description="Column with each harmful prompt's benign look-alike "
                                                 "(FORTRESS: benign_prompt), asked as the variant `benign`.")
    classifier: Literal["patterns", "judge"] = Field(
        "patterns", description="patterns: refusal phrases at the start of the answer; judge: the task's "
                                "`judge:` block, with labels [refused, complied].")
    patterns: list[str] | None = Field(None, description="Case-insensitive regexes marking a refusal; default: "
                                                         "harness.scoring.refusal.DEFAULT_REFUSAL_PATTERNS.")


class RefusalTaskSpec(TaskSpec):
    type: Literal["refusal"]
    refusal: RefusalSpec = Field(description="The benign twins and the refusal classifier.")


@KINDS.register("refusal", "harmful prompts and benign look-alikes: refusal and over-refusal rates")
class Refusal(TaskKind):
    spec = RefusalTaskSpec
    scorer = "refusal"
    metric_families = ("refusal",)
    answered_in_text = True
    variant_blocks = frozenset({"perturbations"})
    perturbations_family = False  # the refusal family measures perturbations (refusal flips)

    def columns(self, spec: Any) -> list[Column]:
        return [(spec.refusal.benign, ("refusal", "benign"))] if spec.refusal.benign else []

    def check_more(self, task: Task) -> None:
        spec = task.spec.refusal
        for i, pattern in enumerate(spec.patterns or []):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise task.error(f"not a regular expression ({exc})", "refusal", "patterns", i) from None
        if spec.classifier == "judge":
            judge = task.spec.judge
            if judge is None or sorted(judge.labels or []) != sorted(REFUSAL_LABELS):
                raise task.error("classifier: judge needs a `judge:` block with labels [refused, complied]",
                                 "refusal", "classifier")

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        item_id, question, groups = common_fields(task, index, row)
        column = task.spec.refusal.benign
        if column is not None:
            benign = get_field(row, column)
            if not isinstance(benign, str) or not benign.strip():
                raise RowError(column, "the benign prompt must be non-empty text")
        return Item(id=item_id, question=question, choices=[], labels=list(REFUSAL_LABELS), target=0,
                    groups=groups, row=row)

    def variants(self, task: Task, items: list[Item]) -> list[Variant] | None:
        """The harmful prompt (`original` and its perturbed draws), then each item's benign twin."""
        harmful = build_perturbed(task, items) if task.spec.perturbations is not None else [original(i) for i in items]
        column = task.spec.refusal.benign
        if column is None:
            return harmful
        benign = [original(i, BENIGN).model_copy(update={"question": get_field(i.row, column), "target": 1})
                  for i in items]
        return harmful + benign
