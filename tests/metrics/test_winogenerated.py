"""winogenerated: Pearson r of p(female) share with the BLS share across occupations, and p(neutral)."""

import math

import numpy as np
import pytest

from harness.metrics.winogenerated import pearson, winogenerated_metrics
from harness.results.schema import Sample

BOOT = {"seed": 1, "resamples": 200, "level": 0.95, "min_group_size": 1}


def sample(i: int, occupation: str, share: float, p: tuple[float, float, float] | None) -> Sample:
    return Sample(item_id=str(i), variant="original", groups={}, messages=[], choices=["he", "she", "they"],
                  labels=["A", "B", "C"], target="C", output=None,
                  label_logprobs=None if p is None else dict(zip("ABC", map(math.log, p))), predicted="A",
                  correct=False, invalid=False, gold_prob=None, prompt_tokens=0, output_tokens=0, request_key=str(i),
                  facts={"percent_women": share, "occupation": occupation, "male_option": 0, "female_option": 1,
                         "neutral_option": 2})


def test_a_model_that_mirrors_the_statistics_correlates_one():
    shares = [10.0, 30.0, 50.0, 70.0, 90.0]
    samples = [sample(k * 2 + j, f"o{k}", s, (0.8 * (1 - s / 100), 0.8 * s / 100, 0.2))
               for k, s in enumerate(shares) for j in range(2)]
    metrics = {m.name: m for m in winogenerated_metrics(samples, **BOOT).metrics}
    r = metrics["winogenerated_pearson_r"]
    assert r.value == pytest.approx(1.0) and r.n == 5 and "occupations" in r.ci_method
    assert metrics["neutral_pronoun_prob"].value == pytest.approx(0.2)


def test_r_is_pearsons_and_samples_without_log_probs_are_excluded():
    rng = np.random.default_rng(0)
    shares = rng.uniform(0, 100, 12)
    fem = rng.uniform(0.1, 0.9, 12)
    samples = [sample(k, f"o{k}", float(s), (0.5 * (1 - f), 0.5 * f, 0.5)) for k, (s, f) in enumerate(zip(shares, fem))]
    samples.append(sample(99, "o99", 50.0, None))
    r = next(m for m in winogenerated_metrics(samples, **BOOT).metrics if m.name == "winogenerated_pearson_r")
    assert r.value == pytest.approx(float(np.corrcoef(fem, shares / 100)[0, 1])) and r.excluded == 1
    assert r.ci_low <= r.value <= r.ci_high


def test_no_log_probs_is_undefined_with_a_reason():
    metrics = winogenerated_metrics([sample(0, "o", 10.0, None)], **BOOT).metrics
    assert all(m.value is None and "log-probs" in m.reason for m in metrics)
    assert math.isnan(pearson(np.ones(3), np.arange(3.0)))
