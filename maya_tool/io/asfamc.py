"""Acclaim ASF (skeleton) and AMC (motion) reader.

The CMU database's originals are ASF/AMC; its BVH conversion is what most
tools use. This reader converts Acclaim motion to the BVH path's convention
so that a clip read from either gives the same quaternions:

* A bone ``b`` becomes the joint at the *start* of the bone. Its rest offset
  is its parent bone's ``direction * length`` (zero for bones on the root);
  a leaf bone's own ``direction * length`` becomes its ``End Site``.
* Its local rotation, relative to the parent in world-aligned axes, is
  ``C @ M @ C^-1``: ``M`` is the AMC rotation composed from the dof values in
  the ``dof`` order, ``C`` the bone's ``axis`` rotation. Both are Euler
  angles applied in the listed order about fixed axes (``axis 0 0 20 XYZ``
  is ``Rz @ Ry @ Rx``), which is how the CMU viewer and the Acclaim
  documentation compose them (``L = C^-1 M C B`` in their row-vector form).
* The root's position is the ASF ``position`` plus the AMC ``TX TY TZ``;
  its rotation is ``C M C^-1`` with ``C`` from ``:root axis``/``orientation``
  and ``M`` from the ``RX RY RZ`` values in the ``:root order``.
* Lengths are scaled to cm: the ``cmu`` preset uses 5.6444 cm per unit;
  otherwise ``2.54 / :units length`` (Acclaim lengths are inches times the
  ``length`` factor, which gives the CMU figure for ``length 0.45``).

With the ``cmu`` preset (auto-detected from the bone names) joints take the
BVH names of :data:`maya_tool.presets.CMU_ASF_TO_BVH`, so AMC and BVH clips
share one layout and one model.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .. import presets
from .. import quaternion as quat
from ..clip import Clip
from ..errors import MocapError
from ..skeleton import Skeleton
from . import check_fps, check_scale, read_text

FloatArray = NDArray[np.float64]

PRESETS = presets.READER_PRESETS
INCH_CM = 2.54

_FIELD_RE = re.compile(r"\S+")
_ROTATION_DOFS = ("rx", "ry", "rz")
_TRANSLATION_DOFS = ("tx", "ty", "tz")
_KNOWN_DOFS = _ROTATION_DOFS + _TRANSLATION_DOFS + ("l",)
_ANGLE_UNITS = {"deg": "deg", "degree": "deg", "degrees": "deg", "rad": "rad", "radian": "rad", "radians": "rad"}
_BVH_CHANNELS_ROOT = ["Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"]
_BVH_CHANNELS = ["Zrotation", "Yrotation", "Xrotation"]

_Words = list[tuple[str, int]]
"""Words of a line with their 1-based columns."""
_Line = tuple[int, _Words]
"""A 1-based row and its words."""


@dataclass
class AsfBone:
    """One ASF bone (or the root) as written, in file units.

    Attributes:
        name: ASF name (``lfemur``).
        joint: Name in the skeleton (``LeftUpLeg`` with the cmu preset).
        direction: (3,) direction of the bone in world axes at rest, as written
            (unit length in well-formed files).
        length: Bone length in file units (0 for the root).
        axis: (3,) axis angles in radians.
        axis_order: Axis letters of ``axis`` (``XYZ``), applied in that order.
        dofs: Lower-case dof names in AMC column order (``rx ry rz``; the
            root's ``:root order``).
        row: Line where the bone is defined, for error messages.
    """

    name: str
    joint: str
    direction: FloatArray
    length: float
    axis: FloatArray
    axis_order: str
    dofs: list[str] = field(default_factory=list)
    row: int = 0

    @property
    def axis_rotation(self) -> FloatArray:
        """``C``: the bone's axis frame in world axes, xyzw."""
        return quat.from_euler(self.axis, self.axis_order.lower(), degrees=False)

    @property
    def rotation_order(self) -> str:
        """The rotation dofs' axes in AMC order (``XYZ``)."""
        return "".join(d[1].upper() for d in self.dofs if d in _ROTATION_DOFS)


@dataclass
class AsfSkeleton:
    """An ASF file: the clip skeleton plus what AMC conversion needs per bone.

    ``bones[j]`` describes ``skeleton`` joint ``j``; ``bones[0]`` is the root.
    ``root_position`` is the ``:root position`` in file units.
    """

    path: str
    skeleton: Skeleton
    bones: list[AsfBone]
    length_unit: float
    angle_unit: str
    scale: float
    preset: str
    root_position: FloatArray = field(default_factory=lambda: np.zeros(3))

    def bone(self, name: str) -> AsfBone:
        """A bone by ASF or skeleton name."""
        for b in self.bones:
            if name in (b.name, b.joint):
                return b
        raise KeyError(f"no bone {name!r} in {self.path}; bones: {', '.join(b.name for b in self.bones)}")

    @property
    def num_dofs(self) -> int:
        return sum(len(b.dofs) for b in self.bones)

    def rescaled(self, scale: float) -> "AsfSkeleton":
        """The same skeleton in other units (``scale`` cm per file unit)."""
        if scale == self.scale:
            return self
        skeleton = _build_skeleton(self.bones, self.skeleton.parents, self.root_position, scale, self.skeleton.name)
        return replace(self, skeleton=skeleton, scale=scale)


def _fields(line: str) -> _Words:
    """Words of a line (comment removed) with 1-based columns."""
    cut = line.find("#")
    if cut >= 0:
        line = line[:cut]
    return [(m.group(0), m.start() + 1) for m in _FIELD_RE.finditer(line)]


def _float(word: tuple[str, int], what: str, path: str, row: int) -> float:
    try:
        value = float(word[0])
    except ValueError:
        raise MocapError(f"expected a number for {what}, found {word[0]!r}", path=path, row=row, column=word[1]) from None
    if not math.isfinite(value):
        raise MocapError(f"{what} is {word[0]}: expected a finite number", path=path, row=row, column=word[1])
    return value


def _vector(words: _Words, count: int, what: str, path: str, row: int) -> list[float]:
    if len(words) < count + 1:
        end = words[-1][1] + len(words[-1][0]) if words else 1
        raise MocapError(f"{what} needs {count} numbers, found {len(words) - 1}", path=path, row=row, column=end)
    return [_float(w, what, path, row) for w in words[1 : count + 1]]


def _axis_order(word: tuple[str, int], what: str, path: str, row: int) -> str:
    order = word[0].upper()
    if len(order) != 3 or sorted(order) != ["X", "Y", "Z"]:
        raise MocapError(
            f"unknown Euler order {word[0]!r} for {what}: expected three distinct axes such as XYZ",
            path=path, row=row, column=word[1],
        )
    return order


def _dofs(words: _Words, what: str, path: str, row: int, root: bool = False) -> list[str]:
    names = []
    allowed = (_ROTATION_DOFS + _TRANSLATION_DOFS) if root else _KNOWN_DOFS
    for text, column in words:
        dof = text.lower()
        if dof not in allowed:
            raise MocapError(
                f"unknown dof {text!r} for {what}: expected {', '.join(d.upper() if root else d for d in allowed)}",
                path=path, row=row, column=column,
            )
        if dof in names:
            raise MocapError(f"dof {text!r} listed twice for {what}", path=path, row=row, column=column)
        names.append(dof)
    return names


def _sections(lines: list[str], path: str) -> dict[str, list[_Line]]:
    """``:keyword`` -> its content lines (row, words); the keyword line's own words come first."""
    sections: dict[str, list[_Line]] = {}
    current: list[_Line] | None = None
    for row, line in enumerate(lines, start=1):
        words = _fields(line)
        if not words:
            continue
        if words[0][0].startswith(":"):
            key = words[0][0][1:].lower()
            if key in sections and key in ("bonedata", "hierarchy", "root", "units"):
                raise MocapError(f"section :{key} appears twice", path=path, row=row, column=words[0][1])
            current = sections.setdefault(key, [])
            current.append((row, words[1:]))
        elif current is None:
            raise MocapError(f"expected a ':keyword' section, found {words[0][0]!r}", path=path, row=row, column=words[0][1])
        else:
            current.append((row, words))
    return sections


def _parse_units(entries: list[_Line], path: str) -> tuple[float, str]:
    length, angle = 1.0, "deg"
    for row, words in entries:
        if not words:
            continue
        key = words[0][0].lower()
        if key not in ("length", "angle", "mass"):
            continue
        if len(words) < 2:
            raise MocapError(f"unreadable units: '{key}' without a value", path=path, row=row, column=words[0][1])
        value = words[1]
        if key == "angle":
            if value[0].lower() not in _ANGLE_UNITS:
                raise MocapError(f"unreadable units: angle {value[0]!r}: expected deg or rad", path=path, row=row, column=value[1])
            angle = _ANGLE_UNITS[value[0].lower()]
        elif key == "length":
            try:
                length = float(value[0])
            except ValueError:
                length = math.nan
            if not (math.isfinite(length) and length > 0):
                raise MocapError(
                    f"unreadable units: length {value[0]!r}: expected a positive number", path=path, row=row, column=value[1]
                )
    return length, angle


def _block_ranges(entries: list[_Line], section: str, path: str) -> list[list[_Line]]:
    """Split ``begin ... end`` blocks of a section."""
    blocks: list[list[_Line]] = []
    current: list[_Line] | None = None
    for row, words in entries[1:]:
        key = words[0][0].lower()
        if key == "begin":
            if current is not None and section == "bonedata":
                raise MocapError(f"'begin' inside an unfinished block of :{section}", path=path, row=row, column=words[0][1])
            current = []
            blocks.append(current)
        elif key == "end":
            if current is None:
                raise MocapError(f"'end' without 'begin' in :{section}", path=path, row=row, column=words[0][1])
            current = None
        elif current is None:
            raise MocapError(f"expected 'begin' in :{section}, found {words[0][0]!r}", path=path, row=row, column=words[0][1])
        else:
            current.append((row, words))
    if current is not None:
        last = entries[-1][0]
        raise MocapError(f":{section} block not closed with 'end'", path=path, row=last)
    return blocks


def _parse_bone(block: list[_Line], start_row: int, to_rad: float, path: str) -> AsfBone:
    name: str | None = None
    direction: FloatArray | None = None
    length: float | None = None
    direction_row = length_row = start_row
    axis = np.zeros(3)
    axis_order = "XYZ"
    dofs: list[str] = []
    for row, words in block:
        key = words[0][0].lower()
        if key == "name":
            if len(words) < 2:
                raise MocapError("bone 'name' without a name", path=path, row=row, column=words[0][1])
            name = words[1][0]
        elif key == "direction":
            # Kept as written, not renormalised: Acclaim tools multiply direction by length as is.
            direction = np.array(_vector(words, 3, "bone direction", path, row), dtype=np.float64)
            direction_row = row
        elif key == "length":
            length = _vector(words, 1, "bone length", path, row)[0]
            length_row = row
        elif key == "axis":
            angles = _vector(words, 3, "bone axis", path, row)
            if len(words) < 5:
                raise MocapError("bone axis needs an order after its 3 angles, e.g. XYZ", path=path, row=row, column=words[-1][1])
            axis = np.array(angles, dtype=np.float64) * to_rad
            axis_order = _axis_order(words[4], "bone axis", path, row)
        elif key == "dof":
            dofs = _dofs(words[1:], "bone", path, row)
    if name is None:
        raise MocapError("bone without a 'name'", path=path, row=start_row)
    if direction is None:
        raise MocapError(f"bone {name!r} has no 'direction'", path=path, row=start_row)
    if length is None:
        raise MocapError(f"bone {name!r} has no 'length'", path=path, row=start_row)
    if length < 0:
        raise MocapError(f"bone {name!r} has negative length {length}", path=path, row=length_row)
    if length > 0 and float(np.linalg.norm(direction)) < 1e-12:
        raise MocapError(f"bone {name!r} has a zero direction", path=path, row=direction_row)
    return AsfBone(
        name=name, joint=name, direction=direction, length=float(length), axis=axis, axis_order=axis_order,
        dofs=dofs, row=start_row,
    )


def _parse_root(entries: list[_Line] | None, to_rad: float, path: str) -> tuple[AsfBone, FloatArray]:
    order = ["tx", "ty", "tz", "rx", "ry", "rz"]
    axis_order = "XYZ"
    position = np.zeros(3)
    orientation = np.zeros(3)
    row0 = entries[0][0] if entries else 0
    for row, words in (entries or [])[1:]:
        key = words[0][0].lower()
        if key == "order":
            order = _dofs(words[1:], "the root (:root order)", path, row, root=True)
        elif key == "axis":
            if len(words) < 2:
                raise MocapError("':root axis' needs an order such as XYZ", path=path, row=row, column=words[0][1])
            axis_order = _axis_order(words[1], "the root (:root axis)", path, row)
        elif key == "position":
            position = np.array(_vector(words, 3, "root position", path, row))
        elif key == "orientation":
            orientation = np.array(_vector(words, 3, "root orientation", path, row)) * to_rad
    root = AsfBone(
        name="root", joint="root", direction=np.zeros(3), length=0.0,
        axis=orientation, axis_order=axis_order, dofs=order, row=row0,
    )
    return root, position


def _build_skeleton(
    bones: list[AsfBone], parents: NDArray[np.int64] | list[int], root_position: FloatArray, scale: float, name: str
) -> Skeleton:
    parents = [int(p) for p in parents]
    count = len(bones)
    offsets = np.zeros((count, 3))
    offsets[0] = root_position
    for j in range(1, count):
        p = parents[j]
        offsets[j] = 0.0 if p == 0 else bones[p].direction * bones[p].length
    has_child = {p for p in parents if p >= 0}
    end_sites = {j: bones[j].direction * bones[j].length * scale for j in range(1, count) if j not in has_child}
    return Skeleton(
        names=[b.joint for b in bones],
        parents=np.asarray(parents, dtype=np.int64),
        offsets=offsets * scale,
        channels=[list(_BVH_CHANNELS_ROOT)] + [list(_BVH_CHANNELS) for _ in range(count - 1)],
        end_sites=end_sites,
        name=name,
    )


def _order_joints(
    bones: list[AsfBone], parent_of: dict[str, str], children_of: dict[str, list[str]]
) -> list[int]:
    """Bone indices root first, in ``:bonedata`` order when parents precede children.

    An ASF may list a bone before its parent; a skeleton needs parents first,
    so then the order becomes depth first along ``:hierarchy``.
    """
    names = [b.name for b in bones]
    position = {n: i for i, n in enumerate(names)}
    if all(position[parent_of[n]] < position[n] for n in names[1:]):
        return list(range(len(bones)))
    order: list[int] = []
    stack = ["root"]
    while stack:
        n = stack.pop()
        order.append(position[n])
        stack.extend(reversed(children_of.get(n, [])))
    return order


def read_asf(path: os.PathLike[str] | str, *, scale: float | None = None, preset: str = "auto") -> AsfSkeleton:
    """Read an ASF skeleton.

    Args:
        path: The ``.asf`` file.
        scale: cm per file unit; defaults to 5.6444 for the cmu preset,
            else ``2.54 / :units length``.
        preset: ``"cmu"`` (BVH joint names, CMU scale), ``"none"`` or
            ``"auto"`` (``"cmu"`` when the bones are the CMU bones in CMU order).

    Raises:
        MocapError: Missing sections, unreadable units, bad numbers, unknown
            bones in ``:hierarchy``, naming line and column.
    """
    spath = os.fspath(path)
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    lines = read_text(spath).splitlines()
    if not any(_fields(line) for line in lines):
        raise MocapError("empty file: expected an ASF skeleton with :units, :root, :bonedata and :hierarchy", path=spath, row=1)
    sections = _sections(lines, spath)
    length_unit, angle_unit = _parse_units(sections["units"], spath) if "units" in sections else (1.0, "deg")
    to_rad = math.pi / 180.0 if angle_unit == "deg" else 1.0
    root, root_position = _parse_root(sections.get("root"), to_rad, spath)
    if "bonedata" not in sections:
        raise MocapError("missing :bonedata section: an ASF file lists its bones there", path=spath, row=len(lines))
    if "hierarchy" not in sections:
        raise MocapError("missing :hierarchy section: an ASF file gives each bone's parent there", path=spath, row=len(lines))

    bonedata = sections["bonedata"]
    bones = [root]
    starts = [row for row, words in bonedata[1:] if words[0][0].lower() == "begin"]
    for block, start in zip(_block_ranges(bonedata, "bonedata", spath), starts):
        bone = _parse_bone(block, start, to_rad, spath)
        if any(b.name == bone.name for b in bones):
            raise MocapError(f"bone {bone.name!r} defined twice", path=spath, row=start)
        bones.append(bone)
    if len(bones) == 1:
        raise MocapError(":bonedata lists no bones", path=spath, row=bonedata[0][0])

    known = {b.name for b in bones}
    parent_of: dict[str, str] = {}
    children_of: dict[str, list[str]] = {}
    for block in _block_ranges(sections["hierarchy"], "hierarchy", spath):
        for row, words in block:
            parent = words[0]
            for text, column in [parent] + words[1:]:
                if text not in known:
                    raise MocapError(
                        f":hierarchy names bone {text!r}, which :bonedata does not define", path=spath, row=row, column=column
                    )
            for text, column in words[1:]:
                if text in parent_of or text == "root":
                    raise MocapError(f"bone {text!r} is given a second parent", path=spath, row=row, column=column)
                parent_of[text] = parent[0]
                children_of.setdefault(parent[0], []).append(text)
    orphans = [b for b in bones[1:] if b.name not in parent_of]
    if orphans:
        raise MocapError(
            f"bone {orphans[0].name!r} is in :bonedata but has no parent in :hierarchy", path=spath, row=orphans[0].row
        )
    order = _order_joints(bones, parent_of, children_of)
    if len(order) != len(bones):
        missing = sorted(set(range(len(bones))) - set(order))
        raise MocapError(
            f"bone {bones[missing[0]].name!r} is not connected to the root in :hierarchy", path=spath, row=bones[missing[0]].row
        )
    bones = [bones[i] for i in order]
    index = {b.name: i for i, b in enumerate(bones)}
    parents = [-1] + [index[parent_of[b.name]] for b in bones[1:]]

    resolved = preset
    if preset == "auto":
        resolved = "cmu" if presets.is_cmu_layout([b.name for b in bones]) else "none"
    if resolved == "cmu":
        for b in bones:
            b.joint = presets.CMU_ASF_TO_BVH.get(b.name, b.name)
    if scale is None:
        scale = presets.CMU_SCALE_CM if resolved == "cmu" else INCH_CM / length_unit
    scale = check_scale(scale, "scale")
    skeleton = _build_skeleton(bones, parents, root_position, scale, "cmu" if resolved == "cmu" else Path(spath).stem)
    return AsfSkeleton(
        path=spath, skeleton=skeleton, bones=bones, length_unit=length_unit, angle_unit=angle_unit,
        scale=float(scale), preset=resolved, root_position=np.asarray(root_position, dtype=np.float64),
    )


@dataclass
class AmcMotion:
    """Raw AMC values: ``values[:, columns[j]]`` are joint ``j``'s dofs per frame."""

    path: str
    values: FloatArray
    columns: list[list[int]]
    degrees: bool
    first_frame: int


def parse_amc(path: os.PathLike[str] | str, asf: AsfSkeleton) -> AmcMotion:
    """Read AMC frames into one (F, dofs) array, columns per bone as in ``asf``.

    Bones absent from a frame (or from the file: bones without dofs) keep
    zeros, which is what a missing dof means in Acclaim files.

    Raises:
        MocapError: Unknown bones, wrong value counts, bad numbers, frame
            numbers out of sequence; naming the line and column.
    """
    spath = os.fspath(path)
    lines = read_text(spath).splitlines()
    starts = np.cumsum([0] + [len(b.dofs) for b in asf.bones])
    total = int(starts[-1])
    columns = [list(range(int(starts[j]), int(starts[j + 1]))) for j in range(len(asf.bones))]
    bone_index = {b.name: j for j, b in enumerate(asf.bones)}
    degrees = asf.angle_unit == "deg"
    frames: list[list[float]] = []
    current: list[float] | None = None
    seen: set[int] = set()
    frame_number = 0
    first_frame = 0
    for row, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped or stripped[0] == "#":
            continue
        if stripped[0] == ":":
            key = stripped.split()[0].upper()
            if key == ":DEGREES":
                degrees = True
            elif key == ":RADIANS":
                degrees = False
            continue
        words = stripped.split()
        if len(words) == 1 and words[0].lstrip("-").isdigit():
            number = int(words[0])
            if current is not None and number != frame_number + 1:
                raise MocapError(
                    f"frame number {number} after frame {frame_number}: expected {frame_number + 1}",
                    path=spath, row=row, column=1 + line.index(words[0]),
                )
            if current is None:
                first_frame = number
            frame_number = number
            current = [0.0] * total
            frames.append(current)
            seen = set()
            continue
        name = words[0]
        j = bone_index.get(name)
        if j is None:
            raise MocapError(
                f"bone {name!r} is not in the skeleton {asf.path}", path=spath, row=row, column=1 + line.index(name)
            )
        if current is None:
            raise MocapError(f"bone {name!r} before the first frame number", path=spath, row=row, column=1 + line.index(name))
        if j in seen:
            raise MocapError(f"bone {name!r} appears twice in frame {frame_number}", path=spath, row=row, column=1 + line.index(name))
        seen.add(j)
        expected = len(columns[j])
        if len(words) - 1 != expected:
            dofs = " ".join(asf.bones[j].dofs) or "none"
            raise MocapError(
                f"bone {name!r} has {len(words) - 1} values in frame {frame_number}, expected {expected} (dof {dofs})",
                path=spath, row=row, column=1 + len(line.rstrip()) if len(words) - 1 < expected else _word_column(line, expected + 1),
            )
        for k, text in enumerate(words[1:]):
            try:
                value = float(text)
            except ValueError:
                value = math.nan
                reason = "non-numeric"
            else:
                reason = "non-finite"
            if not math.isfinite(value):
                raise MocapError(
                    f"{reason} value {text!r} for bone {name!r} dof {asf.bones[j].dofs[k]} in frame {frame_number}: "
                    "expected a finite number",
                    path=spath, row=row, column=_word_column(line, k + 1),
                )
            current[columns[j][k]] = value
    if not frames:
        raise MocapError("no frames: expected frame numbers followed by one line per bone", path=spath, row=max(1, len(lines)))
    return AmcMotion(
        path=spath, values=np.array(frames, dtype=np.float64).reshape(len(frames), total), columns=columns,
        degrees=degrees, first_frame=first_frame,
    )


def _word_column(line: str, index: int) -> int:
    """1-based column of the ``index``-th (0-based) word of ``line``."""
    matches = list(_FIELD_RE.finditer(line))
    return matches[index].start() + 1 if index < len(matches) else len(line) + 1


def local_rotations(asf: AsfSkeleton, motion: AmcMotion) -> FloatArray:
    """(F, J, 4) local rotations ``C M C^-1`` in world-aligned axes, w >= 0."""
    frames = len(motion.values)
    out = quat.identity((frames, len(asf.bones)))
    for j, bone in enumerate(asf.bones):
        rot = [(d[1], col) for d, col in zip(bone.dofs, motion.columns[j]) if d in _ROTATION_DOFS]
        if not rot and not np.any(bone.axis):
            continue
        if rot:
            order = "".join(axis for axis, _ in rot)
            m = quat.from_euler(motion.values[:, [col for _, col in rot]], order, degrees=motion.degrees)
        else:
            m = quat.identity((frames,))
        c = bone.axis_rotation
        out[:, j] = quat.multiply(quat.multiply(c, m), quat.conjugate(c))
    return quat.positive_w(out)


def find_asf(amc_path: os.PathLike[str] | str) -> Path:
    """The skeleton of an AMC: ``NN.asf`` beside ``NN_MM.amc``, else the only ``.asf`` there."""
    amc = Path(amc_path)
    prefix = amc.stem.split("_")[0]
    candidates = [amc.with_name(prefix + ".asf"), amc.with_suffix(".asf")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    found = sorted(p for p in amc.parent.glob("*") if p.suffix.lower() == ".asf")
    if len(found) == 1:
        return found[0]
    if not found:
        raise MocapError(f"no .asf skeleton beside the AMC (looked for {candidates[0].name}): pass asf=", path=amc)
    raise MocapError(
        f"{len(found)} .asf files beside the AMC and none named {candidates[0].name}: pass asf=", path=amc
    )


def read_amc_clip(
    path: os.PathLike[str] | str,
    *,
    asf: os.PathLike[str] | str | AsfSkeleton | None = None,
    scale: float | None = None,
    preset: str = "auto",
    fps: float = presets.CMU_FPS,
) -> Clip:
    """Read an AMC motion with its ASF skeleton as a clip in the BVH convention.

    Args:
        path: The ``.amc`` file.
        asf: The skeleton: a path, an already read :class:`AsfSkeleton`, or
            None to look beside the AMC (see :func:`find_asf`).
        scale: cm per file unit (see :func:`read_asf`).
        preset: ``"auto"``, ``"cmu"`` or ``"none"`` (see :func:`read_asf`).
        fps: Frame rate; AMC files do not store it (CMU: 120).

    Raises:
        MocapError: Problems in either file, naming file, line and column.
    """
    spath = os.fspath(path)
    if isinstance(asf, AsfSkeleton):
        skel = asf.rescaled(scale) if scale is not None else asf
    else:
        skel = read_asf(asf if asf is not None else find_asf(spath), scale=scale, preset=preset)
    fps = check_fps(fps, "fps")
    motion = parse_amc(spath, skel)
    rotations = local_rotations(skel, motion)
    root = skel.bones[0]
    translation = np.zeros((len(motion.values), 3))
    for d, col in zip(root.dofs, motion.columns[0]):
        if d in _TRANSLATION_DOFS:
            translation[:, "xyz".index(d[1])] = motion.values[:, col]
    for j, bone in enumerate(skel.bones[1:], start=1):
        moving = [d for d, col in zip(bone.dofs, motion.columns[j]) if d not in _ROTATION_DOFS and np.any(motion.values[:, col])]
        if moving:
            warnings.warn(
                f"{spath}: bone {bone.name!r} has translation/length dofs ({', '.join(moving)}); a clip keeps fixed "
                "bone lengths, so they are ignored",
                stacklevel=2,
            )
    root_positions = skel.skeleton.offsets[0] + translation * skel.scale
    return Clip(
        skeleton=skel.skeleton,
        fps=fps,
        root_positions=root_positions,
        rotations=rotations,
        source={
            "path": spath,
            "format": "amc",
            "asf": skel.path,
            "preset": skel.preset,
            "scale": skel.scale,
            "degrees": motion.degrees,
            "first_frame": motion.first_frame,
        },
    )
