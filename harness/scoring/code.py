"""Score code completions: each becomes a program run against its problem's tests in the sandbox.

The program is the prompt followed by the completion (HumanEval's convention). A completion that
holds a fenced code block (a chat model's answer) contributes that block's code instead; if the
block defines the function under test itself, it replaces the prompt from that function's `def`
on (what comes before, imports and helper functions, stays; partial code after it, which may end
in a block header, goes). The verdict is the
sample's `predicted` label, `correct` means passed, and a syntax error is `invalid` (no program
could be read). Programs of a whole chunk run in parallel (harness/scoring/execution/pool.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from harness.core.records import Response
from harness.scoring.execution.pool import Executor, run_programs
from harness.scoring.execution.sandbox import Execution, Program, Sandbox, Verdict
from harness.scoring.multiple_choice import SampleScore
from harness.variants.variant import Variant

FENCE = re.compile(r"```[ \t]*(?:python3?|py)?[ \t]*\n(.*?)(?:```|\Z)", re.S | re.I)
Problem = Callable[[Variant], tuple[str, str]]  # variant -> (tests, entry point)


def program_text(prompt: str, completion: str, entry_point: str) -> str:
    """The program to run: prompt + completion, or prompt + the code of the completion's first fenced block."""
    fenced = FENCE.search(completion)
    if fenced is None:
        return prompt + completion
    code = fenced.group(1)
    definition = re.compile(rf"^def\s+{re.escape(entry_point)}\s*\(", re.M)
    if definition.search(code):
        found = definition.search(prompt)
        return (prompt[: found.start()] if found else prompt + "\n\n") + code
    return prompt + code


def score_execution(execution: Execution) -> SampleScore:
    return SampleScore(predicted=execution.verdict.value, correct=execution.passed,
                       invalid=execution.verdict is Verdict.syntax_error, gold_prob=None, execution=execution)


class CodeScorer:
    """A task's scorer: `scorer(variant, response)` for one sample, `scorer.many(pairs)` for a chunk."""

    def __init__(self, problem: Problem, sandbox: Sandbox, *, executor: Executor = "auto",
                 workers: int | None = None) -> None:
        self.problem = problem
        self.sandbox = sandbox
        self.executor: Executor = executor
        self.workers = workers

    def program(self, variant: Variant, response: Response) -> Program:
        tests, entry_point = self.problem(variant)
        return Program(source=program_text(variant.question, response.text or "", entry_point), tests=tests,
                       entry_point=entry_point)

    def __call__(self, variant: Variant, response: Response) -> SampleScore:
        return self.many([(variant, response)])[0]

    def many(self, pairs: Sequence[tuple[Variant, Response]]) -> list[SampleScore]:
        """Every pair scored; identical programs (the same completion of the same prompt) run once."""
        programs = [self.program(v, r) for v, r in pairs]
        distinct = list(dict.fromkeys(programs))
        runs = dict(zip(distinct, run_programs(self.sandbox, distinct, workers=self.workers, executor=self.executor)))
        return [score_execution(runs[p]) for p in programs]
