"""The panel as a dockable Maya ``workspaceControl``.

Maya owns the dock: :func:`show_panel` creates (or brings back) a workspace
control whose ``uiScript`` builds the panel inside it. Maya runs that script
when the control is created and again when it restores a saved layout at
startup, so the panel comes back where the artist docked it. The Qt side
(wrapping Maya's control and building the widgets) lives in
:mod:`maya_tool.ui.panel`, imported lazily so that this module, like the rest
of ``maya_tool.maya``, never imports Qt itself: the one Qt call it needs,
turning Maya's control pointer into a widget, is
``maya_tool.ui.qt.wrap_pointer(pointer) -> QWidget``.
"""

from __future__ import annotations

import importlib
from typing import Any

from maya import cmds

CONTROL = "mocapAEPanelWorkspaceControl"
LABEL = "Mocap AE"
UI_SCRIPT = "import maya_tool.maya.dock as d; d.restore_panel()"
"""What Maya runs to (re)build the panel inside the control."""

_panels: dict[str, Any] = {}


def show_panel() -> str:
    """Open the panel, docked where it was last time (floating the first time).

    Returns:
        The workspace control's name.
    """
    if cmds.workspaceControl(CONTROL, exists=True):
        cmds.workspaceControl(CONTROL, edit=True, restore=True, visible=True)
        if CONTROL not in _panels:
            restore_panel()
        return CONTROL
    cmds.workspaceControl(
        CONTROL,
        label=LABEL,
        retain=False,
        floating=True,
        initialWidth=460,
        minimumWidth=320,
        uiScript=UI_SCRIPT,
    )
    return CONTROL


def restore_panel() -> Any:
    """Build the panel inside the workspace control (Maya's ``uiScript``).

    Returns:
        The panel widget, or the one already built for this control.
    """
    if CONTROL in _panels:
        return _panels[CONTROL]
    from maya import OpenMayaUI

    from .host import MayaHost

    pointer = OpenMayaUI.MQtUtil.findControl(CONTROL)  # type: ignore[attr-defined]  # API 1.0 stubs lack MQtUtil
    if pointer is None:
        raise RuntimeError(f"Maya has no control named {CONTROL}: call show_panel() instead")
    ui_qt = importlib.import_module("maya_tool.ui.qt")
    panel_module = importlib.import_module("maya_tool.ui.panel")
    parent = ui_qt.wrap_pointer(int(pointer))
    panel = panel_module.create_panel(host=MayaHost(), parent=parent)
    parent.layout().addWidget(panel)
    _panels[CONTROL] = panel
    return panel


def forget_panel() -> None:
    """Drop the reference to a panel whose control Maya deleted."""
    _panels.pop(CONTROL, None)


def close_panel() -> None:
    """Delete the workspace control (the installer's uninstall calls this)."""
    forget_panel()
    if cmds.workspaceControl(CONTROL, exists=True):
        cmds.deleteUI(CONTROL, control=True)
