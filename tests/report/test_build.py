"""The report is built from results files only and escapes every text from data or models."""

from pathlib import Path

from harness.backends.base import ModelInfo
from harness.report.build import render_report, write_report
from harness.results.io import write_run
from harness.results.schema import (
    Counts,
    Environment,
    GroupBreakdown,
    GroupValue,
    Metric,
    RunResult,
    Settings,
    TaskRecord,
    Timing,
)

PAYLOAD = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


def fake_run(run_id: str, model: str, task: str, acc: float, created: str = "2026-01-01T00:00:00") -> RunResult:
    metric = Metric(name="accuracy", value=acc, ci_low=acc - 0.1, ci_high=acc + 0.1, n=10, formula="mean")
    wg = Metric(name="worst_group_accuracy", value=acc / 2, ci_low=0.0, ci_high=acc, n=5, formula="min",
                group_key="domain", group=PAYLOAD)
    groups = [GroupBreakdown(key="domain", min_group_size=1, worst=PAYLOAD, best="fine", groups=[
        GroupValue(group=PAYLOAD, items=5, value=acc / 2, ci_low=0.0, ci_high=acc, n=5),
        GroupValue(group="fine", items=5, value=acc, ci_low=0.0, ci_high=1.0, n=5)])]
    return RunResult(
        run_id=run_id, created_at=created,
        task=TaskRecord(name=task, version=1, file="t.yaml", config_hash="abc", config={}),
        model=ModelInfo(name=model, path="/m", source="local", backend="hf", dtype="float32", device="cpu"),
        settings=Settings(seed=1, batch_size=1, limit=None, bootstrap_resamples=10, ci_level=0.95,
                          min_group_size=1),
        environment=Environment(harness_version="0", python="3", platform="x", packages={}, git_commit=None,
                                git_dirty=None),
        counts=Counts(items=10, samples=10, requests_unique=10, invalid=0),
        metrics=[metric, wg], groups=groups,
        timing=Timing(total_s=1, model_load_s=0, inference_s=1, model_s=1))


def test_payloads_are_escaped():
    html = render_report([fake_run("r1", PAYLOAD, PAYLOAD, 0.5)])
    assert "<script>window.pwned" not in html
    assert 'onerror="window' not in html
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # only the report's own sorting script


def test_self_contained():
    html = render_report([fake_run("r1", "m", "t", 0.5)])
    assert "http://" not in html and "https://" not in html


def test_latest_run_per_model_and_task_wins(tmp_path: Path):
    write_run(tmp_path / "old", fake_run("old", "m", "t", 0.1, "2026-01-01T00:00:00"), [])
    write_run(tmp_path / "new", fake_run("new", "m", "t", 0.9, "2026-01-02T00:00:00"), [])
    write_run(tmp_path / "other", fake_run("other", "m2", "t", 0.4), [])
    path, count = write_report([tmp_path], tmp_path / "out")
    html = path.read_text()
    assert path.name == "index.html" and count == 3
    assert "90.0" in html and "10.0<" not in html
    assert "run-new" in html and "run-old" not in html


def persuasion_run() -> RunResult:
    from harness.results.schema import BehaviourState

    run = fake_run("p1", "m", "syc", 0.6)
    for m in run.metrics:
        m.variant = "neutral"
    run.metrics += [
        Metric(name="follow_rate", variant="authority_wrong", value=0.375, ci_low=0.2, ci_high=0.5, n=8, formula="f"),
        Metric(name="accuracy_drop", variant="authority_wrong", value=0.25, ci_low=0.1, ci_high=0.4, n=8,
               formula="d"),
    ]
    run.groups.append(GroupBreakdown(key="domain", metric="follow_rate", variant="authority_wrong",
                                     higher_is_better=False, min_group_size=1, worst="bad-group", best="good-group",
                                     groups=[GroupValue(group="bad-group", items=4, value=0.75, ci_low=0.5,
                                                        ci_high=1.0, n=4),
                                             GroupValue(group="good-group", items=4, value=0.0, ci_low=0.0,
                                                        ci_high=0.0, n=4)]))
    run.states = [BehaviourState(family="authority", arm="authority_wrong", guidance="Wrong", number=4,
                                 state="Sycophantic Error", count=3, value=0.375, ci_low=0.1, ci_high=0.6, n=8)]
    return run


def test_persuasion_sections():
    html = render_report([persuasion_run()])
    row = html[html.index('class="sortable leaderboard"'):html.index("</table>")]
    assert "37.5" in row and "+25.0" in row  # follow rate (%) and accuracy drop (pp) of authority_wrong
    assert "authority_wrong</span>" in row and "neutral</span>" in row  # each says which variant it is about
    assert "Persuasion arms" in html and "Sycophantic Error" in html
    follow = html[html.index("follow_rate by domain"):]
    worst_cell = follow[:follow.index("worst</span>")]
    assert worst_cell.rfind("bad-group") > worst_cell.rfind("good-group")  # highest follow rate marked worst


def test_the_report_names_every_tied_worst_group():
    """Issue 15 defect 5: ties are named in the report, and every tied cell is marked worst."""
    run = fake_run("r1", "m", "t", 0.5)
    run.metrics[1] = run.metrics[1].model_copy(update={"group": "art", "tied_groups": ["art", "bio"]})
    run.groups = [GroupBreakdown(key="domain", min_group_size=1, worst="art", best="art", worst_groups=["art", "bio"],
                                 best_groups=["art", "bio"], groups=[
                                     GroupValue(group=g, items=5, value=0.2, ci_low=0.0, ci_high=0.5, n=5)
                                     for g in ("art", "bio")])]
    html = render_report([run])
    assert "domain = art, bio (2 tied)" in html
    assert html.count('<span class="tag">worst</span>') == 2


def test_floored_log_probs_are_counted_on_the_run_and_metric():
    run = fake_run("r1", "m", "t", 0.5)
    assert "option log-probs floored" not in render_report([run])  # nothing to say on an exact run
    shift = Metric(name="delta_p_gold", value=-0.1, n=8, excluded=2, formula="mean_i ...; 2 items excluded: ...")
    run = run.model_copy(update={"counts": run.counts.model_copy(update={"logprobs_floored": 7}),
                                 "metrics": [*run.metrics, shift]})
    html = render_report([run])
    assert "7 option log-probs floored (labels outside the backend's top k" in html
    assert '8 <span class="meta">(2 excluded)</span>' in html
