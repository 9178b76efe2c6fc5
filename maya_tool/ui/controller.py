"""The panel's state and computations, without a single widget.

Both hosts (Maya's dock and the standalone window) drive the same
:class:`Controller`: widgets call its plain methods and listen to its signals,
the host hears about every change the artist makes and reports the changes
made outside the panel through :meth:`Controller.on_host_attribute_changed`
and :meth:`Controller.on_host_time_changed`. What the views plot is computed
here by the core (``modes.compute_variant``, ``evaluate.frame_errors``) in a
worker thread, so the numbers on screen are exactly the evaluation's numbers
and the UI never freezes on a long clip.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

import numpy as np
from numpy.typing import NDArray

from .. import kinematics
from ..clip import Clip
from ..errors import MocapError
from ..corruption import CORRUPTIONS
from ..modes import CORRUPTED_MODES, MODES, compute_variant, effective_mode, mode_from_node, toggle_encode, uses_model
from .host import Host, coerce_attribute, host_attributes
from .qt import QtCore, Signal
from .workers import TaskRunner

log = logging.getLogger(__name__)

UNITS: dict[str, tuple[str, str, str]] = {
    "angle": ("angle_deg", "Angle error", "deg"),
    "position": ("position_cm", "Position error", "cm"),
}
"""Error unit -> (FrameErrors attribute, axis label, unit suffix)."""

MAX_PLAYBACK_HZ = 60.0
COMPLETE_AFTER_MS = 120
"""Position errors are computed once the controls have rested this long (angles are drawn first)."""


@dataclass
class ClipData:
    """A loaded clip with what the views need of it, computed once.

    Attributes:
        clip: The clip as read.
        path: The file it came from, ``None`` for clips made in memory.
        positions: (F, J, 3) world joint positions in cm (root motion included).
    """

    clip: Clip
    path: str | None
    positions: NDArray[np.float64]
    reference: Any = None
    """``evaluate.ErrorReference`` of the clip, made by the first evaluation and reused."""


@dataclass
class Evaluation:
    """One computed variant of the clip and its errors against the original.

    Attributes:
        clip: The original clip.
        variant: The clip as shown in ``mode``.
        mode: The mode shown (``modes.effective_mode`` of mode and encode).
        sigma: Noise sigma used (0 when the mode adds none).
        noise_type: The corruption used (``gaussian`` when the mode adds none).
        errors: ``evaluate.frame_errors(clip, variant)``, exactly.
        seconds: Time spent computing, for the status line and benchmarks.
    """

    clip: Clip
    variant: Clip
    mode: str
    sigma: float
    errors: Any
    seconds: float = 0.0
    joint_names: list[str] = field(default_factory=list)
    noise_type: str = "gaussian"
    model: Any = None
    """The model the variant was computed with (``None`` when the mode runs none)."""
    complete: bool = True
    """False for the quick first delivery: angles only (``errors`` is an :class:`AngleErrors`)."""

    def positions_at(self, frame: int) -> NDArray[np.float64]:
        """(J, 3) world joint positions of the variant at one frame, in cm.

        Computed on demand: scrubbing needs one frame, and skipping the
        whole-clip forward kinematics keeps a control change under budget.
        """
        variant = self.variant
        positions, _ = kinematics.global_transforms(
            variant.skeleton, variant.root_positions[frame : frame + 1], variant.rotations[frame : frame + 1]
        )
        return positions[0]

    def has(self, unit: str) -> bool:
        """Whether the errors in ``unit`` are computed yet (angles come first)."""
        return getattr(self.errors, UNITS[unit][0], None) is not None

    def curves(self, unit: str) -> NDArray[np.float64]:
        """(F, J-1) per-frame, per-joint error in ``unit`` (see :data:`UNITS`)."""
        return np.asarray(getattr(self.errors, UNITS[unit][0]))

    def means(self, unit: str) -> NDArray[np.float64]:
        """(J-1,) mean over frames per joint."""
        curves = self.curves(unit)
        return curves.mean(axis=0) if len(curves) else np.zeros(curves.shape[1])

    def summary(self) -> dict[str, Any]:
        """Whole-clip figures for the result box: ``FrameErrors.summary()``, the block reports print.

        Taken from the core rather than recomputed, so the panel's mean, p99
        and max vertex error are the report's to the last digit (``None`` for
        an empty clip).
        """
        return self.errors.summary()


@dataclass
class AngleErrors:
    """The quick first half of ``FrameErrors``: the per-joint angles, before positions and vertices.

    The angle curves are what the panel draws first; posing the whole clip
    for the position errors takes as long again, so those follow in a second
    task and replace this object with the evaluation module's ``FrameErrors``.
    """

    angle_deg: NDArray[np.float64]
    joint_names: list[str]

    @property
    def position_cm(self) -> None:
        return None

    def summary(self) -> dict[str, Any]:
        empty = self.angle_deg.size == 0
        return {
            "mean_angle_deg": None if empty else float(np.mean(self.angle_deg)),
            "p99_angle_deg": None if empty else float(np.percentile(self.angle_deg, 99.0)),
        }


def quick_evaluation(
    clip: Clip, mode: str, *, model: Any = None, encode: bool = False, sigma: float = 0.0, noise_type: str = "gaussian"
) -> Evaluation:
    """The variant and its angle errors only (worker thread): what the first repaint needs.

    :meth:`Controller` then completes it with :func:`complete_evaluation`.
    """
    from .. import quaternion as quat

    start = time.perf_counter()
    variant = compute_variant(clip, mode, model=model, encode=encode, sigma=sigma, corruption=noise_type)
    angle = np.degrees(quat.geodesic_angle(clip.joint_rotations, variant.joint_rotations))
    shown = effective_mode(mode, encode)
    corrupted = shown in CORRUPTED_MODES
    names = list(clip.skeleton.names[1:])
    return Evaluation(
        clip=clip,
        variant=variant,
        mode=shown,
        sigma=sigma if corrupted else 0.0,
        errors=AngleErrors(angle, names),
        seconds=time.perf_counter() - start,
        joint_names=names,
        noise_type=noise_type if corrupted else "gaussian",
        model=model if uses_model(shown) else None,
        complete=False,
    )


def complete_evaluation(evaluation: Evaluation, reference: Any) -> Evaluation:
    """The same evaluation with the evaluation module's full ``FrameErrors`` (worker thread)."""
    start = time.perf_counter()
    errors = reference.errors(evaluation.variant)
    return replace(
        evaluation,
        errors=errors,
        complete=True,
        seconds=evaluation.seconds + time.perf_counter() - start,
        joint_names=list(getattr(errors, "joint_names", evaluation.joint_names)),
    )


def read_clip_data(path: str) -> ClipData:
    """Read a motion file and precompute what the views show (worker thread)."""
    from ..io import read_clip

    clip = read_clip(path)
    return ClipData(clip=clip, path=os.fspath(path), positions=kinematics.forward_kinematics(clip))


def evaluate_variant(
    clip: Clip,
    mode: str,
    *,
    model: Any = None,
    encode: bool = False,
    sigma: float = 0.0,
    reference: Any = None,
    noise_type: str = "gaussian",
) -> Evaluation:
    """The variant shown in ``mode`` and its per-frame errors (worker thread).

    The errors are the evaluation module's (``evaluate.frame_errors``, or its
    ``ErrorReference`` of the same clip, which poses the original once and
    gives the same numbers), so the plots show nothing recomputed differently.
    """
    from ..evaluate import frame_errors

    start = time.perf_counter()
    variant = compute_variant(clip, mode, model=model, encode=encode, sigma=sigma, corruption=noise_type)
    errors = reference.errors(variant) if reference is not None else frame_errors(clip, variant)
    shown = effective_mode(mode, encode)
    corrupted = shown in CORRUPTED_MODES
    return Evaluation(
        clip=clip,
        variant=variant,
        mode=shown,
        sigma=sigma if corrupted else 0.0,
        errors=errors,
        seconds=time.perf_counter() - start,
        joint_names=list(getattr(errors, "joint_names", clip.skeleton.names[1:])),
        noise_type=noise_type if corrupted else "gaussian",
        model=model if uses_model(shown) else None,
    )


def load_model_file(path: str) -> Any:
    """Load a model for the numpy runtime (worker thread)."""
    from ..models.runtime import load_model

    return load_model(path)


def error_text(exc: BaseException) -> str:
    """One line for the status bar: the core's message, never a traceback."""
    if isinstance(exc, (MocapError, ValueError, KeyError, OSError)):
        text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        if isinstance(exc, OSError) and exc.filename:
            text = f"{exc.filename}: {exc.strerror or exc}"
        return text
    return f"{type(exc).__name__}: {exc}"


class Controller(QtCore.QObject):
    """State of the panel and the computations behind its views.

    Signals:
        clipChanged(object): the new :class:`ClipData` (or ``None``).
        modelChanged(object): the new model (``runtime.NumpyModel``) or ``None``.
        stateChanged(str, object): ``mode``, ``encode``, ``noise``, ``noise_type``,
            ``compare`` or ``unit`` changed to the value. ``encode`` always
            follows ``mode`` (``modes.uses_model``): the panel has one mode control.
        evaluationChanged(object): a new :class:`Evaluation`, or ``None`` when the
            current settings cannot be computed (the reason goes to ``message``).
        frameChanged(int): the current frame.
        selectionChanged(list): names of the selected joints.
        playingChanged(bool): playback started or stopped.
        busyChanged(bool): background work started or finished.
        message(str, str): text and level (``info``, ``warning``, ``error``) for
            the status line.
    """

    clipChanged = Signal(object)
    modelChanged = Signal(object)
    stateChanged = Signal(str, object)
    evaluationChanged = Signal(object)
    frameChanged = Signal(int)
    selectionChanged = Signal(list)
    playingChanged = Signal(bool)
    busyChanged = Signal(bool)
    message = Signal(str, str)

    def __init__(self, host: Host, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.runner = TaskRunner(self)
        self.runner.busyChanged.connect(self.busyChanged)
        self._clip: ClipData | None = None
        self._model: Any = None
        self._model_path = ""
        self._state: dict[str, Any] = {
            "mode": "original", "encode": False, "noise": 0.05, "noise_type": "gaussian", "compare": True,
        }
        self._unit = "angle"
        self._frame = 0
        self._selected: list[str] = []
        self._evaluation: Evaluation | None = None
        self._from_host = False
        self._schedule_timer = QtCore.QTimer(self)
        self._schedule_timer.setSingleShot(True)
        self._schedule_timer.setInterval(0)
        self._schedule_timer.timeout.connect(self._submit_evaluation)
        self._complete_timer = QtCore.QTimer(self)
        self._complete_timer.setSingleShot(True)
        self._complete_timer.setInterval(COMPLETE_AFTER_MS)
        self._complete_timer.timeout.connect(self._submit_completion)
        self._play_timer = QtCore.QTimer(self)
        self._play_timer.timeout.connect(self._play_tick)
        self._play_clock = QtCore.QElapsedTimer()
        self._play_origin = 0
        host.attach(self.on_host_attribute_changed, self.on_host_time_changed)

    # ----------------------------------------------------------------- state
    @property
    def clip(self) -> Clip | None:
        return self._clip.clip if self._clip is not None else None

    @property
    def clip_data(self) -> ClipData | None:
        return self._clip

    @property
    def clip_path(self) -> str:
        return (self._clip.path or "") if self._clip is not None else ""

    @property
    def model(self) -> Any:
        return self._model

    @property
    def model_path(self) -> str:
        return self._model_path

    @property
    def mode(self) -> str:
        return str(self._state["mode"])

    @property
    def encode(self) -> bool:
        return bool(self._state["encode"])

    @property
    def noise(self) -> float:
        return float(self._state["noise"])

    @property
    def noise_type(self) -> str:
        return str(self._state["noise_type"])

    @property
    def compare(self) -> bool:
        return bool(self._state["compare"])

    @property
    def unit(self) -> str:
        return self._unit

    @property
    def frame(self) -> int:
        return self._frame

    @property
    def num_frames(self) -> int:
        return self._clip.clip.num_frames if self._clip is not None else 0

    @property
    def joint_names(self) -> list[str]:
        """Names of the joints the errors are about (all but the root)."""
        return list(self._clip.clip.skeleton.names[1:]) if self._clip is not None else []

    @property
    def selected_joints(self) -> list[str]:
        return list(self._selected)

    @property
    def evaluation(self) -> Evaluation | None:
        return self._evaluation

    @property
    def busy(self) -> bool:
        return self.runner.busy or self._schedule_timer.isActive() or self._complete_timer.isActive()

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def attributes(self) -> dict[str, Any]:
        """The values the host's node mirrors (see :data:`host.ATTRIBUTES`)."""
        names = host_attributes(self.host)
        values = {"clip": self.clip_path, "model": self._model_path, **self._state}
        return {name: values[name] for name in names if name in values}

    # ------------------------------------------------------------- clip/model
    def load_clip(self, path: os.PathLike[str] | str) -> None:
        """Read a clip in the background; ``clipChanged`` follows, or a message."""
        path = os.fspath(path)
        self.message.emit(f"Loading {os.path.basename(path)}...", "info")
        self.runner.submit("clip", read_clip_data, path, on_done=self._clip_loaded, on_error=self._report)

    def set_clip(self, clip: Clip, path: str | None = None) -> None:
        """Show a clip that is already in memory (scripts, tests)."""
        self._clip_loaded(ClipData(clip=clip, path=path, positions=kinematics.forward_kinematics(clip)))

    def _clip_loaded(self, data: ClipData) -> None:
        self.pause()
        self._clip = data
        self._evaluation = None
        self._selected = [n for n in self._selected if n in data.clip.skeleton.names]
        self._frame = 0
        clip = data.clip
        self.message.emit(
            f"Loaded {os.path.basename(data.path) if data.path else 'clip'}: {clip.num_frames} frames at "
            f"{clip.fps:g} fps, {clip.skeleton.num_joints} joints",
            "info",
        )
        self._call_host(self.host.load_clip, clip, data.path)
        self._call_host(self.host.update_node, self.attributes())
        self.clipChanged.emit(data)
        self.frameChanged.emit(0)
        self._call_host(self.host.set_current_frame, 0)
        self._schedule()

    def load_model(self, path: os.PathLike[str] | str) -> None:
        """Load a model in the background; ``modelChanged`` follows, or a message."""
        path = os.fspath(path)
        self.runner.submit(
            "model", load_model_file, path, on_done=lambda model: self._model_loaded(model, path), on_error=self._report
        )

    def set_model(self, model: Any, path: str | None = None) -> None:
        """Use a model that is already in memory (``None`` to go without one)."""
        self._model_loaded(model, path if path is not None else str(getattr(model, "path", "") or ""))

    def _model_loaded(self, model: Any, path: str) -> None:
        self._model = model
        self._model_path = os.fspath(path) if model is not None else ""
        if model is not None:
            self.message.emit(f"Model {getattr(model, 'name', os.path.basename(path))} loaded", "info")
            if self.clip is not None:
                try:
                    model.check_clip(self.clip)
                except MocapError as exc:
                    self.message.emit(error_text(exc), "warning")
        self._push("model", self._model_path)
        self.modelChanged.emit(model)
        self._schedule()

    # --------------------------------------------------------------- controls
    def set_mode(self, mode: str) -> None:
        """Show ``mode``; the node's ``encode`` is set to what the mode implies (one control, no contradiction)."""
        if mode not in MODES:
            self.message.emit(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}", "error")
            return
        changed = self._state["mode"] != mode
        self._state["mode"] = mode
        if changed:
            self._push("mode", mode)
            self.stateChanged.emit("mode", mode)
        self._set_state("encode", uses_model(mode))
        if changed:
            self._schedule()

    def set_encode(self, encode: bool) -> None:
        """The tutorial's toggle: original <-> encoded, noisy <-> denoised (the mode control follows)."""
        self.set_mode(toggle_encode(self.mode, bool(encode)))

    def set_noise_type(self, name: str) -> None:
        """The corruption of the noisy and denoised modes (``maya_tool.corruption.CORRUPTIONS``)."""
        if name not in CORRUPTIONS:
            self.message.emit(f"unknown noise type {name!r}: expected one of {', '.join(CORRUPTIONS)}", "error")
            return
        self._set_state("noise_type", name)

    def set_noise(self, sigma: float) -> None:
        self._set_state("noise", max(0.0, float(sigma)))

    def set_compare(self, compare: bool) -> None:
        self._set_state("compare", bool(compare))

    def set_unit(self, unit: str) -> None:
        """Angle (deg) or position (cm) errors in the views; no recomputation needed."""
        if unit not in UNITS or unit == self._unit:
            return
        self._unit = unit
        self.stateChanged.emit("unit", unit)

    def _set_state(self, name: str, value: Any) -> None:
        if self._state[name] == value:
            return
        self._state[name] = value
        self._push(name, value)
        self.stateChanged.emit(name, value)
        if name not in ("compare", "encode"):
            self._schedule()

    # ------------------------------------------------------------------ time
    def set_frame(self, frame: int) -> None:
        """Move the current time (clamped to the clip); tells the host."""
        self._move_to(frame, tell_host=True)

    def _move_to(self, frame: int, tell_host: bool) -> None:
        last = max(0, self.num_frames - 1)
        frame = int(min(max(int(frame), 0), last))
        if frame == self._frame:
            return
        self._frame = frame
        self.frameChanged.emit(frame)
        if tell_host:
            self._call_host(self.host.set_current_frame, frame)

    def step(self, delta: int) -> None:
        """Next (+1) or previous (-1) frame, stopping playback like Maya does."""
        self.pause()
        self.set_frame(self._frame + delta)

    def first_frame(self) -> None:
        self.pause()
        self.set_frame(0)

    def last_frame(self) -> None:
        self.pause()
        self.set_frame(self.num_frames - 1)

    def play(self) -> None:
        """Play at the clip's rate in real time, dropping frames when drawing is slower."""
        if self._clip is None or self.playing:
            return
        if self._frame >= self.num_frames - 1:
            self.set_frame(0)
        self._play_origin = self._frame
        self._play_clock.start()
        self._play_timer.start(int(1000.0 / min(self._clip.clip.fps, MAX_PLAYBACK_HZ)))
        self.playingChanged.emit(True)

    def pause(self) -> None:
        if self.playing:
            self._play_timer.stop()
            self.playingChanged.emit(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def _play_tick(self) -> None:
        if self._clip is None:
            self.pause()
            return
        elapsed = self._play_clock.elapsed() / 1000.0
        frames = self.num_frames
        self.set_frame((self._play_origin + int(elapsed * self._clip.clip.fps)) % max(frames, 1))

    # -------------------------------------------------------------- selection
    def set_selected_joints(self, names: list[str]) -> None:
        known = set(self.joint_names)
        names = [n for n in names if n in known]
        if names == self._selected:
            return
        self._selected = names
        self.selectionChanged.emit(list(names))

    # ------------------------------------------------------------------ host
    def on_host_attribute_changed(self, name: str, value: Any) -> None:
        """The host's node changed outside the panel: show its new value.

        Values equal to the panel's state are ignored, so hosts may report
        every change including the ones the panel made.
        """
        try:
            value = coerce_attribute(name, value)
        except ValueError as exc:
            self.message.emit(str(exc), "warning")
            return
        if name == "clip":
            if value and os.path.normcase(os.path.abspath(value)) != os.path.normcase(
                os.path.abspath(self.clip_path or " ")
            ):
                self.load_clip(value)
            return
        if name == "model":
            if value != self._model_path:
                if value:
                    self.load_model(value)
                else:
                    self.set_model(None)
            return
        if name == "encode" and bool(value) == uses_model(self.mode):
            return
        self._from_host = True
        try:
            setters: dict[str, Callable[[Any], None]] = {
                "mode": self.set_mode,
                "encode": self.set_encode,
                "noise": self.set_noise,
                "noise_type": self.set_noise_type,
                "compare": self.set_compare,
            }
            setters[name](value)
        finally:
            self._from_host = False
        if name in ("mode", "encode"):
            self._reconcile_host()

    def _reconcile_host(self) -> None:
        """Write back the node's mode and encode when an outside edit left them disagreeing with the panel."""
        for name, value in (("mode", self.mode), ("encode", self.encode)):
            try:
                current = self.host.read_attribute(name)
            except MocapError:
                return
            if current is not None and coerce_attribute(name, current) != value:
                self._call_host(self.host.write_attribute, name, value)

    def on_host_time_changed(self, frame: int) -> None:
        """The host's time moved (Maya's time slider): follow without echoing back."""
        self._move_to(frame, tell_host=False)

    def sync_from_host(self) -> None:
        """Take over the state of a node that exists already (panel reopened in a scene)."""
        try:
            attributes = self.host.attributes()
        except MocapError as exc:
            self.message.emit(error_text(exc), "warning")
            return
        if attributes.get("mode") is not None:
            try:
                mode = coerce_attribute("mode", attributes["mode"])
                attributes["mode"] = mode_from_node(mode, bool(attributes.get("encode")))
                attributes["encode"] = uses_model(attributes["mode"])
            except ValueError as exc:
                self.message.emit(str(exc), "warning")
                attributes.pop("mode")
        for name in host_attributes(self.host):
            if name in attributes and attributes[name] is not None:
                self.on_host_attribute_changed(name, attributes[name])
        try:
            frame = self.host.current_frame()
        except MocapError:
            return
        self.on_host_time_changed(frame)

    def _push(self, name: str, value: Any) -> None:
        if not self._from_host:
            self._call_host(self.host.write_attribute, name, value)

    def _call_host(self, method: Callable[..., Any], *args: Any) -> None:
        try:
            method(*args)
        except MocapError as exc:
            self.message.emit(error_text(exc), "error")

    def close(self) -> None:
        """Stop playback and background work and let go of the host."""
        self.pause()
        self._schedule_timer.stop()
        self._complete_timer.stop()
        self.runner.wait(10000)
        self.host.detach()

    # ------------------------------------------------------------ evaluation
    def refresh(self) -> None:
        """Recompute the current variant (e.g. after a model file was retrained)."""
        self._schedule()

    def _schedule(self) -> None:
        """Coalesce the changes of one event-loop turn into one computation."""
        if self._clip is not None:
            self._schedule_timer.start()

    def _submit_evaluation(self) -> None:
        if self._clip is None:
            return
        self.runner.submit(
            "evaluate",
            self._quick,
            self._clip,
            self.mode,
            self._model,
            self.encode,
            self.noise,
            self.noise_type,
            on_done=self._evaluated,
            on_error=self._evaluation_failed,
            progressive=True,
        )

    @staticmethod
    def _quick(data: ClipData, mode: str, model: Any, encode: bool, sigma: float, noise_type: str) -> Evaluation:
        return quick_evaluation(data.clip, mode, model=model, encode=encode, sigma=sigma, noise_type=noise_type)

    @staticmethod
    def _complete(data: ClipData, evaluation: Evaluation) -> Evaluation:
        if data.reference is None:
            from ..evaluate import ErrorReference

            data.reference = ErrorReference(data.clip)
        return complete_evaluation(evaluation, data.reference)

    @staticmethod
    def _evaluate(data: ClipData, mode: str, model: Any, encode: bool, sigma: float, noise_type: str) -> Evaluation:
        if data.reference is None:
            from ..evaluate import ErrorReference

            data.reference = ErrorReference(data.clip)
        return evaluate_variant(
            data.clip, mode, model=model, encode=encode, sigma=sigma, reference=data.reference, noise_type=noise_type
        )

    def _evaluated(self, evaluation: Evaluation) -> None:
        """A quick (angles) or complete evaluation arrived: show it; complete a quick one in the background."""
        if self._clip is None or evaluation.clip is not self._clip.clip:
            return
        current = self._evaluation
        if evaluation.complete and (current is None or current.variant is not evaluation.variant):
            return  # the completion of a variant no longer on screen
        self._evaluation = evaluation
        self.evaluationChanged.emit(evaluation)
        if not evaluation.complete:
            # Positions wait until the controls rest: during a drag the cores go to the next angles.
            self._complete_timer.start()

    def _submit_completion(self) -> None:
        evaluation = self._evaluation
        if evaluation is None or evaluation.complete or self._clip is None:
            return
        if self.runner.running("evaluate") or self._schedule_timer.isActive():
            self._complete_timer.start()
            return
        self.runner.submit(
            "complete", self._complete, self._clip, evaluation, on_done=self._evaluated,
            on_error=self._evaluation_failed,
        )

    def _evaluation_failed(self, exc: BaseException) -> None:
        self._evaluation = None
        self.evaluationChanged.emit(None)
        self._report(exc)

    def _report(self, exc: BaseException) -> None:
        if not isinstance(exc, (MocapError, ValueError, KeyError, OSError)):
            log.error("panel task failed", exc_info=exc)
        self.message.emit(error_text(exc), "error")
