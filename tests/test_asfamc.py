"""ASF/AMC reader: the Acclaim convention, agreement with the BVH conversion of CMU data, located errors.

There is no take available both as AMC and as BVH, so the claim "an AMC clip
and the BVH conversion of the same take give the same quaternions" is shown
three ways: (a) a textbook Acclaim forward kinematics, written here in its own
row-vector form, gives the same joint positions as the converted clip; (b) on
real walks, the joint rotation axes and rest offsets of subject 35 (AMC) match
those of subjects 07/08 (BVH), and the plausible wrong conventions do not;
(c) a small ASF/AMC pair and the BVH built from it by hand read to the same clip.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from maya_tool import presets
from maya_tool import quaternion as quat
from maya_tool.clip import Clip
from maya_tool.errors import MocapError
from maya_tool.io import asfamc, bvh, read_clip
from maya_tool.kinematics import end_site_positions, global_transforms

# --- (c) a synthetic pair, with the BVH equivalent written by hand ------------------

SYNTH_ASF = """# hand-made skeleton: comments, odd spacing, radians
:version 1.10
:name synth
:units
  mass 1.0
  length 0.5
  angle rad
:documentation
   made by hand; the BVH below is its equivalent
:root
   order RX RY RZ TX TY TZ
   axis XYZ
   position 0 1 0
   orientation 0 0 0
:bonedata
  begin
     id 1
     name upper
     direction 1 0 0
     length 2
     axis 0 0 1.5707963267948966  XYZ   # C = Rz(90 deg): rx turns about world Y
    dof rx
    limits (-180.0 180.0)
  end
  begin
\tid 2
\tname lower
\tdirection 0 -1 0
\tlength 1
\taxis 0 0 0 XYZ
\tdof rz ry
\tlimits (-180.0 180.0)
\t       (-180.0 180.0)
  end
:hierarchy
  begin
    root upper
    upper lower
  end
"""

SYNTH_AMC = """# frames 1 and 2; frame 2 leaves out 'lower' (dofs = 0)
:FULLY-SPECIFIED
:DEGREES
1
root 10 20 30 0.5 0.25 -0.5
upper 40
lower 15 -35
2
root -5 0 12 1.5 0.5 0
upper -20
"""

# Extrinsic "rx ry rz" is intrinsic "Z Y X"; extrinsic "rz ry" is intrinsic "Y Z";
# C M C^-1 with C = Rz(90) turns the rx of 'upper' into a rotation about Y.
SYNTH_BVH = """HIERARCHY
ROOT root
{
\tOFFSET 0 1 0
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation
\tJOINT upper
\t{
\t\tOFFSET 0 0 0
\t\tCHANNELS 1 Yrotation
\t\tJOINT lower
\t\t{
\t\t\tOFFSET 2 0 0
\t\t\tCHANNELS 2 Yrotation Zrotation
\t\t\tEnd Site
\t\t\t{
\t\t\t\tOFFSET 0 -1 0
\t\t\t}
\t\t}
\t}
}
MOTION
Frames: 2
Frame Time: 0.0083333
0.5 0.25 -0.5 30 20 10 40 -35 15
1.5 0.5 0 12 0 -5 -20 0 0
"""


def _pair(folder, asf_text=SYNTH_ASF, amc_text=SYNTH_AMC, crlf=False):
    folder.mkdir(parents=True, exist_ok=True)

    def put(name, text):
        path = folder / name
        path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
        return path

    return put("synth.asf", asf_text), put("synth_01.amc", amc_text)


@pytest.mark.parametrize("crlf", [False, True])
def test_synthetic_pair_equals_its_hand_written_bvh(tmp_path, crlf):
    asf_path, amc_path = _pair(tmp_path, crlf=crlf)
    asf = asfamc.read_asf(asf_path)
    assert asf.preset == "none" and asf.angle_unit == "rad" and asf.length_unit == 0.5
    assert asf.scale == pytest.approx(2.54 / 0.5)
    clip = asfamc.read_amc_clip(amc_path)  # finds synth.asf beside synth_01.amc
    (tmp_path / "hand.bvh").write_text(SYNTH_BVH)
    hand = bvh.read_bvh(tmp_path / "hand.bvh", scale=asf.scale)
    assert clip.skeleton.names == hand.skeleton.names == ["root", "upper", "lower"]
    assert list(clip.skeleton.parents) == list(hand.skeleton.parents)
    np.testing.assert_allclose(clip.skeleton.offsets, hand.skeleton.offsets, atol=1e-12)
    assert sorted(clip.skeleton.end_sites) == sorted(hand.skeleton.end_sites) == [2]
    np.testing.assert_allclose(clip.skeleton.end_sites[2], hand.skeleton.end_sites[2], atol=1e-12)
    np.testing.assert_allclose(clip.rotations, hand.rotations, atol=1e-12)
    np.testing.assert_allclose(clip.root_positions, hand.root_positions, atol=1e-12)
    assert clip.fps == 120.0 and clip.source["format"] == "amc" and clip.source["asf"] == str(asf_path)


def test_synthetic_pair_through_read_clip_and_back_to_bvh(tmp_path):
    asf_path, amc_path = _pair(tmp_path)
    clip = read_clip(amc_path, fps=60.0)
    assert clip.fps == 60.0
    out = tmp_path / "out.bvh"
    bvh.write_bvh(clip, out)  # in cm, the unit the default reader takes for these names
    back = bvh.read_bvh(out)
    np.testing.assert_allclose(quat.positive_w(back.rotations), clip.rotations, atol=1e-7)
    np.testing.assert_allclose(back.root_positions, clip.root_positions, atol=1e-5)
    np.testing.assert_allclose(back.skeleton.offsets, clip.skeleton.offsets, atol=1e-5)


def test_utf8_byte_order_marks_are_ignored(tmp_path):
    asf_path, amc_path = _pair(tmp_path)
    expected = asfamc.read_amc_clip(amc_path)
    for path in (asf_path, amc_path):
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    clip = asfamc.read_amc_clip(amc_path)
    assert clip.skeleton.names == expected.skeleton.names
    np.testing.assert_allclose(clip.rotations, expected.rotations, atol=0)
    np.testing.assert_allclose(clip.root_positions, expected.root_positions, atol=0)


def test_degrees_in_asf_and_radians_in_amc(tmp_path):
    asf_text = SYNTH_ASF.replace("angle rad", "angle deg").replace("1.5707963267948966", "90")
    amc_text = SYNTH_AMC.replace(":DEGREES", ":RADIANS")
    amc_text = re.sub(r"^(upper) (\S+)$", lambda m: f"upper {math.radians(float(m.group(2)))!r}", amc_text, flags=re.M)
    amc_text = re.sub(r"^(lower) (\S+) (\S+)$", lambda m: "lower " + " ".join(
        repr(math.radians(float(v))) for v in m.groups()[1:]), amc_text, flags=re.M)
    amc_text = re.sub(r"^root (\S+) (\S+) (\S+) (.*)$", lambda m: "root " + " ".join(
        repr(math.radians(float(v))) for v in m.groups()[:3]) + " " + m.group(4), amc_text, flags=re.M)
    asf_path, amc_path = _pair(tmp_path, asf_text, amc_text)
    radians = asfamc.read_amc_clip(amc_path)
    assert radians.source["degrees"] is False
    _, ref_amc = _pair(tmp_path / "ref")
    np.testing.assert_allclose(radians.rotations, asfamc.read_amc_clip(ref_amc).rotations, atol=1e-12)


def test_missing_bones_in_a_frame_are_zero_and_translation_dofs_warn(tmp_path):
    asf_text = SYNTH_ASF.replace("\tdof rz ry", "\tdof rz ry l")
    amc_text = SYNTH_AMC.replace("lower 15 -35", "lower 15 -35 0.2")
    asf_path, amc_path = _pair(tmp_path, asf_text, amc_text)
    with pytest.warns(UserWarning, match=r"synth_01\.amc: bone 'lower' has translation/length dofs \(l\)"):
        clip = asfamc.read_amc_clip(amc_path)
    np.testing.assert_allclose(clip.rotations[1, 2], [0, 0, 0, 1])


def test_scale_override_and_rescaled_skeleton(tmp_path):
    asf_path, amc_path = _pair(tmp_path)
    asf = asfamc.read_asf(asf_path, scale=1.0)
    clip = asfamc.read_amc_clip(amc_path, asf=asf)
    np.testing.assert_allclose(clip.skeleton.offsets[2], [2, 0, 0])
    np.testing.assert_allclose(clip.root_positions[0], [0.5, 1.25, -0.5])
    bigger = asfamc.read_amc_clip(amc_path, asf=asf, scale=10.0)
    np.testing.assert_allclose(bigger.skeleton.offsets[2], [20, 0, 0])
    np.testing.assert_allclose(bigger.root_positions[0], [5.0, 12.5, -5.0])


def test_bonedata_out_of_parent_order_is_reordered(tmp_path):
    block = SYNTH_ASF.split(":bonedata\n")[1].split(":hierarchy")[0]
    upper, lower = block.split("  end\n")[:2]
    asf_text = SYNTH_ASF.replace(block, lower + "  end\n" + upper + "  end\n")
    asf_path, amc_path = _pair(tmp_path, asf_text)
    clip = asfamc.read_amc_clip(amc_path)
    assert clip.skeleton.names == ["root", "upper", "lower"]
    _, amc_path = _pair(tmp_path / "ok")
    np.testing.assert_allclose(clip.rotations, asfamc.read_amc_clip(amc_path).rotations)


# --- bad input ---------------------------------------------------------------------


def _asf_error(tmp_path, asf_text) -> MocapError:
    asf_path, _ = _pair(tmp_path, asf_text)
    with pytest.raises(MocapError) as info:
        asfamc.read_asf(asf_path)
    assert info.value.path == str(asf_path)
    return info.value


def _amc_error(tmp_path, amc_text) -> MocapError:
    _, amc_path = _pair(tmp_path, amc_text=amc_text)
    with pytest.raises(MocapError) as info:
        asfamc.read_amc_clip(amc_path)
    assert info.value.path == str(amc_path)
    return info.value


def test_amc_bone_missing_from_asf_is_named_with_its_line(tmp_path):
    err = _amc_error(tmp_path, SYNTH_AMC.replace("upper -20", "elbow -20"))
    assert (err.row, err.column) == (10, 1)
    assert err.reason.startswith("bone 'elbow' is not in the skeleton ") and err.reason.endswith("synth.asf")


def test_amc_wrong_number_of_values(tmp_path):
    err = _amc_error(tmp_path, SYNTH_AMC.replace("lower 15 -35", "lower 15"))
    assert err.row == 7 and err.reason == "bone 'lower' has 1 values in frame 1, expected 2 (dof rz ry)"
    err = _amc_error(tmp_path, SYNTH_AMC.replace("upper 40", "upper 40 7"))
    assert (err.row, err.column) == (6, 10) and "has 2 values in frame 1, expected 1 (dof rx)" in err.reason


@pytest.mark.parametrize("bad, reason", [("x15", "non-numeric"), ("nan", "non-finite"), ("inf", "non-finite")])
def test_amc_bad_numbers(tmp_path, bad, reason):
    err = _amc_error(tmp_path, SYNTH_AMC.replace("lower 15 -35", f"lower {bad} -35"))
    assert (err.row, err.column) == (7, 7)
    assert err.reason == f"{reason} value '{bad}' for bone 'lower' dof rz in frame 1: expected a finite number"


def test_amc_structure_errors(tmp_path):
    err = _amc_error(tmp_path, SYNTH_AMC.replace("\n2\n", "\n4\n"))
    assert err.row == 8 and err.reason == "frame number 4 after frame 1: expected 2"
    err = _amc_error(tmp_path, SYNTH_AMC.replace("\n1\n", "\n"))
    assert err.row == 4 and err.reason == "bone 'root' before the first frame number"
    err = _amc_error(tmp_path, SYNTH_AMC.replace("upper 40\n", "upper 40\nupper 41\n"))
    assert err.row == 7 and "bone 'upper' appears twice in frame 1" in err.reason
    err = _amc_error(tmp_path, ":FULLY-SPECIFIED\n:DEGREES\n")
    assert err.reason.startswith("no frames")


def test_asf_missing_bonedata(tmp_path):
    text = SYNTH_ASF.split(":bonedata")[0] + ":hierarchy\n  begin\n    root upper\n  end\n"
    err = _asf_error(tmp_path, text)
    assert err.reason == "missing :bonedata section: an ASF file lists its bones there"


@pytest.mark.parametrize(
    "old, new, row, column, message",
    [
        ("length 0.5", "length abc", 6, 10, "unreadable units: length 'abc': expected a positive number"),
        ("length 0.5", "length -2", 6, 10, "unreadable units: length '-2': expected a positive number"),
        ("angle rad", "angle grad", 7, 9, "unreadable units: angle 'grad': expected deg or rad"),
        ("angle rad", "angle", 7, 3, "unreadable units: 'angle' without a value"),
        ("1.5707963267948966  XYZ", "1.5707963267948966  XYQ", 21, 35,
         "unknown Euler order 'XYQ' for bone axis: expected three distinct axes such as XYZ"),
        ("   axis XYZ", "   axis XXZ", 12, 9,
         "unknown Euler order 'XXZ' for the root (:root axis): expected three distinct axes such as XYZ"),
        ("    dof rx", "    dof rw", 22, 9, "unknown dof 'rw' for bone: expected rx, ry, rz, tx, ty, tz, l"),
        ("order RX RY RZ", "order RX RY RQ", 11, 16, "unknown dof 'RQ' for the root (:root order): expected RX, RY, RZ, TX, TY, TZ"),
        ("     direction 1 0 0", "     direction 1 0", 19, 19, "bone direction needs 3 numbers, found 2"),
        ("     length 2", "     length two", 20, 13, "expected a number for bone length, found 'two'"),
        ("    upper lower", "    upper lowr", 38, 11, ":hierarchy names bone 'lowr', which :bonedata does not define"),
    ],
)
def test_asf_errors_are_located(tmp_path, old, new, row, column, message):
    assert old in SYNTH_ASF
    err = _asf_error(tmp_path, SYNTH_ASF.replace(old, new, 1))
    assert (err.row, err.column) == (row, column)
    assert err.reason == message


def test_asf_bone_without_parent_and_empty_files(tmp_path):
    err = _asf_error(tmp_path, SYNTH_ASF.replace("    upper lower\n", ""))
    assert err.reason == "bone 'lower' is in :bonedata but has no parent in :hierarchy" and err.row == 25
    err = _asf_error(tmp_path, "# only a comment\n\n")
    assert err.row == 1 and err.reason.startswith("empty file")
    err = _amc_error(tmp_path, "")
    assert err.reason.startswith("no frames")


def test_missing_asf_is_reported(tmp_path):
    amc = tmp_path / "77_01.amc"
    amc.write_text(SYNTH_AMC)
    with pytest.raises(MocapError, match=r"no \.asf skeleton beside the AMC \(looked for 77\.asf\): pass asf="):
        asfamc.read_amc_clip(amc)


# --- (a) and (b): the real subject 35 ------------------------------------------------


@pytest.fixture(scope="module")
def amc35(cmu_root) -> Clip:
    return asfamc.read_amc_clip(cmu_root / "subjects/35/35_01.amc")


@pytest.fixture(scope="module")
def bvh_walks(cmu_root) -> list[Clip]:
    return [bvh.read_bvh(cmu_root / f"subjects/{name}.bvh") for name in ("07/07_01", "07/07_02", "08/08_01", "08/08_02")]


def test_subject35_layout_matches_the_cmu_bvh(cmu_root, amc35):
    asf = asfamc.read_asf(cmu_root / "subjects/35/35.asf")
    assert asf.preset == "cmu" and asf.scale == presets.CMU_SCALE_CM and asf.angle_unit == "deg"
    assert asf.skeleton.names == presets.CMU_JOINT_NAMES
    assert [b.name for b in asf.bones] == [presets.CMU_BVH_TO_ASF[n] for n in presets.CMU_JOINT_NAMES]
    assert list(asf.skeleton.parents) == presets.CMU_PARENTS
    femur = asf.bone("lfemur")
    assert femur.joint == "LeftUpLeg" and femur.dofs == ["rx", "ry", "rz"] and femur.axis_order == "XYZ"
    np.testing.assert_allclose(np.rad2deg(femur.axis), [0, 0, 20])
    assert asf.bone("lhipjoint").dofs == [] and asf.num_dofs == 62
    assert amc35.num_frames == 358 and amc35.fps == 120.0
    assert amc35.skeleton.names == presets.CMU_JOINT_NAMES
    assert amc35.source["preset"] == "cmu" and amc35.source["first_frame"] == 1
    # Joints without dofs keep the identity; the hip joints are absent from every AMC frame.
    np.testing.assert_allclose(amc35.rotations[:, amc35.skeleton.index("LHipJoint")], quat.identity((358,)))
    keep = asfamc.read_asf(cmu_root / "subjects/35/35.asf", preset="none")
    assert keep.skeleton.names[2] == "lfemur" and keep.scale == pytest.approx(2.54 / 0.45)


def _parse_asf_textbook(path):
    """A deliberately separate, minimal ASF reader for the textbook check."""
    bones, parents, root = {}, {}, {}
    section, current = None, None
    for line in open(path, encoding="latin-1").read().splitlines():
        words = line.split("#")[0].split()
        if not words:
            continue
        if words[0].startswith(":"):
            section = words[0]
            continue
        if section == ":units" and words[0] == "angle":
            root["deg"] = words[1] == "deg"
        elif section == ":root":
            root[words[0]] = words[1:]
        elif section == ":bonedata":
            if words[0] == "begin":
                current = {"dof": []}
            elif words[0] == "end":
                bones[current["name"]] = current
            elif words[0] == "name":
                current["name"] = words[1]
            elif words[0] in ("direction", "length", "axis", "dof"):
                current[words[0]] = words[1:]
        elif section == ":hierarchy" and words[0] not in ("begin", "end"):
            for child in words[1:]:
                parents[child] = words[0]
    return bones, parents, root


def _row_rotation(axis, angle):
    """Row-vector rotation (v' = v @ R) about a coordinate axis."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(angle), np.zeros_like(angle)
    rows = {
        "x": [[one, zero, zero], [zero, c, s], [zero, -s, c]],
        "y": [[c, zero, -s], [zero, one, zero], [s, zero, c]],
        "z": [[c, s, zero], [-s, c, zero], [zero, zero, one]],
    }[axis]
    return np.moveaxis(np.array(rows, dtype=np.float64), (0, 1), (-2, -1))


def _homogeneous(rotation=None, translation=None, frames=1):
    m = np.tile(np.eye(4), (frames, 1, 1))
    if rotation is not None:
        m[:, :3, :3] = rotation
    if translation is not None:
        m[:, 3, :3] = translation
    return m


def test_textbook_acclaim_forward_kinematics_matches_the_converted_clip(cmu_root, amc35):
    """(a) L = C^-1 M C B per bone, row vectors, multiplied out to the root: same positions, every frame."""
    bones, parents, root = _parse_asf_textbook(cmu_root / "subjects/35/35.asf")
    to_rad = np.pi / 180.0 if root.get("deg", True) else 1.0
    frames: list[dict[str, list[float]]] = []
    for line in (cmu_root / "subjects/35/35_01.amc").read_text().splitlines():
        words = line.split()
        if not words or words[0][0] in "#:":
            continue
        if len(words) == 1:
            frames.append({})
        else:
            frames[-1][words[0]] = [float(v) for v in words[1:]]
    count = len(frames)
    scale = presets.CMU_SCALE_CM

    def euler_row(angles_deg, axes):
        m = np.tile(np.eye(3), (len(np.atleast_2d(angles_deg)), 1, 1))
        for k, axis in enumerate(axes):  # applied in the listed order: v @ R1 @ R2 @ R3
            m = m @ _row_rotation(axis, np.asarray(angles_deg)[..., k] * to_rad)
        return m

    world: dict[str, np.ndarray] = {}
    root_order = [w.lower() for w in root["order"]]
    values = np.array([f["root"] for f in frames])
    rot_axes = [d[1] for d in root_order if d[0] == "r"]
    m_root = euler_row(values[:, [i for i, d in enumerate(root_order) if d[0] == "r"]], rot_axes)
    c_root = euler_row(np.array([[float(v) for v in root["orientation"]]]), root["axis"][0].lower())
    translation = np.zeros((count, 3))
    for i, d in enumerate(root_order):
        if d[0] == "t":
            translation[:, "xyz".index(d[1])] = values[:, i]
    translation += np.array([float(v) for v in root["position"]])
    world["root"] = _homogeneous(np.swapaxes(c_root, -1, -2) @ m_root @ c_root, translation, count)
    tips: dict[str, np.ndarray] = {}
    for name in [presets.CMU_BVH_TO_ASF[n] for n in presets.CMU_JOINT_NAMES[1:]]:
        bone = bones[name]
        parent = parents[name]
        axis_values = [float(v) for v in bone["axis"][:3]]
        c = euler_row(np.array([axis_values]), bone["axis"][3].lower())
        dofs = bone["dof"]
        motion = np.array([f.get(name, [0.0] * len(dofs)) for f in frames]) if dofs else np.zeros((count, 0))
        m = euler_row(motion, [d[1] for d in dofs]) if dofs else np.tile(np.eye(3), (count, 1, 1))
        b = np.zeros(3) if parent == "root" else (
            np.array([float(v) for v in bones[parent]["direction"]]) * float(bones[parent]["length"][0])
        )
        local = _homogeneous(np.swapaxes(c, -1, -2) @ m @ c, b, count)
        world[name] = local @ world[parent]
        tip = np.array([float(v) for v in bone["direction"]]) * float(bone["length"][0])
        tips[name] = (np.append(tip, 1.0) @ world[name])[:, :3]

    positions, world_rot = global_transforms(amc35.skeleton, amc35.root_positions, amc35.rotations)
    for j, joint in enumerate(presets.CMU_JOINT_NAMES):
        expected = world[presets.CMU_BVH_TO_ASF[joint]][:, 3, :3] * scale
        np.testing.assert_allclose(positions[:, j], expected, atol=1e-6, err_msg=joint)
    ends = end_site_positions(amc35.skeleton, positions, world_rot)
    for k, j in enumerate(sorted(amc35.skeleton.end_sites)):
        expected = tips[presets.CMU_BVH_TO_ASF[amc35.skeleton.names[j]]] * scale
        np.testing.assert_allclose(ends[:, k], expected, atol=1e-6)
    # World orientation too: the textbook's rotation block is our world rotation, transposed.
    for joint in ("LeftFoot", "RightHand", "Head"):
        rows = world[presets.CMU_BVH_TO_ASF[joint]][:, :3, :3]
        ours = quat.to_matrix(world_rot[:, amc35.skeleton.index(joint)])
        np.testing.assert_allclose(np.swapaxes(rows, -1, -2), ours, atol=1e-9)


def _dominant_axis(rotations: np.ndarray) -> np.ndarray:
    """Main direction of the quaternion vector parts (w >= 0), signed along the motion's mean."""
    v = quat.positive_w(rotations)[:, :3]
    axis = np.linalg.svd(v, full_matrices=False)[2][0]
    return axis if float(np.sum(v @ axis)) >= 0 else -axis


def _swing_axis(rotations: np.ndarray) -> np.ndarray:
    """Main rotation axis of the motion around its mean pose (for 3-dof joints such as the hip)."""
    mean = quat.normalize(np.mean(quat.positive_w(rotations), axis=0))
    rel = quat.positive_w(quat.multiply(rotations, quat.conjugate(mean)))
    return np.linalg.svd(rel[:, :3], full_matrices=False)[2][0]


HINGES = ["LeftLeg", "RightLeg", "LeftForeArm", "RightForeArm"]
"""Knees and elbows: one dof, flexion one way, so axis and sign must agree."""


def _axes_agree(amc: Clip, walks: list[Clip]) -> dict[str, float]:
    worst: dict[str, float] = {}
    for joint in HINGES:
        a = _dominant_axis(amc.rotations[:, amc.skeleton.index(joint)])
        worst[joint] = min(float(a @ _dominant_axis(w.rotations[:, w.skeleton.index(joint)])) for w in walks)
    for joint in ("LeftUpLeg", "RightUpLeg", "LeftToeBase", "RightToeBase"):
        a = _swing_axis(amc.rotations[:, amc.skeleton.index(joint)])
        worst[joint] = min(abs(float(a @ _swing_axis(w.rotations[:, w.skeleton.index(joint)]))) for w in walks)
    return worst


def test_rotation_axes_agree_with_the_bvh_walks(amc35, bvh_walks):
    """(b) Knees, elbows (signed), hips and toes: the AMC's axes are the BVH conversion's axes."""
    worst = _axes_agree(amc35, bvh_walks)
    assert all(v > 0.9 for v in worst.values()), worst
    # The knee and elbow axes are not coordinate axes (ASF axis 0 0 20, 180 -30 -90): exact agreement.
    assert all(worst[j] > 0.999 for j in HINGES), worst


def convert_with_convention(cmu_root, convention: str) -> Clip:
    """Subject 35 converted with a wrong convention, to show the checks would catch it.

    ``convention``: "C M C^-1" (the right one), "C^-1 M C", "intrinsic C"
    (axis angles composed about moving axes), "intrinsic M" (same for the
    dof values), "M only" (axis ignored) or "radians" (degrees read as radians).
    """
    asf = asfamc.read_asf(cmu_root / "subjects/35/35.asf")
    motion = asfamc.parse_amc(cmu_root / "subjects/35/35_01.amc", asf)
    frames = len(motion.values)
    rotations = quat.identity((frames, len(asf.bones)))
    for j, bone in enumerate(asf.bones):
        cols = [c for d, c in zip(bone.dofs, motion.columns[j]) if d[0] == "r"]
        order = bone.rotation_order
        m = quat.from_euler(motion.values[:, cols], order if convention == "intrinsic M" else order.lower(),
                            degrees=convention != "radians") if cols else quat.identity((frames,))
        c = quat.from_euler(bone.axis, bone.axis_order, degrees=False) if convention == "intrinsic C" else bone.axis_rotation
        if convention == "C^-1 M C":
            rotations[:, j] = quat.multiply(quat.multiply(quat.conjugate(c), m), c)
        elif convention == "M only":
            rotations[:, j] = m
        else:
            rotations[:, j] = quat.multiply(quat.multiply(c, m), quat.conjugate(c))
    return Clip(asf.skeleton, 120.0, asf.skeleton.offsets[0] + motion.values[:, :3] * asf.scale, rotations)


def test_the_axis_check_rejects_wrong_conventions(cmu_root, amc35, bvh_walks):
    same = convert_with_convention(cmu_root, "C M C^-1")
    np.testing.assert_allclose(same.rotations, amc35.rotations, atol=1e-12)
    for convention in ("C^-1 M C", "intrinsic C", "M only"):
        worst = _axes_agree(convert_with_convention(cmu_root, convention), bvh_walks)
        assert min(worst[j] for j in HINGES) < 0.9, (convention, worst)


def test_rest_offsets_agree_with_the_bvh_skeletons(amc35, bvh_walks):
    """(b) Long bones point the same way (cos > 0.95) and are within 15% long (different people)."""
    compared = 0
    for walk in bvh_walks:
        for j, joint in enumerate(presets.CMU_JOINT_NAMES[1:], start=1):
            a, b = amc35.skeleton.offsets[j], walk.skeleton.offsets[j]
            la, lb = np.linalg.norm(a), np.linalg.norm(b)
            if min(la, lb) < 14.0:  # short, or collapsed in the MotionBuilder conversion (neck, hands, toes)
                continue
            compared += 1
            assert float(a @ b) / (la * lb) > 0.95, joint
            assert abs(la - lb) / lb < 0.15, (joint, la, lb)
    assert compared >= 4 * 12
    for j in amc35.skeleton.end_sites:
        a, b = amc35.skeleton.end_sites[j], bvh_walks[0].skeleton.end_sites[j]
        assert float(a @ b) / (np.linalg.norm(a) * np.linalg.norm(b)) > 0.95, amc35.skeleton.names[j]


def test_amc_clip_writes_as_cmu_bvh(tmp_path, amc35):
    out = tmp_path / "35_01.bvh"
    bvh.write_bvh(amc35, out)
    back = bvh.read_bvh(out, drop_first_frame=False)
    assert back.source["preset"] == "cmu" and back.skeleton.names == amc35.skeleton.names
    np.testing.assert_allclose(quat.geodesic_angle(back.rotations, amc35.rotations), 0.0, atol=1e-6)
    np.testing.assert_allclose(back.root_positions, amc35.root_positions, atol=1e-4)
    np.testing.assert_allclose(back.skeleton.offsets, amc35.skeleton.offsets, atol=1e-4)
