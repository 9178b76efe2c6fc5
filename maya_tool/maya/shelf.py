"""The shelf button that opens the panel.

The button lives on a shelf of its own (:data:`SHELF`) so uninstalling can
remove exactly what installing added; it is tagged with :data:`DOC_TAG` so a
reinstall replaces it instead of adding a second one.
"""

from __future__ import annotations

import os
from pathlib import Path

from maya import cmds, mel

SHELF = "MocapAE"
DOC_TAG = "mocap-ae-panel"
LABEL = "Mocap AE"
COMMAND = "import maya_tool.maya.dock as d; d.show_panel()"
ICON = "mocap-ae.png"
RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def shelf_top_level() -> str:
    """Maya's shelf tab layout."""
    return str(mel.eval("global string $gShelfTopLevel; $mocapAeTmp = $gShelfTopLevel;"))


def icon_path(resources: str | os.PathLike[str] | None = None) -> str:
    """The icon file: absolute, so the button works before XBMLANGPATH knows the module."""
    folder = Path(resources) if resources is not None else RESOURCES
    return str(folder / ICON)


def add_button(resources: str | os.PathLike[str] | None = None) -> str:
    """Create the shelf (if needed) and its one button; returns the button."""
    top = shelf_top_level()
    if not cmds.shelfLayout(SHELF, exists=True):
        cmds.shelfLayout(SHELF, parent=top)
    remove_button(delete_empty_shelf=False)
    return str(
        cmds.shelfButton(
            parent=SHELF,
            label=LABEL,
            annotation="Open the Mocap AE panel (compress and denoise motion capture)",
            image=icon_path(resources),
            imageOverlayLabel="",
            command=COMMAND,
            sourceType="python",
            docTag=DOC_TAG,
        )
    )


def _children() -> list[str]:
    children = cmds.shelfLayout(SHELF, query=True, childArray=True)
    return [str(c) for c in children] if isinstance(children, (list, tuple)) else []


def remove_button(*, delete_empty_shelf: bool = True) -> bool:
    """Remove our button(s); delete the shelf when nothing else is on it.

    Returns:
        Whether anything was removed.
    """
    if not cmds.shelfLayout(SHELF, exists=True):
        return False
    removed = False
    for child in _children():
        if cmds.shelfButton(child, exists=True) and cmds.shelfButton(child, query=True, docTag=True) == DOC_TAG:
            cmds.deleteUI(child, control=True)
            removed = True
    if delete_empty_shelf and not _children():
        cmds.deleteUI(SHELF, layout=True)
        removed = True
    return removed


def saved_shelf_files(maya_app_dir: str | os.PathLike[str], version: str) -> list[Path]:
    """Shelf files Maya wrote for our shelf when it last quit."""
    folder = Path(maya_app_dir) / version / "prefs" / "shelves"
    return [p for p in (folder / f"shelf_{SHELF}.mel", folder / f"shelf_{SHELF}.mel.deleted") if p.exists()]
