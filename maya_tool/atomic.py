"""Files: write them so that a reader never sees half of one; read JSON with located errors.

Artists scrub a clip in Maya while a training job rewrites the model next to
it; a crash or a kill must leave either the old file or the new one. Every
writer in the package goes through :func:`atomic_path`: it writes a temp file
in the same folder (same file system, so the rename is atomic) and renames it
over the target only after it was flushed and closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator


@contextlib.contextmanager
def atomic_path(target: os.PathLike[str] | str, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temp path to write; rename it onto ``target`` on success.

    Args:
        target: The final file.
        suffix: Suffix for the temp file, for writers that pick the format by
            extension (Keras does). Defaults to the target's own suffix.

    On an exception the temp file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_suffix = suffix if suffix is not None else target.suffix + ".tmp"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=tmp_suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, _final_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # A write that fails (a full disk) names no file; the reader of the message needs it.
            raise OSError(exc.errno, exc.strerror, os.fspath(target)) from exc
        raise


def leftovers(target: os.PathLike[str] | str) -> list[Path]:
    """Temp files of :func:`atomic_path` for ``target`` that a killed writer left behind.

    A SIGKILL skips the clean-up, leaving a hidden ``.NAME.XXXXXXXX<suffix>``
    beside the target. Only the process that owns the target (a job holding its
    name's lock) may remove them: another writer's temp file looks the same.
    """
    target = Path(target)
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}(?:{re.escape(target.suffix)}|{re.escape(target.suffix + '.tmp')})"
    )
    try:
        names = os.listdir(target.parent)
    except OSError:
        return []
    return sorted(target.parent / n for n in names if pattern.fullmatch(n))


def _final_mode(target: Path) -> int:
    """Keep an existing file's permissions; else what a plain ``open`` would give.

    ``mkstemp`` creates 0600 files, which would make models and data sets on a
    shared drive unreadable to the rest of the team.
    """
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes(target: os.PathLike[str] | str, data: bytes) -> None:
    """Atomically replace ``target`` with ``data``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: os.PathLike[str] | str, text: str) -> None:
    """Atomically replace ``target`` with UTF-8 ``text``."""
    write_bytes(target, text.encode("utf-8"))


def sha256_file(path: os.PathLike[str] | str) -> str:
    """Hex SHA-256 of a file, read in blocks (data sets, downloads and weights are checked by it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_json(path: os.PathLike[str] | str, what: str, missing: str = "") -> Any:
    """Parse a JSON file an artist or a job may have written, or raise a located ``MocapError``.

    Args:
        path: The file.
        what: What the file is, for the message (``model sidecar``, ``job spec``).
        missing: Extra words for a missing file, e.g. how such a file comes to exist.
    """
    from .errors import MocapError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MocapError(f"{what} not found{missing}", path=path) from None
    except OSError as exc:
        raise MocapError(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MocapError(f"invalid JSON: {exc.msg}", path=path, row=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise MocapError(f"{what} nests arrays or objects too deeply to be one (beyond Python's recursion limit)",
                         path=path) from None
