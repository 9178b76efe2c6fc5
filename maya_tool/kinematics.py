"""Forward kinematics: local rotations to world joint positions.

Positions are what an animator judges a pose by, so the evaluation reports
errors in cm through these functions as well as in degrees. One pass over the
joints in order (parents first), vectorised over frames.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat
from .clip import Clip
from .skeleton import Skeleton

FloatArray = NDArray[np.float64]


def global_transforms(
    skeleton: Skeleton, root_positions: FloatArray, rotations: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """World positions (F, J, 3) in cm and world rotations (F, J, 4) xyzw.

    Args:
        skeleton: Hierarchy and rest offsets.
        root_positions: (F, 3) root translation in cm (already including any
            rest offset of the root).
        rotations: (F, J, 4) local rotations, joint 0 the root.
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    frames = rotations.shape[0]
    positions = np.empty((frames, skeleton.num_joints, 3))
    world = np.empty_like(rotations)
    positions[:, 0] = root_positions
    world[:, 0] = rotations[:, 0]
    for j in range(1, skeleton.num_joints):
        p = skeleton.parents[j]
        positions[:, j] = positions[:, p] + quat.rotate(world[:, p], skeleton.offsets[j])
        world[:, j] = quat.multiply(world[:, p], rotations[:, j])
    return positions, world


def forward_kinematics(clip: Clip) -> FloatArray:
    """World joint positions (F, J, 3) in cm, root motion included."""
    return global_transforms(clip.skeleton, clip.root_positions, clip.rotations)[0]


def pose_positions(skeleton: Skeleton, rotations: FloatArray, keep_root_rotation: bool = False) -> FloatArray:
    """Joint positions with the root at the origin, for comparing poses alone.

    Models do not see the root, so their error is measured with the root
    pinned: at the origin and, unless ``keep_root_rotation``, unrotated.
    """
    rotations = np.array(rotations, dtype=np.float64)
    if not keep_root_rotation:
        rotations[:, 0] = quat.identity()
    zeros = np.zeros((rotations.shape[0], 3))
    return global_transforms(skeleton, zeros, rotations)[0]


def end_site_positions(skeleton: Skeleton, positions: FloatArray, world_rotations: FloatArray) -> FloatArray:
    """(F, E, 3) tips of leaf bones, in ``sorted(skeleton.end_sites)`` order."""
    leaves = sorted(skeleton.end_sites)
    if not leaves:
        return np.zeros((positions.shape[0], 0, 3))
    offsets = np.stack([skeleton.end_sites[j] for j in leaves])
    return positions[:, leaves] + quat.rotate(world_rotations[:, leaves], offsets)


def bone_lengths(skeleton: Skeleton, positions: FloatArray) -> FloatArray:
    """(F, J-1) distance from each non-root joint to its parent, in cm."""
    return np.linalg.norm(positions[:, 1:] - positions[:, skeleton.parents[1:]], axis=-1)
