"""Hostile task files, file paths, templates, and templates reaching for the gold answer."""

from __future__ import annotations

from pathlib import Path

from tests.hostile.judge import Case, Error, Ok
from tests.hostile.make import (
    BAD,
    PROMPT,
    ROOT,
    VALIDATE,
    files,
    persuasion,
    perturbation,
    printed,
    prompts,
    recorded,
    replay,
    task,
)

# The broken task files of tests/bad_inputs: (file, fragment of the one-line error).
BAD_INPUTS = [
    ("yaml_syntax.yaml", "yaml_syntax.yaml:4: YAML syntax error"),
    ("unknown_key.yaml", "unknown_key.yaml:3: field 'descripton': unknown key"),
    ("wrong_type.yaml", "wrong_type.yaml:13: field 'groups': Input should be a valid list"),
    ("missing_template.yaml", "missing_template.yaml:12: field 'prompt.template': template file not found"),
    ("empty.yaml", "empty.yaml: file is empty"),
    ("top_level_list.yaml", "top level must be a mapping"),
    ("python_tag.yaml", "python_tag.yaml:1: field 'name': unsupported YAML value"),
    ("duplicate_key.yaml", "duplicate_key.yaml:3: field 'name': duplicate key"),
    ("missing_column.yaml", "missing_column.yaml:13: field 'groups.0': column 'topic' is not in the dataset"),
    ("target_out_of_range.yaml", "row 2: answer 'E' is not one of the labels"),
    ("too_few_choices.yaml", "row 1: has 3 options but the task has 4 labels"),
    ("unknown_variable.yaml", "template uses an unknown variable"),
    ("unknown_arm.yaml", "unknown_arm.yaml:16: field 'persuasion.arms.2': unknown persuasion arm 'flattery'"),
    ("unknown_wording.yaml", "unknown_wording.yaml:19: field 'persuasion.wording.user_belief': unknown "
                             "user_belief wording 'grovelling' (known: strong, unsure)"),
    ("no_pressure.yaml", "no_pressure.yaml:12: field 'prompt.template': arms authority_wrong add a `pressure`"),
    ("persuasion_bad_target.yaml", "row 2: answer 'E' is not one of the labels"),
    ("unknown_perturbation.yaml", "unknown_perturbation.yaml:19: field 'perturbations.variants.0.steps.0.kind': "
                                  "unknown perturbation 'keyboard_typos' (known: "),
    ("bad_perturbation_param.yaml", "bad_perturbation_param.yaml:20: field "
                                    "'perturbations.variants.0.steps.0.rate': Input should be less than or equal to 1"),
    ("non_utf8.yaml", "non_utf8.jsonl: line 2 is not valid UTF-8"),
    ("empty_data.yaml", "empty_data.yaml:5: field 'dataset.path': the dataset file is empty (no rows)"),
    ("extra_option.yaml", "row 1: has 5 options but the task has 4 labels"),
    ("format_without_template.yaml", "format_without_template.yaml:18: field 'perturbations.variants.0.steps.0.kind': "
                                     "perturbation 'format' changes `format`, but the prompt template never uses"),
]

TASK_FILE = [Case(f"bad_input_{name.removesuffix('.yaml')}", "task file", (("validate", str(BAD / name)),),
                  Error(fragment)) for name, fragment in BAD_INPUTS] + [
    Case("binary_task_file", "task file", (VALIDATE,), Error("task.yaml: binary file"),
         files={"task.yaml": bytes(range(256))}),
    Case("task_file_missing", "task file", (("validate", "{d}/nope.yaml"),), Error("nope.yaml: file not found")),
    Case("task_file_is_a_folder", "task file", (("validate", "{d}"),), Error("is a directory")),
    Case("integer_of_5000_digits", "task file", (VALIDATE,),
         Error("task.yaml:16: field 'limit': unsupported YAML value (a number of more than 4,300 digits)"),
         files=files(limit="limit: " + "9" * 5000)),
    Case("limit_key_beyond_int64", "task file", (VALIDATE,),
         Error("task.yaml:16: field 'limit': Input should be less than or equal to 9223372036854775807"),
         files=files(limit="limit: 99999999999999999999")),
    Case("limit_key_zero", "task file", (VALIDATE,), Error("field 'limit': Input should be greater than or equal to 1"),
         files=files(limit="limit: 0")),
    Case("yaml_nested_50000_deep", "task file", (VALIDATE,), Error("task.yaml: YAML nested too deeply"),
         files=files(description="description: " + "[" * 50000 + "]" * 50000)),
    Case("yaml_impossible_date", "task file", (VALIDATE,), Error("field 'when': unsupported YAML value (month"),
         files=files(when="when: 2024-13-45")),
    Case("name_with_a_path", "task file", (VALIDATE,), Error("field 'name': String should match pattern"),
         files=files(name="name: ../../etc/cron.d/x")),
]

OUTSIDE = "outside the config's folder and the project's prompts/"


def _link(name: str, target: str):  # type: ignore[no-untyped-def]
    def make(folder: Path) -> None:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).symlink_to(target)

    return make


SHARED_T = {"tasks/data.jsonl": files()["data.jsonl"], "shared/t.j2": "Q: {{ question }}",
            "tasks/task.yaml": task(prompt="prompt:\n  template: ../shared/t.j2")}
PATHS = [
    Case("template_absolute_etc_passwd", "paths", (VALIDATE,), security=True,
         expect=Error("task.yaml:13: field 'prompt.template': '/etc/passwd' resolves to /etc/passwd", OUTSIDE),
         files=files(prompt="prompt:\n  template: /etc/passwd")),
    Case("template_dotdot", "paths", (VALIDATE,), security=True, expect=Error("field 'prompt.template'", OUTSIDE),
         files=files(prompt="prompt:\n  template: " + "../" * 12 + "etc/passwd")),
    Case("template_symlink_out", "paths", (_link("evil.j2", "/etc/passwd"), VALIDATE), security=True,
         expect=Error("field 'prompt.template': 'evil.j2' resolves to /etc/passwd", OUTSIDE),
         files=files(prompt="prompt:\n  template: evil.j2")),
    Case("system_prompt_outside", "paths", (VALIDATE,), security=True,
         expect=Error("field 'prompt.system'", OUTSIDE),
         files=files(prompt=f"prompt:\n  template: {PROMPT}\n  system: /etc/hostname")),
    Case("dataset_absolute", "paths", (VALIDATE,), security=True, expect=Error("field 'dataset.path'", OUTSIDE),
         files=files(dataset="dataset:\n  path: /etc/passwd\n  format: csv")),
    Case("dataset_symlink_out", "paths", (_link("rows.jsonl", "/etc/hostname"), VALIDATE), security=True,
         expect=Error("field 'dataset.path': 'rows.jsonl' resolves to /etc/hostname", OUTSIDE),
         files=files(dataset="dataset:\n  path: rows.jsonl")),
    Case("dataset_subset_outside", "paths", (VALIDATE,), security=True,
         expect=Error("field 'dataset.subsets.a'", OUTSIDE),
         files=files(dataset="dataset:\n  format: jsonl\n  subsets:\n    a: /etc/passwd")),
    Case("persuasion_templates_root", "paths", (VALIDATE,), security=True,
         expect=Error("field 'persuasion.templates': '/' resolves to /", OUTSIDE),
         files=files(persuasion=persuasion("/"))),
    Case("personas_dotdot", "paths", (VALIDATE,), security=True,
         expect=Error("field 'persuasion.personas'", OUTSIDE),
         files=files(persuasion=persuasion(str(ROOT / "prompts" / "persuasion"), "../" * 12 + "etc/passwd"))),
    Case("instruction_list_outside", "paths", (VALIDATE,), security=True,
         expect=Error("field 'perturbations.variants.0.steps.0.file'", OUTSIDE),
         files=files(perturbations=perturbation("{kind: instruction, file: /etc/passwd}"))),
    Case("misspellings_symlink_out", "paths", (_link("typos.json", "/etc/passwd"), VALIDATE), security=True,
         expect=Error("field 'perturbations.variants.0.steps.0.file'", OUTSIDE),
         files=files(perturbations=perturbation("{kind: misspelling, file: typos.json}"))),
    Case("template_beside_the_task_folder", "paths", (("validate", "{d}/tasks/task.yaml"),), security=True,
         expect=Error("field 'prompt.template': '../shared/t.j2'", OUTSIDE), files=SHARED_T),
    Case("allowed_with_allow_path", "paths", (("validate", "{d}/tasks/task.yaml", "--allow-path", "{d}/shared"),),
         Ok(printed("ok  {d}/tasks/task.yaml (tiny, 3 items)")), files=SHARED_T),
    Case("allowed_with_env", "paths", (("validate", "{d}/tasks/task.yaml"),),
         Ok(printed("ok  {d}/tasks/task.yaml (tiny, 3 items)")), files=SHARED_T,
         env={"HARNESS_ALLOW_PATHS": "{d}/shared"}),
    Case("task_folder_is_a_symlink", "paths", (_link("link", "real"), ("validate", "{d}/link/task.yaml")),
         Ok(printed("(tiny, 3 items)")), files={f"real/{k}": v for k, v in files("Q: {{ question }}").items()}),
    Case("template_in_project_prompts", "paths", (VALIDATE,), Ok(printed("(tiny, 3 items)")), files=files()),
]

TAGS = {"include": "{% include '/etc/passwd' %}", "import": "{% import '/etc/passwd' as p %}",
        "extends": "{% extends '/etc/passwd' %}", "from": "{% from '/etc/passwd' import x %}"}
PATHS += [Case(f"template_{tag}", "paths", (VALIDATE,), security=True, files=files(f"Q\n{text}"),
               expect=Error(f"t.j2:2: {{% {tag} %}} is not allowed: a prompt template is one file"))
          for tag, text in TAGS.items()]

LIMIT = "t.j2: template tried an unsafe operation: "
BOMBS = {
    "string_times_10_to_8": ("{{ 'a' * 10**8 }}", "the template builds a value of more than 1,000,000 characters"),
    "lipsum_100000": ("{{ lipsum(n=100000) }}", "t.j2: template uses an unknown variable: 'lipsum' is undefined"),
    "range_10_to_7": ("{% for i in range(10**7) %}{% endfor %}", "a call with the number 10,000,000"),
    "range_500000": ("{% for i in range(500000) %}{% endfor %}", "range() of more than 100,000 numbers"),
    "recursive_macro": ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "t.j2: template recursion too deep"),
    "macro_fan_out": ("{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}",
                      "more than 100,000 loop iterations and calls"),
    "nested_loops": ("{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
                     "more than 100,000 loop iterations and calls"),
    "doubling_with_tilde": ("{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x ~ ns.x %}"
                            "{% endfor %}", "builds a string of more than 1,000,000 characters"),
    "doubling_with_plus": ("{% set ns = namespace(x='ab') %}{% for i in range(60) %}{% set ns.x = ns.x + ns.x %}"
                           "{% endfor %}", "builds a value of more than 1,000,000 characters"),
    "huge_power": ("{{ 9 ** 9999999 }}", "builds an integer of more than 4096 bits"),
    "center_10_to_9": ("{{ 'a'|center(10**9) }}", "a call with the number 1,000,000,000"),
    "ljust_method": ("{{ question.ljust(999999) ~ question.ljust(999999) }}", "more than 1,000,000 characters"),
    "str_format_width": ("{{ '{:>999999999}'.format(1) }}", "str.format is not available in prompt templates"),
    "percent_width": ("{{ '%999999999d' % 1 }}", "builds a formatted string of more than 1,000,000 characters"),
    "join_with_a_big_separator": ("{{ range(99999)|join('x' * 999999) }}", "more than 1,000,000 characters"),
    "replace_empty_with_big": ("{{ ('x' * 99999).replace('', 'y' * 99999) }}", "more than 1,000,000 characters"),
    "list_times_big": ("{{ (['x' * 999] * 999999)|tojson }}", "builds a value of more than 1,000,000 characters"),
    "captured_block": ("{% set y %}{% for i in range(99999) %}{{ 'x' * 99999 }}{% endfor %}{% endset %}",
                       "more than"),
    "division_by_zero": ("{{ 1 / 0 }}", "t.j2: template failed: ZeroDivisionError: division by zero (item q1)"),
    "type_error": ("{{ question - 1 }}", "t.j2: template failed: TypeError: unsupported operand"),
    "python_internals": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "t.j2: template tried an unsafe operation"),
    "globals_through_cycler": ("{{ cycler.__init__.__globals__.os }}", "t.j2: template tried an unsafe operation"),
}
TEMPLATES = [Case(name, "templates", (VALIDATE,), files=files(text), timeout=60,
                  expect=Error(fragment) if fragment.startswith("t.j2") else Error(LIMIT, fragment))
             for name, (text, fragment) in BOMBS.items()] + [
    Case("if_nested_300_deep", "templates", (VALIDATE,), Error("t.j2: template cannot be compiled"),
         files=files("{% if 1 %}" * 300 + "{% endif %}" * 300)),
    Case("template_of_2_mib", "templates", (VALIDATE,), Error("t.j2: template larger than 1 MiB"),
         files=files("x" * (2 << 20))),
    Case("template_not_utf8", "templates", (VALIDATE,), Error("t.j2: cannot read template"),
         files={**files(), "t.j2": b"\xff\xfe{{ question }}", "task.yaml": task(prompt="prompt:\n  template: t.j2")}),
    Case("template_is_a_folder", "templates", (lambda d: (d / "t.j2").mkdir(), VALIDATE),
         Error("field 'prompt.template': template file not found"), files=files(prompt="prompt:\n  template: t.j2")),
    Case("template_ordinary_tags_still_work", "templates", (VALIDATE,), Ok(printed("(tiny, 3 items)")),
         files=files("{% macro opt(c) %}{{ c.label }}) {{ c.text|trim }}{% endmacro %}{{ question|upper }}\n"
                     "{% for c in choices %}{{ opt(c) }}{{ loop.index is odd }}\n{% endfor %}"
                     "{{ ', '.join(labels) ~ ('-' * 3) }} {{ range(3)|sum }} {{ row.id }}")),
]

OPEN_TASK = ("name: open\ntype: open_answer\ndataset:\n  path: data.jsonl\nfields:\n  id: id\n  question: question\n"
             "open_answer:\n  answers: answers\nprompt:\n  template: t.j2\nanswer: generate\n")
RAG_TASK = ("name: rag\ntype: rag\ndataset:\n  path: data.jsonl\nfields:\n  id: id\n  question: question\n"
            "rag:\n  relevant: relevant\nprompt:\n  template: t.j2\nanswer: generate\n")
NESTED = [{"id": "q1", "question": "Capital of France?", "choices": ["Berlin", "Paris", "Rome", "Madrid"],
           "domain": "geo", "meta": {"answer": "B", "source": "atlas"}}]
GOLD = [
    Case("row_answer_in_template", "templates", (VALIDATE,), security=True,
         expect=Error("t.j2: template uses an unknown variable: row.answer is a target column (the gold answer)"),
         files=files("{{ question }} (hint: {{ row.answer }})")),
    Case("row_answer_by_subscript", "templates", (VALIDATE,), security=True,
         expect=Error("row.answer is a target column"), files=files("{{ question }} {{ row['answer'] }}")),
    Case("whole_row_in_template", "templates", (replay(),), security=True,
         expect=Ok(lambda d, o: "the prompt holds the answer column" if "'answer'" in prompts(d) else None),
         files={**files("{{ question }} {{ row }}"), "recorded.jsonl": recorded({"q1": "A", "q2": "A", "q3": "A"})}),
    Case("row_targets_opt_in", "templates", (replay(),),
         Ok(lambda d, o: None if "hint: B" in prompts(d) else "the opted-in answer is not in the prompt"),
         files={**files("{{ question }} (hint: {{ row.answer }})",
                        prompt="prompt:\n  template: t.j2\n  row_targets: true"),
                "recorded.jsonl": recorded({"q1": "A", "q2": "A", "q3": "A"})}),
    Case("nested_target_column", "templates", (VALIDATE,), security=True,
         expect=Error("row.meta.answer is a target column"),
         files={**files("{{ question }} {{ row.meta.source }} {{ row.meta.answer }}", rows=NESTED,
                        target="target:\n  field: meta.answer")}),
    Case("open_answer_aliases_in_template", "templates", (VALIDATE,), security=True,
         expect=Error("row.answers is a target column"),
         files={"task.yaml": OPEN_TASK, "t.j2": "{{ question }} {{ row.answers }}",
                "data.jsonl": '{"id": "o1", "question": "Who?", "answers": ["Ada"]}\n'}),
    Case("rag_relevance_in_template", "templates", (VALIDATE,), security=True,
         expect=Error("row.relevant is a target column"),
         files={"task.yaml": RAG_TASK, "t.j2": "{{ question }} {{ row.relevant }}",
                "data.jsonl": '{"id": "r1", "question": "Who?", "relevant": true}\n'}),
]

CASES = TASK_FILE + PATHS + TEMPLATES + GOLD
