"""The dockable panel's workspaceControl and the panel's Maya host, against the fake Maya."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tests import synth
from tests.fake_maya import clips as maya_helpers
from tests.fake_maya import FakeMaya, fake_maya  # noqa: F401  (fixture)


class _Layout:
    def __init__(self) -> None:
        self.widgets: list[Any] = []

    def addWidget(self, widget: Any) -> None:  # noqa: N802 - Qt's name
        self.widgets.append(widget)


class _Widget:
    def __init__(self, pointer: int) -> None:
        self.pointer = pointer
        self._layout = _Layout()

    def layout(self) -> _Layout:
        return self._layout


@pytest.fixture()
def stub_ui(monkeypatch: pytest.MonkeyPatch) -> dict:
    """Stand-ins for the Qt side (``maya_tool.ui.qt`` / ``.panel``), recording what the dock asks."""
    made: dict = {"panels": []}
    qt = types.ModuleType("maya_tool.ui.qt")
    qt.wrap_pointer = lambda pointer: _Widget(pointer)  # type: ignore[attr-defined]
    panel = types.ModuleType("maya_tool.ui.panel")

    def create_panel(host: Any = None, parent: Any = None) -> dict:
        made["panels"].append({"host": host, "parent": parent})
        return made["panels"][-1]

    panel.create_panel = create_panel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "maya_tool.ui.qt", qt)
    monkeypatch.setitem(sys.modules, "maya_tool.ui.panel", panel)
    return made


def test_show_panel_creates_a_workspace_control_that_builds_the_panel(fake_maya: FakeMaya, stub_ui: dict) -> None:
    from maya_tool.maya import dock
    from maya_tool.maya.host import MayaHost

    cmds = fake_maya.cmds
    assert dock.show_panel() == dock.CONTROL
    control = cmds._scene().ui[dock.CONTROL]  # type: ignore[attr-defined]
    assert control["kind"] == "workspaceControl" and control["uiScript"] == dock.UI_SCRIPT
    assert control["retain"] is False and control["label"] == dock.LABEL
    (made,) = stub_ui["panels"]
    assert isinstance(made["host"], MayaHost)
    assert made["parent"].pointer == control["pointer"]
    assert made["parent"].layout().widgets == [made]

    cmds.workspaceControl(dock.CONTROL, edit=True, visible=False)
    dock.show_panel()
    assert len(cmds.calls_of("workspaceControl")) >= 3  # type: ignore[attr-defined]
    assert control["visible"] is True
    assert len(stub_ui["panels"]) == 1, "showing again must not build a second panel"

    dock.close_panel()
    assert dock.CONTROL not in cmds._scene().ui  # type: ignore[attr-defined]


def _loaded_host(fake_maya: FakeMaya, tmp_path: Path):  # type: ignore[no-untyped-def]
    from maya_tool.maya.host import MayaHost

    clip = synth.smooth_clip(frames=240)
    path = maya_helpers.write_csv_clip(clip, tmp_path)
    host = MayaHost()
    host.load_clip(clip, str(path))
    return host, clip, path


def test_host_builds_a_rig_and_mirrors_attributes(fake_maya: FakeMaya, tmp_path: Path) -> None:
    cmds = fake_maya.cmds
    from maya_tool.ui.host import Host

    host, clip, path = _loaded_host(fake_maya, tmp_path)
    assert isinstance(host, Host)
    assert host.node is not None and cmds.nodeType(host.node) == "csvToMat"
    host.update_node({"clip": str(path), "model": "", "mode": "noisy", "encode": False, "noise": 0.03, "compare": False})
    assert cmds.getAttr(f"{host.node}.mode") == 2
    assert host.attributes() == {
        "clip": str(path), "model": "", "mode": "noisy", "encode": False, "noise": pytest.approx(0.03), "compare": False,
        "noise_type": "gaussian",
    }
    host.update_node({"noise_type": "capture"})
    assert cmds.getAttr(f"{host.node}.noiseType") == 3 and host.read_attribute("noise_type") == "capture"
    host.update_node({"noise_type": "gaussian"})

    seen: list[tuple[str, Any]] = []
    frames: list[int] = []
    host.attach(lambda name, value: seen.append((name, value)), frames.append)
    cmds.setAttr(f"{host.node}.mode", 3)
    assert seen == [("mode", "denoised")]
    cmds.currentTime(24.0)
    assert frames == [120], "24 scene frames at 24 fps = 1 s = clip frame 120 at 120 fps"
    host.set_current_frame(60)
    assert cmds.currentTime(query=True) == pytest.approx(12.0)
    host.detach()
    cmds.setAttr(f"{host.node}.mode", 0)
    assert len(seen) == 1
    assert cmds._scene().jobs == {}  # type: ignore[attr-defined]


def test_host_compare_adds_and_removes_an_original_rig(fake_maya: FakeMaya, tmp_path: Path) -> None:
    cmds = fake_maya.cmds
    host, clip, _ = _loaded_host(fake_maya, tmp_path)
    host.write_attribute("compare", True)
    assert host.compare_rig is not None
    world = cmds._scene()  # type: ignore[attr-defined]
    assert world.nodes[host.compare_rig.node].attrs["mode"] == 0
    assert world.nodes[host.compare_rig.group].attrs["translate"][0] < 0
    compare_node = host.compare_rig.node
    host.write_attribute("compare", False)
    assert host.compare_rig is None and compare_node not in world.nodes


def test_host_builds_rigs_from_the_panels_clip_without_reading_it_again(
    fake_maya: FakeMaya, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool.maya import scene

    reads: list[str] = []
    read = scene._read_clip
    monkeypatch.setattr(scene, "_read_clip", lambda path: reads.append(str(path)) or read(path))
    host, clip, path = _loaded_host(fake_maya, tmp_path)
    host.write_attribute("compare", True)
    assert host.rig is not None and host.rig.frames == clip.num_frames and host.rig.fps == clip.fps
    assert reads == [str(path)], "only the compare rig built later, from the node's path alone, reads the file"
    host.write_attribute("compare", False)
    host.load_clip(clip, str(path))
    host.write_attribute("compare", True)
    host.load_clip(clip, str(path))
    assert reads == [str(path)] * 2, "a reload with compare on rebuilds the compare rig from the clip in hand"


def test_host_converts_non_csv_clips_for_the_node(fake_maya: FakeMaya, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maya_tool.maya.host import MayaHost

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    clip = synth.smooth_clip(frames=30)
    host = MayaHost()
    host.load_clip(clip, "/somewhere/walk.bvh")
    written = fake_maya.cmds.getAttr(f"{host.node}.filePath")
    assert written == str(tmp_path / "mocap-ae" / "clips" / "walk.csv")
    assert Path(written).is_file()


def test_host_without_node_says_to_load_a_clip(fake_maya: FakeMaya) -> None:
    from maya_tool.errors import MocapError
    from maya_tool.maya.host import MayaHost

    host = MayaHost()
    assert host.attributes() == {} and host.read_attribute("mode") is None
    with pytest.raises(MocapError, match="load a clip"):
        host.update_node({"clip": "", "mode": "original"})
