"""Classical smoothing filters: the bar an autoencoder has to clear.

If a zero-phase Butterworth low-pass or a Savitzky-Golay filter removes the
node's noise as well as a trained model does, the model is not worth its
weights. Both filter the four quaternion components of each joint over time,
which only makes sense once neighbouring frames are in the same hemisphere
(:func:`quaternion.continuous`); the result is renormalised and put back in
the w >= 0 hemisphere like every clip.

The ``sweep_*`` functions pick the best setting on the pooled error of the
clips being evaluated, i.e. with the clean answer in hand: an oracle, which
makes the baseline as strong as it can be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Sequence, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import quaternion as quat

FloatArray = NDArray[np.float64]

DEFAULT_CUTOFFS_HZ: tuple[float, ...] = tuple(float(c) for c in range(2, 13))
"""Butterworth cutoffs tried: 2 to 12 Hz, where human motion ends and noise begins."""

DEFAULT_SAVGOL_SECONDS: tuple[float, ...] = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)
"""Savitzky-Golay window lengths tried, in seconds (converted to odd frame counts)."""

DEFAULT_SAVGOL_ORDERS: tuple[int, ...] = (2, 4)
"""Polynomial orders tried; 3 smooths the middle of a window exactly like 2."""

T = TypeVar("T")


def _prepare(joint_rotations: Any) -> FloatArray:
    rots = np.asarray(joint_rotations, dtype=np.float64)
    if rots.ndim < 2 or rots.shape[-1] != 4:
        raise ValueError(f"expected rotations of shape (frames, ..., 4), got {rots.shape}")
    return quat.continuous(rots, axis=0)


def _finish(components: FloatArray) -> FloatArray:
    return quat.positive_w(quat.normalize(components))


def butterworth(joint_rotations: Any, fps: float, cutoff_hz: float, order: int = 2) -> FloatArray:
    """Zero-phase Butterworth low-pass over time, per quaternion component.

    ``sosfiltfilt`` runs the filter forwards and backwards, so the smoothed
    motion does not lag behind the original; the effective order doubles.
    Clips shorter than the filter's usual padding get a shorter padding
    rather than an error.

    Args:
        joint_rotations: (F, ..., 4) rotations, frames first.
        fps: Frames per second of the clip.
        cutoff_hz: -3 dB frequency (per pass), below the Nyquist rate fps/2.
        order: Butterworth order per pass.

    Raises:
        ValueError: For a cutoff outside (0, fps/2).
    """
    nyquist = 0.5 * float(fps)
    if not 0.0 < cutoff_hz < nyquist:
        raise ValueError(
            f"cutoff {cutoff_hz:g} Hz must be between 0 and the Nyquist rate {nyquist:g} Hz at {fps:g} fps"
        )
    return _butterworth(_prepare(joint_rotations), fps, cutoff_hz, order)


def _butterworth(rots: FloatArray, fps: float, cutoff_hz: float, order: int) -> FloatArray:
    """:func:`butterworth` on rotations already through :func:`_prepare`, cutoff already checked."""
    from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped]

    frames = rots.shape[0]
    if frames < 2:
        return _finish(rots)
    sos = butter(order, cutoff_hz, btype="low", fs=float(fps), output="sos")
    padlen = min(3 * (2 * len(sos) + 1), frames - 1)
    return _finish(sosfiltfilt(sos, rots, axis=0, padlen=padlen))


def savgol(joint_rotations: Any, window: int, order: int = 2) -> FloatArray:
    """Savitzky-Golay smoothing over time, per quaternion component.

    Fits a polynomial of ``order`` in a sliding window of ``window`` frames;
    unlike a low-pass it keeps peaks (a foot plant, a punch) sharp. A window
    longer than the clip shrinks to the clip; a clip too short to fit the
    polynomial is returned unfiltered.

    Raises:
        ValueError: For an even or too small window.
    """
    window = int(window)
    order = int(order)
    if window % 2 == 0 or window <= order:
        raise ValueError(f"Savitzky-Golay window must be odd and longer than the order {order}, got {window}")
    return _savgol(_prepare(joint_rotations), window, order)


def _savgol(rots: FloatArray, window: int, order: int) -> FloatArray:
    """:func:`savgol` on rotations already through :func:`_prepare`, window already checked."""
    from scipy.signal import savgol_filter  # type: ignore[import-untyped]

    frames = rots.shape[0]
    if window > frames:
        window = frames if frames % 2 == 1 else frames - 1
    if window <= order:
        return _finish(rots)
    return _finish(savgol_filter(rots, window, order, axis=0, mode="interp"))


def default_savgol_windows(fps: float) -> tuple[int, ...]:
    """Odd window lengths in frames for :data:`DEFAULT_SAVGOL_SECONDS` at ``fps``."""
    windows = []
    for seconds in DEFAULT_SAVGOL_SECONDS:
        frames = max(5, int(round(seconds * fps)))
        frames += 1 - frames % 2
        if frames not in windows:
            windows.append(frames)
    return tuple(windows)


@dataclass
class Sweep(Generic[T]):
    """Result of trying several settings on the same noisy clips.

    Attributes:
        best: The setting with the lowest score.
        scores: Setting -> pooled mean geodesic angle error, degrees.
        outputs: The filtered rotations of each clip at the best setting.
    """

    best: T
    scores: dict[T, float] = field(default_factory=dict)
    outputs: list[FloatArray] = field(default_factory=list)


Triple = tuple[Any, Any, float]
"""(clean rotations, noisy rotations, fps) of one clip."""


def _mean_angle_deg(cleans: Sequence[FloatArray], outputs: Sequence[FloatArray]) -> float:
    total = 0.0
    count = 0
    for clean, out in zip(cleans, outputs):
        angles = quat.geodesic_angle(clean, out)
        total += float(angles.sum())
        count += angles.size
    return float(np.degrees(total / count)) if count else 0.0


def _sweep(triples: Sequence[Triple], settings: Sequence[T], apply: Any) -> Sweep[T]:
    """Score every setting; ``apply(prepared, fps, setting)`` gets each noisy clip through :func:`_prepare`.

    Preparing once per clip rather than once per setting and clip spares
    repeating the hemisphere pass over the same noisy clip for every setting.
    """
    if not triples:
        raise ValueError("nothing to filter: no clips given")
    if not settings:
        raise ValueError("no filter settings to try")
    cleans = [np.asarray(c, dtype=np.float64) for c, _, _ in triples]
    prepared = [(_prepare(noisy), fps) for _, noisy, fps in triples]
    best: Sweep[T] | None = None
    scores: dict[T, float] = {}
    for setting in settings:
        outputs = [apply(rots, fps, setting) for rots, fps in prepared]
        score = _mean_angle_deg(cleans, outputs)
        scores[setting] = score
        if best is None or score < scores[best.best]:
            best = Sweep(best=setting, outputs=outputs)
    assert best is not None
    best.scores = scores
    return best


def sweep_butterworth(
    triples: Sequence[Triple], cutoffs: Sequence[float] = DEFAULT_CUTOFFS_HZ, order: int = 2
) -> Sweep[float]:
    """Try each cutoff on every clip; keep the one with the lowest pooled error.

    Cutoffs at or above the Nyquist rate of any clip are left out.

    Raises:
        ValueError: When no cutoff is usable at these frame rates.
    """
    lowest_nyquist = min(0.5 * float(fps) for _, _, fps in triples) if triples else 0.0
    usable = [float(c) for c in cutoffs if 0.0 < float(c) < lowest_nyquist]
    if triples and not usable:
        raise ValueError(f"no cutoff in {list(cutoffs)} is below the Nyquist rate {lowest_nyquist:g} Hz")
    return _sweep(triples, usable, lambda rots, fps, cutoff: _butterworth(rots, fps, cutoff, order))


def sweep_savgol(
    triples: Sequence[Triple],
    windows: Sequence[int] | None = None,
    orders: Sequence[int] = DEFAULT_SAVGOL_ORDERS,
) -> Sweep[tuple[int, int]]:
    """Try each (window, order) on every clip; keep the lowest pooled error.

    Windows default to :func:`default_savgol_windows` of the first clip's fps;
    combinations where the window is not longer than the order are skipped.
    """
    if windows is None:
        windows = default_savgol_windows(triples[0][2]) if triples else ()
    settings = [(int(w), int(o)) for w in windows for o in orders if int(w) % 2 == 1 and int(w) > int(o)]
    return _sweep(triples, settings, lambda rots, fps, setting: _savgol(rots, setting[0], setting[1]))


def best_butterworth(
    clean: Any, noisy: Any, fps: float, cutoffs: Sequence[float] = DEFAULT_CUTOFFS_HZ, order: int = 2
) -> tuple[float, FloatArray]:
    """(best cutoff in Hz, filtered rotations) for one clip; see :func:`sweep_butterworth`."""
    result = sweep_butterworth([(clean, noisy, fps)], cutoffs=cutoffs, order=order)
    return result.best, result.outputs[0]


def best_savgol(
    clean: Any,
    noisy: Any,
    fps: float,
    windows: Sequence[int] | None = None,
    orders: Sequence[int] = DEFAULT_SAVGOL_ORDERS,
) -> tuple[tuple[int, int], FloatArray]:
    """((window, order), filtered rotations) for one clip; see :func:`sweep_savgol`."""
    result = sweep_savgol([(clean, noisy, fps)], windows=windows, orders=orders)
    return result.best, result.outputs[0]
