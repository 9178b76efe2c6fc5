"""``analysis/denoise_bound.py``: the linear bounds it reports behave as bounds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from maya_tool.dataset import dataset_from_clips
from tests import synth

SCRIPT = Path(__file__).resolve().parents[1] / "analysis" / "denoise_bound.py"


def _module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("denoise_bound", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_linear_bounds_on_smooth_clips(tmp_path: Path) -> None:
    skeleton = synth.cmu_like_skeleton(1)
    clips = [(tmp_path / f"{i:02d}_01.csv", synth.smooth_clip(240, seed=i, skeleton=skeleton)) for i in range(12)]
    report = _module().measure(dataset_from_clips(clips), 0.05, [])
    errors = report["mean_angle_deg"]
    noisy = errors["noisy"]
    best_bw = next(v for k, v in errors.items() if k.startswith("butterworth"))
    learned = errors["pca-wiener (learned on the training split)"]
    oracle = errors["pca-wiener (oracle: per clip, knows the clean motion)"]
    assert 8.0 < noisy < 10.5, "sigma 0.05 per component is about 9 degrees"
    assert best_bw < noisy / 2 and learned < noisy / 2
    ideal = errors["wiener (oracle: per clip, knows the clean spectra)"]
    assert oracle <= learned, "knowing each clip's clean motion cannot lose to a filter fitted on other clips"
    assert ideal <= oracle, "per-frequency gains from the clean spectra beat one cutoff per component"
    assert report["ratio_to_best_butterworth"]["noisy"] == noisy / best_bw
    assert report["frames"] == 2 * 240, "the validation split: 10% of 12 equal clips is 2 whole clips"
