"""csvToMat: a dependency node that plays a CSV clip as joint matrices, optionally through an autoencoder.

Python API 2.0 plug-in (``maya_useNewAPI``). The node keeps the tutorial's
attributes (``filePath``, ``frame``, ``matOut``) and adds the autoencoder
controls. All the work is in the Maya-free :mod:`maya_tool.nodecore`: when a
file, the model, noise, encode or mode changes, the whole clip is evaluated
once (cached loader, numpy model in one batch) and turned into a table of
matrices; each frame is then one row of that table copied into ``matOut``.

Node id: ``0x00072A00``, in the block 0x00000000-0x0007FFFF that Autodesk
leaves for plug-ins used locally and never registered. Scenes saved as
``.mb`` store this id; a studio that distributes the node widely should ask
Autodesk for a registered block and change :data:`NODE_ID` before saving
scenes with it.

Attributes:
    filePath (fp): CSV clip (a ``NAME.skeleton.json`` sidecar beside it).
    frame (f): clip frame shown when ``time`` is not connected (keyable).
    time (tm): scene time; when connected it drives and maps through the
        clip's fps, so time 0 is clip frame 0 at any scene rate.
    encode (enc): the tutorial's toggle; turns original into encoded and
        noisy into denoised.
    modelPath (mp): model file (``.json`` sidecar, ``.npz`` or stem).
    noise (n): Gaussian sigma on quaternion components, seeded per frame
        (for noiseType gaussian and capture; pops and gaps do not use it).
    noiseType (nt): gaussian (default, the tutorial's noise) / pops / gaps /
        capture: what noisy and denoised do to the clip
        (:mod:`maya_tool.corruption`; the rule is in :mod:`maya_tool.nodecore`).
    mode (md): original / encoded / noisy / denoised / ... (``modes.MODES``).
    matOut (mo): matrix array; element 0 the root (rotation + translation),
        then one rotation matrix per joint in skeleton order.
    frameError (fe): mean joint angle (deg) of the shown frame vs the original.
    jointCount (jc): number of ``matOut`` elements.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import maya.api.OpenMaya as om

try:
    from maya_tool import corruption, modes, nodecore
except ImportError:  # loaded by path without the module's PYTHONPATH: the checkout is one level up
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from maya_tool import corruption, modes, nodecore

NODE_NAME = "csvToMat"
NODE_ID = om.MTypeId(0x00072A00)
VENDOR = "mocap-ae"
VERSION = "2.0"
_MMatrix = om.MMatrix
_SECONDS = om.MTime.kSeconds


def maya_useNewAPI() -> None:
    """Tell Maya this plug-in uses the Python API 2.0."""


class CsvToMat(om.MPxNode):
    """Thin DG wrapper over :class:`maya_tool.nodecore.ClipEvaluator`."""

    filePath: Any = None
    frame: Any = None
    time: Any = None
    encode: Any = None
    modelPath: Any = None
    noise: Any = None
    noiseType: Any = None
    mode: Any = None
    matOut: Any = None
    frameError: Any = None
    jointCount: Any = None

    def __init__(self) -> None:
        om.MPxNode.__init__(self)
        self._evaluator = nodecore.ClipEvaluator()
        self._written = 0
        self._time_plug: Any = None  # thisMObject() is not valid yet in the constructor
        self._settings: tuple[str, str, float, int, bool, int] | None = None
        self._cache_settings = True

    @staticmethod
    def creator() -> "CsvToMat":
        return CsvToMat()

    @staticmethod
    def initialize() -> None:
        typed = om.MFnTypedAttribute()
        numeric = om.MFnNumericAttribute()
        enum = om.MFnEnumAttribute()
        unit = om.MFnUnitAttribute()
        matrix = om.MFnMatrixAttribute()
        empty = om.MFnStringData().create("")

        CsvToMat.filePath = typed.create("filePath", "fp", om.MFnData.kString, empty)
        typed.usedAsFilename = True
        typed.storable = True

        CsvToMat.frame = numeric.create("frame", "f", om.MFnNumericData.kFloat, 0.0)
        numeric.keyable = True
        numeric.storable = True

        CsvToMat.time = unit.create("time", "tm", om.MFnUnitAttribute.kTime, 0.0)
        unit.storable = True

        CsvToMat.encode = numeric.create("encode", "enc", om.MFnNumericData.kBoolean, False)
        numeric.keyable = True
        numeric.storable = True

        CsvToMat.modelPath = typed.create("modelPath", "mp", om.MFnData.kString, om.MFnStringData().create(""))
        typed.usedAsFilename = True
        typed.storable = True

        CsvToMat.noise = numeric.create("noise", "n", om.MFnNumericData.kFloat, 0.0)
        numeric.keyable = True
        numeric.storable = True
        numeric.setMin(0.0)
        numeric.setSoftMax(0.2)

        CsvToMat.noiseType = enum.create("noiseType", "nt", 0)
        for value, name in enumerate(corruption.CORRUPTIONS):  # the order nodecore reads the index in
            enum.addField(name, value)
        enum.keyable = True
        enum.storable = True

        CsvToMat.mode = enum.create("mode", "md", 0)
        for value, name in enumerate(modes.MODES):  # the order nodecore reads the index in
            enum.addField(name, value)
        enum.keyable = True
        enum.storable = True

        CsvToMat.matOut = matrix.create("matOut", "mo", om.MFnMatrixAttribute.kDouble)
        matrix.array = True
        matrix.usesArrayDataBuilder = True
        matrix.writable = False
        matrix.storable = False

        CsvToMat.frameError = numeric.create("frameError", "fe", om.MFnNumericData.kFloat, 0.0)
        numeric.writable = False
        numeric.storable = False

        CsvToMat.jointCount = numeric.create("jointCount", "jc", om.MFnNumericData.kInt, 0)
        numeric.writable = False
        numeric.storable = False

        inputs = (
            CsvToMat.filePath,
            CsvToMat.frame,
            CsvToMat.time,
            CsvToMat.encode,
            CsvToMat.modelPath,
            CsvToMat.noise,
            CsvToMat.noiseType,
            CsvToMat.mode,
        )
        outputs = (CsvToMat.matOut, CsvToMat.frameError, CsvToMat.jointCount)
        for attribute in inputs + outputs:
            om.MPxNode.addAttribute(attribute)
        for source in inputs:
            for target in outputs:
                om.MPxNode.attributeAffects(source, target)

    @staticmethod
    def _settings_attributes() -> tuple[Any, ...]:
        return (
            CsvToMat.filePath, CsvToMat.modelPath, CsvToMat.noise, CsvToMat.mode, CsvToMat.encode, CsvToMat.noiseType
        )

    def setDependentsDirty(self, plug: Any, plugArray: Any) -> Any:
        """Forget the cached settings when one of them is dirtied (DG evaluation).

        Scrubbing dirties only ``time`` or ``frame``, so compute can skip
        reading the six settings on every frame; a settings plug being set,
        connected or driven by a changing upstream node lands here first.
        """
        attribute = plug.attribute()
        if any(attribute == setting for setting in self._settings_attributes()):
            self._settings = None
        return om.MPxNode.setDependentsDirty(self, plug, plugArray)

    def preEvaluation(self, context: Any, evaluationNode: Any) -> None:
        """The same under the Evaluation Manager, which does not call :meth:`setDependentsDirty`.

        Evaluations in another context (cached playback fills its cache in the
        background at other times, where keyed settings differ) read the
        settings afresh and keep nothing, so they never leave their values
        behind for the scene's own evaluation.
        """
        normal = context.isNormal()
        self._cache_settings = normal
        if not normal or any(evaluationNode.dirtyPlugExists(setting) for setting in self._settings_attributes()):
            self._settings = None

    def compute(self, plug: Any, data: Any) -> Any:
        """Write every output for the current frame.

        Runs on each frame change, so it reads the six settings only after
        one was dirtied (see :meth:`setDependentsDirty`), lets the evaluator
        notice changed settings or files (re-evaluating the whole clip then),
        and copies one precomputed row into ``matOut``: one ``MMatrix`` per
        joint from 16 ready-made floats, through one builder.
        """
        attribute = plug.attribute()
        if not (
            attribute == CsvToMat.matOut or attribute == CsvToMat.frameError or attribute == CsvToMat.jointCount
        ):
            return None
        evaluator = self._evaluator
        input_value = data.inputValue
        settings = self._settings
        if settings is None:
            settings = (
                input_value(CsvToMat.filePath).asString(),
                input_value(CsvToMat.modelPath).asString(),
                input_value(CsvToMat.noise).asFloat(),
                input_value(CsvToMat.mode).asShort(),
                input_value(CsvToMat.encode).asBool(),
                input_value(CsvToMat.noiseType).asShort(),
            )
            if self._cache_settings:
                self._settings = settings
        message = evaluator.sync(*settings)
        if message:
            om.MGlobal.displayError(f"{self.name()}: {message}")

        time_plug = self._time_plug
        if time_plug is None:
            time_plug = self._time_plug = om.MPlug(self.thisMObject(), CsvToMat.time)
        if time_plug.isConnected:
            seconds = input_value(CsvToMat.time).asTime().asUnits(_SECONDS)
            frame = evaluator.frame_for_seconds(seconds)
        else:
            frame = input_value(CsvToMat.frame).asFloat()
        rows, frame_error = evaluator.frame_output(frame)

        count = len(rows)
        out = data.outputArrayValue(CsvToMat.matOut)
        builder = out.builder()
        add_element = builder.addElement
        for index, matrix in enumerate(map(_MMatrix, rows)):
            add_element(index).setMMatrix(matrix)
        for index in range(count, self._written):
            builder.removeElement(index)
        self._written = count
        out.set(builder)
        out.setAllClean()

        handle = data.outputValue(CsvToMat.frameError)
        handle.setFloat(frame_error)
        handle.setClean()
        handle = data.outputValue(CsvToMat.jointCount)
        handle.setInt(count)
        handle.setClean()
        data.setClean(plug)
        return None


def initializePlugin(plugin: Any) -> None:
    """Register the node; Maya calls this on ``loadPlugin``."""
    fn = om.MFnPlugin(plugin, VENDOR, VERSION, "Any")
    try:
        fn.registerNode(NODE_NAME, NODE_ID, CsvToMat.creator, CsvToMat.initialize, om.MPxNode.kDependNode)
    except Exception:
        sys.stderr.write(f"Failed to register node {NODE_NAME}\n")
        raise


def uninitializePlugin(plugin: Any) -> None:
    """Deregister the node; Maya calls this on ``unloadPlugin``."""
    fn = om.MFnPlugin(plugin)
    try:
        fn.deregisterNode(NODE_ID)
    except Exception:
        sys.stderr.write(f"Failed to deregister node {NODE_NAME}\n")
        raise
