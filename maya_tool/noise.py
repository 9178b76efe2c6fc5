"""The node's noise model, shared by the node, the evaluation and training.

Gaussian noise on each quaternion component, seeded by the frame number as the
original tutorial node did, so a given frame always shows the same noisy pose
in Maya, in the panel and in the evaluation figures.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat

UNIT_NOISE_CACHE_NUMBERS = 4_000_000
"""Largest unit-noise block kept in memory (32 MB): a few long clips, never a training set."""


def frame_noise(frame: int, shape: Sequence[int], sigma: float) -> NDArray[np.float64]:
    """The noise added at one frame; the same for the same frame, always."""
    rng = np.random.default_rng(int(frame) & 0xFFFFFFFF)
    return rng.normal(0.0, float(sigma), size=tuple(shape))


def add_noise(
    joint_rotations: NDArray[np.float64], sigma: float, frames: Sequence[int] | NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Noisy copy of (F, J, 4) rotations, renormalised and w >= 0.

    Args:
        joint_rotations: Local rotations of the joints the models see (the
            root is left out, as in the original node).
        sigma: Standard deviation per quaternion component.
        frames: Frame number of each row (seed); defaults to 0..F-1.
    """
    rots = np.asarray(joint_rotations, dtype=np.float64)
    if sigma <= 0.0:
        return rots.copy()
    if frames is None:
        frames = np.arange(len(rots))
    frames = np.asarray(frames, dtype=np.int64).reshape(-1)
    contiguous = len(rots) > 0 and len(frames) == len(rots) and np.array_equal(frames, frames[0] + np.arange(len(rots)))
    if contiguous and rots.size <= UNIT_NOISE_CACHE_NUMBERS:
        noise = sigma * _unit_noise(int(frames[0]), len(rots), tuple(rots.shape[1:]))
    else:
        noise = np.stack([frame_noise(f, rots.shape[1:], sigma) for f in frames]) if len(rots) else np.zeros_like(rots)
    return quat.positive_w(quat.normalize(rots + noise))


@functools.lru_cache(maxsize=4)
def _unit_noise(start: int, count: int, shape: tuple[int, ...]) -> NDArray[np.float64]:
    """Sigma-1 noise of consecutive frames, kept so a noise slider does not reseed 5,000 generators per move.

    ``sigma * frame_noise(f, shape, 1.0)`` is bit-for-bit ``frame_noise(f, shape, sigma)``
    (numpy's normal is ``loc + scale * standard_normal``), so cached and uncached results are equal.
    """
    noise = np.stack([frame_noise(f, shape, 1.0) for f in range(start, start + count)])
    noise.flags.writeable = False
    return noise
