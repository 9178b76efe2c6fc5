"""The panel: clip, model and controls on the left; errors, skeleton, jobs on the right.

:class:`Panel` is one QWidget that ``maya_tool.maya.dock`` docks into Maya
(``MayaQWidgetDockableMixin`` / ``workspaceControl``) and that
:func:`run_standalone` (``mocap-ae panel``) puts in a QMainWindow. What it
shows comes from its :class:`~.controller.Controller`; what it changes goes
to its :class:`~.host.Host`, so the widget itself knows neither Maya nor the
standalone window.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import io as mio
from ..errors import MocapError
from ..jobs import JobStore
from ..corruption import CORRUPTIONS
from ..modes import MODES
from . import style
from .controller import ClipData, Controller, Evaluation
from .error_view import ErrorView
from .host import Host, StandaloneHost
from .jobrunner import JobRunner
from .jobs_view import JobsView
from .qt import QAction, QShortcut, QtCore, QtGui, QtWidgets, Qt, exec_
from .settings import Settings
from .skeleton_view import SkeletonView

MODEL_SUFFIXES = (".json", ".npz", ".keras")
NOISE_MAX = 0.5
NOISE_STEPS = 1000
NOISE_KNEE = (750, 0.1)
"""Slider step and sigma where its scale bends: the useful range 0-0.1 gets three quarters of the slider
(0.000133 per step), 0.1-0.5 the last quarter."""


def slider_to_sigma(step: int) -> float:
    """Noise sigma of a slider position (piecewise linear, see :data:`NOISE_KNEE`)."""
    knee, sigma_knee = NOISE_KNEE
    step = min(max(int(step), 0), NOISE_STEPS)
    if step <= knee:
        return round(step * sigma_knee / knee, 6)
    return round(sigma_knee + (step - knee) * (NOISE_MAX - sigma_knee) / (NOISE_STEPS - knee), 6)


def sigma_to_slider(sigma: float) -> int:
    """The slider position closest to a sigma (inverse of :func:`slider_to_sigma`)."""
    knee, sigma_knee = NOISE_KNEE
    sigma = min(max(float(sigma), 0.0), NOISE_MAX)
    if sigma <= sigma_knee:
        return int(round(sigma * knee / sigma_knee))
    return int(round(knee + (sigma - sigma_knee) * (NOISE_STEPS - knee) / (NOISE_MAX - sigma_knee)))


_JITTER_CACHE: dict[float, float] = {}


def jitter_degrees(sigma: float) -> float:
    """About how many degrees a joint turns under Gaussian noise of ``sigma``: the mean angle it adds.

    Measured as the noise module adds it (sigma per component, renormalised)
    on 4,000 fixed-seed samples, so the words next to the slider match the
    noisy mode's own mean angle error.
    """
    key = round(float(sigma), 6)
    if key not in _JITTER_CACHE:
        rng = np.random.default_rng(12345)
        q = np.zeros((4000, 4))
        q[:, 3] = 1.0
        q = q + key * rng.standard_normal(q.shape)
        q /= np.linalg.norm(q, axis=1, keepdims=True)
        angle = 2.0 * np.arctan2(np.linalg.norm(q[:, :3], axis=1), np.abs(q[:, 3]))
        _JITTER_CACHE[key] = float(np.degrees(angle.mean()))
    return _JITTER_CACHE[key]


def describe_noise(noise_type: str, sigma: float) -> str:
    """The noise setting in words an artist reads."""
    if noise_type == "pops":
        return "pops: 10-45° spikes for 1-3 frames, about 1 per joint every 2 s at 120 fps"
    if noise_type == "gaps":
        return "gaps: a joint freezes for 5-40 frames, about once per joint every 4 s"
    if sigma <= 0:
        text = "no jitter"
    else:
        degrees = jitter_degrees(sigma)
        text = f"about {degrees:.1f}° of jitter per joint" if degrees < 10 else f"about {degrees:.0f}° of jitter per joint"
    return ("capture: pops, gaps and " + text) if noise_type == "capture" else text
TABS = ("errors", "skeleton", "jobs")
MODE_HELP = {
    "original": "the clip as read (nothing to compare: errors are zero)",
    "encoded": "the clip through the model: what compression loses",
    "noisy": "the clip with the chosen noise type added",
    "denoised": "noisy, then the model: how well it cleans noise it did not see",
    "cleaned": "the model on the clip's own data, no added noise: for cleaning a real take (shows what it changed)",
}
"""What each mode shows, for the mode control's tooltips."""
NOISE_TYPE_HELP = {
    "gaussian": "the tutorial's jitter: sigma per quaternion component, seeded by frame",
    "pops": "marker swaps: a joint turns 10-45 degrees for 1-3 frames (rate 0.005 per joint and frame)",
    "gaps": "solver dropouts: a joint holds its value for 5-40 frames, then snaps back",
    "capture": "a solved optical take: pops, gaps and a light jitter (the sigma below)",
}


def list_model_infos(extra_dirs: list[str]) -> list[Any]:
    """Models in the default folders and the artist's own, as ``modelfile.ModelInfo``."""
    from ..models import modelfile

    dirs = list(modelfile.default_model_dirs())
    for folder in extra_dirs:
        if Path(folder) not in dirs:
            dirs.append(Path(folder))
    return modelfile.list_models(dirs)


_MASKS: dict[int, tuple[Any, Any]] = {}


def _animated_mask(clip: Any) -> Any:
    """``corruption.animated_mask`` of a clip, computed once per clip (the UI thread asks on every result)."""
    from ..corruption import animated_mask

    cached = _MASKS.get(id(clip))
    if cached is None or cached[0] is not clip:
        _MASKS.clear()
        cached = (clip, animated_mask(clip.joint_rotations))
        _MASKS[id(clip)] = cached
    return cached[1]


def animated_mean_angle(evaluation: Evaluation) -> float | None:
    """Mean angle error over the joints that move in the clip (issue 10's headline figure).

    Read from ``FrameErrors.summary()["animated"]`` when the evaluation module
    gives it, else computed from the same per-frame angles with
    ``corruption.animated_mask`` of the original clip.
    """
    summary = evaluation.summary()
    animated = summary.get("animated")
    if isinstance(animated, dict) and isinstance(animated.get("mean_angle_deg"), (int, float)):
        return float(animated["mean_angle_deg"])
    angle = np.asarray(evaluation.errors.angle_deg)
    mask = _animated_mask(evaluation.clip)
    if angle.size == 0 or not mask.any():
        return None
    return float(angle[:, mask].mean())


def describe_model(meta: dict[str, Any]) -> str:
    """Rich text of a model sidecar: what it is, what it saw, how well it did."""
    esc = html.escape
    lines = [f"<b>{esc(str(meta.get('name', '?')))}</b> &mdash; {esc(str(meta.get('architecture', '?')))}"]
    ratio, bits = meta.get("ratio"), meta.get("bits_per_frame")
    figures = []
    if isinstance(ratio, (int, float)):
        figures.append(f"ratio {ratio:.3g}:1")
    if isinstance(bits, (int, float)):
        figures.append(f"{bits:.0f} bits/frame")
    window = meta.get("window")
    if window:
        figures.append(f"window {window}")
    if figures:
        lines.append(", ".join(figures))
    training = meta.get("training") or {}
    if training:
        files = training.get("files") or []
        subjects = training.get("subjects") or []
        parts = [f"{len(files)} file{'s' if len(files) != 1 else ''}"]
        if subjects:
            parts.append("subjects " + ", ".join(str(s) for s in subjects[:8]) + ("..." if len(subjects) > 8 else ""))
        epochs = training.get("epochs_run", training.get("epochs"))
        if epochs is not None:
            parts.append(f"{epochs} epochs")
        sigma = _noise_sigma(training.get("noise"))
        parts.append(f"denoising, sigma {sigma}" if sigma else "clean inputs")
        lines.append("Trained on " + esc(", ".join(parts)))
    evaluation = meta.get("evaluation")
    if isinstance(evaluation, dict) and evaluation:
        lines.append("Evaluation: " + esc(_evaluation_figures(evaluation)))
    else:
        lines.append("<i>No evaluation figures in the sidecar</i>")
    if meta.get("created"):
        lines.append(f"<span style='color:#9e9e9e'>created {esc(str(meta['created'])[:19].replace('T', ' '))}</span>")
    return "<br>".join(lines)


def _noise_sigma(noise: Any) -> str:
    """'0.05' or '0-0.08' from a job's noise record (a number, a [lo, hi] pair, or {"sigma": ...})."""
    if isinstance(noise, dict):
        noise = noise.get("sigma")
    if isinstance(noise, (int, float)):
        return f"{noise:g}" if noise > 0 else ""
    if isinstance(noise, (list, tuple)) and len(noise) == 2 and max(noise) > 0:
        lo, hi = noise
        return f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
    return ""


def _evaluation_figures(evaluation: dict[str, Any]) -> str:
    """The headline numbers of an evaluation summary, whatever its nesting."""
    wanted = (("mean_angle_deg", "mean {:.2f}°"), ("p99_angle_deg", "p99 {:.2f}°"),
              ("mean_position_cm", "mean {:.2f} cm"), ("max_vertex_cm", "max vertex {:.2f} cm"))
    validation = evaluation.get("validation")
    if isinstance(validation, dict):
        figures = [
            f"{key} {validation[key]['mean_angle_deg']:.2f}°"
            for key in ("reconstruction", "denoised")
            if isinstance(validation.get(key), dict) and "mean_angle_deg" in validation[key]
        ]
        if figures:
            return "validation clips: " + ", ".join(figures)
    for source in (evaluation.get("reconstruction"), evaluation.get("denoised"), evaluation):
        if isinstance(source, dict) and any(k in source for k, _ in wanted):
            out = [fmt.format(float(source[k])) for k, fmt in wanted if isinstance(source.get(k), (int, float))]
            label = "reconstruction " if source is evaluation.get("reconstruction") else ""
            return label + ", ".join(out)
    numbers = [f"{k} {v:.3g}" for k, v in evaluation.items() if isinstance(v, (int, float))][:4]
    return ", ".join(numbers) or "present"


class TransportBar(QtWidgets.QWidget):
    """First/previous/play/next/last, a time slider and the frame number."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        def button(kind: str, tip: str, slot: Callable[[], None]) -> QtWidgets.QToolButton:
            b = QtWidgets.QToolButton()
            b.setIcon(style.media_icon(kind))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            layout.addWidget(b)
            return b

        self.first_button = button("first", "First frame (Home)", controller.first_frame)
        self.prev_button = button("prev", "Previous frame (Left, Alt+,)", lambda: controller.step(-1))
        self.play_button = button("play", "Play / pause (Space)", controller.toggle_play)
        self.next_button = button("next", "Next frame (Right, Alt+.)", lambda: controller.step(1))
        self.last_button = button("last", "Last frame (End)", controller.last_frame)
        self.slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Current time")
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(controller.set_frame)
        layout.addWidget(self.slider, 1)
        self.frame_box = QtWidgets.QSpinBox()
        self.frame_box.setRange(0, 0)
        self.frame_box.setToolTip("Current frame (0 = first frame of the clip)")
        self.frame_box.setKeyboardTracking(False)
        self.frame_box.valueChanged.connect(controller.set_frame)
        layout.addWidget(self.frame_box)
        self.time_label = QtWidgets.QLabel("0.00 s")
        self.time_label.setObjectName("figure")
        self.time_label.setMinimumWidth(110)
        layout.addWidget(self.time_label)
        controller.clipChanged.connect(self._clip_changed)
        controller.frameChanged.connect(self._frame_changed)
        controller.playingChanged.connect(
            lambda playing: self.play_button.setIcon(style.media_icon("pause" if playing else "play"))
        )

    def _clip_changed(self, data: ClipData | None) -> None:
        last = max(0, (data.clip.num_frames - 1) if data is not None else 0)
        for widget in (self.slider, self.frame_box):
            widget.blockSignals(True)
            widget.setRange(0, last)
            widget.blockSignals(False)
        self._frame_changed(self.controller.frame)

    def _frame_changed(self, frame: int) -> None:
        for widget in (self.slider, self.frame_box):
            if widget.value() != frame:
                widget.blockSignals(True)
                widget.setValue(frame)
                widget.blockSignals(False)
        clip = self.controller.clip
        if clip is not None:
            self.time_label.setText(f"{frame / clip.fps:.2f} / {clip.duration:.2f} s")


class Panel(QtWidgets.QWidget):
    """The mocap-ae panel, for any :class:`~.host.Host`.

    Args:
        host: Maya's host or :class:`~.host.StandaloneHost`.
        parent: Parent widget (Maya's main window when docked).
        settings: Where to remember things; default the user's settings.
        job_store: Job history; default ``~/.mocap-ae/jobs`` or the
            ``jobs_dir`` setting.
        training_python: Python for jobs; default the setting or detection.
    """

    def __init__(
        self,
        host: Host,
        parent: QtWidgets.QWidget | None = None,
        *,
        settings: Settings | None = None,
        job_store: JobStore | None = None,
        training_python: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mocapAePanel")
        self.setWindowTitle("mocap-ae")
        self.setStyleSheet(style.PANEL_STYLE)
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.host = host
        self.controller = Controller(host, self)
        jobs_dir = self.settings.get("jobs_dir")
        store = job_store or JobStore(jobs_dir if jobs_dir else None)
        python = training_python or self.settings.get("training_python") or None
        self.runner = JobRunner(store, python, self)
        self._model_infos: list[Any] = []
        self._closed = False
        self._build()
        self._connect()
        self._shortcuts()
        self.restore_settings()
        self.refresh_models()
        self.controller.sync_from_host()

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 4)
        outer.setSpacing(4)
        self.splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        outer.addWidget(self.splitter, 1)

        left = QtWidgets.QWidget()
        left_layout = QtWidgets.QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        left_layout.addWidget(self._clip_group())
        left_layout.addWidget(self._model_group())
        left_layout.addWidget(self._controls_group())
        left_layout.addWidget(self._result_group())
        left_layout.addStretch(1)
        scroll = QtWidgets.QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Never narrower than the controls need: fonts differ between Qt 5, Qt 6 and Maya.
        scroll.setMinimumWidth(max(280, left.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 6))
        self.left_scroll = scroll
        self.splitter.addWidget(scroll)

        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        self.tabs = QtWidgets.QTabWidget()
        self.error_view = ErrorView(self.controller)
        self.skeleton_view = SkeletonView(self.controller)
        self.jobs_view = JobsView(self.runner, self.controller, self.settings)
        self.tabs.addTab(self.error_view, "Errors")
        self.tabs.addTab(self.skeleton_view, "Skeleton")
        self.tabs.addTab(self.jobs_view, "Jobs")
        self.tabs.setTabToolTip(0, "Per-joint errors of the shown result against the original (Ctrl+Shift+1)")
        self.tabs.setTabToolTip(1, "Original and result from the front and the side (Ctrl+Shift+2)")
        self.tabs.setTabToolTip(2, "Retrain a model on your clips (Ctrl+Shift+3)")
        right_layout.addWidget(self.tabs, 1)
        self.transport = TransportBar(self.controller)
        right_layout.addWidget(self.transport)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([scroll.minimumWidth(), 1000])

        status = QtWidgets.QHBoxLayout()
        self.status = QtWidgets.QLabel("Open a clip (Ctrl+O) or drop a BVH, AMC or CSV file here")
        self.status.setObjectName("status")
        self.status.setProperty("level", "info")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setMinimumWidth(50)
        self.status.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        status.addWidget(self.status, 1)
        self.busy = QtWidgets.QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setMaximumWidth(110)
        self.busy.setMaximumHeight(14)
        self.busy.setTextVisible(False)
        self.busy.setToolTip("Working in the background")
        self.busy.setVisible(False)
        status.addWidget(self.busy)
        outer.addLayout(status)

    def _clip_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Clip")
        layout = QtWidgets.QVBoxLayout(box)
        row = QtWidgets.QHBoxLayout()
        self.open_button = QtWidgets.QPushButton("Open...")
        self.open_button.setToolTip("Open a BVH, ASF/AMC or CSV clip (Ctrl+O); you can also drop files on the panel")
        self.open_button.clicked.connect(self.browse_clip)
        self.recent_button = QtWidgets.QToolButton(text="Recent")
        self.recent_button.setToolTip("Clips opened before")
        self.recent_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recent_menu = QtWidgets.QMenu(self.recent_button)
        self.recent_button.setMenu(self.recent_menu)
        row.addWidget(self.open_button, 1)
        row.addWidget(self.recent_button)
        layout.addLayout(row)
        self.clip_label = QtWidgets.QLabel("No clip")
        self.clip_label.setWordWrap(True)
        self.clip_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.clip_label)
        grid = QtWidgets.QGridLayout()
        self.clip_figures: dict[str, QtWidgets.QLabel] = {}
        for i, (key, label) in enumerate((("frames", "Frames"), ("fps", "FPS"), ("joints", "Joints"), ("duration", "Duration"))):
            caption = QtWidgets.QLabel(label + ":")
            caption.setObjectName("caption")
            value = QtWidgets.QLabel("-")
            value.setObjectName("figure")
            grid.addWidget(caption, i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
            self.clip_figures[key] = value
        layout.addLayout(grid)
        return box

    def _model_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Model")
        layout = QtWidgets.QVBoxLayout(box)
        row = QtWidgets.QHBoxLayout()
        self.model_combo = QtWidgets.QComboBox()
        self.model_combo.setToolTip("Models found in the model folders (shipped, ~/.mocap-ae/models, $MOCAP_AE_MODELS, yours)")
        self.model_combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)
        self.model_combo.activated.connect(self._model_picked)
        row.addWidget(self.model_combo, 1)
        self.model_menu_button = QtWidgets.QToolButton(text="...")
        self.model_menu_button.setToolTip("Open a model file, add a model folder or rescan")
        self.model_menu_button.setPopupMode(QtWidgets.QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QtWidgets.QMenu(self.model_menu_button)
        menu.addAction("Open model file...", self.browse_model)
        menu.addAction("Add model folder...", self.browse_model_dir)
        menu.addAction("Rescan folders", self.refresh_models)
        self.model_menu_button.setMenu(menu)
        row.addWidget(self.model_menu_button)
        layout.addLayout(row)
        self.model_info = QtWidgets.QLabel("<i>No model: the original and noisy modes work without one</i>")
        self.model_info.setWordWrap(True)
        self.model_info.setTextFormat(Qt.TextFormat.RichText)
        self.model_info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.model_info)
        self.clean_button: QtWidgets.QPushButton | None = None
        if callable(getattr(self.host, "clean_selected", None)):
            self.clean_button = QtWidgets.QPushButton("Clean selected skeleton")
            self.clean_button.setToolTip(
                "Clean the selected skeleton's own animation with this model onto a new animation layer named after "
                "it (layer weight = strength; the original curves stay; one undo removes it)"
            )
            self.clean_button.clicked.connect(self.clean_selected_skeleton)
            layout.addWidget(self.clean_button)
        return box

    def clean_selected_skeleton(self) -> None:
        """The host's *Clean selected skeleton* with the current model; the outcome on the status line."""
        try:
            done = self.host.clean_selected(self.controller.model_path)  # type: ignore[attr-defined]
        except MocapError as exc:
            self.show_message(str(exc), "error")
            return
        flagged = done.get("flagged_times") or []
        where = f" (first at frame {flagged[0]:g})" if flagged else ""
        self.show_message(
            f"Cleaned onto layer {done['layer']}: mean change {done['mean_change_deg']:.2f} deg, "
            f"{done['events']} pops/dropouts found, {len(flagged)} flagged frames{where}"
        )

    def _controls_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Display")
        form = QtWidgets.QFormLayout(box)
        self.mode_combo = QtWidgets.QComboBox()
        for i, mode in enumerate(MODES):
            self.mode_combo.addItem(mode)
            self.mode_combo.setItemData(i, f"{mode}: {MODE_HELP[mode]} (Ctrl+{i + 1})", Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.setToolTip(
            "What is on screen: " + "; ".join(f"{m}: {MODE_HELP[m]}" for m in MODES)
            + f" (Ctrl+1..{len(MODES)}). In Maya the node's Encode follows this control."
        )
        self.mode_combo.currentTextChanged.connect(self.controller.set_mode)
        form.addRow("Mode:", self.mode_combo)
        self.noise_type_combo = QtWidgets.QComboBox()
        for i, name in enumerate(CORRUPTIONS):
            self.noise_type_combo.addItem(name)
            self.noise_type_combo.setItemData(i, f"{name}: {NOISE_TYPE_HELP.get(name, '')}", Qt.ItemDataRole.ToolTipRole)
        self.noise_type_combo.setToolTip(
            "What the noisy and denoised modes add: " + "; ".join(f"{n}: {NOISE_TYPE_HELP.get(n, '')}" for n in CORRUPTIONS)
        )
        self.noise_type_combo.currentTextChanged.connect(self.controller.set_noise_type)
        form.addRow("Noise type:", self.noise_type_combo)
        noise_row = QtWidgets.QHBoxLayout()
        self.noise_slider = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.noise_slider.setRange(0, NOISE_STEPS)
        self.noise_slider.setPageStep(75)
        self.noise_slider.setToolTip(
            "Noise sigma per quaternion component (noisy and denoised modes); the first three quarters of the "
            "slider cover 0-0.1, where noise looks like capture jitter"
        )
        self.noise_spin = QtWidgets.QDoubleSpinBox()
        self.noise_spin.setRange(0.0, NOISE_MAX)
        self.noise_spin.setDecimals(3)
        self.noise_spin.setSingleStep(0.005)
        self.noise_spin.setKeyboardTracking(False)
        self.noise_spin.setToolTip(self.noise_slider.toolTip())
        self.noise_slider.valueChanged.connect(lambda v: self.controller.set_noise(slider_to_sigma(v)))
        self.noise_spin.valueChanged.connect(self.controller.set_noise)
        noise_row.addWidget(self.noise_slider, 1)
        noise_row.addWidget(self.noise_spin)
        form.addRow("Noise:", noise_row)
        self.noise_words = QtWidgets.QLabel("")
        self.noise_words.setObjectName("caption")
        self.noise_words.setWordWrap(True)
        self.noise_words.setToolTip("What the noise setting does to a joint, in degrees")
        form.addRow("", self.noise_words)
        self.compare_check = QtWidgets.QCheckBox("Compare with the original")
        self.compare_check.setToolTip("Show the original next to the result (grey in the skeleton view; in Maya a second skeleton)")
        self.compare_check.toggled.connect(self.controller.set_compare)
        form.addRow("", self.compare_check)
        return box

    def _result_group(self) -> QtWidgets.QGroupBox:
        box = QtWidgets.QGroupBox("Result")
        grid = QtWidgets.QGridLayout(box)
        self.result_figures: dict[str, QtWidgets.QLabel] = {}
        rows = (("animated_mean_angle_deg", "Mean angle, moving joints"), ("mean_angle_deg", "Mean angle, all joints"),
                ("p99_angle_deg", "99th pct angle"), ("mean_position_cm", "Mean position"),
                ("max_vertex_cm", "Max vertex"), ("seconds", "Computed in"))
        for i, (key, label) in enumerate(rows):
            caption = QtWidgets.QLabel(label + ":")
            caption.setObjectName("caption")
            value = QtWidgets.QLabel("-")
            value.setObjectName("figure")
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(caption, i, 0)
            grid.addWidget(value, i, 1)
            self.result_figures[key] = value
        self.result_note = QtWidgets.QLabel("")
        self.result_note.setObjectName("caption")
        self.result_note.setWordWrap(True)
        grid.addWidget(self.result_note, len(rows), 0, 1, 2)
        grid.setColumnStretch(1, 1)
        box.setToolTip(
            "Errors of the shown result against the original clip (evaluate.frame_errors). Moving joints: those "
            "whose rotation moves more than 0.1 degree in the clip; joints that never move flatter any model"
        )
        return box

    def _connect(self) -> None:
        c = self.controller
        c.clipChanged.connect(self._clip_changed)
        c.modelChanged.connect(self._model_changed)
        c.stateChanged.connect(self._state_changed)
        c.evaluationChanged.connect(self._evaluation_changed)
        c.message.connect(self.show_message)
        c.busyChanged.connect(self.busy.setVisible)
        self.runner.message.connect(self.show_message)
        self.runner.jobFinished.connect(self._job_finished)
        self.jobs_view.modelRegistered.connect(self._model_registered)

    def _shortcuts(self) -> None:
        c = self.controller

        def add(keys: str, slot: Callable[[], None]) -> None:
            shortcut = QShortcut(QtGui.QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        add("Space", c.toggle_play)
        add("Right", lambda: c.step(1))
        add("Left", lambda: c.step(-1))
        add("Alt+.", lambda: c.step(1))
        add("Alt+,", lambda: c.step(-1))
        add("Home", c.first_frame)
        add("End", c.last_frame)
        add("Ctrl+O", self.browse_clip)
        for i, mode in enumerate(MODES):
            add(f"Ctrl+{i + 1}", lambda m=mode: self.mode_combo.setCurrentText(m))
        for i in range(self.tabs.count()):
            add(f"Ctrl+Shift+{i + 1}", lambda i=i: self.tabs.setCurrentIndex(i))

    # -------------------------------------------------------------- messages
    def show_message(self, text: str, level: str = "info") -> None:
        """Put a message on the status line (errors in red, never a dialog)."""
        self.status.setText(text)
        self.status.setToolTip(text)
        self.status.setProperty("level", level)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    # ------------------------------------------------------------------- clip
    def browse_clip(self) -> None:
        patterns = " ".join(f"*{s}" for s in mio.READABLE)
        start = os.path.dirname(self.controller.clip_path) if self.controller.clip_path else ""
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a clip", start, f"Motion files ({patterns})")
        if path:
            self.open_clip(path)

    def open_clip(self, path: os.PathLike[str] | str) -> None:
        """Load a clip in the background (status line and busy indicator show progress)."""
        self.controller.load_clip(path)

    def _clip_changed(self, data: ClipData | None) -> None:
        if data is None:
            return
        clip = data.clip
        name = os.path.basename(data.path) if data.path else "(in memory)"
        self.clip_label.setText(f"<b>{html.escape(name)}</b>")
        self.clip_label.setToolTip(data.path or "")
        self.clip_figures["frames"].setText(str(clip.num_frames))
        self.clip_figures["fps"].setText(f"{clip.fps:g}")
        self.clip_figures["joints"].setText(str(clip.skeleton.num_joints))
        self.clip_figures["duration"].setText(f"{clip.duration:.2f} s")
        if data.path:
            self.settings.add_recent_clip(data.path)
            self._rebuild_recent()

    def _rebuild_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent_clips()
        for path in recent:
            action = self.recent_menu.addAction(os.path.basename(path))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_clip(p))
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_button.setEnabled(bool(recent))

    def _clear_recent(self) -> None:
        self.settings.set("recent_clips", [])
        self._rebuild_recent()

    # ------------------------------------------------------------------ model
    def refresh_models(self) -> None:
        """Rescan the model folders and list what is there."""
        try:
            self._model_infos = list_model_infos(self.settings.model_dirs())
        except MocapError as exc:
            self.show_message(str(exc), "error")
            self._model_infos = []
        self._fill_model_combo()

    def _fill_model_combo(self) -> None:
        current = os.path.normcase(os.path.abspath(self.controller.model_path)) if self.controller.model_path else ""
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        self.model_combo.addItem("(no model)", "")
        index = 0
        paths = []
        for info in self._model_infos:
            path = str(info.path)
            paths.append(os.path.normcase(os.path.abspath(path)))
            self.model_combo.addItem(f"{info.name}  ({info.architecture}, {info.ratio:.3g}:1)", path)
            self.model_combo.setItemData(self.model_combo.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
            if paths[-1] == current:
                index = self.model_combo.count() - 1
        if current and current not in paths:
            name = getattr(self.controller.model, "name", Path(current).stem)
            self.model_combo.addItem(f"{name}  (file)", self.controller.model_path)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)
        self.model_combo.blockSignals(False)

    def _model_registered(self, sidecar: str) -> None:
        """A job wrote a model: make sure its folder is searched, then list it."""
        from ..models import modelfile

        folder = Path(sidecar).resolve().parent
        known = [Path(d).resolve() for d in modelfile.default_model_dirs()]
        if folder not in known:
            self.settings.add_model_dir(folder)
        self.refresh_models()

    def _job_finished(self, record: Any) -> None:
        """A job that rewrote the model in use: reload it, so the Model box and the results are the new model's."""
        current = self.controller.model_path
        if record.state != "done" or not record.model or not current:
            return
        from ..models import modelfile

        same = {os.path.normcase(os.path.abspath(p)) for p in (record.model, modelfile.sidecar_for(record.model))}
        if os.path.normcase(os.path.abspath(current)) in same or os.path.normcase(
            os.path.abspath(modelfile.sidecar_for(current))
        ) in same:
            self.controller.load_model(current)
            self.show_message(f"Job {record.spec.name} retrained the model in use: reloaded it", "info")

    def _model_picked(self, index: int) -> None:
        path = self.model_combo.itemData(index)
        if path:
            self.controller.load_model(path)
        else:
            self.controller.set_model(None)

    def browse_model(self) -> None:
        patterns = " ".join(f"*{s}" for s in MODEL_SUFFIXES)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a model", "", f"Models ({patterns})")
        if path:
            self.controller.load_model(path)

    def browse_model_dir(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Add a model folder")
        if folder:
            self.settings.add_model_dir(folder)
            self.refresh_models()

    def _model_changed(self, model: Any) -> None:
        self._fill_model_combo()
        if model is None:
            self.model_info.setText("<i>No model: the original and noisy modes work without one</i>")
        else:
            full = describe_model(dict(getattr(model, "meta", {}) or {}))
            # Two lines in the box (what it is, its ratio); the rest on hover, so Result stays in view at dock size.
            self.model_info.setText("<br>".join(full.split("<br>")[:2]))
            self.model_info.setToolTip(full)
            self.settings.set("model", self.controller.model_path)

    # -------------------------------------------------------------- controls
    def _state_changed(self, name: str, value: Any) -> None:
        if name == "mode" and self.mode_combo.currentText() != value:
            self.mode_combo.blockSignals(True)
            self.mode_combo.setCurrentText(value)
            self.mode_combo.blockSignals(False)
        elif name == "noise_type":
            if self.noise_type_combo.currentText() != value:
                self.noise_type_combo.blockSignals(True)
                self.noise_type_combo.setCurrentText(value)
                self.noise_type_combo.blockSignals(False)
            self._show_noise_words()
        elif name == "compare" and self.compare_check.isChecked() != value:
            self.compare_check.blockSignals(True)
            self.compare_check.setChecked(value)
            self.compare_check.blockSignals(False)
        elif name == "noise":
            self._show_noise(float(value))
        if name in ("mode", "noise", "noise_type", "compare", "unit"):
            self.settings.set(name, value)

    def _show_noise(self, sigma: float) -> None:
        """Keep slider and spin box on the same value without echoing it back."""
        step = sigma_to_slider(sigma)
        if self.noise_slider.value() != step and abs(slider_to_sigma(self.noise_slider.value()) - sigma) > 1e-9:
            self.noise_slider.blockSignals(True)
            self.noise_slider.setValue(step)
            self.noise_slider.blockSignals(False)
        if abs(self.noise_spin.value() - sigma) > 1e-9:
            self.noise_spin.blockSignals(True)
            self.noise_spin.setValue(sigma)
            self.noise_spin.blockSignals(False)
        self._show_noise_words()

    def _show_noise_words(self) -> None:
        noise_type = self.controller.noise_type
        self.noise_words.setText(describe_noise(noise_type, self.controller.noise))
        uses_sigma = noise_type in ("gaussian", "capture")
        self.noise_slider.setEnabled(uses_sigma)
        self.noise_spin.setEnabled(uses_sigma)

    def _evaluation_changed(self, evaluation: Evaluation | None) -> None:
        if evaluation is None:
            for label in self.result_figures.values():
                label.setText("-")
            return
        summary = dict(evaluation.summary())
        summary["animated_mean_angle_deg"] = animated_mean_angle(evaluation)
        units = {"animated_mean_angle_deg": "°", "mean_angle_deg": "°", "p99_angle_deg": "°",
                 "mean_position_cm": " cm", "max_vertex_cm": " cm"}
        pending = "..." if not getattr(evaluation, "complete", True) else "-"
        for key, suffix in units.items():
            value = summary.get(key)
            self.result_figures[key].setText(pending if value is None else f"{value:.3f}{suffix}")
        self.result_figures["seconds"].setText(f"{evaluation.seconds * 1000:.0f} ms")
        still = len(self.error_view.still_joints)
        if evaluation.mode == "cleaned":
            note = "Cleaned: no clean reference exists, so these figures are how much the model changed the take."
        elif evaluation.mode == "original":
            note = "Original: nothing changed, nothing to measure."
        else:
            note = ""
        if still:
            note = (note + " " if note else "") + f"{still} joint{'s' if still != 1 else ''} never move{'s' if still == 1 else ''}."
        self.result_note.setText(note)

    # ----------------------------------------------------------- drag & drop
    def dragEnterEvent(self, event: QtGui.QDragEnterEvent) -> None:  # noqa: N802
        if self._dropped_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QtGui.QDropEvent) -> None:  # noqa: N802
        paths = self._dropped_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_dropped(paths)

    def open_dropped(self, paths: list[str]) -> None:
        """Open dropped files: motion files as the clip, model files as the model."""
        for path in paths:
            if Path(path).suffix.lower() in MODEL_SUFFIXES:
                self.controller.load_model(path)
            else:
                self.open_clip(path)

    @staticmethod
    def _dropped_paths(mime: QtCore.QMimeData) -> list[str]:
        if not mime.hasUrls():
            return []
        wanted = tuple(mio.READABLE) + MODEL_SUFFIXES
        paths = [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]
        return [p for p in paths if Path(p).suffix.lower() in wanted]

    # --------------------------------------------------------------- settings
    def restore_settings(self) -> None:
        """Controls, tab and splitters as the artist left them."""
        s = self.settings
        mode = s.get("mode", "original")
        if mode in MODES:
            self.controller.set_mode(mode)
        noise_type = s.get("noise_type", "gaussian")
        if noise_type in CORRUPTIONS:
            self.controller.set_noise_type(noise_type)
        self.controller.set_noise(float(s.get("noise", 0.05)))
        self.controller.set_compare(bool(s.get("compare", True)))
        self.controller.set_unit(str(s.get("unit", "angle")))
        for name in ("mode", "noise", "noise_type", "compare"):
            self._state_changed(name, getattr(self.controller, name))
        tab = s.get("tab", "errors")
        if tab in TABS:
            self.tabs.setCurrentIndex(TABS.index(tab))
        for key, splitter in self._splitters().items():
            state = s.get_bytes(f"layout/{key}")
            if state is not None:
                splitter.restoreState(state)
        self._rebuild_recent()
        model = s.get("model")
        if model and not self.controller.model_path and Path(model).exists():
            self.controller.load_model(model)

    def save_settings(self) -> None:
        s = self.settings
        s.set("tab", TABS[self.tabs.currentIndex()])
        for key, splitter in self._splitters().items():
            s.set_bytes(f"layout/{key}", splitter.saveState())
        s.sync()

    def _splitters(self) -> dict[str, QtWidgets.QSplitter]:
        return {
            "main": self.splitter,
            "errors": self.error_view.splitter,
            "error_plots": self.error_view.plots_splitter,
            "error_bottom": self.error_view.bottom_splitter,
            "jobs": self.jobs_view.splitter,
            "jobs_right": self.jobs_view.right_splitter,
        }

    # ----------------------------------------------------------------- close
    def shutdown(self) -> None:
        """Save settings and stop timers and workers; jobs keep running. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self.save_settings()
        self.runner.close()
        self.controller.close()

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    def wait_idle(self, timeout_ms: int = 30000) -> bool:
        """Process events until background work is done (scripts, screenshots, tests)."""
        clock = QtCore.QElapsedTimer()
        clock.start()
        app = QtWidgets.QApplication.instance()
        while self.controller.busy and clock.elapsed() < timeout_ms:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            QtCore.QThread.msleep(5)
        app.processEvents()
        return not self.controller.busy


def create_panel(host: Host | None = None, parent: QtWidgets.QWidget | None = None, **options: Any) -> Panel:
    """The panel for a host (default: a :class:`~.host.StandaloneHost`).

    ``maya_tool.maya.dock`` calls this with its MayaHost and Maya's main
    window (or a workspaceControl) as parent; ``options`` go to :class:`Panel`.
    """
    return Panel(host if host is not None else StandaloneHost(), parent, **options)


class StandaloneWindow(QtWidgets.QMainWindow):
    """``mocap-ae panel``: the panel in a window of its own, Maya not needed."""

    def __init__(self, panel: Panel) -> None:
        super().__init__()
        self.panel = panel
        self.setWindowTitle("mocap-ae panel")
        self.setCentralWidget(panel)
        menu = self.menuBar().addMenu("&File")
        open_action = QAction("&Open clip...", self)
        open_action.triggered.connect(panel.browse_clip)
        menu.addAction(open_action)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QtGui.QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)
        geometry = panel.settings.get_bytes("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1400, 860)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802
        self.panel.settings.set_bytes("window/geometry", self.saveGeometry())
        self.panel.shutdown()
        super().closeEvent(event)


def run_standalone(
    clip: str | None = None,
    model: str | None = None,
    *,
    mode: str | None = None,
    noise: float | None = None,
    screenshot: str | None = None,
    tab: str | None = None,
    frame: int | None = None,
    size: tuple[int, int] | None = None,
    settings: Settings | None = None,
    job_store: JobStore | None = None,
) -> int:
    """Open the panel in a window; with ``screenshot``, save a PNG and quit.

    Returns:
        The process exit code: 0, or 2 when the clip or model could not be
        loaded for a screenshot (the reason is printed on stderr).
    """
    from .qt import application

    app = application()
    style.apply_dark_theme(app)
    panel = create_panel(StandaloneHost(), settings=settings, job_store=job_store)
    window = StandaloneWindow(panel)
    if size is not None:
        window.resize(*size)
    errors: list[str] = []

    def remember_error(text: str, level: str) -> None:
        if level == "error":
            errors.append(text)

    panel.controller.message.connect(remember_error)
    if mode is not None:
        panel.mode_combo.setCurrentText(mode)
    if noise is not None:
        panel.controller.set_noise(noise)
    if model:
        panel.controller.load_model(resolve_model(model, panel.settings.model_dirs()))
        panel.wait_idle()
    if clip:
        panel.open_clip(clip)
        panel.wait_idle()
    if frame is not None:
        panel.controller.set_frame(frame)
    if tab in TABS:
        panel.tabs.setCurrentIndex(TABS.index(tab))
    window.show()
    if screenshot:
        panel.wait_idle()
        for _ in range(3):
            app.processEvents()
        window.grab().save(os.fspath(screenshot))
        window.close()
        if errors:
            raise MocapError(errors[0])
        return 0
    return int(exec_(app) or 0)


def resolve_model(name_or_path: str, extra_dirs: list[str]) -> str:
    """A model path from a path or a registered name (``--model pose-cmu``)."""
    from ..models import modelfile

    dirs = list(modelfile.default_model_dirs()) + [Path(d) for d in extra_dirs]
    return str(modelfile.find_model(name_or_path, dirs))
