"""The panel's responsiveness: a control change on a 5,000-frame clip, and a running job.

*Event to repaint* (rows ``event to repaint: CONTROL, 5000 frames``): from
the input event an artist makes to the error curves' repaint showing its
result, on a 5,000-frame, 31-joint clip (06_13 looped, or synthetic) with 4:1
PCA models exported for the numpy runtime. ``mode``: an arrow key on the
focused mode combo (noisy <-> denoised); ``model``: an arrow key on the
focused model combo (two models, denoised mode); ``noise typed``: Enter
after typing a value in the noise box; ``noise dragged``: the slider handle
pressed and moved 3 px every 16 ms for a few seconds, each move timed to the
first repaint of a result at least that new. A paint-event filter on the
curves' viewport gives the repaint time. The budget is 200 ms (median). The
baseline does the same update the straightforward way, on the UI thread:
``frame_errors`` from scratch, noise reseeded frame by frame, and 30 new
curve items without downsampling or clipping.

*Event loop while a job runs*: a 10 ms QTimer heartbeat records the longest
gap between its ticks while the panel follows a real tiny ``mocap-ae train``
job (polling its events file, updating progress and loss curves). The budget
is 100 ms. The baseline is the same heartbeat with the panel idle, measured
first: on a shared 2-core machine the scheduler alone causes gaps, and the
ratio shows what following a job adds to them.
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


class _PaintClock(object):
    """Records when a widget's viewport was last painted (an event filter on it)."""

    def __init__(self, widget: object) -> None:
        from maya_tool.ui.qt import QtCore

        class Filter(QtCore.QObject):
            def __init__(self, clock: "_PaintClock") -> None:
                super().__init__()
                self.clock = clock

            def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802
                if event.type() == QtCore.QEvent.Type.Paint:  # type: ignore[attr-defined]
                    self.clock.painted = time.perf_counter()
                    self.clock.paints.append(self.clock.painted)
                return False

        self.painted = 0.0
        self.paints: list[float] = []
        self._filter = Filter(self)
        widget.installEventFilter(self._filter)  # type: ignore[attr-defined]


def _control_changes(quick: bool, folder: Path) -> list[Row]:
    """Input event (key, Enter, mouse move) to the error plots repainted with its result, as an artist does it."""
    import pyqtgraph as pg

    from maya_tool.jobs import JobStore
    from maya_tool.models.runtime import load_model
    from maya_tool.ui.host import StandaloneHost
    from maya_tool.ui.panel import create_panel
    from maya_tool.ui.qt import QtCore, QtGui, QtWidgets, Qt, application
    from maya_tool.ui.settings import Settings

    app = application()
    clip, source = _clip()
    models = folder / "models"
    first = PCA.fit_clips([clip], 30, name="bench-pca").export_model(models)
    PCA.fit_clips([clip], 20, name="bench-pca20").export_model(models)
    settings = Settings(folder / "panel.ini")
    settings.add_model_dir(models)
    panel = create_panel(
        StandaloneHost(), settings=settings, job_store=JobStore(folder / "jobs"), training_python=sys.executable,
    )
    panel.resize(1400, 860)
    panel.show()
    panel.activateWindow()
    panel.controller.set_clip(clip)
    panel.controller.set_model(load_model(first), str(first))
    _wait(app, lambda: not panel.controller.busy)
    view = panel.error_view
    clock = _PaintClock(view.curves_widget.viewport())
    shown: list[tuple[float, object]] = []
    panel.controller.evaluationChanged.connect(lambda ev: shown.append((time.perf_counter(), ev)))

    def settle() -> None:
        _wait(app, lambda: not panel.controller.busy)
        for _ in range(3):
            app.processEvents()

    def measure(send: Callable[[], None], wanted: Callable[[object], bool]) -> float:
        """Send one input event; the time until the curves are painted after a wanted evaluation arrived."""
        settle()
        shown.clear()
        start = time.perf_counter()
        send()
        deadline = start + 30.0

        def done() -> bool:
            hits = [t for t, ev in shown if ev is not None and wanted(ev)]
            return bool(hits) and clock.painted > hits[0]

        while not done() and time.perf_counter() < deadline:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
            time.sleep(0.001)
        return clock.painted - start

    QTest = _qtest()
    repeats = 3 if quick else 7
    rows: list[tuple[str, list[float]]] = []

    # mode: the focused mode combo, arrow keys between noisy and denoised
    panel.mode_combo.setCurrentText("noisy")
    panel.mode_combo.setFocus()
    times = []
    for i in range(repeats):
        target = "denoised" if i % 2 == 0 else "noisy"
        keyname = Qt.Key.Key_Down if target == "denoised" else Qt.Key.Key_Up
        times.append(measure(lambda k=keyname: QTest.keyClick(panel.mode_combo, k), lambda ev, m=target: ev.mode == m))
    rows.append(("mode", times))

    # model: the focused model combo, arrow keys between the two PCA models (denoised mode)
    panel.mode_combo.setCurrentText("denoised")
    settle()
    combo = panel.model_combo
    combo.setFocus()
    names = [combo.itemData(i) for i in range(combo.count())]
    times = []
    for i in range(repeats):
        index = combo.currentIndex()
        down = index + 1 < combo.count() and bool(names[index + 1])
        path = names[index + 1] if down else names[index - 1]
        times.append(
            measure(
                lambda d=down: QTest.keyClick(combo, Qt.Key.Key_Down if d else Qt.Key.Key_Up),
                lambda ev, p=path: getattr(ev, "model", None) is not None
                and os.path.samefile(getattr(ev.model, "path", "") or p, p)
                and str(getattr(ev.model, "path", "")) != "",
            )
        )
    rows.append(("model", times))

    # noise typed: a value typed in the spin box, measured from the Enter key
    spin = panel.noise_spin
    times = []
    for i in range(repeats):
        value = 0.03 + 0.01 * (i % 5)
        spin.setFocus()
        spin.selectAll()
        QTest.keyClicks(spin, f"{value:.3f}")
        times.append(measure(lambda: QTest.keyClick(spin, Qt.Key.Key_Return),
                             lambda ev, v=value: abs(ev.sigma - v) < 1e-9))
    rows.append(("noise typed", times))

    # noise dragged: the slider handle pressed and moved a few pixels every 16 ms; each move to its repaint
    slider = panel.noise_slider
    settle()
    style = slider.style()
    option = QtWidgets.QStyleOptionSlider()
    slider.initStyleOption(option)
    handle = style.subControlRect(QtWidgets.QStyle.ComplexControl.CC_Slider, option,
                                  QtWidgets.QStyle.SubControl.SC_SliderHandle, slider)
    y = handle.center().y()
    x = handle.center().x()
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QtCore.QPoint(x, y))
    moves: list[tuple[float, float]] = []  # (time, sigma asked)
    shown.clear()
    end = time.perf_counter() + (2.0 if quick else 5.0)
    step = 3
    direction = 1
    while time.perf_counter() < end:
        if x + step * direction > slider.width() * 0.6 or x + step * direction < handle.width():
            direction = -direction
        x += step * direction
        event = QtGui.QMouseEvent(
            QtCore.QEvent.Type.MouseMove, QtCore.QPointF(x, y), QtCore.QPointF(slider.mapToGlobal(QtCore.QPoint(x, y))),
            Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
        )
        QtWidgets.QApplication.sendEvent(slider, event)
        moves.append((time.perf_counter(), panel.controller.noise))
        tick = time.perf_counter() + 0.016
        while time.perf_counter() < tick:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 2)
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QtCore.QPoint(x, y))
    settle()
    paints = sorted(clock.paints)
    drag_times = []
    for when, sigma in moves:
        later = [t for t, ev in shown if ev is not None and t >= when and abs(ev.sigma - sigma) < 1e-12]
        arrived = [t for t, ev in shown if ev is not None and t >= when]
        if not arrived:
            continue
        first_shown = arrived[0]
        painted = [p for p in paints if p >= first_shown]
        if painted:
            drag_times.append(painted[0] - when)
    rows.append(("noise dragged", drag_times or [float("nan")]))

    # baseline: the straightforward update on the UI thread (frame_errors from scratch, new items)
    baseline_plot = pg.PlotWidget()
    baseline_plot.resize(view.curves_widget.size())
    baseline_plot.show()
    model = panel.controller.model
    naive = []
    for sigma in (0.03, 0.05, 0.07)[: 2 if quick else 3]:
        t0 = time.perf_counter()
        _naive_update(baseline_plot.getPlotItem(), clip, model, sigma, "denoised")
        baseline_plot.grab()
        naive.append(time.perf_counter() - t0)
    baseline = float(np.median(naive))
    out = []
    for name, values in rows:
        ours = float(np.nanmedian(values))
        out.append(
            time_row(
                f"event to repaint: {name}, {clip.num_frames} frames",
                ours,
                baseline,
                f"median of {len(values)}, worst {np.nanmax(values) * 1e3:.0f} ms (budget {BUDGET_MS:.0f} ms); from the "
                "input event (keys on the focused combo, Enter in the spin box, slider mouse moves every 16 ms) to "
                "the curves' repaint with its result; baseline: frame_errors + per-frame noise + new curves on the "
                f"UI thread; {source}",
            )
        )
    panel.shutdown()
    panel.deleteLater()
    baseline_plot.deleteLater()
    app.processEvents()
    return out


def _qtest() -> object:
    """QTest from the binding in use (Qt.py does not wrap it)."""
    import Qt as qt_module

    binding = qt_module.__binding__
    module = __import__(f"{binding}.QtTest", fromlist=["QTest"])
    return module.QTest


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
