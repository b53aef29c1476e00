"""The `judge:` block: exactly one way of grading, a pass rule that names a grade, a template that exists."""

import pytest
from pydantic import ValidationError

from harness.config.judge import JudgeSpec
from harness.config.task import load_task
from harness.core.errors import HarnessError
from tests.conftest import ROOT


@pytest.mark.parametrize("block", [
    {}, {"scale": (1, 10), "labels": ["a"]}, {"scale": (5, 1)}, {"labels": []}, {"labels": ["a", "A"]},
    {"labels": ["a", "b"], "pass_label": "c"}, {"pairwise": {"against": "ref"}, "labels": ["a", "b"]},
])
def test_bad_judge_blocks_are_refused(block):
    with pytest.raises(ValidationError):
        JudgeSpec(template="t.j2", **block)


def test_pairwise_grades_are_a_b_tie():
    assert JudgeSpec(template="t.j2", pairwise={"against": "ref"}).grades == ["A", "B", "tie"]


def judged_yaml(judge: str) -> str:
    return (f"name: j\ntype: judged\ndataset:\n  path: {ROOT}/tasks/data/judged_answers.jsonl\n"
            f"fields:\n  question: question\nprompt:\n  template: {ROOT}/prompts/open/free.j2\n"
            f"answer: generate\n{judge}")


def test_a_missing_judge_template_names_file_line_and_field(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(judged_yaml("judge:\n  template: nowhere.j2\n  scale: [1, 10]\n"))
    with pytest.raises(HarnessError) as err:
        load_task(path)
    assert "judge template file not found" in str(err.value) and "judge.template" in str(err.value)


def test_a_judged_task_needs_a_judge_block(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(judged_yaml(""))
    with pytest.raises(HarnessError, match="judge"):
        load_task(path)


def test_scorer_judge_needs_a_judge_block(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(judged_yaml("scorer: judge\n").replace("type: judged", "type: open_answer")
                    + "open_answer:\n  answers: rubric\n")
    with pytest.raises(HarnessError, match="needs a `judge:` block"):
        load_task(path)
