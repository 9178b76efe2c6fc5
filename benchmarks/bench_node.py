"""The csvToMat node per frame with encoding on: the tutorial's way against ours.

Both nodes run through the fake Maya API (``tests/fake_maya``) and are
scrubbed the same way: set ``frame``, pull ``matOut`` (the DG calls
``compute``), frame after frame.

* Baseline, the tutorial node: on its first evaluation it reads the CSV with
  ``np.loadtxt``; every frame it runs Keras ``predict`` on one pose and
  builds the matrices.
* Ours, ``plug-ins/csvToMat.py``: on a change of input it loads the clip
  through the cached CSV reader, runs the whole clip through the numpy
  runtime in one batch and turns it into a table of Maya matrices; a frame is
  then one table row copied into ``matOut``.

Both use the same network (a dense autoencoder 120-64-16-64-120, ELU), built
in Keras and exported to the numpy runtime's format; the outputs are checked
to agree before timing. Keras is imported here only, for the baseline. The
baseline's per-frame cost is measured on a sample of frames (a Keras call
costs tens of milliseconds, so 10,000 of them would take minutes) and its
scrub rate is derived from that median. Half of its sample is taken before
ours and half after, so that both see the same load on a shared machine.

"Compute per frame" is the time inside the node's ``compute`` (median over
frames), which is where the two nodes differ; the scrub rate is wall time
per frame including the harness (``setAttr`` of ``frame``, reading every
``matOut`` element back). The fake API is pure Python, so part of our
compute is the fake's own cost: the ``fake API floor`` row runs our plug-in
with its evaluator replaced by a stub that hands back ready-made rows, i.e.
the same Maya calls (reading ``frame``, one builder, J ``MMatrix`` +
``addElement`` + ``setMMatrix``, 2 scalar outputs; the five settings are
read only after one is dirtied) with no work of ours.
Ours minus the floor is what the core adds per frame.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import Row, rate_row, time_row
from maya_tool import quaternion as quat
from maya_tool.clip import Clip
from maya_tool.models import modelfile
from maya_tool.presets import CMU_JOINT_NAMES, CMU_PARENTS
from maya_tool.skeleton import Skeleton

REPO = Path(__file__).resolve().parents[1]
FAKE_SITE = REPO / "tests" / "fake_maya" / "site"
PLUGIN = REPO / "plug-ins" / "csvToMat.py"
FRAMES = 10_000
REAL_CLIP = Path("subjects") / "06" / "06_13.bvh"
LAYERS = (64, 16, 64)


def _clip(frames: int) -> tuple[Clip, str]:
    root = os.environ.get("MOCAP_AE_DATA")
    if root and (Path(root) / REAL_CLIP).is_file():
        from maya_tool.io import read_clip

        clip = read_clip(Path(root) / REAL_CLIP)
        reps = -(-frames // clip.num_frames)
        rotations = np.concatenate([clip.rotations] * reps)[:frames]
        positions = np.concatenate([clip.root_positions] * reps)[:frames]
        return Clip(clip.skeleton, clip.fps, positions, rotations), f"CMU {REAL_CLIP.name} repeated to {frames} frames"
    rng = np.random.default_rng(0)
    joints = len(CMU_JOINT_NAMES)
    skeleton = Skeleton(list(CMU_JOINT_NAMES), np.array(CMU_PARENTS), rng.normal(0, 8, (joints, 3)), name="bench")
    t = np.arange(frames) / 120.0
    angles = rng.uniform(5, 40, (joints, 3)) * np.sin(2 * np.pi * rng.uniform(0.3, 2, (joints, 3)) * t[:, None, None])
    root_positions = np.stack([20 * np.sin(t), 90 + 0 * t, 50 * t], axis=-1)
    return Clip(skeleton, 120.0, root_positions, quat.from_euler(angles, "ZYX")), f"synthetic, {frames} frames"


def _keras_model(inputs: int) -> Any:
    import keras

    layers = [keras.Input(shape=(inputs,))]
    layers += [keras.layers.Dense(width, activation="elu") for width in LAYERS]
    layers += [keras.layers.Dense(inputs, activation="linear")]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


def _export(model: Any, folder: Path, joint_names: list[str]) -> Path:
    """The Keras network as a numpy-runtime model set (same weights)."""
    weights: dict[str, np.ndarray] = {}
    specs = []
    for i, layer in enumerate(model.layers):
        kernel, bias = layer.get_weights()
        name = f"dense{i}"
        weights[f"{name}.kernel"], weights[f"{name}.bias"] = kernel, bias
        specs.append({"type": "dense", "name": name, "activation": layer.get_config()["activation"]})
    split = len(LAYERS) // 2 + 1
    size = 4 * (len(joint_names) - 1)
    meta = {
        "architecture": "pose",
        "params": {"layers": list(LAYERS)},
        "joint_names": joint_names,
        "input_layout": {"name": "joint_quaternions_xyzw", "size": size},
        "network": {"encoder": specs[:split], "decoder": specs[split:]},
        "normalisation": None,
        "window": None,
        "ratio": size / LAYERS[len(LAYERS) // 2],
        "bits_per_frame": 32 * LAYERS[len(LAYERS) // 2],
        "training": {},
        "evaluation": None,
    }
    return modelfile.save_model_set(folder, "bench", meta, weights)


def _baseline_node_class(om: Any, keras_model: Any) -> Any:
    """The tutorial's node: np.loadtxt once, Keras predict on one pose per frame."""

    class Original(om.MPxNode):  # type: ignore[misc, name-defined]
        filePath: Any = None
        frame: Any = None
        matOut: Any = None

        def __init__(self) -> None:
            om.MPxNode.__init__(self)
            self.data: np.ndarray | None = None

        @staticmethod
        def initialize() -> None:
            typed, numeric, matrix = om.MFnTypedAttribute(), om.MFnNumericAttribute(), om.MFnMatrixAttribute()
            Original.filePath = typed.create("filePath", "fp", om.MFnData.kString, om.MFnStringData().create(""))
            Original.frame = numeric.create("frame", "f", om.MFnNumericData.kFloat, 0.0)
            Original.matOut = matrix.create("matOut", "mo", om.MFnMatrixAttribute.kDouble)
            matrix.array = True
            matrix.usesArrayDataBuilder = True
            matrix.writable = False
            for attr in (Original.filePath, Original.frame, Original.matOut):
                om.MPxNode.addAttribute(attr)
            om.MPxNode.attributeAffects(Original.filePath, Original.matOut)
            om.MPxNode.attributeAffects(Original.frame, Original.matOut)

        def compute(self, plug: Any, data: Any) -> None:
            if self.data is None:
                self.data = np.loadtxt(data.inputValue(Original.filePath).asString(), delimiter=",", skiprows=1)
            row = self.data[int(data.inputValue(Original.frame).asFloat())]
            pose = keras_model.predict(row[None, 7:], verbose=0)[0].reshape(-1, 4)
            rotations = np.concatenate([row[None, 3:7], quat.normalize(pose)])
            translation = np.zeros((len(rotations), 3))
            translation[0] = row[:3]
            matrices = quat.to_maya_matrix(rotations, translation).reshape(-1, 16)
            out = data.outputArrayValue(Original.matOut)
            builder = out.builder()
            for index, values in enumerate(matrices.tolist()):
                builder.addElement(index).setMMatrix(om.MMatrix(values))
            out.set(builder)
            out.setAllClean()
            data.setClean(plug)

    return Original


def _scrub(node: Any, frames: range) -> tuple[list[float], list[float], float]:
    """Step frame by frame; (wall time per step, time inside compute per step, total seconds)."""
    inside: list[float] = []
    compute = node.user.compute
    clock = time.perf_counter

    def timed(plug: Any, data: Any) -> Any:
        start = clock()
        try:
            return compute(plug, data)
        finally:
            inside.append(clock() - start)

    node.user.compute = timed
    steps = []
    begin = clock()
    try:
        for frame in frames:
            start = clock()
            node.set("frame", float(frame))
            node.get_array("matOut")
            steps.append(clock() - start)
    finally:
        del node.user.compute
    total = clock() - begin
    if len(inside) != len(steps):
        raise AssertionError(f"{len(steps)} frames but {len(inside)} computes")
    return steps, inside, total


class _StubEvaluator:
    """Hands the plug-in ready-made rows: what the node costs with no work of ours."""

    file_check_interval = 0.0

    def __init__(self, rows: list[list[float]]) -> None:
        self.rows = rows

    def sync(self, *values: Any) -> None:
        return None

    def frame_for_seconds(self, seconds: float) -> float:
        return seconds

    def frame_output(self, frame: float) -> tuple[list[list[float]], float]:
        return self.rows, 0.0


def _matrices(node: Any) -> np.ndarray:
    return np.array([list(m) for m in node.get_array("matOut").values()])


def run(quick: bool) -> list[Row]:
    frames = 2_000 if quick else FRAMES
    sample = 10 if quick else 60
    clip, description = _clip(frames)
    sys.path.insert(0, str(FAKE_SITE))
    try:
        om: Any = importlib.import_module("maya.api.OpenMaya")  # the fake, with its test harness

        from maya_tool.io.csv import write_csv

        om.reset()
        keras_model = _keras_model(4 * clip.skeleton.num_bones)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            csv_path = folder / "clip.csv"
            write_csv(clip, csv_path)
            model_path = _export(keras_model, folder, list(clip.skeleton.names))

            plugin = om.load_plugin(str(PLUGIN))
            fn = om.MFnPlugin(plugin._fake_plugin_object)
            original_class = _baseline_node_class(om, keras_model)
            fn.registerNode("csvToMatOriginal", om.MTypeId(0x00072A7F), original_class, original_class.initialize)

            original = om.FakeNode("csvToMatOriginal")
            original.set("filePath", str(csv_path))
            start = time.perf_counter()
            original.get_array("matOut")
            first_original = time.perf_counter() - start
            half = sample // 2
            base_steps, base_inside, _ = _scrub(original, range(1, 1 + half))  # the rest after ours: same load

            ours = om.FakeNode("csvToMat")
            ours.set("filePath", str(csv_path))
            ours.set("modelPath", str(model_path))
            ours.set("encode", True)
            start = time.perf_counter()
            ours.get_array("matOut")
            first_ours = time.perf_counter() - start

            for frame in (123.0, frames - 1.0):
                original.set("frame", frame)
                ours.set("frame", frame)
                a, b = _matrices(original), _matrices(ours)
                if not np.allclose(a, b, atol=1e-4):
                    raise AssertionError(f"baseline and ours disagree at frame {frame:g} by {np.abs(a - b).max():.2e}")

            _, our_inside, total = _scrub(ours, range(frames))
            evaluator = ours.user._evaluator
            interval = evaluator.file_check_interval
            evaluator.file_check_interval = 0.0  # os.stat of every file on every frame
            _, stat_inside, _ = _scrub(ours, range(frames - 1, -1, -1))
            rows = evaluator.frame_output(frames // 2)[0]
            ours.user._evaluator = _StubEvaluator(rows)
            _, floor_inside, _ = _scrub(ours, range(frames))
            ours.user._evaluator = evaluator
            more_steps, more_inside, _ = _scrub(original, range(1 + half, 1 + sample))
            base_steps += more_steps
            base_inside += more_inside
            if om.reports:
                raise AssertionError(f"the node reported errors: {om.reports}")
            om.unload_plugin(plugin)
    finally:
        sys.path.remove(str(FAKE_SITE))
        for name in [m for m in sys.modules if m == "maya" or m.startswith("maya.")]:
            del sys.modules[name]

    per_frame_ours = float(np.median(our_inside))
    per_frame_stat = float(np.median(stat_inside))
    per_frame_floor = float(np.median(floor_inside))
    per_frame_base = float(np.median(base_inside))
    step_base = float(np.median(base_steps))
    joints = clip.skeleton.num_joints
    note = f"{description}, {joints} joints; baseline: tutorial node (np.loadtxt, Keras predict per pose)"
    return [
        time_row("node first evaluation, encode on", first_ours, first_original, note + "; ours: load + whole-clip batch + matrix table"),
        time_row(
            "node compute per frame, encode on",
            per_frame_ours,
            per_frame_base,
            note + f"; time inside compute(), median of {frames} frames (ours), {sample} (baseline,"
            f" {1e3 * min(base_inside):.0f}-{1e3 * max(base_inside):.0f} ms;"
            f" against its fastest frame {min(base_inside) / per_frame_ours:.0f}x);"
            f" files checked at most every {interval:g} s;"
            f" {100 * per_frame_floor / per_frame_ours:.0f}% of ours is the fake API floor",
        ),
        time_row(
            "node compute per frame, encode on, files checked every frame",
            per_frame_stat,
            per_frame_base,
            f"as above with file_check_interval=0: one os.stat per file ({len(evaluator._watch)}) on every frame",
        ),
        time_row(
            "fake API floor per frame (no work of ours)",
            per_frame_floor,
            None,
            f"our plug-in with a stub evaluator: the fake's cost of 1 input read (frame; the settings are"
            f" cached until dirtied), 1 isConnected, 1 builder, {joints} MMatrix + addElement + setMMatrix,"
            " 2 scalar outputs; pure Python, not Maya's C++",
        ),
        rate_row(
            f"scrub {frames} frames, encode on",
            frames / total,
            "frames/s",
            1.0 / step_base,
            "every frame in order through the fake DG (setAttr frame, compute, read matOut back);"
            f" baseline rate from its per-frame median of {sample} frames",
        ),
    ]
