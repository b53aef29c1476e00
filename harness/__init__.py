"""harness: evaluate how robust and how aligned a language model really is.

The data flows one way (see docs/architecture.md):
task YAML -> TaskSpec -> Items -> Variants -> Requests -> backend -> Responses
-> SampleScores -> metrics -> results.json / samples.jsonl -> HTML report.
"""

__version__ = "0.1.0"
