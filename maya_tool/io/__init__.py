"""Readers and writers for BVH, ASF/AMC and the node's CSV layout.

:func:`read_clip` and :func:`write_clip` pick the format from the extension so
the CLI, the data set builder and the panel share one entry point.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..clip import Clip
from ..errors import MocapError

READABLE = (".bvh", ".amc", ".csv")
WRITABLE = (".bvh", ".csv")
_UTF8_BOM = b"\xef\xbb\xbf"

MIN_FPS = 0.01
"""Slowest frame rate accepted (a frame every 100 s): below it a number is no frame rate."""
MAX_FPS = 10_000.0
"""Fastest frame rate accepted (optical systems capture at most a few thousand fps)."""
MAX_FRAMES = 2_000_000
"""Most frames a clip may have after resampling (4.6 hours at 120 fps, ~2 GB for 31 joints)."""
MIN_SCALE, MAX_SCALE = 1e-6, 1e6
"""cm per file unit accepted: from 10 nm to 10 km per unit."""


def check_fps(fps: float, what: str, path: os.PathLike[str] | str | None = None, row: int | None = None) -> float:
    """``fps`` as a float within [:data:`MIN_FPS`, :data:`MAX_FPS`], or a ``MocapError`` naming the bound.

    Args:
        fps: The rate.
        what: Where it came from, for the message (``--fps``, ``Frame Time``).
        path: The file it was read from, if any.
        row: Its line, if known.
    """
    try:
        value = float(fps)
    except (TypeError, ValueError, OverflowError):
        raise MocapError(f"{what}: expected a frame rate, got {fps!r}", path=path, row=row) from None
    if not MIN_FPS <= value <= MAX_FPS:
        raise MocapError(
            f"{what}: {value:g} fps is outside the frame rates accepted ({MIN_FPS:g} to {MAX_FPS:g} fps)",
            path=path, row=row,
        )
    return value


def check_scale(scale: float, what: str) -> float:
    """cm per file unit within [:data:`MIN_SCALE`, :data:`MAX_SCALE`], or a ``MocapError`` naming the bound."""
    try:
        value = float(scale)
    except (TypeError, ValueError, OverflowError):
        raise MocapError(f"{what}: expected cm per file unit, got {scale!r}") from None
    if not MIN_SCALE <= value <= MAX_SCALE:
        raise MocapError(f"{what}: {value:g} cm per unit is outside the scales accepted ({MIN_SCALE:g} to {MAX_SCALE:g})")
    return value


def resample(clip: Clip, fps: float, what: str = "fps") -> Clip:
    """``clip.resample(fps)`` after checking the rate and the frame count it would make (:data:`MAX_FRAMES`)."""
    rate = check_fps(fps, what)
    frames = int(clip.duration * rate) + 1
    if frames > MAX_FRAMES:
        raise MocapError(
            f"{what} {rate:g}: resampling {clip.num_frames} frames at {clip.fps:g} fps would make about {frames} "
            f"frames, more than the {MAX_FRAMES} a clip may have",
            path=clip.source.get("path"),
        )
    return clip.resample(rate)


def read_text(path: os.PathLike[str] | str) -> str:
    """The text of a BVH, ASF or AMC file, whatever tool wrote it.

    UTF-8 first; these formats predate it, so anything else is read as
    Latin-1, which decodes every byte and keeps an odd joint name from
    stopping the read. A byte-order mark (Windows editors add one) is
    dropped, as it would otherwise stick to the file's first keyword.

    Raises:
        MocapError: The file cannot be read, naming it.
    """
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise MocapError(f"cannot read file: {exc.strerror or exc}", path=path) from exc
    raw = raw.removeprefix(_UTF8_BOM)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_clip(path: os.PathLike[str] | str, **options: Any) -> Clip:
    """Read any supported motion file.

    Args:
        path: A ``.bvh``, ``.csv`` or ``.amc`` file. For AMC the skeleton is
            the ``.asf`` given as ``asf=`` or found beside it (``NN.asf`` for
            ``NN_MM.amc``, else the only ``.asf`` in the folder).
        **options: Passed to the format's reader (``scale``, ``preset``,
            ``drop_first_frame``, ``skeleton``, ``use_cache``, ...). A CSV
            carries its own skeleton in cm, so ``preset`` has nothing to
            choose there and is ignored: a folder of mixed files is read
            with one set of options.
    """
    suffix = Path(path).suffix.lower()
    if suffix == ".bvh":
        from .bvh import read_bvh

        return read_bvh(path, **options)
    if suffix == ".csv":
        from .csv import read_csv

        options.pop("preset", None)
        return read_csv(path, **options)
    if suffix == ".amc":
        from .asfamc import read_amc_clip

        return read_amc_clip(path, **options)
    raise MocapError(f"unsupported file type {suffix or '(none)'}: expected one of {', '.join(READABLE)}", path=path)


def write_clip(clip: Clip, path: os.PathLike[str] | str, **options: Any) -> None:
    """Write a clip as BVH or CSV (with its skeleton JSON), atomically."""
    suffix = Path(path).suffix.lower()
    if suffix == ".bvh":
        from .bvh import write_bvh

        write_bvh(clip, path, **options)
    elif suffix == ".csv":
        from .csv import write_csv

        write_csv(clip, path, **options)
    else:
        raise MocapError(f"cannot write {suffix or '(none)'}: expected one of {', '.join(WRITABLE)}", path=path)
