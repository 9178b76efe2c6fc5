"""Fake ``maya.cmds``: a small scene that records every call.

Only the commands the project uses exist (anything else is an
AttributeError, so a new dependency on Maya shows up in the tests). Where it
matters they follow Maya:

* ``joint`` parents the new joint under the selected joint (or the world),
  sets ``translate`` from ``position`` (relative to the parent with
  ``relative=True``, else world position minus the parent's world position)
  and ``jointOrient`` from ``orientation``, and selects the new joint.
* ``getAttr`` of a double3 attribute returns ``[(x, y, z)]``; ``time=``
  reads keys set with ``setKeyframe``.
* ``connectAttr`` refuses a destination that is already connected unless
  ``force=True``, and unknown nodes or attributes.
* Names are unique: asking for a taken name appends a number, as Maya does.
* ``createNode`` of a plug-in type needs the plug-in loaded.
* ``animLayer`` creates layers under ``BaseAnimation`` (made with the first
  layer, as Maya does) with ``weight``, ``override``, ``mute`` and
  ``rotationAccumulationMode`` (0 by component, 1 by layer: quaternions);
  ``setKeyframe(animLayer=)`` keys an attribute the layer holds, and
  ``getAttr(time=)`` returns the blended result: additive layers add
  ``weight * value``; override layers mix ``(1 - weight) * below + weight *
  value``, for rotations by layer as a slerp of the two rotations in the
  joint's rotate order (what pairBlend / animBlendNodeAdditiveRotation do).
* ``undoInfo(openChunk=True)`` ... ``closeChunk=True`` brackets one undo
  step; ``undo()`` restores the scene as it was when the chunk opened (the
  fake undoes chunks only, and says so otherwise).

Inspect ``_scene()`` (nodes, connections, calls, ui) in the tests.
"""

from __future__ import annotations

import os
import re
from typing import Any

DOUBLE3 = {
    "translate": ("translateX", "translateY", "translateZ"),
    "rotate": ("rotateX", "rotateY", "rotateZ"),
    "scale": ("scaleX", "scaleY", "scaleZ"),
    "jointOrient": ("jointOrientX", "jointOrientY", "jointOrientZ"),
    "rotateAxis": ("rotateAxisX", "rotateAxisY", "rotateAxisZ"),
    "outputTranslate": ("outputTranslateX", "outputTranslateY", "outputTranslateZ"),
    "outputRotate": ("outputRotateX", "outputRotateY", "outputRotateZ"),
}
_SHORT = {"t": "translate", "r": "rotate", "s": "scale", "jo": "jointOrient", "ra": "rotateAxis", "ro": "rotateOrder"}

NODE_ATTRS: dict[str, dict[str, Any]] = {
    "transform": {"translate": (0.0, 0.0, 0.0), "rotate": (0.0, 0.0, 0.0), "scale": (1.0, 1.0, 1.0), "rotateOrder": 0, "rotateAxis": (0.0, 0.0, 0.0)},
    "joint": {
        "translate": (0.0, 0.0, 0.0), "rotate": (0.0, 0.0, 0.0), "scale": (1.0, 1.0, 1.0), "rotateOrder": 0,
        "jointOrient": (0.0, 0.0, 0.0), "rotateAxis": (0.0, 0.0, 0.0), "segmentScaleCompensate": 1, "radius": 1.0,
    },
    "decomposeMatrix": {"inputMatrix": None, "inputRotateOrder": 0, "outputTranslate": (0.0, 0.0, 0.0), "outputRotate": (0.0, 0.0, 0.0)},
    "time": {"outTime": 0.0},
    "animLayer": {"weight": 1.0, "override": False, "mute": False, "rotationAccumulationMode": 0, "passthrough": True},
    "csvToMat": {
        "filePath": "", "frame": 0.0, "time": 0.0, "encode": False, "modelPath": "", "noise": 0.0, "noiseType": 0, "mode": 0,
        "matOut": None, "frameError": 0.0, "jointCount": 0,
    },
}
PLUGIN_TYPES = {"csvToMat": "csvToMat"}
TIME_UNITS = {"game": 15.0, "film": 24.0, "pal": 25.0, "ntsc": 30.0, "show": 48.0, "palf": 50.0, "ntscf": 60.0}


class _Node:
    def __init__(self, name: str, node_type: str, parent: str | None) -> None:
        self.name = name
        self.type = node_type
        self.parent = parent
        self.attrs: dict[str, Any] = dict(NODE_ATTRS.get(node_type, {}))
        self.keys: dict[str, dict[float, Any]] = {}
        self.layer_attrs: list[tuple[str, str]] = []
        self.layer_keys: dict[tuple[str, str], dict[float, float]] = {}
        self.layer_parent: str | None = None


class _Scene:
    def __init__(self) -> None:
        self.nodes: dict[str, _Node] = {}
        self.connections: list[tuple[str, str]] = []
        self.selection: list[str] = []
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.namespaces: set[str] = set()
        self.plugins: dict[str, str] = {}
        self.ui: dict[str, dict[str, Any]] = {}
        self.shelf_top_level = "ShelfLayout"
        self.ui[self.shelf_top_level] = {"kind": "tabLayout", "parent": None, "pointer": 1000}
        self.time_unit = "film"
        self.linear_unit = "cm"
        self.angle_unit = "deg"
        self.current_time = 1.0
        self.playback = {"minTime": 1.0, "maxTime": 120.0, "animationStartTime": 1.0, "animationEndTime": 120.0}
        self.version = "2025"
        self.app_dir = os.environ.get("MAYA_APP_DIR", "")
        self.autoload: dict[str, bool] = {}
        self.jobs: dict[int, tuple[str, str, Any]] = {}
        self._job_id = 0
        self.warnings: list[str] = []
        self._pointer = 2000
        self.nodes["time1"] = _Node("time1", "time", None)
        self.layers: list[str] = []
        self.undo_stack: list[tuple[str, Any]] = []
        self.chunk_depth = 0

    def next_pointer(self) -> int:
        self._pointer += 1
        return self._pointer


_SCENE = _Scene()


def reset() -> None:
    """A new, empty scene (``time1`` only) with no plug-ins loaded."""
    global _SCENE
    _SCENE = _Scene()


def _scene() -> _Scene:
    return _SCENE


def _record(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    _SCENE.calls.append((name, args, dict(kwargs)))


def _flag(kwargs: dict[str, Any], long: str, short: str, default: Any = None) -> Any:
    if long in kwargs:
        return kwargs[long]
    return kwargs.get(short, default)


def _unique(name: str) -> str:
    if name not in _SCENE.nodes:
        return name
    base = re.sub(r"\d+$", "", name)
    i = 1
    while f"{base}{i}" in _SCENE.nodes:
        i += 1
    return f"{base}{i}"


def _node(name: str) -> _Node:
    short = name.split("|")[-1]
    if short not in _SCENE.nodes:
        raise ValueError(f"No object matches name: {name}")
    return _SCENE.nodes[short]


def _split(plug: str) -> tuple[_Node, str, int | None]:
    if "." not in plug:
        raise RuntimeError(f"not a plug: {plug}")
    node_name, attr = plug.split(".", 1)
    node = _node(node_name)
    index = None
    m = re.fullmatch(r"(\w+)\[(\d+)\]", attr)
    if m:
        attr, index = m.group(1), int(m.group(2))
    attr = _SHORT.get(attr, attr)
    known = set(node.attrs) | {c for parent in DOUBLE3 for c in DOUBLE3[parent] if parent in node.attrs}
    if attr not in known:
        raise ValueError(f"No object matches name: {plug}")
    return node, attr, index


def _world_position(node: _Node) -> tuple[float, float, float]:
    """Sum of translations up the hierarchy (the fake ignores parent rotations)."""
    x = y = z = 0.0
    current: _Node | None = node
    while current is not None:
        tx, ty, tz = current.attrs.get("translate", (0.0, 0.0, 0.0))
        x, y, z = x + tx, y + ty, z + tz
        current = _SCENE.nodes.get(current.parent) if current.parent else None
    return (x, y, z)


# --------------------------------------------------------------------------- scene commands
def about(**kwargs: Any) -> Any:
    _record("about", (), kwargs)
    if _flag(kwargs, "version", "v"):
        return _SCENE.version
    if _flag(kwargs, "operatingSystem", "os"):
        return "linux64"
    raise RuntimeError(f"fake about: unsupported flags {kwargs}")


def internalVar(**kwargs: Any) -> str:
    _record("internalVar", (), kwargs)
    if _flag(kwargs, "userAppDir", "uad"):
        return _SCENE.app_dir.rstrip("/") + "/"
    if _flag(kwargs, "userPrefDir", "upd"):
        return os.path.join(_SCENE.app_dir, _SCENE.version, "prefs") + "/"
    raise RuntimeError(f"fake internalVar: unsupported flags {kwargs}")


def loadPlugin(path: str, **kwargs: Any) -> list[str]:
    _record("loadPlugin", (path,), kwargs)
    name = os.path.splitext(os.path.basename(path))[0]
    _SCENE.plugins[name] = path
    return [name]


def unloadPlugin(name: str, **kwargs: Any) -> None:
    _record("unloadPlugin", (name,), kwargs)
    _SCENE.plugins.pop(os.path.splitext(os.path.basename(name))[0], None)


def pluginInfo(name: str, **kwargs: Any) -> Any:
    _record("pluginInfo", (name,), kwargs)
    key = os.path.splitext(os.path.basename(name))[0]
    if _flag(kwargs, "edit", "e"):
        if key not in _SCENE.plugins:
            raise RuntimeError(f"pluginInfo: plug-in {name} is not loaded")
        if "autoload" in kwargs or "a" in kwargs:
            _SCENE.autoload[key] = bool(_flag(kwargs, "autoload", "a"))
        return None
    if _flag(kwargs, "loaded", "l"):
        return key in _SCENE.plugins
    if _flag(kwargs, "path", "p"):
        return _SCENE.plugins.get(key, "")
    raise RuntimeError(f"fake pluginInfo: unsupported flags {kwargs}")


def namespace(*args: Any, **kwargs: Any) -> Any:
    _record("namespace", args, kwargs)
    if "exists" in kwargs or "ex" in kwargs:
        return _flag(kwargs, "exists", "ex") in _SCENE.namespaces
    if "add" in kwargs:
        name = kwargs["add"]
        if name in _SCENE.namespaces:
            raise RuntimeError(f"Namespace '{name}' is already in use")
        _SCENE.namespaces.add(name)
        return name
    raise RuntimeError(f"fake namespace: unsupported flags {kwargs}")


def objExists(name: str) -> bool:
    _record("objExists", (name,), {})
    try:
        if "." in name:
            _split(name)
        else:
            _node(name)
    except ValueError:
        return False
    return True


def _check_namespace(name: str) -> None:
    if ":" in name:
        ns = name.rsplit(":", 1)[0]
        if ns not in _SCENE.namespaces:
            raise RuntimeError(f"Namespace {ns} does not exist")


def select(*items: Any, **kwargs: Any) -> None:
    _record("select", items, kwargs)
    if _flag(kwargs, "clear", "cl"):
        _SCENE.selection = []
        return
    names: list[str] = []
    for item in items:
        names.extend([item] if isinstance(item, str) else list(item))
    for name in names:
        _node(name)
    if _flag(kwargs, "add", "add"):
        _SCENE.selection.extend(n for n in names if n not in _SCENE.selection)
    else:
        _SCENE.selection = names


def joint(*args: Any, **kwargs: Any) -> str:
    _record("joint", args, kwargs)
    if args or _flag(kwargs, "edit", "e") or _flag(kwargs, "query", "q"):
        raise RuntimeError("fake joint: only create mode is supported")
    parent = next((s for s in reversed(_SCENE.selection) if _SCENE.nodes[s].type == "joint"), None)
    name = _flag(kwargs, "name", "n", "joint1")
    _check_namespace(name)
    node = _Node(_unique(name), "joint", parent)
    position = tuple(float(v) for v in _flag(kwargs, "position", "p", (0.0, 0.0, 0.0)))
    if _flag(kwargs, "relative", "r") or parent is None:
        node.attrs["translate"] = position
    else:
        px, py, pz = _world_position(_SCENE.nodes[parent])
        node.attrs["translate"] = (position[0] - px, position[1] - py, position[2] - pz)
    orientation = _flag(kwargs, "orientation", "o")
    if orientation is not None:
        node.attrs["jointOrient"] = tuple(float(v) for v in orientation)
    if "rotationOrder" in kwargs or "roo" in kwargs:
        node.attrs["rotateOrder"] = ["xyz", "yzx", "zxy", "xzy", "yxz", "zyx"].index(_flag(kwargs, "rotationOrder", "roo"))
    _SCENE.nodes[node.name] = node
    _SCENE.selection = [node.name]
    return node.name


def createNode(node_type: str, **kwargs: Any) -> str:
    _record("createNode", (node_type,), kwargs)
    plugin = PLUGIN_TYPES.get(node_type)
    if plugin is not None and plugin not in _SCENE.plugins:
        raise RuntimeError(f"Unknown object type: {node_type}")
    if node_type not in NODE_ATTRS:
        raise RuntimeError(f"fake createNode: unknown type {node_type}")
    name = _flag(kwargs, "name", "n", f"{node_type}1")
    _check_namespace(name)
    parent = _flag(kwargs, "parent", "p")
    node = _Node(_unique(name), node_type, _node(parent).name if parent else None)
    _SCENE.nodes[node.name] = node
    if not _flag(kwargs, "skipSelect", "ss"):
        _SCENE.selection = [node.name]
    return node.name


def group(*args: Any, **kwargs: Any) -> str:
    _record("group", args, kwargs)
    if not _flag(kwargs, "empty", "em"):
        raise RuntimeError("fake group: only empty=True is supported")
    name = _flag(kwargs, "name", "n", "group1")
    _check_namespace(name)
    node = _Node(_unique(name), "transform", None)
    _SCENE.nodes[node.name] = node
    return node.name


def parent(child: str, new_parent: str, **kwargs: Any) -> list[str]:
    _record("parent", (child, new_parent), kwargs)
    node = _node(child)
    node.parent = _node(new_parent).name
    return [node.name]


def delete(*items: Any, **kwargs: Any) -> None:
    _record("delete", items, kwargs)
    names: list[str] = []
    for item in items:
        names.extend([item] if isinstance(item, str) else list(item))
    doomed: set[str] = set()
    for name in names:
        doomed.add(_node(name).name)
    changed = True
    while changed:
        changed = False
        for n in _SCENE.nodes.values():
            if n.parent in doomed and n.name not in doomed:
                doomed.add(n.name)
                changed = True
    for name in doomed:
        del _SCENE.nodes[name]
    _SCENE.connections = [
        (s, d) for s, d in _SCENE.connections if s.split(".")[0] not in doomed and d.split(".")[0] not in doomed
    ]
    _SCENE.selection = [s for s in _SCENE.selection if s not in doomed]


def ls(*args: Any, **kwargs: Any) -> list[str]:
    _record("ls", args, kwargs)
    if _flag(kwargs, "selection", "sl"):
        names = list(_SCENE.selection)
    elif args:
        names = []
        for item in args:
            for name in [item] if isinstance(item, str) else list(item):
                pattern = re.compile(re.escape(name).replace(r"\*", ".*") + "$")
                names.extend(n for n in _SCENE.nodes if pattern.match(n))
    else:
        names = list(_SCENE.nodes)
    node_type = _flag(kwargs, "type", "typ")
    if node_type:
        types = {node_type} if isinstance(node_type, str) else set(node_type)
        names = [n for n in names if _SCENE.nodes[n].type in types]
    return names


def nodeType(name: str) -> str:
    _record("nodeType", (name,), {})
    return _node(name).type


def listRelatives(name: str, **kwargs: Any) -> list[str] | None:
    _record("listRelatives", (name,), kwargs)
    node = _node(name)
    if _flag(kwargs, "parent", "p"):
        return [node.parent] if node.parent else None
    if _flag(kwargs, "allDescendents", "ad"):
        out: list[str] = []
        stack = [node.name]
        while stack:
            current = stack.pop()
            kids = [n.name for n in _SCENE.nodes.values() if n.parent == current]
            out.extend(kids)
            stack.extend(kids)
        result = out
    else:
        result = [n.name for n in _SCENE.nodes.values() if n.parent == node.name]
    node_type = _flag(kwargs, "type", "typ")
    if node_type:
        result = [n for n in result if _SCENE.nodes[n].type == node_type]
    return result or None


def setAttr(plug: str, *values: Any, **kwargs: Any) -> None:
    _record("setAttr", (plug,) + values, kwargs)
    node, attr, index = _split(plug)
    if any(d == plug for _, d in _SCENE.connections):
        raise RuntimeError(f"setAttr: The attribute '{plug}' is locked or connected and cannot be modified.")
    if attr in DOUBLE3:
        if len(values) != 3:
            raise RuntimeError(f"setAttr: {plug} needs 3 values, got {len(values)}")
        node.attrs[attr] = tuple(float(v) for v in values)
        return
    for parent, children in DOUBLE3.items():
        if attr in children:
            current = list(node.attrs[parent])
            current[children.index(attr)] = float(values[0])
            node.attrs[parent] = tuple(current)
            return
    if len(values) != 1:
        raise RuntimeError(f"setAttr: {plug} takes one value")
    value = values[0]
    if kwargs.get("type") == "string" or kwargs.get("typ") == "string":
        value = str(value)
    elif isinstance(node.attrs.get(attr), str):
        raise RuntimeError(f"setAttr: {plug} is a string attribute: pass type='string'")
    node.attrs[attr] = value
    _fire("attributeChange", f"{node.name}.{attr}")


def setKeyframe(plug: str, **kwargs: Any) -> int:
    _record("setKeyframe", (plug,), kwargs)
    node, attr, _ = _split(plug)
    when = float(_flag(kwargs, "time", "t"))
    layer = _flag(kwargs, "animLayer", "al")
    if layer and layer != "BaseAnimation":
        layer_node = _node(layer)
        if layer_node.type != "animLayer":
            raise RuntimeError(f"setKeyframe: {layer} is not an animation layer")
        children = DOUBLE3.get(attr, (attr,))
        if any((node.name, c) not in layer_node.layer_attrs for c in children):
            raise RuntimeError(f"setKeyframe: {plug} is not in animation layer {layer}")
        value = kwargs.get("value", kwargs.get("v"))
        for c in children:
            layer_node.layer_keys.setdefault((node.name, c), {})[when] = float(value)
        return 1
    node.keys.setdefault(attr, {})[when] = kwargs.get("value", kwargs.get("v"))
    return 1


def _value_at(node: _Node, attr: str, when: float | None) -> Any:
    if when is not None:
        for parent, children in DOUBLE3.items():
            if attr == parent and any(c in node.keys for c in children):
                static = node.attrs[parent]
                return tuple(node.keys.get(c, {}).get(when, static[i]) for i, c in enumerate(children))
        if attr in node.keys:
            keys = node.keys[attr]
            if when in keys:
                return keys[when]
    for parent, children in DOUBLE3.items():
        if attr in children:
            return node.attrs[parent][children.index(attr)]
    return node.attrs[attr]


def getAttr(plug: str, **kwargs: Any) -> Any:
    _record("getAttr", (plug,), kwargs)
    node, attr, _ = _split(plug)
    when = _flag(kwargs, "time", "t")
    value = _value_at(node, attr, None if when is None else float(when))
    value = _layered(node, attr, value, None if when is None else float(when))
    if attr in DOUBLE3:
        return [tuple(value)]
    return value


_ROTATE_ORDERS = ("xyz", "yzx", "zxy", "xzy", "yxz", "zyx")


def _rotation(angles: tuple[float, ...], order: str) -> Any:
    """scipy Rotation of Maya rotate values (x, y, z) applied in ``order`` (``xyz``: x first), in degrees."""
    from scipy.spatial.transform import Rotation

    values = [angles["xyz".index(a)] for a in order]
    return Rotation.from_euler(order, values, degrees=_SCENE.angle_unit != "rad")


def _euler_slots(rotation: Any, order: str) -> tuple[float, float, float]:
    values = rotation.as_euler(order, degrees=_SCENE.angle_unit != "rad")
    out = [0.0, 0.0, 0.0]
    for axis, v in zip(order, values):
        out["xyz".index(axis)] = float(v)
    return (out[0], out[1], out[2])


def _layered(node: _Node, attr: str, value: Any, when: float | None) -> Any:
    """``value`` (the base animation) with every animation layer holding ``attr`` applied, bottom up."""
    if attr in DOUBLE3["rotate"] and _SCENE.layers:
        whole = _layered(node, "rotate", _value_at(node, "rotate", when), when)
        return whole[DOUBLE3["rotate"].index(attr)]
    children = DOUBLE3.get(attr, (attr,))
    for layer_name in _SCENE.layers:
        layer = _SCENE.nodes.get(layer_name)
        if layer is None or layer.attrs["mute"] or not any((node.name, c) in layer.layer_attrs for c in children):
            continue
        weight = float(layer.attrs["weight"])
        below = list(value) if attr in DOUBLE3 else [value]
        mine = []
        for i, c in enumerate(children):
            keys = layer.layer_keys.get((node.name, c), {})
            default = below[i] if layer.attrs["override"] else 0.0
            mine.append(keys.get(when, default) if when is not None else (next(iter(keys.values())) if keys else default))
        if not layer.attrs["override"]:
            mixed = [b + weight * m for b, m in zip(below, mine)]
        elif attr == "rotate" and int(layer.attrs["rotationAccumulationMode"]) == 1:
            from scipy.spatial.transform import Rotation, Slerp

            order = _ROTATE_ORDERS[int(node.attrs.get("rotateOrder", 0))]
            pair = Rotation.concatenate([_rotation(tuple(below), order), _rotation(tuple(mine), order)])
            mixed = list(_euler_slots(Slerp([0.0, 1.0], pair)([weight])[0], order))
            if weight <= 0.0:
                mixed = below
            elif weight >= 1.0:
                mixed = mine
        else:
            mixed = [(1.0 - weight) * b + weight * m for b, m in zip(below, mine)]
        value = tuple(mixed) if attr in DOUBLE3 else mixed[0]
    return value


def animLayer(*args: Any, **kwargs: Any) -> Any:
    """Create (``animLayer("name", override=True)``), edit (``edit=True``: weight, override, mute,
    attribute) or query (``query=True``: weight, override, attribute, exists) an animation layer."""
    _record("animLayer", args, kwargs)
    name = args[0] if args else None
    if _flag(kwargs, "query", "q"):
        if _flag(kwargs, "exists", "ex"):
            return name in _SCENE.nodes and _SCENE.nodes[name].type == "animLayer"
        layer = _node(name)
        if _flag(kwargs, "attribute", "at"):
            return [f"{n}.{a}" for n, a in layer.layer_attrs] or None
        for flag in ("weight", "override", "mute"):
            if kwargs.get(flag):
                return layer.attrs[flag]
        raise RuntimeError(f"fake animLayer: unsupported query {kwargs}")
    if _flag(kwargs, "edit", "e"):
        layer = _node(name)
        if layer.type != "animLayer":
            raise RuntimeError(f"animLayer: {name} is not an animation layer")
        for flag in ("weight", "override", "mute"):
            if flag in kwargs:
                layer.attrs[flag] = float(kwargs[flag]) if flag == "weight" else bool(kwargs[flag])
        plugs = _flag(kwargs, "attribute", "at")
        if plugs:
            for plug in [plugs] if isinstance(plugs, str) else list(plugs):
                owner, attr, _ = _split(plug)
                for c in DOUBLE3.get(attr, (attr,)):
                    if (owner.name, c) not in layer.layer_attrs:
                        layer.layer_attrs.append((owner.name, c))
        return None
    if "BaseAnimation" not in _SCENE.nodes:
        _SCENE.nodes["BaseAnimation"] = _Node("BaseAnimation", "animLayer", None)
    node = _Node(_unique(name or "AnimLayer1"), "animLayer", None)
    node.layer_parent = "BaseAnimation"
    for flag in ("override", "mute"):
        if flag in kwargs:
            node.attrs[flag] = bool(kwargs[flag])
    if "weight" in kwargs:
        node.attrs["weight"] = float(kwargs["weight"])
    _SCENE.nodes[node.name] = node
    _SCENE.layers.append(node.name)
    return node.name


def _snapshot() -> dict[str, Any]:
    import copy

    return copy.deepcopy({"nodes": _SCENE.nodes, "connections": _SCENE.connections, "selection": _SCENE.selection,
                          "layers": _SCENE.layers, "current_time": _SCENE.current_time})


def undoInfo(**kwargs: Any) -> Any:
    _record("undoInfo", (), kwargs)
    if _flag(kwargs, "query", "q"):
        if _flag(kwargs, "state", "st"):
            return True
        raise RuntimeError(f"fake undoInfo: unsupported query {kwargs}")
    if _flag(kwargs, "openChunk", "ock"):
        if _SCENE.chunk_depth == 0:
            _SCENE.undo_stack.append((str(_flag(kwargs, "chunkName", "cn", "")), _snapshot()))
        _SCENE.chunk_depth += 1
        return None
    if _flag(kwargs, "closeChunk", "cck"):
        if _SCENE.chunk_depth == 0:
            raise RuntimeError("undoInfo: no undo chunk is open")
        _SCENE.chunk_depth -= 1
        return None
    raise RuntimeError(f"fake undoInfo: unsupported flags {kwargs}")


def undo(**kwargs: Any) -> None:
    """Undo the last closed chunk: the scene goes back to what it was when the chunk opened."""
    _record("undo", (), kwargs)
    if _SCENE.chunk_depth:
        raise RuntimeError("undo: an undo chunk is still open")
    if not _SCENE.undo_stack:
        raise RuntimeError("fake undo: nothing to undo (the fake only undoes undoInfo chunks)")
    _, state = _SCENE.undo_stack.pop()
    _SCENE.nodes = state["nodes"]
    _SCENE.connections = state["connections"]
    _SCENE.selection = state["selection"]
    _SCENE.layers = state["layers"]
    _SCENE.current_time = state["current_time"]


def connectAttr(source: str, destination: str, **kwargs: Any) -> None:
    _record("connectAttr", (source, destination), kwargs)
    _split(source)
    _split(destination)
    existing = [c for c in _SCENE.connections if c[1] == destination]
    if existing and not _flag(kwargs, "force", "f"):
        raise RuntimeError(f"connectAttr: '{destination}' is already connected to '{existing[0][0]}'")
    _SCENE.connections = [c for c in _SCENE.connections if c[1] != destination]
    _SCENE.connections.append((source, destination))


def currentUnit(**kwargs: Any) -> Any:
    _record("currentUnit", (), kwargs)
    if _flag(kwargs, "query", "q"):
        if _flag(kwargs, "time", "t"):
            return _SCENE.time_unit
        if _flag(kwargs, "linear", "l"):
            return _SCENE.linear_unit
        if _flag(kwargs, "angle", "a"):
            return _SCENE.angle_unit
    if "time" in kwargs:
        _SCENE.time_unit = kwargs["time"]
        return None
    raise RuntimeError(f"fake currentUnit: unsupported flags {kwargs}")


def currentTime(*args: Any, **kwargs: Any) -> float:
    _record("currentTime", args, kwargs)
    if args and not _flag(kwargs, "query", "q"):
        _SCENE.current_time = float(args[0])
        _fire("event", "timeChanged")
    return _SCENE.current_time


def scriptJob(**kwargs: Any) -> Any:
    """Event and attributeChange jobs; callbacks run synchronously, as Maya's do for these."""
    _record("scriptJob", (), kwargs)
    if "exists" in kwargs or "ex" in kwargs:
        return int(_flag(kwargs, "exists", "ex")) in _SCENE.jobs
    if "kill" in kwargs or "k" in kwargs:
        job = int(_flag(kwargs, "kill", "k"))
        if job not in _SCENE.jobs:
            raise RuntimeError(f"scriptJob: job {job} does not exist")
        del _SCENE.jobs[job]
        return None
    if "event" in kwargs or "e" in kwargs:
        name, callback = _flag(kwargs, "event", "e")
        kind, key = "event", str(name)
    elif "attributeChange" in kwargs or "ac" in kwargs:
        plug, callback = _flag(kwargs, "attributeChange", "ac")
        _split(plug)
        kind, key = "attributeChange", str(plug)
    else:
        raise RuntimeError(f"fake scriptJob: unsupported flags {kwargs}")
    _SCENE._job_id += 1
    _SCENE.jobs[_SCENE._job_id] = (kind, key, callback)
    return _SCENE._job_id


def _fire(kind: str, key: str) -> None:
    for job_kind, job_key, callback in list(_SCENE.jobs.values()):
        if job_kind == kind and job_key == key:
            callback()


def playbackOptions(**kwargs: Any) -> Any:
    _record("playbackOptions", (), kwargs)
    aliases = {"min": "minTime", "max": "maxTime", "ast": "animationStartTime", "aet": "animationEndTime"}
    if _flag(kwargs, "query", "q"):
        for key in kwargs:
            name = aliases.get(key, key)
            if name in _SCENE.playback:
                return _SCENE.playback[name]
        raise RuntimeError(f"fake playbackOptions: unsupported query {kwargs}")
    for key, value in kwargs.items():
        name = aliases.get(key, key)
        if name in _SCENE.playback:
            _SCENE.playback[name] = float(value)
    return None


def bakeResults(*items: Any, **kwargs: Any) -> int:
    _record("bakeResults", items, kwargs)
    for item in items:
        for name in [item] if isinstance(item, str) else list(item):
            _node(name)
    return 0


# --------------------------------------------------------------------------- UI commands
def _ui_create(name: str, kind: str, parent: str | None, **data: Any) -> str:
    if name in _SCENE.ui:
        raise RuntimeError(f"Object's name '{name}' is not unique.")
    _SCENE.ui[name] = {"kind": kind, "parent": parent, "pointer": _SCENE.next_pointer(), **data}
    return name


def _ui_children(name: str) -> list[str]:
    return [n for n, data in _SCENE.ui.items() if data["parent"] == name]


def shelfLayout(*args: Any, **kwargs: Any) -> Any:
    _record("shelfLayout", args, kwargs)
    name = args[0] if args else None
    if _flag(kwargs, "exists", "ex"):
        return name in _SCENE.ui and _SCENE.ui[name]["kind"] == "shelfLayout"
    if _flag(kwargs, "query", "q"):
        if name not in _SCENE.ui:
            raise RuntimeError(f"shelfLayout: Object '{name}' not found.")
        if _flag(kwargs, "childArray", "ca"):
            return _ui_children(name) or None
        raise RuntimeError(f"fake shelfLayout: unsupported query {kwargs}")
    parent = _flag(kwargs, "parent", "p")
    if parent not in _SCENE.ui:
        raise RuntimeError(f"shelfLayout: parent {parent} not found")
    return _ui_create(name or f"shelfLayout{_SCENE.next_pointer()}", "shelfLayout", parent)


def shelfButton(*args: Any, **kwargs: Any) -> Any:
    _record("shelfButton", args, kwargs)
    name = args[0] if args else None
    if _flag(kwargs, "exists", "ex"):
        return name in _SCENE.ui and _SCENE.ui[name]["kind"] == "shelfButton"
    if _flag(kwargs, "query", "q"):
        data = _SCENE.ui[name]
        for flag in ("docTag", "label", "command", "image", "annotation", "sourceType"):
            if kwargs.get(flag):
                return data.get(flag)
        raise RuntimeError(f"fake shelfButton: unsupported query {kwargs}")
    parent = _flag(kwargs, "parent", "p")
    if parent not in _SCENE.ui or _SCENE.ui[parent]["kind"] != "shelfLayout":
        raise RuntimeError(f"shelfButton: parent shelf {parent} not found")
    data = {k: kwargs[k] for k in ("docTag", "label", "command", "image", "annotation", "sourceType", "imageOverlayLabel") if k in kwargs}
    return _ui_create(name or f"{parent}|shelfButton{_SCENE.next_pointer()}", "shelfButton", parent, **data)


def deleteUI(*names: Any, **kwargs: Any) -> None:
    _record("deleteUI", names, kwargs)
    for name in names:
        if name not in _SCENE.ui:
            raise RuntimeError(f"deleteUI: Object '{name}' not found.")
        doomed = [name]
        while doomed:
            current = doomed.pop()
            doomed.extend(_ui_children(current))
            _SCENE.ui.pop(current, None)


def workspaceControl(name: str, **kwargs: Any) -> Any:
    _record("workspaceControl", (name,), kwargs)
    if _flag(kwargs, "exists", "ex"):
        return name in _SCENE.ui and _SCENE.ui[name]["kind"] == "workspaceControl"
    if _flag(kwargs, "query", "q"):
        data = _SCENE.ui[name]
        for flag in ("visible", "floating", "label", "uiScript", "collapse"):
            if _flag(kwargs, flag, flag):
                return data.get(flag)
        raise RuntimeError(f"fake workspaceControl: unsupported query {kwargs}")
    if _flag(kwargs, "edit", "e"):
        data = _SCENE.ui[name]
        if _flag(kwargs, "restore", "rs"):
            data["visible"] = True
            data["collapse"] = False
        for flag in ("visible", "label", "floating"):
            if flag in kwargs:
                data[flag] = kwargs[flag]
        return None
    data = {k: v for k, v in kwargs.items() if k not in ("parent",)}
    data.setdefault("visible", True)
    _ui_create(name, "workspaceControl", None, **data)
    script = kwargs.get("uiScript")
    if script:
        exec(compile(script, "<uiScript>", "exec"), {})
    return name


def warning(message: str, **kwargs: Any) -> None:
    _record("warning", (message,), kwargs)
    _SCENE.warnings.append(str(message))


def calls_of(name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """Every recorded call of one command, (args, kwargs)."""
    return [(args, kwargs) for n, args, kwargs in _SCENE.calls if n == name]

