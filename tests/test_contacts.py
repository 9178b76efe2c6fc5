"""Foot contacts: detection, two-bone IK, planting, and sliding before and after cleaning."""

from __future__ import annotations

import numpy as np
import pytest

from maya_tool import contacts, corruption
from maya_tool import quaternion as quat
from maya_tool.clean import CleanOptions, clean_clip
from maya_tool.clip import Clip
from maya_tool.io import read_clip
from maya_tool.kinematics import global_transforms
from tests import synth
from tests.test_clean import FilterModel


def _standing_clip(frames: int = 240) -> Clip:
    """CMU-like skeleton whose legs hang straight down; it walks for half the clip, then stands still."""
    skeleton = synth.cmu_like_skeleton(2)
    offsets = skeleton.offsets.copy()
    for side in ("Left", "Right"):
        sign = 1 if side == "Left" else -1
        offsets[skeleton.index(f"{side[0]}HipJoint")] = [sign * 10.0, -5.0, 0.0]
        offsets[skeleton.index(f"{side}UpLeg")] = [0.0, -2.0, 0.0]
        offsets[skeleton.index(f"{side}Leg")] = [0.0, -42.0, 1.0]
        offsets[skeleton.index(f"{side}Foot")] = [0.0, -41.0, -1.0]
        offsets[skeleton.index(f"{side}ToeBase")] = [0.0, -6.0, 12.0]
    skeleton.offsets = offsets
    rng = np.random.default_rng(0)
    rotations = quat.identity((frames, skeleton.num_joints))
    small = np.radians(3.0) * rng.standard_normal((skeleton.num_joints, 3))
    rotations[:] = quat.from_axis_angle(small / np.maximum(np.linalg.norm(small, axis=-1, keepdims=True), 1e-9),
                                        np.linalg.norm(small, axis=-1))
    for leg in ("LeftUpLeg", "LeftLeg", "LeftFoot", "RightUpLeg", "RightLeg", "RightFoot"):
        rotations[:, skeleton.index(leg)] = quat.identity()
    t = np.arange(frames) / 120.0
    for arm in ("LeftArm", "RightArm", "Head"):
        rotations[:, skeleton.index(arm)] = quat.from_euler(np.stack([30 * np.sin(2 * t), 10 * t, 0 * t], -1), "ZYX")
    root = np.zeros((frames, 3))
    root[:, 1] = 96.0
    root[:, 2] = np.where(np.arange(frames) < frames // 2, 150.0 * t, 150.0 * t[frames // 2])
    return Clip(skeleton=skeleton, fps=120.0, root_positions=root, rotations=quat.positive_w(rotations))


def test_detects_the_standing_half_only() -> None:
    clip = _standing_clip()
    legs = contacts.find_legs(clip.skeleton)
    assert [leg.name for leg in legs] == ["Left", "Right"]
    found = contacts.detect_contacts(clip, legs)
    assert found[130:, :].all()
    assert not found[:100, :].any()
    limits = contacts.thresholds(clip, legs)
    assert limits.height == pytest.approx(0.08 * (np.hypot(42, 1) + np.hypot(41, 1)))
    override = contacts.detect_contacts(clip, legs, contacts.thresholds(clip, legs, speed=1000.0))
    assert override[:100].all()


def test_two_bone_ik_reaches_the_target_and_keeps_bone_lengths() -> None:
    clip = synth.smooth_clip(frames=50)
    leg = contacts.find_legs(clip.skeleton)[0]
    pos, world = global_transforms(clip.skeleton, clip.root_positions, clip.rotations)
    rng = np.random.default_rng(3)
    target = pos[:, leg.ankle] + rng.normal(0, 2.0, (50, 3))
    hip_l, knee_l = contacts.two_bone_ik(pos[:, leg.hip], pos[:, leg.knee], pos[:, leg.ankle], target,
                                         world[:, leg.hip], world[:, leg.knee],
                                         clip.rotations[:, leg.hip], clip.rotations[:, leg.knee])
    rots = clip.rotations.copy()
    rots[:, leg.hip], rots[:, leg.knee] = hip_l, knee_l
    new, _ = global_transforms(clip.skeleton, clip.root_positions, rots)
    reach = np.linalg.norm(target - pos[:, leg.hip], axis=-1)
    length = leg.length(clip.skeleton)
    ok = reach < 0.999 * length
    assert ok.sum() > 25
    assert np.allclose(new[ok, leg.ankle], target[ok], atol=1e-6)
    assert np.allclose(np.linalg.norm(new[:, leg.knee] - new[:, leg.hip], axis=-1),
                       np.linalg.norm(pos[:, leg.knee] - pos[:, leg.hip], axis=-1))
    # Pulling the ankle straight towards the hip only bends the knee: it stays in the hip-knee-ankle plane.
    closer = pos[:, leg.hip] + 0.9 * (pos[:, leg.ankle] - pos[:, leg.hip])
    hip_l, knee_l = contacts.two_bone_ik(pos[:, leg.hip], pos[:, leg.knee], pos[:, leg.ankle], closer,
                                         world[:, leg.hip], world[:, leg.knee],
                                         clip.rotations[:, leg.hip], clip.rotations[:, leg.knee])
    rots[:, leg.hip], rots[:, leg.knee] = hip_l, knee_l
    bent, _ = global_transforms(clip.skeleton, clip.root_positions, rots)
    normal = np.cross(pos[:, leg.knee] - pos[:, leg.hip], pos[:, leg.ankle] - pos[:, leg.hip])
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    assert np.allclose(np.sum((bent[:, leg.knee] - pos[:, leg.hip]) * normal, axis=-1), 0.0, atol=1e-6)
    assert np.allclose(bent[:, leg.ankle], closer, atol=1e-6)


def test_planting_stops_jitter_sliding_and_strength_zero_changes_nothing() -> None:
    clip = _standing_clip()
    noisy = corruption.corrupt_clip(clip, corruption.make("gaussian", sigma=0.01), seed=1)
    result = clean_clip(noisy, FilterModel(), CleanOptions(feet=True))
    feet = result.report["feet"]
    for leg in feet["legs"]:
        assert leg["contact_frames"] > 90
        assert leg["sliding_output_cm_s"] < 0.2 * leg["sliding_input_cm_s"]
        assert leg["sliding_output_cm_s"] < leg["sliding_unplanted_cm_s"]
    assert np.allclose(np.linalg.norm(result.clip.rotations, axis=-1), 1.0)
    untouched = clean_clip(noisy, FilterModel(), CleanOptions(strength=0.0, feet=True))
    assert np.array_equal(untouched.clip.rotations, noisy.rotations)


def test_no_legs_is_said_not_failed(clip) -> None:  # type: ignore[no-untyped-def]
    from maya_tool.skeleton import Skeleton

    sk = clip.skeleton
    names = [n.replace("Leg", "Limb") for n in sk.names]
    other = Clip(Skeleton(names, sk.parents, sk.offsets), clip.fps, clip.root_positions, clip.rotations)
    model = FilterModel()
    model.joint_names = names
    result = clean_clip(other, model, CleanOptions(feet=True))
    assert "no leg joints" in result.report["feet"]["skipped"]


def test_real_take_feet_stay_planted(cmu_root) -> None:  # type: ignore[no-untyped-def]
    clip = read_clip(cmu_root / "subjects" / "05" / "05_01.bvh").slice(0, 600)
    bad = corruption.corrupt_clip(clip, corruption.make("capture"), seed=1)
    legs = contacts.find_legs(clip.skeleton)
    on_clean = contacts.detect_contacts(clip, legs)
    result = clean_clip(bad, FilterModel(), CleanOptions(feet=True))
    for leg in result.report["feet"]["legs"]:
        assert leg["contact_frames"] > 0
        assert leg["sliding_output_cm_s"] < 0.05 * leg["sliding_input_cm_s"]
    original = contacts.foot_sliding(clip, legs, on_clean)
    after = contacts.foot_sliding(result.clip, legs, on_clean)
    unplanted = contacts.foot_sliding(clean_clip(bad, FilterModel(), CleanOptions(feet=False)).clip, legs, on_clean)
    for o, a, u in zip(original, after, unplanted):
        assert a < u


def test_score_take_measures_error_and_sliding_on_the_reference_contacts() -> None:
    from maya_tool.clean import score_take

    clip = _standing_clip()
    noisy = corruption.corrupt_clip(clip, corruption.make("gaussian", sigma=0.01), seed=1)
    same = score_take(clip, clip)
    assert same["animated_mean_deg"] < 1e-5 and same["contact_frames"] > 180
    assert same["sliding_cm_s"] == same["sliding_reference_cm_s"]
    bad = score_take(clip, noisy)
    cleaned = score_take(clip, clean_clip(noisy, FilterModel(), CleanOptions()).clip)
    assert cleaned["animated_mean_deg"] < bad["animated_mean_deg"]
    assert max(cleaned["sliding_cm_s"]) < 0.2 * min(bad["sliding_cm_s"])
