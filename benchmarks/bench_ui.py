"""The panel's responsiveness: a control change on a 5,000-frame clip, and a running job.

*Control change*: from the moment a control changes (mode, noise, encode) to
the moment the error view has its new curves, heat map and bars drawn (a
``grab()`` forces the paint), on a 5,000-frame, 31-joint clip with a 4:1 PCA
model exported for the numpy runtime. The panel's budget is 200 ms. The
baseline does the same update the straightforward way, on the UI thread:
``frame_errors`` from scratch, noise reseeded frame by frame, and 30 new
curve items without downsampling or clipping.

*Event loop while a job runs*: a 10 ms QTimer heartbeat records the longest
gap between its ticks while the panel follows a real tiny ``mocap-ae train``
job (polling its events file, updating progress and loss curves). The budget
is 100 ms. The baseline is the same heartbeat with the panel idle, measured
first: on a shared 2-core machine the scheduler alone causes gaps, and the
ratio shows what following a job adds to them (about 1x: nothing).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import Row, time_row  # noqa: E402
from maya_tool import noise  # noqa: E402
from maya_tool import quaternion as quat  # noqa: E402
from maya_tool.baselines import PCA  # noqa: E402
from maya_tool.clip import Clip  # noqa: E402

FRAMES = 5_000
BUDGET_MS = 200.0
HEARTBEAT_BUDGET_MS = 100.0
REAL_CLIP = Path("subjects") / "06" / "06_13.bvh"


def _clip() -> tuple[Clip, str]:
    """A 5,000-frame clip: real CMU frames (looped) when the data is there, else synthetic."""
    root = os.environ.get("MOCAP_AE_DATA")
    if root and (Path(root) / REAL_CLIP).is_file():
        from maya_tool.io import read_clip

        clip = read_clip(Path(root) / REAL_CLIP)
        index = np.arange(FRAMES) % clip.num_frames
        looped = Clip(clip.skeleton, clip.fps, clip.root_positions[index], clip.rotations[index], dict(clip.source))
        return looped, f"CMU {REAL_CLIP.name} looped to {FRAMES} frames"
    from benchmarks.bench_eval import synthetic_clip

    return synthetic_clip(FRAMES), "synthetic CMU-shaped clip"


def _wait(app: object, condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Run the event loop (sleeping between events, as an idle UI does) until ``condition``."""
    from maya_tool.ui.qt import QtCore, exec_

    deadline = time.perf_counter() + timeout
    loop = QtCore.QEventLoop()
    check = QtCore.QTimer()
    check.setInterval(20)
    check.timeout.connect(lambda: (condition() or time.perf_counter() > deadline) and loop.quit())
    check.start()
    if not condition():
        exec_(loop)
    check.stop()
    if not condition():
        raise TimeoutError("the panel did not finish in time")


def _naive_update(plot: object, clip: Clip, model: object, sigma: float, mode: str) -> None:
    """The baseline: everything recomputed and every item recreated, on the UI thread."""
    import pyqtgraph as pg

    from maya_tool.evaluate import frame_errors
    from maya_tool.ui import style

    rotations = clip.joint_rotations
    if mode in ("noisy", "denoised"):
        frames = np.stack([noise.frame_noise(f, rotations.shape[1:], sigma) for f in range(len(rotations))])
        rotations = quat.positive_w(quat.normalize(rotations + frames))
    if mode in ("encoded", "denoised"):
        rotations = model.reconstruct(rotations)  # type: ignore[attr-defined]
    errors = frame_errors(clip, clip.with_joint_rotations(rotations))
    plot.clear()  # type: ignore[attr-defined]
    x = np.arange(clip.num_frames)
    for j, colour in enumerate(style.joint_colors(errors.angle_deg.shape[1])):
        plot.addItem(pg.PlotDataItem(x, errors.angle_deg[:, j], pen=pg.mkPen(colour)))  # type: ignore[attr-defined]
    plot.addItem(pg.ImageItem(errors.angle_deg.astype(np.float32)))  # type: ignore[attr-defined]


def _control_changes(quick: bool, folder: Path) -> list[Row]:
    import pyqtgraph as pg

    from maya_tool.jobs import JobStore
    from maya_tool.models.runtime import load_model
    from maya_tool.ui.host import StandaloneHost
    from maya_tool.ui.panel import create_panel
    from maya_tool.ui.qt import QtCore, application, exec_
    from maya_tool.ui.settings import Settings

    app = application()
    clip, source = _clip()
    model_path = PCA.fit_clips([clip], 30, name="bench-pca").export_model(folder / "models")
    model = load_model(model_path)
    panel = create_panel(
        StandaloneHost(), settings=Settings(folder / "panel.ini"), job_store=JobStore(folder / "jobs"),
        training_python=sys.executable,
    )
    panel.resize(1400, 860)
    panel.show()
    panel.controller.set_clip(clip)
    panel.controller.set_model(model, str(model_path))
    _wait(app, lambda: not panel.controller.busy)
    view = panel.error_view

    def measure(change: Callable[[], None]) -> float:
        """Change, then let the event loop sleep until the new evaluation is shown, as in real use."""
        _wait(app, lambda: not panel.controller.busy)
        app.processEvents()
        loop = QtCore.QEventLoop()
        panel.controller.evaluationChanged.connect(loop.quit)
        QtCore.QTimer.singleShot(30000, loop.quit)
        start = time.perf_counter()
        change()
        exec_(loop)
        view.grab()
        elapsed = time.perf_counter() - start
        panel.controller.evaluationChanged.disconnect(loop.quit)
        return elapsed

    sigmas = [0.02, 0.04, 0.06, 0.08, 0.1, 0.12] if not quick else [0.03, 0.06]
    cases: list[tuple[str, list[Callable[[], None]], Callable[[], None]]] = [
        (
            "noise slider step, noisy mode",
            [lambda s=s: panel.noise_spin.setValue(s) for s in sigmas],
            lambda: None,
        ),
        (
            "mode change to denoised (noise + model)",
            [lambda m=m: panel.mode_combo.setCurrentText(m) for m in ["denoised", "noisy"] * (1 if quick else 3)],
            lambda: None,
        ),
    ]
    panel.mode_combo.setCurrentText("noisy")
    _wait(app, lambda: not panel.controller.busy)
    baseline_plot = pg.PlotWidget()
    baseline_plot.resize(view.curves_widget.size())
    baseline_plot.show()
    rows = []
    for name, changes, _ in cases:
        times = [measure(change) for change in changes]
        ours = float(np.median(times))
        worst = float(np.max(times))
        mode = "denoised" if "denoised" in name else "noisy"
        naive = []
        for sigma in sigmas[:3]:
            start = time.perf_counter()
            _naive_update(baseline_plot.getPlotItem(), clip, model, sigma, mode)
            baseline_plot.grab()
            naive.append(time.perf_counter() - start)
        rows.append(
            time_row(
                f"panel update after {name}, {clip.num_frames} frames",
                ours,
                float(np.median(naive)),
                f"worst {worst * 1e3:.0f} ms of {len(times)} (budget {BUDGET_MS:.0f} ms); baseline: frame_errors + "
                f"per-frame noise + 30 new curves without downsampling, on the UI thread; {source}",
            )
        )
    panel.shutdown()
    panel.deleteLater()
    baseline_plot.deleteLater()
    app.processEvents()
    return rows


class _Heartbeat:
    """A 10 ms QTimer that records the gaps between its ticks."""

    def __init__(self) -> None:
        from maya_tool.ui.qt import QtCore

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QtCore.QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> tuple[float, float]:
        """(longest gap, 99th percentile) in ms."""
        self.timer.stop()
        gaps = np.asarray(self.gaps or [0.0]) * 1e3
        return float(gaps.max()), float(np.percentile(gaps, 99))


def _heartbeat(quick: bool, folder: Path) -> list[Row]:
    from benchmarks.bench_eval import synthetic_clip
    from maya_tool.io import write_clip
    from maya_tool.jobs import JobStore
    from maya_tool.ui.host import StandaloneHost
    from maya_tool.ui.jobrunner import make_spec
    from maya_tool.ui.panel import create_panel
    from maya_tool.ui.qt import application
    from maya_tool.ui.settings import Settings

    app = application()
    clips = folder / "clips"
    for seed in (0, 1):
        write_clip(synthetic_clip(600, seed=seed), clips / f"clip{seed}.csv")
    panel = create_panel(
        StandaloneHost(), settings=Settings(folder / "beat.ini"), job_store=JobStore(folder / "beat-jobs"),
        training_python=sys.executable,
    )
    panel.resize(1400, 860)
    panel.show()
    panel.tabs.setCurrentIndex(2)

    idle = _Heartbeat()
    idle.start()
    end = time.perf_counter() + (3.0 if quick else 8.0)
    _wait(app, lambda: time.perf_counter() > end)
    idle_max, idle_p99 = idle.stop()

    epochs = 3 if quick else 8
    spec = make_spec("heartbeat", [str(clips)], "pose", epochs=epochs, output_dir=str(folder / "models"))
    spec.batch_size = 16
    events: list[dict] = []
    panel.runner.jobEvent.connect(lambda job, event: events.append(event))
    busy = _Heartbeat()
    record = panel.runner.submit(spec)
    busy.start()
    _wait(app, lambda: panel.runner.record(record.id).state not in ("queued", "running"), timeout=300)
    busy_max, busy_p99 = busy.stop()
    state = panel.runner.record(record.id).state
    tail = panel.runner.log_tail(record.id, 5)
    panel.shutdown()
    panel.deleteLater()
    app.processEvents()
    if state != "done":
        raise RuntimeError(f"the heartbeat job ended {state}: {tail}")
    note = (
        f"10 ms heartbeat, {len(busy.gaps)} ticks while the panel followed a real tiny job ({epochs} epochs, "
        f"{len(events)} events); baseline: the same panel idle, {len(idle.gaps)} ticks (the machine's own noise); "
        f"budget {HEARTBEAT_BUDGET_MS:.0f} ms"
    )
    return [
        Row("longest event-loop gap while a training job runs", busy_max, "ms", idle_max,
            idle_max / busy_max if busy_max else None, note),
        Row("99th percentile event-loop gap while a job runs", busy_p99, "ms", idle_p99,
            idle_p99 / busy_p99 if busy_p99 else None, "same run as the row above"),
    ]


def run(quick: bool) -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = _control_changes(quick, folder)
        rows += _heartbeat(quick, folder)
    return rows
