"""Loading a task file: the YAML validated against the union of every registered task kind's spec
(discriminated on `type`), with each perturbation step validated by its perturbation's own model
(discriminated on `kind`), then the checks a schema cannot express (files exist, templates use what
the variants change). Errors name the file, the line and the field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError, create_model

from harness.config.spec import (
    METRIC_NAMES,
    PersuasionSpec,
    PerturbationsSpec,
    PerturbedVariantSpec,
    TaskSpec,
    group_key,
)
from harness.config.templates import load_template
from harness.config.yamlfile import ConfigFile, YamlDoc, describe_error, load_yaml_mapping
from harness.core.plugins import ARMS, KINDS, METRICS, PERTURBATIONS


class Task(ConfigFile):
    """A validated task file: the spec (of its kind's own model) plus where it lives."""

    spec: TaskSpec

    @property
    def kind(self) -> Any:
        """The task kind (a `harness.kinds.base.TaskKind`) that turns rows into items and scores them."""
        return KINDS.get(self.spec.type)()

    @property
    def group_keys(self) -> list[str]:
        return [group_key(g) for g in self.spec.groups]

    def with_limit(self, limit: int | None) -> Task:
        """The same task on at most its first `limit` rows (a tighter `limit:` in the file wins)."""
        if limit is None:
            return self
        return self.model_copy(update={"spec": self.spec.model_copy(
            update={"limit": min(limit, self.spec.limit or limit)})})


def _tagged(models: dict[str, type], key: str, what: str) -> Any:
    """A union of `models` chosen by the value of `key` (a callable discriminator, so models need no
    Literal field); a single model is itself."""
    def tag(value: Any) -> str | None:
        found = value.get(key) if isinstance(value, dict) else getattr(value, key, None)
        return found if isinstance(found, str) else None

    members = tuple(Annotated[m, Tag(name)] for name, m in models.items())
    known = ", ".join(models)
    return Annotated[Union[members], Discriminator(  # noqa: UP007  (a runtime tuple of members)
        tag, custom_error_type="unknown_tag", custom_error_message=f"unknown {what} (known: {known})",
        custom_error_context={"discriminator": key})]


@lru_cache(maxsize=8)
def _adapter(_versions: tuple[int, ...]) -> TypeAdapter[Any]:
    steps = _tagged({name: p.params for name, p in PERTURBATIONS.items()}, "kind", "perturbation")
    variant = create_model("PerturbedVariantSpec", __base__=PerturbedVariantSpec,
                           steps=(list[steps], Field(min_length=1)))  # type: ignore[valid-type]
    perturbations = create_model("PerturbationsSpec", __base__=PerturbationsSpec,
                                 variants=(list[variant], Field(min_length=1)))  # type: ignore[valid-type]
    kinds = {name: create_model(kind.spec.__name__, __base__=kind.spec,
                                perturbations=(perturbations | None, None))  # type: ignore[operator]
             for name, kind in KINDS.items()}
    return TypeAdapter(_tagged(kinds, "type", "task type"))


def task_adapter() -> TypeAdapter[Any]:
    """The task file schema of every registered kind and perturbation (rebuilt when a plugin registers more)."""
    return _adapter((KINDS.version, PERTURBATIONS.version))


def validate_task(doc: YamlDoc) -> TaskSpec:
    """The document as its kind's spec, or a HarnessError naming the line and field of the first problem."""
    kinds = set(KINDS.names())
    steps = set(PERTURBATIONS.names())
    try:
        return task_adapter().validate_python(doc.data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _strip_tags(err["loc"], kinds, steps)
        message = describe_error(err)
        kind = doc.data.get("type")
        if err["type"] == "unknown_tag":
            message, loc = _unknown_tag(err, loc, doc, sorted(kinds), sorted(steps))
        elif err["type"] == "missing" and len(loc) == 1 and isinstance(kind, str):
            message += f" (a {kind} task needs it)"
        elif err["type"] == "extra_forbidden" and len(loc) == 1 and isinstance(kind, str):
            message += f" (a {kind} task takes no `{loc[0]}`)"
        extra = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise doc.error(message + extra, loc) from None


def _unknown_tag(err: dict[str, Any], loc: tuple[Any, ...], doc: YamlDoc, kinds: list[str],
                 steps: list[str]) -> tuple[str, tuple[Any, ...]]:
    """The message for a `type:` or a step `kind:` that names nothing registered (or is missing)."""
    value = err.get("input")
    is_step = bool(loc)
    key, known, what = ("kind", steps, "perturbation") if is_step else ("type", kinds, "task type")
    given = value.get(key) if isinstance(value, dict) else None
    if given is None:
        if is_step:
            return f"a perturbation step needs a `kind` (known: {', '.join(known)})", loc
        return f"required key is missing (known task types: {', '.join(known)})", ("type",)
    return f"unknown {what} {str(given)[:100]!r} (known: {', '.join(known)})", loc + (key,)


def _strip_tags(loc: tuple[Any, ...], kinds: set[str], steps: set[str]) -> tuple[Any, ...]:
    """Drop the union tags pydantic puts in an error's location: the task type first, a step's kind after
    its index (and function-validator markers)."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if i == 0 and part in kinds:
            continue
        if isinstance(part, str) and part in steps and out and isinstance(out[-1], int) and "steps" in out:
            continue
        if isinstance(part, str) and part.startswith(("literal[", "list[", "function-")):
            continue
        out.append(part)
    return tuple(out)


def load_task(file: str | Path) -> Task:
    """Read, validate and check a task file; raise HarnessError with file, line and field."""
    file = Path(file)
    doc = load_yaml_mapping(file)
    task = Task(spec=validate_task(doc), file=file, doc=doc)
    spec = task.spec
    for key in ("template", "system"):
        rel = getattr(spec.prompt, key)
        if rel is not None and not task.resolve(rel, "prompt", key).is_file():
            raise task.error(f"template file not found: {rel}", "prompt", key)
    for key in ("template", "system"):
        rel = getattr(spec.judge, key) if spec.judge is not None else None
        if rel is not None and not task.resolve(rel, "judge", key).is_file():
            raise task.error(f"judge template file not found: {rel}", "judge", key)
    _check_metrics(task)
    if spec.scorer is not None and spec.scorer not in _scorers():
        raise task.error(f"unknown scorer '{spec.scorer}' (known: {', '.join(_scorers())})", "scorer")
    task.kind.check(task)
    if spec.persuasion is not None:
        _check_persuasion(task, spec.persuasion)
    if spec.perturbations is not None:
        _check_perturbations(task, spec.perturbations)
    return task


def _scorers() -> list[str]:
    from harness.core.plugins import SCORERS

    return SCORERS.names()


def _check_metrics(task: Task) -> None:
    for i, name in enumerate(task.spec.metrics):
        if name not in METRIC_NAMES and name not in METRICS:
            known = ", ".join([*METRIC_NAMES, *METRICS.names()])
            raise task.error(f"unknown metric '{name}' (known: {known})", "metrics", i)


def _check_perturbations(task: Task, p: PerturbationsSpec) -> None:
    """What the step models cannot see: whether the prompt template shows what a step changes."""
    used = load_template(task.resolve(task.spec.prompt.template)).variables
    for i, variant in enumerate(p.variants):
        for k, params in enumerate(variant.steps):
            where = ("perturbations", "variants", i, "steps", k)
            if getattr(params, "file", None) is not None:
                task.resolve(params.file, *where, "file")  # inside the allowed folders
            need = {"format": "format", "instruction": "instruction"}.get(params.kind)
            if need and need not in used:
                raise task.error(f"perturbation '{params.kind}' changes `{need}`, but the prompt template never "
                                 f"uses {{{{ {need} }}}}", *where, "kind")
            if "instruction" in getattr(params, "on", []) and "instruction" not in used:
                raise task.error("a step perturbs the instruction, but the prompt template never uses "
                                 "{{ instruction }}", *where, "on")


def _check_persuasion(task: Task, p: PersuasionSpec) -> None:
    for i, arm in enumerate(p.arms):
        if arm not in ARMS:
            raise task.error(f"unknown persuasion arm '{arm}' (known: {', '.join(ARMS.names())})",
                             "persuasion", "arms", i)
    needs_texts = [a for a in p.arms if ARMS.get(a).needs_option_texts]
    if needs_texts and not task.kind.has_option_texts(task):
        raise task.error(f"arms {', '.join(needs_texts)} quote option texts, which this task does not have",
                         "persuasion", "arms")
    folder = task.resolve(p.templates, "persuasion", "templates")
    if not folder.is_dir():
        raise task.error(f"persuasion templates folder not found: {p.templates}", "persuasion", "templates")
    for family in p.families():
        wording = getattr(p.wording, family)
        if not task.resolve(f"{p.templates}/{family}/{wording}.j2", "persuasion", "wording", family).is_file():
            known = sorted(f.stem for f in (folder / family).glob("*.j2"))
            raise task.error(f"unknown {family} wording '{wording}' (known: {', '.join(known) or 'none'})",
                             "persuasion", "wording", family)
    if "authority" in p.families() and not task.resolve(f"{p.templates}/{p.personas}", "persuasion",
                                                        "personas").is_file():
        raise task.error(f"personas file not found: {p.personas}", "persuasion", "personas")
    pressure_arms = [a for a in p.arms if ARMS.get(a).family in ("authority", "user_belief")]
    if pressure_arms and "pressure" not in load_template(task.resolve(task.spec.prompt.template)).variables:
        raise task.error(f"arms {', '.join(pressure_arms)} add a `pressure` sentence, but the prompt template "
                         "never uses {{ pressure }}", "prompt", "template")

