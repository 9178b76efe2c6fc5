"""Set-up a new user meets: what CI installs as root is said, Qt starts without noise (issue 9, items 9-10)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_says_what_it_apt_installs_into_the_system_python_and_the_readme_says_so_too() -> None:
    script = (ROOT / ".ci/run").read_text()
    body = script[script.index("ensure_debian_pyside2() {"):]
    body = body[: body.index("\n}\n")]
    announce = re.search(r'echo "=== leg pyside2: apt-get install \$\{packages\[\*\]\} \(as root, into the system '
                         r'Python /usr/bin/python3\)"', body)
    assert announce is not None and announce.start() < body.index("apt-get update")
    assert 'apt-get install -y -qq "${packages[@]}"' in body  # the packages announced are the ones installed
    readme = (ROOT / "README.md").read_text()
    tests_paragraph = readme[readme.index("`bash .ci/run`"):][:700]
    assert "apt-installs them into the system Python" in tests_paragraph


def test_the_panel_starts_without_qt_py_import_warnings_about_qtmultimedia() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", "import maya_tool.ui.qt"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "QtMultimedia" not in result.stderr, result.stderr
