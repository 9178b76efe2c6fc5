"""``mocap-ae train``: train an autoencoder as a job process.

Prints one JSON event per line on stdout (see :mod:`maya_tool.jobs`), and a
progress bar on stderr when stderr is a terminal. Give the job as flags or as
``--spec job.json`` (a :class:`maya_tool.jobs.JobSpec`); flags given beside a
spec override its fields.

Exit codes: 0 done, 1 error (an ``error`` event says why), 3 cancelled by
SIGTERM or Ctrl-C after saving a checkpoint (``--resume`` continues it),
2 bad command line.

Examples::

    mocap-ae train --name pose-v1 --architecture pose data/train.npz --epochs 200 --noise 0.02 0.1
    mocap-ae train --name temporal-16x --architecture temporal subjects/05 subjects/06 --param high_ratio=true
    mocap-ae train --spec job.json --events job.events.jsonl
    mocap-ae train --spec job.json --resume
    mocap-ae train --name pose-v1 --resume
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import MocapError
from ..models import modelfile
from ..presets import READER_PRESETS

_SPEC_FLAGS = (
    "name",
    "architecture",
    "output_dir",
    "epochs",
    "batch_size",
    "sparsity",
    "seed",
    "fps",
    "preset",
    "validation_fraction",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = __doc__.split("Examples::", 1)[1] if __doc__ else None
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="motion files, folders, or one data set .npz")
    parser.add_argument("--spec", metavar="JOB.json", help="a job spec (JSON); flags override its fields")
    parser.add_argument("--name", help="model name: writes NAME.json, NAME.npz, NAME.keras")
    parser.add_argument("--architecture", choices=modelfile.ARCHITECTURES, help="default: pose")
    parser.add_argument("-o", "--output-dir", metavar="DIR", help="where the model goes (default: ~/.mocap-ae/models)")
    parser.add_argument("--epochs", type=int, help="epochs to run (default: 100; early stopping may stop sooner)")
    parser.add_argument("--batch-size", type=int, help="frames (or windows, temporal) per batch")
    parser.add_argument(
        "--noise", type=float, nargs="+", metavar="SIGMA", help="denoising training: a sigma, or LO HI to draw from"
    )
    parser.add_argument("--sparsity", type=float, help="L1 activity penalty of the sparse model (default 1e-9)")
    parser.add_argument("--seed", type=int, help="seed for weights, shuffling, noise and the split (default 0)")
    parser.add_argument("--fps", type=float, help="resample inputs to this rate")
    parser.add_argument("--preset", choices=READER_PRESETS, help="reader preset (default: auto)")
    parser.add_argument("--validation-fraction", type=float, help="share of clips held out (default 0.1)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="architecture override, VALUE as JSON (e.g. window=96, original=true, units=[60,30])",
    )
    parser.add_argument("--resume", action="store_true", help="continue from this model's checkpoint")
    parser.add_argument("--job", metavar="ID", help="job id in the events (default: generated)")
    parser.add_argument("--events", metavar="PATH", help="also append the events to this file")
    parser.add_argument("--progress-every", type=int, default=10, metavar="N", help="progress event every N batches")
    parser.add_argument("--checkpoint-every", type=int, default=1, metavar="N", help="checkpoint every N epochs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")
    parser.add_argument(
        "--ray", metavar="ADDRESS",
        help="run the job on this Ray cluster through its Jobs API (dashboard http://HOST:8265, or HOST) and "
        "follow its events here; inputs and -o must be on storage the cluster sees (needs mocap-ae[cluster])",
    )
    parser.add_argument("--gpus", type=float, default=0, metavar="N", help="with --ray: GPUs the job asks for")
    parser.add_argument("--cpus", type=float, default=1, metavar="N", help="with --ray: CPUs the job asks for")


def _param(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise MocapError(f"--param {text!r}: expected KEY=VALUE")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def build_spec(args: argparse.Namespace) -> Any:
    """The job spec from ``--spec`` and the flags (flags win)."""
    from ..jobs import JobSpec

    data: dict[str, Any] = JobSpec.load(args.spec).to_dict() if args.spec else {}
    if args.resume and not args.spec and args.name:
        from ..models.training import checkpoint_spec

        # Resuming needs only the name (and folder): the checkpoint has the rest.
        data = checkpoint_spec(args.output_dir, args.name) or {}
        if not data and not args.inputs:
            from ..models import modelfile
            from ..models.training import checkpoint_dir

            folder = checkpoint_dir(args.output_dir or modelfile.user_model_dir(), args.name)
            raise MocapError(f"nothing to resume: no checkpoint of {args.name!r} (the job finished, or never saved "
                             "one); run without --resume to train it again", path=folder)
    for key in _SPEC_FLAGS:
        value = getattr(args, key)
        if value is not None:
            data[key] = value
    if args.inputs:
        data["inputs"] = list(args.inputs)
    if args.noise is not None:
        if len(args.noise) > 2:
            raise MocapError("--noise takes a sigma or LO HI")
        data["noise"] = args.noise[0] if len(args.noise) == 1 else list(args.noise)
    if args.param:
        data["params"] = {**data.get("params", {}), **dict(_param(p) for p in args.param)}
    if args.resume:
        data["resume"] = True
    if "name" not in data:
        raise MocapError("give --name (or a --spec with a name)")
    if "inputs" not in data:
        raise MocapError("give motion files, folders or a data set .npz to train on (or a --spec with inputs)")
    return JobSpec.from_dict(data, path=args.spec)


def run(args: argparse.Namespace) -> int:
    import sys

    from ..jobs import EventWriter, new_job_id

    job_id = args.job or new_job_id()
    try:
        spec = build_spec(args)
    except MocapError as exc:
        EventWriter(job_id, sys.stdout, args.events).emit("error", message=str(exc))
        return 1
    if args.ray:
        return _run_on_ray(args, spec, job_id)
    from ..models.training import train

    return train(
        spec,
        job_id=job_id,
        events=args.events,
        progress_every=args.progress_every,
        checkpoint_every=args.checkpoint_every,
        bar=False if args.no_progress else None,
    )


def _run_on_ray(args: argparse.Namespace, spec: Any, job_id: str) -> int:
    """Submit the same job to a Ray cluster and follow it: its events are printed (and appended) here.

    Ctrl-C stops the cluster job (SIGTERM: it checkpoints, as locally) and
    waits for its ``cancelled`` event; the exit code is the job's own.
    """
    import sys

    from .. import cluster
    from ..jobs import EXIT_CANCELLED, EXIT_DONE, EXIT_ERROR, EventWriter

    try:
        submission = cluster.submit_training(args.ray, spec, job_id=job_id, cpus=args.cpus, gpus=args.gpus)
    except MocapError as exc:
        EventWriter(job_id, sys.stdout, args.events).emit("error", message=str(exc))
        return EXIT_ERROR
    print(f"submitted job {job_id} to the Ray cluster at {args.ray} as {submission}", file=sys.stderr, flush=True)
    while True:
        try:
            status, terminal = cluster.follow_job(args.ray, submission, args.events, stream=sys.stdout)
            break
        except KeyboardInterrupt:
            print(f"stopping {submission}: the job saves a checkpoint first", file=sys.stderr, flush=True)
            cluster.stop_job(args.ray, submission)
    if terminal is None:
        message = f"the Ray job {submission} ended {status} without a final event"
        tail = cluster.job_log_tail(args.ray, submission, 5)
        EventWriter(job_id, sys.stdout, args.events).emit("error", message=f"{message}: {tail}" if tail else message)
        return EXIT_ERROR
    return {"done": EXIT_DONE, "cancelled": EXIT_CANCELLED}.get(terminal["event"], EXIT_ERROR)
