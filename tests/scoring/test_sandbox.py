"""The sandboxed executor: verdicts, limits, output, environment, both isolation modes, the pool."""

from __future__ import annotations

import signal

import pytest

from harness.core.errors import HarnessError
from harness.scoring.execution import launcher
from harness.scoring.execution.pool import run_programs
from harness.scoring.execution.sandbox import Limits, Program, Sandbox, Verdict, judge, namespaces_available

ADD_TESTS = "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n"
MODES = ["rlimits"] + (["namespaces"] if namespaces_available() else [])


def _add(body: str, prefix: str = "") -> Program:
    return Program(source=f"{prefix}def add(a, b):\n{body}", tests=ADD_TESTS, entry_point="add")


@pytest.mark.parametrize("mode", MODES)
def test_verdicts_name_what_happened(mode):
    sandbox = Sandbox(Limits(wall_seconds=30), isolation=mode)
    cases = [
        (_add("    return a + b\n"), Verdict.passed, ""),
        (_add("    return a - b\n"), Verdict.failed, "AssertionError at tests.py:2: assert candidate(1, 2) == 3"),
        (_add("    return a +\n"), Verdict.syntax_error, "SyntaxError: invalid syntax at program.py:2"),
        (_add("    return {}[a]\n"), Verdict.failed, "KeyError: 1 at tests.py:2: assert candidate(1, 2) == 3"),
        (_add("    return a + b\n", "import no_such_module\n"), Verdict.failed,
         "the program raised ModuleNotFoundError: No module named 'no_such_module'"),
        (Program(source="def sub(a, b):\n    return a - b\n", tests=ADD_TESTS, entry_point="add"), Verdict.failed,
         "the program defines no function add"),
    ]
    results = run_programs(sandbox, [p for p, _, _ in cases], workers=2, executor="local")
    for (_, verdict, detail), result in zip(cases, results):
        assert (result.verdict, result.detail) == (verdict, detail)
        assert result.isolation == mode and result.seconds > 0


def test_helpers_of_the_prompt_are_visible_to_the_tests():
    # HumanEval/38's tests call encode_cyclic, which the prompt defines next to the function under test
    source = "def encode(s):\n    return s[::-1]\n\ndef decode(s):\n    return s[::-1]\n"
    tests = "def check(candidate):\n    assert candidate(encode('abc')) == 'abc'\n"
    assert Sandbox().run(Program(source=source, tests=tests, entry_point="decode")).passed


def test_the_environment_is_stripped_and_stdin_is_closed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-programs")
    source = "import os, sys\nprint(sorted(os.environ))\nprint(repr(sys.stdin.read()))\n" \
             "def add(a, b):\n    return a + b\n"
    result = Sandbox().run(Program(source=source, tests=ADD_TESTS, entry_point="add"))
    assert result.passed
    names, stdin = result.stdout.splitlines()
    assert eval(names) == ["HOME", "LANG", "PATH", "PYTHONHASHSEED", "PYTHONIOENCODING", "TMPDIR"]  # noqa: S307
    assert stdin == "''"  # /dev/null: the nonce pipe was consumed before the program ran


def test_output_is_kept_truncated():
    sandbox = Sandbox(Limits(output_chars=100))
    result = sandbox.run(_add("    return a + b\n", "print('x' * 5000)\nimport sys\nprint('err', file=sys.stderr)\n"))
    assert result.passed and result.stderr == "err\n"
    assert result.stdout.startswith("x" * 100 + "\n… [truncated: 5001 bytes in all]")


def test_a_file_larger_than_the_limit_cannot_be_written():
    sandbox = Sandbox(Limits(file_mb=1))
    result = sandbox.run(_add("    open('big', 'wb').write(b'x' * (2 << 20))\n    return a + b\n"))
    assert result.verdict in (Verdict.crashed, Verdict.failed)  # SIGXFSZ, or EFBIG where the signal is ignored
    assert "SIGXFSZ" in result.detail or "File too large" in result.detail


@pytest.mark.skipif(not namespaces_available(), reason="no user namespaces here")
def test_the_folder_is_a_private_tmpfs_of_limited_size():
    sandbox = Sandbox(Limits(folder_mb=2, file_mb=16))
    body = "    with open('a', 'wb') as f:\n        f.write(b'x' * (3 << 20))\n    return a + b\n"
    result = sandbox.run(_add(body))
    assert result.verdict is Verdict.failed and "No space left on device" in result.detail


def test_unknown_isolation_and_bad_limits_are_refused(monkeypatch):
    import harness.scoring.execution.sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "namespaces_available", lambda: False)
    with pytest.raises(HarnessError, match="isolation 'namespaces' is not available"):
        Sandbox(isolation="namespaces")
    with pytest.raises(ValueError):
        Limits(cpu_seconds=0)
    with pytest.raises(ValueError):
        Limits(unknown=1)


def test_judge_trusts_only_the_nonce_line():
    limits = Limits()
    forged = [{"verdict": "passed", "nonce": "guess"}]
    assert judge(forged, "real", 0, False, limits)[0] is Verdict.crashed
    assert judge(forged + [{"verdict": "passed", "nonce": "real"}], "real", 0, False, limits)[0] is Verdict.passed
    assert judge([{"verdict": "failed", "detail": "x"}], "real", 0, False, limits) == (Verdict.failed, "x")
    assert judge([], "real", -signal.SIGXCPU, False, limits)[0] is Verdict.timeout
    assert judge([], "real", 128 + signal.SIGXCPU, False, limits)[0] is Verdict.timeout  # from the namespace's PID 1
    assert judge([], "real", -signal.SIGSEGV, False, limits) == (
        Verdict.crashed, "killed by SIGSEGV before reporting a verdict")
    assert judge([], "real", 0, True, limits)[0] is Verdict.timeout


def test_plain_data_accepts_the_containers_reference_solutions_return():
    import collections

    from harness.scoring.execution import runner

    for value in (1, 2.5, "s", b"b", None, True, [1, (2, {3})], {"a": frozenset()}, collections.Counter("aab"),
                  collections.OrderedDict(a=1), collections.defaultdict(list, a=[1]), collections.deque([1])):
        assert runner.is_plain(value), value

    class Sneaky(int):
        pass

    for value in (Sneaky(1), [Sneaky(1)], {"k": object()}, iter([1]), (x for x in [1])):
        assert not runner.is_plain(value), value


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_filter_is_whole_instructions_and_refuses_unknown_machines(machine):
    program = launcher.seccomp_program(machine)
    assert program is not None and len(program) % 8 == 0
    assert launcher.seccomp_program("riscv64") is None


def test_the_pool_keeps_order_and_reports_each_program():
    programs = [_add(f"    return a + b + {i}\n") for i in range(4)]
    seen = []
    results = run_programs(Sandbox(), programs, workers=2, executor="local", on_done=lambda i, r: seen.append(i))
    assert [r.verdict for r in results] == [Verdict.passed] + [Verdict.failed] * 3
    assert sorted(seen) == [0, 1, 2, 3]


@pytest.mark.integration
def test_ray_runs_each_program_as_a_task_when_a_cluster_is_up():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)  # a local cluster (about 15 s to start)
    try:
        programs = [_add(f"    return a + b + {i}\n") for i in range(3)]
        results = run_programs(Sandbox(), programs)  # executor "auto": Ray is initialised
        assert [r.verdict for r in results] == [Verdict.passed, Verdict.failed, Verdict.failed]
        assert results[1].detail == "AssertionError at tests.py:2: assert candidate(1, 2) == 3"
    finally:
        ray.shutdown()
