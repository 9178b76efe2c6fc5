"""Clips made by the tests themselves: CMU-shaped, smooth, reproducible.

Tests that do not need the real CMU data run on these, so the suite exercises
every path on a machine without the data.
"""

from __future__ import annotations

import numpy as np

from maya_tool import quaternion as quat
from maya_tool.clip import Clip
from maya_tool.presets import CMU_JOINT_NAMES, CMU_PARENTS
from maya_tool.skeleton import Skeleton



def cmu_like_skeleton(seed: int = 0) -> Skeleton:
    """31 joints with the CMU names and hierarchy, offsets of a plausible size."""
    rng = np.random.default_rng(seed)
    names = list(CMU_JOINT_NAMES)
    parents = list(CMU_PARENTS)
    offsets = rng.normal(0.0, 8.0, size=(len(names), 3))
    offsets[0] = 0.0
    leaves = [j for j in range(len(names)) if j not in parents]
    return Skeleton(
        names=names,
        parents=parents,
        offsets=offsets,
        end_sites={j: rng.normal(0.0, 4.0, size=3) for j in leaves},
        name="cmu-like",
    )


def smooth_clip(frames: int = 240, fps: float = 120.0, seed: int = 0, skeleton: Skeleton | None = None) -> Clip:
    """A clip whose joints swing smoothly (a few Hz), like real captures do."""
    skeleton = skeleton or cmu_like_skeleton(seed)
    rng = np.random.default_rng(seed)
    t = np.arange(frames) / fps
    joints = skeleton.num_joints
    freq = rng.uniform(0.3, 2.0, size=(joints, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(joints, 3))
    amp = rng.uniform(5.0, 40.0, size=(joints, 3))
    angles = amp[None] * np.sin(2 * np.pi * freq[None] * t[:, None, None] + phase[None])
    rotations = quat.from_euler(angles, "ZYX")
    root = np.stack([20 * np.sin(t), 90 + 2 * np.sin(3 * t), 50 * t], axis=-1)
    return Clip(skeleton=skeleton, fps=fps, root_positions=root, rotations=rotations, source={"format": "synthetic"})
