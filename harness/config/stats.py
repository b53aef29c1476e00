"""The `stats:` block of a task file: how its statistics are computed.

min_group_size, bootstrap_resamples and ci_level have a `harness run` option of the same name
(`--min-group-size`, `--bootstrap-resamples`, `--ci-level`); an option given on the command line
wins over the task file. class_column names the class of the per-class metrics.
"""

from __future__ import annotations

from pydantic import Field

from harness.core.records import Strict


class StatsSpec(Strict):
    """Group size, bootstrap resamples and confidence level of this task's metrics."""

    min_group_size: int = Field(10, ge=1, description="Groups (and classes) with fewer items are reported and "
                                                      "flagged small, never crowned worst.")
    bootstrap_resamples: int = Field(1000, ge=10, le=1_000_000, description="Resamples of every bootstrap CI.")
    ci_level: float = Field(0.95, gt=0.5, lt=1.0, description="Confidence level of every interval.")
    class_column: str | None = Field(
        None, description="Column holding each item's class for worst_class_accuracy, balanced_accuracy and "
                          "macro_std. Default: the gold option letter (then they measure position bias).")

    def merged(self, **given: int | float | None) -> StatsSpec:
        """These settings with every value given (not None) in its place: the command line wins. Keys
        that are no statistics setting (other run options) are ignored."""
        return self.model_copy(update={k: v for k, v in given.items() if v is not None and k in StatsSpec.model_fields})
