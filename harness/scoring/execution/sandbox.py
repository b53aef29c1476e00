"""Run untrusted Python programs against their tests, never in the harness process.

Each program runs in a fresh subprocess, in a temporary folder of its own, through launcher.py
(which locks the process in) and runner.py (which runs the tests and proves they passed with a
nonce). What is isolated depends on what the OS allows; `Sandbox.isolation` says which:

- "namespaces" (Linux with unprivileged user namespaces, or root): new user, mount, PID and
  network namespaces (`unshare`). The program's folder is a private tmpfs of `folder_mb`; every
  other mount is read-only (nothing outside the folder can change, the host folder included);
  no network (an empty network namespace); its own /proc (no other process is visible or
  reachable); no capability.
- "rlimits" (no namespaces): the folder is a real temporary folder and the program can write
  wherever the harness's user can, and reach the network if seccomp is missing (see below).

Always: a stripped environment (PATH, HOME and TMPDIR = the folder, LANG, PYTHONHASHSEED=0: no API
key), stdin closed, rlimits on CPU time, address space, file size and processes, a wall-time limit
after which the whole process group is killed (and with it the PID namespace), and a seccomp
filter on x86-64 and aarch64: no fork/vfork/clone of processes (threads are allowed), no socket,
no mount, unshare, setns or ptrace. Files readable by the harness's user stay readable (read-only).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from enum import Enum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.core.errors import HarnessError
from harness.core.records import Strict

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
UNSHARE = ("unshare", "--user", "--map-root-user", "--net", "--mount", "--pid", "--fork", "--kill-child",
           "--mount-proc")
Isolation = Literal["namespaces", "rlimits"]


class Verdict(str, Enum):
    passed = "passed"
    failed = "failed"  # a test failed, the program raised, or it tampered with the check
    timeout = "timeout"  # wall time or CPU time limit
    syntax_error = "syntax_error"
    crashed = "crashed"  # the process ended without a verdict (os._exit, a signal)


class Limits(Strict):
    cpu_seconds: int = Field(10, ge=1)
    wall_seconds: float = Field(30.0, gt=0, description="wall clock; generous, since a loaded machine slows CPU time")
    memory_mb: int = Field(1024, ge=64, description="address space (RLIMIT_AS)")
    file_mb: int = Field(16, ge=1, description="largest file the program may write (RLIMIT_FSIZE)")
    folder_mb: int = Field(64, ge=1, description="the program's folder (a tmpfs under namespaces)")
    processes: int = Field(64, ge=1, description="RLIMIT_NPROC (threads; processes are refused by seccomp)")
    output_chars: int = Field(2000, ge=0, description="stdout and stderr kept per program")


class Program(BaseModel):
    """A program (for HumanEval: prompt + completion) and its tests, which define `check(candidate)`."""

    model_config = ConfigDict(frozen=True)

    source: str
    tests: str
    entry_point: str


class Execution(BaseModel):
    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    detail: str = Field("", description="why, in one line: the failing assert, the exception, the limit")
    stdout: str = ""
    stderr: str = ""
    seconds: float
    isolation: Isolation

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.passed


class Sandbox:
    def __init__(self, limits: Limits | None = None, isolation: Literal["auto"] | Isolation = "auto") -> None:
        self.limits = limits or Limits()
        if isolation == "auto":
            isolation = "namespaces" if namespaces_available() else "rlimits"
        elif isolation == "namespaces" and not namespaces_available():
            raise HarnessError("sandbox isolation 'namespaces' is not available here (no `unshare` or no user "
                               "namespaces); use isolation: auto or rlimits", field="isolation")
        self.isolation: Isolation = isolation

    def run(self, program: Program) -> Execution:
        start = time.perf_counter()
        limits = self.limits
        folder = Path(tempfile.mkdtemp(prefix="harness-exec-"))
        io = Path(tempfile.mkdtemp(prefix="harness-exec-io-"))
        nonce = secrets.token_hex(16)
        files = {"program.py": program.source, "tests.py": program.tests,
                 "job.json": json.dumps({"entry_point": program.entry_point})}
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(folder), "TMPDIR": str(folder),
               "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "PYTHONIOENCODING": "utf-8"}
        wire = f"{limits.cpu_seconds},{limits.memory_mb << 20},{limits.file_mb << 20},{limits.folder_mb << 20}," \
               f"{limits.processes}"
        try:
            with open(io / "stdout", "wb") as out, open(io / "stderr", "wb") as err, \
                    open(io / "result", "wb") as result:
                command = [sys.executable, "-S", "-B", "-P", str(LAUNCHER), self.isolation, str(folder), wire,
                           str(result.fileno())]
                if self.isolation == "namespaces":
                    command = [*UNSHARE, *command]
                proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=out, stderr=err, env=env,
                                        cwd=folder, pass_fds=(result.fileno(),), start_new_session=True)
                timed_out = _feed_and_wait(proc, _payload(nonce, files), limits.wall_seconds)
            stdout, stderr = (_read_capped(io / n, limits.output_chars) for n in ("stdout", "stderr"))
            records = _records((io / "result").read_bytes())
        finally:
            shutil.rmtree(io, ignore_errors=True)
            shutil.rmtree(folder, ignore_errors=True)
        verdict, detail = judge(records, nonce, proc.returncode, timed_out, limits)
        return Execution(verdict=verdict, detail=detail, stdout=stdout, stderr=stderr,
                         seconds=round(time.perf_counter() - start, 4), isolation=self.isolation)


def judge(records: list[dict], nonce: str, returncode: int | None, timed_out: bool,
          limits: Limits) -> tuple[Verdict, str]:
    """The verdict: passed only with the runner's nonce line; otherwise what the runner or the exit says."""
    if any(r.get("verdict") == "passed" and r.get("nonce") == nonce for r in records):
        return Verdict.passed, ""
    if timed_out:
        return Verdict.timeout, f"wall time over {limits.wall_seconds:g} s: the process group was killed"
    reported = [r for r in records if r.get("verdict") in ("failed", "syntax_error")]
    if reported:
        return Verdict(reported[0]["verdict"]), str(reported[0].get("detail", ""))
    killed = _signal_of(returncode)
    if killed == signal.SIGXCPU:
        return Verdict.timeout, f"CPU time over {limits.cpu_seconds} s (SIGXCPU)"
    if killed is not None:
        return Verdict.crashed, f"killed by {killed.name} before reporting a verdict"
    return Verdict.crashed, f"exited with status {returncode} before reporting a verdict"


def _signal_of(returncode: int | None) -> signal.Signals | None:
    """The signal that ended the program: Popen's -N, or 128 + N as the namespace's PID 1 passes it on."""
    if returncode is None:
        return None
    number = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    try:
        return signal.Signals(number) if number else None
    except ValueError:
        return None


def _feed_and_wait(proc: subprocess.Popen, payload: bytes, wall_seconds: float) -> bool:
    """Write the payload to stdin, close it, wait; on timeout kill the whole process group. True if timed out."""
    try:
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # the launcher died before reading: judged by its exit status
    try:
        proc.wait(timeout=wall_seconds)
        return False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return True
    finally:
        if proc.returncode is None:
            _kill_group(proc)


def _payload(nonce: str, files: dict[str, str]) -> bytes:
    """The launcher's stdin: the nonce line, then per file "name length" and its bytes."""
    parts = [nonce.encode() + b"\n"]
    for name, text in files.items():
        data = text.encode("utf-8", errors="surrogatepass")
        parts += [f"{name} {len(data)}\n".encode(), data]
    return b"".join(parts)


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # unshare, and with it the PID namespace and all it holds
    except ProcessLookupError:
        pass
    proc.wait()


def _read_capped(path: Path, chars: int) -> str:
    size = path.stat().st_size
    with open(path, "rb") as f:
        text = f.read(chars * 4 + 4).decode("utf-8", errors="replace")
    if len(text) > chars or size > chars * 4 + 4:
        return text[:chars] + f"\n… [truncated: {size} bytes in all]"
    return text


def _records(raw: bytes) -> list[dict]:
    out = []
    for line in raw[: 1 << 20].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            out.append(record)
    return out


@functools.cache
def namespaces_available() -> bool:
    """Whether `unshare` can give a program new user, mount, PID and network namespaces here (tried once)."""
    if shutil.which("unshare") is None or not sys.platform.startswith("linux"):
        return False
    try:
        done = subprocess.run([*UNSHARE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    if done.returncode != 0:
        return False
    probe = Sandbox(isolation="rlimits")  # the launcher's mount calls too: run a trivial program under namespaces
    probe.isolation = "namespaces"
    ok = probe.run(Program(source="def f():\n    return 1\n", tests="def check(c):\n    assert c() == 1\n",
                           entry_point="f"))
    return ok.passed
