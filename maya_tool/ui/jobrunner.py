"""Training jobs from the panel: queued, run as processes, watched by polling.

A job is ``mocap-ae train --spec ... --job ... --events ...`` (the argv of
``JobStore.command`` / ``jobs.train_command``) started in a session of its
own, so that it outlives the panel and even Maya: an artist may close the
panel or restart Maya while a model trains. The runner never reads the
process's pipes; it polls the job's events file and checks its pid with a
QTimer, which is exactly what a panel opened later does to re-attach, so a
job started here and a job found on disk are followed by the same code.
Polling reads only the bytes appended since the last poll, so the UI thread
never waits on a job.

Why not ``QProcess``: a ``QProcess`` kills its process when it is destroyed
(the panel closes), and ``QProcess.startDetached()`` returns the pid under
PySide2 but only a bool under PySide6 6.5, so neither keeps a job alive *and*
re-attachable under both bindings. ``subprocess.Popen`` does, and it never
blocks: the timer only calls ``poll()``.

Resuming (:meth:`JobRunner.resume`) re-runs a cancelled job under the same
id with ``--resume``: the process continues from the checkpoint it saved on
SIGTERM and appends to the same events file, so the history and the loss
curve show one job that stopped and went on. Because that file then holds
several runs, a run's outcome is read only from the events written after it
was launched (:func:`maya_tool.jobs.latest_run`).

A job may run on a Ray cluster instead (``submit(spec, ray_address=...)``):
it is submitted through Ray's Jobs API in the background, and a
:class:`maya_tool.cluster.JobFollower` thread copies its events from the
job's log into the same events file, so the same polling follows it; cancel
stops the Ray job (SIGTERM, checkpoint), and the Ray job id in the record lets
a panel opened later follow it again. Ray is imported only then.

The history lives in :class:`maya_tool.jobs.JobStore`; this module only adds
Qt timers and signals on top of it (no widgets: the view is ``jobs_view``).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import atomic, jobs
from ..errors import MocapError
from ..jobs import JobRecord, JobSpec, JobStore
from .qt import QtCore, Signal
from .workers import TaskRunner

log = logging.getLogger(__name__)

PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "pose": ("pose", {}),
    "sparse": ("sparse", {}),
    "temporal": ("temporal", {}),
    "temporal-high": ("temporal", {"high_ratio": True}),
}
"""Architecture presets offered in the form: preset -> (architecture, params)."""


def _add_denoiser_preset() -> None:
    """Offer ``denoiser`` once the model files know the architecture (it cleans takes; no bottleneck)."""
    from ..models.modelfile import ARCHITECTURES

    if "denoiser" in ARCHITECTURES:
        PRESETS["denoiser"] = ("denoiser", {})


_add_denoiser_preset()
BEST_PRESET = "denoiser" if "denoiser" in PRESETS else "temporal"
"""The form's default: the best architecture available, never the tutorial's ``pose``."""

PRESET_HELP = {
    "denoiser": "Cleaner for real takes: whole poses over +-1 s, no bottleneck, trained on noise, pops and gaps",
    "pose": "Per-frame 120-60-30-60-120 autoencoder (the tutorial's), 4:1",
    "sparse": "Overcomplete per-frame autoencoder with an L1 penalty",
    "temporal": "Convolutional autoencoder over 64-frame windows, 4:1",
    "temporal-high": "Temporal autoencoder at 16:1 (stride 8, 60 channels)",
}

TRAIN_PYTHON_ENV = "MOCAP_AE_TRAIN_PYTHON"
"""Environment variable naming the Python that runs training jobs (wins over detection)."""

POLL_MS = 250
_DETACH: dict[str, Any] = (
    {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        | getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
    }
    if sys.platform == "win32"
    else {"start_new_session": True}
)
"""Jobs run in a session of their own: Ctrl-C in Maya's terminal or closing Maya does not stop them."""
JOB_NICENESS = 10
"""Training takes every core it gets; a lower priority keeps Maya and the panel responsive meanwhile."""
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding ``maya_tool``, put on the job's PYTHONPATH so any Python can run it."""


def in_maya() -> bool:
    """Whether this process is Maya (or mayapy), whose Python has no TensorFlow."""
    exe = Path(sys.executable).name.lower()
    return exe.startswith("maya") or "maya.cmds" in sys.modules


def has_tensorflow(python: str, timeout: float = 10.0) -> bool:
    """Whether ``python`` can import TensorFlow (checked without importing it)."""
    code = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('tensorflow') else 1)"
    try:
        return subprocess.run([python, "-c", code], capture_output=True, timeout=timeout).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def detect_training_python(configured: str | None = None, maya: bool | None = None) -> str | None:
    """The Python that runs training jobs.

    Order: the panel's setting, ``$MOCAP_AE_TRAIN_PYTHON``, then outside Maya
    this interpreter; inside Maya the first ``python3``/``python`` on PATH
    that has TensorFlow (mayapy has none). ``None`` when nothing fits: the
    panel then asks the artist to set one.
    """
    for candidate in (configured, os.environ.get(TRAIN_PYTHON_ENV)):
        if candidate:
            return candidate
    if not (in_maya() if maya is None else maya):
        return sys.executable
    for name in ("python3", "python"):
        found = shutil.which(name)
        if found and has_tensorflow(found):
            return found
    return None


def make_spec(
    name: str,
    inputs: list[str],
    preset: str = "pose",
    *,
    epochs: int = 50,
    noise: float = 0.0,
    sparsity: float | None = None,
    output_dir: str | None = None,
    **extra: Any,
) -> JobSpec:
    """A validated job spec from the form's fields.

    Raises:
        MocapError: For a value the training would refuse (unknown preset, no inputs...).
    """
    if preset not in PRESETS:
        raise MocapError(f"unknown preset {preset!r}: expected one of {', '.join(PRESETS)}")
    architecture, params = PRESETS[preset]
    spec = JobSpec(
        name=name,
        inputs=[os.fspath(p) for p in inputs],
        architecture=architecture,
        output_dir=output_dir,
        epochs=int(epochs),
        noise=float(noise),
        sparsity=sparsity if architecture == "sparse" else None,
        params={**params, **extra.pop("params", {})},
        **extra,
    )
    spec.validate()
    return spec


def _checkpoint_owner(record: JobRecord) -> tuple[Path, str | None] | None:
    """The checkpoint state under the job's model name and the job that wrote it, if there is one."""
    from ..models import modelfile
    from ..models.training import STATE_FORMAT, checkpoint_dir

    output = record.spec.output_dir or modelfile.user_model_dir()
    try:
        path = checkpoint_dir(output, record.spec.name) / "state.json"
        data = atomic.read_json(path, "checkpoint state")
    except MocapError:
        return None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        return None
    job = data.get("job")
    return path, job if isinstance(job, str) else None


def checkpoint_state(record: JobRecord) -> Path | None:
    """The ``state.json`` of the checkpoint this job saved, if it is still there.

    Only a checkpoint written by this very job counts: a later job with the
    same model name replaces (or removes) the folder, and resuming would then
    continue someone else's run.
    """
    found = _checkpoint_owner(record)
    return found[0] if found is not None and found[1] == record.id else None


def can_resume(record: JobRecord) -> bool:
    """Whether :meth:`JobRunner.resume` accepts the job.

    A cancelled job always can (from its checkpoint, or from the start when it
    was stopped before saving one); a failed job only when it left a
    checkpoint (e.g. killed after an epoch): without one, nothing says where
    it would go on from, and starting it anew is what Start does.
    """
    if record.state == "cancelled":
        return True
    return record.state == "failed" and checkpoint_state(record) is not None


@dataclass
class _Watch:
    """A running job being followed: where its events file was read up to."""

    record: JobRecord
    offset: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    """The process when this runner started it (it then also gives the exit code)."""
    follower: Any = None
    """A cluster job's :class:`maya_tool.cluster.JobFollower`; None while it is being submitted."""

    def alive(self) -> bool:
        if self.record.ray_address:
            return self.follower is None or self.follower.alive()
        if self.process is not None:
            return self.process.poll() is None
        return jobs.is_alive(self.record.pid)

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process is not None else None


class JobRunner(QtCore.QObject):
    """Queue, start, follow and cancel training jobs; re-attach to running ones.

    Signals:
        jobsChanged(): the history changed (new job, state change).
        jobEvent(str, dict): a job id and one of its events, as they arrive.
        jobFinished(object): a job's settled :class:`~maya_tool.jobs.JobRecord`.
        message(str, str): text and level for the status line.

    Args:
        store: The job history.
        python: Python that runs jobs; ``None`` to detect it (in the background).
        max_running: Jobs run at once; the rest wait in the queue.
    """

    jobsChanged = Signal()
    jobEvent = Signal(str, dict)
    jobFinished = Signal(object)
    pythonChanged = Signal(str)
    message = Signal(str, str)

    def __init__(
        self,
        store: JobStore,
        python: str | None = None,
        parent: QtCore.QObject | None = None,
        *,
        max_running: int = 1,
        poll_ms: int = POLL_MS,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.max_running = max(1, int(max_running))
        self._python: str | None = python
        self._detecting = False
        self._watches: dict[str, _Watch] = {}
        self._ending: list[subprocess.Popen[bytes]] = []
        self._queue: list[str] = []
        self._tasks = TaskRunner(self, threads=1)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)
        self.reattach()
        if python is None:
            self.detect_python()

    # ------------------------------------------------------------- python
    @property
    def python(self) -> str | None:
        return self._python

    def set_python(self, python: str | None) -> None:
        """Use this interpreter for the next jobs (``None``/empty: detect again)."""
        self._python = python or None
        if self._python is None:
            self.detect_python()
        else:
            self.pythonChanged.emit(self._python)
            self._start_next()

    def detect_python(self, configured: str | None = None) -> None:
        """Find the training Python in the background (it may run a few subprocesses)."""
        self._detecting = True
        self._tasks.submit("python", detect_training_python, configured, on_done=self._python_found)

    def _python_found(self, python: str | None) -> None:
        self._detecting = False
        if self._python is None and python:
            self._python = python
            self.pythonChanged.emit(python)
        if self._python is None:
            self.message.emit(
                "no Python with TensorFlow found for training: set one in the Jobs tab (Training Python)", "warning"
            )
        self._start_next()

    # ------------------------------------------------------------- history
    def records(self) -> list[JobRecord]:
        """Every job on disk, newest first, with the live state of the watched ones."""
        records = {r.id: r for r in self.store.list()}
        for job_id, watch in self._watches.items():
            records[job_id] = watch.record
        return sorted(records.values(), key=lambda r: (r.created, r.id), reverse=True)

    def record(self, job_id: str) -> JobRecord:
        watch = self._watches.get(job_id)
        return watch.record if watch is not None else self.store.get(job_id)

    def events(self, job_id: str) -> list[dict[str, Any]]:
        """Every event of a job so far (from memory while watched, else from its file)."""
        watch = self._watches.get(job_id)
        if watch is not None:
            return list(watch.events)
        return self.store.events(self.store.get(job_id))

    def running(self) -> list[JobRecord]:
        return [w.record for w in self._watches.values()]

    def queued(self) -> list[str]:
        return list(self._queue)

    @property
    def busy(self) -> bool:
        return bool(self._watches or self._queue)

    def log_tail(self, job_id: str, lines: int = 20) -> str:
        """The last lines of a job's stderr log: what a failed job said before it died."""
        try:
            text = Path(self.record(job_id).log).read_text(encoding="utf-8", errors="replace")
        except (OSError, MocapError):
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])

    # --------------------------------------------------------------- queue
    def submit(self, spec: JobSpec, ray_address: str | None = None) -> JobRecord:
        """Queue a job; it starts when fewer than ``max_running`` jobs run.

        Args:
            spec: What to train.
            ray_address: Run it on this Ray cluster instead of this machine.

        Raises:
            MocapError: When the spec is invalid or the job folder cannot be made.
        """
        record = self.store.create(spec)
        if ray_address:
            record.ray_address = ray_address
            self.store.update(record)
        self._queue.append(record.id)
        self.message.emit(f"Job {spec.name} queued", "info")
        self.jobsChanged.emit()
        self._start_next()
        return record

    def resume(self, job_id: str) -> JobRecord:
        """Queue a cancelled job (or a failed one that left a checkpoint) to go on.

        It keeps its id, spec, model name and events file; the process runs
        with ``--resume`` when the job saved a checkpoint, and from the start
        otherwise (a job cancelled while queued or loading data). Like any
        job it waits in the queue while another one runs.

        Raises:
            MocapError: When the job is unknown, running, queued or finished,
                or when another job's checkpoint now sits under its model name.
        """
        if job_id in self._watches or job_id in self._queue:
            raise MocapError(f"job {self.record(job_id).spec.name} is already running or queued")
        record = self.store.get(job_id)
        if not can_resume(record):
            why = "it has no checkpoint to go on from" if record.state == "failed" else f"it is {record.state}"
            raise MocapError(f"job {record.spec.name} cannot be resumed: {why}")
        found = _checkpoint_owner(record)
        resume = found is not None and found[1] == record.id
        if found is not None and not resume:
            # Running it again from the start would delete that other job's checkpoint.
            raise MocapError(
                f"job {record.spec.name} cannot be resumed: its checkpoint was replaced by job {found[1]} "
                "under the same name; resume that one, or start a new job",
                path=found[0],
            )
        if record.spec.resume != resume:
            record.spec.resume = resume
            record.spec.save(record.spec_path)
        record.state, record.pid, record.exit_code, record.finished = "queued", None, None, None
        record.message = None
        self.store.update(record)
        self._queue.append(record.id)
        how = "from its checkpoint" if resume else "from the start (it saved no checkpoint)"
        self.message.emit(f"Job {record.spec.name} queued to resume {how}", "info")
        self.jobsChanged.emit()
        self._start_next()
        return self.record(record.id)

    def cancel(self, job_id: str) -> None:
        """Stop a job: SIGTERM makes it save a checkpoint and report ``cancelled``."""
        if job_id in self._queue:
            self._queue.remove(job_id)
            record = self.store.get(job_id)
            record.state, record.finished, record.message = "cancelled", jobs.now_iso(), "cancelled before it started"
            self.store.update(record)
            self.jobsChanged.emit()
            self.jobFinished.emit(record)
            return
        watch = self._watches.get(job_id)
        if watch is not None and watch.record.ray_address:
            if watch.follower is None:
                self.message.emit(f"job {watch.record.spec.name} is still being submitted; cancel it then", "warning")
                return
            watch.follower.cancel()
            self.message.emit(f"Cancelling {watch.record.spec.name} on the cluster: saving a checkpoint...", "info")
            return
        if watch is None or not watch.record.pid:
            return
        try:
            os.kill(int(watch.record.pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
        except OSError as exc:
            self.message.emit(f"cannot stop job {watch.record.spec.name}: {exc}", "error")
            return
        self.message.emit(f"Cancelling {watch.record.spec.name}: saving a checkpoint...", "info")

    def _start_next(self) -> None:
        while self._queue and len(self._watches) < self.max_running:
            if self._python is None and not self._on_cluster(self._queue[0]):
                return
            job_id = self._queue.pop(0)
            try:
                record = self.store.get(job_id)
            except MocapError as exc:
                self.message.emit(str(exc), "error")
                continue
            self._launch(record)

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(PACKAGE_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _on_cluster(self, job_id: str) -> bool:
        try:
            return bool(self.store.get(job_id).ray_address)
        except MocapError:
            return False

    def _launch_on_cluster(self, record: JobRecord) -> None:
        """Submit through Ray's Jobs API in the background; follow it once Ray has taken it."""
        from .. import cluster

        record.state, record.pid, record.started, record.ray_job = "running", None, jobs.now_iso(), None
        record.finished = record.exit_code = record.message = None
        self.store.update(record)
        self._watch(record)
        self.message.emit(f"Job {record.spec.name}: submitting to the Ray cluster at {record.ray_address}...", "info")
        self.jobsChanged.emit()

        def submitted(submission: str) -> None:
            record.ray_job = submission
            self.store.update(record)
            watch = self._watches.get(record.id)
            if watch is not None:
                watch.follower = self._follow(record)
            self.message.emit(f"Job {record.spec.name} running on the cluster as {submission}", "info")

        def refused(exc: BaseException) -> None:
            watch = self._watches.pop(record.id, None)
            record.state, record.finished, record.message = "failed", jobs.now_iso(), str(exc)
            self.store.update(record)
            self.message.emit(f"Job {record.spec.name} failed: {exc}", "error")
            self.jobsChanged.emit()
            self.jobFinished.emit(watch.record if watch is not None else record)

        submit = functools.partial(cluster.submit_training, job_id=record.id)  # the events and checkpoint name it
        self._tasks.submit(f"ray-submit-{record.id}", submit, record.ray_address, record.spec,
                           on_done=submitted, on_error=refused)

    def _follow(self, record: JobRecord) -> Any:
        from .. import cluster

        assert record.ray_address and record.ray_job
        follower = cluster.JobFollower(record.ray_address, record.ray_job, record.events)
        follower.start()
        return follower

    def _launch(self, record: JobRecord) -> None:
        if record.ray_address:
            self._launch_on_cluster(record)
            return
        argv = self.store.command(record, self._python)
        if record.spec.resume:
            argv.append("--resume")
        started = jobs.now_iso()  # before the process exists: its events are all later (see jobs.latest_run)
        try:
            with open(record.log, "ab") as log:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    cwd=str(record.folder),
                    env=self._environment(),
                    **_DETACH,
                )
        except OSError as exc:
            record.state, record.finished = "failed", jobs.now_iso()
            record.message = f"could not start {argv[0]} ({exc.strerror or exc}): check the Training Python in the Jobs tab"
            self.store.update(record)
            self.message.emit(record.message, "error")
            self.jobsChanged.emit()
            self.jobFinished.emit(record)
            return
        if hasattr(os, "setpriority"):
            try:
                os.setpriority(os.PRIO_PROCESS, process.pid, JOB_NICENESS)
            except OSError:
                pass  # not allowed here: the job runs at normal priority
        record.state, record.pid, record.started = "running", int(process.pid), started
        record.finished = record.exit_code = record.message = None
        self.store.update(record)
        self._watch(record, process)
        self.message.emit(f"Job {record.spec.name} started (pid {process.pid})", "info")
        self.jobsChanged.emit()

    # ---------------------------------------------------------- following
    def reattach(self) -> None:
        """Follow jobs left running by an earlier panel; settle those that ended meanwhile."""
        changed = False
        for record in self.store.list():
            if record.id in self._watches:
                continue
            if record.state == "running":
                if record.ray_address and record.ray_job:
                    self._watch(record, follower=self._follow(record))
                elif jobs.is_alive(record.pid) and not record.ray_address:
                    self._watch(record)
                else:
                    self._settle(_Watch(record))
                changed = True
            elif record.state == "queued" and record.id not in self._queue:
                self._queue.append(record.id)
                changed = True
        if changed:
            self.jobsChanged.emit()
        self._start_next()

    def _watch(self, record: JobRecord, process: subprocess.Popen[bytes] | None = None, follower: Any = None) -> None:
        watch = _Watch(record, process=process, follower=follower)
        self._watches[record.id] = watch
        self._read(watch)
        if not self._timer.isActive():
            self._timer.start()

    def _read(self, watch: _Watch) -> list[dict[str, Any]]:
        events, watch.offset = jobs.read_events(watch.record.events, watch.offset)
        watch.events.extend(events)
        for event in events:
            self.jobEvent.emit(watch.record.id, event)
        return events

    def poll(self) -> None:
        """Read new events of every watched job; settle the ones that ended."""
        for watch in list(self._watches.values()):
            events = self._read(watch)
            ended = any(e["event"] in jobs.TERMINAL_EVENTS for e in jobs.latest_run(watch.record, events))
            if ended or not watch.alive():
                if not ended:
                    self._read(watch)  # the last lines may have landed just before the process ended
                self._settle(watch)
        self._ending = [p for p in self._ending if p.poll() is None]
        if not self._watches and not self._ending:
            self._timer.stop()
        self._start_next()

    def _settle(self, watch: _Watch) -> None:
        """Record how the job ended, from ``JobStore.finish``.

        ``finish`` reads only the events of the latest run (a resumed run that
        dies silently is failed, not taken for the earlier run's ``cancelled``),
        so the events file is read once here, by the store.
        """
        exit_code = watch.exit_code()
        record = self.store.finish(watch.record, exit_code)
        error = getattr(watch.follower, "error", None)
        if error and record.state == "failed":
            record.message = error
            self.store.update(record)
        self._watches.pop(record.id, None)
        if watch.process is not None and watch.process.poll() is None:
            self._ending.append(watch.process)  # reaped by later polls once it has written its last files
        if record.state == "done":
            self.message.emit(f"Job {record.spec.name} finished: model {record.model}", "info")
        elif record.state == "cancelled":
            self.message.emit(f"Job {record.spec.name} cancelled; its checkpoint can be resumed", "warning")
        else:
            tail = self.log_tail(record.id, 1)
            reason = record.message or tail or "no reason given"
            self.message.emit(f"Job {record.spec.name} failed: {reason} (the current model is unchanged)", "error")
        self.jobsChanged.emit()
        self.jobFinished.emit(record)

    def close(self) -> None:
        """Stop following (jobs keep running; a later panel re-attaches to them)."""
        self._timer.stop()
        for watch in self._watches.values():
            if watch.follower is not None:
                watch.follower.stop_following()
        self._tasks.wait(5000)
