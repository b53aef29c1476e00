"""harness: evaluate how robust and how aligned a language model really is.

The data flows one way (see docs/architecture.md):
task YAML -> TaskSpec -> Items -> Variants -> Requests -> backend -> Responses
-> SampleScores -> metrics -> results.json / samples.jsonl -> HTML report.
"""

__version__ = "0.1.0"


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """`harness.evaluate` (harness/api.py), imported on first use so `import harness` stays light."""
    if name in ("evaluate", "Evaluation"):
        from harness import api

        return getattr(api, name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
