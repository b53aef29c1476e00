"""The folders a config file may name files in (harness/config/paths.py)."""

from pathlib import Path

import pytest

from harness.config.paths import ENV, PROMPTS, OutsideError, allowing, confine


def test_inside_the_folder_and_the_project_prompts(tmp_path):
    (tmp_path / "sub").mkdir()
    assert confine(tmp_path, "sub/t.j2") == (tmp_path / "sub" / "t.j2").resolve()
    assert confine(tmp_path, str(PROMPTS / "mc" / "question.j2")) == PROMPTS / "mc" / "question.j2"


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.j2", "sub/../../outside.j2", "~/x.j2"])
def test_outside_is_refused(tmp_path, name):
    base = tmp_path / "task"
    (base / "sub").mkdir(parents=True)
    with pytest.raises(OutsideError, match="outside the config's folder"):
        confine(base, name)


def test_a_symlink_is_followed(tmp_path):
    base = tmp_path / "task"
    base.mkdir()
    (base / "in.j2").symlink_to(tmp_path / "secret")
    with pytest.raises(OutsideError, match="resolves to"):
        confine(base, "in.j2")


def test_allowed_by_flag_for_a_command_only_and_by_env(tmp_path, monkeypatch):
    base, other, third = tmp_path / "task", tmp_path / "data", tmp_path / "more"
    base.mkdir()
    with allowing([other]):
        assert confine(base, "../data/x.jsonl") == other / "x.jsonl"
    with pytest.raises(OutsideError):
        confine(base, "../data/x.jsonl")
    monkeypatch.setenv(ENV, f"{other}:{third}")
    assert confine(base, "../more/y.jsonl") == third / "y.jsonl"
    assert Path(confine(base, "../data/x.jsonl")).parent == other
