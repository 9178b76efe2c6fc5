"""Retraining from the panel: a form, live progress and the job history.

The widgets only collect what to train and show what :class:`~.jobrunner.JobRunner`
reports; jobs run as separate processes, so nothing here waits on training.
A finished job's model is one click away from the clip on screen; a failed
job shows the last lines its process wrote and leaves the current model alone;
a cancelled job resumes from its checkpoint with one click, and its loss curve
goes on where it stopped (the runs share one events file).
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg

from .. import io as mio
from ..errors import MocapError
from ..jobs import JobRecord
from . import style
from .controller import Controller, error_text
from ..jobs import latest_run as jobs_latest_events, parse_time
from .jobrunner import BEST_PRESET, PRESET_HELP, PRESETS, JobRunner, can_resume, make_spec
from .qt import QtCore, QtWidgets, Qt, Signal, exec_
from .settings import Settings

HISTORY_COLUMNS = ("Name", "Architecture", "State", "Started", "Duration", "Loss", "Model")


def _duration(record: JobRecord) -> str:
    start, end = parse_time(record.started), parse_time(record.finished)
    if start is None:
        return ""
    if end is None:
        end = datetime.now(start.tzinfo)
    seconds = max(0, int((end - start).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d}"


def format_eta(seconds: float | None) -> str:
    """``ETA 3:07`` for the progress line; empty before the first estimate."""
    if seconds is None or not np.isfinite(seconds):
        return ""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    return f"ETA {hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"ETA {rest // 60}:{rest % 60:02d}"


def model_folder(output_dir: str | None) -> Path:
    """Where a job with this output setting writes its model (the form's default: the user's model folder)."""
    from ..models import modelfile

    return Path(output_dir).expanduser() if output_dir else modelfile.user_model_dir()


def default_job_name(preset: str, clip_path: str | None) -> str:
    """A valid model name from the preset and the clip, e.g. ``pose-07_01``."""
    stem = Path(clip_path).stem if clip_path else datetime.now().strftime("%m%d-%H%M")
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{preset}-{stem}").strip("-_")
    return name[:64] or "model"


STARTING_TEXT = "starting: loading the data and TensorFlow (about 10 s)..."
"""What the progress bar says between launch and the first training step."""


class EpochAxis(pg.AxisItem):
    """An epoch axis: whole-number ticks only (there is no epoch 2.5)."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802,N803
        ticks = []
        for spacing, values in super().tickValues(minVal, maxVal, size):
            if spacing < 1:
                continue
            ints = [v for v in values if abs(v - round(v)) < 1e-9 and v >= 1]
            if ints:
                ticks.append((spacing, ints))
        if not ticks and maxVal >= 1:
            ticks.append((1.0, [float(v) for v in range(max(1, int(np.ceil(minVal))), int(maxVal) + 1)]))
        return ticks


class JobsView(QtWidgets.QWidget):
    """The Jobs tab: new-job form, the followed job's progress and losses, history.

    Signals:
        modelRegistered(str): a job finished and wrote this model sidecar.
    """

    modelRegistered = Signal(str)

    def __init__(
        self, runner: JobRunner, controller: Controller, settings: Settings, parent: QtWidgets.QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.controller = controller
        self.settings = settings
        self._shown_job: str | None = None
        self._follow_running = True
        self._final_losses: dict[str, str] = {}
        """Final loss of settled jobs, so their events are read once (dropped when a job resumes)."""
        self._replot_timer = QtCore.QTimer(self)
        self._replot_timer.setSingleShot(True)
        self._replot_timer.setInterval(0)
        self._replot_timer.timeout.connect(self._replot)
        self._build()
        runner.jobsChanged.connect(self.refresh_history)
        runner.jobEvent.connect(self._job_event)
        runner.jobFinished.connect(self._job_finished)
        runner.pythonChanged.connect(lambda python: self.python.setPlaceholderText(python))
        controller.clipChanged.connect(lambda data: self._suggest_name())
        self.refresh_history()
        running = runner.running()
        if running:
            self.show_job(running[0].id)

    # ----------------------------------------------------------------- layout
    def _build(self) -> None:
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        splitter = QtWidgets.QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout.addWidget(splitter)

        form_box = QtWidgets.QGroupBox("New training job")
        form_layout = QtWidgets.QVBoxLayout(form_box)
        form_layout.addWidget(QtWidgets.QLabel("Training clips and folders:"))
        self.inputs = QtWidgets.QListWidget()
        self.inputs.setToolTip("BVH, ASF/AMC and CSV files, or folders searched recursively")
        self.inputs.setMinimumHeight(70)
        self.inputs.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.inputs.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.inputs.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.ExtendedSelection)
        form_layout.addWidget(self.inputs, 1)
        row = QtWidgets.QHBoxLayout()
        self.add_clip_button = QtWidgets.QPushButton("Current clip")
        self.add_clip_button.setToolTip("Add the clip loaded in the panel")
        self.add_clip_button.clicked.connect(self.add_current_clip)
        self.add_files_button = QtWidgets.QPushButton("Files...")
        self.add_files_button.setToolTip("Add motion files")
        self.add_files_button.clicked.connect(self._browse_files)
        self.add_folder_button = QtWidgets.QPushButton("Folder...")
        self.add_folder_button.setToolTip("Add a folder of motion files (searched recursively)")
        self.add_folder_button.clicked.connect(self._browse_folder)
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected entries")
        self.remove_button.clicked.connect(self._remove_inputs)
        for button in (self.add_clip_button, self.add_files_button, self.add_folder_button, self.remove_button):
            row.addWidget(button)
        form_layout.addLayout(row)

        grid = QtWidgets.QFormLayout()
        grid.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.preset = QtWidgets.QComboBox()
        for i, name in enumerate(PRESETS):
            self.preset.addItem(name)
            self.preset.setItemData(i, PRESET_HELP[name], Qt.ItemDataRole.ToolTipRole)
        self.preset.setToolTip("Architecture preset; hover an entry for what it trains")
        self.preset.currentIndexChanged.connect(self._preset_changed)
        grid.addRow("Architecture:", self.preset)
        self.name = QtWidgets.QLineEdit()
        self.name.setToolTip("Model name: the files NAME.json/.npz/.keras in the output folder")
        grid.addRow("Model name:", self.name)
        self.epochs = QtWidgets.QSpinBox()
        self.epochs.setRange(1, 100000)
        self.epochs.setValue(50)
        self.epochs.setToolTip("Epochs to run (early stopping may finish sooner)")
        grid.addRow("Epochs:", self.epochs)
        self.noise = QtWidgets.QDoubleSpinBox()
        self.noise.setRange(0.0, 1.0)
        self.noise.setDecimals(3)
        self.noise.setSingleStep(0.01)
        self.noise.setToolTip("Denoising training: noise sigma added to the inputs (0 = plain autoencoder)")
        grid.addRow("Denoising noise:", self.noise)
        self.batch_size = QtWidgets.QSpinBox()
        self.batch_size.setRange(0, 65536)
        self.batch_size.setSpecialValueText("default")
        self.batch_size.setToolTip(
            "Frames (windows, temporal) per training step; smaller batches take more, noisier steps (default: the "
            "architecture's)"
        )
        grid.addRow("Batch size:", self.batch_size)
        self.sparsity = QtWidgets.QLineEdit()
        self.sparsity.setPlaceholderText("default")
        self.sparsity.setToolTip("L1 activity penalty of the sparse preset, e.g. 1e-6 (empty: the default)")
        grid.addRow("Sparsity:", self.sparsity)
        out_row = QtWidgets.QHBoxLayout()
        self.output_dir = QtWidgets.QLineEdit()
        self.output_dir.setPlaceholderText("~/.mocap-ae/models")
        self.output_dir.setToolTip("Where the model is written; the default folder is listed in the model picker")
        out_browse = QtWidgets.QToolButton(text="...")
        out_browse.setToolTip("Pick the output folder")
        out_browse.clicked.connect(self._browse_output)
        out_row.addWidget(self.output_dir, 1)
        out_row.addWidget(out_browse)
        grid.addRow("Output folder:", out_row)
        py_row = QtWidgets.QHBoxLayout()
        self.python = QtWidgets.QLineEdit(self.settings.get("training_python", "") or "")
        self.python.setPlaceholderText(self.runner.python or "detecting...")
        self.python.setToolTip(
            "Python with TensorFlow that runs training jobs (empty: detect; inside Maya mayapy is not used)"
        )
        self.python.editingFinished.connect(self._python_changed)
        py_browse = QtWidgets.QToolButton(text="...")
        py_browse.setToolTip("Pick the Python executable")
        py_browse.clicked.connect(self._browse_python)
        py_row.addWidget(self.python, 1)
        py_row.addWidget(py_browse)
        grid.addRow("Training Python:", py_row)
        where_row = QtWidgets.QHBoxLayout()
        self.where = QtWidgets.QComboBox()
        self.where.addItems(["This machine", "Ray cluster at"])
        self.where.setToolTip(
            "Where the job trains: here, or on a Ray cluster (needs mocap-ae[cluster]); a cluster job's clips and "
            "output folder must be on a drive the cluster sees under the same path"
        )
        self.ray_address = QtWidgets.QLineEdit(str(self.settings.get("ray_address", "") or ""))
        self.ray_address.setPlaceholderText("http://HOST:8265 (the cluster's dashboard)")
        self.where.setCurrentIndex(1 if self.settings.get("job_where", "") == "ray" else 0)
        self.ray_address.setEnabled(self.where.currentIndex() == 1)
        self.where.currentIndexChanged.connect(self._where_changed)
        self.ray_address.editingFinished.connect(self._where_changed)
        where_row.addWidget(self.where)
        where_row.addWidget(self.ray_address, 1)
        grid.addRow("Run on:", where_row)
        form_layout.addLayout(grid)

        buttons = QtWidgets.QHBoxLayout()
        self.start_button = QtWidgets.QPushButton("Start")
        self.start_button.setToolTip("Queue the job; it runs as a separate process (one at a time)")
        self.start_button.clicked.connect(self.start_job)
        self.cancel_button = QtWidgets.QPushButton("Cancel job")
        self.cancel_button.setToolTip("Stop the shown job: it saves a checkpoint and can be resumed")
        self.cancel_button.clicked.connect(self.cancel_shown)
        self.resume_button = QtWidgets.QPushButton("&Resume job")
        self.resume_button.setToolTip(
            "Go on with the shown cancelled job from its checkpoint, under the same name; it waits while another "
            "job runs (Alt+R, or Enter when focused)"
        )
        self.resume_button.clicked.connect(self.resume_shown)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.resume_button)
        form_layout.addLayout(buttons)
        self.form_message = QtWidgets.QLabel("")
        self.form_message.setObjectName("formMessage")
        self.form_message.setWordWrap(True)
        self.form_message.setStyleSheet("color: #ff8a80")
        form_layout.addWidget(self.form_message)
        form_box.setMinimumWidth(300)
        splitter.addWidget(form_box)

        right = QtWidgets.QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        self.right_splitter = right
        progress_box = QtWidgets.QGroupBox("Job")
        progress_layout = QtWidgets.QVBoxLayout(progress_box)
        head = QtWidgets.QHBoxLayout()
        self.job_title = QtWidgets.QLabel("No job yet")
        self.job_title.setStyleSheet("font-weight: bold")
        self.eta = QtWidgets.QLabel("")
        self.eta.setObjectName("figure")
        head.addWidget(self.job_title, 1)
        head.addWidget(self.eta)
        progress_layout.addLayout(head)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setFormat("%p%")
        progress_layout.addWidget(self.progress)
        self.loss_plot = pg.PlotWidget(background=style.PLOT_BACKGROUND, axisItems={"bottom": EpochAxis("bottom")})
        plot = self.loss_plot.getPlotItem()
        plot.setTitle("Reconstruction error per epoch", color=style.FOREGROUND, size="10pt")
        plot.setLabel("bottom", "Epoch")
        plot.setLabel("left", "Reconstruction error (MSE)")
        plot.setLogMode(y=True)
        for axis in ("left", "bottom"):
            plot.getAxis(axis).enableAutoSIPrefix(False)
        plot.showGrid(x=True, y=True, alpha=style.GRID_ALPHA)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        self.legend = plot.addLegend(offset=(-10, 10))
        self.loss_curve = pg.PlotDataItem([], [], pen=pg.mkPen(style.LOSS, width=2), symbol="o", symbolSize=5,
                                          symbolBrush=style.LOSS, name="on the training clips")
        self.val_curve = pg.PlotDataItem([], [], pen=pg.mkPen(style.VAL_LOSS, width=2), symbol="o", symbolSize=5,
                                         symbolBrush=style.VAL_LOSS, name="on held-back validation clips")
        plot.addItem(self.loss_curve)
        plot.addItem(self.val_curve)
        self.loss_empty = pg.TextItem("", color=style.FOREGROUND, anchor=(0.5, 0.5))
        self.loss_empty.setParentItem(plot.getViewBox())
        self.loss_plot.setMinimumHeight(150)
        self.loss_plot.getPlotItem().getViewBox().sigResized.connect(self._place_loss_message)
        progress_layout.addWidget(self.loss_plot, 1)
        self.log = QtWidgets.QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(200)
        self.log.setPlaceholderText("The job's last log lines appear here when it fails")
        self.log.setMaximumHeight(90)
        progress_layout.addWidget(self.log)
        right.addWidget(progress_box)

        history_box = QtWidgets.QGroupBox("History")
        history_layout = QtWidgets.QVBoxLayout(history_box)
        self.history = QtWidgets.QTreeWidget()
        self.history.setColumnCount(len(HISTORY_COLUMNS))
        self.history.setHeaderLabels(list(HISTORY_COLUMNS))
        self.history.setRootIsDecorated(False)
        self.history.header().setStretchLastSection(False)
        self.history.setUniformRowHeights(True)
        self.history.setToolTip("Jobs run from any panel; select one to see its losses and log")
        self.history.itemSelectionChanged.connect(self._history_selected)
        self.history.itemDoubleClicked.connect(lambda item, column: self.load_selected_model())
        history_layout.addWidget(self.history, 1)
        hbuttons = QtWidgets.QHBoxLayout()
        self.load_button = QtWidgets.QPushButton("Load model")
        self.load_button.setToolTip("Use the selected job's model on the current clip")
        self.load_button.clicked.connect(self.load_selected_model)
        self.log_button = QtWidgets.QPushButton("Show log")
        self.log_button.setToolTip("Show the last lines of the selected job's log")
        self.log_button.clicked.connect(lambda: self._show_log(self._shown_job))
        hbuttons.addWidget(self.load_button)
        hbuttons.addWidget(self.log_button)
        hbuttons.addStretch(1)
        history_layout.addLayout(hbuttons)
        right.addWidget(history_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        for button in self.findChildren(QtWidgets.QPushButton):
            button.setAutoDefault(True)  # Enter clicks the focused button, as in a dialog
        self._restore_form()
        self._preset_changed()
        self._update_buttons()
        self._plot_losses([])
        for widget in (self.preset, self.epochs, self.noise, self.batch_size):
            signal = widget.currentIndexChanged if widget is self.preset else widget.valueChanged
            signal.connect(lambda *_: self._save_form())
        self.output_dir.editingFinished.connect(self._save_form)
        self.sparsity.editingFinished.connect(self._save_form)

    FORM_KEY = "job_form"

    def _restore_form(self) -> None:
        """The form as the artist left it; the best architecture the first time, never ``pose``."""
        saved = self.settings.get(self.FORM_KEY, {}) or {}
        saved = saved if isinstance(saved, dict) else {}
        preset = saved.get("preset", BEST_PRESET)
        self.preset.setCurrentText(preset if preset in PRESETS else BEST_PRESET)
        for key, widget in (("epochs", self.epochs), ("batch_size", self.batch_size)):
            if isinstance(saved.get(key), int):
                widget.setValue(saved[key])
        if isinstance(saved.get("noise"), (int, float)):
            self.noise.setValue(float(saved["noise"]))
        self.output_dir.setText(str(saved.get("output_dir", "") or ""))
        self.sparsity.setText(str(saved.get("sparsity", "") or ""))

    def _save_form(self) -> None:
        self.settings.set(self.FORM_KEY, {
            "preset": self.preset.currentText(), "epochs": self.epochs.value(), "noise": self.noise.value(),
            "batch_size": self.batch_size.value(), "output_dir": self.output_dir.text().strip(),
            "sparsity": self.sparsity.text().strip(),
        })

    # ------------------------------------------------------------------ form
    def add_input(self, path: os.PathLike[str] | str) -> None:
        path = os.fspath(path)
        existing = [self.inputs.item(i).text() for i in range(self.inputs.count())]
        if path and path not in existing:
            self.inputs.addItem(path)
            self.inputs.item(self.inputs.count() - 1).setToolTip(path)

    def input_paths(self) -> list[str]:
        return [self.inputs.item(i).text() for i in range(self.inputs.count())]

    def add_current_clip(self) -> None:
        if not self.controller.clip_path:
            self.controller.message.emit("load a clip first (it is then offered as training data)", "warning")
            return
        self.add_input(self.controller.clip_path)
        self._suggest_name()

    def _browse_files(self) -> None:
        patterns = " ".join(f"*{s}" for s in mio.READABLE)
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(self, "Training clips", "", f"Motion files ({patterns})")
        for path in paths:
            self.add_input(path)

    def _browse_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder of training clips")
        if folder:
            self.add_input(folder)

    def _browse_output(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Output folder for the model")
        if folder:
            self.output_dir.setText(folder)

    def _browse_python(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Python with TensorFlow")
        if path:
            self.python.setText(path)
            self._python_changed()

    def _remove_inputs(self) -> None:
        for item in self.inputs.selectedItems():
            self.inputs.takeItem(self.inputs.row(item))

    def _python_changed(self) -> None:
        value = self.python.text().strip()
        self.settings.set("training_python", value)
        self.runner.set_python(value or None)

    def _where_changed(self, *args: Any) -> None:
        """Remember where jobs run (this machine or a cluster address) for the next session."""
        on_cluster = self.where.currentIndex() == 1
        self.ray_address.setEnabled(on_cluster)
        self.settings.set("job_where", "ray" if on_cluster else "local")
        self.settings.set("ray_address", self.ray_address.text().strip())

    def cluster_address(self) -> str | None:
        """The Ray address new jobs go to, None for this machine.

        Raises:
            MocapError: A cluster is chosen but no address given.
        """
        if self.where.currentIndex() != 1:
            return None
        address = self.ray_address.text().strip()
        if not address:
            raise MocapError("give the Ray cluster's address (e.g. http://HOST:8265), or run on this machine")
        return address

    def _preset_changed(self, *args: Any) -> None:
        self.sparsity.setEnabled(PRESETS[self.preset.currentText()][0] == "sparse")
        self._suggest_name()

    def _suggest_name(self) -> None:
        current = self.name.text()
        if not current or current == getattr(self, "_suggested", None):
            self._suggested = default_job_name(self.preset.currentText(), self.controller.clip_path or None)
            self.name.setText(self._suggested)

    def spec_from_form(self) -> Any:
        """The :class:`~maya_tool.jobs.JobSpec` the form describes.

        Raises:
            MocapError: With the field that is wrong.
        """
        text = self.sparsity.text().strip()
        sparsity = None
        if text and self.sparsity.isEnabled():
            try:
                sparsity = float(text)
            except ValueError:
                raise MocapError(f"sparsity must be a number such as 1e-6, got {text!r}") from None
        inputs = self.input_paths()
        if not inputs:
            raise MocapError(
                "nothing to train on: add clips or folders to the list above (Current clip, Files..., Folder...)"
            )
        return make_spec(
            self.name.text().strip(),
            inputs,
            self.preset.currentText(),
            epochs=self.epochs.value(),
            noise=self.noise.value(),
            batch_size=self.batch_size.value() or None,
            sparsity=sparsity,
            output_dir=self.output_dir.text().strip() or None,
        )

    def name_clash(self, name: str, output_dir: str | None) -> str:
        """Why a job named ``name`` would replace something ("" when nothing).

        A model file of that name in the output folder, or a queued or running
        job writing there under that name (Start pressed twice).
        """
        folder = model_folder(output_dir).resolve()
        for record in self.runner.records():
            if record.state in ("queued", "running") and record.spec.name == name:
                if model_folder(record.spec.output_dir).resolve() == folder:
                    return f"job {name} is already {record.state} and writes the model {name} in {folder}"
        sidecar = folder / f"{name}.json"
        if sidecar.exists():
            in_use = self.controller.model_path and Path(self.controller.model_path).resolve() == sidecar.resolve()
            return f"a model named {name} already exists in {folder}" + (" (it is the model in use)" if in_use else "")
        return ""

    def unique_name(self, name: str, output_dir: str | None) -> str:
        """``name-2``, ``name-3``...: the first name that replaces nothing."""
        stem = re.sub(r"-\d+$", "", name) or name
        for n in range(2, 10000):
            candidate = f"{stem}-{n}"[:64]
            if not self.name_clash(candidate, output_dir):
                return candidate
        raise MocapError(f"no free model name like {name}: pick another name")

    def _ask_about_clash(self, name: str, reason: str, unique: str) -> str:
        """Ask before replacing a model: ``rename`` (the default), ``overwrite`` or ``cancel``."""
        box = QtWidgets.QMessageBox(self)
        box.setObjectName("nameClash")
        box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
        box.setWindowTitle("Model name in use")
        box.setText(f"{reason[:1].upper()}{reason[1:]}.")
        box.setInformativeText(
            f"Train under the new name {unique}, or replace {name} (its current files are lost when the job finishes)?"
        )
        rename = box.addButton(f"Use {unique}", QtWidgets.QMessageBox.ButtonRole.AcceptRole)
        overwrite = box.addButton(f"Replace {name}", QtWidgets.QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(rename)
        exec_(box)
        clicked = box.clickedButton()
        box.deleteLater()
        return "rename" if clicked is rename else "overwrite" if clicked is overwrite else "cancel"

    def start_job(self) -> JobRecord | None:
        """Queue the form's job; problems go to the status line.

        A job never replaces a model, or a job already queued under the same
        name, without the artist's word: the question defaults to a new
        unique name.
        """
        try:
            spec = self.spec_from_form()
            reason = self.name_clash(spec.name, spec.output_dir)
            if reason:
                unique = self.unique_name(spec.name, spec.output_dir)
                choice = self._ask_about_clash(spec.name, reason, unique)
                if choice == "cancel":
                    self.controller.message.emit(f"Job {spec.name} not started", "info")
                    return None
                if choice == "rename":
                    spec.name = unique
                    self.name.setText(unique)
                    self._suggested = unique
            record = self.runner.submit(spec, ray_address=self.cluster_address())
        except (MocapError, ValueError, OSError) as exc:
            # Said where the artist looks (under Start), and on the status line.
            self.form_message.setText(error_text(exc))
            if not self.input_paths():
                self.inputs.setFocus()
            self.controller.message.emit(error_text(exc), "error")
            return None
        self.form_message.setText("")
        self._save_form()
        self._follow_running = True
        self.show_job(record.id)
        return record

    @staticmethod
    def _short(name: str, limit: int = 18) -> str:
        return name if len(name) <= limit else name[: limit - 1] + "\u2026"

    def cancel_shown(self) -> None:
        """Cancel the job shown (the one the button names)."""
        if self._shown_job is not None:
            self.runner.cancel(self._shown_job)
            self._update_buttons()

    def resume_shown(self) -> JobRecord | None:
        """Resume the shown job (see :meth:`JobRunner.resume`); problems go to the status line."""
        if self._shown_job is None:
            self.controller.message.emit("select a cancelled job to resume it", "warning")
            return None
        try:
            record = self.runner.resume(self._shown_job)
        except (MocapError, OSError) as exc:
            self.controller.message.emit(error_text(exc), "error")
            return None
        self._final_losses.pop(record.id, None)
        self._follow_running = True
        self.show_job(record.id)
        return record

    # --------------------------------------------------------------- history
    def refresh_history(self) -> None:
        """Rebuild the history list from the store (and the live records)."""
        selected = self._shown_job
        self.history.blockSignals(True)
        self.history.clear()
        newest_writer: dict[str, str] = {}
        for record in self.runner.records():  # newest first: the first job to name a file wrote what is there
            if record.state == "done" and record.model:
                newest_writer.setdefault(os.path.normcase(os.path.abspath(record.model)), record.id)
        for record in self.runner.records():
            model_text = Path(record.model).stem if record.model else ""
            if model_text and newest_writer.get(os.path.normcase(os.path.abspath(record.model)), record.id) != record.id:
                model_text += " (replaced by a later job)"
            item = QtWidgets.QTreeWidgetItem(
                [
                    record.spec.name,
                    self._preset_label(record),
                    record.state,
                    (record.started or record.created or "")[5:16].replace("T", " "),
                    _duration(record),
                    self._final_loss(record),
                    model_text,
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
            item.setForeground(2, pg.mkBrush(style.STATE_COLOURS.get(record.state, style.FOREGROUND)))
            if record.message:
                item.setToolTip(2, record.message)
            self.history.addTopLevelItem(item)
            if record.id == selected:
                item.setSelected(True)
        self.history.blockSignals(False)
        self._fit_history()
        if selected is not None:
            self._show_state(selected)
        self._update_buttons()

    OPTIONAL_COLUMNS = ("Duration", "Architecture", "Started", "Loss")
    """History columns dropped, in this order, when the list is too narrow to show them whole (dock size)."""

    def _fit_history(self) -> None:
        """Every shown column wide enough for its text; the least needed ones hidden when there is no room."""
        header = self.history.header()
        for column in range(len(HISTORY_COLUMNS)):
            header.setSectionHidden(column, False)
            self.history.resizeColumnToContents(column)
            needed = header.fontMetrics().horizontalAdvance(HISTORY_COLUMNS[column]) + 24
            if header.sectionSize(column) < needed:
                header.resizeSection(column, needed)
        available = self.history.viewport().width()
        for name in self.OPTIONAL_COLUMNS:
            total = sum(header.sectionSize(c) for c in range(len(HISTORY_COLUMNS)) if not header.isSectionHidden(c))
            if total <= available:
                break
            header.setSectionHidden(HISTORY_COLUMNS.index(name), True)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_history()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        super().showEvent(event)
        self._fit_history()

    @staticmethod
    def _preset_label(record: JobRecord) -> str:
        if record.spec.architecture == "temporal" and record.spec.params.get("high_ratio"):
            return "temporal-high"
        return record.spec.architecture

    def _final_loss(self, record: JobRecord) -> str:
        settled = record.state in ("done", "failed", "cancelled")
        if not settled:
            self._final_losses.pop(record.id, None)
        if record.state == "queued":
            return ""
        if settled and record.id in self._final_losses:
            return self._final_losses[record.id]
        epochs = [e for e in self._events_of(record.id) if e["event"] == "epoch"]
        last = epochs[-1] if epochs else {}
        value = last.get("val_loss") if last.get("val_loss") is not None else last.get("loss")
        text = f"{value:.3g}" if isinstance(value, (int, float)) else ""
        if settled:
            self._final_losses[record.id] = text
        return text

    def _events_of(self, job_id: str) -> list[dict[str, Any]]:
        try:
            return self.runner.events(job_id)
        except MocapError:
            return []

    def _history_selected(self) -> None:
        items = self.history.selectedItems()
        if items:
            self._follow_running = False
            self.show_job(str(items[0].data(0, Qt.ItemDataRole.UserRole)))

    def selected_record(self) -> JobRecord | None:
        if self._shown_job is None:
            return None
        try:
            return self.runner.record(self._shown_job)
        except MocapError:
            return None

    def load_selected_model(self) -> None:
        record = self.selected_record()
        if record is None or record.state != "done" or not record.model:
            self.controller.message.emit("select a finished job to load its model", "warning")
            return
        self.controller.load_model(record.model)

    # -------------------------------------------------------------- progress
    def show_job(self, job_id: str) -> None:
        """Show a job's progress, losses and (when it failed) its log."""
        self._shown_job = job_id
        events = self._events_of(job_id)
        self._plot_losses(events)
        self._show_state(job_id, events)
        for i in range(self.history.topLevelItemCount()):
            item = self.history.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == job_id and not item.isSelected():
                self.history.blockSignals(True)
                self.history.clearSelection()
                item.setSelected(True)
                self.history.blockSignals(False)
        self._update_buttons()

    def _show_state(self, job_id: str, events: list[dict[str, Any]] | None = None) -> None:
        try:
            record = self.runner.record(job_id)
        except MocapError:
            return
        events = self._events_of(job_id) if events is None else events
        resumed = ", resumed" if record.spec.resume else ""
        self.job_title.setText(f"{record.spec.name}  ({self._preset_label(record)}, {record.state}{resumed})")
        self.job_title.setStyleSheet(f"font-weight: bold; color: {style.STATE_COLOURS.get(record.state, '')}")
        events = jobs_latest_events(record, events)
        last = next((e for e in reversed(events) if e["event"] in ("progress", "epoch", "checkpoint")), None)
        self.progress.setRange(0, 100)
        epochs = int(record.spec.epochs or 0)
        if record.state == "done":
            self.progress.setValue(100)
            run = max((int(e.get("epoch") or 0) for e in events if e["event"] == "epoch"), default=epochs)
            self.progress.setFormat(f"done: {run} epoch{'s' if run != 1 else ''}")
            self.eta.setText(_duration(record))
        elif record.state == "queued":
            self.progress.setValue(0)
            self.progress.setFormat("queued: starts when the running job ends" if self.runner.running() else "queued")
            self.eta.setText("")
        elif record.state == "running" and last is None:
            self.progress.setRange(0, 0)  # busy, not 0 %: nothing to count yet
            self.progress.setFormat(STARTING_TEXT)
            self.eta.setText("")
        elif last is not None:
            self._show_progress(last)
            if record.state in ("failed", "cancelled"):
                done = max((int(e.get("epoch") or 0) for e in events if e["event"] in ("epoch", "checkpoint")), default=0)
                self.progress.setValue(int(round(100 * done / epochs)) if epochs else 0)
                self.progress.setFormat(f"{record.state} after epoch {done}/{epochs}" if done else
                                        f"{record.state} before the first epoch ended")
        else:
            self.progress.setValue(0)
            self.progress.setFormat(f"{record.state} before training started" if record.state in ("failed", "cancelled")
                                    else record.state)
            self.eta.setText("")
        if record.state in ("failed", "cancelled"):
            self.eta.setText("")
            self._show_log(job_id, record.message)
        elif record.state in ("queued", "running", "done"):
            self.log.setPlainText(record.message or "")

    def _show_progress(self, event: dict[str, Any]) -> None:
        epochs = int(event.get("epochs") or 0)
        epoch = int(event.get("epoch") or 0)
        steps = int(event.get("steps") or 0)
        step = int(event.get("step") or 0)
        self.progress.setRange(0, 100)  # out of the busy "starting" state
        if epochs:
            done = epoch if event["event"] in ("epoch", "checkpoint") else (epoch - 1 + (step / steps if steps else 0))
            self.progress.setValue(int(round(100 * max(0.0, min(done / epochs, 1.0)))))
            self.progress.setFormat(f"epoch {epoch}/{epochs}  %p%")
        if event.get("eta_s") is not None:
            self.eta.setText(format_eta(event["eta_s"]))

    def _show_log(self, job_id: str | None, message: str | None = None) -> None:
        if job_id is None:
            return
        tail = self.runner.log_tail(job_id)
        self.log.setPlainText("\n".join(t for t in (message or "", tail) if t))
        self.log.verticalScrollBar().setValue(self.log.verticalScrollBar().maximum())

    def _plot_losses(self, events: list[dict[str, Any]]) -> None:
        """The shown job's losses on its own axes (epochs 1..its epoch count), or a word on why there are none."""
        epochs = [e for e in events if e["event"] == "epoch" and e.get("loss") is not None]
        x = np.array([float(e.get("epoch", i + 1)) for i, e in enumerate(epochs)])
        loss = np.array([max(float(e["loss"]), 1e-12) for e in epochs])
        self.loss_curve.setData(x, loss)
        val = [(float(e.get("epoch", i + 1)), e.get("val_loss")) for i, e in enumerate(epochs)]
        val = [(ex, max(float(v), 1e-12)) for ex, v in val if v is not None]
        self.val_curve.setData(np.array([v[0] for v in val]), np.array([v[1] for v in val]))
        # Legend: only the curves that have points (no empty entries).
        self.legend.clear()
        if len(loss):
            self.legend.addItem(self.loss_curve, self.loss_curve.opts["name"])
        if val:
            self.legend.addItem(self.val_curve, self.val_curve.opts["name"])
        record = self.selected_record()
        planned = int(record.spec.epochs) if record is not None else 0
        last = int(max(x)) if len(x) else 0
        box = self.loss_plot.getPlotItem().getViewBox()
        box.setXRange(0.5, max(planned, last, 1) + 0.5, padding=0)
        box.enableAutoRange(axis="y")
        self.loss_plot.getPlotItem().getAxis("left").setStyle(showValues=bool(len(loss)))  # no numbers on no data
        if len(loss):
            self.loss_empty.setText("")
        elif record is None:
            self.loss_empty.setText("No job yet:\nadd clips on the left, press Start")
        elif record.state in ("queued", "running"):
            self.loss_empty.setText("No epoch finished yet:\nthe curve starts after epoch 1")
        else:
            self.loss_empty.setText(f"This job {record.state}\nbefore finishing an epoch")
        self._place_loss_message()

    def _place_loss_message(self, *args: Any) -> None:
        box = self.loss_plot.getPlotItem().getViewBox()
        rect = box.boundingRect()
        self.loss_empty.setPos(rect.center())

    def loss_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The plotted train and validation losses (tests compare them with the events)."""
        train = self.loss_curve.yData if self.loss_curve.yData is not None else np.zeros(0)
        val = self.val_curve.yData if self.val_curve.yData is not None else np.zeros(0)
        return np.asarray(train), np.asarray(val)

    def _shown_is_live(self) -> bool:
        record = self.selected_record()
        return record is not None and record.state in ("queued", "running")

    def _job_event(self, job_id: str, event: dict[str, Any]) -> None:
        if self._follow_running and self._shown_job != job_id and not self._shown_is_live():
            # Follow running jobs only while the job shown is settled: a job the artist just queued stays
            # in view (and under the Cancel button) until the artist picks another one.
            self.show_job(job_id)
            return
        if job_id != self._shown_job:
            return
        if event["event"] in ("progress", "epoch", "checkpoint"):
            self._show_progress(event)
        if event["event"] == "epoch":
            # A re-attached or resumed job replays every earlier epoch at once: redraw once per batch of events.
            self._replot_timer.start()
        elif event["event"] == "start":
            self._show_state(job_id)
            self._update_buttons()

    def _replot(self) -> None:
        if self._shown_job is not None:
            self._plot_losses(self._events_of(self._shown_job))
        self.refresh_history()

    def _job_finished(self, record: JobRecord) -> None:
        if record.state == "done" and record.model:
            self.modelRegistered.emit(record.model)
        if record.id == self._shown_job or (self._follow_running and not self._shown_is_live()):
            self.show_job(record.id)

    def _update_buttons(self) -> None:
        record = self.selected_record()
        live = record is not None and record.state in ("queued", "running")
        self.cancel_button.setEnabled(live)
        # Cancel says which job it stops: the one shown, never another that happens to run.
        self.cancel_button.setText(f"Cancel {self._short(record.spec.name)}" if live else "Cancel job")
        self.cancel_button.setToolTip(
            f"Stop job {record.spec.name} ({record.state}): it saves a checkpoint and can be resumed"
            if live else "Stop the shown job: it saves a checkpoint and can be resumed"
        )
        self.resume_button.setEnabled(record is not None and can_resume(record))
        self.load_button.setEnabled(record is not None and record.state == "done" and bool(record.model))
        self.log_button.setEnabled(record is not None)
