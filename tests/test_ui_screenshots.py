"""Screenshots of the standalone panel at a desktop size and at dock size, checked by widget geometry.

Issue 11 item 11 and its Must show: the panel in its window at 1920x1080 and
1000x640 with a CMU clip, the shipped temporal model, errors, the skeleton
and a running job; the PNGs land in ``test-artifacts/`` and what matters in
them is checked on the widgets that drew them: every joint label drawn (list,
heat map, bars), no text cut (Result box, axis titles, History columns), no
widget outside the window.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests import ui_support

import pyqtgraph as pg
import pytest

from maya_tool.io import read_clip, write_clip
from maya_tool.jobs import JobStore
from maya_tool.ui import style
from maya_tool.ui.host import StandaloneHost
from maya_tool.ui.panel import StandaloneWindow, create_panel
from maya_tool.ui.qt import QtCore, QtGui, QtWidgets, Qt
from maya_tool.ui.settings import Settings
from tests import synth
from tests.test_ui_jobs import fake_python  # noqa: F401  (fixture)

REPO = Path(__file__).resolve().parent.parent
SIZES = ((1920, 1080), (1000, 640))


def text_width(widget: QtWidgets.QWidget, text: str) -> int:
    metrics = widget.fontMetrics()
    return metrics.horizontalAdvance(text) if hasattr(metrics, "horizontalAdvance") else metrics.width(text)


def clipped_labels(root: QtWidgets.QWidget) -> list[str]:
    """Visible labels and buttons whose text does not fit their width (Qt cuts it off)."""
    bad = []
    for widget in root.findChildren(QtWidgets.QWidget):
        if not widget.isVisibleTo(root) or widget.width() <= 0:
            continue
        if isinstance(widget, QtWidgets.QLabel):
            if widget.wordWrap() or widget.textFormat() == Qt.TextFormat.RichText or not widget.text():
                continue
            if widget.sizePolicy().horizontalPolicy() == QtWidgets.QSizePolicy.Policy.Ignored:
                continue  # status line and readout: elided on purpose, full text in the tooltip
            text = widget.text().replace("&", "")
            if "<" in text:
                continue
            if text_width(widget, text) > widget.contentsRect().width() + 1:
                bad.append(f"label {text!r}: {text_width(widget, text)} > {widget.contentsRect().width()}")
        elif isinstance(widget, (QtWidgets.QPushButton, QtWidgets.QToolButton, QtWidgets.QCheckBox)):
            text = widget.text().replace("&", "")
            if text and widget.width() < widget.minimumSizeHint().width() - 1:
                bad.append(f"button {text!r}: {widget.width()} < {widget.minimumSizeHint().width()}")
    return bad


def cut_tree_columns(tree: QtWidgets.QTreeWidget, columns: range | None = None) -> list[str]:
    """Tree cells whose text is wider than their column (Qt elides it)."""
    bad = []
    header = tree.header()
    columns = columns if columns is not None else range(tree.columnCount())
    for column in columns:
        if header.isSectionHidden(column):
            continue
        width = header.sectionSize(column)
        need = max(tree.sizeHintForColumn(column), header.sectionSizeHint(column))  # what Qt needs to show it whole
        if width < need:
            texts = [tree.topLevelItem(i).text(column) for i in range(tree.topLevelItemCount())]
            bad.append(f"column {tree.headerItem().text(column)!r} ({', '.join(texts[:3])}...): {width} < {need}")
    total = sum(header.sectionSize(c) for c in range(tree.columnCount()) if not header.isSectionHidden(c))
    if total > tree.viewport().width() + 1:
        bad.append(f"columns need {total} px, the list shows {tree.viewport().width()}")
    return bad


def cut_axis_titles(plot_widget) -> list[str]:  # type: ignore[no-untyped-def]
    """Axis titles longer than their axis, or outside the plot widget."""
    bad = []
    item = plot_widget.getPlotItem()
    widget_rect = QtCore.QRectF(plot_widget.rect())
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        if not axis.isVisible() or not axis.labelText:
            continue
        label = axis.label
        text = label.boundingRect().adjusted(5, 5, -5, -5)  # the text item's document margin is no text
        rect = plot_widget.mapFromScene(label.mapToScene(text)).boundingRect()
        if not widget_rect.adjusted(-1, -1, 1, 1).contains(QtCore.QRectF(rect)):
            bad.append(f"{name} axis title {axis.labelText!r} outside its plot ({rect} in {widget_rect})")
    title = item.titleLabel
    if title.isVisible() and title.text:
        need = title.item.boundingRect().width() - 8  # less the document margin
        if need > min(title.boundingRect().width(), item.vb.width() + 60) + 1:
            bad.append(f"title {title.text!r}: {need:.0f} > {title.boundingRect().width():.0f}")
    for text in [i for i in item.vb.allChildren() if isinstance(i, pg.TextItem)] + [
        i for i in item.vb.childItems() if isinstance(i, pg.TextItem)
    ]:
        if text.isVisible() and text.toPlainText():
            rect = text.mapRectToItem(item.vb, text.boundingRect()).adjusted(5, 5, -5, -5)
            if not item.vb.boundingRect().adjusted(-1, -1, 1, 1).contains(rect):
                bad.append(f"message {text.toPlainText()!r} cut by its plot")
    return bad


def outside_window(window: QtWidgets.QWidget, widgets: list[QtWidgets.QWidget]) -> list[str]:
    bad = []
    frame = window.rect()
    for widget in widgets:
        if not widget.isVisible():
            continue
        top_left = widget.mapTo(window, QtCore.QPoint(0, 0))
        rect = QtCore.QRect(top_left, widget.size())
        if not frame.contains(rect):
            bad.append(f"{widget.objectName() or type(widget).__name__} at {rect} outside {frame}")
    return bad


@pytest.mark.cmu
def test_standalone_screenshots_at_desktop_and_dock_size(qtbot, tmp_path, fake_python, monkeypatch, cmu_root) -> None:  # type: ignore[no-untyped-def]
    """The Must show: screenshots with a clip, errors, skeleton and a running job; nothing cut, every joint named."""
    monkeypatch.setenv("FAKE_EPOCH_S", "4")
    clip_path = cmu_root / "subjects" / "07" / "07_01.bvh"
    clip = read_clip(clip_path)
    model = REPO / "models" / "temporal.json"
    style.apply_dark_theme(QtWidgets.QApplication.instance())
    ui_support.ARTIFACTS.mkdir(exist_ok=True)
    clips = tmp_path / "clips"
    write_clip(synth.smooth_clip(200), clips / "take.csv")
    failures: list[str] = []
    for width, height in SIZES:
        folder = tmp_path / f"{width}x{height}"
        panel = create_panel(StandaloneHost(), settings=Settings(folder / "panel.ini"),
                             job_store=JobStore(folder / "jobs"), training_python=fake_python)
        window = StandaloneWindow(panel)
        qtbot.addWidget(window)
        window.resize(width, height)
        window.show()
        qtbot.waitExposed(window)
        try:
            panel.controller.load_model(model)
            panel.open_clip(clip_path)
            qtbot.waitUntil(lambda: panel.controller.clip is not None and panel.controller.model is not None,
                            timeout=30000)
            panel.mode_combo.setCurrentText("denoised")
            qtbot.waitUntil(lambda: not panel.controller.busy, timeout=30000)
            panel.controller.set_frame(clip.num_frames // 2)
            view = panel.error_view
            panel.controller.set_selected_joints([view.worst_joints(1)[0]])
            jobs = panel.jobs_view
            jobs.add_input(clips)
            jobs.name.setText("retake")
            jobs.epochs.setValue(40)
            jobs.output_dir.setText(str(folder / "models"))
            qtbot.mouseClick(jobs.start_button, Qt.MouseButton.LeftButton)
            record = jobs.selected_record()
            qtbot.waitUntil(lambda: any(e["event"] == "progress" for e in panel.runner.events(record.id)),
                            timeout=30000)
            size = f"{width}x{height}"
            for index, name in enumerate(("errors", "skeleton", "jobs")):
                panel.tabs.setCurrentIndex(index)
                for _ in range(5):
                    QtGui.QGuiApplication.processEvents()
                qtbot.wait(50)
                path = ui_support.ARTIFACTS / f"panel-{size}-{name}.png"
                assert window.grab().save(str(path))
                assert ui_support.distinct_colours(path) > 40, path
                where = f"{size} {name}"
                failures += [f"{where}: {b}" for b in clipped_labels(panel)]
                failures += [f"{where}: {b}" for b in outside_window(window, [panel.status, panel.transport])]
                if name == "errors":
                    failures += [f"{where}: joint list {b}" for b in cut_tree_columns(view.joint_list, range(0, 1))]
                    for plot in (view.curves_widget, view.heat_widget, view.bars_widget, view.rotation_widget):
                        failures += [f"{where}: {b}" for b in cut_axis_titles(plot)]
                    rows = view.row_names()
                    for axis, label, plot in ((view.joint_axis, "heat map", view.heat_widget),
                                              (view.bar_axis, "bars", view.bars_widget)):
                        drawn = axis.drawn_names()
                        if width >= 1920 and drawn != rows:
                            failures.append(f"{where}: {label} names {len(drawn)} of {len(rows)} joints")
                        # At dock size the rows are thinner than a line of text: hovering names each row.
                        said = [view.describe_point(plot, QtCore.QPointF(5.0 if plot is view.heat_widget else 0.1,
                                                                         r + 0.5)).split()[:1] for r in range(len(rows))]
                        if [s[0] if s else "" for s in said] != rows:
                            failures.append(f"{where}: hovering the {label} rows does not name every joint")
                        if drawn and any(n not in rows for n in drawn):
                            failures.append(f"{where}: {label} draws names of joints it does not show")
                    for key, label in panel.result_figures.items():
                        if text_width(label, label.text()) > label.contentsRect().width() + 1:
                            failures.append(f"{where}: result {key} {label.text()!r} cut")
                        if label.visibleRegion().isEmpty():
                            failures.append(f"{where}: result {key} not visible without scrolling")
                if name == "skeleton":
                    for projection in panel.skeleton_view.projections:
                        failures += [f"{where}: {b}" for b in cut_axis_titles(projection.widget)]
                if name == "jobs":
                    failures += [f"{where}: history {b}" for b in cut_tree_columns(jobs.history)]
                    failures += [f"{where}: {b}" for b in cut_axis_titles(jobs.loss_plot)]
                    assert "epoch" in jobs.progress.text() or "loading" in jobs.progress.format()
            qtbot.mouseClick(jobs.cancel_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: panel.runner.record(record.id).state in ("cancelled", "failed"), timeout=30000)
        finally:
            window.close()
    assert not failures, "\n".join(failures)
