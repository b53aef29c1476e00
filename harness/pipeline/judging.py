"""The judge wave: after the subject's answers (both waves), every answer is put to the judge model.

Judge requests are Requests like any other: deduplicated by content, answered by the judge's backend
and cached under the judge model's identity (harness/pipeline/cache.py). A pairwise judge is asked
twice per answer, the subject's answer first (A) and then second (B). The calls come back attached to
the subject's response (`Judged`), which the task's scorer reads.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from harness.backends.base import Backend, Message, Request, Response, Sampling
from harness.backends.registry import create_backend, parse_backend_args
from harness.config.judge import JudgeSpec
from harness.config.task import Task
from harness.config.templates import load_template
from harness.data.items import MISSING, get_field
from harness.scoring.judge_grades import JudgeCall, Judged, parse_grade
from harness.variants.variant import Variant

Order = Literal["single", "subject_first", "subject_second"]


class Judge(NamedTuple):
    """The judge of a run and who chose it."""

    backend: Backend
    given_by: Literal["command line", "task file"]


class JudgeOptions(BaseModel):
    """`harness run --judge-backend/--judge-model/--judge-arg`: each given one wins over the task file."""

    backend: str | None = None
    model: str | None = None
    args: list[str] = []

    @property
    def given(self) -> bool:
        return bool(self.backend or self.model or self.args)


def judge_setting(spec: JudgeSpec, given: JudgeOptions) -> tuple[str, str | None, dict[str, Any], bool]:
    """(backend, model, options, from the command line) of the judge. A command-line backend other than the
    task's drops the task's options (they belong to its backend); -B-style `--judge-arg`s are added on top."""
    backend = given.backend or spec.backend
    base = dict(spec.args) if backend == spec.backend else {}
    args = {**base, **parse_backend_args(given.args)}
    return backend, given.model or spec.model, args, given.given


def make_judge(task: Task, given: JudgeOptions | None = None) -> Judge | None:
    """The judge backend of a task with a `judge:` block (None without one)."""
    if task.spec.judge is None:
        return None
    backend, model, args, by_cli = judge_setting(task.spec.judge, given or JudgeOptions())
    return Judge(create_backend(backend, model, args), "command line" if by_cli else "task file")


def _other_answer(task: Task, spec: JudgeSpec, variant: Variant) -> str:
    assert spec.pairwise is not None
    value = get_field(variant.item.row, spec.pairwise.against)
    if value is MISSING or value is None:
        raise task.error(f"item {variant.item.id} has no column '{spec.pairwise.against}' to compare with",
                         "judge", "pairwise", "against")
    return str(value)


def judge_request(task: Task, variant: Variant, answer: str, seed: int, order: Order = "single",
                  other: str = "") -> Request:
    spec = task.spec.judge
    assert spec is not None
    a, b = (answer, other) if order != "subject_second" else (other, answer)
    context = {"question": variant.question, "answer": answer, "row": dict(variant.item.row),
               "labels": spec.grades, "scale": list(spec.scale) if spec.scale else None,
               "answer_a": a, "answer_b": b, "variant": variant.name}
    messages = []
    if spec.system:
        text = load_template(task.resolve(spec.system)).render(context, item_id=variant.item.id)
        messages.append(Message(role="system", content=text))
    text = load_template(task.resolve(spec.template)).render(context, item_id=variant.item.id)
    messages.append(Message(role="user", content=text))
    return Request(messages=tuple(messages), chat_template=spec.chat_template,  # type: ignore[arg-type]
                   generate=True, sampling=Sampling(max_tokens=spec.max_tokens, temperature=0.0, seed=seed))


def judge_requests(task: Task, variants: list[Variant], responses: list[Response],
                   seed: int) -> list[list[tuple[Order, Request]]]:
    """Per answer, the judge's requests: one, or two for a pairwise judge (both orders)."""
    spec = task.spec.judge
    assert spec is not None
    out = []
    for variant, response in zip(variants, responses):
        text = response.text or ""
        if spec.pairwise is None:
            out.append([("single", judge_request(task, variant, text, seed))])
            continue
        other = _other_answer(task, spec, variant)
        out.append([(order, judge_request(task, variant, text, seed, order, other))
                    for order in ("subject_first", "subject_second")])
    return out


def attach(task: Task, responses: list[Response], asked: list[list[tuple[Order, Request]]],
           answers: dict[str, Response]) -> list[Response]:
    """Each subject response with its judge calls (prompt, raw output, grade) attached."""
    spec = task.spec.judge
    assert spec is not None
    out: list[Response] = []
    for response, calls in zip(responses, asked):
        made = []
        for order, request in calls:
            text = answers[request.key].text
            made.append(JudgeCall(order=order, messages=list(request.messages), output=text,
                                  grade=parse_grade(text, spec)))
        out.append(Judged(**response.model_dump(), judge_calls=tuple(made)))
    return out


def unique(asked: list[list[tuple[Order, Request]]]) -> list[Request]:
    return list({r.key: r for calls in asked for _, r in calls}.values())
