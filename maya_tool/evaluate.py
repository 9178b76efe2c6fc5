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
model on clean input (``reconstruction``), the node's noise (``noisy``), the
model on that noise (``denoised``) and the two classical filters on the same
noise, each at its best setting.

The panel recomputes errors while an artist scrubs, so :func:`frame_errors`
runs forward kinematics level by level over component-major arrays: one numpy
operation per tree depth instead of per joint and per quaternion component.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from . import filters
from .clip import Clip
from .errors import MocapError
from .modes import PoseModel
from .noise import add_noise
from .skeleton import Skeleton

FloatArray = NDArray[np.float64]

VARIANTS = ("reconstruction", "noisy", "denoised", "butterworth", "savgol")
"""Every variant the evaluation can report, in table order."""

MODEL_VARIANTS = ("reconstruction", "denoised")
BASELINE_VARIANTS = ("butterworth", "savgol")

VERTEX_DISTANCE_CM = 3.0
"""How far the virtual vertices sit from their joint (ACL's default)."""

TABLE_COLUMNS = ("mean_angle_deg", "p99_angle_deg", "mean_position_cm", "mean_vertex_cm", "max_vertex_cm")
"""The headline numbers of each variant, in the order the CLI table prints them."""

SELECTION_METRIC = "mean_angle_deg"
ORACLE_NOTE = "evaluated clips (oracle)"

SUMMARY_FORMAT = "mocap-ae.evaluation"


@dataclass
class FrameErrors:
    """Errors of one candidate against its reference, frame by frame.

    Attributes:
        angle_deg: (F, J-1) geodesic angle of each local rotation, degrees.
        position_cm: (F, J-1) joint position error, root pinned, cm.
        vertex_cm: (F, J-1) largest of the three virtual-vertex errors, cm.
        joint_names: The J-1 joint names (root excluded), column order.
    """

    angle_deg: FloatArray
    position_cm: FloatArray
    vertex_cm: FloatArray
    joint_names: list[str]

    @property
    def frames(self) -> int:
        return int(self.angle_deg.shape[0])

    def slice(self, start: int, stop: int) -> "FrameErrors":
        """Frames ``start:stop``, e.g. one clip of a pooled evaluation."""
        return FrameErrors(
            self.angle_deg[start:stop], self.position_cm[start:stop], self.vertex_cm[start:stop], list(self.joint_names)
        )

    @classmethod
    def concatenate(cls, parts: Sequence["FrameErrors"]) -> "FrameErrors":
        """Pool frames of several clips that share a joint layout."""
        if not parts:
            raise ValueError("nothing to concatenate: no frame errors given")
        names = parts[0].joint_names
        for part in parts[1:]:
            if part.joint_names != names:
                raise ValueError("cannot pool errors of clips with different joints")
        return cls(
            np.concatenate([p.angle_deg for p in parts]),
            np.concatenate([p.position_cm for p in parts]),
            np.concatenate([p.vertex_cm for p in parts]),
            list(names),
        )

    def summary(self) -> dict[str, Any]:
        """The JSON block of one variant: means over frames and joints, p99, max."""
        empty = self.angle_deg.size == 0

        def stat(fn: Any, values: FloatArray) -> float | None:
            return None if empty else float(fn(values))

        return {
            "mean_angle_deg": stat(np.mean, self.angle_deg),
            "p99_angle_deg": None if empty else float(np.percentile(self.angle_deg, 99.0)),
            "mean_position_cm": stat(np.mean, self.position_cm),
            "mean_vertex_cm": stat(np.mean, self.vertex_cm),
            "max_vertex_cm": stat(np.max, self.vertex_cm),
            "per_joint": {
                "names": list(self.joint_names),
                "mean_angle_deg": [] if empty else [float(v) for v in self.angle_deg.mean(axis=0)],
                "mean_position_cm": [] if empty else [float(v) for v in self.position_cm.mean(axis=0)],
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


def _compare(reference: _PoseState, candidate: _PoseState, names: list[str]) -> FrameErrors:
    angle = _geodesic_deg(reference.rotations, candidate.rotations)
    delta = candidate.positions[:, 1:] - reference.positions[:, 1:]
    position = np.sqrt(np.einsum("cjf,cjf->jf", delta, delta))
    vertex_delta = delta[None] + VERTEX_DISTANCE_CM * (candidate.axes[:, :, 1:] - reference.axes[:, :, 1:])
    vertex = np.sqrt(np.einsum("kcjf,kcjf->kjf", vertex_delta, vertex_delta)).max(axis=0)
    return FrameErrors(
        angle_deg=np.ascontiguousarray(angle.T),
        position_cm=np.ascontiguousarray(position.T),
        vertex_cm=np.ascontiguousarray(vertex.T),
        joint_names=names,
    )


def rotation_errors(skeleton: Skeleton, reference: FloatArray, candidate: FloatArray) -> FrameErrors:
    """:func:`frame_errors` on bare (F, J-1, 4) joint rotations of ``skeleton``.

    Model outputs are rotation arrays; this spares building clips for them.
    """
    reference = np.asarray(reference, dtype=np.float64)
    candidate = _comparable_rotations(candidate, reference.shape)
    names = list(skeleton.names[1:])
    return _compare(_pose_state(skeleton, reference), _pose_state(skeleton, candidate), names)


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
    a candidate with other bone lengths is not penalised for them.

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
        return _compare(self._state, _pose_state(self.clip.skeleton, rotations), self.joint_names)


@dataclass
class Evaluation:
    """The comparison over one or more clips, frames pooled in clip order.

    Attributes:
        errors: Variant name -> pooled :class:`FrameErrors`; model variants
            only with a model, filter variants only with baselines.
        clips: Per clip ``{"name", "path", "frames", "fps", "start"}``; ``start``
            is the clip's first row in the pooled errors.
        sigma: The noise level (per quaternion component).
        model: ``{"name", "path", "architecture"}`` of the model, or None.
        ratio: The model's compression ratio, if it has one.
        bits_per_frame: The model's latent size in bits per frame.
        butterworth_cutoff_hz: The cutoff that did best on these clips.
        butterworth_scores: Cutoff -> pooled mean angle error (deg).
        savgol_window: Best Savitzky-Golay window (frames).
        savgol_order: Best Savitzky-Golay polynomial order.
        savgol_scores: (window, order) -> pooled mean angle error (deg).
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

    @property
    def frames(self) -> int:
        return int(sum(c["frames"] for c in self.clips))

    @property
    def joint_names(self) -> list[str]:
        first = next(iter(self.errors.values()), None)
        return list(first.joint_names) if first is not None else []

    def clip_errors(self, index: int) -> dict[str, FrameErrors]:
        """The errors of one clip, cut out of the pooled arrays."""
        info = self.clips[index]
        start = int(info["start"])
        return {k: v.slice(start, start + int(info["frames"])) for k, v in self.errors.items()}

    def summary(self) -> dict[str, Any]:
        """The JSON the CLI writes and the README table is made from.

        Variants that were not computed are null, so the keys are the same
        whether or not a model was given.
        """
        out: dict[str, Any] = {"format": SUMMARY_FORMAT, "version": 1}
        for variant in VARIANTS:
            out[variant] = self.errors[variant].summary() if variant in self.errors else None
        out.update(
            {
                "ratio": self.ratio,
                "bits_per_frame": self.bits_per_frame,
                "frames": self.frames,
                "sigma": self.sigma,
                "noise_seed": "frame number (noise.add_noise), frame 0 = first frame of each clip",
                "butterworth_cutoff_hz": self.butterworth_cutoff_hz,
                "butterworth_cutoff_selected_on": ORACLE_NOTE if self.butterworth_cutoff_hz is not None else None,
                "butterworth_sweep": [
                    {"cutoff_hz": float(c), SELECTION_METRIC: float(s)} for c, s in self.butterworth_scores.items()
                ],
                "savgol_window": self.savgol_window,
                "savgol_order": self.savgol_order,
                "savgol_selected_on": ORACLE_NOTE if self.savgol_window is not None else None,
                "savgol_sweep": [
                    {"window": int(w), "order": int(o), SELECTION_METRIC: float(s)}
                    for (w, o), s in self.savgol_scores.items()
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


def _clip_info(clip: Clip, index: int, start: int) -> dict[str, Any]:
    path = clip.source.get("path")
    name = Path(path).stem if path else f"clip{index + 1}"
    return {
        "name": name,
        "path": os.fspath(path) if path else None,
        "frames": clip.num_frames,
        "fps": clip.fps,
        "start": start,
    }


def evaluate_many(
    clips: Sequence[Clip],
    model: PoseModel | None = None,
    *,
    sigma: float = 0.05,
    baselines: bool = True,
    cutoffs: Sequence[float] = filters.DEFAULT_CUTOFFS_HZ,
    savgol_windows: Sequence[int] | None = None,
    savgol_orders: Sequence[int] = filters.DEFAULT_SAVGOL_ORDERS,
) -> Evaluation:
    """Evaluate a model and the filters over several clips, frames pooled.

    The filters' settings are swept on the pooled error of these very clips:
    an oracle that favours the baselines, so a model that beats them beats
    their best case. The summary says so.

    Args:
        clips: Clips sharing one joint layout (e.g. every clip of a held-out
            subject).
        model: Anything with ``check_clip`` and ``reconstruct`` (a
            ``NumpyModel``, :class:`baselines.PCA`); None for noise and
            filters only.
        sigma: Noise per quaternion component, seeded by frame as the node
            does; 0 makes ``noisy`` equal the clean clip.
        baselines: Whether to run the Butterworth and Savitzky-Golay sweeps.
        cutoffs: Butterworth cutoffs to try, Hz.
        savgol_windows: Savitzky-Golay windows to try, frames; default from
            the first clip's fps (:func:`filters.default_savgol_windows`).
        savgol_orders: Savitzky-Golay polynomial orders to try.

    Raises:
        MocapError: No clips, or clips with different joints.
        ModelMismatchError: From the model when it does not fit the clips.
    """
    if not clips:
        raise MocapError("nothing to evaluate: no clips given")
    skeleton = clips[0].skeleton
    for clip in clips[1:]:
        if not skeleton.same_layout(clip.skeleton):
            raise MocapError(
                "all clips of one evaluation need the same joints as the first one", path=clip.source.get("path")
            )
    if model is not None:
        for clip in clips:
            model.check_clip(clip)

    names = list(skeleton.names[1:])
    infos: list[dict[str, Any]] = []
    start = 0
    for i, clip in enumerate(clips):
        infos.append(_clip_info(clip, i, start))
        start += clip.num_frames

    clean = [clip.joint_rotations for clip in clips]
    noisy = [add_noise(rots, sigma, frames=np.arange(len(rots))) for rots in clean]
    references = [_pose_state(clip.skeleton, rots) for clip, rots in zip(clips, clean)]

    candidates: dict[str, list[FloatArray]] = {"noisy": noisy}
    if model is not None:
        candidates["reconstruction"] = [_reconstruct(model, c, r, "reconstruction") for c, r in zip(clips, clean)]
        candidates["denoised"] = [_reconstruct(model, c, r, "denoised") for c, r in zip(clips, noisy)]

    evaluation = Evaluation(
        errors={},
        clips=infos,
        sigma=float(sigma),
        model=_model_info(model),
        ratio=_optional_float(getattr(model, "ratio", None)),
        bits_per_frame=_optional_float(getattr(model, "bits_per_frame", None)),
    )
    if baselines:
        triples = [(c, n, clip.fps) for c, n, clip in zip(clean, noisy, clips)]
        butter = filters.sweep_butterworth(triples, cutoffs=cutoffs)
        windows = savgol_windows if savgol_windows is not None else filters.default_savgol_windows(clips[0].fps)
        savgol = filters.sweep_savgol(triples, windows=windows, orders=savgol_orders)
        candidates["butterworth"] = butter.outputs
        candidates["savgol"] = savgol.outputs
        evaluation.butterworth_cutoff_hz = float(butter.best)
        evaluation.butterworth_scores = dict(butter.scores)
        evaluation.savgol_window, evaluation.savgol_order = (int(v) for v in savgol.best)
        evaluation.savgol_scores = dict(savgol.scores)

    for variant in VARIANTS:
        if variant in candidates:
            evaluation.errors[variant] = FrameErrors.concatenate(
                [
                    _compare(ref, _pose_state(clip.skeleton, rots), names)
                    for clip, ref, rots in zip(clips, references, candidates[variant])
                ]
            )
    return evaluation


def _reconstruct(model: PoseModel, clip: Clip, rotations: FloatArray, variant: str) -> FloatArray:
    """The model's output for ``rotations`` of ``clip``, refused unless shaped like its input.

    Checked here, where the model runs: noise and filters keep the shape by
    construction, a model need not.
    """
    out = np.asarray(model.reconstruct(rotations), dtype=np.float64)
    if out.shape != rotations.shape:
        raise MocapError(
            f"{variant}: the model returned rotations of shape {out.shape} for a clip of shape {rotations.shape}",
            path=clip.source.get("path"),
        )
    return out


def evaluate_clip(clip: Clip, model: PoseModel | None = None, **options: Any) -> Evaluation:
    """:func:`evaluate_many` on one clip; ``options`` are its keyword arguments.

    Forwarded rather than repeated, so the two signatures cannot drift apart.
    """
    return evaluate_many([clip], model, **options)


def format_table(summary: dict[str, Any]) -> str:
    """The short plain-text table the CLI prints, one row per variant."""
    header = f"{'variant':<15} {'mean deg':>9} {'p99 deg':>9} {'mean cm':>9} {'vert cm':>9} {'max vert':>9}"
    lines = [header, "-" * len(header)]
    for variant in VARIANTS:
        block = summary.get(variant)
        if not block:
            continue
        label = variant
        if variant == "butterworth" and summary.get("butterworth_cutoff_hz") is not None:
            label = f"butter {summary['butterworth_cutoff_hz']:g}Hz"
        elif variant == "savgol" and summary.get("savgol_window") is not None:
            label = f"savgol {summary['savgol_window']}/{summary['savgol_order']}"
        values = [block[k] for k in TABLE_COLUMNS]
        lines.append(f"{label:<15} " + " ".join("        -" if v is None else f"{v:9.3f}" for v in values))
    return "\n".join(lines)
