"""BVH reader and writer: any hierarchy and channel order, round trips on every shared file, located errors."""

from __future__ import annotations


import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from maya_tool import presets
from maya_tool import quaternion as quat
from maya_tool.errors import MocapError
from maya_tool.io import bvh, read_clip, write_clip
from tests import synth

ORDERS = ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"]

# A small skeleton with a different Euler order per joint, position channels on
# a non-root joint, interleaved channel kinds, a multi-word name, CRLF line ends
# and tab/space mixes: what files from other exporters look like.
SYNTHETIC = """HIERARCHY
ROOT pelvis
{
  OFFSET 1.0 2.0 3.0
  CHANNELS 6 Xrotation Xposition Yrotation Yposition Zposition Zrotation
  JOINT spine
  {
\tOFFSET 0 10 0
\tCHANNELS 6 Xposition Yposition Zposition Yrotation Xrotation Zrotation
\tJOINT head top
\t{
\t\tOFFSET 0 5 0
\t\tCHANNELS 3 Yrotation Zrotation Xrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 3 0
\t\t}
\t}
  }
  JOINT leg
  {
    OFFSET 2 -1 0
    CHANNELS 2 Zrotation Xrotation
    JOINT foot
    {
      OFFSET 0 -8 1
      CHANNELS 3 zrotation xrotation yrotation
      End Site
      {
        OFFSET 0 0 2
      }
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.0333333
10 0.5 20 1.5 2.5 30   0 0 0 15 -25 35   40 50 60   45 0   5 15 25
-10 0.6 -20 1.6 2.6 -30   0 0 0 -15 25 -35   -40 -50 -60   -45 0   -5 -15 -25
170 0.7 80 1.7 2.7 -170   0 0 0 100 -80 120   89 -89 179   0 0   90 -45 10
"""

FRAME_VALUES = np.array(
    [
        [10, 0.5, 20, 1.5, 2.5, 30, 0, 0, 0, 15, -25, 35, 40, 50, 60, 45, 0, 5, 15, 25],
        [-10, 0.6, -20, 1.6, 2.6, -30, 0, 0, 0, -15, 25, -35, -40, -50, -60, -45, 0, -5, -15, -25],
        [170, 0.7, 80, 1.7, 2.7, -170, 0, 0, 0, 100, -80, 120, 89, -89, 179, 0, 0, 90, -45, 10],
    ],
    dtype=float,
)


def _write(tmp_path, text, name="clip.bvh", crlf=False):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", "\r\n").encode() if crlf else text.encode())
    return path


def _scipy(angles, order):
    return Rotation.from_euler(order, angles, degrees=True).as_quat()


def _assert_same_rotations(a, b, atol=1e-6):
    np.testing.assert_allclose(quat.positive_w(a), quat.positive_w(b), atol=atol)


@pytest.mark.parametrize("crlf", [False, True])
def test_reads_any_channel_order_and_non_root_position_channels(tmp_path, crlf):
    path = _write(tmp_path, SYNTHETIC, crlf=crlf)
    clip = bvh.read_bvh(path)
    sk = clip.skeleton
    assert clip.source["preset"] == "none" and clip.source["scale"] == 1.0
    assert clip.source["dropped_first_frame"] is False
    assert sk.names == ["pelvis", "spine", "head top", "leg", "foot"]
    assert list(sk.parents) == [-1, 0, 1, 0, 3]
    assert clip.num_frames == 3
    assert clip.fps == pytest.approx(30.0)  # .0333333 is 30 fps rounded, not 30.00003
    assert sk.channels[0] == ["Xrotation", "Xposition", "Yrotation", "Yposition", "Zposition", "Zrotation"]
    assert sk.channels[4] == ["Zrotation", "Xrotation", "Yrotation"]  # names normalised
    assert [sk.rotation_order(j) for j in range(5)] == ["XYZ", "YXZ", "YZX", "ZX", "ZXY"]
    # Root: OFFSET folded into the positions, kept as offsets[0].
    np.testing.assert_allclose(sk.offsets[0], [1, 2, 3])
    np.testing.assert_allclose(clip.root_positions, [[1.5, 3.5, 5.5], [1.6, 3.6, 5.6], [1.7, 3.7, 5.7]])
    # Intrinsic rotations in the listed order, per joint.
    expected = {
        0: _scipy(FRAME_VALUES[:, [0, 2, 5]], "XYZ"),
        1: _scipy(FRAME_VALUES[:, [9, 10, 11]], "YXZ"),
        2: _scipy(FRAME_VALUES[:, [12, 13, 14]], "YZX"),
        3: _scipy(FRAME_VALUES[:, [15, 16]], "ZX"),
        4: _scipy(FRAME_VALUES[:, [17, 18, 19]], "ZXY"),
    }
    for j, q in expected.items():
        _assert_same_rotations(clip.rotations[:, j], q, atol=1e-12)
    assert set(sk.end_sites) == {2, 4}
    np.testing.assert_allclose(sk.end_sites[4], [0, 0, 2])


def test_non_root_translation_is_folded_into_the_offset_and_warns_when_animated(tmp_path):
    clip = bvh.read_bvh(_write(tmp_path, SYNTHETIC))
    np.testing.assert_allclose(clip.skeleton.offsets[1], [0, 10, 0])  # zero translation channels
    moving = SYNTHETIC.replace("0 0 0 15 -25 35", "0 1 0 15 -25 35").replace("0 0 0 -15 25 -35", "0 3 0 -15 25 -35")
    moving = moving.replace("0 0 0 100 -80 120", "0 1 0 100 -80 120")
    with pytest.warns(UserWarning, match=r"clip\.bvh: joint 'spine' has animated position channels \(varying by up to 2"):
        clip = bvh.read_bvh(_write(tmp_path, moving))
    np.testing.assert_allclose(clip.skeleton.offsets[1], [0, 11, 0])


def test_scale_converts_offsets_positions_and_end_sites(tmp_path):
    clip = bvh.read_bvh(_write(tmp_path, SYNTHETIC), scale=2.5)
    np.testing.assert_allclose(clip.skeleton.offsets[3], [5.0, -2.5, 0.0])
    np.testing.assert_allclose(clip.root_positions[0], [3.75, 8.75, 13.75])
    np.testing.assert_allclose(clip.skeleton.end_sites[2], [0, 7.5, 0])
    dropped = bvh.read_bvh(_write(tmp_path, SYNTHETIC), drop_first_frame=True)
    assert dropped.num_frames == 2
    np.testing.assert_allclose(dropped.root_positions[0], [1.6, 3.6, 5.6])
    assert dropped.source["dropped_first_frame"] is True


def test_synthetic_round_trip_keeps_layout_values_and_end_sites(tmp_path):
    src = _write(tmp_path, SYNTHETIC)
    clip = bvh.read_bvh(src, scale=2.0)
    out = tmp_path / "out.bvh"
    bvh.write_bvh(clip, out, scale=2.0)  # the file's units come back
    raw = bvh.parse_bvh(out)
    orig = bvh.parse_bvh(src)
    assert raw.names == orig.names and raw.parents == orig.parents and raw.channels == orig.channels
    np.testing.assert_allclose(raw.offsets, orig.offsets, atol=1e-6)
    assert sorted(raw.end_sites) == sorted(orig.end_sites)
    for j in raw.end_sites:
        np.testing.assert_allclose(raw.end_sites[j], orig.end_sites[j], atol=1e-6)
    _assert_same_rotations(raw.rotations(), orig.rotations(), atol=1e-8)
    np.testing.assert_allclose(raw.translations(), orig.translations(), atol=1e-6)
    again = bvh.read_bvh(out, scale=2.0)
    _assert_same_rotations(again.rotations, clip.rotations, atol=1e-8)
    np.testing.assert_allclose(again.root_positions, clip.root_positions, atol=1e-6)
    assert again.fps == clip.fps
    # By default the unit is one the default reader takes back: cm here, not the 2 cm unit read.
    bvh.write_bvh(clip, out)
    default = bvh.read_bvh(out)
    assert default.source["scale"] == 1.0
    np.testing.assert_allclose(default.root_positions, clip.root_positions, atol=1e-6)
    np.testing.assert_allclose(default.skeleton.offsets, clip.skeleton.offsets, atol=1e-6)


def test_writer_refuses_rotations_the_channels_cannot_hold(tmp_path):
    clip = bvh.read_bvh(_write(tmp_path, SYNTHETIC))
    rotations = clip.rotations.copy()
    rotations[:, 3] = quat.from_euler([[0.0, 30.0, 0.0]] * 3, "ZYX")  # 'leg' has only Z and X channels
    bad = clip.copy()
    bad.rotations = rotations
    with pytest.raises(MocapError, match="joint 'leg' has only ZX rotation channels but rotates 30 degrees about Y"):
        bvh.write_bvh(bad, tmp_path / "bad.bvh")
    assert not (tmp_path / "bad.bvh").exists()


def test_write_read_synthetic_cmu_clip_through_io_dispatch(tmp_path, clip):
    path = tmp_path / "walk.bvh"
    write_clip(clip, path)
    # CMU names -> cmu preset, but frame 1 is motion, not the converter's T-pose: kept.
    auto = read_clip(path)
    assert auto.source["preset"] == "cmu" and auto.source["dropped_first_frame"] is False
    assert auto.num_frames == clip.num_frames
    back = read_clip(path, scale=1.0)
    assert back.skeleton.names == clip.skeleton.names
    _assert_same_rotations(back.rotations, clip.rotations, atol=1e-7)
    np.testing.assert_allclose(back.root_positions, clip.root_positions, atol=1e-6)
    np.testing.assert_allclose(back.skeleton.offsets, clip.skeleton.offsets, atol=1e-6)
    assert back.fps == clip.fps
    # Euler curves are continuous: no +-360 jumps between neighbouring frames.
    raw = bvh.parse_bvh(path)
    assert np.max(np.abs(np.diff(raw.motion, axis=0))) < 90.0


def test_writer_is_atomic_and_adds_tips_to_bare_leaves(tmp_path, clip):
    clip.skeleton.end_sites.clear()
    path = tmp_path / "noends.bvh"
    path.write_text("old")
    bvh.write_bvh(clip, path)
    assert [p.name for p in tmp_path.iterdir()] == ["noends.bvh"]
    raw = bvh.parse_bvh(path)
    leaves = [j for j in range(clip.skeleton.num_joints) if j not in clip.skeleton.parents]
    assert sorted(raw.end_sites) == leaves
    assert all(np.allclose(raw.end_sites[j], 0.0) for j in leaves)


# --- the shared CMU files ----------------------------------------------------


def test_round_trip_every_shared_file(cmu_bvh_files, tmp_path):
    """BVH -> Clip -> BVH -> Clip within 1e-6 on all shared files, T-pose kept, file units."""
    worst_angle = worst_pos = worst_raw = 0.0
    for path in cmu_bvh_files:
        raw = bvh.parse_bvh(path)
        clip = bvh.to_clip(raw, scale=1.0, drop_first_frame=False)
        assert clip.source["preset"] == "cmu" and clip.fps == presets.CMU_FPS
        out = tmp_path / "rt.bvh"
        bvh.write_bvh(clip, out, scale=1.0)  # file units, not the CMU units the default would pick for these bones
        raw2 = bvh.parse_bvh(out)
        clip2 = bvh.to_clip(raw2, scale=1.0, drop_first_frame=False)
        assert clip2.num_frames == clip.num_frames == len(raw.motion)
        assert raw2.names == raw.names and raw2.channels == raw.channels and raw2.parents == raw.parents
        np.testing.assert_allclose(raw2.offsets, raw.offsets, atol=1e-6, err_msg=str(path))
        assert sorted(raw2.end_sites) == sorted(raw.end_sites)
        # Both clips hold the channel values converted to quaternions (w >= 0): the file's and the written ones.
        a, b = clip.rotations, clip2.rotations  # up to sign, for rotations near 180 degrees (w ~ 0)
        worst_raw = max(worst_raw, float(np.max(np.minimum(np.abs(a - b).max(-1), np.abs(a + b).max(-1)))))
        worst_angle = max(worst_angle, float(np.max(quat.geodesic_angle(clip.rotations, clip2.rotations))))
        worst_pos = max(worst_pos, float(np.max(np.abs(clip.root_positions - clip2.root_positions))))
        np.testing.assert_allclose(raw2.translations(), raw.translations(), atol=1e-6, err_msg=str(path))
    assert worst_angle < 1e-6
    assert worst_pos < 1e-6
    assert worst_raw < 1e-6


def test_cmu_preset_is_detected_and_applied(cmu_root):
    path = cmu_root / "subjects/07/07_01.bvh"
    raw = bvh.parse_bvh(path)
    clip = bvh.read_bvh(path)
    assert clip.skeleton.names == presets.CMU_JOINT_NAMES
    assert list(clip.skeleton.parents) == presets.CMU_PARENTS
    assert clip.skeleton.name == "cmu"
    assert clip.source == {
        "path": str(path), "format": "bvh", "preset": "cmu", "scale": presets.CMU_SCALE_CM,
        "dropped_first_frame": True, "frame_time": pytest.approx(0.0083333),
    }
    assert clip.num_frames == len(raw.motion) - 1 == 316
    np.testing.assert_allclose(clip.root_positions[0], raw.motion[1, :3] * presets.CMU_SCALE_CM)
    np.testing.assert_allclose(clip.skeleton.offsets[3], raw.offsets[3] * presets.CMU_SCALE_CM)
    assert sorted(clip.skeleton.end_sites) == [5, 10, 16, 22, 23, 29, 30]
    # Explicit arguments override the preset.
    kept = bvh.read_bvh(path, scale=1.0, drop_first_frame=False)
    assert kept.num_frames == 317 and kept.source["preset"] == "cmu"
    assert bvh.starts_with_tpose(raw) and not bvh.starts_with_tpose(bvh.BvhData(
        path="x", names=raw.names, parents=raw.parents, offsets=raw.offsets, channels=raw.channels, motion=raw.motion[1:]))
    plain = bvh.read_bvh(path, preset="none")
    assert plain.num_frames == 317 and plain.source["scale"] == 1.0 and plain.skeleton.name == "07_01"
    with pytest.raises(ValueError, match="unknown preset 'mb'"):
        bvh.read_bvh(path, preset="mb")


@pytest.mark.parametrize("order", ORDERS)
def test_euler_to_quaternion_matches_scipy_on_every_joint_and_frame(cmu_root, order):
    """The real clip's channel triplets, read as each of the six orders."""
    raw = bvh.parse_bvh(cmu_root / "subjects/02/02_01.bvh")
    triplets = []
    for chans, cols in zip(raw.channels, raw.channel_columns()):
        triplets.append(raw.motion[:, [c for name, c in zip(chans, cols) if name.endswith("rotation")]])
    angles = np.stack(triplets, axis=1)  # (F, J, 3)
    assert angles.shape == (len(raw.motion), 31, 3)
    ours = quat.from_euler(angles, order)
    theirs = Rotation.from_euler(order, angles.reshape(-1, 3), degrees=True).as_quat().reshape(ours.shape)
    _assert_same_rotations(ours, theirs, atol=1e-12)
    back = quat.from_euler(quat.to_euler(ours, order), order)
    _assert_same_rotations(back, ours, atol=1e-10)


# --- bad input -----------------------------------------------------------------

GOOD_SMALL = """HIERARCHY
ROOT Hips
{
\tOFFSET 0 0 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
\tJOINT Leg
\t{
\t\tOFFSET 0 -1 0
\t\tCHANNELS 3 Zrotation Yrotation Xrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 -1 0
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.0083333
0 1 2 3 4 5 6 7 8
0 1 2 3 4 5 6 7 8
"""


def _error(tmp_path, text, **kwargs) -> MocapError:
    path = _write(tmp_path, text, name="bad.bvh")
    with pytest.raises(MocapError) as info:
        bvh.read_bvh(path, **kwargs)
    assert info.value.path == str(path)
    return info.value


def test_good_small_file_reads(tmp_path):
    clip = bvh.read_bvh(_write(tmp_path, GOOD_SMALL))
    assert clip.num_frames == 2 and clip.fps == 120.0


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.bvh"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_SMALL.encode())
    clip = bvh.read_bvh(path)
    assert clip.num_frames == 2 and clip.fps == 120.0


def test_empty_file(tmp_path):
    err = _error(tmp_path, "")
    assert err.row == 1 and "empty file" in err.reason
    err = _error(tmp_path, "  \n\n")
    assert "empty file" in err.reason


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(MocapError, match="cannot read file") as info:
        bvh.read_bvh(tmp_path / "nope.bvh")
    assert info.value.path.endswith("nope.bvh")


def test_too_few_numbers_names_frame_line_and_counts(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.replace("0 1 2 3 4 5 6 7 8\n", "0 1 2 3 4 5 6 7 8\n0 1 2 3 4 5 6\n", 1)
                 .replace("Frames: 2", "Frames: 3"))
    assert err.row == 20 and err.column == 8
    assert err.reason == "frame 2 has 7 numbers, expected 9 (the channels of 2 joints)"
    assert str(err).endswith("bad.bvh, row 20, column 8: frame 2 has 7 numbers, expected 9 (the channels of 2 joints)")


def test_too_many_numbers(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.replace("0 1 2 3 4 5 6 7 8\n", "0 1 2 3 4 5 6 7 8 9\n", 1))
    assert err.row == 19 and "frame 1 has 10 numbers, expected 9" in err.reason


def test_non_numeric_value_names_frame_line_column_and_channel(tmp_path):
    text = GOOD_SMALL.rsplit("0 1 2 3 4 5 6 7 8\n", 1)[0] + "0 1 2 3 4 5 6 x7 8\n"
    err = _error(tmp_path, text)
    assert (err.row, err.column) == (20, 8)
    assert err.reason == "non-numeric value 'x7' in frame 2 at channel 8 of 9 (Leg.Yrotation): expected a finite number"


@pytest.mark.parametrize("bad", ["nan", "inf", "-Infinity"])
def test_non_finite_values_are_rejected(tmp_path, bad):
    err = _error(tmp_path, GOOD_SMALL.replace("0 1 2 3 4 5 6 7 8\n", f"0 1 {bad} 3 4 5 6 7 8\n", 1))
    assert (err.row, err.column) == (19, 3)
    assert f"non-finite value '{bad}' in frame 1 at channel 3 of 9 (Hips.Zposition)" in err.reason


def test_frames_count_differs_from_lines(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.replace("Frames: 2", "Frames: 5"))
    assert err.row == 17
    assert err.reason == "'Frames: 5' but the MOTION block has 2 frame lines (lines 19-20)"
    err = _error(tmp_path, GOOD_SMALL.replace("Frames: 2", "Frames: 1"))
    assert "'Frames: 1' but the MOTION block has 2 frame lines" in err.reason


def test_trailing_blank_lines_and_spaces_are_fine(tmp_path):
    clip = bvh.read_bvh(_write(tmp_path, GOOD_SMALL.replace("7 8\n", "7 8   \n") + "\n\n  \n"))
    assert clip.num_frames == 2


@pytest.mark.parametrize(
    "old, new, row, message",
    [
        ("Frames: 2\n", "", 17, "expected 'Frames: N', found 'Frame Time: 0.0083333'"),
        ("Frame Time: 0.0083333\n", "", 18, "expected 'Frame Time: SECONDS', found '0 1 2 3 4 5 6 7 8'"),
        ("Frames: 2", "Frames: two", 17, "'Frames: two': expected a whole number of frames"),
        ("Frame Time: 0.0083333", "Frame Time: 0", 18, "'Frame Time: 0': expected a positive number of seconds"),
    ],
)
def test_missing_or_bad_motion_header(tmp_path, old, new, row, message):
    err = _error(tmp_path, GOOD_SMALL.replace(old, new))
    assert err.row == row and err.reason == message


def test_missing_motion_block(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.split("MOTION")[0])
    assert "missing MOTION block" in err.reason


def test_motion_block_ends_early(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.split("Frame Time")[0])
    assert err.reason == "missing 'Frame Time: SECONDS' after MOTION" and err.row == 17


@pytest.mark.parametrize(
    "old, new, row, column, message",
    [
        ("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 3 Zrotation Wrotation Xrotation", 9, 24,
         "unknown channel 'Wrotation' for joint 'Leg' (CHANNELS 3): expected Xposition, Yposition, Zposition, "
         "Xrotation, Yrotation or Zrotation"),
        ("CHANNELS 3 Zrotation Yrotation Xrotation", "CHANNELS 3 Zrotation Zrotation Xrotation", 9, 24,
         "channel Zrotation listed twice for joint 'Leg': an Euler order needs three distinct axes"),
        ("CHANNELS 3 Zrotation", "CHANNELS x Zrotation", 9, 12, "expected a channel count after CHANNELS, found 'x'"),
        ("OFFSET 0 -1 0\n\t\tCHANNELS", "OFFSET 0 -1 zero\n\t\tCHANNELS", 8, 15,
         "expected a number for OFFSET of 'Leg', found 'zero'"),
        ("\tJOINT Leg", "\tJIONT Leg", 6, 2,
         "unexpected 'JIONT' in joint 'Hips': expected OFFSET, CHANNELS, JOINT, End Site or '}'"),
        ("HIERARCHY", "HIERARCHIE", 1, 1, "expected 'HIERARCHY', found 'HIERARCHIE'"),
    ],
)
def test_bad_hierarchy_is_located(tmp_path, old, new, row, column, message):
    assert old in GOOD_SMALL
    err = _error(tmp_path, GOOD_SMALL.replace(old, new, 1))
    assert (err.row, err.column) == (row, column)
    assert err.reason == message


def test_truncated_hierarchy(tmp_path):
    err = _error(tmp_path, GOOD_SMALL.split("\tJOINT Leg")[0])
    assert "unexpected end of the hierarchy" in err.reason and err.row == 5


def test_drop_first_frame_of_a_single_frame_file(tmp_path):
    text = GOOD_SMALL.replace("Frames: 2", "Frames: 1").rsplit("0 1 2 3 4 5 6 7 8\n", 1)[0]
    err = _error(tmp_path, text, drop_first_frame=True)
    assert "dropping the first (T-pose) frame would leave none" in err.reason


def test_writer_scale_and_precision(tmp_path):
    clip = synth.smooth_clip(frames=5)
    path = tmp_path / "s.bvh"
    bvh.write_bvh(clip, path, scale=10.0, precision=3)
    raw = bvh.parse_bvh(path)
    np.testing.assert_allclose(raw.offsets[1:] * 10.0, clip.skeleton.offsets[1:], atol=5e-3 * 10)
    first = path.read_text().split("Frame Time:")[1].splitlines()[1].split()
    assert all(len(v.split(".")[1]) == 3 for v in first)
