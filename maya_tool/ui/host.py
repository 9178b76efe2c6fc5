"""What the panel needs from the application it runs in.

The panel's :class:`~maya_tool.ui.controller.Controller` holds the state (clip,
model, mode, encode, noise, compare, current frame) and computes what to plot.
The *host* is where the motion is actually shown and scrubbed: Maya's scene
(a skeleton driven by a ``csvToMat`` node, and Maya's time slider) or, outside
Maya, nothing but the panel's own skeleton view. The controller talks to its
host through the small :class:`Host` protocol below, so the same panel and
controller run in both places; ``maya_tool.maya`` implements it as
``MayaHost``, this module implements :class:`StandaloneHost`.

Contract for implementers
-------------------------
Frames
    The controller counts frames from 0 = the first frame of the clip as
    loaded (after a BVH T-pose frame was dropped), the convention of the core
    (``noise.frame_noise`` is seeded with it). A host maps it to its own time:
    Maya's host typically uses ``time = start_frame + frame``. The controller
    clamps to ``0 .. clip.num_frames - 1`` before calling the host.

Attributes
    The controller reflects the node's controls both ways under these names
    and Python types (a host translates them to its node's attributes, e.g. an
    enum index for ``mode``):

    ============  =========  ==============================================
    name          type       meaning
    ============  =========  ==============================================
    ``clip``      ``str``    path of the motion file the node reads ("" none)
    ``model``     ``str``    path of the model sidecar/weights ("" none)
    ``mode``      ``str``    one of ``maya_tool.modes.MODES``
    ``encode``    ``bool``   the tutorial's encode toggle
    ``noise``     ``float``  noise sigma per quaternion component (>= 0)
    ``compare``   ``bool``   show the original next to the result
    ============  =========  ==============================================

    ``mode`` and ``encode`` always arrive as a consistent pair: the panel
    writes ``encode = modes.uses_model(mode)`` with every mode, and after an
    outside edit of either it writes back the pair of the mode the node then
    shows (``modes.mode_from_node``), so the two never contradict each other.

    Optional attributes: a host lists in ``extra_attributes`` those of
    :data:`EXTRA_ATTRIBUTES` its node has (``noise_type``: one of
    ``maya_tool.corruption.CORRUPTIONS``, the node's ``noiseType`` enum); the
    controller reads and writes only those, so a node without them still works.

Notifications
    :meth:`Host.attach` gives the host two callbacks. The host calls
    ``on_attribute_changed(name, value)`` when one of the attributes above
    changes *outside* the panel (the artist edits the node in the Attribute
    Editor, an undo, a script), and ``on_time_changed(frame)`` when the
    current time changes outside the panel (Maya's time slider, playback).
    Calling them for changes the panel itself made is harmless: the
    controller ignores values equal to its state, so there is no feedback
    loop. Callbacks must be called on the Qt main thread (Maya's idle/event
    callbacks are).

Errors
    A host raises :class:`maya_tool.errors.MocapError` with a readable reason
    for anything the artist can fix (no node, file missing); the panel shows
    the text in its status line. Other exceptions are reported as bugs.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from ..clip import Clip
from ..corruption import CORRUPTIONS
from ..modes import MODES

ATTRIBUTES: tuple[str, ...] = ("clip", "model", "mode", "encode", "noise", "compare")
"""Names of the controls that the controller and the host's node share."""

EXTRA_ATTRIBUTES: tuple[str, ...] = ("noise_type",)
"""Controls a host may offer on top of :data:`ATTRIBUTES` (listed in its ``extra_attributes``)."""


def host_attributes(host: Any) -> tuple[str, ...]:
    """Every attribute this host's node has: :data:`ATTRIBUTES` and the extras it declares."""
    extra = tuple(getattr(host, "extra_attributes", ()) or ())
    return ATTRIBUTES + tuple(name for name in EXTRA_ATTRIBUTES if name in extra)

AttributeCallback = Callable[[str, Any], None]
TimeCallback = Callable[[int], None]


def coerce_attribute(name: str, value: Any) -> Any:
    """The controller's Python value for a host attribute, or ValueError.

    Hosts may hand over what their node stores (an enum index for ``mode``,
    0/1 for booleans, ``None`` for an empty path); this turns it into the
    documented type so both sides compare equal values.
    """
    if name not in ATTRIBUTES + EXTRA_ATTRIBUTES:
        raise ValueError(f"unknown attribute {name!r}: expected one of {', '.join(ATTRIBUTES + EXTRA_ATTRIBUTES)}")
    if name == "noise_type":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(CORRUPTIONS):
            return CORRUPTIONS[value]
        if value not in CORRUPTIONS:
            raise ValueError(f"noise type must be one of {', '.join(CORRUPTIONS)}, got {value!r}")
        return str(value)
    if name in ("clip", "model"):
        return "" if value is None else os.fspath(value)
    if name == "mode":
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(MODES):
            return MODES[value]
        if value not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {value!r}")
        return str(value)
    if name in ("encode", "compare"):
        return bool(value)
    noise = float(value)
    if not noise >= 0.0:
        raise ValueError(f"noise must be >= 0, got {value!r}")
    return noise


@runtime_checkable
class Host(Protocol):
    """Where the motion is shown: Maya's scene, or the standalone window.

    Attributes:
        name: ``"maya"`` or ``"standalone"``; the panel uses it to pick
            defaults (e.g. which Python runs training jobs).
    """

    name: str

    def attach(self, on_attribute_changed: AttributeCallback, on_time_changed: TimeCallback) -> None:
        """Start reporting outside changes through the two callbacks.

        Called once by the controller when the panel is built. A Maya host
        installs its ``MNodeMessage``/``MEventMessage`` callbacks here.
        """

    def detach(self) -> None:
        """Stop reporting; called when the panel closes. Must be idempotent."""

    def current_frame(self) -> int:
        """The host's current time as a clip frame (see the module notes)."""

    def set_current_frame(self, frame: int) -> None:
        """Move the host's time to a clip frame (Maya: ``currentTime``)."""

    def load_clip(self, clip: Clip, path: str | None) -> None:
        """Bring a clip the panel just loaded into the scene.

        Maya builds (or reuses) the joint hierarchy for ``clip.skeleton``,
        points the node's file attribute at ``path`` and sets the playback
        range to the clip's frames. ``path`` is ``None`` for clips made in
        memory (the node then cannot read them; a host may write a CSV).
        """

    def update_node(self, attributes: Mapping[str, Any]) -> None:
        """Create the host's node when it has none, then set these attributes.

        Called after :meth:`load_clip` with every attribute of
        :data:`ATTRIBUTES`, so a host can build its node in one go.
        """

    def read_attribute(self, name: str) -> Any:
        """Current value of one attribute of :data:`ATTRIBUTES`, ``None`` when there is no node."""

    def write_attribute(self, name: str, value: Any) -> None:
        """Set one attribute on the node (no-op when there is no node yet)."""

    def attributes(self) -> dict[str, Any]:
        """Every attribute the node has now (empty without a node).

        The controller calls this when a panel opens on a scene that already
        has a node, to show the node's state rather than its own defaults.
        """


class StandaloneHost:
    """The host outside Maya: the panel's own views are the scene.

    It keeps the node's attributes and the current frame in memory and calls
    back exactly like a Maya host would when :meth:`set_attribute_externally`
    or :meth:`set_time_externally` simulate an outside edit, which is how the
    tests exercise the Maya-facing paths without Maya.
    """

    name = "standalone"
    extra_attributes = EXTRA_ATTRIBUTES

    def __init__(self) -> None:
        self._attributes: dict[str, Any] = {}
        self._frame = 0
        self._on_attribute: AttributeCallback | None = None
        self._on_time: TimeCallback | None = None
        self.clip: Clip | None = None
        self.clip_path: str | None = None
        self.history: list[tuple[str, Any]] = []
        """Calls received, ``(method, argument)``, oldest first: what a test checks."""

    def attach(self, on_attribute_changed: AttributeCallback, on_time_changed: TimeCallback) -> None:
        self._on_attribute = on_attribute_changed
        self._on_time = on_time_changed

    def detach(self) -> None:
        self._on_attribute = None
        self._on_time = None

    @property
    def attached(self) -> bool:
        return self._on_attribute is not None

    def current_frame(self) -> int:
        return self._frame

    def set_current_frame(self, frame: int) -> None:
        self._frame = int(frame)
        self.history.append(("set_current_frame", self._frame))

    def load_clip(self, clip: Clip, path: str | None) -> None:
        self.clip = clip
        self.clip_path = path
        self.history.append(("load_clip", path))

    def update_node(self, attributes: Mapping[str, Any]) -> None:
        for name, value in attributes.items():
            self._attributes[name] = coerce_attribute(name, value)
        self.history.append(("update_node", dict(attributes)))

    def read_attribute(self, name: str) -> Any:
        return self._attributes.get(name)

    def write_attribute(self, name: str, value: Any) -> None:
        self._attributes[name] = coerce_attribute(name, value)
        self.history.append(("write_attribute", (name, self._attributes[name])))

    def attributes(self) -> dict[str, Any]:
        return dict(self._attributes)

    def set_attribute_externally(self, name: str, value: Any) -> None:
        """Change an attribute as an artist would in Maya, and notify the panel."""
        self._attributes[name] = coerce_attribute(name, value)
        if self._on_attribute is not None:
            self._on_attribute(name, self._attributes[name])

    def set_time_externally(self, frame: int) -> None:
        """Move the time as Maya's time slider would, and notify the panel."""
        self._frame = int(frame)
        if self._on_time is not None:
            self._on_time(self._frame)
