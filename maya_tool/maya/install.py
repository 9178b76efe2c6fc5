"""Install mocap-ae into Maya for the current user, and take it out again.

:func:`install` (what dragging ``install_maya.py`` into a viewport runs):

1. writes ``MAYA_APP_DIR/modules/mocap-ae.mod`` pointing at this checkout, so
   every later Maya 2024/2025/2026 session gets ``maya_tool`` on PYTHONPATH,
   ``plug-ins/`` on MAYA_PLUG_IN_PATH and ``resources/`` on XBMLANGPATH;
2. asks this Maya's own ``mayapy`` which runtime dependencies it already has
   and installs only the missing ones into ``<checkout>/site-packages/<maya
   version>`` (a folder the module file puts on PYTHONPATH for that version
   only). Maya's numpy and Qt binding are never replaced: pip runs with
   ``--no-deps`` on an explicit list, numpy is listed only when Maya has none,
   and PySide and TensorFlow are never listed (training runs outside Maya);
3. makes the current session work without a restart (``sys.path``, loads the
   plug-in, marks it to autoload);
4. adds a shelf button that opens the panel.

:func:`uninstall` removes the module file, the private site-packages, the
shelf button (and the shelf file Maya saved for it) and unloads the plug-in
when no node uses it.

Maya is reached only through ``maya.cmds`` and ``mayapy`` only through
``subprocess`` with an explicit path, so tests run this against a temporary
MAYA_APP_DIR, a fake ``maya.cmds`` and a fake mayapy script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from maya import cmds

from .. import __version__, atomic
from . import shelf

MODULE_NAME = "mocap-ae"
MOD_FILE = f"{MODULE_NAME}.mod"
MAYA_VERSIONS = ("2024", "2025", "2026")
PLATFORMS = ("win64", "mac", "linux")
PLUGIN_FILE = "csvToMat.py"
SITE_PACKAGES = "site-packages"

PROBE = r"""
import importlib.util, json, sys
found = {"python": "%d.%d.%d" % sys.version_info[:3]}
for module, dist in (("numpy", "numpy"), ("scipy", "scipy"), ("Qt", "Qt.py"), ("pyqtgraph", "pyqtgraph"),
                     ("tqdm", "tqdm"), ("PySide2", "PySide2"), ("PySide6", "PySide6")):
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        found[module] = None
        continue
    try:
        from importlib.metadata import version
        found[module] = version(dist)
    except Exception:
        found[module] = "present"
print(json.dumps(found))
"""
"""Run by mayapy: which of our dependencies (and which Qt binding) this Maya has."""


@dataclass
class InstallResult:
    """What :func:`install` did, for the summary shown to the artist."""

    module_file: Path
    site_packages: Path | None = None
    found: dict[str, str | None] = field(default_factory=dict)
    installed: list[str] = field(default_factory=list)
    pip_command: list[str] = field(default_factory=list)
    shelf_button: str | None = None
    plugin_loaded: bool = False
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"mocap-ae {__version__} registered: {self.module_file}"]
        if self.installed:
            lines.append(f"installed for this Maya: {', '.join(self.installed)} -> {self.site_packages}")
        elif self.found:
            lines.append("this Maya already has every runtime dependency")
        if self.plugin_loaded:
            lines.append("csvToMat plug-in loaded")
        if self.shelf_button:
            lines.append(f"shelf button on shelf {shelf.SHELF}")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def repo_root() -> Path:
    """The checkout (or installed tree) holding ``maya_tool``, ``plug-ins`` and ``resources``."""
    return Path(__file__).resolve().parents[2]


def module_text(root: str | os.PathLike[str], versions: Sequence[str] = MAYA_VERSIONS) -> str:
    """The module description for ``root`` (absolute, or relative to the .mod file).

    One block per Maya version and platform: Linux wants ``%B`` at the end
    of XBMLANGPATH entries, the others do not; each version gets its own
    private site-packages. Maya 2024 stops reading a module file at a
    comment, so there are none.
    """
    lines: list[str] = []
    for version in versions:
        for platform in PLATFORMS:
            icons = "resources/%B" if platform == "linux" else "resources"
            lines += [
                f"+ MAYAVERSION:{version} PLATFORM:{platform} {MODULE_NAME} {__version__} {os.fspath(root)}",
                "PYTHONPATH+:=.",
                f"PYTHONPATH+:={SITE_PACKAGES}/{version}",
                "MAYA_PLUG_IN_PATH+:=plug-ins",
                f"XBMLANGPATH+:={icons}",
                "",
            ]
    return "\n".join(lines)


def maya_app_dir() -> Path:
    """The user's Maya folder: ``MAYA_APP_DIR`` when set, else Maya's own answer."""
    value = os.environ.get("MAYA_APP_DIR")
    if value:
        return Path(value)
    return Path(str(cmds.internalVar(userAppDir=True)))


def maya_version() -> str:
    """``2025`` for Maya 2025 (whatever the update)."""
    return str(cmds.about(version=True)).strip()[:4]


def find_mayapy() -> Path:
    """This Maya's mayapy: ``$MAYA_LOCATION/bin/mayapy``, else beside the running executable."""
    name = "mayapy.exe" if sys.platform == "win32" else "mayapy"
    candidates = []
    location = os.environ.get("MAYA_LOCATION")
    if location:
        candidates.append(Path(location) / "bin" / name)
    candidates.append(Path(sys.executable).resolve().parent / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"cannot find {name}: looked at {', '.join(str(c) for c in candidates)}")


def _environment(root: Path) -> dict[str, str]:
    """The environment for mayapy, without our own site-packages on PYTHONPATH.

    A Maya started after an earlier install has them there; the probe must
    see what Maya itself ships.
    """
    env = dict(os.environ)
    ours = str((root / SITE_PACKAGES).resolve())
    kept = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and not str(Path(p).resolve()).startswith(ours)]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def probe(mayapy: str | os.PathLike[str], root: Path | None = None) -> dict[str, str | None]:
    """Versions of the dependencies this mayapy already imports (None when missing)."""
    result = subprocess.run(
        [os.fspath(mayapy), "-c", PROBE],
        capture_output=True,
        text=True,
        env=_environment(root or repo_root()),
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{mayapy} could not report its packages: {result.stderr.strip() or result.stdout.strip()}")
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("{"):
            data = json.loads(line)
            return {str(k): (None if v is None else str(v)) for k, v in data.items()}
    raise RuntimeError(f"{mayapy} printed no package report: {result.stdout.strip()}")


def _version_tuple(text: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in (text or "").split("."):
        digits = "".join(c for c in piece if c.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def scipy_requirement(numpy_version: str | None) -> str:
    """The newest scipy line that supports the numpy Maya ships (pip cannot check with --no-deps)."""
    numpy = _version_tuple(numpy_version)
    if not numpy or numpy >= (1, 25, 2):
        return "scipy"
    if numpy >= (1, 23, 5):
        return "scipy<1.16"
    if numpy >= (1, 22, 4):
        return "scipy<1.14"
    return "scipy<1.12"


def requirements(found: dict[str, str | None]) -> list[str]:
    """pip requirement strings for what this Maya lacks; never PySide, never TensorFlow."""
    wanted: list[str] = []
    if not found.get("numpy"):
        wanted.append("numpy<2")
    if not found.get("scipy"):
        wanted.append(scipy_requirement(found.get("numpy")))
    if not found.get("Qt"):
        wanted.append("Qt.py")
    if not found.get("pyqtgraph"):
        wanted.append("pyqtgraph<0.15")
    if not found.get("tqdm"):
        wanted.append("tqdm")
    return wanted


def pip_command(mayapy: str | os.PathLike[str], target: Path, specs: Sequence[str]) -> list[str]:
    """``mayapy -m pip install --target <target> ...`` for exactly ``specs``."""
    return [
        os.fspath(mayapy),
        "-m",
        "pip",
        "install",
        "--no-input",
        "--no-deps",
        "--upgrade",
        "--target",
        str(target),
        *specs,
    ]


def install_dependencies(
    mayapy: str | os.PathLike[str], root: Path, version: str
) -> tuple[dict[str, str | None], list[str], list[str], Path]:
    """Probe mayapy and pip-install what is missing into the module's site-packages.

    Returns:
        (found, installed specs, pip argv or [], target folder)

    Raises:
        RuntimeError: When mayapy cannot be run or pip fails (with pip's output).
    """
    target = root / SITE_PACKAGES / version
    found = probe(mayapy, root)
    specs = requirements(found)
    if not specs:
        return found, [], [], target
    target.mkdir(parents=True, exist_ok=True)
    argv = pip_command(mayapy, target, specs)
    result = subprocess.run(argv, capture_output=True, text=True, env=_environment(root), timeout=1800, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"pip could not install {', '.join(specs)} into {target}:\n{tail}")
    return found, specs, argv, target


def _activate(root: Path, target: Path | None) -> None:
    """Make this session see the module without a restart."""
    for folder in (target, root):
        if folder is not None and folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def install(
    root: str | os.PathLike[str] | None = None,
    *,
    mayapy: str | os.PathLike[str] | None = None,
    app_dir: str | os.PathLike[str] | None = None,
    dependencies: bool = True,
    load_plugin: bool = True,
    add_shelf_button: bool = True,
) -> InstallResult:
    """Register the module for this user, install missing dependencies, load, add the shelf button.

    Args:
        root: The checkout; defaults to the one this file is in.
        mayapy: The Python to install dependencies with; defaults to this Maya's.
        app_dir: MAYA_APP_DIR; defaults to the environment or Maya's answer.
        dependencies, load_plugin, add_shelf_button: Steps to run.
    """
    base = Path(root) if root is not None else repo_root()
    base = base.resolve()
    version = maya_version()
    modules = Path(app_dir) if app_dir is not None else maya_app_dir()
    module_file = modules / "modules" / MOD_FILE
    atomic.write_text(module_file, module_text(base))
    result = InstallResult(module_file=module_file)

    if dependencies:
        try:
            exe = Path(mayapy) if mayapy is not None else find_mayapy()
            found, installed, argv, target = install_dependencies(exe, base, version)
            result.found, result.installed, result.pip_command = found, installed, argv
            result.site_packages = target if installed else None
        except (OSError, RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            result.warnings.append(f"dependencies not installed: {exc}")
    _activate(base, result.site_packages)

    if load_plugin:
        plugin = base / "plug-ins" / PLUGIN_FILE
        try:
            if not cmds.pluginInfo(PLUGIN_FILE, query=True, loaded=True):
                cmds.loadPlugin(str(plugin), quiet=True)
            cmds.pluginInfo(PLUGIN_FILE, edit=True, autoload=True)
            result.plugin_loaded = True
        except RuntimeError as exc:
            result.warnings.append(f"plug-in not loaded: {exc}")

    if add_shelf_button:
        result.shelf_button = shelf.add_button(base / "resources")

    for warning in result.warnings:
        cmds.warning(f"mocap-ae: {warning}")
    return result


def uninstall(
    root: str | os.PathLike[str] | None = None, *, app_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """Undo :func:`install`: shelf button, panel, plug-in (when unused), module file, site-packages.

    Returns:
        The files and folders removed.
    """
    base = (Path(root) if root is not None else repo_root()).resolve()
    modules = Path(app_dir) if app_dir is not None else maya_app_dir()
    removed: list[Path] = []

    shelf.remove_button()
    for saved in shelf.saved_shelf_files(modules, maya_version()):
        saved.unlink()
        removed.append(saved)
    from . import dock

    dock.close_panel()

    if cmds.pluginInfo(PLUGIN_FILE, query=True, loaded=True):
        cmds.pluginInfo(PLUGIN_FILE, edit=True, autoload=False)
        if not cmds.ls(type="csvToMat"):
            cmds.unloadPlugin(PLUGIN_FILE)

    module_file = modules / "modules" / MOD_FILE
    if module_file.exists():
        module_file.unlink()
        removed.append(module_file)
    site = base / SITE_PACKAGES
    if site.exists():
        for entry in list(sys.path):
            if entry.startswith(str(site)):
                sys.path.remove(entry)
        shutil.rmtree(site)
        removed.append(site)
    return removed
