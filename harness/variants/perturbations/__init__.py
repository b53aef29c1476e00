"""Perturbations: pure, seeded, meaning-preserving rewrites of a prompt (SPEC §5 ReCode, §6 formats, §7).

Each family module registers its perturbations in `REGISTRY` on import; adding one means adding a
module here (and its import line below). `parse_params` validates a step `{kind: NAME, ...}`,
`apply_steps` composes steps with rngs seeded from (seed, item id, variant, step).
"""

from __future__ import annotations

from harness.variants.perturbations import (  # noqa: F401  (each family registers itself on import)
    distractors,
    format_grammar,
    instruction,
    options,
    orthography,
    surface,
)
from harness.variants.perturbations.base import (
    REGISTRY,
    Casing,
    Context,
    Field,
    Params,
    Perturbation,
    Prompt,
    PromptFormat,
    Symbols,
    apply_steps,
    is_randomized,
    parse_params,
    register,
    step_rng,
    text_perturbation,
)
from harness.variants.perturbations.format_grammar import symbols_for
from harness.variants.perturbations.instruction import load_instructions
from harness.variants.perturbations.orthography import load_misspellings

__all__ = [
    "REGISTRY",
    "Casing",
    "Context",
    "Field",
    "Params",
    "Perturbation",
    "Prompt",
    "PromptFormat",
    "Symbols",
    "apply_steps",
    "is_randomized",
    "load_instructions",
    "load_misspellings",
    "parse_params",
    "register",
    "step_rng",
    "symbols_for",
    "text_perturbation",
]
