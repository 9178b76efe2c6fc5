"""The node's noise model, shared by the node, the evaluation and training.

Gaussian noise on each quaternion component, seeded by the frame number as the
original tutorial node did, so a given frame always shows the same noisy pose
in Maya, in the panel and in the evaluation figures.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat


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
    noise = np.stack([frame_noise(f, rots.shape[1:], sigma) for f in frames]) if len(rots) else np.zeros_like(rots)
    return quat.positive_w(quat.normalize(rots + noise))
