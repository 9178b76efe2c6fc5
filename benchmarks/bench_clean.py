"""Cleaning throughput: frames cleaned per second, in memory, per file in one process, and on all cores.

The model is the shipped denoiser when there is one, else ``temporal``. The
takes are capture-corrupted copies (``capture``, seed 1) of subject 07's BVH
files (never the held-out 02) when ``MOCAP_AE_DATA`` is set, else synthetic
clips. Rows:

* ``clean_clip`` in memory (model, blending, foot contacts and leg IK, report)
  against the model's bare ``reconstruct`` on the same frames (the baseline:
  what cleaning costs on top of the network);
* ``clean_file`` over every take in one process (read, clean, write the BVH
  and its report), the baseline of
* the same files on a process pool with one worker per core (each worker
  loads the model once), which is what ``mocap-ae clean --workers N`` does.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import Row, median_seconds, rate_row

REPO = Path(__file__).resolve().parents[1]


def _model_path() -> Path:
    for name in ("denoiser", "temporal"):
        path = REPO / "models" / f"{name}.json"
        if path.is_file():
            return path
    raise FileNotFoundError("no shipped model (models/denoiser.json or models/temporal.json)")


def _takes(folder: Path, count: int) -> tuple[list[Path], str]:
    """``count`` corrupted takes written into ``folder``."""
    from maya_tool import corruption
    from maya_tool.takes import read_take, write_take

    root = os.environ.get("MOCAP_AE_DATA")
    sources = sorted((Path(root) / "subjects" / "07").glob("*.bvh"))[:count] if root else []
    setting = corruption.make("capture")
    out: list[Path] = []
    if sources:
        for path in sources:
            take = read_take(path)
            write_take(take, corruption.corrupt_clip(take.clip, setting, seed=1), folder / path.name)
            out.append(folder / path.name)
        return out, f"{len(out)} capture-corrupted CMU 07 takes"
    sys.path.insert(0, str(REPO))
    from maya_tool.io import write_clip
    from tests import synth

    for i in range(count):
        clip = synth.smooth_clip(frames=1200, seed=i)
        clip.source = {}
        write_clip(corruption.corrupt_clip(clip, setting, seed=1), folder / f"take{i}.bvh")
        out.append(folder / f"take{i}.bvh")
    return out, f"{count} synthetic 1200-frame takes"


def _clean_one(args: tuple[str, str, str]) -> int:
    from maya_tool.clean import clean_file

    model, source, target = args
    return int(clean_file(model, source, target, {}, force=True)["frames"])


def run(quick: bool) -> list[Row]:
    from maya_tool.clean import CleanOptions, clean_clip
    from maya_tool.models.runtime import load_model
    from maya_tool.takes import read_take

    model_path = _model_path()
    model = load_model(model_path)
    cores = os.cpu_count() or 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench_clean_") as tmp:
        folder = Path(tmp)
        takes, label = _takes(folder / "in", 2 if quick else 8)
        clip = read_take(takes[0]).clip
        frames = clip.num_frames
        ours = median_seconds(lambda: clean_clip(clip, model, CleanOptions()), repeats=2 if quick else 5, warmup=1)
        bare = median_seconds(lambda: model.reconstruct(clip.joint_rotations), repeats=2 if quick else 5, warmup=1)
        rows.append(rate_row(f"clean_clip in memory, {model.name}, {frames} frames", frames / ours, "frames/s",
                             frames / bare, "baseline: the model's reconstruct alone (no blending, contacts, IK, "
                             f"report); {label}"))
        jobs = [(str(model_path), str(p), str(folder / "out1" / p.name)) for p in takes]
        start = time.perf_counter()
        total = sum(_clean_one(job) for job in jobs)
        serial = time.perf_counter() - start
        rows.append(rate_row(f"clean_file, one process, {len(jobs)} files", total / serial, "frames/s",
                             note=f"read + clean + write BVH and report; {total} frames; {label}"))
        jobs = [(a, b, str(folder / "out2" / Path(b).name)) for a, b, _ in jobs]
        start = time.perf_counter()
        with concurrent.futures.ProcessPoolExecutor(max_workers=cores) as pool:
            total_pool = sum(pool.map(_clean_one, jobs))
        parallel = time.perf_counter() - start
        rows.append(rate_row(f"clean_file, {cores} processes (all cores), {len(jobs)} files", total_pool / parallel,
                             "frames/s", total / serial,
                             f"baseline: one process; includes starting the workers and each loading the model; {label}"))
    return rows
