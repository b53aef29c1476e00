"""`scorer: judge`: the grade a judge model gave the answer (the judge wave, harness/pipeline/judging.py,
asks it before scoring). Predicted = the grade; correct = the grade passes (`pass_label`, or at least
`pass_threshold` on a scale; pairwise: a win); an unreadable judge output is invalid, counted like any
invalid answer. Rules for reading grades: harness/scoring/judge_grades.py.
"""

from __future__ import annotations

from typing import Any

from harness.config.judge import JudgeSpec
from harness.core.errors import HarnessError
from harness.core.plugins import SCORERS
from harness.core.records import Response
from harness.data.items import MISSING, get_field
from harness.scoring.judge_grades import Judged, JudgeRecord, pairwise_outcome
from harness.scoring.multiple_choice import SampleScore, ScoreFn
from harness.variants.variant import Variant


def human_grade(spec: JudgeSpec, row: dict[str, Any]) -> str | None:
    if spec.human is None:
        return None
    value = get_field(row, spec.human)
    if value is MISSING or value is None or str(value).strip() == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def judge_record(spec: JudgeSpec, variant: Variant, response: Response) -> JudgeRecord:
    """The judge's calls on this answer and the grade they give."""
    if not isinstance(response, Judged) or not response.judge_calls:
        raise HarnessError("the judge wave did not run for this task (a `judge:` block is needed)", field="judge")
    calls = list(response.judge_calls)
    human = human_grade(spec, variant.item.row)
    if spec.pairwise is None:
        return JudgeRecord(calls=calls, grade=calls[0].grade, human=human)
    outcome, consistent = pairwise_outcome(calls[0].grade, calls[1].grade)
    return JudgeRecord(calls=calls, grade=outcome, human=human, consistent=consistent)


@SCORERS.register("judge", "a judge model grades the answer with the task's rubric (`judge:` block)")
def judge_scorer(task: Any) -> ScoreFn:
    spec: JudgeSpec = task.spec.judge

    def score(variant: Variant, response: Response) -> SampleScore:
        record = judge_record(spec, variant, response)
        grade = record.grade
        return SampleScore(predicted=grade, correct=grade is not None and spec.passes(grade),
                           invalid=grade is None, gold_prob=None, judge=record)

    return score
