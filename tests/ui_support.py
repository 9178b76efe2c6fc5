"""Helpers for the panel tests: Qt offscreen, temporary settings, small real models.

Imported by ``tests/test_ui_*.py`` before anything loads Qt, so the panel
tests run headless whatever ``tests/conftest.py`` sets.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path  # noqa: E402
from typing import Sequence  # noqa: E402

import numpy as np  # noqa: E402

from maya_tool.clip import Clip  # noqa: E402
from maya_tool.models import modelfile  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
"""Screenshots land here (repo root, gitignored) so CI can keep them."""


def make_pca_model(directory: Path, name: str, clips: Sequence[Clip], latent: int = 30) -> Path:
    """A real 4:1 pose model for the numpy runtime: the clips' principal components.

    Two linear dense layers (encoder: project on the first ``latent`` components,
    decoder: back), written with ``modelfile.save_model_set`` like a trained model,
    so the panel loads, lists and applies it without TensorFlow.
    """
    features = np.concatenate([c.pose_features(np.float64) for c in clips])
    mean = features.mean(axis=0)
    _, _, vt = np.linalg.svd(features - mean, full_matrices=False)
    basis = vt[:latent].T
    size = features.shape[1]
    names = list(clips[0].skeleton.names)
    meta = {
        "architecture": "pose",
        "params": {"units": [latent], "activations": ["linear", "linear"]},
        "joint_names": names,
        "input_layout": {"name": modelfile.INPUT_LAYOUT, "size": size},
        "normalisation": None,
        "network": {
            "encoder": [{"type": "dense", "name": "encode", "activation": "linear"}],
            "decoder": [{"type": "dense", "name": "decode", "activation": "linear"}],
        },
        "ratio": size / latent,
        "bits_per_frame": 32 * latent,
        "training": {"files": [str(c.source.get("path", "synthetic")) for c in clips], "subjects": ["07"],
                     "epochs": 1, "noise": 0.0},
        "evaluation": {"reconstruction": {"mean_angle_deg": 1.5, "p99_angle_deg": 6.0, "mean_position_cm": 0.8}},
    }
    weights = {
        "encode.kernel": basis.astype(np.float32),
        "encode.bias": (-mean @ basis).astype(np.float32),
        "decode.kernel": basis.T.astype(np.float32),
        "decode.bias": mean.astype(np.float32),
    }
    return modelfile.save_model_set(directory, name, meta, weights)


def distinct_colours(path: Path, step: int = 4) -> int:
    """How many different colours a PNG has (sampled): a blank grab has one or two."""
    from maya_tool.ui.qt import QtGui

    image = QtGui.QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable image"
    colours = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            colours.add(image.pixel(x, y))
    return len(colours)
