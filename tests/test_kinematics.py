"""Forward kinematics on synthetic and real clips: bone lengths, standing heights, a plausible AMC walk.

The height and foot checks are tight enough to fail for the plausible wrong
readings of the Acclaim files (C^-1 M C, intrinsic dof angles, ignoring the
bone axes, degrees read as radians); the one they cannot see (axis angles
composed about moving axes) is caught by the rotation-axis check in
``test_asfamc.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from maya_tool import kinematics, presets
from maya_tool import quaternion as quat
from maya_tool.clip import Clip
from maya_tool.io import asfamc, bvh
from maya_tool.skeleton import Skeleton, chain_length
from tests import synth
from tests.test_asfamc import convert_with_convention

# --- synthetic ----------------------------------------------------------------------


def _matrix_fk(skeleton: Skeleton, root_positions: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Plain 4x4 column-vector transforms, as a reference for the quaternion pass."""
    frames = len(rotations)
    world = np.zeros((frames, skeleton.num_joints, 4, 4))
    for j in range(skeleton.num_joints):
        local = np.tile(np.eye(4), (frames, 1, 1))
        local[:, :3, :3] = quat.to_matrix(rotations[:, j])
        local[:, :3, 3] = root_positions if j == 0 else skeleton.offsets[j]
        world[:, j] = local if j == 0 else world[:, skeleton.parents[j]] @ local
    return world


def test_global_transforms_match_matrix_chain(clip):
    positions, world = kinematics.global_transforms(clip.skeleton, clip.root_positions, clip.rotations)
    reference = _matrix_fk(clip.skeleton, clip.root_positions, clip.rotations)
    np.testing.assert_allclose(positions, reference[..., :3, 3], atol=1e-9)
    np.testing.assert_allclose(quat.to_matrix(world), reference[..., :3, :3], atol=1e-12)
    np.testing.assert_allclose(kinematics.forward_kinematics(clip), positions)


def test_end_sites_bone_lengths_and_pinned_pose(clip):
    positions, world = kinematics.global_transforms(clip.skeleton, clip.root_positions, clip.rotations)
    reference = _matrix_fk(clip.skeleton, clip.root_positions, clip.rotations)
    tips = kinematics.end_site_positions(clip.skeleton, positions, world)
    for k, j in enumerate(sorted(clip.skeleton.end_sites)):
        expected = reference[:, j, :3, :3] @ clip.skeleton.end_sites[j] + reference[:, j, :3, 3]
        np.testing.assert_allclose(tips[:, k], expected, atol=1e-9)
    lengths = kinematics.bone_lengths(clip.skeleton, positions)
    np.testing.assert_allclose(lengths, np.broadcast_to(np.linalg.norm(clip.skeleton.offsets[1:], axis=1), lengths.shape))
    pinned = kinematics.pose_positions(clip.skeleton, clip.rotations)
    np.testing.assert_allclose(pinned[:, 0], 0.0)
    # Root pinned means: undo the root's translation and rotation.
    root_inv = quat.conjugate(clip.rotations[:, :1])
    np.testing.assert_allclose(pinned, quat.rotate(root_inv, positions - positions[:, :1]), atol=1e-9)
    kept = kinematics.pose_positions(clip.skeleton, clip.rotations, keep_root_rotation=True)
    np.testing.assert_allclose(kept, positions - positions[:, :1], atol=1e-9)


def test_identity_pose_is_the_rest_skeleton():
    skeleton = synth.cmu_like_skeleton(3)
    rest = kinematics.pose_positions(skeleton, quat.identity((1, skeleton.num_joints)))
    expected = np.zeros((skeleton.num_joints, 3))
    for j in range(1, skeleton.num_joints):
        expected[j] = expected[skeleton.parents[j]] + skeleton.offsets[j]
    np.testing.assert_allclose(rest[0], expected, atol=1e-12)


# --- real data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def amc35(cmu_root) -> Clip:
    return asfamc.read_amc_clip(cmu_root / "subjects/35/35_01.amc")


def test_bone_lengths_are_offsets_on_every_frame_of_every_clip(cmu_bvh_files, amc35):
    worst = 0.0
    for path in cmu_bvh_files:
        clip = bvh.read_bvh(path)
        assert clip.source["preset"] == "cmu"
        lengths = kinematics.bone_lengths(clip.skeleton, kinematics.forward_kinematics(clip))
        worst = max(worst, float(np.max(np.abs(lengths - np.linalg.norm(clip.skeleton.offsets[1:], axis=1)))))
    lengths = kinematics.bone_lengths(amc35.skeleton, kinematics.forward_kinematics(amc35))
    worst = max(worst, float(np.max(np.abs(lengths - np.linalg.norm(amc35.skeleton.offsets[1:], axis=1)))))
    assert worst < 1e-4


def walk_checks(clip: Clip) -> dict[str, float]:
    """Heights and foot contacts of a walk, in cm (cm/s for sliding).

    * ``standing_gap``: leg chain length (hip joint offset + thigh + shin,
      presets.CMU_LEFT_LEG) minus the highest Hips height above the lowest
      foot point during the first half second, when the walker still stands
      or walks in: a few cm for a real walk.
    * ``reach_gap_left/right``: how far the hip stays below a straight leg:
      (pelvis drop + thigh + shin) minus the highest Hips-over-ankle height.
      Never negative (a leg cannot stretch), a few cm when the knee straightens.
    * ``touch_left/right``: lowest toe height above the floor (the lowest foot
      point of the whole clip): both feet reach the floor.
    * ``slide_left/right``: median horizontal speed of a toe while it is on
      the floor (within 2 cm of its lowest): a planted foot does not skate.
    """
    sk = clip.skeleton
    positions, world = kinematics.global_transforms(sk, clip.root_positions, clip.rotations)
    tips = kinematics.end_site_positions(sk, positions, world)
    leaves = sorted(sk.end_sites)
    feet = {}
    for side in ("Left", "Right"):
        toe_tip = tips[:, leaves.index(sk.index(f"{side}ToeBase"))]
        feet[side] = np.stack([positions[:, sk.index(f"{side}Foot")], positions[:, sk.index(f"{side}ToeBase")], toe_tip], 1)
    all_feet = np.concatenate([feet["Left"], feet["Right"]], axis=1)
    floor = float(all_feet[..., 1].min())
    hips = positions[:, 0, 1]
    lowest = all_feet[..., 1].min(axis=1)
    early = int(round(clip.fps / 2))
    out = {"standing_gap": chain_length(sk, presets.CMU_LEFT_LEG) - float(np.max((hips - lowest)[:early]))}
    for side in ("Left", "Right"):
        up = sk.offsets[sk.index(f"{side}UpLeg")]
        reach = -up[1] + np.linalg.norm(sk.offsets[sk.index(f"{side}Leg")]) + np.linalg.norm(sk.offsets[sk.index(f"{side}Foot")])
        out[f"reach_gap_{side.lower()}"] = float(reach - np.max(hips - positions[:, sk.index(f"{side}Foot"), 1]))
        toe = feet[side][:, 1]
        out[f"touch_{side.lower()}"] = float(toe[:, 1].min()) - floor
        planted = toe[:, 1] < toe[:, 1].min() + 2.0
        speed = np.linalg.norm(np.gradient(toe[:, [0, 2]], axis=0), axis=1) * clip.fps
        out[f"slide_{side.lower()}"] = float(np.median(speed[planted]))
    return out


def _plausible_amc_walk(checks: dict[str, float]) -> list[str]:
    """The checks a correctly converted subject-35 walk passes; returns the failures."""
    failures = []
    if not abs(checks["standing_gap"]) <= 7.0:
        failures.append("standing_gap")
    for side in ("left", "right"):
        if not 0.0 <= checks[f"reach_gap_{side}"] <= 8.0:
            failures.append(f"reach_gap_{side}")
        if not checks[f"touch_{side}"] <= 3.0:
            failures.append(f"touch_{side}")
        if not checks[f"slide_{side}"] <= 13.0:
            failures.append(f"slide_{side}")
    return failures


def test_standing_hip_height_matches_leg_length_on_bvh_walks(cmu_root):
    walks = sorted(cmu_root.glob("subjects/07/*.bvh")) + sorted(cmu_root.glob("subjects/08/*.bvh"))
    assert len(walks) >= 20
    for path in walks:
        checks = walk_checks(bvh.read_bvh(path))
        assert abs(checks["standing_gap"]) <= 7.0, (path.name, checks)
        assert 0.0 <= checks["reach_gap_left"] <= 8.0 and 0.0 <= checks["reach_gap_right"] <= 8.0, (path.name, checks)


def test_amc_walk_has_plausible_heights_and_planted_feet(amc35):
    checks = walk_checks(amc35)
    assert _plausible_amc_walk(checks) == [], checks
    # The hip height at rest is a leg length, not 1/5.6 of one (units) nor a few cm more (stretched legs).
    assert 90.0 < chain_length(amc35.skeleton, presets.CMU_LEFT_LEG) < 110.0


@pytest.mark.parametrize("convention", ["C^-1 M C", "intrinsic M", "M only", "radians"])
def test_wrong_acclaim_conventions_fail_the_walk_checks(cmu_root, convention):
    failures = _plausible_amc_walk(walk_checks(convert_with_convention(cmu_root, convention)))
    assert "slide_left" in failures or "slide_right" in failures, (convention, failures)
