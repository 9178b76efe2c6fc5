"""Shared fixtures: where the CMU data is, and clips made on the spot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import synth

DATA_HELP = (
    "set MOCAP_AE_DATA to the CMU data folder (the one holding subjects/NN/...), e.g. "
    "MOCAP_AE_DATA=../shared/data/cmu (the BVH conversion of subjects 02, 05-09 and the ASF/AMC of subject 35; "
    "ASF/AMC of any subject can be downloaded with `mocap-ae data fetch 35 --dest DIR`)"
)


def _data_root() -> Path | None:
    value = os.environ.get("MOCAP_AE_DATA")
    if value and (Path(value) / "subjects").is_dir():
        return Path(value).resolve()  # a relative path is read once, against the folder pytest started in
    return None


@pytest.fixture(autouse=True, scope="session")
def _own_load_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CSV load cache of this test session in a folder of its own, not the user's cache."""
    os.environ["MOCAP_AE_CACHE_DIR"] = str(tmp_path_factory.mktemp("load-cache"))


@pytest.fixture(scope="session")
def cmu_root() -> Path:
    """The CMU data; a failure in CI, a skip with instructions elsewhere."""
    root = _data_root()
    if root is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CMU data missing in CI: {DATA_HELP}")
        pytest.skip(f"CMU data not available: {DATA_HELP}")
    return root


@pytest.fixture(scope="session")
def cmu_bvh_files(cmu_root: Path) -> list[Path]:
    """Every shared BVH file, sorted."""
    files = sorted(cmu_root.glob("subjects/*/*.bvh"))
    assert files, f"no BVH files under {cmu_root}/subjects"
    return files


@pytest.fixture()
def clip():
    """A smooth CMU-shaped synthetic clip, 2 s at 120 fps."""
    return synth.smooth_clip()
