"""``mocap-ae corrupt --corruption NAME [--seed S] IN OUT``: make a clean clip into a realistic bad take.

Test material for ``mocap-ae clean``: the corruptions of
:mod:`maya_tool.corruption` (Gaussian jitter, pops, dropouts, or ``capture``:
all three), seeded, written in the input's own format with every frame of the
file (a converter's T-pose frame is kept untouched), so the bad take goes
through the same pipeline a real one would.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import MocapError
from .convert import add_reader_arguments, reader_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..corruption import CORRUPTIONS

    parser.add_argument("input", metavar="IN", help="a clean .bvh, .amc (with its .asf) or .csv file")
    parser.add_argument("output", metavar="OUT", help="where the bad take goes (same format as IN)")
    parser.add_argument("--corruption", required=True, choices=CORRUPTIONS, help="what the capture does wrong")
    parser.add_argument("--seed", type=int, default=0, help="seeds pops and dropouts (default 0)")
    parser.add_argument("--sigma", type=float, default=None, help="Gaussian sigma per quaternion component")
    parser.add_argument("--pop-rate", type=float, default=None, metavar="P", help="pops per animated joint and frame")
    parser.add_argument("--gap-rate", type=float, default=None, metavar="P",
                        help="dropouts per animated joint and frame")
    add_reader_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from .. import corruption
    from ..takes import output_suffix, read_take, write_take

    source, target = Path(args.input), Path(args.output)
    if target.suffix.lower() != output_suffix(source):
        raise MocapError(f"OUT must be a {output_suffix(source) or 'file with the same extension'} file like IN",
                         path=target)
    if source.exists() and target.exists() and source.resolve() == target.resolve():
        raise MocapError("input and output are the same file", path=target)
    setting = corruption.make(args.corruption, sigma=args.sigma, pop_rate=args.pop_rate, gap_rate=args.gap_rate)
    take = read_take(source, **reader_options(args, source))
    bad = corruption.corrupt_clip(take.clip, setting, seed=args.seed)
    written = write_take(take, bad, target)
    print(f"wrote {target}: {setting.describe()}, seed {args.seed}, {written['frames_written']} frames "
          f"({take.clip.num_frames} corrupted)")
    return 0
