"""Parsed copies of text motion files, kept in the user's cache folder.

Scrubbing a clip in Maya or rebuilding a data set re-reads the same CSV many
times; parsing text costs hundreds of milliseconds per 10,000 frames while
loading a binary array costs a few. The copies live in the user's cache
folder (``platformdirs.user_cache_dir("mocap-ae")/csv``: ``~/.cache`` on
Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows), never
beside the data: a studio's shared drive or a read-only share must not
collect hidden files, and the artist's data folders are not ours to write.
:data:`CACHE_ENV` moves the folder (``MOCAP_AE_CACHE_DIR=/scratch/me``) or
turns the cache off (``MOCAP_AE_CACHE_DIR=off``).

One entry per source version::

    walk.csv-<path hash>.<size>-<mtime_ns>-<inode>.mocap-ae-cache.npz

The source's absolute path (hashed) and its stat key are in the name, so a
changed source simply misses and its stale entries are removed on the next
store. The inode is part of the key because atomic writers (ours included)
replace a file by a new one, and two writes of the same size can land within
one tick of the file system's clock. Arrays are saved without pickle and
loaded with ``allow_pickle=False``: a cache file is data, never code. Each
entry holds a BLAKE2 digest of its array, and what is loaded must match it and
be finite, so a damaged or edited entry counts as a miss and the source is
parsed again (the reader's own checks then run on the numbers either way).

The folder is bounded (:data:`SIZE_ENV`, default :data:`DEFAULT_MAX_MB`): after
each store the entries least recently used (a hit refreshes an entry's mtime)
are removed until the rest fit. A folder we cannot write to silently gets no
cache.

File systems stamp mtimes with a coarse clock (a few ms on Linux, 1-2 s on
FAT and HFS+), and fixed-width writers often produce rewrites of the same
size, so an in-place rewrite right after a read could keep its key. Like
git's "racily clean" rule, a file modified less than :data:`MIN_AGE_S`
seconds ago is parsed but not cached: the first reload after an export
parses again, later ones hit.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from .. import atomic

CACHE_SUFFIX = ".mocap-ae-cache.npz"
CACHE_ENV = "MOCAP_AE_CACHE_DIR"
"""Where the cache lives; ``off`` (or ``0``, ``none``, ``false``, ``no``) disables it."""
SIZE_ENV = "MOCAP_AE_CACHE_MAX_MB"
"""Largest total size of the cache folder in MB (10^6 bytes)."""
DEFAULT_MAX_MB = 2000.0
OFF_VALUES = ("off", "0", "none", "false", "no")
MIN_AGE_S = 2.0
"""Files modified more recently than this are not cached (see the module notes)."""
STRAY_TEMP_AGE_S = 3600.0
"""A writer's temp file older than this was left by a killed process; eviction removes it."""

_LABEL_RE = re.compile(r"[^A-Za-z0-9._-]+")


def cache_dir() -> Path | None:
    """The cache folder now in force, or None when :data:`CACHE_ENV` turns the cache off.

    Read on every call, so a test, a farm job or a panel session can move or
    disable the cache by setting the variable.
    """
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in OFF_VALUES:
        return None
    if value:
        return Path(value).expanduser()
    return user_cache_root() / "csv"


def user_cache_root() -> Path:
    """mocap-ae's folder under the platform's user cache location."""
    try:
        import platformdirs
    except ImportError:  # a Maya Python without it: the same conventions by hand
        return _platform_cache_home() / "mocap-ae"
    return Path(platformdirs.user_cache_dir("mocap-ae", appauthor=False))


def _platform_cache_home() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def max_bytes() -> int:
    """The folder's size bound from :data:`SIZE_ENV` (a bad value keeps the default)."""
    try:
        mb = float(os.environ.get(SIZE_ENV, DEFAULT_MAX_MB))
    except ValueError:
        mb = DEFAULT_MAX_MB
    if not (mb >= 0 and np.isfinite(mb)):
        mb = DEFAULT_MAX_MB
    return int(mb * 1e6)


def cache_key(stat: os.stat_result) -> str:
    """What identifies one version of a source file: size, mtime and inode."""
    return f"{stat.st_size}-{stat.st_mtime_ns}-{stat.st_ino}"


def _prefix(source: Path) -> str:
    """``NAME-<hash of the absolute path>.``: every entry of one source starts with it."""
    absolute = os.path.abspath(source)
    digest = hashlib.blake2b(os.fsencode(absolute), digest_size=8).hexdigest()
    label = _LABEL_RE.sub("_", source.name)[:48]
    return f"{label}-{digest}."


def cache_path(
    source: os.PathLike[str] | str, stat: os.stat_result | None = None, folder: Path | None = None
) -> Path | None:
    """The cache entry for the current version of ``source`` (None with the cache off).

    Args:
        source: The text file that was parsed.
        stat: Its ``os.stat`` result, when the caller already has it (the key
            must describe the version that was actually read).
        folder: The cache folder; defaults to :func:`cache_dir`.
    """
    folder = folder if folder is not None else cache_dir()
    if folder is None:
        return None
    source = Path(source)
    stat = stat if stat is not None else source.stat()
    return folder / f"{_prefix(source)}{cache_key(stat)}{CACHE_SUFFIX}"


def cache_files(source: os.PathLike[str] | str) -> list[Path]:
    """Every cache entry of ``source``, current or stale."""
    folder = cache_dir()
    if folder is None:
        return []
    prefix = _prefix(Path(source))
    return sorted(folder / n for n in _names(folder) if n.startswith(prefix) and n.endswith(CACHE_SUFFIX))


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _digest(array: NDArray[np.float64]) -> NDArray[np.uint8]:
    raw = hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=16).digest()
    return np.frombuffer(raw, dtype=np.uint8)


def load(source: os.PathLike[str] | str, stat: os.stat_result | None = None) -> NDArray[np.float64] | None:
    """The cached 2-D finite float64 array for the current ``source``, or None on a miss.

    A damaged or edited entry (truncated by a full disk, a digest that does
    not match, a NaN or infinity) counts as a miss and is removed, so the
    caller re-parses the source.
    """
    path = cache_path(source, stat)
    if path is None:
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            array, digest = archive["values"], archive["digest"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, EOFError, KeyError, TypeError):
        _remove(path)
        return None
    valid = (
        isinstance(array, np.ndarray)
        and array.dtype == np.float64
        and array.ndim == 2
        and digest.dtype == np.uint8
        and np.array_equal(digest, _digest(array))
        and bool(np.isfinite(array).all())
    )
    if not valid:
        _remove(path)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: evicted last
    return array


def store(
    source: os.PathLike[str] | str, array: NDArray[np.float64], stat: os.stat_result | None = None
) -> Path | None:
    """Save ``array`` as the cache of ``source`` (atomically), drop stale entries, keep the folder bounded.

    Args:
        source: The parsed text file.
        array: What parsing it produced (2-D, converted to float64).
        stat: ``os.stat`` of the version that was parsed; if the file changed
            since, nothing is stored, as the array may not match the new key.

    Returns:
        The cache entry, or None when the cache is off, its folder is not
        writable, the array is larger than the bound, the source changed
        while it was being parsed or was modified too recently to trust its
        timestamp (:data:`MIN_AGE_S`).
    """
    folder = cache_dir()
    if folder is None:
        return None
    source = Path(source)
    try:
        now = source.stat()
    except OSError:
        return None
    target = cache_path(source, now, folder)
    assert target is not None
    for old in cache_files(source):
        if old != target:
            _remove(old)
    if stat is not None and cache_key(stat) != cache_key(now):
        return None
    if time.time_ns() - now.st_mtime_ns < MIN_AGE_S * 1e9:
        return None
    values = np.ascontiguousarray(array, dtype=np.float64)
    limit = max_bytes()
    if values.nbytes > limit:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic.atomic_path(target, suffix=".tmp") as tmp:
            with open(tmp, "wb") as handle:
                np.savez(handle, values=values, digest=_digest(values))
    except OSError:
        return None
    evict(folder, limit, keep=target)
    return target


def evict(folder: Path, limit: int, keep: Path | None = None) -> int:
    """Remove least recently used entries until the folder's entries fit in ``limit`` bytes.

    Also removes temp files that killed writers left (older than
    :data:`STRAY_TEMP_AGE_S`). Returns how many files were removed.
    """
    entries: list[tuple[int, int, Path]] = []
    removed = 0
    cutoff = time.time() - STRAY_TEMP_AGE_S
    for name in _names(folder):
        path = folder / name
        try:
            st = path.stat()
        except OSError:
            continue
        if name.endswith(CACHE_SUFFIX):
            entries.append((st.st_mtime_ns, st.st_size, path))
        elif name.startswith(".") and name.endswith(".tmp") and st.st_mtime < cutoff:
            removed += _remove(path)
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= limit:
            break
        if path == keep:
            continue
        if _remove(path):
            removed += 1
            total -= size
    return removed


def clear(source: os.PathLike[str] | str) -> int:
    """Remove every cache entry of ``source``; returns how many were removed."""
    removed = 0
    for path in cache_files(source):
        removed += _remove(path)
    return removed


def _remove(path: Path) -> int:
    with contextlib.suppress(OSError):
        path.unlink()
        return 1
    return 0
