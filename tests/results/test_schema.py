"""The results schema (version 1) may gain fields, never change or lose one: runs written before still load.

`schema_v1.json` is the schema as version 1 was first frozen. A change that alters a field's meaning bumps
`schema_version` (and keeps a reader for version 1) instead of editing this file.
"""

import json
import math
from pathlib import Path

from harness.results.schema import SCHEMA_VERSION, Metric, RunResult, Sample

FROZEN = json.loads((Path(__file__).parent / "schema_v1.json").read_text())


def _defs(schema: dict) -> dict:
    return {"#": {k: v for k, v in schema.items() if k != "$defs"}, **schema.get("$defs", {})}


def _same_or_extended(old: dict, new: dict, where: str) -> list[str]:
    problems = []
    for key, value in old.items():
        if key == "required":
            missing = set(new.get("required", [])) - set(value)
            problems += [f"{where}: newly required field {m}" for m in sorted(missing)]
        elif key == "properties":
            for field, definition in value.items():
                if field not in new.get("properties", {}):
                    problems.append(f"{where}.{field}: removed")
                else:
                    got = {k: v for k, v in new["properties"][field].items() if k != "description"}
                    want = {k: v for k, v in definition.items() if k != "description"}
                    # a wider range still reads every old value (PARROT's unreadable row 0 beside states 1-8)
                    if got.get("minimum", -1e300) <= want.get("minimum", -1e300):
                        got["minimum"] = want.get("minimum")
                    if got.get("maximum", 1e300) >= want.get("maximum", 1e300):
                        got["maximum"] = want.get("maximum")
                    if set(want.get("enum", [])) <= set(got.get("enum", [])) and "enum" in want:
                        got["enum"] = want["enum"]  # a new allowed value (a new backend kind) reads every old one
                    got = {k: v for k, v in got.items() if v is not None or k in want}
                    if got != want:
                        problems.append(f"{where}.{field}: changed from {want} to {got}")
    return problems


def test_version_1_fields_are_unchanged():
    assert SCHEMA_VERSION == 1
    problems = []
    for name, model in (("RunResult", RunResult), ("Sample", Sample)):
        old, new = _defs(FROZEN[name]), _defs(model.model_json_schema())
        for d, definition in old.items():
            if d not in new:
                problems.append(f"{name}/{d}: removed")
            else:
                problems += _same_or_extended(definition, new[d], f"{name}/{d}")
    assert not problems, "\n".join(problems)


def test_a_nan_metric_is_undefined_with_a_reason_not_a_silent_null():
    """Issue 15 defect 4: NaN metrics were written as `null` with n > 0 and no word of why."""
    m = Metric(name="delta_p_gold", value=math.nan, ci_low=math.nan, ci_high=math.nan, n=12, formula="f")
    out = json.loads(m.model_dump_json())
    assert out["value"] is None and out["ci_low"] is None and out["reason"]


def test_a_computed_metric_has_no_reason_and_a_given_reason_is_kept():
    assert Metric(name="accuracy", value=0.5, n=2, formula="f").reason is None
    m = Metric(name="performance_drop_rate", value=None, n=4, formula="f", reason="no original answer is right")
    assert m.reason == "no original answer is right"
