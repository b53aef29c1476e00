"""JSON nested too deeply is refused before a parser sees it (pyarrow crashes on about 10,000 levels)."""

import gzip

import pytest

from harness.core.errors import HarnessError
from harness.data.jsonfiles import check_json_depth


@pytest.mark.parametrize(("text", "per_line", "line"), [
    ('{"a": 1}\n{"q": ' + "[" * 600 + "]" * 600 + "}\n", True, 2),  # one deep line
    ("[\n" * 300 + '"x"' + "]" * 300 + "\n", False, 251),  # one document across lines
    ('{"a": [' + "{" * 999 + "}" * 999 + "]}\n", True, 1),
])
def test_deep_nesting_names_the_line(tmp_path, text, per_line, line):
    f = tmp_path / "d.jsonl"
    f.write_text(text)
    with pytest.raises(HarnessError, match=f"line {line}: JSON nested deeper than 250 levels"):
        check_json_depth(f, per_line=per_line, limit=250)


@pytest.mark.parametrize(("text", "per_line"), [
    ('{"q": "' + "[" * 5000 + '"}\n', True),  # brackets inside a string are text
    ('{"q": "\\"' + "[" * 5000 + '"}\n', True),  # after an escaped quote too
    ("".join('{"q": [[1]]}\n' for _ in range(5000)), True),  # many shallow lines
    ("[\n" + "".join('  {"q": [1, [2]]},\n' for _ in range(5000)) + "  {}\n]\n", False),
])
def test_shallow_or_quoted_brackets_pass(tmp_path, text, per_line):
    f = tmp_path / "d.json"
    f.write_text(text)
    check_json_depth(f, per_line=per_line, limit=250)


def test_gzip(tmp_path):
    f = tmp_path / "d.jsonl.gz"
    with gzip.open(f, "wt") as fh:
        fh.write('{"q": ' + "[" * 300 + "]" * 300 + "}\n")
    with pytest.raises(HarnessError, match="line 1"):
        check_json_depth(f, per_line=True, limit=250)


@pytest.mark.parametrize(("text", "per_line", "found"), [
    ('{"a": 1}\n\n{oops\n', True, (3, "Expecting property name enclosed in double quotes")),
    ('[\n {"a": 1},\n {"a": \n', False, (4, "Expecting value")),
    ('{"a": 1}\n{"a": 2\n', False, (2, "Expecting ',' delimiter")),  # JSON lines in a .json file
    ('{"a": 1}\n{"a": 2}\n', True, None),
])
def test_first_invalid_line(tmp_path, text, per_line, found):
    from harness.data.jsonfiles import first_invalid_line

    f = tmp_path / "d.json"
    f.write_text(text)
    assert first_invalid_line(f, per_line=per_line) == found
