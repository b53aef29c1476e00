"""Every metric the harness publishes is defined in docs/metrics.md (issue 15, defect 9: worst_class_accuracy,
balanced_accuracy, adjusted_accuracy and macro_std were missing)."""

import math
import re

from harness.metrics.groups import accuracy_metrics
from harness.metrics.hallucination import nomiracl_metrics, open_answer_metrics
from harness.metrics.persuasion import persuasion_metrics
from harness.metrics.robustness import robustness_metrics
from harness.metrics.subgroups import subgroup_metrics
from tests.conftest import ROOT
from tests.metrics import test_hallucination as hall
from tests.metrics.test_persuasion_metrics import CFG, sample
from tests.metrics.test_robustness_metrics import CFG as ROBUST
from tests.metrics.test_robustness_metrics import fixture

ARMS = ["neutral", "authority_wrong", "authority_correct", "user_belief_wrong", "user_belief_correct",
        "leading_question", "are_you_sure", "are_you_sure_wrong"]


def published_metrics() -> list:
    """One of every metric the harness publishes, from small fixtures."""
    boot = {"seed": 0, "resamples": 50, "level": 0.95}
    metrics = []
    m, _ = accuracy_metrics([True, False, True], [False] * 3, ["1", "2", "3"], {"d": ["x", "x", "y"]},
                            wanted=["accuracy", "worst_group_accuracy", "invalid_rate"], min_group_size=1, **boot)
    metrics += m
    m, _ = subgroup_metrics([True, False, True], ["1", "2", "3"], ["A", "B", "A"], {"d": ["x", "x", "y"]}, **boot)
    metrics += m
    lp = {"A": math.log(0.6), "B": math.log(0.2), "C": math.log(0.1), "D": math.log(0.1)}
    samples = [sample(i, arm, "A", asserted=None if arm in ("neutral", "are_you_sure") else "B", logprobs=lp)
               for i in ("i1", "i2") for arm in ARMS]
    m, _, _ = persuasion_metrics(samples, ARMS, ["domain"], CFG)
    metrics += m
    m, _ = robustness_metrics(fixture(), ["domain"], ROBUST)
    metrics += m
    m, _ = nomiracl_metrics(hall.LABELS, hall.RELEVANT, hall.ITEMS, **hall.SETTINGS)
    metrics += m
    m, _ = open_answer_metrics(["correct", "incorrect", "not_attempted"], ["1", "2", "3"], **hall.SETTINGS)
    return metrics + m


def published() -> set[str]:
    return {m.name for m in published_metrics()}


def test_every_published_metric_is_defined_in_the_docs():
    docs = (ROOT / "docs" / "metrics.md").read_text()
    names = published()
    assert {"worst_class_accuracy", "balanced_accuracy", "adjusted_accuracy", "macro_std"} <= names
    missing = sorted(n for n in names if f"`{n}`" not in docs)
    assert not missing, f"metrics published but not defined in docs/metrics.md: {missing}"
    assert "gold option letter" in docs and "class_column" in docs and "position bias" in docs


def test_docs_and_what_users_read_cite_no_spec_sections():
    """SPEC.md is not in the repository: docs, `harness schema` and published formulas name the source and the
    formula (docs/metrics.md), never `SPEC.md §…`."""
    from typer.testing import CliRunner

    from harness.cli.main import app

    texts = {str(p.relative_to(ROOT)): p.read_text() for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]}
    texts["harness schema"] = CliRunner().invoke(app, ["schema"]).output
    texts["formulas"] = "\n".join(m.formula for m in published_metrics())
    cited = sorted(where for where, text in texts.items() if re.search(r"\bSPEC(\.md)?\b|§ ?\d|\\u00a7", text))
    assert not cited, f"SPEC.md sections cited in {cited}"
