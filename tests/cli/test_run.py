"""`harness run` conventions on the fake backend: tasks by name, --version, --report beside --output, --seed in
every unpinned draw, --limit fractions with --sample, several --model, all schema errors at once, --help text."""

import json
import re
from importlib.metadata import version
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import ROOT, task_yaml

runner = CliRunner()
FAKE = ("--backend", "fake", "--no-cache")


def cli(*args: str):
    return runner.invoke(app, list(args))


def results(folder: Path) -> list[dict]:
    return [json.loads(f.read_text()) for f in sorted(folder.glob("*/results.json"))]


def test_version_is_the_package_metadata():
    result = cli("--version")
    assert result.exit_code == 0 and result.output.strip() == f"harness {version('harness')}"


def test_report_goes_beside_the_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("run", "general_knowledge", *FAKE, "--limit", "3", "-o", "other")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "other" / "index.html").is_file() and not (tmp_path / "reports").exists()
    assert "report: other/index.html (1 runs)" in result.output


def test_task_by_name_and_close_matches(tmp_path):
    result = cli("run", "sycophncy", *FAKE, "-o", str(tmp_path))
    assert result.exit_code == 2
    assert "'sycophncy' is neither a task file nor a known task name; did you mean sycophancy" in result.output
    result = cli("run", "general_knowledge", *FAKE, "--limit", "2", "-o", str(tmp_path), "--no-report")
    assert result.exit_code == 0, result.output
    assert Path(results(tmp_path)[0]["task"]["file"]).resolve() == ROOT / "tasks" / "general_knowledge.yaml"


def test_task_path_env_adds_a_folder(tmp_path, make_task, monkeypatch):
    make_task(name="mine.yaml")
    monkeypatch.setenv("HARNESS_TASK_PATH", str(tmp_path))
    result = cli("run", "mine", *FAKE, "-o", str(tmp_path / "runs"), "--no-report")
    assert result.exit_code == 0, result.output
    assert cli("list").output.count("mine") >= 1


def test_list_shows_names_and_groups():
    result = runner.invoke(app, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "| robustness_suite | group |" in result.output  # piped: a markdown table
    assert "nomiracl (nomiracl_en)" in result.output


PERTURBED = """perturbations:
  {seed}variants:
    - name: typos
      steps: [{{kind: keyboard_typo, rate: 0.5}}]
"""


@pytest.mark.parametrize("pinned", [False, True])
def test_seed_reaches_unpinned_draws(make_task, tmp_path, pinned):
    task = make_task(yaml_text=task_yaml() + PERTURBED.format(seed="seed: 5\n  " if pinned else ""))
    prompts = {}
    for seed in ("1", "2"):
        out = tmp_path / f"runs{seed}"
        result = cli("run", str(task), *FAKE, "--seed", seed, "-o", str(out), "--no-report")
        assert result.exit_code == 0, result.output
        run = results(out)[0]
        want = {"value": 5, "source": "task"} if pinned else {"value": int(seed), "source": "cli"}
        assert run["settings"]["seeds"] == {"run": {"value": int(seed), "source": "cli"}, "perturbations": want}
        lines = [json.loads(s) for s in next(out.glob("*/samples.jsonl")).read_text().splitlines()]
        prompts[seed] = [s["messages"][-1]["content"] for s in lines if s["variant"] == "typos"]
    assert (prompts["1"] == prompts["2"]) == pinned


def test_default_seed_is_recorded_as_default(tmp_path):
    result = cli("run", "sycophancy", *FAKE, "--limit", "2", "-o", str(tmp_path), "--no-report")
    assert result.exit_code == 0, result.output
    seeds = results(tmp_path)[0]["settings"]["seeds"]
    assert seeds == {"run": {"value": 1234, "source": "default"}, "persuasion": {"value": 42, "source": "task"}}


def _items(folder: Path) -> list[tuple[str, str]]:
    lines = [json.loads(s) for s in next(folder.glob("*/samples.jsonl")).read_text().splitlines()]
    return sorted({(s["item_id"], s["groups"]["domain"]) for s in lines})


def test_limit_fraction_stratified(tmp_path):
    result = cli("run", "general_knowledge", *FAKE, "--limit", "0.1", "--sample", "stratified", "-o", str(tmp_path),
                 "--no-report")
    assert result.exit_code == 0, result.output
    run = results(tmp_path)[0]
    assert run["counts"]["items"] == 15  # ceil(0.1 x 144)
    assert (run["settings"]["limit"], run["settings"]["limit_fraction"], run["settings"]["sample"]) == \
        (15, 0.1, "stratified")
    domains = [d for _, d in _items(tmp_path)]
    assert len(set(domains)) == 12  # 12 domains of 12 rows: one each, the 3 largest remainders (by name) get two
    assert sorted(domains.count(d) for d in set(domains)) == [1] * 9 + [2] * 3


def test_limit_random_is_seeded(tmp_path):
    picks = {}
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        result = cli("run", "general_knowledge", *FAKE, "--limit", "10", "--sample", "random", "--seed", seed,
                     "-o", str(tmp_path / name), "--no-report")
        assert result.exit_code == 0, result.output
        picks[name] = _items(tmp_path / name)
    first = [f"q{i:03d}" for i in range(1, 11)]
    assert picks["a"] == picks["b"] != picks["c"] and len(picks["a"]) == 10
    assert [i for i, _ in picks["a"]] != first and results(tmp_path / "a")[0]["settings"]["sample"] == "random"


def test_stratified_needs_a_group(make_task, tmp_path):
    task = make_task(yaml_text=task_yaml(groups=""))
    result = cli("run", str(task), *FAKE, "--limit", "2", "--sample", "stratified", "-o", str(tmp_path))
    assert result.exit_code == 2 and "no `groups:`" in result.output


def test_several_models_one_report(tmp_path):
    result = cli("run", "general_knowledge", *FAKE, "--limit", "3", "-m", "one", "-m", "two", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(r["model"]["name"] for r in results(tmp_path)) == ["one", "two"]
    assert result.output.count("report: ") == 1 and f"report: {tmp_path}/index.html (2 runs)" in result.output


def test_all_schema_errors_at_once(tmp_path, make_task):
    task = make_task(yaml_text=task_yaml(name="name: bad name") + "answer: maybe\nlimit: 0\ncolour: red\n")
    result = cli("validate", str(task))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[0] == "harness: error: 4 problems:" and "more problems" not in result.output
    assert [re.match(rf"  {re.escape(str(task))}:(\d+): field '(\w+)'", line).group(2) for line in lines[1:]] == \
        ["name", "answer", "limit", "colour"]


def _commands(command, path=()):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_help_keeps_placeholders():
    """Every `<placeholder>` in a command's or option's help shows in its --help (markdown must not eat it)."""
    checked = 0
    for path, command in _commands(typer.main.get_command(app)):
        texts = [command.help or ""] + [getattr(p, "help", None) or "" for p in command.params]
        wanted = [m for t in texts for m in re.findall(r"[\w/.]*<[\w-]+>[\w/.]*", t)]
        if not wanted:
            continue
        shown = " ".join(runner.invoke(app, [*path, "--help"], env={"COLUMNS": "300"}).output.split())
        for text in wanted:
            assert text in shown, f"harness {' '.join(path)} --help lost {text}"
            checked += 1
    assert checked >= 3  # runs/<id>/results.json, metrics.<fmt>, samples.<fmt>


def test_gen_kwargs_and_system_instruction(tmp_path, make_task):
    task = make_task(yaml_text=task_yaml(prompt=f"prompt:\n  template: {ROOT / 'prompts/mc/question.j2'}\n"
                                                f"  system: {ROOT / 'prompts/parrot/system.j2'}"))
    result = cli("run", str(task), *FAKE, "-o", str(tmp_path), "--no-report", "--gen-kwargs",
                 "temperature=0.5,max_tokens=7,stop=###", "--system-instruction", "Be brief.")
    assert result.exit_code == 0, result.output
    run = results(tmp_path)[0]
    assert run["task"]["config"]["generation"] == {"max_tokens": 7, "temperature": 0.5, "top_p": 1.0, "stop": ["###"]}
    assert run["settings"]["gen_kwargs"] == {"temperature": 0.5, "max_tokens": 7, "stop": ["###"]}
    assert run["settings"]["system_instruction"] == "Be brief."
    sample = json.loads(next(tmp_path.glob("*/samples.jsonl")).read_text().splitlines()[0])
    system = sample["messages"][0]
    assert system["role"] == "system" and system["content"].startswith("Be brief.\n\n") and len(system["content"]) > 11
    bad = cli("run", str(task), *FAKE, "-o", str(tmp_path), "--gen-kwargs", "temprature=1")
    assert bad.exit_code == 2 and "field '--gen-kwargs': temprature: unknown key" in bad.output


def test_validate_takes_names_and_groups():
    result = cli("validate", "--no-data", "general_knowledge", "robustness_suite", "nowhere_task")
    assert result.exit_code == 2
    assert result.output.count("ok  ") == 4 and "'nowhere_task' is neither a task file" in result.output
