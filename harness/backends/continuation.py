"""Option labels of several tokens ("(A)"): each label's full continuation log-prob given the prompt.

log p(label | prompt) = Σ_t log p(token_t | prompt, token_<t), the sum over the label's tokens
(lm-eval's `loglikelihood`), for each leading-space variant ("(A)" and " (A)"), pooled by
log-sum-exp as the one-token read pools "A" and " A" (labels.py). A request is read this way only
when one of its labels has a surface form of several tokens; labels that are single tokens keep the
one-step read (`prompting.candidate_token_ids`), so their values and caches do not change. The
labels read this way are named in `Response.candidates_continuation` (kind `continuation` per sample).

One rule, three readers: `torch_scorer` (the transformers backend: prompt + continuation in
left-padded batches), `vllm_scorer` (vLLM's `prompt_logprobs`), `echo_logprob` (an OpenAI-compatible
server's /completions with `echo`, summing the log-probs of the tokens after the prompt's text).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from harness.backends.base import OnDone, Request, Response
from harness.backends.batching import fitting
from harness.backends.prompting import encode_fitted
from harness.core.errors import HarnessError
from harness.core.logprobs import logsumexp

Form = tuple[int, ...]
Scorer = Callable[[list[tuple[list[int], Form]]], list[float]]  # (prompt ids, continuation ids) -> log-prob


def label_forms(tokenizer, label: str) -> list[Form]:  # type: ignore[no-untyped-def]
    """The token ids of `label` and of " " + `label` (one entry when both spell the same tokens)."""
    forms: list[Form] = []
    for surface in (label, " " + label):
        ids = tuple(tokenizer.encode(surface, add_special_tokens=False))
        if ids and ids not in forms:
            forms.append(ids)
    return forms


def needs_continuation(tokenizer, labels: Sequence[str]) -> bool:  # type: ignore[no-untyped-def]
    """Whether some label has a surface form of several tokens (a one-step read would miss it)."""
    return any(len(form) > 1 for label in labels for form in label_forms(tokenizer, label))


def pool(values: dict[str, list[float]]) -> dict[str, float]:
    """Each label's log-prob: the log-sum-exp of its surface forms' continuation log-probs."""
    return {label: logsumexp(v) for label, v in values.items()}


def continuation_logprobs(tokenizer, prompt: list[int], labels: Sequence[str],  # type: ignore[no-untyped-def]
                          score: Scorer) -> dict[str, float]:
    pairs = [(label, form) for label in labels for form in label_forms(tokenizer, label)]
    got = score([(prompt, form) for _, form in pairs])
    values: dict[str, list[float]] = {}
    for (label, _), lp in zip(pairs, got):
        values.setdefault(label, []).append(lp)
    return pool(values)


def run_split(requests: Sequence[Request], run: Callable[..., list[Response]], on_done: OnDone | None,
              tokenizer: Any, context: int | None, score: Scorer) -> list[Response] | None:
    """Answer `requests` when some have labels of several tokens (else None: the caller answers them as usual).

    Those requests' labels are read as continuations with `score`; what else they ask (generated text)
    and every other request goes through `run` without them."""
    needs: dict[tuple[str, ...], bool] = {}  # per distinct label set: a run asks few
    for r in requests:
        if r.candidates and r.candidates not in needs:
            needs[r.candidates] = needs_continuation(tokenizer, r.candidates)
    multi = [i for i, r in enumerate(requests) if r.candidates and needs[r.candidates]]
    if not multi:
        return None
    results: list[Response | None] = [None] * len(requests)
    for i in multi:
        r = requests[i]
        ids, dropped = encode_fitted(tokenizer, r.model_copy(update={"generate": False}), context)
        results[i] = Response(candidate_logprobs=continuation_logprobs(tokenizer, ids, r.candidates, score),
                              candidates_continuation=r.candidates, prompt_tokens=len(ids), prompt_truncated=dropped)
    rest = [i for i in range(len(requests)) if results[i] is None or requests[i].generate]
    plain = [requests[i].model_copy(update={"candidates": ()}) if results[i] else requests[i] for i in rest]
    for i, answer in zip(rest, run(plain) if plain else []):
        read = results[i]
        results[i] = answer if read is None else answer.model_copy(update={
            "candidate_logprobs": read.candidate_logprobs, "candidates_continuation": read.candidates_continuation})
    if on_done:
        on_done([(i, r) for i, r in enumerate(results) if r is not None])
    return [r for r in results if r is not None]


def torch_scorer(model, pad_id: int, device: Any, batch_size: int,  # type: ignore[no-untyped-def]
                 max_tokens: float = math.inf) -> Scorer:
    """Continuation log-probs from a transformers model: prompt + continuation left-padded, one pass a batch of
    at most `batch_size` pairs and `max_tokens` positions (batching.py)."""
    import torch

    def score(pairs: list[tuple[list[int], Form]]) -> list[float]:
        out: list[float] = []
        lengths = [len(p) + len(c) for p, c in pairs]
        start = 0
        while start < len(pairs):
            end = fitting(lengths, start, batch_size, max_tokens)
            batch, start = pairs[start:end], end
            seqs = [list(p) + list(c) for p, c in batch]
            width, keep = max(len(s) for s in seqs), max(len(c) for _, c in batch) + 1
            ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for row, s in enumerate(seqs):
                ids[row, width - len(s):] = torch.tensor(s)
                mask[row, width - len(s):] = 1
            ids, mask = ids.to(device), mask.to(device)
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = model(input_ids=ids, attention_mask=mask, position_ids=positions,
                               logits_to_keep=keep).logits.float().log_softmax(-1)
            for row, (_, cont) in enumerate(batch):
                n = len(cont)  # logits at -n-1 .. -2 predict the continuation's n tokens
                steps = logits[row, keep - n - 1:keep - 1, :]
                out.append(float(steps.gather(-1, torch.tensor(cont, device=steps.device)[:, None]).sum()))
        return out

    return score


def vllm_scorer(llm) -> Scorer:  # type: ignore[no-untyped-def]
    """Continuation log-probs from vLLM: `prompt_logprobs` on prompt + continuation (each position's own token)."""
    from vllm import SamplingParams

    params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0)

    def score(pairs: list[tuple[list[int], Form]]) -> list[float]:
        outputs = llm.generate([{"prompt_token_ids": list(p) + list(c)} for p, c in pairs], params, use_tqdm=False)
        values = []
        for (prompt, cont), output in zip(pairs, outputs):
            steps = output.prompt_logprobs[len(prompt):]
            values.append(sum(step[token].logprob for step, token in zip(steps, cont)))
        return values

    return score


async def echo_logprob(client, model: str, prompt: str, continuation: str) -> float:  # type: ignore[no-untyped-def]
    """log p(continuation | prompt) from /completions with `echo`: the sum of the log-probs of the tokens
    that start inside the continuation's text (the server tokenises prompt + continuation as one text)."""
    out = await client.completions.create(model=model, prompt=prompt + continuation, max_tokens=1, echo=True,
                                          logprobs=0, temperature=0.0)
    lp = out.choices[0].logprobs if getattr(out, "choices", None) else None
    if lp is None or not lp.text_offset or not lp.token_logprobs:
        raise HarnessError("the server returned no prompt log-probs with echo, which option labels of several "
                           "tokens need; use the hf or vllm backend")
    picked = [v for off, v in zip(lp.text_offset, lp.token_logprobs) if len(prompt) <= off < len(prompt + continuation)]
    if not picked or any(v is None for v in picked):
        raise HarnessError(f"the server's echo has no log-prob for the option label {continuation.strip()!r}")
    return float(sum(picked))
