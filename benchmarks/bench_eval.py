"""Evaluation speed: the per-frame errors the panel redraws, and whole clips.

``frame_errors`` on a 5,000-frame, 31-joint clip is compared with the same
three measures computed the straightforward way from the core functions
(``kinematics.global_transforms`` per clip, ``quaternion.to_matrix`` for the
virtual vertices, ``quaternion.geodesic_angle``); the panel's budget for a
redraw is 200 ms end to end, and ``ErrorReference`` (the reference posed
once) is what a panel comparing many variants of one clip pays. Whole-clip evaluation is reported in frames per
second for the PCA baseline (30 components), with and without the classical
sweeps, the sweeps alone for the Gaussian and the capture corruption, and for a trained model when one is registered
(``modelfile.list_models``). The clip is the longest shared CMU file of a
training subject when ``MOCAP_AE_DATA`` is set (never the held-out subject
02), else a synthetic one.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from benchmarks import Row, median_seconds, rate_row, time_row
from maya_tool import evaluate as ev
from maya_tool import kinematics
from maya_tool import quaternion as quat
from maya_tool.baselines import PCA
from maya_tool.clip import Clip

FRAMES = 5_000
REAL_CLIP = Path("subjects") / "06" / "06_13.bvh"
TRAIN_CLIPS = [Path("subjects") / "07" / f"07_{i:02d}.bvh" for i in range(1, 13)]


def synthetic_clip(frames: int, seed: int = 0) -> Clip:
    """A CMU-shaped clip whose joints swing smoothly, like a capture."""
    from tests import synth

    return synth.smooth_clip(frames=frames, fps=120.0, seed=seed)


def _data() -> tuple[Clip, list[Clip], str]:
    """(test clip, training clips for the PCA, description)."""
    root = os.environ.get("MOCAP_AE_DATA")
    if root and (Path(root) / REAL_CLIP).is_file():
        from maya_tool.io import read_clip

        clip = read_clip(Path(root) / REAL_CLIP)
        train = [read_clip(Path(root) / p) for p in TRAIN_CLIPS if (Path(root) / p).is_file()]
        if train:
            return clip.slice(0, FRAMES), train, f"CMU {REAL_CLIP.name}, PCA fitted on subject 07"
    clip = synthetic_clip(FRAMES)
    return clip, [synthetic_clip(3_000, seed=1)], "synthetic CMU-shaped clip"


def naive_frame_errors(reference: Clip, candidate: Clip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three measures built from the core functions, joint by joint."""
    frames = reference.num_frames
    zeros = np.zeros((frames, 3))
    posed = []
    for clip in (reference, candidate):
        rotations = clip.rotations.copy()
        rotations[:, 0] = quat.identity()
        positions, world = kinematics.global_transforms(reference.skeleton, zeros, rotations)
        posed.append((positions, quat.to_matrix(world)))
    (p_r, m_r), (p_c, m_c) = posed
    angle = np.degrees(quat.geodesic_angle(reference.joint_rotations, candidate.joint_rotations))
    position = np.linalg.norm(p_c - p_r, axis=-1)[:, 1:]
    vertex = np.max(
        [np.linalg.norm(p_c + 3.0 * m_c[..., :, k] - p_r - 3.0 * m_r[..., :, k], axis=-1) for k in range(3)], axis=0
    )[:, 1:]
    return angle, position, vertex


def _registered_model() -> object | None:
    try:
        from maya_tool.models import modelfile
        from maya_tool.models.runtime import load_model
    except ImportError:
        return None
    for info in modelfile.list_models():
        try:
            return load_model(info.path)
        except Exception:  # a broken file in a user folder must not stop the benchmark
            continue
    return None


def run(quick: bool) -> list[Row]:
    repeats = 3 if quick else 9
    clip, train, source = _data()
    rng = np.random.default_rng(0)
    candidate = clip.with_joint_rotations(clip.joint_rotations + rng.normal(0, 0.02, clip.joint_rotations.shape))
    frames = clip.num_frames

    ours = median_seconds(lambda: ev.frame_errors(clip, candidate), repeats, warmup=1)
    naive = median_seconds(lambda: naive_frame_errors(clip, candidate), repeats, warmup=1)
    fast = ev.frame_errors(clip, candidate)
    slow = naive_frame_errors(clip, candidate)
    worst = max(float(np.abs(a - b).max()) for a, b in zip((fast.angle_deg, fast.position_cm, fast.vertex_cm), slow))
    rows = [
        time_row(
            f"frame_errors {frames} frames x {clip.skeleton.num_joints} joints",
            ours,
            naive,
            f"baseline: global_transforms + to_matrix + geodesic_angle per clip; max difference {worst:.1e}; {source}",
        )
    ]

    reference = ev.ErrorReference(clip)
    cached = median_seconds(lambda: reference.errors(candidate), repeats, warmup=1)
    rows.append(
        time_row(
            "ErrorReference.errors, same clip",
            cached,
            ours,
            "reference posed once (the panel's noise slider); baseline: frame_errors, the row above",
        )
    )

    pca = PCA.fit_clips(train, 30)
    whole = max(1, repeats // 3)
    no_filters = median_seconds(lambda: ev.evaluate_clip(clip, pca, baselines=False), whole)
    with_filters = median_seconds(lambda: ev.evaluate_clip(clip, pca), 1)
    rows.append(
        rate_row(
            "evaluate_clip, PCA-30, no filters",
            frames / no_filters,
            "frames/s",
            note="reconstruction, noisy, denoised: noise, two PCA passes, three frame_errors",
        )
    )
    rows.append(
        rate_row(
            "evaluate_clip, PCA-30, with filter sweeps",
            frames / with_filters,
            "frames/s",
            baseline=frames / no_filters,
            note="adds 11 Butterworth cutoffs, the Savitzky-Golay grid and the peak remover + Butterworth "
            "descent; baseline: the row above",
        )
    )
    for name in ("gaussian", "capture"):
        sweeps = median_seconds(lambda: ev.evaluate_clip(clip, corruption=name), 1)
        rows.append(
            rate_row(
                f"classical sweeps alone, {name}",
                frames / sweeps,
                "frames/s",
                note=f"{sweeps:.2f} s for {frames} frames: Butterworth, Savitzky-Golay, peak remover + Butterworth, "
                "picked on the animated joints (12,815 frames of subject 02 take about 2.6x this)",
            )
        )
    model = _registered_model()
    if model is None:
        rows.append(
            rate_row(
                "evaluate_clip, trained model, no filters", math.nan, "frames/s",
                note="skipped: no model registered (modelfile.list_models found none)",
            )
        )
    else:
        try:
            model.check_clip(clip)  # type: ignore[attr-defined]
            seconds = median_seconds(lambda: ev.evaluate_clip(clip, model, baselines=False), whole)  # type: ignore[arg-type]
            rows.append(
                rate_row(
                    f"evaluate_clip, {getattr(model, 'name', 'model')}, no filters",
                    frames / seconds,
                    "frames/s",
                    baseline=frames / no_filters,
                    note=f"{getattr(model, 'architecture', '?')} model via the numpy runtime; baseline: PCA-30",
                )
            )
        except Exception as exc:  # a model for another skeleton: say so instead of failing
            rows.append(
                rate_row(
                    "evaluate_clip, trained model, no filters", math.nan, "frames/s",
                    note=f"skipped: {getattr(model, 'name', 'model')} does not fit the clip ({exc})",
                )
            )
    return rows
