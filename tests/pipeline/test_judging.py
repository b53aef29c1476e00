"""The judge wave on replayed judge outputs (the fake backend answers from a table): prompts and raw outputs
stored per sample, unreadable grades counted, judge requests cached under the judge's identity, pairwise
judging in both orders, agreement with human grades."""

import json

import pytest

from harness.backends.fake import FakeBackend
from harness.config.task import load_task
from harness.pipeline.cache import RequestCache
from harness.pipeline.judging import Judge, JudgeOptions, judge_setting
from harness.pipeline.runner import RunOptions, run_task
from harness.results.io import read_samples
from tests.conftest import ROOT

ROWS = [
    {"id": "a", "question": "Why is the sky blue?", "rubric": "mentions scattering", "human": "good",
     "ref": "Scattering of sunlight."},
    {"id": "b", "question": "Why do we have seasons?", "rubric": "mentions the axis tilt", "human": "bad",
     "ref": "The tilt of the axis."},
    {"id": "c", "question": "What is a vaccine?", "rubric": "mentions the immune system", "human": "good",
     "ref": "It trains the immune system."},
]
SUBJECT = FakeBackend(table={"sky": "Rayleigh scattering.", "seasons": "Distance to the sun.",
                             "vaccine": "A <b>shot</b>."})


def task_file(make_task, judge_block: str):
    yaml = (f"name: j\ntype: judged\ndataset:\n  path: data.jsonl\nfields:\n  id: id\n  question: question\n"
            f"prompt:\n  template: {ROOT}/prompts/open/free.j2\nanswer: generate\njudge:\n{judge_block}")
    return load_task(make_task(ROWS, yaml))


SCALE = f"  template: {ROOT}/prompts/judge/rubric.j2\n  scale: [1, 10]\n  backend: fake\n"
LABELS = "  template: {t}\n  labels: [good, bad]\n  human: human\n  backend: fake\n"


def run(task, judge, tmp_path, name="run", cache=None):
    result = run_task(task, SUBJECT, RunOptions(bootstrap_resamples=200), tmp_path / name, cache=cache,
                      judge=Judge(judge, "task file"))
    return result, {s.item_id: s for s in read_samples(tmp_path / name)}


def test_samples_keep_the_judge_prompt_output_and_grade(make_task, tmp_path):
    task = task_file(make_task, SCALE)
    judge = FakeBackend(table={"Rayleigh": "Score: 9", "Distance": "3", "shot": "no idea"})
    result, samples = run(task, judge, tmp_path)
    a = samples["a"]
    call = a.judge.calls[0]
    assert a.output == "Rayleigh scattering." and call.output == "Score: 9" and a.predicted == "9" and a.correct
    assert "Rubric: mentions scattering" in call.messages[-1].content
    assert "Answer: Rayleigh scattering." in call.messages[-1].content
    assert samples["b"].predicted == "3" and not samples["b"].correct and not samples["b"].invalid
    assert samples["c"].invalid and samples["c"].judge.calls[0].output == "no idea"  # counted, not dropped
    m = {x.name: x for x in result.metrics}
    assert m["judge_invalid_rate"].value == pytest.approx(1 / 3) and m["judge_invalid_rate"].n == 3
    assert m["judge_pass_rate"].value == 0.5 and m["judge_pass_rate"].n == 2 and m["judge_pass_rate"].excluded == 1
    assert m["judge_mean_score"].value == 6.0
    assert result.counts.invalid == 1 and result.judge.model.backend == "fake"
    assert result.judge.requests_unique == 3


def test_judge_requests_are_cached_under_the_judge_identity(make_task, tmp_path):
    task = task_file(make_task, SCALE)
    cache = RequestCache(tmp_path / "cache.sqlite")
    judge = FakeBackend(table={"Rayleigh": "9"}, answer="5")
    first, _ = run(task, judge, tmp_path, "one", cache)
    again, _ = run(task, FakeBackend(table={"Rayleigh": "9"}, answer="5"), tmp_path, "two", cache)
    other, samples = run(task, FakeBackend(answer="2"), tmp_path, "three", cache)
    assert first.judge.requests_cached == 0 and again.judge.requests_cached == 3
    assert other.judge.requests_cached == 0 and samples["a"].predicted == "2"  # another judge: asked anew
    assert again.counts.requests_cached == 3  # the subject's answers too


def test_agreement_with_human_grades(make_task, tmp_path):
    task = task_file(make_task, LABELS.format(t=f"{ROOT}/prompts/judge/rubric.j2").replace(
        "rubric.j2", "refusal.j2"))
    judge = FakeBackend(table={"Rayleigh": "good", "Distance": "good", "shot": "Bad."})
    result, samples = run(task, judge, tmp_path)
    assert [samples[i].judge.human for i in "abc"] == ["good", "bad", "good"]
    m = {(x.name): x for x in result.metrics}
    assert m["judge_human_accuracy"].value == pytest.approx(1 / 3)
    # judge: good, good, bad; human: good, bad, good. p_o = 1/3, p_e = 2/3*2/3 + 1/3*1/3 = 5/9
    assert m["judge_kappa"].value == pytest.approx((1 / 3 - 5 / 9) / (1 - 5 / 9))
    assert m["judge_kappa"].ci_method and "bootstrap" in m["judge_kappa"].ci_method
    assert m["judge_grade_rate/good"].value == pytest.approx(2 / 3)


PAIRWISE = f"  template: {ROOT}/prompts/judge/pairwise.j2\n  pairwise:\n    against: ref\n  backend: fake\n"


def test_pairwise_asks_both_orders_and_counts_consistent_wins_only(make_task, tmp_path):
    task = task_file(make_task, PAIRWISE)
    # a: the subject wins both orders; b: the judge always says A (position bias): a tie; c: the other wins.
    judge = FakeBackend(table={"Answer A: Rayleigh": "A", "Answer B: Rayleigh": "B", "Answer A: Distance": "A",
                               "Answer B: Distance": "A", "Answer A: A <b>": "B", "Answer B: A <b>": "A"})
    result, samples = run(task, judge, tmp_path)
    a = samples["a"].judge
    assert [c.order for c in a.calls] == ["subject_first", "subject_second"]
    assert "Answer A: Rayleigh scattering." in a.calls[0].messages[-1].content
    assert "Answer B: Rayleigh scattering." in a.calls[1].messages[-1].content
    assert "Answer A: Scattering of sunlight." in a.calls[1].messages[-1].content
    assert [samples[i].predicted for i in "abc"] == ["win", "tie", "loss"]
    assert [samples[i].judge.consistent for i in "abc"] == [True, False, True]
    m = {x.name: x for x in result.metrics}
    assert m["win_rate"].value == m["loss_rate"].value == m["tie_rate"].value == pytest.approx(1 / 3)
    assert m["position_consistency_rate"].value == pytest.approx(2 / 3)
    assert result.judge.requests_unique == 6


def test_the_command_line_wins_over_the_task_file():
    from harness.config.judge import JudgeSpec

    spec = JudgeSpec(template="t.j2", scale=(1, 10), backend="hf", model="m", args={"dtype": "float32"})
    assert judge_setting(spec, JudgeOptions()) == ("hf", "m", {"dtype": "float32"}, False)
    assert judge_setting(spec, JudgeOptions(model="other", args=["batch_size=2"])) == \
        ("hf", "other", {"dtype": "float32", "batch_size": "2"}, True)
    assert judge_setting(spec, JudgeOptions(backend="fake", args=["answer=3"])) == \
        ("fake", "m", {"answer": "3"}, True)


def test_judge_outputs_survive_the_samples_file(make_task, tmp_path):
    task = task_file(make_task, SCALE)
    run(task, FakeBackend(answer="<script>alert(x)</script> 4"), tmp_path)
    line = json.loads((tmp_path / "run" / "samples.jsonl").read_text().splitlines()[0])
    assert line["judge"]["calls"][0]["output"] == "<script>alert(x)</script> 4" and line["predicted"] == "4"


def test_the_report_explorer_shows_the_judge_escaped(make_task, tmp_path):
    from harness.report.build import write_report
    from harness.report.explorer import judge_text

    task = task_file(make_task, SCALE)
    payload = '<script>window.pwned=true</script> 7'
    _, samples = run(task, FakeBackend(answer=payload), tmp_path)
    text = judge_text(samples["a"])
    assert "judge prompt (single)" in text and payload in text and "judge grade: 7" in text
    path, _ = write_report([tmp_path / "run"], tmp_path / "report.html")
    html = path.read_text()
    assert "<script>window.pwned" not in html and "\\u003cscript\\u003ewindow.pwned=true" in html
