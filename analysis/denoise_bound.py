"""How far can denoising go? Linear bounds next to the shipped models, on held-out clips.

Issue 3 asks for a model whose denoised error (noise sigma 0.05, the node's
noise) is at most half the best Butterworth's. This script puts that bar in
context with two linear temporal denoisers that use what a model could learn
and more:

* ``pca-wiener (learned)``: the poses rotated onto the principal components
  of the training split, each component low-passed with the zero-phase
  Butterworth cutoff (or replaced by its mean) that works best on the
  training split's noisy copy. Everything is fitted on training data: this
  is a classical method a model has to beat.
* ``pca-wiener (oracle)``: the same, but each evaluated clip gets the
  components of its own clean poses and, per component, the cutoff that is
  best against its own clean motion. No real method knows these; it shows how
  much a clip-adaptive linear filter with one cutoff per component could do.
* ``wiener (oracle spectra)``: the ideal linear filter per clip: on the
  clip's own components, every frequency weighted by
  ``|clean|^2 / (|clean|^2 + noise power)`` with the clean spectrum known
  exactly (reflected ends, FFT). The most any linear temporal filter on
  these components can do.

By default the clips evaluated are the validation split of the data set (the
split training uses: by clip, fraction 0.1, seed 0), so this can guide work
without touching held-out subject 02; ``--clips`` evaluates other files
(reporting only: nothing here is fitted on them).

Run from the repository root::

    python analysis/denoise_bound.py train.npz --models models/temporal.json models/temporal-high.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped]

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maya_tool import filters, noise  # noqa: E402
from maya_tool import quaternion as quat  # noqa: E402
from maya_tool.dataset import Dataset, split_by_clip  # noqa: E402
from maya_tool.io import read_clip  # noqa: E402
from maya_tool.models import runtime  # noqa: E402

Array = NDArray[np.float64]
CUTOFFS_HZ = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 16.0, 20.0)


def _lowpass(x: Array, cutoff: float, fps: float) -> Array:
    sos = butter(2, cutoff, btype="low", fs=fps, output="sos")
    return sosfiltfilt(sos, x, axis=0, padlen=min(3 * (2 * len(sos) + 1), len(x) - 1))


def _tracks(noisy: Array, reference: Array) -> Array:
    """(F, J, 4) noisy rotations as a linear filter needs them: continuous in time, each joint on its reference side.

    The side of a whole track is decided once (by its mean), so the track
    never jumps between q and -q, which a filter would smear over many frames.
    """
    rots = quat.continuous(noisy, axis=0)
    side = np.sign(np.einsum("fjc,jc->j", rots, reference))
    side[side == 0] = 1.0
    return rots * side[None, :, None]


def _like(clean: Array, tracks: Array) -> Array:
    """Clean rotations with the signs of the noisy tracks, frame by frame: the targets in the same convention."""
    side = np.sign(np.sum(clean * tracks, axis=-1, keepdims=True))
    side[side == 0] = 1.0
    return clean * side


def _finish(components: Array, joints: int) -> Array:
    return quat.positive_w(quat.normalize(components.reshape(len(components), joints, 4)))


def _best_cutoffs(noisy: Sequence[Array], clean: Sequence[Array], fps: float) -> list[float | None]:
    """Per column, the cutoff with the least squared error over all clips; None: use the mean (0)."""
    columns = noisy[0].shape[1]
    best: list[float | None] = []
    for k in range(columns):
        errors: dict[float | None, float] = {None: sum(float(np.sum(c[:, k] ** 2)) for c in clean)}
        for cutoff in CUTOFFS_HZ:
            errors[cutoff] = sum(float(np.sum((_lowpass(n[:, k], cutoff, fps) - c[:, k]) ** 2)) for n, c in zip(noisy, clean))
        best.append(min(errors, key=lambda key: errors[key]))
    return best


def _filter_columns(z: Array, cutoffs: Sequence[float | None], fps: float) -> Array:
    out = np.zeros_like(z)
    for k, cutoff in enumerate(cutoffs):
        if cutoff is not None:
            out[:, k] = _lowpass(z[:, k], cutoff, fps)
    return out


def _ideal_wiener(clean: Array, tracks: Array, joints: int) -> Array:
    """The clip filtered per component and frequency with gains from its own clean spectrum."""
    n, c = tracks.reshape(len(tracks), -1), _like(clean, tracks).reshape(len(tracks), -1)
    mean = c.mean(axis=0)
    _, _, own = np.linalg.svd(c - mean, full_matrices=False)
    frames, pad = len(n), len(n) // 2

    def spectrum(x: Array) -> Array:
        return np.fft.rfft(np.concatenate([x[pad:0:-1], x, x[-2 : -pad - 2 : -1]]), axis=0)

    noisy_f, clean_f = spectrum((n - mean) @ own.T), spectrum((c - mean) @ own.T)
    noise_power = np.mean(np.abs(noisy_f - clean_f) ** 2, axis=0, keepdims=True)
    gain = np.abs(clean_f) ** 2 / (np.abs(clean_f) ** 2 + noise_power)
    filtered = np.fft.irfft(gain * noisy_f, n=frames + 2 * pad, axis=0)[pad : pad + frames]
    return _finish(filtered @ own + mean, joints)


def _mean_deg(clean: Sequence[Array], outputs: Sequence[Array]) -> float:
    return float(np.degrees(np.concatenate([quat.geodesic_angle(c, o).ravel() for c, o in zip(clean, outputs)])).mean())


def measure(ds: Dataset, sigma: float, models: Sequence[str], clips: Sequence[str] = ()) -> dict[str, Any]:
    """Mean angle error (deg) of each method on the evaluated clips, and the ratio to the best Butterworth."""
    train, val = split_by_clip(ds, 0.1, 0)
    joints = len(ds.joint_names) - 1
    fps = ds.fps
    if clips:
        evaluated = [read_clip(path).joint_rotations for path in clips]
        source = f"{len(clips)} clip file(s)"
    else:
        evaluated = [val.clip_poses(i).reshape(-1, joints, 4).astype(np.float64) for i in range(val.num_clips)]
        source = f"validation split ({val.num_clips} clips of subjects {', '.join(val.subjects)})"
    noisy = [noise.add_noise(c, sigma) for c in evaluated]
    results: dict[str, float] = {"noisy": _mean_deg(evaluated, noisy)}

    sweep = filters.sweep_butterworth([(c, n, fps) for c, n in zip(evaluated, noisy)])
    results[f"butterworth (best, {sweep.best:g} Hz, oracle)"] = bw = _mean_deg(evaluated, sweep.outputs)

    reference = quat.mean_direction(train.poses.reshape(len(train.poses), joints, 4).astype(np.float64))
    flat = lambda x: x.reshape(len(x), -1)  # noqa: E731
    train_noisy, train_clean = [], []
    for i in range(train.num_clips):
        clean = train.clip_poses(i).reshape(-1, joints, 4).astype(np.float64)
        tracks = _tracks(noise.add_noise(clean, sigma), reference)
        train_noisy.append(flat(tracks))
        train_clean.append(flat(_like(clean, tracks)))
    centre = np.concatenate(train_clean).mean(axis=0)
    _, _, basis = np.linalg.svd(np.concatenate(train_clean) - centre, full_matrices=False)
    project = lambda x: (x - centre) @ basis.T  # noqa: E731
    cutoffs = _best_cutoffs([project(n) for n in train_noisy], [project(c) for c in train_clean], fps)
    learned = [_finish(_filter_columns(project(flat(_tracks(n, reference))), cutoffs, fps) @ basis + centre, joints)
               for n in noisy]
    results["pca-wiener (learned on the training split)"] = _mean_deg(evaluated, learned)

    oracle = []
    for clean, noisy_clip in zip(evaluated, noisy):
        tracks = _tracks(noisy_clip, reference)
        n, c = flat(tracks), flat(_like(clean, tracks))
        mean = c.mean(axis=0)
        _, _, own = np.linalg.svd(c - mean, full_matrices=False)
        own_cutoffs = _best_cutoffs([(n - mean) @ own.T], [(c - mean) @ own.T], fps)
        oracle.append(_finish(_filter_columns((n - mean) @ own.T, own_cutoffs, fps) @ own + mean, joints))
    results["pca-wiener (oracle: per clip, knows the clean motion)"] = _mean_deg(evaluated, oracle)

    ideal = [_ideal_wiener(clean, _tracks(noisy_clip, reference), joints) for clean, noisy_clip in zip(evaluated, noisy)]
    results["wiener (oracle: per clip, knows the clean spectra)"] = _mean_deg(evaluated, ideal)

    for path in models:
        model = runtime.load_model(path, cache=False)
        results[f"model {Path(path).stem} (denoised)"] = _mean_deg(evaluated, [model.reconstruct(n) for n in noisy])
    return {
        "source": source,
        "sigma": sigma,
        "frames": int(sum(len(c) for c in evaluated)),
        "mean_angle_deg": results,
        "ratio_to_best_butterworth": {name: value / bw for name, value in results.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", help="training data set (.npz from `mocap-ae data build`)")
    parser.add_argument("--models", nargs="*", default=[], help="model sidecars (.json) to put beside the bounds")
    parser.add_argument("--sigma", type=float, default=0.05, help="noise sigma per quaternion component")
    parser.add_argument("--clips", nargs="*", default=[], help="evaluate these files instead of the validation split")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    report = measure(Dataset.load(args.dataset), args.sigma, args.models, args.clips)
    print(f"{report['source']}, {report['frames']} frames, sigma {report['sigma']:g}")
    for name, value in report["mean_angle_deg"].items():
        print(f"  {name:<55} {value:6.3f} deg  {report['ratio_to_best_butterworth'][name]:5.2f} x best Butterworth")
    if args.json:
        from maya_tool import atomic

        atomic.write_text(args.json, json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
