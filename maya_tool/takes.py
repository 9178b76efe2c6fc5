"""A take as the artist's file has it, and written back the same way.

``mocap-ae clean`` and ``mocap-ae corrupt`` return a file to the artist's
pipeline, so the output must be the input with only the changed numbers
changed: the same hierarchy text, units, channel order, frame time and every
frame, including the T-pose frame a converter put first (readers drop it from
the clip; it is copied back untouched here). The writers below therefore edit
the input's own text rather than write a new file:

* BVH: the header is copied verbatim; in each frame line only the channels of
  joints whose rotation (or, for the root, translation) changed are
  rewritten, as Euler angles in the joint's channel order, each angle on the
  360-degree branch nearest the input's value so curves do not jump.
* ASF/AMC: the AMC is rewritten the same way (values ``M`` from
  ``L = C M C^-1`` in the bone's dof order, degrees or radians as the file
  says); the ASF is copied beside it.
* CSV: written with :func:`maya_tool.io.csv.write_csv` in the input's layout
  and header setting, with its skeleton JSON.

A joint with fewer than three rotation channels (ASF knees have one dof) can
only hold the part of a change about its own axes: the rest is dropped (Euler
angles about the missing axes, completed last, set to zero) and
:func:`write_take` says by how much at most.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import atomic
from . import quaternion as quat
from .clip import Clip
from .errors import MocapError

FloatArray = NDArray[np.float64]

_PRECISION = 6


@dataclass
class Take:
    """A motion file read for editing.

    Attributes:
        clip: The clip as the readers give it (a BVH T-pose frame dropped).
        path: The file.
        format: ``bvh``, ``amc`` or ``csv``.
        raw: The parsed file the writer edits (``BvhData`` or ``(AsfSkeleton, AmcMotion)``), None for CSV.
        text: The file's text (BVH, AMC).
        skipped_frames: Leading file frames not in the clip (the T-pose frame).
    """

    clip: Clip
    path: Path
    format: str
    raw: Any = None
    text: str | None = None
    skipped_frames: int = 0

    @property
    def input_files(self) -> list[Path]:
        """Every file the take was read from (an AMC's ASF, a CSV's skeleton JSON)."""
        files = [self.path]
        extra = self.clip.source.get("asf") or self.clip.source.get("skeleton_path")
        if extra:
            files.append(Path(extra))
        return files


def output_suffix(path: os.PathLike[str] | str) -> str:
    """The suffix a cleaned or corrupted copy of ``path`` gets: the input's own."""
    return Path(path).suffix.lower()


def read_take(path: os.PathLike[str] | str, **options: Any) -> Take:
    """Read a BVH, AMC (with its ASF) or CSV for :func:`write_take`.

    Args:
        path: The file.
        **options: Reader options as :func:`maya_tool.io.read_clip` takes them.
            A CSV is read without writing its load cache (never write into
            the artist's folder).
    """
    from .io import read_text

    p = Path(path)
    suffix = p.suffix.lower()
    if not p.is_file():
        raise MocapError("no such file", path=p)
    if suffix == ".bvh":
        from .io.bvh import parse_bvh, to_clip

        data = parse_bvh(p)
        clip = to_clip(data, **options)
        skipped = 1 if clip.source.get("dropped_first_frame") else 0
        return Take(clip, p, "bvh", data, read_text(p), skipped)
    if suffix == ".amc":
        from .io.asfamc import find_asf, parse_amc, read_amc_clip, read_asf

        opts = dict(options)
        asf_path = opts.pop("asf", None)
        asf = read_asf(asf_path if asf_path is not None else find_asf(p), scale=opts.pop("scale", None),
                       preset=opts.pop("preset", "auto"))
        clip = read_amc_clip(p, asf=asf, **opts)
        return Take(clip, p, "amc", (asf, parse_amc(p, asf)), read_text(p))
    if suffix == ".csv":
        from .io.csv import read_csv

        opts = {k: v for k, v in options.items() if k not in ("preset",)}
        opts.setdefault("use_cache", False)
        return Take(read_csv(p, **opts), p, "csv")
    from .io import READABLE

    raise MocapError(f"cannot read {suffix or 'files without an extension'}: expected one of {', '.join(READABLE)}",
                     path=p)


def euler_near(rotations: FloatArray, order: str, reference: FloatArray, degrees: bool = True) -> FloatArray:
    """(F, len(order)) Euler angles in ``order`` (completed with missing axes, which are dropped),
    each on the 360-degree branch nearest ``reference``."""
    axes = "XYZ" if order.isupper() else "xyz"
    full = order + "".join(a for a in axes if a not in order)
    angles = quat.to_euler(rotations, full, degrees=degrees)[:, : len(order)]
    turn = 360.0 if degrees else 2 * np.pi
    return angles + turn * np.round((reference - angles) / turn)


def _projection_loss(rotations: FloatArray, order: str, degrees_angles: FloatArray) -> float:
    """Largest angle (degrees) between the rotations and what ``order``'s channels can hold."""
    if len(order) == 3:
        return 0.0
    held = quat.from_euler(degrees_angles, order)
    return float(np.degrees(quat.geodesic_angle(held, rotations)).max()) if len(rotations) else 0.0


def _changed(a: FloatArray, b: FloatArray) -> NDArray[np.bool_]:
    """(F,) frames where rotations (F, 4) or positions (F, 3) differ at all."""
    return ~np.all(a == b, axis=-1)


def _format(value: float) -> str:
    text = f"{value:.{_PRECISION}f}"
    return "0" if float(text) == 0.0 else text


def write_take(take: Take, clip: Clip, out_path: os.PathLike[str] | str) -> dict[str, Any]:
    """Write ``clip`` (frames and skeleton of ``take.clip``) like ``take``'s file; returns what was written.

    Raises:
        MocapError: The output suffix is not the input's, or the clip does
            not match the take's frames and joints.
    """
    out = Path(out_path)
    if out.suffix.lower() != output_suffix(take.path):
        raise MocapError(f"output must be a {output_suffix(take.path)} file like its input", path=out)
    if clip.num_frames != take.clip.num_frames or clip.skeleton.names != take.clip.skeleton.names:
        raise MocapError(
            f"cannot write {clip.num_frames} frames of {clip.skeleton.num_joints} joints over a take of "
            f"{take.clip.num_frames} frames of {take.clip.skeleton.num_joints} joints",
            path=out,
        )
    if take.format == "bvh":
        return _write_bvh_like(take, clip, out)
    if take.format == "amc":
        return _write_amc_like(take, clip, out)
    from .io.csv import write_csv

    layout = str(take.clip.source.get("layout", "frames"))
    write_csv(clip, out, header=bool(take.clip.source.get("header", True)), layout=layout)
    return {"format": "csv", "frames_written": clip.num_frames, "layout": layout, "projection_max_deg": 0.0}


def _write_bvh_like(take: Take, clip: Clip, out: Path) -> dict[str, Any]:
    from .io.bvh import _CHANNEL_RE

    data = take.raw
    assert take.text is not None
    lines = take.text.splitlines()
    first = data.motion_row - 1
    frame_rows = [i for i in range(first, len(lines)) if lines[i].strip()]
    if len(frame_rows) != len(data.motion):
        raise MocapError(f"found {len(frame_rows)} frame lines, expected {len(data.motion)}", path=take.path)
    tokens = [lines[i].split() for i in frame_rows]
    offset = take.skipped_frames
    scale = float(take.clip.source.get("scale") or 1.0)
    original = take.clip
    projection = 0.0
    dropped = 0.0
    edited: set[int] = set()
    for j, (chans, cols) in enumerate(zip(data.channels, data.channel_columns())):
        names = [_CHANNEL_RE.match(c).group(1).upper() + _CHANNEL_RE.match(c).group(2).lower() for c in chans]  # type: ignore[union-attr]
        rot = [(c[0], col) for c, col in zip(names, cols) if c.endswith("rotation")]
        frames = np.flatnonzero(_changed(original.rotations[:, j], clip.rotations[:, j]))
        if len(frames):
            if not rot:
                dropped = max(dropped, float(np.degrees(quat.geodesic_angle(
                    original.rotations[frames, j], clip.rotations[frames, j])).max()))
            else:
                order = "".join(a for a, _ in rot)
                columns = [col for _, col in rot]
                reference = data.motion[frames + offset][:, columns]
                angles = euler_near(clip.rotations[frames, j], order, reference)
                projection = max(projection, _projection_loss(clip.rotations[frames, j], order, angles))
                for f, row in zip(frames, angles):
                    for col, value in zip(columns, row):
                        tokens[f + offset][col] = _format(value)
                    edited.add(int(f) + offset)
        if j == 0:
            pos = [("XYZ".index(c[0]), col) for c, col in zip(names, cols) if c.endswith("position")]
            moved = np.flatnonzero(_changed(original.root_positions, clip.root_positions))
            if len(moved) and not pos:
                raise MocapError("the root moved but has no position channels to write it to", path=out)
            values = clip.root_positions[moved] / scale - data.offsets[0]
            for f, row in zip(moved, values):
                for axis, col in pos:
                    tokens[f + offset][col] = _format(row[axis])
                edited.add(int(f) + offset)
    for index in edited:
        lines[frame_rows[index]] = " ".join(tokens[index])
    atomic.write_text(out, "\n".join(lines) + "\n")
    return {"format": "bvh", "frames_written": len(frame_rows), "frames_edited": len(edited),
            "kept_first_frame": bool(offset), "projection_max_deg": round(projection, 6),
            "unwritable_change_max_deg": round(dropped, 6)}


def _write_amc_like(take: Take, clip: Clip, out: Path) -> dict[str, Any]:
    asf, motion = take.raw
    assert take.text is not None
    lines = take.text.splitlines()
    bone_rows: dict[tuple[int, str], int] = {}
    frame = -1
    for row, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped[0] in "#:":
            continue
        words = stripped.split()
        if len(words) == 1 and words[0].lstrip("-").isdigit():
            frame += 1
            continue
        bone_rows[(frame, words[0])] = row
    original = take.clip
    projection = 0.0
    values = motion.values.copy()
    edited: set[tuple[int, int]] = set()
    for j, bone in enumerate(asf.bones):
        # Lower case: Acclaim dofs turn about fixed axes (extrinsic), as the reader composes them.
        rot = [(d[1], col) for d, col in zip(bone.dofs, motion.columns[j]) if d in ("rx", "ry", "rz")]
        frames = np.flatnonzero(_changed(original.rotations[:, j], clip.rotations[:, j]))
        if len(frames) and rot:
            c = bone.axis_rotation
            m = quat.multiply(quat.multiply(quat.conjugate(c), clip.rotations[frames, j]), c)
            order = "".join(a for a, _ in rot)
            columns = [col for _, col in rot]
            angles = euler_near(m, order, values[frames][:, columns], degrees=motion.degrees)
            held = angles if motion.degrees else np.degrees(angles)
            projection = max(projection, _projection_loss(m, order, held))
            for k, col in enumerate(columns):
                values[frames, col] = angles[:, k]
            edited |= {(int(f), j) for f in frames}
        if j == 0:
            moved = np.flatnonzero(_changed(original.root_positions, clip.root_positions))
            trans = [("xyz".index(d[1]), col) for d, col in zip(bone.dofs, motion.columns[0]) if d in ("tx", "ty", "tz")]
            if len(moved) and not trans:
                raise MocapError("the root moved but has no translation dofs to write it to", path=out)
            shift = (clip.root_positions[moved] - asf.skeleton.offsets[0]) / asf.scale
            for axis, col in trans:
                values[moved, col] = shift[:, axis]
            edited |= {(int(f), 0) for f in moved}
    for index, j in edited:
        bone = asf.bones[j]
        at = bone_rows.get((index, bone.name))
        if at is None:
            raise MocapError(f"bone {bone.name!r} has no line in frame {index + motion.first_frame} to write to",
                             path=take.path)
        lines[at] = " ".join([bone.name] + [_format(v) for v in values[index, motion.columns[j]]])
    atomic.write_text(out, "\n".join(lines) + "\n")
    asf_out = out.with_name(Path(asf.path).name)
    if Path(asf.path).resolve() != asf_out.resolve():
        with atomic.atomic_path(asf_out) as tmp:
            shutil.copyfile(asf.path, tmp)
    return {"format": "amc", "frames_written": len(motion.values), "frames_edited": len({f for f, _ in edited}),
            "asf": str(asf_out), "projection_max_deg": round(projection, 6)}
