"""``MayaHost``: the panel's :class:`maya_tool.ui.host.Host` in a Maya scene.

The panel's controller owns the settings; this host mirrors them on a
csvToMat node and its rig (built by :mod:`.scene`), moves Maya's time when
the panel scrubs, and reports outside changes (Attribute Editor edits, the
time slider) back through ``scriptJob`` callbacks.

Frames follow the node's rule: scene time 0 is clip frame 0 and scene
seconds map to clip frames with the clip's own rate, so
``scene frame = clip frame / clip fps * scene fps``.
"""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping

from maya import cmds

from ..clip import Clip
from ..corruption import CORRUPTIONS
from ..errors import MocapError
from ..modes import MODES
from . import scene

AttributeCallback = Callable[[str, Any], None]
TimeCallback = Callable[[int], None]

NODE_ATTRIBUTES = {"clip": "filePath", "model": "modelPath", "mode": "mode", "encode": "encode", "noise": "noise",
                   "noise_type": "noiseType"}
"""Panel attribute -> csvToMat attribute (``compare`` is the host's own: a second rig)."""


def _job(value: Any) -> int:
    """The job number ``scriptJob`` returns."""
    if isinstance(value, int):
        return value
    raise RuntimeError(f"scriptJob returned {value!r} instead of a job number")


def _coerce(name: str, value: Any) -> Any:
    if name in ("clip", "model"):
        return "" if value is None else os.fspath(value)
    if name == "mode":
        if isinstance(value, int) and not isinstance(value, bool):
            return MODES[value]
        return str(value)
    if name == "noise_type":
        if isinstance(value, int) and not isinstance(value, bool):
            return CORRUPTIONS[value]
        return str(value)
    if name in ("encode", "compare"):
        return bool(value)
    return float(value)


class MayaHost:
    """The panel's host inside Maya.

    Args:
        rig: An existing rig to drive; by default the host adopts the first
            csvToMat node in the scene, or builds a rig on the first clip.
    """

    name = "maya"
    extra_attributes = ("noise_type",)

    def __init__(self, rig: scene.Rig | None = None) -> None:
        self.rig = rig
        self.compare_rig: scene.Rig | None = None
        self._compare = False
        self._jobs: list[int] = []
        self._on_attribute: AttributeCallback | None = None
        self._on_time: TimeCallback | None = None
        if self.rig is None:
            nodes = cmds.ls(type="csvToMat") or []
            if nodes:
                self.rig = scene.Rig(node=str(nodes[0]), joints=[], fps=self._node_fps(str(nodes[0])))

    # ----------------------------------------------------------------- helpers
    @property
    def node(self) -> str | None:
        return self.rig.node if self.rig is not None else None

    def _node_fps(self, node: str) -> float:
        path = cmds.getAttr(f"{node}.filePath")
        if not path:
            return 0.0
        try:
            return scene._read_clip(path).fps
        except MocapError:
            return 0.0

    def _fps(self) -> float:
        return self.rig.fps if self.rig is not None and self.rig.fps > 0 else 0.0

    # ------------------------------------------------------------- callbacks
    def attach(self, on_attribute_changed: AttributeCallback, on_time_changed: TimeCallback) -> None:
        self.detach()
        self._on_attribute = on_attribute_changed
        self._on_time = on_time_changed
        self._jobs.append(_job(cmds.scriptJob(event=("timeChanged", self._time_changed))))
        self._watch_node()

    def _watch_node(self) -> None:
        if self.node is None:
            return
        for name, attr in NODE_ATTRIBUTES.items():
            callback = functools.partial(self._attribute_changed, name)
            self._jobs.append(_job(cmds.scriptJob(attributeChange=(f"{self.node}.{attr}", callback))))

    def detach(self) -> None:
        for job in self._jobs:
            if cmds.scriptJob(exists=job):
                cmds.scriptJob(kill=job, force=True)
        self._jobs = []
        self._on_attribute = None
        self._on_time = None

    def _time_changed(self) -> None:
        if self._on_time is not None:
            self._on_time(self.current_frame())

    def _attribute_changed(self, name: str) -> None:
        if self._on_attribute is not None:
            self._on_attribute(name, self.read_attribute(name))

    # ------------------------------------------------------------------ time
    def current_frame(self) -> int:
        now = float(cmds.currentTime(query=True))  # type: ignore[call-arg]  # stubs lack the query flag
        fps = self._fps()
        if fps <= 0:
            return max(0, int(round(now)))
        return max(0, int(round(now / scene.scene_fps() * fps)))

    def set_current_frame(self, frame: int) -> None:
        fps = self._fps()
        when = float(frame) if fps <= 0 else float(frame) / fps * scene.scene_fps()
        cmds.currentTime(when)  # type: ignore[arg-type]  # times are floats; some stubs say int

    # -------------------------------------------------------------- cleaning
    def clean_selected(self, model_path: str, strength: float = 1.0) -> dict[str, Any]:
        """*Clean selected skeleton* (:func:`maya_tool.maya.clean.clean_selected`) with the panel's model.

        Returns what the panel shows: the layer, the mean change and the
        flagged scene times (pops and dropouts found).
        """
        from . import clean

        done = clean.clean_selected(model_path or None, strength=strength)
        return {"layer": done.layer, "model": done.report["model"], "mean_change_deg": done.report["mean_change_deg"],
                "events": len(done.report["events"]), "flagged_times": done.flagged_times}

    # ------------------------------------------------------------------ clip
    def load_clip(self, clip: Clip, path: str | None) -> None:
        if path is None or Path(path).suffix.lower() != ".csv":
            path = self._write_csv(clip, path)
        if self.rig is not None and self.rig.skeleton is not None and self.rig.skeleton.same_layout(clip.skeleton):
            scene.set_node(self.rig.node, path=path)
            self.rig.fps, self.rig.frames = clip.fps, clip.num_frames
            scene.set_playback_range(clip.num_frames, clip.fps)
        else:
            self.detach_rig()
            self.rig = scene.load_clip(path, clip=clip)
            if self._on_attribute is not None:
                self._watch_node()
        if self._compare:
            self._build_compare(path, clip)

    def _write_csv(self, clip: Clip, source: str | None) -> str:
        """Maya's node reads CSV: BVH/AMC clips are converted once into a temp folder."""
        from ..io.csv import write_csv

        folder = Path(tempfile.gettempdir()) / "mocap-ae" / "clips"
        stem = Path(source).stem if source else (clip.skeleton.name or "clip")
        target = folder / f"{stem}.csv"
        write_csv(clip, target)
        return str(target)

    def detach_rig(self) -> None:
        """Forget the current rig (its nodes stay in the scene)."""
        self.rig = None

    def _build_compare(self, path: str, clip: Clip | None = None) -> None:
        self._remove_compare()
        assert self.rig is not None and self.rig.skeleton is not None
        self.compare_rig = scene.load_clip(
            path,
            namespace="mocap_original",
            mode="original",
            offset_x=-scene.default_spacing(self.rig.skeleton),
            set_range=False,
            clip=clip,
        )

    def _remove_compare(self) -> None:
        if self.compare_rig is not None:
            doomed = [n for n in [self.compare_rig.group, self.compare_rig.node, *self.compare_rig.decompose] if n]
            existing = [n for n in doomed if cmds.objExists(n)]
            if existing:
                cmds.delete(existing)
            self.compare_rig = None

    # ------------------------------------------------------------ attributes
    def update_node(self, attributes: Mapping[str, Any]) -> None:
        if self.rig is None:
            path = attributes.get("clip")
            if not path:
                raise MocapError("load a clip first: the csvToMat node needs a CSV file")
            self.rig = scene.load_clip(str(path))
            if self._on_attribute is not None:
                self._watch_node()
        for name, value in attributes.items():
            self.write_attribute(name, value)

    def read_attribute(self, name: str) -> Any:
        if name == "compare":
            return self._compare
        if self.node is None:
            return None
        value = cmds.getAttr(f"{self.node}.{NODE_ATTRIBUTES[name]}")
        return _coerce(name, value)

    def write_attribute(self, name: str, value: Any) -> None:
        value = _coerce(name, value)
        if name == "compare":
            if value != self._compare:
                self._compare = value
                if not value:
                    self._remove_compare()
                elif self.node is not None:
                    self._build_compare(str(cmds.getAttr(f"{self.node}.filePath")))
            return
        if self.node is None:
            return
        if name == "clip":
            scene.set_node(self.node, path=value)
        elif name == "model":
            scene.set_node(self.node, model=value)
        elif name == "mode":
            scene.set_node(self.node, mode=value)
        elif name == "encode":
            scene.set_node(self.node, encode=value)
        elif name == "noise":
            scene.set_node(self.node, noise=value)
        elif name == "noise_type":
            scene.set_node(self.node, noise_type=value)
        else:
            raise ValueError(f"unknown attribute {name!r}")

    def attributes(self) -> dict[str, Any]:
        if self.node is None:
            return {}
        values = {name: self.read_attribute(name) for name in NODE_ATTRIBUTES}
        values["compare"] = self._compare
        return values
