"""The task file schema (pydantic, extra keys forbidden) and its loader.

Every key is explicit: a column name is always under a key that says "this is a column", a
template is always a file path. Paths inside a task file are relative to that file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from harness.config.templates import load_template
from harness.config.yamlfile import ConfigFile, describe_error, load_yaml_mapping, validate
from harness.core.records import Strict

METRIC_NAMES = ("accuracy", "worst_group_accuracy", "invalid_rate")
# Persuasion arms (SPEC.md §1, §10.2). `*_wrong` arms assert a wrong option, `*_correct` the gold one.
ARMS = ("neutral", "authority_wrong", "authority_correct", "user_belief_wrong", "user_belief_correct",
        "leading_question", "are_you_sure", "are_you_sure_wrong")
# Which template family renders each arm's pressure: prompts/persuasion/<family>/<wording>.j2
ARM_FAMILY = {"authority_wrong": "authority", "authority_correct": "authority",
              "user_belief_wrong": "user_belief", "user_belief_correct": "user_belief",
              "leading_question": "leading_question", "are_you_sure": "are_you_sure",
              "are_you_sure_wrong": "are_you_sure"}
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)]


class DatasetSpec(Strict):
    """Where the rows come from; loaded through `datasets.load_dataset`. Either one `path`, or
    `subsets`: several sources whose rows get a `subset` column naming where they came from."""

    path: str | None = Field(None, description="Local file (relative to the task file), hub dataset id, "
                                               "or http(s) URL.")
    subsets: dict[Name, str] | None = Field(
        None, description="Subset name -> source (as `path`); rows get a `subset` column with the name.")
    format: Literal["json", "jsonl", "csv", "parquet"] | None = Field(
        None, description="File format for local files and URLs; inferred from the extension if absent.")
    name: str | None = Field(None, description="Hub dataset subset/config name.")
    split: str = "train"
    revision: str | None = Field(None, description="Hub dataset revision (commit, tag or branch).")
    streaming: bool | None = Field(
        None, description="Read the rows as a stream (datasets' streaming mode), a chunk of items at a time, "
                          "instead of loading the dataset whole. Default: stream when the local files hold more "
                          "than 256 MiB; hub datasets are streamed only when this is true.")
    chunk_items: int = Field(5000, ge=1, description="When streaming: items evaluated together; each chunk's "
                                                     "requests are planned, deduplicated and sent as one batch.")

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if (self.path is None) == (self.subsets is None):
            raise ValueError("give exactly one of 'path' or 'subsets'")
        if self.subsets is not None and not self.subsets:
            raise ValueError("'subsets' needs at least one source")
        return self

    def sources(self) -> list[tuple[str | None, str]]:
        """(subset name or None, path) for every source."""
        return list(self.subsets.items()) if self.subsets else [(None, self.path or "")]

    @property
    def label(self) -> str:
        return self.path or ", ".join(self.subsets or {})


class FieldsSpec(Strict):
    """Which columns hold what. Dotted names reach into nested objects (`base.question`)."""

    question: str = Field(description="Column with the question text.")
    id: str | None = Field(None, description="Column with a stable item id; default: the row number.")


class ChoicesSpec(Strict):
    """The options: exactly one of `field`, `fields` or `block`."""

    field: str | None = Field(None, description="A column holding a list of option texts.")
    fields: list[str] | None = Field(None, description="One column per option, in label order.")
    block: str | None = Field(None, description='A column holding an option block "(A)... (B)...".')
    labels: list[str] = Field(default=["A", "B", "C", "D"], min_length=2,
                              description="The option labels the model answers with.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> ChoicesSpec:
        given = [k for k in ("field", "fields", "block") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'field', 'fields' or 'block'")
        if self.fields is not None and len(self.fields) != len(self.labels):
            raise ValueError(f"'fields' has {len(self.fields)} columns but there are {len(self.labels)} labels")
        if len(set(self.labels)) != len(self.labels):
            raise ValueError("labels must be distinct")
        return self


class TargetSpec(Strict):
    field: str = Field(description="Column with the correct answer.")
    format: Literal["letter", "index", "text"] = Field(
        "letter", description="letter: one of the labels; index: 0-based position; text: the option text.")


class RagSpec(Strict):
    """Retrieval-augmented answering (NoMIRACL, SPEC.md §2): does any passage answer the query?
    The model should say "Yes, answer is present" when one does and "I don't know" otherwise."""

    passages: str | None = Field(None, description="Column with the passages: a list of texts or of "
                                                   "{title, text}; templates see `passages`.")
    relevant: str = Field(description="Column saying whether any passage answers the query.")
    relevant_values: list[str | bool | int] = Field(
        default_factory=lambda: [True], min_length=1,
        description="Values of the `relevant` column that mean 'a passage answers it' (others: none does).")
    parser: Literal["nomiracl"] = Field("nomiracl", description="How answers are read: NoMIRACL's official "
                                                                "rule (SPEC §2.3).")


class OpenAnswerSpec(Strict):
    """Free-text answers graded against gold aliases, with abstention (SimpleQA-style): correct,
    incorrect or not attempted; hallucination = incorrect among attempted."""

    answers: str = Field(description="Column with the gold answer: a text or a list of accepted aliases.")
    abstain_patterns: list[str] | None = Field(
        None, description="Case-insensitive regexes that mark an abstention; default: "
                          "harness.scoring.abstention.DEFAULT_ABSTAIN_PATTERNS.")


class PromptSpec(Strict):
    template: str = Field(description="jinja2 file for the user turn, relative to the task file.")
    system: str | None = Field(None, description="jinja2 file for the system prompt (optional).")
    chat_template: Literal["auto", "none"] = Field(
        "auto", description="auto: use the tokenizer's chat template when it has one; none: plain text.")
    instruction: str = Field("Answer with the letter of the correct option.",
                             description="The task instruction, available to templates as `instruction` "
                                         "(the `instruction` perturbation rewords it).")
    row_targets: bool = Field(False, description="Let templates read the target columns (the gold answer) in "
                                                 "`row`. Off: they are removed, so no template shows the answer.")
    truncate: Literal["none", "left"] = Field(
        "none", description="none: a prompt longer than the model's context is an error. left: drop the "
                            "prompt's first tokens until it fits; each sample records how many were dropped.")


class GenerationSpec(Strict):
    max_tokens: int = Field(32, ge=1, le=32768)
    temperature: float = Field(0.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)


class WordingSpec(Strict):
    """Which wording (a file `<templates>/<family>/<wording>.j2`) each arm family uses."""

    authority: Name = "certain"
    user_belief: Name = "unsure"
    leading_question: Name = "presuppose"
    are_you_sure: Name = "doubt"


class PersuasionSpec(Strict):
    """Persuasion arms built from every item (PARROT-style pressure, MMR leading questions,
    multi-turn "are you sure?"). Every metric compares an arm with `neutral` on the same item."""

    arms: list[Literal[ARMS]] = Field(  # type: ignore[valid-type]
        min_length=2, description=f"Arms to build, `neutral` included. Known: {', '.join(ARMS)}.")
    templates: str = Field(description="Folder of persuasion templates, relative to the task file.")
    wording: WordingSpec = WordingSpec()
    personas: str = Field("personas.yaml", description="Authority personas by domain, in the templates folder.")
    persona_field: str | None = Field(None, description="Column whose value picks the persona; "
                                                        "default: the first group column.")
    seed: int = Field(42, description="Seed of the asserted wrong option, drawn per item from (seed, item id).")
    tau: float = Field(3.0, gt=0, description="Softmax temperature of the confidence shift (SPEC §1.5).")

    @model_validator(mode="after")
    def _neutral_first(self) -> PersuasionSpec:
        if "neutral" not in self.arms:
            raise ValueError("arms must include 'neutral': every persuasion metric compares with it")
        if len(set(self.arms)) != len(self.arms):
            raise ValueError("arms must be distinct")
        return self

    def families(self) -> list[str]:
        return sorted({ARM_FAMILY[a] for a in self.arms if a != "neutral"})


class PerturbedVariantSpec(Strict):
    """One perturbed variant of every item: perturbation steps applied in order (composed)."""

    name: Name = Field(description="The variant's name in results (e.g. typos, upper, format_3).")
    steps: list[dict[str, Any]] = Field(
        min_length=1, description="Perturbations, each `{kind: NAME, ...parameters}` (see `harness perturbations`).")
    repeats: int = Field(1, ge=1, le=20, description="Draws of a randomized perturbation per item (ReCode's s); "
                                                     "metrics take the mean and the worst case over them.")
    description: str = ""


class PerturbationsSpec(Strict):
    """Meaning-preserving variants of every item, each compared item by item with `original`."""

    seed: int = Field(0, description="Seed of every random draw, with the item id, variant name and step.")
    variants: list[PerturbedVariantSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> PerturbationsSpec:
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names) or "original" in names:
            raise ValueError("variant names must be distinct and not 'original'")
        return self


class TaskSpec(Strict):
    """A task: a dataset, how to turn rows into prompts, and how to score the answers."""

    name: Name
    version: int | str = 1
    description: str = ""
    type: Literal["multiple_choice", "rag", "open_answer"] = Field(
        description="multiple_choice: options and a gold letter; rag: query + passages, answered "
                    "'Yes, answer is present' or 'I don't know' (NoMIRACL); open_answer: free text "
                    "graded against gold aliases, abstention allowed.")
    dataset: DatasetSpec
    fields: FieldsSpec
    choices: ChoicesSpec | None = Field(None, description="The options (multiple_choice).")
    target: TargetSpec | None = Field(None, description="The gold answer (multiple_choice).")
    rag: RagSpec | None = Field(None, description="Passages and relevance (rag).")
    open_answer: OpenAnswerSpec | None = Field(None, description="Gold aliases and abstention (open_answer).")
    prompt: PromptSpec
    answer: Literal["logprobs", "generate"] = Field(
        "logprobs", description="logprobs: argmax of the option-label log-probs (one forward pass); "
                                "generate: greedy text, then parse the label.")
    groups: list[str | list[str]] = Field(
        default_factory=list, description="Columns whose values define subgroups; a list of columns is their "
                                          "intersection (e.g. [domain, difficulty] gives 'biology × hard').")
    persuasion: PersuasionSpec | None = Field(None, description="Build persuasion arms from every item.")
    perturbations: PerturbationsSpec | None = Field(None, description="Build perturbed variants of every item.")
    generation: GenerationSpec = GenerationSpec()
    metrics: list[Literal[METRIC_NAMES]] = Field(default_factory=lambda: list(METRIC_NAMES))  # type: ignore[valid-type]
    limit: int | None = Field(None, ge=1, le=2**63 - 1, description="Use only the first N rows.")

    @model_validator(mode="after")
    def _one_kind_of_variant(self) -> TaskSpec:
        for g in self.groups:
            if isinstance(g, list) and len(g) < 2:
                raise ValueError("an intersection of groups lists at least two columns")
        if self.persuasion is not None and self.perturbations is not None:
            raise ValueError("a task declares either `persuasion` or `perturbations`, not both")
        return self


GROUP_JOIN = " × "


def group_key(entry: str | list[str]) -> str:
    """The name of a `groups:` entry: a column, or columns joined by " × " (an intersection)."""
    return entry if isinstance(entry, str) else GROUP_JOIN.join(entry)


class Task(ConfigFile):
    """A validated task file: the spec plus where it lives."""

    spec: TaskSpec

    @property
    def group_keys(self) -> list[str]:
        return [group_key(g) for g in self.spec.groups]

    def with_limit(self, limit: int | None) -> Task:
        """The same task on at most its first `limit` rows (a tighter `limit:` in the file wins)."""
        if limit is None:
            return self
        return self.model_copy(update={"spec": self.spec.model_copy(
            update={"limit": min(limit, self.spec.limit or limit)})})


def load_task(file: str | Path) -> Task:
    """Read, validate and check a task file; raise HarnessError with file, line and field."""
    file = Path(file)
    doc = load_yaml_mapping(file)
    spec = validate(TaskSpec, doc)
    task = Task(spec=spec, file=file, doc=doc)
    _check_shape(task)
    for key in ("template", "system"):
        rel = getattr(spec.prompt, key)
        if rel is not None and not task.resolve(rel, "prompt", key).is_file():
            raise task.error(f"template file not found: {rel}", "prompt", key)
    if spec.persuasion is not None:
        _check_persuasion(task, spec.persuasion)
    if spec.perturbations is not None:
        _check_perturbations(task, spec.perturbations)
    return task


def _check_shape(task: Task) -> None:
    """The keys each task type needs (and refuses), named with their line."""
    s = task.spec
    needs = {"multiple_choice": ("choices", "target"), "rag": ("rag",), "open_answer": ("open_answer",)}[s.type]
    for key in needs:
        if getattr(s, key) is None:
            raise task.error(f"required key is missing (a {s.type} task needs it)", key)
    for key in ("choices", "target", "rag", "open_answer", "persuasion", "perturbations"):
        if key not in needs and getattr(s, key) is not None and not (s.type == "multiple_choice" and
                                                                      key in ("persuasion", "perturbations")):
            raise task.error(f"a {s.type} task takes no `{key}`", key)
    if s.type != "multiple_choice" and s.answer != "generate":
        raise task.error(f"a {s.type} task is answered in text: set `answer: generate`", "answer")
    for i, pattern in enumerate(s.open_answer.abstain_patterns or [] if s.open_answer else []):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise task.error(f"not a regular expression ({exc})", "open_answer", "abstain_patterns", i) from None


def _check_perturbations(task: Task, p: PerturbationsSpec) -> None:
    """Validate every step with its perturbation's own parameter model; errors name the YAML line."""
    from harness.variants.perturbations import parse_params

    used = load_template(task.resolve(task.spec.prompt.template)).variables
    for i, variant in enumerate(p.variants):
        for k, step in enumerate(variant.steps):
            where = ("perturbations", "variants", i, "steps", k)
            try:
                params = parse_params(step)
            except ValidationError as exc:
                err = exc.errors()[0]
                raise task.error(describe_error(err), *where, *err["loc"]) from None
            except ValueError as exc:
                raise task.error(str(exc), *where, "kind") from None
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
    pressure_arms = [a for a in p.arms if ARM_FAMILY.get(a) in ("authority", "user_belief")]
    if pressure_arms and "pressure" not in load_template(task.resolve(task.spec.prompt.template)).variables:
        raise task.error(f"arms {', '.join(pressure_arms)} add a `pressure` sentence, but the prompt template "
                         "never uses {{ pressure }}", "prompt", "template")

