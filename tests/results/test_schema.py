"""The results schema: what a metric says when it has no value."""

import json
import math

from harness.results.schema import Metric


def test_a_nan_metric_is_undefined_with_a_reason_not_a_silent_null():
    """Issue 15 defect 4: NaN metrics were written as `null` with n > 0 and no word of why."""
    m = Metric(name="delta_p_gold", value=math.nan, ci_low=math.nan, ci_high=math.nan, n=12, formula="f")
    out = json.loads(m.model_dump_json())
    assert out["value"] is None and out["ci_low"] is None and out["reason"]


def test_a_computed_metric_has_no_reason_and_a_given_reason_is_kept():
    assert Metric(name="accuracy", value=0.5, n=2, formula="f").reason is None
    m = Metric(name="performance_drop_rate", value=None, n=4, formula="f", reason="no original answer is right")
    assert m.reason == "no original answer is right"
