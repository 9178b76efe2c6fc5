"""The training job: data -> Keras autoencoder -> registered model set.

Runs inside ``mocap-ae train``, its own process, and reports through
:class:`maya_tool.jobs.EventWriter` (JSON lines; see :mod:`maya_tool.jobs`).

What makes a run trustworthy and restartable:

* Validation is split by clip (:func:`maya_tool.dataset.split_by_clip`):
  neighbouring frames are near copies, a split by frame would leak.
* Every batch is a pure function of ``(seed, epoch, step)``: the shuffling
  order, the window offsets and the noise. So a run is reproducible, and a
  resumed run continues exactly where it stopped, skipping the batches
  already done in the interrupted epoch.
* Denoising: inputs are corrupted with the node's noise model (Gaussian on
  quaternion components, renormalised, w >= 0), sigma fixed or drawn per frame
  or window from ``[lo, hi]``; targets stay clean; noise is drawn afresh each
  epoch. Validation noise is drawn once, so val_loss is comparable across
  epochs.
* The temporal codec starts as the linear codec of the training split (PCA,
  box average, linear interpolation: ``architectures.codec_weights``), with a
  deterministic PCA; a resumed job takes all weights from its checkpoint.
* SIGTERM / SIGINT set a flag checked between batches: the job writes a
  checkpoint (``.NAME.checkpoint/`` in the output folder: a ``.keras`` with
  the optimizer state, the best weights so far and ``state.json``, which is
  written last and names the others) and exits with code 3 after a
  ``cancelled`` event. ``--resume`` picks it up.
* The model is written with :func:`modelfile.save_model_set`: the previous
  model of the same name is untouched until the final renames.

Keras and TensorFlow are imported inside functions only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import __version__, atomic
from .. import corruption as corruptions
from .. import quaternion as quat
from ..errors import MocapError
from ..jobs import (
    EXIT_CANCELLED,
    EXIT_DONE,
    EXIT_ERROR,
    STDOUT,
    CurrentStdout,
    EventWriter,
    JobSpec,
    NameLock,
    new_job_id,
    noise_range,
)
from . import architectures, modelfile, runtime

STATE_FORMAT = "mocap-ae.checkpoint"
VALIDATION_CAP_FRAMES = 20_000
"""Validation frames used per epoch at most (a fixed, seeded subset beyond this)."""


class Cancelled(BaseException):
    """Raised when SIGTERM / SIGINT stopped the job.

    A ``BaseException``, like ``KeyboardInterrupt``: while data loads the
    signal handler raises it from wherever the code is, and a library's
    ``except Exception`` must not swallow it.

    Attributes:
        checkpoint: The checkpoint folder written on the way out, if any.
    """

    def __init__(self, message: str, checkpoint: Path | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


def checkpoint_dir(output_dir: os.PathLike[str] | str, name: str) -> Path:
    """Hidden folder beside the model; ``list_models`` never looks inside."""
    return Path(output_dir) / f".{modelfile.validate_name(name)}.checkpoint"


def checkpoint_spec(output_dir: os.PathLike[str] | str | None, name: str) -> dict[str, Any] | None:
    """The job spec stored in a model's checkpoint, or None when there is none.

    Lets ``mocap-ae train --name NAME --resume`` continue a job without
    repeating its inputs and settings.
    """
    folder = checkpoint_dir(Path(output_dir) if output_dir else modelfile.user_model_dir(), name)
    try:
        saved = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    spec = saved.get("spec") if isinstance(saved, dict) else None
    return dict(spec) if isinstance(spec, dict) else None


# ----------------------------------------------------------------------- noise
def corrupt(
    poses: NDArray[np.float32],
    noise: tuple[float, float],
    rng: np.random.Generator,
    hemisphere: NDArray[np.float64] | None = None,
    align: bool = False,
) -> NDArray[np.float32]:
    """The node's noise on a batch: (B, D) frames or (B, T, D) windows.

    Sigma is drawn uniformly from ``noise`` once per frame (or per window);
    each quaternion component gets Gaussian noise, then the quaternions are
    renormalised and put in the w >= 0 hemisphere, or on the side of the
    model's per-joint ``hemisphere`` reference when it has one, as the
    runtime does with its inputs. With ``align`` each noisy quaternion takes
    the sign of its clean one instead: what the runtime's continuous sign
    gives on clips whose clean rotations are continuous (noise of a few
    degrees never turns a neighbour's dot product negative).
    """
    lo, hi = noise
    if hi <= 0.0:
        return poses
    batch = poses.shape[0]
    sigma = rng.uniform(lo, hi, size=batch) if hi > lo else np.full(batch, lo)
    quats = poses.reshape(poses.shape[:-1] + (-1, 4)).astype(np.float64)
    sigma = sigma.reshape((batch,) + (1,) * (quats.ndim - 1))
    noisy = quat.normalize(quats + sigma * rng.standard_normal(quats.shape))
    if align:
        noisy = noisy * np.where(np.sum(noisy * quats, axis=-1, keepdims=True) < 0.0, -1.0, 1.0)
    elif hemisphere is None:
        noisy = quat.positive_w(noisy)
    else:
        noisy = quat.to_hemisphere(noisy, hemisphere)
    return noisy.reshape(poses.shape).astype(np.float32)


def training_mix(noise: tuple[float, float], params: dict[str, Any]) -> corruptions.TrainingMix:
    """The denoiser's corruption mix: the job's Gaussian range plus take-like windows from ``params``."""
    return corruptions.TrainingMix(
        sigma=noise,
        capture_share=float(params["capture_share"]),
        capture_sigma=tuple(float(v) for v in params["capture_sigma"]),  # type: ignore[arg-type]
        pop_rate=tuple(float(v) for v in params["pop_rate"]),  # type: ignore[arg-type]
        gap_rate=tuple(float(v) for v in params["gap_rate"]),  # type: ignore[arg-type]
    )


def corrupt_takes(
    poses: NDArray[np.float32], mix: corruptions.TrainingMix, rng: np.random.Generator, sign_flip: float = 0.0
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """(noisy, clean) windows for the denoiser: a mix of jitter, pops and dropouts.

    ``sign_flip`` is the chance that a joint's whole track in a window is
    negated in both input and target: a continuous-sign track may sit on
    either side of the sphere in a real clip, and the model must give the
    same rotation for q and -q.
    """
    shape = poses.shape
    clean = poses.reshape(shape[:-1] + (-1, 4)).astype(np.float64)
    if sign_flip > 0:
        flips = np.where(rng.random((shape[0], 1, clean.shape[2], 1)) < sign_flip, -1.0, 1.0)
        clean = clean * flips
    noisy = corruptions.corrupt_windows(clean, mix, rng)
    return noisy.reshape(shape).astype(np.float32), clean.reshape(shape).astype(np.float32)


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, *key]))


# -------------------------------------------------------------------- batches
class FrameBatches:
    """Shuffled frames; batch ``(epoch, step)`` is the same in every run."""

    def __init__(
        self,
        poses: NDArray[np.float32],
        batch_size: int,
        noise: tuple[float, float],
        seed: int,
        hemisphere: NDArray[np.float64] | None = None,
    ):
        self.poses = poses
        self.hemisphere = hemisphere
        self.batch_size = max(1, min(int(batch_size), len(poses)))
        self.steps = len(poses) // self.batch_size
        self.noise = noise
        self.seed = seed
        self._order: tuple[int, NDArray[np.int64]] | None = None

    def batch(self, epoch: int, step: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, _rng(self.seed, 1, epoch).permutation(len(self.poses)))
        rows = self._order[1][step * self.batch_size : (step + 1) * self.batch_size]
        clean = self.poses[rows]
        return corrupt(clean, self.noise, _rng(self.seed, 2, epoch, step), self.hemisphere), clean


class WindowBatches:
    """Windows of ``window`` frames, never straddling two clips.

    Each clip of F frames gives ``max(1, (F - window) // hop + 1)`` windows
    whose starts shift by a random offset in ``[0, hop)`` every epoch; clips
    shorter than a window are padded by repeating their last frame, as the
    runtime does at the ends of a clip.
    """

    def __init__(
        self,
        poses: NDArray[np.float32],
        ranges: Sequence[tuple[int, int]],
        window: int,
        hop: int,
        batch_size: int,
        noise: tuple[float, float],
        seed: int,
        hemisphere: NDArray[np.float64] | None = None,
        align: bool = False,
        mix: corruptions.TrainingMix | None = None,
        sign_flip: float = 0.0,
    ):
        self.poses = poses
        self.hemisphere = hemisphere
        self.align = align
        self.mix = mix
        self.sign_flip = sign_flip
        self.ranges = list(ranges)
        self.window = int(window)
        self.hop = int(hop)
        self.counts = [max(1, (stop - start - self.window) // self.hop + 1) for start, stop in self.ranges]
        total = sum(self.counts)
        self.batch_size = max(1, min(int(batch_size), total))
        self.steps = total // self.batch_size
        self.noise = noise
        self.seed = seed
        self._epoch: tuple[int, NDArray[np.int64]] | None = None

    def _windows(self, epoch: int) -> NDArray[np.int64]:
        """(total, window) row indices into ``poses`` for one epoch, shuffled."""
        rng = _rng(self.seed, 3, epoch)
        offset = int(rng.integers(self.hop))
        rows = []
        steps = np.arange(self.window)
        for (start, stop), count in zip(self.ranges, self.counts):
            length = stop - start
            firsts = np.minimum(offset + self.hop * np.arange(count), max(length - self.window, 0))
            rows.append(start + np.minimum(firsts[:, None] + steps[None], length - 1))
        index = np.concatenate(rows)
        return index[rng.permutation(len(index))]

    def batch(self, epoch: int, step: int) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        if self._epoch is None or self._epoch[0] != epoch:
            self._epoch = (epoch, self._windows(epoch))
        rows = self._epoch[1][step * self.batch_size : (step + 1) * self.batch_size]
        clean = self.poses[rows]
        if self.mix is not None:
            return corrupt_takes(clean, self.mix, _rng(self.seed, 2, epoch, step), self.sign_flip)
        return corrupt(clean, self.noise, _rng(self.seed, 2, epoch, step), self.hemisphere, self.align), clean


def validation_arrays(
    val: Any,
    architecture: str,
    params: dict[str, Any],
    noise: tuple[float, float],
    seed: int,
    hemisphere: NDArray[np.float64] | None = None,
    align: bool = False,
    mix: corruptions.TrainingMix | None = None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
    """Fixed (noisy input, clean target) validation data, or None without validation clips."""
    if val is None or val.num_frames == 0:
        return None
    if architecture in modelfile.TEMPORAL_ARCHITECTURES:
        window = int(params["window"])
        clean = np.concatenate([runtime.make_windows(val.clip_poses(i), window) for i in range(val.num_clips)])
        cap = max(1, VALIDATION_CAP_FRAMES // window)
    else:
        clean = val.poses
        cap = VALIDATION_CAP_FRAMES
    if len(clean) > cap:
        clean = clean[np.sort(_rng(seed, 5).choice(len(clean), cap, replace=False))]
    if mix is not None:
        return corrupt_takes(clean, mix, _rng(seed, 4))
    return corrupt(clean, noise, _rng(seed, 4), hemisphere, align), clean


# --------------------------------------------------------------------- signals
class _CancelFlag:
    """SIGTERM / SIGINT handler: raise at once while loading, else set a flag."""

    def __init__(self) -> None:
        self.requested = False
        self.immediate = True
        self.signal_name = ""

    def __call__(self, signum: int, frame: Any) -> None:
        self.requested = True
        self.signal_name = signal.Signals(signum).name
        if self.immediate:
            self.immediate = False
            raise Cancelled(f"{self.signal_name} received")


@contextlib.contextmanager
def _signals(flag: _CancelFlag, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    previous = {sig: signal.signal(sig, flag) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------- state
@dataclass
class TrainState:
    """What a checkpoint records beside the Keras file; enough to resume exactly."""

    epoch: int = 0
    step: int = 0
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0
    loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)
    best_val: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    stopped_early: bool = False
    elapsed_s: float = 0.0
    resumed: int = 0
    generation: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _manifest_summary(ds: Any) -> dict[str, Any]:
    return {
        "manifest_hash": ds.content_hash,
        "files": [
            {key: entry.get(key) for key in ("path", "sha256", "frames", "subject") if key in entry}
            for entry in ds.files
        ],
        "subjects": ds.subjects,
        "frames": ds.num_frames,
        "clips": ds.num_clips,
        "fps": ds.fps,
    }


def load_data(spec: JobSpec) -> Any:
    """The data set of a job: one prebuilt data set ``.npz``, or files and folders."""
    from .. import dataset as datasets

    for given in spec.inputs:
        if not Path(given).exists():
            raise MocapError("input not found: expected a motion file, a folder or a data set .npz", path=given)
    if len(spec.inputs) == 1 and Path(spec.inputs[0]).suffix.lower() == ".npz":
        ds = datasets.Dataset.load(spec.inputs[0])
        if spec.fps is not None and abs(ds.fps - float(spec.fps)) > 1e-6:
            raise MocapError(
                f"the data set is {ds.fps:g} fps but the job asks for {spec.fps:g}: rebuild it with that rate",
                path=spec.inputs[0],
            )
        return ds
    return datasets.build_dataset(spec.inputs, preset=spec.preset, fps=spec.fps)


class TrainingJob:
    """One run of a :class:`JobSpec`, from data to registered model."""

    def __init__(
        self,
        spec: JobSpec,
        writer: EventWriter,
        *,
        progress_every: int = 10,
        checkpoint_every: int = 1,
        cancel: _CancelFlag | None = None,
        bar: bool = False,
    ) -> None:
        self.spec = spec
        self.writer = writer
        self.progress_every = max(1, int(progress_every))
        self.checkpoint_every = max(1, int(checkpoint_every))
        self.cancel = cancel or _CancelFlag()
        self.bar_enabled = bar
        self.output_dir = Path(spec.output_dir) if spec.output_dir else modelfile.user_model_dir()
        self.ckpt_dir = checkpoint_dir(self.output_dir, spec.name)
        self.state = TrainState()
        self.model: Any = None
        self.best_weights: list[NDArray[Any]] | None = None
        self.started = time.monotonic()
        self._session_steps = 0
        self._session_step_time = 0.0
        self._val_time = 0.0

    # ------------------------------------------------------------------ setup
    def _resume_state(self) -> dict[str, Any] | None:
        state_path = self.ckpt_dir / "state.json"
        if not self.spec.resume:
            return None
        if not state_path.is_file():
            raise MocapError(
                f"nothing to resume: no checkpoint of {self.spec.name!r} (the job finished, or never saved one)",
                path=state_path,
            )
        saved = atomic.read_json(state_path, "checkpoint state")
        if not isinstance(saved, dict) or saved.get("format") != STATE_FORMAT:
            raise MocapError(f"not a checkpoint state: expected format {STATE_FORMAT!r}", path=state_path)
        stored = JobSpec.from_dict(saved["spec"], path=state_path)
        if stored.architecture != self.spec.architecture:
            raise MocapError(
                f"the checkpoint trains a {stored.architecture} model, the job asks for {self.spec.architecture}",
                path=state_path,
            )
        # The checkpoint's settings win: a resumed run must be the same run.
        stored.output_dir, stored.resume = self.spec.output_dir, True
        self.spec = stored
        return saved

    def run(self) -> int:
        """Run the job holding its name's lock: a second job on the name is refused, not let loose on this one's checkpoint."""
        with NameLock(self.output_dir, self.spec.name, self.writer.job):
            paths = modelfile.model_paths(self.output_dir, self.spec.name)
            for target in (paths.json, paths.npz, paths.keras):
                for leftover in atomic.leftovers(target):  # a killed run's temp files; ours to remove under the lock
                    leftover.unlink(missing_ok=True)
            return self._run()

    def _run(self) -> int:
        saved = self._resume_state()
        spec = self.spec
        if saved is None and self.ckpt_dir.exists():
            # A new job under this name abandons the old one's checkpoint.
            shutil.rmtree(self.ckpt_dir, ignore_errors=True)
        params = architectures.resolve_params(spec.architecture, spec.params)
        self.params = params
        self.noise = noise_range(spec.noise)
        self.writer.emit(
            "start",
            epochs=spec.epochs,
            name=spec.name,
            architecture=spec.architecture,
            output_dir=os.fspath(self.output_dir),
            pid=os.getpid(),
            resumed=saved is not None,
            elapsed_s=0.0,
        )
        ds = load_data(spec)
        if len(ds.joint_names) < 2:
            raise MocapError("the data set has no joints besides the root", path=spec.inputs[0])
        if saved is not None and saved.get("manifest_hash") != ds.content_hash:
            raise MocapError(
                "the training data changed since the checkpoint was written (content hash differs); "
                "start a new job instead of resuming",
                path=self.ckpt_dir / "state.json",
            )
        self.dataset = ds
        train, val = _split(ds, spec)
        self.hemisphere = quat.mean_direction(train.poses.reshape(len(train.poses), -1, 4))
        temporal = spec.architecture in modelfile.TEMPORAL_ARCHITECTURES
        band = float(params["sign_band"]) if temporal else 0.0
        self.continuous_sign = band > 0
        train = _to_hemisphere(train, self.hemisphere, band)
        val = None if val is None else _to_hemisphere(val, self.hemisphere, band)
        self.train_ds, self.val_ds = train, val
        input_size = ds.poses.shape[1]
        self.input_size = input_size

        self._import_tf(spec.seed)
        batch_size = spec.batch_size or architectures.DEFAULT_BATCH[spec.architecture]
        self.mix = training_mix(self.noise, params) if spec.architecture == "denoiser" else None
        if temporal:
            self.batches: FrameBatches | WindowBatches = WindowBatches(
                train.poses,
                train.clip_ranges(),
                params["window"],
                params["sample_hop"],
                batch_size,
                self.noise,
                spec.seed,
                self.hemisphere,
                self.continuous_sign,
                self.mix,
                float(params.get("sign_flip", 0.0)),
            )
        else:
            self.batches = FrameBatches(train.poses, batch_size, self.noise, spec.seed, self.hemisphere)
        if self.batches.steps < 1:
            raise MocapError("not enough training data for one batch", path=spec.inputs[0])
        self.validation = validation_arrays(
            val, spec.architecture, params, self.noise, spec.seed, self.hemisphere, self.continuous_sign, self.mix
        )

        if saved is not None:
            self._load_checkpoint(saved)
        else:
            self.normalisation = _normalisation(train.poses, params) if params["normalise"] else None
            self.model = architectures.build_model(
                spec.architecture, params, input_size, self._norm_arrays(), spec.sparsity
            )
            if spec.architecture == "temporal" and params["design"] == "codec":
                self._init_codec(train.poses)
            if params.get("init"):
                self._init_from(str(params["init"]))
            architectures.compile_model(self.model, params, spec.epochs * self.batches.steps)
        self.cancel.immediate = False
        if self.cancel.requested:
            raise Cancelled(f"{self.cancel.signal_name} received")
        self._loop()
        return self._finish()

    def _init_codec(self, poses: NDArray[np.float32]) -> None:
        """Start the codec as PCA + box average + linear interpolation of the training split.

        Only on a new job: a resumed one takes every weight from its checkpoint.
        """
        norm = self._norm_arrays()
        centre, basis = architectures.pca(poses, int(self.params["latent_channels"]), norm)
        weights = architectures.codec_weights(self.params, self.input_size, centre, basis, norm)
        architectures.set_weights(self.model, weights)

    def _init_from(self, path: str) -> None:
        """Start from a registered model's weights (a warm restart with a new schedule).

        The model must be of the same architecture and layer list: a longer
        run continues where a shorter one stopped instead of starting over.
        """
        start = runtime.load_model(path, cache=False)
        network = architectures.network_spec(self.spec.architecture, self.params, self.input_size)
        if start.architecture != self.spec.architecture or start.meta.get("network") != network:
            raise MocapError(
                f"cannot start from model {start.name!r}: its architecture or layers differ from this job's",
                path=start.path,
            )
        architectures.set_weights(self.model, start._weights)
        before = start.meta.get("training") or {}
        self.started_from = {
            "name": start.name,
            "epochs_run": int(before.get("epochs_run") or 0) + int((before.get("started_from") or {}).get("epochs_run") or 0),
            "duration_s": float(before.get("duration_s") or 0.0)
            + float((before.get("started_from") or {}).get("duration_s") or 0.0),
        }

    def _norm_arrays(self) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
        if self.normalisation is None:
            return None
        return self.normalisation["mean_f32"], self.normalisation["var_f32"]

    def _import_tf(self, seed: int) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(int(seed))
        with contextlib.suppress(Exception):
            tf.config.experimental.enable_op_determinism()
        self.keras = keras
        self.tf = tf

    # -------------------------------------------------------------------- loop
    def _loop(self) -> None:
        spec, st = self.spec, self.state
        steps = self.batches.steps
        bar = self._make_bar(spec.epochs * steps, st.epoch * steps + st.step)
        try:
            while st.epoch < spec.epochs and not st.stopped_early:
                epoch = st.epoch
                for step in range(st.step, steps):
                    if self.cancel.requested:
                        self._cancel()
                    t = time.monotonic()
                    x, y = self.batches.batch(epoch, step)
                    logs = self.model.train_on_batch(x, y, return_dict=True)
                    loss = float(logs["loss"])
                    self._session_step_time += time.monotonic() - t
                    self._session_steps += 1
                    st.epoch_loss_sum += loss
                    st.epoch_loss_count += 1
                    st.step = step + 1
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(epoch=epoch + 1, loss=f"{st.epoch_loss_sum / st.epoch_loss_count:.3g}")
                    if not math.isfinite(loss):
                        raise MocapError(
                            f"training diverged (loss {loss}) at epoch {epoch + 1}, step {step + 1}: "
                            "lower the learning rate (params.lr) or the noise"
                        )
                    if st.step % self.progress_every == 0 or st.step == steps:
                        self.writer.emit(
                            "progress",
                            epoch=epoch + 1,
                            epochs=spec.epochs,
                            step=st.step,
                            steps=steps,
                            loss=st.epoch_loss_sum / st.epoch_loss_count,
                            eta_s=self._eta(),
                            elapsed_s=self._elapsed(),
                        )
                self._end_epoch()
        finally:
            if bar is not None:
                bar.close()

    def _end_epoch(self) -> None:
        st, params = self.state, self.params
        t = time.monotonic()
        val_loss = self._val_loss()
        self._val_time = time.monotonic() - t
        train_loss = st.epoch_loss_sum / max(1, st.epoch_loss_count)
        st.loss.append(train_loss)
        st.val_loss.append(val_loss)
        monitored = val_loss if val_loss is not None else None
        improved = monitored is not None and (st.best_val is None or monitored < st.best_val)
        if improved:
            st.best_val, st.best_epoch, st.wait = monitored, st.epoch + 1, 0
            self.best_weights = [np.array(w) for w in self.model.get_weights()]
        elif monitored is not None:
            st.wait += 1
            if params["early_stopping"] and st.wait >= int(params["patience"]):
                st.stopped_early = True
        st.epoch += 1
        st.step = 0
        st.epoch_loss_sum, st.epoch_loss_count = 0.0, 0
        self.writer.emit(
            "epoch",
            epoch=st.epoch,
            epochs=self.spec.epochs,
            step=self.batches.steps,
            steps=self.batches.steps,
            loss=train_loss,
            val_loss=val_loss,
            best_epoch=st.best_epoch,
            stopped_early=st.stopped_early or None,
            eta_s=0.0 if st.stopped_early else self._eta(),
            elapsed_s=self._elapsed(),
        )
        if st.epoch < self.spec.epochs and not st.stopped_early and st.epoch % self.checkpoint_every == 0:
            self._save_checkpoint()

    def _val_loss(self) -> float | None:
        if self.validation is None:
            return None
        x, y = self.validation
        total = 0.0
        chunk = max(1, 16384 // (x.shape[1] if x.ndim == 3 else 1))
        for i in range(0, len(x), chunk):
            pred = np.asarray(self.model.predict_on_batch(x[i : i + chunk]), dtype=np.float64)
            total += float(np.sum((pred - y[i : i + chunk]) ** 2))
        return total / y.size

    def _elapsed(self) -> float:
        return round(self.state.elapsed_s + time.monotonic() - self.started, 3)

    def _eta(self) -> float:
        st, steps = self.state, self.batches.steps
        if not self._session_steps:
            return math.nan
        left_steps = (self.spec.epochs - st.epoch) * steps - st.step
        left_epochs = self.spec.epochs - st.epoch
        return round(left_steps * self._session_step_time / self._session_steps + left_epochs * self._val_time, 1)

    def _make_bar(self, total: int, initial: int) -> Any:
        if not self.bar_enabled:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            return None
        return tqdm(total=total, initial=initial, file=sys.stderr, unit="batch", desc=self.spec.name)

    # ------------------------------------------------------------- checkpoints
    def _save_checkpoint(self) -> Path:
        st = self.state
        st.generation += 1
        gen = st.generation
        self.ckpt_dir.mkdir(parents=True, exist_ok=True)
        keras_path = self.ckpt_dir / f"ckpt-{gen}.keras"
        best_path = self.ckpt_dir / f"best-{gen}.npz"
        with atomic.atomic_path(keras_path, suffix=".keras") as tmp:
            tmp.unlink()
            self.model.save(tmp)
        best = self.best_weights if self.best_weights is not None else self.model.get_weights()
        atomic.write_bytes(best_path, modelfile.npz_bytes({f"w{i:03d}": w for i, w in enumerate(best)}))
        saved_elapsed = self._elapsed()
        state = {
            "format": STATE_FORMAT,
            "version": 1,
            "job": self.writer.job,
            "spec": {**self.spec.to_dict(), "resume": False},
            "manifest_hash": self.dataset.content_hash,
            "keras": keras_path.name,
            "best": best_path.name,
            "has_best": self.best_weights is not None,
            "normalisation": None
            if self.normalisation is None
            else {k: v for k, v in self.normalisation.items() if not k.endswith("_f32")},
            "state": {**st.to_dict(), "elapsed_s": saved_elapsed},
            "saved": modelfile.now_iso(),
        }
        atomic.write_text(self.ckpt_dir / "state.json", json.dumps(state, indent=1, allow_nan=False) + "\n")
        for old in self.ckpt_dir.iterdir():
            if old.name not in (keras_path.name, best_path.name, "state.json"):  # a killed run's hidden temps too
                with contextlib.suppress(OSError):
                    old.unlink()
        self.writer.emit(
            "checkpoint",
            checkpoint=os.fspath(self.ckpt_dir),
            epoch=st.epoch if st.step == 0 else st.epoch + 1,
            epochs=self.spec.epochs,
            step=st.step,
            steps=self.batches.steps,
            elapsed_s=saved_elapsed,
        )
        return self.ckpt_dir

    def _load_checkpoint(self, saved: dict[str, Any]) -> None:
        keras_path = self.ckpt_dir / str(saved["keras"])
        best_path = self.ckpt_dir / str(saved["best"])
        try:
            self.model = self.keras.saving.load_model(keras_path, safe_mode=True)
        except Exception as exc:
            raise MocapError(f"cannot load the checkpoint model: {exc}", path=keras_path) from None
        state = dict(saved["state"])
        self.state = TrainState(**{k: v for k, v in state.items() if k in TrainState.__dataclass_fields__})
        self.state.resumed += 1
        if saved.get("has_best"):
            with np.load(best_path, allow_pickle=False) as archive:
                self.best_weights = [archive[k] for k in sorted(archive.files)]
        norm = saved.get("normalisation")
        self.normalisation = None if norm is None else _normalisation_from(norm)

    def _cancel(self) -> None:
        ckpt = self._save_checkpoint()
        raise Cancelled(
            f"{self.cancel.signal_name or 'cancel'} received: checkpoint saved at epoch {self.state.epoch + 1}, "
            f"step {self.state.step}; run again with --resume to continue",
            ckpt,
        )

    # ------------------------------------------------------------------ finish
    def _finish(self) -> int:
        spec, st, params = self.spec, self.state, self.params
        if params["early_stopping"] and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        network = architectures.network_spec(spec.architecture, params, self.input_size)
        weights = architectures.export_weights(self.model, network)
        meta = self._sidecar(network)
        meta["evaluation"] = self._evaluate(meta, weights)
        clean = architectures.build_model(
            spec.architecture, params, self.input_size, self._norm_arrays(), spec.sparsity
        )
        clean.set_weights(self.model.get_weights())

        def write_keras(path: Path) -> None:
            clean.save(path)

        json_path = modelfile.save_model_set(self.output_dir, spec.name, meta, weights, write_keras)
        shutil.rmtree(self.ckpt_dir, ignore_errors=True)
        self.writer.emit(
            "done",
            model=os.fspath(json_path),
            epoch=st.epoch,
            epochs=spec.epochs,
            loss=st.loss[-1] if st.loss else None,
            val_loss=st.best_val,
            best_epoch=st.best_epoch,
            ratio=meta["ratio"],
            eta_s=0.0,
            elapsed_s=self._elapsed(),
        )
        return EXIT_DONE

    def _sidecar(self, network: dict[str, Any]) -> dict[str, Any]:
        spec, st, params, ds = self.spec, self.state, self.params, self.dataset
        compression = architectures.compression(spec.architecture, params, self.input_size)
        norm = self.normalisation
        summary = _manifest_summary(ds)
        return {
            "name": spec.name,
            "architecture": spec.architecture,
            "params": {**params, **({"l1": float(spec.sparsity)} if spec.sparsity is not None else {})},
            "joint_names": list(ds.joint_names),
            "input_layout": {"name": modelfile.INPUT_LAYOUT, "size": self.input_size},
            "normalisation": None
            if norm is None
            else {"mean": norm["mean"], "std": norm["std"], "std_floor": norm["std_floor"]},
            "hemisphere": [[float(v) for v in q] for q in self.hemisphere],
            "window": int(params["window"]) if spec.architecture in modelfile.TEMPORAL_ARCHITECTURES else None,
            "hop": int(params["window"]) // 2 if spec.architecture in modelfile.TEMPORAL_ARCHITECTURES else None,
            "latent_per_frame": compression["latent_per_frame"],
            "latent_dtype": params["latent_dtype"],
            "bits_per_frame": compression["bits_per_frame"],
            "ratio": compression["ratio"],
            "fps": ds.fps,
            "network": network,
            "training": {
                **summary,
                "train_frames": self.train_ds.num_frames,
                "validation_frames": self.val_ds.num_frames if self.val_ds is not None else 0,
                "validation_files": [e.get("path") for e in self.val_ds.files] if self.val_ds is not None else [],
                "epochs": spec.epochs,
                "epochs_run": st.epoch,
                "best_epoch": st.best_epoch,
                "stopped_early": st.stopped_early,
                "restored_best": bool(params["early_stopping"] and self.best_weights is not None),
                "noise": {"sigma": list(self.noise), "model": "gaussian per quaternion component, renormalised, w>=0"}
                if self.mix is None
                else {"sigma": list(self.noise), "model": "corruption.TrainingMix", "mix": self.mix.to_dict()},
                "seed": spec.seed,
                "batch_size": self.batches.batch_size,
                "steps_per_epoch": self.batches.steps,
                "losses": {"loss": st.loss, "val_loss": st.val_loss},
                "duration_s": self._elapsed(),
                "resumed": st.resumed,
                "started_from": getattr(self, "started_from", None),
                "job": self.writer.job,
                "spec": {**spec.to_dict(), "resume": False},
            },
            "evaluation": None,
            "versions": {
                "mocap_ae": __version__,
                "python": platform.python_version(),
                "numpy": np.__version__,
                "keras": self.keras.__version__,
                "tensorflow": self.tf.__version__,
            },
            "created": modelfile.now_iso(),
        }

    def _evaluate(self, meta: dict[str, Any], weights: dict[str, NDArray[np.float32]]) -> dict[str, Any] | None:
        """Validation errors in degrees, measured with the numpy runtime that Maya runs."""
        val = self.val_ds
        if val is None or val.num_frames == 0:
            return None
        model = runtime.NumpyModel({**meta, "weights": {}}, weights, self.output_dir / f"{self.spec.name}.json")
        joints = len(val.joint_names) - 1
        angles = {"reconstruction": [], "noisy": [], "denoised": []}  # type: dict[str, list[NDArray[np.float64]]]
        sigma = float(np.mean(self.noise))
        rng = _rng(self.spec.seed, 6)
        for i in range(val.num_clips):
            clean = val.clip_poses(i).reshape(-1, joints, 4).astype(np.float64)
            angles["reconstruction"].append(quat.geodesic_angle(clean, model.reconstruct(clean)))
            if sigma > 0:
                noisy = corrupt(val.clip_poses(i)[None], (sigma, sigma), rng, self.hemisphere)[0].reshape(-1, joints, 4)
                angles["noisy"].append(quat.geodesic_angle(clean, noisy))
                angles["denoised"].append(quat.geodesic_angle(clean, model.reconstruct(noisy)))
        result: dict[str, Any] = {"data": "validation clips", "frames": val.num_frames, "sigma": sigma}
        for key, values in angles.items():
            if values:
                deg = np.degrees(np.concatenate(values))
                result[key] = {"mean_angle_deg": float(deg.mean()), "p99_angle_deg": float(np.percentile(deg, 99))}
        return {"validation": result}


def _split(ds: Any, spec: JobSpec) -> tuple[Any, Any]:
    from .. import dataset as datasets

    if spec.validation_fraction <= 0 or ds.num_clips < 2:
        return ds, None
    return datasets.split_by_clip(ds, spec.validation_fraction, spec.seed)


def _to_hemisphere(ds: Any, hemisphere: NDArray[np.float64], band: float = 0.0) -> Any:
    """The data set with every joint on its reference side (see ``quaternion.to_hemisphere``).

    With a ``band`` each clip's signs then switch with hysteresis, as the
    runtime does with a temporal codec's inputs (``runtime.banded_signs``).
    """
    frames = len(ds.poses)
    quats = quat.to_hemisphere(ds.poses.reshape(frames, -1, 4), hemisphere)
    if band > 0:
        for start, stop in ds.clip_ranges():
            quats[start:stop] = runtime.banded_signs(quats[start:stop], hemisphere, band)
    return dataclasses.replace(ds, poses=quats.reshape(frames, -1).astype(np.float32))


def _normalisation(poses: NDArray[np.float32], params: dict[str, Any]) -> dict[str, Any]:
    mean = poses.astype(np.float64).mean(axis=0)
    std = np.maximum(poses.astype(np.float64).std(axis=0), float(params["std_floor"]))
    return _normalisation_from({"mean": mean.tolist(), "std": std.tolist(), "std_floor": float(params["std_floor"])})


def _normalisation_from(norm: dict[str, Any]) -> dict[str, Any]:
    mean = np.asarray(norm["mean"], dtype=np.float32)
    std = np.asarray(norm["std"], dtype=np.float32)
    return {
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
        "std_floor": float(norm["std_floor"]),
        "mean_f32": mean,
        "var_f32": (std.astype(np.float64) ** 2).astype(np.float32),
    }


def train(
    spec: JobSpec,
    *,
    job_id: str | None = None,
    events: os.PathLike[str] | str | None = None,
    stream: IO[str] | CurrentStdout | None = STDOUT,
    progress_every: int = 10,
    checkpoint_every: int = 1,
    handle_signals: bool = True,
    bar: bool | None = None,
) -> int:
    """Run a job to the end; every outcome is an event and an exit code.

    Args:
        spec: What to train.
        job_id: Id in the events (default: generated).
        events: File the events are appended to, besides ``stream``.
        stream: Where event lines go: the current stdout by default (the job process's), a stream, or None.
        progress_every: A ``progress`` event every this many batches.
        checkpoint_every: A checkpoint every this many epochs (and on cancel).
        handle_signals: Turn SIGTERM / SIGINT into checkpoint-and-cancel
            (main thread only).
        bar: tqdm bar on stderr; default when stderr is a terminal.

    Returns:
        ``jobs.EXIT_DONE`` (0), ``EXIT_ERROR`` (1) or ``EXIT_CANCELLED`` (3).
    """
    writer = EventWriter(job_id or new_job_id(), stream, events)
    flag = _CancelFlag()
    show_bar = bar if bar is not None else bool(getattr(sys.stderr, "isatty", lambda: False)())
    job: TrainingJob | None = None
    try:
        with _signals(flag, handle_signals):
            job = TrainingJob(
                spec,
                writer,
                progress_every=progress_every,
                checkpoint_every=checkpoint_every,
                cancel=flag,
                bar=show_bar,
            )
            return job.run()
    except Cancelled as exc:
        writer.emit(
            "cancelled",
            message=str(exc),
            checkpoint=exc.checkpoint,
            epoch=job.state.epoch + 1 if job is not None else None,
            step=job.state.step if job is not None else None,
            elapsed_s=job._elapsed() if job is not None else None,
        )
        return EXIT_CANCELLED
    except MocapError as exc:
        writer.emit("error", message=str(exc))
        return EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - a job reports every failure as an event
        traceback.print_exc(file=sys.stderr)
        writer.emit("error", message=f"{type(exc).__name__}: {exc}")
        return EXIT_ERROR
