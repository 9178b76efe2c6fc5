"""Butterworth and Savitzky-Golay baselines on quaternion tracks."""

from __future__ import annotations

import numpy as np
import pytest

from maya_tool import filters, noise
from maya_tool import quaternion as quat
from maya_tool.clip import Clip


def mean_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(quat.geodesic_angle(a, b)).mean())


@pytest.fixture()
def pair(clip: Clip) -> tuple[np.ndarray, np.ndarray, float]:
    clean = clip.joint_rotations
    return clean, noise.add_noise(clean, 0.05), clip.fps


def assert_unit_positive(q: np.ndarray) -> None:
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)
    assert (q[..., 3] >= 0).all()


def test_butterworth_removes_most_of_the_noise(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, fps = pair
    out = filters.butterworth(noisy, fps, 5.0)
    assert out.shape == noisy.shape
    assert_unit_positive(out)
    assert mean_angle_deg(clean, out) < 0.4 * mean_angle_deg(clean, noisy)


def test_savgol_removes_most_of_the_noise(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, _ = pair
    out = filters.savgol(noisy, 31, 2)
    assert out.shape == noisy.shape
    assert_unit_positive(out)
    assert mean_angle_deg(clean, out) < 0.4 * mean_angle_deg(clean, noisy)


def test_best_butterworth_reports_the_argmin(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, fps = pair
    cutoffs = (2.0, 4.0, 6.0, 10.0)
    best, out = filters.best_butterworth(clean, noisy, fps, cutoffs=cutoffs)
    scores = {c: mean_angle_deg(clean, filters.butterworth(noisy, fps, c)) for c in cutoffs}
    assert best == min(scores, key=lambda k: scores[k])
    np.testing.assert_allclose(out, filters.butterworth(noisy, fps, best))
    sweep = filters.sweep_butterworth([(clean, noisy, fps)], cutoffs=cutoffs)
    assert sweep.scores == pytest.approx(scores)


def test_best_savgol_reports_the_argmin(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, fps = pair
    (window, order), out = filters.best_savgol(clean, noisy, fps, windows=(5, 21, 41), orders=(2, 4))
    scores = {(w, o): mean_angle_deg(clean, filters.savgol(noisy, w, o)) for w in (5, 21, 41) for o in (2, 4)}
    assert (window, order) == min(scores, key=lambda k: scores[k])
    np.testing.assert_allclose(out, filters.savgol(noisy, window, order))


def test_sign_flips_do_not_break_the_filters(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    """q and -q are one rotation; filtering must not average them to zero."""
    clean, _, fps = pair
    flipped = clean.copy()
    flipped[1::2] *= -1.0
    for out in (filters.butterworth(flipped, fps, 8.0), filters.savgol(flipped, 9, 2)):
        assert mean_angle_deg(clean, out) < 0.5


def test_a_still_pose_passes_through_unchanged() -> None:
    rng = np.random.default_rng(0)
    pose = quat.positive_w(quat.normalize(rng.normal(size=(5, 4))))
    still = np.repeat(pose[None], 50, axis=0)
    np.testing.assert_allclose(filters.butterworth(still, 120.0, 6.0), still, atol=1e-9)
    np.testing.assert_allclose(filters.savgol(still, 11, 3), still, atol=1e-9)


def test_short_clips_still_filter() -> None:
    rng = np.random.default_rng(1)
    short = quat.positive_w(quat.normalize(rng.normal(size=(4, 3, 4))))
    assert_unit_positive(filters.butterworth(short, 120.0, 6.0))
    assert_unit_positive(filters.savgol(short, 31, 2))
    np.testing.assert_allclose(filters.butterworth(short[:1], 120.0, 6.0), short[:1])
    np.testing.assert_allclose(filters.savgol(short[:2], 5, 2), short[:2])


def test_bad_settings_are_refused(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, _ = pair
    with pytest.raises(ValueError, match="Nyquist"):
        filters.butterworth(noisy, 20.0, 10.0)
    with pytest.raises(ValueError, match="odd"):
        filters.savgol(noisy, 10, 2)
    with pytest.raises(ValueError, match="shape"):
        filters.butterworth(np.zeros((10, 3)), 120.0, 5.0)
    sweep = filters.sweep_butterworth([(clean, noisy, 20.0)])
    assert max(sweep.scores) < 10.0 and min(sweep.scores) == 2.0
    with pytest.raises(ValueError, match="Nyquist"):
        filters.sweep_butterworth([(clean, noisy, 3.0)])


def test_default_savgol_windows_are_odd_and_scale_with_fps() -> None:
    at_120 = filters.default_savgol_windows(120.0)
    at_30 = filters.default_savgol_windows(30.0)
    assert all(w % 2 == 1 for w in at_120 + at_30)
    assert max(at_120) > max(at_30) and min(at_30) >= 5
    assert len(set(at_120)) == len(at_120)


# --- peak remover (Hampel) + Butterworth ---------------------------------------------------------------------------


def popped(clean: np.ndarray) -> np.ndarray:
    from maya_tool import corruption

    return corruption.corrupt_rotations(clean, corruption.make("pops", pop_rate=0.01), seed=1)


def test_despike_removes_pops_and_leaves_the_rest() -> None:
    from tests import synth

    fps = 480.0  # the synthetic joints swing fast: at 480 fps a frame moves them about as far as a capture's
    clean = synth.smooth_clip(frames=240, fps=fps).joint_rotations
    pops = popped(clean)
    before = np.degrees(quat.geodesic_angle(clean, pops))
    hit = before > 5.0
    assert hit.sum() > 100
    out = filters.despike(pops, 9, 3.0)
    assert_unit_positive(out)
    error = np.degrees(quat.geodesic_angle(clean, out))
    # pops go, except where the window cannot see past them (the clip's ends, two pops in one window)
    assert (error > 5.0).sum() < 0.1 * hit.sum() and error.mean() < 0.1 * before.mean()
    # frames that did not pop are hardly touched (at most a median's worth near a curve's turn)
    assert error[~hit].mean() < 0.01
    np.testing.assert_allclose(
        filters.despike(pops, 9, 3.0, fps=fps, cutoff_hz=8.0), filters.butterworth(out, fps, 8.0), atol=1e-9
    )
    # the Butterworth alone smears the pops over their neighbours instead
    assert mean_angle_deg(clean, filters.butterworth(pops, fps, 8.0)) > 3 * error.mean()


def test_despike_is_quaternion_aware_and_refuses_bad_settings(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, noisy, fps = pair
    flipped = clean.copy()
    flipped[1::2] *= -1.0
    np.testing.assert_allclose(filters.despike(flipped, 7, 2.0), filters.despike(clean, 7, 2.0), atol=1e-12)
    with pytest.raises(ValueError, match="odd"):
        filters.despike(noisy, 8, 2.0)
    with pytest.raises(ValueError, match="fps"):
        filters.despike(noisy, 7, 2.0, cutoff_hz=5.0)
    with pytest.raises(ValueError, match="Nyquist"):
        filters.despike(noisy, 7, 2.0, fps=fps, cutoff_hz=fps)
    short = clean[:2]
    np.testing.assert_allclose(filters.despike(short, 7, 2.0), short, atol=1e-12)


def test_sweep_despike_reports_the_argmin_of_what_it_tried(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, _, fps = pair
    pops = popped(clean)
    sweep = filters.sweep_despike([(clean, pops, fps)], windows=(7, 13), thresholds=(2.0, 4.0),
                                  cutoffs=(None, 4.0, 8.0), start_cutoff=8.0)
    assert sweep.best == min(sweep.scores, key=lambda k: sweep.scores[k])
    assert {(w, k) for w, k, _ in sweep.scores} == {(7, 2.0), (7, 4.0), (13, 2.0), (13, 4.0)}
    assert {c for w, k, c in sweep.scores if (w, k) == sweep.best[:2]} >= {None, 4.0, 8.0}
    window, threshold, cutoff = sweep.best
    expected = filters.despike(pops, window, threshold, fps=fps, cutoff_hz=cutoff)
    np.testing.assert_allclose(sweep.outputs[0], expected, atol=1e-12)
    assert sweep.scores[sweep.best] == pytest.approx(mean_angle_deg(clean, expected), abs=1e-6)


def test_sweeps_pick_on_the_animated_joints(pair: tuple[np.ndarray, np.ndarray, float]) -> None:
    clean, _, fps = pair
    clean = clean.copy()
    clean[:, 0] = clean[0, 0]  # a still joint...
    noisy = noise.add_noise(clean, 0.05)
    noisy[:, 0] = quat.normalize(noisy[:, 0] + 0.3 * np.sin(np.arange(len(noisy)) * 0.05)[:, None])  # ...badly off
    sweep = filters.sweep_butterworth([(clean, noisy, fps)], cutoffs=(2.0, 6.0))
    for cutoff in (2.0, 6.0):
        out = filters.butterworth(noisy, fps, cutoff)
        assert sweep.scores[cutoff] == pytest.approx(mean_angle_deg(clean[:, 1:], out[:, 1:]), abs=1e-6)
        assert sweep.all_scores[cutoff] == pytest.approx(mean_angle_deg(clean, out), abs=1e-6)
