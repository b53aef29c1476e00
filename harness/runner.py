"""Run one task on one backend: items -> variants -> requests -> responses -> scores -> results.

This module is the pipeline read top to bottom; every stage lives in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel

from harness import environment, faults
from harness.backends.base import Backend, Request, Response
from harness.cache import RequestCache, cache_key
from harness.data import load_items
from harness.metrics.groups import accuracy_metrics
from harness.metrics.hallucination import nomiracl_metrics, open_answer_metrics
from harness.metrics.persuasion import Settings as PersuasionSettings
from harness.metrics.persuasion import persuasion_metrics
from harness.metrics.robustness import robustness_metrics
from harness.metrics.subgroups import gold_classes, subgroup_metrics
from harness.persuasion import second_turn
from harness.plan import followup_request, plan
from harness.results import Counts, GroupBreakdown, Metric, RunResult, Sample, Settings, TaskRecord, Timing, write_run
from harness.scoring.multiple_choice import SampleScore, first_answer_text, score_multiple_choice
from harness.scoring.open_answer import score_open_answer
from harness.scoring.rag import score_rag
from harness.spec import Task
from harness.variants import Variant, make_variants


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
    requests: int  # distinct first-wave requests
    second_turns: int  # dialogue turns written after the first answer
    prompt_tokens: int | None  # of the distinct requests, with the model's tokenizer (None: no local one)


def run_task(task: Task, backend: Backend, options: RunOptions, run_dir: Path, *,
             cache: RequestCache | None = None,
             on_start: Callable[[int], Progress] | None = None,
             on_plan: Callable[[Estimate], None] | None = None) -> RunResult:
    started = time.perf_counter()
    task = task.with_limit(options.limit)
    items = load_items(task)
    faults.reached("dataset_loaded")
    variants = make_variants(task, items)
    first = plan(task, variants, options.seed)
    dialogues = [i for i, v in enumerate(variants) if v.turns == 2]
    if on_plan:
        count = getattr(backend, "count_tokens", None)
        on_plan(Estimate(items=len(items), samples=len(variants), requests=len(first.unique),
                         second_turns=len(dialogues), prompt_tokens=count(first.unique) if count else None))

    model_s_before = getattr(backend, "model_seconds", 0.0)
    load_before = getattr(backend, "load_seconds", 0.0)  # a LazyBackend loads on first need
    t0 = time.perf_counter()
    progress = on_start(len(first.unique) + len(dialogues)) if on_start else None
    # Wave 1: every single-turn prompt and every dialogue's first turn, as one batch.
    answers, from_cache = answer(first.unique, backend, cache, progress)
    # Wave 2: every dialogue's second turn, after the model's own first answer.
    final = list(first.requests)
    for i in dialogues:
        response = answers[first.requests[i].key]
        first_label = score_multiple_choice(variants[i], response, task.spec.answer).predicted
        reply = first_answer_text(response, first_label, task.spec.answer)
        variants[i] = second_turn(task, variants[i], first_label)
        final[i] = followup_request(task, variants[i], first.requests[i], reply, options.seed)
    second = list({final[i].key: final[i] for i in dialogues if final[i].key not in answers}.values())
    if second:
        more, cached = answer(second, backend, cache, progress)
        answers.update(more)
        from_cache += cached
    model_load_s = getattr(backend, "load_seconds", 0.0) - load_before
    inference_s = time.perf_counter() - t0 - model_load_s

    score_of = scorer(task)
    samples = []
    for variant, request in zip(variants, final):
        response = answers[request.key]
        score = score_of(variant, response)
        samples.append(Sample(
            item_id=variant.item.id, variant=variant.name, groups=variant.item.groups,
            messages=list(request.messages), choices=variant.choices, labels=variant.labels,
            target=variant.target_label, asserted=variant.asserted_label, output=response.text,
            label_logprobs=response.candidate_logprobs, predicted=score.predicted,
            predicted_option=variant.option_of(score.predicted), perturbation=variant.perturbation,
            repeat=variant.repeat, correct=score.correct,
            invalid=score.invalid, gold_prob=score.gold_prob, prompt_tokens=response.prompt_tokens,
            output_tokens=response.output_tokens, request_key=request.key))

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
    states = []
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
        counts=Counts(items=len(items), samples=len(samples), requests_unique=len(first.unique) + len(second),
                      requests_cached=from_cache, invalid=sum(s.invalid for s in samples)),
        metrics=metrics,
        groups=breakdowns,
        states=states,
        timing=Timing(total_s=round(time.perf_counter() - started, 3),
                      model_load_s=round(model_load_s, 3), inference_s=round(inference_s, 3),
                      model_s=round(getattr(backend, "model_seconds", 0.0) - model_s_before, 3)),
    )
    write_run(run_dir, result, samples)
    return result
