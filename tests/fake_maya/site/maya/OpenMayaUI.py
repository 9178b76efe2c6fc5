"""Fake ``maya.OpenMayaUI`` (API 1.0 module): ``MQtUtil.findControl`` only."""

from __future__ import annotations

from maya import cmds


class MQtUtil:
    @staticmethod
    def findControl(name: str) -> int | None:
        """A fake pointer (an int) for a UI control created through ``maya.cmds``, else None."""
        ui = cmds._scene().ui
        return ui[name]["pointer"] if name in ui else None
