"""The panel as artists meet it (issue 11): each item driven through clicks and keys.

Every test here drives the widgets as an artist would (qtbot clicks, keys,
mouse moves) and checks what ends up on screen, in the node (the standalone
host) and on disk.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests import ui_support

import numpy as np
import pytest

from maya_tool.corruption import CORRUPTIONS
from maya_tool.evaluate import frame_errors
from maya_tool.jobs import JobStore
from maya_tool.models.runtime import load_model
from maya_tool.modes import MODES, compute_variant, effective_mode, uses_model
from maya_tool.ui.host import StandaloneHost
from maya_tool.ui.panel import Panel, create_panel
from maya_tool.ui.qt import QtCore, QtWidgets, Qt
from maya_tool.ui.settings import Settings
from tests import synth


def make_panel(qtbot, tmp_path: Path, host: StandaloneHost | None = None, python: str | None = None) -> Panel:  # type: ignore[no-untyped-def]
    panel = create_panel(
        host or StandaloneHost(),
        settings=Settings(tmp_path / "panel.ini"),
        job_store=JobStore(tmp_path / "jobs"),
        training_python=python or sys.executable,
    )
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    panel.raise_()
    # Shortcuts need the window active; QTest.qWaitForWindowActive can block past its timeout here, so poll.
    qtbot.waitUntil(panel.isActiveWindow, timeout=5000)
    return panel


def idle(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=20000)


def key(n: int) -> Qt.Key:
    return getattr(Qt.Key, f"Key_{n}")


@pytest.fixture()
def clip_and_model(tmp_path):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(160)
    path = ui_support.make_pca_model(tmp_path / "models", "pca-artist", [clip], latent=12)
    return clip, path


def test_one_mode_control_says_what_is_on_screen_and_the_node_agrees(qtbot, tmp_path, clip_and_model) -> None:  # type: ignore[no-untyped-def]
    """Item 1: no separate Encode box; the mode shown, the skeleton header and the node never disagree."""
    clip, model_path = clip_and_model
    host = StandaloneHost()
    panel = make_panel(qtbot, tmp_path, host)
    try:
        model = load_model(model_path)
        panel.controller.set_clip(clip)
        panel.controller.set_model(model, str(model_path))
        panel.tabs.setCurrentIndex(1)
        panel.tabs.setFocus()
        idle(qtbot, panel)
        assert not [b for b in panel.findChildren(QtWidgets.QCheckBox) if "encode" in b.text().lower()]
        assert [panel.mode_combo.itemText(i) for i in range(panel.mode_combo.count())] == list(MODES)
        assert "cleaned" in MODES
        for i, mode in enumerate(MODES):
            qtbot.keyClick(panel.tabs, key(i + 1), Qt.KeyboardModifier.ControlModifier)
            idle(qtbot, panel)
            assert panel.mode_combo.currentText() == mode
            assert panel.controller.evaluation.mode == mode
            assert f"mode: {mode}" in panel.skeleton_view.caption.text()
            node_mode, node_encode = host.read_attribute("mode"), host.read_attribute("encode")
            assert node_mode == mode and node_encode is uses_model(mode)
            assert effective_mode(node_mode, node_encode) == mode
        cleaned = panel.controller.evaluation.variant
        np.testing.assert_allclose(cleaned.joint_rotations, model.reconstruct(clip.joint_rotations), atol=1e-6)

        # The tutorial's toggle ticked on the node (Attribute Editor) turns original into encoded, both ways.
        qtbot.keyClick(panel.tabs, key(1), Qt.KeyboardModifier.ControlModifier)
        host.set_attribute_externally("encode", True)
        idle(qtbot, panel)
        assert panel.mode_combo.currentText() == "encoded" == panel.controller.evaluation.mode
        assert host.read_attribute("mode") == "encoded" and host.read_attribute("encode") is True
        host.set_attribute_externally("encode", False)
        assert panel.mode_combo.currentText() == "original" and host.read_attribute("mode") == "original"
        host.set_attribute_externally("mode", "noisy")
        host.set_attribute_externally("encode", True)
        idle(qtbot, panel)
        assert panel.mode_combo.currentText() == "denoised" == panel.controller.evaluation.mode
        assert (host.read_attribute("mode"), host.read_attribute("encode")) == ("denoised", True)
        host.set_attribute_externally("mode", "original")
        assert panel.mode_combo.currentText() == "original" and host.read_attribute("encode") is False
    finally:
        panel.shutdown()


def test_a_node_left_contradicting_is_shown_as_what_it_computes(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 1, reopening the panel on a tutorial node set to mode original with encode on."""
    host = StandaloneHost()
    host.update_node({"mode": "original", "encode": True, "noise": 0.05})
    panel = make_panel(qtbot, tmp_path, host)
    try:
        assert panel.mode_combo.currentText() == "encoded"
        assert (host.read_attribute("mode"), host.read_attribute("encode")) == ("encoded", True)
    finally:
        panel.shutdown()


def test_noise_type_is_offered_beside_noise(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 10: gaussian / pops / gaps / capture from the panel, the default unchanged."""
    clip = synth.smooth_clip(200)
    host = StandaloneHost()
    panel = make_panel(qtbot, tmp_path, host)
    try:
        panel.controller.set_clip(clip)
        panel.tabs.setFocus()
        qtbot.keyClick(panel.tabs, key(3), Qt.KeyboardModifier.ControlModifier)
        idle(qtbot, panel)
        combo = panel.noise_type_combo
        assert [combo.itemText(i) for i in range(combo.count())] == list(CORRUPTIONS)
        assert combo.currentText() == "gaussian"
        expected = frame_errors(clip, compute_variant(clip, "noisy", sigma=panel.controller.noise))
        np.testing.assert_array_equal(panel.controller.evaluation.errors.angle_deg, expected.angle_deg)
        combo.setFocus()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        idle(qtbot, panel)
        assert combo.currentText() == "pops" and panel.controller.evaluation.noise_type == "pops"
        assert host.read_attribute("noise_type") == "pops"
        pops = frame_errors(clip, compute_variant(clip, "noisy", sigma=panel.controller.noise, corruption="pops"))
        np.testing.assert_array_equal(panel.controller.evaluation.errors.angle_deg, pops.angle_deg)
        assert pops.angle_deg.max() > 9.0  # a pop turns a joint at least 10 degrees
    finally:
        panel.shutdown()


def hover(qtbot, plot_widget, x: float, y: float) -> None:  # type: ignore[no-untyped-def]
    """Move the mouse over the point (x, y) of a plot, in data coordinates."""
    box = plot_widget.getPlotItem().getViewBox()
    point = plot_widget.mapFromScene(box.mapViewToScene(QtCore.QPointF(x, y)))
    qtbot.mouseMove(plot_widget.viewport(), point)
    qtbot.wait(30)


def test_hover_readout_never_outlives_its_clip_or_unit(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 4: no frame 1983 in a 358-frame clip, no cm in degrees."""
    panel = make_panel(qtbot, tmp_path)
    try:
        view = panel.error_view
        long = synth.smooth_clip(2000)
        panel.controller.set_clip(long)
        panel.mode_combo.setCurrentText("noisy")
        idle(qtbot, panel)
        qtbot.mouseClick(view.position_button, Qt.MouseButton.LeftButton)
        view.curves_widget.getPlotItem().setXRange(1950, 1999, padding=0)
        qtbot.wait(100)
        joint = view.joint_names.index(view.shown_curves()[0])
        data = panel.controller.evaluation.curves("position")
        hover(qtbot, view.curves_widget, 1983, float(data[1983, joint]))
        assert "frame 1983" in view.readout.text() and "cm" in view.readout.text()
        qtbot.mouseClick(view.angle_button, Qt.MouseButton.LeftButton)
        assert "cm" not in view.readout.text()
        qtbot.wait(100)
        joint = view.joint_names.index(view.shown_curves()[0])
        view.curves_widget.getPlotItem().setXRange(1950, 1999, padding=0)
        qtbot.wait(100)
        hover(qtbot, view.curves_widget, 1983, float(panel.controller.evaluation.curves("angle")[1983, joint]))
        assert "frame 1983" in view.readout.text()
        panel.controller.set_clip(synth.smooth_clip(358))
        assert "1983" not in view.readout.text()
        idle(qtbot, panel)
        assert "1983" not in view.readout.text()
    finally:
        panel.shutdown()


def clip_with_still_joints(frames: int = 240, still: tuple[str, ...] = ("LHipJoint", "RHipJoint")):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames)
    rotations = clip.joint_rotations.copy()
    names = clip.skeleton.names[1:]
    for name in still:
        rotations[:, names.index(name)] = rotations[0, names.index(name)]
    return clip.with_joint_rotations(rotations)


def test_error_plots_are_readable(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 5: worst joints first, distinct limb colours, still joints aside, sortable means, shared scale."""
    from maya_tool.ui import style

    clip = clip_with_still_joints()
    panel = make_panel(qtbot, tmp_path)
    try:
        view = panel.error_view
        panel.controller.set_clip(clip)
        panel.tabs.setFocus()
        qtbot.keyClick(panel.tabs, key(3), Qt.KeyboardModifier.ControlModifier)
        idle(qtbot, panel)
        means = panel.controller.evaluation.means("angle")
        names = view.joint_names
        moving = [j for j, n in enumerate(names) if n not in ("LHipJoint", "RHipJoint")]
        worst = {names[j] for j in sorted(moving, key=lambda j: -means[j])[:5]}
        assert set(view.shown_curves()) == worst
        assert set(view.still_joints) == {"LHipJoint", "RHipJoint"}
        items = [view.joint_list.topLevelItem(i) for i in range(view.joint_list.topLevelItemCount())]
        assert [i.text(0) for i in items[-2:]] == ["LHipJoint", "RHipJoint"]
        assert all(i.font(0).italic() and "never moves" in i.toolTip(0) for i in items[-2:])
        assert all(i.checkState(0) == Qt.CheckState.Unchecked for i in items[-2:])
        assert "LHipJoint" not in view.row_names() and len(view.row_names()) == 28
        assert view.bar_axis.names == view.row_names() == view.joint_axis.names
        assert len(view.bar_heights()) == 28

        # Joint colours: no two alike, left and right apart.
        colours = dict(zip(names, style.joint_colors(len(names), names, [p - 1 for p in clip.skeleton.parents[1:]])))
        assert min(style.colour_distance(colours[a], colours[b]) for a in names for b in names if a < b) > 10
        for joint in ("UpLeg", "Leg", "Foot", "Arm", "ForeArm", "Hand"):
            assert style.colour_distance(colours["Left" + joint], colours["Right" + joint]) > 30

        # Select a joint in the list: its curve joins the worst five.
        other = next(n for n in names if n not in worst and n not in view.still_joints)
        item = view._items[other]
        rect = view.joint_list.visualItemRect(item)
        qtbot.mouseClick(view.joint_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert panel.controller.selected_joints == [other]
        assert set(view.shown_curves()) == worst | {other}
        view.curves_choice.setFocus()
        qtbot.keyClick(view.curves_choice, Qt.Key.Key_Down)
        assert set(view.shown_curves()) == {names[j] for j in moving}

        # Click the Mean header: sorted by mean (numbers, not text), worst first on the second click.
        header = view.joint_list.header()
        pos = QtCore.QPoint(header.sectionViewportPosition(1) + header.sectionSize(1) // 2, header.height() // 2)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        values = lambda: [view.joint_list.topLevelItem(i).data(1, Qt.ItemDataRole.UserRole) for i in range(30)]  # noqa: E731
        first = values()
        assert first == sorted(first) or first == sorted(first, reverse=True)
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=pos)
        assert values() == sorted(first, reverse=first == sorted(first))

        # Untick a joint with its check box: it leaves the heat map and the bars.
        target = view._items[names[moving[0]]]
        rect = view.joint_list.visualItemRect(target)
        qtbot.mouseClick(view.joint_list.viewport(), Qt.MouseButton.LeftButton,
                         pos=QtCore.QPoint(rect.left() + 10, rect.center().y()))
        assert names[moving[0]] not in view.row_names() and len(view.bar_heights()) == 27
        assert view.heat_data().shape[1] == 27

        # One colour scale for every variant.
        levels = view.heat_levels()
        panel.noise_spin.setValue(0.15)
        idle(qtbot, panel)
        assert view.heat_levels() == levels
    finally:
        panel.shutdown()


def test_empty_states_say_what_to_do(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 8: before a clip, in original mode, and an empty loss plot."""
    panel = make_panel(qtbot, tmp_path)
    try:
        view = panel.error_view
        assert view.stack.currentWidget() is view.empty and "Open" in view.empty.text()
        assert panel.skeleton_view.stack.currentWidget() is panel.skeleton_view.empty
        assert "No job yet" in panel.jobs_view.loss_empty.toPlainText()
        panel.controller.set_clip(synth.smooth_clip(100))
        idle(qtbot, panel)
        assert view.stack.currentWidget() is view.empty and "Original mode" in view.empty.text()
        assert panel.skeleton_view.stack.currentIndex() == 1
        panel.tabs.setFocus()
        qtbot.keyClick(panel.tabs, key(3), Qt.KeyboardModifier.ControlModifier)
        idle(qtbot, panel)
        assert view.stack.currentWidget() is view.splitter
    finally:
        panel.shutdown()


def test_zoom_has_a_way_back_and_refits(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 6: F, the Frame all button and a double-click frame the clip; a new clip is framed."""
    panel = make_panel(qtbot, tmp_path)
    try:
        view = panel.error_view
        panel.controller.set_clip(synth.smooth_clip(400))
        panel.mode_combo.setCurrentText("noisy")
        idle(qtbot, panel)
        full = view.x_range()
        assert full[0] <= 0 and full[1] >= 399
        for way_back in ("key", "button", "double-click"):
            view.curves_widget.getPlotItem().setXRange(100, 120, padding=0)
            assert view.x_range()[1] < 150
            if way_back == "key":
                view.curves_widget.setFocus()
                qtbot.keyClick(view.curves_widget, Qt.Key.Key_F)
            elif way_back == "button":
                qtbot.mouseClick(view.frame_button, Qt.MouseButton.LeftButton)
            else:
                qtbot.mouseDClick(view.curves_widget.viewport(), Qt.MouseButton.LeftButton)
            assert view.x_range()[0] <= 0 and view.x_range()[1] >= 399, way_back
        view.curves_widget.getPlotItem().setXRange(10, 20, padding=0)
        panel.controller.set_clip(synth.smooth_clip(900, seed=3))
        idle(qtbot, panel)
        assert view.x_range()[1] >= 899
    finally:
        panel.shutdown()


def test_selected_joints_show_their_rotation_curves(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 7: the Graph Editor habit, original against result per channel in X/Y/Z colours."""
    from maya_tool import quaternion as quat
    from maya_tool.ui.error_view import AXIS_COLOURS

    clip = synth.smooth_clip(200)
    panel = make_panel(qtbot, tmp_path)
    try:
        view = panel.error_view
        panel.controller.set_clip(clip)
        panel.mode_combo.setCurrentText("noisy")
        idle(qtbot, panel)
        assert not view.rotation_widget.isVisible()
        name = view.joint_names[4]
        rect = view.joint_list.visualItemRect(view._items[name])
        qtbot.mouseClick(view.joint_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert view.rotation_widget.isVisible()
        curves = view.rotation_curves()
        assert sorted(curves) == [f"{name} X", f"{name} Y", f"{name} Z"]
        j = clip.skeleton.index(name)
        order = clip.skeleton.rotation_order(j)
        expected = quat.to_euler(clip.rotations[:, j], order)
        axis = order.index("X")
        original, result = curves[f"{name} X"]
        np.testing.assert_allclose(np.radians(original), np.unwrap(np.radians(expected[:, axis])), atol=1e-9)
        assert not np.allclose(original, result)
        pens = [item.opts["pen"].color().getRgb()[:3] for item in view._rotation_items[1::2]]
        assert pens == list(AXIS_COLOURS)
    finally:
        panel.shutdown()


def test_noise_control_scale_and_words(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 12: 0-0.1 gets most of the slider; the value is said in degrees of jitter."""
    panel = make_panel(qtbot, tmp_path)
    try:
        panel.controller.set_clip(synth.smooth_clip(300))
        spin, slider = panel.noise_spin, panel.noise_slider
        spin.setFocus()
        spin.selectAll()
        qtbot.keyClicks(spin, "0.050")
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert abs(panel.controller.noise - 0.05) < 1e-9
        assert "9.1° of jitter" in panel.noise_words.text()
        slider.setFocus()
        spin.setValue(0.0)
        assert slider.value() == 0 and "no jitter" in panel.noise_words.text()
        for _ in range(10):
            qtbot.keyClick(slider, Qt.Key.Key_PageUp)
        assert abs(panel.controller.noise - 0.1) < 1e-9
        assert slider.value() >= 0.75 * slider.maximum(), "three quarters of the slider are 0-0.1"
        for _ in range(9):
            qtbot.keyClick(slider, Qt.Key.Key_PageDown)  # back to one page: 0.01, a light capture jitter
        assert abs(panel.controller.noise - 0.01) < 1e-9
        panel.mode_combo.setCurrentText("noisy")
        idle(qtbot, panel)
        measured = panel.controller.evaluation.means("angle").mean()
        assert abs(measured - float(panel.noise_words.text().split()[1].rstrip("°"))) < 0.3
        panel.noise_type_combo.setCurrentText("pops")
        assert "spikes" in panel.noise_words.text() and not slider.isEnabled()
    finally:
        panel.shutdown()


def test_skeleton_views_follow_the_character(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Item 9: Front faces the character whatever its world heading; orbit; floor at the feet; left/right apart."""
    from maya_tool import quaternion as quat
    from maya_tool.clip import Clip
    from maya_tool.ui import style

    clip = synth.smooth_clip(120)
    turn = quat.from_axis_angle(np.array([0.0, 1.0, 0.0]), np.radians(90.0))
    rotations = clip.rotations.copy()
    rotations[:, 0] = quat.multiply(turn, rotations[:, 0])
    turned = Clip(clip.skeleton, clip.fps, clip.root_positions, rotations, dict(clip.source))
    views = {}
    panel = make_panel(qtbot, tmp_path)
    try:
        panel.tabs.setCurrentIndex(1)
        skel = panel.skeleton_view
        for label, c in (("ahead", clip), ("turned", turned)):
            panel.controller.set_clip(c)
            idle(qtbot, panel)
            front = skel.projections[0].joints
            views[label] = np.stack([front.data["x"], front.data["y"]], axis=1)
        np.testing.assert_allclose(views["ahead"], views["turned"], atol=1e-6)
        before = skel.projections[0].joints.data["x"].copy()
        skel.orbit.setFocus()
        qtbot.keyClick(skel.orbit, Qt.Key.Key_PageUp)
        assert not np.allclose(skel.projections[0].joints.data["x"], before)
        assert "follows the root" in skel.caption.text()
        from maya_tool import kinematics

        feet = kinematics.forward_kinematics(turned)[..., 1].min(axis=1)
        assert abs(skel.projections[0].floor.value() - np.percentile(feet, 5)) < 1e-6
        colours = [b.opts["pen"].color() for b in skel.projections[0].bones]
        names = turned.skeleton.names[1:]
        left, right = colours[names.index("LeftUpLeg")], colours[names.index("RightUpLeg")]
        assert style.colour_distance(left, right) > 30
    finally:
        panel.shutdown()
