"""The transformers backend: batched, left-padded, chat templates applied, greedy by default.

Multiple-choice scoring needs ONE forward pass per prompt: the log-probabilities of every option
label are read at the answer position (the last prompt position) from the same logits. When
text is generated too, those are the first generation step's logits, so it is still one pass.
Without generation, the prompt prefix a batch shares (system prompt, chat-template header) runs
once and its key/value cache serves every prompt of the batch.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from harness.backends import continuation
from harness.backends.base import OnDone, Request, Response, Sampling
from harness.backends.local import LocalBackend, default_device
from harness.backends.models import ResolvedModel, hub_revision, load_tokenizer
from harness.backends.prompting import candidate_token_ids, encode_fitted, logsumexp
from harness.backends.row_sampling import RowSampler, row_seed
from harness.core.errors import HarnessError
from harness.core.plugins import BACKENDS
from harness.core.records import ModelInfo, Strict

MIN_SHARED_PREFIX = 8  # tokens: below this, computing the prefix once saves less than it costs


class HFOptions(Strict):
    dtype: Literal["bfloat16", "float16", "float32"] = "bfloat16"
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    batch_size: int = Field(16, ge=1, description="prompts per forward pass")
    share_prefix: bool = Field(True, description="score a batch's common prompt prefix once (log-prob requests)")


@BACKENDS.register("hf", "transformers on this machine: batched, exact option log-probs from one forward pass")
class HFBackend(LocalBackend):
    name = "hf"
    Options = HFOptions

    def __init__(self, model: ResolvedModel, options: HFOptions | None = None, **overrides) -> None:  # type: ignore[no-untyped-def]
        import torch
        from transformers import AutoModelForCausalLM

        self.options = opts = self.configure(options, overrides)
        self.torch = torch
        self.device = default_device(opts.device)
        self.batch_size = opts.batch_size
        self.share_prefix = opts.share_prefix
        self.tokenizer = load_tokenizer(model)
        try:
            self.model = AutoModelForCausalLM.from_pretrained(
                model.path, dtype=getattr(torch, opts.dtype), revision=hub_revision(model)).to(self.device).eval()
        except OSError as exc:
            raise HarnessError(f"cannot load model '{model.path}': {' '.join(str(exc).split())[:200]}") from None
        self.tokenizer.padding_side = "left"
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = self.tokenizer.eos_token_id
        self.info = self.identity(model, opts)

    @classmethod
    def identity(cls, model: ResolvedModel, options: HFOptions) -> ModelInfo:
        return cls.describe(model, dtype=options.dtype, device=default_device(options.device))

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        context = getattr(self.model.config, "max_position_embeddings", None)
        split = continuation.run_split(requests, self.run, on_done, self.tokenizer, context, continuation.torch_scorer(
            self.model, self.pad_id, self.device, self.batch_size))  # labels of several tokens ("(A)")
        if split is not None:
            return split
        fitted = [encode_fitted(self.tokenizer, r, context) for r in requests]
        prompts, dropped = [ids for ids, _ in fitted], [n for _, n in fitted]
        # Batch requests that share generation settings (a seed is per row), longest first (memory errors show early).
        order = sorted(range(len(requests)), key=lambda i: (
            requests[i].generate, requests[i].sampling.model_dump_json(exclude={"seed"}), -len(prompts[i])))
        results: list[Response | None] = [None] * len(requests)
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) == self.batch_size or not _same_kind(requests[batch[0]], requests[i])):
                self._run_batch(batch, requests, prompts, dropped, results, on_done)
                batch = []
            batch.append(i)
        if batch:
            self._run_batch(batch, requests, prompts, dropped, results, on_done)
        return [r for r in results if r is not None]

    def _run_batch(self, batch, requests, prompts, dropped, results, on_done) -> None:  # type: ignore[no-untyped-def]
        torch = self.torch
        width = max(len(prompts[i]) for i in batch)
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            p = prompts[i]
            ids[row, width - len(p):] = torch.tensor(p)
            mask[row, width - len(p):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        first = requests[batch[0]]
        start = time.perf_counter()
        with torch.inference_mode():
            if first.generate:
                texts, n_out, finish, step0 = self._generate(
                    ids, mask, first.sampling, [row_seed(requests[i].key) for i in batch],
                    want_logits=any(requests[i].candidates for i in batch))
            else:
                shared = shared_prefix([prompts[i] for i in batch]) if self.share_prefix else 0
                if shared >= MIN_SHARED_PREFIX:
                    logits = self._score_with_prefix([prompts[i] for i in batch], shared)
                else:
                    positions = (mask.cumsum(-1) - 1).clamp(min=0)
                    logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                        logits_to_keep=1).logits[:, -1, :]
                step0 = logits.float().log_softmax(-1)
                texts, n_out, finish = [None] * len(batch), [0] * len(batch), [None] * len(batch)
        self.model_seconds += time.perf_counter() - start
        for row, i in enumerate(batch):
            req = requests[i]
            cand = None
            if req.candidates:
                cand = {c: logsumexp([float(step0[row, t]) for t in candidate_token_ids(self.tokenizer, c)])
                        for c in req.candidates}
            results[i] = Response(text=texts[row], candidate_logprobs=cand, prompt_tokens=len(prompts[i]),
                                  prompt_truncated=dropped[i], output_tokens=n_out[row],
                                  finish_reason=finish[row])
        if on_done:
            on_done([(i, results[i]) for i in batch])

    def _score_with_prefix(self, prompts: list[list[int]], shared: int):  # type: ignore[no-untyped-def]
        """Last-position logits of every prompt, the batch's common prefix computed once.

        The prefix (system prompt, chat-template header, instruction) runs as one sequence; its
        key/value cache is repeated for the batch, and each prompt's own suffix, left-padded
        after the prefix, attends to it. Same logits as the plain pass (to float rounding: 5e-5 in
        float32, tested), fewer tokens through the model."""
        torch = self.torch
        prefix = torch.tensor([prompts[0][:shared]], device=self.device)
        cache = self.model(input_ids=prefix, use_cache=True).past_key_values
        cache.batch_repeat_interleave(len(prompts))
        width = max(len(p) - shared for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), shared + width), dtype=torch.long)
        mask[:, :shared] = 1
        for row, p in enumerate(prompts):
            suffix = p[shared:]
            ids[row, width - len(suffix):] = torch.tensor(suffix)
            mask[row, shared + width - len(suffix):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, shared:]
        return self.model(input_ids=ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                          logits_to_keep=1).logits[:, -1, :]

    def _generate(self, ids, mask, sampling: Sampling, seeds: list[int], want_logits: bool):  # type: ignore[no-untyped-def]
        """Greedy, or (temperature > 0) one draw per row from its own generator (row_sampling.py)."""
        from transformers import LogitsProcessorList

        processors = LogitsProcessorList()
        if sampling.temperature > 0:
            processors.append(RowSampler(seeds, sampling.temperature, sampling.top_p, self.device))
        out = self.model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=sampling.max_tokens, do_sample=False,
            temperature=None, top_p=None, top_k=None, logits_processor=processors, pad_token_id=self.pad_id,
            output_logits=want_logits, return_dict_in_generate=True,
            **({"stop_strings": list(sampling.stop), "tokenizer": self.tokenizer} if sampling.stop else {}))
        new = out.sequences[:, ids.shape[1]:]
        eos = set(_as_list(self.model.generation_config.eos_token_id) + _as_list(self.tokenizer.eos_token_id))
        texts, n_out, finish = [], [], []
        for row in new.tolist():
            end = next((k for k, t in enumerate(row) if t in eos or t == self.pad_id), None)
            tokens = row if end is None else row[:end]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            reason = "stop" if end is not None else "length"
            for s in sampling.stop:
                if s in text:
                    text, reason = text[: text.index(s)], "stop"
            texts.append(text)
            n_out.append(len(tokens) + (end is not None))  # the stop token was generated too
            finish.append(reason)
        return texts, n_out, finish, out.logits[0].float().log_softmax(-1) if want_logits else None


def shared_prefix(prompts: list[list[int]]) -> int:
    """Length of the token prefix every prompt shares, leaving each at least one token of its own."""
    if len(prompts) < 2:
        return 0
    limit = min(len(p) for p in prompts) - 1
    k = 0
    first = prompts[0]
    while k < limit and all(p[k] == first[k] for p in prompts):
        k += 1
    return k


def _same_kind(a: Request, b: Request) -> bool:
    """Requests that can share a batch: the same settings, whatever their seeds (each row draws its own)."""
    return a.generate == b.generate and a.sampling.model_copy(update={"seed": 0}) == b.sampling.model_copy(
        update={"seed": 0})


def _as_list(x) -> list[int]:  # type: ignore[no-untyped-def]
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]
