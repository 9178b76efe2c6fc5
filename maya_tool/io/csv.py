"""The CSV layout the ``csvToMat`` node reads: one row per frame.

A row is the root position xyz (cm), the root quaternion xyzw, then one
quaternion xyzw per joint in skeleton order (joints 1..J-1): ``7 + 4 x joints``
columns, 127 for the 30 CMU bones. An optional header row names the channels
(``root_tx, ..., root_qw, LHipJoint_qx, ...``). The original tutorial node
read the transposed layout (one column per frame), so that is read too, told
apart by shape.

CSV carries no hierarchy: :func:`write_csv` puts the skeleton (and the frame
rate) in ``NAME.skeleton.json`` beside the file and :func:`read_csv` looks for
it. Without one the reader assumes the CMU hierarchy for 30 joints, else a flat
one, and says so, because a clip on a guessed skeleton trains fine but looks
wrong in Maya.

Text parsing is the slow part of every load, so it goes through the fastest
parser available (pandas' C reader when pandas is importable, else numpy's),
checks what that parser may have glossed over, and falls back to a careful
line-by-line parser that names the row and column of any problem. Parsed
arrays are cached in the user's cache folder (:mod:`maya_tool.io.cache`;
never beside the file) so a reload costs a few milliseconds.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import atomic
from ..clip import Clip
from ..errors import MocapError
from ..presets import CMU_JOINT_NAMES, CMU_PARENTS
from ..skeleton import MAX_LENGTH_CM, Skeleton, find_sidecar, sidecar_path
from . import cache, check_fps

ROOT_CHANNELS = ("root_tx", "root_ty", "root_tz", "root_qx", "root_qy", "root_qz", "root_qw")
QUAT_SUFFIXES = ("_qx", "_qy", "_qz", "_qw")
DEFAULT_FPS = 120.0
"""The CMU capture rate, assumed when neither a sidecar nor ``fps=`` gives one."""
NORM_TOLERANCE = 1e-3
"""How far a quaternion's length may be from 1 before the reader warns."""
MAX_QUATERNION_LENGTH = 100.0
"""A quaternion component beyond this is refused rather than normalised: no rounding makes a rotation that long."""
LAYOUTS = ("auto", "frames", "transposed")
"""``frames``: one row per frame; ``transposed``: one column per frame (the tutorial node's)."""

_COUNT_HELP = "expected 7 + 4 x joints columns (127 for 30 joints)"
_LAYOUT_HELP = (
    "add a header row of channel names (write_csv writes one), pass the skeleton "
    "(a NAME.skeleton.json beside the file, or skeleton=), or pass layout='frames' "
    "(one row per frame) or layout='transposed' (one column per frame)"
)
_PRECISION_SLACK = 1e-6
"""Squared-length deviation the 9-decimal text format can cause; below it nothing is rescaled."""
_POSITION_FORMAT = "%.7f"
_QUATERNION_FORMAT = "%.9f"


def channel_count(num_joints: int) -> int:
    """CSV columns for a skeleton of ``num_joints`` joints (root included)."""
    return 3 + 4 * num_joints


def joints_for_channels(channels: int) -> int | None:
    """Joints (root included) that ``channels`` columns describe, or None if none fit.

    At least one non-root joint is required, so that short clips of a handful
    of frames are not mistaken for the transposed layout.
    """
    if channels >= 11 and (channels - 7) % 4 == 0:
        return (channels - 3) // 4
    return None


def channel_names(names: Skeleton | Sequence[str]) -> list[str]:
    """Header row for a skeleton (or its joint names, root first)."""
    joint_names = names.names if isinstance(names, Skeleton) else list(names)
    return list(ROOT_CHANNELS) + [f"{n}{s}" for n in joint_names[1:] for s in QUAT_SUFFIXES]


# ---------------------------------------------------------------------------
# Reading


def read_csv_array(
    path: os.PathLike[str] | str,
    use_cache: bool = True,
    *,
    skeleton: Skeleton | None = None,
    layout: str = "auto",
) -> NDArray[np.float64]:
    """The (frames, 7 + 4 x joints) float64 table of a CSV, one row per frame.

    This is what the Maya node calls on every file change: no Clip, no
    skeleton building, only the checks that keep bad numbers out of a rig.
    Quaternions come back unit length (with a warning if any was far off).

    Args:
        path: The CSV file.
        use_cache: Reuse / write the parsed copy in the user's cache folder.
        skeleton: Joint layout the columns must match; defaults to the file's
            sidecar when there is one.
        layout: ``auto`` (by header, skeleton and shape), ``frames`` or ``transposed``.

    Raises:
        MocapError: naming the file, row and column of the problem.
    """
    return _load(path, use_cache=use_cache, skeleton=skeleton, layout=layout).values


def read_csv(
    path: os.PathLike[str] | str,
    *,
    skeleton: Skeleton | None = None,
    fps: float | None = None,
    use_cache: bool = True,
    layout: str = "auto",
) -> Clip:
    """Read a CSV clip with its skeleton.

    Args:
        path: The CSV file.
        skeleton: Overrides the sidecar ``NAME.skeleton.json`` (or ``skeleton.json``).
        fps: Frame rate when the sidecar does not give one; 120 if neither does.
        use_cache: Reuse / write the parsed copy in the user's cache folder.
        layout: ``auto``, ``frames`` or ``transposed``; see :func:`read_csv_array`.

    Returns:
        A Clip whose ``source`` records the layout, where the skeleton and fps
        came from (``skeleton_assumed`` / ``fps_assumed`` when guessed) and
        whether the cache was used.
    """
    loaded = _load(path, use_cache=use_cache, skeleton=skeleton, layout=layout)
    values = loaded.values
    frames = len(values)
    skel = loaded.skeleton
    assumed = skel is None
    if skel is None:
        skel = _assumed_skeleton(joints_for_channels(values.shape[1]) or 1, loaded.header_joints, loaded.path)
        warnings.warn(
            f"{loaded.path}: no skeleton file beside it ({sidecar_path(loaded.path).name}); assuming "
            f"{'the CMU hierarchy' if skel.name == 'cmu-assumed' else 'every joint is a child of the root'} "
            "with zero offsets. Get the real skeleton by converting the source with "
            "`mocap-ae convert SOURCE.bvh " + loaded.path.name + "` (writes the .skeleton.json), or pass skeleton=.",
            UserWarning,
            stacklevel=2,
        )
    if loaded.sidecar_fps is not None:
        rate, fps_assumed = loaded.sidecar_fps, False
    elif fps is not None:
        rate, fps_assumed = check_fps(fps, "fps"), False
    else:
        rate, fps_assumed = DEFAULT_FPS, True
    source: dict[str, Any] = {
        "path": str(loaded.path),
        "format": "csv",
        "layout": loaded.layout,
        "header": loaded.header_joints is not None,
        "skeleton_path": str(loaded.skeleton_path) if loaded.skeleton_path else None,
        "skeleton_assumed": assumed,
        "fps_assumed": fps_assumed,
        "cached": loaded.cached,
        "normalised_quaternions": loaded.normalised,
    }
    return Clip(
        skeleton=skel,
        fps=rate,
        root_positions=values[:, :3],
        rotations=values[:, 3:].reshape(frames, skel.num_joints, 4),
        source=source,
    )


@dataclass
class _Table:
    """Numbers as laid out in the file (header removed) and the header cells."""

    values: NDArray[np.float64]
    header: list[str] | None
    cached: bool

    @property
    def first_data_row(self) -> int:
        return 2 if self.header is not None else 1


@dataclass
class _Loaded:
    path: Path
    values: NDArray[np.float64]
    layout: str
    skeleton: Skeleton | None
    skeleton_path: Path | None
    sidecar_fps: float | None
    header_joints: list[str] | None
    cached: bool
    normalised: int


def _load(path: os.PathLike[str] | str, *, use_cache: bool, skeleton: Skeleton | None, layout: str) -> _Loaded:
    path = Path(path)
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    skeleton_path: Path | None = None
    sidecar_fps: float | None = None
    side = find_sidecar(path)
    if side is not None:
        side_skeleton, sidecar_fps = _read_sidecar(side)
        if skeleton is None:
            skeleton, skeleton_path = side_skeleton, side
    table = _read_table(path, use_cache)
    values, layout = _orient(table, skeleton, skeleton_path, layout, path)
    header_joints = _check_header(table.header, skeleton, skeleton_path, path) if table.header is not None else None
    values, normalised = _normalise_quaternions(values, layout, table.first_data_row, path)
    return _Loaded(path, values, layout, skeleton, skeleton_path, sidecar_fps, header_joints, table.cached, normalised)


def _read_sidecar(path: Path) -> tuple[Skeleton, float | None]:
    data = atomic.read_json(path, "the skeleton file")
    if not isinstance(data, dict):
        raise MocapError("expected a JSON object with \"joints\" and \"fps\"", path=path)
    skeleton = Skeleton.from_dict(data, path=path)
    fps = data.get("fps")
    if fps is None:
        return skeleton, None
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise MocapError(f"\"fps\" must be a positive number, found {fps!r}", path=path)
    return skeleton, check_fps(fps, "\"fps\"", path=path)


def _read_table(path: Path, use_cache: bool) -> _Table:
    """Parse (or fetch from the cache) the numbers and header of a CSV."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise MocapError("file not found", path=path) from None
    except OSError as exc:
        raise MocapError(f"cannot read the file: {exc.strerror}", path=path) from exc
    if use_cache:
        cached = cache.load(path, stat)
        if cached is not None:
            return _Table(cached, _header_of(_first_line(path)), cached=True)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MocapError(f"cannot read the file: {exc.strerror}", path=path) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    _check_text_form(data, path)
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")
    if not data or data.isspace():
        raise MocapError(f"empty file: {_COUNT_HELP} per frame, one row per frame", path=path)
    end = data.find(b"\n")
    first = data if end < 0 else data[: end + 1]
    header = _header_of(first)
    body = data[len(first) :] if header is not None else data
    first_row = 2 if header is not None else 1
    body = body.rstrip()
    if not body:
        raise MocapError("no frames after the header row: expected one row of numbers per frame", path=path, row=2)
    values = _fast_parse(body)
    if values is None:
        values = _slow_parse(body, first_row, path)
    if header is not None and len(header) != values.shape[1]:
        raise MocapError(
            f"the header row has {len(header)} names but the rows have {values.shape[1]} values",
            path=path,
            row=1,
            column=min(len(header), values.shape[1]) + 1,
        )
    if use_cache:
        cache.store(path, values, stat)
    return _Table(values, header, cached=False)


def _check_text_form(data: bytes, path: Path) -> None:
    """Refuse text a spreadsheet saved another way, saying which way, before parsing says only where.

    UTF-16 (Excel's "Unicode text") puts a NUL beside every character; a
    ';'-separated file (spreadsheets in locales with a decimal comma) has no
    commas between its numbers, or commas inside them.
    """
    head = data[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\0") > len(head) // 4:
        raise MocapError("the file is UTF-16 text (a spreadsheet's \"Unicode text\"): save it as CSV UTF-8 "
                         "(or plain ASCII) with ',' between values", path=path, row=1)
    lines = head.splitlines()
    first = next((line for line in lines[1:] + lines[:1] if line.strip()), b"")
    for separator, name in ((b";", "';'"), (b"\t", "tab")):
        # Semicolons never belong in our CSV; tabs might pad it, so only when they outnumber commas.
        if first.count(separator) >= 3 and (separator == b";" or first.count(separator) > first.count(b",")):
            raise MocapError(f"the rows look {name} separated: save the CSV with ',' between values and '.' "
                             "as the decimal point", path=path, row=1 + (lines.index(first) if first in lines else 0))


def _first_line(path: Path) -> bytes:
    with open(path, "rb") as handle:
        line = handle.readline()
    return line[3:] if line.startswith(b"\xef\xbb\xbf") else line


def _cell_text(cell: bytes) -> str:
    return cell.decode("utf-8", errors="replace").strip().strip('"').strip()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return "_" not in text


def _header_of(line: bytes) -> list[str] | None:
    """The header cells if no cell of the first line is a number, else None."""
    line = line.split(b"\n", 1)[0].split(b"\r", 1)[0]
    if not line.strip():
        return None
    cells = [_cell_text(c) for c in line.split(b",")]
    if any(_is_number(c) for c in cells):
        return None
    return cells


def _fast_parse(body: bytes) -> NDArray[np.float64] | None:
    """Parse with a C parser; None whenever the result cannot be trusted.

    The C parsers skip blank lines, pad short rows or accept ``inf``; rather
    than trusting their error messages (which count rows their own way), any
    doubt sends the file to :func:`_slow_parse`, which locates the problem.
    """
    rows = body.count(b"\n") + 1
    end = body.find(b"\n")
    columns = (body if end < 0 else body[:end]).count(b",") + 1
    values: NDArray[np.float64] | None = None
    try:
        values = _pandas_parse(body)
        if values is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = np.loadtxt(
                    io.BytesIO(body), delimiter=",", dtype=np.float64, comments=None, ndmin=2, encoding="latin-1"
                )
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    if values.shape != (rows, columns) or not np.isfinite(values).all():
        return None
    return np.ascontiguousarray(values, dtype=np.float64)


def _pandas_parse(body: bytes) -> NDArray[np.float64] | None:
    try:
        import pandas as pd  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(body),
            header=None,
            engine="c",
            dtype=np.float64,
            na_filter=False,
            skip_blank_lines=False,
            comment=None,
        )
    except Exception as exc:  # pandas raises its own ParserError, EmptyDataError...
        raise ValueError(str(exc)) from exc
    return frame.to_numpy(dtype=np.float64)


def _slow_parse(body: bytes, first_row: int, path: Path) -> NDArray[np.float64]:
    """Parse line by line, raising at the first bad row or cell (1-based, file lines)."""
    lines = body.splitlines()
    if not lines[0].strip():
        raise MocapError("empty row: expected a header row or the first frame's numbers", path=path, row=first_row)
    expected = len(lines[0].split(b","))
    out = np.empty((len(lines), expected), dtype=np.float64)
    for i, line in enumerate(lines):
        row = first_row + i
        if not line.strip():
            raise MocapError(f"empty row: expected {expected} values like the first row", path=path, row=row)
        cells = line.split(b",")
        if len(cells) != expected:
            raise MocapError(
                f"row has {len(cells)} values, expected {expected} like the first row",
                path=path,
                row=row,
                column=min(len(cells), expected) + 1,
            )
        for j, cell in enumerate(cells):
            text = _cell_text(cell)
            if not text:
                raise MocapError("expected a number, found an empty cell", path=path, row=row, column=j + 1)
            if not _is_number(text):
                hint = ""
                if row == 1 and j == 0 and all(_is_number(_cell_text(c)) for c in cells[1:]):
                    hint = " (channel names belong in a header row of the one-row-per-frame layout)"
                raise MocapError(f"expected a number, found {text!r}{hint}", path=path, row=row, column=j + 1)
            value = float(text)
            if not np.isfinite(value):
                raise MocapError(f"expected a finite number, found {text!r}", path=path, row=row, column=j + 1)
            out[i, j] = value
    return out


def _orient(
    table: _Table, skeleton: Skeleton | None, skeleton_path: Path | None, layout: str, path: Path
) -> tuple[NDArray[np.float64], str]:
    """Decide which axis holds frames and check the channel count."""
    raw = table.values
    rows, columns = raw.shape
    expected = channel_count(skeleton.num_joints) if skeleton is not None else None

    def fits(n: int) -> bool:
        return n == expected if expected is not None else joints_for_channels(n) is not None

    if table.header is not None and layout == "transposed":
        raise MocapError(
            "a header row marks the one-row-per-frame layout, but layout='transposed' was asked for",
            path=path,
            row=1,
        )
    if layout == "auto":
        if table.header is not None:
            layout = "frames"
        else:
            layout = _guess_layout(raw, fits(columns), fits(rows), expected is None, path)
    channels = columns if layout == "frames" else rows
    if not fits(channels):
        raise MocapError(_count_message(layout, channels, rows, columns, skeleton, skeleton_path), path=path, row=1)
    values = raw if layout == "frames" else np.ascontiguousarray(raw.T)
    return values, layout


def _guess_layout(
    raw: NDArray[np.float64], frames_fit: bool, transposed_fit: bool, no_skeleton: bool, path: Path
) -> str:
    rows, columns = raw.shape
    if frames_fit != transposed_fit:
        return "frames" if frames_fit else "transposed"
    if not frames_fit:
        return "frames"  # neither fits: report the usual layout's column count
    if rows == columns:
        raise MocapError(
            f"{rows} x {columns} values: cannot tell whether rows or columns are frames; {_LAYOUT_HELP}", path=path
        )
    by_norms = _layout_by_norms(raw)
    if by_norms is not None:
        return by_norms
    if no_skeleton and (rows == 127) != (columns == 127):
        return "transposed" if rows == 127 else "frames"
    raise MocapError(
        f"{rows} rows x {columns} columns: both could be the 7 + 4 x joints channels; {_LAYOUT_HELP}", path=path
    )


def _layout_by_norms(raw: NDArray[np.float64]) -> str | None:
    """The orientation in which the quaternion columns are unit length, if only one is."""

    def unit_fraction(values: NDArray[np.float64]) -> float:
        sample = values[:256, 3:]
        q = sample.reshape(len(sample), -1, 4)
        return float(np.mean(np.abs(np.linalg.norm(q, axis=-1) - 1.0) < 1e-2))

    frames, transposed = unit_fraction(raw), unit_fraction(raw.T)
    if frames >= 0.9 and transposed < 0.5:
        return "frames"
    if transposed >= 0.9 and frames < 0.5:
        return "transposed"
    return None


def _count_message(
    layout: str, channels: int, rows: int, columns: int, skeleton: Skeleton | None, skeleton_path: Path | None
) -> str:
    axis = "columns" if layout == "frames" else "rows (transposed layout: one row per channel)"
    if skeleton is not None:
        origin = f"the skeleton in {skeleton_path.name}" if skeleton_path else "the skeleton passed"
        bones = skeleton.num_bones
        return (
            f"{origin} has {skeleton.num_joints} joints, so expected 7 + 4 x {bones} = "
            f"{channel_count(skeleton.num_joints)} {axis}, found {channels} ({rows} rows x {columns} columns); "
            "the skeleton file does not belong to this CSV"
        )
    message = f"{_COUNT_HELP}, found {columns}"
    if layout == "transposed":
        message = f"expected 7 + 4 x joints rows in the transposed layout (127 for 30 joints), found {rows}"
    elif joints_for_channels(rows) is None:
        message += f"; the transposed layout (one column per frame) does not fit either: {rows} rows"
    return message + ". Each frame needs root position xyz, root quaternion xyzw and a quaternion xyzw per joint"


def _check_header(
    header: list[str], skeleton: Skeleton | None, skeleton_path: Path | None, path: Path
) -> list[str]:
    """Check the header row; returns the joint names it gives (root first)."""
    if skeleton is not None:
        expected = channel_names(skeleton)
        for column, (found, want) in enumerate(zip(header, expected), start=1):
            if found != want:
                origin = skeleton_path.name if skeleton_path else "the skeleton passed"
                raise MocapError(
                    f"header names {found!r}, expected {want!r} (channel order of {origin})",
                    path=path,
                    row=1,
                    column=column,
                )
        return list(skeleton.names)
    for column, (found, want) in enumerate(zip(header, ROOT_CHANNELS), start=1):
        if found != want:
            raise MocapError(f"header names {found!r}, expected {want!r}", path=path, row=1, column=column)
    names = ["root"]
    for start in range(len(ROOT_CHANNELS), len(header), 4):
        joint = header[start][: -len(QUAT_SUFFIXES[0])] if header[start].endswith(QUAT_SUFFIXES[0]) else header[start]
        for offset, suffix in enumerate(QUAT_SUFFIXES):
            if header[start + offset] != joint + suffix:
                raise MocapError(
                    f"header names {header[start + offset]!r}, expected {joint + suffix!r} "
                    "(four columns NAME_qx, NAME_qy, NAME_qz, NAME_qw per joint)",
                    path=path,
                    row=1,
                    column=start + offset + 1,
                )
        names.append(joint)
    return names


def _normalise_quaternions(
    values: NDArray[np.float64], layout: str, first_row: int, path: Path
) -> tuple[NDArray[np.float64], int]:
    """Make every quaternion unit length; warn when some were far from it.

    Quaternions within the text's own precision of unit length are left as
    they are, so a clean file (the usual case, and every cached reload) costs
    one pass over the data instead of a copy.
    """
    frames = len(values)

    def place(frame: int, channel: int) -> dict[str, Any]:
        row, column = (frame + first_row, channel + 1) if layout == "frames" else (channel + 1, frame + 1)
        return {"path": path, "row": row, "column": column}

    root = np.abs(values[:, :3])
    if frames and float(root.max()) > MAX_LENGTH_CM:
        frame, axis = (int(v) for v in np.argwhere(root > MAX_LENGTH_CM)[0])
        raise MocapError(
            f"root position {values[frame, axis]:.6g} cm is beyond {MAX_LENGTH_CM:g} cm (100 km): not a position "
            "(a wrong unit or column?)", **place(frame, axis),
        )
    q = values[:, 3:].reshape(frames, -1, 4)
    biggest = np.abs(q).max(axis=-1) if frames else np.zeros((0, q.shape[1]))
    if frames and float(biggest.max()) > MAX_QUATERNION_LENGTH:
        frame, joint = (int(v) for v in np.argwhere(biggest > MAX_QUATERNION_LENGTH)[0])
        raise MocapError(
            f"quaternion {tuple(float(f'{v:.6g}') for v in q[frame, joint])} is far longer than 1 (a component "
            f"beyond {MAX_QUATERNION_LENGTH:g}): not a rotation (a wrong column?)", **place(frame, 3 + 4 * joint),
        )
    squared = np.einsum("fjk,fjk->fj", q, q)
    if frames == 0 or float(np.max(np.abs(squared - 1.0))) <= _PRECISION_SLACK:
        return values, 0
    norms = np.sqrt(squared)
    off = np.abs(norms - 1.0) > NORM_TOLERANCE
    count = int(np.count_nonzero(off))
    if count:
        frame, joint = (int(v) for v in np.argwhere(off)[0])
        where = place(frame, 3 + 4 * joint)
        row, column = where["row"], where["column"]
        warnings.warn(
            f"{path}: {count} quaternion{'s' if count > 1 else ''} not unit length (more than {NORM_TOLERANCE:g} "
            f"off); the first at row {row}, column {column} has length {norms[frame, joint]:.6g}; normalised",
            UserWarning,
            stacklevel=4,
        )
    zero = norms <= 1e-12
    q = q / np.where(zero, 1.0, norms)[..., None]
    if zero.any():
        q[zero] = (0.0, 0.0, 0.0, 1.0)
    out = np.empty_like(values)
    out[:, :3] = values[:, :3]
    out[:, 3:] = q.reshape(frames, -1)
    return out, count


def _assumed_skeleton(num_joints: int, header_joints: list[str] | None, path: Path) -> Skeleton:
    """What a CSV without a skeleton file most likely used."""
    bones = num_joints - 1
    if header_joints is not None and header_joints[1:] != CMU_JOINT_NAMES[1:]:
        try:
            return Skeleton(
                names=header_joints,
                parents=_flat_parents(num_joints),
                offsets=np.zeros((num_joints, 3)),
                name="assumed",
            )
        except ValueError as exc:
            raise MocapError(f"the header row's joint names cannot form a skeleton: {exc}", path=path, row=1) from exc
    if bones == len(CMU_JOINT_NAMES) - 1:
        return Skeleton(
            names=list(CMU_JOINT_NAMES),
            parents=np.array(CMU_PARENTS, dtype=np.int64),
            offsets=np.zeros((num_joints, 3)),
            name="cmu-assumed",
        )
    names = ["root"] + [f"joint{j}" for j in range(1, num_joints)]
    return Skeleton(names=names, parents=_flat_parents(num_joints), offsets=np.zeros((num_joints, 3)), name="assumed")


def _flat_parents(num_joints: int) -> NDArray[np.int64]:
    parents = np.zeros(num_joints, dtype=np.int64)
    parents[0] = -1
    return parents


# ---------------------------------------------------------------------------
# Writing


def write_csv(
    clip: Clip,
    path: os.PathLike[str] | str,
    *,
    header: bool = True,
    write_skeleton: bool = True,
    layout: str = "frames",
) -> None:
    """Write a clip in the node's layout, and its skeleton beside it.

    Positions get 7 decimals (well under a micrometre), quaternion components
    9, so Clip -> CSV -> Clip is exact to 1e-6 at any plausible magnitude.

    Args:
        clip: The motion.
        path: ``NAME.csv``; the skeleton goes to ``NAME.skeleton.json``.
        header: Write the channel-name row (ignored for the transposed layout,
            which has no place for names).
        write_skeleton: Write the sidecar (skeleton plus ``"fps"``).
        layout: ``frames`` (one row per frame) or ``transposed`` (one column
            per frame, for the original tutorial node).
    """
    if layout not in ("frames", "transposed"):
        raise ValueError(f"layout must be 'frames' or 'transposed', got {layout!r}")
    path = Path(path)
    frames = clip.num_frames
    if frames == 0:
        raise MocapError(f"the clip has no frames ({clip.source.get('path') or 'input'}): a CSV of none would be unreadable",
                         path=path)
    table = np.concatenate([clip.root_positions, clip.rotations.reshape(frames, -1)], axis=1)
    channels = table.shape[1]
    formats = [_POSITION_FORMAT] * 3 + [_QUATERNION_FORMAT] * (channels - 3)
    if layout == "frames":
        template = ",".join(formats) + "\n"
        text = (template * frames) % tuple(table.ravel().tolist())
        if header:
            text = ",".join(channel_names(clip.skeleton)) + "\n" + text
    else:
        template = "".join(",".join([f] * frames) + "\n" for f in formats)
        text = template % tuple(table.T.ravel().tolist())
    atomic.write_text(path, text)
    cache.clear(path)
    if write_skeleton:
        data = clip.skeleton.to_dict()
        data["fps"] = clip.fps
        atomic.write_text(sidecar_path(path), json.dumps(data, indent=1) + "\n")
