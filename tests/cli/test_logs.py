"""Quiet by default: what libraries print during `harness run` (Python warnings, logging, child processes writing
on the inherited descriptors, like vLLM's engine core) goes to the run's log.txt; `--verbose` prints it."""

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

NOISY = textwrap.dedent("""
    import logging, subprocess, sys, warnings
    from harness.backends.fake import FakeBackend
    from harness.core.plugins import BACKENDS

    class Noisy(FakeBackend):
        def close(self):
            warnings.warn("`past_key_values` as a tuple is deprecated", FutureWarning)
            logging.getLogger("vllm").warning("Engine core proc EngineCore_0 died unexpectedly")
            subprocess.run([sys.executable, "-c", "import sys; print('child process says hi', file=sys.stderr)"])
            print("library print on stdout")

    BACKENDS.add("noisy", Noisy, "prints like vLLM does")
    from harness.cli.main import main
    sys.argv = ["harness", "run", *sys.argv[1:]]
    main()
""")
LIBRARY_LINES = ("past_key_values", "died unexpectedly", "child process says hi", "library print on stdout")


def harness(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NOISY, *args], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(ROOT.parent)})


@pytest.mark.parametrize("verbose", [False, True])
def test_library_output_goes_to_the_run_log(make_task, tmp_path, verbose):
    out = tmp_path / "runs"
    task = str(make_task())
    p = harness(task, task, "--backend", "noisy", "-o", str(out), "--no-report", "--no-cache",
                *(["--verbose"] if verbose else []))
    assert p.returncode == 0, p.stderr
    run_dir, second = sorted(out.iterdir())  # two runs of one command, no hidden log left beside them
    assert "| tiny | fake |" in p.stdout  # the summary table still shows
    console = p.stdout + p.stderr
    if verbose:
        assert all(line in console for line in LIBRARY_LINES) and not (run_dir / "log.txt").exists()
        return
    assert not any(line in console for line in LIBRARY_LINES), console
    log = (run_dir / "log.txt").read_text()
    assert all(line in log for line in LIBRARY_LINES), log
    assert (second / "log.txt").read_text() == log  # every run of the command holds the command's log
    assert f"log: {run_dir / 'log.txt'} ({len(log.splitlines())} lines of library output" in p.stdout


def test_an_early_error_names_the_log(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("name: x\n")
    p = harness(str(bad), "-o", str(tmp_path / "runs"))
    assert p.returncode == 2 and p.stderr.startswith("harness: error:") and len(p.stderr.splitlines()) == 1
    assert not list((tmp_path / "runs").glob(".harness-log-*"))  # nothing was printed: no log kept
