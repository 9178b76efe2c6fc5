"""Loading and writing motion files: the CSV the node reads, and BVH.

CSV: a 10,000-frame, 127-column file made on the spot (CMU layout) is loaded
with ``np.loadtxt`` (the baseline: what the original tutorial node's numpy
code would do) and with ``read_csv_array`` cold (no cache; the file itself is
in the OS page cache, as it is right after an export) and cached (the ``.npy``
beside the file). BVH: the largest shared CMU file when ``MOCAP_AE_DATA`` is
set, else a synthetic ~2 MB file, parsed by ``read_bvh`` against a naive
per-line ``float()`` parse of the motion block.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import Row, median_seconds, rate_row, time_row
from maya_tool.clip import Clip
from maya_tool.io import cache
from maya_tool.io import csv as mcsv

CSV_FRAMES = 10_000


def run(quick: bool) -> list[Row]:
    """CSV rows, then BVH rows."""
    with tempfile.TemporaryDirectory(prefix="mocap-ae-bench-") as folder:
        rows = csv_rows(Path(folder), quick)
        rows += bvh_rows(Path(folder), quick)
    return rows


def synthetic_clip(frames: int, seed: int = 0) -> Clip:
    """A CMU-shaped clip with smooth joint motion (what real captures look like to a parser)."""
    from tests import synth

    return synth.smooth_clip(frames=frames, fps=120.0, seed=seed)


def _age(path: Path) -> None:
    """Backdate a freshly written file past the cache's racy-timestamp window."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 60 * 10**9))


def csv_rows(folder: Path, quick: bool) -> list[Row]:
    repeats = 3 if quick else 7
    clip = synthetic_clip(CSV_FRAMES)
    path = folder / "bench.csv"
    table = np.concatenate([clip.root_positions, clip.rotations.reshape(CSV_FRAMES, -1)], axis=1)
    size_mb = 0.0

    def ours_write() -> None:
        mcsv.write_csv(clip, path, header=False)

    def savetxt_write() -> None:
        np.savetxt(folder / "savetxt.csv", table, fmt=["%.7f"] * 3 + ["%.9f"] * 124, delimiter=",")

    write_base = median_seconds(savetxt_write, repeats)
    write_ours = median_seconds(ours_write, repeats)
    size_mb = path.stat().st_size / 1e6
    _age(path)
    shape = f"{CSV_FRAMES}x{table.shape[1]}, {size_mb:.1f} MB"
    note = "baseline: np.savetxt, same formats; ours is atomic"
    rows = [time_row(f"csv write {shape}", write_ours, write_base, note)]

    loadtxt = median_seconds(lambda: np.loadtxt(path, delimiter=","), repeats)
    rows.append(time_row(f"csv load {shape}: np.loadtxt", loadtxt, note="the baseline of the rows below"))

    pandas = _pandas_available()
    cold = median_seconds(lambda: mcsv.read_csv_array(path, use_cache=False), repeats, warmup=1)
    parser = "pandas C parser" if pandas else "numpy loadtxt path (pandas not importable)"
    rows.append(time_row("csv cold read: read_csv_array(use_cache=False)", cold, loadtxt, parser + " + checks"))
    if pandas:
        original = mcsv._pandas_parse
        mcsv._pandas_parse = lambda body: None  # type: ignore[assignment]
        try:
            cold_np = median_seconds(lambda: mcsv.read_csv_array(path, use_cache=False), repeats)
        finally:
            mcsv._pandas_parse = original  # type: ignore[assignment]
        note = "numpy path + checks (Maya without pandas)"
        rows.append(time_row("csv cold read without pandas", cold_np, loadtxt, note))
        rows.append(
            Row("pandas import (once per process)", _pandas_import_seconds() * 1e3, "ms", note="not in the cold read")
        )

    cache.clear(path)
    mcsv.read_csv_array(path)
    if not cache.cache_files(path):
        raise RuntimeError(f"no cache entry was written for {path}")
    cached = median_seconds(lambda: mcsv.read_csv_array(path), repeats * 3, warmup=1)
    note = "np.load of the cache entry + digest + checks"
    rows.append(time_row("csv cached read: read_csv_array", cached, loadtxt, note))
    cached_clip = median_seconds(lambda: mcsv.read_csv(path), repeats * 3, warmup=1)
    note = "plus sidecar JSON and Clip construction"
    rows.append(time_row("csv cached read_csv -> Clip", cached_clip, loadtxt, note))
    return rows


def _pandas_available() -> bool:
    return importlib.util.find_spec("pandas") is not None


def _pandas_import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import pandas; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def bvh_rows(folder: Path, quick: bool) -> list[Row]:
    try:
        from maya_tool.io.bvh import read_bvh, write_bvh
    except ImportError as exc:
        return [Row("bvh parse", float("nan"), "ms", note=f"skipped: maya_tool.io.bvh not importable ({exc})")]
    repeats = 3 if quick else 7
    path, label = _largest_shared_bvh()
    if path is None:
        path = folder / "synthetic.bvh"
        write_bvh(synthetic_clip(2400, seed=1), path)
        label = "synthetic"
    size_mb = path.stat().st_size / 1e6
    ours = median_seconds(lambda: read_bvh(path), repeats, warmup=1)
    naive = median_seconds(lambda: naive_motion_parse(path), repeats)
    frames = len(naive_motion_parse(path))
    name = f"bvh read_bvh {label} ({frames} frames, {size_mb:.2f} MB)"
    return [
        time_row(name, ours, naive, "baseline: per-line float() of the motion block only"),
        rate_row("bvh read_bvh throughput", size_mb / ours, "MB/s", size_mb / naive, "baseline: same naive parse"),
    ]


def _largest_shared_bvh() -> tuple[Path | None, str]:
    root = os.environ.get("MOCAP_AE_DATA")
    if not root:
        return None, ""
    files = list(Path(root).glob("subjects/*/*.bvh"))
    if not files:
        return None, ""
    largest = max(files, key=lambda p: p.stat().st_size)
    return largest, largest.name


def naive_motion_parse(path: Path) -> np.ndarray:
    """What a first BVH reader does: split every motion line, float() every token."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Frame Time")) + 1
    return np.array([[float(v) for v in line.split()] for line in lines[start:] if line.strip()])
