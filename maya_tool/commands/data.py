"""``mocap-ae data build|fetch``: make training sets, get CMU subjects.

``build`` turns folders of BVH / AMC / CSV into one ``.npz`` plus manifest;
``fetch`` downloads CMU subjects in the site's own layout, resuming and
verifying, into the folder ``MOCAP_AE_DATA`` points at.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import MocapError
from ..presets import READER_PRESETS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    sub.required = True

    build = sub.add_parser("build", help="build a training set (.npz + manifest .json)",
                           description="Read motion files and folders into one training set.")
    build.add_argument("paths", nargs="+", metavar="PATH", help="motion files or folders (searched recursively)")
    build.add_argument("-o", "--output", required=True, metavar="OUT.npz", help="data set to write (.npz and .json)")
    build.add_argument("--preset", choices=READER_PRESETS, default="auto",
                       help="reader preset: cmu scales to cm and drops the BVH T-pose frame (default: auto)")
    build.add_argument("--fps", type=float, default=None, help="resample every clip to this rate, e.g. 30")
    build.add_argument("--subjects", nargs="+", metavar="NN", default=None, help="keep only these CMU subjects")
    build.add_argument("--json", action="store_true", help="print the summary as JSON")
    build.add_argument("--no-progress", action="store_true", help="no progress bar even on a terminal")

    fetch = sub.add_parser("fetch", help="download CMU subjects (ASF + AMC), resumable and checksummed",
                           description="Download CMU subjects into DEST/subjects/NN/.")
    fetch.add_argument("subjects", nargs="+", metavar="SUBJECT", help="CMU subject numbers, e.g. 05 35")
    fetch.add_argument("--base", default=None, metavar="URL", help="server root (default: http://mocap.cs.cmu.edu)")
    fetch.add_argument("--dest", default=None, metavar="DIR",
                       help="where to put subjects/NN/ (default: $MOCAP_AE_DATA or ~/.mocap-ae/data/cmu)")
    fetch.add_argument("--max-trials", type=int, default=None, metavar="N", help="at most N trials per subject")
    fetch.add_argument("--retries", type=int, default=3, metavar="N",
                       help="resume an interrupted download up to N times (default: 3)")
    fetch.add_argument("--no-progress", action="store_true", help="no progress bars even on a terminal")


def run(args: argparse.Namespace) -> int:
    if args.data_command == "build":
        return _build(args)
    if args.data_command == "fetch":
        return _fetch(args)
    raise MocapError(f"unknown data action {args.data_command!r}")


def _progress_wanted(args: argparse.Namespace) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def _build(args: argparse.Namespace) -> int:
    from ..dataset import build_dataset, dataset_paths
    from .info import dataset_totals, print_dataset_totals

    output = Path(args.output)
    if output.suffix.lower() not in (".npz", ""):
        raise MocapError("the output must be a .npz file (its manifest .json is written beside it)", path=output)
    dataset = build_dataset(
        args.paths, preset=args.preset, fps=args.fps, progress=_progress_wanted(args), subjects=args.subjects
    )
    npz_path = dataset.save(output)
    _, json_path = dataset_paths(npz_path)
    summary = {
        "output": str(npz_path),
        "manifest": str(json_path),
        **dataset_totals(dataset),
        "seconds": round(dataset.num_frames / dataset.fps, 2),
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"wrote {npz_path} and {json_path.name}")
    print_dataset_totals(summary, str(summary["seconds"]))
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from ..fetch import DEFAULT_BASE, default_dest, fetch_subjects

    dest = Path(args.dest).expanduser() if args.dest else default_dest()

    def note(message: str) -> None:
        print(f"mocap-ae data fetch: {message}", file=sys.stderr)

    files = fetch_subjects(
        args.subjects,
        base=args.base or DEFAULT_BASE,
        dest=dest,
        progress=_progress_wanted(args),
        max_trials=args.max_trials,
        retries=args.retries,
        log=note,
    )
    for path in files:
        print(path)
    subjects = sorted({p.parent.name for p in files})
    print(f"{len(files)} files for subject(s) {' '.join(subjects)} in {dest}", file=sys.stderr)
    return 0
