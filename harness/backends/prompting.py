"""Turn chat messages into the exact prompt text a model sees.

Shared by every local backend (transformers, vLLM) so they render the same text. With a chat
template (`auto` and the tokenizer has one) the tokenizer's template is applied with the
generation prompt. Otherwise (base models, or `none`) a plain text format is used: a single
turn is the system text and the user text separated by a blank line; a dialogue becomes a
`User:` / `Assistant:` transcript ending in `Assistant:`.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.backends.base import Message
from harness.core.errors import HarnessError


def uses_chat_template(tokenizer, mode: str) -> bool:  # type: ignore[no-untyped-def]
    return mode == "auto" and bool(getattr(tokenizer, "chat_template", None))


def render_prompt(tokenizer, messages: Sequence[Message], mode: str) -> str:  # type: ignore[no-untyped-def]
    if uses_chat_template(tokenizer, mode):
        return tokenizer.apply_chat_template(
            [m.model_dump() for m in messages], tokenize=False, add_generation_prompt=True)
    return render_plain(messages)


def encode_prompt(tokenizer, request) -> list[int]:  # type: ignore[no-untyped-def]
    """Token ids of the rendered prompt. A chat template writes its own special tokens (BOS where
    the model wants one); plain text gets the tokenizer's usual special tokens."""
    text = render_prompt(tokenizer, request.messages, request.chat_template)
    special = not uses_chat_template(tokenizer, request.chat_template)
    return tokenizer(text, add_special_tokens=special)["input_ids"]


def render_plain(messages: Sequence[Message]) -> str:
    system = [m.content for m in messages if m.role == "system"]
    turns = [m for m in messages if m.role != "system"]
    if len(turns) == 1 and turns[0].role == "user":
        return "\n\n".join(system + [turns[0].content])
    lines = list(system)
    for m in turns:
        lines.append(("User: " if m.role == "user" else "Assistant: ") + m.content)
    lines.append("Assistant:")
    return "\n\n".join(lines)


def candidate_token_ids(tokenizer, candidate: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Token ids that spell `candidate` as one next token: 'A' and ' A' where each is one token."""
    ids: list[int] = []
    for surface in (candidate, " " + candidate):
        tokens = tokenizer.encode(surface, add_special_tokens=False)
        if len(tokens) == 1 and tokens[0] not in ids:
            ids.append(tokens[0])
    if not ids:
        raise HarnessError(f"option label '{candidate}' is not a single token for this model's "
                           "tokenizer; use single-token labels (e.g. A, B, C, D)")
    return ids


def fit_context(prompt_ids: list[int], request, context: int | None) -> list[int]:  # type: ignore[no-untyped-def]
    """The prompt's token ids if they fit the model's context with the tokens it may generate.
    If not, a clear error, unless the task asks for `truncate: left`: then the first tokens are
    dropped (the caller records how many). The harness never truncates a prompt silently."""
    new = request.sampling.max_tokens if request.generate else 1
    if context is None or len(prompt_ids) + new <= context:
        return prompt_ids
    if request.truncate == "left" and context > new:
        return prompt_ids[len(prompt_ids) + new - context:]
    preview = " ".join(request.messages[-1].content.split())[:60]
    raise HarnessError(f"a prompt of {len(prompt_ids)} tokens"
                       + (f" plus {request.sampling.max_tokens} to generate" if request.generate else "")
                       + f" does not fit the model's context of {context} tokens ('{preview}…'); "
                         "shorten the template or the data, lower generation.max_tokens, "
                         "or set prompt.truncate: left")


def encode_fitted(tokenizer, request, context: int | None) -> tuple[list[int], int]:  # type: ignore[no-untyped-def]
    """(token ids that fit the context, number of tokens dropped from the start)."""
    ids = encode_prompt(tokenizer, request)
    fitted = fit_context(ids, request, context)
    return fitted, len(ids) - len(fitted)
