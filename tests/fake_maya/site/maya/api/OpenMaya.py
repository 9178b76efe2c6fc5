"""Fake ``maya.api.OpenMaya``: the part of Maya's Python API 2.0 a DG node plug-in touches.

Semantics follow Maya where a plug-in could get them wrong:

* ``MMatrix`` is row-major, built from 16 values or four rows, ``len() == 16``,
  multiplies row vectors (``p' = p * M``) and ``A * B`` applies A first. It
  holds 16 doubles (packed): every value is converted on construction and
  anything not a number is refused, and data blocks keep a copy of what
  ``setMMatrix`` gets, as Maya's do.
* Attribute function sets start with Maya's default flags (readable, writable,
  storable, connectable, cached; not keyable, not array, no array builder, not
  a filename) and refuse to work on a null attribute.
* ``MPxNode.addAttribute`` and ``attributeAffects`` only work while a node type
  is being registered (``MFnPlugin.registerNode`` runs the initializer), and
  ``attributeAffects`` needs both attributes added first, as in Maya.
* ``MArrayDataHandle.builder()`` and ``MArrayDataBuilder`` refuse attributes
  that are not ``array`` + ``usesArrayDataBuilder``; ``set(builder)``
  replaces the whole array, so stale elements disappear.
* ``MDataHandle`` getters and setters check the attribute type (``asString``
  on a float raises, ``setMMatrix`` needs a matrix attribute).
* ``MTime`` converts between units through seconds; the UI unit defaults to
  film (24 fps).
* ``MGlobal.displayError`` / ``displayWarning`` / ``displayInfo`` record into
  :data:`reports`.
* ``MObject`` is unhashable and compares by identity of what it refers to.
* Dirty propagation follows Maya's two modes. In DG mode every input plug
  being dirtied goes through ``MPxNode.setDependentsDirty``; under the
  Evaluation Manager (``FakeNode.evaluation_manager = True``) dirty
  propagation is off, ``setDependentsDirty`` is never called and the node
  learns what changed only in ``preEvaluation`` through
  ``MEvaluationNode.dirtyPlugExists``; ``FakeNode.normal_context = False``
  makes those evaluations happen in another context, as cached playback's
  background evaluations do. A node that caches on
  ``setDependentsDirty`` alone goes stale in the second mode, as in Maya.

The harness the tests drive (node instances, connections, dirty propagation)
is :class:`FakeNode` at the end of this module.

The node benchmark times ``compute`` through this module, so its hot calls
(data handles, array builders, ``MMatrix``) are written to be cheap in pure
Python, without skipping any of the work or checks above: what remains is the
cost of one Python call per API call, which the benchmark reports as the
fake's floor.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Iterable

reports: list[tuple[str, str]] = []
"""(kind, message) for every MGlobal.display* call."""

node_types: dict[str, "_NodeType"] = {}
"""Registered node types by name."""

_registering: list["_NodeType"] = []


def reset() -> None:
    """Forget reports and registered node types (between tests)."""
    reports.clear()
    node_types.clear()
    _registering.clear()


# --------------------------------------------------------------------------- objects
class _Attribute:
    """What an attribute MObject refers to."""

    def __init__(self, kind: str, long_name: str, short_name: str, data_type: int, default: Any) -> None:
        self.kind = kind
        self.name = long_name
        self.short_name = short_name
        self.data_type = data_type
        self.default = default
        self.flags = {
            "readable": True,
            "writable": True,
            "storable": True,
            "connectable": True,
            "cached": True,
            "keyable": False,
            "hidden": False,
            "array": False,
            "usesArrayDataBuilder": False,
            "usedAsFilename": False,
            "channelBox": False,
        }
        self.fields: dict[str, int] = {}
        self.minimum: Any = None
        self.maximum: Any = None
        self.soft_minimum: Any = None
        self.soft_maximum: Any = None

    def __repr__(self) -> str:
        return f"<attribute {self.name} ({self.kind})>"


class _StringData:
    def __init__(self, value: str) -> None:
        self.value = value


class MObject:
    """A handle on an attribute, a node, data or a plug-in; unhashable like Maya's."""

    kNullObj: "MObject"
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, src: "MObject | None" = None, *, _ref: Any = None) -> None:
        self._ref = src._ref if isinstance(src, MObject) else _ref

    def isNull(self) -> bool:
        return self._ref is None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MObject) and self._ref is other._ref

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __repr__(self) -> str:
        return f"MObject({self._ref!r})"


MObject.kNullObj = MObject()


class MTypeId:
    def __init__(self, value: int | "MTypeId" = 0) -> None:
        self._value = value.id() if isinstance(value, MTypeId) else int(value)

    def id(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MTypeId) and other._value == self._value

    __hash__ = None  # type: ignore[assignment]


# --------------------------------------------------------------------------- values
_DOUBLES16 = struct.Struct("16d")
_pack16 = _DOUBLES16.pack
_IDENTITY16 = _pack16(*(1.0 if r == c else 0.0 for r in range(4) for c in range(4)))


class MMatrix:
    """4x4 double matrix, row-major, row-vector convention.

    Like Maya's, it holds 16 C doubles (packed in ``bytes``): construction
    converts every value to a double and refuses anything that is not a
    number, and copies (``MMatrix(m)``, ``setMMatrix``) never see later
    changes to the original. Being immutable, the packed values are shared
    by copies and replaced on writes.
    """

    __slots__ = ("_m",)
    kTolerance = 1e-10
    kIdentity: "MMatrix"

    def __init__(self, values: Any = None) -> None:
        if values is None:
            self._m: bytes = _IDENTITY16
        elif isinstance(values, MMatrix):
            self._m = values._m
        else:
            try:
                self._m = _pack16(*values)  # 16 numbers, each converted to a double, or struct.error
            except (struct.error, TypeError):
                self._m = _pack16(*_four_rows(values))

    @classmethod
    def _from_packed(cls, packed: bytes) -> "MMatrix":
        """A matrix over 16 doubles as a data block stores them."""
        matrix = object.__new__(cls)
        matrix._m = packed
        return matrix

    def _values(self) -> tuple[float, ...]:
        return _DOUBLES16.unpack(self._m)

    def __len__(self) -> int:
        return 16

    def __getitem__(self, index: int) -> float:
        if not -16 <= index < 16:
            raise IndexError("MMatrix index out of range")
        return self._values()[index]

    def __setitem__(self, index: int, value: float) -> None:
        if not -16 <= index < 16:
            raise IndexError("MMatrix index out of range")
        values = list(self._values())
        values[index] = value
        self._m = _pack16(*values)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._values())

    def getElement(self, row: int, col: int) -> float:
        return self._values()[4 * row + col]

    def setElement(self, row: int, col: int, value: float) -> "MMatrix":
        self[4 * row + col] = value
        return self

    def __mul__(self, other: "MMatrix") -> "MMatrix":
        a, b = self._values(), other._values()
        return MMatrix([sum(a[4 * r + k] * b[4 * k + c] for k in range(4)) for r in range(4) for c in range(4)])

    def transpose(self) -> "MMatrix":
        m = self._values()
        return MMatrix([m[4 * c + r] for r in range(4) for c in range(4)])

    def isEquivalent(self, other: "MMatrix", tolerance: float = kTolerance) -> bool:
        return all(abs(x - y) <= tolerance for x, y in zip(self._values(), other._values()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MMatrix) and self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        m = self._values()
        rows = ", ".join("(" + ", ".join(f"{v:g}" for v in m[4 * r : 4 * r + 4]) + ")" for r in range(4))
        return f"maya.api.OpenMaya.MMatrix(({rows}))"


MMatrix.kIdentity = MMatrix()


def _four_rows(values: Any) -> list[float]:
    """The 16 numbers of four rows of four, or the TypeError Maya raises."""
    items = list(values)
    if len(items) != 4 or not all(hasattr(row, "__len__") and len(row) == 4 for row in items):
        raise TypeError("MMatrix() expects a sequence of 16 floats or four sequences of four floats")
    return [v for row in items for v in row]


class MTime:
    """A time value in a unit; converts through seconds."""

    kInvalid = 0
    kHours = 1
    kMinutes = 2
    kSeconds = 3
    kMilliseconds = 4
    kGames = 5
    k15FPS = 5
    kFilm = 6
    k24FPS = 6
    kPALFrame = 7
    k25FPS = 7
    kNTSCFrame = 8
    k30FPS = 8
    kShowScan = 9
    k48FPS = 9
    kPALField = 10
    k50FPS = 10
    kNTSCField = 11
    k60FPS = 11
    k2FPS = 12
    k3FPS = 13
    k4FPS = 14
    k5FPS = 15
    k6FPS = 16
    k8FPS = 17
    k10FPS = 18
    k12FPS = 19
    k16FPS = 20
    k20FPS = 21
    k40FPS = 22
    k75FPS = 23
    k80FPS = 24
    k100FPS = 25
    k120FPS = 26
    k125FPS = 27
    k150FPS = 28
    k200FPS = 29
    k240FPS = 30
    k250FPS = 31
    k300FPS = 32
    k375FPS = 33
    k400FPS = 34
    k500FPS = 35
    k600FPS = 36
    k750FPS = 37
    k1200FPS = 38
    k1500FPS = 39
    k2000FPS = 40
    k3000FPS = 41
    k6000FPS = 42
    k23_976FPS = 43
    k29_97FPS = 44
    k29_97DF = 45
    k47_952FPS = 46
    k59_94FPS = 47
    k44100FPS = 48
    k48000FPS = 49
    k90FPS = 50
    k119_88FPS = 51

    _ui_unit = 6

    def __init__(self, value: "float | MTime" = 0.0, unit: int | None = None) -> None:
        if isinstance(value, MTime):
            self._seconds, self._unit = value._seconds, value._unit
            return
        self._unit = MTime._ui_unit if unit is None else int(unit)
        self._seconds = float(value) * _seconds_per_unit(self._unit)

    @property
    def unit(self) -> int:
        return self._unit

    @unit.setter
    def unit(self, unit: int) -> None:
        self._unit = int(unit)

    @property
    def value(self) -> float:
        return self._seconds / _seconds_per_unit(self._unit)

    @value.setter
    def value(self, value: float) -> None:
        self._seconds = float(value) * _seconds_per_unit(self._unit)

    def asUnits(self, unit: int) -> float:
        return self._seconds / _seconds_per_unit(unit)

    @staticmethod
    def uiUnit() -> int:
        return MTime._ui_unit

    @staticmethod
    def setUIUnit(unit: int) -> None:
        _seconds_per_unit(unit)
        MTime._ui_unit = int(unit)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MTime) and abs(self._seconds - other._seconds) < 1e-12

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"maya.api.OpenMaya.MTime({self.value:g}, {self._unit})"


_FPS = {
    5: 15.0, 6: 24.0, 7: 25.0, 8: 30.0, 9: 48.0, 10: 50.0, 11: 60.0, 12: 2.0, 13: 3.0, 14: 4.0, 15: 5.0,
    16: 6.0, 17: 8.0, 18: 10.0, 19: 12.0, 20: 16.0, 21: 20.0, 22: 40.0, 23: 75.0, 24: 80.0, 25: 100.0,
    26: 120.0, 27: 125.0, 28: 150.0, 29: 200.0, 30: 240.0, 31: 250.0, 32: 300.0, 33: 375.0, 34: 400.0,
    35: 500.0, 36: 600.0, 37: 750.0, 38: 1200.0, 39: 1500.0, 40: 2000.0, 41: 3000.0, 42: 6000.0,
    43: 24000 / 1001, 44: 30000 / 1001, 45: 30000 / 1001, 46: 48000 / 1001, 47: 60000 / 1001,
    48: 44100.0, 49: 48000.0, 50: 90.0, 51: 120000 / 1001,
}


def _seconds_per_unit(unit: int) -> float:
    if unit == MTime.kHours:
        return 3600.0
    if unit == MTime.kMinutes:
        return 60.0
    if unit == MTime.kSeconds:
        return 1.0
    if unit == MTime.kMilliseconds:
        return 0.001
    if unit in _FPS:
        return 1.0 / _FPS[unit]
    raise ValueError(f"(kInvalidParameter): invalid MTime unit {unit}")


class MGlobal:
    @staticmethod
    def displayError(message: str) -> None:
        reports.append(("error", str(message)))

    @staticmethod
    def displayWarning(message: str) -> None:
        reports.append(("warning", str(message)))

    @staticmethod
    def displayInfo(message: str) -> None:
        reports.append(("info", str(message)))


# --------------------------------------------------------------------------- data
class MFnBase:
    def __init__(self, obj: MObject | None = None) -> None:
        self._obj = MObject(obj) if obj is not None else MObject()

    def object(self) -> MObject:
        return MObject(self._obj)

    def hasObj(self, obj: MObject) -> bool:
        return not obj.isNull()


class MFnData(MFnBase):
    kInvalid = 0
    kNumeric = 1
    kPlugin = 2
    kPluginGeometry = 3
    kString = 4
    kMatrix = 5
    kStringArray = 6
    kDoubleArray = 7
    kFloatArray = 8
    kIntArray = 9
    kPointArray = 10
    kVectorArray = 11
    kMatrixArray = 12
    kAny = 24


class MFnStringData(MFnData):
    def create(self, value: str = "") -> MObject:
        self._obj = MObject(_ref=_StringData(str(value)))
        return MObject(self._obj)

    def string(self) -> str:
        ref = self._obj._ref
        if not isinstance(ref, _StringData):
            raise RuntimeError("(kInvalidParameter): Object is incompatible with this method")
        return ref.value

    def set(self, value: str) -> "MFnStringData":
        ref = self._obj._ref
        if not isinstance(ref, _StringData):
            raise RuntimeError("(kInvalidParameter): Object is incompatible with this method")
        ref.value = str(value)
        return self


class MFnNumericData(MFnData):
    kInvalid = 0
    kBoolean = 1
    kByte = 2
    kChar = 3
    kShort = 4
    k2Short = 5
    k3Short = 6
    kInt = 7
    kLong = 7
    k2Int = 8
    k2Long = 8
    k3Int = 9
    k3Long = 9
    kInt64 = 10
    kFloat = 11
    k2Float = 12
    k3Float = 13
    kDouble = 14
    k2Double = 15
    k3Double = 16
    k4Double = 17
    kAddr = 18


_SCALAR_NUMERIC = {
    MFnNumericData.kBoolean, MFnNumericData.kByte, MFnNumericData.kChar, MFnNumericData.kShort,
    MFnNumericData.kInt, MFnNumericData.kInt64, MFnNumericData.kFloat, MFnNumericData.kDouble,
}
_INTEGER_NUMERIC = {MFnNumericData.kByte, MFnNumericData.kChar, MFnNumericData.kShort, MFnNumericData.kInt, MFnNumericData.kInt64}


# --------------------------------------------------------------------------- attributes
def _flag(name: str) -> property:
    def getter(self: "MFnAttribute") -> Any:
        return self._attr().flags[name]

    def setter(self: "MFnAttribute", value: Any) -> None:
        self._attr().flags[name] = bool(value)

    return property(getter, setter)


class MFnAttribute(MFnBase):
    kNothing = 0

    readable = _flag("readable")
    writable = _flag("writable")
    storable = _flag("storable")
    connectable = _flag("connectable")
    cached = _flag("cached")
    keyable = _flag("keyable")
    hidden = _flag("hidden")
    array = _flag("array")
    usesArrayDataBuilder = _flag("usesArrayDataBuilder")
    usedAsFilename = _flag("usedAsFilename")
    channelBox = _flag("channelBox")

    def _attr(self) -> _Attribute:
        ref = self._obj._ref
        if not isinstance(ref, _Attribute):
            raise RuntimeError("(kInvalidParameter): Object is incompatible with this method")
        return ref

    @property
    def name(self) -> str:
        return self._attr().name

    @property
    def shortName(self) -> str:
        return self._attr().short_name

    def _created(self, attr: _Attribute) -> MObject:
        if not attr.name or not attr.short_name:
            raise RuntimeError("(kInvalidParameter): attribute names must not be empty")
        self._obj = MObject(_ref=attr)
        return MObject(self._obj)


class MFnNumericAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str, type: int, defaultValue: float = 0) -> MObject:  # noqa: A002
        if type not in _SCALAR_NUMERIC:
            raise RuntimeError(f"(kInvalidParameter): fake MFnNumericAttribute supports scalar types only, not {type}")
        return self._created(_Attribute("numeric", longName, shortName, type, defaultValue))

    def numericType(self) -> int:
        return self._attr().data_type

    @property
    def default(self) -> Any:
        return self._attr().default

    @default.setter
    def default(self, value: Any) -> None:
        self._attr().default = value

    def setMin(self, value: float) -> "MFnNumericAttribute":
        self._attr().minimum = value
        return self

    def setMax(self, value: float) -> "MFnNumericAttribute":
        self._attr().maximum = value
        return self

    def setSoftMin(self, value: float) -> "MFnNumericAttribute":
        self._attr().soft_minimum = value
        return self

    def setSoftMax(self, value: float) -> "MFnNumericAttribute":
        self._attr().soft_maximum = value
        return self

    def hasMin(self) -> bool:
        return self._attr().minimum is not None

    def getMin(self) -> float:
        return self._attr().minimum

    def hasSoftMax(self) -> bool:
        return self._attr().soft_maximum is not None

    def getSoftMax(self) -> float:
        return self._attr().soft_maximum


class MFnTypedAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str, type: int, defaultValue: MObject = MObject.kNullObj) -> MObject:  # noqa: A002
        default = defaultValue._ref.value if isinstance(defaultValue._ref, _StringData) else None
        if type == MFnData.kString and default is None:
            default = ""
        return self._created(_Attribute("typed", longName, shortName, type, default))

    def attrType(self) -> int:
        return self._attr().data_type


class MFnMatrixAttribute(MFnAttribute):
    kFloat = 0
    kDouble = 1

    def create(self, longName: str, shortName: str, type: int = kDouble) -> MObject:  # noqa: A002
        return self._created(_Attribute("matrix", longName, shortName, type, None))


class MFnEnumAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str, defaultValue: int = 0) -> MObject:
        return self._created(_Attribute("enum", longName, shortName, 0, int(defaultValue)))

    def addField(self, name: str, value: int) -> "MFnEnumAttribute":
        attr = self._attr()
        if name in attr.fields or int(value) in attr.fields.values():
            raise RuntimeError(f"(kInvalidParameter): enum field {name}={value} already exists")
        attr.fields[str(name)] = int(value)
        return self

    def fieldName(self, value: int) -> str:
        for name, v in self._attr().fields.items():
            if v == value:
                return name
        raise RuntimeError(f"(kInvalidParameter): no enum field with value {value}")

    def fieldValue(self, name: str) -> int:
        return self._attr().fields[name]

    @property
    def default(self) -> int:
        return int(self._attr().default)

    @default.setter
    def default(self, value: int) -> None:
        self._attr().default = int(value)


class MFnUnitAttribute(MFnAttribute):
    kInvalid = 0
    kAngle = 1
    kDistance = 2
    kTime = 3

    def create(self, longName: str, shortName: str, unitType: int, defaultValue: Any = 0.0) -> MObject:
        if unitType != self.kTime:
            raise RuntimeError("(kInvalidParameter): the fake MFnUnitAttribute supports kTime only")
        default = MTime(defaultValue) if isinstance(defaultValue, MTime) else MTime(float(defaultValue), MTime.uiUnit())
        return self._created(_Attribute("time", longName, shortName, unitType, default))

    def unitType(self) -> int:
        return self._attr().data_type


# --------------------------------------------------------------------------- nodes, plug-ins
class _NodeType:
    def __init__(self, name: str, type_id: MTypeId, creator: Callable[[], Any], kind: int) -> None:
        self.name = name
        self.type_id = type_id
        self.creator = creator
        self.kind = kind
        self.attributes: list[_Attribute] = []
        self.affects: list[tuple[str, str]] = []
        self._by_name: dict[str, _Attribute] = {}
        self._ids: set[int] = set()
        self._affected: dict[str, list[str]] = {}

    def add(self, attr: _Attribute) -> None:
        self.attributes.append(attr)
        self._by_name[attr.name] = self._by_name[attr.short_name] = attr
        self._ids.add(id(attr))

    def has(self, attr: _Attribute) -> bool:
        return id(attr) in self._ids

    def add_affects(self, src: str, dst: str) -> None:
        self.affects.append((src, dst))
        self._affected.setdefault(src, []).append(dst)

    def attribute(self, name: str) -> _Attribute:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"node type {self.name} has no attribute {name!r}") from None

    def affected_by(self, name: str) -> list[str]:
        return self._affected.get(name, [])


def _current_type(what: str) -> _NodeType:
    if not _registering:
        raise RuntimeError(f"(kFailure): {what} called outside a node initializer")
    return _registering[-1]


def _attribute_of(obj: MObject, what: str) -> _Attribute:
    if not isinstance(obj, MObject) or not isinstance(obj._ref, _Attribute):
        raise TypeError(f"{what}: argument must be an attribute MObject")
    return obj._ref


class MPxNode:
    kDependNode = 0
    kLocatorNode = 1
    kDeformerNode = 2
    kTransformNode = 11

    def __init__(self) -> None:
        self._fake_this: MObject | None = None

    def thisMObject(self) -> MObject:
        if self._fake_this is None:
            raise RuntimeError("(kFailure): thisMObject() is not valid inside the node's constructor")
        return MObject(self._fake_this)

    def name(self) -> str:
        return self._fake_this._ref.name if self._fake_this is not None else ""

    def compute(self, plug: "MPlug", dataBlock: "MDataBlock") -> Any:
        return None

    def setDependentsDirty(self, plug: "MPlug", plugArray: "MPlugArray") -> Any:
        return self

    def preEvaluation(self, context: "MDGContext", evaluationNode: "MEvaluationNode") -> None:
        return None

    def postEvaluation(self, context: "MDGContext", evaluationNode: "MEvaluationNode", evalType: int) -> None:
        return None

    @staticmethod
    def addAttribute(attribute: MObject) -> None:
        node_type = _current_type("addAttribute")
        attr = _attribute_of(attribute, "addAttribute")
        for existing in node_type.attributes:
            if attr.name in (existing.name, existing.short_name) or attr.short_name in (existing.name, existing.short_name):
                raise RuntimeError(f"(kInvalidParameter): attribute {attr.name} already exists on {node_type.name}")
        node_type.add(attr)

    @staticmethod
    def attributeAffects(whenChanges: MObject, isAffected: MObject) -> None:
        node_type = _current_type("attributeAffects")
        src = _attribute_of(whenChanges, "attributeAffects")
        dst = _attribute_of(isAffected, "attributeAffects")
        for attr in (src, dst):
            if not node_type.has(attr):
                raise RuntimeError(f"(kInvalidParameter): attributeAffects: {attr.name} was not added to {node_type.name}")
        node_type.add_affects(src.name, dst.name)


class _Plugin:
    def __init__(self, path: str = "") -> None:
        self.path = path
        self.vendor = ""
        self.version = ""
        self.nodes: list[str] = []


class MFnPlugin(MFnBase):
    def __init__(self, obj: MObject | None = None, vendor: str = "Unknown", version: str = "Unknown", apiVersion: str = "Any") -> None:
        super().__init__(obj)
        ref = self._obj._ref
        if not isinstance(ref, _Plugin):
            raise RuntimeError("(kInvalidParameter): MFnPlugin needs the plug-in MObject given to initializePlugin")
        if vendor != "Unknown":
            ref.vendor = vendor
        if version != "Unknown":
            ref.version = version

    @property
    def version(self) -> str:
        return self._obj._ref.version

    def vendor(self) -> str:
        return self._obj._ref.vendor

    def registerNode(
        self,
        typeName: str,
        typeId: MTypeId,
        creator: Callable[[], Any],
        initialize: Callable[[], Any],
        type: int = MPxNode.kDependNode,  # noqa: A002
        classification: str | None = None,
    ) -> None:
        if typeName in node_types:
            raise RuntimeError(f"(kFailure): node type {typeName} is already registered")
        if any(t.type_id == typeId for t in node_types.values()):
            raise RuntimeError(f"(kFailure): node id 0x{typeId.id():08X} is already used")
        node_type = _NodeType(typeName, typeId, creator, type)
        _registering.append(node_type)
        try:
            initialize()
        finally:
            _registering.pop()
        node_types[typeName] = node_type
        self._obj._ref.nodes.append(typeName)

    def deregisterNode(self, typeId: MTypeId) -> None:
        for name, node_type in list(node_types.items()):
            if node_type.type_id == typeId:
                del node_types[name]
                self._obj._ref.nodes.remove(name)
                return
        raise RuntimeError(f"(kFailure): no node type with id 0x{typeId.id():08X}")


# --------------------------------------------------------------------------- evaluation
class MDGContext:
    """An evaluation context: the normal one (the scene's current time) or another (cached playback's)."""

    def __init__(self, normal: bool = True) -> None:
        self._normal = normal

    def isNormal(self) -> bool:
        return self._normal


class MEvaluationNode:
    """What the Evaluation Manager hands ``preEvaluation``: which attributes have dirty plugs."""

    def __init__(self, node: "FakeNode", dirty: Iterable[str]) -> None:
        self._node = node
        self._dirty = frozenset(dirty)

    def dirtyPlugExists(self, attribute: MObject) -> bool:
        return _attribute_of(attribute, "dirtyPlugExists").name in self._dirty

    def dependencyNode(self) -> MObject:
        return MObject(self._node.mobject)


# --------------------------------------------------------------------------- plugs and data
class MPlug:
    """A node + attribute (+ logical index) as Maya's MPlug."""

    def __init__(self, node: MObject | None = None, attribute: MObject | None = None) -> None:
        self._node: FakeNode | None = node._ref if node is not None else None
        self._attr: _Attribute | None = attribute._ref if attribute is not None else None
        self._index: int | None = None
        if self._node is not None and self._attr is not None and not self._node.type.has(self._attr):
            raise RuntimeError(f"(kInvalidParameter): {self._node.name} has no attribute {self._attr.name}")

    def isNull(self) -> bool:
        return self._node is None or self._attr is None

    def attribute(self) -> MObject:
        return MObject(_ref=self._attr)

    def node(self) -> MObject:
        return MObject(_ref=self._node)

    @property
    def isArray(self) -> bool:
        return bool(self._attr and self._attr.flags["array"] and self._index is None)

    @property
    def isElement(self) -> bool:
        return self._index is not None

    def logicalIndex(self) -> int:
        if self._index is None:
            raise RuntimeError("(kFailure): plug is not an array element")
        return self._index

    def elementByLogicalIndex(self, index: int) -> "MPlug":
        if not self.isArray:
            raise RuntimeError("(kFailure): plug is not an array")
        plug = MPlug()
        plug._node, plug._attr, plug._index = self._node, self._attr, int(index)
        return plug

    def array(self) -> "MPlug":
        if self._index is None:
            raise RuntimeError("(kFailure): plug is not an array element")
        plug = MPlug()
        plug._node, plug._attr = self._node, self._attr
        return plug

    @property
    def isConnected(self) -> bool:
        assert self._node is not None and self._attr is not None
        return self._node.is_connected(self._attr.name)

    def name(self) -> str:
        assert self._node is not None and self._attr is not None
        suffix = f"[{self._index}]" if self._index is not None else ""
        return f"{self._node.name}.{self._attr.name}{suffix}"

    def partialName(self) -> str:
        assert self._attr is not None
        return self._attr.short_name + (f"[{self._index}]" if self._index is not None else "")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MObject):
            return self._attr is other._ref
        return (
            isinstance(other, MPlug)
            and self._node is other._node
            and self._attr is other._attr
            and self._index == other._index
        )

    __hash__ = None  # type: ignore[assignment]

    def _value(self) -> Any:
        assert self._node is not None and self._attr is not None
        return self._node.get(self._attr.name, self._index)

    def asFloat(self) -> float:
        return float(self._value())

    def asDouble(self) -> float:
        return float(self._value())

    def asInt(self) -> int:
        return int(self._value())

    def asShort(self) -> int:
        return int(self._value())

    def asBool(self) -> bool:
        return bool(self._value())

    def asString(self) -> str:
        return str(self._value())


_NUMBER_KINDS = ("numeric", "enum")


def _check_kind(attr: _Attribute, allowed: Iterable[str], method: str) -> None:
    if attr.kind not in allowed:
        raise RuntimeError(f"(kInvalidParameter): {method}() does not apply to {attr.kind} attribute {attr.name}")


class MPlugArray(list):  # type: ignore[type-arg]
    """Plugs a node adds in ``setDependentsDirty``: a list with Maya's ``append``."""


class MDataHandle:
    """A value in a node's data block (or in an array builder)."""

    __slots__ = ("_store", "_key", "_attr", "_writable", "_owner")

    def __init__(self, store: dict[Any, Any], key: Any, attr: _Attribute, writable: bool, owner: "FakeNode | None" = None) -> None:
        self._store = store
        self._key = key
        self._attr = attr
        self._writable = writable
        self._owner = owner  # whose dirty flag setClean() clears (output handles of a data block)

    def _get(self) -> Any:
        return self._store.get(self._key, self._attr.default)

    def _set(self, value: Any) -> None:
        if not self._writable:
            raise RuntimeError(f"(kFailure): input handle of {self._attr.name} is read-only")
        self._store[self._key] = value

    # getters
    def asFloat(self) -> float:
        attr = self._attr
        if attr.kind not in _NUMBER_KINDS:
            _check_kind(attr, _NUMBER_KINDS, "asFloat")
        return float(self._store.get(self._key, attr.default))

    def asDouble(self) -> float:
        _check_kind(self._attr, ("numeric", "enum"), "asDouble")
        return float(self._get())

    def asBool(self) -> bool:
        attr = self._attr
        if attr.kind not in _NUMBER_KINDS:
            _check_kind(attr, _NUMBER_KINDS, "asBool")
        return bool(self._store.get(self._key, attr.default))

    def asShort(self) -> int:
        attr = self._attr
        if attr.kind not in _NUMBER_KINDS:
            _check_kind(attr, _NUMBER_KINDS, "asShort")
        return int(self._store.get(self._key, attr.default))

    def asInt(self) -> int:
        _check_kind(self._attr, ("numeric", "enum"), "asInt")
        return int(self._get())

    def asString(self) -> str:
        attr = self._attr
        _check_kind(attr, ("typed",), "asString")
        if attr.data_type != MFnData.kString:
            raise RuntimeError(f"(kInvalidParameter): {attr.name} is not a string attribute")
        return str(self._store.get(self._key, attr.default) or "")

    def asTime(self) -> MTime:
        _check_kind(self._attr, ("time",), "asTime")
        return MTime(self._get())

    def asMatrix(self) -> MMatrix:
        _check_kind(self._attr, ("matrix",), "asMatrix")
        value = self._get()
        return _public(value) if value is not None else MMatrix()

    # setters
    def setFloat(self, value: float) -> None:
        _check_kind(self._attr, ("numeric",), "setFloat")
        self._set(float(value))

    def setDouble(self, value: float) -> None:
        _check_kind(self._attr, ("numeric",), "setDouble")
        self._set(float(value))

    def setInt(self, value: int) -> None:
        _check_kind(self._attr, ("numeric", "enum"), "setInt")
        self._set(int(value))

    def setShort(self, value: int) -> None:
        _check_kind(self._attr, ("numeric", "enum"), "setShort")
        self._set(int(value))

    def setBool(self, value: bool) -> None:
        _check_kind(self._attr, ("numeric",), "setBool")
        self._set(bool(value))

    def setString(self, value: str) -> None:
        _check_kind(self._attr, ("typed",), "setString")
        self._set(str(value))

    def setMTime(self, value: MTime) -> None:
        _check_kind(self._attr, ("time",), "setMTime")
        self._set(MTime(value))

    def setMMatrix(self, value: MMatrix) -> None:
        if self._attr.kind != "matrix":
            _check_kind(self._attr, ("matrix",), "setMMatrix")
        if not isinstance(value, MMatrix):
            raise TypeError("setMMatrix() expects an MMatrix")
        if not self._writable:
            raise RuntimeError(f"(kFailure): input handle of {self._attr.name} is read-only")
        self._store[self._key] = value._m  # the 16 doubles, immutable: later changes to ``value`` do not reach the block

    def setClean(self) -> None:
        if self._owner is not None:
            self._owner.clean(self._attr.name)


def _require_builder(attr: _Attribute) -> None:
    if not attr.flags["array"]:
        raise RuntimeError(f"(kInvalidParameter): {attr.name} is not an array attribute")
    if not attr.flags["usesArrayDataBuilder"]:
        raise RuntimeError(f"(kFailure): {attr.name} must be created with usesArrayDataBuilder to use a builder")


class MArrayDataBuilder:
    def __init__(self, *args: Any) -> None:
        if len(args) == 1 and isinstance(args[0], MArrayDataBuilder):
            src = args[0]
            self._attr, self._elements = src._attr, dict(src._elements)
            return
        if len(args) != 3 or not isinstance(args[0], MDataBlock):
            raise TypeError("MArrayDataBuilder(dataBlock, attribute, numElements) or MArrayDataBuilder(other)")
        block, attribute, count = args
        self._attr = _attribute_of(attribute, "MArrayDataBuilder")
        _require_builder(self._attr)
        if int(count) < 0:
            raise ValueError("numElements must be >= 0")
        self._elements: dict[int, Any] = {}

    def __len__(self) -> int:
        return len(self._elements)

    def addElement(self, index: int) -> MDataHandle:
        if type(index) is not int:
            index = int(index)
        if index < 0:
            raise RuntimeError("(kInvalidParameter): negative logical index")
        elements = self._elements
        elements.setdefault(index, None)
        return MDataHandle(elements, index, self._attr, True)

    def addLast(self) -> MDataHandle:
        return self.addElement(max(self._elements, default=-1) + 1)

    def removeElement(self, index: int) -> "MArrayDataBuilder":
        if int(index) not in self._elements:
            raise RuntimeError(f"(kInvalidParameter): no element {index}")
        del self._elements[int(index)]
        return self

    def growArray(self, amount: int) -> "MArrayDataBuilder":
        return self


class MArrayDataHandle:
    def __init__(self, node: "FakeNode", attr: _Attribute, writable: bool) -> None:
        if not attr.flags["array"]:
            raise RuntimeError(f"(kInvalidParameter): {attr.name} is not an array attribute")
        self._node = node
        self._attr = attr
        self._writable = writable
        self._position = 0

    def _elements(self) -> dict[int, Any]:
        return self._node.arrays.setdefault(self._attr.name, {})

    def __len__(self) -> int:
        return len(self._elements())

    def builder(self) -> MArrayDataBuilder:
        _require_builder(self._attr)
        builder = MArrayDataBuilder.__new__(MArrayDataBuilder)
        builder._attr = self._attr
        builder._elements = dict(self._elements())
        return builder

    def set(self, builder: MArrayDataBuilder) -> None:
        if not self._writable:
            raise RuntimeError("(kFailure): input array handle is read-only")
        if builder._attr is not self._attr:
            raise RuntimeError("(kInvalidParameter): builder belongs to another attribute")
        elements = self._elements()
        elements.clear()
        elements.update(builder._elements)

    def _logical(self) -> list[int]:
        return sorted(self._elements())

    def jumpToPhysicalElement(self, position: int) -> None:
        if not 0 <= position < len(self):
            raise RuntimeError("(kInvalidParameter): element out of range")
        self._position = int(position)

    def jumpToLogicalElement(self, index: int) -> None:
        logical = self._logical()
        if index not in logical:
            raise RuntimeError(f"(kInvalidParameter): no element with logical index {index}")
        self._position = logical.index(index)

    def elementLogicalIndex(self) -> int:
        return self._logical()[self._position]

    def next(self) -> bool:
        self._position += 1
        return self._position < len(self)

    def isDone(self) -> bool:
        return self._position >= len(self)

    def inputValue(self) -> MDataHandle:
        return MDataHandle(self._elements(), self.elementLogicalIndex(), self._attr, writable=False)

    def outputValue(self) -> MDataHandle:
        return MDataHandle(self._elements(), self.elementLogicalIndex(), self._attr, writable=True)

    def setAllClean(self) -> None:
        self._node.clean(self._attr.name)

    def setClean(self) -> None:
        self._node.clean(self._attr.name)


class MDataBlock:
    def __init__(self, node: "FakeNode") -> None:
        self._node = node

    def _attr(self, what: MObject | MPlug) -> _Attribute:
        attr = what._attr if isinstance(what, MPlug) else _attribute_of(what, "MDataBlock")
        if attr is None or not self._node.type.has(attr):
            raise RuntimeError("(kInvalidParameter): attribute does not belong to this node")
        return attr

    def inputValue(self, what: MObject | MPlug) -> MDataHandle:
        attr = self._attr(what)
        if attr.flags["array"]:
            raise RuntimeError(f"(kInvalidParameter): {attr.name} is an array: use inputArrayValue")
        return MDataHandle(self._node.values, attr.name, attr, False)

    def outputValue(self, what: MObject | MPlug) -> MDataHandle:
        attr = self._attr(what)
        if attr.flags["array"]:
            raise RuntimeError(f"(kInvalidParameter): {attr.name} is an array: use outputArrayValue")
        return MDataHandle(self._node.values, attr.name, attr, True, self._node)

    def inputArrayValue(self, what: MObject | MPlug) -> MArrayDataHandle:
        return MArrayDataHandle(self._node, self._attr(what), writable=False)

    def outputArrayValue(self, what: MObject | MPlug) -> MArrayDataHandle:
        return MArrayDataHandle(self._node, self._attr(what), writable=True)

    def setClean(self, what: MObject | MPlug) -> None:
        self._node.clean(self._attr(what).name)


# --------------------------------------------------------------------------- test harness
class FakeNode:
    """An instance of a registered node type with a data block and Maya's pull model.

    Setting an input marks the outputs it affects dirty (per ``attributeAffects``);
    reading a dirty output calls the node's ``compute`` with an MPlug for it and
    a data block, exactly once per dirty read.
    """

    def __init__(self, type_name: str, name: str | None = None) -> None:
        self.type = node_types[type_name]
        self.name = name or f"{type_name}1"
        self.values: dict[str, Any] = {}
        self.arrays: dict[str, dict[int, Any]] = {}
        self.connected: set[str] = set()
        self.compute_calls: list[str] = []
        self.evaluation_manager = False
        self.normal_context = True
        self.dirty_calls: list[str] = []
        self._em_dirty: set[str] = set()
        self.mobject = MObject(_ref=self)
        self.user = self.type.creator()
        self.user._fake_this = self.mobject
        affected = {dst for _, dst in self.type.affects}
        self.dirty: set[str] = set(affected)
        self.block = MDataBlock(self)

    def attribute(self, name: str) -> _Attribute:
        return self.type.attribute(name)

    def is_connected(self, name: str) -> bool:
        return self.attribute(name).name in self.connected

    def _dirty_from(self, name: str) -> None:
        if self.evaluation_manager:
            self._em_dirty.add(name)
        else:
            self.dirty_calls.append(name)
            self.user.setDependentsDirty(self.plug(name), MPlugArray())
        for dst in self.type.affected_by(name):
            self.dirty.add(dst)

    def set(self, name: str, value: Any) -> None:
        """``setAttr``: store an input value and dirty what it affects."""
        attr = self.attribute(name)
        if not attr.flags["writable"]:
            raise RuntimeError(f"(kFailure): {self.name}.{attr.name} is not writable")
        if attr.kind == "time" and not isinstance(value, MTime):
            value = MTime(float(value), MTime.uiUnit())
        if attr.kind == "enum" and isinstance(value, str):
            value = attr.fields[value]
        if attr.kind == "enum" and int(value) not in attr.fields.values():
            raise RuntimeError(f"(kInvalidParameter): {value} is not a field of {attr.name}")
        self.values[attr.name] = value
        self._dirty_from(attr.name)

    def connect(self, name: str, value: Any = None) -> None:
        """An incoming connection (from ``time1.outTime``, say); optionally its value."""
        attr = self.attribute(name)
        if not attr.flags["writable"] or not attr.flags["connectable"]:
            raise RuntimeError(f"(kFailure): {self.name}.{attr.name} cannot be the destination of a connection")
        self.connected.add(attr.name)
        if value is not None:
            self.set(name, value)
        else:
            self._dirty_from(attr.name)

    def disconnect(self, name: str) -> None:
        attr = self.attribute(name)
        self.connected.discard(attr.name)
        self._dirty_from(attr.name)

    def clean(self, name: str) -> None:
        self.dirty.discard(name)

    def plug(self, name: str, index: int | None = None) -> MPlug:
        plug = MPlug(self.mobject, MObject(_ref=self.attribute(name)))
        return plug.elementByLogicalIndex(index) if index is not None else plug

    def _pull(self, name: str, index: int | None) -> None:
        if name in self.dirty:
            if self.evaluation_manager:
                self.user.preEvaluation(MDGContext(self.normal_context), MEvaluationNode(self, self._em_dirty))
                self._em_dirty.clear()
            self.compute_calls.append(name)
            self.user.compute(self.plug(name, index), self.block)

    def get(self, name: str, index: int | None = None) -> Any:
        """``getAttr``: computes the output when dirty, then returns the stored value."""
        attr = self.attribute(name)
        self._pull(attr.name, index)
        if attr.flags["array"]:
            elements = self.arrays.get(attr.name, {})
            if index is not None:
                return _public(elements.get(index))
            return {i: _public(v) for i, v in elements.items()}
        return _public(self.values.get(attr.name, attr.default))

    def get_array(self, name: str) -> dict[int, Any]:
        """All elements of an array output, computing it when dirty."""
        attr = self.attribute(name)
        self._pull(attr.name, None)
        return {i: _public(v) for i, v in self.arrays.get(attr.name, {}).items()}


def _public(value: Any) -> Any:
    """A stored value as the API hands it out: matrices are kept as packed doubles."""
    return MMatrix._from_packed(value) if type(value) is bytes else value


def load_plugin(path: str) -> Any:
    """Import a Python plug-in file and call its ``initializePlugin`` as Maya does."""
    import importlib.util
    import os

    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f"_fake_plugin_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load plug-in {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "maya_useNewAPI", None)):
        raise RuntimeError(f"{path}: a Python API 2.0 plug-in must define maya_useNewAPI()")
    plugin = MObject(_ref=_Plugin(path))
    module.initializePlugin(plugin)
    module._fake_plugin_object = plugin
    return module


def unload_plugin(module: Any) -> None:
    module.uninitializePlugin(module._fake_plugin_object)

