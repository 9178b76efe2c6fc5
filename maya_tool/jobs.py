"""Training jobs: the event protocol, job specs and the job history on disk.

``mocap-ae train`` runs in its own process (TensorFlow never enters Maya or
the panel) and reports what it does as JSON lines, one object per line,
flushed as it goes, on stdout and, with ``--events PATH``, appended to a file
as well, so a panel restarted later can re-read the progress of a job it did
not start. Anything on stdout that is not such a line (a stray library log)
is ignored by :func:`parse_event`.

Event fields (those that do not apply are left out)::

    event      "start" | "epoch" | "progress" | "checkpoint" | "done" | "error" | "cancelled"
    job        job id
    time       ISO 8601, UTC
    epoch      1-based epoch being run (progress) or just finished (epoch, checkpoint)
    epochs     planned epochs
    step       1-based batch within the epoch; steps: batches per epoch
    loss       mean training loss of the epoch so far; val_loss: validation MSE or null
    eta_s      estimated seconds left; elapsed_s: seconds since the job started
    model      the registered sidecar (done); checkpoint: the checkpoint folder
    message    what went wrong (error) or why it stopped (cancelled)

Exit codes of the process: ``0`` done, ``1`` error (after an ``error``
event), ``3`` cancelled by SIGTERM / SIGINT (after a checkpoint and a
``cancelled`` event; ``--resume`` continues it), ``2`` bad command line.

The history (:class:`JobStore`, default ``~/.mocap-ae/jobs``) keeps one folder
per job with ``record.json`` (rewritten atomically), ``spec.json``,
``events.jsonl`` and ``stderr.log``.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import secrets
import subprocess
import sys
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

from . import atomic
from .errors import MocapError

EVENTS = ("start", "epoch", "progress", "checkpoint", "done", "error", "cancelled")
TERMINAL_EVENTS = ("done", "error", "cancelled")
STATES = ("queued", "running", "done", "failed", "cancelled")

EXIT_DONE = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 3

_STATE_OF_EVENT = {"done": "done", "error": "failed", "cancelled": "cancelled"}


def now_iso() -> str:
    """UTC time with millisecond resolution (events may come quickly)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def new_job_id() -> str:
    """Sortable and unique enough for one user's history: time plus random."""
    return datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


# --------------------------------------------------------------------- events
def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def make_event(kind: str, job: str, **fields_: Any) -> dict[str, Any]:
    """An event dict with ``event``, ``job`` and ``time``; NaN becomes null."""
    if kind not in EVENTS:
        raise ValueError(f"unknown event {kind!r}: expected one of {', '.join(EVENTS)}")
    event: dict[str, Any] = {"event": kind, "job": job, "time": now_iso()}
    event.update({key: _clean(value) for key, value in fields_.items() if value is not None or key == "val_loss"})
    return event


def format_event(event: Mapping[str, Any]) -> str:
    """One line of JSON, no trailing newline."""
    return json.dumps({key: _clean(value) for key, value in event.items()}, separators=(",", ":"), allow_nan=False)


def parse_event(line: str | bytes) -> dict[str, Any] | None:
    """The event on a line, or None for anything else (TF logs, blank lines)."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("event") not in EVENTS:
        return None
    return event


def read_events(path: os.PathLike[str] | str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events appended to an events file since byte ``offset``.

    Returns the complete lines' events and the offset to pass next time; a
    line still being written (no newline yet) is left for the next call, so
    a panel can poll the file of a running job.
    """
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = [e for e in (parse_event(line) for line in data[:end].splitlines()) if e is not None]
    return events, offset + end


class CurrentStdout:
    """Stands for whatever ``sys.stdout`` is when an event is written.

    A default of ``sys.stdout`` itself would be the object of import time,
    which a host, a test capture or a redirect may have replaced since.
    """


STDOUT = CurrentStdout()


class EventWriter:
    """Writes events to stdout (flushed) and appends them to an events file.

    Args:
        job: Job id put in every event.
        stream: Where lines go: :data:`STDOUT` (the current ``sys.stdout``),
            a stream, or None for nowhere.
        events_path: File the lines are appended to as well (created with its
            folder). Each line is one ``write`` on a file opened for append,
            so readers never see a line cut in half by another writer.
    """

    def __init__(
        self,
        job: str,
        stream: IO[str] | CurrentStdout | None = STDOUT,
        events_path: os.PathLike[str] | str | None = None,
    ) -> None:
        self.job = job
        self.stream = stream
        self.events_path = Path(events_path) if events_path is not None else None
        self.last: dict[str, Any] | None = None
        if self.events_path is not None:
            self.events_path.parent.mkdir(parents=True, exist_ok=True)

    def emit(self, kind: str, **fields_: Any) -> dict[str, Any]:
        event = make_event(kind, self.job, **fields_)
        line = format_event(event) + "\n"
        stream = sys.stdout if isinstance(self.stream, CurrentStdout) else self.stream
        if stream is not None:
            stream.write(line)
            stream.flush()
        if self.events_path is not None:
            fd = os.open(self.events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)
        self.last = event
        return event


# ----------------------------------------------------------------------- spec
@dataclass
class JobSpec:
    """What to train; the ``--spec`` file of ``mocap-ae train``.

    Attributes:
        name: Model name (files NAME.json/.npz/.keras in ``output_dir``).
        architecture: ``pose``, ``sparse`` or ``temporal``.
        inputs: Motion files and folders (BVH, ASF+AMC, CSV; folders are
            searched recursively), or one prebuilt data set ``.npz``.
        output_dir: Where the model set is written; default ``~/.mocap-ae/models``.
        epochs: Epochs to run (early stopping may stop sooner).
        batch_size: Frames (pose, sparse) or windows (temporal) per batch;
            None for the architecture's default.
        noise: Denoising training: 0 for none, a sigma, or ``[lo, hi]`` to draw
            sigma uniformly per frame / window.
        sparsity: L1 activity penalty of the sparse model (None: default).
        seed: Seeds weights, shuffling, noise and the validation split.
        fps: Resample inputs to this rate (None: keep).
        preset: Reader preset (``auto``, ``cmu``, ``none``).
        validation_fraction: Share of clips held out for validation.
        params: Architecture overrides (see ``maya_tool.models.architectures``).
        resume: Continue from this job's checkpoint.
    """

    name: str
    inputs: list[str]
    architecture: str = "pose"
    output_dir: str | None = None
    epochs: int = 100
    batch_size: int | None = None
    noise: float | list[float] = 0.0
    sparsity: float | None = None
    seed: int = 0
    fps: float | None = None
    preset: str = "auto"
    validation_fraction: float = 0.1
    params: dict[str, Any] = field(default_factory=dict)
    resume: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["inputs"] = [os.fspath(p) for p in self.inputs]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: os.PathLike[str] | str | None = None) -> "JobSpec":
        """Build and validate a spec; unknown keys are refused (typos would be silent)."""
        if not isinstance(data, Mapping):
            raise MocapError("a job spec must be a JSON object", path=path)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise MocapError(
                f"unknown job spec keys {', '.join(unknown)}; expected {', '.join(sorted(known))}", path=path
            )
        for key in ("name", "inputs"):
            if key not in data:
                raise MocapError(f"job spec lacks {key!r}", path=path)
        values = dict(data)
        if isinstance(values["inputs"], (str, os.PathLike)):
            values["inputs"] = [values["inputs"]]
        values["inputs"] = [os.fspath(p) for p in values["inputs"]]
        spec = cls(**values)
        spec.validate(path)
        return spec

    def validate(self, path: os.PathLike[str] | str | None = None) -> None:
        """Check values, naming the spec file (if any) and the bad key.

        Raises:
            MocapError: For a value that cannot work.
        """
        from .models.modelfile import ARCHITECTURES, validate_name

        try:
            validate_name(self.name)
        except MocapError as exc:
            raise MocapError(f"name: {exc.reason}", path=path) from None
        if self.architecture not in ARCHITECTURES:
            raise MocapError(
                f"architecture {self.architecture!r} is unknown: expected one of {', '.join(ARCHITECTURES)}", path=path
            )
        if not self.inputs:
            raise MocapError("inputs is empty: give motion files or folders to train on", path=path)
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise MocapError(f"epochs must be a positive integer, got {self.epochs!r}", path=path)
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise MocapError(f"batch_size must be a positive integer, got {self.batch_size!r}", path=path)
        try:
            noise_range(self.noise)
        except ValueError as exc:
            raise MocapError(f"noise: {exc}", path=path) from None
        if not 0.0 <= float(self.validation_fraction) < 1.0:
            raise MocapError(f"validation_fraction must be in [0, 1), got {self.validation_fraction!r}", path=path)
        if self.fps is not None and not float(self.fps) > 0:
            raise MocapError(f"fps must be positive, got {self.fps!r}", path=path)
        if self.sparsity is not None and float(self.sparsity) < 0:
            raise MocapError(f"sparsity must be >= 0, got {self.sparsity!r}", path=path)
        if not isinstance(self.params, Mapping):
            raise MocapError("params must be a JSON object", path=path)

    def save(self, path: os.PathLike[str] | str) -> None:
        atomic.write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: os.PathLike[str] | str) -> "JobSpec":
        return cls.from_dict(atomic.read_json(path, "job spec"), path=path)


def noise_range(noise: Any) -> tuple[float, float]:
    """``(lo, hi)`` sigma range of a spec's noise: 0, a sigma or ``[lo, hi]``."""
    if isinstance(noise, (int, float)) and not isinstance(noise, bool):
        lo = hi = float(noise)
    elif isinstance(noise, Sequence) and not isinstance(noise, str) and len(noise) == 2:
        lo, hi = float(noise[0]), float(noise[1])
    else:
        raise ValueError(f"expected 0, a sigma or [lo, hi], got {noise!r}")
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < 0 or hi < lo:
        raise ValueError(f"expected 0 <= lo <= hi, got {noise!r}")
    return lo, hi


def train_command(
    spec_path: os.PathLike[str] | str,
    python: str | None = None,
    *,
    job_id: str | None = None,
    events: os.PathLike[str] | str | None = None,
) -> list[str]:
    """The argv that runs a spec as a job process.

    Args:
        spec_path: The ``JobSpec`` JSON.
        python: Interpreter (default: this one). Inside Maya pass a Python that
            has TensorFlow, not ``mayapy``.
        job_id: Id put in the events (default: generated by the process).
        events: File the process appends its events to.
    """
    argv = [python or sys.executable, "-m", "maya_tool", "train", "--spec", os.fspath(spec_path)]
    if job_id is not None:
        argv += ["--job", job_id]
    if events is not None:
        argv += ["--events", os.fspath(events)]
    return argv


# ---------------------------------------------------------------------- locks
LOCK_SUFFIX = ".lock"


def lock_path(output_dir: os.PathLike[str] | str, name: str) -> Path:
    """The lock file of model ``name`` in ``output_dir``: ``.NAME.lock`` beside its checkpoint folder."""
    return Path(output_dir) / f".{name}{LOCK_SUFFIX}"


class NameLock:
    """One training job per model name and output folder, held for the job's whole life.

    Two jobs on one name would share ``.NAME.checkpoint/`` (the second deleted
    the first's) and race for the final renames. The lock is an OS lock
    (``flock`` / ``msvcrt.locking``) on ``.NAME.lock``, so the kernel drops it
    when the holder dies: a killed job never leaves it stuck, and no pid has
    to be guessed alive. The file names the holder (job id, pid, start time)
    so a refused job can say which one is running. It is removed on release;
    a job that takes over a file its dead holder left behind checks that the
    file it locked is still the one at the path (a releasing holder may have
    unlinked it in between).
    """

    def __init__(self, output_dir: os.PathLike[str] | str, name: str, job: str) -> None:
        self.path = lock_path(output_dir, name)
        self.name = name
        self.job = job
        self._fd: int | None = None

    def acquire(self) -> "NameLock":
        """Take the lock or raise a ``MocapError`` naming the job that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _try_lock(fd):
                holder = _read_holder(fd)
                os.close(fd)
                raise MocapError(
                    f"another job is training {self.name!r} into {self.path.parent}: {holder}; wait for it to "
                    "finish, cancel it, or use another --name",
                    path=self.path,
                )
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._fd = fd
                info = {"job": self.job, "pid": os.getpid(), "started": now_iso()}
                os.ftruncate(fd, 0)
                os.write(fd, (json.dumps(info) + "\n").encode("utf-8"))
                return self
            os.close(fd)  # locked a file its holder had just unlinked: try the new one
        raise MocapError("cannot take the job lock: the lock file keeps being replaced", path=self.path)

    def release(self) -> None:
        """Remove the file and drop the lock (unlink first, so no one locks a file about to go)."""
        if self._fd is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> "NameLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    """Lock ``fd`` without waiting; False when another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        try:
            os.lseek(fd, 1 << 20, os.SEEK_SET)  # a byte past the holder's note, which stays readable
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _read_holder(fd: int) -> str:
    """Who holds a lock, from the file it wrote, for the refusal message."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8"))
        return f"job {info['job']} (pid {info['pid']}, started {info['started']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "a job that is just starting"


# --------------------------------------------------------------------- store
def is_alive(pid: int | None) -> bool:
    """Whether a process is still running (a finished, unreaped child is not)."""
    if not pid or pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, int(pid))  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        try:
            code = ctypes.c_ulong()
            ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return bool(ok) and code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{int(pid)}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@dataclass
class JobRecord:
    """One job in the history.

    Attributes:
        id: Job id (also its folder name).
        spec: What it trains.
        state: ``queued``, ``running``, ``done``, ``failed`` or ``cancelled``.
        pid: Process id while running (for re-attaching after a restart).
        log: stderr of the process.
        events: The events file (JSON lines).
        model: The registered sidecar once done.
        created, started, finished: ISO 8601 times.
        exit_code: The process's exit code once known.
        message: Last error or cancel message.
        ray_address: The Ray cluster the job runs on (None: this machine).
        ray_job: Ray's submission id of its latest run there (for re-attaching).
    """

    id: str
    spec: JobSpec
    state: str = "queued"
    pid: int | None = None
    log: str = ""
    events: str = ""
    model: str | None = None
    created: str = ""
    started: str | None = None
    finished: str | None = None
    exit_code: int | None = None
    message: str | None = None
    ray_address: str | None = None
    ray_job: str | None = None

    @property
    def folder(self) -> Path:
        return Path(self.events).parent

    @property
    def spec_path(self) -> Path:
        return self.folder / "spec.json"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spec"] = self.spec.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: os.PathLike[str] | str | None = None) -> "JobRecord":
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "id" not in values or "spec" not in values:
            raise MocapError("job record lacks id or spec", path=path)
        values["spec"] = JobSpec.from_dict(values["spec"], path=path)
        return cls(**values)


class JobStore:
    """The job history: one folder per job under ``root``.

    Every record is rewritten atomically, so a panel and a job process (or
    two panels) never read half a record. The store does not watch processes
    by itself; :meth:`refresh` reconciles a ``running`` record whose process
    is gone with the last event it wrote.
    """

    def __init__(self, root: os.PathLike[str] | str | None = None) -> None:
        self.root = Path(root) if root is not None else default_jobs_dir()

    def _record_path(self, job_id: str) -> Path:
        return self.root / job_id / "record.json"

    def create(self, spec: JobSpec, job_id: str | None = None) -> JobRecord:
        """A queued job: its folder, ``spec.json`` and ``record.json``."""
        spec.validate()
        job_id = job_id or new_job_id()
        folder = self.root / job_id
        if folder.exists():
            raise MocapError(f"job {job_id!r} already exists", path=folder)
        folder.mkdir(parents=True)
        record = JobRecord(
            id=job_id,
            spec=spec,
            log=os.fspath(folder / "stderr.log"),
            events=os.fspath(folder / "events.jsonl"),
            created=now_iso(),
        )
        spec.save(record.spec_path)
        self.update(record)
        return record

    def update(self, record: JobRecord) -> None:
        if record.state not in STATES:
            raise ValueError(f"unknown job state {record.state!r}")
        atomic.write_text(self._record_path(record.id), json.dumps(record.to_dict(), indent=1) + "\n")

    def get(self, job_id: str) -> JobRecord:
        path = self._record_path(job_id)
        if not path.is_file():
            raise MocapError(f"no job {job_id!r} in {self.root}", path=path)
        return JobRecord.from_dict(atomic.read_json(path, "job record"), path=path)

    def list(self) -> list[JobRecord]:
        """Every readable job, oldest first (unreadable records are skipped)."""
        records = []
        for path in sorted(self.root.glob("*/record.json")):
            try:
                records.append(self.get(path.parent.name))
            except MocapError:
                continue
        return sorted(records, key=lambda r: (r.created, r.id))

    def command(self, record: JobRecord, python: str | None = None) -> builtins.list[str]:
        """argv for a job: its spec, its id and its events file."""
        return train_command(record.spec_path, python, job_id=record.id, events=record.events)

    def start(
        self,
        record: JobRecord,
        python: str | None = None,
        *,
        resume: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Launch the job process and mark the record running.

        stdout is discarded (read progress from the events file with
        :func:`read_events`, which also works after a restart); stderr goes to
        the job's log. Wait on the returned process, then call
        :meth:`finish`. ``resume=True`` continues a cancelled job from its
        checkpoint, under the same id and appending to the same events file.
        """
        if resume != record.spec.resume:
            record.spec.resume = resume
            record.spec.save(record.spec_path)
        started = now_iso()
        with open(record.log, "ab") as log:
            process = subprocess.Popen(
                self.command(record, python),
                stdout=subprocess.DEVNULL,
                stderr=log,
                stdin=subprocess.DEVNULL,
                env=None if env is None else dict(env),
            )
        record.state, record.pid, record.started = "running", process.pid, started
        record.finished = record.exit_code = record.message = None
        self.update(record)
        return process

    def events(self, record: JobRecord) -> builtins.list[dict[str, Any]]:
        return read_events(record.events)[0]

    def finish(self, record: JobRecord, exit_code: int | None = None) -> JobRecord:
        """Settle a record from the last terminal event of its latest run (and exit code).

        A resumed job appends to the events file of its first run, whose
        ``cancelled`` must not settle the run that followed it.
        """
        events = latest_run(record, self.events(record))
        terminal = next((e for e in reversed(events) if e["event"] in TERMINAL_EVENTS), None)
        if terminal is not None:
            record.state = _STATE_OF_EVENT[terminal["event"]]
            record.message = terminal.get("message")
            record.model = terminal.get("model", record.model)
        else:
            record.state = "failed"
            record.message = (
                f"the job process ended without a final event (exit code {exit_code})"
                if exit_code is not None
                else "the job process ended without a final event"
            )
        record.exit_code = exit_code
        record.finished = now_iso()
        record.pid = None
        self.update(record)
        return record

    def refresh(self, record: JobRecord) -> JobRecord:
        """Re-attach after a restart: a ``running`` job whose process is gone is settled.

        A cluster job (``ray_address``) has no local process: whoever follows
        its log settles it (``maya_tool.cluster.follow_job``).
        """
        if record.state == "running" and not record.ray_address and not is_alive(record.pid):
            return self.finish(record)
        return record


def parse_time(text: Any) -> datetime | None:
    """A record's or an event's ISO time, ``None`` when absent or unreadable (a hand-edited record)."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def latest_run(record: JobRecord, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events of the record's latest run.

    A resumed job's events file also holds the runs before it, ending in a
    ``cancelled`` event; the launch time (``record.started``, taken before the
    process exists) separates them, so a resumed run that dies silently is not
    mistaken for the earlier, cancelled one. Times that are missing, unreadable
    or without a zone count as the latest run's.
    """
    started = parse_time(record.started)
    if started is None or started.tzinfo is None:
        return events
    result = []
    for event in events:
        when = parse_time(event.get("time"))
        if when is None or when.tzinfo is None or when >= started:
            result.append(event)
    return result


def default_jobs_dir() -> Path:
    return Path.home() / ".mocap-ae" / "jobs"
