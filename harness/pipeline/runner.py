"""Run one task on one backend: items -> variants -> requests -> responses -> scores -> results.

This module is the pipeline read top to bottom; every stage lives in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from harness.backends.base import Backend, Request, Response
from harness.backends.replay import ReplayBackend
from harness.config.sampling import make_sampling
from harness.config.task import Task
from harness.core import faults
from harness.core.plugins import METRICS, SCORERS
from harness.data.items import TaskData
from harness.metrics.family import BootstrapConfig, MetricContext, MetricSet
from harness.metrics.info import info as metric_info
from harness.pipeline.cache import RequestCache, cache_key
from harness.pipeline.dialogue import second_turns, skipped_items
from harness.pipeline.estimate import Estimate, estimate
from harness.pipeline.judging import Judge, attach, judge_requests, make_judge, unique
from harness.pipeline.plan import Chunk, planned_chunks
from harness.results import environment
from harness.results.io import AtomicFile, atomic_write_text, sample_lines
from harness.results.schema import Counts, JudgeInfo, RunResult, Sample, SeedChoice, Settings, TaskRecord, Timing
from harness.scoring.multiple_choice import ScoreFn, score_all


class RunOptions(BaseModel):
    seed: int = 1234
    seed_source: Literal["cli", "default"] = "default"  # whether the user chose the seed
    batch_size: int = 16
    limit: int | float | None = None  # rows, or a share of them
    sample: Literal["first", "random", "stratified"] = "first"
    gen_kwargs: dict[str, Any] = {}  # --gen-kwargs: the tasks' `generation:` keys to override
    system_instruction: str | None = None  # --system-instruction
    bootstrap_resamples: int | None = None  # these three: None takes the task file's `stats:`
    ci_level: float | None = None
    min_group_size: int | None = None

    def for_task(self, task: Task) -> RunOptions:
        return self.model_copy(update=task.spec.stats.merged(**self.model_dump()).model_dump())


def prepared(task: Task, options: RunOptions) -> tuple[Task, dict[str, SeedChoice]]:
    """The task on the rows the run asks for, with the run's seed in every draw the task file does not pin;
    and the seed each draw uses, with its source."""
    task = task.with_sampling(make_sampling(options.limit, options.sample, options.seed))
    task, used = task.with_seed(options.seed)
    task = task.with_overrides(options.gen_kwargs, options.system_instruction)
    seeds = {"run": SeedChoice(value=options.seed, source=options.seed_source)}
    for block, (value, source) in used.items():
        seeds[block] = SeedChoice(value=value, source="task" if source == "task" else options.seed_source)
    return task, seeds


Progress = Callable[[int], None]


def answer(requests: list[Request], backend: Backend, cache: RequestCache | None,
           progress: Progress | None = None) -> tuple[dict[str, Response], int]:
    """Responses by request key: cached ones read back, the rest sent to the backend and
    committed to the cache batch by batch. Returns (responses, number served from cache)."""
    answers: dict[str, Response] = {}
    keys = {r.key: cache_key(backend.info, r) for r in requests} if cache else {}
    if cache:
        hits = cache.get_many(list(keys.values()))
        answers = {r.key: hits[keys[r.key]] for r in requests if keys[r.key] in hits}
    todo = [r for r in requests if r.key not in answers]
    if progress and answers:
        progress(len(answers))

    def on_done(pairs: list[tuple[int, Response]]) -> None:
        if cache:
            cache.put_many(backend.info.name, [(keys[todo[i].key], resp) for i, resp in pairs])
            faults.reached("batch_committed")
        if progress:
            progress(len(pairs))

    fresh = backend.run(todo, on_done) if todo else []
    answers.update(zip((r.key for r in todo), fresh))
    return answers, len(requests) - len(todo)


def prefix_counts(queried: int, hits: int) -> dict[str, int | float | None]:
    """The run's prompt tokens and prefix-cache hits, when the backend counted any."""
    if queried <= 0:
        return {}
    return {"prompt_tokens": queried, "prefix_cache_hits": hits, "prefix_cache_hit_rate": round(hits / queried, 4)}


def scorer(task: Task) -> ScoreFn:
    """How this task's answers are scored (its `scorer:`, else its kind's), chosen once per run."""
    return SCORERS.get(task.spec.scorer or task.kind.scorer)(task)


class Answered(NamedTuple):
    samples: list[Sample]
    requests: int  # distinct requests of both waves
    cached: int  # of which served from the cache
    seconds: float  # spent answering
    judged: tuple[int, int] = (0, 0)  # judge requests: distinct, served from the cache


def answer_chunk(task: Task, chunk: Chunk, backend: Backend, cache: RequestCache | None, seed: int,
                 progress: Progress | None, judge: Judge | None = None) -> Answered:
    """Both waves of one chunk, the judge's wave when the task has a judge, then every sample scored."""
    t0 = time.perf_counter()
    first = chunk.first
    # Wave 1: every single-turn prompt and every dialogue's first turn, as one batch. The second turns extend
    # the first turns' prompts: the backend may keep those prompts' key/value caches for wave 2.
    backend.keep_prefixes([first.requests[i] for i in chunk.dialogues])
    try:
        answers, from_cache = answer(first.unique, backend, cache, progress)
        # Wave 2: every dialogue's second turn, after the model's own first answer (None: the arm is skipped).
        score_of = scorer(task)
        variants, final = second_turns(task, chunk.variants, first, answers, chunk.dialogues, seed, score_of)
        second = list({final[i].key: final[i] for i in chunk.dialogues if final[i].key not in answers}.values())
        if second:
            more, cached = answer(second, backend, cache, progress)
            answers.update(more)
            from_cache += cached
    finally:
        backend.keep_prefixes([])
    seconds = time.perf_counter() - t0

    samples = []
    kept = [(v, r) for v, r in zip(variants, final) if v is not None]
    responses = [answers[request.key] for _, request in kept]
    judged = (0, 0)
    if judge is not None:  # Wave 3: the judge reads every final answer
        asked = judge_requests(task, [v for v, _ in kept], responses, seed)
        verdicts, judge_cached = answer(unique(asked), judge.backend, cache, progress)
        responses = attach(task, responses, asked, verdicts)
        judged = (len(unique(asked)), judge_cached)
    scores = score_all(score_of, [(v, resp) for (v, _), resp in zip(kept, responses)])
    for (variant, request), response, score in zip(kept, responses, scores):
        samples.append(Sample(
            item_id=variant.item.id, variant=variant.name, groups=variant.item.groups,
            messages=list(request.messages), choices=variant.choices, labels=variant.labels,
            target=variant.target_label, asserted=variant.asserted_label, output=response.text,
            label_logprobs=response.candidate_logprobs, label_logprob_kind=response.candidate_kinds(),
            predicted=score.predicted, tied=list(score.tied),
            predicted_option=variant.option_of(score.predicted), perturbation=variant.perturbation,
            repeat=variant.repeat, correct=score.correct,
            invalid=score.invalid, gold_prob=score.gold_prob, prompt_tokens=response.prompt_tokens,
            prompt_truncated=response.prompt_truncated, output_tokens=response.output_tokens,
            request_key=request.key, sample_index=variant.sample_index, execution=score.execution,
            judge=score.judge, facts=variant.item.facts))
    return Answered(samples, len(first.unique) + len(second), from_cache, seconds, judged)


def run_task(task: Task, backend: Backend, options: RunOptions, run_dir: Path, *,
             cache: RequestCache | None = None,
             on_start: Callable[[int], Progress] | None = None,
             on_plan: Callable[[Estimate], None] | None = None, judge: Judge | None = None) -> RunResult:
    """`judge`: the judge of a task with a `judge:` block (default: the one its block names)."""
    started = time.perf_counter()
    task, seeds = prepared(task, options)
    own_judge = judge is None and task.spec.judge is not None  # made here: closed here
    judge = (judge or make_judge(task)) if task.spec.judge is not None else None
    options = options.for_task(task)
    data = TaskData(task)  # every row checked here, before anything is asked of the model
    faults.reached("dataset_loaded")

    # A dataset loaded whole is one chunk, planned once; a streamed one is planned again as it runs.
    by_item = isinstance(backend, ReplayBackend)  # recorded outputs belong to items, not to prompts
    whole = None if data.streamed else list(planned_chunks(task, data, options.seed, by_item))

    def chunks() -> Iterable[Chunk]:
        return whole if whole is not None else planned_chunks(task, data, options.seed, by_item)

    count = backend.count_tokens if on_plan else None
    in_cache = (lambda requests: cache.answered(backend.info, requests)) if cache and on_plan else None
    planned = estimate(chunks(), count, in_cache)
    if on_plan:
        on_plan(planned)

    model_s_before = backend.model_seconds
    load_before = backend.load_seconds  # a LazyBackend loads on first need
    queried_before, hits_before = backend.prefix_queried, backend.prefix_hits
    spec = task.spec.judge  # the judge's requests: one per sample (two, pairwise), known once answered
    judged = planned.samples * (2 if spec.pairwise else 1) if spec is not None else 0
    progress = on_start(planned.requests + planned.second_turns + judged) if on_start else None
    # Samples go to disk chunk by chunk; the metrics keep them without their prompt and output text.
    samples: list[Sample] = []
    requests = from_cache = judge_requests_n = judge_cached = 0
    answering_s = 0.0
    with AtomicFile(run_dir / "samples.jsonl") as out:
        for chunk in chunks():
            done = answer_chunk(task, chunk, backend, cache, options.seed, progress, judge)
            requests, from_cache = requests + done.requests, from_cache + done.cached
            judge_requests_n, judge_cached = judge_requests_n + done.judged[0], judge_cached + done.judged[1]
            answering_s += done.seconds
            out.write(sample_lines(done.samples))
            samples.extend(s.model_copy(update={"messages": [], "output": None, "judge": _lean(s)})
                           for s in done.samples)
        out.commit()
    model_load_s = backend.load_seconds - load_before
    metrics, breakdowns, states = task_metrics(task, samples, options)
    result = RunResult(
        run_id=run_dir.name,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        task=TaskRecord(name=task.spec.name, version=task.spec.version, file=str(task.file),
                        config_hash=task.config_hash, config=task.spec.model_dump(mode="json")),
        model=backend.info,
        settings=Settings(seed=options.seed, batch_size=getattr(getattr(backend, "options", None), "batch_size", None)
                          or options.batch_size,
                          limit=data.count if task.sampling else task.spec.limit,
                          bootstrap_resamples=options.bootstrap_resamples, ci_level=options.ci_level,
                          min_group_size=options.min_group_size, sample=options.sample if options.limit else "first",
                          limit_fraction=options.limit if isinstance(options.limit, float) else None, seeds=seeds,
                          gen_kwargs=options.gen_kwargs, system_instruction=options.system_instruction),
        environment=environment.capture(),
        counts=Counts(items=planned.items, samples=len(samples), requests_unique=requests,
                      requests_cached=from_cache, invalid=sum(s.invalid for s in samples),
                      ties=sum(bool(s.tied) for s in samples), truncated=sum(s.prompt_truncated > 0 for s in samples),
                      skipped=skipped_items(task, samples),
                      logprobs_floored=sum(s.logprobs_read("floored") for s in samples),
                      logprobs_partial=sum(s.logprobs_read("partial") for s in samples)),
        metrics=metrics,
        groups=breakdowns,
        states=states,
        timing=Timing(total_s=round(time.perf_counter() - started, 3),
                      model_load_s=round(model_load_s, 3), inference_s=round(answering_s - model_load_s, 3),
                      model_s=round(backend.model_seconds - model_s_before, 3),
                      **prefix_counts(backend.prefix_queried - queried_before, backend.prefix_hits - hits_before)),
        judge=JudgeInfo(model=judge.backend.info, given_by=judge.given_by, requests_unique=judge_requests_n,
                        requests_cached=judge_cached) if judge else None,
    )
    if own_judge and judge is not None:
        judge.backend.close()
    # results.json last: its presence marks a complete run.
    atomic_write_text(run_dir / "results.json", result.model_dump_json(indent=2) + "\n")
    return result


def _lean(sample: Sample):  # type: ignore[no-untyped-def]
    """What the metrics keep of a sample's judging: the grades, not the judge's prompts and outputs."""
    j = sample.judge
    return None if j is None else j.model_copy(update={"calls": [c.model_copy(update={"messages": [], "output": None})
                                                                for c in j.calls]})


def metric_families(task: Task) -> list[str]:
    """The families a task reports: its kind's, its variant blocks', then any its `metrics:` list names."""
    names = list(task.kind.metric_families)
    names += ["persuasion"] if task.spec.persuasion else []
    names += ["robustness"] if task.spec.perturbations and task.kind.perturbations_family else []
    names += [m for m in task.spec.metrics if m in METRICS and m not in names]
    return names


def task_metrics(task: Task, samples: list[Sample], options: RunOptions) -> MetricSet:
    """Every metric the task asks for, with its group breakdowns (and persuasion states), each metric
    labelled with its unit and direction (harness/metrics/info.py)."""
    options = options.for_task(task)
    ctx = MetricContext(task, samples, BootstrapConfig(seed=options.seed, resamples=options.bootstrap_resamples,
                                                       level=options.ci_level, min_group_size=options.min_group_size))
    out = MetricSet([], [], [])
    for name in metric_families(task):
        part = METRICS.get(name)(ctx)
        out.metrics.extend(part.metrics)
        out.breakdowns.extend(part.breakdowns)
        out.states.extend(part.states)
    for m in out.metrics:
        meta = metric_info(m.name)
        m.unit, m.higher_is_better = meta.unit, meta.higher_is_better
    return out
