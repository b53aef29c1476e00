"""Perturb the prose of a code prompt's docstrings, and nothing else (ReCode's docstring perturbations).

A code prompt is a signature and a docstring (HumanEval), or a problem statement with example tests
(MBPP), possibly followed by partial code. Text perturbations (harness/variants/perturbations/) are
applied to each prose line of each docstring separately, with its own seeded stream; code outside
docstrings, doctest examples (`>>>` and `...` lines and the expected output after them), lines that
call a function named in `keep` (HumanEval's `digitSum("abAB") => 131` examples) and a line's
indentation are left as they were. A perturbed line that would end the string early (it holds the
docstring's quotes) or escape its end (a trailing backslash) keeps its original text.
"""

from __future__ import annotations

import io
import tokenize

from harness.variants.perturbations import Context, Params, Prompt, apply_steps

STATEMENT_START = {tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING}


def docstring_tokens(code: str) -> list[tuple[int, int, str]]:
    """(start offset, end offset, quote) of every string literal standing as a statement of its own."""
    lines = code.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    found = []
    previous = tokenize.ENCODING
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type == tokenize.STRING and previous in STATEMENT_START:
                start = offsets[tok.start[0] - 1] + tok.start[1]
                end = offsets[tok.end[0] - 1] + tok.end[1]
                body = tok.string.lstrip("rRuUbBfF")
                quote = body[:3] if body[:3] in ('"""', "'''") else body[:1]
                found.append((start + (len(tok.string) - len(body)) + len(quote), end - len(quote), quote))
            if tok.type not in (tokenize.COMMENT,):
                previous = tok.type
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # partial code ends inside a block: the docstrings before that point are all found
    return found


def prose_lines(text: str, keep: tuple[str, ...] = ()) -> list[bool]:
    """Per line of a docstring's content: True for prose; False for a doctest example or its output, a
    blank line, or a line calling one of the functions in `keep`."""
    prose = []
    in_example = False
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):
            in_example = True
        elif not stripped:
            in_example = False
        calls = any(f"{name}(" in stripped for name in keep)
        prose.append(not in_example and bool(stripped) and not calls)
    return prose


def perturb_docstrings(code: str, steps: list[Params], *, seed: int, variant: str, ctx: Context,
                       keep: tuple[str, ...] = ()) -> str:
    """`code` with every prose line of its docstrings perturbed by `steps`; everything else unchanged."""
    out = []
    cursor = 0
    for n, (start, end, quote) in enumerate(docstring_tokens(code)):
        out.append(code[cursor:start])
        lines = code[start:end].split("\n")
        for i, (line, prose) in enumerate(zip(lines, prose_lines(code[start:end], keep))):
            if prose:
                body = line.lstrip()
                indent = line[: len(line) - len(body)]
                prompt = Prompt(question=body, choices=[], labels=[], target=0)
                new = apply_steps(prompt, steps, seed=seed, variant=f"{variant}/doc{n}/line{i}", ctx=ctx).question
                if quote not in new and not new.endswith("\\") and "\n" not in new and new.strip():
                    lines[i] = indent + new
        out.append("\n".join(lines))
        cursor = end
    out.append(code[cursor:])
    return "".join(out)
