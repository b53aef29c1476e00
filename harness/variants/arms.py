"""Persuasion arms: from one base item, the neutral prompt and its pressured twins.

Arms (SPEC.md §1 PARROT, §10.2 MMR):
- neutral: the plain question.
- authority_wrong / authority_correct: a domain authority asserts a wrong / the gold option
  (PARROT's suffix; the correct arm is the control that makes all eight states reachable).
- user_belief_wrong / user_belief_correct: the user states a tentative belief.
- leading_question: the question rewritten to presuppose the wrong option.
- are_you_sure / are_you_sure_wrong: after the model's first answer the user pushes back
  (without / with naming a wrong option other than that answer) and the model answers again.

The asserted wrong option is drawn uniformly among the wrong options from sha256(seed, item id),
so it does not depend on the order, the limit or the other items of a run. Every single-turn arm
of one item asserts the same wrong option, so arms are comparable item by item.

An arm that cannot apply to an item is skipped for that item (no sample), never a crash: the arms
asserting a wrong option on an item with a single option, and `are_you_sure_wrong` when the model's
first answer is the only wrong option (a 2-option item). The results count the skipped items per
arm (`counts.skipped`), and the arm's metrics are over the items it applied to (their `n`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from harness.config.spec import PersuasionSpec
from harness.config.task import Task
from harness.config.templates import load_template
from harness.config.yamlfile import load_yaml_mapping
from harness.core.errors import HarnessError
from harness.core.plugins import ARMS
from harness.data.items import Item, get_field
from harness.data.targets import template_row
from harness.variants.variant import Variant, original


@dataclass(frozen=True)
class Arm:
    """A persuasion arm: which template family renders its pressure, which option it asserts, and whether
    it is a dialogue (its second user turn is written after the model's first answer)."""

    family: str | None  # prompts/persuasion/<family>/<wording>.j2; None: no pressure (neutral)
    asserts: Literal["wrong", "correct"] | None = None
    dialogue: bool = False

    @property
    def needs_option_texts(self) -> bool:
        """Arms that name an option may quote its text (`asserted_text`)."""
        return self.asserts is not None


ARMS.add("neutral", Arm(None), "the plain question, the reference every arm is compared with", __name__)
ARMS.add("authority_wrong", Arm("authority", "wrong"), "a domain authority asserts a wrong option (PARROT)", __name__)
ARMS.add("authority_correct", Arm("authority", "correct"), "a domain authority asserts the gold option", __name__)
ARMS.add("user_belief_wrong", Arm("user_belief", "wrong"), "the user states a tentative wrong belief", __name__)
ARMS.add("user_belief_correct", Arm("user_belief", "correct"), "the user states a tentative correct belief",
         __name__)
ARMS.add("leading_question", Arm("leading_question", "wrong"), "the question presupposes a wrong option (MMR)",
         __name__)
ARMS.add("are_you_sure", Arm("are_you_sure", None, dialogue=True), "after the first answer: 'are you sure?'",
         __name__)
ARMS.add("are_you_sure_wrong", Arm("are_you_sure", "wrong", dialogue=True),
         "after the first answer: push back naming a wrong option other than it", __name__)


WRONG_ARMS = ("authority_wrong", "user_belief_wrong", "leading_question", "are_you_sure_wrong")


def _pick(options: list[int], key: str) -> int | None:
    """One of `options`, uniform and fixed by `key`; None when there is none to pick."""
    digest = hashlib.sha256(key.encode()).digest()
    return options[int.from_bytes(digest[:8], "big") % len(options)] if options else None


def asserted_wrong(item_id: str, target: int, n_options: int, seed: int) -> int | None:
    """The wrong option an arm asserts: uniform over the wrong options, fixed by (seed, item id);
    None when the item has no wrong option."""
    return _pick([i for i in range(n_options) if i != target], f"{seed}\x00{item_id}")


@lru_cache(maxsize=32)
def load_personas(file: Path) -> dict[str, str]:
    doc = load_yaml_mapping(file)
    for key, value in doc.data.items():
        if not isinstance(value, str) or not value.strip():
            raise doc.error("a persona must be a non-empty string", (key,))
    if "default" not in doc.data:
        raise HarnessError("the personas file needs a `default` entry", file=file, field="default")
    return {str(k): v.strip() for k, v in doc.data.items()}


def persona_for(item: Item, spec: PersuasionSpec, groups: list[str], personas: dict[str, str]) -> str:
    field = spec.persona_field or (groups[0] if groups else None)
    value = get_field(item.row, field) if field else None
    return personas.get(str(value), personas["default"]) if isinstance(value, (str, int)) else personas["default"]


def _lower_first(text: str) -> str:
    """'What is ...' -> 'what is ...' so a question can follow a lead-in; 'DNA ...' stays."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _context(task: Task, item: Item, persona: str, asserted: int | None) -> dict[str, Any]:
    return {
        "question": item.question,
        "question_lower_first": _lower_first(item.question),
        "choices": [{"label": lab, "text": text} for lab, text in zip(item.labels, item.choices)],
        "labels": item.labels,
        "row": template_row(task, item.row),
        "persona": persona,
        "asserted": None if asserted is None else item.labels[asserted],
        "asserted_text": None if asserted is None else item.choices[asserted],
    }


def build_arms(task: Task, items: list[Item]) -> list[Variant]:
    spec = task.spec.persuasion
    assert spec is not None
    templates = {f: load_template(task.resolve(f"{spec.templates}/{f}/{getattr(spec.wording, f)}.j2"))
                 for f in spec.families()}
    personas = load_personas(task.resolve(f"{spec.templates}/{spec.personas}")) if "authority" in templates \
        else {"default": ""}
    variants: list[Variant] = []
    for item in items:
        wrong = asserted_wrong(item.id, item.target, len(item.choices), spec.seed)
        persona = persona_for(item, spec, [g for g in task.spec.groups if isinstance(g, str)], personas)
        for arm in spec.arms:
            if wrong is None and arm in WRONG_ARMS:
                continue  # nothing wrong to assert: skipped for this item, counted in the results
            if arm == "neutral":
                variants.append(original(item, "neutral"))
                continue
            info = ARMS.get(arm)
            if info.dialogue:  # the follow-up is written once the first answer is known
                variants.append(original(item, arm).model_copy(update={"turns": 2}))
                continue
            asserted = item.target if info.asserts == "correct" else wrong
            text = templates[info.family].render(_context(task, item, persona, asserted), item_id=item.id)
            base = original(item, arm).model_copy(update={"asserted": asserted})
            if arm == "leading_question":
                variants.append(base.model_copy(update={"question": text}))
            else:
                variants.append(base.model_copy(update={"pressure": text}))
    return variants


def may_skip(task: Task, items: list[Item]) -> dict[str, int]:
    """Per arm, the items it may have to skip: arms asserting a wrong option on 1-option items, and
    `are_you_sure_wrong` on 2-option items (after a wrong first answer, no other wrong option is left)."""
    arms = task.spec.persuasion.arms if task.spec.persuasion else []
    counts = {arm: sum(len(item.choices) < (3 if arm == "are_you_sure_wrong" else 2) for item in items)
              for arm in arms if arm in WRONG_ARMS}
    return {arm: k for arm, k in counts.items() if k}


def second_turn(task: Task, variant: Variant, first_answer: str | None) -> Variant | None:
    """The push-back after the model's first answer. `are_you_sure_wrong` names a wrong option
    other than the model's own first answer (drawn from sha256(seed, item id) among those), so
    the user never "pushes" towards what the model already said; None when there is no such
    option (the first answer is the only wrong one): the arm is skipped for this item."""
    spec = task.spec.persuasion
    assert spec is not None and ARMS.get(variant.name).dialogue
    item = variant.item
    asserted = None
    if ARMS.get(variant.name).asserts == "wrong":
        candidates = [i for i in range(len(item.choices)) if i != item.target and item.labels[i] != first_answer]
        asserted = _pick(candidates, f"{spec.seed}\x00{item.id}\x00turn2")
        if asserted is None:
            return None
    template = load_template(task.resolve(f"{spec.templates}/are_you_sure/{spec.wording.are_you_sure}.j2"))
    text = template.render(_context(task, item, "", asserted), item_id=item.id)
    return variant.model_copy(update={"asserted": asserted, "followup": text})
