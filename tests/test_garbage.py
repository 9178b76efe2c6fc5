"""Numbers that are no motion are refused where they are, not turned into other numbers (issue 9, item 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli
from maya_tool.dataset import Dataset, dataset_from_clips
from maya_tool.errors import MocapError
from maya_tool.io import read_clip, write_clip
from maya_tool.io import bvh as mbvh
from maya_tool.io import csv as mcsv
from maya_tool.skeleton import Skeleton, sidecar_path
from tests import synth


def _run(capsys, *argv) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    return code, err


def _csv_with(tmp_path: Path, row: int, column: int, values: list[str]) -> Path:
    """A written CSV (header, sidecar) with cells from ``column`` (1-based) of data row ``row`` replaced."""
    path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=20), path)
    lines = path.read_text().splitlines()
    cells = lines[row].split(",")
    cells[column - 1 : column - 1 + len(values)] = values
    lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_quaternion_too_long_to_be_a_rotation_is_refused_where_it_is(tmp_path: Path, capsys) -> None:
    path = _csv_with(tmp_path, 5, 8, ["1e200", "1e200", "0", "0"])  # frame 5, joint 1
    with pytest.raises(MocapError, match="not a rotation") as info:
        mcsv.read_csv(path, use_cache=False)
    assert (info.value.path, info.value.row, info.value.column) == (str(path), 6, 8)
    code, err = _run(capsys, "convert", path, tmp_path / "walk.bvh")
    assert code == 2 and len(err.splitlines()) == 1 and "row 6, column 8" in err
    assert not (tmp_path / "walk.bvh").exists()


def test_a_root_beyond_any_stage_is_refused_in_csv_and_bvh(tmp_path: Path, capsys) -> None:
    path = _csv_with(tmp_path, 3, 2, ["1e308"])
    with pytest.raises(MocapError, match="root position 1e\\+308 cm is beyond") as info:
        mcsv.read_csv(path, use_cache=False)
    assert (info.value.row, info.value.column) == (4, 2)
    clip = synth.smooth_clip(frames=5)
    write_clip(clip, tmp_path / "ok.bvh")
    text = (tmp_path / "ok.bvh").read_text().splitlines()
    frame = text.index("MOTION") + 5  # the third frame line
    cells = text[frame].split()
    cells[1] = "1e306"  # finite in the file, infinite in cm at 5.6444 cm per unit
    text[frame] = " ".join(cells)
    (tmp_path / "far.bvh").write_text("\n".join(text) + "\n")
    with pytest.raises(MocapError, match="root position .* in frame 3 .* beyond") as info:
        mbvh.read_bvh(tmp_path / "far.bvh", scale=100.0)
    assert info.value.row == frame + 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("offset", [float("nan"), 0.0, 0.0], '"offset" must be 3 finite numbers'),
        ("offset", [0.0, 1e300, 0.0], '"offset" must be 3 finite numbers'),
        ("parent", True, '"parent" must be a whole joint index'),
        ("parent", 1.5, '"parent" must be a whole joint index'),
        ("parent", "0", '"parent" must be a whole joint index'),
        ("rest_rotation", [0.0, 0.0, 0.0, 0.0], '"rest_rotation" must be a unit quaternion'),
        ("end_site", [float("inf"), 0.0, 0.0], '"end_site" must be 3 finite numbers'),
    ],
)
def test_a_skeleton_sidecar_edited_into_nonsense_is_refused_naming_the_joint(
    tmp_path: Path, field: str, value, message: str
) -> None:
    path = tmp_path / "walk.csv"
    clip = synth.smooth_clip(frames=10)
    write_clip(clip, path)
    side = sidecar_path(path)
    data = json.loads(side.read_text())
    joint = 3 if field != "end_site" else next(i for i, j in enumerate(data["joints"]) if "end_site" in j)
    data["joints"][joint][field] = value
    side.write_text(json.dumps(data))  # json writes NaN / Infinity, as a hand edit or another tool may
    name = data["joints"][joint]["name"]
    with pytest.raises(MocapError, match=f"joint {joint + 1} \\({name!r}\\): {message}") as info:
        read_clip(path, use_cache=False)
    assert info.value.path == str(side)
    with pytest.raises(ValueError, match="finite"):
        Skeleton(names=["a", "b"], parents=[-1, 0], offsets=[[0, 0, 0], [np.nan, 0, 0]])


@pytest.mark.parametrize("bad", ["nan", "zeros"])
def test_a_data_set_whose_poses_are_not_rotations_is_refused_naming_the_frame(tmp_path: Path, bad: str, capsys) -> None:
    clips = [(tmp_path / f"07_0{i}.bvh", synth.smooth_clip(frames=30, seed=i)) for i in (1, 2)]
    for path, _ in clips:
        path.write_text("source")
    ds = dataset_from_clips(clips)
    ds.poses[40, 4:8] = np.nan if bad == "nan" else 0.0  # clip 2, its frame 11, joint 2
    with np.load(ds.save(tmp_path / "train.npz")) as archive:
        assert archive["poses"].shape == ds.poses.shape
    expected = r"frame 41 \(clip 2, its frame 11\), joint 'LHipJoint'.*" if bad == "nan" else r"frame 41 .*'LHipJoint'"
    joint_name = ds.joint_names[2]
    expected = expected.replace("LHipJoint", joint_name)
    with pytest.raises(MocapError, match=expected) as info:
        Dataset.load(tmp_path / "train.npz")
    assert info.value.path == str(tmp_path / "train.npz")
    code, err = _run(capsys, "info", tmp_path / "train.npz")
    assert code == 2 and len(err.splitlines()) == 1 and "not unit quaternions" in err
