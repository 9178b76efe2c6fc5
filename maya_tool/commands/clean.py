"""``mocap-ae clean --model M [--strength S] [--joints ...] IN... -o OUTDIR``: clean takes in batch.

Files or folders in (BVH, ASF/AMC, CSV; folders searched recursively, their
layout kept under OUTDIR); each output is its input with only the cleaned
numbers changed (:mod:`maya_tool.takes`): same format, skeleton, units,
channel order and every frame. Beside each output, ``NAME.clean.json`` is the
change report; an output whose report records the same input, model and
options is up to date and skipped. One bad file is reported with its error
and the others still run; the exit code is non-zero when any failed.

Each file is one call of :func:`maya_tool.clean.clean_file` through
:func:`clean_task`, a module-level ``task(shared, job)`` that
:func:`maya_tool.cluster.run_batch` can ship to a process pool or Ray;
:func:`run_jobs` is the seam where a parallel runner plugs in.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..errors import MocapError
from .convert import add_reader_arguments, reader_options


@dataclass(frozen=True)
class CleanJob:
    """One file to clean: where from, where to, with which reader options."""

    input: str
    output: str
    reader: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.input


@dataclass
class CleanShared:
    """What every job of a batch shares: the model (a path or a loaded model) and the clean options."""

    model: Any
    options: dict[str, Any]
    force: bool = False


@dataclass
class JobResult:
    """How one job ended: its report, or the error that stopped it."""

    job: CleanJob
    report: dict[str, Any] | None = None
    error: str | None = None
    bad_input: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..clean import NAME_MAPS, ROOT_MODES

    parser.add_argument("inputs", nargs="+", metavar="IN", help="motion files (.bvh, .amc, .csv) or folders of them")
    parser.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="folder for the cleaned files and reports")
    parser.add_argument("--model", required=True, metavar="M", help="model sidecar, npz, or registered name")
    parser.add_argument("--strength", type=float, default=1.0, help="0 (input) to 1 (model output), slerp between")
    parser.add_argument("--joints", nargs="+", metavar="JOINT", help="clean only these joints (default: all the model knows)")
    parser.add_argument("--frames", metavar="START:STOP", help="clean only clip frames START to STOP-1 (0-based; a BVH T-pose frame is not counted)")
    parser.add_argument("--root", choices=ROOT_MODES, default="keep",
                        help="keep the root, or smooth its translation and rotation (zero-phase low-pass)")
    parser.add_argument("--no-feet", action="store_true", help="do not pin the input's foot contacts after cleaning")
    parser.add_argument("--threshold", type=float, default=None, metavar="DEG",
                        help="flag frames where a joint changed more than this (default 5)")
    parser.add_argument("--name-map", choices=sorted(NAME_MAPS), default=None,
                        help="map the file's joint names onto the model's (e.g. mixamo)")
    parser.add_argument("--contact-height", type=float, default=None, metavar="CM",
                        help="toe height above the floor that counts as contact (default: from the leg length)")
    parser.add_argument("--contact-speed", type=float, default=None, metavar="CM_S",
                        help="toe speed below which a foot counts as planted (default: from the leg length)")
    parser.add_argument("--force", action="store_true", help="clean again even when an output is up to date")
    parser.add_argument(
        "--ray", metavar="ADDRESS",
        help="clean on this Ray cluster, one file per task (HOST:6379 or ray://HOST:10001; inputs and -o on storage "
        "the cluster sees; needs mocap-ae[cluster])",
    )
    parser.add_argument("--workers", type=int, metavar="N", help="without --ray: clean on N local processes")
    parser.add_argument("--reference", metavar="DIR",
                        help="clean originals of test takes (same relative names): print and write "
                        "OUTDIR/reference_score.json with the inputs' and outputs' animated-joint angle error and "
                        "toe sliding on the originals' contacts")
    add_reader_arguments(parser)


def _frames(text: str | None) -> tuple[int, int | None] | None:
    if text is None:
        return None
    start, sep, stop = text.partition(":")
    try:
        return int(start or 0), (int(stop) if stop else None)
    except ValueError:
        raise MocapError(f"--frames {text!r}: expected START:STOP, e.g. 100:400") from None


def options_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The clean options of the command line, as :meth:`CleanOptions.to_dict` spells them (checked)."""
    from ..clean import CleanOptions

    values: dict[str, Any] = {
        "strength": args.strength,
        "joints": tuple(args.joints) if args.joints else None,
        "frames": _frames(args.frames),
        "root": args.root,
        "feet": not args.no_feet,
        "name_map": args.name_map,
        "contact_height": args.contact_height,
        "contact_speed": args.contact_speed,
    }
    if args.threshold is not None:
        values["threshold_deg"] = args.threshold
    return CleanOptions(**values).to_dict()


def plan_jobs(inputs: Sequence[str | Path], outdir: str | Path) -> list[CleanJob]:
    """One job per motion file under ``inputs``; a folder's files keep their layout below ``outdir``.

    Raises:
        MocapError: A missing input, nothing to clean, two inputs landing on
            one output, or an output that would overwrite its input.
    """
    from ..dataset import collect_files

    out_root = Path(outdir)
    jobs: list[CleanJob] = []
    seen: dict[Path, Path] = {}
    for given in inputs:
        base = Path(given)
        for path in collect_files([base]):
            relative = path.relative_to(base) if base.is_dir() else Path(path.name)
            target = out_root / relative
            if target.resolve() == path.resolve():
                raise MocapError("output would overwrite the input: pick an -o folder outside the input folders",
                                 path=path)
            key = target.resolve()
            if key in seen and seen[key] != path:
                raise MocapError(f"{seen[key]} and {path} would both be written to {target}")
            seen[key] = path
            jobs.append(CleanJob(str(path), str(target)))
    return jobs


def clean_task(shared: CleanShared, job: CleanJob) -> dict[str, Any]:
    """One file: what a worker process or Ray task runs (module level, so it pickles by name)."""
    from ..clean import clean_file

    model = shared.model.model() if hasattr(shared.model, "model") and callable(shared.model.model) else shared.model
    return clean_file(model, job.input, job.output, shared.options, job.reader, force=shared.force)


Runner = Callable[[Callable[[CleanShared, CleanJob], dict[str, Any]], Sequence[CleanJob], CleanShared],
                  Iterable[JobResult]]
"""How jobs run: ``runner(task, jobs, shared)`` yields a :class:`JobResult` per job as each ends.

:func:`run_here` runs them in this process; a pool or Ray runner yields the
same results from workers (``maya_tool.cluster.run_batch`` fits: its
``task(shared, item)`` contract is :func:`clean_task`'s).
"""


def run_here(task: Callable[[CleanShared, CleanJob], dict[str, Any]], jobs: Sequence[CleanJob],
             shared: CleanShared) -> Iterator[JobResult]:
    """Run every job in this process, one after the other; a failure is a result, not an exception."""
    for job in jobs:
        try:
            yield JobResult(job, report=task(shared, job))
        except MocapError as exc:
            yield JobResult(job, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - one broken file must not stop the batch
            yield JobResult(job, error=f"{type(exc).__name__}: {exc}", bad_input=False)


def run_jobs(jobs: Sequence[CleanJob], shared: CleanShared, runner: Runner | None = None) -> Iterator[JobResult]:
    """The batch: every job through ``runner`` (default :func:`run_here`)."""
    return iter((runner or run_here)(clean_task, jobs, shared))


def describe(result: JobResult) -> str:
    """The one line a file gets in the command's output."""
    job = result.job
    if not result.ok:
        return f"FAILED   {job.input}: {result.error}"
    report = result.report or {}
    if report.get("status") == "skipped":
        return f"skipped  {job.input} -> {job.output} (up to date)"
    text = (f"cleaned  {job.input} -> {job.output}: {report.get('frames')} frames, mean change "
            f"{report.get('mean_change_deg', 0.0):.2f} deg, {len(report.get('events', []))} flagged runs")
    feet = report.get("feet") or {}
    legs = feet.get("legs") or []
    before = [leg.get("sliding_input_cm_s") for leg in legs if leg.get("sliding_input_cm_s") is not None]
    after = [leg.get("sliding_output_cm_s") for leg in legs if leg.get("sliding_output_cm_s") is not None]
    if before and after:
        text += f", toe sliding {sum(before) / len(before):.1f} -> {sum(after) / len(after):.1f} cm/s"
    return text


def cluster_runner(ray_address: str | None, workers: int | None) -> Runner | None:
    """A runner over :func:`maya_tool.cluster.iter_batch` (Ray or a local pool); None for this process."""
    if not ray_address and (workers or 0) < 2:
        return None

    def runner(task: Callable[[CleanShared, CleanJob], dict[str, Any]], jobs: Sequence[CleanJob],
               shared: CleanShared) -> Iterator[JobResult]:
        from ..cluster import ModelPayload, iter_batch
        from ..models.runtime import load_model

        # The model's arrays travel once (object store / pool initializer), not its path per task.
        shared = replace(shared, model=ModelPayload.of(load_model(shared.model)))
        for i, outcome in iter_batch(task, jobs, shared, ray_address=ray_address, workers=workers):
            if outcome.ok:
                yield JobResult(jobs[i], report=outcome.value)
            else:
                yield JobResult(jobs[i], error=outcome.error, bad_input=outcome.bad_input)

    return runner


def score_against_reference(jobs: Sequence[CleanJob], reference: Path, outdir: Path) -> str:
    """Score inputs and outputs against the originals under ``reference``; write ``reference_score.json``; one line."""
    import json

    from .. import atomic
    from ..clean import score_files

    pairs = []
    for job in sorted(jobs, key=lambda j: j.output):
        original = reference / Path(job.output).relative_to(outdir)
        if not original.is_file():
            raise MocapError("no clean original for this take under --reference", path=original)
        pairs.append((original, job))
    reader = pairs[0][1].reader if pairs else {}
    inputs = score_files([(o, j.input) for o, j in pairs], **reader)
    outputs = score_files([(o, j.output) for o, j in pairs], **reader)
    atomic.write_text(outdir / "reference_score.json",
                      json.dumps({"reference": str(reference), "inputs": inputs, "outputs": outputs}, indent=1) + "\n")

    def deg(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f} deg"

    def cms(x: float | None) -> str:
        return "-" if x is None else f"{x:.2f}"

    ratio = (f" ({outputs['animated_mean_deg'] / inputs['animated_mean_deg']:.2f}x)"
             if inputs["animated_mean_deg"] and outputs["animated_mean_deg"] is not None else "")
    return (f"against {reference} ({len(pairs)} files): animated-joint mean angle, input {deg(inputs['animated_mean_deg'])}"
            f", output {deg(outputs['animated_mean_deg'])}{ratio}; toe sliding on the originals' contacts, input "
            f"{cms(inputs['sliding_cm_s'])}, output {cms(outputs['sliding_cm_s'])}, originals "
            f"{cms(outputs['sliding_reference_cm_s'])} cm/s")


def run(args: argparse.Namespace, runner: Runner | None = None) -> int:
    from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

    from ..clean import model_identity

    options = options_from_args(args)
    model_identity(args.model)  # a missing or broken model fails once, before any file

    jobs: list[CleanJob] = []
    refused: list[JobResult] = []
    for job in plan_jobs(args.inputs, args.out):
        try:
            jobs.append(replace(job, reader=reader_options(args, Path(job.input))))
        except MocapError as exc:
            refused.append(JobResult(job, error=str(exc)))
    shared = CleanShared(model=args.model, options=options, force=bool(args.force))
    counts = {"cleaned": 0, "skipped": 0, "failed": 0}
    only_bad_input = True
    bar = tqdm(total=len(jobs) + len(refused), desc="cleaning", unit="file", file=sys.stderr, disable=None)
    done: list[CleanJob] = []
    try:
        for result in itertools.chain(refused, run_jobs(jobs, shared, runner or cluster_runner(args.ray, args.workers))):
            status = "failed" if not result.ok else str((result.report or {}).get("status", "cleaned"))
            counts[status] = counts.get(status, 0) + 1
            only_bad_input &= result.ok or result.bad_input
            if result.ok:
                done.append(result.job)
            tqdm.write(describe(result), file=sys.stdout)
            bar.update(1)
    finally:
        bar.close()
    print(f"{counts['cleaned']} cleaned, {counts['skipped']} skipped (up to date), {counts['failed']} failed; "
          f"outputs and reports in {args.out}")
    if args.reference and done:
        print(score_against_reference(done, Path(args.reference), Path(args.out)))
    if counts["failed"]:
        return 2 if only_bad_input else 1
    return 0
