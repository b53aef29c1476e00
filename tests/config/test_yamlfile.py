from pathlib import Path

import pytest

from harness.config.yamlfile import load_yaml_mapping
from harness.core.errors import HarnessError


def load(tmp_path: Path, text: str | bytes) -> object:
    f = tmp_path / "t.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    return load_yaml_mapping(f)


def error(tmp_path: Path, text: str | bytes) -> HarnessError:
    with pytest.raises(HarnessError) as info:
        load(tmp_path, text)
    return info.value


def test_yaml_1_1_boolean_words_stay_names_as_keys(tmp_path):
    doc = load(tmp_path, "on: [a]\nyes: 1\nflag: on\n'off': 2\n")
    assert doc.data == {"on": ["a"], "yes": 1, "flag": True, "off": 2}  # values keep YAML's meaning
    assert doc.line_of(("yes",)) == 2


def test_lines_are_recorded(tmp_path):
    doc = load(tmp_path, "a: 1\nb:\n  c: [1, 2]\n  d: x\n")
    assert doc.data == {"a": 1, "b": {"c": [1, 2], "d": "x"}}
    assert doc.line_of(("b", "d")) == 4
    assert doc.line_of(("b", "d", "missing")) == 4  # falls back to the nearest known parent
    assert doc.line_of(("b", "c", 1)) == 3


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a'"),
        ("a: &x [1]\nb: *x\n", 2, "aliases"),
        ("a: !!python/object/apply:os.system ['echo hi']\n", 1, "unsupported YAML value"),
        ("a: [1, 2\nb: 3\n", 2, "syntax error"),
        ("- a\n- b\n", 1, "found a list"),
        ("just text\n", 1, "found a str"),
    ],
)
def test_bad_yaml_names_the_line(tmp_path, text, line, fragment):
    exc = error(tmp_path, text)
    assert exc.line == line
    assert fragment in str(exc)
    assert "\n" not in str(exc)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty"), (b"  \n\n", "empty"), (b"\x00\x01\x02", "binary"), (b"a: \xff\xfe\n", "not UTF-8")],
)
def test_empty_binary_and_non_utf8_files(tmp_path, content, fragment):
    assert fragment in str(error(tmp_path, content))


def test_missing_file(tmp_path):
    with pytest.raises(HarnessError, match="file not found"):
        load_yaml_mapping(tmp_path / "nope.yaml")


def test_billion_laughs_is_refused_fast(tmp_path):
    lol = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    assert "aliases" in str(error(tmp_path, lol))
