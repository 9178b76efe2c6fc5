"""Capture artifacts: what a solved optical take does wrong, shared by the node, evaluation and training.

The tutorial only knew Gaussian noise on quaternion components. Real takes
also *pop* (a marker swap turns a joint 10-45 degrees for a frame or three)
and *drop out* (the solver loses a joint and holds its last value, then snaps
back). A learned cleaner is only worth having if it beats an animator's
one-click filters on those too, so every host corrupts clips the same way:

* ``gaussian``: sigma per quaternion component, seeded by the frame
  (:func:`maya_tool.noise.add_noise`, unchanged from the tutorial);
* ``pops``: per animated joint and frame, probability ``pop_rate`` that a
  spike starts: a rotation of 10-45 degrees about a random axis, 1-3 frames;
* ``gaps``: per animated joint and frame, probability ``gap_rate`` that the
  joint holds its last value for 5-40 frames;
* ``capture``: the three together with sigma 0.01.

Order: Gaussian jitter first, then dropouts (which hold the last *solved*,
jittered value, so a hold is exactly flat as a real one is), then pops.
Pops and gaps are seeded by the clip-level ``seed`` (the node evaluates whole
clips, so a gap may span frames); the same clip and seed always give the same
take. Only joints that move are corrupted: a joint that never moves has no
markers that could swap.

:func:`corrupt_windows` is the batched, random-strength variant training
draws from; it uses the same pop and gap rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat
from .errors import MocapError
from .noise import add_noise

CORRUPTIONS = ("gaussian", "pops", "gaps", "capture")
"""Corruption names, in the order menus list them (index = the node's ``noiseType``)."""

ANIMATED_THRESHOLD_DEG = 0.1
"""A joint whose clean rotation moves less than this over a clip counts as still."""

POP_ANGLE_DEG = (10.0, 45.0)
POP_FRAMES = (1, 3)
GAP_FRAMES = (5, 40)
CAPTURE_SIGMA = 0.01
MAX_SIGMA = 1.0
"""Largest sigma accepted: beyond it the noise swamps a unit quaternion."""


@dataclass(frozen=True)
class Corruption:
    """One corruption setting.

    Attributes:
        name: One of :data:`CORRUPTIONS`.
        sigma: Gaussian sigma per quaternion component (0: none).
        pop_rate: Probability per animated joint and frame that a pop starts.
        gap_rate: Probability per animated joint and frame that a dropout starts.
    """

    name: str = "gaussian"
    sigma: float = 0.0
    pop_rate: float = 0.0
    gap_rate: float = 0.0

    @property
    def is_clean(self) -> bool:
        """True when the setting changes nothing."""
        return self.sigma <= 0.0 and self.pop_rate <= 0.0 and self.gap_rate <= 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sigma": self.sigma, "pop_rate": self.pop_rate, "gap_rate": self.gap_rate}

    def describe(self) -> str:
        """A short label for tables and plots."""
        if self.name == "gaussian":
            return f"gaussian sigma {self.sigma:g}"
        parts = [self.name]
        if self.sigma > 0:
            parts.append(f"sigma {self.sigma:g}")
        if self.pop_rate > 0:
            parts.append(f"pops {self.pop_rate:g}")
        if self.gap_rate > 0:
            parts.append(f"gaps {self.gap_rate:g}")
        return ", ".join(parts)


def _rate(value: float, what: str) -> float:
    value = float(value)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise MocapError(f"{what} must be a probability in [0, 1], got {value!r}")
    return value


def check_sigma(sigma: float) -> float:
    """Sigma as a float, refused when negative, NaN, infinite or absurd.

    Raises:
        MocapError: Saying what was expected.
    """
    try:
        value = float(sigma)
    except (TypeError, ValueError):
        raise MocapError(f"noise sigma must be a number, got {sigma!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= MAX_SIGMA:
        raise MocapError(f"noise sigma must be in [0, {MAX_SIGMA:g}] (per quaternion component), got {sigma!r}")
    return value


def make(
    name: str = "gaussian",
    sigma: float | None = None,
    pop_rate: float | None = None,
    gap_rate: float | None = None,
) -> Corruption:
    """A corruption by name with its defaults; given values override them.

    Defaults: ``gaussian`` sigma 0.05; ``pops`` rate 0.005; ``gaps`` rate
    0.002; ``capture`` sigma 0.01, pops 0.005, gaps 0.002.

    Raises:
        MocapError: For an unknown name or a value out of range.
    """
    if name not in CORRUPTIONS:
        raise MocapError(f"unknown corruption {name!r}: expected one of {', '.join(CORRUPTIONS)}")
    base = {
        "gaussian": Corruption("gaussian", 0.05, 0.0, 0.0),
        "pops": Corruption("pops", 0.0, 0.005, 0.0),
        "gaps": Corruption("gaps", 0.0, 0.0, 0.002),
        "capture": Corruption("capture", CAPTURE_SIGMA, 0.005, 0.002),
    }[name]
    changes: dict[str, float] = {}
    if sigma is not None:
        changes["sigma"] = check_sigma(sigma)
    if pop_rate is not None:
        changes["pop_rate"] = _rate(pop_rate, "pop rate")
    if gap_rate is not None:
        changes["gap_rate"] = _rate(gap_rate, "gap rate")
    return replace(base, **changes)


def from_dict(data: Mapping[str, Any]) -> Corruption:
    """Inverse of :meth:`Corruption.to_dict` (unknown keys refused)."""
    unknown = set(data) - {"name", "sigma", "pop_rate", "gap_rate"}
    if unknown:
        raise MocapError(f"unknown corruption keys {', '.join(sorted(unknown))}")
    return make(
        str(data.get("name", "gaussian")), data.get("sigma"), data.get("pop_rate"), data.get("gap_rate")
    )


def animated_mask(joint_rotations: NDArray[Any], threshold_deg: float = ANIMATED_THRESHOLD_DEG) -> NDArray[np.bool_]:
    """(J,) True for joints whose rotation moves more than ``threshold_deg`` over the frames.

    Measured as the largest angle from the joint's first frame, which is
    what "moves" means to an animator looking at the curve.
    """
    rots = np.asarray(joint_rotations, dtype=np.float64)
    if rots.ndim != 3 or len(rots) == 0:
        return np.zeros(rots.shape[1] if rots.ndim == 3 else 0, dtype=bool)
    angles = quat.geodesic_angle(rots[:1], rots)
    return np.degrees(angles.max(axis=0)) > float(threshold_deg)


def _pop_rotations(rng: np.random.Generator, count: int) -> NDArray[np.float64]:
    axis = rng.standard_normal((count, 3))
    axis /= np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12)
    angle = np.radians(rng.uniform(*POP_ANGLE_DEG, size=count))
    return quat.from_axis_angle(axis, angle)


def _event_starts(
    shape: tuple[int, ...], rate: float | NDArray[Any], rng: np.random.Generator, animated: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Where events start in (..., T, J, 4) rotations: (flat leading index, frame, joint) of each.

    ``rate`` is a scalar or one per leading index (per window in training);
    only ``animated`` joints get events.
    """
    lead, (frames, joints) = shape[:-3], shape[-3:-1]
    rates = np.asarray(rate, dtype=np.float64)
    rates = rates.reshape(lead + (1, 1)) if rates.ndim else rates
    starts = (rng.random(lead + (frames, joints)) < rates) & np.asarray(animated, dtype=bool)
    hits = np.argwhere(starts)
    lead_index = np.ravel_multi_index(hits[:, :-2].T, lead) if lead else np.zeros(len(hits), dtype=np.int64)
    return lead_index, hits[:, -2], hits[:, -1]


def apply_gaps(
    rots: NDArray[np.float64], rate: float | NDArray[Any], rng: np.random.Generator, animated: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Dropouts on (..., T, J, 4): a joint holds its value of the frame before for 5-40 frames.

    ``rate`` is a scalar or one per leading index (per window in training).
    A dropout never starts on the first frame: there is nothing to hold.
    """
    out = np.array(rots, dtype=np.float64)
    frames, joints = out.shape[-3:-1]
    index, first, joint = _event_starts(out.shape, rate, rng, animated)
    keep = first > 0
    index, first, joint = index[keep], first[keep], joint[keep]
    if len(first) == 0:
        return out
    lengths = rng.integers(GAP_FRAMES[0], GAP_FRAMES[1] + 1, size=len(first))
    flat = out.reshape((-1, frames, joints, 4))
    for b, t, j, n in zip(index, first, joint, lengths):
        flat[b, t : t + n, j] = flat[b, t - 1, j]
    return flat.reshape(out.shape)


def apply_pops(
    rots: NDArray[np.float64], rate: float | NDArray[Any], rng: np.random.Generator, animated: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Spikes on (..., T, J, 4): 10-45 degrees about a random axis, held 1-3 frames, then back."""
    out = np.array(rots, dtype=np.float64)
    frames, joints = out.shape[-3:-1]
    index, first, joint = _event_starts(out.shape, rate, rng, animated)
    if len(first) == 0:
        return out
    lengths = rng.integers(POP_FRAMES[0], POP_FRAMES[1] + 1, size=len(first))
    spikes = _pop_rotations(rng, len(first))
    flat = out.reshape((-1, frames, joints, 4))
    for k in range(POP_FRAMES[1]):
        keep = (lengths > k) & (first + k < frames)
        b, t, j = index[keep], first[keep] + k, joint[keep]
        flat[b, t, j] = quat.multiply(spikes[keep], flat[b, t, j])
    return flat.reshape(out.shape)


def _event_rng(seed: int, kind: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 0x6D6F6361, kind]))


def corrupt_rotations(
    joint_rotations: NDArray[Any],
    corruption: Corruption,
    *,
    seed: int = 0,
    frames: NDArray[np.int64] | None = None,
    animated: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """A corrupted copy of a clip's (F, J, 4) joint rotations: unit, w >= 0.

    Args:
        joint_rotations: The clean (or, for a real take, the given) rotations.
        corruption: What to do.
        seed: Seeds pops and gaps; the same clip and seed give the same take.
        frames: Frame numbers seeding the Gaussian noise (default 0..F-1).
        animated: (J,) joints that may pop or drop out (default: those that
            move in ``joint_rotations``).
    """
    rots = np.asarray(joint_rotations, dtype=np.float64)
    if rots.ndim != 3 or rots.shape[-1] != 4:
        raise MocapError(f"rotations must have shape (frames, joints, 4), got {rots.shape}")
    out = add_noise(rots, corruption.sigma, frames) if corruption.sigma > 0 else rots.copy()
    if corruption.gap_rate <= 0 and corruption.pop_rate <= 0:
        return out
    mask = animated_mask(rots) if animated is None else np.asarray(animated, dtype=bool)
    if corruption.gap_rate > 0:
        out = apply_gaps(out, corruption.gap_rate, _event_rng(seed, 1), mask)
    if corruption.pop_rate > 0:
        out = apply_pops(out, corruption.pop_rate, _event_rng(seed, 2), mask)
    return quat.positive_w(quat.normalize(out))


def corrupt_clip(clip: Any, corruption: Corruption, *, seed: int = 0, **source: Any) -> Any:
    """The clip with its joints corrupted (root untouched); ``source`` records the setting."""
    rots = corrupt_rotations(clip.joint_rotations, corruption, seed=seed)
    return clip.with_joint_rotations(rots, corruption=corruption.to_dict(), corruption_seed=int(seed), **source)


@dataclass(frozen=True)
class TrainingMix:
    """What training draws per window: a share of pure Gaussian windows, the rest take-like.

    Attributes:
        sigma: (lo, hi) Gaussian sigma for Gaussian-only windows.
        capture_share: Fraction of windows that also pop and drop out.
        capture_sigma: (lo, hi) sigma on those windows.
        pop_rate: (lo, hi) pop rate on those windows.
        gap_rate: (lo, hi) gap rate on those windows.
    """

    sigma: tuple[float, float] = (0.0, 0.08)
    capture_share: float = 0.5
    capture_sigma: tuple[float, float] = (0.0, 0.03)
    pop_rate: tuple[float, float] = (0.0, 0.01)
    gap_rate: tuple[float, float] = (0.0, 0.004)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sigma": list(self.sigma),
            "capture_share": self.capture_share,
            "capture_sigma": list(self.capture_sigma),
            "pop_rate": list(self.pop_rate),
            "gap_rate": list(self.gap_rate),
        }


def corrupt_windows(
    windows: NDArray[Any], mix: TrainingMix, rng: np.random.Generator, animated: NDArray[np.bool_] | None = None
) -> NDArray[np.float64]:
    """Training corruption of (B, T, J, 4) clean windows; signs stay those of the clean input.

    Each window draws its own kind and strength from ``mix``; the result
    keeps each quaternion on its clean counterpart's side, as the runtime's
    continuous-sign inputs are on real clips.
    """
    clean = np.asarray(windows, dtype=np.float64)
    batch = clean.shape[0]
    take_like = rng.random(batch) < mix.capture_share
    sigma = np.where(
        take_like, rng.uniform(*mix.capture_sigma, size=batch), rng.uniform(*mix.sigma, size=batch)
    )
    noisy = quat.normalize(clean + sigma[:, None, None, None] * rng.standard_normal(clean.shape))
    if animated is None:
        moved = np.degrees(quat.geodesic_angle(clean[:, :1], clean).max(axis=1)) > ANIMATED_THRESHOLD_DEG
    else:
        moved = np.broadcast_to(np.asarray(animated, dtype=bool), (batch, clean.shape[2]))
    gaps = np.where(take_like, rng.uniform(*mix.gap_rate, size=batch), 0.0)
    pops = np.where(take_like, rng.uniform(*mix.pop_rate, size=batch), 0.0)
    noisy = apply_gaps(noisy, gaps, rng, moved[:, None, :])
    noisy = apply_pops(noisy, pops, rng, moved[:, None, :])
    return noisy * np.where(np.sum(noisy * clean, axis=-1, keepdims=True) < 0.0, -1.0, 1.0)
