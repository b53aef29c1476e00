from types import SimpleNamespace

import pytest

from harness.core import registry
from harness.core.errors import HarnessError
from harness.core.plugins import ALL
from harness.core.registry import Registry


def test_register_get_and_list():
    r: Registry[object] = Registry("widget")

    @r.register("b", "the b widget")
    def b() -> None: ...

    r.add("a", object(), "the a widget", "somewhere")
    assert r.names() == ["a", "b"] and r.get("b") is b and r["b"] is b and "a" in r
    assert [(e.name, e.help) for e in r.entries()] == [("a", "the a widget"), ("b", "the b widget")]
    version = r.version
    del r["a"]
    assert r.names() == ["b"] and r.version == version + 1


def test_twice_registered_and_unknown_names_are_clear_errors():
    r: Registry[object] = Registry("widget")
    r.add("x", 1)
    with pytest.raises(ValueError, match="widget 'x' is registered twice"):
        r.add("x", 2)
    with pytest.raises(HarnessError, match=r"unknown widget 'y' \(known: x\)"):
        r.get("y")


def test_builtins_load_lazily_and_every_registry_has_entries():
    for name, reg in ALL.items():
        assert reg.names() or name == "backends", f"no built-in {name}"


def test_a_broken_plugin_is_one_line(monkeypatch):
    def broken() -> None:
        raise ImportError("no module named nowhere")

    point = SimpleNamespace(name="bad", value="bad_plugin:mod", load=broken)
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: [point])
    with pytest.raises(HarnessError, match=r"plugin 'bad' \(bad_plugin:mod\) failed to load: ImportError"):
        registry.load_plugins()
