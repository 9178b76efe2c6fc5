"""Where the errors are: per-joint curves over time, a heat map and means.

Everything plotted is the :class:`~maya_tool.ui.controller.Evaluation`'s
arrays as the evaluation module computed them (``frame_errors``), never a
second computation, so what the artist reads here matches the reports. The
plot items are created once per skeleton and fed with ``setData`` afterwards;
curves are downsampled (peak mode) and clipped to the view so a 5,000-frame
clip redraws in a few milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from . import style
from .controller import UNITS, Controller, Evaluation
from .qt import QtCore, QtGui, QtWidgets, Qt

HOVER_PIXELS = 12
"""How close (in pixels) the mouse must be to a curve to report that joint."""


class JointAxis(pg.AxisItem):
    """An axis labelled with joint names, thinned out so labels never overlap.

    Row ``i`` spans ``i .. i+1``; when rows are shorter than a line of text
    only every n-th name is drawn, and zooming in shows them all.
    """

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.names: list[str] = []
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803
        if not self.names or size <= 0:
            return []
        low, high = sorted((minVal, maxVal))  # an inverted view hands them over reversed
        rows = max(high - low, 1e-9)
        line = QtGui.QFontMetrics(self.style.get("tickFont") or QtWidgets.QApplication.font()).height() * 0.95
        step = max(1, int(np.ceil(line / (size / rows))))
        return [(float(step), [i + 0.5 for i in range(0, len(self.names), step) if low <= i + 0.5 <= high])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [self.names[int(v)] if 0 <= int(v) < len(self.names) else "" for v in values]


def _plot_widget(title: str, left: str, bottom: str | None, axis: pg.AxisItem | None = None) -> pg.PlotWidget:
    widget = pg.PlotWidget(background=style.PLOT_BACKGROUND, axisItems={"left": axis} if axis is not None else None)
    item = widget.getPlotItem()
    for name in ("bottom", "left"):
        item.getAxis(name).enableAutoSIPrefix(False)
    item.setTitle(title, color=style.FOREGROUND, size="10pt")
    item.setLabel("left", left)
    if bottom:
        item.setLabel("bottom", bottom)
    item.showGrid(x=True, y=True, alpha=style.GRID_ALPHA)
    item.setMenuEnabled(False)
    item.hideButtons()
    widget.setMinimumHeight(120)
    return widget


class ErrorView(QtWidgets.QWidget):
    """Per-joint error curves, joints x frames heat map and per-joint means.

    The joint list on the left sets which curves are visible (checkboxes)
    and which joints are selected (highlighted in every view); a click on the
    curves or the heat map moves the current time, a click on a bar selects
    that joint; hovering reports joint, frame and value on the readout line.
    """

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._evaluation: Evaluation | None = None
        self._names: list[str] = []
        self._colours: list[Any] = []
        self._curves: list[pg.PlotDataItem] = []
        self._visible: dict[str, bool] = {}
        self._data = np.zeros((0, 0))
        self._means = np.zeros(0)
        self._updating_list = False
        self._build()
        controller.evaluationChanged.connect(self.set_evaluation)
        controller.clipChanged.connect(self._clip_changed)
        controller.frameChanged.connect(self.set_frame)
        controller.stateChanged.connect(self._state_changed)
        controller.selectionChanged.connect(self._selection_changed)

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)

        bar = QtWidgets.QHBoxLayout()
        self.angle_button = QtWidgets.QToolButton(text="Angle (deg)", checkable=True, checked=True)
        self.angle_button.setToolTip("Plot the geodesic angle between original and result per joint, in degrees")
        self.position_button = QtWidgets.QToolButton(text="Position (cm)", checkable=True)
        self.position_button.setToolTip("Plot the joint position error (root pinned), in cm")
        group = QtWidgets.QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.angle_button)
        group.addButton(self.position_button)
        self.angle_button.toggled.connect(self._unit_toggled)
        self.position_button.toggled.connect(self._unit_toggled)
        bar.addWidget(QtWidgets.QLabel("Error:"))
        bar.addWidget(self.angle_button)
        bar.addWidget(self.position_button)
        bar.addSpacing(12)
        self.readout = QtWidgets.QLabel("")
        self.readout.setObjectName("figure")
        self.readout.setToolTip("Joint, frame and value under the mouse")
        bar.addWidget(self.readout, 1)
        layout.addLayout(bar)

        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout.addWidget(splitter, 1)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.joint_list = QtWidgets.QTreeWidget()
        self.joint_list.setColumnCount(2)
        self.joint_list.setHeaderLabels(["Joint", "Mean"])
        self.joint_list.setRootIsDecorated(False)
        self.joint_list.setUniformRowHeights(True)
        self.joint_list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.joint_list.setToolTip("Tick to show a joint's curve; select joints to highlight them in every view")
        self.joint_list.header().setStretchLastSection(False)
        self.joint_list.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.joint_list.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.joint_list.itemChanged.connect(self._item_changed)
        self.joint_list.itemSelectionChanged.connect(self._list_selection_changed)
        left_layout.addWidget(self.joint_list, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.all_button = QtWidgets.QPushButton("All")
        self.all_button.setToolTip("Show every joint's curve")
        self.none_button = QtWidgets.QPushButton("None")
        self.none_button.setToolTip("Hide every curve (then tick the joints to compare)")
        self.all_button.clicked.connect(lambda: self.set_all_visible(True))
        self.none_button.clicked.connect(lambda: self.set_all_visible(False))
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        left_layout.addLayout(buttons)
        left.setMinimumWidth(150)
        splitter.addWidget(left)

        plots = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        plots.setChildrenCollapsible(False)
        self.plots_splitter = plots
        self.curves_widget = _plot_widget("Error per joint over time", "Angle error (deg)", "Frame")
        curves = self.curves_widget.getPlotItem()
        curves.setDownsampling(auto=True, mode="peak")
        curves.setClipToView(True)
        self.time_line = pg.InfiniteLine(angle=90, movable=True, pen=pg.mkPen(style.CURSOR, width=1.5))
        self.time_line.setZValue(1000)
        self.time_line.setToolTip("Current time: drag to scrub")
        self.time_line.sigDragged.connect(lambda line: self.controller.set_frame(int(round(line.value()))))
        curves.addItem(self.time_line, ignoreBounds=True)
        self.marker = pg.ScatterPlotItem(size=9, pen=pg.mkPen("w", width=1.5), brush=None)
        self.marker.setZValue(1001)
        curves.addItem(self.marker, ignoreBounds=True)
        plots.addWidget(self.curves_widget)

        bottom = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        bottom.setChildrenCollapsible(False)
        self.bottom_splitter = bottom
        self.joint_axis = JointAxis()
        self.heat_widget = _plot_widget("Joints x frames", "", "Frame", axis=self.joint_axis)
        heat = self.heat_widget.getPlotItem()
        heat.showGrid(x=False, y=False)
        heat.invertY(True)
        self.heat_image = pg.ImageItem(axisOrder="col-major")
        self.heat_image.setAutoDownsample(True)
        heat.addItem(self.heat_image)
        self.colormap = pg.colormap.get("inferno")
        self.heat_image.setColorMap(self.colormap)
        self.heat_time_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(style.CURSOR, width=1))
        heat.addItem(self.heat_time_line, ignoreBounds=True)
        curves.sigXRangeChanged.connect(lambda _, r: heat.setXRange(*r, padding=0))
        self.joint_axis.setStyle(tickFont=self._small_font())
        bottom.addWidget(self.heat_widget)

        self.bars_widget = _plot_widget("Mean per joint", "", "Angle error (deg)")
        bars = self.bars_widget.getPlotItem()
        bars.invertY(True)
        bars.setYLink(heat)
        bars.getAxis("left").setStyle(showValues=False)
        bars.showGrid(x=True, y=False, alpha=style.GRID_ALPHA)
        self.bar_item = pg.BarGraphItem(x0=[], y=[], width=[], height=0.75)
        bars.addItem(self.bar_item)
        bottom.addWidget(self.bars_widget)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 1)
        plots.addWidget(bottom)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 2)
        splitter.addWidget(plots)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([190, 800])

        for widget in (self.curves_widget, self.heat_widget, self.bars_widget):
            scene = widget.scene()
            scene.sigMouseMoved.connect(lambda pos, w=widget: self._hover(w, pos))
            scene.sigMouseClicked.connect(lambda event, w=widget: self._clicked(w, event))

    def _unit_toggled(self, checked: bool) -> None:
        if checked:
            self.controller.set_unit("angle" if self.angle_button.isChecked() else "position")

    def _row(self, j: int) -> QtWidgets.QTreeWidgetItem:
        item = self.joint_list.topLevelItem(j)
        assert item is not None, f"no joint row {j}"
        return item

    @staticmethod
    def _small_font() -> Any:
        font = QtWidgets.QApplication.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        return font

    # ------------------------------------------------------------------ state
    @property
    def joint_names(self) -> list[str]:
        return list(self._names)

    def curve_items(self) -> dict[str, pg.PlotDataItem]:
        """Joint name -> its curve item (tests read ``yData`` from these)."""
        return dict(zip(self._names, self._curves))

    def bar_heights(self) -> np.ndarray:
        """The plotted per-joint means, in joint order."""
        return np.asarray(self.bar_item.opts.get("width"), dtype=np.float64)

    def heat_data(self) -> np.ndarray | None:
        """The plotted (frames, joints) array of the heat map."""
        return None if self.heat_image.image is None else np.asarray(self.heat_image.image)

    def visible_joints(self) -> list[str]:
        return [n for n in self._names if self._visible.get(n, True)]

    def _clip_changed(self, data: Any) -> None:
        names = list(data.clip.skeleton.names[1:]) if data is not None else []
        if names != self._names:
            self._set_joints(names)
        self._evaluation = None
        self._clear_data()
        if data is not None:
            self.curves_widget.getPlotItem().setXRange(0, max(data.clip.num_frames - 1, 1), padding=0.01)

    def _set_joints(self, names: list[str]) -> None:
        """Create one curve item per joint; later evaluations only ``setData``."""
        curves = self.curves_widget.getPlotItem()
        for item in self._curves:
            curves.removeItem(item)
        self._names = names
        self._colours = style.joint_colors(len(names))
        self._visible = {n: self._visible.get(n, True) for n in names}
        self._curves = []
        for name, colour in zip(names, self._colours):
            item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1), name=name, skipFiniteCheck=True)
            item.setVisible(self._visible[name])
            curves.addItem(item)
            self._curves.append(item)
        self._updating_list = True
        self.joint_list.clear()
        for name, colour in zip(names, self._colours):
            item = QtWidgets.QTreeWidgetItem([name, ""])
            item.setIcon(0, style.swatch(colour))
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setCheckState(0, Qt.CheckState.Checked if self._visible[name] else Qt.CheckState.Unchecked)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.joint_list.addTopLevelItem(item)
        self._updating_list = False
        self.joint_axis.names = list(names)
        self.joint_axis.picture = None
        self.joint_axis.update()
        self._apply_selection(self.controller.selected_joints)

    def _clear_data(self) -> None:
        for item in self._curves:
            item.setData([], [])
        self.heat_image.clear()
        self.bar_item.setOpts(x0=[], y=[], width=[], brushes=[])
        self._data = np.zeros((0, len(self._names)))
        self._means = np.zeros(len(self._names))

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show a new evaluation (or clear the plots when it is ``None``)."""
        self._evaluation = evaluation
        if evaluation is None:
            self._clear_data()
            return
        if list(evaluation.joint_names) != self._names:
            self._set_joints(list(evaluation.joint_names))
        self._plot()

    def _plot(self) -> None:
        evaluation = self._evaluation
        if evaluation is None:
            return
        unit = self.controller.unit
        data = evaluation.curves(unit)
        means = evaluation.means(unit)
        self._data, self._means = data, means
        frames = np.arange(len(data), dtype=np.float64)
        for j, item in enumerate(self._curves):
            item.setData(frames, data[:, j])
        _, label, suffix = UNITS[unit]
        self.curves_widget.getPlotItem().setLabel("left", f"{label} ({suffix})")
        self.bars_widget.getPlotItem().setLabel("bottom", f"Mean {label.lower()} ({suffix})")
        self.curves_widget.getPlotItem().enableAutoRange(y=True)
        self.heat_image.setImage(data.astype(np.float32), autoLevels=False, levels=self._levels(data))
        self.heat_image.setRect(QtCore.QRectF(0, 0, max(len(data), 1), len(self._names)))
        self.heat_widget.getPlotItem().setLimits(yMin=0, yMax=max(len(self._names), 1))
        self.heat_widget.getPlotItem().setYRange(0, len(self._names), padding=0)
        self._update_bars()
        self._update_list_values()
        self.set_frame(self.controller.frame)

    @staticmethod
    def _levels(data: np.ndarray) -> tuple[float, float]:
        """Colour range: 0 to the 99th percentile, so one spike does not wash out the map."""
        if data.size == 0:
            return (0.0, 1.0)
        high = float(np.percentile(data, 99))
        return (0.0, high if high > 1e-9 else 1.0)

    def _update_bars(self) -> None:
        selected = set(self.controller.selected_joints)
        brushes = []
        pens = []
        for name, colour in zip(self._names, self._colours):
            brushes.append(pg.mkBrush(colour))
            pens.append(pg.mkPen("w", width=2) if name in selected else pg.mkPen(None))
        self.bar_item.setOpts(
            x0=np.zeros(len(self._means)),
            y=np.arange(len(self._means)) + 0.5,
            width=self._means,
            height=0.75,
            brushes=brushes,
            pens=pens,
        )
        top = float(np.max(self._means)) if len(self._means) else 1.0
        self.bars_widget.getPlotItem().setXRange(0, top * 1.05 if top > 0 else 1.0, padding=0)

    def _update_list_values(self) -> None:
        suffix = "°" if self.controller.unit == "angle" else " cm"
        self._updating_list = True
        for j in range(self.joint_list.topLevelItemCount()):
            value = self._means[j] if j < len(self._means) else None
            self._row(j).setText(1, "" if value is None else f"{value:.2f}{suffix}")
        self._updating_list = False

    def _state_changed(self, name: str, value: Any) -> None:
        if name == "unit":
            button = self.angle_button if value == "angle" else self.position_button
            if not button.isChecked():
                button.setChecked(True)
            self._plot()

    # -------------------------------------------------------------- visibility
    def set_joint_visible(self, name: str, visible: bool) -> None:
        if name not in self._names:
            return
        j = self._names.index(name)
        self._visible[name] = visible
        self._curves[j].setVisible(visible)
        item = self._row(j)
        state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        if item.checkState(0) != state:
            self._updating_list = True
            item.setCheckState(0, state)
            self._updating_list = False

    def set_all_visible(self, visible: bool) -> None:
        for name in self._names:
            self.set_joint_visible(name, visible)

    def _item_changed(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._updating_list or column != 0:
            return
        self.set_joint_visible(item.text(0), item.checkState(0) == Qt.CheckState.Checked)

    # --------------------------------------------------------------- selection
    def _list_selection_changed(self) -> None:
        if self._updating_list:
            return
        names = [item.text(0) for item in self.joint_list.selectedItems()]
        self.controller.set_selected_joints([n for n in self._names if n in names])

    def _selection_changed(self, names: list[str]) -> None:
        self._apply_selection(names)

    def _apply_selection(self, names: list[str]) -> None:
        selected = set(names)
        for name, colour, item in zip(self._names, self._colours, self._curves):
            on = name in selected
            item.setPen(pg.mkPen(colour, width=3.0 if on else 1))
            item.setZValue(10 if on else 0)
        self._updating_list = True
        for j, name in enumerate(self._names):
            self._row(j).setSelected(name in selected)
        self._updating_list = False
        if len(self._means):
            self._update_bars()

    # ---------------------------------------------------------------- cursor
    def set_frame(self, frame: int) -> None:
        self.time_line.setValue(frame)
        self.heat_time_line.setValue(frame + 0.5)

    def _view_point(self, widget: pg.PlotWidget, scene_pos: Any) -> QtCore.QPointF | None:
        box = widget.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        return box.mapSceneToView(scene_pos)

    def _clicked(self, widget: pg.PlotWidget, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._data):
            return
        point = self._view_point(widget, event.scenePos())
        if point is None:
            return
        if widget is self.bars_widget:
            j = int(np.floor(point.y()))
            if 0 <= j < len(self._names):
                name = self._names[j]
                current = self.controller.selected_joints
                additive = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                if additive:
                    names = [n for n in current if n != name] if name in current else current + [name]
                else:
                    names = [] if current == [name] else [name]
                self.controller.set_selected_joints(names)
            return
        self.controller.set_frame(int(np.floor(point.x() + (0.5 if widget is self.curves_widget else 0.0))))

    def _hover(self, widget: pg.PlotWidget, scene_pos: Any) -> None:
        point = self._view_point(widget, scene_pos)
        if point is None or not len(self._data):
            self.marker.setData([], [])
            return
        self.readout.setText(self.describe_point(widget, point))

    def describe_point(self, widget: pg.PlotWidget, point: QtCore.QPointF) -> str:
        """The readout for a point in a plot's data coordinates (hover text)."""
        suffix = "°" if self.controller.unit == "angle" else " cm"
        frames = len(self._data)
        if widget is self.bars_widget:
            j = int(np.floor(point.y()))
            if 0 <= j < len(self._names):
                return f"{self._names[j]}  mean {self._means[j]:.3f}{suffix}"
            return ""
        if widget is self.heat_widget:
            frame, j = int(np.floor(point.x())), int(np.floor(point.y()))
            if 0 <= frame < frames and 0 <= j < len(self._names):
                return f"{self._names[j]}  frame {frame}  {self._data[frame, j]:.3f}{suffix}"
            return ""
        frame = int(round(point.x()))
        if not 0 <= frame < frames:
            self.marker.setData([], [])
            return ""
        nearest = self.nearest_joint(frame, point.y())
        if nearest is None:
            self.marker.setData([], [])
            return f"frame {frame}"
        j = nearest
        value = float(self._data[frame, j])
        self.marker.setData([frame], [value], brush=pg.mkBrush(self._colours[j]))
        return f"{self._names[j]}  frame {frame}  {value:.3f}{suffix}"

    def nearest_joint(self, frame: int, y: float) -> int | None:
        """The visible joint whose curve passes closest to ``y`` at ``frame``, within a few pixels."""
        visible = [j for j, n in enumerate(self._names) if self._visible.get(n, True)]
        if not visible or not 0 <= frame < len(self._data):
            return None
        values = self._data[frame, visible]
        best = int(np.argmin(np.abs(values - y)))
        pixel_height = self.curves_widget.getPlotItem().getViewBox().viewPixelSize()[1]
        if abs(values[best] - y) > HOVER_PIXELS * max(pixel_height, 1e-12):
            return None
        return visible[best]
