"""Training sets: many clips as one pose array, with a manifest that says what went in.

A model is only as trustworthy as the record of its data, so a data set keeps,
next to the concatenated ``(N, 4 * (J-1))`` pose array (the model input
layout of :meth:`Clip.pose_features`), the clip boundaries (validation splits
and temporal windows must never straddle two clips), the skeleton and a
manifest: every source file with its frame count, frame rate, sha256 and CMU
subject, plus a hash over the arrays themselves so two builds can be compared.

Files are ``NAME.npz`` (compressed, loadable with ``allow_pickle=False``: the
skeleton and manifest travel as JSON text) and ``NAME.json``, a copy of the
manifest to read without numpy.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from . import atomic
from .atomic import sha256_file as file_sha256
from .clip import Clip
from .errors import MocapError
from .io import READABLE as MOTION_SUFFIXES
from .io import check_fps, resample
from .presets import READER_PRESETS as PRESETS
from .skeleton import Skeleton

DATASET_FORMAT = "mocap-ae.dataset"
DATASET_VERSION = 1
_CMU_NAME = re.compile(r"^(\d+)_(\d+)$")
_ARRAYS = ("poses", "root_positions", "root_rotations", "clip_starts")


@dataclass
class Dataset:
    """Concatenated clips ready for training.

    Attributes:
        poses: (N, 4 * (J-1)) float32 joint quaternions (root excluded), w >= 0.
        root_positions: (N, 3) float32 root positions in cm.
        root_rotations: (N, 4) float32 root orientations, xyzw.
        clip_starts: (C+1,) int64 boundaries; clip i is rows
            ``clip_starts[i]:clip_starts[i+1]``.
        fps: Frame rate shared by every clip.
        joint_names: All J joint names, root first.
        skeleton: The first clip's skeleton (every clip has its layout).
        manifest: Provenance; see :func:`build_dataset`.
    """

    poses: NDArray[np.float32]
    root_positions: NDArray[np.float32]
    root_rotations: NDArray[np.float32]
    clip_starts: NDArray[np.int64]
    fps: float
    joint_names: list[str]
    skeleton: Skeleton
    manifest: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.poses = np.ascontiguousarray(self.poses, dtype=np.float32)
        self.root_positions = np.ascontiguousarray(self.root_positions, dtype=np.float32).reshape(-1, 3)
        self.root_rotations = np.ascontiguousarray(self.root_rotations, dtype=np.float32).reshape(-1, 4)
        self.clip_starts = np.asarray(self.clip_starts, dtype=np.int64).reshape(-1)
        self.fps = float(self.fps)
        self.joint_names = [str(n) for n in self.joint_names]
        problem = self._problem()
        if problem:
            raise ValueError(problem)

    def _problem(self) -> str:
        """Why the arrays disagree with each other, or '' when they do not."""
        width = 4 * (len(self.joint_names) - 1)
        n = len(self.poses)
        if self.poses.ndim != 2 or self.poses.shape[1] != width:
            return f"poses must be (frames, {width}) for {len(self.joint_names)} joints, got {self.poses.shape}"
        if len(self.root_positions) != n or len(self.root_rotations) != n:
            return f"{n} poses but {len(self.root_positions)} root positions and {len(self.root_rotations)} root rotations"
        starts = self.clip_starts
        if len(starts) < 1 or starts[0] != 0 or starts[-1] != n or np.any(np.diff(starts) < 0):
            return f"clip_starts must rise from 0 to {n}, got {starts.tolist()[:5]}...{starts.tolist()[-2:]}"
        if self.skeleton.names != self.joint_names:
            return "skeleton joint names differ from joint_names"
        if not (self.fps > 0 and np.isfinite(self.fps)):
            return f"fps must be positive, got {self.fps}"
        return self._pose_problem()

    def _pose_problem(self) -> str:
        """Where the poses are not unit quaternions (NaN, zeros), or ''.

        Training on such poses fails deep in numpy (NaN) or "succeeds" on
        nothing (all zeros); both are damaged files, said where.
        """
        for label, arr in (("root position", self.root_positions), ("root rotation", self.root_rotations)):
            if not np.isfinite(arr).all():
                frame = int(np.argwhere(~np.isfinite(arr))[0][0])
                return f"{label} of frame {frame + 1} is not finite"
        q = self.poses.reshape(len(self.poses), len(self.joint_names) - 1, 4).astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            bad = ~(np.abs(np.einsum("fjk,fjk->fj", q, q) - 1.0) <= 1e-3)
        if not bad.any():
            return ""
        frame, joint = (int(v) for v in np.argwhere(bad)[0])
        clip = int(np.searchsorted(self.clip_starts, frame, side="right")) - 1
        return (
            f"{int(bad.sum())} joint poses are not unit quaternions; the first: frame {frame + 1} (clip {clip + 1}, "
            f"its frame {frame - int(self.clip_starts[clip]) + 1}), joint {self.joint_names[joint + 1]!r} = "
            f"{[float(f'{v:.6g}') for v in q[frame, joint]]}"
        )

    @property
    def num_frames(self) -> int:
        return int(len(self.poses))

    @property
    def num_clips(self) -> int:
        return int(len(self.clip_starts) - 1)

    @property
    def files(self) -> list[dict[str, Any]]:
        """Manifest entries, one per clip in order."""
        return list(self.manifest.get("files", []))

    @property
    def subjects(self) -> list[str]:
        """Distinct subjects, sorted; clips without one are left out."""
        return sorted({f["subject"] for f in self.files if f.get("subject")})

    @property
    def content_hash(self) -> str:
        return str(self.manifest.get("content_hash") or content_hash(self))

    def clip_ranges(self) -> list[tuple[int, int]]:
        """``(start, stop)`` rows of each clip."""
        s = self.clip_starts.tolist()
        return list(zip(s[:-1], s[1:]))

    def clip_poses(self, i: int) -> NDArray[np.float32]:
        """(F, 4 * (J-1)) poses of clip ``i`` (a view)."""
        start, stop = self.clip_ranges()[i]
        return self.poses[start:stop]

    def clip(self, i: int) -> Clip:
        """Clip ``i`` as a :class:`Clip`, e.g. to evaluate a model on held-out data."""
        start, stop = self.clip_ranges()[i]
        rotations = np.concatenate(
            [
                self.root_rotations[start:stop, None].astype(np.float64),
                self.poses[start:stop].reshape(stop - start, -1, 4).astype(np.float64),
            ],
            axis=1,
        )
        norms = np.linalg.norm(rotations, axis=-1, keepdims=True)
        rotations /= np.where(norms > 0, norms, 1.0)
        entry = self.files[i] if i < len(self.files) else {}
        return Clip(
            skeleton=self.skeleton,
            fps=self.fps,
            root_positions=self.root_positions[start:stop].astype(np.float64),
            rotations=rotations,
            source={"format": "dataset", "path": entry.get("path"), "subject": entry.get("subject")},
        )

    def subset(self, clip_indices: Iterable[int]) -> "Dataset":
        """The given clips (in the given order), with the manifest to match."""
        indices = [int(i) for i in clip_indices]
        ranges = self.clip_ranges()
        for i in indices:
            if not 0 <= i < self.num_clips:
                raise IndexError(f"clip {i} out of range: data set has {self.num_clips} clips")
        rows = [np.arange(*ranges[i]) for i in indices]
        take = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        lengths = [ranges[i][1] - ranges[i][0] for i in indices]
        files = self.files
        manifest = {
            **self.manifest,
            "files": [files[i] for i in indices] if files else [],
            "parent_hash": self.content_hash,
        }
        subset = Dataset(
            poses=self.poses[take],
            root_positions=self.root_positions[take],
            root_rotations=self.root_rotations[take],
            clip_starts=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]),
            fps=self.fps,
            joint_names=list(self.joint_names),
            skeleton=self.skeleton,
            manifest=manifest,
        )
        _finish_manifest(subset)
        return subset

    def save(self, path: os.PathLike[str] | str) -> Path:
        """Write ``NAME.npz`` and the ``NAME.json`` manifest beside it, each atomically.

        Returns:
            The ``.npz`` path.
        """
        npz_path, json_path = dataset_paths(path)
        arrays: dict[str, Any] = {
            "format": np.array(DATASET_FORMAT),
            "version": np.array(DATASET_VERSION, dtype=np.int64),
            "poses": self.poses,
            "root_positions": self.root_positions,
            "root_rotations": self.root_rotations,
            "clip_starts": self.clip_starts,
            "fps": np.array(self.fps, dtype=np.float64),
            "joint_names": np.array(self.joint_names, dtype=np.str_),
            "skeleton_json": np.array(json.dumps(self.skeleton.to_dict())),
            "manifest_json": np.array(json.dumps(self.manifest)),
        }
        with atomic.atomic_path(npz_path) as tmp:
            # A file object, because savez appends ".npz" to names lacking it.
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)
        atomic.write_text(json_path, json.dumps(self.manifest, indent=1) + "\n")
        return npz_path

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> "Dataset":
        """Read what :meth:`save` wrote (``NAME``, ``NAME.npz`` or ``NAME.json``), never unpickling."""
        npz_path, _ = dataset_paths(path)
        if not npz_path.is_file():
            raise MocapError("no such data set file", path=npz_path)
        try:
            with np.load(npz_path, allow_pickle=False) as data:
                missing = [k for k in ("format", *_ARRAYS, "fps", "joint_names", "skeleton_json", "manifest_json")
                           if k not in data.files]
                if missing:
                    raise MocapError(f"not a mocap-ae data set: missing {', '.join(missing)}", path=npz_path)
                if str(data["format"]) != DATASET_FORMAT:
                    raise MocapError(f"not a mocap-ae data set: format is {str(data['format'])!r}", path=npz_path)
                version = int(data["version"]) if "version" in data.files else 1
                if version > DATASET_VERSION:
                    raise MocapError(
                        f"data set version {version} is newer than this mocap-ae reads ({DATASET_VERSION})",
                        path=npz_path,
                    )
                skeleton = Skeleton.from_dict(json.loads(str(data["skeleton_json"])), path=npz_path)
                dataset = cls(
                    poses=data["poses"],
                    root_positions=data["root_positions"],
                    root_rotations=data["root_rotations"],
                    clip_starts=data["clip_starts"],
                    fps=float(data["fps"]),
                    joint_names=[str(n) for n in data["joint_names"]],
                    skeleton=skeleton,
                    manifest=json.loads(str(data["manifest_json"])),
                )
        except MocapError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
            raise MocapError(f"unreadable data set: {exc}", path=npz_path) from exc
        return dataset


def dataset_paths(path: os.PathLike[str] | str) -> tuple[Path, Path]:
    """``(NAME.npz, NAME.json)`` for ``NAME``, ``NAME.npz`` or ``NAME.json``."""
    p = Path(path)
    stem = p.with_suffix("") if p.suffix.lower() in (".npz", ".json") else p
    return stem.with_name(stem.name + ".npz"), stem.with_name(stem.name + ".json")


def subject_of(path: os.PathLike[str] | str) -> str:
    """The CMU subject of a file: ``NN`` from ``NN_MM.ext``, else the parent folder's name."""
    p = Path(path)
    match = _CMU_NAME.match(p.stem)
    if match:
        return match.group(1)
    return p.parent.name


def collect_files(paths: Iterable[os.PathLike[str] | str], subjects: Sequence[str] | None = None) -> list[Path]:
    """Motion files under ``paths`` (folders searched recursively), in a stable order.

    Args:
        paths: Files or folders.
        subjects: Keep only files of these subjects (``5`` matches ``05``).

    Raises:
        MocapError: for a missing path, an unsupported file, or nothing found.
    """
    found: list[Path] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            found.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.suffix.lower() in MOTION_SUFFIXES
                    and f.is_file()
                    and not any(part.startswith(".") for part in f.relative_to(p).parts)
                )
            )
        elif p.is_file():
            if p.suffix.lower() not in MOTION_SUFFIXES:
                raise MocapError(f"not a motion file: expected one of {', '.join(MOTION_SUFFIXES)}", path=p)
            found.append(p)
        else:
            raise MocapError("no such file or folder", path=p)
    files = list(dict.fromkeys(found))
    if subjects:
        wanted = {_norm_subject(s) for s in subjects}
        files = [f for f in files if _norm_subject(subject_of(f)) in wanted]
    if not files:
        where = ", ".join(str(p) for p in paths) or "(no paths)"
        only = f" for subjects {', '.join(subjects)}" if subjects else ""
        raise MocapError(f"no {'/'.join(s[1:] for s in MOTION_SUFFIXES)} files found in {where}{only}")
    return files


def _norm_subject(subject: str) -> str:
    return str(int(subject)) if str(subject).isdigit() else str(subject)



def read_motion(path: Path, preset: str) -> Clip:
    """Read one file with the data set's preset (a CSV ignores it: it carries its own skeleton)."""
    from .io import read_clip

    return read_clip(path, preset=preset)


def build_dataset(
    paths: Sequence[os.PathLike[str] | str],
    *,
    preset: str = "auto",
    fps: float | None = None,
    progress: bool = False,
    subjects: Sequence[str] | None = None,
) -> Dataset:
    """Read BVH / AMC / CSV files and folders into one :class:`Dataset`.

    Args:
        paths: Files or folders (searched recursively for .bvh, .amc, .csv;
            an AMC finds its ASF as :func:`maya_tool.io.read_clip` does).
        preset: Reader preset, ``auto``, ``cmu`` or ``none``; ``cmu`` scales
            to cm and drops the BVH converter's T-pose frame.
        fps: Resample every clip to this rate (slerp); otherwise all clips
            must already share one.
        progress: Show a tqdm bar on stderr.
        subjects: Keep only files of these CMU subjects.

    Returns:
        The data set; its manifest holds ``files`` (path, frames, fps,
        source_frames, source_fps, sha256, subject), ``frames``, ``clips``,
        ``fps``, ``subjects``, ``joints``, ``content_hash``, ``preset`` and
        ``created``.

    Raises:
        MocapError: naming the file that cannot be read or whose skeleton
            layout or frame rate differs from the first file's.
    """
    if preset not in PRESETS:
        raise MocapError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    if fps is not None:
        fps = check_fps(fps, "fps")
    files = collect_files(paths, subjects)
    clips: list[tuple[Path, Clip]] = []
    for path in _progress(files, progress):
        clips.append((path, read_motion(path, preset)))
    return dataset_from_clips(clips, fps=fps, preset=preset)


def dataset_from_clips(
    clips: Sequence[tuple[os.PathLike[str] | str, Clip]],
    *,
    fps: float | None = None,
    preset: str = "none",
) -> Dataset:
    """Concatenate already loaded clips; ``(path, clip)`` pairs name the sources.

    The path is used for the manifest (subject, sha256 when the file exists)
    and in errors, so tests and tools that make clips in memory get the same
    checks as files read from disk.
    """
    if not clips:
        raise MocapError("no clips to build a data set from")
    first_path, first = Path(clips[0][0]), clips[0][1]
    skeleton = first.skeleton
    target_fps = float(fps) if fps is not None else first.fps
    poses: list[NDArray[np.float32]] = []
    positions: list[NDArray[np.float32]] = []
    root_rotations: list[NDArray[np.float32]] = []
    entries: list[dict[str, Any]] = []
    for raw_path, clip in clips:
        path = Path(raw_path)
        _check_layout(skeleton, first_path, clip.skeleton, path)
        source_frames, source_fps = clip.num_frames, clip.fps
        if abs(clip.fps - target_fps) > 1e-6:
            if fps is None:
                raise MocapError(
                    f"{clip.fps:g} fps but {first_path.name} is {first.fps:g} fps: "
                    f"pass --fps (fps=) to resample every clip to one rate",
                    path=path,
                )
            clip = resample(clip, target_fps)
        if clip.num_frames == 0:
            raise MocapError("no frames left after reading (and dropping the T-pose frame)", path=path)
        poses.append(clip.pose_features(np.float32))
        positions.append(clip.root_positions.astype(np.float32))
        root_rotations.append(clip.root_rotations.astype(np.float32))
        entry: dict[str, Any] = {
            "path": path.as_posix(),
            "frames": clip.num_frames,
            "fps": clip.fps,
            "source_frames": source_frames,
            "source_fps": source_fps,
            "sha256": file_sha256(path) if path.is_file() else None,
            "subject": subject_of(path),
        }
        asf = clip.source.get("asf") or clip.source.get("asf_path")
        if asf and Path(asf).is_file():
            entry["asf"] = Path(asf).as_posix()
            entry["asf_sha256"] = file_sha256(asf)
        if "dropped_first_frame" in clip.source:
            entry["dropped_first_frame"] = bool(clip.source["dropped_first_frame"])
        entries.append(entry)
    lengths = [len(p) for p in poses]
    dataset = Dataset(
        poses=np.concatenate(poses),
        root_positions=np.concatenate(positions),
        root_rotations=np.concatenate(root_rotations),
        clip_starts=np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]),
        fps=target_fps,
        joint_names=list(skeleton.names),
        skeleton=skeleton,
        manifest={
            "format": DATASET_FORMAT,
            "version": DATASET_VERSION,
            "files": entries,
            "preset": preset,
            "resampled": fps is not None,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )
    _finish_manifest(dataset)
    return dataset


def _check_layout(reference: Skeleton, reference_path: Path, skeleton: Skeleton, path: Path) -> None:
    if reference.same_layout(skeleton):
        return
    if reference.num_joints != skeleton.num_joints:
        detail = f"{skeleton.num_joints} joints, but {reference_path.name} has {reference.num_joints}"
    else:
        j = next(
            (i for i in range(reference.num_joints)
             if reference.names[i] != skeleton.names[i] or reference.parents[i] != skeleton.parents[i]),
            0,
        )
        detail = (
            f"joint {j} is {skeleton.names[j]!r} (parent {skeleton.parents[j]}), but in {reference_path.name} it is "
            f"{reference.names[j]!r} (parent {reference.parents[j]})"
        )
    raise MocapError(
        f"skeleton layout differs from the first file's: {detail}; all clips of a data set need one layout "
        f"(try --preset cmu for CMU BVH and ASF/AMC)",
        path=path,
    )


def _finish_manifest(dataset: Dataset) -> None:
    """Fill the manifest's totals and hash from the arrays, after any change to them."""
    m = dataset.manifest
    m.setdefault("format", DATASET_FORMAT)
    m.setdefault("version", DATASET_VERSION)
    m["frames"] = dataset.num_frames
    m["clips"] = dataset.num_clips
    m["fps"] = dataset.fps
    m["joints"] = len(dataset.joint_names)
    m["skeleton"] = dataset.skeleton.name
    m["subjects"] = dataset.subjects
    m["content_hash"] = content_hash(dataset)


def content_hash(dataset: Dataset) -> str:
    """sha256 over the arrays, the rate and the joint names: equal data, equal hash.

    Independent of file paths and build time, so two builds from the same
    files (or copies of them elsewhere) compare equal.
    """
    digest = hashlib.sha256()
    digest.update(f"{DATASET_FORMAT}/{DATASET_VERSION};fps={dataset.fps!r};".encode())
    digest.update(json.dumps(dataset.joint_names).encode())
    digest.update(np.asarray(dataset.skeleton.parents, dtype="<i8").tobytes())
    digest.update(np.ascontiguousarray(dataset.clip_starts, dtype="<i8").tobytes())
    for name in ("poses", "root_positions", "root_rotations"):
        digest.update(np.ascontiguousarray(getattr(dataset, name), dtype="<f4").tobytes())
    return digest.hexdigest()


def split_by_clip(ds: Dataset, validation_fraction: float = 0.1, seed: int = 0) -> tuple[Dataset, Dataset]:
    """Training and validation sets made of whole clips.

    Neighbouring frames of a clip are nearly equal, so a split by frame
    would let the validation loss see the training data. Clips are shuffled
    with ``seed`` and moved to validation until they hold at least
    ``validation_fraction`` of the frames; at least one clip stays in
    training. Each part's manifest lists its files and ``subjects`` and
    records the split under ``"split"``.

    Raises:
        MocapError: when a validation set is asked for but there is only one clip.
    """
    if not 0.0 <= validation_fraction < 1.0:
        raise MocapError(f"validation fraction must be in [0, 1), got {validation_fraction}")
    clips = ds.num_clips
    validation: list[int] = []
    if validation_fraction > 0:
        if clips < 2:
            raise MocapError(
                f"a validation split needs at least 2 clips (whole clips are held out), the data set has {clips}"
            )
        order = np.random.default_rng(seed).permutation(clips)
        lengths = np.diff(ds.clip_starts)
        target = validation_fraction * ds.num_frames
        held = 0
        for i in order[:-1]:
            if held >= target:
                break
            validation.append(int(i))
            held += int(lengths[i])
    validation.sort()
    chosen = set(validation)
    training = [i for i in range(clips) if i not in chosen]
    parts = []
    for role, indices in (("train", training), ("validation", validation)):
        part = ds.subset(indices)
        part.manifest["split"] = {
            "role": role,
            "validation_fraction": validation_fraction,
            "seed": seed,
            "clips": indices,
            "parent_hash": ds.content_hash,
        }
        parts.append(part)
    return parts[0], parts[1]


def _progress(files: list[Path], enabled: bool) -> Iterable[Path]:
    if not enabled:
        return files
    try:
        from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        return files
    return tqdm(files, desc="reading", unit="file", file=sys.stderr)
