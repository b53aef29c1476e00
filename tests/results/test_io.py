"""Atomic writes: a reader never sees half a file, and the file gets ordinary permissions."""

import os

from harness.results.io import atomic_write_text


def test_atomic_write_replaces_and_uses_the_umask(tmp_path):
    target = tmp_path / "sub" / "results.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]  # no temp file left behind
