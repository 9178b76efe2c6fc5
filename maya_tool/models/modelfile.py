"""Model files on disk: the sidecar JSON, the weight archive and the registry.

A model is a *set* of three files in one folder: ``NAME.keras`` (the Keras
model, for further training), ``NAME.npz`` (plain float32 arrays, what the
numpy runtime and Maya read) and ``NAME.json`` (the sidecar). The sidecar is
what registers a model: readers trust a model only when its JSON exists and
the npz matches the SHA-256 recorded in it. :func:`save_model_set` writes the
three under temp names and renames the JSON last, so a job killed at any point
leaves either the previous model, byte for byte, or the new one; never half.

Nothing here imports TensorFlow; the Keras file is written by a callback the
training code passes in.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from numpy.typing import NDArray

from ..atomic import atomic_path, read_json, sha256_file
from ..errors import MocapError

FORMAT = "mocap-ae.model"
VERSION = 1
INPUT_LAYOUT = "joint_quaternions_xyzw"
ARCHITECTURES = ("pose", "sparse", "temporal", "denoiser")
TEMPORAL_ARCHITECTURES = ("temporal", "denoiser")
"""Architectures that see windows of frames (the rest see one pose at a time)."""
SUFFIXES = (".json", ".npz", ".keras")
MODELS_ENV = "MOCAP_AE_MODELS"

REQUIRED_KEYS = (
    "format",
    "version",
    "name",
    "architecture",
    "params",
    "joint_names",
    "input_layout",
    "network",
    "weights",
    "ratio",
    "bits_per_frame",
)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class ModelPaths:
    """The three files of one model."""

    json: Path
    npz: Path
    keras: Path


@dataclass
class ModelInfo:
    """One registered model, as the panel lists it.

    Attributes:
        name: Model name (file stem).
        path: The sidecar JSON.
        architecture: ``pose``, ``sparse`` or ``temporal``.
        ratio: Compression ratio against float32 joint quaternions.
        created: ISO 8601 creation time from the sidecar.
        meta: The whole sidecar.
    """

    name: str
    path: Path
    architecture: str
    ratio: float
    created: str
    meta: dict[str, Any] = field(repr=False)


def validate_name(name: str) -> str:
    """Check a model name; it becomes three file names, so keep it plain.

    Letters, digits, ``-`` and ``_``, at most 64 characters, starting with a
    letter or digit. Dots are refused so ``NAME.json`` is never ambiguous.

    Raises:
        MocapError: For a name that cannot be used.
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise MocapError(
            f"model name {name!r} is not usable: use 1-64 letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def model_paths(directory: os.PathLike[str] | str, name: str) -> ModelPaths:
    """Where the files of model ``name`` live in ``directory``."""
    base = Path(directory) / validate_name(name)
    return ModelPaths(json=base.with_suffix(".json"), npz=base.with_suffix(".npz"), keras=base.with_suffix(".keras"))


def sidecar_for(path: os.PathLike[str] | str) -> Path:
    """The sidecar JSON for a model given by any of its files or its stem."""
    path = Path(path)
    if path.suffix in SUFFIXES:
        return path.with_suffix(".json")
    return path.parent / (path.name + ".json")


def now_iso() -> str:
    """UTC time, second resolution, as every record in the package writes it."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()



def npz_bytes(arrays: Mapping[str, NDArray[Any]]) -> bytes:
    """An uncompressed npz of plain numeric arrays (no object arrays, so no pickle)."""
    clean: dict[str, NDArray[Any]] = {}
    for key, value in arrays.items():
        array = np.asarray(value)
        if array.dtype == object:
            raise ValueError(f"weight {key!r} is an object array; only numeric arrays are stored")
        clean[key] = array
    buffer = io.BytesIO()
    np.savez(buffer, **clean)  # type: ignore[arg-type]
    return buffer.getvalue()


def read_sidecar(path: os.PathLike[str] | str) -> dict[str, Any]:
    """Parse and check a model sidecar.

    Raises:
        MocapError: Naming the file, when it is missing, not JSON, not a model
            sidecar, of a newer version, or lacks a required key.
    """
    path = sidecar_for(path)
    meta = read_json(path, "model sidecar", " (a model is registered by its NAME.json)")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise MocapError(f"not a model sidecar: expected \"format\": \"{FORMAT}\"", path=path)
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise MocapError(
            f"model format version {version!r} is not supported (this tool reads up to {VERSION})", path=path
        )
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise MocapError(f"model sidecar lacks {', '.join(missing)}", path=path)
    if meta["architecture"] not in ARCHITECTURES:
        raise MocapError(
            f"unknown architecture {meta['architecture']!r}: expected one of {', '.join(ARCHITECTURES)}", path=path
        )
    return meta


MAX_WEIGHT_BYTES = 1 << 30
"""Largest total of a model's weight arrays (shipped models are a few MB); beyond it a file is refused, not loaded."""


def read_weights(npz_path: os.PathLike[str] | str) -> dict[str, NDArray[Any]]:
    """The arrays of a weights file, each checked against the file before it is allocated.

    An ``.npy`` header states a shape; numpy allocates that much before it
    reads a byte, so a damaged or hostile header asking for hundreds of GiB
    would exhaust memory. Each member's stated size must be what the archive
    holds for it, and the total at most :data:`MAX_WEIGHT_BYTES`.

    Raises:
        MocapError: Naming the file and the array that does not fit.
    """
    npz_path = Path(npz_path)
    try:
        with zipfile.ZipFile(npz_path) as archive:
            total = 0
            for info in archive.infolist():
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if read_header is None:
                        raise MocapError(f"cannot read model weights: {info.filename!r} is in .npy format {version}", path=npz_path)
                    shape, _, dtype = read_header(member)
                    header = member.tell()
                if dtype.hasobject:
                    raise MocapError(f"cannot read model weights: {info.filename!r} is an object array", path=npz_path)
                size = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
                total += size
                stored = info.file_size - header
                if size > stored or total > MAX_WEIGHT_BYTES:
                    raise MocapError(
                        f"cannot read model weights: {info.filename!r} claims shape {tuple(shape)} ({size / 2**30:.3g} GiB) but the file "
                        f"holds {stored} bytes for it (at most {MAX_WEIGHT_BYTES / 2**30:g} GiB in all): not a "
                        "model's weights",
                        path=npz_path,
                    )
        with np.load(npz_path, allow_pickle=False) as loaded:
            return {name: loaded[name] for name in loaded.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        if isinstance(exc, MocapError):
            raise
        raise MocapError(f"cannot read model weights: {exc}", path=npz_path) from None


def verify_weights(json_path: os.PathLike[str] | str, meta: Mapping[str, Any]) -> Path:
    """The npz of a sidecar, after checking it is the one the sidecar registered.

    Raises:
        MocapError: When the npz is missing or its hash differs (a model being
            rewritten right now, or a file replaced by hand).
    """
    json_path = Path(json_path)
    weights = meta.get("weights") or {}
    if not isinstance(weights, Mapping):
        raise MocapError(f"\"weights\" must be an object with \"file\" and \"sha256\", found {weights!r}", path=json_path)
    name = weights.get("file", json_path.with_suffix(".npz").name)
    if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name or "\\" in name:
        raise MocapError(
            f"\"weights\": \"file\" must name a file in the model's own folder, found {name!r}", path=json_path
        )
    npz = json_path.parent / name
    if not npz.is_file():
        raise MocapError("model weights not found next to its sidecar", path=npz)
    expected = weights.get("sha256")
    if not expected or sha256_file(npz) != expected:
        raise MocapError(
            f"weights do not match the hash recorded in {json_path.name} (the model is being rewritten, "
            "or a file was replaced); retrain or restore the set",
            path=npz,
        )
    return npz


def save_model_set(
    directory: os.PathLike[str] | str,
    name: str,
    meta: Mapping[str, Any],
    weights: Mapping[str, NDArray[Any]],
    write_keras: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``NAME.keras``, ``NAME.npz`` and ``NAME.json`` as one set.

    Each file is written to a temp name in ``directory``; only when all three
    are complete are they renamed, the JSON last. Until that final rename the
    previous model with this name is untouched (its JSON still registers its
    own npz, by hash); if the process dies in between, the temp files are
    removed (or, on SIGKILL, left as hidden ``.NAME.*`` files that nothing
    reads).

    Args:
        directory: Target folder (created if needed).
        name: Model name (see :func:`validate_name`).
        meta: Sidecar contents; ``format``, ``version``, ``name``, ``weights``,
            ``keras_file`` and ``created`` (unless given) are filled in here.
        weights: Arrays for the numpy runtime.
        write_keras: Writes the Keras model to the path it is given (a temp
            name ending in ``.keras``); None to write no Keras file.

    Returns:
        The sidecar path.
    """
    paths = model_paths(directory, name)
    data = npz_bytes(weights)
    sidecar = dict(meta)
    sidecar.update(
        {
            "format": FORMAT,
            "version": VERSION,
            "name": name,
            "weights": {"file": paths.npz.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)},
            "keras_file": paths.keras.name if write_keras is not None else None,
        }
    )
    sidecar.setdefault("created", now_iso())
    text = json.dumps(sidecar, indent=1, allow_nan=False) + "\n"
    # Contexts exit innermost first: the Keras file is renamed, then the npz,
    # then the JSON that registers them.
    with contextlib.ExitStack() as stack:
        tmp_json = stack.enter_context(atomic_path(paths.json))
        tmp_npz = stack.enter_context(atomic_path(paths.npz))
        tmp_json.write_text(text, encoding="utf-8")
        tmp_npz.write_bytes(data)
        if write_keras is not None:
            tmp_keras = stack.enter_context(atomic_path(paths.keras, suffix=".keras"))
            tmp_keras.unlink()
            write_keras(tmp_keras)
            if not tmp_keras.is_file():
                raise MocapError("the Keras model was not written", path=paths.keras)
    return paths.json


def default_model_dirs() -> list[Path]:
    """Folders searched for models, in order, without duplicates.

    The repository's (or installation's) ``models/`` folder with the shipped
    models, the user's ``~/.mocap-ae/models`` where jobs write by default, and
    every entry of ``MOCAP_AE_MODELS`` (``os.pathsep``-separated) for studio
    shares.
    """
    package = Path(__file__).resolve().parent.parent
    shipped = package.parent / "models"
    candidates = ([shipped] if shipped.is_dir() else []) + [user_model_dir()]
    candidates += [Path(p).expanduser() for p in os.environ.get(MODELS_ENV, "").split(os.pathsep) if p.strip()]
    result: list[Path] = []
    for candidate in candidates:
        if candidate not in result:
            result.append(candidate)
    return result


def user_model_dir() -> Path:
    """Where jobs write models unless told otherwise."""
    return Path.home() / ".mocap-ae" / "models"


def list_models(dirs: Iterable[os.PathLike[str] | str] | None = None, *, verify: bool = True) -> list[ModelInfo]:
    """Every usable model in ``dirs`` (default :func:`default_model_dirs`).

    A JSON that is not a model sidecar, or whose npz is missing or does not
    match its hash (``verify``), is left out: the list only offers models that
    :func:`maya_tool.models.runtime.load_model` will load. A name found in
    several folders is listed once, from the first folder.
    """
    found: list[ModelInfo] = []
    seen: set[str] = set()
    for directory in default_model_dirs() if dirs is None else dirs:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        for json_path in sorted(directory.glob("*.json")):
            if json_path.name.startswith(".") or json_path.stem in seen:
                continue
            try:
                meta = read_sidecar(json_path)
                if verify:
                    verify_weights(json_path, meta)
            except MocapError:
                continue
            seen.add(json_path.stem)
            found.append(
                ModelInfo(
                    name=str(meta["name"]),
                    path=json_path,
                    architecture=str(meta["architecture"]),
                    ratio=float(meta["ratio"]),
                    created=str(meta.get("created", "")),
                    meta=meta,
                )
            )
    return found


def find_model(name_or_path: os.PathLike[str] | str, dirs: Iterable[os.PathLike[str] | str] | None = None) -> Path:
    """The sidecar for a path (any of the set's files, or the stem) or a bare name.

    Raises:
        MocapError: When nothing matches.
    """
    text = os.fspath(name_or_path)
    direct = sidecar_for(text)
    if direct.is_file():
        return direct
    if _NAME_RE.match(text):
        searched = list(default_model_dirs() if dirs is None else [Path(d) for d in dirs])
        for directory in searched:
            candidate = Path(directory) / f"{text}.json"
            if candidate.is_file():
                return candidate
        where = ", ".join(str(d) for d in searched) or "no model folders"
        raise MocapError(f"no model named {text!r} in {where}", path=direct)
    raise MocapError("model sidecar not found (a model is registered by its NAME.json)", path=direct)
