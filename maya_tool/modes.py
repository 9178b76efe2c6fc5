"""What the node and the panel show: original, encoded, noisy, denoised or cleaned.

The tutorial node had two controls, a noise amount and an encode toggle; the
product adds an explicit ``mode``. They combine in one rule shared by every
host: corruption (the tutorial's noise, or a capture artifact from
:mod:`maya_tool.corruption`) is added in the ``noisy`` and ``denoised`` modes,
and the model is applied in ``encoded``, ``denoised`` and ``cleaned`` or
whenever ``encode`` is on (so the tutorial's toggle turns ``original`` into
``encoded`` and ``noisy`` into ``denoised``).

``cleaned`` runs the model on the clip's own data, as ``encoded`` does, but
names what an artist cleaning a real take is doing: there is no clean
reference, so what the panel shows is how much the model *changed* the take.

The panel has one mode control; the node keeps ``mode`` and ``encode``.
:func:`node_attributes` and :func:`mode_from_node` map between the two so
that they never disagree: the panel writes a mode with the ``encode`` value
it implies, and reads the mode the node actually shows.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from . import corruption as corruption_module
from .clip import Clip
from .corruption import CORRUPTIONS, Corruption
from .noise import add_noise

MODES = ("original", "encoded", "noisy", "denoised", "cleaned")
"""Modes in the order of the node's enum (new ones only ever appended)."""

MODEL_MODES = ("encoded", "denoised", "cleaned")
"""Modes that run the model."""

CORRUPTED_MODES = ("noisy", "denoised")
"""Modes that corrupt the clip first."""

SIGMA_CORRUPTIONS = ("gaussian", "capture")
"""Corruptions whose Gaussian sigma is the node's ``noise`` value (pops and gaps use their default rates)."""


class PoseModel(Protocol):
    """What a model must offer the hosts: a batched pass over a whole clip."""

    def check_clip(self, clip: Clip) -> None: ...

    def reconstruct(self, joint_rotations: NDArray[np.float64]) -> NDArray[np.float64]: ...


def _check(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(MODES)}")


def pipeline(mode: str, encode: bool = False) -> tuple[bool, bool]:
    """(add corruption, apply model) for a mode and the encode toggle."""
    _check(mode)
    return mode in CORRUPTED_MODES, bool(encode) or mode in MODEL_MODES


def effective_mode(mode: str, encode: bool = False) -> str:
    """The mode actually shown once the encode toggle is applied."""
    noisy, encoded = pipeline(mode, encode)
    if mode == "cleaned":
        return "cleaned"
    return {(False, False): "original", (False, True): "encoded", (True, False): "noisy", (True, True): "denoised"}[
        (noisy, encoded)
    ]


def uses_model(mode: str) -> bool:
    """Whether a mode runs the model (what the node's ``encode`` says for it)."""
    _check(mode)
    return mode in MODEL_MODES


def node_attributes(mode: str) -> tuple[str, bool]:
    """The node's (``mode``, ``encode``) that show ``mode``, without contradiction."""
    return mode, uses_model(mode)


def toggle_encode(mode: str, encode: bool) -> str:
    """The mode shown when the tutorial's encode toggle is set to ``encode`` while ``mode`` is shown.

    Ticking it turns original into encoded and noisy into denoised; unticking
    it turns them back (and cleaned into original).
    """
    _check(mode)
    if encode:
        return effective_mode(mode, True)
    return {"encoded": "original", "cleaned": "original", "denoised": "noisy"}.get(mode, mode)


def mode_from_node(mode: str, encode: bool) -> str:
    """The one mode a panel shows for a node's (``mode``, ``encode``): what the node computes."""
    return effective_mode(mode, encode)


def corruption_setting(name: str = "gaussian", sigma: float = 0.0) -> Corruption:
    """The corruption the hosts apply for a corruption name and the ``noise`` value.

    ``gaussian`` and ``capture`` take ``sigma`` as their Gaussian sigma;
    ``pops`` and ``gaps`` use their default rates and no jitter.

    Raises:
        MocapError: For an unknown name or a sigma out of range.
    """
    if name in SIGMA_CORRUPTIONS:
        return corruption_module.make(name, sigma=max(0.0, float(sigma)))
    return corruption_module.make(name)


def compute_variant(
    clip: Clip,
    mode: str,
    *,
    model: PoseModel | None = None,
    encode: bool = False,
    sigma: float = 0.0,
    corruption: str | Corruption = "gaussian",
    seed: int = 0,
) -> Clip:
    """The whole clip as shown in ``mode``, computed in one batch.

    Args:
        clip: The clip as read.
        mode: One of :data:`MODES`.
        model: Needed by the modes that run a model.
        encode: The tutorial's toggle (see :func:`pipeline`).
        sigma: The ``noise`` value: Gaussian sigma per quaternion component.
        corruption: A name of :data:`maya_tool.corruption.CORRUPTIONS` (combined
            with ``sigma`` by :func:`corruption_setting`) or a full setting.
            The default, ``gaussian``, is the tutorial's noise exactly.
        seed: Seeds pops and gaps (the same clip and seed, the same take).

    Raises:
        ValueError: When the mode needs a model and none is given.
        MocapError: For an unknown corruption.
        ModelMismatchError: From the model, when it does not fit the clip.
    """
    noisy, encoded = pipeline(mode, encode)
    shown = effective_mode(mode, encode)
    rotations = clip.joint_rotations
    setting = None
    if noisy:
        if isinstance(corruption, str) and corruption == "gaussian":
            rotations = add_noise(rotations, sigma)
        else:
            if isinstance(corruption, str) and corruption not in CORRUPTIONS:
                corruption_module.make(corruption)  # raises the located error
            setting = corruption if isinstance(corruption, Corruption) else corruption_setting(corruption, sigma)
            rotations = corruption_module.corrupt_rotations(rotations, setting, seed=seed)
    if encoded:
        if model is None:
            raise ValueError(f"mode {shown!r} needs a model: pick one first")
        model.check_clip(clip)
        rotations = model.reconstruct(rotations)
    if not noisy and not encoded:
        return clip
    extra = {"corruption": setting.to_dict(), "corruption_seed": int(seed)} if setting is not None else {}
    return clip.with_joint_rotations(rotations, variant=shown, noise_sigma=sigma if noisy else 0.0, **extra)
