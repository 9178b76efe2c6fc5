"""``mocap-ae evaluate``: a model against a corruption and the classical filters.

Examples::

    mocap-ae evaluate --model models/pose_4to1 --json out.json data/cmu/subjects/02
    mocap-ae evaluate --model models/temporal --corruption capture data/cmu/subjects/02
    mocap-ae evaluate --model pca:models/pca30.npz --pca-train data/cmu/subjects/05 subjects/02
    mocap-ae evaluate --report report/ walk.bvh          # noise and filters only

Clips are pooled: the table and the JSON are over every frame of every clip
given, and the filters' settings are picked on that pool (an oracle, which
the JSON says). The table's headline is over the animated joints (those that
move more than 0.1 degree in the clean clip), all joints beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..clip import Clip
from ..corruption import CORRUPTIONS
from ..errors import MocapError
from ..presets import READER_PRESETS

PCA_PREFIX = "pca:"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clips", nargs="+", metavar="CLIP", help="motion files (.bvh, .amc, .csv) or folders of them")
    parser.add_argument(
        "--model",
        help="model file or stem (.json/.npz/.keras), or pca:PATH.npz for the PCA baseline; "
        "omit to evaluate noise and filters only",
    )
    parser.add_argument(
        "--corruption", choices=CORRUPTIONS, default="gaussian",
        help="what to do to the clips: gaussian (the tutorial's noise, default), pops, gaps, "
        "or capture (all three, sigma 0.01)",
    )
    parser.add_argument(
        "--noise", "--sigma", dest="noise", type=float, default=None,
        help="Gaussian sigma per quaternion component, seeded by frame as in the node "
        "(default: the corruption's own, 0.05 for gaussian, 0.01 for capture, none for pops and gaps)",
    )
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seeds the pops and gaps; every clip gets it, so a clip is always corrupted the same way (default 0)",
    )
    parser.add_argument("--json", dest="json_out", metavar="OUT", help="write the summary JSON here")
    parser.add_argument("--report", metavar="DIR", help="write plots (PNG), curves.csv and summary.json into DIR")
    parser.add_argument(
        "--report-csv", choices=("joints", "mean", "none"), default="joints",
        help="curves.csv in the report: every joint (default; ~9 MB per 1,000 frames), the joint mean, or none",
    )
    parser.add_argument("--preset", default="auto", choices=READER_PRESETS, help="reader preset for BVH/AMC")
    parser.add_argument("--fps", type=float, help="resample every clip to this rate first (match the model's data)")
    parser.add_argument(
        "--no-baselines", action="store_true",
        help="skip the classical sweeps (Butterworth, Savitzky-Golay, peak remover + Butterworth)",
    )
    parser.add_argument(
        "--cutoffs", type=float, nargs="+", metavar="HZ", help="Butterworth cutoffs to sweep (default 2..12 Hz)"
    )
    parser.add_argument(
        "--pca-train", nargs="+", metavar="PATH",
        help="fit the pca: model on these files/folders first and save it to its PATH",
    )
    parser.add_argument("--pca-components", type=int, default=30, help="components for --pca-train (default 30)")
    parser.add_argument(
        "--ray", metavar="ADDRESS",
        help="run the model on this Ray cluster, one clip per task (HOST:6379 or ray://HOST:10001; clips on storage "
        "the cluster sees; needs mocap-ae[cluster]); the pooled comparison then runs here",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="without --ray: run the model on N local processes")


def read_clips(paths: Sequence[str | Path], preset: str = "auto", fps: float | None = None) -> list[Clip]:
    """Read every clip under ``paths`` (:func:`maya_tool.evaluate.read_clips`)."""
    from ..evaluate import read_clips as read

    return read(paths, preset=preset, fps=fps)


def clip_model_outputs(
    model_spec: str, clip_path: str, corruption: str = "gaussian", sigma: float | None = None, seed: int = 0,
    preset: str = "auto", fps: float | None = None,
) -> dict[str, np.ndarray]:
    """A model's variants of one clip from paths and options alone, for a worker process.

    What ``evaluate_many(..., outputs=...)`` takes: the per-clip part of an
    evaluation that costs the model's forward passes.
    """
    from ..evaluate import model_outputs

    clip = read_clips([clip_path], preset=preset, fps=fps)[0]
    return model_outputs(load_any_model(model_spec, preset=preset, fps=fps), clip, corruption, seed, sigma=sigma)


def load_any_model(spec: str, pca_train: Sequence[str] | None = None, pca_components: int = 30,
                   preset: str = "auto", fps: float | None = None) -> Any:
    """A model from ``--model``: ``pca:PATH`` (optionally fitted first) or a model file."""
    if spec.startswith(PCA_PREFIX):
        from ..baselines import PCA

        path = Path(spec[len(PCA_PREFIX):])
        if not path.name:
            raise MocapError("pca: needs a file, e.g. pca:models/pca30.npz")
        if pca_train:
            pca = PCA.fit_clips(read_clips(pca_train, preset=preset, fps=fps), pca_components, name=path.stem)
            pca.save(path)
            return pca
        return PCA.load(path)
    if pca_train:
        raise MocapError("--pca-train needs --model pca:PATH.npz")
    try:
        from ..models.runtime import load_model
    except ModuleNotFoundError as exc:
        raise MocapError(f"the model runtime is not available in this installation ({exc.name})") from exc
    return load_model(spec)


def _outputs_on_workers(args: argparse.Namespace, model: Any, clips: list[Clip], options: dict[str, Any]) -> Any:
    """The model's outputs per clip from Ray or a local pool (``--ray`` / ``--workers``), one clip per task.

    A clip whose task failed (reported) is run here instead.
    """
    from ..cluster import model_outputs_on_workers, print_failures
    from ..dataset import collect_files
    from ..evaluate import model_outputs

    paths = [str(p) for p in collect_files(args.clips)]
    outputs, report = model_outputs_on_workers(model, paths, options, preset=args.preset, fps=args.fps,
                                               ray_address=args.ray, workers=args.workers)
    print_failures(report)
    if report.failed:
        print("the failed clips are run here instead", file=sys.stderr)
    return [o if o is not None else model_outputs(model, clip, **options) for o, clip in zip(outputs, clips)]


def run(args: argparse.Namespace) -> int:
    from ..evaluate import evaluate_many, format_table
    from ..filters import DEFAULT_CUTOFFS_HZ

    from ..evaluate import resolve_corruption

    setting = resolve_corruption(args.corruption, args.noise)
    model = None
    if args.model:
        model = load_any_model(args.model, args.pca_train, args.pca_components, args.preset, args.fps)
    elif args.pca_train:
        raise MocapError("--pca-train needs --model pca:PATH.npz")
    clips = read_clips(args.clips, preset=args.preset, fps=args.fps)
    outputs = None
    if model is not None and (args.ray or (args.workers or 0) > 1):
        outputs = _outputs_on_workers(args, model, clips, {"corruption": setting, "seed": args.seed})
    try:
        evaluation = evaluate_many(
            clips,
            model,
            corruption=setting,
            seed=args.seed,
            outputs=outputs,
            baselines=not args.no_baselines,
            cutoffs=args.cutoffs or DEFAULT_CUTOFFS_HZ,
        )
    except ValueError as exc:
        if isinstance(exc, MocapError):
            raise
        raise MocapError(str(exc)) from exc
    summary = evaluation.summary()
    name = summary["model"]["name"] if summary["model"] else "none (noise and filters only)"
    ratio = f", ratio {summary['ratio']:.2f}:1" if summary["ratio"] else ""
    seeded = f", seed {args.seed}" if setting.pop_rate > 0 or setting.gap_rate > 0 else ""
    print(f"{len(clips)} clip(s), {summary['frames']} frames, {setting.describe()}{seeded}, model {name}{ratio}")
    print(format_table(summary))
    if summary["butterworth_cutoff_hz"] is not None:
        print("filter settings picked on these clips (oracle): the baselines' best case")
    if args.json_out:
        from ..report import write_summary

        print(f"wrote {write_summary(summary, args.json_out)}")
    if args.report:
        from ..report import write_report

        written = write_report(evaluation, args.report, csv=args.report_csv)
        print(f"wrote {len(written)} files to {args.report}")
    sys.stdout.flush()
    return 0
