"""The drag-and-drop installer, the module file and uninstall, with a fake mayapy.

The fake mayapy is a small script that records its argv, answers the
installer's package probe from ``FAKE_MAYAPY_FOUND`` (JSON) and, for
``-m pip install --target DIR``, creates ``DIR`` with one folder per
requirement (or fails when ``FAKE_MAYAPY_PIP_FAIL`` is set).
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from tests.fake_maya import REPO, FakeMaya, fake_maya  # noqa: F401  (fixture)

FAKE_MAYAPY = """#!{python}
import json, os, re, sys
with open(os.environ["FAKE_MAYAPY_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "-c":
    print("some banner Maya prints")
    print(os.environ["FAKE_MAYAPY_FOUND"])
    sys.exit(0)
if sys.argv[1:4] == ["-m", "pip", "install"]:
    if os.environ.get("FAKE_MAYAPY_PIP_FAIL"):
        print("ERROR: No matching distribution found for scipy", file=sys.stderr)
        sys.exit(1)
    target = sys.argv[sys.argv.index("--target") + 1]
    os.makedirs(target, exist_ok=True)
    for spec in sys.argv[sys.argv.index("--target") + 2:]:
        os.makedirs(os.path.join(target, re.split(r"[<>=]", spec)[0]), exist_ok=True)
    sys.exit(0)
sys.exit(3)
"""

MAYA_2025 = {"python": "3.11.4", "numpy": "1.26.4", "PySide6": "6.5.3", "PySide2": None, "scipy": None, "Qt": None,
             "pyqtgraph": None, "tqdm": None}


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    app = tmp_path / "maya_app"
    app.mkdir()
    checkout = tmp_path / "checkout"
    (checkout / "plug-ins").mkdir(parents=True)
    (checkout / "resources").mkdir()
    mayapy = tmp_path / "bin" / "mayapy"
    mayapy.parent.mkdir()
    mayapy.write_text(FAKE_MAYAPY.format(python=sys.executable))
    mayapy.chmod(mayapy.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "mayapy.log"
    monkeypatch.setenv("MAYA_APP_DIR", str(app))
    monkeypatch.setenv("FAKE_MAYAPY_LOG", str(log))
    monkeypatch.setenv("FAKE_MAYAPY_FOUND", json.dumps(MAYA_2025))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(checkout / "site-packages" / "2025"), "/studio/tools"]))
    saved_path = list(sys.path)
    yield {"app": app, "root": checkout, "mayapy": mayapy, "log": log}
    sys.path[:] = saved_path


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_install_registers_module_installs_missing_packages_and_adds_shelf_button(
    fake_maya: FakeMaya, env: dict
) -> None:
    from maya_tool.maya import install, shelf

    cmds = fake_maya.cmds
    result = install.install(env["root"], mayapy=env["mayapy"])
    root = env["root"].resolve()

    module_file = env["app"] / "modules" / "mocap-ae.mod"
    assert result.module_file == module_file
    text = module_file.read_text()
    assert text == install.module_text(root)
    for version in ("2024", "2025", "2026"):
        assert f"+ MAYAVERSION:{version} PLATFORM:linux mocap-ae" in text
        assert f"PYTHONPATH+:=site-packages/{version}" in text
    assert f" {root}\n" in text
    assert "MAYA_PLUG_IN_PATH+:=plug-ins" in text and "XBMLANGPATH+:=resources/%B" in text
    assert "#" not in text

    probe, pip = _calls(env["log"])
    assert probe[0] == "-c"
    target = root / "site-packages" / "2025"
    assert pip[:3] == ["-m", "pip", "install"] and "--no-deps" in pip
    assert pip[pip.index("--target") + 1] == str(target)
    specs = pip[pip.index("--target") + 2 :]
    assert specs == ["scipy", "Qt.py", "pyqtgraph<0.15", "tqdm"]
    assert not any(s.lower().startswith(("numpy", "pyside", "tensorflow")) for s in specs)
    assert target.is_dir() and (target / "scipy").is_dir()
    assert result.installed == specs and result.site_packages == target
    assert str(target) in sys.path and str(root) in sys.path

    world = cmds._scene()  # type: ignore[attr-defined]
    assert world.plugins["csvToMat"] == str(root / "plug-ins" / "csvToMat.py")
    assert world.autoload["csvToMat"] is True
    button = world.ui[result.shelf_button]
    assert world.ui[shelf.SHELF]["parent"] == world.shelf_top_level
    assert button["command"] == "import maya_tool.maya.dock as d; d.show_panel()"
    assert button["sourceType"] == "python"
    assert button["image"] == str(root / "resources" / "mocap-ae.png")
    assert result.warnings == [] and world.warnings == []
    assert "registered" in result.summary()


def test_probe_does_not_see_our_own_site_packages(fake_maya: FakeMaya, env: dict, tmp_path: Path) -> None:
    from maya_tool.maya import install

    spy = tmp_path / "spy.py"
    spy.write_text(f"#!{sys.executable}\nimport json, os\nprint(json.dumps({{'PYTHONPATH': os.environ.get('PYTHONPATH')}}))\n")
    spy.chmod(spy.stat().st_mode | stat.S_IXUSR)
    seen = install.probe(spy, env["root"])
    assert seen["PYTHONPATH"] == "/studio/tools"


def test_reinstall_keeps_one_button_and_skips_present_packages(
    fake_maya: FakeMaya, env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool.maya import install, shelf

    install.install(env["root"], mayapy=env["mayapy"])
    monkeypatch.setenv("FAKE_MAYAPY_FOUND", json.dumps({k: v or "1.0" for k, v in MAYA_2025.items()}))
    result = install.install(env["root"], mayapy=env["mayapy"])
    assert result.installed == [] and result.pip_command == []
    assert [c[0] for c in _calls(env["log"])] == ["-c", "-m", "-c"]
    world = fake_maya.cmds._scene()  # type: ignore[attr-defined]
    buttons = [n for n, d in world.ui.items() if d["kind"] == "shelfButton" and d["parent"] == shelf.SHELF]
    assert buttons == [result.shelf_button]


def test_numpy_is_installed_only_when_maya_has_none(
    fake_maya: FakeMaya, env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool.maya import install

    monkeypatch.setenv("FAKE_MAYAPY_FOUND", json.dumps({**MAYA_2025, "numpy": None}))
    result = install.install(env["root"], mayapy=env["mayapy"])
    assert result.installed[0] == "numpy<2"
    assert install.requirements({**MAYA_2025, "numpy": "1.23.5"})[0] == "scipy<1.16"
    assert install.scipy_requirement("1.22.4") == "scipy<1.14"
    assert install.scipy_requirement("1.21.6") == "scipy<1.12"
    assert install.scipy_requirement("2.0.1") == "scipy"


def test_pip_failure_is_a_warning_not_a_broken_install(
    fake_maya: FakeMaya, env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool.maya import install

    monkeypatch.setenv("FAKE_MAYAPY_PIP_FAIL", "1")
    result = install.install(env["root"], mayapy=env["mayapy"])
    assert result.module_file.is_file() and result.shelf_button
    assert len(result.warnings) == 1 and "No matching distribution" in result.warnings[0]
    assert fake_maya.cmds._scene().warnings == [f"mocap-ae: {result.warnings[0]}"]  # type: ignore[attr-defined]


def test_uninstall_removes_module_file_site_packages_shelf_and_plugin(fake_maya: FakeMaya, env: dict) -> None:
    from maya_tool.maya import install, shelf

    cmds = fake_maya.cmds
    result = install.install(env["root"], mayapy=env["mayapy"])
    saved = env["app"] / "2025" / "prefs" / "shelves" / f"shelf_{shelf.SHELF}.mel"
    saved.parent.mkdir(parents=True)
    saved.write_text("shelfButton ...")
    removed = install.uninstall(env["root"])
    site = env["root"].resolve() / "site-packages"
    assert set(removed) == {saved, result.module_file, site}
    assert not result.module_file.exists() and not site.exists() and not saved.exists()
    world = cmds._scene()  # type: ignore[attr-defined]
    assert shelf.SHELF not in world.ui and result.shelf_button not in world.ui
    assert "csvToMat" not in world.plugins
    assert not any(p.startswith(str(site)) for p in sys.path)
    assert install.uninstall(env["root"]) == []


def test_uninstall_keeps_the_plugin_loaded_while_nodes_use_it(fake_maya: FakeMaya, env: dict) -> None:
    from maya_tool.maya import install

    cmds = fake_maya.cmds
    install.install(env["root"], mayapy=env["mayapy"], add_shelf_button=False)
    cmds.createNode("csvToMat")
    install.uninstall(env["root"])
    world = cmds._scene()  # type: ignore[attr-defined]
    assert "csvToMat" in world.plugins and world.autoload["csvToMat"] is False


def test_dropped_file_calls_the_installer_on_its_checkout(
    fake_maya: FakeMaya, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from maya_tool.maya import install

    seen: list[Path] = []

    def fake_install(root: Path) -> install.InstallResult:
        seen.append(Path(root))
        return install.InstallResult(module_file=Path("/x/mocap-ae.mod"))

    monkeypatch.setattr(install, "install", fake_install)
    spec = importlib.util.spec_from_file_location("install_maya", REPO / "install_maya.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.onMayaDroppedPythonFile("ignored", "args")
    assert seen == [REPO]
    assert "mocap-ae" in capsys.readouterr().out


def test_shipped_module_template_is_the_generated_one(fake_maya: FakeMaya) -> None:
    from maya_tool.maya import install

    assert (REPO / "mocap-ae.mod").read_text() == install.module_text(".")


def test_icons_exist_and_are_pngs() -> None:
    for name, size in (("mocap-ae.png", 32), ("mocap-ae_64.png", 64)):
        data = (REPO / "resources" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert int.from_bytes(data[16:20], "big") == size and int.from_bytes(data[20:24], "big") == size


def test_find_mayapy_uses_maya_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_maya: FakeMaya) -> None:
    from maya_tool.maya import install

    exe = tmp_path / "bin" / ("mayapy.exe" if sys.platform == "win32" else "mayapy")
    exe.parent.mkdir()
    exe.write_text("")
    monkeypatch.setenv("MAYA_LOCATION", str(tmp_path))
    assert install.find_mayapy() == exe
