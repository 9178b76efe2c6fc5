"""*Clean selected skeleton*: the core clean step on the artist's own rig, onto an animation layer.

The artist selects a skeleton (any joint: the whole hierarchy is read; several
joints: only those are cleaned) in their scene, with their joint names, rotate
orders and joint orients; the take is read straight from the joints over the
time range (no CSV detour), cleaned by :func:`maya_tool.clean.clean_clip`, and
written onto a **new override animation layer** named after the model. The
original curves are not touched; the layer's weight is the strength (the
layer accumulates rotations by layer, i.e. as quaternions, so weight ``w`` is
the slerp the core's ``strength`` is); the whole apply is one undo chunk.

Conventions. The models see local rotations in world-aligned axes, joint 0
the root (the BVH convention, see :mod:`maya_tool.clip`). A Maya joint's
local rotation is ``JO R RA`` (joint orient, rotate in its rotate order,
rotate axis); with ``A_p`` the rest world orientation of the parent (the
product of the orients and rotate axes above), the world-aligned local
rotation is ``L = B R B^-1`` with ``B = A_p JO``: the rotate axis cancels,
and a rig whose rest pose (all rotates zero) matches the model's rest pose
feeds the model what it was trained on. Rest offsets are the joints'
``translate`` turned into world-aligned axes (``A_p t``), which is what foot
contacts and leg IK need. Joints are matched to the model by name through
:data:`maya_tool.clean.NAME_MAPS` (``auto`` picks the scheme that matches
most joints: Mixamo, HumanIK or CMU); joints the model does not know pass
through.

Maya imports stay in this package; the cleaning itself is the core's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from maya import cmds

from .. import quaternion as quat
from ..clean import CleanOptions, CleanResult, best_name_map, clean_clip
from ..clip import Clip
from ..errors import MocapError
from ..skeleton import Skeleton
from ..takes import euler_near
from .scene import LINEAR_UNIT_CM, ROTATE_ORDERS, joint_hierarchy, scene_fps, top_joint

FloatArray = NDArray[np.float64]

DEFAULT_MODELS = ("denoiser", "temporal")
"""Registered models tried, in order, when none is given."""

UNDO_CHUNK = "mocap-ae clean selected skeleton"


@dataclass
class SceneTake:
    """A skeleton's animation as read from the scene, and how to write rotations back.

    Attributes:
        clip: World-aligned local rotations (see the module docstring), scene names.
        joints: The joints, hierarchy order (root first).
        orders: Each joint's rotate order (``xyz``...).
        bases: (J, 4) ``B = A_p JO`` per joint: ``L = B R B^-1``.
        rotate: (F, J, 3) the ``rotate`` values read, scene angle units.
        times: (F,) scene times read.
        selected: Joints the artist picked to clean (all when one joint was selected).
    """

    clip: Clip
    joints: list[str]
    orders: list[str]
    bases: FloatArray
    rotate: FloatArray
    times: FloatArray
    selected: list[str] = field(default_factory=list)


@dataclass
class CleanedScene:
    """What :func:`preview_selected` and :func:`clean_selected` return.

    Attributes:
        result: The core's result (clip, report, weights).
        take: What was read.
        layer: The animation layer written (None for a preview).
        rotate: (F, J, 3) the cleaned ``rotate`` values the layer holds (scene units).
        flagged_times: Scene times where some joint changed more than the
            report's threshold: the pops and dropouts found, for the time slider.
    """

    result: CleanResult
    take: SceneTake
    layer: str | None
    rotate: FloatArray
    flagged_times: list[float]

    @property
    def report(self) -> dict[str, Any]:
        return self.result.report


def _units() -> tuple[float, bool]:
    scale = LINEAR_UNIT_CM.get(str(cmds.currentUnit(query=True, linear=True)), 1.0)
    return scale, str(cmds.currentUnit(query=True, angle=True)) == "rad"


def _euler(values: Any, order: str, radians: bool) -> FloatArray:
    """Quaternions of Maya (x, y, z) values applied in ``order`` (``xyz``: x first)."""
    arr = np.asarray(values, dtype=np.float64)
    return quat.from_euler(arr[..., ["xyz".index(a) for a in order]], order, degrees=not radians)


def _rotate_values(rotations: FloatArray, order: str, reference: FloatArray, radians: bool) -> FloatArray:
    """(F, 3) Maya (x, y, z) rotate values of quaternions, each on the branch nearest ``reference``."""
    in_order = euler_near(rotations, order, reference[:, ["xyz".index(a) for a in order]], degrees=not radians)
    out = np.empty_like(in_order)
    for k, axis in enumerate(order):
        out[:, "xyz".index(axis)] = in_order[:, k]
    return out


def selected_joints() -> tuple[str, list[str]]:
    """The selected skeleton's root and the joints picked to clean (all of them for a single joint).

    Raises:
        MocapError: When no joint is selected.
    """
    chosen = [str(j) for j in cmds.ls(selection=True, type="joint") or []]
    if not chosen:
        raise MocapError("select a joint of the skeleton to clean (one joint: the whole skeleton)")
    root = top_joint(chosen[0])
    joints = joint_hierarchy(root)
    return root, (joints if len(chosen) == 1 else [j for j in joints if j in chosen])


def read_take(root: str, start: float, end: float, selected: Sequence[str] | None = None) -> SceneTake:
    """The hierarchy under ``root`` over scene frames ``start..end`` in the models' convention."""
    joints = joint_hierarchy(root)
    index = {j: i for i, j in enumerate(joints)}
    scale, radians = _units()
    times = np.arange(float(start), float(end) + 0.5, 1.0)
    parents = []
    offsets = np.zeros((len(joints), 3))
    bases = np.zeros((len(joints), 4))
    rest = np.zeros((len(joints), 4))
    orders = []
    for j, joint in enumerate(joints):
        above = cmds.listRelatives(joint, parent=True) or []
        p = index.get(str(above[0]), -1) if j and above else -1
        parents.append(p)
        orient = _euler(cmds.getAttr(f"{joint}.jointOrient")[0], "xyz", radians)
        axis = _euler(cmds.getAttr(f"{joint}.rotateAxis")[0], "xyz", radians)
        parent_rest = rest[p] if p >= 0 else quat.identity()
        bases[j] = quat.multiply(parent_rest, orient)
        rest[j] = quat.multiply(bases[j], axis)
        translate = np.asarray(cmds.getAttr(f"{joint}.translate")[0], dtype=np.float64) * scale
        offsets[j] = quat.rotate(parent_rest, translate) if p >= 0 else translate
        orders.append(ROTATE_ORDERS[int(cmds.getAttr(f"{joint}.rotateOrder"))])
    rotate = np.zeros((len(times), len(joints), 3))
    positions = np.zeros((len(times), 3))
    for f, when in enumerate(times):
        positions[f] = np.asarray(cmds.getAttr(f"{root}.translate", time=when)[0], dtype=np.float64) * scale
        for j, joint in enumerate(joints):
            rotate[f, j] = cmds.getAttr(f"{joint}.rotate", time=when)[0]
    local = np.stack([_euler(rotate[:, j], orders[j], radians) for j in range(len(joints))], axis=1)
    rotations = quat.multiply(quat.multiply(bases[None], local), quat.conjugate(bases)[None])
    skeleton = Skeleton(names=joints, parents=np.asarray(parents, dtype=np.int64), offsets=offsets,
                        name=root.split("|")[-1])
    clip = Clip(skeleton=skeleton, fps=scene_fps(), root_positions=positions,
                rotations=quat.positive_w(quat.normalize(rotations)),
                source={"format": "maya", "root": root, "start": float(start), "end": float(end)})
    return SceneTake(clip, joints, orders, bases, rotate, times, list(selected) if selected else list(joints))


def _load(model: Any) -> Any:
    from ..models.runtime import load_model

    if model is None:
        for name in DEFAULT_MODELS:
            try:
                return load_model(name)
            except MocapError:
                continue
        raise MocapError(f"no model given and none of {', '.join(DEFAULT_MODELS)} is registered")
    return load_model(model) if isinstance(model, str) or hasattr(model, "__fspath__") else model


def _time_range(start: float | None, end: float | None) -> tuple[float, float]:
    if start is None:
        start = float(cmds.playbackOptions(query=True, minTime=True))
    if end is None:
        end = float(cmds.playbackOptions(query=True, maxTime=True))
    if end < start:
        raise MocapError(f"time range {start:g}-{end:g} is empty")
    return float(start), float(end)


def _options(take: SceneTake, model: Any, name_map: str | Mapping[str, str] | None, **options: Any) -> CleanOptions:
    if name_map == "auto":
        name_map = best_name_map(take.clip.skeleton.names, list(model.joint_names))
    joints = None if len(take.selected) == len(take.joints) else tuple(take.selected)
    return CleanOptions(strength=1.0, joints=joints, name_map=name_map, **options)


def preview_selected(model: Any = None, *, start: float | None = None, end: float | None = None,
                     name_map: str | Mapping[str, str] | None = "auto", **options: Any) -> CleanedScene:
    """Clean the selected skeleton in memory: the report and flagged frames, nothing written to the scene."""
    net = _load(model)
    root, selected = selected_joints()
    first, last = _time_range(start, end)
    take = read_take(root, first, last, selected)
    result = clean_clip(take.clip, net, _options(take, net, name_map, **options))
    _, radians = _units()
    rotate = take.rotate.copy()
    for j in np.flatnonzero(result.weights.max(axis=0) > 0):
        base = take.bases[j]
        local = quat.multiply(quat.multiply(quat.conjugate(base)[None], result.clip.rotations[:, j]), base[None])
        rotate[:, j] = _rotate_values(local, take.orders[j], take.rotate[:, j], radians)
    flagged = [float(take.times[f]) for f in result.report["flagged_frames"]]
    return CleanedScene(result, take, None, rotate, flagged)


def layer_name(model_name: str) -> str:
    """A Maya-safe layer name for a model: ``temporal-high`` -> ``temporal_high_clean``."""
    return re.sub(r"\W", "_", str(model_name)) + "_clean"


def clean_selected(model: Any = None, *, strength: float = 1.0, start: float | None = None, end: float | None = None,
                   name_map: str | Mapping[str, str] | None = "auto", **options: Any) -> CleanedScene:
    """Clean the selected skeleton onto a new override layer named after the model, weight = ``strength``.

    One undo chunk: a single undo removes the layer and its keys. The
    original animation curves are never written.

    Args:
        model: A model path, registered name, or loaded model (default: the
            first of :data:`DEFAULT_MODELS` that is registered).
        strength: The layer's weight, 0 (the original) to 1 (cleaned).
        start, end: Scene frames to read and clean (default: the playback range).
        name_map: How scene joint names map onto the model's (``auto``, a
            scheme of :data:`maya_tool.clean.NAME_MAPS`, or a dict).
        **options: Further :class:`maya_tool.clean.CleanOptions` (``root``,
            ``feet``, ``threshold_deg``...).

    Raises:
        MocapError: Nothing selected, an empty range, a model that knows none of the joints.
    """
    if not 0.0 <= float(strength) <= 1.0:
        raise MocapError(f"strength must be in [0, 1], got {strength!r}")
    preview = preview_selected(model, start=start, end=end, name_map=name_map, **options)
    result, take = preview.result, preview.take
    scale, _ = _units()
    changed = [j for j in np.flatnonzero(result.weights.max(axis=0) > 0)]
    root_moved = bool(np.any(result.clip.root_positions != take.clip.root_positions))
    cmds.undoInfo(openChunk=True, chunkName=UNDO_CHUNK)
    try:
        layer = str(cmds.animLayer(layer_name(result.report["model"]), override=True))
        cmds.setAttr(f"{layer}.rotationAccumulationMode", 1)
        plugs = [f"{take.joints[j]}.rotate" for j in changed] + ([f"{take.joints[0]}.translate"] if root_moved else [])
        if plugs:
            cmds.animLayer(layer, edit=True, attribute=plugs)
        for j in changed:
            joint = take.joints[j]
            for f, when in enumerate(take.times):
                for k, axis in enumerate("XYZ"):
                    cmds.setKeyframe(f"{joint}.rotate{axis}", time=float(when), value=float(preview.rotate[f, j, k]),
                                     animLayer=layer)
        if root_moved:
            for f, when in enumerate(take.times):
                for k, axis in enumerate("XYZ"):
                    cmds.setKeyframe(f"{take.joints[0]}.translate{axis}", time=float(when),
                                     value=float(result.clip.root_positions[f, k] / scale), animLayer=layer)
        cmds.animLayer(layer, edit=True, weight=float(strength))
    finally:
        cmds.undoInfo(closeChunk=True)
    return CleanedScene(result, take, layer, preview.rotate, preview.flagged_times)
