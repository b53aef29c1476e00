"""Data parallelism for the vLLM backend: N Ray actors, each with its own `vllm.LLM`, built once.

`VLLMBackend(data_parallel_size=N)` (`-B data_parallel_size=N`) joins the Ray cluster that `RAY_ADDRESS`
or a running `ray start` names, or starts a local one (and shuts it down again in `close()`), then
starts N actors. Each builds its engine once and keeps it for every request of the run. The driver
keeps everything that decides what an answer means: it tokenises the prompts and parses the
outputs exactly as with one engine; an actor only runs `LLM.generate` on token ids. Each chunk of
requests is cut into N contiguous shards run at the same time; a shard's responses go to `on_done`
as soon as it finishes (the request cache commits them) and the chunk comes back in request order.

On GPUs each actor asks Ray for `tensor_parallel_size` GPUs. On CPUs each actor gets its own
disjoint cores (`VLLM_CPU_OMP_THREADS_BIND`: this machine's cores split evenly) and the backend's
other CPU defaults. Harness and vLLM must be installed on every node of a multi-node cluster.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from harness.core.errors import HarnessError

# Forwarded to every actor: the backend's CPU defaults and vLLM's log level (a cluster's workers do
# not inherit the driver's environment).
FORWARDED = ("VLLM_CPU_KVCACHE_SPACE", "VLLM_CPU_NUM_OF_RESERVED_CPU", "VLLM_LOGGING_LEVEL")


def shards(n: int, parts: int) -> list[tuple[int, int]]:
    """`range(n)` cut into at most `parts` contiguous (start, stop) pieces of near-equal size, none empty."""
    if n <= 0:
        return []
    parts = max(1, min(parts, n))
    size, extra = divmod(n, parts)
    bounds, start = [], 0
    for k in range(parts):
        stop = start + size + (k < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


def core_binds(cores: int, engines: int, ranks: int = 1) -> list[str]:
    """`VLLM_CPU_OMP_THREADS_BIND` per engine: disjoint cores of 0..cores-1, each engine's share split
    among its `ranks` tensor-parallel ranks with "|" (vLLM's syntax)."""
    if engines * ranks > cores:
        raise HarnessError(f"data_parallel_size {engines} x tensor_parallel_size {ranks} needs "
                           f"{engines * ranks} CPU cores; this machine has {cores}")

    def span(a: int, b: int) -> str:
        return str(a) if b - a == 1 else f"{a}-{b - 1}"

    return ["|".join(span(a + x, a + y) for x, y in shards(b - a, ranks)) for a, b in shards(cores, engines)]


def scatter(items: Sequence[Any], parts: int, submit: Callable[[int, Sequence[Any]], Hashable],
            next_done: Callable[[list[Hashable]], tuple[Hashable, list[Any]]],
            on_shard: Callable[[int, list[Any]], list[Any]]) -> list[Any]:
    """Run `items` as `parts` contiguous shards: `submit(k, shard)` starts shard k on worker k and returns a
    handle; `next_done(handles)` waits for any one of them and returns (handle, its outputs). Each shard's
    outputs go through `on_shard(start, outputs)` as it finishes; the results come back in item order."""
    pending = {submit(k, items[a:b]): (a, b) for k, (a, b) in enumerate(shards(len(items), parts))}
    results: list[Any] = [None] * len(items)
    while pending:
        handle, outputs = next_done(list(pending))
        a, b = pending.pop(handle)
        if len(outputs) != b - a:
            raise HarnessError(f"a vLLM engine returned {len(outputs)} outputs for {b - a} prompts")
        results[a:b] = on_shard(a, outputs)
    return results


class Engine:
    """One `vllm.LLM` inside a Ray actor (the class is wrapped with `ray.remote` when used)."""

    def __init__(self, kwargs: dict) -> None:
        from vllm import LLM

        self.llm = LLM(**kwargs)

    def describe(self) -> tuple[Any, int]:
        """The engine's tokenizer (picklable) and context length, for the driver."""
        return self.llm.get_tokenizer(), self.llm.llm_engine.model_config.max_model_len

    def generate(self, prompts: list[dict], params: list) -> list:  # type: ignore[type-arg]
        return self.llm.generate(prompts, params, use_tqdm=False)

    def shutdown(self) -> None:
        core = getattr(self.llm.llm_engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()


class RayEngines:
    """N engines in Ray actors; `generate` runs one chunk across all of them."""

    def __init__(self, size: int) -> None:
        try:
            import ray
        except ImportError:
            raise HarnessError(f"data_parallel_size {size} needs Ray: pip install ray") from None
        self.ray, self.size, self.actors = ray, size, []  # type: ignore[var-annotated]
        self.started = not ray.is_initialized()  # a cluster we joined is not ours to shut down
        if self.started:
            ray.init(ignore_reinit_error=True, include_dashboard=False, logging_level="WARNING")
        self.gpus = int(ray.cluster_resources().get("GPU", 0))

    def start(self, kwargs: dict, tensor_parallel_size: int, cuda: bool) -> tuple[Any, int]:
        """Start the actors, wait until every engine is built; return (tokenizer, max_model_len)."""
        ray, n = self.ray, self.size
        if cuda:
            if n * tensor_parallel_size > self.gpus:
                raise HarnessError(f"data_parallel_size {n} x tensor_parallel_size {tensor_parallel_size} needs "
                                   f"{n * tensor_parallel_size} GPUs; the Ray cluster has {self.gpus}")
            options = [{"num_gpus": tensor_parallel_size} for _ in range(n)]
        else:
            # Ray only places the actors (one CPU each, so none waits for another); vLLM binds the cores.
            cpus = int(ray.cluster_resources().get("CPU", 0))
            if cpus < n:
                raise HarnessError(f"data_parallel_size {n} needs {n} CPUs in the Ray cluster; it has {cpus}")
            env = {k: os.environ[k] for k in FORWARDED if k in os.environ}
            binds = core_binds(os.cpu_count() or 1, n, tensor_parallel_size)
            options = [{"num_cpus": 1, "runtime_env": {"env_vars": dict(env, VLLM_CPU_OMP_THREADS_BIND=b)}}
                       for b in binds]
        remote = ray.remote(Engine)
        self.actors = [remote.options(**o).remote(kwargs) for o in options]
        try:
            described = ray.get([a.describe.remote() for a in self.actors])
        except Exception as exc:  # an engine failed to build: the cause is in the message
            self.close()
            raise HarnessError(f"vLLM cannot load '{kwargs['model']}' in a Ray actor: "
                               f"{' '.join(str(exc).split())[-300:]}") from None
        return described[0]

    def generate(self, prompts: list[dict], params: list, on_shard: Callable[[int, list], list]) -> list:
        """Each actor runs one contiguous shard; `on_shard(start, outputs)` as each shard finishes."""
        ray = self.ray

        def submit(k: int, shard: Sequence[int]) -> Hashable:
            return self.actors[k].generate.remote([prompts[i] for i in shard], [params[i] for i in shard])

        def next_done(refs: list) -> tuple[Hashable, list]:  # type: ignore[type-arg]
            ready, _ = ray.wait(refs, num_returns=1)
            try:
                return ready[0], ray.get(ready[0])
            except ray.exceptions.RayError as exc:  # an engine died or raised: the shards done so far are kept
                raise HarnessError(f"a vLLM engine in a Ray actor failed: {' '.join(str(exc).split())[-300:]}") \
                    from None

        return scatter(range(len(prompts)), len(self.actors), submit, next_done, on_shard)

    def close(self) -> None:
        """Stop every engine and actor; shut Ray down if this backend started it."""
        ray, actors, self.actors = self.ray, self.actors, []
        if actors:
            with contextlib.suppress(Exception):  # a dead or failed actor is killed below all the same
                ray.get([a.shutdown.remote() for a in actors], timeout=60)
            for a in actors:
                ray.kill(a)
        if self.started and ray.is_initialized():
            ray.shutdown()
            self.started = False
