"""``mocap-ae info FILE``: what is in a motion file, and whether it looks sane.

Before training on a file or loading it into Maya, an artist wants to know how
long it is, at what rate, how far the root travels (a wrong unit shows up as
a 5 m tall hip) and how far each joint turns (a wrong Euler order shows up as
wild angles). Data sets (``.npz``) are summarised from their manifest.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MocapError
from .convert import add_reader_arguments, given_reader_flags, read_input

if TYPE_CHECKING:
    from ..dataset import Dataset

NORM_TOLERANCE = 1e-3
"""Largest |1 - |q|| accepted as a unit quaternion (a CSV rounded to ~6 digits passes)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a .bvh, .amc, .csv file or a data set .npz")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    add_reader_arguments(parser)


def describe_clip(clip: Any) -> dict[str, Any]:
    """Facts and ranges of a clip, JSON-ready."""
    from .. import quaternion as quat

    skeleton = clip.skeleton
    frames = clip.num_frames
    angles = np.degrees(quat.geodesic_angle(quat.identity(clip.rotations.shape[:-1]), clip.rotations))
    deviation = quat.norm_deviation(clip.rotations)
    # A CSV reader normalises what it reads (and says how many it fixed), so
    # the count is the evidence of bad norms in the file itself.
    normalised = int(clip.source.get("normalised_quaternions") or 0)
    worst = np.unravel_index(int(np.argmax(deviation)), deviation.shape) if deviation.size else (0, 0)
    joints = []
    for j, name in enumerate(skeleton.names):
        entry: dict[str, Any] = {"name": name, "parent": skeleton.names[skeleton.parents[j]] if j else None}
        if frames:
            entry["rotation_deg"] = {
                "min": round(float(angles[:, j].min()), 3),
                "mean": round(float(angles[:, j].mean()), 3),
                "max": round(float(angles[:, j].max()), 3),
            }
        joints.append(entry)
    source = {k: v for k, v in clip.source.items() if isinstance(v, (str, int, float, bool)) or v is None}
    info: dict[str, Any] = {
        "path": str(clip.source.get("path", "")),
        "format": clip.source.get("format"),
        "source": source,
        "skeleton": skeleton.name,
        "joints": skeleton.num_joints,
        "frames": frames,
        "fps": clip.fps,
        "duration_s": round(clip.duration, 4),
        "root_position_cm": None,
        "quaternion_norm": {
            "max_deviation": float(deviation.max()) if deviation.size else 0.0,
            "normalised_on_read": normalised,
            "ok": bool((deviation.size == 0 or deviation.max() <= NORM_TOLERANCE) and not normalised),
            "worst_frame": int(worst[0]) + 1 if deviation.size else None,
            "worst_joint": skeleton.names[int(worst[1])] if deviation.size else None,
        },
        "joint_rotations": joints,
    }
    if frames:
        info["root_position_cm"] = {
            "min": [round(float(v), 3) for v in clip.root_positions.min(axis=0)],
            "max": [round(float(v), 3) for v in clip.root_positions.max(axis=0)],
        }
    return info


def _print_clip(info: dict[str, Any]) -> None:
    src = info["source"]
    details = [f"preset {src['preset']}"] if "preset" in src else []
    if "scale" in src:
        details.append(f"{src['scale']:g} cm per unit")
    if src.get("dropped_first_frame"):
        details.append("first (T-pose) frame dropped")
    print(f"file:       {info['path']}")
    print(f"format:     {info['format'] or '?'}{' (' + ', '.join(details) + ')' if details else ''}")
    print(f"skeleton:   {info['skeleton'] or '-'}, {info['joints']} joints ({4 * (info['joints'] - 1)} model inputs)")
    print(f"frames:     {info['frames']}")
    print(f"fps:        {info['fps']:g}")
    print(f"duration:   {info['duration_s']:.3f} s")
    if info["root_position_cm"]:
        lo, hi = info["root_position_cm"]["min"], info["root_position_cm"]["max"]
        ranges = "  ".join(f"{axis} {a:.1f} .. {b:.1f}" for axis, a, b in zip("xyz", lo, hi))
        print(f"root (cm):  {ranges}")
    norm = info["quaternion_norm"]
    if norm["ok"]:
        verdict = "ok"
    elif norm["normalised_on_read"]:
        verdict = f"{norm['normalised_on_read']} quaternions in the file were not unit length; normalised on read"
    else:
        verdict = f"NOT UNIT (worst: frame {norm['worst_frame']}, joint {norm['worst_joint']})"
    print(f"quaternion norms: max |1 - |q|| = {norm['max_deviation']:.2e} ({verdict})")
    if info["frames"]:
        width = max(len(j["name"]) for j in info["joint_rotations"])
        print("joint rotation from rest/identity (degrees):")
        print(f"  {'joint':<{width}}  {'min':>7} {'mean':>7} {'max':>7}")
        for j in info["joint_rotations"]:
            r = j["rotation_deg"]
            print(f"  {j['name']:<{width}}  {r['min']:7.1f} {r['mean']:7.1f} {r['max']:7.1f}")


def dataset_totals(ds: Dataset) -> dict[str, Any]:
    """What a data set holds, JSON-ready; ``info`` and ``data build`` both report it."""
    return {
        "clips": ds.num_clips,
        "frames": ds.num_frames,
        "fps": ds.fps,
        "joints": len(ds.joint_names),
        "features": int(ds.poses.shape[1]),
        "subjects": ds.subjects,
        "content_hash": ds.content_hash,
    }


def print_dataset_totals(totals: dict[str, Any], seconds: str) -> None:
    """Print :func:`dataset_totals` as text lines, ``seconds`` being the formatted duration."""
    print(f"clips:        {totals['clips']}")
    print(f"frames:       {totals['frames']} ({seconds} s at {totals['fps']:g} fps)")
    print(f"joints:       {totals['joints']} ({totals['features']} numbers per frame)")
    print(f"subjects:     {' '.join(totals['subjects']) or '-'}")
    print(f"content hash: {totals['content_hash']}")


def _dataset_info(path: Path) -> dict[str, Any]:
    from ..dataset import Dataset

    ds = Dataset.load(path)
    return {
        "path": str(path),
        "format": "dataset",
        **dataset_totals(ds),
        "duration_s": round(ds.num_frames / ds.fps, 4),
        "preset": ds.manifest.get("preset"),
        "created": ds.manifest.get("created"),
        "files": [{k: f.get(k) for k in ("path", "frames", "subject")} for f in ds.files],
    }


def _print_dataset(info: dict[str, Any]) -> None:
    print(f"file:         {info['path']}")
    print(f"format:       mocap-ae data set (preset {info['preset']}, created {info['created']})")
    print_dataset_totals(info, f"{info['duration_s']:.2f}")


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if path.suffix.lower() == ".npz":
        if given_reader_flags(args):
            raise MocapError("reader options do not apply to a data set", path=path)
        info = _dataset_info(path)
        printer = _print_dataset
    else:
        clip = read_input(args, path)
        info = describe_clip(clip)
        info["path"] = str(path)
        printer = _print_clip
    if args.json:
        print(json.dumps(info))
    else:
        printer(info)
    return 0

