"""What we write reads back as written with default options: BVH, ASF/AMC -> CSV -> BVH -> CSV.

The reader tells CMU units from cm by the bones, not by the joint names (a CMU-named
file written in cm used to come back 5.6444 times too large).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli, presets
from maya_tool.clip import Clip
from maya_tool.io import read_clip, write_clip
from maya_tool.io import bvh as mbvh
from maya_tool.skeleton import Skeleton, chain_length
from tests import synth


def _rotation_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest component difference of two quaternion arrays, up to sign (q and -q are one rotation)."""
    return float(np.max(np.minimum(np.abs(a - b).max(-1), np.abs(a + b).max(-1)))) if a.size else 0.0


def _assert_same_motion(back: Clip, clip: Clip, what: str) -> None:
    assert back.num_frames == clip.num_frames, what
    assert back.skeleton.names == clip.skeleton.names, what
    assert back.fps == clip.fps, what
    root = float(np.max(np.abs(back.root_positions - clip.root_positions)))
    assert root < 1e-3, f"{what}: root off by {root:.3g} cm"
    gap = _rotation_gap(back.rotations, clip.rotations)
    assert gap < 1e-6, f"{what}: rotations off by {gap:.3g}"
    np.testing.assert_allclose(back.skeleton.offsets, clip.skeleton.offsets, atol=1e-3, err_msg=what)


def _via_csv_to_bvh(clip: Clip, folder: Path, stem: str) -> Clip:
    """clip -> CSV -> BVH, every read with default options, checking the CSV step; the BVH's clip."""
    write_clip(clip, folder / f"{stem}.csv")
    from_csv = read_clip(folder / f"{stem}.csv", use_cache=False)
    _assert_same_motion(from_csv, clip, f"{stem} -> CSV")
    assert from_csv.skeleton.to_dict() == clip.skeleton.to_dict(), stem
    write_clip(from_csv, folder / f"{stem}.bvh")
    return read_clip(folder / f"{stem}.bvh")


def _with_leg(skeleton: Skeleton, leg_cm: float) -> Skeleton:
    factor = leg_cm / chain_length(skeleton, presets.CMU_LEFT_LEG)
    return Skeleton(names=skeleton.names, parents=skeleton.parents, offsets=skeleton.offsets * factor,
                    channels=skeleton.channels, end_sites={j: v * factor for j, v in skeleton.end_sites.items()})


@pytest.mark.parametrize("leg_cm", [95.0, 30.0, 0.0])
def test_cmu_named_clip_from_csv_reads_back_as_written(tmp_path: Path, leg_cm: float) -> None:
    """An adult's, a toddler's and an all-zero skeleton (a CSV without a skeleton file) keep their unit."""
    skeleton = synth.cmu_like_skeleton(1)
    skeleton = _with_leg(skeleton, leg_cm) if leg_cm else Skeleton(
        names=skeleton.names, parents=skeleton.parents, offsets=np.zeros_like(skeleton.offsets))
    clip = synth.smooth_clip(frames=60, skeleton=skeleton)
    from_bvh = _via_csv_to_bvh(clip, tmp_path, "walk")
    _assert_same_motion(from_bvh, clip, "CSV -> BVH")
    write_clip(from_bvh, tmp_path / "again.csv")
    _assert_same_motion(read_clip(tmp_path / "again.csv", use_cache=False), clip, "BVH -> CSV")


def test_auto_scale_reads_the_unit_from_the_bones() -> None:
    names = list(presets.CMU_JOINT_NAMES)
    cm = synth.cmu_like_skeleton(1).offsets
    cm = cm * 95.0 / chain_length(synth.cmu_like_skeleton(1), presets.CMU_LEFT_LEG)
    assert mbvh.auto_scale(names, cm) == 1.0
    assert mbvh.auto_scale(names, cm / presets.CMU_SCALE_CM) == presets.CMU_SCALE_CM
    assert mbvh.auto_scale(["root"] + names[1:], cm / presets.CMU_SCALE_CM) == 1.0  # not CMU: taken as written


@pytest.mark.cmu
def test_convert_bvh_csv_bvh_keeps_the_root_in_cm(cmu_root: Path, tmp_path: Path, capsys) -> None:
    """The issue's reproduction: convert 07_01.bvh a.csv; convert a.csv b.bvh; info b.bvh."""
    source = cmu_root / "subjects/07/07_01.bvh"
    a, b, c = tmp_path / "a.csv", tmp_path / "b.bvh", tmp_path / "c.csv"
    for args in (["convert", source, a], ["convert", a, b], ["convert", b, c]):
        assert cli.main([str(x) for x in args]) == 0
    capsys.readouterr()
    assert cli.main(["info", str(b)]) == 0
    out = capsys.readouterr().out
    assert "1 cm per unit" in out and "y 88.9 .. 98.8" in out, out
    original, back = read_clip(source), read_clip(c, use_cache=False)
    assert float(np.max(np.abs(back.root_positions - original.root_positions))) < 1e-3


def _shared_motion_files(root: Path) -> list[Path]:
    files = sorted(root.glob("subjects/*/*.bvh")) + sorted(root.glob("subjects/*/*.amc"))
    assert files, f"no BVH or AMC files under {root}/subjects"
    return files


def test_every_shared_file_round_trips_with_default_options(cmu_root: Path, tmp_path: Path) -> None:
    """Every shared BVH and ASF/AMC file -> CSV -> BVH: root within 1e-3 cm, rotations within 1e-6.

    BVH -> CSV is the first step, checked on the way; reading the BVH back is where
    the unit went wrong, the CSV it then gives holds the same numbers.
    """
    files = _shared_motion_files(cmu_root)
    for path in files:
        clip = read_clip(path)
        _assert_same_motion(_via_csv_to_bvh(clip, tmp_path, path.stem), clip, f"{path.name} -> CSV -> BVH")
        for written in tmp_path.iterdir():
            written.unlink()
    assert {p.suffix for p in files} == {".bvh", ".amc"}
