"""Fake ``maya.mel``: ``eval`` answers the global variables the installer asks for."""

from __future__ import annotations

from typing import Any

from maya import cmds

calls: list[str] = []


def eval(command: str) -> Any:  # noqa: A001 - Maya's name
    calls.append(command)
    if "$gShelfTopLevel" in command:
        return cmds._scene().shelf_top_level
    raise RuntimeError(f"fake maya.mel.eval does not know how to evaluate: {command}")
