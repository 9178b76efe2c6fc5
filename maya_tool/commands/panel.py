"""``mocap-ae panel``: the Maya panel outside Maya, for review and for CI screenshots."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import MocapError
from ..modes import MODES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", metavar="FILE", help="open this BVH, AMC or CSV clip")
    parser.add_argument("--model", metavar="M", help="use this model: a sidecar/weights path or a registered name")
    parser.add_argument("--mode", choices=MODES, help="display mode")
    parser.add_argument("--noise", type=float, metavar="SIGMA", help="noise sigma for the noisy and denoised modes")
    parser.add_argument("--frame", type=int, metavar="N", help="current frame (0 = first frame of the clip)")
    parser.add_argument("--tab", choices=("errors", "skeleton", "jobs"), help="tab to show")
    parser.add_argument("--screenshot", metavar="OUT.png", help="save a PNG of the window once loaded, then quit")
    parser.add_argument("--size", metavar="WxH", help="window size, e.g. 1400x860")
    parser.add_argument("--settings", metavar="INI", help="settings file to use instead of the user's")
    parser.add_argument("--jobs-dir", metavar="DIR", help="job history folder (default ~/.mocap-ae/jobs)")


def run(args: argparse.Namespace) -> int:
    if args.screenshot and sys.platform.startswith("linux"):
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from ..ui import panel as ui_panel
        from ..ui.settings import Settings
    except ImportError as exc:
        raise MocapError(
            f"the panel needs Qt.py, a Qt binding and pyqtgraph ({exc}): pip install 'mocap-ae[ui,pyside6]'"
        ) from None
    from ..jobs import JobStore

    size = None
    if args.size:
        try:
            width, height = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise MocapError(f"--size must look like 1400x860, got {args.size!r}") from None
        size = (width, height)
    settings = Settings(args.settings) if args.settings else Settings()
    return ui_panel.run_standalone(
        args.clip,
        args.model,
        mode=args.mode,
        noise=args.noise,
        screenshot=args.screenshot,
        tab=args.tab,
        frame=args.frame,
        size=size,
        settings=settings,
        job_store=JobStore(args.jobs_dir) if args.jobs_dir else None,
    )
