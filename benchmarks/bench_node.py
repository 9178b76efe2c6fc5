"""The csvToMat node per frame with encoding on: the tutorial's way against ours.

Both nodes run through the fake Maya API (``tests/fake_maya``) and are
scrubbed the same way: set ``frame``, pull ``matOut`` (the DG calls
``compute``), frame after frame.

* Baseline, the tutorial node: on its first evaluation it reads the CSV with
  ``np.loadtxt``; every frame it runs Keras ``predict`` on one pose and
  builds the matrices.
* Ours, ``plug-ins/csvToMat.py``: on a change of input it loads the clip
  through the cached CSV reader and runs the whole clip through the numpy
  runtime in one batch; a frame is then a lookup.

Both use the same network (a dense autoencoder 120-64-16-64-120, ELU), built
in Keras and exported to the numpy runtime's format; the outputs are checked
to agree before timing. Keras is imported here only, for the baseline. The
baseline's per-frame cost is measured on a sample of frames (a Keras call
costs tens of milliseconds, so 10,000 of them would take minutes) and its
scrub rate is derived from that median.
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


def _scrub(node: Any, frames: range) -> list[float]:
    times = []
    for frame in frames:
        start = time.perf_counter()
        node.set("frame", float(frame))
        node.get_array("matOut")
        times.append(time.perf_counter() - start)
    return times


def run(quick: bool) -> list[Row]:
    frames = 2_000 if quick else FRAMES
    sample = 10 if quick else 60
    clip, description = _clip(frames)
    sys.path.insert(0, str(FAKE_SITE))
    try:
        om: Any = importlib.import_module("maya.api.OpenMaya")  # the fake, with its test harness

        from maya_tool.io.csv import write_csv
        from maya_tool.nodecore import clear_model_cache

        om.reset()
        clear_model_cache()
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
            baseline_times = _scrub(original, range(1, 1 + sample))

            ours = om.FakeNode("csvToMat")
            ours.set("filePath", str(csv_path))
            ours.set("modelPath", str(model_path))
            ours.set("encode", True)
            start = time.perf_counter()
            ours.get_array("matOut")
            first_ours = time.perf_counter() - start

            original.set("frame", 123.0)
            ours.set("frame", 123.0)
            a = np.array([list(m) for m in original.get_array("matOut").values()])
            b = np.array([list(m) for m in ours.get_array("matOut").values()])
            if not np.allclose(a, b, atol=1e-4):
                raise AssertionError(f"baseline and ours disagree by {np.abs(a - b).max():.2e}")

            start = time.perf_counter()
            our_times = _scrub(ours, range(frames))
            total = time.perf_counter() - start
            if om.reports:
                raise AssertionError(f"the node reported errors: {om.reports}")
            om.unload_plugin(plugin)
    finally:
        sys.path.remove(str(FAKE_SITE))
        for name in [m for m in sys.modules if m == "maya" or m.startswith("maya.")]:
            del sys.modules[name]

    per_frame_ours = float(np.median(our_times))
    per_frame_base = float(np.median(baseline_times))
    note = f"{description}, 31 joints; baseline: tutorial node (np.loadtxt, Keras predict per pose)"
    return [
        time_row("node first evaluation, encode on", first_ours, first_original, note + "; ours: load + whole-clip batch"),
        time_row("node compute per frame, encode on", per_frame_ours, per_frame_base, note + f"; baseline median of {sample} frames"),
        rate_row(
            f"scrub {frames} frames, encode on",
            frames / total,
            "frames/s",
            1.0 / per_frame_base,
            "every frame in order through the fake DG; baseline rate from its per-frame median",
        ),
    ]
