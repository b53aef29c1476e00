"""`type: rag`: retrieval-augmented answering (NoMIRACL): does any passage answer the query? The model should
say "Yes, answer is present" when one does and "I don't know" otherwise."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.core.plugins import KINDS
from harness.core.records import Strict
from harness.data.items import MISSING, Item, RowError, common_fields, get_field
from harness.kinds.base import Column, TaskKind
from harness.variants.variant import Variant

RAG_LABELS = ["answer", "no_answer"]  # a rag item's two outcomes: target 0 = a passage answers the query
RAG_ANSWERS = ["Yes, answer is present", "I don't know"]


class RagSpec(Strict):
    """Retrieval-augmented answering (NoMIRACL, Thakur et al. 2024): does any passage answer the query?
    The model should say "Yes, answer is present" when one does and "I don't know" otherwise."""

    passages: str | None = Field(None, description="Column with the passages: a list of texts or of "
                                                   "{title, text}; templates see `passages`.")
    relevant: str = Field(description="Column saying whether any passage answers the query.")
    relevant_values: list[str | bool | int] = Field(
        default_factory=lambda: [True], min_length=1,
        description="Values of the `relevant` column that mean 'a passage answers it' (others: none does).")
    parser: Literal["nomiracl"] = Field("nomiracl", description="How answers are read: NoMIRACL's official "
                                                                "rule (VanillaTemplate.postprocess).")


class RagTaskSpec(TaskSpec):
    type: Literal["rag"]
    rag: RagSpec = Field(description="Passages and relevance.")


class Passage(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int  # 1-based, as NoMIRACL cites them: [1] ... [10]
    title: str = ""
    text: str


class RagItem(Item):
    passages: list[Passage] = []  # the retrieved passages, shown to templates as `passages`


@KINDS.register("rag", "query + passages, answered 'Yes, answer is present' or 'I don't know' (NoMIRACL)")
class Rag(TaskKind):
    spec = RagTaskSpec
    scorer = "nomiracl"
    metric_families = ("accuracy", "nomiracl")
    answered_in_text = True

    def target_columns(self, spec: Any) -> list[str]:
        return [spec.rag.relevant]

    def columns(self, spec: Any) -> list[Column]:
        cols: list[Column] = [(spec.rag.relevant, ("rag", "relevant"))]
        if spec.rag.passages:
            cols.append((spec.rag.passages, ("rag", "passages")))
        return cols

    def template_context(self, variant: Variant) -> dict[str, Any]:
        return {"passages": [p.model_dump() for p in getattr(variant.item, "passages", [])]}

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        """A rag row as a two-outcome item: target 0 ("answer") when a passage answers the query."""
        spec = task.spec.rag
        item_id, question, groups = common_fields(task, index, row)
        relevant = get_field(row, spec.relevant)
        if relevant is MISSING or relevant is None:
            raise RowError(spec.relevant, "value is missing")
        passages: list[Passage] = []
        if spec.passages:
            raw = get_field(row, spec.passages)
            if not isinstance(raw, list) or not raw:
                raise RowError(spec.passages, "expected a non-empty list of passages")
            for n, p in enumerate(raw, 1):
                if isinstance(p, str) and p.strip():
                    passages.append(Passage(number=n, text=p))
                elif isinstance(p, dict) and isinstance(p.get("text"), str) and p["text"].strip():
                    passages.append(Passage(number=n, title=str(p.get("title") or ""), text=p["text"]))
                else:
                    raise RowError(spec.passages, f"passage {n} is neither text nor {{title, text}}")
        return RagItem(id=item_id, question=question, choices=list(RAG_ANSWERS), labels=list(RAG_LABELS),
                       target=0 if is_one_of(relevant, spec.relevant_values) else 1, groups=groups, row=row,
                       passages=passages)


def is_one_of(value: Any, wanted: list[str | bool | int]) -> bool:
    """`value in wanted`; a text cell (CSV) may also spell a wanted boolean or number: "true", "1"."""
    if value in wanted or not isinstance(value, str):
        return value in wanted
    text = value.strip()
    return any(text.lower() in ({"true", "1"} if w else {"false", "0"}) if isinstance(w, bool) else text == str(w)
               for w in wanted)
