"""Outside Maya, the viewport: the skeleton from the front and from the side.

Two orthographic 2-D projections (X-Y and Z-Y, Y up as in Maya and BVH) show
the original in grey under the result in the joints' colours, following the
root so a walk stays in frame. 2-D pyqtgraph works offscreen and in CI where
OpenGL does not. The original's positions come with the clip (forward
kinematics in the worker); the result is posed for the current frame only
(:meth:`~maya_tool.ui.controller.Evaluation.positions_at`), and only while the
view is on screen: scrubbing in Maya with the Errors tab in front costs nothing here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg

from . import style
from .controller import ClipData, Controller, Evaluation
from .qt import QtGui, QtWidgets

VIEWS = (("Front", 0, "X (cm)"), ("Side", 2, "Z (cm)"))
"""Projection name, horizontal axis index into positions, axis label."""


class _Projection:
    """One orthographic view: grey original, coloured result, joint dots."""

    def __init__(self, title: str, axis: int, label: str) -> None:
        self.axis = axis
        self.widget = pg.PlotWidget(background=style.PLOT_BACKGROUND)
        plot = self.widget.getPlotItem()
        plot.setTitle(title, color=style.FOREGROUND, size="10pt")
        plot.setLabel("bottom", label)
        plot.setLabel("left", "Y (cm)")
        plot.showGrid(x=True, y=True, alpha=style.GRID_ALPHA)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setAspectLocked(True)
        self.floor = pg.InfiniteLine(angle=0, pen=pg.mkPen((90, 90, 90), width=1))
        plot.addItem(self.floor, ignoreBounds=True)
        self.original = pg.PlotDataItem(connect="pairs", pen=pg.mkPen(style.ORIGINAL + (170,), width=5))
        plot.addItem(self.original)
        self.bones: list[pg.PlotDataItem] = []
        self.joints = pg.ScatterPlotItem(size=6, pen=None)
        self.joints.setZValue(20)
        plot.addItem(self.joints)

    def set_bones(self, count: int, colours: list[Any]) -> None:
        plot = self.widget.getPlotItem()
        for item in self.bones:
            plot.removeItem(item)
        self.bones = []
        for j in range(count):
            item = pg.PlotDataItem(pen=pg.mkPen(colours[j], width=2.5))
            item.setZValue(10)
            plot.addItem(item)
            self.bones.append(item)


class SkeletonView(QtWidgets.QWidget):
    """Front and side projections of the original and the result at the current frame."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._parents = np.zeros(0, dtype=np.int64)
        self._colours: list[Any] = []
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.caption = QtWidgets.QLabel("")
        self.caption.setObjectName("figure")
        layout.addWidget(self.caption)
        row = QtWidgets.QHBoxLayout()
        layout.addLayout(row, 1)
        self.projections = [_Projection(*view) for view in VIEWS]
        for projection in self.projections:
            row.addWidget(projection.widget)
        self.setToolTip("Grey: the original clip; coloured: the result in the current mode (colours as in the error view)")
        controller.clipChanged.connect(self.set_clip)
        controller.evaluationChanged.connect(self.set_evaluation)
        controller.frameChanged.connect(self.set_frame)
        controller.stateChanged.connect(self._state_changed)
        controller.selectionChanged.connect(self._selection_changed)

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        """Catch up with what changed while hidden (:meth:`_draw` skips hidden views)."""
        super().showEvent(event)
        self._draw()

    def _state_changed(self, name: str, value: Any) -> None:
        if name == "compare":
            self._draw()

    def _selection_changed(self, names: list[str]) -> None:
        self._draw()

    def set_clip(self, data: ClipData | None) -> None:
        if data is None:
            return
        skeleton = data.clip.skeleton
        self._parents = np.asarray(skeleton.parents)
        self._colours = style.joint_colors(skeleton.num_bones)
        relative = data.positions - data.positions[:, :1]
        low = relative.min(axis=(0, 1))
        high = relative.max(axis=(0, 1))
        floor = float(data.positions[..., 1].min())
        top = float(data.positions[..., 1].max())
        for projection in self.projections:
            projection.set_bones(skeleton.num_bones, self._colours)
            projection.floor.setValue(floor)
            half = float(max(abs(low[projection.axis]), abs(high[projection.axis]))) * 1.1 + 5
            # The aspect is locked: ask for the height and a narrow width, the view widens to fit.
            projection.widget.getPlotItem().setRange(xRange=(-half, half), yRange=(floor - 5, top + 10), padding=0.02)
        self._draw()

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        self._draw()

    def set_frame(self, frame: int) -> None:
        self._draw()

    def current_positions(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(original, result) joint positions drawn at the current frame, in cm."""
        data = self.controller.clip_data
        return (None, None) if data is None else self._positions(data)

    def _positions(self, data: ClipData) -> tuple[np.ndarray, np.ndarray | None]:
        frame = min(self.controller.frame, data.clip.num_frames - 1)
        evaluation = self.controller.evaluation
        return data.positions[frame], evaluation.positions_at(frame) if evaluation is not None else None

    def _draw(self) -> None:
        """Pose the current frame, if anyone can see it.

        Every frame change, selection and evaluation lands here (60 times a
        second during playback or while Maya's time slider is dragged); a hidden
        view skips the forward kinematics and the ~60 item updates and is
        redrawn by :meth:`showEvent` instead.
        """
        data, evaluation = self.controller.clip_data, self.controller.evaluation
        if data is None or not self.isVisible():
            return
        original, result = self._positions(data)
        show_original = self.controller.compare or result is None
        shown = result if result is not None else original
        parents = self._parents
        children = np.arange(1, len(parents))
        selected = set(self.controller.selected_joints)
        names = data.clip.skeleton.names
        sizes = [12 if names[j] in selected else 6 for j in children]
        brushes = [pg.mkBrush(self._colours[j - 1]) for j in children]
        mode = evaluation.mode if evaluation is not None else "original"
        frame = self.controller.frame
        fps = data.clip.fps
        for projection in self.projections:
            a = projection.axis
            centre = original[0, a]
            if show_original:
                pairs = np.empty((2 * len(children), 2))
                pairs[0::2, 0] = original[parents[children], a] - centre
                pairs[1::2, 0] = original[children, a] - centre
                pairs[0::2, 1] = original[parents[children], 1]
                pairs[1::2, 1] = original[children, 1]
                projection.original.setData(pairs[:, 0], pairs[:, 1])
            else:
                projection.original.setData([], [])
            for j, item in zip(children, projection.bones):
                p = parents[j]
                item.setData([shown[p, a] - centre, shown[j, a] - centre], [shown[p, 1], shown[j, 1]])
            projection.joints.setData(
                x=shown[children, a] - centre, y=shown[children, 1], brush=brushes, size=sizes
            )
        legend = "grey: original, colours: result" if show_original and result is not None else "showing the result only"
        self.caption.setText(f"Frame {frame}   {frame / fps:.2f} s   mode: {mode}   ({legend})")
