"""One small registry type for every extension point, and the plugin loader.

An extension point (task kinds, scorers, metrics, backends, perturbations, persuasion arms) is a
`Registry`. Built-in entries live in modules named in `builtins`, imported the first time the
registry is read (lm-eval's lazy registry), so importing harness stays cheap and the layers below
never import the layers that register into them. Third-party packages register through the Python
entry-point group `harness.plugins`: each entry point names a module whose import registers its
entries with the same decorators the built-ins use, e.g. in a plugin's pyproject.toml:

    [project.entry-points."harness.plugins"]
    my_plugin = "my_package.harness_plugin"
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from typing import Generic, TypeVar

from harness.core.errors import HarnessError

T = TypeVar("T")
ENTRY_POINT_GROUP = "harness.plugins"
_plugins_loaded = False


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    value: T
    help: str
    module: str


class Registry(Generic[T]):
    """Names -> registered objects of one extension point."""

    def __init__(self, what: str, builtins: tuple[str, ...] = ()) -> None:
        self.what = what  # "task kind", "scorer", ... (used in messages)
        self.builtins = builtins
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False
        self.version = 0  # bumped on every change, so what is built from the entries can be rebuilt

    def register(self, name: str, help: str = "") -> Callable[[T], T]:
        """Decorator: `@REGISTRY.register("name", "one line of help")` over a class or function."""

        def decorator(obj: T) -> T:
            self.add(name, obj, help)
            return obj

        return decorator

    def add(self, name: str, obj: T, help: str = "", module: str | None = None) -> None:
        module = module or getattr(obj, "__module__", "?")
        if name in self._entries:
            raise ValueError(f"{self.what} '{name}' is registered twice ({self._entries[name].module} and {module})")
        text = help or (getattr(obj, "__doc__", None) or "").strip().split("\n")[0]
        self._entries[name] = Entry(name, obj, text, module)
        self.version += 1

    def load(self) -> None:
        """Import the built-in modules and the installed plugins (once)."""
        if self._loaded:
            return
        self._loaded = True
        for module in self.builtins:
            importlib.import_module(module)
        load_plugins()

    def get(self, name: str) -> T:
        self.load()
        if name not in self._entries:
            raise HarnessError(f"unknown {self.what} '{name}' (known: {', '.join(self.names()) or 'none'})")
        return self._entries[name].value

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __delitem__(self, name: str) -> None:
        """Remove an entry (tests that register a temporary one)."""
        del self._entries[name]
        self.version += 1

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def names(self) -> list[str]:
        self.load()
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        self.load()
        return [self._entries[n] for n in sorted(self._entries)]

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def items(self) -> list[tuple[str, T]]:
        return [(e.name, e.value) for e in self.entries()]


def load_plugins() -> None:
    """Import every module named in the `harness.plugins` entry-point group (once per process)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plugin names itself, it does not take the harness down with a traceback
            raise HarnessError(f"plugin '{ep.name}' ({ep.value}) failed to load: "
                               f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None
