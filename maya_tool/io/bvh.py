"""BVH (Biovision hierarchy) reader and writer.

BVH is how the CMU data reaches most tools (the MotionBuilder-friendly
conversion), and what Maya, MotionBuilder and Blender import, so the reader
accepts any hierarchy and any Euler channel order per joint, and the writer
reproduces the hierarchy (with its ``End Site`` blocks) and channel layout of
the skeleton it is given.

Conventions, shared with the ASF/AMC reader:

* Rotation channels are intrinsic Euler angles in the order listed
  (``Zrotation Yrotation Xrotation`` is ``Rz @ Ry @ Rx``), converted with
  :func:`maya_tool.quaternion.from_euler`.
* Lengths are scaled to cm on read (``scale`` = cm per file unit).
* Translation channels add to the joint's ``OFFSET``. For the root the sum is
  the clip's root position and ``skeleton.offsets[0]`` keeps the ``OFFSET``;
  a :class:`~maya_tool.clip.Clip` has fixed bone lengths, so a non-root
  joint's translation is folded into its offset (first frame read) and the
  writer emits zeros for it.

The MOTION block is parsed with one vectorised conversion (about 0.15 s for the
3.7 MB ``06_13.bvh``): a Python loop per number would take seconds.
"""

from __future__ import annotations

import decimal
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Iterator

import numpy as np
from numpy.typing import NDArray

from .. import atomic, presets
from .. import quaternion as quat
from ..clip import Clip
from ..errors import MocapError
from ..skeleton import MAX_JOINTS, MAX_LENGTH_CM, Skeleton
from . import check_fps, check_scale, read_text

FloatArray = NDArray[np.float64]

PRESETS = presets.READER_PRESETS

_CHANNEL_RE = re.compile(r"^([XYZ])(position|rotation)$", re.IGNORECASE)
_TOKEN_RE = re.compile(r"[{}]|[^\s{}]+")
_MOTION_RE = re.compile(r"^[ \t]*MOTION[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)
_FRAMES_RE = re.compile(r"^\s*Frames\s*:\s*(\S*)\s*$", re.IGNORECASE)
_FRAME_TIME_RE = re.compile(r"^\s*Frame\s+Time\s*:\s*(\S*)\s*$", re.IGNORECASE)
_AXIS = {"X": 0, "Y": 1, "Z": 2}

# The tip written for a leaf that has no End Site: importers disagree on how to
# read a joint with neither children nor an End Site.
_ZERO_TIP = np.zeros(3)


@dataclass
class BvhData:
    """A BVH file as written: hierarchy in file units and raw channel values.

    Attributes:
        path: The file read.
        names: Joint names in file order (depth first, root first).
        parents: Parent index per joint, -1 for the root.
        offsets: (J, 3) ``OFFSET`` of each joint, in file units.
        channels: Per joint, normalised channel names (``Xposition``, ``Zrotation``).
        end_sites: Joint index -> (3,) ``End Site`` offset, in file units.
        frame_time: Seconds per frame.
        frame_time_text: The ``Frame Time`` value as written (its digits tell
            how much it was rounded).
        motion: (F, C) channel values, C = total channels, in file order.
        motion_row: 1-based line of the first frame, for error messages.
    """

    path: str
    names: list[str]
    parents: list[int]
    offsets: FloatArray
    channels: list[list[str]]
    end_sites: dict[int, FloatArray] = field(default_factory=dict)
    frame_time: float = 1.0 / presets.CMU_FPS
    frame_time_text: str = ""
    motion: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    motion_row: int = 0

    @property
    def num_channels(self) -> int:
        return sum(len(c) for c in self.channels)

    def channel_columns(self) -> list[list[int]]:
        """Column of each joint's channels in :attr:`motion`."""
        columns: list[list[int]] = []
        start = 0
        for chans in self.channels:
            columns.append(list(range(start, start + len(chans))))
            start += len(chans)
        return columns

    def channel_label(self, column: int) -> str:
        """``joint.channel`` for a 0-based motion column, for error messages."""
        for j, cols in enumerate(self.channel_columns()):
            if column in cols:
                return f"{self.names[j]}.{self.channels[j][cols.index(column)]}"
        return f"column {column + 1}"

    def rotations(self, motion: FloatArray | None = None) -> FloatArray:
        """(F, J, 4) local rotations from the rotation channels (intrinsic, as listed).

        Args:
            motion: Channel values to convert; defaults to :attr:`motion`.
        """
        motion = self.motion if motion is None else motion
        frames = len(motion)
        out = quat.identity((frames, len(self.names)))
        for j, (chans, cols) in enumerate(zip(self.channels, self.channel_columns())):  # columns made once
            rot = [(c[0], col) for c, col in zip(chans, cols) if c.endswith("rotation")]
            if rot:
                order = "".join(axis for axis, _ in rot)
                out[:, j] = quat.from_euler(motion[:, [col for _, col in rot]], order)
        return out

    def translations(self, motion: FloatArray | None = None) -> FloatArray:
        """(F, J, 3) translation channel values per joint (zeros where absent), file units."""
        motion = self.motion if motion is None else motion
        out = np.zeros((len(motion), len(self.names), 3))
        for j, (chans, cols) in enumerate(zip(self.channels, self.channel_columns())):
            for c, col in zip(chans, cols):
                if c.endswith("position"):
                    out[:, j, _AXIS[c[0]]] = motion[:, col]
        return out


@dataclass
class _Token:
    text: str
    row: int
    column: int


class _Tokens:
    """Header tokens with their positions, so errors point at the exact word."""

    def __init__(self, header: str, path: str) -> None:
        self.path = path
        self.items: list[_Token] = []
        for row, line in enumerate(header.splitlines(), start=1):
            for match in _TOKEN_RE.finditer(line):
                self.items.append(_Token(match.group(0), row, match.start() + 1))
        self.pos = 0
        self.last_row = max(1, len(header.splitlines()))

    def peek(self) -> _Token | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def next(self, expected: str) -> _Token:
        tok = self.peek()
        if tok is None:
            raise MocapError(f"unexpected end of the hierarchy: expected {expected}", path=self.path, row=self.last_row)
        self.pos += 1
        return tok

    def expect(self, word: str) -> _Token:
        tok = self.next(repr(word))
        if tok.text.upper() != word.upper():
            raise MocapError(f"expected {word!r}, found {tok.text!r}", path=self.path, row=tok.row, column=tok.column)
        return tok

    def number(self, what: str) -> float:
        tok = self.next(what)
        try:
            value = float(tok.text)
        except ValueError:
            raise MocapError(f"expected a number for {what}, found {tok.text!r}", path=self.path, row=tok.row, column=tok.column) from None
        if not math.isfinite(value):
            raise MocapError(f"{what} is {tok.text}: expected a finite number", path=self.path, row=tok.row, column=tok.column)
        return value

    def rest_of_line(self, after: _Token, what: str) -> str:
        """Tokens on ``after``'s line up to a brace, joined: names may contain spaces."""
        words = []
        while (tok := self.peek()) is not None and tok.row == after.row and tok.text not in "{}":
            words.append(tok.text)
            self.pos += 1
        if not words:
            raise MocapError(f"{after.text} without a {what}", path=self.path, row=after.row, column=after.column)
        return " ".join(words)


def _parse_hierarchy(tokens: _Tokens, data: BvhData) -> None:
    path = tokens.path
    first = tokens.peek()
    if first is None:
        raise MocapError("empty file: expected a BVH file starting with HIERARCHY", path=path, row=1)
    tokens.expect("HIERARCHY")
    root = tokens.expect("ROOT")
    offsets: list[list[float]] = []
    # Iterative descent: (joint index) stack of open joint blocks.
    stack: list[int] = []

    seen: set[str] = set()

    def open_joint(keyword: _Token, parent: int) -> None:
        name = tokens.rest_of_line(keyword, "joint name")
        if name in seen:
            raise MocapError(f"joint name {name!r} used twice", path=path, row=keyword.row, column=keyword.column)
        if len(seen) == MAX_JOINTS:
            raise MocapError(f"more than {MAX_JOINTS} joints: more than a skeleton may have", path=path,
                             row=keyword.row, column=keyword.column)
        seen.add(name)
        tokens.expect("{")
        data.names.append(name)
        data.parents.append(parent)
        data.channels.append([])
        offsets.append([math.nan] * 3)
        stack.append(len(data.names) - 1)

    open_joint(root, -1)
    seen_offset = {0: False}
    while stack:
        joint = stack[-1]
        tok = tokens.next(f"OFFSET, CHANNELS, JOINT, End Site or '}}' in joint {data.names[joint]!r}")
        word = tok.text.upper()
        if word == "OFFSET":
            offsets[joint] = [tokens.number(f"OFFSET of {data.names[joint]!r}") for _ in range(3)]
            seen_offset[joint] = True
        elif word == "CHANNELS":
            count_tok = tokens.next("a channel count")
            try:
                count = int(count_tok.text)
            except ValueError:
                raise MocapError(
                    f"expected a channel count after CHANNELS, found {count_tok.text!r}",
                    path=path, row=count_tok.row, column=count_tok.column,
                ) from None
            if not 0 <= count <= 6:
                raise MocapError(
                    f"CHANNELS {count} for joint {data.names[joint]!r}: expected 0 to 6 channels",
                    path=path, row=count_tok.row, column=count_tok.column,
                )
            names: list[str] = []
            for _ in range(count):
                ch = tokens.next(f"{count} channel names after CHANNELS")
                match = _CHANNEL_RE.match(ch.text)
                if match is None:
                    raise MocapError(
                        f"unknown channel {ch.text!r} for joint {data.names[joint]!r} (CHANNELS {count}): expected "
                        "Xposition, Yposition, Zposition, Xrotation, Yrotation or Zrotation",
                        path=path, row=ch.row, column=ch.column,
                    )
                name = match.group(1).upper() + match.group(2).lower()
                if name in names:
                    raise MocapError(
                        f"channel {name} listed twice for joint {data.names[joint]!r}"
                        + (": an Euler order needs three distinct axes" if name.endswith("rotation") else ""),
                        path=path, row=ch.row, column=ch.column,
                    )
                names.append(name)
            data.channels[joint] = names
        elif word == "JOINT":
            seen_offset[len(data.names)] = False
            open_joint(tok, joint)
        elif word == "END":
            site = tokens.next("'Site' after 'End'")
            if site.text.upper() != "SITE":
                raise MocapError(f"expected 'End Site', found 'End {site.text}'", path=path, row=site.row, column=site.column)
            tokens.expect("{")
            tokens.expect("OFFSET")
            tip = [tokens.number(f"End Site OFFSET of {data.names[joint]!r}") for _ in range(3)]
            tokens.expect("}")
            if joint in data.end_sites:
                raise MocapError(f"joint {data.names[joint]!r} has two End Sites", path=path, row=tok.row, column=tok.column)
            data.end_sites[joint] = np.array(tip)
        elif word == "}":
            if not seen_offset.get(joint, False):
                raise MocapError(f"joint {data.names[joint]!r} has no OFFSET", path=path, row=tok.row, column=tok.column)
            stack.pop()
        elif word == "ROOT":
            raise MocapError("only one ROOT is supported", path=path, row=tok.row, column=tok.column)
        else:
            raise MocapError(
                f"unexpected {tok.text!r} in joint {data.names[joint]!r}: expected OFFSET, CHANNELS, JOINT, "
                "End Site or '}'",
                path=path, row=tok.row, column=tok.column,
            )
    extra = tokens.peek()
    if extra is not None:
        what = "a second ROOT (only one is supported)" if extra.text.upper() == "ROOT" else repr(extra.text)
        raise MocapError(f"unexpected {what} after the root joint's closing brace", path=path, row=extra.row, column=extra.column)
    data.offsets = np.array(offsets, dtype=np.float64).reshape(-1, 3)


def _fail_motion(data: BvhData, rows: list[list[str]], line_numbers: NDArray[np.int64], bad: int, reason: str) -> MocapError:
    frame, col = divmod(bad, data.num_channels)
    token = rows[frame][col] if frame < len(rows) and col < len(rows[frame]) else "?"
    return MocapError(
        f"{reason} {token!r} in frame {frame + 1} at channel {col + 1} of {data.num_channels} "
        f"({data.channel_label(col)}): expected a finite number",
        path=data.path, row=int(line_numbers[frame]), column=col + 1,
    )


def _parse_motion(text: str, first_row: int, data: BvhData) -> None:
    """Parse ``MOTION``..end; ``first_row`` is the line of ``MOTION``."""
    path = data.path
    lines = text.splitlines()
    index = 1
    headers: list[tuple[re.Pattern[str], str]] = [(_FRAMES_RE, "Frames: N"), (_FRAME_TIME_RE, "Frame Time: SECONDS")]
    values: list[str] = []
    header_rows: list[int] = []
    for pattern, expected in headers:
        while index < len(lines) and not lines[index].strip():
            index += 1
        row = first_row + index
        if index >= len(lines):
            raise MocapError(f"missing '{expected}' after MOTION", path=path, row=row - 1 if index else first_row)
        match = pattern.match(lines[index])
        if match is None:
            raise MocapError(f"expected '{expected}', found {lines[index].strip()[:40]!r}", path=path, row=row, column=1)
        values.append(match.group(1))
        header_rows.append(row)
        index += 1
    frames_text, time_text = values
    try:
        frames = int(frames_text)
        if frames < 0:
            raise ValueError
    except ValueError:
        raise MocapError(f"'Frames: {frames_text}': expected a whole number of frames", path=path, row=header_rows[0]) from None
    try:
        frame_time = float(time_text)
    except ValueError:
        frame_time = math.nan
    if not (math.isfinite(frame_time) and frame_time > 0):
        raise MocapError(f"'Frame Time: {time_text}': expected a positive number of seconds", path=path, row=header_rows[1])
    check_fps(1.0 / frame_time, f"'Frame Time: {time_text}'", path=path, row=header_rows[1])
    data.frame_time = frame_time
    data.frame_time_text = time_text

    rows_all = [line.split() for line in lines[index:]]
    counts = np.fromiter(map(len, rows_all), dtype=np.int64, count=len(rows_all))
    nonblank = np.flatnonzero(counts)
    line_numbers = nonblank + first_row + index
    rows = [rows_all[i] for i in nonblank] if len(nonblank) != len(rows_all) else rows_all
    counts = counts[nonblank]
    data.motion_row = int(line_numbers[0]) if len(line_numbers) else first_row + index
    channels = data.num_channels
    if channels == 0 and not rows:
        # Nothing is animated: the frame lines are empty, only the count matters.
        data.motion = np.zeros((frames, 0))
        return
    found = len(rows)
    if found != frames:
        span = f" (lines {line_numbers[0]}-{line_numbers[-1]})" if found else ""
        raise MocapError(
            f"'Frames: {frames}' but the MOTION block has {found} frame lines{span}",
            path=path, row=header_rows[0],
        )
    wrong = np.flatnonzero(counts != channels)
    if len(wrong):
        f = int(wrong[0])
        raise MocapError(
            f"frame {f + 1} has {counts[f]} numbers, expected {channels} (the channels of {len(data.names)} joints)",
            path=path, row=int(line_numbers[f]), column=min(int(counts[f]), channels) + 1,
        )
    flat = list(chain.from_iterable(rows))
    try:
        motion = np.array(flat, dtype=np.float64)
    except ValueError:
        bad = next(i for i, tok in enumerate(flat) if not _is_float(tok))
        raise _fail_motion(data, rows, line_numbers, bad, "non-numeric value") from None
    finite = np.isfinite(motion)
    if not finite.all():
        raise _fail_motion(data, rows, line_numbers, int(np.argmin(finite)), "non-finite value")
    data.motion = motion.reshape(frames, channels)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def parse_bvh(path: os.PathLike[str] | str) -> BvhData:
    """Read a BVH file as written, without unit or preset handling.

    The benchmark and the round-trip tests use this to see the raw channel
    values; :func:`read_bvh` builds the clip from it.

    Raises:
        MocapError: Naming the file, line and column of the first problem.
    """
    spath = os.fspath(path)
    text = read_text(spath)
    if not text.strip():
        raise MocapError("empty file: expected a BVH file starting with HIERARCHY", path=spath, row=1)
    match = _MOTION_RE.search(text)
    header = text[: match.start()] if match else text
    data = BvhData(path=spath, names=[], parents=[], offsets=np.zeros((0, 3)), channels=[])
    _parse_hierarchy(_Tokens(header, spath), data)
    if match is None:
        raise MocapError(
            "missing MOTION block: expected 'MOTION', 'Frames: N' and 'Frame Time: SECONDS' after the hierarchy",
            path=spath, row=header.count("\n") + 1,
        )
    motion_row = header.count("\n") + 1
    _parse_motion(text[match.start():], motion_row, data)
    return data


def fps_from_frame_time(text: str) -> float:
    """1 / Frame Time, snapped to a whole rate when the written rounding explains the gap.

    ``.0083333`` is 120 fps written with 7 decimals, not 120.0005 fps; 29.97
    fps (``.0333667``) stays 29.97 because its gap to 30 is far larger than
    what rounding the frame time to 7 decimals can cause.
    """
    frame_time = float(text)
    fps = 1.0 / frame_time
    nearest = round(fps)
    try:
        exponent = decimal.Decimal(text).as_tuple().exponent
    except decimal.InvalidOperation:
        exponent = -6
    step = 10.0 ** exponent if isinstance(exponent, int) else 1e-6
    # d(1/t) = dt / t^2: the largest fps change rounding the frame time can cause.
    tolerance = 0.5 * step * fps * fps + 1e-9 * fps
    return float(nearest) if nearest > 0 and abs(fps - nearest) <= tolerance else fps


def starts_with_tpose(data: BvhData) -> bool:
    """Whether frame 1 is the reference pose the CMU converter prepends.

    That frame has an unrotated root and whole-degree joint angles (0 and a
    few of +-8, 11, 16, 21 degrees); captured motion never does. Checking it
    keeps the first frame of a CMU-named file written by :func:`write_bvh`,
    which the ``cmu`` preset would otherwise drop.
    """
    if len(data.motion) == 0:
        return False
    rot = [col for chans, cols in zip(data.channels, data.channel_columns()) for c, col in zip(chans, cols)
           if c.endswith("rotation")]
    root_rot = [col for c, col in zip(data.channels[0], data.channel_columns()[0]) if c.endswith("rotation")]
    first = data.motion[0, rot]
    return bool(
        np.all(first == np.round(first)) and np.any(first != 0.0) and not np.any(data.motion[0, root_rot])
    )


def _resolve(preset: str, names: list[str]) -> str:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    if preset == "auto":
        return "cmu" if names == presets.CMU_JOINT_NAMES else "none"
    return preset


CM_LEG_THRESHOLD = 40.0
"""Hip-to-ankle length (file units) above which a CMU-named file is taken to be in cm.

The CMU subjects' legs are 16-18 CMU units (90-100 cm): 40 units would be a
2.3 m leg, 40 cm a toddler's. Telling the unit by the bones rather than by the
names is what lets a CMU-named file written in cm (ours, from a CSV, or any
exporter's) read back as written.
"""


def _leg_length(names: list[str], offsets: FloatArray) -> float:
    """Hip-to-ankle length of a CMU-named hierarchy in the offsets' units."""
    return float(sum(np.linalg.norm(offsets[names.index(n)]) for n in presets.CMU_LEFT_LEG))


def auto_scale(names: list[str], offsets: FloatArray) -> float:
    """cm per file unit that ``preset="auto"`` uses for a hierarchy (offsets in file units).

    CMU-named joints are in CMU units (5.6444 cm) unless their leg is as long
    as a leg in cm (:data:`CM_LEG_THRESHOLD`); anything else is taken as cm.
    """
    if names != presets.CMU_JOINT_NAMES:
        return 1.0
    return 1.0 if _leg_length(names, offsets) > CM_LEG_THRESHOLD else presets.CMU_SCALE_CM


def read_bvh(
    path: os.PathLike[str] | str,
    *,
    scale: float | None = None,
    preset: str = "auto",
    drop_first_frame: bool | None = None,
) -> Clip:
    """Read a BVH file into a clip in cm.

    Args:
        path: The ``.bvh`` file.
        scale: cm per file unit. Defaults to the preset's (CMU: 5.6444), else 1;
            with ``"auto"``, CMU-named bones as long as a leg in cm keep 1
            (:func:`auto_scale`), so a file written in cm reads back as written.
        preset: ``"cmu"`` for the CMU MotionBuilder conversion (scale 5.6444,
            first frame dropped because the converter put a T-pose there),
            ``"none"``, or ``"auto"``: ``"cmu"`` when the joints are the 31
            CMU joints in CMU order.
        drop_first_frame: Drop frame 1. Defaults to: with the ``cmu`` preset,
            when frame 1 is the converter's T-pose (:func:`starts_with_tpose`;
            true for every file of the conversion), else no.

    Raises:
        MocapError: Bad or truncated file, naming line and column.
    """
    return to_clip(parse_bvh(path), scale=scale, preset=preset, drop_first_frame=drop_first_frame)


def to_clip(
    data: BvhData,
    *,
    scale: float | None = None,
    preset: str = "auto",
    drop_first_frame: bool | None = None,
) -> Clip:
    """The clip of already parsed BVH data; arguments as in :func:`read_bvh`.

    Lets a caller that also needs the raw channels (tests, benchmarks) parse once.
    """
    spath = data.path
    resolved = _resolve(preset, data.names)
    if scale is None:
        if preset == "auto":
            scale = auto_scale(data.names, data.offsets)
        else:
            scale = presets.CMU_SCALE_CM if resolved == "cmu" else 1.0
    scale = check_scale(scale, "scale")
    if drop_first_frame is None:
        drop_first_frame = resolved == "cmu" and starts_with_tpose(data)
    motion = data.motion
    if drop_first_frame:
        if len(motion) < 2:
            raise MocapError(
                f"the file has {len(motion)} frame(s); dropping the first (T-pose) frame would leave none: "
                "pass drop_first_frame=False",
                path=spath, row=data.motion_row,
            )
        motion = motion[1:]
    rotations = data.rotations(motion)
    translations = data.translations(motion)
    offsets = data.offsets.copy()
    for j in range(1, len(data.names)):
        if not any(c.endswith("position") for c in data.channels[j]) or not len(translations):
            continue
        moved = translations[:, j]
        spread = float(np.max(np.abs(moved - moved[0]))) if len(moved) else 0.0
        if spread > 1e-4:
            warnings.warn(
                f"{spath}: joint {data.names[j]!r} has animated position channels (varying by up to {spread:.4g} "
                "file units); a clip keeps fixed bone lengths, so the first frame's values are used",
                stacklevel=2,
            )
        offsets[j] = offsets[j] + moved[0]
    root_positions = (data.offsets[0] + translations[:, 0]) * scale
    _check_lengths(data, root_positions, offsets * scale, int(drop_first_frame), scale)
    skeleton = Skeleton(
        names=data.names,
        parents=np.asarray(data.parents, dtype=np.int64),
        offsets=offsets * scale,
        channels=[list(c) for c in data.channels],
        end_sites={j: tip * scale for j, tip in data.end_sites.items()},
        name="cmu" if resolved == "cmu" else Path(spath).stem,
    )
    return Clip(
        skeleton=skeleton,
        fps=fps_from_frame_time(data.frame_time_text),
        root_positions=root_positions,
        rotations=rotations,
        source={
            "path": spath,
            "format": "bvh",
            "preset": resolved,
            "scale": float(scale),
            "dropped_first_frame": bool(drop_first_frame),
            "frame_time": data.frame_time,
        },
    )


def _check_lengths(data: BvhData, root_positions: FloatArray, offsets_cm: FloatArray, skipped: int, scale: float) -> None:
    """Refuse positions and offsets that are no lengths in cm (beyond 100 km, or overflowed by ``scale``)."""
    with np.errstate(invalid="ignore"):
        bad_offsets = ~(np.abs(offsets_cm) <= MAX_LENGTH_CM)
    if bad_offsets.any():
        j = int(np.argwhere(bad_offsets)[0][0])
        raise MocapError(
            f"OFFSET of {data.names[j]!r} is {float(np.max(np.abs(offsets_cm[j]))):.6g} cm at {scale:g} cm per unit: "
            f"beyond {MAX_LENGTH_CM:g} cm (100 km), not a bone (a wrong unit or scale?)",
            path=data.path,
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(root_positions) <= MAX_LENGTH_CM)
    if bad.any():
        frame, axis = (int(v) for v in np.argwhere(bad)[0])
        raise MocapError(
            f"root position {root_positions[frame, axis]:.6g} cm in frame {frame + skipped + 1} at {scale:g} cm per "
            f"unit: beyond {MAX_LENGTH_CM:g} cm (100 km), not a position (a wrong unit or scale?)",
            path=data.path, row=data.motion_row + frame + skipped,
        )


def _full_order(order: str) -> str:
    """Complete a 1- or 2-axis order with the missing axes (appended, so they come last)."""
    return order + "".join(a for a in "XYZ" if a not in order)


def _euler_channels(rotations: FloatArray, order: str, joint: str, path: str) -> FloatArray:
    """(F, len(order)) degrees for ``order``, continuous over frames.

    Adding 360 degrees to one Euler angle leaves the rotation unchanged, so
    unwrapping only removes the +-180 jumps that scipy's principal range
    puts into curves an animator would see in Maya's graph editor.
    """
    full = _full_order(order)
    angles = quat.to_euler(rotations, full)
    if len(order) < 3 and len(angles):
        dropped = angles[:, len(order):]
        worst = float(np.max(np.abs(dropped)))
        if worst > 1e-4:
            raise MocapError(
                f"joint {joint!r} has only {order} rotation channels but rotates {worst:.4g} degrees about "
                f"{full[len(order):]}: a BVH file cannot hold that rotation",
                path=path,
            )
    angles = angles[:, : len(order)]
    if len(angles) > 1:
        angles = np.unwrap(angles, axis=0, period=360.0)
    return angles


def _channel_values(clip: Clip, scale: float, path: str) -> tuple[FloatArray, FloatArray]:
    """(F, C) channel values in file units and the (J, 3) OFFSETs to write."""
    skeleton = clip.skeleton
    frames = clip.num_frames
    offsets = skeleton.offsets / scale
    columns: list[FloatArray] = []
    for j, chans in enumerate(skeleton.channels):
        normalised = []
        for c in chans:
            match = _CHANNEL_RE.match(c)
            if match is None:
                raise MocapError(f"joint {skeleton.names[j]!r} has unknown channel {c!r}: cannot write it as BVH", path=path)
            normalised.append(match.group(1).upper() + match.group(2).lower())
        order = "".join(c[0] for c in normalised if c.endswith("rotation"))
        if len(set(order)) != len(order):
            raise MocapError(f"joint {skeleton.names[j]!r} lists a rotation axis twice ({order})", path=path)
        if order:
            euler = _euler_channels(clip.rotations[:, j], order, skeleton.names[j], path)
        else:
            angle = quat.geodesic_angle(clip.rotations[:, j], quat.identity())
            if len(angle) and float(np.max(angle)) > 1e-6:
                raise MocapError(
                    f"joint {skeleton.names[j]!r} rotates but has no rotation channels to write it to",
                    path=path,
                )
            euler = np.zeros((frames, 0))
        has_position = any(c.endswith("position") for c in normalised)
        if j == 0:
            moved = clip.root_positions / scale - offsets[0]
            if not has_position and len(moved) and float(np.max(np.abs(moved))) > 1e-6:
                raise MocapError("the root moves but has no position channels to write it to", path=path)
        else:
            moved = np.zeros((frames, 3))
        k = 0
        for c in normalised:
            if c.endswith("rotation"):
                columns.append(euler[:, k])
                k += 1
            else:
                columns.append(moved[:, _AXIS[c[0]]])
    values = np.stack(columns, axis=1) if columns else np.zeros((frames, 0))
    return values, offsets


def _number(value: float, precision: int) -> str:
    text = f"{value:.{precision}f}"
    return "0" if float(text) == 0.0 else text


def _hierarchy_lines(skeleton: Skeleton, offsets: FloatArray, scale: float, precision: int) -> Iterator[str]:
    def vec(v: FloatArray) -> str:
        return " ".join(_number(float(x), precision) for x in v)

    children: list[list[int]] = [[] for _ in range(skeleton.num_joints)]
    for j in range(1, skeleton.num_joints):
        children[int(skeleton.parents[j])].append(j)

    yield "HIERARCHY"
    # An explicit stack, not recursion: a hierarchy may be thousands of joints deep.
    stack: list[tuple[int, int, bool]] = [(0, 0, False)]  # (joint, depth, children done)
    while stack:
        j, depth, closing = stack.pop()
        pad = "\t" * depth
        if closing:
            if j in skeleton.end_sites or not children[j]:
                tip = skeleton.end_sites.get(j, _ZERO_TIP) / scale
                yield f"{pad}\tEnd Site"
                yield f"{pad}\t{{"
                yield f"{pad}\t\tOFFSET {vec(tip)}"
                yield f"{pad}\t}}"
            yield f"{pad}}}"
            continue
        yield f"{pad}{'ROOT' if j == 0 else 'JOINT'} {skeleton.names[j]}"
        yield f"{pad}{{"
        yield f"{pad}\tOFFSET {vec(offsets[j])}"
        chans = skeleton.channels[j]
        yield f"{pad}\tCHANNELS {len(chans)}" + "".join(f" {c}" for c in chans)
        stack.append((j, depth, True))
        stack.extend((child, depth + 1, False) for child in reversed(children[j]))


def _default_write_scale(clip: Clip) -> float:
    """The unit :func:`write_bvh` uses when none is given; see its ``scale``."""
    scale = float(clip.source.get("scale") or 1.0)
    names = clip.skeleton.names
    if auto_scale(names, clip.skeleton.offsets / scale) != scale:
        scale = auto_scale(names, clip.skeleton.offsets)  # cm, or CMU units for CMU bones too short to be cm
    return scale


def write_bvh(
    clip: Clip,
    path: os.PathLike[str] | str,
    *,
    scale: float | None = None,
    precision: int = 6,
) -> None:
    """Write a clip as BVH, atomically, with the skeleton's channel layout.

    Joints are written depth first (BVH has no other order), so a skeleton
    whose joints are not in depth-first order comes back reordered. A leaf
    without an End Site gets a zero-length one, which every BVH importer
    accepts.

    Args:
        clip: The motion; rotations become Euler angles in each joint's
            channel order (``skeleton.channels``).
        path: Target ``.bvh`` file.
        scale: cm per written unit. Defaults to the clip's source scale
            (so a CMU clip is written back in CMU units), else 1, as long as
            :func:`read_bvh` with default options reads that unit back;
            otherwise (a file read with ``scale=``, CMU names on bones too
            short for cm) the unit it will read: cm, or CMU units for such
            CMU bones. Every file written with the default reads back as written.
        precision: Decimals per number; 6 keeps a read-write-read round trip
            within 1e-6.

    Raises:
        MocapError: A rotation or translation the channel layout cannot hold.
    """
    spath = os.fspath(path)
    if scale is None:
        scale = _default_write_scale(clip)
    scale = check_scale(scale, "scale")
    values, offsets = _channel_values(clip, scale, spath)
    lines = list(_hierarchy_lines(clip.skeleton, offsets, scale, precision))
    lines += ["MOTION", f"Frames: {clip.num_frames}", f"Frame Time: {1.0 / clip.fps:.10g}"]
    if values.shape[1]:
        row_format = " ".join([f"%.{precision}f"] * values.shape[1])
        lines += [row_format % tuple(row) for row in values.tolist()]
    else:
        lines += [""] * clip.num_frames
    atomic.write_text(spath, "\n".join(lines) + "\n")
