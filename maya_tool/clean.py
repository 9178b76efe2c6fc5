"""Clean a real take: clip in, model, options; clip out and a report of what changed.

Every other host (``mocap-ae clean``, the Maya *Clean selected skeleton*
command, the panel's *cleaned* mode) is a thin caller of :func:`clean_clip`,
so a take cleaned in batch and the same take cleaned in the scene come out
the same.

What it guarantees, because an artist's take goes back into their pipeline:

* Rotations are blended between the input and the model's output on the
  rotation manifold (slerp) by ``strength``; where the weight is 0 (strength
  0, a joint left out of the mask, a frame outside the range) the input's
  numbers come back bit for bit. Output quaternions are unit, w >= 0.
* The root and the skeleton pass through untouched unless asked: models
  never see the root, so ``root="smooth"`` cleans its translation and
  rotation with a zero-phase Butterworth low-pass (the honest fallback when
  the model cannot clean the root).
* The clip's joints are matched to the model's by name, through a name map
  for other naming schemes (:data:`NAME_MAPS`: Mixamo, HumanIK); joints the
  model does not know pass through, model joints the clip lacks are fed
  their rest pose and their outputs dropped.
* The report (:func:`clean_clip` ``.report``, JSON-ready) says per joint the
  mean and max change in degrees and the runs of frames changed by more than
  a threshold: the pops and dropouts the model found. A real take has no
  ground truth, so change is what there is to show.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence

import numpy as np
from numpy.typing import NDArray

from . import atomic
from . import quaternion as quat
from .clip import Clip
from .contacts import runs as _runs
from .errors import MocapError, ModelMismatchError

FloatArray = NDArray[np.float64]

ROOT_MODES = ("keep", "smooth")
"""``keep``: root translation and rotation pass through; ``smooth``: zero-phase low-pass on both."""

DEFAULT_THRESHOLD_DEG = 5.0
"""A joint changed by more than this on a frame is flagged (a pop or dropout the model removed)."""

_MIXAMO_TO_CMU = {
    "Hips": "Hips",
    "LeftUpLeg": "LeftUpLeg",
    "LeftLeg": "LeftLeg",
    "LeftFoot": "LeftFoot",
    "LeftToeBase": "LeftToeBase",
    "RightUpLeg": "RightUpLeg",
    "RightLeg": "RightLeg",
    "RightFoot": "RightFoot",
    "RightToeBase": "RightToeBase",
    "Spine": "LowerBack",
    "Spine1": "Spine",
    "Spine2": "Spine1",
    "Neck": "Neck",
    "Head": "Head",
    "LeftShoulder": "LeftShoulder",
    "LeftArm": "LeftArm",
    "LeftForeArm": "LeftForeArm",
    "LeftHand": "LeftHand",
    "LeftHandIndex1": "LeftHandIndex1",
    "LeftHandThumb1": "LThumb",
    "RightShoulder": "RightShoulder",
    "RightArm": "RightArm",
    "RightForeArm": "RightForeArm",
    "RightHand": "RightHand",
    "RightHandIndex1": "RightHandIndex1",
    "RightHandThumb1": "RThumb",
}

NAME_MAPS: dict[str, dict[str, str]] = {
    "cmu": {},
    "mixamo": dict(_MIXAMO_TO_CMU),
    "humanik": dict(_MIXAMO_TO_CMU),
}
"""Scene joint name (namespace stripped) -> CMU model joint name, per naming scheme.

Mixamo (``mixamorig:LeftUpLeg``) and HumanIK use the same names for legs and
arms as CMU but count the spine from the hips up (``Spine`` is CMU's
``LowerBack``); ``cmu`` is the identity.
"""


class CleaningModel(Protocol):
    """What :func:`clean_clip` needs of a model: the runtime's interface."""

    name: str
    joint_names: list[str]

    def check_clip(self, clip: Clip) -> None: ...

    def reconstruct(self, joint_rotations: NDArray[Any]) -> NDArray[np.float64]: ...


@dataclass(frozen=True)
class CleanOptions:
    """How to clean.

    Attributes:
        strength: 0 (input unchanged) to 1 (the model's output), slerp in between.
        joints: Joints to clean (clip or model names); None: every joint the model knows.
        frames: ``(start, stop)`` clip frames to clean, stop exclusive (None: to the end);
            None: the whole clip. Inside the clip the weight ramps over
            ``ramp_frames`` at the range's ends so no step appears there.
        root: One of :data:`ROOT_MODES`.
        root_cutoff_hz: Low-pass cutoff for ``root="smooth"``.
        threshold_deg: Change that flags a frame in the report.
        ramp_frames: Frames over which the weight ramps at a range's inner ends.
        name_map: Clip joint name -> model joint name, or the name of a
            scheme in :data:`NAME_MAPS`; names are matched with namespaces
            (``ns:``) and DAG paths stripped.
        feet: Keep the input's foot contacts planted after cleaning
            (:mod:`maya_tool.contacts`); needs leg joints the model knows.
        skip_still: Leave joints that do not move in the input (less than
            :data:`maya_tool.corruption.ANIMATED_THRESHOLD_DEG` over the clip)
            as they are: they have nothing to clean, and a model's tiny
            change would rewrite every key of a constant curve.
        contact_height: Foot height above the clip's floor that counts as
            contact, cm (None: from the clip's leg length).
        contact_speed: Foot speed below which it counts as planted, cm/s
            (None: from the clip's leg length).
    """

    strength: float = 1.0
    joints: tuple[str, ...] | None = None
    frames: tuple[int, int | None] | None = None
    root: str = "keep"
    root_cutoff_hz: float = 4.0
    threshold_deg: float = DEFAULT_THRESHOLD_DEG
    ramp_frames: int = 4
    name_map: str | Mapping[str, str] | None = None
    feet: bool = True
    skip_still: bool = True
    contact_height: float | None = None
    contact_speed: float | None = None

    def __post_init__(self) -> None:
        strength = _finite(self.strength, "strength")
        if not 0.0 <= strength <= 1.0:
            raise MocapError(f"strength must be in [0, 1], got {self.strength!r}")
        object.__setattr__(self, "strength", strength)
        if self.root not in ROOT_MODES:
            raise MocapError(f"root must be one of {', '.join(ROOT_MODES)}, got {self.root!r}")
        if not _finite(self.root_cutoff_hz, "root cutoff") > 0:
            raise MocapError(f"root cutoff must be positive, got {self.root_cutoff_hz!r}")
        if not _finite(self.threshold_deg, "threshold") > 0:
            raise MocapError(f"threshold must be a positive number of degrees, got {self.threshold_deg!r}")
        if int(self.ramp_frames) < 0:
            raise MocapError(f"ramp frames must be >= 0, got {self.ramp_frames!r}")
        if self.joints is not None:
            object.__setattr__(self, "joints", tuple(str(j) for j in self.joints))
        if self.frames is not None:
            start, stop = self.frames
            if int(start) < 0 or (stop is not None and int(stop) <= int(start)):
                raise MocapError(f"frame range must be 0 <= start < stop, got {self.frames!r}")
            object.__setattr__(self, "frames", (int(start), None if stop is None else int(stop)))
        if isinstance(self.name_map, str) and self.name_map not in NAME_MAPS:
            raise MocapError(f"unknown name map {self.name_map!r}: expected one of {', '.join(NAME_MAPS)}")
        for label, value in (("contact height", self.contact_height), ("contact speed", self.contact_speed)):
            if value is not None and not _finite(value, label) > 0:
                raise MocapError(f"{label} must be positive, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; :meth:`from_dict` inverts it (reports and the batch's up-to-date key use it)."""
        return {
            "strength": self.strength,
            "joints": None if self.joints is None else list(self.joints),
            "frames": None if self.frames is None else list(self.frames),
            "root": self.root,
            "root_cutoff_hz": self.root_cutoff_hz,
            "threshold_deg": self.threshold_deg,
            "ramp_frames": int(self.ramp_frames),
            "name_map": self.name_map if self.name_map is None or isinstance(self.name_map, str) else dict(self.name_map),
            "feet": bool(self.feet),
            "skip_still": bool(self.skip_still),
            "contact_height": self.contact_height,
            "contact_speed": self.contact_speed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CleanOptions":
        """Options from :meth:`to_dict` output (missing keys take defaults; unknown ones are refused)."""
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise MocapError(f"unknown clean options {', '.join(sorted(unknown))}")
        values = dict(data)
        if values.get("frames") is not None:
            values["frames"] = tuple(values["frames"])
        if values.get("joints") is not None:
            values["joints"] = tuple(values["joints"])
        return cls(**values)


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MocapError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise MocapError(f"{what} must be finite, got {value!r}")
    return number


@dataclass
class CleanResult:
    """What :func:`clean_clip` returns.

    Attributes:
        clip: The cleaned clip (same skeleton, fps and frames as the input).
        report: JSON-ready change report (see :func:`change_report`).
        weights: (F, J) blend weight used per frame and clip joint (0: untouched).
        model_output: (F, J, 4) the model's raw output mapped onto clip joints
            (input rotations where the model does not know the joint).
    """

    clip: Clip
    report: dict[str, Any]
    weights: FloatArray
    model_output: FloatArray = field(repr=False)


def short_name(name: str) -> str:
    """A scene joint's name without DAG path or namespace: ``|rig|mixamorig:Hips`` -> ``Hips``."""
    return str(name).rsplit("|", 1)[-1].rsplit(":", 1)[-1]


def resolve_name_map(name_map: str | Mapping[str, str] | None) -> dict[str, str]:
    """The name map as a dict (a scheme name looked up in :data:`NAME_MAPS`)."""
    if name_map is None:
        return {}
    if isinstance(name_map, str):
        if name_map not in NAME_MAPS:
            raise MocapError(f"unknown name map {name_map!r}: expected one of {', '.join(NAME_MAPS)}")
        return dict(NAME_MAPS[name_map])
    return {str(k): str(v) for k, v in name_map.items()}


def best_name_map(clip_names: Sequence[str], model_names: Sequence[str]) -> str:
    """The scheme of :data:`NAME_MAPS` that maps the most clip joints onto model joints (``cmu`` on a tie)."""
    def mapped(scheme: str) -> int:
        try:
            return sum(m is not None for m in map_joints(clip_names, model_names, scheme))
        except MocapError:
            return -1

    return max(NAME_MAPS, key=lambda scheme: (mapped(scheme), scheme == "cmu"))


def map_joints(clip_names: Sequence[str], model_names: Sequence[str],
               name_map: str | Mapping[str, str] | None = None) -> list[int | None]:
    """For each clip joint, the index of the model joint it feeds (None: passes through).

    The clip's root is never mapped: models do not see the root. A name is
    looked up in the map as given, then without namespace; unmapped names
    match model joints of the same (short) name.

    Raises:
        MocapError: Two clip joints mapped onto one model joint.
    """
    mapping = resolve_name_map(name_map)
    index = {n: i for i, n in enumerate(model_names) if i > 0}
    out: list[int | None] = [None]
    taken: dict[int, str] = {}
    for name in list(clip_names)[1:]:
        target = mapping.get(name, mapping.get(short_name(name), short_name(name)))
        m = index.get(target)
        if m is not None and m in taken:
            raise MocapError(
                f"clip joints {taken[m]!r} and {name!r} both map to model joint {model_names[m]!r}: fix the name map"
            )
        if m is not None:
            taken[m] = name
        out.append(m)
    return out


def model_rotations(clip: Clip, model: CleaningModel, mapping: Sequence[int | None]) -> FloatArray:
    """(F, Jm-1, 4) model input: mapped clip joints, rest pose (identity) for joints the clip lacks."""
    joints = len(model.joint_names) - 1
    rots = quat.identity((clip.num_frames, joints))
    for c, m in enumerate(mapping):
        if m is not None:
            rots[:, m - 1] = clip.rotations[:, c]
    return rots


def frame_weights(frames: int, strength: float, frame_range: tuple[int, int | None] | None,
                  ramp: int) -> FloatArray:
    """(F,) blend weight per frame: ``strength`` in the range, ramping over ``ramp`` frames at its inner ends."""
    weights = np.zeros(frames)
    if frames == 0 or strength <= 0:
        return weights
    start, stop = (0, frames) if frame_range is None else (frame_range[0], frame_range[1])
    stop = frames if stop is None else min(int(stop), frames)
    start = min(int(start), frames)
    if stop <= start:
        return weights
    weights[start:stop] = 1.0
    if ramp > 0:
        t = np.arange(stop - start, dtype=np.float64)
        ramp_in = np.minimum(1.0, (t + 1) / (ramp + 1)) if start > 0 else 1.0
        ramp_out = np.minimum(1.0, (stop - start - t) / (ramp + 1)) if stop < frames else 1.0
        weights[start:stop] = np.minimum(ramp_in, ramp_out)
    return weights * strength


def blend(original: FloatArray, target: FloatArray, weights: FloatArray) -> FloatArray:
    """Slerp from ``original`` to ``target`` by ``weights`` (broadcast over the last axis).

    Exact where the weight is 0 (the input's numbers) and 1 (the target's,
    made w >= 0); unit and w >= 0 everywhere else.
    """
    original = np.asarray(original, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    w = np.broadcast_to(np.asarray(weights, dtype=np.float64), original.shape[:-1])
    mixed = quat.positive_w(quat.slerp(original, target, w))
    mixed = np.where((w >= 1.0)[..., None], quat.positive_w(quat.normalize(target)), mixed)
    return np.where((w <= 0.0)[..., None], original, mixed)


def smooth_root(clip: Clip, cutoff_hz: float) -> tuple[FloatArray, FloatArray]:
    """Zero-phase Butterworth low-pass of the root's (F, 3) translation and (F, 4) rotation."""
    from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped]

    from .filters import butterworth

    frames = clip.num_frames
    cutoff = min(float(cutoff_hz), 0.45 * clip.fps)
    if frames < 2:
        return clip.root_positions.copy(), clip.root_rotations.copy()
    sos = butter(2, cutoff, btype="low", fs=clip.fps, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), frames - 1)
    positions = sosfiltfilt(sos, clip.root_positions, axis=0, padlen=padlen)
    rotations = butterworth(clip.root_rotations[:, None], clip.fps, cutoff)[:, 0]
    return positions, rotations


def change_report(original: Clip, cleaned: Clip, threshold_deg: float = DEFAULT_THRESHOLD_DEG,
                  cleaned_joints: Sequence[bool] | None = None) -> dict[str, Any]:
    """Per joint mean and max change in degrees and the runs of frames changed more than ``threshold_deg``.

    ``events`` are those runs (a pop the model removed is a short run, a
    dropout it filled a longer one); ``flagged_frames`` is every frame where
    some joint was flagged, for a time slider.
    """
    change = np.degrees(quat.geodesic_angle(original.rotations, cleaned.rotations))
    frames = original.num_frames
    joints: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for j, name in enumerate(original.skeleton.names):
        c = change[:, j]
        runs = _runs(c > threshold_deg)
        for start, stop in runs:
            events.append({"joint": name, "start": start, "stop": stop,
                           "max_deg": round(float(c[start:stop].max()), 4)})
        joints.append({
            "name": name,
            "cleaned": bool(cleaned_joints[j]) if cleaned_joints is not None else bool(np.any(c > 0)),
            "mean_change_deg": round(float(c.mean()), 6) if frames else 0.0,
            "max_change_deg": round(float(c.max()), 6) if frames else 0.0,
            "flagged_runs": len(runs),
        })
    flagged = np.flatnonzero((change > threshold_deg).any(axis=1)) if frames else np.zeros(0, dtype=int)
    root_moved = float(np.max(np.linalg.norm(cleaned.root_positions - original.root_positions, axis=-1))) if frames else 0.0
    return {
        "frames": frames,
        "fps": original.fps,
        "threshold_deg": float(threshold_deg),
        "mean_change_deg": round(float(change[:, 1:].mean()), 6) if frames and change.shape[1] > 1 else 0.0,
        "max_change_deg": round(float(change.max()), 6) if frames else 0.0,
        "root_translation_max_change_cm": round(root_moved, 6),
        "joints": joints,
        "events": sorted(events, key=lambda e: (e["start"], e["joint"])),
        "flagged_frames": [int(f) for f in flagged],
    }


def clean_clip(clip: Clip, model: CleaningModel, options: CleanOptions | None = None) -> CleanResult:
    """Clean a clip with a model; see the module docstring for what is guaranteed.

    Raises:
        ModelMismatchError: The clip shares no joint with the model, or (for a
            clip named like the model) its layout differs.
        MocapError: A mask names joints the clip does not have.
    """
    options = options or CleanOptions()
    names = list(clip.skeleton.names)
    model_names = list(model.joint_names)
    if not options.name_map and names == model_names:
        model.check_clip(clip)
    mapping = map_joints(names, model_names, options.name_map)
    if not any(m is not None for m in mapping):
        raise ModelMismatchError(
            f"model {model.name!r} knows none of the clip's joints ({', '.join(names[:4])}, ...): "
            "pass a name map (e.g. mixamo)",
            path=clip.source.get("path"),
        )
    selected = _joint_mask(names, model_names, mapping, options.joints)
    if options.skip_still:
        from .corruption import animated_mask

        selected &= animated_mask(clip.rotations)
    frames = clip.num_frames
    per_frame = frame_weights(frames, options.strength, options.frames, int(options.ramp_frames))
    weights = per_frame[:, None] * selected[None, :].astype(np.float64)

    model_fps = _model_fps(model, clip)
    output = clip.rotations.copy()
    if frames and per_frame.any() and selected.any():
        predicted = _predict(model, clip, mapping, model_fps)
        expected = (frames, len(model_names) - 1, 4)
        if predicted.shape != expected:
            raise ModelMismatchError(f"model {model.name!r} returned shape {predicted.shape}, expected {expected}")
        for c, m in enumerate(mapping):
            if m is not None:
                output[:, c] = predicted[:, m - 1]
    rotations = blend(clip.rotations, output, weights)
    root_positions = clip.root_positions.copy()
    if options.root == "smooth" and frames and per_frame.any():
        smooth_pos, smooth_rot = smooth_root(clip, options.root_cutoff_hz)
        root_positions = np.where(
            per_frame[:, None] > 0, clip.root_positions + per_frame[:, None] * (smooth_pos - clip.root_positions),
            clip.root_positions,
        )
        rotations[:, 0] = blend(clip.rotations[:, 0], smooth_rot, per_frame)
        weights[:, 0] = per_frame
    cleaned = replace(clip, root_positions=root_positions, rotations=rotations,
                      source={**clip.source, "cleaned_with": model.name})
    feet: dict[str, Any] | None = None
    if options.feet:
        cleaned, feet = _keep_feet_planted(clip, cleaned, weights, options)
    report = change_report(clip, cleaned, options.threshold_deg, cleaned_joints=weights.max(axis=0) > 0)
    report["feet"] = feet
    report.update({
        "model": model.name,
        "options": options.to_dict(),
        "root_mode": options.root,
        "model_fps": model_fps,
        "unmapped_clip_joints": [n for n, m in zip(names[1:], mapping[1:]) if m is None],
        "missing_model_joints": [model_names[m] for m in range(1, len(model_names)) if m not in set(mapping)],
    })
    return CleanResult(clip=cleaned, report=report, weights=weights, model_output=output)


def _model_fps(model: Any, clip: Clip) -> float | None:
    """The rate the model was trained at when it differs from the clip's (None: run at the clip's rate)."""
    meta = getattr(model, "meta", None)
    fps = meta.get("fps") if isinstance(meta, Mapping) else None
    try:
        value = float(fps) if fps is not None else None
    except (TypeError, ValueError):
        return None
    if value is None or not value > 0 or abs(value - clip.fps) < 1e-6 * value:
        return None
    return value


def _predict(model: CleaningModel, clip: Clip, mapping: Sequence[int | None], model_fps: float | None) -> FloatArray:
    """The model's output at the clip's frames: at the model's own rate when it has one (a temporal model
    trained at 120 fps sees a 30 fps take at 120 fps), slerped back to the clip's frames."""
    rots = model_rotations(clip, model, mapping)
    if model_fps is None or clip.num_frames < 2:
        return np.asarray(model.reconstruct(rots), dtype=np.float64)
    times = np.arange(clip.num_frames) / clip.fps
    fine = np.arange(0.0, times[-1] + 0.5 / model_fps, 1.0 / model_fps)
    src = fine * clip.fps
    lo = np.clip(np.floor(src).astype(int), 0, clip.num_frames - 1)
    hi = np.clip(lo + 1, 0, clip.num_frames - 1)
    upsampled = quat.slerp(rots[lo], rots[hi], (src - lo)[:, None])
    out = np.asarray(model.reconstruct(upsampled), dtype=np.float64)
    back = times * model_fps
    lo = np.clip(np.floor(back).astype(int), 0, len(out) - 1)
    hi = np.clip(lo + 1, 0, len(out) - 1)
    return quat.positive_w(quat.slerp(out[lo], out[hi], (back - lo)[:, None]))


def _keep_feet_planted(original: Clip, cleaned: Clip, weights: FloatArray,
                       options: CleanOptions) -> tuple[Clip, dict[str, Any]]:
    """Pin the toes where the input's feet are planted; the report's ``feet`` entry."""
    from . import contacts

    legs = contacts.find_legs(original.skeleton, resolve_name_map(options.name_map))
    if not legs:
        return cleaned, {"skipped": "no leg joints (UpLeg, Leg, Foot, ToeBase by CMU name) in the clip"}
    limits = contacts.thresholds(original, legs, options.contact_height, options.contact_speed)
    found = contacts.detect_contacts(original, legs, limits)
    strength = np.stack([weights[:, [leg.hip, leg.knee, leg.ankle]].max(axis=1) for leg in legs], axis=1)
    planted = contacts.plant_feet(cleaned, legs, found, strength)
    sliding = {
        "input": contacts.foot_sliding(original, legs, found, limits.up_axis),
        "unplanted": contacts.foot_sliding(cleaned, legs, found, limits.up_axis),
        "output": contacts.foot_sliding(planted, legs, found, limits.up_axis),
    }
    return planted, contacts.feet_report(legs, found, limits, sliding)


def _joint_mask(names: list[str], model_names: list[str], mapping: Sequence[int | None],
                joints: Sequence[str] | None) -> NDArray[np.bool_]:
    """(J,) clip joints to clean: those mapped to the model, restricted to ``joints`` if given."""
    mapped = np.array([m is not None for m in mapping], dtype=bool)
    if joints is None:
        return mapped
    wanted = set(joints)
    mask = np.zeros(len(names), dtype=bool)
    found: set[str] = set()
    for c, (name, m) in enumerate(zip(names, mapping)):
        aliases = {name, short_name(name)} | ({model_names[m]} if m is not None else set())
        hit = aliases & wanted
        if hit:
            found |= hit
            mask[c] = m is not None
    missing = sorted(wanted - found)
    if missing:
        raise MocapError(f"no joint named {', '.join(missing)} in the clip; joints: {', '.join(names)}")
    return mask


# ------------------------------------------------------------------- files
REPORT_FORMAT = "mocap-ae.clean-report"
REPORT_VERSION = 1
REPORT_SUFFIX = ".clean.json"


def report_path(out_path: os.PathLike[str] | str) -> Path:
    """Where the report of a cleaned file goes: ``walk.bvh`` -> ``walk.clean.json`` beside it."""
    out = Path(out_path)
    return out.with_name(out.stem + REPORT_SUFFIX)


def model_identity(model: Any) -> dict[str, Any]:
    """Name, sidecar path and weights hash of a model given as a path or a loaded model."""
    if isinstance(model, (str, os.PathLike)):
        from .models import modelfile

        path = modelfile.find_model(model)
        meta = modelfile.read_sidecar(path)
        return {"name": str(meta["name"]), "path": str(path), "sha256": (meta.get("weights") or {}).get("sha256")}
    meta = getattr(model, "meta", None) or {}
    return {"name": str(model.name), "path": str(getattr(model, "path", "") or "") or None,
            "sha256": (meta.get("weights") or {}).get("sha256")}


def _input_files(in_path: Path, reader_options: Mapping[str, Any]) -> list[Path]:
    """The file and what it is read with (an AMC's ASF, a CSV's skeleton JSON), for the up-to-date key."""
    files = [in_path]
    suffix = in_path.suffix.lower()
    if suffix == ".amc":
        from .io.asfamc import find_asf

        files.append(Path(reader_options["asf"]) if reader_options.get("asf") else find_asf(in_path))
    elif suffix == ".csv":
        from .skeleton import find_sidecar

        sidecar = find_sidecar(in_path)
        if sidecar is not None:
            files.append(sidecar)
    return files


def clean_key(in_path: os.PathLike[str] | str, model: Mapping[str, Any], options: CleanOptions,
              reader_options: Mapping[str, Any] | None = None) -> str:
    """SHA-256 of everything an output depends on: input bytes, model weights, options, reader options."""
    from . import __version__

    digest = hashlib.sha256()
    for path in _input_files(Path(in_path), reader_options or {}):
        try:
            digest.update(path.read_bytes())
        except OSError as exc:
            raise MocapError(f"cannot read file: {exc.strerror or exc}", path=path) from None
    digest.update(json.dumps({
        "model": [model.get("name"), model.get("sha256")],
        "options": options.to_dict(),
        "reader": {k: str(v) for k, v in sorted((reader_options or {}).items())},
        "version": [REPORT_VERSION, __version__],
    }, sort_keys=True).encode())
    return digest.hexdigest()


def clean_file(
    model: Any,
    in_path: os.PathLike[str] | str,
    out_path: os.PathLike[str] | str,
    options: CleanOptions | Mapping[str, Any] | None = None,
    reader_options: Mapping[str, Any] | None = None,
    *,
    force: bool = False,
) -> dict[str, Any]:
    """Clean one file into ``out_path`` (same format) and write its report beside it; returns the report.

    A pure function of its arguments and the files they name, so a batch can
    run it in worker processes or Ray tasks: ``model`` may be a path (loaded
    through the runtime's cache, once per process) or a loaded model.

    An output whose report records the same key (:func:`clean_key`) is up to
    date and skipped (``"status": "skipped"``) unless ``force``.

    Raises:
        MocapError: A bad input, naming the file; an output that would
            overwrite the input.
    """
    from .takes import read_take, write_take

    opts = options if isinstance(options, CleanOptions) else CleanOptions.from_dict(options or {})
    reader = dict(reader_options or {})
    source, target = Path(in_path), Path(out_path)
    if not source.is_file():
        raise MocapError("no such file", path=source)
    if target.exists() and target.resolve() == source.resolve():
        raise MocapError("output would overwrite the input", path=target)
    identity = model_identity(model)
    key = clean_key(source, identity, opts, reader)
    report_file = report_path(target)
    if not force and target.is_file() and report_file.is_file():
        try:
            previous = json.loads(report_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if isinstance(previous, dict) and previous.get("key") == key:
            return {**previous, "status": "skipped"}
    if isinstance(model, (str, os.PathLike)):
        from .models.runtime import load_model

        model = load_model(model)
    take = read_take(source, **reader)
    result = clean_clip(take.clip, model, opts)
    written = write_take(take, result.clip, target)
    report = {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "status": "cleaned",
        "input": str(source),
        "output": str(target),
        "key": key,
        "model_file": identity,
        "written": written,
        **result.report,
    }
    atomic.write_text(report_file, json.dumps(report, indent=1) + "\n")
    return report


# ------------------------------------------------------------ change view
@dataclass
class ChangeCurves:
    """What cleaning did to a take, frame by frame, for plotting beside the error curves.

    A real take has no ground truth, so there is no error to plot: these are
    the change (input to output angle per joint), the jitter before and
    after (angular acceleration, which noise inflates and motion rarely
    does) and, per leg, the horizontal toe speed on the input's contact
    frames (foot sliding).

    Attributes:
        names: Joint names, clip order.
        fps: Frames per second.
        change_deg: (F, J) angle between input and output rotation.
        flagged: (F,) frames where some joint changed more than ``threshold_deg``.
        threshold_deg: The flagging threshold.
        jitter_before, jitter_after: (F, J) angular acceleration, deg/s^2 (0 at the two ends).
        legs: Leg names (``Left``, ``Right``) of the sliding curves.
        contacts: (F, L) the input's foot contacts.
        sliding_before, sliding_after: (F, L) horizontal toe speed, cm/s (NaN off contact).
    """

    names: list[str]
    fps: float
    change_deg: FloatArray
    flagged: NDArray[np.bool_]
    threshold_deg: float
    jitter_before: FloatArray
    jitter_after: FloatArray
    legs: list[str]
    contacts: NDArray[np.bool_]
    sliding_before: FloatArray
    sliding_after: FloatArray

    def summary(self) -> dict[str, Any]:
        """Per joint mean change and mean jitter before/after; per leg mean sliding before/after."""
        def mean(x: FloatArray) -> float | None:
            finite = x[np.isfinite(x)]
            return round(float(finite.mean()), 4) if finite.size else None

        return {
            "joints": [{"name": n, "mean_change_deg": mean(self.change_deg[:, j]),
                        "jitter_before_deg_s2": mean(self.jitter_before[:, j]),
                        "jitter_after_deg_s2": mean(self.jitter_after[:, j])} for j, n in enumerate(self.names)],
            "legs": [{"leg": leg, "sliding_before_cm_s": mean(self.sliding_before[:, k]),
                      "sliding_after_cm_s": mean(self.sliding_after[:, k])} for k, leg in enumerate(self.legs)],
            "flagged_frames": [int(f) for f in np.flatnonzero(self.flagged)],
        }


def jitter(rotations: FloatArray, fps: float) -> FloatArray:
    """(F, J) angular acceleration magnitude in deg/s^2 from (F, J, 4) rotations (0 at the ends)."""
    rots = quat.continuous(np.asarray(rotations, dtype=np.float64), axis=0)
    out = np.zeros(rots.shape[:-1])
    if len(rots) < 3:
        return out
    rel = quat.multiply(quat.conjugate(rots[:-1]), rots[1:])
    rel = rel * np.where(rel[..., 3:] < 0, -1.0, 1.0)
    half = np.arctan2(np.linalg.norm(rel[..., :3], axis=-1), rel[..., 3])
    scale = np.where(half > 1e-12, 2 * half / np.maximum(np.sin(half), 1e-12), 2.0)
    omega = rel[..., :3] * scale[..., None]  # rotation vectors per step, radians
    out[1:-1] = np.degrees(np.linalg.norm(omega[1:] - omega[:-1], axis=-1)) * fps * fps
    return out


def change_curves(original: Clip, cleaned: Clip, threshold_deg: float = DEFAULT_THRESHOLD_DEG,
                  name_map: str | Mapping[str, str] | None = None) -> ChangeCurves:
    """The :class:`ChangeCurves` of a take and its cleaned version (any host: panel, report, Maya)."""
    from . import contacts

    change = np.degrees(quat.geodesic_angle(original.rotations, cleaned.rotations))
    legs = contacts.find_legs(original.skeleton, resolve_name_map(name_map))
    frames = original.num_frames
    found = contacts.detect_contacts(original, legs) if legs else np.zeros((frames, 0), dtype=bool)

    def sliding(clip: Clip) -> FloatArray:
        out = np.full((frames, len(legs)), np.nan)
        if not legs or frames < 2:
            return out
        toes = contacts.toe_positions(clip, legs)
        step = np.linalg.norm(np.diff(toes[..., [0, 2]], axis=0), axis=-1) * clip.fps  # Y up, as contacts assumes
        both = found[1:] & found[:-1]
        out[1:] = np.where(both, step, np.nan)
        return out

    return ChangeCurves(
        names=list(original.skeleton.names), fps=original.fps, change_deg=change,
        flagged=np.asarray((change > threshold_deg).any(axis=1) if frames else np.zeros(0), dtype=bool),
        threshold_deg=float(threshold_deg),
        jitter_before=jitter(original.rotations, original.fps), jitter_after=jitter(cleaned.rotations, cleaned.fps),
        legs=[leg.name for leg in legs], contacts=found, sliding_before=sliding(original), sliding_after=sliding(cleaned),
    )


# ------------------------------------------------------------------ scoring
def score_take(reference: Clip, candidate: Clip) -> dict[str, Any]:
    """How close a take is to its clean original: animated-joint angle error and foot sliding.

    The measure the issue's acceptance figures use: mean geodesic angle over
    the joints that move in ``reference`` (``maya_tool.filters.animated_joints``,
    as ``mocap-ae evaluate`` pools it) and all frames, plus the mean horizontal
    toe speed on the reference's own contact frames, for both clips.

    Raises:
        MocapError: The clips differ in frames or joints.
    """
    from . import contacts
    from .filters import animated_joints, error_sums

    if reference.num_frames != candidate.num_frames or reference.skeleton.names != candidate.skeleton.names:
        raise MocapError(
            f"cannot compare {candidate.num_frames} frames of {candidate.skeleton.num_joints} joints with a reference "
            f"of {reference.num_frames} frames of {reference.skeleton.num_joints} joints",
            path=candidate.source.get("path"),
        )
    animated = animated_joints(reference.joint_rotations)
    sums = error_sums(reference.joint_rotations, candidate.joint_rotations, animated)
    legs = contacts.find_legs(reference.skeleton)
    found = contacts.detect_contacts(reference, legs)
    return {
        "sums": [float(v) for v in sums],
        "animated_mean_deg": float(sums[0] / sums[1]) if sums[1] else None,
        "contact_frames": int(found.sum()),
        "sliding_reference_cm_s": contacts.foot_sliding(reference, legs, found),
        "sliding_cm_s": contacts.foot_sliding(candidate, legs, found),
    }


def score_files(pairs: Sequence[tuple[os.PathLike[str] | str, os.PathLike[str] | str]],
                **reader_options: Any) -> dict[str, Any]:
    """:func:`score_take` over (reference, candidate) files, pooled over every frame of every file."""
    from .io import read_clip

    per_file = []
    total = np.zeros(4)
    slide_ref: list[float] = []
    slide_out: list[float] = []
    for ref_path, cand_path in pairs:
        score = score_take(read_clip(ref_path, **reader_options), read_clip(cand_path, **reader_options))
        total += np.asarray(score["sums"])
        slide_ref += [v for v in score["sliding_reference_cm_s"] if v is not None]
        slide_out += [v for v in score["sliding_cm_s"] if v is not None]
        per_file.append({"reference": str(ref_path), "file": str(cand_path), **score})
    return {
        "files": per_file,
        "animated_mean_deg": float(total[0] / total[1]) if total[1] else None,
        "sliding_reference_cm_s": float(np.mean(slide_ref)) if slide_ref else None,
        "sliding_cm_s": float(np.mean(slide_out)) if slide_out else None,
    }
