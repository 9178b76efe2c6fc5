"""Batch cleaning throughput: one process, a local pool of 2, a 2-CPU Ray cluster; per-task overhead.

The same ``mocap-ae clean`` batch (:func:`maya_tool.commands.clean.clean_task`,
one file per task, the model's arrays sent to the workers once) runs three
ways on the same clips: in this process (the baseline), on a
``concurrent.futures`` pool of 2 processes, and on a 2-CPU Ray cluster. The
cluster is ``MOCAP_AE_RAY_ADDRESS`` when set (e.g. CI's head), else one this
process starts (a real cluster, not ``local_mode``). Throughput is clip frames
per second of wall time, start-up included (pool processes, Ray workers: what
a user waits for); the per-task overhead is what an empty task
(:func:`maya_tool.cluster.echo`) costs on each backend, measured over many.

Clips: CMU subject 07 (a training subject) from ``MOCAP_AE_DATA``, else
synthetic CMU-shaped ones; the model is the shipped ``temporal``. Every run
writes its own output folder and must produce the same files as the baseline.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks import Row, rate_row, time_row
from maya_tool import cluster
from maya_tool.commands.clean import CleanShared, clean_task, plan_jobs
from maya_tool.models.runtime import load_model

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "models" / "temporal.json"
SUBJECT = Path("subjects") / "07"


def _clips(folder: Path, quick: bool) -> tuple[list[Path], str]:
    root = os.environ.get("MOCAP_AE_DATA")
    count = 4 if quick else 12
    if root and (Path(root) / SUBJECT).is_dir():
        files = sorted((Path(root) / SUBJECT).glob("*.bvh"))[:count]
        if files:
            return files, f"CMU subject 07, {len(files)} clips"
    from maya_tool.io import write_clip
    from tests import synth

    skeleton = synth.cmu_like_skeleton(0)
    files = []
    for i in range(count):
        path = folder / "in" / f"take_{i:02d}.csv"
        write_clip(synth.smooth_clip(1200, seed=i, skeleton=skeleton), path)
        files.append(path)
    return files, f"synthetic, {count} clips"


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".json"}


def _run(files: list[Path], out: Path, shared: CleanShared, **backend: object) -> tuple[float, int]:
    jobs = [j for f in files for j in plan_jobs([f], out)]
    start = time.perf_counter()
    report = cluster.run_batch(clean_task, jobs, shared, progress=False, **backend)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    failed = report.failed
    if failed:
        raise RuntimeError(f"{len(failed)} clips failed, e.g. {failed[0].label}: {failed[0].error}")
    return seconds, sum(int(o.value["frames"]) for o in report.outcomes)


def _overhead(tasks: int, **backend: object) -> float:
    start = time.perf_counter()
    cluster.run_batch(cluster.echo, list(range(tasks)), None, progress=False, **backend)  # type: ignore[arg-type]
    return (time.perf_counter() - start) / tasks


def run(quick: bool) -> list[Row]:
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    started_here = False
    try:
        files, what = _clips(folder, quick)
        options = {"strength": 1.0}
        model = load_model(MODEL)
        payload = cluster.ModelPayload.of(model)

        seconds_1, frames = _run(files, folder / "one", CleanShared(model=str(MODEL), options=options, force=True))
        expected = _outputs(folder / "one")
        seconds_2, _ = _run(files, folder / "pool", CleanShared(model=payload, options=options, force=True),
                            workers=2)
        assert _outputs(folder / "pool") == expected, "the pool's outputs differ from one process's"

        address = os.environ.get("MOCAP_AE_RAY_ADDRESS")
        if not address:
            address = cluster.start_local_cluster(2)
            started_here = True
        cluster.run_batch(cluster.echo, [0, 1], None, ray_address=address, progress=False)  # connect, start workers
        seconds_cold, _ = _run(files, folder / "ray-cold", CleanShared(model=payload, options=options, force=True),
                               ray_address=address)
        seconds_ray, _ = _run(files, folder / "ray", CleanShared(model=payload, options=options, force=True),
                              ray_address=address)
        assert _outputs(folder / "ray") == _outputs(folder / "ray-cold") == expected, "Ray's outputs differ"

        tasks = 50 if quick else 200
        over_pool = _overhead(tasks, workers=2)
        over_ray = _overhead(tasks, ray_address=address)
        rate_1, rate_2, rate_ray = frames / seconds_1, frames / seconds_2, frames / seconds_ray
        rate_cold = frames / seconds_cold
        where = "MOCAP_AE_RAY_ADDRESS" if not started_here else "started by the benchmark"
        note = f"{what}, {frames} frames, clean --strength 1, model temporal"
        return [
            rate_row("clean, 1 process", rate_1, "frames/s", note=note),
            rate_row("clean, local pool of 2", rate_2, "frames/s", rate_1, "speed-up over 1 process; outputs identical"),
            rate_row("clean, Ray 2 CPUs, first batch", rate_cold, "frames/s", rate_1,
                     f"speed-up over 1 process; cluster {where}; workers import the package and get the model"),
            rate_row("clean, Ray 2 CPUs, warm workers", rate_ray, "frames/s", rate_1,
                     "speed-up over 1 process; the same batch again; outputs identical"),
            time_row("per-task overhead, local pool", over_pool, note=f"an empty task, {tasks} tasks, pool start included"),
            time_row("per-task overhead, Ray", over_ray, note=f"an empty task, {tasks} tasks on warm workers"),
        ]
    finally:
        if started_here:
            cluster.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
