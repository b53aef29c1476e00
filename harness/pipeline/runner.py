"""Run one task on one backend: items -> variants -> requests -> responses -> scores -> results.

This module is the pipeline read top to bottom; every stage lives in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from pydantic import BaseModel

from harness.backends.base import Backend, Request, Response
from harness.config.spec import Task
from harness.core import faults
from harness.data.items import Item, TaskData
from harness.metrics.groups import accuracy_metrics
from harness.metrics.hallucination import nomiracl_metrics, open_answer_metrics
from harness.metrics.persuasion import Settings as PersuasionSettings
from harness.metrics.persuasion import persuasion_metrics
from harness.metrics.robustness import robustness_metrics
from harness.metrics.subgroups import gold_classes, subgroup_metrics
from harness.pipeline.cache import RequestCache, cache_key
from harness.pipeline.plan import Plan, followup_request, plan
from harness.results import environment
from harness.results.io import AtomicFile, atomic_write_text, sample_lines
from harness.results.schema import (
    BehaviourState,
    Counts,
    GroupBreakdown,
    Metric,
    RunResult,
    Sample,
    Settings,
    TaskRecord,
    Timing,
)
from harness.scoring.multiple_choice import SampleScore, first_answer_text, score_multiple_choice
from harness.scoring.open_answer import score_open_answer
from harness.scoring.rag import score_rag
from harness.variants.arms import second_turn
from harness.variants.variant import Variant, make_variants


class RunOptions(BaseModel):
    seed: int = 1234
    batch_size: int = 16
    limit: int | None = None
    bootstrap_resamples: int = 1000
    ci_level: float = 0.95
    min_group_size: int = 10


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


def scorer(task: Task) -> Callable[[Variant, Response], SampleScore]:
    """How this task's answers are scored, chosen once per run."""
    if task.spec.type == "rag":
        return score_rag
    if task.spec.open_answer is not None:
        patterns = task.spec.open_answer.abstain_patterns
        return lambda variant, response: score_open_answer(variant, response, patterns)
    return lambda variant, response: score_multiple_choice(variant, response, task.spec.answer)


class Estimate(BaseModel):
    """What a run is about to ask, said before it starts."""

    items: int
    samples: int
    requests: int  # distinct first-wave requests (within each chunk of a streamed dataset)
    cached: int  # of which the request cache already answers
    second_turns: int  # dialogue turns written after the first answer
    prompt_tokens: int | None  # of the requests to compute, with the model's tokenizer (None: no local one)


class Chunk(NamedTuple):
    """Items evaluated together (all of them, unless the dataset is streamed) and their first-wave plan."""

    items: list[Item]
    variants: list[Variant]
    first: Plan
    dialogues: list[int]  # indices of the variants with a second turn


def prepare(task: Task, items: list[Item], seed: int) -> Chunk:
    variants = make_variants(task, items)
    return Chunk(items, variants, plan(task, variants, seed), [i for i, v in enumerate(variants) if v.turns == 2])


def estimate(chunks: Iterable[Chunk], count_tokens: Callable[[list[Request]], int | None] | None,
             cached: Callable[[list[Request]], set[str]] | None = None) -> Estimate:
    """Counts of what a run will ask; tokens only of the requests the cache cannot answer (a fully
    cached run loads no tokenizer)."""
    items = samples = requests = in_cache = second = 0
    tokens: int | None = 0 if count_tokens else None
    for c in chunks:
        items += len(c.items)
        samples += len(c.variants)
        requests += len(c.first.unique)
        second += len(c.dialogues)
        hits = cached(c.first.unique) if cached else set()
        todo = [r for r in c.first.unique if r.key not in hits]
        in_cache += len(c.first.unique) - len(todo)
        if count_tokens and todo and tokens is not None:
            n = count_tokens(todo)  # None: the backend has no local tokenizer
            tokens = None if n is None else tokens + n
    return Estimate(items=items, samples=samples, requests=requests, cached=in_cache, second_turns=second,
                    prompt_tokens=tokens)


class Answered(NamedTuple):
    samples: list[Sample]
    requests: int  # distinct requests of both waves
    cached: int  # of which served from the cache
    seconds: float  # spent answering


def answer_chunk(task: Task, chunk: Chunk, backend: Backend, cache: RequestCache | None, seed: int,
                 progress: Progress | None) -> Answered:
    """Both waves of one chunk, then every sample scored."""
    t0 = time.perf_counter()
    variants, first = list(chunk.variants), chunk.first
    # Wave 1: every single-turn prompt and every dialogue's first turn, as one batch.
    answers, from_cache = answer(first.unique, backend, cache, progress)
    # Wave 2: every dialogue's second turn, after the model's own first answer.
    final = list(first.requests)
    for i in chunk.dialogues:
        response = answers[first.requests[i].key]
        first_label = score_multiple_choice(variants[i], response, task.spec.answer).predicted
        reply = first_answer_text(response, first_label, task.spec.answer)
        variants[i] = second_turn(task, variants[i], first_label)
        final[i] = followup_request(task, variants[i], first.requests[i], reply, seed)
    second = list({final[i].key: final[i] for i in chunk.dialogues if final[i].key not in answers}.values())
    if second:
        more, cached = answer(second, backend, cache, progress)
        answers.update(more)
        from_cache += cached
    seconds = time.perf_counter() - t0

    score_of = scorer(task)
    samples = []
    for variant, request in zip(variants, final):
        response = answers[request.key]
        score = score_of(variant, response)
        samples.append(Sample(
            item_id=variant.item.id, variant=variant.name, groups=variant.item.groups,
            messages=list(request.messages), choices=variant.choices, labels=variant.labels,
            target=variant.target_label, asserted=variant.asserted_label, output=response.text,
            label_logprobs=response.candidate_logprobs, label_logprob_kind=response.candidate_kinds(),
            predicted=score.predicted,
            predicted_option=variant.option_of(score.predicted), perturbation=variant.perturbation,
            repeat=variant.repeat, correct=score.correct,
            invalid=score.invalid, gold_prob=score.gold_prob, prompt_tokens=response.prompt_tokens,
            prompt_truncated=response.prompt_truncated, output_tokens=response.output_tokens,
            request_key=request.key))
    return Answered(samples, len(first.unique) + len(second), from_cache, seconds)


def run_task(task: Task, backend: Backend, options: RunOptions, run_dir: Path, *,
             cache: RequestCache | None = None,
             on_start: Callable[[int], Progress] | None = None,
             on_plan: Callable[[Estimate], None] | None = None) -> RunResult:
    started = time.perf_counter()
    task = task.with_limit(options.limit)
    data = TaskData(task)  # every row checked here, before anything is asked of the model
    faults.reached("dataset_loaded")

    # A dataset loaded whole is one chunk, planned once; a streamed one is planned again as it runs.
    whole = None if data.streamed else [prepare(task, items, options.seed) for items in data.chunks()]

    def chunks() -> Iterable[Chunk]:
        return whole if whole is not None else (prepare(task, items, options.seed) for items in data.chunks())

    count = backend.count_tokens if on_plan else None
    in_cache = (lambda requests: cache.answered(backend.info, requests)) if cache and on_plan else None
    planned = estimate(chunks(), count, in_cache)
    if on_plan:
        on_plan(planned)

    model_s_before = backend.model_seconds
    load_before = backend.load_seconds  # a LazyBackend loads on first need
    progress = on_start(planned.requests + planned.second_turns) if on_start else None
    # Samples go to disk chunk by chunk; the metrics keep them without their prompt and output text.
    samples: list[Sample] = []
    requests = from_cache = 0
    answering_s = 0.0
    with AtomicFile(run_dir / "samples.jsonl") as out:
        for chunk in chunks():
            done = answer_chunk(task, chunk, backend, cache, options.seed, progress)
            requests, from_cache = requests + done.requests, from_cache + done.cached
            answering_s += done.seconds
            out.write(sample_lines(done.samples))
            samples.extend(s.model_copy(update={"messages": [], "output": None}) for s in done.samples)
        out.commit()
    model_load_s = backend.load_seconds - load_before
    metrics, breakdowns, states = task_metrics(task, samples, options)
    result = RunResult(
        run_id=run_dir.name,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        task=TaskRecord(name=task.spec.name, version=task.spec.version, file=str(task.file),
                        config_hash=task.config_hash, config=task.spec.model_dump(mode="json")),
        model=backend.info,
        settings=Settings(seed=options.seed, batch_size=options.batch_size, limit=task.spec.limit,
                          bootstrap_resamples=options.bootstrap_resamples, ci_level=options.ci_level,
                          min_group_size=options.min_group_size),
        environment=environment.capture(),
        counts=Counts(items=planned.items, samples=len(samples), requests_unique=requests,
                      requests_cached=from_cache, invalid=sum(s.invalid for s in samples),
                      truncated=sum(s.prompt_truncated > 0 for s in samples),
                      logprobs_floored=sum(s.logprobs_read("floored") for s in samples),
                      logprobs_partial=sum(s.logprobs_read("partial") for s in samples)),
        metrics=metrics,
        groups=breakdowns,
        states=states,
        timing=Timing(total_s=round(time.perf_counter() - started, 3),
                      model_load_s=round(model_load_s, 3), inference_s=round(answering_s - model_load_s, 3),
                      model_s=round(backend.model_seconds - model_s_before, 3)),
    )
    # results.json last: its presence marks a complete run.
    atomic_write_text(run_dir / "results.json", result.model_dump_json(indent=2) + "\n")
    return result


Metrics = tuple[list[Metric], list[GroupBreakdown], list[BehaviourState]]


def task_metrics(task: Task, samples: list[Sample], options: RunOptions) -> Metrics:
    """Every metric the task asks for, with its group breakdowns (and persuasion states)."""
    # Headline metrics on the unpressured prompts (`neutral` with persuasion arms, else `original`).
    reference = "neutral" if task.spec.persuasion else "original"
    base = [s for s in samples if s.variant == reference]
    metrics, breakdowns = accuracy_metrics(
        [s.correct for s in base], [s.invalid for s in base], [s.item_id for s in base],
        {key: [s.groups[key] for s in base] for key in task.group_keys},
        wanted=list(task.spec.metrics), seed=options.seed, resamples=options.bootstrap_resamples,
        level=options.ci_level, min_group_size=options.min_group_size)
    boot = {"seed": options.seed, "resamples": options.bootstrap_resamples, "level": options.ci_level,
            "min_group_size": options.min_group_size}

    def groups(rows: list[Sample]) -> dict[str, list[str]]:
        return {key: [r.groups[key] for r in rows] for key in task.group_keys}

    def add(more: tuple[list[Metric], list[GroupBreakdown]]) -> None:
        metrics.extend(more[0])
        breakdowns.extend(more[1])

    if task.spec.type == "multiple_choice":  # per gold class (SubpopBench worst-class, balanced; MacroStd)
        add(subgroup_metrics([s.correct for s in base], [s.item_id for s in base], gold_classes(base), groups(base),
                             class_key="gold_label", **boot))
    states: list[BehaviourState] = []
    settings = PersuasionSettings(seed=options.seed, resamples=options.bootstrap_resamples, level=options.ci_level,
                                  min_group_size=options.min_group_size)
    if task.spec.persuasion or task.spec.perturbations:
        for m in metrics:
            m.variant = reference
        for bd in breakdowns:
            bd.variant = reference
    if task.spec.persuasion:
        settings.tau = task.spec.persuasion.tau
        *more, states = persuasion_metrics(samples, list(task.spec.persuasion.arms), task.group_keys, settings)
        add(tuple(more))  # type: ignore[arg-type]
    if task.spec.perturbations:
        add(robustness_metrics(samples, task.group_keys, settings))
    items_of = [s.item_id for s in samples]
    if task.spec.type == "open_answer":
        add(open_answer_metrics([s.predicted or "not_attempted" for s in samples], items_of, groups(samples), **boot))
    if task.spec.type == "rag":
        add(nomiracl_metrics([s.predicted or "invalid" for s in samples], [s.target == "answer" for s in samples],
                             items_of, groups(samples), **boot))
    return metrics, breakdowns, states
