"""One in-memory motion, whatever file it came from.

Readers produce a :class:`Clip`, writers, models, evaluation, the node and the
panel consume one. Rotations are local (relative to the parent) unit
quaternions in xyzw order, kept in the w >= 0 hemisphere so that equal poses
have equal numbers; joint 0 is the root, so ``rotations[:, 1:]`` is exactly
what the autoencoders see.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat
from .skeleton import Skeleton


@dataclass
class Clip:
    """A motion: skeleton, frame rate, root trajectory and local rotations.

    Attributes:
        skeleton: The hierarchy the rotations refer to.
        fps: Frames per second.
        root_positions: (F, 3) root position per frame, in cm.
        rotations: (F, J, 4) local rotations, xyzw; joint 0 is the root.
        source: Where it came from (``path``, ``format``, reader options).
    """

    skeleton: Skeleton
    fps: float
    root_positions: NDArray[np.float64]
    rotations: NDArray[np.float64]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = float(self.fps)
        self.root_positions = np.asarray(self.root_positions, dtype=np.float64).reshape(-1, 3)
        self.rotations = quat.positive_w(np.asarray(self.rotations, dtype=np.float64))
        if self.rotations.ndim != 3 or self.rotations.shape[1:] != (self.skeleton.num_joints, 4):
            raise ValueError(
                f"rotations must be (frames, {self.skeleton.num_joints}, 4) for skeleton "
                f"{self.skeleton.name or ''}, got {self.rotations.shape}"
            )
        if len(self.root_positions) != len(self.rotations):
            raise ValueError(f"{len(self.root_positions)} root positions but {len(self.rotations)} frames of rotations")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return int(len(self.rotations))

    @property
    def duration(self) -> float:
        """Seconds from the first to one frame past the last."""
        return self.num_frames / self.fps

    @property
    def root_rotations(self) -> NDArray[np.float64]:
        """(F, 4) root orientation."""
        return self.rotations[:, 0]

    @property
    def joint_rotations(self) -> NDArray[np.float64]:
        """(F, J-1, 4) local rotations of every joint but the root."""
        return self.rotations[:, 1:]

    def pose_features(self, dtype: type = np.float32) -> NDArray[Any]:
        """(F, 4 * (J-1)) flattened joint quaternions: the model input layout."""
        return self.joint_rotations.reshape(self.num_frames, -1).astype(dtype)

    def with_joint_rotations(self, joint_rotations: NDArray[Any], **source: Any) -> "Clip":
        """A copy whose non-root rotations are replaced (normalised, w >= 0).

        Accepts the flat model layout (F, 4 * (J-1)) as well as (F, J-1, 4),
        so model outputs can be turned back into a clip in one call.
        """
        rots = np.asarray(joint_rotations, dtype=np.float64).reshape(self.num_frames, self.skeleton.num_bones, 4)
        rotations = self.rotations.copy()
        rotations[:, 1:] = quat.normalize(rots)
        return replace(self, rotations=rotations, source={**self.source, **source})

    def slice(self, start: int, stop: int | None = None) -> "Clip":
        """Frames ``start:stop`` as a new clip."""
        return replace(
            self,
            root_positions=self.root_positions[start:stop].copy(),
            rotations=self.rotations[start:stop].copy(),
            source=dict(self.source),
        )

    def resample(self, fps: float) -> "Clip":
        """The same motion at another rate: slerp for rotations, linear for the root.

        Used to build 30 fps data sets from 120 fps captures; the last frame
        kept is the last one that falls inside the original duration.
        """
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if abs(fps - self.fps) < 1e-9 or self.num_frames < 2:
            return replace(self, source=dict(self.source))
        last = (self.num_frames - 1) / self.fps
        times = np.arange(0.0, last + 1e-9, 1.0 / fps)
        src = times * self.fps
        lo = np.clip(np.floor(src).astype(int), 0, self.num_frames - 1)
        hi = np.clip(lo + 1, 0, self.num_frames - 1)
        t = src - lo
        rotations = quat.slerp(self.rotations[lo], self.rotations[hi], t[:, None])
        positions = self.root_positions[lo] * (1 - t[:, None]) + self.root_positions[hi] * t[:, None]
        return replace(
            self,
            fps=float(fps),
            root_positions=positions,
            rotations=rotations,
            source={**self.source, "resampled_from_fps": self.fps},
        )

    def copy(self) -> "Clip":
        return replace(
            self,
            root_positions=self.root_positions.copy(),
            rotations=self.rotations.copy(),
            source=dict(self.source),
        )
