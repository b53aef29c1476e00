"""Run `harness` commands as a user would, many of them, fast: forked from one warm interpreter.

A zygote process (`python -m tests.hostile.runner`) imports the harness and its heavy libraries
once, then forks one child per command. Each child gets its own working folder, environment,
output files, a memory limit and a timeout, so a segfault, a runaway template or a hang ends
that command only and is reported as what it is (a signal, a MemoryError, a timeout). The zygote
never runs torch or a thread itself, so forking it is safe.

Protocol: one JSON line per job on the zygote's stdin, `{"argvs": [[...], ...], "cwd", "env",
"timeout"}`; the argvs run at the same time; one JSON line back with an Outcome per argv.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEMORY_HEADROOM = 4 << 30  # bytes of address space a command may add to the zygote's
OUTPUT_CAP = 1 << 20  # characters of stdout / stderr kept


@dataclass
class Outcome:
    rc: int | None  # exit status; None when ended by a signal or the timeout
    signal: int | None
    timed_out: bool
    seconds: float
    stdout: str
    stderr: str


def _child(argv: list[str], cwd: str, env: dict[str, str | None], out: str, err: str) -> None:
    """In the forked child: become `harness ARGV` and exit with its status. Never returns."""
    code = 1
    try:
        os.setsid()  # its own process group: the timeout kills whatever it started too
        os.chdir(cwd)
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)  # not the zygote's job pipe
        for fd, path in ((1, out), (2, err)):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        used = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + MEMORY_HEADROOM, used + MEMORY_HEADROOM))
        sys.argv = ["harness", *argv]
        from harness.cli.main import main

        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: B036  (a traceback is a finding: print it as the user would see it)
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read(OUTPUT_CAP)


def run_job(argvs: list[list[str]], cwd: str, env: dict[str, str | None], timeout: float) -> list[Outcome]:
    """Fork one child per argv (all at once), wait for them up to `timeout` seconds."""
    with tempfile.TemporaryDirectory(prefix="harness-case-") as tmp:
        started = time.monotonic()
        children = []
        for i, argv in enumerate(argvs):
            out, err = f"{tmp}/{i}.out", f"{tmp}/{i}.err"
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                _child(argv, cwd, env, out, err)
            children.append((pid, out, err))
        status: dict[int, tuple[int, float]] = {}
        timed_out: set[int] = set()
        while len(status) < len(children):
            for pid, _, _ in children:
                if pid in status:
                    continue
                done, code = os.waitpid(pid, os.WNOHANG)
                if done:
                    status[pid] = (code, time.monotonic() - started)
                elif time.monotonic() - started > timeout:
                    timed_out.add(pid)
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except ProcessLookupError:  # not yet its own group
                        os.kill(pid, signal.SIGKILL)
                    status[pid] = (os.waitpid(pid, 0)[1], time.monotonic() - started)
            time.sleep(0.01)
        outcomes = []
        for pid, out, err in children:
            code, seconds = status[pid]
            sig = os.WTERMSIG(code) if os.WIFSIGNALED(code) else None
            outcomes.append(Outcome(rc=None if sig is not None else os.WEXITSTATUS(code), signal=sig,
                                    timed_out=pid in timed_out, seconds=round(seconds, 2), stdout=_read(out),
                                    stderr=_read(err)))
        return outcomes


def _preload() -> None:
    """What most commands import, loaded once here instead of in every child."""
    import datasets  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.json  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401

    import harness.cli.main  # noqa: F401
    import harness.pipeline.runner  # noqa: F401
    import harness.report.build  # noqa: F401
    import harness.results.export  # noqa: F401


def serve() -> None:
    _preload()
    for line in sys.stdin:
        job = json.loads(line)
        outcomes = run_job(job["argvs"], job["cwd"], job["env"], job["timeout"])
        sys.stdout.write(json.dumps([asdict(o) for o in outcomes]) + "\n")
        sys.stdout.flush()


class Zygote:
    """The warm interpreter the commands are forked from (one per test module or script run)."""

    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.hostile.runner"], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, argvs: list[list[str]], cwd: Path, env: dict[str, str | None], timeout: float) -> list[Outcome]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argvs": argvs, "cwd": str(cwd), "env": env, "timeout": timeout}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote died (exit {self.proc.wait()})")
        return [Outcome(**o) for o in json.loads(line)]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run_fresh(argv: list[str], cwd: Path, env: dict[str, str | None], timeout: float) -> Outcome:
    """`python -m harness.cli ARGV` in a new interpreter: for settings libraries read when imported."""
    full = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    started = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "harness.cli", *argv], cwd=cwd, env=full, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return Outcome(rc=None, signal=None, timed_out=True, seconds=timeout, stdout=str(exc.stdout or ""),
                       stderr=str(exc.stderr or ""))
    sig = -proc.returncode if proc.returncode < 0 else None
    return Outcome(rc=None if sig else proc.returncode, signal=sig, timed_out=False,
                   seconds=round(time.monotonic() - started, 2), stdout=proc.stdout, stderr=proc.stderr)


if __name__ == "__main__":
    serve()
