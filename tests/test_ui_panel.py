"""The panel driven as an artist would: clicks, keys, drops, and what it plots."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import ui_support

import numpy as np
import pytest

from maya_tool.evaluate import frame_errors
from maya_tool.io import read_clip, write_clip
from maya_tool.jobs import JobStore
from maya_tool.modes import compute_variant
from maya_tool.ui import style
from maya_tool.ui.host import StandaloneHost
from maya_tool.ui.panel import Panel, create_panel, describe_model
from maya_tool.ui.qt import QtCore, QtGui, Qt
from maya_tool.ui.settings import Settings
from tests import synth

REPO = Path(__file__).resolve().parent.parent
SHIPPED_POSE = REPO / "models" / "pose.json"
"""A shipped model: the must-show is the panel with a shared clip and a shipped model."""


def make_panel(qtbot, tmp_path: Path, host: StandaloneHost | None = None) -> Panel:  # type: ignore[no-untyped-def]
    panel = create_panel(
        host or StandaloneHost(),
        settings=Settings(tmp_path / "panel.ini"),
        job_store=JobStore(tmp_path / "jobs"),
        training_python=sys.executable,
    )
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


@pytest.fixture()
def panel(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    widget = make_panel(qtbot, tmp_path)
    yield widget
    widget.shutdown()


def idle(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=20000)


def click_check(qtbot, box) -> None:  # type: ignore[no-untyped-def]
    """Click a check box on its indicator (its centre may be empty space in a wide form)."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QtCore.QPoint(8, box.height() // 2))


def click_in_plot(qtbot, plot_widget, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """Left-click the point (x, y) of a pyqtgraph plot, in data coordinates."""
    box = plot_widget.getPlotItem().getViewBox()
    scene_point = box.mapViewToScene(QtCore.QPointF(x, y))
    point = plot_widget.mapFromScene(scene_point)
    qtbot.mouseClick(plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_plotted_arrays_are_the_evaluation_results(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(400)
    panel.controller.set_clip(clip)
    panel.noise_spin.setValue(0.04)
    panel.mode_combo.setCurrentText("noisy")
    idle(qtbot, panel)
    expected = frame_errors(clip, compute_variant(clip, "noisy", sigma=0.04))
    view = panel.error_view
    worst = list(np.array(expected.joint_names)[np.argsort(-expected.angle_deg.mean(axis=0))[:5]])
    assert sorted(view.shown_curves()) == sorted(worst), "the worst five by default"
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    curves = view.curve_items()
    assert list(curves) == expected.joint_names and len(curves) == 30
    for j, name in enumerate(expected.joint_names):
        np.testing.assert_array_equal(curves[name].yData, expected.angle_deg[:, j])
        np.testing.assert_array_equal(curves[name].xData, np.arange(clip.num_frames))
    np.testing.assert_allclose(view.bar_heights(), expected.angle_deg.mean(axis=0))
    np.testing.assert_allclose(view.heat_data(), expected.angle_deg.astype(np.float32))

    qtbot.mouseClick(view.position_button, Qt.MouseButton.LeftButton)
    assert panel.controller.unit == "position"
    for j, name in enumerate(expected.joint_names):
        np.testing.assert_array_equal(curves[name].yData, expected.position_cm[:, j])
    np.testing.assert_allclose(view.bar_heights(), expected.position_cm.mean(axis=0))
    assert "cm" in view.curves_widget.getPlotItem().getAxis("left").labelText
    summary = panel.controller.evaluation.summary()
    assert panel.result_figures["mean_angle_deg"].text().startswith(f"{summary['mean_angle_deg']:.3f}")


def test_controls_are_linked_and_reach_the_host(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    host = StandaloneHost()
    panel = make_panel(qtbot, tmp_path, host)
    try:
        panel.controller.set_clip(synth.smooth_clip(100), path=None)
        panel.noise_spin.setValue(0.2)
        assert panel.noise_slider.value() == 812
        panel.noise_slider.setValue(375)
        assert abs(panel.noise_spin.value() - 0.05) < 1e-9 and abs(panel.controller.noise - 0.05) < 1e-9
        panel.mode_combo.setCurrentText("encoded")
        assert panel.controller.encode is True and host.read_attribute("encode") is True
        click_check(qtbot, panel.compare_check)
        assert host.read_attribute("compare") is (panel.compare_check.isChecked())
        panel.mode_combo.setFocus()
        panel.mode_combo.setCurrentIndex(2)
        assert panel.controller.mode == "noisy" and host.read_attribute("mode") == "noisy"
        host.set_attribute_externally("mode", "original")
        host.set_attribute_externally("noise", 0.3)
        assert panel.mode_combo.currentText() == "original"
        assert panel.noise_slider.value() == 875 and abs(panel.noise_spin.value() - 0.3) < 1e-9
        idle(qtbot, panel)
    finally:
        panel.shutdown()


def test_joint_visibility_and_selection(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    panel.controller.set_clip(synth.smooth_clip(100))
    idle(qtbot, panel)
    view = panel.error_view
    qtbot.mouseClick(view.none_button, Qt.MouseButton.LeftButton)
    assert view.visible_joints() == [] and not any(c.isVisible() for c in view.curve_items().values())
    item = view.joint_list.topLevelItem(3)
    item.setCheckState(0, Qt.CheckState.Checked)
    assert view.visible_joints() == [view.joint_names[3]]
    assert view.curve_items()[view.joint_names[3]].isVisible()
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert view.visible_joints() == view.joint_names
    view.joint_list.topLevelItem(5).setSelected(True)
    assert panel.controller.selected_joints == [view.joint_names[5]]
    assert view.curve_items()[view.joint_names[5]].opts["pen"].widthF() > 2


def test_clicking_a_plot_moves_the_time_and_hover_reads_values(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    host = StandaloneHost()
    panel = make_panel(qtbot, tmp_path, host)
    try:
        clip = synth.smooth_clip(300)
        panel.controller.set_clip(clip)
        panel.mode_combo.setCurrentText("noisy")
        idle(qtbot, panel)
        view = panel.error_view
        view.curves_widget.getPlotItem().setXRange(0, 299, padding=0)
        QtGui.QGuiApplication.processEvents()
        click_in_plot(qtbot, view.curves_widget, 120, 1.0)
        assert panel.controller.frame == 120 and host.current_frame() == 120
        assert abs(view.time_line.value() - 120) < 1e-9
        assert panel.transport.frame_box.value() == 120
        # Zoomed in so each frame's cell spans several pixels whatever size the binding lays the map out at.
        view.heat_widget.getPlotItem().setXRange(190, 210, padding=0)
        QtGui.QGuiApplication.processEvents()
        click_in_plot(qtbot, view.heat_widget, 200.5, 4.5)
        assert panel.controller.frame == 200

        data = panel.controller.evaluation.curves("angle")
        joint = 7
        text = view.describe_point(view.curves_widget, QtCore.QPointF(150, data[150, joint]))
        assert view.joint_names[joint] in text and "frame 150" in text and f"{data[150, joint]:.3f}" in text
        text = view.describe_point(view.heat_widget, QtCore.QPointF(10.2, 2.5))
        assert view.joint_names[2] in text and "frame 10" in text
        text = view.describe_point(view.bars_widget, QtCore.QPointF(1.0, 0.5))
        assert view.joint_names[0] in text and "mean" in text
        click_in_plot(qtbot, view.bars_widget, 0.5, 4.5)
        assert panel.controller.selected_joints == [view.joint_names[4]]
    finally:
        panel.shutdown()


def test_keyboard_shortcuts(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    panel.controller.set_clip(synth.smooth_clip(50))
    panel.tabs.setFocus()
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Right)
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Right)
    assert panel.controller.frame == 2
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Left)
    assert panel.controller.frame == 1
    qtbot.keyClick(panel.tabs, Qt.Key.Key_End)
    assert panel.controller.frame == 49
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Home)
    assert panel.controller.frame == 0
    qtbot.keyClick(panel.tabs, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert panel.controller.mode == "noisy" and panel.mode_combo.currentText() == "noisy"
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Space)
    assert panel.controller.playing
    qtbot.keyClick(panel.tabs, Qt.Key.Key_Space)
    assert not panel.controller.playing
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.controller.frame > 2, timeout=3000)
    qtbot.mouseClick(panel.transport.play_button, Qt.MouseButton.LeftButton)
    assert not panel.controller.playing
    idle(qtbot, panel)


def test_drop_a_clip_and_a_model(qtbot, panel: Panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(90)
    clip_path = tmp_path / "walk.csv"
    write_clip(clip, clip_path)
    model_path = ui_support.make_pca_model(tmp_path / "models", "pca-drop", [clip], latent=10)
    mime = QtCore.QMimeData()
    mime.setUrls([QtCore.QUrl.fromLocalFile(str(clip_path)), QtCore.QUrl.fromLocalFile(str(model_path))])
    position = QtCore.QPointF(200, 200)
    enter = QtGui.QDragEnterEvent(
        position.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QtGui.QDropEvent(
        position, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    panel.dropEvent(drop)
    qtbot.waitUntil(lambda: panel.controller.clip is not None and panel.controller.model is not None, timeout=10000)
    idle(qtbot, panel)
    assert panel.clip_figures["frames"].text() == "90" and panel.clip_figures["joints"].text() == "31"
    assert panel.clip_figures["duration"].text() == f"{clip.duration:.2f} s"
    qtbot.waitUntil(lambda: "pca-drop" in panel.model_info.text(), timeout=5000)
    assert "ratio 12:1" in panel.model_info.text()
    assert panel.settings.recent_clips()[0] == str(clip_path.resolve())
    assert [a.data() for a in panel.recent_menu.actions() if a.data()] == [str(clip_path.resolve())]
    wrong = QtCore.QMimeData()
    wrong.setUrls([QtCore.QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    refused = QtGui.QDragEnterEvent(
        position.toPoint(), Qt.DropAction.CopyAction, wrong, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    panel.dragEnterEvent(refused)
    assert not refused.isAccepted()


def test_errors_go_to_the_status_line(qtbot, panel: Panel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("frame,x\n1,2\n")
    panel.open_clip(bad)
    idle(qtbot, panel)
    assert "bad.csv" in panel.status.text() and panel.status.property("level") == "error"
    assert "Traceback" not in panel.status.text()
    panel.controller.set_clip(synth.smooth_clip(40))
    panel.mode_combo.setCurrentText("encoded")
    idle(qtbot, panel)
    assert "needs a model" in panel.status.text()
    assert panel.result_figures["mean_angle_deg"].text() == "-"


def test_models_are_listed_with_their_sidecar(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(120)
    models = tmp_path / "my-models"
    ui_support.make_pca_model(models, "pca-listed", [clip], latent=30)
    settings = Settings(tmp_path / "panel.ini")
    settings.add_model_dir(models)
    panel = create_panel(StandaloneHost(), settings=settings, job_store=JobStore(tmp_path / "jobs"),
                         training_python=sys.executable)
    qtbot.addWidget(panel)
    try:
        texts = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
        index = next(i for i, t in enumerate(texts) if t.startswith("pca-listed"))
        assert "pose" in texts[index] and "4:1" in texts[index]
        panel.controller.set_clip(clip)
        panel.model_combo.setCurrentIndex(index)
        panel.model_combo.activated.emit(index)
        qtbot.waitUntil(lambda: panel.controller.model is not None, timeout=10000)
        info = panel.model_info.text()
        assert "pca-listed" in info and "ratio 4:1" in info
        info = panel.model_info.toolTip()  # the whole sidecar description on hover (the box stays short at dock size)
        assert "pca-listed" in info and "ratio 4:1" in info and "960 bits/frame" in info and "1.50°" in info
        panel.model_combo.setCurrentIndex(0)
        panel.model_combo.activated.emit(0)
        assert panel.controller.model is None
        idle(qtbot, panel)
    finally:
        panel.shutdown()


def test_describe_model_survives_sparse_sidecars() -> None:
    text = describe_model({"name": "m", "architecture": "temporal", "ratio": 16.0, "evaluation": None})
    assert "16:1" in text and "No evaluation" in text


def test_settings_and_layout_are_remembered(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = make_panel(qtbot, tmp_path)
    first.mode_combo.setCurrentText("noisy")
    first.noise_spin.setValue(0.123)
    qtbot.mouseClick(first.error_view.position_button, Qt.MouseButton.LeftButton)
    first.tabs.setCurrentIndex(2)
    first.splitter.setSizes([360, 900])
    sizes = first.splitter.sizes()
    first.close()
    second = make_panel(qtbot, tmp_path)
    try:
        assert second.mode_combo.currentText() == "noisy" and second.controller.mode == "noisy"
        assert abs(second.controller.noise - 0.123) < 1e-9 and abs(second.noise_spin.value() - 0.123) < 1e-9
        assert second.controller.unit == "position" and second.error_view.position_button.isChecked()
        assert second.tabs.currentIndex() == 2
        assert abs(second.splitter.sizes()[0] - sizes[0]) <= 2
    finally:
        second.shutdown()


def test_tooltips_everywhere_that_matters(panel: Panel) -> None:
    for widget in (panel.open_button, panel.mode_combo, panel.noise_type_combo, panel.noise_slider, panel.noise_spin,
                   panel.compare_check, panel.transport.play_button, panel.error_view.angle_button,
                   panel.jobs_view.start_button, panel.jobs_view.preset, panel.jobs_view.cancel_button,
                   panel.jobs_view.resume_button, panel.jobs_view.batch_size):
        assert widget.toolTip(), widget


@pytest.mark.cmu
def test_cmu_screenshots_show_skeleton_curves_and_jobs(qtbot, tmp_path, cmu_root) -> None:  # type: ignore[no-untyped-def]
    clip_path = cmu_root / "subjects" / "07" / "07_01.bvh"
    clip = read_clip(clip_path)
    model_path = SHIPPED_POSE
    style.apply_dark_theme(QtGui.QGuiApplication.instance())  # what `mocap-ae panel` looks like
    panel = make_panel(qtbot, tmp_path)
    try:
        panel.controller.load_model(model_path)
        panel.open_clip(clip_path)
        qtbot.waitUntil(lambda: panel.controller.clip is not None and panel.controller.model is not None, timeout=20000)
        panel.mode_combo.setCurrentText("denoised")
        idle(qtbot, panel)
        panel.controller.set_frame(clip.num_frames // 2)
        assert len(panel.error_view.curve_items()) == 30
        qtbot.mouseClick(panel.error_view.all_button, Qt.MouseButton.LeftButton)
        assert all(c.isVisible() and len(c.yData) == clip.num_frames for c in panel.error_view.curve_items().values())
        ui_support.ARTIFACTS.mkdir(exist_ok=True)
        shots = {}
        for index, name in enumerate(("errors", "skeleton", "jobs")):
            panel.tabs.setCurrentIndex(index)
            QtGui.QGuiApplication.processEvents()
            path = ui_support.ARTIFACTS / f"panel-cmu07-{name}.png"
            assert panel.grab().save(str(path))
            shots[name] = ui_support.distinct_colours(path)
        assert all(count > 40 for count in shots.values()), shots
        original, result = panel.skeleton_view.current_positions()
        assert original is not None and result is not None and original.shape == (31, 3)
    finally:
        panel.shutdown()


@pytest.mark.cmu
@pytest.mark.slow
def test_mocap_ae_panel_command_opens_a_cmu_clip_with_a_model(tmp_path, cmu_root) -> None:  # type: ignore[no-untyped-def]
    clip_path = cmu_root / "subjects" / "07" / "07_02.bvh"
    assert SHIPPED_POSE.is_file(), "the shipped models are part of the repository (models/)"
    ui_support.ARTIFACTS.mkdir(exist_ok=True)
    out = ui_support.ARTIFACTS / "panel-cli-skeleton.png"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "MOCAP_AE_MODELS"}
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "maya_tool", "panel", "--clip", str(clip_path), "--model", "pose",
         "--mode", "encoded", "--tab", "skeleton", "--frame", "100", "--size", "1400x860",
         "--settings", str(tmp_path / "cli.ini"), "--jobs-dir", str(tmp_path / "jobs"), "--screenshot", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.is_file() and ui_support.distinct_colours(out) > 40
