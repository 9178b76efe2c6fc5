"""Helpers of the Maya tests (and the node benchmark): a real CMU clip as CSV, and a tiny real model file.

The model is a genuine ``mocap-ae.model`` set (sidecar + npz written by
:func:`maya_tool.models.modelfile.save_model_set`, loaded by the numpy
runtime): a linear pose autoencoder whose weights are the clip's principal
components, so reconstructions are close but not equal to the input.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from maya_tool.clip import Clip
from maya_tool.io import read_clip, write_clip
from maya_tool.models import modelfile


def cmu_clip(cmu_root: Path, frames: int = 160) -> Clip:
    """The first ``frames`` motion frames of CMU 07_01 (walk)."""
    clip = read_clip(cmu_root / "subjects" / "07" / "07_01.bvh")
    return clip.slice(0, frames)


def write_csv_clip(clip: Clip, folder: Path, name: str = "walk") -> Path:
    """The clip as ``NAME.csv`` + ``NAME.skeleton.json`` in ``folder``."""
    path = folder / f"{name}.csv"
    write_clip(clip, path)
    return path


def write_tiny_model(
    folder: Path, clip: Clip, *, name: str = "tiny", latent: int = 12, joint_names: list[str] | None = None
) -> Path:
    """A linear pose autoencoder fitted to ``clip`` (PCA weights); returns the sidecar path."""
    x = clip.pose_features(np.float64)
    mean = x.mean(axis=0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:latent].T  # (D, latent)
    names = list(joint_names or clip.skeleton.names)
    size = 4 * (len(names) - 1)
    if components.shape[0] != size:
        components = np.resize(components, (size, latent))
        mean = np.resize(mean, size)
    weights = {
        "enc.kernel": components.astype(np.float32),
        "enc.bias": (-(mean @ components)).astype(np.float32),
        "dec.kernel": components.T.astype(np.float32),
        "dec.bias": mean.astype(np.float32),
    }
    meta = {
        "architecture": "pose",
        "params": {"latent": latent},
        "joint_names": names,
        "input_layout": {"name": "joint_quaternions_xyzw", "size": size},
        "network": {
            "encoder": [{"type": "dense", "name": "enc", "activation": "linear"}],
            "decoder": [{"type": "dense", "name": "dec", "activation": "linear"}],
        },
        "normalisation": None,
        "window": None,
        "ratio": size / latent,
        "bits_per_frame": 32 * latent,
        "training": {},
        "evaluation": None,
    }
    return modelfile.save_model_set(folder, name, meta, weights)
