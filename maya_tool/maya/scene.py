"""Rigs in the Maya scene: build, wire to a csvToMat node, compare, bake, export.

Everything goes through ``maya.cmds`` so a recording fake can check it. A rig
is a joint hierarchy built from the clip's skeleton JSON; its node's
``matOut[i]`` feeds a ``decomposeMatrix`` per joint whose ``outputRotate``
drives the joint's ``rotate`` (and, for the root, ``outputTranslate`` its
``translate``). Joints keep Maya's default ``xyz`` rotate order, the order
``decomposeMatrix`` outputs by default, and carry the skeleton's rest
orientation as ``jointOrient``, so the node's local rotations land exactly.

Time: ``time1.outTime`` drives the node, which maps scene seconds to clip
frames with the clip's own rate; scene time 0 is clip frame 0, so
:func:`load_clip` sets the playback range to start at 0.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from maya import cmds

from .. import quaternion as quat
from ..clip import Clip
from ..corruption import CORRUPTIONS
from ..errors import MocapError
from ..modes import MODES
from ..skeleton import Skeleton

PLUGIN = "csvToMat"
PLUGIN_FILE = Path(__file__).resolve().parents[2] / "plug-ins" / "csvToMat.py"

ROTATE_ORDERS = ("xyz", "yzx", "zxy", "xzy", "yxz", "zyx")
"""Maya's ``rotateOrder`` enum, in index order."""

TIME_UNIT_FPS = {"game": 15.0, "film": 24.0, "pal": 25.0, "ntsc": 30.0, "show": 48.0, "palf": 50.0, "ntscf": 60.0}
LINEAR_UNIT_CM = {"mm": 0.1, "cm": 1.0, "m": 100.0, "km": 100000.0, "in": 2.54, "ft": 30.48, "yd": 91.44, "mi": 160934.4}


@dataclass
class Rig:
    """A joint hierarchy driven by one csvToMat node.

    Attributes:
        node: The csvToMat node.
        joints: Joint names in skeleton order (root first).
        decompose: The decomposeMatrix node of each joint, same order.
        group: The transform the rig hangs under (offsets the comparison rig).
        namespace: The rig's namespace.
        skeleton: The skeleton it was built from.
        fps: The clip's frame rate.
        frames: The clip's frame count.
    """

    node: str
    joints: list[str]
    decompose: list[str] = field(default_factory=list)
    group: str | None = None
    namespace: str = ""
    skeleton: Skeleton | None = None
    fps: float = 0.0
    frames: int = 0

    @property
    def root(self) -> str:
        return self.joints[0]


def ensure_plugin() -> None:
    """Load the csvToMat plug-in unless it is loaded already."""
    if cmds.pluginInfo(PLUGIN, query=True, loaded=True):
        return
    target = str(PLUGIN_FILE) if PLUGIN_FILE.is_file() else f"{PLUGIN}.py"
    cmds.loadPlugin(target, quiet=True)


def scene_fps() -> float:
    """Frames per second of the scene's time unit (``film`` = 24, ``120fps`` = 120...)."""
    unit = str(cmds.currentUnit(query=True, time=True))
    if unit in TIME_UNIT_FPS:
        return TIME_UNIT_FPS[unit]
    if unit.endswith("fps"):
        return float(unit[:-3].replace("_", "."))
    raise MocapError(f"unsupported scene time unit {unit!r}")


def unique_namespace(base: str) -> str:
    """``base``, or ``base1``, ``base2``... when taken; created in the scene."""
    if not base:
        return ""
    name, i = base, 0
    while cmds.namespace(exists=name):
        i += 1
        name = f"{base}{i}"
    cmds.namespace(add=name)
    return name


def _prefixed(namespace: str, name: str) -> str:
    return f"{namespace}:{name}" if namespace else name


def build_skeleton(skeleton: Skeleton, *, namespace: str = "", parent: str | None = None) -> list[str]:
    """Create the joints (names, rest offsets in cm, joint orients) with ``cmds.joint``.

    Returns:
        The joint names, in skeleton order.
    """
    names: list[str] = []
    orients = quat.to_euler(skeleton.rest_rotations, "xyz")
    for j, joint_name in enumerate(skeleton.names):
        p = int(skeleton.parents[j])
        if p < 0:
            cmds.select(clear=True)
        else:
            cmds.select(names[p], replace=True)
        x, y, z = (float(v) for v in skeleton.offsets[j])
        created = str(cmds.joint(name=_prefixed(namespace, joint_name), position=(x, y, z), relative=True))
        cmds.setAttr(f"{created}.jointOrient", *(float(v) for v in orients[j]))
        names.append(created)
    cmds.select(clear=True)
    if parent:
        names[0] = str(cmds.parent(names[0], parent)[0])
    return names


def create_node(
    path: str | os.PathLike[str],
    *,
    model: str | os.PathLike[str] | None = None,
    name: str = "csvToMat",
    mode: str = "original",
    noise: float = 0.0,
    encode: bool = False,
    connect_time: bool = True,
) -> str:
    """A csvToMat node reading ``path``, driven by ``time1`` unless told otherwise."""
    if mode not in MODES:
        raise MocapError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    ensure_plugin()
    node = str(cmds.createNode(PLUGIN, name=name, skipSelect=True))
    set_node(node, path=path, model=model, mode=mode, noise=noise, encode=encode)
    if connect_time:
        cmds.connectAttr("time1.outTime", f"{node}.time", force=True)
    return node


def set_node(
    node: str,
    *,
    path: str | os.PathLike[str] | None = None,
    model: str | os.PathLike[str] | None = None,
    mode: str | None = None,
    noise: float | None = None,
    encode: bool | None = None,
    noise_type: str | None = None,
) -> None:
    """Set any of the node's controls; ``None`` leaves one unchanged."""
    if path is not None:
        cmds.setAttr(f"{node}.filePath", os.fspath(path), type="string")
    if model is not None:
        cmds.setAttr(f"{node}.modelPath", os.fspath(model), type="string")
    if mode is not None:
        if mode not in MODES:
            raise MocapError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
        cmds.setAttr(f"{node}.mode", MODES.index(mode))
    if noise is not None:
        cmds.setAttr(f"{node}.noise", float(noise))
    if encode is not None:
        cmds.setAttr(f"{node}.encode", bool(encode))
    if noise_type is not None:
        if noise_type not in CORRUPTIONS:
            raise MocapError(f"unknown noise type {noise_type!r}: expected one of {', '.join(CORRUPTIONS)}")
        cmds.setAttr(f"{node}.noiseType", CORRUPTIONS.index(noise_type))


def connect_rig(node: str, joints: Sequence[str], *, namespace: str = "") -> list[str]:
    """``node.matOut[i]`` -> decomposeMatrix -> joint i (root: translate too)."""
    decompose: list[str] = []
    for i, joint in enumerate(joints):
        name = _prefixed(namespace, f"{_short(joint)}_decompose")
        dm = str(cmds.createNode("decomposeMatrix", name=name, skipSelect=True))
        cmds.connectAttr(f"{node}.matOut[{i}]", f"{dm}.inputMatrix", force=True)
        cmds.connectAttr(f"{dm}.outputRotate", f"{joint}.rotate", force=True)
        if i == 0:
            cmds.connectAttr(f"{dm}.outputTranslate", f"{joint}.translate", force=True)
        decompose.append(dm)
    return decompose


def set_playback_range(frames: int, fps: float) -> tuple[float, float]:
    """Show the whole clip: scene frames 0 .. the clip's last frame in scene time."""
    end = float(math.ceil((max(frames, 1) - 1) / fps * scene_fps() - 1e-9))
    cmds.playbackOptions(minTime=0.0, maxTime=end, animationStartTime=0.0, animationEndTime=end)
    return 0.0, end


def _read_clip(path: str | os.PathLike[str]) -> Clip:
    from ..io.csv import read_csv

    return read_csv(path)


def load_clip(
    path: str | os.PathLike[str],
    model: str | os.PathLike[str] | None = None,
    *,
    namespace: str = "mocap",
    mode: str | None = None,
    noise: float = 0.0,
    encode: bool = False,
    offset_x: float = 0.0,
    set_range: bool = True,
    clip: Clip | None = None,
) -> Rig:
    """Build a rig for a CSV clip, create its node and wire everything in one call.

    Args:
        path: The CSV clip (its ``.skeleton.json`` gives the hierarchy).
        model: A model file; the mode defaults to ``encoded`` when given.
        namespace: Base namespace; made unique (``mocap1``...) when taken.
        mode, noise, encode: The node's controls.
        offset_x: Move the whole rig along X (cm), to stand beside another.
        set_range: Set the playback range to the clip.
        clip: The clip at ``path`` when the caller has read it already (the
            panel has), so it is not read again; only its skeleton, fps and
            length are used, the node reads ``path`` itself.

    Raises:
        MocapError: When the clip cannot be read (nothing is created then).
    """
    if clip is None:
        clip = _read_clip(path)
    mode = mode or ("encoded" if model else "original")
    ns = unique_namespace(namespace)
    group = str(cmds.group(empty=True, name=_prefixed(ns, "rig")))
    if offset_x:
        cmds.setAttr(f"{group}.translateX", float(offset_x))
    joints = build_skeleton(clip.skeleton, namespace=ns, parent=group)
    node = create_node(
        path,
        model=model if model else None,
        name=_prefixed(ns, "csvToMat"),
        mode=mode,
        noise=noise,
        encode=encode,
    )
    decompose = connect_rig(node, joints, namespace=ns)
    if set_range:
        set_playback_range(clip.num_frames, clip.fps)
    return Rig(
        node=node,
        joints=joints,
        decompose=decompose,
        group=group,
        namespace=ns,
        skeleton=clip.skeleton,
        fps=clip.fps,
        frames=clip.num_frames,
    )


def default_spacing(skeleton: Skeleton) -> float:
    """How far apart two rigs stand: twice the skeleton's reach from its root, at least 1 m."""
    positions = np.zeros((skeleton.num_joints, 3))
    for j in range(1, skeleton.num_joints):
        positions[j] = positions[skeleton.parents[j]] + skeleton.offsets[j]
    reach = float(np.max(np.linalg.norm(positions, axis=1))) if skeleton.num_joints > 1 else 0.0
    return max(100.0, 2.0 * reach)


def load_comparison(
    path: str | os.PathLike[str],
    model: str | os.PathLike[str] | None = None,
    *,
    mode: str = "encoded",
    noise: float = 0.05,
    namespace: str = "mocap",
    spacing: float | None = None,
) -> tuple[Rig, Rig]:
    """The original and a second rig (encoded, noisy or denoised) side by side along X."""
    clip = _read_clip(path)
    original = load_clip(path, namespace=f"{namespace}_original", mode="original", clip=clip)
    gap = default_spacing(clip.skeleton) if spacing is None else float(spacing)
    other = load_clip(
        path, model, namespace=f"{namespace}_{mode}", mode=mode, noise=noise, offset_x=gap, set_range=False, clip=clip
    )
    return original, other


def bake(rig: Rig | Sequence[str], start: float | None = None, end: float | None = None, *, delete_node: bool = True) -> list[str]:
    """Turn the node-driven motion into keyframes (``cmds.bakeResults``).

    Args:
        rig: A :class:`Rig` or joint names.
        start, end: Scene frames; default to the playback range.
        delete_node: Remove the csvToMat and decomposeMatrix nodes afterwards
            (a :class:`Rig` only), leaving a plain keyed skeleton.

    Returns:
        The baked joints.
    """
    joints = list(rig.joints) if isinstance(rig, Rig) else list(rig)
    if start is None:
        start = float(cmds.playbackOptions(query=True, minTime=True))
    if end is None:
        end = float(cmds.playbackOptions(query=True, maxTime=True))
    cmds.bakeResults(
        joints,
        time=(start, end),
        simulation=True,
        sampleBy=1,
        attribute=["translateX", "translateY", "translateZ", "rotateX", "rotateY", "rotateZ"],
        preserveOutsideKeys=True,
        disableImplicitControl=True,
    )
    if delete_node and isinstance(rig, Rig):
        cmds.delete(rig.decompose + [rig.node])
    return joints


# --------------------------------------------------------------------------- export
def _short(name: str) -> str:
    return name.split("|")[-1].split(":")[-1]


def joint_hierarchy(root: str) -> list[str]:
    """The joints under ``root`` (included), parents before children, depth first."""
    order: list[str] = []
    stack = [root]
    while stack:
        joint = stack.pop()
        order.append(joint)
        children = cmds.listRelatives(joint, children=True, type="joint") or []
        stack.extend(reversed(children))
    return order


def top_joint(joint: str) -> str:
    """The highest joint above ``joint`` (the skeleton's root)."""
    current = joint
    while True:
        parents = cmds.listRelatives(current, parent=True) or []
        if not parents or cmds.nodeType(parents[0]) != "joint":
            return current
        current = parents[0]


def _euler_quaternion(angles: Any, order: str, angle_unit: str) -> np.ndarray:
    """Quaternion of Maya rotate values (x, y, z) applied in ``order`` (e.g. ``xyz``: x first)."""
    values = np.asarray(angles, dtype=np.float64)
    in_order = values[..., ["xyz".index(axis) for axis in order]]
    return quat.from_euler(in_order, order, degrees=angle_unit != "rad")


def skeleton_from_joints(joints: Sequence[str], *, name: str = "") -> Skeleton:
    """Names (namespace stripped), rest offsets (translate, cm) and joint orients of a hierarchy."""
    index = {j: i for i, j in enumerate(joints)}
    scale = LINEAR_UNIT_CM.get(str(cmds.currentUnit(query=True, linear=True)), 1.0)
    angle_unit = str(cmds.currentUnit(query=True, angle=True))
    parents, offsets, rest = [], [], []
    for i, joint in enumerate(joints):
        above = cmds.listRelatives(joint, parent=True) or []
        parents.append(index.get(str(above[0]), -1) if i and above else -1)
        offsets.append(np.asarray(cmds.getAttr(f"{joint}.translate")[0], dtype=np.float64) * scale)
        rest.append(_euler_quaternion(cmds.getAttr(f"{joint}.jointOrient")[0], "xyz", angle_unit))
    return Skeleton(
        names=[_short(j) for j in joints],
        parents=np.asarray(parents, dtype=np.int64),
        offsets=np.array(offsets),
        rest_rotations=quat.positive_w(np.array(rest)),
        name=name,
    )


def clip_from_joints(root: str, start: float, end: float) -> Clip:
    """The animation of the hierarchy under ``root`` over scene frames ``start..end``.

    Local rotations come from each joint's ``rotate`` (in its rotate order,
    with ``rotateAxis`` folded in) at every frame; the joint orient becomes
    the skeleton's rest rotation, as :func:`build_skeleton` sets it.
    """
    joints = joint_hierarchy(root)
    skeleton = skeleton_from_joints(joints, name=_short(root))
    scale = LINEAR_UNIT_CM.get(str(cmds.currentUnit(query=True, linear=True)), 1.0)
    angle_unit = str(cmds.currentUnit(query=True, angle=True))
    frames = np.arange(float(start), float(end) + 0.5, 1.0)
    orders = [ROTATE_ORDERS[int(cmds.getAttr(f"{j}.rotateOrder"))] for j in joints]
    axes = [_euler_quaternion(cmds.getAttr(f"{j}.rotateAxis")[0], "xyz", angle_unit) for j in joints]
    rotations = np.zeros((len(frames), len(joints), 4))
    positions = np.zeros((len(frames), 3))
    for f, when in enumerate(frames):
        positions[f] = np.asarray(cmds.getAttr(f"{root}.translate", time=when)[0], dtype=np.float64) * scale
        for j, joint in enumerate(joints):
            local = _euler_quaternion(cmds.getAttr(f"{joint}.rotate", time=when)[0], orders[j], angle_unit)
            rotations[f, j] = quat.multiply(local, axes[j])
    return Clip(
        skeleton=skeleton,
        fps=scene_fps(),
        root_positions=positions,
        rotations=quat.positive_w(rotations),
        source={"format": "maya", "root": root, "start": float(start), "end": float(end)},
    )


def export_selected(
    path: str | os.PathLike[str], *, start: float | None = None, end: float | None = None
) -> Clip:
    """Write the animation of the selected skeleton as CSV + skeleton JSON.

    Any joint of the skeleton may be selected; the whole hierarchy from its
    top joint is exported over the playback range unless ``start``/``end``
    are given.

    Raises:
        MocapError: When no joint is selected.
    """
    from ..io.csv import write_csv

    selected = cmds.ls(selection=True, type="joint") or []
    if not selected:
        raise MocapError("select a joint of the skeleton to export")
    if start is None:
        start = float(cmds.playbackOptions(query=True, minTime=True))
    if end is None:
        end = float(cmds.playbackOptions(query=True, maxTime=True))
    clip = clip_from_joints(top_joint(selected[0]), start, end)
    write_csv(clip, path)
    return clip
