"""The capture corruptions every host shares: seeded, on animated joints only, unit quaternions out."""

from __future__ import annotations

import numpy as np
import pytest

from maya_tool import corruption as C
from maya_tool import quaternion as quat
from maya_tool.errors import MocapError
from maya_tool.noise import add_noise
from tests import synth


@pytest.fixture(scope="module")
def rots():
    clip = synth.smooth_clip(600, seed=3, skeleton=synth.cmu_like_skeleton(0))
    r = clip.joint_rotations.copy()
    r[:, 2] = r[0, 2]  # a joint that never moves
    return r


def _deg(a, b):
    return np.degrees(quat.geodesic_angle(a, b))


def test_gaussian_is_the_tutorial_noise(rots):
    out = C.corrupt_rotations(rots, C.make("gaussian", sigma=0.03), seed=99)
    np.testing.assert_array_equal(out, add_noise(rots, 0.03))


def test_same_clip_and_seed_give_the_same_take_and_another_seed_another(rots):
    c = C.make("capture")
    a, b = C.corrupt_rotations(rots, c, seed=1), C.corrupt_rotations(rots, c, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, C.corrupt_rotations(rots, c, seed=2))
    np.testing.assert_allclose(np.linalg.norm(a, axis=-1), 1.0, atol=1e-12)
    assert (a[..., 3] >= 0).all()


def test_pops_are_10_to_45_degree_spikes_of_at_most_3_frames_on_moving_joints(rots):
    out = C.corrupt_rotations(rots, C.make("pops", pop_rate=0.01), seed=4)
    err = _deg(rots, out)
    assert err[:, 2].max() < 1e-9  # the still joint never pops
    hit = err > 1e-9
    assert hit.sum() > 50
    assert err[hit].min() >= 10.0 - 1e-6 and err[hit].max() <= 90.0  # overlapping pops may add up
    isolated = err[hit][err[hit] <= 45.0 + 1e-6]
    assert len(isolated) > 0.8 * hit.sum()
    for j in range(err.shape[1]):
        runs = np.diff(np.flatnonzero(np.diff(np.r_[0, hit[:, j].astype(int), 0])))[::2]
        assert (runs <= 6).all()  # 1-3 frames, two pops may touch


def test_gaps_hold_the_frame_before_for_5_to_40_frames(rots):
    out = C.corrupt_rotations(rots, C.make("gaps", gap_rate=0.004), seed=5)
    changed = _deg(rots, out) > 1e-9
    assert not changed[:, 2].any() and changed.any()
    for j in np.flatnonzero(changed.any(axis=0)):
        frames = np.flatnonzero(changed[:, j])
        held = out[frames, j]
        before = out[frames - 1, j]
        np.testing.assert_allclose(np.abs(np.sum(held * before, axis=-1)), 1.0, atol=1e-12)


def test_capture_is_jitter_pops_and_gaps_together(rots):
    c = C.make("capture")
    assert (c.sigma, c.pop_rate, c.gap_rate) == (0.01, 0.005, 0.002)
    out = C.corrupt_rotations(rots, c, seed=1)
    err = _deg(rots, out)
    assert 0.5 < np.median(err[:, C.animated_mask(rots)]) < 3.0
    assert err.max() >= 10.0


def test_animated_mask_uses_the_threshold(rots):
    mask = C.animated_mask(rots)
    assert not mask[2] and mask.sum() >= rots.shape[1] - 1
    tiny = rots.copy()
    tiny[:, 3] = quat.from_axis_angle(np.array([0, 0, 1.0]), np.radians(np.linspace(0, 0.05, len(rots))))
    assert not C.animated_mask(tiny)[3]


@pytest.mark.parametrize("bad", [dict(name="salt"), dict(sigma=-1), dict(sigma=float("nan")),
                                 dict(sigma=float("inf")), dict(pop_rate=2.0), dict(gap_rate=-0.1)])
def test_bad_settings_are_refused_saying_what_was_expected(bad):
    with pytest.raises(MocapError, match="expected|must be"):
        C.make(**{"name": "capture", **bad})


def test_training_windows_keep_the_clean_sign_and_draw_every_kind(rots):
    clean = np.stack([quat.continuous(rots[s : s + 128]) for s in range(0, 512, 64)])
    out = C.corrupt_windows(clean, C.TrainingMix(capture_share=0.5), np.random.default_rng(0))
    assert out.shape == clean.shape
    assert (np.sum(out * clean, axis=-1) > 0).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-9)
    assert (_deg(clean, out) > 9.0).any()


def test_corrupt_clip_records_what_was_done():
    clip = synth.smooth_clip(120, seed=1, skeleton=synth.cmu_like_skeleton(0))
    out = C.corrupt_clip(clip, C.make("capture"), seed=7)
    assert out.source["corruption"]["name"] == "capture" and out.source["corruption_seed"] == 7
    np.testing.assert_array_equal(out.root_positions, clip.root_positions)
    np.testing.assert_array_equal(out.root_rotations, clip.root_rotations)
