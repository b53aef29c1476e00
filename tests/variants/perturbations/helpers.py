"""Shared test material for the perturbation library: random prompts, example and bad params, contexts."""

from __future__ import annotations

import string
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from harness.variants.perturbations import Context, Prompt, apply_steps, parse_params

ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = ROOT.parent / "shared" / "data"
HELM_MISSPELLINGS = SHARED_DATA / "helm_misspelling" / "correct_to_misspelling.json"
PROMPTBENCH = SHARED_DATA / "promptbench_templates" / "promptbench_prompt_templates.json"
DATA = Path(__file__).resolve().parent / "data"  # small files of our own: misspellings.json, instructions.json

WORDS = [
    "What", "which", "the", "The", "capital", "of", "France", "is", "not", "do", "does", "it", "It", "I", "am",
    "cannot", "can't", "don't", "it's", "what", "answer", "question", "following", "correct", "about", "Probably",
    "mammal", "DNA", "NASA", "well-known", "e.g.", "(see", "below)", "—", "?", "!", "...", "café", "naïve",
    "x-ray", "O'Neil", "isn't", "we", "are", "they", "will", "been", "has", "Who", "wrote", "Hamlet?",
]
NUMBERS = ["3.14", "1,000", "-5", "x2", "2?", "42", "(7)", "10%", "1st", "$20", "2+2", "H2O", "1990s", "0.5kg",
           "answer-2", "don't3", "about4", "Which2", "it's1"]


def _token() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(WORDS), st.sampled_from(NUMBERS), st.integers(-999, 9999).map(str))


@st.composite
def texts(draw: st.DrawFn, min_tokens: int = 1, max_tokens: int = 25) -> str:
    """Words, numbers and punctuation joined by mostly single spaces (sometimes a newline or two spaces)."""
    tokens = draw(st.lists(_token(), min_size=min_tokens, max_size=max_tokens))
    out = tokens[0]
    for tok in tokens[1:]:
        out += draw(st.sampled_from([" ", " ", " ", " ", "\n", "  "])) + tok
    return out


@st.composite
def prompts(draw: st.DrawFn) -> Prompt:
    n = draw(st.integers(2, 6))
    return Prompt(
        question=draw(texts(3, 30)),
        choices=draw(st.lists(texts(1, 4), min_size=n, max_size=n)),
        labels=list(string.ascii_uppercase[:n]),
        target=draw(st.integers(0, n - 1)),
        instruction=draw(st.one_of(st.just(""), texts(3, 12))),
    )


def context(item_id: str = "q1", row: dict[str, Any] | None = None) -> Context:
    return Context(item_id=item_id, row=row or {}, resolve=lambda rel: (DATA / rel).resolve())


def run(prompt: Prompt, step: dict[str, Any], *, seed: int = 0, variant: str = "v", item_id: str = "q1",
        row: dict[str, Any] | None = None) -> Prompt:
    """Apply one step given as a task-file dict."""
    return apply_steps(prompt, [parse_params(step)], seed=seed, variant=variant, ctx=context(item_id, row))


def digit_tokens(text: str) -> Counter[str]:
    return Counter(t for t in text.split() if any(c.isdigit() for c in t))


ALL_FIELDS = ["question", "options", "instruction"]

# Valid params for every registered perturbation (tests check that each kind has some).
EXAMPLES: dict[str, list[dict[str, Any]]] = {
    "keyboard_typo": [{"rate": 0.3}, {"rate": 1.0, "on": ALL_FIELDS}],
    "char_swap": [{"rate": 0.5}, {"rate": 0.5, "on": ["options", "instruction"]}],
    "char_insert": [{"rate": 0.3, "on": ALL_FIELDS}],
    "char_delete": [{"rate": 0.5, "on": ALL_FIELDS}],
    "misspelling": [{"file": "misspellings.json", "rate": 1.0, "on": ALL_FIELDS}],
    "casing": [{"mode": "upper"}, {"mode": "lower", "on": ["instruction"]}, {"mode": "title"},
               {"mode": "random", "rate": 0.5, "on": ALL_FIELDS}],
    "whitespace": [{"rate": 0.2, "remove_rate": 0.5, "on": ALL_FIELDS}],
    "punctuation_removal": [{"on": ALL_FIELDS}],
    "contractions": [{"mode": "contract", "on": ALL_FIELDS}, {"mode": "expand"}],
    "format": [{}, {"symbols": "numbers", "option_wrapper": "({})"}],
    "option_shuffle": [{}, {"mode": "reverse"}, {"mode": "rotate", "shift": 2}],
    "instruction": [{"instructions": ["Answer about {task}.", "Pick one option.", "Choose wisely."]},
                    {"file": "instructions.json", "index": 0, "topic": "geography"}],
    "stress_test": [{}, {"phrase": "false_is_not_true", "repeat": 2, "on": ALL_FIELDS}],
    "checklist": [{"count": 2, "on": ["question", "options"]}],
    "irrelevant_sentence": [{"on": ["question", "instruction"]}],
    "claim": [{}, {"claim": "fiction"}, {"text": "I am asking for a friend."}],
}
EXAMPLE_STEPS = [{"kind": kind, **params} for kind, examples in EXAMPLES.items() for params in examples]

ORTHOGRAPHIC = {"keyboard_typo", "char_swap", "char_insert", "char_delete", "misspelling", "casing", "whitespace",
                "punctuation_removal", "contractions"}
DISTRACTORS = {"stress_test", "checklist", "irrelevant_sentence"}

# Invalid params for every registered perturbation: each must raise a pydantic ValidationError.
BAD: dict[str, list[dict[str, Any]]] = {
    "keyboard_typo": [{"rate": 1.5}, {"rate": 0}, {"on": []}, {"on": ["answer"]}],
    "char_swap": [{"rate": -0.1}, {"on": ["question", "question"]}],
    "char_insert": [{"rate": 2}],
    "char_delete": [{"rate": "lots"}],
    "misspelling": [{}, {"file": "misspellings.json", "rate": 1.5}],
    "casing": [{}, {"mode": "sideways"}, {"mode": "upper", "rate": 0.5}],
    "whitespace": [{"rate": 1.5}, {"remove_rate": 0}],
    "punctuation_removal": [{"mode": "all"}, {"on": "question"}],
    "contractions": [{}, {"mode": "both"}],
    "format": [{"option_wrapper": "x"}, {"option_wrapper": "{}{}"}, {"descriptor_casing": "shout"},
               {"symbols": "greek"}, {"allowed_symbols": []}, {"symbols": "numbers", "allowed_symbols": ["letters"]},
               {"on": ["question"]}],
    "option_shuffle": [{"mode": "sideways"}, {"mode": "random", "shift": 1}, {"on": ["options"]}],
    "instruction": [{}, {"file": "a.json", "instructions": ["x"]}, {"instructions": []}, {"instructions": [" "]},
                    {"instructions": ["a", "b"], "index": 2}, {"instructions": ["a"], "index": -1},
                    {"instructions": ["a"], "topic": "x", "topic_field": "y"},
                    {"instructions": ["a"], "dataset": "mmlu"}],
    "stress_test": [{"phrase": "maybe"}, {"repeat": 0}],
    "checklist": [{"length": 0}, {"count": 0}],
    "irrelevant_sentence": [{"sentence": "hi"}, {"on": []}],
    "claim": [{"claim": "lawyer"}, {"text": ""}, {"text": "x" * 501}, {"on": []}],
}
