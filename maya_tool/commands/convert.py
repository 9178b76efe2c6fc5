"""``mocap-ae convert IN OUT``: BVH, ASF+AMC and CSV into BVH or CSV.

A CSV comes out with its ``NAME.skeleton.json`` beside it, which is what the
Maya node and the panel need to rebuild the rig. Reader options are shared
with ``mocap-ae info`` so both see a file the same way.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import MocapError
from ..presets import READER_PRESETS


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that change how a motion file is read (also used by ``info``)."""
    parser.add_argument("--preset", choices=READER_PRESETS, default=None,
                        help="BVH/AMC preset: cmu scales to cm and drops the BVH T-pose frame (default: auto)")
    parser.add_argument("--scale", type=float, default=None, metavar="S",
                        help="cm per file length unit for BVH/ASF (overrides the preset)")
    parser.add_argument("--asf", default=None, metavar="FILE",
                        help="skeleton for an AMC (default: NN.asf beside NN_MM.amc)")
    parser.add_argument("--input-fps", type=float, default=None, metavar="F",
                        help="frame rate of an AMC (default 120) or of a CSV without one in its skeleton JSON")
    parser.add_argument("--no-drop-first-frame", action="store_true",
                        help="keep a BVH's first frame (the cmu preset drops the converter's T-pose)")


def given_reader_flags(args: argparse.Namespace) -> list[str]:
    """The :func:`add_reader_arguments` options set on the command line.

    One list of them, so a new reader option is checked by every command
    that must refuse it (``info`` on a data set takes none).
    """
    given = {
        "--preset": args.preset is not None,
        "--scale": args.scale is not None,
        "--asf": args.asf is not None,
        "--input-fps": args.input_fps is not None,
        "--no-drop-first-frame": bool(args.no_drop_first_frame),
    }
    return [flag for flag, used in given.items() if used]


def reader_options(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """Reader keyword arguments for ``path``; options that do not apply are an error, not a surprise."""
    suffix = path.suffix.lower()
    allowed = {
        ".bvh": {"--preset", "--scale", "--no-drop-first-frame"},
        ".amc": {"--preset", "--scale", "--asf", "--input-fps"},
        ".csv": {"--input-fps"},
    }.get(suffix)
    if allowed is None:
        from ..io import READABLE

        raise MocapError(f"cannot read {suffix or 'files without an extension'}: expected one of "
                         f"{', '.join(READABLE)}", path=path)
    wrong = [flag for flag in given_reader_flags(args) if flag not in allowed]
    if wrong:
        raise MocapError(f"{', '.join(wrong)} does not apply to {suffix} input", path=path)
    from ..io import check_fps, check_scale

    if args.scale is not None:
        check_scale(args.scale, "--scale")
    if args.input_fps is not None:
        check_fps(args.input_fps, "--input-fps")
    options: dict[str, Any] = {}
    if args.preset is not None:
        options["preset"] = args.preset
    if args.scale is not None:
        options["scale"] = args.scale
    if args.asf is not None:
        options["asf"] = Path(args.asf)
    if args.input_fps is not None:
        options["fps"] = args.input_fps
    if args.no_drop_first_frame:
        options["drop_first_frame"] = False
    return options


def read_input(args: argparse.Namespace, path: Path):  # type: ignore[no-untyped-def]
    """Read ``path`` with the command line's reader options."""
    from ..io import read_clip

    options = reader_options(args, path)
    if not path.is_file():
        raise MocapError("no such file", path=path)
    return read_clip(path, **options)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="a .bvh, .amc (with its .asf) or .csv file")
    parser.add_argument("output", metavar="OUT", help="a .bvh or .csv file (a CSV also gets NAME.skeleton.json)")
    add_reader_arguments(parser)
    parser.add_argument("--fps", type=float, default=None, metavar="F", help="resample to this rate (slerp)")
    parser.add_argument("--output-scale", type=float, default=None, metavar="S",
                        help="cm per length unit written to a BVH (default: the input's unit when "
                             "reading the BVH back with defaults gives the same cm, else cm)")


def run(args: argparse.Namespace) -> int:
    from ..io import WRITABLE, check_fps, check_scale, resample, write_clip
    from ..skeleton import sidecar_path

    source, target = Path(args.input), Path(args.output)
    out_suffix = target.suffix.lower()
    if out_suffix not in WRITABLE:
        raise MocapError(f"cannot write {out_suffix or 'files without an extension'}: expected one of "
                         f"{', '.join(WRITABLE)}", path=target)
    if source.exists() and target.exists() and source.resolve() == target.resolve():
        raise MocapError("input and output are the same file", path=target)
    if args.fps is not None:
        check_fps(args.fps, "--fps")
    if args.output_scale is not None:
        if out_suffix != ".bvh":
            raise MocapError("--output-scale applies to BVH output only", path=target)
        check_scale(args.output_scale, "--output-scale")
    clip = read_input(args, source)
    if args.fps is not None:
        clip = resample(clip, args.fps, "--fps")
    options: dict[str, Any] = {}
    if args.output_scale is not None:
        options["scale"] = args.output_scale
    write_clip(clip, target, **options)
    extra = f" and {sidecar_path(target).name}" if out_suffix == ".csv" else ""
    print(f"wrote {target}{extra}: {clip.num_frames} frames at {clip.fps:g} fps, {clip.skeleton.num_joints} joints")
    return 0
