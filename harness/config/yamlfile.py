"""Safe YAML loading that remembers the line of every key.

Task files come from strangers, so the loader is strict: safe tags only (no python objects),
no anchors/aliases (no "billion laughs"), no duplicate keys, text must be UTF-8, the top level
must be a mapping. Every error is a HarnessError naming file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from harness.config.paths import OutsideError, confine
from harness.core.errors import HarnessError, raise_all

Path_ = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise HarnessError(
                "YAML aliases (*name) are not allowed in task files",
                line=event.start_mark.line + 1,
            )
        return super().compose_node(parent, index)


def dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


class YamlDoc:
    """A loaded YAML mapping plus the line number of each key path."""

    def __init__(self, data: dict[str, Any], lines: dict[Path_, int], file: Path) -> None:
        self.data = data
        self.lines = lines
        self.file = file

    def line_of(self, path: Path_) -> int | None:
        """Line of the longest prefix of `path` that has a recorded line."""
        for cut in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return None

    def error(self, message: str, path: Path_ = ()) -> HarnessError:
        return HarnessError(
            message, file=self.file, line=self.line_of(path), field=dotted(path) or None
        )


_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _build(loader: _Loader, node: yaml.Node, path: Path_, lines: dict[Path_, int], file: Path) -> Any:
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN_TAGS:
        raise HarnessError(f"unsupported YAML value (tag {node.tag})", file=file,
                           line=node.start_mark.line + 1, field=dotted(path) or None)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # YAML 1.1 reads plain keys such as `on`, `yes`, `off` as booleans; a key is a name here.
            plain_word = isinstance(key_node, yaml.ScalarNode) and key_node.style is None and \
                key_node.tag == "tag:yaml.org,2002:bool"
            key = key_node.value if plain_word else _build(loader, key_node, path, lines, file)
            key_path = path + (key,)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                raise HarnessError("mapping keys must be plain scalars", file=file, line=line,
                                   field=dotted(path) or None)
            if key in out:
                raise HarnessError(f"duplicate key '{key}'", file=file, line=line,
                                   field=dotted(key_path))
            lines[key_path] = line
            out[key] = _build(loader, value_node, key_path, lines, file)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, child in enumerate(node.value):
            lines[path + (i,)] = child.start_mark.line + 1
            items.append(_build(loader, child, path + (i,), lines, file))
        return items
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # an integer of more than 4,300 digits (Python's limit), a date like 2024-13-45
        problem = "a number of more than 4,300 digits" if "digits" in str(exc) else str(exc)
        raise HarnessError(f"unsupported YAML value ({problem})", file=file, line=node.start_mark.line + 1,
                           field=dotted(path) or None) from None
    except yaml.YAMLError as exc:
        raise HarnessError(
            f"unsupported YAML value ({' '.join(str(exc).split())[:120]})",
            file=file, line=node.start_mark.line + 1, field=dotted(path) or None,
        ) from None


def load_yaml_mapping(file: str | Path) -> YamlDoc:
    """Load a YAML file whose top level must be a mapping."""
    file = Path(file)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise HarnessError("file not found", file=file) from None
    except IsADirectoryError:
        raise HarnessError("is a directory, expected a YAML file", file=file) from None
    except OSError as exc:
        raise HarnessError(f"cannot read file ({exc.strerror})", file=file) from None
    if b"\x00" in raw:
        raise HarnessError("binary file, expected YAML text", file=file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HarnessError(f"not UTF-8 text (bad byte at offset {exc.start})", file=file) from None
    if not text.strip():
        raise HarnessError("file is empty", file=file)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = _build(loader, node, (), lines, file) if node is not None else None
    except HarnessError as exc:
        exc.file = exc.file or str(file)
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise HarnessError(f"YAML syntax error: {exc.problem or exc.context}", file=file,
                           line=line) from None
    except yaml.YAMLError as exc:
        raise HarnessError(f"YAML error: {exc}", file=file) from None
    except RecursionError:
        raise HarnessError("YAML nested too deeply", file=file) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a {type(data).__name__}"
        raise HarnessError(f"top level must be a mapping of keys, found {kind}", file=file, line=1)
    return YamlDoc(data, lines, file)


M = TypeVar("M", bound=BaseModel)


def describe_error(err: dict[str, Any]) -> str:
    """One pydantic error as words for a user: "unknown key", "required key is missing", ..."""
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")


def validate(model: type[M], doc: YamlDoc) -> M:
    """`model.model_validate(doc.data)`, or a HarnessError naming the file, line and field of the problem
    (HarnessErrors: one such line per problem, when there are several)."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("literal[", "list["))))
            problems.append(doc.error(describe_error(err), loc))
        raise_all(problems)
        raise AssertionError("unreachable: a ValidationError has errors") from None  # pragma: no cover


class ConfigFile(BaseModel):
    """A validated YAML file (a task, a training config): its `spec` plus where it lives, for
    relative paths, error lines and a hash of the validated content."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    file: Path
    doc: YamlDoc

    @property
    def base_dir(self) -> Path:
        return self.file.parent

    def resolve(self, relative: str, *field: str | int) -> Path:
        """A file this config names, resolved (symlinks followed) and confined to the folders
        `harness/config/paths.py` allows; an error names the file, line and `field` otherwise."""
        try:
            return confine(self.base_dir, relative)
        except OutsideError as exc:
            raise self.error(str(exc), *field) from None

    def error(self, message: str, *path: str | int) -> HarnessError:
        return self.doc.error(message, tuple(path))

    @property
    def config_hash(self) -> str:
        text = json.dumps(self.spec.model_dump(mode="json"), sort_keys=True)  # type: ignore[attr-defined]
        return hashlib.sha256(text.encode()).hexdigest()[:16]
