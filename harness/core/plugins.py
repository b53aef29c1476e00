"""Every extension point's registry, in one place below all layers.

Each registry names the modules that hold its built-in entries as strings, imported on first use,
so this module depends on nothing above it. To add an entry, write one module that registers itself
with the registry's decorator; to ship it outside this repository, name that module in the
`harness.plugins` entry-point group (see harness/core/registry.py and docs/architecture.md).

| registry      | entry                                        | decorator                         |
|---------------|----------------------------------------------|-----------------------------------|
| KINDS         | a `TaskKind` subclass (harness/kinds/base.py)| `@KINDS.register("name")`         |
| SCORERS       | `make(task) -> (Variant, Response) -> SampleScore` | `@SCORERS.register("name")`  |
| METRICS       | `(MetricContext) -> MetricSet` (harness/metrics/family.py) | `@METRICS.register("name")`       |
| BACKENDS      | a `Backend` subclass (harness/backends/base.py) | `@BACKENDS.register("name")`   |
| PERTURBATIONS | a perturbation (harness/variants/perturbations/base.py) | `@register(...)`       |
| ARMS          | a persuasion arm (harness/variants/arms.py)  | `@ARMS.register("name")`          |
"""

from __future__ import annotations

from typing import Any

from harness.core.registry import Registry

KINDS: Registry[Any] = Registry("task kind", (
    "harness.kinds.multiple_choice", "harness.kinds.rag", "harness.kinds.open_answer", "harness.kinds.code",
    "harness.kinds.behavior", "harness.kinds.bbq", "harness.kinds.winogenerated",
    "harness.kinds.judged", "harness.kinds.refusal"))
SCORERS: Registry[Any] = Registry("scorer", (
    "harness.scoring.multiple_choice", "harness.scoring.rag", "harness.scoring.open_answer", "harness.kinds.code",
    "harness.scoring.judge", "harness.scoring.refusal"))
METRICS: Registry[Any] = Registry("metric family", ("harness.metrics.families", "harness.kinds.code",
                                                     "harness.metrics.behavior", "harness.metrics.bbq",
                                                     "harness.metrics.winogenerated",
                                                     "harness.metrics.judging", "harness.metrics.refusal"))
BACKENDS: Registry[Any] = Registry("backend", (
    "harness.backends.hf", "harness.backends.vllm", "harness.backends.openai", "harness.backends.fake"))
PERTURBATIONS: Registry[Any] = Registry("perturbation", (
    "harness.variants.perturbations.distractors", "harness.variants.perturbations.format_grammar",
    "harness.variants.perturbations.instruction", "harness.variants.perturbations.options",
    "harness.variants.perturbations.orthography", "harness.variants.perturbations.surface",
    "harness.variants.perturbations.claims"))
ARMS: Registry[Any] = Registry("persuasion arm", ("harness.variants.arms",))

ALL = {"kinds": KINDS, "scorers": SCORERS, "metrics": METRICS, "backends": BACKENDS,
       "perturbations": PERTURBATIONS, "arms": ARMS}
