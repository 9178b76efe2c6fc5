"""Parsed copies of text motion files, kept beside them as ``.npy``.

Scrubbing a clip in Maya or rebuilding a data set re-reads the same CSV many
times; parsing text costs hundreds of milliseconds per 10,000 frames while
loading a binary array costs a few. The cache is a hidden file in the source's
own folder, so it travels, and is removed, with the data:

    .walk.csv.<size>-<mtime_ns>-<inode>.mocap-ae-cache.npy

The key is in the name, so a changed source simply misses and its stale
copies are removed on the next store. The inode is part of the key because
atomic writers (ours included) replace a file by a new one, and two writes of
the same size can land within one tick of the file system's clock. Arrays are
saved without pickle and loaded with ``allow_pickle=False``: a cache file is
data, never code. A folder we cannot write to (a read-only share, a shipped
sample) silently gets no cache.

File systems stamp mtimes with a coarse clock (a few ms on Linux, 1-2 s on
FAT and HFS+), and fixed-width writers often produce rewrites of the same
size, so an in-place rewrite right after a read could keep its key. Like
git's "racily clean" rule, a file modified less than :data:`MIN_AGE_S`
seconds ago is parsed but not cached: the first reload after an export
parses again, later ones hit.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .. import atomic

CACHE_SUFFIX = ".mocap-ae-cache.npy"
MIN_AGE_S = 2.0
"""Files modified more recently than this are not cached (see the module notes)."""


def cache_key(stat: os.stat_result) -> str:
    """What identifies one version of a source file: size, mtime and inode."""
    return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"


def cache_path(source: os.PathLike[str] | str, stat: os.stat_result | None = None) -> Path:
    """The cache file for the current version of ``source``.

    Args:
        source: The text file that was parsed.
        stat: Its ``os.stat`` result, when the caller already has it (the key
            must describe the version that was actually read).
    """
    source = Path(source)
    stat = stat if stat is not None else source.stat()
    return source.with_name(f".{source.name}.{cache_key(stat)}{CACHE_SUFFIX}")


def cache_files(source: os.PathLike[str] | str) -> list[Path]:
    """Every cache file of ``source``, current or stale."""
    source = Path(source)
    prefix = f".{source.name}."
    folder = source.parent
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(folder / n for n in names if n.startswith(prefix) and n.endswith(CACHE_SUFFIX))


def load(source: os.PathLike[str] | str, stat: os.stat_result | None = None) -> NDArray[np.float64] | None:
    """The cached 2-D float64 array for the current ``source``, or None on a miss.

    A damaged cache file (truncated by a full disk, edited by hand) counts as
    a miss and is removed, so the caller re-parses the source.
    """
    path = cache_path(source, stat)
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError):
        _remove(path)
        return None
    if not isinstance(array, np.ndarray) or array.dtype != np.float64 or array.ndim != 2:
        _remove(path)
        return None
    return array


def store(
    source: os.PathLike[str] | str, array: NDArray[np.float64], stat: os.stat_result | None = None
) -> Path | None:
    """Save ``array`` as the cache of ``source`` (atomically) and drop stale ones.

    Args:
        source: The parsed text file.
        array: What parsing it produced (2-D, converted to float64).
        stat: ``os.stat`` of the version that was parsed; if the file changed
            since, nothing is stored, as the array may not match the new key.

    Returns:
        The cache file, or None when the folder is not writable, the source
        changed while it was being parsed or was modified too recently to
        trust its timestamp (:data:`MIN_AGE_S`).
    """
    source = Path(source)
    try:
        now = source.stat()
    except OSError:
        return None
    target = cache_path(source, now)
    for old in cache_files(source):
        if old != target:
            _remove(old)
    if stat is not None and cache_key(stat) != cache_key(now):
        return None
    if time.time_ns() - now.st_mtime_ns < MIN_AGE_S * 1e9:
        return None
    try:
        with atomic.atomic_path(target) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, np.ascontiguousarray(array, dtype=np.float64), allow_pickle=False)
    except OSError:
        return None
    return target


def clear(source: os.PathLike[str] | str) -> int:
    """Remove every cache file of ``source``; returns how many were removed."""
    removed = 0
    for path in cache_files(source):
        removed += _remove(path)
    return removed


def _remove(path: Path) -> int:
    with contextlib.suppress(OSError):
        path.unlink()
        return 1
    return 0
