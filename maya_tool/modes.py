"""What the node and the panel show: original, encoded, noisy or denoised.

The tutorial node had two controls, a noise amount and an encode toggle; the
product adds an explicit ``mode``. They combine in one rule shared by every
host: noise is added in the ``noisy`` and ``denoised`` modes, and the model is
applied in ``encoded`` and ``denoised`` or whenever ``encode`` is on (so the
tutorial's toggle turns ``original`` into ``encoded`` and ``noisy`` into
``denoised``).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from .clip import Clip
from .noise import add_noise

MODES = ("original", "encoded", "noisy", "denoised")


class PoseModel(Protocol):
    """What a model must offer the hosts: a batched pass over a whole clip."""

    def check_clip(self, clip: Clip) -> None: ...

    def reconstruct(self, joint_rotations: NDArray[np.float64]) -> NDArray[np.float64]: ...


def pipeline(mode: str, encode: bool = False) -> tuple[bool, bool]:
    """(add noise, apply model) for a mode and the encode toggle."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")
    noisy = mode in ("noisy", "denoised")
    encoded = encode or mode in ("encoded", "denoised")
    return noisy, encoded


def effective_mode(mode: str, encode: bool = False) -> str:
    """The mode actually shown once the encode toggle is applied."""
    noisy, encoded = pipeline(mode, encode)
    return {(False, False): "original", (False, True): "encoded", (True, False): "noisy", (True, True): "denoised"}[
        (noisy, encoded)
    ]


def compute_variant(
    clip: Clip, mode: str, *, model: PoseModel | None = None, encode: bool = False, sigma: float = 0.0
) -> Clip:
    """The whole clip as shown in ``mode``, computed in one batch.

    Raises:
        ValueError: When the mode needs a model and none is given.
        ModelMismatchError: From the model, when it does not fit the clip.
    """
    noisy, encoded = pipeline(mode, encode)
    rotations = clip.joint_rotations
    if noisy:
        rotations = add_noise(rotations, sigma)
    if encoded:
        if model is None:
            raise ValueError(f"mode {effective_mode(mode, encode)!r} needs a model: pick one first")
        model.check_clip(clip)
        rotations = model.reconstruct(rotations)
    if not noisy and not encoded:
        return clip
    return clip.with_joint_rotations(rotations, variant=effective_mode(mode, encode), noise_sigma=sigma if noisy else 0.0)
