"""The metric-family contract: `(MetricContext) -> MetricSet`, registered with `@METRICS.register(name)`.

A task reports its kind's families (harness/kinds/), `persuasion` when it has persuasion arms,
`robustness` when it has perturbations, and any family its `metrics:` list names. Every family gets
the same `BootstrapConfig`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from harness.results.schema import BehaviourState, GroupBreakdown, Metric, Sample


@dataclass(frozen=True)
class BootstrapConfig:
    """How every interval of a run is computed: seeded, clustered by base item."""

    seed: int = 1234
    resamples: int = 1000
    level: float = 0.95
    min_group_size: int = 10

    def kwargs(self) -> dict[str, Any]:
        return {"seed": self.seed, "resamples": self.resamples, "level": self.level,
                "min_group_size": self.min_group_size}


class MetricSet(NamedTuple):
    metrics: list[Metric]
    breakdowns: list[GroupBreakdown]
    states: list[BehaviourState] = []


@dataclass
class MetricContext:
    """What a family computes on: the run's samples (without their texts) and the task."""

    task: Any  # harness.config.task.Task
    samples: list[Sample]
    boot: BootstrapConfig = field(default_factory=BootstrapConfig)

    @property
    def group_keys(self) -> list[str]:
        return list(self.task.group_keys)

    @property
    def has_variants(self) -> bool:
        return self.task.spec.persuasion is not None or self.task.spec.perturbations is not None

    @property
    def reference(self) -> str:
        """The unpressured prompts every variant is compared with: `neutral` (persuasion) or `original`."""
        return "neutral" if self.task.spec.persuasion is not None else "original"

    @cached_property
    def base(self) -> list[Sample]:
        return [s for s in self.samples if s.variant == self.reference]

    def groups(self, rows: list[Sample]) -> dict[str, list[str]]:
        return {key: [r.groups[key] for r in rows] for key in self.group_keys}

    def about_reference(self, result: tuple[list[Metric], list[GroupBreakdown]]) -> MetricSet:
        """Metrics of the reference prompts, labelled with its name when the task has variants."""
        metrics, breakdowns = result
        if self.has_variants:
            for m in metrics:
                m.variant = self.reference
            for bd in breakdowns:
                bd.variant = self.reference
        return MetricSet(metrics, breakdowns)
