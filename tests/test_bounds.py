"""Sane bounds: each hostile number is one located line and exit 2, in bounded time and memory (issue 9, item 5)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest

from maya_tool import atomic, cli
from maya_tool import io as mio
from maya_tool.clip import Clip
from maya_tool.errors import MocapError
from maya_tool.io import bvh as mbvh
from maya_tool.io import read_clip, write_clip
from maya_tool.skeleton import Skeleton, sidecar_path
from tests import synth

TINY_BVH = """HIERARCHY
ROOT hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
\tEnd Site
\t{
\t\tOFFSET 0 10 0
\t}
}
MOTION
Frames: {frames}
Frame Time: {frame_time}
"""


def _bvh(tmp_path: Path, frame_time: str = "0.0083333", frames: int = 2) -> Path:
    path = tmp_path / "t.bvh"
    path.write_text(TINY_BVH.replace("{frames}", str(frames)).replace("{frame_time}", frame_time)
                    + "0 90 0 1 2 3\n" * frames)
    return path


def _one_error(capsys, *argv) -> str:
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith(f"mocap-ae {argv[0]}: error: "), err
    return err


@pytest.mark.parametrize("frame_time", ["1e-320", "1e300"])
def test_a_frame_time_no_capture_has_is_refused_on_its_line(tmp_path: Path, frame_time: str, capsys) -> None:
    path = _bvh(tmp_path, frame_time)
    with pytest.raises(MocapError, match=f"'Frame Time: {frame_time}': .* fps is outside the frame rates accepted") as info:
        mbvh.read_bvh(path)
    assert info.value.row == 13
    err = _one_error(capsys, "convert", path, tmp_path / "out.csv", "--fps", "30")
    assert "row 13" in err and not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fps", "1e9"], "--fps: 1e+09 fps is outside"),
        (["--fps", "inf"], "--fps: inf fps is outside"),
        (["--fps", "nan"], "--fps: nan fps is outside"),
        (["--scale", "inf"], "--scale: inf cm per unit is outside"),
        (["--output-scale", "1e-300"], "--output-scale: 1e-300 cm per unit is outside"),
    ],
)
def test_convert_refuses_rates_and_scales_beyond_the_bounds(tmp_path: Path, flags, message: str, capsys) -> None:
    out = tmp_path / "out.bvh"
    err = _one_error(capsys, "convert", _bvh(tmp_path), out, *flags)
    assert message in err and not out.exists()


def test_input_fps_inf_is_refused_not_written_as_infinity(tmp_path: Path, capsys) -> None:
    path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=10), path, write_skeleton=False)
    err = _one_error(capsys, "convert", path, tmp_path / "out.csv", "--input-fps", "inf")
    assert "--input-fps: inf fps is outside" in err and not (tmp_path / "out.csv").exists()


def test_resampling_is_bounded_by_the_frames_it_would_make() -> None:
    slow = synth.smooth_clip(frames=30)
    slow.fps = 0.01  # 50 minutes of frames
    with pytest.raises(MocapError, match=r"--fps 10000: resampling 30 frames at 0.01 fps would make about 30000001 "
                                         r"frames, more than the 2000000"):
        mio.resample(slow, 10_000.0, "--fps")  # refused before allocating anything


def test_a_clip_without_frames_is_refused_when_written_as_csv(tmp_path: Path, capsys) -> None:
    err = _one_error(capsys, "convert", _bvh(tmp_path, frames=0), tmp_path / "none.csv")
    assert "has no frames" in err and not (tmp_path / "none.csv").exists()


def test_a_hierarchy_deeper_than_any_skeleton_is_refused_fast(tmp_path: Path, capsys) -> None:
    depth = 10_000
    lines = ["HIERARCHY"]
    for j in range(depth):
        lines += [("ROOT" if j == 0 else "JOINT") + f" j{j}", "{", "OFFSET 0 1 0",
                  "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation" if j == 0 else "CHANNELS 0"]
    lines += ["End Site", "{", "OFFSET 0 1 0", "}"] + ["}"] * depth + ["MOTION", "Frames: 1", "Frame Time: 0.01",
                                                                          "0 0 0 0 0 0"]
    path = tmp_path / "deep.bvh"
    path.write_text("\n".join(lines) + "\n")
    err = _one_error(capsys, "convert", path, tmp_path / "deep2.bvh")  # stops at joint 2001, not at the end
    assert "more than 2000 joints" in err and f"row {2 + 4 * 2000}" in err


def test_a_deep_hierarchy_within_the_bound_is_written_without_recursion(tmp_path: Path) -> None:
    joints = 1050  # deeper than Python's recursion limit
    skeleton = Skeleton(names=[f"j{i}" for i in range(joints)], parents=[-1, *range(joints - 1)],
                        offsets=np.tile([0.0, 1.0, 0.0], (joints, 1)),
                        channels=[["Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"]]
                        + [["Zrotation", "Yrotation", "Xrotation"]] * (joints - 1))
    clip = Clip(skeleton=skeleton, fps=30.0, root_positions=np.zeros((2, 3)),
                rotations=np.tile([0.0, 0.0, 0.0, 1.0], (2, joints, 1)))
    mbvh.write_bvh(clip, tmp_path / "deep.bvh")
    back = mbvh.read_bvh(tmp_path / "deep.bvh")
    assert back.skeleton.names == skeleton.names and list(back.skeleton.parents) == list(skeleton.parents)


def test_a_sidecar_nested_beyond_reason_is_one_line(tmp_path: Path, capsys) -> None:
    path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=10), path)
    sidecar_path(path).write_text("[" * 100_000 + "]" * 100_000)
    err = _one_error(capsys, "info", path)
    assert "nests arrays or objects too deeply" in err and "walk.skeleton.json" in err


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    source = _bvh(tmp_path)
    real = Path.write_bytes

    def full(self: Path, data: bytes) -> int:
        if self.name.startswith(".out.csv."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    err = _one_error(capsys, "convert", source, tmp_path / "out.csv")
    assert f"{tmp_path / 'out.csv'}: No space left on device" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.bvh"]
    with pytest.raises(OSError, match="No space left"):
        atomic.write_text(tmp_path / "out.csv", "x")


def test_json_written_with_nan_fps_in_the_sidecar_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=10), path)
    data = json.loads(sidecar_path(path).read_text())
    data["fps"] = 1e300
    sidecar_path(path).write_text(json.dumps(data))
    with pytest.raises(MocapError, match='"fps": 1e\\+300 fps is outside'):
        read_clip(path, use_cache=False)
