"""Outside Maya, the viewport: the skeleton from the front and from the side.

Two orthographic 2-D projections show the original in grey under the result
in the joints' colours (left limbs blue, right limbs red). They follow the
character, not the world: the view moves with the root (a walk stays in
frame; the caption says so) and turns with the character's facing (from its
hips, smoothed over half a second), so Front always looks at its front and
Side at its left side; Orbit turns the camera around it. The floor is drawn
where the feet touch down. 2-D pyqtgraph works offscreen and in CI where
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
from .qt import QtGui, QtWidgets, Qt

VIEWS = (("Front", 0, "character's right - left (cm)"), ("Side", 2, "back - front (cm)"))
"""Projection name, horizontal axis (0: across the character, 2: along its facing), axis label."""
FACING_SMOOTH_S = 0.5


def _hip_joints(names: list[str]) -> tuple[int, int] | None:
    """Left and right hip (upper leg) joints by name, for the facing."""
    from .style import joint_side

    def find(side: str) -> int | None:
        for key in ("upleg", "thigh", "hip", "femur"):
            for j, n in enumerate(names):
                if joint_side(n) == side and key in n.lower() and "joint" not in n.lower():
                    return j
        for j, n in enumerate(names):
            if joint_side(n) == side and "hip" in n.lower():
                return j
        return None

    left, right = find("left"), find("right")
    return (left, right) if left is not None and right is not None else None


def facing_angles(positions: np.ndarray, names: list[str], fps: float) -> np.ndarray:
    """(F,) heading of the character per frame in radians about Y (0: facing +Z), smoothed.

    The character's left is the vector from its right hip to its left hip;
    facing is that vector turned 90 degrees about up. Without hips, the
    world axes.
    """
    hips = _hip_joints(names)
    frames = len(positions)
    if hips is None or frames == 0:
        return np.zeros(frames)
    left = positions[:, hips[0]] - positions[:, hips[1]]
    forward = np.stack([left[:, 2], np.zeros(frames), -left[:, 0]], axis=1)  # left x up
    forward = -forward
    window = max(1, int(round(FACING_SMOOTH_S * fps)))
    kernel = np.ones(window) / window
    fx = np.convolve(np.pad(forward[:, 0], (window // 2, window - 1 - window // 2), mode="edge"), kernel, "valid")
    fz = np.convolve(np.pad(forward[:, 2], (window // 2, window - 1 - window // 2), mode="edge"), kernel, "valid")
    return np.arctan2(fx, fz)


class _Projection:
    """One orthographic view: grey original, coloured result, joint dots."""

    def __init__(self, title: str, axis: int, label: str) -> None:
        self.axis = axis
        self.title = title
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
        top = QtWidgets.QHBoxLayout()
        self.caption = QtWidgets.QLabel("")
        self.caption.setObjectName("figure")
        self.caption.setWordWrap(True)
        top.addWidget(self.caption, 1)
        top.addWidget(QtWidgets.QLabel("Orbit:"))
        self.orbit = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.orbit.setRange(-180, 180)
        self.orbit.setValue(0)
        self.orbit.setMaximumWidth(160)
        self.orbit.setToolTip("Turn the camera around the character (degrees); double-click the label to reset")
        self.orbit.valueChanged.connect(lambda *_: self._orbit_changed())
        top.addWidget(self.orbit)
        self.orbit_label = QtWidgets.QLabel("0°")
        self.orbit_label.setMinimumWidth(36)
        top.addWidget(self.orbit_label)
        layout.addLayout(top)
        self.stack = QtWidgets.QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.empty = QtWidgets.QLabel(
            "No clip yet.\nOpen one (Ctrl+O) or drop a BVH, AMC or CSV file on the panel to see the skeleton."
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #9e9e9e; font-size: 13pt; padding: 30px")
        self.stack.addWidget(self.empty)
        views = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(views)
        row.setContentsMargins(0, 0, 0, 0)
        self.stack.addWidget(views)
        self.projections = [_Projection(*view) for view in VIEWS]
        for projection in self.projections:
            row.addWidget(projection.widget)
        self._facing = np.zeros(0)
        self.setToolTip(
            "Grey: the original clip; coloured: the result in the current mode (left limbs blue, right limbs red, "
            "as in the error view). The views follow the character's root and facing"
        )
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

    def _orbit_changed(self) -> None:
        self.orbit_label.setText(f"{self.orbit.value()}°")
        self._draw()

    def _turn(self, points: np.ndarray, frame: int) -> np.ndarray:
        """Positions relative to the root, turned so the character faces +Z (plus the orbit)."""
        heading = (self._facing[frame] if frame < len(self._facing) else 0.0) + np.radians(self.orbit.value())
        c, s_ = np.cos(heading), np.sin(heading)
        out = np.array(points, dtype=np.float64, copy=True)
        x, z = out[..., 0].copy(), out[..., 2].copy()
        out[..., 0] = c * x - s_ * z
        out[..., 2] = s_ * x + c * z
        return out

    def set_clip(self, data: ClipData | None) -> None:
        if data is None:
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        skeleton = data.clip.skeleton
        self._parents = np.asarray(skeleton.parents)
        bone_parents = [int(p) - 1 if p > 0 else -1 for p in skeleton.parents[1:]]
        self._colours = style.joint_colors(skeleton.num_bones, list(skeleton.names[1:]), bone_parents)
        self._facing = facing_angles(data.positions, list(skeleton.names), data.clip.fps)
        relative = data.positions - data.positions[:, :1]
        reach = float(np.linalg.norm(relative[..., [0, 2]], axis=-1).max())
        # The floor where the feet touch down: the lowest joint per frame, at its usual low (robust to a jump).
        lowest = data.positions[..., 1].min(axis=1)
        floor = float(np.percentile(lowest, 5)) if len(lowest) else 0.0
        self._floor = floor
        top = float(data.positions[..., 1].max())
        for projection in self.projections:
            projection.set_bones(skeleton.num_bones, self._colours)
            projection.floor.setValue(floor)
            half = reach * 1.1 + 5
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
        original = self._turn(original - original[:1] * np.array([1.0, 0.0, 1.0]), frame)
        shown = self._turn(shown - data.positions[frame, :1] * np.array([1.0, 0.0, 1.0]), frame)
        for projection in self.projections:
            a = projection.axis
            centre = 0.0
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
        self.caption.setText(
            f"Frame {frame}   {frame / fps:.2f} s   mode: {mode}   ({legend}; view follows the root and facing, "
            "floor at the feet)"
        )
