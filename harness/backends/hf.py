"""The transformers backend: batched, left-padded, chat templates applied, greedy by default.

Multiple-choice scoring needs ONE forward pass per prompt: the log-probabilities of every option
label are read at the answer position (the last prompt position) from the same logits. When
text is generated too, those are the first generation step's logits, so it is still one pass.
With prefix sharing (the default, `-B prefix_sharing=false` turns it off) requests are sorted by
their token ids so siblings (an item's persuasion arms, a dialogue's second turns) share a batch,
and each batch runs as a prefix tree (prefix_tree.py, prefix_kv.py): every span that several
prompts share (system prompt, question and options) is computed once and its key/value cache
serves them all; only each prompt's own suffix runs per prompt. Generation starts from the
same shared cache. Across waves, the caches of the prompts the runner names (`keep_prefixes`: a
dialogue's first turns) are kept (kept_kv.py), and a second turn runs only what it adds to them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import AliasChoices, Field

from harness.backends import continuation
from harness.backends.base import OnDone, Request, Response, Sampling
from harness.backends.batching import longest_first, sibling_batches
from harness.backends.kept_kv import KeptPrefixes
from harness.backends.local import DtypeOptions, LocalBackend, cpu_has_native_bf16, default_device
from harness.backends.models import ResolvedModel, hub_revision, load_tokenizer
from harness.backends.prefix_kv import PrefixRunner
from harness.backends.prefix_tree import plan as tree_plan
from harness.backends.prompting import candidate_token_ids, encode_fitted
from harness.backends.row_sampling import RowSampler, row_seed
from harness.core.errors import HarnessError
from harness.core.logprobs import logsumexp
from harness.core.plugins import BACKENDS
from harness.core.records import ModelInfo


class HFOptions(DtypeOptions):
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    batch_size: int = Field(64, ge=1, description="prompts per batch at most")
    batch_tokens: int = Field(16384, ge=1, description="prompt positions per batch at most (its prompts x the "
                                                      "longest): long prompts take fewer per batch; a longer "
                                                      "prompt runs alone")
    prefix_sharing: bool | None = Field(
        None, validation_alias=AliasChoices("prefix_sharing", "share_prefix"),
        description="compute the prompt spans a batch's requests share once (a prefix tree); default: on, except "
                    "bfloat16/float16 on a CPU without native bf16, where the gathered caches ran 4x slower "
                    "than whole prompts")


def default_prefix_sharing(dtype: str, device: str, native_bf16: bool) -> bool:
    """On, except half precision on a CPU that emulates it (the prefix tree's small products run slowly there)."""
    return dtype == "float32" or not device.startswith("cpu") or native_bf16


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
        self.batch_size, self.batch_tokens = opts.batch_size, opts.batch_tokens
        # general_knowledge, 144 items (docs/performance.md): on a 2-core Xeon without avx512_bf16, bf16 with
        # sharing 213 s, bf16 without 55 s, float32 with sharing 18 s; on an EPYC with it, bf16 27 s and 32 s.
        self.prefix_sharing = (opts.prefix_sharing if opts.prefix_sharing is not None
                               else default_prefix_sharing(opts.dtype, str(self.device), cpu_has_native_bf16()))
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
        self.prefix_queried = self.prefix_hits = 0  # prompt positions asked / served from a shared span's cache
        self.prefix = PrefixRunner(self.model, self.pad_id, self.device)
        self.kept = KeptPrefixes()  # first turns' caches, for their follow-ups in the next wave (kept_kv.py)
        self.info = self.identity(model, opts)

    @classmethod
    def identity(cls, model: ResolvedModel, options: HFOptions) -> ModelInfo:
        return cls.describe(model, dtype=options.dtype, device=default_device(options.device))

    def keep_prefixes(self, requests: Sequence[Request]) -> None:
        """With prefix sharing, keep these prompts' caches: a prompt of the next waves that extends one runs
        only its own suffix (kept_kv.py)."""
        self.kept.want({r.key for r in requests} if self.prefix_sharing else set())

    def run(self, requests: Sequence[Request], on_done: OnDone | None = None) -> list[Response]:
        context = getattr(self.model.config, "max_position_embeddings", None)
        split = continuation.run_split(requests, self.run, on_done, self.tokenizer, context, continuation.torch_scorer(
            self.model, self.pad_id, self.device, self.batch_size, self.batch_tokens))  # labels of several tokens
        if split is not None:
            return split
        fitted = [encode_fitted(self.tokenizer, r, context) for r in requests]
        prompts, dropped = [ids for ids, _ in fitted], [n for _, n in fitted]
        results: list[Response | None] = [None] * len(requests)
        reuse = {i: found for i in range(len(requests)) if (found := self.kept.reusable(prompts[i]))[0] is not None}
        if reuse:  # follow-ups of kept first turns: each runs on its first turn's cache
            for batch in self._batches(requests, prompts, only=sorted(reuse)):
                self._run_batch(batch, requests, prompts, dropped, results, on_done, reuse)
        for batch in self._batches(requests, prompts, only=[i for i in range(len(requests)) if i not in reuse]):
            self._run_batch(batch, requests, prompts, dropped, results, on_done)
        return [r for r in results if r is not None]

    def _batches(self, requests: Sequence[Request], prompts: list[list[int]], only: list[int]) -> list[list[int]]:
        """Requests `only` that share generation settings (a seed is per row) batched together, each batch within
        batch_size prompts and batch_tokens positions (batching.py). With prefix sharing, sorted by token ids
        (siblings adjacent) and cut where neighbours share least; without, longest first (memory errors show
        early)."""
        def kind(i: int) -> tuple[bool, str]:
            return requests[i].generate, requests[i].sampling.model_dump_json(exclude={"seed"})

        if self.prefix_sharing:
            order = sorted(only, key=lambda i: (kind(i), prompts[i]))
        else:
            order = sorted(only, key=lambda i: (kind(i), -len(prompts[i])))
        runs: list[list[int]] = []
        for i in order:
            if runs and _same_kind(requests[runs[-1][0]], requests[i]):
                runs[-1].append(i)
            else:
                runs.append([i])
        cut = sibling_batches if self.prefix_sharing else longest_first
        return [b for run in runs for b in cut(prompts, run, self.batch_size, self.batch_tokens)]

    def _run_batch(self, batch, requests, prompts, dropped, results, on_done, reuse=None) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        with self.torch.inference_mode():
            texts, n_out, finish, step0 = self._forward(batch, requests, [prompts[i] for i in batch],
                                                        [reuse[i] for i in batch] if reuse else None)
        self.model_seconds += time.perf_counter() - start
        forms: dict[str, list[int]] = {}  # each label's token ids, tokenised once per batch, not once per row
        for row, i in enumerate(batch):
            req = requests[i]
            cand = None
            if req.candidates:
                for c in req.candidates:
                    if c not in forms:
                        forms[c] = candidate_token_ids(self.tokenizer, c)
                cand = {c: logsumexp([float(step0[row, t]) for t in forms[c]]) for c in req.candidates}
            results[i] = Response(text=texts[row], candidate_logprobs=cand, prompt_tokens=len(prompts[i]),
                                  prompt_truncated=dropped[i], output_tokens=n_out[row],
                                  finish_reason=finish[row])
        if on_done:
            on_done([(i, results[i]) for i in batch])

    def _forward(self, batch: list[int], requests: Sequence[Request], prompts: list[list[int]], reuse=None):  # type: ignore[no-untyped-def]
        """(texts, output tokens, finish reasons, next-token log-probs at the answer position) of one batch.
        `reuse`: per prompt, the kept cache it extends and how many of its tokens that cache covers."""
        first = requests[batch[0]]
        self.prefix_queried += sum(len(p) for p in prompts)
        keep = [row for row, i in enumerate(batch) if requests[i].key in self.kept.wanted]
        leaves = None
        if reuse:
            leaves = self.prefix.on_kept(prompts, reuse)
            self.prefix_hits += sum(n for _, n in reuse)
            self.kept.served += sum(n for _, n in reuse)
        elif self.prefix_sharing and (len(prompts) > 1 or keep):
            plan = tree_plan(prompts)
            self.prefix_hits += sum(len(p) for p in prompts) - plan.computed_tokens
            leaves = self.prefix.tree(prompts, plan)
        if first.generate:
            if leaves is not None:
                ids, mask, cache, rows = self.prefix.prefill(leaves, keep)
            else:
                (ids, mask), cache, rows = self._padded(prompts), None, {}
            self._keep(rows)
            return self._generate(ids, mask, cache, first.sampling, [row_seed(requests[i].key) for i in batch],
                                  want_logits=any(requests[i].candidates for i in batch))
        if leaves is not None:
            logits, rows = self.prefix.last_logits(leaves, keep)
            self._keep(rows)
        else:
            ids, mask = self._padded(prompts)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                logits_to_keep=1).logits[:, -1, :]
        return [None] * len(batch), [0] * len(batch), [None] * len(batch), logits.float().log_softmax(-1)

    def _keep(self, rows: dict) -> None:  # type: ignore[type-arg]
        for ids, layers in rows.values():
            self.kept.add(ids, layers)

    def _padded(self, prompts: list[list[int]]):  # type: ignore[no-untyped-def]
        """The unshared batch: every prompt whole, left-padded."""
        torch = self.torch
        width = max(len(p) for p in prompts)
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, p in enumerate(prompts):
            ids[row, width - len(p):] = torch.tensor(p)
            mask[row, width - len(p):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _generate(self, ids, mask, cache, sampling: Sampling, seeds: list[int], want_logits: bool):  # type: ignore[no-untyped-def]
        """Greedy, or (temperature > 0) one draw per row from its own generator (row_sampling.py). `cache`:
        the key/value cache of all but the last column (prefix sharing), or None."""
        from transformers import LogitsProcessorList

        processors = LogitsProcessorList()
        if sampling.temperature > 0:
            processors.append(RowSampler(seeds, sampling.temperature, sampling.top_p, self.device))
        out = self.model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=sampling.max_tokens, do_sample=False,
            temperature=None, top_p=None, top_k=None, logits_processor=processors, pad_token_id=self.pad_id,
            output_logits=want_logits, return_dict_in_generate=True, past_key_values=cache,
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


def _same_kind(a: Request, b: Request) -> bool:
    """Requests that can share a batch: the same settings, whatever their seeds (each row draws its own)."""
    return a.generate == b.generate and a.sampling.model_copy(update={"seed": 0}) == b.sampling.model_copy(
        update={"seed": 0})


def _as_list(x) -> list[int]:  # type: ignore[no-untyped-def]
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]
