"""The task file schema shared by every task kind (pydantic, extra keys forbidden).

Every key is explicit: a column name is always under a key that says "this is a column", a
template is always a file path. Paths inside a task file are relative to that file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from harness.config.judge import JudgeSpec
from harness.config.stats import StatsSpec
from harness.core.plugins import ARMS as ARMS_REGISTRY
from harness.core.records import Strict

METRIC_NAMES = ("accuracy", "worst_group_accuracy", "invalid_rate")
# The built-in persuasion arms (harness/variants/arms.py registers them, with their template family).
ARMS = ("neutral", "authority_wrong", "authority_correct", "user_belief_wrong", "user_belief_correct",
        "leading_question", "are_you_sure", "are_you_sure_wrong")
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
    field: str | None = Field(None, description="JSON files: the key holding the list of rows (BIG-bench's task.json: "
                                            "examples); default: the file is the rows.")
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

    arms: list[Name] = Field(
        min_length=2,
        description=f"Arms to build, `neutral` included (`harness list arms`). Built in: {', '.join(ARMS)}.")
    templates: str = Field(description="Folder of persuasion templates, relative to the task file.")
    wording: WordingSpec = WordingSpec()
    personas: str = Field("personas.yaml", description="Authority personas by domain, in the templates folder.")
    persona_field: str | None = Field(None, description="Column whose value picks the persona; "
                                                        "default: the first group column.")
    seed: int = Field(42, description="Seed of the asserted wrong option, drawn per item from (seed, item id).")
    tau: float = Field(3.0, gt=0, description="Softmax temperature τ of delta_p_gold / delta_p_asserted: "
                       "p_L ∝ exp(l_L/τ) over the option-label log-probs (docs/metrics.md).")

    @model_validator(mode="after")
    def _neutral_first(self) -> PersuasionSpec:
        if "neutral" not in self.arms:
            raise ValueError("arms must include 'neutral': every persuasion metric compares with it")
        if len(set(self.arms)) != len(self.arms):
            raise ValueError("arms must be distinct")
        return self

    def families(self) -> list[str]:
        """The template families the arms render with (prompts/persuasion/<family>/<wording>.j2)."""
        return sorted({ARMS_REGISTRY.get(a).family for a in self.arms} - {None})


class PerturbedVariantSpec(Strict):
    """One perturbed variant of every item: perturbation steps applied in order (composed)."""

    name: Name = Field(description="The variant's name in results (e.g. typos, upper, format_3).")
    steps: list[Any] = Field(
        min_length=1, description="Perturbations, each `{kind: NAME, ...parameters}` (`harness list perturbations`); "
                                  "each step is validated by its perturbation's own parameter model.")
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
    """What every task file holds, whatever its kind. Each task kind (harness/kinds/) subclasses it with
    `type: Literal[<its name>]` and its own blocks; `harness.config.task.task_adapter` joins them into
    one union discriminated on `type`, so `harness schema` describes each kind exactly."""

    name: Name
    version: int | str = 1
    description: str = ""
    type: str = Field(description="The task kind (`harness list kinds`): multiple_choice, rag, open_answer, ...")
    dataset: DatasetSpec
    fields: FieldsSpec
    prompt: PromptSpec
    answer: Literal["logprobs", "generate"] = Field(
        "logprobs", description="logprobs: argmax of the option-label log-probs (one forward pass); "
                                "generate: greedy text, then parse the label.")
    scorer: str | None = Field(None, description="How answers are scored (`harness list scorers`); "
                                                 "default: the task kind's own scorer.")
    groups: list[str | list[str]] = Field(
        default_factory=list, description="Columns whose values define subgroups; a list of columns is their "
                                          "intersection (e.g. [domain, difficulty] gives 'biology × hard').")
    persuasion: PersuasionSpec | None = Field(None, description="Build persuasion arms from every item.")
    perturbations: PerturbationsSpec | None = Field(None, description="Build perturbed variants of every item.")
    generation: GenerationSpec = GenerationSpec()
    metrics: list[str] = Field(
        default_factory=lambda: list(METRIC_NAMES),
        description=f"Headline metrics to report ({', '.join(METRIC_NAMES)}), plus any extra metric family "
                    "by name (`harness list metrics`).")
    limit: int | None = Field(None, ge=1, le=2**63 - 1, description="Use only the first N rows.")
    stats: StatsSpec = Field(default_factory=StatsSpec, description="Group size, bootstrap resamples, CI level.")
    judge: JudgeSpec | None = Field(None, description="A judge model grading the answers (`scorer: judge`, or "
                                                      "`refusal.classifier: judge`).")

    @model_validator(mode="after")
    def _one_kind_of_variant(self) -> TaskSpec:
        for g in self.groups:
            if isinstance(g, list) and len(g) < 2:
                raise ValueError("an intersection of groups lists at least two columns")
        if self.persuasion is not None and self.perturbations is not None:
            raise ValueError("a task declares either `persuasion` or `perturbations`, not both")
        if self.scorer == "judge" and self.judge is None:
            raise ValueError("`scorer: judge` needs a `judge:` block (its template and grades)")
        return self


GROUP_JOIN = " × "


def group_key(entry: str | list[str]) -> str:
    """The name of a `groups:` entry: a column, or columns joined by " × " (an intersection)."""
    return entry if isinstance(entry, str) else GROUP_JOIN.join(entry)


