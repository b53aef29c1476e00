"""The package's layers: imports point down only, and module-level imports form no cycle.

A layer may import itself and the layers listed before it. `harness/__init__.py` (the version and
the Python API) may be imported from anywhere. Imports inside functions count too: a lazy import is
still a dependency. Registries name their built-in modules as strings (harness/core/plugins.py), so
a low layer can list what registers into it without importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "harness"
LAYERS = ["core", "config", "data", "variants", "backends", "scoring", "results", "metrics", "kinds",
          "pipeline", "report", "train", "cli"]
API = {"harness", "harness.api"}  # the top: the package's public Python API


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None
    return LAYERS.index(parts[1]) if parts[1] in LAYERS else None


def _imports(path: Path, module: str, *, top_level_only: bool = False) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("harness")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if base.startswith("harness"):
                found += [(f"{base}.{a.name}", node.lineno) for a in node.names]
    return found


def test_every_package_is_a_named_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in ROOT.glob("*.py")} - {"__init__"}
    assert packages <= set(LAYERS), f"packages outside the layers: {packages - set(LAYERS)}"
    assert modules <= {"api"}, f"modules at the top level of harness/: {modules}"


def test_imports_point_down_the_layers() -> None:
    modules = _modules()
    bad = []
    for module, path in modules.items():
        source = _layer(module)
        if source is None:
            continue
        for target, line in _imports(path, module):
            known = target if target in modules else target.rpartition(".")[0]
            if known in API:
                continue
            layer = _layer(known)
            if layer is not None and layer > source:
                where = f"{path.relative_to(ROOT.parent)}:{line}"
                bad.append(f"{where}: {LAYERS[source]} imports {LAYERS[layer]} ({known})")
    assert not bad, "imports pointing up the layers:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for target, _ in _imports(path, module, top_level_only=True):
            known = target if target in modules else target.rpartition(".")[0]
            if known in modules and known != module:
                targets.add(known)
        graph[module] = targets
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                # a package's __init__ re-exporting its own submodules is not a cycle of meaning
                cycle = stack[stack.index(t):] + [t]
                if not all(c.startswith(cycle[0] + ".") or c == cycle[0] for c in cycle[1:]):
                    pytest.fail("import cycle: " + " -> ".join(cycle))
            elif state.get(t) is None:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


@pytest.mark.parametrize("limit", [300])
def test_modules_stay_small(limit: int) -> None:
    big = {str(p.relative_to(ROOT.parent)): n for p in ROOT.rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > limit}
    assert not big, f"modules over {limit} lines: {big}"
