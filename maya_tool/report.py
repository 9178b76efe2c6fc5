"""Turn an evaluation into files a person reads: plots, a CSV and the JSON.

The JSON is what the README table is built from; the plots show where (which
joints) and when (which frames) a model or a filter goes wrong, which a mean
hides; the CSV holds the curves behind the plots for anyone who wants to plot
them differently. Means over joints in the plots are over the animated joints
(those that move in the clean clip), as the headline figures are; joints that
never move are marked "(still)" in the per-joint chart.

Matplotlib is optional (the ``plots`` extra) and only imported here, through
its object-oriented Agg API: no pyplot state, so writing a report from inside
the Qt panel cannot change the panel's own backend.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import atomic
from .errors import MocapError
from .evaluate import VARIANTS, Evaluation, format_table

COLORS = {
    "reconstruction": "#1f77b4",
    "noisy": "#7f7f7f",
    "denoised": "#d62728",
    "butterworth": "#2ca02c",
    "savgol": "#ff7f0e",
    "despike": "#9467bd",
}

CSV_COLUMNS = ("clip", "frame", "time_s", "joint", "variant", "angle_deg", "position_cm", "vertex_cm")


def write_summary(evaluation: Evaluation | dict[str, Any], path: os.PathLike[str] | str) -> Path:
    """Write the summary JSON atomically; needs no matplotlib."""
    summary = evaluation.summary() if isinstance(evaluation, Evaluation) else evaluation
    target = Path(path)
    atomic.write_text(target, json.dumps(summary, indent=1) + "\n")
    return target


def _figure_api() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MocapError(
            "plots need matplotlib, which is not installed: pip install 'mocap-ae[plots]' (or matplotlib)"
        ) from exc
    return Figure, FigureCanvasAgg


def _save_png(figure: Any, canvas_cls: Any, path: Path) -> Path:
    canvas_cls(figure)
    figure.tight_layout()
    with atomic.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return path


def _timeline(evaluation: Evaluation) -> tuple[np.ndarray, list[float]]:
    """Seconds for each pooled row (clips back to back) and where clips start."""
    times = []
    starts = []
    offset = 0.0
    for info in evaluation.clips:
        frames = int(info["frames"])
        fps = float(info["fps"])
        starts.append(offset)
        times.append(offset + np.arange(frames) / fps)
        offset += frames / fps
    return (np.concatenate(times) if times else np.zeros(0)), starts


def _mark_clips(axes: Any, evaluation: Evaluation, starts: list[float]) -> None:
    if len(starts) < 2:
        return
    for start, info in zip(starts, evaluation.clips):
        axes.axvline(start, color="#bbbbbb", linewidth=0.8, linestyle="--", zorder=0)
        axes.annotate(
            str(info["name"]), (start, 1.0), xycoords=("data", "axes fraction"), fontsize=6,
            rotation=90, va="top", ha="right", color="#888888",
        )


def _title_suffix(evaluation: Evaluation) -> str:
    names = [str(c["name"]) for c in evaluation.clips]
    clips = names[0] if len(names) == 1 else f"{len(names)} clips"
    return f"{clips}, {evaluation.setting.describe()}"


def _variant_label(evaluation: Evaluation, variant: str) -> str:
    if variant in ("reconstruction", "denoised") and evaluation.model:
        return f"{variant} ({evaluation.model['name']})"
    label = evaluation.label(variant)
    return label + " (best classical)" if variant == evaluation.classical else label


def _animated_mean(errors: Any) -> np.ndarray:
    """Per-frame mean angle over the animated joints of that frame's clip (all joints where none moves)."""
    mask = errors.animated_mask()
    counts = mask.sum(axis=1)
    moving = np.where(mask, errors.angle_deg, 0.0).sum(axis=1) / np.maximum(counts, 1)
    return np.where(counts > 0, moving, errors.angle_deg.mean(axis=1) if errors.angle_deg.shape[1] else 0.0)


def _plot_joint_curves(
    evaluation: Evaluation, variant: str, out_dir: Path, top_joints: int, api: tuple[Any, Any]
) -> Path:
    figure_cls, canvas_cls = api
    errors = evaluation.errors[variant]
    times, starts = _timeline(evaluation)
    worst = np.argsort(errors.angle_deg.mean(axis=0))[::-1][:top_joints]
    fig = figure_cls(figsize=(11, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    for j in worst:
        ax.plot(times, errors.angle_deg[:, j], linewidth=0.8, label=errors.joint_names[j])
    ax.plot(times, _animated_mean(errors), color="black", linewidth=1.6, label="mean of the animated joints")
    _mark_clips(ax, evaluation, starts)
    ax.set_title(
        f"{_variant_label(evaluation, variant)}: angle error of the {len(worst)} worst of "
        f"{len(errors.joint_names)} joints ({_title_suffix(evaluation)})"
    )
    ax.set_xlabel("time (s)" if len(evaluation.clips) == 1 else "time (s), clips back to back")
    ax.set_ylabel("geodesic angle error (deg)")
    ax.set_ylim(bottom=0.0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="joint")
    return _save_png(fig, canvas_cls, out_dir / f"curves_{variant}.png")


def _plot_variants_over_time(
    evaluation: Evaluation, variants: Sequence[str], out_dir: Path, api: tuple[Any, Any]
) -> Path:
    figure_cls, canvas_cls = api
    times, starts = _timeline(evaluation)
    fig = figure_cls(figsize=(11, 4.8))
    ax = fig.add_subplot(1, 1, 1)
    for variant in variants:
        errors = evaluation.errors[variant]
        ax.plot(
            times, _animated_mean(errors), linewidth=1.0, color=COLORS.get(variant),
            label=_variant_label(evaluation, variant),
        )
    _mark_clips(ax, evaluation, starts)
    count = len(evaluation.animated_joints)
    ax.set_title(
        f"Mean angle error over the {count} animated of {len(evaluation.joint_names)} joints, per frame "
        f"({_title_suffix(evaluation)})"
    )
    ax.set_xlabel("time (s)" if len(evaluation.clips) == 1 else "time (s), clips back to back")
    ax.set_ylabel("mean geodesic angle error (deg)")
    ax.set_ylim(bottom=0.0)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, title="variant")
    return _save_png(fig, canvas_cls, out_dir / "variants_over_time.png")


def _plot_per_joint(evaluation: Evaluation, variants: Sequence[str], out_dir: Path, api: tuple[Any, Any]) -> Path:
    figure_cls, canvas_cls = api
    moving = set(evaluation.animated_joints)
    names = [n if n in moving else f"{n} (still)" for n in evaluation.joint_names]
    x = np.arange(len(names))
    width = 0.8 / max(1, len(variants))
    fig = figure_cls(figsize=(13, 7.5))
    panels = (("angle_deg", "mean angle error (deg)"), ("position_cm", "mean position error (cm)"))
    for row, (attr, ylabel) in enumerate(panels):
        ax = fig.add_subplot(2, 1, row + 1)
        for i, variant in enumerate(variants):
            values = getattr(evaluation.errors[variant], attr).mean(axis=0)
            ax.bar(
                x + (i - (len(variants) - 1) / 2) * width, values, width, color=COLORS.get(variant),
                label=_variant_label(evaluation, variant),
            )
        ax.set_xticks(x)
        ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
        ax.set_ylabel(ylabel)
        ax.grid(True, axis="y", alpha=0.3)
        if row == 0:
            ax.set_title(f"Per-joint mean error by variant ({_title_suffix(evaluation)}; position with root pinned)")
            ax.legend(fontsize=8, ncol=min(len(variants), 5))
    return _save_png(fig, canvas_cls, out_dir / "per_joint.png")


CSV_MODES = ("joints", "mean", "none")


def write_curves_csv(
    evaluation: Evaluation,
    path: os.PathLike[str] | str,
    variants: Sequence[str] | None = None,
    *,
    joints: bool = True,
) -> Path:
    """Long-format CSV: one row per clip frame, joint and variant.

    Columns are :data:`CSV_COLUMNS`; ``frame`` counts from 0 within its clip,
    as the noise seed does. Every joint of every frame is about 60 bytes per
    variant, some 9 MB per 1,000 frames with all five variants; with
    ``joints=False`` the joint column reads ``mean`` and each value is the mean
    over the joints, 30 times smaller.
    """
    variants = [v for v in (variants or VARIANTS) if v in evaluation.errors]
    names = evaluation.joint_names if joints else ["mean"]
    target = Path(path)
    with atomic.atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(",".join(CSV_COLUMNS) + "\n")
            for index, info in enumerate(evaluation.clips):
                per_clip = evaluation.clip_errors(index)
                columns = {
                    v: [
                        arr if joints else arr.mean(axis=1, keepdims=True)
                        for arr in (per_clip[v].angle_deg, per_clip[v].position_cm, per_clip[v].vertex_cm)
                    ]
                    for v in variants
                }
                clip_name = str(info["name"]).replace(",", "_")
                fps = float(info["fps"])
                for frame in range(int(info["frames"])):
                    prefix = f"{clip_name},{frame},{frame / fps:.6f},"
                    rows = []
                    for j, joint in enumerate(names):
                        for variant in variants:
                            angle, position, vertex = columns[variant]
                            rows.append(
                                f"{prefix}{joint},{variant},{angle[frame, j]:.5g},"
                                f"{position[frame, j]:.5g},{vertex[frame, j]:.5g}\n"
                            )
                    handle.write("".join(rows))
    return target


def write_report(
    evaluation: Evaluation,
    out_dir: os.PathLike[str] | str,
    *,
    variants: Sequence[str] | None = None,
    curve_variants: Sequence[str] | None = None,
    top_joints: int = 6,
    csv: str = "joints",
) -> list[Path]:
    """Write ``summary.json``, ``table.txt``, ``curves.csv`` and the PNG plots into ``out_dir``.

    ``table.txt`` is the table ``mocap-ae evaluate`` prints, with the note on
    what its columns are, so the folder explains itself.

    Args:
        evaluation: From :func:`evaluate.evaluate_clip` or :func:`evaluate.evaluate_many`.
        out_dir: Created if missing; existing files of the same names are
            replaced atomically.
        variants: Variants to compare in the bar chart, the over-time plot
            and the CSV; default every computed one.
        curve_variants: Variants that get a per-joint error-over-time plot;
            default the same as ``variants``.
        top_joints: How many joints (those with the largest mean error) each
            per-joint curve plot shows, so the legend stays readable.
        csv: ``joints`` for every joint in ``curves.csv``, ``mean`` for the
            mean over joints only (for long evaluations), ``none`` for no CSV.

    Returns:
        The files written, summary first.

    Raises:
        MocapError: When matplotlib is missing (the summary and CSV are
            still written) or a requested variant was not computed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen = list(variants) if variants is not None else [v for v in VARIANTS if v in evaluation.errors]
    curves = list(curve_variants) if curve_variants is not None else chosen
    unknown = [v for v in {*chosen, *curves} if v not in evaluation.errors]
    if unknown:
        raise MocapError(
            f"variants {', '.join(sorted(unknown))} were not computed; available: {', '.join(evaluation.errors)}"
        )
    if csv not in CSV_MODES:
        raise MocapError(f"unknown csv mode {csv!r}: expected one of {', '.join(CSV_MODES)}")
    summary = evaluation.summary()
    try:
        api = _figure_api()
    except MocapError as exc:
        api, missing = None, exc
    written: list[Path] = []
    # summary.json says the report is complete, so it is written last: a full disk
    # or a failed plot leaves no summary that describes plots which are not there.
    if api is not None:
        if chosen:
            written.append(_plot_per_joint(evaluation, chosen, out, api))
            written.append(_plot_variants_over_time(evaluation, chosen, out, api))
        for variant in curves:
            written.append(_plot_joint_curves(evaluation, variant, out, max(1, top_joints), api))
    if csv != "none":
        written.append(write_curves_csv(evaluation, out / "curves.csv", chosen, joints=csv == "joints"))
    atomic.write_text(out / "table.txt", format_table(summary) + "\n")
    written.append(out / "table.txt")
    written.insert(0, write_summary(summary, out / "summary.json"))
    if api is None:
        raise missing
    return written
