"""`--backend NAME -B key=value`: any registered backend from the command line, closed when the run ends."""

import json

import pytest
from typer.testing import CliRunner

from harness.backends.fake import FakeBackend
from harness.cli.main import app
from harness.core.plugins import BACKENDS

runner = CliRunner()
CLOSED: list[str] = []


class ClosingFake(FakeBackend):
    def close(self) -> None:
        CLOSED.append(self.info.name)


@pytest.fixture
def closing_backend():
    BACKENDS.add("closing-fake", ClosingFake, "a fake that records close()")
    CLOSED.clear()
    yield
    del BACKENDS["closing-fake"]


def run(*args: str):
    return runner.invoke(app, ["run", *args])


def test_fake_backend_runs_a_task_and_is_closed(make_task, tmp_path, closing_backend):
    out = tmp_path / "runs"
    result = run(str(make_task()), "--backend", "closing-fake", "-B", "answer=B", "-B", "p_chosen=0.9",
                 "-o", str(out), "--no-report", "--no-cache")
    assert result.exit_code == 0, result.output
    assert CLOSED == ["fake"]
    (run_dir,) = out.iterdir()
    results = json.loads((run_dir / "results.json").read_text())
    assert results["model"]["backend"] == "fake" and results["counts"]["samples"] == 3
    # every item answered B; only q1's gold is B
    accuracy = next(m for m in results["metrics"] if m["name"] == "accuracy")
    assert accuracy["value"] == pytest.approx(1 / 3)


def test_the_backend_is_closed_when_the_run_fails(make_task, closing_backend):
    result = run(str(make_task()), "--backend", "closing-fake", "-o", "/dev/null/runs", "--no-report", "--no-cache")
    assert result.exit_code == 2, result.output  # the run directory cannot be made
    assert CLOSED == ["fake"]


@pytest.mark.parametrize(("args", "fragment"), [
    (["--backend", "openai", "--model", "m"], "the openai backend needs --backend-arg base_url=..."),
    (["--backend", "openai", "--model", "m", "-B", "base_url=http://x/v1", "--dtype", "float32"],
     "the openai backend has no option 'dtype'"),
    (["--backend", "fake", "-B", "answer"], "'answer' is not key=value"),
    (["--dtype", "float32", "-B", "dtype=float16"], "'dtype' is given as --dtype and as --backend-arg"),
    (["--backend", "tgi"], "unknown backend 'tgi'"),
])
def test_bad_backend_options_are_one_line_errors(make_task, tmp_path, args, fragment):
    result = run(str(make_task()), *args, "-o", str(tmp_path / "runs"), "--no-report", "--no-cache")
    assert result.exit_code == 2, result.output
    assert fragment in result.output and "Traceback" not in result.output


def test_backends_lists_each_backend_and_its_options():
    result = runner.invoke(app, ["backends"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for text in ("hf", "vllm", "openai", "fake", "label_logprobs='exact'", "base_url (required)", "table_file"):
        assert text in result.output
