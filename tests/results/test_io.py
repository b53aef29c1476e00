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


def test_run_folders_are_created_exclusively(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from harness.results.io import new_run_dir

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: new_run_dir(tmp_path / "runs", "20250101-000000-t-m"), range(40)))
    assert len(set(made)) == 40 and all(p.is_dir() for p in made)
    assert {p.name for p in made} == {"20250101-000000-t-m", *(f"20250101-000000-t-m-{n}" for n in range(2, 41))}
