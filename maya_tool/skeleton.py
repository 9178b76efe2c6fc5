"""The joint hierarchy every clip, model and Maya rig is built on.

A skeleton travels as JSON so that the Maya side and the standalone viewer can
build a rig from a CSV without the BVH or ASF it came from. Joint 0 is the
root; every other joint's parent comes before it, which lets forward
kinematics run in one pass.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from . import atomic
from .errors import MocapError

SKELETON_FORMAT = "mocap-ae.skeleton"
SKELETON_VERSION = 1
SKELETON_SUFFIX = ".skeleton.json"


@dataclass
class Skeleton:
    """Joint names, parents, rest offsets and channels.

    Attributes:
        names: Joint names; index 0 is the root.
        parents: Parent index per joint, -1 for the root; parents precede children.
        offsets: (J, 3) rest offset of each joint from its parent, in cm, in the
            parent's frame (for the root, its rest position).
        rest_rotations: (J, 4) xyzw rest orientation (Maya's joint orient) of
            each joint; identity for BVH and ASF skeletons, whose local
            rotations are expressed in world-aligned axes.
        channels: Per joint, the BVH-style channel names
            (``Xposition``, ``Zrotation``, ...) that a writer emits.
        end_sites: Leaf joint index -> (3,) offset of the bone's tip, in cm;
            BVH ``End Site`` blocks, ASF leaf bone lengths.
        name: A label for the skeleton (e.g. ``cmu``).
    """

    names: list[str]
    parents: NDArray[np.int64]
    offsets: NDArray[np.float64]
    rest_rotations: NDArray[np.float64] = field(default=None)  # type: ignore[assignment]
    channels: list[list[str]] = field(default_factory=list)
    end_sites: dict[int, NDArray[np.float64]] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        self.parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3)
        count = len(self.names)
        if self.rest_rotations is None:
            self.rest_rotations = np.tile([0.0, 0.0, 0.0, 1.0], (count, 1))
        self.rest_rotations = np.asarray(self.rest_rotations, dtype=np.float64).reshape(-1, 4)
        if not self.channels:
            self.channels = [
                (["Xposition", "Yposition", "Zposition"] if p < 0 else []) + ["Zrotation", "Yrotation", "Xrotation"]
                for p in self.parents
            ]
        self.end_sites = {int(k): np.asarray(v, dtype=np.float64).reshape(3) for k, v in self.end_sites.items()}
        self._validate()

    def _validate(self) -> None:
        count = len(self.names)
        if count == 0:
            raise ValueError("a skeleton needs at least a root joint")
        if count > MAX_JOINTS:
            raise ValueError(f"a skeleton of {count} joints: more than the {MAX_JOINTS} accepted")
        for label, arr in (("parents", self.parents), ("offsets", self.offsets), ("rest_rotations", self.rest_rotations)):
            if len(arr) != count:
                raise ValueError(f"skeleton has {count} joint names but {len(arr)} {label}")
        if len(self.channels) != count:
            raise ValueError(f"skeleton has {count} joint names but {len(self.channels)} channel lists")
        if self.parents[0] != -1:
            raise ValueError(f"joint 0 ({self.names[0]}) must be the root (parent -1), not a child of {self.parents[0]}")
        for j in range(1, count):
            if not 0 <= self.parents[j] < j:
                raise ValueError(
                    f"joint {j} ({self.names[j]}) has parent {self.parents[j]}: parents must come before children"
                )
        for label, arr in (("offsets", self.offsets), ("rest_rotations", self.rest_rotations)):
            if not np.isfinite(arr).all():
                raise ValueError(f"skeleton {label} must be finite numbers")
        if not all(np.isfinite(v).all() for v in self.end_sites.values()):
            raise ValueError("skeleton end sites must be finite numbers")
        if len(set(self.names)) != count:
            dupes = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ValueError(f"joint names must be unique; repeated: {', '.join(dupes)}")

    @property
    def num_joints(self) -> int:
        """Joints including the root."""
        return len(self.names)

    @property
    def num_bones(self) -> int:
        """Joints excluding the root: the ones whose rotations models see."""
        return len(self.names) - 1

    def index(self, name: str) -> int:
        """Index of a joint by name, with the known names in the error."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r} in skeleton {self.name or ''}; joints: {', '.join(self.names)}") from None

    def children(self, joint: int) -> list[int]:
        """Direct children of a joint, in order."""
        return [j for j in range(self.num_joints) if self.parents[j] == joint]

    def rotation_order(self, joint: int) -> str:
        """Euler order of the joint's rotation channels, e.g. ``ZYX``."""
        return "".join(c[0].upper() for c in self.channels[joint] if c.lower().endswith("rotation"))

    def same_layout(self, other: "Skeleton") -> bool:
        """Whether clips of ``other`` can feed a model trained on ``self``."""
        return self.names == other.names and np.array_equal(self.parents, other.parents)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description; see :func:`from_dict`."""
        joints = []
        for j, name in enumerate(self.names):
            entry: dict[str, Any] = {
                "name": name,
                "parent": int(self.parents[j]),
                "offset": [float(v) for v in self.offsets[j]],
                "rest_rotation": [float(v) for v in self.rest_rotations[j]],
                "channels": list(self.channels[j]),
            }
            if j in self.end_sites:
                entry["end_site"] = [float(v) for v in self.end_sites[j]]
            joints.append(entry)
        return {
            "format": SKELETON_FORMAT,
            "version": SKELETON_VERSION,
            "name": self.name,
            "units": "cm",
            "rotation": "xyzw",
            "joints": joints,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: os.PathLike[str] | str | None = None) -> "Skeleton":
        """Build from :meth:`to_dict` output, checking what a hand edit can break."""
        if data.get("format") != SKELETON_FORMAT:
            raise MocapError(f"not a skeleton file: expected \"format\": \"{SKELETON_FORMAT}\"", path=path)
        joints = data.get("joints")
        if not isinstance(joints, list) or not joints:
            raise MocapError("expected a non-empty \"joints\" list", path=path)
        if len(joints) > MAX_JOINTS:
            raise MocapError(f"{len(joints)} joints: more than the {MAX_JOINTS} a skeleton may have", path=path)
        entries = [_joint_entry(i, j, path) for i, j in enumerate(joints)]
        try:
            skeleton = cls(
                names=[j["name"] for j in entries],
                parents=[j["parent"] for j in entries],
                offsets=[j["offset"] for j in entries],
                rest_rotations=[j["rest_rotation"] for j in entries],
                channels=[j["channels"] for j in entries],
                end_sites={i: j["end_site"] for i, j in enumerate(entries) if j["end_site"] is not None},
                name=str(data.get("name", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MocapError(f"invalid joint entry: {exc}", path=path) from exc
        return skeleton

    def save(self, path: os.PathLike[str] | str) -> None:
        """Write the JSON atomically."""
        atomic.write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> "Skeleton":
        """Read a skeleton JSON written by :meth:`save` (or by hand)."""
        return cls.from_dict(atomic.read_json(path, "skeleton file"), path=path)


MAX_JOINTS = 2000
"""Most joints a skeleton may have (full-body capture with fingers and face is a few hundred)."""
MAX_LENGTH_CM = 1e7
"""Largest offset or position accepted, in cm (100 km): beyond it a number is a unit or column mistake."""


def _numbers(value: Any, count: int) -> list[float] | None:
    """``value`` as ``count`` finite numbers (JSON ``true`` is not one), or None."""
    if not isinstance(value, list) or len(value) != count:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return [float(v) for v in value]


def _joint_entry(index: int, entry: Any, path: os.PathLike[str] | str | None) -> dict[str, Any]:
    """One ``joints`` item checked field by field, so a hand edit is refused where it is, not turned into another skeleton."""
    where = f"joint {index + 1}"
    if not isinstance(entry, Mapping):
        raise MocapError(f"{where}: expected an object with \"name\", \"parent\" and \"offset\", found {entry!r}", path=path)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise MocapError(f"{where}: \"name\" must be a non-empty string, found {name!r}", path=path)
    where = f"joint {index + 1} ({name!r})"
    parent = entry.get("parent")
    if type(parent) is not int:  # not bool, not 1.5, not "1"
        raise MocapError(f"{where}: \"parent\" must be a whole joint index (-1 for the root), found {parent!r}", path=path)
    offset = _numbers(entry.get("offset"), 3)
    if offset is None or max(abs(v) for v in offset) > MAX_LENGTH_CM:
        raise MocapError(f"{where}: \"offset\" must be 3 finite numbers (cm, at most {MAX_LENGTH_CM:g}), "
                         f"found {entry.get('offset')!r}", path=path)
    rest = _numbers(entry.get("rest_rotation", [0.0, 0.0, 0.0, 1.0]), 4)
    if rest is None or abs(math.sqrt(sum(v * v for v in rest)) - 1.0) > 1e-3:
        raise MocapError(f"{where}: \"rest_rotation\" must be a unit quaternion x, y, z, w, "
                         f"found {entry.get('rest_rotation')!r}", path=path)
    channels = entry.get("channels", [])
    if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
        raise MocapError(f"{where}: \"channels\" must be a list of channel names, found {channels!r}", path=path)
    end_site = entry.get("end_site")
    if end_site is not None:
        end_site = _numbers(end_site, 3)
        if end_site is None or max(abs(v) for v in end_site) > MAX_LENGTH_CM:
            raise MocapError(f"{where}: \"end_site\" must be 3 finite numbers (cm), found {entry.get('end_site')!r}",
                             path=path)
    return {"name": name, "parent": parent, "offset": offset, "rest_rotation": rest, "channels": list(channels),
            "end_site": end_site}


def sidecar_path(data_path: os.PathLike[str] | str) -> Path:
    """Where the skeleton of a CSV clip lives: ``walk.csv`` -> ``walk.skeleton.json``."""
    p = Path(data_path)
    return p.with_name(p.stem + SKELETON_SUFFIX)


def find_sidecar(data_path: os.PathLike[str] | str) -> Path | None:
    """The skeleton JSON for a CSV: its own sidecar, else ``skeleton.json`` in the folder."""
    own = sidecar_path(data_path)
    if own.is_file():
        return own
    shared = Path(data_path).with_name("skeleton.json")
    return shared if shared.is_file() else None


def chain_length(skeleton: Skeleton, joints: Sequence[str]) -> float:
    """Sum of rest offset lengths along named joints (e.g. a leg), in cm."""
    return float(sum(np.linalg.norm(skeleton.offsets[skeleton.index(n)]) for n in joints))
