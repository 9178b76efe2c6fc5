"""``mocap-ae demo``: the main job — a shipped model on a clip it never saw.

Loads a model from ``models/`` (the best shipped denoiser unless told
otherwise), reads a clip of held-out subject 02 from ``MOCAP_AE_DATA`` (or
downloads subject 02's original ASF/AMC from the CMU site when no data is
there), evaluates reconstruction, a corruption (the tutorial's noise by
default, ``--corruption capture`` for a take's pops, dropouts and jitter),
denoising and the classical filters exactly as ``mocap-ae evaluate`` does,
writes the report (PNG plots, JSON, CSV) and prints a short table whose
headline is over the animated joints.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from .. import atomic
from ..corruption import CORRUPTIONS
from ..errors import MocapError

HELD_OUT_SUBJECT = "02"
DEFAULT_CLIP = "02_01"
PREFERRED_MODELS = ("temporal", "sparse", "pose", "temporal-high")
"""Shipped models in the order the demo picks them when ``--model`` is not given."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="model name or path (default: the first shipped of %s)" % ", ".join(PREFERRED_MODELS))
    parser.add_argument(
        "--clip",
        help=f"a motion file to evaluate (default: {DEFAULT_CLIP} of held-out subject {HELD_OUT_SUBJECT} "
        "from MOCAP_AE_DATA, downloaded from the CMU site when missing)",
    )
    parser.add_argument(
        "--corruption", choices=CORRUPTIONS, default="gaussian",
        help="gaussian (the tutorial's noise, default), pops, gaps or capture (all three, sigma 0.01)",
    )
    parser.add_argument(
        "--noise", "--sigma", dest="noise", type=float, default=None,
        help="Gaussian sigma per quaternion component (default: the corruption's own, 0.05 for gaussian)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the pops and gaps (default 0)")
    parser.add_argument("--out", default="reports/demo", help="report folder (default: reports/demo)")
    parser.add_argument("--base", help="CMU mirror for the download (default: the CMU site)")


def pick_model(name: str | None) -> Path:
    """The sidecar of the model to demo: the one asked for, else the best shipped one."""
    from ..models import modelfile

    if name:
        return modelfile.find_model(name)
    available = {info.name: info.path for info in modelfile.list_models()}
    for preferred in PREFERRED_MODELS:
        if preferred in available:
            return available[preferred]
    if available:
        return next(iter(available.values()))
    raise MocapError(
        "no models found in " + ", ".join(str(d) for d in modelfile.default_model_dirs())
        + ": train one with `mocap-ae train` or pass --model"
    )


def find_clip(clip: str | None, base: str | None) -> Path:
    """The clip to evaluate: as given, else subject 02 from the data folder, else downloaded."""
    if clip:
        path = Path(clip)
        if not path.is_file():
            raise MocapError("clip not found", path=path)
        return path
    root = os.environ.get("MOCAP_AE_DATA")
    if root:
        folder = Path(root) / "subjects" / HELD_OUT_SUBJECT
        for suffix in (".bvh", ".amc"):
            candidate = folder / f"{DEFAULT_CLIP}{suffix}"
            if candidate.is_file():
                return candidate
    from .. import fetch

    dest = Path(root) if root else fetch.default_dest()
    amc = dest / "subjects" / HELD_OUT_SUBJECT / f"{DEFAULT_CLIP}.amc"
    if not amc.is_file():
        print(f"downloading CMU subject {HELD_OUT_SUBJECT} into {dest} ...")
        options: dict[str, Any] = {"max_trials": 1}
        if base:
            options["base"] = base
        fetch.fetch_subjects([HELD_OUT_SUBJECT], dest=dest, progress=True, **options)
    return amc


def run(args: argparse.Namespace) -> int:
    from .. import evaluate, report
    from ..io import read_clip
    from ..models.runtime import load_model

    started = time.perf_counter()
    model_path = pick_model(args.model)
    model = load_model(model_path)
    clip_path = find_clip(args.clip, args.base)
    clip = read_clip(clip_path)
    model.check_clip(clip)
    print(f"model  {model.name} ({model.architecture}, {model.ratio:g}:1, {model.bits_per_frame:g} bits/frame) from {model_path}")
    print(f"clip   {clip_path} ({clip.num_frames} frames at {clip.fps:g} fps, {clip.skeleton.num_joints} joints)")
    setting = evaluate.resolve_corruption(args.corruption, args.noise)
    print(f"noise  {setting.describe()}" + (f", seed {args.seed}" if setting.pop_rate or setting.gap_rate else ""))
    evaluation = evaluate.evaluate_clip(clip, model, corruption=setting, seed=args.seed)
    out = Path(args.out)
    written = report.write_report(evaluation, out, csv="mean")
    demo_file = out / "demo.json"
    atomic.write_text(
        demo_file,
        json.dumps({"model": str(model_path), "clip": str(clip_path), "summary_file": "summary.json"}, indent=1) + "\n",
    )
    written.append(demo_file)
    summary = evaluation.summary()
    print()
    print(evaluate.format_table(summary))
    print()
    den, classical = summary.get("denoised") or {}, summary.get("classical") or {}
    if den and classical:
        ours, theirs = den["animated"]["mean_angle_deg"], classical["animated"]["mean_angle_deg"]
        print(
            f"on the {len(summary['animated_joints'])} animated joints: denoised {ours:.2f} deg vs the best classical "
            f"filter ({classical['label']}, chosen on this clip) {theirs:.2f} deg: {ours / theirs:.2f}x"
        )
        print(
            f"on all {len(den['per_joint']['names'])} joints: denoised {den['mean_angle_deg']:.2f} deg vs "
            f"{classical['mean_angle_deg']:.2f} deg"
        )
    print(f"report {out}/ ({len(written)} files: {', '.join(sorted(p.name for p in written))})")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0
