"""``mocap-ae``: one command line over the core, for artists, TDs and jobs.

Each subcommand lives in its own module under :mod:`maya_tool.commands` with
``add_arguments(parser)`` and ``run(args) -> int``; modules are imported only
when their command runs, so ``mocap-ae info`` never pays for TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from typing import Sequence

from . import __version__
from .errors import MocapError

COMMANDS: dict[str, tuple[str, str]] = {
    "info": ("maya_tool.commands.info", "describe a motion file: joints, frames, fps, duration, ranges"),
    "convert": ("maya_tool.commands.convert", "convert between BVH, ASF+AMC and CSV"),
    "data": ("maya_tool.commands.data", "build training sets; fetch CMU subjects"),
    "train": ("maya_tool.commands.train", "train an autoencoder (a job process that prints JSON events)"),
    "evaluate": ("maya_tool.commands.evaluate", "measure a model against noise and classical filters"),
    "demo": ("maya_tool.commands.demo", "evaluate a shipped model on a held-out clip and write a report"),
    "panel": ("maya_tool.commands.panel", "open the panel outside Maya"),
    "corrupt": ("maya_tool.commands.corrupt", "make a clean clip into a bad take (jitter, pops, dropouts)"),
    "clean": ("maya_tool.commands.clean", "clean takes with a model: files or folders, same format out, with reports"),
}


def plain(text: str) -> str:
    """Docstring text as a terminal shows it: reST roles and literals (``x``, :func:`y`) as plain words."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mocap-ae", description=plain(__doc__.splitlines()[0]))
    parser.add_argument("--version", action="version", version=f"mocap-ae {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=plain(help_text), description=plain(help_text))
        command.set_defaults(_module=module_name)
        module = _load(module_name)
        if module is not None:
            module.add_arguments(command)
    return parser


def _load(module_name: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; bad input is one line on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    module = _load(args._module)
    if module is None:
        parser.error(f"command {args.command!r} is not available in this installation")
    try:
        return int(module.run(args) or 0)
    except MocapError as exc:
        print(f"mocap-ae {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `mocap-ae info x.bvh | head`: the reader left; not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as exc:
        if exc.strerror is None:
            raise
        # A full disk, a read-only or vanished folder: the system's reason and the file, not a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"mocap-ae {args.command}: error: {where}{exc.strerror}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
