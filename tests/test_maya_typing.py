"""mypy over the Maya code (``plug-ins/`` and ``maya_tool/maya/``) against published Maya stubs.

Two stub distributions exist on PyPI and both install a ``maya-stubs``
package, so only one can be present:

* ``types-maya`` (preferred): typed signatures for ``maya.cmds`` *and* the
  OpenMaya 2.0 classes the plug-in uses (``MFnNumericAttribute.create``,
  ``MArrayDataHandle.builder``, ``MDataHandle.setMMatrix``...). The code
  passes it with no error code disabled.
* ``maya-stubs``: ``maya.cmds`` only (OpenMaya 2.0 is ``*args: Any``), and
  several of its ``cmds`` signatures are wrong in ways real Maya contradicts
  (``setAttr`` values typed ``str``, ``playbackOptions`` times ``int``,
  ``shelfButton(command=)`` and ``workspaceControl(uiScript=)`` refusing
  strings, ``namespace(add=)`` missing). With it the test disables
  ``arg-type`` and ``call-arg``, so it still checks names, attributes,
  return types and everything in our own code.

What no stub package can check: that flag *combinations* are valid for a
command in a given mode (create/edit/query), that attribute and node-type
names in strings exist (``"time1.outTime"``, ``"decomposeMatrix"``), the
Dependency Graph's behaviour (dirty propagation, when ``compute`` runs) and
Maya-version differences. Those are what ``tests/fake_maya`` and the other
``test_maya_*`` tests cover.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TARGETS = ["plug-ins/csvToMat.py", "maya_tool/maya"]
MAYA_STUBS_FALSE_POSITIVES = ("arg-type", "call-arg")


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
def test_mypy_finds_no_errors_in_the_maya_code(tmp_path: Path) -> None:
    args = [
        sys.executable,
        "-m",
        "mypy",
        "--python-version",
        "3.10",
        "--follow-imports=silent",
        "--ignore-missing-imports",
        "--no-error-summary",
        "--cache-dir",
        str(tmp_path / "mypy-cache"),
    ]
    if _installed("types-maya"):
        stubs = "types-maya"
    else:
        assert _installed("maya-stubs"), "install a Maya stub package: pip install types-maya (or maya-stubs)"
        stubs = "maya-stubs"
        for code in MAYA_STUBS_FALSE_POSITIVES:
            args += ["--disable-error-code", code]
    env = {k: v for k, v in os.environ.items() if k not in ("MYPYPATH", "PYTHONPATH")}
    result = subprocess.run(args + TARGETS, cwd=REPO, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, f"mypy with {stubs}:\n{result.stdout}{result.stderr}"
    probe = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache"), "-c", "import maya.cmds\nmaya.cmds.no_such_command()"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert "no_such_command" in probe.stdout, "the stubs must actually be in use"
