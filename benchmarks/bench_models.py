"""Model inference: the tutorial's way (Keras ``predict``, one pose per call) vs the numpy runtime.

For every shipped model in ``models/``: one pose per call through Keras (the
baseline, measured in this run), one pose through the numpy runtime, a whole
clip through the numpy runtime, and whole-clip evaluation throughput
(reconstruction, noise and denoising errors for every frame, no filter
sweeps). Training time is read from each model's sidecar, where the training
job recorded it on this kind of machine. Keras is imported only here, for the
baseline: the runtime itself never loads TensorFlow.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import Row, median_seconds, rate_row, time_row

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("pose", "sparse", "temporal", "temporal-high")


def _clip():  # type: ignore[no-untyped-def]
    """A real clip when the CMU data is there (subject 07, never the held-out 02), else a synthetic one."""
    root = os.environ.get("MOCAP_AE_DATA")
    if root and (Path(root) / "subjects" / "07" / "07_01.bvh").is_file():
        from maya_tool.io import read_clip

        return read_clip(Path(root) / "subjects" / "07" / "07_01.bvh"), "CMU 07_01"
    sys.path.insert(0, str(REPO))
    from tests import synth

    return synth.smooth_clip(frames=600), "synthetic 600 frames"


def _keras_per_call(keras_path: Path, x: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    model = keras.models.load_model(keras_path, compile=False, safe_mode=True)
    out = model.predict(x, verbose=0)
    seconds = median_seconds(lambda: model.predict(x, verbose=0), repeats=repeats, warmup=2)
    return seconds, np.asarray(out)


def run(quick: bool) -> list[Row]:
    from maya_tool import evaluate
    from maya_tool.models import runtime

    clip, label = _clip()
    rows: list[Row] = []
    for name in SHIPPED:
        sidecar = REPO / "models" / f"{name}.json"
        if not sidecar.is_file():
            continue
        model = runtime.load_model(sidecar, cache=False)
        model.check_clip(clip)
        rotations = clip.joint_rotations
        if model.architecture == "temporal":
            x_one = model.pad_clip(model.inputs(rotations[:1]))[None]
        else:
            x_one = model.inputs(rotations[:1])
        keras_file = sidecar.with_suffix(".keras")
        ours_one = median_seconds(lambda: model.forward(x_one), repeats=200 if quick else 2000, warmup=5)
        if keras_file.is_file():
            keras_one, keras_out = _keras_per_call(keras_file, x_one, repeats=10 if quick else 50)
            difference = float(np.max(np.abs(keras_out - model.forward(x_one))))
            rows.append(
                time_row(
                    f"{name}: one pose per call, numpy runtime",
                    ours_one,
                    keras_one,
                    f"baseline: Keras predict on one pose per call (tutorial); max |numpy - keras| = {difference:.1e}",
                )
            )
        else:
            rows.append(time_row(f"{name}: one pose per call, numpy runtime", ours_one, None, "no .keras file to compare"))
        whole = median_seconds(lambda: model.reconstruct(rotations), repeats=3 if quick else 7, warmup=1)
        rows.append(
            rate_row(
                f"{name}: whole clip, numpy runtime",
                clip.num_frames / whole,
                "frames/s",
                (1.0 / ours_one) if ours_one > 0 else None,
                f"baseline: the same runtime one pose per call; {label}, {clip.num_frames} frames",
            )
        )
        start = time.perf_counter()
        evaluate.evaluate_clip(clip, model, sigma=0.05, baselines=False)
        rows.append(
            rate_row(
                f"{name}: whole-clip evaluation (reconstruction, noisy, denoised)",
                clip.num_frames / (time.perf_counter() - start),
                "frames/s",
                None,
                label,
            )
        )
        training = model.meta.get("training") or {}
        if training.get("duration_s"):
            earlier = training.get("started_from") or {}
            total = float(training["duration_s"]) + float(earlier.get("duration_s") or 0.0)
            epochs = int(training.get("epochs_run") or 0) + int(earlier.get("epochs_run") or 0)
            rows.append(
                Row(
                    f"{name}: training time on this machine kind (2 cores)",
                    total,
                    "s",
                    None,
                    None,
                    f"from the sidecar: {epochs} epochs, {training.get('frames')} frames"
                    + (f", including the run it continued ({earlier.get('name')})" if earlier else ""),
                )
            )
    if not rows:
        rows.append(Row("no shipped models in models/", 0.0, "", None, None, "train them first (see README)"))
    return rows
