"""Where the errors are: per-joint curves over time, a heat map, means, and the rotation curves.

Everything plotted is the :class:`~maya_tool.ui.controller.Evaluation`'s
arrays as the evaluation module computed them (``frame_errors``), never a
second computation, so what the artist reads here matches the reports. The
plot items are created once per skeleton and fed with ``setData`` afterwards;
only the curves on screen get data (a 5,000-frame clip redraws in a few
milliseconds), downsampled (peak mode) and clipped to the view.

Thirty curves at once are a tangle, so the curves default to the worst few
joints plus the selection ("Curves: worst 5"), with "all ticked" one click
away; the tick boxes decide which joints the heat map and the bars show too.
Joints that never move in the clip (less than 0.1 degree,
``corruption.animated_mask``) are listed last, greyed and unticked: their
near-zero errors would only flatter a model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from .. import quaternion as quat
from ..corruption import animated_mask
from . import style
from .controller import UNITS, Controller, Evaluation
from .qt import QShortcut, QtCore, QtGui, QtWidgets, Qt, Signal

HOVER_PIXELS = 12
"""How close (in pixels) the mouse must be to a curve to report that joint."""
WORST_COUNT = 5
"""Curves shown by default: the joints with the largest mean error (and the selected ones)."""
HEAT_LEVELS = {"angle": (0.0, 15.0), "position": (0.0, 10.0)}
"""Heat map colour scale per unit, the same for every variant so encoded and noisy compare at a glance."""
AXIS_COLOURS = ((230, 80, 80), (90, 200, 90), (90, 140, 255))
"""Maya's X / Y / Z channel colours (Graph Editor)."""
CHOICES = ("worst 5 + selected", "all ticked")


class JointAxis(pg.AxisItem):
    """An axis labelled with joint names, thinned out so labels never overlap.

    Row ``i`` spans ``i .. i+1``; when rows are shorter than a line of text
    only every n-th name is drawn, and zooming in shows them all.
    """

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.names: list[str] = []
        self.enableAutoSIPrefix(False)

    def line_height(self) -> float:
        return float(QtGui.QFontMetrics(self.style.get("tickFont") or QtWidgets.QApplication.font()).height() * 0.95)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803
        if not self.names or size <= 0:
            return []
        low, high = sorted((minVal, maxVal))  # an inverted view hands them over reversed
        rows = max(high - low, 1e-9)
        step = max(1, int(np.ceil(self.line_height() / (size / rows))))
        return [(float(step), [i + 0.5 for i in range(0, len(self.names), step) if low <= i + 0.5 <= high])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [self.names[int(v)] if 0 <= int(v) < len(self.names) else "" for v in values]

    def drawn_names(self) -> list[str]:
        """The names this axis draws at its current size (what the screenshot test checks)."""
        view = self.linkedView()
        if view is None:
            return []
        low, high = view.viewRange()[1]
        ticks = self.tickValues(low, high, float(self.geometry().height()))
        return self.tickStrings(ticks[0][1], 1.0, 1.0) if ticks else []


class _JointItem(QtWidgets.QTreeWidgetItem):
    """A joint row that sorts by the number in the Mean column, not its text."""

    def __lt__(self, other: QtWidgets.QTreeWidgetItem) -> bool:
        tree = self.treeWidget()
        column = tree.sortColumn() if tree is not None else 0
        if column == 1:
            mine, theirs = self.data(1, Qt.ItemDataRole.UserRole), other.data(1, Qt.ItemDataRole.UserRole)
            return float(mine if mine is not None else -1.0) < float(theirs if theirs is not None else -1.0)
        return int(self.data(0, Qt.ItemDataRole.UserRole) or 0) < int(other.data(0, Qt.ItemDataRole.UserRole) or 0)


class _Plot(pg.PlotWidget):
    """A plot whose double-click frames everything (Maya's F, with the mouse)."""

    doubleClicked = Signal()

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802
        self.doubleClicked.emit()
        event.accept()


def _plot_widget(title: str, left: str, bottom: str | None, axis: pg.AxisItem | None = None) -> _Plot:
    widget = _Plot(background=style.PLOT_BACKGROUND, axisItems={"left": axis} if axis is not None else None)
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
    """Per-joint error curves, joints x frames heat map, per-joint means, rotation curves.

    The joint list on the left sets which joints are shown (checkboxes) and
    which are selected (highlighted in every view, their rotation curves
    plotted); a click on the curves or the heat map moves the current time, a
    click on a bar selects that joint; hovering reports joint, frame and
    value on the readout line. F, the Frame button or a double-click frames
    the whole clip again.
    """

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._evaluation: Evaluation | None = None
        self._names: list[str] = []
        self._colours: list[Any] = []
        self._curves: list[pg.PlotDataItem] = []
        self._items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        self._visible: dict[str, bool] = {}
        self._still: set[str] = set()
        self._rows: list[int] = []
        """Joint indices of the heat map and bar rows, top to bottom (the ticked joints)."""
        self._fed: set[int] = set()
        """Curves holding the current evaluation's data (the others are fed when they show)."""
        self._data = np.zeros((0, 0))
        self._means = np.zeros(0)
        self._updating_list = False
        self._levels = dict(HEAT_LEVELS)
        self._build()
        controller.evaluationChanged.connect(self.set_evaluation)
        controller.clipChanged.connect(self._clip_changed)
        controller.frameChanged.connect(self.set_frame)
        controller.stateChanged.connect(self._state_changed)
        controller.selectionChanged.connect(self._selection_changed)
        self._show_empty_state()

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
        bar.addSpacing(8)
        self.frame_button = QtWidgets.QToolButton(text="Frame all")
        self.frame_button.setToolTip("Zoom back out to the whole clip (F, or double-click a plot)")
        self.frame_button.clicked.connect(self.frame_all)
        bar.addWidget(self.frame_button)
        bar.addSpacing(8)
        self.readout = QtWidgets.QLabel("")
        self.readout.setObjectName("figure")
        self.readout.setToolTip("Joint, frame and value under the mouse")
        self.readout.setMinimumWidth(40)
        self.readout.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        bar.addWidget(self.readout, 1)
        layout.addLayout(bar)

        self.stack = QtWidgets.QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.empty = QtWidgets.QLabel("")
        self.empty.setObjectName("emptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #9e9e9e; font-size: 13pt; padding: 30px")
        self.stack.addWidget(self.empty)

        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        self.stack.addWidget(splitter)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        choice_row = QtWidgets.QHBoxLayout()
        choice_row.addWidget(QtWidgets.QLabel("Curves:"))
        self.curves_choice = QtWidgets.QComboBox()
        self.curves_choice.addItems(list(CHOICES))
        self.curves_choice.setToolTip(
            f"Which error curves to draw: the {WORST_COUNT} ticked joints with the largest mean error plus the "
            "selected ones, or every ticked joint"
        )
        self.curves_choice.currentIndexChanged.connect(lambda *_: self._update_curve_visibility())
        choice_row.addWidget(self.curves_choice, 1)
        left_layout.addLayout(choice_row)
        self.joint_list = QtWidgets.QTreeWidget()
        self.joint_list.setColumnCount(2)
        self.joint_list.setHeaderLabels(["Joint", "Mean"])
        self.joint_list.setRootIsDecorated(False)
        self.joint_list.setUniformRowHeights(True)
        self.joint_list.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        self.joint_list.setToolTip(
            "Tick the joints to show (curves, heat map, bars); select joints to highlight them everywhere and see "
            "their rotation curves; click Mean to sort. Grey: never moves in this clip (unticked)"
        )
        self.joint_list.header().setStretchLastSection(False)
        self.joint_list.header().setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.joint_list.header().setSectionResizeMode(1, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.joint_list.header().setSectionsClickable(True)
        self.joint_list.setSortingEnabled(True)
        self.joint_list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.joint_list.itemChanged.connect(self._item_changed)
        self.joint_list.itemSelectionChanged.connect(self._list_selection_changed)
        left_layout.addWidget(self.joint_list, 1)
        buttons = QtWidgets.QHBoxLayout()
        self.all_button = QtWidgets.QPushButton("All")
        self.all_button.setToolTip("Tick every joint and draw every curve")
        self.none_button = QtWidgets.QPushButton("None")
        self.none_button.setToolTip("Untick every joint (then tick the joints to compare)")
        self.all_button.clicked.connect(self._show_all)
        self.none_button.clicked.connect(lambda: self.set_all_visible(False))
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        left_layout.addLayout(buttons)
        left.setMinimumWidth(170)
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
        self.curves_note = pg.TextItem("", color=style.FOREGROUND, anchor=(0.5, 0.5))
        self.curves_note.setParentItem(curves.getViewBox())
        curves.getViewBox().sigResized.connect(self._place_note)
        plots.addWidget(self.curves_widget)

        self.rotation_widget = _plot_widget("Rotation of the selected joints", "deg", "Frame")
        rotation = self.rotation_widget.getPlotItem()
        rotation.setDownsampling(auto=True, mode="peak")
        rotation.setClipToView(True)
        rotation.setXLink(curves)
        self.rotation_time_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(style.CURSOR, width=1))
        rotation.addItem(self.rotation_time_line, ignoreBounds=True)
        self._rotation_items: list[pg.PlotDataItem] = []
        self.rotation_widget.setToolTip(
            "Graph Editor view of the selected joints: rotate X / Y / Z in Maya's red / green / blue, "
            "dashed: original, solid: result"
        )
        self.rotation_widget.setVisible(False)
        plots.addWidget(self.rotation_widget)

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
        self.color_bar = pg.ColorBarItem(
            values=self._levels["angle"], colorMap=self.colormap, interactive=True, width=12
        )
        self.color_bar.setImageItem(self.heat_image, insert_in=heat)
        self.color_bar.sigLevelsChangeFinished.connect(self._levels_edited)
        self.heat_time_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(style.CURSOR, width=1))
        heat.addItem(self.heat_time_line, ignoreBounds=True)
        curves.sigXRangeChanged.connect(lambda _, r: heat.setXRange(*r, padding=0))
        self.joint_axis.setStyle(tickFont=self._small_font())
        self.heat_widget.setToolTip("Error of every ticked joint over time; the colour scale is the same for every mode")
        bottom.addWidget(self.heat_widget)

        self.bar_axis = JointAxis()
        self.bars_widget = _plot_widget("Mean", "", "mean (deg)", axis=self.bar_axis)
        bars = self.bars_widget.getPlotItem()
        bars.invertY(True)
        bars.setYLink(heat)
        self.bar_axis.setStyle(tickFont=self._small_font())
        bars.showGrid(x=True, y=False, alpha=style.GRID_ALPHA)
        self.bar_item = pg.BarGraphItem(x0=[], y=[], width=[], height=0.75)
        bars.addItem(self.bar_item)
        self.bars_widget.setMinimumWidth(190)
        bottom.addWidget(self.bars_widget)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 1)
        plots.addWidget(bottom)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 2)
        plots.setStretchFactor(2, 3)
        splitter.addWidget(plots)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 800])

        for widget in (self.curves_widget, self.heat_widget, self.bars_widget, self.rotation_widget):
            scene = widget.scene()
            scene.sigMouseMoved.connect(lambda pos, w=widget: self._hover(w, pos))
            scene.sigMouseClicked.connect(lambda event, w=widget: self._clicked(w, event))
            widget.doubleClicked.connect(self.frame_all)
        shortcut = QShortcut(QtGui.QKeySequence("F"), self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.frame_all)

    def _unit_toggled(self, checked: bool) -> None:
        if checked:
            self.controller.set_unit("angle" if self.angle_button.isChecked() else "position")

    def _item(self, j: int) -> QtWidgets.QTreeWidgetItem:
        return self._items[self._names[j]]

    @staticmethod
    def _small_font() -> Any:
        font = QtWidgets.QApplication.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        return font

    # ------------------------------------------------------------ empty state
    def _show_empty_state(self) -> None:
        """Say what to do instead of drawing meaningless axes (no clip, nothing to compare)."""
        data = self.controller.clip_data
        evaluation = self._evaluation
        if data is None:
            text = "No clip yet.\nOpen one (Ctrl+O, or File > Open clip) or drop a BVH, AMC or CSV file on the panel."
        elif self.controller.mode == "original" and (evaluation is None or evaluation.mode == "original"):
            text = (
                "Original mode: the clip is shown as it is, so there is no error to plot.\n"
                "Pick encoded, noisy, denoised or cleaned in Mode (Ctrl+2..5) to see what a model or noise changes."
            )
        else:
            text = ""
        self.empty.setText(text)
        self.stack.setCurrentIndex(0 if text else 1)

    # ------------------------------------------------------------------ state
    @property
    def joint_names(self) -> list[str]:
        return list(self._names)

    @property
    def still_joints(self) -> list[str]:
        """Joints that never move in the clip (less than 0.1 degree)."""
        return [n for n in self._names if n in self._still]

    def curve_items(self) -> dict[str, pg.PlotDataItem]:
        """Joint name -> its curve item (tests read ``yData`` from these)."""
        return dict(zip(self._names, self._curves))

    def shown_curves(self) -> list[str]:
        """Joints whose error curve is drawn now."""
        return [n for n, c in zip(self._names, self._curves) if c.isVisible()]

    def row_names(self) -> list[str]:
        """Joints of the heat map and bar rows, top to bottom."""
        return [self._names[j] for j in self._rows]

    def bar_heights(self) -> np.ndarray:
        """The plotted per-joint means, in row order (every joint when all are ticked)."""
        return np.asarray(self.bar_item.opts.get("width"), dtype=np.float64)

    def heat_data(self) -> np.ndarray | None:
        """The plotted (frames, rows) array of the heat map."""
        return None if self.heat_image.image is None else np.asarray(self.heat_image.image)

    def heat_levels(self) -> tuple[float, float]:
        low, high = self.color_bar.levels()
        return float(low), float(high)

    def visible_joints(self) -> list[str]:
        """Ticked joints (they are in the heat map and the bars; their curves can be drawn)."""
        return [n for n in self._names if self._visible.get(n, True)]

    def _clip_changed(self, data: Any) -> None:
        names = list(data.clip.skeleton.names[1:]) if data is not None else []
        still = set()
        if data is not None:
            moving = animated_mask(data.clip.joint_rotations)
            still = {n for n, m in zip(names, moving) if not m}
        if names != self._names or still != self._still:
            self._still = still
            self._set_joints(names, data.clip.skeleton.parents if data is not None else None)
        self._evaluation = None
        self._clear_data()
        self.clear_readout()
        self._show_empty_state()
        if data is not None:
            self.frame_all()

    def _set_joints(self, names: list[str], parents: Any = None) -> None:
        """Create one curve item per joint; later evaluations only ``setData``."""
        curves = self.curves_widget.getPlotItem()
        for item in self._curves:
            curves.removeItem(item)
        self._names = names
        bone_parents = [int(p) - 1 if p > 0 else -1 for p in list(parents)[1:]] if parents is not None else None
        self._colours = style.joint_colors(len(names), names, bone_parents)
        self._visible = {n: n not in self._still for n in names}
        self._curves = []
        for name, colour in zip(names, self._colours):
            item = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.5), name=name, skipFiniteCheck=True)
            item.setVisible(False)
            curves.addItem(item)
            self._curves.append(item)
        self._updating_list = True
        self.joint_list.setSortingEnabled(False)
        self.joint_list.clear()
        self._items = {}
        order = [j for j, n in enumerate(names) if n not in self._still] + [j for j, n in enumerate(names) if n in self._still]
        for rank, j in enumerate(order):
            name, colour = names[j], self._colours[j]
            item = _JointItem([name, ""])
            item.setData(0, Qt.ItemDataRole.UserRole, rank)
            item.setIcon(0, style.swatch(colour))
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsUserCheckable
            )
            item.setCheckState(0, Qt.CheckState.Checked if self._visible[name] else Qt.CheckState.Unchecked)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if name in self._still:
                grey = QtGui.QBrush(QtGui.QColor("#7a7a7a"))
                item.setForeground(0, grey)
                item.setForeground(1, grey)
                item.setToolTip(0, f"{name} never moves in this clip (< 0.1°): unticked, its error says nothing")
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
            self.joint_list.addTopLevelItem(item)
            self._items[name] = item
        self.joint_list.setSortingEnabled(True)
        self.joint_list.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self._updating_list = False
        self._fit_joint_list()
        self._update_rows()
        self._apply_selection(self.controller.selected_joints)

    def _fit_joint_list(self) -> None:
        """Wide enough for the longest joint name and its mean: names are never cut."""
        metrics = self.joint_list.fontMetrics()
        longest = max((metrics.horizontalAdvance(n) for n in self._names), default=60)
        mean = metrics.horizontalAdvance("000.00 cm") + 12
        needed = longest + self.joint_list.iconSize().width() + 8 + 22 + 10 + mean
        needed += self.joint_list.verticalScrollBar().sizeHint().width() + 6
        self.splitter.widget(0).setMinimumWidth(max(170, needed))
        sizes = self.splitter.sizes()
        if sizes and sizes[0] < needed:
            self.splitter.setSizes([needed, max(sum(sizes) - needed, 100)])

    def _update_rows(self) -> None:
        """The heat map and bar rows: the ticked joints, moving ones in skeleton order."""
        self._rows = [j for j, n in enumerate(self._names) if self._visible.get(n, True)]
        names = [self._names[j] for j in self._rows]
        for axis in (self.joint_axis, self.bar_axis):
            axis.names = list(names)
            axis.picture = None
            axis.update()

    def _clear_data(self) -> None:
        for item in self._curves:
            item.setData([], [])
        self._fed = set()
        self.heat_image.clear()
        self.bar_item.setOpts(x0=[], y=[], width=[], brushes=[])
        self._data = np.zeros((0, len(self._names)))
        self._means = np.zeros(len(self._names))
        self._clear_rotations()

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """Show a new evaluation (or clear the plots when it is ``None``)."""
        previous = self._evaluation
        self._evaluation = evaluation
        self.clear_readout()
        if evaluation is None:
            self._clear_data()
            self._show_empty_state()
            return
        if list(evaluation.joint_names) != self._names:
            self._set_joints(list(evaluation.joint_names))
        refit = previous is None or previous.mode != evaluation.mode
        self._plot()
        self._show_empty_state()
        if refit:
            self._refit_y()

    def _plot(self) -> None:
        evaluation = self._evaluation
        if evaluation is None:
            return
        unit = self.controller.unit
        if not evaluation.has(unit):
            self._update_list_values()  # positions follow in a moment; keep the last curves until then
            return
        data = evaluation.curves(unit)
        if data is self._data and len(self._fed):
            self._update_rotations()
            return  # the completed evaluation of the variant on screen: same curves
        means = evaluation.means(unit)
        self._data, self._means = data, means
        self._fed = set()
        self._update_curve_visibility()
        _, label, suffix = UNITS[unit]
        self.curves_widget.getPlotItem().setLabel("left", f"{label} ({suffix})")
        self.bars_widget.getPlotItem().setLabel("bottom", f"mean ({suffix})")
        self.curves_widget.getPlotItem().getViewBox().enableAutoRange(axis="y")
        self._update_heat()
        self._update_bars()
        self._update_list_values()
        self._update_rotations()
        self.set_frame(self.controller.frame)

    def _update_heat(self) -> None:
        unit = self.controller.unit
        rows = self._rows
        if not len(self._data) or not rows:
            self.heat_image.clear()
            return
        self.heat_image.setImage(
            np.ascontiguousarray(self._data[:, rows], dtype=np.float32), autoLevels=False, levels=self._levels[unit]
        )
        self.heat_image.setRect(QtCore.QRectF(0, 0, max(len(self._data), 1), len(rows)))
        self.color_bar.setLevels(self._levels[unit])
        self.heat_widget.getPlotItem().setTitle(
            f"Joints x frames ({'deg' if unit == 'angle' else 'cm'})", color=style.FOREGROUND, size="10pt"
        )
        heat = self.heat_widget.getPlotItem()
        heat.setLimits(yMin=0, yMax=max(len(rows), 1))
        heat.setYRange(0, max(len(rows), 1), padding=0)

    def _levels_edited(self, bar: Any = None) -> None:
        """The artist dragged the colour scale: keep it for this unit, for every variant."""
        self._levels[self.controller.unit] = self.heat_levels()

    def worst_joints(self, count: int = WORST_COUNT) -> list[str]:
        """The ticked joints with the largest mean error, worst first."""
        ticked = [j for j, n in enumerate(self._names) if self._visible.get(n, True)]
        if not len(self._means) or not ticked:
            return []
        order = sorted(ticked, key=lambda j: -float(self._means[j]))
        return [self._names[j] for j in order[:count]]

    def _update_curve_visibility(self) -> None:
        """Draw the chosen curves; feed them the current data first (hidden ones wait until shown)."""
        selected = set(self.controller.selected_joints)
        if self.curves_choice.currentIndex() == 0:
            wanted = set(self.worst_joints()) | {n for n in selected if self._visible.get(n, True)}
        else:
            wanted = {n for n in self._names if self._visible.get(n, True)}
        frames = np.arange(len(self._data), dtype=np.float64)
        for j, (name, item) in enumerate(zip(self._names, self._curves)):
            on = name in wanted and len(self._data) > 0
            if on and j not in self._fed:
                item.setData(frames, self._data[:, j])
                self._fed.add(j)
            item.setVisible(on)
        shown = len([n for n in wanted if n in self._names])
        hidden = len([n for n in self._names if self._visible.get(n, True)]) - shown
        if len(self._data) and hidden > 0 and self.curves_choice.currentIndex() == 0:
            self.curves_widget.getPlotItem().setTitle(
                f"Error over time: {shown} worst joints", color=style.FOREGROUND, size="10pt"
            )
            self.curves_widget.setToolTip(f"{hidden} more ticked joints: Curves > all ticked draws them too")
        else:
            self.curves_widget.getPlotItem().setTitle("Error per joint over time", color=style.FOREGROUND, size="10pt")
        self.curves_note.setText("" if wanted or not len(self._data) else "No joint ticked: tick joints in the list")
        self._place_note()

    def _place_note(self, *args: Any) -> None:
        self.curves_note.setPos(self.curves_widget.getPlotItem().getViewBox().boundingRect().center())

    def _update_bars(self) -> None:
        selected = set(self.controller.selected_joints)
        rows = self._rows
        brushes = [pg.mkBrush(self._colours[j]) for j in rows]
        pens = [pg.mkPen("w", width=2) if self._names[j] in selected else pg.mkPen(None) for j in rows]
        means = self._means[rows] if len(self._means) else np.zeros(0)
        if not len(means):
            self.bar_item.setOpts(x0=[], y=[], width=[], brushes=[])
            return
        self.bar_item.setOpts(
            x0=np.zeros(len(means)), y=np.arange(len(means)) + 0.5, width=means, height=0.75, brushes=brushes, pens=pens
        )
        top = float(np.max(means)) if len(means) else 1.0
        self.bars_widget.getPlotItem().setXRange(0, top * 1.05 if top > 0 else 1.0, padding=0)

    def _update_list_values(self) -> None:
        suffix = "°" if self.controller.unit == "angle" else " cm"
        evaluation = self._evaluation
        unit = self.controller.unit
        means = evaluation.means(unit) if evaluation is not None and evaluation.has(unit) else None
        self._updating_list = True
        sorting = self.joint_list.isSortingEnabled()
        self.joint_list.setSortingEnabled(False)
        for j, name in enumerate(self._names):
            item = self._items[name]
            value = float(means[j]) if means is not None and j < len(means) else None
            item.setText(1, "" if value is None else f"{value:.2f}{suffix}")
            item.setData(1, Qt.ItemDataRole.UserRole, value)
        self.joint_list.setSortingEnabled(sorting)
        self._updating_list = False

    def _state_changed(self, name: str, value: Any) -> None:
        if name == "unit":
            button = self.angle_button if value == "angle" else self.position_button
            if not button.isChecked():
                button.setChecked(True)
            self.clear_readout()
            self._data = np.zeros((0, len(self._names)))
            self._plot()
            self._refit_y()
        elif name == "mode":
            self._show_empty_state()

    # ------------------------------------------------------------------ zoom
    def frame_all(self) -> None:
        """Whole clip in x, every curve in y (Maya's F)."""
        frames = self.controller.num_frames
        if frames:
            self.curves_widget.getPlotItem().setXRange(0, max(frames - 1, 1), padding=0.01)
        self._refit_y()

    def _refit_y(self) -> None:
        for widget in (self.curves_widget, self.rotation_widget):
            widget.getPlotItem().getViewBox().enableAutoRange(axis="y")
        heat = self.heat_widget.getPlotItem()
        heat.setYRange(0, max(len(self._rows), 1), padding=0)
        self.bars_widget.getPlotItem().getViewBox().enableAutoRange(axis="x")
        if len(self._means):
            self._update_bars()

    def x_range(self) -> tuple[float, float]:
        low, high = self.curves_widget.getPlotItem().getViewBox().viewRange()[0]
        return float(low), float(high)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_F and not event.modifiers():
            self.frame_all()
            event.accept()
            return
        super().keyPressEvent(event)

    # -------------------------------------------------------------- visibility
    def set_joint_visible(self, name: str, visible: bool) -> None:
        """Tick or untick a joint: its curve, heat map row and bar follow."""
        if name not in self._names:
            return
        self._visible[name] = visible
        item = self._items[name]
        state = Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked
        if item.checkState(0) != state:
            self._updating_list = True
            item.setCheckState(0, state)
            self._updating_list = False
        self._schedule_rows()

    def _schedule_rows(self) -> None:
        self._update_rows()
        self._update_curve_visibility()
        self._update_heat()
        if len(self._means):
            self._update_bars()

    def set_all_visible(self, visible: bool) -> None:
        for name in self._names:
            self._visible[name] = visible
            item = self._items[name]
            self._updating_list = True
            item.setCheckState(0, Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
            self._updating_list = False
        self._schedule_rows()

    def _show_all(self) -> None:
        """All: every joint ticked, every curve drawn."""
        self.curves_choice.setCurrentIndex(1)
        self.set_all_visible(True)

    def _item_changed(self, item: QtWidgets.QTreeWidgetItem, column: int) -> None:
        if self._updating_list or column != 0:
            return
        name = next((n for n, i in self._items.items() if i is item), None)
        if name is not None:
            self.set_joint_visible(name, item.checkState(0) == Qt.CheckState.Checked)

    # --------------------------------------------------------------- selection
    def _list_selection_changed(self) -> None:
        if self._updating_list:
            return
        selected = {id(item) for item in self.joint_list.selectedItems()}
        self.controller.set_selected_joints([n for n in self._names if id(self._items[n]) in selected])

    def _selection_changed(self, names: list[str]) -> None:
        self._apply_selection(names)

    def _apply_selection(self, names: list[str]) -> None:
        selected = set(names)
        for name, colour, item in zip(self._names, self._colours, self._curves):
            on = name in selected
            item.setPen(pg.mkPen(colour, width=3.0 if on else 1.5))
            item.setZValue(10 if on else 0)
        self._updating_list = True
        for name in self._names:
            self._items[name].setSelected(name in selected)
        self._updating_list = False
        self._update_curve_visibility()
        if len(self._means):
            self._update_bars()
        self._update_rotations()

    # ------------------------------------------------------- rotation curves
    def _clear_rotations(self) -> None:
        plot = self.rotation_widget.getPlotItem()
        for item in self._rotation_items:
            plot.removeItem(item)
        self._rotation_items = []

    def rotation_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``"JOINT X"`` -> (original, result) angles in degrees, as drawn."""
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        items = self._rotation_items
        for k in range(0, len(items), 2):
            original, result = items[k], items[k + 1]
            out[str(result.opts["name"])] = (np.asarray(original.yData), np.asarray(result.yData))
        return out

    def _update_rotations(self) -> None:
        """Graph Editor habit: the selected joints' rotate X/Y/Z, original (dashed) against the result."""
        self._clear_rotations()
        evaluation = self._evaluation
        selected = [n for n in self.controller.selected_joints if n in self._names][:3]
        show = evaluation is not None and bool(selected)
        self.rotation_widget.setVisible(show)
        if not show:
            return
        clip, variant = evaluation.clip, evaluation.variant
        plot = self.rotation_widget.getPlotItem()
        frames = np.arange(clip.num_frames, dtype=np.float64)
        for name in selected:
            j = clip.skeleton.index(name)
            order = clip.skeleton.rotation_order(j) or "ZYX"
            angles = []
            for source in (clip, variant):
                euler = quat.to_euler(source.rotations[:, j], order)
                euler = np.degrees(np.unwrap(np.radians(euler), axis=0))
                angles.append({axis: euler[:, k] for k, axis in enumerate(order)})
            for k, axis in enumerate("XYZ"):
                colour = AXIS_COLOURS[k]
                original = pg.PlotDataItem(frames, angles[0][axis], pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
                result = pg.PlotDataItem(frames, angles[1][axis], pen=pg.mkPen(colour, width=1.8), name=f"{name} {axis}")
                for item in (original, result):
                    plot.addItem(item)
                    self._rotation_items.append(item)
        plot.setTitle(
            "Rotation: <span style='color:#e65050'>X</span> <span style='color:#5ac85a'>Y</span> "
            f"<span style='color:#5a8cff'>Z</span>, dashed original, solid {evaluation.mode}",
            color=style.FOREGROUND, size="10pt",
        )

    # ---------------------------------------------------------------- cursor
    def set_frame(self, frame: int) -> None:
        self.time_line.setValue(frame)
        self.heat_time_line.setValue(frame + 0.5)
        self.rotation_time_line.setValue(frame)

    def _view_point(self, widget: pg.PlotWidget, scene_pos: Any) -> QtCore.QPointF | None:
        box = widget.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        return box.mapSceneToView(scene_pos)

    def _row_joint(self, y: float) -> int | None:
        row = int(np.floor(y))
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def _clicked(self, widget: pg.PlotWidget, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not len(self._data):
            return
        if event.double():
            return
        point = self._view_point(widget, event.scenePos())
        if point is None:
            return
        if widget is self.bars_widget:
            j = self._row_joint(point.y())
            if j is not None:
                name = self._names[j]
                current = self.controller.selected_joints
                additive = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
                if additive:
                    names = [n for n in current if n != name] if name in current else current + [name]
                else:
                    names = [] if current == [name] else [name]
                self.controller.set_selected_joints(names)
            return
        self.controller.set_frame(int(np.floor(point.x() + (0.0 if widget is self.heat_widget else 0.5))))

    def clear_readout(self) -> None:
        """Forget the hover readout: its frame, joint and unit belong to what was shown before."""
        self.readout.setText("")
        self.marker.setData([], [])

    def _hover(self, widget: pg.PlotWidget, scene_pos: Any) -> None:
        point = self._view_point(widget, scene_pos)
        if point is None or not len(self._data):
            self.clear_readout()
            return
        self.readout.setText(self.describe_point(widget, point))

    def describe_point(self, widget: pg.PlotWidget, point: QtCore.QPointF) -> str:
        """The readout for a point in a plot's data coordinates (hover text)."""
        suffix = "°" if self.controller.unit == "angle" else " cm"
        frames = len(self._data)
        if widget is self.bars_widget:
            j = self._row_joint(point.y())
            return "" if j is None else f"{self._names[j]}  mean {self._means[j]:.3f}{suffix}"
        if widget is self.heat_widget:
            frame, j = int(np.floor(point.x())), self._row_joint(point.y())
            if 0 <= frame < frames and j is not None:
                return f"{self._names[j]}  frame {frame}  {self._data[frame, j]:.3f}{suffix}"
            return ""
        frame = int(round(point.x()))
        if not 0 <= frame < frames:
            self.marker.setData([], [])
            return ""
        if widget is self.rotation_widget:
            return f"frame {frame}  {point.y():.1f}°"
        nearest = self.nearest_joint(frame, point.y())
        if nearest is None:
            self.marker.setData([], [])
            return f"frame {frame}"
        j = nearest
        value = float(self._data[frame, j])
        self.marker.setData([frame], [value], brush=pg.mkBrush(self._colours[j]))
        return f"{self._names[j]}  frame {frame}  {value:.3f}{suffix}"

    def nearest_joint(self, frame: int, y: float) -> int | None:
        """The drawn joint whose curve passes closest to ``y`` at ``frame``, within a few pixels."""
        visible = [j for j, c in enumerate(self._curves) if c.isVisible()]
        if not visible or not 0 <= frame < len(self._data):
            return None
        values = self._data[frame, visible]
        best = int(np.argmin(np.abs(values - y)))
        pixel_height = self.curves_widget.getPlotItem().getViewBox().viewPixelSize()[1]
        if abs(values[best] - y) > HOVER_PIXELS * max(pixel_height, 1e-12):
            return None
        return visible[best]
