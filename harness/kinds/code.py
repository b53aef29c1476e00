"""`type: code`: complete a function from its prompt; the program runs against the item's tests in a sandbox;
pass@k and ReCode's robust metrics (SPEC.md §5). Registers the kind, the `code` scorer and the `pass_at_k`
metric family.

Variants of every item, each asked `code.samples` times (sample i is its own request, seeded with i):
`original` (ReCode's nominal prompt); `original_partial` when a released set perturbs partial code (the
same partial code unperturbed, its nominal); one per released perturbed set (`code.perturbed_sets`,
paired by task id, adapted as harness/data/code.py says); and the task's own `perturbations:`, applied
to docstring prose only (harness/variants/docstrings.py).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from harness.config.spec import Name, TaskSpec
from harness.config.task import Task
from harness.core.errors import HarnessError
from harness.core.plugins import KINDS, METRICS, SCORERS
from harness.core.records import Strict
from harness.data.code import CodeProblem, has_partial_code, released_problem
from harness.data.items import MISSING, Item, RowError, common_fields, get_field
from harness.kinds.base import Column, TaskKind
from harness.metrics.family import MetricContext, MetricSet
from harness.metrics.info import MetricInfo, declare
from harness.metrics.passk import outcomes_from_samples, passk_metrics
from harness.metrics.persuasion import Settings
from harness.scoring.code import CodeScorer
from harness.scoring.execution.pool import Executor
from harness.scoring.execution.sandbox import Limits, Sandbox
from harness.variants.docstrings import perturb_docstrings
from harness.variants.draws import draw_name
from harness.variants.perturbations import Context
from harness.variants.variant import Variant

ORIGINAL, PARTIAL = "original", "original_partial"
OUTCOME = ["passed"]  # a code variant's one label: the target every sample aims at


class PerturbedSetSpec(Strict):
    """A released perturbed version of the dataset (ReCode's), paired with it by task id."""

    name: Name = Field(description="The variant's name in results (e.g. ButterFingersPerturbation).")
    path: str = Field(description="JSONL (.gz) file of the perturbed problems, relative to the task file.")
    group: Name = Field("released", description="Its perturbation group (docstring, function_name, syntax, "
                                                "format): metrics take the worst case over each group.")


class CodeSpec(Strict):
    """Program synthesis checked by execution: the prompt is completed, the program run against the tests."""

    tests: str = Field(description="Column with the tests: code defining `check(candidate)`.")
    entry_point: str = Field(description="Column with the name of the function under test.")
    solution: str | None = Field(None, description="Column with a reference completion (replay it with "
                                                   "--model replay:COLUMN to check the tests).")
    samples: int = Field(1, ge=1, le=1000, description="n: samples per prompt (pass@k); needs temperature > 0 "
                                                       "when above 1.")
    k: list[int] | None = Field(None, description="The k of pass@k (each <= samples); default 1, 10, 100 up to n.")
    perturbed_sets: list[PerturbedSetSpec] = Field(default_factory=list)
    execution: Limits = Field(default_factory=Limits, description="Per-program limits (harness/scoring/execution).")
    isolation: Literal["auto", "namespaces", "rlimits"] = Field(
        "auto", description="namespaces: user, mount, PID and network namespaces (an error where unavailable); "
                            "rlimits: limits and seccomp only; auto: namespaces where available.")
    executor: Executor = Field("auto", description="local: this machine's cores; ray: Ray tasks; auto: Ray when "
                                                   "initialised or RAY_ADDRESS is set.")
    workers: int | None = Field(None, ge=1, description="Programs run at once locally (default: CPU count).")

    @model_validator(mode="after")
    def _names(self) -> CodeSpec:
        names = [s.name for s in self.perturbed_sets]
        if len(set(names)) != len(names) or {ORIGINAL, PARTIAL} & set(names):
            raise ValueError(f"perturbed set names must be distinct and not {ORIGINAL} or {PARTIAL}")
        if any(k > self.samples for k in self.k or []):
            raise ValueError(f"every k must be at most samples ({self.samples})")
        return self

    def ks(self) -> list[int]:
        return sorted(set(self.k)) if self.k else [k for k in (1, 10, 100) if k <= self.samples]


class CodeTaskSpec(TaskSpec):
    type: Literal["code"]
    code: CodeSpec = Field(description="Tests, samples, released perturbed sets, execution limits.")
    answer: Literal["logprobs", "generate"] = Field("generate", description="Code is generated: `generate`.")
    metrics: list[str] = Field(default_factory=list, description="Extra metric families by name.")


class CodeItem(Item):
    problems: dict[str, CodeProblem]  # original, original_partial, and each released set's version

    def problem_of(self, variant: Variant) -> CodeProblem:
        """The problem a variant asks (its own-library perturbations ask the original's)."""
        return self.problems.get(variant.perturbation or variant.name, self.problems[ORIGINAL])


def _text(row: dict[str, Any], column: str) -> str:
    value = get_field(row, column)
    if value is MISSING or not isinstance(value, str) or not value.strip():
        raise RowError(column, "expected non-empty text")
    return value


@KINDS.register("code", "complete a function; run it against its tests in a sandbox (pass@k, ReCode)")
class Code(TaskKind):
    spec = CodeTaskSpec
    scorer = "code"
    metric_families = ("pass_at_k",)
    answered_in_text = True
    variant_blocks: ClassVar[frozenset[str]] = frozenset({"perturbations"})
    perturbations_family = False
    verbatim_prompt = True  # a prompt's indentation and final newlines are part of it (ReCode's new_lines)

    def columns(self, spec: Any) -> list[Column]:
        code = spec.code
        cols: list[Column] = [(code.tests, ("code", "tests")), (code.entry_point, ("code", "entry_point"))]
        return cols + ([(code.solution, ("code", "solution"))] if code.solution else [])

    def check_more(self, task: Task) -> None:
        spec = task.spec
        if spec.code.samples > 1 and spec.generation.temperature == 0:
            raise task.error(f"{spec.code.samples} samples at temperature 0 are one answer asked "
                             f"{spec.code.samples} times: set generation.temperature above 0", "code", "samples")
        for i, v in enumerate(spec.perturbations.variants if spec.perturbations else []):
            for j, step in enumerate(v.steps):
                if not type(step).targets_text:
                    raise task.error(f"'{step.kind}' does not rewrite text; code prompts take text perturbations "
                                     "of their docstrings only", "perturbations", "variants", i, "steps", j)

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        code = task.spec.code
        item_id, prompt, groups = common_fields(task, index, row)
        solution = get_field(row, code.solution) if code.solution else ""
        if not isinstance(solution, str):
            raise RowError(str(code.solution), "expected the reference completion as text")
        base = CodeProblem(id=item_id, prompt=prompt, tests=_text(row, code.tests),
                           entry_point=_text(row, code.entry_point).strip(), solution=solution)
        problems = {ORIGINAL: base}
        for i, s in enumerate(code.perturbed_sets):  # data files: read with the dataset, not by validate --no-data
            try:
                problems[s.name], partial = released_problem(base, task.resolve(s.path))
            except HarnessError as exc:
                if not task.resolve(s.path).is_file():
                    raise task.error(f"file not found: {s.path}", "code", "perturbed_sets", i, "path") from None
                raise RowError(f"code.perturbed_sets ({s.path})", exc.message) from None
            if partial is not None:
                problems.setdefault(PARTIAL, partial)
        return CodeItem(id=item_id, question=prompt, choices=[], labels=list(OUTCOME), target=0, groups=groups,
                        row=row, problems=problems)

    def variants(self, task: Task, items: list[Item]) -> list[Variant] | None:
        spec = task.spec
        out: list[Variant] = []
        for item in items:
            assert isinstance(item, CodeItem)
            base = item.problems[ORIGINAL]
            views = [(name, problem.prompt, None if name in (ORIGINAL, PARTIAL) else name, 0)
                     for name, problem in item.problems.items()]
            ctx = Context(item_id=item.id, row=item.row, resolve=task.resolve)
            for v in spec.perturbations.variants if spec.perturbations else []:
                for r in range(v.repeats):
                    name = draw_name(v.name, r, v.repeats)
                    prompt = perturb_docstrings(base.prompt, v.steps, seed=spec.perturbations.seed, variant=name,
                                                ctx=ctx, keep=(base.entry_point,))
                    views.append((name, prompt, v.name, r))
            out += [Variant(item=item, name=name, question=prompt, choices=[], labels=list(OUTCOME), target=0,
                            perturbation=perturbation, repeat=r, sample_index=i)
                    for name, prompt, perturbation, r in views for i in range(spec.code.samples)]
        return out

    def recorded_output(self, task: Task, variant: Variant, column: str) -> str | None:
        """Replaying the reference column gives each variant its own reference (renamed, re-indented, the
        rest of partial code); any other column's text is replayed on every variant of its item."""
        item = variant.item
        assert isinstance(item, CodeItem)
        if column == task.spec.code.solution:
            return item.problem_of(variant).solution
        text = get_field(item.row, column)
        return text if isinstance(text, str) else None


@SCORERS.register("code", "run prompt + completion against the problem's tests in the sandbox: passed or not")
def code_scorer(task: Any) -> CodeScorer:
    code = task.spec.code

    def problem(variant: Variant) -> tuple[str, str]:
        p = variant.item.problem_of(variant)  # type: ignore[attr-defined]
        return p.tests, p.entry_point

    return CodeScorer(problem, Sandbox(code.execution, isolation=code.isolation), executor=code.executor,
                      workers=code.workers)


_INFO = (  # name, display, unit, higher is better, meaning
    ("pass@k", "pass@k", "rate", True, "chance that one of k samples passes (Chen et al.'s unbiased estimator)"),
    ("robust_pass@k", "robust pass@k", "rate", True, "ReCode RP_s@k: passing on every perturbed draw"),
    ("robust_drop@k", "robust drop@k", "ratio", False, "ReCode RD_s@k: relative fall from pass@k to robust pass@k"),
    ("robust_relative@k", "robust relative@k", "rate", False, "ReCode RR_s@k: outcomes a perturbation changed"),
    ("timeout_rate", "timeouts", "rate", False, "share of programs stopped at the time limit"),
    ("syntax_error_rate", "syntax errors", "rate", False, "share of programs that do not parse"),
    ("crashed_rate", "crashes", "rate", False, "share of programs that ended without a verdict"),
)
declare(*(MetricInfo(name=n, display=d, unit=u, higher_is_better=h, description=t) for n, d, u, h, t in _INFO))


@METRICS.register("pass_at_k", "pass@k, ReCode's robust pass/drop/relative@k per perturbation and group, "
                               "timeout and syntax error rates")
def pass_at_k_family(ctx: MetricContext) -> MetricSet:
    code = ctx.task.spec.code
    partial = {s.name: PARTIAL for s in code.perturbed_sets if has_partial_code(ctx.task.resolve(s.path))}
    groups = {s.name: s.group for s in code.perturbed_sets}
    groups.update({v.name: "docstring" for v in (ctx.task.spec.perturbations.variants
                                                 if ctx.task.spec.perturbations else [])})
    variants = {s.variant for s in ctx.samples}
    outcomes = outcomes_from_samples(ctx.samples, n=code.samples, group_keys=ctx.group_keys,
                                     baseline_of={p: b for p, b in partial.items() if b in variants},
                                     perturbation_groups=groups)
    b = ctx.boot
    settings = Settings(seed=b.seed, resamples=b.resamples, level=b.level, min_group_size=b.min_group_size)
    return MetricSet(*passk_metrics(outcomes, code.ks(), settings))
