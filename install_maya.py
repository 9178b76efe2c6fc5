"""Drag this file into a Maya viewport to install mocap-ae for the current user.

Maya runs :func:`onMayaDroppedPythonFile` when a ``.py`` file is dropped on
it. It registers this checkout as a Maya module (so the next Maya 2024, 2025
or 2026 session finds the tool), installs the runtime dependencies this Maya
lacks with its own mayapy, loads the csvToMat plug-in and adds a shelf button
that opens the panel. See ``docs/maya.md``; to remove everything, run
``import maya_tool.maya.install as i; i.uninstall()`` in the Script Editor.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def onMayaDroppedPythonFile(*args: Any) -> None:
    """Maya's drag-and-drop hook: install from the folder this file is in."""
    root = Path(__file__).resolve().parent
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from maya_tool.maya import install

    result = install.install(root)
    sys.stdout.write(result.summary() + "\n")
