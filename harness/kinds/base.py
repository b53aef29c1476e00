"""The task-kind contract. A kind is one class in one module, registered with `@KINDS.register(name)`:

    @KINDS.register("my_kind", "one line of help")
    class MyKind(TaskKind):
        spec = MyKindSpec            # TaskSpec subclass: `type: Literal["my_kind"]` plus the kind's own blocks
        scorer = "my_scorer"         # default scorer (SCORERS), unless the task file names another
        metric_families = ("accuracy",)

        def item(self, task, index, row): ...   # a dataset row as an Item (raise RowError for a bad row)

Everything else has a default. No code outside a kind's module asks which kind a task is.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.config.spec import TaskSpec
from harness.config.task import Task
from harness.data.items import Item
from harness.variants.variant import Variant

Column = tuple[str, tuple[str | int, ...]]  # (dataset column, where the task file names it)


class TaskKind:
    spec: ClassVar[type[TaskSpec]]
    scorer: ClassVar[str]
    metric_families: ClassVar[tuple[str, ...]] = ("accuracy",)
    answered_in_text: ClassVar[bool] = False  # True: the answer must be generated (`answer: generate`)
    variant_blocks: ClassVar[frozenset[str]] = frozenset()  # which of `persuasion`, `perturbations` apply
    perturbations_family: ClassVar[bool] = True  # False: the kind's own families measure its perturbations
    verbatim_prompt: ClassVar[bool] = False  # True: the rendered user turn is sent unstripped (code: final newlines)

    def item(self, task: Task, index: int, row: dict[str, Any]) -> Item:
        raise NotImplementedError

    def columns(self, spec: Any) -> list[Column]:
        """The dataset columns this kind reads besides `fields` and `groups` (checked before any row is read)."""
        return []

    def target_columns(self, spec: Any) -> list[str]:
        """The columns that hold the answer: prompt templates never see them (unless `prompt.row_targets`)."""
        return []

    def candidates(self, task: Task, variant: Variant) -> tuple[str, ...]:
        """Continuations whose log-probs the backend returns with the answer (option labels); none by default."""
        return ()

    def template_context(self, variant: Variant) -> dict[str, Any]:
        """Extra variables this kind gives prompt templates."""
        return {}

    def has_option_texts(self, task: Task) -> bool:
        """Whether items carry option texts (persuasion arms that quote an option need them)."""
        return False

    def check(self, task: Task) -> None:
        """Checks at load time beyond the schema; subclasses extend `check_more`."""
        spec = task.spec
        if self.answered_in_text and spec.answer != "generate":
            raise task.error(f"a {spec.type} task is answered in text: set `answer: generate`", "answer")
        for block in ("persuasion", "perturbations"):
            if getattr(spec, block) is not None and block not in self.variant_blocks:
                raise task.error(f"a {spec.type} task takes no `{block}`", block)
        self.check_more(task)

    def check_more(self, task: Task) -> None:
        return None

    def variants(self, task: Task, items: list[Item]) -> list[Variant] | None:
        """The variants of a chunk of items, when this kind builds its own; None: the usual ones
        (`original`, persuasion arms or perturbed draws, harness/variants/build.py)."""
        return None

    def recorded_output(self, task: Task, variant: Variant, column: str) -> str | None:
        """For replay (`--model replay:COLUMN`): the recorded output of a variant other than `original`,
        when this kind knows one; None: replay refuses such variants."""
        return None
