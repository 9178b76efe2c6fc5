"""Batch work over many clips, and training jobs, on a Ray cluster or a local process pool.

The one module that imports Ray, and only inside the functions that talk to a
cluster: importing it costs nothing, and the node, the panel and the rest of
the core never import Ray (a test checks). One machine stays the default;
``pip install "mocap-ae[cluster]"`` brings Ray when a studio has a cluster.

Batch (:func:`run_batch`): one clip per task. What every task shares (the
model) goes to the workers once: ``ray.put`` into the object store on a
cluster, the pool initializer on a local pool; a worker builds the model from
it once and keeps it for the following tasks. Paths travel, not data: inputs
and outputs must be on storage every node sees (a studio's shared drive), and
a worker that cannot read an input says so, naming its node. A task that
raises or whose worker dies is run once more, then reported, without stopping
the others; a bad input (:class:`MocapError`) is reported at once, since
running it again would fail the same way. Ctrl-C cancels the tasks not yet
done. Results come back in input order and equal those of one process: every
task runs the same numpy code on the same inputs, and whatever is pooled over
clips is added up on the driver in clip order (:func:`evaluate_files`).

Training (:func:`submit_training`, :func:`follow_job`): the job is the same
``mocap-ae train`` command, given to Ray's Jobs API as its entrypoint with the
CPUs (and GPU) it asks for. Its JSON events come back through the job's log
stream and are appended to a local events file, so whatever follows a local
job (the CLI, the panel, a panel opened after a restart) follows a cluster job
with the same code; ``stop_job`` sends SIGTERM, on which the job checkpoints as
it does locally.

Addresses: tasks connect to the cluster (``HOST:6379``, or ``ray://HOST:10001``
through Ray Client), jobs to its dashboard (``http://HOST:8265``). Each accepts
the other's form and uses Ray's default port of what it needs, so one
``--ray HOST`` works against a cluster on default ports.
"""

from __future__ import annotations

import concurrent.futures
import os
import shlex
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import numpy as np

from .errors import MocapError

INSTALL_HINT = 'pip install "mocap-ae[cluster]"'
START_HINT = "start one with `ray start --head` or check the address"
GCS_PORT = 6379
CLIENT_PORT = 10001
DASHBOARD_PORT = 8265
CONNECT_TIMEOUT_S = 4.0
"""How long to wait for the cluster's port to answer before saying it is not there."""
JOB_STOP_WAIT_S = 60
"""Seconds Ray gives a stopped job to save its checkpoint before killing it (Ray's own default is 3)."""
TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "STOPPED")

_CONNECTED: str | None = None
"""The cluster address this process connected to for tasks (None: none, or one it started itself)."""
_WORKER_SHARED: dict[str, Any] = {}
"""In a worker process: what the tasks share, by object id (or ``"pool"``), built once per process."""


# ------------------------------------------------------------------ addresses
@dataclass(frozen=True)
class Address:
    """Where a cluster is: what tasks connect to and what jobs are submitted to."""

    given: str
    host: str
    cluster: str
    dashboard: str

    @property
    def cluster_port(self) -> tuple[str, int]:
        return _host_port(self.cluster, GCS_PORT)

    @property
    def dashboard_port(self) -> tuple[str, int]:
        return _host_port(self.dashboard, DASHBOARD_PORT)


def _host_port(text: str, default: int) -> tuple[str, int]:
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    try:
        port = parts.port
    except ValueError:
        raise MocapError(f"--ray {text!r}: the port is not a number") from None
    if not parts.hostname:
        raise MocapError(f"--ray {text!r}: expected HOST, HOST:PORT, ray://HOST:PORT or http://HOST:PORT")
    return parts.hostname, port or default


def parse_address(address: str) -> Address:
    """Read ``--ray``: ``HOST[:PORT]``, ``ray://HOST[:PORT]`` or ``http://HOST[:PORT]``.

    A ``http`` address is the dashboard (jobs); tasks then use the cluster port
    6379 of the same host. Any other form is the cluster (tasks); jobs then
    use the dashboard port 8265 of the same host.

    Raises:
        MocapError: For an empty or malformed address.
    """
    text = (address or "").strip()
    if not text:
        raise MocapError("--ray needs an address, e.g. 127.0.0.1:6379 or http://127.0.0.1:8265")
    if text.startswith(("http://", "https://")):
        host, port = _host_port(text, DASHBOARD_PORT)
        scheme = text.split("://", 1)[0]
        return Address(text, host, f"{host}:{GCS_PORT}", f"{scheme}://{host}:{port}")
    if text.startswith("ray://"):
        host, port = _host_port(text, CLIENT_PORT)
        return Address(text, host, f"ray://{host}:{port}", f"http://{host}:{DASHBOARD_PORT}")
    if "://" in text:
        raise MocapError(f"--ray {text!r}: expected HOST:PORT, ray://HOST:PORT or http://HOST:PORT")
    host, port = _host_port(text, GCS_PORT)
    return Address(text, host, f"{host}:{port}", f"http://{host}:{DASHBOARD_PORT}")


def check_reachable(host: str, port: int, what: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Fail fast, with one clear line, when nothing listens where the cluster should be.

    Ray's own clients retry an unreachable address for a minute or more before
    giving up; a wrong ``--ray`` deserves an answer in seconds.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except socket.timeout:
        reason = f"no answer within {timeout:g} s"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise MocapError(f"cannot reach a Ray cluster's {what} at {host}:{port} ({reason}); {START_HINT}")


def import_ray() -> Any:
    """Ray, or one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise MocapError(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def connect(address: str) -> Any:
    """Connect this process to the cluster for tasks (once; later calls reuse it).

    Returns:
        The ``ray`` module, connected.

    Raises:
        MocapError: Ray missing, or no cluster at the address.
    """
    global _CONNECTED
    where = parse_address(address)
    ray = import_ray()
    if ray.is_initialized() and _CONNECTED in (where.cluster, None):
        return ray  # this cluster, or one this process started itself (start_local_cluster)
    check_reachable(*where.cluster_port, "cluster port")
    if ray.is_initialized():
        ray.shutdown()  # connected to another cluster before
    try:
        ray.init(address=where.cluster, logging_level="ERROR", log_to_driver=False, configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise MocapError(f"cannot connect to the Ray cluster at {where.cluster}: {exc}; {START_HINT}") from None
    _CONNECTED = where.cluster
    return ray


# ---------------------------------------------------------------------- batch
@dataclass
class TaskOutcome:
    """What became of one item of a batch.

    Attributes:
        label: The item as the report names it (usually its path).
        value: The task's result; None when it failed.
        error: Why it failed (after its retry), or None.
        attempts: How often it ran (2 after a retry).
        bad_input: The task refused its input (a :class:`MocapError`), so it was not retried.
    """

    label: str
    value: Any = None
    error: str | None = None
    attempts: int = 1
    bad_input: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class BatchReport:
    """Every item's outcome, in input order, and how the batch ran."""

    outcomes: list[TaskOutcome]
    backend: str
    workers: int
    seconds: float
    cancelled: bool = False

    @property
    def failed(self) -> list[TaskOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def values(self) -> list[Any]:
        return [o.value for o in self.outcomes if o.ok]


class _Failed:
    """A task's answer for a bad input: reported, not raised, so it is not retried."""

    def __init__(self, message: str) -> None:
        self.message = message


def _node_name() -> str:
    return socket.gethostname()


def _call(task: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    try:
        return task(shared, item)
    except MocapError as exc:
        return _Failed(str(exc))


def _ray_task(task: Callable[[Any, Any], Any], shared_box: list[Any], item: Any) -> Any:
    """What runs on a Ray worker: the shared value fetched once per worker process, then the task."""
    ref = shared_box[0]
    key = ref.hex() if ref is not None else "none"
    if key not in _WORKER_SHARED:
        import ray

        _WORKER_SHARED.clear()  # one batch at a time: drop the previous batch's model
        _WORKER_SHARED[key] = ray.get(ref) if ref is not None else None
    return _call(task, _WORKER_SHARED[key], item)


def _pool_init(shared: Any) -> None:
    _WORKER_SHARED["pool"] = shared


def _pool_task(task: Callable[[Any, Any], Any], item: Any) -> Any:
    return _call(task, _WORKER_SHARED.get("pool"), item)


def _progress(total: int, desc: str, enabled: bool | None) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

    return tqdm(total=total, desc=desc, unit="task", disable=not sys.stderr.isatty() if enabled is None else not enabled,
                file=sys.stderr)


def iter_batch(
    task: Callable[[Any, Any], Any],
    items: Sequence[Any],
    shared: Any = None,
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    labels: Sequence[str] | None = None,
) -> Iterator[tuple[int, TaskOutcome]]:
    """``(index, outcome)`` of every item as each ends: here, on a local pool, or on Ray.

    Args:
        task: A module-level function (workers import it by name). It raises
            :class:`MocapError` for a bad input (reported, not retried); any
            other exception, or its worker dying, runs it once more.
        items: One per task (a path, a small job description).
        shared: Sent to the workers once (the model); must pickle.
        ray_address: Run on this Ray cluster (see :func:`parse_address`).
        workers: Without Ray: processes of a local pool (None or 1: this process).
        labels: How outcomes name each item (default ``str(item)``).

    Raises:
        MocapError: Ray missing or the cluster unreachable.

    Ctrl-C while waiting, or closing the iterator early, cancels the tasks not
    yet done.
    """
    names = [str(i) for i in items] if labels is None else [str(label) for label in labels]
    if ray_address:
        return _iter_ray(task, items, shared, names, ray_address)
    if workers and workers > 1 and len(items) > 1:
        return _iter_pool(task, items, shared, names, workers)
    return _iter_here(task, items, shared, names)


def echo(shared: Any, item: Any) -> Any:
    """A task that does nothing but return its item: what a batch costs per task beyond its work."""
    return item


def start_local_cluster(cpus: int) -> str:
    """Start a Ray cluster of ``cpus`` CPUs owned by this process (a real one, not ``local_mode``); its address.

    For benchmarks and trying things out; it ends with the process or :func:`shutdown`.
    """
    ray = import_ray()
    global _CONNECTED
    context = ray.init(num_cpus=cpus, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
                       configure_logging=False)
    _CONNECTED = None
    return str(context.address_info["gcs_address"])


def shutdown() -> None:
    """Disconnect from the cluster (ending it if this process started it)."""
    global _CONNECTED
    if "ray" in sys.modules:
        import ray

        ray.shutdown()
    _CONNECTED = None


def run_batch(
    task: Callable[[Any, Any], Any],
    items: Sequence[Any],
    shared: Any = None,
    *,
    ray_address: str | None = None,
    workers: int | None = None,
    labels: Sequence[str] | None = None,
    desc: str = "clips",
    progress: bool | None = None,
) -> BatchReport:
    """:func:`iter_batch` to the end, with a tqdm bar over the tasks; outcomes in input order.

    Args:
        desc: What the progress bar counts.
        progress: Show the bar (None: when stderr is a terminal).
    """
    start = time.perf_counter()
    outcomes: list[TaskOutcome | None] = [None] * len(items)
    if ray_address:
        backend, count = f"ray {parse_address(ray_address).cluster}", 0
    elif workers and workers > 1 and len(items) > 1:
        backend, count = f"local pool of {workers}", workers
    else:
        backend, count = "this process", 1
    with _progress(len(items), desc, progress) as bar:
        for i, outcome in iter_batch(task, items, shared, ray_address=ray_address, workers=workers, labels=labels):
            outcomes[i] = outcome
            bar.update(1)
    if ray_address:
        count = _ray_cpus()
    return BatchReport([o for o in outcomes if o is not None], backend, count, time.perf_counter() - start)


def _settle(name: str, value: Any, attempts: int) -> TaskOutcome:
    if isinstance(value, _Failed):
        return TaskOutcome(name, error=value.message, attempts=attempts, bad_input=True)
    return TaskOutcome(name, value=value, attempts=attempts)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}".rstrip(": ")


def _iter_here(task: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any,
               names: list[str]) -> Iterator[tuple[int, TaskOutcome]]:
    for i, (name, item) in enumerate(zip(names, items)):
        for attempt in (1, 2):
            try:
                outcome = _settle(name, _call(task, shared, item), attempt)
                break
            except Exception as exc:  # noqa: BLE001 - any failure of one item is reported, the rest go on
                outcome = TaskOutcome(name, error=_describe(exc), attempts=attempt)
        yield i, outcome


def _iter_pool(task: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any, names: list[str],
               workers: int) -> Iterator[tuple[int, TaskOutcome]]:
    pool = concurrent.futures.ProcessPoolExecutor(workers, initializer=_pool_init, initargs=(shared,))
    futures = {pool.submit(_pool_task, task, item): (i, 1) for i, item in enumerate(items)}
    try:
        while futures:
            done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                i, attempt = futures.pop(future)
                try:
                    outcome = _settle(names[i], future.result(), attempt)
                except Exception as exc:  # noqa: BLE001 - retried once, then reported
                    if attempt == 1 and not isinstance(exc, concurrent.futures.process.BrokenProcessPool):
                        futures[pool.submit(_pool_task, task, items[i])] = (i, 2)
                        continue
                    outcome = TaskOutcome(names[i], error=_describe(exc), attempts=attempt)
                yield i, outcome
    finally:
        # Done, Ctrl-C or closed early: tasks not yet started are dropped.
        pool.shutdown(wait=not futures, cancel_futures=True)


BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads() -> dict[str, str]:
    """The driver's BLAS thread count, for the tasks.

    Ray gives each task one BLAS thread unless told otherwise, and float32
    matrix products round differently with another thread count: the model's
    outputs would differ from the local run's in the last bits. With the
    driver's count they are identical (same hardware and numpy build).
    """
    try:
        count = len(os.sched_getaffinity(0))  # type: ignore[attr-defined,unused-ignore]
    except AttributeError:
        count = os.cpu_count() or 1
    return {name: os.environ.get(name) or str(count) for name in BLAS_THREAD_VARIABLES}


def _ray_cpus() -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 0


def _iter_ray(task: Callable[[Any, Any], Any], items: Sequence[Any], shared: Any, names: list[str],
              address: str) -> Iterator[tuple[int, TaskOutcome]]:
    ray = connect(address)
    from ray import exceptions as ray_errors

    shared_ref = ray.put(shared) if shared is not None else None  # once, however many tasks read it
    remote = ray.remote(_ray_task).options(
        num_cpus=1, max_retries=1, retry_exceptions=True, runtime_env={"env_vars": blas_threads()}
    )
    index = {remote.remote(task, [shared_ref], item): i for i, item in enumerate(items)}
    pending = list(index)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                i = index[ref]
                try:
                    outcome = _settle(names[i], ray.get(ref), 1)
                except ray_errors.RayTaskError as exc:
                    cause = exc.cause if getattr(exc, "cause", None) is not None else exc
                    outcome = TaskOutcome(names[i], error=f"failed twice: {_describe(cause)}", attempts=2)
                except ray_errors.RayError as exc:
                    outcome = TaskOutcome(names[i], error=f"lost twice: {_describe(exc)}", attempts=2)
                yield i, outcome
    finally:
        for ref in pending:  # Ctrl-C, or the caller stopped reading: nothing left running for nobody
            ray.cancel(ref, force=True)


# ------------------------------------------------------------ shared models
@dataclass
class ModelPayload:
    """A model as it travels to workers: the numpy runtime's sidecar and weights, not its path.

    Workers need not see the model folder, and a worker builds the model once
    (:meth:`model`), however many clips it then runs.
    """

    kind: str
    meta: dict[str, Any] | None = None
    weights: dict[str, np.ndarray] | None = None
    path: str | None = None
    obj: Any = None
    _built: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, model: Any) -> "ModelPayload | None":
        if model is None:
            return None
        from .models.runtime import NumpyModel

        if isinstance(model, NumpyModel):
            # The arrays load_model verified against the sidecar's hash, read once here for every worker.
            with np.load(model.path.with_suffix(".npz"), allow_pickle=False) as archive:
                weights = {name: archive[name] for name in archive.files}
            return cls("numpy", meta=dict(model.meta), weights=weights, path=os.fspath(model.path))
        return cls("object", obj=model)

    def model(self) -> Any:
        if self._built is None:
            if self.kind == "numpy":
                from .models.runtime import NumpyModel

                assert self.meta is not None and self.weights is not None and self.path is not None
                self._built = NumpyModel(self.meta, self.weights, self.path)
            else:
                self._built = self.obj
        return self._built

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_built"] = None  # workers rebuild: compiled layers need not pickle
        return state


# ------------------------------------------------------------- evaluate batch
def read_input(path: str, preset: str = "auto", fps: float | None = None) -> Any:
    """Read a clip on a worker, saying which node could not see it."""
    from .io import read_clip

    if not os.access(path, os.R_OK):
        why = "does not exist" if not os.path.exists(path) else "is not readable"
        raise MocapError(
            f"worker on node {_node_name()} cannot read this input: it {why} there; inputs and outputs must be on "
            "storage every node sees (a shared drive mounted at the same path)",
            path=path,
        )
    clip = read_clip(path, preset=preset)
    clip.source.setdefault("path", str(path))
    return clip.resample(fps) if fps else clip


@dataclass
class EvaluateShared:
    """What every clip's task shares: the model, the evaluation's options, how clips are read."""

    model: ModelPayload
    options: dict[str, Any]
    preset: str = "auto"
    fps: float | None = None


def clip_outputs(shared: EvaluateShared, path: str) -> dict[str, np.ndarray]:
    """One clip's model outputs (:func:`maya_tool.evaluate.model_outputs`), read and run on a worker."""
    from .evaluate import model_outputs

    clip = read_input(path, shared.preset, shared.fps)
    return model_outputs(shared.model.model(), clip, **shared.options)


def model_outputs_on_workers(
    model: Any,
    paths: Sequence[os.PathLike[str] | str],
    options: Mapping[str, Any] | None = None,
    *,
    preset: str = "auto",
    fps: float | None = None,
    ray_address: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> tuple[list[dict[str, np.ndarray] | None], BatchReport]:
    """The model's outputs for every clip, one clip per task on Ray or a local pool.

    What ``evaluate_many(clips, model, outputs=...)`` takes: the evaluation
    pools its clips (filter settings are picked on all of them), so it runs
    on the driver, and only the model's forward passes are spread out.

    Args:
        model: The loaded model (its arrays are sent to the workers once).
        paths: Clip files, on storage the workers see.
        options: ``corruption``, ``seed``, ``sigma`` of :func:`maya_tool.evaluate.model_outputs`.
        preset, fps: How the clips are read (as the driver reads them).

    Returns:
        Per clip its outputs, None where the task failed (see the report).
    """
    payload = ModelPayload.of(model)
    assert payload is not None
    names = [os.fspath(p) for p in paths]
    shared = EvaluateShared(payload, dict(options or {}), preset, fps)
    report = run_batch(clip_outputs, names, shared, ray_address=ray_address, workers=workers, progress=progress)
    return [o.value if o.ok else None for o in report.outcomes], report


def print_failures(report: BatchReport, stream: IO[str] | None = None) -> None:
    """One line per failed item, then a count: what the command tells after a batch."""
    out = stream or sys.stderr
    for outcome in report.failed:
        print(f"failed: {outcome.label}: {outcome.error}", file=out)
    if report.failed:
        print(f"{len(report.failed)} of {len(report.outcomes)} failed; the others finished", file=out)


# ------------------------------------------------------------------ training
def train_argv(spec: Any, *, job_id: str | None = None, program: Sequence[str] = ("mocap-ae",)) -> list[str]:
    """``mocap-ae train`` flags that rebuild ``spec`` exactly (what a cluster job runs).

    Flags rather than a spec file: the command line is the whole job, so the
    cluster needs no file from this machine but the inputs themselves.
    """
    import json

    argv = [*program, "train", "--name", spec.name, "--architecture", spec.architecture,
            "--epochs", str(spec.epochs), "--seed", str(spec.seed), "--preset", spec.preset,
            "--validation-fraction", repr(float(spec.validation_fraction))]
    if spec.output_dir is not None:
        argv += ["--output-dir", os.fspath(spec.output_dir)]
    if spec.batch_size is not None:
        argv += ["--batch-size", str(spec.batch_size)]
    noise = spec.noise if isinstance(spec.noise, (list, tuple)) else [spec.noise]
    argv += ["--noise", *(repr(float(n)) for n in noise)]
    if spec.sparsity is not None:
        argv += ["--sparsity", repr(float(spec.sparsity))]
    if spec.fps is not None:
        argv += ["--fps", repr(float(spec.fps))]
    for key, value in spec.params.items():
        argv += ["--param", f"{key}={json.dumps(value, separators=(',', ':'))}"]
    if spec.resume:
        argv.append("--resume")
    if job_id is not None:
        argv += ["--job", job_id]
    argv += ["--no-progress", "--", *(os.fspath(p) for p in spec.inputs)]
    return argv


def job_client(address: str) -> Any:
    """A Jobs API client for the cluster's dashboard, or one clear line why not."""
    where = parse_address(address)
    import_ray()
    check_reachable(*where.dashboard_port, "dashboard (Jobs API)")
    import logging

    from ray.job_submission import JobSubmissionClient

    logging.getLogger("ray.dashboard.modules.job.sdk").setLevel(logging.WARNING)  # "WebSocket closed" on every job
    try:
        return JobSubmissionClient(where.dashboard)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise MocapError(f"cannot use the Jobs API at {where.dashboard}: {exc}; {START_HINT}") from None


def submit_training(
    address: str,
    spec: Any,
    *,
    job_id: str | None = None,
    cpus: float = 1,
    gpus: float = 0,
    program: Sequence[str] = ("mocap-ae",),
    env: Mapping[str, str] | None = None,
) -> str:
    """Submit ``mocap-ae train`` for ``spec`` through the Jobs API; returns Ray's submission id.

    Paths in the spec (inputs, output folder) are made absolute: they must
    mean the same on the cluster (shared storage). The job gets
    :data:`JOB_STOP_WAIT_S` seconds to checkpoint after ``stop_job``.
    """
    from dataclasses import replace

    spec = replace(
        spec,
        inputs=[os.path.abspath(os.fspath(p)) for p in spec.inputs],
        output_dir=os.path.abspath(os.path.expanduser(spec.output_dir or _default_models())),
    )
    client = job_client(address)
    entrypoint = shlex.join(train_argv(spec, job_id=job_id, program=program))
    env_vars = {"PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "RAY_JOB_STOP_WAIT_TIME_S": str(JOB_STOP_WAIT_S)}
    env_vars.update(env or {})
    try:
        return str(
            client.submit_job(
                entrypoint=entrypoint,
                runtime_env={"env_vars": env_vars},
                entrypoint_num_cpus=cpus,
                entrypoint_num_gpus=gpus or None,
                metadata={"mocap_ae_job": job_id or "", "model": spec.name},
            )
        )
    except RuntimeError as exc:
        raise MocapError(f"the cluster refused the job: {exc}") from None


def _default_models() -> str:
    from .models.modelfile import user_model_dir

    return os.fspath(user_model_dir())


def job_status(address: str, submission_id: str) -> str:
    """Ray's status of the job: PENDING, RUNNING, STOPPED, SUCCEEDED or FAILED."""
    return str(job_client(address).get_job_status(submission_id).value)


def stop_job(address: str, submission_id: str) -> bool:
    """Ask Ray to stop the job (SIGTERM: it checkpoints and reports ``cancelled``)."""
    return bool(job_client(address).stop_job(submission_id))


def _seen_lines(events_path: Path | None) -> set[str]:
    if events_path is None or not events_path.is_file():
        return set()
    return {line.strip() for line in events_path.read_text(encoding="utf-8", errors="replace").splitlines()}


def _log_lines(client: Any, submission_id: str, stop: threading.Event | None = None) -> Iterator[str]:
    """The job's log as it grows: Ray's log stream, then the whole log once it ends (nothing missed)."""
    import asyncio

    queue: list[str] = []

    async def tail() -> None:
        async for chunk in client.tail_job_logs(submission_id):
            queue.append(chunk)

    done = threading.Event()
    failure: list[BaseException] = []

    def pump() -> None:
        try:
            asyncio.run(tail())
        except BaseException as exc:  # noqa: BLE001 - the log is read whole below anyway
            failure.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=pump, name=f"ray-logs-{submission_id}", daemon=True)
    thread.start()
    buffer = ""
    while True:
        finished = done.wait(0.2)
        while queue:
            buffer += queue.pop(0)
        *lines, buffer = buffer.split("\n")
        yield from lines
        if stop is not None and stop.is_set():
            return
        if finished and not queue:
            break
    status = str(client.get_job_status(submission_id).value)
    while status not in TERMINAL_STATUSES:  # the stream broke off early: poll until the job ends
        time.sleep(1.0)
        status = str(client.get_job_status(submission_id).value)
    yield from client.get_job_logs(submission_id).splitlines()


def follow_job(
    address: str,
    submission_id: str,
    events_path: os.PathLike[str] | str | None = None,
    *,
    stream: IO[str] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> tuple[str, dict[str, Any] | None]:
    """Copy the job's events from its log to ``events_path`` (and ``stream``) until it ends.

    Lines already in the events file are skipped, so following again after a
    restart (or after a resumed run appended to the same file) adds only what
    is new. Returns Ray's final status (its current one when ``stop`` is
    set first) and the job's last terminal event.
    """
    from .jobs import TERMINAL_EVENTS, format_event, parse_event

    client = job_client(address)
    path = Path(events_path) if events_path is not None else None
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    seen = _seen_lines(path)
    terminal = None
    for line in _log_lines(client, submission_id, stop):
        event = parse_event(line)
        if event is None:
            continue
        text = format_event(event)
        if text in seen:
            continue
        seen.add(text)
        if path is not None:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (text + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        if stream is not None:
            stream.write(text + "\n")
            stream.flush()
        if on_event is not None:
            on_event(event)
        if event["event"] in TERMINAL_EVENTS:
            terminal = event
    return str(client.get_job_status(submission_id).value), terminal


def job_log_tail(address: str, submission_id: str, lines: int = 20) -> str:
    """The last lines of the job's log that are not events: what a failed job said."""
    from .jobs import parse_event

    text = job_client(address).get_job_logs(submission_id)
    return "\n".join([line for line in text.splitlines() if parse_event(line) is None][-lines:])


class JobFollower(threading.Thread):
    """Follows one cluster job in the background (the panel's seam): events into its file.

    ``alive`` stays true until the job has ended on the cluster and every
    event is in the file, so a poller of that file settles it with the same
    code as a local job. Errors talking to the cluster end the follower with
    ``error`` set.
    """

    def __init__(self, address: str, submission_id: str, events_path: os.PathLike[str] | str) -> None:
        super().__init__(name=f"ray-job-{submission_id}", daemon=True)
        self.address = address
        self.submission_id = submission_id
        self.events_path = events_path
        self.status: str | None = None
        self.error: str | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            self.status, _ = follow_job(self.address, self.submission_id, self.events_path, stop=self.stopping)
        except Exception as exc:  # noqa: BLE001 - reported by the runner as the job's failure
            self.error = f"lost the Ray job {self.submission_id} at {self.address}: {_describe(exc)}"

    def alive(self) -> bool:
        return self.is_alive()

    def stop_following(self) -> None:
        """Stop copying events (the job goes on; following it again later adds what is new)."""
        self.stopping.set()

    def cancel(self) -> threading.Thread:
        """Stop the job on the cluster, from another thread (the UI never waits on the network)."""

        def stop() -> None:
            try:
                stop_job(self.address, self.submission_id)
            except Exception as exc:  # noqa: BLE001 - seen as the job not stopping
                self.error = f"cannot stop the Ray job {self.submission_id}: {_describe(exc)}"

        thread = threading.Thread(target=stop, name=f"ray-stop-{self.submission_id}", daemon=True)
        thread.start()
        return thread

