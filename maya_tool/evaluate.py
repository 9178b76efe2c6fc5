"""How far a reconstruction is from the original, per frame and per joint.

Three measures, because each hides something the others show:

* the geodesic angle of each local rotation (degrees): what the model was
  trained on, blind to how long the bones are;
* the joint position error through forward kinematics (cm), with the root
  pinned since models never see it: what an animator sees, but blind to a
  joint twisting about its own bone;
* ACL's virtual-vertex error: three points 3 cm from each joint along its
  local x, y and z axes (object space, root pinned), the largest distance
  between reference and candidate point. It catches twist too and is the
  measure game-animation compression is tuned against.

Then :func:`evaluate_many` runs the whole comparison the README reports: the
model on clean input (``reconstruction``), a corruption of the clip
(``noisy``: the node's Gaussian noise or a capture artifact of
:mod:`maya_tool.corruption`), the model on it (``denoised``) and the classical
filters on the same corruption, each at its best setting: Butterworth,
Savitzky-Golay, and the peak remover followed by Butterworth that animators
use on popping takes. ``classical`` is the best of those.

Every figure comes twice: over the *animated* joints (those whose clean
rotation moves more than 0.1 degree over the clip, the headline) and over all
joints. A joint that never moves is trivially easy for a model that learned it
never moves, and hard for a filter fed its noise; averaging it in flatters the
model.

The panel recomputes errors while an artist scrubs, so :func:`frame_errors`
runs forward kinematics level by level over component-major arrays: one numpy
operation per tree depth instead of per joint and per quaternion component.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from . import corruption as corruption_module
from . import filters
from .clip import Clip
from .corruption import Corruption
from .errors import MocapError
from .modes import PoseModel
from .skeleton import Skeleton

FloatArray = NDArray[np.float64]

VARIANTS = ("reconstruction", "noisy", "denoised", "butterworth", "savgol", "despike")
"""Every variant the evaluation can report, in table order (``despike``: peak remover + Butterworth)."""

MODEL_VARIANTS = ("reconstruction", "denoised")
BASELINE_VARIANTS = ("butterworth", "savgol", "despike")
"""The classical variants; ``classical`` in the summary is the best of them."""

VERTEX_DISTANCE_CM = 3.0
"""How far the virtual vertices sit from their joint (ACL's default)."""

TABLE_COLUMNS = ("mean_angle_deg", "p99_angle_deg", "mean_position_cm", "mean_vertex_cm", "max_vertex_cm")
"""The all-joint numbers of each variant (the summary's original keys)."""

ANIMATED_COLUMNS = ("mean_angle_deg", "p99_angle_deg", "max_angle_deg", "mean_vertex_cm", "max_vertex_cm")
"""The numbers of each variant's ``animated`` block: the headline."""

SELECTION_METRIC = "animated_mean_angle_deg"
"""What the filters' settings and ``classical`` are picked on: the mean angle over the animated joints."""
ORACLE_NOTE = "evaluated clips (oracle)"

TABLE_NOTE = (
    "animated: the joints that move more than 0.1 deg in the clean clip (the headline); all: every joint.\n"
    "deg: geodesic angle of each joint's local rotation, mean / 99th percentile / max over frames and joints.\n"
    "vert cm: ACL's virtual-vertex error, the largest distance of three points 3 cm from each joint along its\n"
    "axes (root pinned), mean over frames and joints; max vert: its largest value anywhere."
)
"""What the columns of :func:`format_table` mean, printed under it."""

SUMMARY_FORMAT = "mocap-ae.evaluation"


@dataclass
class FrameErrors:
    """Errors of one candidate against its reference, frame by frame.

    Attributes:
        angle_deg: (F, J-1) geodesic angle of each local rotation, degrees.
        position_cm: (F, J-1) joint position error, root pinned, cm.
        vertex_cm: (F, J-1) largest of the three virtual-vertex errors, cm.
        joint_names: The J-1 joint names (root excluded), column order.
        animated: (F, J-1) True where the joint moves in the reference clip
            of that frame (:func:`maya_tool.corruption.animated_mask` per
            clip), or None: every joint counts as animated.
    """

    angle_deg: FloatArray
    position_cm: FloatArray
    vertex_cm: FloatArray
    joint_names: list[str]
    animated: NDArray[np.bool_] | None = None

    @property
    def frames(self) -> int:
        return int(self.angle_deg.shape[0])

    def slice(self, start: int, stop: int) -> "FrameErrors":
        """Frames ``start:stop``, e.g. one clip of a pooled evaluation."""
        return FrameErrors(
            self.angle_deg[start:stop],
            self.position_cm[start:stop],
            self.vertex_cm[start:stop],
            list(self.joint_names),
            None if self.animated is None else self.animated[start:stop],
        )

    def animated_mask(self) -> NDArray[np.bool_]:
        """(F, J-1) the entries that count as animated (all of them without a mask)."""
        if self.animated is None:
            return np.ones(self.angle_deg.shape, dtype=bool)
        return np.broadcast_to(np.asarray(self.animated, dtype=bool), self.angle_deg.shape)

    @property
    def animated_joints(self) -> list[str]:
        """Names of the joints animated in any frame."""
        moving = self.animated_mask().any(axis=0) if self.frames else np.zeros(len(self.joint_names), dtype=bool)
        return [name for name, m in zip(self.joint_names, moving) if m]

    @classmethod
    def concatenate(cls, parts: Sequence["FrameErrors"]) -> "FrameErrors":
        """Pool frames of several clips that share a joint layout."""
        if not parts:
            raise ValueError("nothing to concatenate: no frame errors given")
        names = parts[0].joint_names
        for part in parts[1:]:
            if part.joint_names != names:
                raise ValueError("cannot pool errors of clips with different joints")
        masked = any(p.animated is not None for p in parts)
        return cls(
            np.concatenate([p.angle_deg for p in parts]),
            np.concatenate([p.position_cm for p in parts]),
            np.concatenate([p.vertex_cm for p in parts]),
            list(names),
            np.concatenate([p.animated_mask() for p in parts]) if masked else None,
        )

    def summary(self) -> dict[str, Any]:
        """The JSON block of one variant: all-joint means, p99 and max, and the same over the animated joints.

        The top-level keys are over all joints (as they always were);
        ``animated`` holds :data:`ANIMATED_COLUMNS` (plus ``mean_position_cm``
        and the joints' names) over the animated entries only: the headline.
        """
        empty = self.angle_deg.size == 0

        def stat(fn: Any, values: FloatArray) -> float | None:
            return None if values.size == 0 else float(fn(values))

        mask = self.animated_mask()
        moving = self.angle_deg[mask], self.position_cm[mask], self.vertex_cm[mask]
        return {
            "mean_angle_deg": stat(np.mean, self.angle_deg),
            "p99_angle_deg": None if empty else float(np.percentile(self.angle_deg, 99.0)),
            "max_angle_deg": stat(np.max, self.angle_deg),
            "mean_position_cm": stat(np.mean, self.position_cm),
            "mean_vertex_cm": stat(np.mean, self.vertex_cm),
            "max_vertex_cm": stat(np.max, self.vertex_cm),
            "animated": {
                "joints": self.animated_joints,
                "mean_angle_deg": stat(np.mean, moving[0]),
                "p99_angle_deg": None if moving[0].size == 0 else float(np.percentile(moving[0], 99.0)),
                "max_angle_deg": stat(np.max, moving[0]),
                "mean_position_cm": stat(np.mean, moving[1]),
                "mean_vertex_cm": stat(np.mean, moving[2]),
                "max_vertex_cm": stat(np.max, moving[2]),
            },
            "per_joint": {
                "names": list(self.joint_names),
                "mean_angle_deg": [] if empty else [float(v) for v in self.angle_deg.mean(axis=0)],
                "mean_position_cm": [] if empty else [float(v) for v in self.position_cm.mean(axis=0)],
                "animated": [] if empty else [bool(v) for v in mask.any(axis=0)],
            },
        }


@dataclass
class _PoseState:
    """Everything the errors need about one pose sequence, component-major.

    ``rotations`` are the local rotations (4, J-1, F); ``positions`` the joint
    positions (3, J, F) with the root pinned; ``axes[k, c]`` component ``c`` of
    the joint's local axis ``k`` in object space, (3, 3, J, F).
    """

    rotations: FloatArray
    positions: FloatArray
    axes: FloatArray


def _levels(parents: NDArray[np.int64]) -> list[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """(joints, their parents) grouped by depth below the root, shallowest first."""
    depth = np.zeros(len(parents), dtype=np.int64)
    for j in range(1, len(parents)):
        depth[j] = depth[parents[j]] + 1
    return [(np.flatnonzero(depth == d), parents[depth == d]) for d in range(1, int(depth.max(initial=0)) + 1)]


def _pose_state(skeleton: Skeleton, joint_rotations: FloatArray) -> _PoseState:
    """Forward kinematics with the root at the origin and unrotated.

    Equivalent to :func:`kinematics.pose_positions` (tested), but one pass per
    tree level and with each joint's axes (rotation-matrix columns) kept for
    the virtual vertices.
    """
    rots = np.asarray(joint_rotations, dtype=np.float64)
    frames = rots.shape[0]
    joints = skeleton.num_joints
    if rots.shape != (frames, joints - 1, 4):
        raise ValueError(f"expected joint rotations of shape (frames, {joints - 1}, 4), got {rots.shape}")
    local = np.empty((4, joints, frames))
    local[:, 0] = 0.0
    local[3, 0] = 1.0
    local[:, 1:] = rots.transpose(2, 1, 0)
    world = np.empty_like(local)
    world[:, 0] = local[:, 0]
    positions = np.zeros((3, joints, frames))
    axes = np.zeros((3, 3, joints, frames))
    for k in range(3):
        axes[k, k, 0] = 1.0
    offsets = skeleton.offsets
    for idx, par in _levels(skeleton.parents):
        px, py, pz, pw = world[:, par]
        lx, ly, lz, lw = local[:, idx]
        x = pw * lx + px * lw + py * lz - pz * ly
        y = pw * ly - px * lz + py * lw + pz * lx
        z = pw * lz + px * ly - py * lx + pz * lw
        w = pw * lw - px * lx - py * ly - pz * lz
        world[0, idx], world[1, idx], world[2, idx], world[3, idx] = x, y, z, w
        parent_axes = axes[:, :, par]
        off = offsets[idx].T[:, :, None]
        positions[:, idx] = (
            positions[:, par] + parent_axes[0] * off[0] + parent_axes[1] * off[1] + parent_axes[2] * off[2]
        )
        xx, yy, zz = x * x, y * y, z * z
        xy, xz, yz = x * y, x * z, y * z
        wx, wy, wz = w * x, w * y, w * z
        axes[0, 0, idx], axes[0, 1, idx], axes[0, 2, idx] = 1 - 2 * (yy + zz), 2 * (xy + wz), 2 * (xz - wy)
        axes[1, 0, idx], axes[1, 1, idx], axes[1, 2, idx] = 2 * (xy - wz), 1 - 2 * (xx + zz), 2 * (yz + wx)
        axes[2, 0, idx], axes[2, 1, idx], axes[2, 2, idx] = 2 * (xz + wy), 2 * (yz - wx), 1 - 2 * (xx + yy)
    return _PoseState(rotations=local[:, 1:], positions=positions, axes=axes)


def _geodesic_deg(a: FloatArray, b: FloatArray) -> FloatArray:
    """Component-major :func:`quaternion.geodesic_angle` in degrees (tested equal)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    rw = ax * bx + ay * by + az * bz + aw * bw
    rx = aw * bx - bw * ax - (ay * bz - az * by)
    ry = aw * by - bw * ay - (az * bx - ax * bz)
    rz = aw * bz - bw * az - (ax * by - ay * bx)
    return np.degrees(2.0 * np.arctan2(np.sqrt(rx * rx + ry * ry + rz * rz), np.abs(rw)))


def _animated(reference_rotations: FloatArray) -> NDArray[np.bool_]:
    """(J-1,) joints that move in the reference: :func:`maya_tool.corruption.animated_mask`."""
    return corruption_module.animated_mask(reference_rotations)


def _compare(
    reference: _PoseState, candidate: _PoseState, names: list[str], animated: NDArray[np.bool_] | None = None
) -> FrameErrors:
    angle = _geodesic_deg(reference.rotations, candidate.rotations)
    delta = candidate.positions[:, 1:] - reference.positions[:, 1:]
    position = np.sqrt(np.einsum("cjf,cjf->jf", delta, delta))
    vertex_delta = delta[None] + VERTEX_DISTANCE_CM * (candidate.axes[:, :, 1:] - reference.axes[:, :, 1:])
    vertex = np.sqrt(np.einsum("kcjf,kcjf->kjf", vertex_delta, vertex_delta)).max(axis=0)
    frames = angle.shape[1]
    return FrameErrors(
        angle_deg=np.ascontiguousarray(angle.T),
        position_cm=np.ascontiguousarray(position.T),
        vertex_cm=np.ascontiguousarray(vertex.T),
        joint_names=names,
        animated=None if animated is None else np.broadcast_to(np.asarray(animated, dtype=bool), (frames, len(names))),
    )


def rotation_errors(skeleton: Skeleton, reference: FloatArray, candidate: FloatArray) -> FrameErrors:
    """:func:`frame_errors` on bare (F, J-1, 4) joint rotations of ``skeleton``.

    Model outputs are rotation arrays; this spares building clips for them.
    """
    reference = np.asarray(reference, dtype=np.float64)
    candidate = _comparable_rotations(candidate, reference.shape)
    names = list(skeleton.names[1:])
    return _compare(_pose_state(skeleton, reference), _pose_state(skeleton, candidate), names, _animated(reference))


def _comparable_rotations(candidate: Any, shape: tuple[int, ...]) -> FloatArray:
    """``candidate`` as float64 rotations, refused unless shaped like the reference's ``shape``."""
    rotations = np.asarray(candidate, dtype=np.float64)
    if rotations.shape != shape:
        raise MocapError(f"cannot compare rotations of shape {rotations.shape} with a reference of shape {shape}")
    return rotations


def _check_comparable(reference: Clip, candidate: Clip) -> None:
    if not reference.skeleton.same_layout(candidate.skeleton):
        ref_names, cand_names = reference.skeleton.names, candidate.skeleton.names
        differ = [n for n in ref_names if n not in cand_names] + [n for n in cand_names if n not in ref_names]
        detail = f"joints {', '.join(differ)} are not in both" if differ else "joint order or parents differ"
        raise MocapError(f"cannot compare clips with different skeletons: {detail}", path=candidate.source.get("path"))
    if reference.num_frames != candidate.num_frames:
        raise MocapError(
            f"cannot compare a clip of {candidate.num_frames} frames with a reference of {reference.num_frames}",
            path=candidate.source.get("path"),
        )


def frame_errors(reference: Clip, candidate: Clip) -> FrameErrors:
    """Per-frame, per-joint angle, position and virtual-vertex errors.

    Both clips are posed on the reference skeleton, so only rotations count:
    a candidate with other bone lengths is not penalised for them. The
    animated joints are those that move in the reference.

    Raises:
        MocapError: When the clips differ in joints or frame count.
    """
    _check_comparable(reference, candidate)
    return rotation_errors(reference.skeleton, reference.joint_rotations, candidate.joint_rotations)


class ErrorReference:
    """A reference clip posed once, for comparing many candidates against it.

    The panel compares the same original with a new variant every time the
    noise slider moves; keeping the reference's forward kinematics halves the
    work of each :func:`frame_errors` call. The clip must not be modified
    while this object is in use.
    """

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self.joint_names = list(clip.skeleton.names[1:])
        self._state = _pose_state(clip.skeleton, clip.joint_rotations)
        self.animated = _animated(clip.joint_rotations)

    def errors(self, candidate: Clip | FloatArray) -> FrameErrors:
        """Errors of a clip, or of bare (F, J-1, 4) joint rotations, against the reference.

        Raises:
            MocapError: When the candidate differs in joints or frame count.
        """
        if isinstance(candidate, Clip):
            _check_comparable(self.clip, candidate)
            rotations = candidate.joint_rotations
        else:
            rotations = _comparable_rotations(candidate, self.clip.joint_rotations.shape)
        return _compare(self._state, _pose_state(self.clip.skeleton, rotations), self.joint_names, self.animated)


@dataclass
class Evaluation:
    """The comparison over one or more clips, frames pooled in clip order.

    Attributes:
        errors: Variant name -> pooled :class:`FrameErrors`; model variants
            only with a model, filter variants only with baselines.
        clips: Per clip ``{"name", "path", "frames", "fps", "start",
            "still_joints"}``; ``start`` is the clip's first row in the pooled
            errors.
        sigma: The Gaussian sigma of the corruption (per quaternion component).
        model: ``{"name", "path", "architecture"}`` of the model, or None.
        ratio: The model's compression ratio, if it has one.
        bits_per_frame: The model's latent size in bits per frame.
        butterworth_cutoff_hz: The cutoff that did best on these clips.
        butterworth_scores: Cutoff -> pooled animated-joint mean angle (deg),
            what the cutoff is picked on.
        savgol_window: Best Savitzky-Golay window (frames).
        savgol_order: Best Savitzky-Golay polynomial order.
        savgol_scores: (window, order) -> pooled animated-joint mean angle (deg).
        corruption: What ``noisy`` is (default: Gaussian at ``sigma``).
        seed: Seeds the corruption's pops and gaps, the same for every clip.
        butterworth_all_scores: Cutoff -> pooled all-joint mean angle (deg).
        savgol_all_scores: (window, order) -> pooled all-joint mean angle.
        despike_window: Best peak-remover window (frames).
        despike_threshold: Best peak-remover threshold (robust deviations).
        despike_cutoff_hz: Best Butterworth cutoff after it; None: no low-pass.
        despike_scores: (window, threshold, cutoff) -> pooled animated-joint
            mean angle, for every setting the coordinate descent tried.
        despike_all_scores: The same over all joints.
    """

    errors: dict[str, FrameErrors]
    clips: list[dict[str, Any]]
    sigma: float
    model: dict[str, Any] | None = None
    ratio: float | None = None
    bits_per_frame: float | None = None
    butterworth_cutoff_hz: float | None = None
    butterworth_scores: dict[float, float] = field(default_factory=dict)
    savgol_window: int | None = None
    savgol_order: int | None = None
    savgol_scores: dict[tuple[int, int], float] = field(default_factory=dict)
    corruption: Corruption | None = None
    seed: int = 0
    butterworth_all_scores: dict[float, float] = field(default_factory=dict)
    savgol_all_scores: dict[tuple[int, int], float] = field(default_factory=dict)
    despike_window: int | None = None
    despike_threshold: float | None = None
    despike_cutoff_hz: float | None = None
    despike_scores: dict[tuple[int, float, float | None], float] = field(default_factory=dict)
    despike_all_scores: dict[tuple[int, float, float | None], float] = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return int(sum(c["frames"] for c in self.clips))

    @property
    def joint_names(self) -> list[str]:
        first = next(iter(self.errors.values()), None)
        return list(first.joint_names) if first is not None else []

    @property
    def animated_joints(self) -> list[str]:
        """Joints animated in at least one clip (each clip's figures use its own)."""
        first = next(iter(self.errors.values()), None)
        return first.animated_joints if first is not None else []

    @property
    def setting(self) -> Corruption:
        """The corruption, Gaussian at :attr:`sigma` when none was recorded."""
        return self.corruption if self.corruption is not None else corruption_module.make("gaussian", sigma=self.sigma)

    def clip_errors(self, index: int) -> dict[str, FrameErrors]:
        """The errors of one clip, cut out of the pooled arrays."""
        info = self.clips[index]
        start = int(info["start"])
        return {k: v.slice(start, start + int(info["frames"])) for k, v in self.errors.items()}

    @property
    def classical(self) -> str | None:
        """The classical variant with the lowest animated-joint mean angle, or None without baselines."""
        scored = []
        for variant in BASELINE_VARIANTS:
            if variant in self.errors:
                block = self.errors[variant].summary()["animated"]
                if block["mean_angle_deg"] is not None:
                    scored.append((block["mean_angle_deg"], variant))
        return min(scored)[1] if scored else None

    def settings(self, variant: str) -> dict[str, Any]:
        """The chosen settings of a classical variant, as the summary writes them."""
        if variant == "butterworth":
            return {"cutoff_hz": self.butterworth_cutoff_hz, "order": 2}
        if variant == "savgol":
            return {"window": self.savgol_window, "order": self.savgol_order}
        if variant == "despike":
            return {
                "window": self.despike_window,
                "threshold": self.despike_threshold,
                "cutoff_hz": self.despike_cutoff_hz,
                "order": 2,
            }
        return {}

    def label(self, variant: str) -> str:
        """A short name with the chosen settings, for tables and plot legends."""
        if variant == "butterworth" and self.butterworth_cutoff_hz is not None:
            return f"butter {self.butterworth_cutoff_hz:g}Hz"
        if variant == "savgol" and self.savgol_window is not None:
            return f"savgol {self.savgol_window}/{self.savgol_order}"
        if variant == "despike" and self.despike_window is not None:
            after = "" if self.despike_cutoff_hz is None else f"+bw {self.despike_cutoff_hz:g}Hz"
            return f"despike {self.despike_window}/{self.despike_threshold:g}{after}"
        return variant

    def summary(self) -> dict[str, Any]:
        """The JSON the CLI writes and the README table is made from.

        Variants that were not computed are null, so the keys are the same
        whether or not a model was given. Each variant's top-level figures
        are over all joints; its ``animated`` block is the headline.
        """
        out: dict[str, Any] = {"format": SUMMARY_FORMAT, "version": 2}
        for variant in VARIANTS:
            out[variant] = self.errors[variant].summary() if variant in self.errors else None
        best = self.classical
        classical = None
        if best is not None:
            classical = {
                "variant": best,
                "label": self.label(best),
                "settings": self.settings(best),
                "selected_on": ORACLE_NOTE,
                **out[best],
            }
        setting = self.setting
        out.update(
            {
                "classical": classical,
                "animated_joints": self.animated_joints,
                "still_joints": [n for n in self.joint_names if n not in set(self.animated_joints)],
                "animated_threshold_deg": corruption_module.ANIMATED_THRESHOLD_DEG,
                "ratio": self.ratio,
                "bits_per_frame": self.bits_per_frame,
                "frames": self.frames,
                "sigma": self.sigma,
                "corruption": setting.to_dict(),
                "corruption_label": setting.describe(),
                "corruption_seed": int(self.seed),
                "noise_seed": "Gaussian noise: frame number (noise.add_noise), frame 0 = first frame of each clip; "
                "pops and gaps: corruption_seed, the same for every clip",
                "butterworth_cutoff_hz": self.butterworth_cutoff_hz,
                "butterworth_cutoff_selected_on": ORACLE_NOTE if self.butterworth_cutoff_hz is not None else None,
                "butterworth_sweep": [
                    {"cutoff_hz": float(c), "mean_angle_deg": self.butterworth_all_scores.get(c), SELECTION_METRIC: s}
                    for c, s in self.butterworth_scores.items()
                ],
                "savgol_window": self.savgol_window,
                "savgol_order": self.savgol_order,
                "savgol_selected_on": ORACLE_NOTE if self.savgol_window is not None else None,
                "savgol_sweep": [
                    {
                        "window": int(w), "order": int(o), "mean_angle_deg": self.savgol_all_scores.get((w, o)),
                        SELECTION_METRIC: s,
                    }
                    for (w, o), s in self.savgol_scores.items()
                ],
                "despike_window": self.despike_window,
                "despike_threshold": self.despike_threshold,
                "despike_cutoff_hz": self.despike_cutoff_hz,
                "despike_selected_on": ORACLE_NOTE if self.despike_window is not None else None,
                "despike_sweep": [
                    {
                        "window": int(w), "threshold": float(k), "cutoff_hz": c,
                        "mean_angle_deg": self.despike_all_scores.get((w, k, c)), SELECTION_METRIC: s,
                    }
                    for (w, k, c), s in self.despike_scores.items()
                ],
                "selection_metric": SELECTION_METRIC,
                "model": self.model,
                "clips": [dict(c) for c in self.clips],
            }
        )
        return out


def _model_info(model: PoseModel | None) -> dict[str, Any] | None:
    if model is None:
        return None
    path = getattr(model, "path", None)
    return {
        "name": str(getattr(model, "name", type(model).__name__)),
        "path": os.fspath(path) if path is not None else None,
        "architecture": getattr(model, "architecture", None),
    }


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _clip_info(clip: Clip, index: int, start: int, animated: NDArray[np.bool_]) -> dict[str, Any]:
    path = clip.source.get("path")
    name = Path(path).stem if path else f"clip{index + 1}"
    return {
        "name": name,
        "path": os.fspath(path) if path else None,
        "frames": clip.num_frames,
        "fps": clip.fps,
        "start": start,
        "still_joints": [n for n, moving in zip(clip.skeleton.names[1:], animated) if not moving],
    }


def resolve_corruption(corruption: str | Corruption | None = None, sigma: float | None = None) -> Corruption:
    """The corruption an evaluation applies: by name (its defaults) or as given; ``sigma`` overrides its sigma.

    No corruption means the tutorial's Gaussian noise (sigma 0.05 unless given).

    Raises:
        MocapError: For an unknown name or a sigma out of range.
    """
    if corruption is None or isinstance(corruption, str):
        return corruption_module.make(corruption or "gaussian", sigma=sigma)
    if sigma is None:
        return corruption
    return replace(corruption, sigma=corruption_module.check_sigma(sigma))


def corrupt(joint_rotations: FloatArray, corruption: Corruption, seed: int = 0) -> FloatArray:
    """A clip's (F, J-1, 4) joint rotations as the evaluation corrupts them.

    Gaussian noise seeded by the frame number (frame 0 = the clip's first), as
    the node does; pops and gaps seeded by ``seed``: the same clip and seed
    always give the same take, in the evaluation, the node and the panel.
    """
    rots = np.asarray(joint_rotations, dtype=np.float64)
    return corruption_module.corrupt_rotations(rots, corruption, seed=seed, frames=np.arange(len(rots)))


def model_outputs(
    model: PoseModel, clip: Clip, corruption: str | Corruption | None = None, seed: int = 0,
    sigma: float | None = None,
) -> dict[str, FloatArray]:
    """The model's ``reconstruction`` and ``denoised`` rotations of one clip.

    A function of (model, clip, corruption, seed) alone, so it can run in
    another process (one per clip) and be handed to :func:`evaluate_many` as
    ``model_outputs``: the part of an evaluation that costs a model's forward
    passes.

    Raises:
        ModelMismatchError: From the model when it does not fit the clip.
    """
    model.check_clip(clip)
    setting = resolve_corruption(corruption, sigma)
    clean = clip.joint_rotations
    return {
        "reconstruction": _reconstruct(model, clip, clean, "reconstruction"),
        "denoised": _reconstruct(model, clip, corrupt(clean, setting, seed), "denoised"),
    }


def evaluate_many(
    clips: Sequence[Clip],
    model: PoseModel | None = None,
    *,
    sigma: float | None = None,
    corruption: str | Corruption | None = None,
    seed: int = 0,
    baselines: bool = True,
    cutoffs: Sequence[float] = filters.DEFAULT_CUTOFFS_HZ,
    savgol_windows: Sequence[int] | None = None,
    savgol_orders: Sequence[int] = filters.DEFAULT_SAVGOL_ORDERS,
    despike_windows: Sequence[int] | None = None,
    despike_thresholds: Sequence[float] = filters.DEFAULT_DESPIKE_THRESHOLDS,
    outputs: Sequence[Mapping[str, FloatArray]] | None = None,
) -> Evaluation:
    """Evaluate a model and the classical filters over several clips, frames pooled.

    The filters' settings are swept on the pooled animated-joint error of
    these very clips: an oracle that favours the baselines, so a model that
    beats them beats their best case. The summary says so.

    Args:
        clips: Clips sharing one joint layout (e.g. every clip of a held-out
            subject).
        model: Anything with ``check_clip`` and ``reconstruct`` (a
            ``NumpyModel``, :class:`baselines.PCA`); None for corruption and
            filters only.
        sigma: Gaussian sigma per quaternion component; overrides the
            corruption's (default: the corruption's own, 0.05 for gaussian).
            0 with ``gaussian`` makes ``noisy`` equal the clean clip.
        corruption: A name of :data:`maya_tool.corruption.CORRUPTIONS` or a
            :class:`~maya_tool.corruption.Corruption`; default ``gaussian``.
        seed: Seeds pops and gaps; every clip gets the same seed.
        baselines: Whether to run the classical sweeps.
        cutoffs: Butterworth cutoffs to try, Hz (also after the peak remover).
        savgol_windows: Savitzky-Golay windows to try, frames; default from
            the first clip's fps (:func:`filters.default_savgol_windows`).
        savgol_orders: Savitzky-Golay polynomial orders to try.
        despike_windows: Peak-remover windows, frames; default from the first
            clip's fps (:func:`filters.default_despike_windows`).
        despike_thresholds: Peak-remover (Hampel) thresholds to try.
        outputs: The model's variants per clip, computed elsewhere with
            :func:`model_outputs` (same corruption and seed); the model then
            only names the result.

    Raises:
        MocapError: No clips, clips with different joints, a bad corruption.
        ModelMismatchError: From the model when it does not fit the clips.
    """
    if not clips:
        raise MocapError("nothing to evaluate: no clips given")
    setting = resolve_corruption(corruption, sigma)
    skeleton = clips[0].skeleton
    for clip in clips[1:]:
        if not skeleton.same_layout(clip.skeleton):
            raise MocapError(
                "all clips of one evaluation need the same joints as the first one", path=clip.source.get("path")
            )
    if outputs is not None and len(outputs) != len(clips):
        raise MocapError(f"model outputs for {len(outputs)} clips, but {len(clips)} clips to evaluate")
    if model is not None and outputs is None:
        for clip in clips:
            model.check_clip(clip)

    names = list(skeleton.names[1:])
    clean = [clip.joint_rotations for clip in clips]
    masks = [_animated(rots) for rots in clean]
    infos: list[dict[str, Any]] = []
    start = 0
    for i, (clip, mask) in enumerate(zip(clips, masks)):
        infos.append(_clip_info(clip, i, start, mask))
        start += clip.num_frames

    noisy = [corrupt(rots, setting, seed) for rots in clean]
    references = [_pose_state(clip.skeleton, rots) for clip, rots in zip(clips, clean)]

    candidates: dict[str, list[FloatArray]] = {"noisy": noisy}
    if outputs is not None:
        for variant in MODEL_VARIANTS:
            candidates[variant] = [
                _checked_output(np.asarray(o[variant], dtype=np.float64), clip, variant)
                for o, clip in zip(outputs, clips)
            ]
    elif model is not None:
        candidates["reconstruction"] = [_reconstruct(model, c, r, "reconstruction") for c, r in zip(clips, clean)]
        candidates["denoised"] = [_reconstruct(model, c, r, "denoised") for c, r in zip(clips, noisy)]

    evaluation = Evaluation(
        errors={},
        clips=infos,
        sigma=float(setting.sigma),
        model=_model_info(model),
        ratio=_optional_float(getattr(model, "ratio", None)),
        bits_per_frame=_optional_float(getattr(model, "bits_per_frame", None)),
        corruption=setting,
        seed=int(seed),
    )
    if baselines:
        _run_baselines(
            evaluation, candidates, [(c, n, clip.fps) for c, n, clip in zip(clean, noisy, clips)], masks,
            cutoffs, savgol_windows, savgol_orders, despike_windows, despike_thresholds,
        )

    for variant in VARIANTS:
        if variant in candidates:
            evaluation.errors[variant] = FrameErrors.concatenate(
                [
                    _compare(ref, _pose_state(clip.skeleton, rots), names, mask)
                    for clip, ref, rots, mask in zip(clips, references, candidates[variant], masks)
                ]
            )
    return evaluation


def _run_baselines(
    evaluation: Evaluation,
    candidates: dict[str, list[FloatArray]],
    triples: list[filters.Triple],
    masks: list[NDArray[np.bool_]],
    cutoffs: Sequence[float],
    savgol_windows: Sequence[int] | None,
    savgol_orders: Sequence[int],
    despike_windows: Sequence[int] | None,
    despike_thresholds: Sequence[float],
) -> None:
    """The three classical sweeps, picked on the pooled animated-joint error; fills ``evaluation``."""
    fps = triples[0][2]
    butter = filters.sweep_butterworth(triples, cutoffs=cutoffs, animated=masks)
    windows = savgol_windows if savgol_windows is not None else filters.default_savgol_windows(fps)
    savgol = filters.sweep_savgol(triples, windows=windows, orders=savgol_orders, animated=masks)
    despike = filters.sweep_despike(
        triples,
        windows=despike_windows if despike_windows is not None else filters.default_despike_windows(fps),
        thresholds=despike_thresholds,
        cutoffs=(None, *cutoffs),
        animated=masks,
        start_cutoff=butter.best,
    )
    candidates["butterworth"] = butter.outputs
    candidates["savgol"] = savgol.outputs
    candidates["despike"] = despike.outputs
    evaluation.butterworth_cutoff_hz = float(butter.best)
    evaluation.butterworth_scores = dict(butter.scores)
    evaluation.butterworth_all_scores = dict(butter.all_scores)
    evaluation.savgol_window, evaluation.savgol_order = (int(v) for v in savgol.best)
    evaluation.savgol_scores = dict(savgol.scores)
    evaluation.savgol_all_scores = dict(savgol.all_scores)
    window, threshold, cutoff = despike.best
    evaluation.despike_window, evaluation.despike_threshold = int(window), float(threshold)
    evaluation.despike_cutoff_hz = None if cutoff is None else float(cutoff)
    evaluation.despike_scores = dict(despike.scores)
    evaluation.despike_all_scores = dict(despike.all_scores)


def _checked_output(out: FloatArray, clip: Clip, variant: str) -> FloatArray:
    """``out`` unless shaped otherwise than the clip's joint rotations."""
    shape = clip.joint_rotations.shape
    if out.shape != shape:
        raise MocapError(
            f"{variant}: the model returned rotations of shape {out.shape} for a clip of shape {shape}",
            path=clip.source.get("path"),
        )
    return out


def _reconstruct(model: PoseModel, clip: Clip, rotations: FloatArray, variant: str) -> FloatArray:
    """The model's output for ``rotations`` of ``clip``, refused unless shaped like its input.

    Checked here, where the model runs: noise and filters keep the shape by
    construction, a model need not.
    """
    return _checked_output(np.asarray(model.reconstruct(rotations), dtype=np.float64), clip, variant)


def evaluate_clip(clip: Clip, model: PoseModel | None = None, **options: Any) -> Evaluation:
    """:func:`evaluate_many` on one clip; ``options`` are its keyword arguments.

    Forwarded rather than repeated, so the two signatures cannot drift apart.
    """
    return evaluate_many([clip], model, **options)


def read_clips(
    paths: Sequence[str | os.PathLike[str]], preset: str = "auto", fps: float | None = None
) -> list[Clip]:
    """Every clip under ``paths`` (files or folders, found as ``data build`` finds them), in that order.

    The preset applies to BVH and AMC only; ``fps`` resamples each clip.
    """
    from .dataset import collect_files
    from .io import read_clip

    clips = []
    for path in collect_files(paths):
        clip = read_clip(path, preset=preset)
        clip.source.setdefault("path", str(path))
        if fps:
            clip = clip.resample(fps)
        clips.append(clip)
    return clips


def load_model_spec(spec: Any) -> PoseModel:
    """A model from a path (sidecar, weights or stem), ``pca:PATH.npz``, or a model object as is.

    Raises:
        MocapError: When the file is missing or unreadable.
    """
    if not isinstance(spec, (str, os.PathLike)):
        return spec
    text = os.fspath(spec)
    if text.startswith("pca:"):
        from .baselines import PCA

        return PCA.load(text[len("pca:"):])
    from .models.runtime import load_model

    return load_model(text)


def _figures(block: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "animated": {k: block["animated"][k] for k in ANIMATED_COLUMNS},
        "all": {k: block[k] for k in ("mean_angle_deg", "p99_angle_deg", "max_angle_deg", "mean_vertex_cm",
                                      "max_vertex_cm")},
    }


def compare_on_clips(
    model: Any,
    paths: Sequence[str | os.PathLike[str]],
    corruption: str | Corruption = "gaussian",
    seed: int = 0,
    *,
    sigma: float | None = None,
    preset: str = "auto",
    fps: float | None = None,
    baselines: bool = True,
) -> dict[str, Any]:
    """A model against the best classical filter on clips: the figures the README's tables are built from.

    Args:
        model: A model object, a model path, or ``pca:PATH.npz``.
        paths: Motion files or folders (e.g. ``$MOCAP_AE_DATA/subjects/02``).
        corruption: A corruption name (its defaults) or setting.
        seed: Seeds pops and gaps.
        sigma: Overrides the corruption's Gaussian sigma.
        preset: Reader preset for BVH and AMC.
        fps: Resample every clip first.
        baselines: Whether to run the classical sweeps.

    Returns:
        ``{"model", "corruption", "corruption_seed", "frames", "clips",
        "animated_joints", "variants": {name: {"animated": {...}, "all":
        {...}}}, "classical": {"variant", "label", "settings", "animated",
        "all"} or None, "denoised_vs_classical", "denoised_vs_best_filter",
        "summary"}``; the two ratios are animated-joint mean angles: the
        denoised model over ``classical``, and over the better of the best
        Butterworth and the best Savitzky-Golay. ``summary`` is the full
        :meth:`Evaluation.summary`.
    """
    loaded = load_model_spec(model) if model is not None else None
    clips = read_clips(paths, preset=preset, fps=fps)
    summary = evaluate_many(clips, loaded, corruption=corruption, sigma=sigma, seed=seed, baselines=baselines).summary()
    variants = {v: _figures(summary[v]) for v in VARIANTS if summary.get(v)}
    classical = summary.get("classical")
    result: dict[str, Any] = {
        "model": summary["model"],
        "corruption": summary["corruption"],
        "corruption_seed": summary["corruption_seed"],
        "frames": summary["frames"],
        "clips": [c["name"] for c in summary["clips"]],
        "animated_joints": summary["animated_joints"],
        "variants": variants,
        "classical": None if classical is None else {
            "variant": classical["variant"], "label": classical["label"], "settings": classical["settings"],
            **_figures(classical),
        },
        "denoised_vs_classical": None,
        "denoised_vs_best_filter": None,
        "summary": summary,
    }
    denoised = variants.get("denoised")
    if denoised and classical:
        ours = denoised["animated"]["mean_angle_deg"]
        result["denoised_vs_classical"] = ours / classical["animated"]["mean_angle_deg"]
        filtered = [variants[v]["animated"]["mean_angle_deg"] for v in ("butterworth", "savgol") if v in variants]
        result["denoised_vs_best_filter"] = ours / min(filtered)
    return result


def _row(label: str, block: Mapping[str, Any]) -> str:
    moving = block["animated"]
    values = [moving[k] for k in ANIMATED_COLUMNS] + [block[k] for k in ("mean_angle_deg", "mean_vertex_cm",
                                                                        "max_vertex_cm")]
    cells = ["       -" if v is None else f"{v:8.3f}" for v in values]
    return f"{label:<24} " + " ".join(cells[:5]) + " | " + " ".join(cells[5:])


def format_table(summary: dict[str, Any]) -> str:
    """The plain-text table the CLI prints: one row per variant, animated joints first, then all joints.

    The best classical variant is marked ``*``; :data:`TABLE_NOTE`, under
    the rows, says what every column is.
    """
    names = (summary.get("noisy") or {}).get("per_joint", {}).get("names", [])
    moving = summary.get("animated_joints")
    count = f"{len(moving)} of {len(names)}" if moving is not None and names else "?"
    columns = ["mean deg", "p99 deg", "max deg", "vert cm", "max vert"]
    header = f"{'variant':<24} " + " ".join(f"{c:>8}" for c in columns) + " | " + " ".join(
        f"{c:>8}" for c in ("mean deg", "vert cm", "max vert")
    )
    split = header.index("|")
    title = f"{'':<24} " + f"animated joints ({count})".center(split - 26) + " | " + "all joints".center(26)
    lines = [title.rstrip(), header, "-" * len(header)]
    best = (summary.get("classical") or {}).get("variant")
    labels = {
        "butterworth": ("butterworth_cutoff_hz", lambda s: f"butter {s['butterworth_cutoff_hz']:g}Hz"),
        "savgol": ("savgol_window", lambda s: f"savgol {s['savgol_window']}/{s['savgol_order']}"),
        "despike": (
            "despike_window",
            lambda s: f"despike {s['despike_window']}/{s['despike_threshold']:g}"
            + ("" if s.get("despike_cutoff_hz") is None else f"+bw {s['despike_cutoff_hz']:g}Hz"),
        ),
    }
    for variant in VARIANTS:
        block = summary.get(variant)
        if not block:
            continue
        label = variant
        if variant in labels and summary.get(labels[variant][0]) is not None:
            label = labels[variant][1](summary)
        if variant == best:
            label += " *"
        lines.append(_row(label, block))
    lines.append("")
    if best:
        lines.append("* classical: the best classical filter, settings swept on these clips (oracle)")
    lines.extend(TABLE_NOTE.splitlines())
    return "\n".join(lines)
