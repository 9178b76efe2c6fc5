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


def _raw(components: FloatArray) -> FloatArray:
    return components


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


def _butterworth(rots: FloatArray, fps: float, cutoff_hz: float, order: int, raw: bool = False) -> FloatArray:
    """:func:`butterworth` on rotations already through :func:`_prepare`, cutoff already checked.

    ``raw`` skips :func:`_finish`: sweeps score the filtered components as
    they are (:func:`error_sums` normalises) and finish only the best.
    """
    finish = _raw if raw else _finish
    from scipy.signal import butter, sosfiltfilt  # type: ignore[import-untyped]

    frames = rots.shape[0]
    if frames < 2:
        return finish(rots)
    sos = butter(order, cutoff_hz, btype="low", fs=float(fps), output="sos")
    padlen = min(3 * (2 * len(sos) + 1), frames - 1)
    return finish(sosfiltfilt(sos, rots, axis=0, padlen=padlen))


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


def _savgol(rots: FloatArray, window: int, order: int, raw: bool = False) -> FloatArray:
    """:func:`savgol` on rotations already through :func:`_prepare`, window already checked (``raw``: unfinished)."""
    finish = _raw if raw else _finish
    from scipy.signal import savgol_filter  # type: ignore[import-untyped]

    frames = rots.shape[0]
    if window > frames:
        window = frames if frames % 2 == 1 else frames - 1
    if window <= order:
        return finish(rots)
    return finish(savgol_filter(rots, window, order, axis=0, mode="interp"))


DEFAULT_DESPIKE_SECONDS: tuple[float, ...] = (0.05, 0.1, 0.2)
"""Peak-remover windows tried, in seconds: 7, 13 and 25 frames at 120 fps.

A pop lasts 1-3 frames; a running median ignores it once the window holds
more than twice as many frames, so the shortest window is about seven.
"""

DEFAULT_DESPIKE_THRESHOLDS: tuple[float, ...] = (1.5, 2.5, 4.0)
"""Hampel thresholds tried, in robust standard deviations of the window."""

HAMPEL_SCALE = 1.4826
"""Turns a median absolute deviation into a standard deviation for Gaussian data."""

DespikeSetting = tuple[int, float, "float | None"]
"""(window in frames, threshold, Butterworth cutoff in Hz or None for no low-pass)."""


def default_despike_windows(fps: float) -> tuple[int, ...]:
    """Odd window lengths in frames (at least 5) for :data:`DEFAULT_DESPIKE_SECONDS` at ``fps``."""
    windows = []
    for seconds in DEFAULT_DESPIKE_SECONDS:
        frames = max(5, int(round(seconds * fps)))
        frames += 1 - frames % 2
        if frames not in windows:
            windows.append(frames)
    return tuple(windows)


def _median_track(rots: FloatArray, window: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(running median rotations, each frame's angle from it, the window's robust scale), all per joint.

    The median is taken per quaternion component on hemisphere-continuous
    tracks (``scipy.ndimage.median_filter`` with the window along time only,
    edges held: ``scipy.signal.medfilt`` pads with zeros, which would pull the
    ends towards a zero quaternion) and renormalised. The deviation of a frame
    is the geodesic angle between its rotation and the median's, a joint-level
    measure: a pop turns a whole joint, not one component. The scale is the
    running median of that deviation, times :data:`HAMPEL_SCALE`.
    """
    from scipy.ndimage import median_filter  # type: ignore[import-untyped]

    window = min(int(window), rots.shape[0] if rots.shape[0] % 2 else rots.shape[0] - 1)
    if window < 3:
        zeros = np.zeros(rots.shape[:-1])
        return rots, zeros, zeros
    size = (window,) + (1,) * (rots.ndim - 1)
    median = quat.normalize(median_filter(rots, size=size, mode="nearest"))
    deviation = _angle_deg(rots, median)
    scale = HAMPEL_SCALE * median_filter(deviation, size=size[:-1], mode="nearest")
    return median, deviation, scale


def _despike(rots: FloatArray, threshold: float, track: tuple[FloatArray, FloatArray, FloatArray]) -> FloatArray:
    """Frames further than ``threshold`` robust deviations from the running median replaced by it."""
    median, deviation, scale = track
    outliers = deviation > float(threshold) * scale
    return np.where(outliers[..., None], median, rots)


def despike(
    joint_rotations: Any, window: int, threshold: float, fps: float | None = None, cutoff_hz: float | None = None,
    order: int = 2,
) -> FloatArray:
    """Hampel peak removal, per joint, optionally followed by a zero-phase Butterworth.

    What an animator does with a popping take (Maya's ``filterCurve``
    ``peakRemover``, then ``butterworth``): a frame whose rotation lies more
    than ``threshold`` robust standard deviations from the running median of
    its ``window`` neighbours is replaced by that median; the Butterworth then
    smooths what is left.

    Args:
        joint_rotations: (F, ..., 4) rotations, frames first.
        window: Odd number of frames of the running median, at least 3.
        threshold: Hampel threshold (robust standard deviations).
        fps: Frames per second, needed with ``cutoff_hz``.
        cutoff_hz: Butterworth cutoff after despiking; None for none.
        order: Butterworth order per pass.

    Raises:
        ValueError: For an even or too short window, a negative threshold or a
            cutoff without fps or outside (0, fps/2).
    """
    window = int(window)
    if window % 2 == 0 or window < 3:
        raise ValueError(f"peak-remover window must be odd and at least 3 frames, got {window}")
    if not float(threshold) >= 0.0:
        raise ValueError(f"peak-remover threshold must be 0 or more, got {threshold!r}")
    if cutoff_hz is not None:
        if fps is None:
            raise ValueError("a Butterworth cutoff after the peak remover needs the clip's fps")
        nyquist = 0.5 * float(fps)
        if not 0.0 < cutoff_hz < nyquist:
            raise ValueError(
                f"cutoff {cutoff_hz:g} Hz must be between 0 and the Nyquist rate {nyquist:g} Hz at {fps:g} fps"
            )
    rots = _prepare(joint_rotations)
    return _despike_butterworth(rots, float(fps or 0.0), (window, float(threshold), cutoff_hz), order)


def _despike_butterworth(
    rots: FloatArray, fps: float, setting: DespikeSetting, order: int = 2,
    track: tuple[FloatArray, FloatArray, FloatArray] | None = None, raw: bool = False,
) -> FloatArray:
    window, threshold, cutoff = setting
    cleaned = _despike(rots, threshold, track if track is not None else _median_track(rots, window))
    if cutoff is None:
        return cleaned if raw else _finish(cleaned)
    return _butterworth(cleaned, fps, cutoff, order, raw)


def sweep_despike(
    triples: Sequence[Triple],
    windows: Sequence[int] | None = None,
    thresholds: Sequence[float] = DEFAULT_DESPIKE_THRESHOLDS,
    cutoffs: Sequence[float | None] = (None, *DEFAULT_CUTOFFS_HZ),
    order: int = 2,
    animated: Sequence[Any] | None = None,
    start_cutoff: float | None = None,
) -> Sweep[DespikeSetting]:
    """Peak remover + Butterworth, swept by coordinate descent on the pooled animated-joint error.

    The full grid (3 windows x 3 thresholds x 12 cutoffs) would cost a hundred
    Butterworth passes over every clip; the two stages below reach the same
    optimum on smooth error surfaces like these at a quarter of the cost:

    1. every (window, threshold) with no low-pass and with ``start_cutoff``
       (the best plain Butterworth's cutoff, when known);
    2. every cutoff for the best (window, threshold); and, when that moved
       the cutoff, every (window, threshold) again at the new one.

    Each clip's running medians are computed once per window and reused.
    ``None`` in ``cutoffs`` means no low-pass (despiking alone).

    Raises:
        ValueError: No clips, or no usable window or cutoff.
    """
    if not triples:
        raise ValueError("nothing to filter: no clips given")
    if windows is None:
        windows = default_despike_windows(triples[0][2])
    lowest_nyquist = min(0.5 * float(fps) for _, _, fps in triples)
    usable_cutoffs: list[float | None] = [
        None if c is None else float(c) for c in cutoffs if c is None or 0.0 < float(c) < lowest_nyquist
    ]
    pairs = [(int(w), float(k)) for w in windows for k in thresholds if int(w) % 2 == 1 and int(w) >= 3]
    if not pairs or not usable_cutoffs:
        raise ValueError("no peak-remover setting to try: windows must be odd and >= 3, cutoffs below Nyquist")
    cleans = [np.asarray(c, dtype=np.float64) for c, _, _ in triples]
    masks = _masks(triples, animated)
    prepared = [(_prepare(noisy), float(fps)) for _, noisy, fps in triples]
    tracks: dict[tuple[int, int], tuple[FloatArray, FloatArray, FloatArray]] = {}
    scores: dict[DespikeSetting, float] = {}
    all_scores: dict[DespikeSetting, float] = {}

    def score(setting: DespikeSetting) -> float:
        if setting not in scores:
            total = np.zeros(4)
            for i, ((rots, fps), clean, mask) in enumerate(zip(prepared, cleans, masks)):
                key = (i, setting[0])
                if key not in tracks:
                    tracks[key] = _median_track(rots, setting[0])
                total += error_sums(clean, _despike_butterworth(rots, fps, setting, order, tracks[key], True), mask)
            scores[setting], all_scores[setting] = pooled_means(total)
        return scores[setting]

    def best_pair(cutoff: float | None) -> tuple[int, float]:
        return min(pairs, key=lambda p: score((p[0], p[1], cutoff)))

    first = [None] if None in usable_cutoffs else []
    if start_cutoff is not None and float(start_cutoff) in usable_cutoffs:
        first.append(float(start_cutoff))
    if not first:
        first = [usable_cutoffs[0]]
    for cutoff in first:
        best_pair(cutoff)
    window, threshold, cutoff = min(scores, key=lambda s: scores[s])
    cutoff = min(usable_cutoffs, key=lambda c: score((window, threshold, c)))
    if cutoff not in first:
        best_pair(cutoff)
    best = min(scores, key=lambda s: scores[s])
    outputs = [
        _despike_butterworth(rots, fps, best, order, tracks.get((i, best[0])))
        for i, (rots, fps) in enumerate(prepared)
    ]
    return Sweep(best=best, scores=scores, outputs=outputs, all_scores=all_scores)


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
        scores: Setting -> pooled mean geodesic angle error over the animated
            joints (what settings are picked on), degrees.
        outputs: The filtered rotations of each clip at the best setting.
        all_scores: Setting -> pooled mean angle error over all joints, degrees.
    """

    best: T
    scores: dict[T, float] = field(default_factory=dict)
    outputs: list[FloatArray] = field(default_factory=list)
    all_scores: dict[T, float] = field(default_factory=dict)


Triple = tuple[Any, Any, float]
"""(clean rotations, noisy rotations, fps) of one clip."""

Sums = NDArray[np.float64]
"""(4,) error sums of one setting on one clip: animated sum (deg), animated count, all sum, all count.

Sums rather than means so that clips evaluated apart (another process, say)
pool exactly: add them, then divide.
"""


def _angle_deg(a: FloatArray, b: FloatArray, normalise: bool = False) -> FloatArray:
    """Geodesic angle (deg) between unit quaternions from their dot product.

    Cheaper than :func:`quaternion.geodesic_angle` (no quaternion product),
    which matters when a sweep scores a hundred settings; for unit inputs the
    two agree to about 1e-6 degrees, far below any difference a sweep decides on.
    ``normalise`` divides by the length of ``b``, for filtered components not
    yet renormalised (the sign does not matter: q and -q are one rotation).
    """
    dots = np.abs(np.einsum("...c,...c->...", a, b))
    if normalise:
        dots /= np.maximum(np.sqrt(np.einsum("...c,...c->...", b, b)), 1e-12)
    return np.degrees(2.0 * np.arccos(np.minimum(dots, 1.0)))


def animated_joints(clean: Any) -> NDArray[np.bool_]:
    """(J,) joints that move in ``clean`` (:func:`maya_tool.corruption.animated_mask`)."""
    from .corruption import animated_mask

    return animated_mask(np.asarray(clean, dtype=np.float64))


def error_sums(clean: FloatArray, output: FloatArray, animated: NDArray[np.bool_]) -> Sums:
    """:data:`Sums` of one filtered clip against its clean rotations (``output`` need not be unit length)."""
    angles = _angle_deg(clean, output, normalise=True)
    moving = angles[:, np.asarray(animated, dtype=bool)]
    return np.array([moving.sum(), moving.size, angles.sum(), angles.size], dtype=np.float64)


def pooled_means(sums: Sums) -> tuple[float, float]:
    """(animated mean, all-joint mean) from pooled :data:`Sums`.

    A clip set with no animated joint at all falls back to the all-joint mean,
    so a sweep still has something to pick on.
    """
    everything = float(sums[2] / sums[3]) if sums[3] else 0.0
    return (float(sums[0] / sums[1]) if sums[1] else everything), everything


def _masks(triples: Sequence[Triple], animated: Sequence[Any] | None) -> list[NDArray[np.bool_]]:
    if animated is None:
        return [animated_joints(clean) for clean, _, _ in triples]
    if len(animated) != len(triples):
        raise ValueError(f"{len(animated)} animated masks for {len(triples)} clips")
    return [np.asarray(m, dtype=bool) for m in animated]


def _sweep(
    triples: Sequence[Triple], settings: Sequence[T], apply: Any, animated: Sequence[Any] | None = None
) -> Sweep[T]:
    """Score every setting; ``apply(prepared, fps, setting)`` gets each noisy clip through :func:`_prepare`.

    Preparing once per clip rather than once per setting and clip spares
    repeating the hemisphere pass over the same noisy clip for every setting;
    ``apply`` returns unfinished components and only the best are finished.
    Settings are picked on the pooled mean over the animated joints (``animated``:
    one (J,) mask per clip, default the joints that move in its clean clip).
    """
    if not triples:
        raise ValueError("nothing to filter: no clips given")
    if not settings:
        raise ValueError("no filter settings to try")
    cleans = [np.asarray(c, dtype=np.float64) for c, _, _ in triples]
    masks = _masks(triples, animated)
    prepared = [(_prepare(noisy), fps) for _, noisy, fps in triples]
    best: Sweep[T] | None = None
    scores: dict[T, float] = {}
    all_scores: dict[T, float] = {}
    for setting in settings:
        outputs = [apply(rots, fps, setting) for rots, fps in prepared]
        total = sum(error_sums(c, o, m) for c, o, m in zip(cleans, outputs, masks))
        scores[setting], all_scores[setting] = pooled_means(total)
        if best is None or scores[setting] < scores[best.best]:
            best = Sweep(best=setting, outputs=outputs)
    assert best is not None
    best.outputs = [_finish(o) for o in best.outputs]
    best.scores = scores
    best.all_scores = all_scores
    return best


def sweep_butterworth(
    triples: Sequence[Triple],
    cutoffs: Sequence[float] = DEFAULT_CUTOFFS_HZ,
    order: int = 2,
    animated: Sequence[Any] | None = None,
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
    return _sweep(triples, usable, lambda rots, fps, cutoff: _butterworth(rots, fps, cutoff, order, True), animated)


def sweep_savgol(
    triples: Sequence[Triple],
    windows: Sequence[int] | None = None,
    orders: Sequence[int] = DEFAULT_SAVGOL_ORDERS,
    animated: Sequence[Any] | None = None,
) -> Sweep[tuple[int, int]]:
    """Try each (window, order) on every clip; keep the lowest pooled error.

    Windows default to :func:`default_savgol_windows` of the first clip's fps;
    combinations where the window is not longer than the order are skipped.
    """
    if windows is None:
        windows = default_savgol_windows(triples[0][2]) if triples else ()
    settings = [(int(w), int(o)) for w in windows for o in orders if int(w) % 2 == 1 and int(w) > int(o)]
    return _sweep(triples, settings, lambda rots, fps, setting: _savgol(rots, setting[0], setting[1], True), animated)


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
