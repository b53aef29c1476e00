"""Runs one program against its tests inside the sandbox; reports a verdict the program cannot fake cheaply.

Started by launcher.py as `python -s -B -P runner.py RESULT_FD` in the program's folder (program.py,
tests.py, job.json), with the nonce as the only content of stdin. Standard library only.

Order: read the nonce (stdin then becomes /dev/null), read the files, import what the tests import,
snapshot builtins and every loaded module, run the tests' definitions (in a namespace of their own
with a pristine copy of builtins), run the program, call `check(candidate)` where every value the
candidate returns must be plain data (exact built-in types, recursively: an object with a rigged
`__eq__` fails), verify no module attribute was rebound (patched `math.isclose`, `builtins.abs`,
`unittest.TestCase.assertEqual`, ...) and no trace hook set, and only then write
{"verdict": "passed", "nonce": ...} to RESULT_FD and leave with os._exit (no program code runs
after it). A failure is reported without the nonce. A program that exits early (sys.exit,
os._exit) or prints "passed" never gets the nonce line. Limit: the nonce lives in this process;
a program written against this runner that walks the interpreter's frames can find it (it is in
no file, argument or environment variable). It still cannot leave the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import collections
import importlib
import json
import os
import sys

PLAIN = (int, float, complex, bool, str, bytes, type(None))
MAPPINGS = (dict, collections.Counter, collections.OrderedDict, collections.defaultdict)
CONTAINERS = (list, tuple, set, frozenset, collections.deque, *MAPPINGS)
DETAIL_CHARS = 600


class Rejected(Exception):
    """The program tampered with the check (caught and reported as a failure)."""


def one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 1] + "…"


def is_plain(value: object, depth: int = 0) -> bool:
    kind = type(value)
    if kind in PLAIN:
        return True
    if kind not in CONTAINERS or depth > 100:
        return False
    if kind in MAPPINGS:
        return all(is_plain(k, depth + 1) and is_plain(v, depth + 1) for k, v in value.items())  # type: ignore[attr-defined]
    return all(is_plain(v, depth + 1) for v in value)  # type: ignore[attr-defined]


def guard(function: object, name: str):  # type: ignore[no-untyped-def]
    def candidate(*args, **kwargs):  # type: ignore[no-untyped-def]
        value = function(*args, **kwargs)  # type: ignore[operator]
        if not is_plain(value):
            raise Rejected(f"{name} returned a {type(value).__qualname__}, not plain data (built-in numbers, "
                           "strings, bytes, None and containers of them, Counter, OrderedDict, defaultdict, deque)")
        return value

    return candidate


def imported_modules(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return names


def snapshot(watched: list[str]) -> list[tuple[str, object, dict]]:
    """Every loaded module's namespace, and that of the classes the tests' modules define (and of the
    containers a candidate may return), by identity."""
    snap = [(name, mod, dict(vars(mod))) for name, mod in list(sys.modules.items())
            if name not in ("sys", "__main__") and hasattr(mod, "__dict__")]
    classes = {f"collections.{c.__name__}": c for c in CONTAINERS if c.__module__ == "collections"}
    for modname in watched:
        for attr, value in list(vars(sys.modules[modname]).items()):
            if isinstance(value, type) and (value.__module__ + ".").startswith(modname + "."):
                classes[f"{modname}.{attr}"] = value
    return snap + [(name, cls, dict(vars(cls))) for name, cls in classes.items()]


def tampering(snap: list[tuple[str, object, dict]]) -> str | None:
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return "the program left a trace or profile hook installed"
    for name, obj, before in snap:
        if type(obj) is type(sys) and sys.modules.get(name) is not obj:
            return f"the program replaced the module {name} in sys.modules"
        now = vars(obj)
        for key, value in before.items():  # a new attribute (an imported submodule) is fine; a changed one is not
            if key not in now or now[key] is not value:
                return f"the program rebound {name}.{key}"
    return None


def first_test_line(tb, tests: list[str]) -> str:  # type: ignore[no-untyped-def]
    """`tests.py:LINE: source` of the innermost tests.py frame (the failing assert)."""
    where = ""
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "tests.py" and 0 < tb.tb_lineno <= len(tests):
            where = f" at tests.py:{tb.tb_lineno}: {tests[tb.tb_lineno - 1].strip()}"
        tb = tb.tb_next
    return where


def describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001 - an exception whose __str__ raises is still a failure
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main() -> None:
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # the runner's own folder (Python 3.10 has no -P)
    result_fd = int(sys.argv[1])
    nonce = os.read(0, 256).decode()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)

    def finish(record: dict) -> None:
        try:
            os.write(result_fd, (json.dumps(record) + "\n").encode())
        finally:
            os._exit(0)

    with open("job.json", encoding="utf-8") as f:
        job = json.load(f)
    with open("program.py", encoding="utf-8") as f:
        program = f.read()
    with open("tests.py", encoding="utf-8") as f:
        tests = f.read()
    try:
        tests_tree = ast.parse(tests, "tests.py")
    except SyntaxError as exc:
        finish({"verdict": "failed", "detail": one_line(f"the tests do not parse: {exc}")})
    for name in sorted(set(imported_modules(tests_tree)) | {"math"}):
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # the tests will fail on it themselves
    watched = sorted(n for n in set(imported_modules(tests_tree)) if n in sys.modules)
    snap = snapshot(watched)
    tests_ns = {"__name__": "__tests__", "__builtins__": dict(vars(builtins))}
    program_ns = {"__name__": "__program__", "__builtins__": builtins}
    try:
        code = compile(program, "program.py", "exec")
    except (SyntaxError, ValueError) as exc:
        line = f" at program.py:{exc.lineno}" if getattr(exc, "lineno", None) else ""
        finish({"verdict": "syntax_error", "detail": one_line(f"{type(exc).__name__}: "
                                                              f"{getattr(exc, 'msg', exc)}{line}")})
    tests_lines = tests.splitlines()
    try:
        exec(compile(tests_tree, "tests.py", "exec"), tests_ns)
    except BaseException as exc:  # noqa: BLE001
        finish({"verdict": "failed", "detail": one_line(f"the tests raised {describe(exc)}")})
    try:
        exec(code, program_ns)
    except SystemExit as exc:
        finish({"verdict": "failed", "detail": one_line(f"the program exited (SystemExit {exc.code!r}) "
                                                        "before the tests ran")})
    except BaseException as exc:  # noqa: BLE001
        finish({"verdict": "failed", "detail": one_line(f"the program raised {describe(exc)}")})
    entry = job["entry_point"]
    if not callable(program_ns.get(entry)):
        finish({"verdict": "failed", "detail": one_line(f"the program defines no function {entry}")})
    for key, value in program_ns.items():
        if key != "__builtins__":
            tests_ns.setdefault(key, value)  # helpers the tests call (HumanEval/38 calls encode_cyclic)
    try:
        tests_ns["check"](guard(program_ns[entry], entry))
    except SystemExit as exc:
        finish({"verdict": "failed", "detail": one_line(f"the program exited (SystemExit {exc.code!r}) during "
                                                        "the tests")})
    except BaseException as exc:  # noqa: BLE001
        finish({"verdict": "failed", "detail": one_line(describe(exc) + first_test_line(exc.__traceback__,
                                                                                        tests_lines))})
    problem = tampering(snap)
    if problem:
        finish({"verdict": "failed", "detail": one_line(problem)})
    finish({"verdict": "passed", "nonce": nonce})


if __name__ == "__main__":
    main()
