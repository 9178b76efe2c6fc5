"""A faithful fake of the Maya Python API subset the project uses, for tests only.

The fake ``maya`` package lives in ``site/`` and is *not* importable by
default: only tests that ask for the :func:`fake_maya` fixture get it, for the
duration of one test. The fixture puts ``site/`` first on ``sys.path`` and,
afterwards, removes it and every ``maya`` / ``maya_tool.maya`` module it
imported, so other tests (and a real Maya, if one were installed) never see
the fake.

Use in a test module::

    from tests.fake_maya import fake_maya  # noqa: F401  (the fixture)

    def test_something(fake_maya):
        om = fake_maya.om      # maya.api.OpenMaya
        cmds = fake_maya.cmds  # maya.cmds
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

SITE = Path(__file__).resolve().parent / "site"
REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plug-ins" / "csvToMat.py"

_PURGE_PREFIXES = ("maya", "maya_tool.maya", "_fake_plugin_")


@dataclass
class FakeMaya:
    """The fake modules, reset, for one test."""

    om: ModuleType
    cmds: ModuleType
    mel: ModuleType
    omui: ModuleType

    def load_plugin(self) -> ModuleType:
        """Load ``plug-ins/csvToMat.py`` through the fake's ``initializePlugin``."""
        return self.om.load_plugin(str(PLUGIN))  # type: ignore[attr-defined, no-any-return]


def _purge() -> None:
    for name in list(sys.modules):
        if any(name == p or name.startswith(p + ".") or name.startswith(p) and p.endswith("_") for p in _PURGE_PREFIXES):
            del sys.modules[name]


@pytest.fixture()
def fake_maya() -> Iterator[FakeMaya]:
    """The fake Maya on ``sys.path`` for one test, with a fresh scene."""
    _purge()
    sys.path.insert(0, str(SITE))
    try:
        om = importlib.import_module("maya.api.OpenMaya")
        cmds = importlib.import_module("maya.cmds")
        mel = importlib.import_module("maya.mel")
        omui = importlib.import_module("maya.OpenMayaUI")
        om.reset()  # type: ignore[attr-defined]
        cmds.reset()  # type: ignore[attr-defined]
        yield FakeMaya(om=om, cmds=cmds, mel=mel, omui=omui)
    finally:
        sys.path.remove(str(SITE))
        _purge()
