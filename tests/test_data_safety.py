"""Reading never writes into the artist's data folders: every shared file, the cache on, a read-only copy."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest

from maya_tool.io import read_clip, write_clip


def _snapshot(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file and folder under ``root``: mode, size and content hash (folders: their listing)."""
    out: dict[str, tuple[int, int, str]] = {}
    for folder, dirs, files in os.walk(root):
        base = Path(folder)
        out[str(base.relative_to(root))] = (os.stat(base).st_mode, 0, ",".join(sorted(dirs + files)))
        for name in files:
            path = base / name
            out[str(path.relative_to(root))] = (
                path.stat().st_mode, path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def _make_read_only(root: Path) -> None:
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(Path(folder) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def _make_writable(root: Path) -> None:
    for folder, _, files in os.walk(root):
        os.chmod(folder, stat.S_IRWXU)
        for name in files:
            os.chmod(Path(folder) / name, stat.S_IRUSR | stat.S_IWUSR)


@pytest.fixture()
def read_only_copy(cmu_root: Path, tmp_path: Path):
    """The shared data copied, plus one CSV per subject (the cached format), made read-only."""
    copy = tmp_path / "cmu"
    shutil.copytree(cmu_root / "subjects", copy / "subjects")
    for subject in sorted((copy / "subjects").iterdir()):
        first = sorted([*subject.glob("*.bvh"), *subject.glob("*.amc")])[0]
        write_clip(read_clip(first), subject / f"{first.stem}.csv")
    for path in copy.rglob("*.csv"):  # older than the cache's racy-timestamp window, so it is cached
        os.utime(path, (path.stat().st_atime, path.stat().st_mtime - 60))
    _make_read_only(copy)
    yield copy
    _make_writable(copy)


def test_reading_every_shared_file_with_the_cache_on_leaves_the_data_folder_byte_identical(
    read_only_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCAP_AE_CACHE_DIR", str(tmp_path / "user-cache"))
    before = _snapshot(read_only_copy)
    files = sorted(p for p in read_only_copy.rglob("*") if p.suffix in (".bvh", ".amc", ".csv"))
    csvs = [p for p in files if p.suffix == ".csv"]
    assert {p.suffix for p in files} == {".bvh", ".amc", ".csv"} and csvs
    for path in files:
        read_clip(path)
    for path in csvs:  # the second read is served from the cache
        assert read_clip(path).source["cached"] is True, path
    assert _snapshot(read_only_copy) == before
    assert len(list((tmp_path / "user-cache").iterdir())) == len(csvs)
