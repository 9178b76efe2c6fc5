"""The data model every other module builds on: skeleton, clip, noise, modes, atomic writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maya_tool import atomic, modes, noise
from maya_tool import quaternion as quat
from maya_tool.clip import Clip
from maya_tool.errors import MocapError
from maya_tool.skeleton import Skeleton, find_sidecar, sidecar_path
from tests import synth


def test_skeleton_json_round_trip(tmp_path):
    skeleton = synth.cmu_like_skeleton()
    path = tmp_path / "cmu.skeleton.json"
    skeleton.save(path)
    loaded = Skeleton.load(path)
    assert loaded.names == skeleton.names
    np.testing.assert_array_equal(loaded.parents, skeleton.parents)
    np.testing.assert_allclose(loaded.offsets, skeleton.offsets, atol=0)
    np.testing.assert_allclose(loaded.rest_rotations, skeleton.rest_rotations, atol=0)
    assert loaded.channels == skeleton.channels
    assert sorted(loaded.end_sites) == sorted(skeleton.end_sites)
    for j, tip in skeleton.end_sites.items():
        np.testing.assert_allclose(loaded.end_sites[j], tip, atol=0)
    assert loaded.rotation_order(0) == "ZYX"


def test_skeleton_rejects_bad_json_with_location(tmp_path):
    path = tmp_path / "bad.skeleton.json"
    path.write_text('{"format": "mocap-ae.skeleton",\n "joints": [,]}')
    with pytest.raises(MocapError) as info:
        Skeleton.load(path)
    assert info.value.path == str(path) and info.value.row == 2
    assert "invalid JSON" in str(info.value)
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(MocapError, match="not a skeleton file"):
        Skeleton.load(path)


def test_skeleton_validates_hierarchy():
    with pytest.raises(ValueError, match="parents must come before children"):
        Skeleton(names=["a", "b", "c"], parents=[-1, 2, 0], offsets=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="repeated: a"):
        Skeleton(names=["a", "a"], parents=[-1, 0], offsets=np.zeros((2, 3)))
    with pytest.raises(KeyError, match="no joint 'Tail'"):
        synth.cmu_like_skeleton().index("Tail")


def test_sidecar_lookup(tmp_path):
    csv = tmp_path / "walk.csv"
    assert sidecar_path(csv).name == "walk.skeleton.json"
    assert find_sidecar(csv) is None
    (tmp_path / "skeleton.json").write_text("{}")
    assert find_sidecar(csv) == tmp_path / "skeleton.json"
    sidecar_path(csv).write_text("{}")
    assert find_sidecar(csv) == sidecar_path(csv)


def test_clip_keeps_w_positive_and_model_layout():
    clip = synth.smooth_clip(frames=50)
    flipped = Clip(clip.skeleton, clip.fps, clip.root_positions, -clip.rotations)
    assert (flipped.rotations[..., 3] >= 0).all()
    np.testing.assert_allclose(flipped.rotations, clip.rotations)
    features = clip.pose_features()
    assert features.shape == (50, 120) and features.dtype == np.float32
    np.testing.assert_allclose(features[:, :4], clip.rotations[:, 1], atol=1e-7)
    again = clip.with_joint_rotations(features, variant="test")
    np.testing.assert_allclose(again.rotations, clip.rotations, atol=1e-6)
    assert again.source["variant"] == "test"
    with pytest.raises(ValueError, match=r"rotations must be \(frames, 31, 4\)"):
        Clip(clip.skeleton, 120, clip.root_positions, clip.rotations[:, :5])


def test_clip_resample_halves_frames_and_keeps_endpoints():
    clip = synth.smooth_clip(frames=121, fps=120)
    half = clip.resample(60)
    assert half.num_frames == 61 and half.fps == 60
    np.testing.assert_allclose(half.rotations[0], clip.rotations[0], atol=1e-12)
    np.testing.assert_allclose(half.rotations[-1], clip.rotations[-1], atol=1e-9)
    np.testing.assert_allclose(half.rotations[5], clip.rotations[10], atol=1e-9)
    assert clip.slice(10, 20).num_frames == 10


def test_noise_is_seeded_by_frame():
    clip = synth.smooth_clip(frames=20)
    a = noise.add_noise(clip.joint_rotations, 0.05)
    b = noise.add_noise(clip.joint_rotations[5:], 0.05, frames=np.arange(5, 20))
    np.testing.assert_array_equal(a[5:], b)
    angle = np.degrees(quat.geodesic_angle(a, clip.joint_rotations)).mean()
    assert 6.0 < angle < 12.0
    np.testing.assert_array_equal(noise.add_noise(clip.joint_rotations, 0.0), clip.joint_rotations)


class _Halver:
    """A stand-in model: halves every rotation angle, so its effect is known."""

    def check_clip(self, clip: Clip) -> None:
        pass

    def reconstruct(self, joint_rotations):
        return quat.slerp(quat.identity(joint_rotations.shape[:-1]), joint_rotations, 0.5)


def test_modes_pipeline_and_variants():
    clip = synth.smooth_clip(frames=30)
    assert modes.pipeline("original", encode=True) == (False, True)
    assert modes.effective_mode("noisy", encode=True) == "denoised"
    assert modes.compute_variant(clip, "original") is clip
    noisy = modes.compute_variant(clip, "noisy", sigma=0.05)
    np.testing.assert_allclose(noisy.joint_rotations, noise.add_noise(clip.joint_rotations, 0.05))
    np.testing.assert_array_equal(noisy.root_positions, clip.root_positions)
    denoised = modes.compute_variant(clip, "denoised", model=_Halver(), sigma=0.05)
    np.testing.assert_allclose(denoised.joint_rotations, _Halver().reconstruct(noisy.joint_rotations), atol=1e-12)
    with pytest.raises(ValueError, match="needs a model"):
        modes.compute_variant(clip, "encoded")
    with pytest.raises(ValueError, match="unknown mode"):
        modes.pipeline("blurry")


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    target = tmp_path / "model.json"
    atomic.write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


def test_error_message_names_file_row_column():
    err = MocapError("expected a number, found 'x'", path="a.csv", row=3, column=7)
    assert str(err) == "a.csv, row 3, column 7: expected a number, found 'x'"


def test_atomic_write_gives_readable_permissions(tmp_path):
    target = tmp_path / "shared.json"
    atomic.write_text(target, "x")
    assert target.stat().st_mode & 0o044 == 0o044
    target.chmod(0o640)
    atomic.write_text(target, "y")
    assert target.stat().st_mode & 0o777 == 0o640
