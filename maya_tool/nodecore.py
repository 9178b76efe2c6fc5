"""The csvToMat node's logic, without Maya: inputs -> cached arrays -> matrices.

The tutorial node re-read its CSV and ran Keras on one pose every time the
frame changed. Here the expensive work happens once per change of input: a
:class:`ClipEvaluator` loads the clip through the cached CSV loader, runs the
whole clip through the numpy model in one batch and turns every frame into
Maya matrices at once, a ``(F, J, 16)`` table in ``MMatrix`` order. A frame is
then one row of that table handed over as Python floats; at most 20 times a
second it also stats the files behind the inputs to notice a rewrite. The
plug-in in ``plug-ins/csvToMat.py`` only moves values between Maya's data
block and this class, so everything here is tested without Maya.

Frame rule (documented for artists in ``docs/maya.md``): clip frame 0 is the
first row of the CSV. The ``frame`` input is a clip frame number; a connected
``time`` input overrides it and is converted with the clip's own rate
(``seconds * clip fps``), so scene time 0 shows clip frame 0 whatever the
scene's frame rate. Fractional frames round to the nearest row; frames
outside the clip clamp to the first or last row.

Corruption rule (also in ``docs/maya.md``): ``noiseType`` picks one of
:data:`maya_tool.corruption.CORRUPTIONS` (index = enum value, default
``gaussian``, the tutorial's noise exactly); ``noise`` is the Gaussian sigma
of ``gaussian`` and ``capture`` (so capture at 0 is pops and dropouts without
jitter) and is not used by ``pops`` and ``gaps``, which take their default
rates (:func:`maya_tool.modes.corruption_setting`). Pops and gaps are seeded
with :data:`CORRUPTION_SEED`, the default seed of ``mocap-ae evaluate``, so
the node shows exactly the take the evaluation scores.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat
from .clip import Clip
from .corruption import CORRUPTIONS
from .errors import MocapError
from .modes import MODES, PoseModel, compute_variant, corruption_setting, effective_mode, pipeline
from .skeleton import Skeleton, find_sidecar, sidecar_path

FloatArray = NDArray[np.float64]

ClipLoader = Callable[[str], Clip]
ModelLoader = Callable[[str], PoseModel]

MODEL_SUFFIXES = (".json", ".npz", ".keras")

CORRUPTION_SEED = 0
"""Seed of the node's pops and gaps: ``mocap-ae evaluate``'s default ``--seed``."""

_IDENTITY_ROW = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
_stat = os.stat
_clock = time.monotonic
_floor = math.floor


@dataclass(frozen=True)
class NodeInputs:
    """The node's inputs that change what the whole clip looks like.

    ``frame`` and ``time`` are not here: they only pick a row.
    """

    file_path: str = ""
    model_path: str = ""
    noise: float = 0.0
    mode: str = "original"
    encode: bool = False
    noise_type: str = "gaussian"

    @classmethod
    def from_mode_index(
        cls, file_path: str, model_path: str, noise: float, mode_index: int, encode: bool, noise_type_index: int = 0
    ) -> "NodeInputs":
        """Build from the enum indices Maya's ``mode`` and ``noiseType`` attributes hold."""
        index = int(mode_index)
        mode = MODES[index] if 0 <= index < len(MODES) else f"#{index}"
        kind = int(noise_type_index)
        noise_type = CORRUPTIONS[kind] if 0 <= kind < len(CORRUPTIONS) else f"#{kind}"
        return cls(
            file_path=file_path, model_path=model_path, noise=float(noise), mode=mode, encode=bool(encode),
            noise_type=noise_type,
        )


def file_stamp(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """(mtime_ns, size, inode) of a file, None when it is missing.

    A training job replaces model files by renaming a new file over the old
    one; the inode and size change even when the mtime resolution is coarse.
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def model_files(model_path: str | os.PathLike[str]) -> list[Path]:
    """Every file a model path stands for: the path itself, its sidecar and weights."""
    path = Path(model_path)
    stem = path.with_suffix("") if path.suffix.lower() in MODEL_SUFFIXES else path
    files = [path]
    for suffix in (".json", ".npz"):
        candidate = stem.with_name(stem.name + suffix)
        if candidate not in files:
            files.append(candidate)
    return files


def _default_clip_loader(path: str) -> Clip:
    from .io.csv import read_csv

    return read_csv(path, use_cache=True)


def _default_model_loader(path: str) -> PoseModel:
    from .models.runtime import load_model

    return load_model(path)


def _mean_angle_deg(reference: Clip, candidate: Clip) -> FloatArray:
    """Per-frame mean joint angle error (deg): ``evaluate.frame_errors(...).angle_deg`` averaged over joints.

    Computed from the geodesic angle directly, the same measure as the
    evaluation's, because the node needs only this one: the full
    ``frame_errors`` also poses both clips for position and vertex errors,
    five times the cost on a long clip.
    """
    angles = quat.geodesic_angle(reference.joint_rotations, candidate.joint_rotations)
    if angles.shape[1] == 0:
        return np.zeros(len(angles))
    return np.degrees(angles).mean(axis=1)


@dataclass
class _Result:
    """One evaluated variant of a clip: what a frame lookup needs.

    ``table`` (the variant's matrices, F x J x 128 bytes: 40 MB for 10,000
    frames of 31 joints) exists only while the variant is shown, so the few
    variants kept for quick mode flips cost their rotations, not their
    matrices.
    """

    fps: float
    root_positions: FloatArray  # (F, 3)
    rotations: FloatArray  # (F, J, 4)
    errors_deg: FloatArray  # (F,)
    skeleton: Skeleton
    table: FloatArray | None = None  # (F, J, 16) Maya row-vector matrices, row-major
    errors: list[float] | None = None  # errors_deg as Python floats


def _maya_table(result: _Result) -> FloatArray:
    """Every frame's matrices in the order ``MMatrix`` takes its 16 values."""
    rotations = result.rotations
    translation = np.zeros(rotations.shape[:-1] + (3,))
    translation[:, 0] = result.root_positions
    return quat.to_maya_matrix(rotations, translation).reshape(rotations.shape[0], rotations.shape[1], 16)


def _watched_files(inputs: NodeInputs) -> list[str]:
    """The files whose stamps :meth:`ClipEvaluator.key_for` reads, as given (not made absolute).

    Paths are kept as typed so that a relative path that starts resolving to
    another file (Maya's working folder changed) shows up as a changed stamp.
    The shared ``skeleton.json`` only matters while the clip's own sidecar is
    missing; when the own one appears or disappears, its stamp changes.
    """
    if not inputs.file_path or inputs.mode not in MODES:
        return []
    csv = inputs.file_path
    own = str(sidecar_path(csv))
    files = [csv, own]
    if file_stamp(own) is None:
        files.append(str(Path(csv).with_name("skeleton.json")))
    _, encoded = pipeline(inputs.mode, inputs.encode)
    if encoded and inputs.model_path:
        files.extend(str(p) for p in model_files(inputs.model_path))
    return files


class _LRU:
    """A tiny least-recently-used cache: the few variants a node keeps for quick mode flips."""

    def __init__(self, size: int) -> None:
        self.size = max(1, int(size))
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: Hashable, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class ClipEvaluator:
    """Keeps one node's clip evaluated for its current inputs.

    Call :meth:`sync` (or :meth:`update`) with the inputs on each compute;
    it is cheap when nothing changed (a tuple comparison and one ``os.stat``
    per file behind the inputs) and returns an error message only the first
    time a given broken input is seen, so the host reports each problem
    once. While broken, the evaluator serves the rest pose and it recovers
    on the first update after the files change. :meth:`frame_output` then
    gives a frame's matrices as ready-made lists of 16 floats.

    Args:
        clip_loader: ``path -> Clip``; defaults to the cached CSV loader.
        model_loader: ``path -> model``; defaults to the numpy runtime.
        variants: How many evaluated variants to keep, so flipping between
            modes or noise values does not recompute.
    """

    file_check_interval: float = 0.05
    """Seconds between two looks at the files while the inputs stay the same.

    Playback and scrubbing call :meth:`sync` for every frame; looking at the
    files at most 20 times a second still picks up a model rewritten by a
    training job within a frame or two of playback, without paying for
    ``os.stat`` calls on every frame when frames come thousands a second.
    0 looks on every call.
    """

    def __init__(
        self,
        *,
        clip_loader: ClipLoader | None = None,
        model_loader: ModelLoader | None = None,
        variants: int = 4,
    ) -> None:
        self._clip_loader = clip_loader or _default_clip_loader
        self._model_loader = model_loader or _default_model_loader
        self._variants = _LRU(variants)
        self._key: Hashable = None
        self._result: _Result | None = None
        self._rest_skeleton: Skeleton | None = None
        self.error: str | None = None
        self.inputs = NodeInputs()
        self._raw: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._watch: list[tuple[str, tuple[int, int, int] | None]] = []
        self._rest_rows: list[list[float]] = [_IDENTITY_ROW]

    # ------------------------------------------------------------------ state
    @property
    def ok(self) -> bool:
        """Whether a clip is loaded and evaluated for the current inputs."""
        return self._result is not None

    @property
    def num_joints(self) -> int:
        """Elements of ``matOut``: root + joints, or the rest skeleton's count."""
        if self._result is not None:
            return int(self._result.rotations.shape[1])
        if self._rest_skeleton is not None:
            return self._rest_skeleton.num_joints
        return 1

    @property
    def num_frames(self) -> int:
        return 0 if self._result is None else int(len(self._result.rotations))

    @property
    def fps(self) -> float:
        """The clip's rate; 0 when no clip is loaded."""
        return 0.0 if self._result is None else self._result.fps

    @property
    def skeleton(self) -> Skeleton | None:
        """The skeleton of the loaded clip, or the last one known while broken."""
        return self._result.skeleton if self._result is not None else self._rest_skeleton

    @property
    def rotations(self) -> FloatArray | None:
        """(F, J, 4) local rotations currently shown, root included."""
        return None if self._result is None else self._result.rotations

    @property
    def root_positions(self) -> FloatArray | None:
        return None if self._result is None else self._result.root_positions

    # ----------------------------------------------------------------- update
    def sync(
        self, file_path: str, model_path: str, noise: float, mode_index: int, encode: bool, noise_type_index: int = 0
    ) -> str | None:
        """:meth:`update` from the raw attribute values, for the node's every compute.

        A change of value re-keys at once. With the values of the last call,
        this is a tuple comparison, plus, at most every
        :attr:`file_check_interval` seconds, one ``os.stat`` per file behind
        them (CSV, sidecar, model files) to notice a file rewritten on disk:
        no path arithmetic, no :class:`NodeInputs`, no cache key.

        Returns:
            As :meth:`update`.
        """
        raw = (file_path, model_path, noise, mode_index, encode, noise_type_index)
        if raw == self._raw:
            now = _clock()
            if now - self._checked < self.file_check_interval:
                return None
            self._checked = now
            if self._files_unchanged():
                return None
        message = self.update(
            NodeInputs.from_mode_index(file_path, model_path, noise, mode_index, encode, noise_type_index)
        )
        self._raw = raw
        return message

    def _files_unchanged(self) -> bool:
        for path, stamp in self._watch:
            try:
                st = _stat(path)
            except OSError:
                if stamp is not None:
                    return False
                continue
            if (st.st_mtime_ns, st.st_size, st.st_ino) != stamp:
                return False
        return True

    def key_for(self, inputs: NodeInputs) -> Hashable:
        """What the cached arrays depend on: files (path + stamp) and settings."""
        if not inputs.file_path:
            return ("empty",)
        csv = os.path.abspath(inputs.file_path)
        sidecar = find_sidecar(csv)
        clip_key = (csv, file_stamp(csv), str(sidecar) if sidecar else None, file_stamp(sidecar) if sidecar else None)
        if inputs.mode not in MODES:
            return ("bad-mode", inputs.mode)
        noisy, encoded = pipeline(inputs.mode, inputs.encode)
        model_key: Hashable = None
        if encoded and inputs.model_path:
            model_key = tuple((str(p), file_stamp(p)) for p in model_files(os.path.abspath(inputs.model_path)))
        elif encoded:
            model_key = ("no-model",)
        corruption: Hashable = None
        if noisy:
            if inputs.noise_type not in CORRUPTIONS:
                return ("bad-noise-type", inputs.noise_type)
            sigma = round(float(inputs.noise), 9)
            if inputs.noise_type == "gaussian":  # the tutorial's noise, any value as before
                corruption = ("gaussian", sigma)
            else:  # the setting as applied, so a noise change that pops or gaps ignore costs nothing
                try:
                    corruption = corruption_setting(inputs.noise_type, sigma)
                except MocapError:
                    return ("bad-noise", inputs.noise_type, sigma)  # _evaluate reports it
        return (clip_key, model_key, corruption, effective_mode(inputs.mode, inputs.encode))

    def update(self, inputs: NodeInputs) -> str | None:
        """Re-evaluate when the inputs or the files behind them changed.

        Returns:
            The error message to report when this change broke the node, else
            None (also None when the same error was already returned).
        """
        self.inputs = inputs
        self._raw = None
        self._checked = _clock()
        # Stamps first: a file rewritten between here and key_for shows up as a change next time.
        self._watch = [(path, file_stamp(path)) for path in _watched_files(inputs)]
        key = self.key_for(inputs)
        if key == self._key:
            return None
        self._key = key
        result = self._variants.get(key)
        if result is None:
            try:
                result = self._evaluate(inputs)
            except Exception as exc:  # noqa: BLE001 - any failure must leave the scene usable
                self._show(None)
                self.error = describe_error(exc)
                self._remember_rest_skeleton(inputs)
                self._rest_rows = self.rest_matrices().reshape(-1, 16).tolist()
                return self.error
        self._show(result)
        self.error = None
        if not inputs.file_path:
            self._rest_skeleton = None
        if result is not None:
            self._rest_skeleton = result.skeleton
            self._variants.put(key, result)
        self._rest_rows = self.rest_matrices().reshape(-1, 16).tolist()
        return None

    def _show(self, result: _Result | None) -> None:
        """Make ``result`` the variant frames come from; only it keeps a matrix table."""
        previous = self._result
        if previous is not None and previous is not result:
            previous.table = previous.errors = None
        if result is not None and result.table is None:
            result.table = _maya_table(result)
            result.errors = result.errors_deg.tolist()
        self._result = result

    def _evaluate(self, inputs: NodeInputs) -> _Result | None:
        if not inputs.file_path:
            return None
        if inputs.mode not in MODES:
            raise MocapError(f"unknown mode {inputs.mode!r}: expected one of {', '.join(MODES)}")
        if inputs.noise_type not in CORRUPTIONS:
            raise MocapError(f"unknown noiseType {inputs.noise_type!r}: expected one of {', '.join(CORRUPTIONS)}")
        clip = self._clip_loader(inputs.file_path)
        if clip.num_frames == 0:
            raise MocapError("the clip has no frames", path=inputs.file_path)
        noisy, encoded = pipeline(inputs.mode, inputs.encode)
        model = None
        if encoded:
            if not inputs.model_path:
                raise MocapError(f"mode {effective_mode(inputs.mode, inputs.encode)!r} needs a model: set modelPath")
            model = self._load_model(inputs.model_path)
        corruption: Any = inputs.noise_type
        if noisy and corruption != "gaussian":
            corruption = corruption_setting(corruption, float(inputs.noise))  # raises on a sigma out of range
        variant = compute_variant(
            clip, inputs.mode, model=model, encode=inputs.encode, sigma=float(inputs.noise),
            corruption=corruption, seed=CORRUPTION_SEED,
        )
        rotations = np.asarray(variant.rotations, dtype=np.float64)
        if not np.all(np.isfinite(rotations)):
            raise MocapError("the model produced non-finite rotations", path=inputs.model_path or None)
        errors = np.zeros(clip.num_frames) if variant is clip else _mean_angle_deg(clip, variant)
        return _Result(
            fps=clip.fps,
            root_positions=np.asarray(clip.root_positions, dtype=np.float64),
            rotations=rotations,
            errors_deg=errors,
            skeleton=clip.skeleton,
        )

    def _load_model(self, model_path: str) -> PoseModel:
        """The model behind ``modelPath``, a file of a model set (never a bare name searched elsewhere).

        No cache here: :func:`maya_tool.models.runtime.load_model` already
        keeps each loaded model, shared by every node in the scene, until its
        files change.
        """
        if all(file_stamp(p) is None for p in model_files(model_path)):
            raise MocapError("model file not found", path=model_path)
        return self._model_loader(model_path)

    def _remember_rest_skeleton(self, inputs: NodeInputs) -> None:
        """Find a skeleton to show the rest pose on when the clip is broken."""
        if not inputs.file_path:
            return
        sidecar = find_sidecar(inputs.file_path)
        if sidecar is None:
            return
        try:
            self._rest_skeleton = Skeleton.load(sidecar)
        except Exception:  # noqa: BLE001 - a broken sidecar keeps the last skeleton known
            return

    # ----------------------------------------------------------------- frames
    def frame_for_seconds(self, seconds: float) -> float:
        """Clip frame shown at a scene time: the clip's own rate decides."""
        return float(seconds) * self.fps if self.fps > 0 else 0.0

    def clip_row(self, frame: float) -> int:
        """Row for a (fractional) clip frame: nearest, clamped to the clip."""
        count = self.num_frames
        if count == 0 or not math.isfinite(frame):
            return 0
        return min(max(int(math.floor(float(frame) + 0.5)), 0), count - 1)

    def rest_matrices(self) -> FloatArray:
        """(J, 4, 4) identity rotations, root at its rest position."""
        count = self.num_joints
        out = np.tile(np.eye(4), (count, 1, 1))
        skeleton = self._rest_skeleton
        if skeleton is not None and skeleton.num_joints == count:
            out[0, 3, :3] = skeleton.offsets[0]
        return out

    def frame_matrices(self, frame: float) -> FloatArray:
        """(J, 4, 4) Maya row-vector matrices: root with translation, then each joint."""
        result = self._result
        if result is None or result.table is None:
            return self.rest_matrices()
        return result.table[self.clip_row(frame)].reshape(-1, 4, 4).copy()

    def frame_output(self, frame: float) -> tuple[list[list[float]], float]:
        """What the node writes for a frame: J lists of 16 floats (``MMatrix`` order) and ``frameError``.

        The per-frame path of the node, so it does the least Python work
        that gets Maya its values: one row of the precomputed table turned
        into floats by numpy in one call, the error from a list. Same row
        rule as :meth:`clip_row`. The lists are fresh except the rest pose's,
        which callers must not modify.
        """
        result = self._result
        if result is None or result.table is None or result.errors is None:
            return self._rest_rows, 0.0
        table = result.table
        try:
            row = _floor(frame + 0.5)
        except (OverflowError, ValueError):  # inf or nan, as clip_row
            row = 0
        last = len(table) - 1
        if row > last:
            row = last
        elif row < 0:
            row = 0
        return table[row].tolist(), result.errors[row]

    def frame_error(self, frame: float) -> float:
        """Mean joint angle (deg) between the shown frame and the original."""
        if self._result is None:
            return 0.0
        return float(self._result.errors_deg[self.clip_row(frame)])


def describe_error(exc: BaseException) -> str:
    """One readable line for the Script Editor: the core's message as is."""
    if isinstance(exc, MocapError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"
