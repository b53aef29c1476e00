"""The jinja2 sandbox prompt templates render in, with bounds on what a template may build.

jinja2's ImmutableSandboxedEnvironment already refuses internals (`__class__`, ...), files and the
OS. A template from a stranger can still exhaust the machine with the values it builds, so this
environment also bounds, per rendered prompt:
- text: the rendered prompt, every captured block and every string or list a template builds
  hold at most MAX_CHARS characters (items); the operators that grow values (`*`, `**`, `+`, `~`,
  `%`) and the calls whose result grows with an argument (`join`, `replace`, `indent`, `wordwrap`,
  `expandtabs`) are checked before they run; an integer argument to any call is at most MAX_CHARS;
- work: loop iterations plus calls (macros, filters, methods) at most MAX_STEPS, and the
  characters all those results hold together at most MAX_WORK;
- ranges at most MAX_RANGE numbers; integers at most MAX_INT_BITS bits.
Going past a bound raises LimitError, a SecurityError the caller reports in one line.

Templates are compiled without constant folding, so no part of a template runs while it is only
loaded (`harness validate --no-data`). `{% include %}`, `{% import %}`, `{% from %}` and
`{% extends %}` are refused when the template is parsed (a prompt template is one file), and
`lipsum` (random text) is absent: a prompt is a function of the item alone.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer

MAX_CHARS = 1_000_000  # about 250,000 tokens: beyond any context the backends accept
MAX_WORK = 20 * MAX_CHARS
MAX_STEPS = 100_000
MAX_RANGE = 100_000
MAX_INT_BITS = 4096


class LimitError(SecurityError):
    """A template went past one of the bounds above."""


class Refused(jinja2.TemplateSyntaxError):
    """A tag prompt templates may not use."""


class _Budget:
    def __init__(self) -> None:
        self.steps = 0
        self.work = 0


_budget: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _spend(steps: int = 0, chars: int = 0) -> None:
    budget = _budget.get(None)
    if budget is None:  # rendered outside `render`: sizes are still bounded, work is not counted
        return
    budget.steps += steps
    budget.work += chars
    if budget.steps > MAX_STEPS:
        raise LimitError(f"the template takes more than {MAX_STEPS:,} loop iterations and calls for one prompt")
    if budget.work > MAX_WORK:
        raise LimitError(f"the template builds more than {MAX_WORK:,} characters for one prompt")


def size(value: Any, limit: int = MAX_CHARS) -> int:
    """Characters of a string, items (and their sizes) of a container; counting stops past `limit`."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset)):
        total = len(value)
        for v in value:
            if total > limit:
                break
            if isinstance(v, (str, list, tuple, dict, set, frozenset)):
                total += size(v, limit - total)
        return total
    return 1


def _check(n: int, what: str = "a value") -> None:
    if n > MAX_CHARS:
        raise LimitError(f"the template builds {what} of more than {MAX_CHARS:,} characters")


def _result(value: Any) -> Any:
    n = size(value)
    _check(n)
    _spend(chars=n)
    return value


def _check_args(args: Iterable[Any]) -> None:
    for a in args:
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_CHARS:
            raise LimitError(f"a call with the number {a:,}: prompt templates take numbers up to {MAX_CHARS:,}")


def _check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise LimitError(f"the template builds an integer of more than {MAX_INT_BITS} bits")


_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?[a-zA-Z%]")


def _check_percent(fmt: str, args: Any) -> None:
    """`fmt % args`: widths and precisions count, and every conversion may print the whole argument."""
    specs = _PERCENT.findall(fmt)
    if any("*" in (w, p) for w, p in specs):
        raise LimitError("`%` formatting with `*` widths is not available in prompt templates")
    widths = sum(int(w or 0) + int(p or 0) for w, p in specs)
    _check(len(fmt) + widths + len(specs) * size(args), "a formatted string")


def _join_size(items: list[Any], sep: str) -> int:
    return sum(len(str(i)) if not isinstance(i, str) else len(i) for i in items) + len(sep) * max(len(items) - 1, 0)


def _replace_size(s: str, old: str, new: str, count: int | None) -> int:
    hits = len(s) + 1 if old == "" else s.count(old)
    hits = hits if count is None or count < 0 else min(hits, count)
    return len(s) + hits * len(new)


def _lines_size(s: str, width: int, insert: str) -> int:
    """`s` with `insert` at every line start (indent) or every `width` characters (wordwrap), at most."""
    return len(s) + (s.count("\n") + 1 + (len(s) // width if width > 1 else 0)) * len(insert)


# Filters whose result grows with an argument, and its size, from their bound arguments, before they run.
_FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], int]] = {
    "join": lambda a: _join_size(a["value"], a.get("d") or ""),
    "replace": lambda a: _replace_size(str(a["s"]), str(a["old"]), str(a["new"]), a.get("count")),
    "indent": lambda a: _lines_size(str(a["s"]), 1, a["width"] if isinstance(a["width"], str) else " " * a["width"]),
    "wordwrap": lambda a: _lines_size(str(a["s"]), max(int(a["width"]), 1), a.get("wrapstring") or "\n"),
    "format": lambda a: _check_percent(str(a["value"]), a["kwargs"] or a["args"]) or 0,
}


def _guard_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(f)
    pre = _FILTER_CHECKS.get(name)

    @functools.wraps(f)  # keeps jinja's pass_context / pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _spend(steps=1)
        _check_args([*args, *kwargs.values()])
        if pre is not None:
            bound = signature.bind(*args, **kwargs)
            if name == "join" and not isinstance(bound.arguments["value"], (list, tuple, str)):
                bound.arguments["value"] = list(bound.arguments["value"])  # a generator is read once
            bound.apply_defaults()
            _check(pre(bound.arguments))
            args, kwargs = bound.args, bound.kwargs
        return _result(f(*args, **kwargs))

    return guarded


def _str_method_size(method: Callable[..., Any], args: tuple[Any, ...]) -> tuple[int, tuple[Any, ...]]:
    """Size of `str.join` / `str.replace` / `str.expandtabs` before it runs (0 for other calls)."""
    receiver, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(receiver, str):
        return 0, args
    if name == "join" and args:
        items = list(args[0])
        return _join_size(items, receiver), (items, *args[1:])
    if name == "replace" and len(args) >= 2:
        return _replace_size(receiver, str(args[0]), str(args[1]), args[2] if len(args) > 2 else None), args
    if name == "expandtabs":
        return len(receiver) + receiver.count("\t") * int(args[0] if args else 8), args
    return 0, args


def _range(*args: int) -> range:
    numbers = range(*args)
    if numbers.stop - numbers.start > MAX_RANGE * abs(numbers.step):
        raise LimitError(f"range() of more than {MAX_RANGE:,} numbers in a prompt template")
    return numbers


def _guard_loop(iterable: Any) -> Any:
    for value in iterable:
        _spend(steps=1)
        yield value


def _guard_concat(*values: Any) -> str:
    texts = [v if isinstance(v, str) else str(v) for v in values]
    _check(sum(map(len, texts)), "a string")
    return "".join(texts)


def _bounded_join(pieces: Iterable[str]) -> str:
    """The template's output (and every captured block), stopped as soon as it is too long."""
    kept, total = [], 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_CHARS:
            raise LimitError(f"the rendered text is longer than {MAX_CHARS:,} characters")
        kept.append(piece)
    return "".join(kept)


class _Guards(NodeTransformer):
    """Every loop's iterable and every `~` go through the environment's guards."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        node = self.generic_visit(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("guard_loop"), [node.iter], [], None, None,
                               lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        node = self.generic_visit(node)
        return nodes.Call(nodes.EnvironmentAttribute("guard_concat"), node.nodes, [], None, None, lineno=node.lineno)


_REFUSED = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from", nodes.Extends: "extends"}


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "+", "%"])
    concat = staticmethod(_bounded_join)  # type: ignore[assignment]
    guard_loop = staticmethod(_guard_loop)
    guard_concat = staticmethod(_guard_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(optimized=False, **options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _range
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for kind, tag in _REFUSED.items():
            for node in tree.find_all(kind):
                raise Refused(f"{{% {tag} %}} is not allowed: a prompt template is one file "
                              "(define macros in it instead)", node.lineno, name, filename)
        return _Guards().visit(tree)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if super().wrap_str_format(value) is None:
            return None

        def refused(*args: Any, **kwargs: Any) -> str:
            raise LimitError("str.format is not available in prompt templates (widths inside the string escape "
                             "the size checks): use ~ and filters")

        return refused

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        seqs = (str, list, tuple)
        if operator == "*":
            seq, n = (left, right) if isinstance(left, seqs) else (right, left)
            if isinstance(seq, seqs) and isinstance(n, int):
                _check(size(seq) * max(n, 0))
            elif isinstance(left, int) and isinstance(right, int):
                _check_bits(left.bit_length() + right.bit_length())
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0:
            _check_bits(max(left.bit_length() - 1, 0) * right)  # at most the result's bits
        elif operator == "+" and isinstance(left, seqs) and isinstance(right, seqs):
            _check(size(left) + size(right))
        elif operator == "%" and isinstance(left, str):
            _check_percent(left, right)
        return _result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _spend(steps=1)
        _check_args([*args, *kwargs.values()])
        grows, args = _str_method_size(__obj, args)
        _check(grows)
        return _result(super().call(__context, __obj, *args, **kwargs))


def render(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render with a fresh budget of steps and work."""
    token = _budget.set(_Budget())
    try:
        return template.render(**context)
    finally:
        _budget.reset(token)
