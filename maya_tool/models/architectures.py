"""The three autoencoders, as Keras models and as layer lists for the runtime.

* ``pose``: the tutorial's per-frame compressor, 120-60-30-60-120 with
  sigmoid, sigmoid, linear, tanh, trained with Adam (amsgrad) on MSE.
  ``params={"original": true}`` reproduces it exactly (no input
  normalisation, fixed learning rate, no early stopping); by default it gains
  per-feature input normalisation, a cosine learning-rate decay and early
  stopping with the best weights restored.
* ``sparse``: an overcomplete per-frame autoencoder, 120-256-128-256-120, with
  an L1 activity penalty on the first layer.
* ``temporal``: a temporal codec over windows of frames. The default design
  (``design: "codec"``) starts as a linear codec and learns a nonlinear
  correction: a per-frame projection on the first ``latent_channels``
  principal components of the training poses (``proj``), a strided
  convolution that starts as a box average over ``stride`` frames
  (``down``: the latent), then x``stride`` upsampling and a convolution that
  starts as linear interpolation (``up``, ``interp``) and a dense layer that
  starts as the PCA basis (``back``). Residual blocks ``x + f(x)`` (two
  convolutions, the last initialised to zero) on the component signals before
  ``down`` (``enc_res``, what can reject noise) and after ``interp``
  (``dec_res``), and (``latent_residual``) at the latent rate too
  (``enc_lat`` after ``down``, ``dec_lat`` before ``up``: wide context for
  little compute), add the nonlinearity; at step 0 the network *is* the linear
  codec (see :func:`codec_weights`), so training can only improve on it.
  Default: stride 2, 60 components (30 numbers per frame, 4:1);
  ``high_ratio``: stride 8, 60 components (7.5 per frame, 16:1). Inputs
  switch sign with hysteresis (``sign_band``, see
  ``runtime.banded_signs``): a temporal model cannot reproduce a q -> -q step,
  and noise near a joint's hemisphere border would make one every frame.
  ``design: "conv"`` is the earlier convolutional autoencoder after Holden et
  al. 2015 (stride-2 ``same`` convolutions, upsampling, tanh output, from a
  random start), which a CPU cannot train far enough.

Only layers that :mod:`maya_tool.models.runtime` re-implements exactly are
used: ``Normalization`` (first layer, with fixed mean and variance), ``Dense``,
``Conv1D`` (``same`` padding), ``UpSampling1D``, ``Add`` (residual blocks) and
the activations in ``runtime.ACTIVATIONS``. Outputs are in quaternion space:
the per-frame models and the ``conv`` design end in ``tanh``, the codec's
``back`` layer folds the de-normalisation into its weights.

This module imports Keras only inside functions: the parameter helpers are
used by processes that never load TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from ..errors import MocapError
from .modelfile import ARCHITECTURES, TEMPORAL_ARCHITECTURES
from .runtime import ACTIVATIONS

_COMMON: dict[str, Any] = {
    "original": False,
    "normalise": True,
    "std_floor": 0.05,
    "lr": 1e-3,
    "lr_schedule": "cosine",
    "lr_min_fraction": 0.05,
    "early_stopping": True,
    "patience": 10,
    "latent_dtype": "float32",
    "clipnorm": 0.0,
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "pose": {**_COMMON, "units": [60, 30], "activations": ["sigmoid", "sigmoid", "linear", "tanh"]},
    "sparse": {
        **_COMMON,
        "units": [256, 128],
        "activations": ["relu", "linear", "relu", "tanh"],
        "l1": 1e-9,
    },
    "temporal": {
        **_COMMON,
        "normalise": False,
        "lr": 3e-4,
        "clipnorm": 1.0,
        "design": "codec",
        "window": 64,
        "stride": 2,
        "latent_channels": 60,
        "hidden_channels": 256,
        "kernel": 9,
        "activation": "elu",
        "output_activation": "linear",
        "encoder_residual": True,
        "decoder_residual": True,
        "latent_residual": True,
        "latent_kernel": 9,
        "sign_band": 0.2,
        "inference": "full",
        "sample_hop": 16,
        "high_ratio": False,
    },
    "denoiser": {
        **_COMMON,
        "normalise": False,
        "lr": 1e-3,
        "lr_min_fraction": 0.02,
        "clipnorm": 1.0,
        "patience": 8,
        "window": 384,
        "levels": 4,
        "channels": [96, 128, 192, 256, 256],
        "blocks": [1, 1, 1, 1, 2],
        "kernel": 5,
        "activation": "elu",
        "output_activation": "linear",
        "sign_band": 1.0,
        "sign_flip": 0.5,
        "inference": "full",
        "sample_hop": 96,
        "capture_share": 0.5,
        "capture_sigma": [0.0, 0.03],
        "pop_rate": [0.0, 0.01],
        "gap_rate": [0.0, 0.004],
        "init": None,
    },
}
"""Default parameters per architecture; a job's ``params`` override them."""

DEFAULT_BATCH = {"pose": 256, "sparse": 256, "temporal": 32, "denoiser": 16}
"""Frames (pose, sparse) or windows (temporal) per batch unless a job says otherwise."""

HIGH_RATIO = {"stride": 8, "latent_channels": 60, "latent_kernel": 5}
"""What ``high_ratio: true`` sets for the temporal model (7.5 numbers per frame, 16:1)."""

CONV_DESIGN = {
    "normalise": True,
    "lr": 1e-3,
    "clipnorm": 0.0,
    "stride": 4,
    "latent_channels": 120,
    "hidden_channels": 128,
    "output_activation": "tanh",
    "sign_band": 0.0,
}
"""What ``design: "conv"`` sets for the temporal model: the earlier autoencoder's defaults."""


def resolve_params(architecture: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults merged with overrides, checked, with shortcuts expanded.

    ``original`` turns off normalisation, the schedule and early stopping;
    ``high_ratio`` picks the 16:1 temporal setting (explicit ``stride`` or
    ``latent_channels`` still win).

    Raises:
        MocapError: For an unknown key or a value that cannot work.
    """
    if architecture not in ARCHITECTURES:
        raise MocapError(f"unknown architecture {architecture!r}: expected one of {', '.join(ARCHITECTURES)}")
    overrides = dict(overrides or {})
    params = dict(DEFAULTS[architecture])
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise MocapError(
            f"unknown {architecture} parameters {', '.join(unknown)}; known: {', '.join(sorted(params))}"
        )
    if architecture == "temporal" and overrides.get("design") == "conv":
        params.update(CONV_DESIGN)
    if overrides.get("high_ratio"):
        params.update(HIGH_RATIO)
    if overrides.get("original"):
        params.update({"normalise": False, "lr_schedule": "constant", "early_stopping": False})
    params.update(overrides)
    _check(architecture, params)
    return params


def _check(architecture: str, p: Mapping[str, Any]) -> None:
    def bad(message: str) -> MocapError:
        return MocapError(f"{architecture} parameters: {message}")

    if p["lr_schedule"] not in ("cosine", "constant"):
        raise bad(f"lr_schedule must be 'cosine' or 'constant', got {p['lr_schedule']!r}")
    if p["latent_dtype"] not in ("float32", "float16"):
        raise bad(f"latent_dtype must be 'float32' or 'float16', got {p['latent_dtype']!r}")
    if float(p["clipnorm"]) < 0:
        raise bad(f"clipnorm must be >= 0 (0: off), got {p['clipnorm']!r}")
    if not float(p["lr"]) > 0:
        raise bad(f"lr must be positive, got {p['lr']!r}")
    if architecture == "denoiser":
        _check_denoiser(p, bad)
        acts_to_check = [p["activation"], p["output_activation"]]
    elif architecture in ("pose", "sparse"):
        units, acts = list(p["units"]), list(p["activations"])
        if not units or any(int(u) < 1 for u in units):
            raise bad(f"units must be positive sizes, got {units!r}")
        if len(acts) != 2 * len(units):
            raise bad(f"{len(units)} encoder layers need {2 * len(units)} activations, got {len(acts)}")
        acts_to_check = acts
    else:
        stride, window = int(p["stride"]), int(p["window"])
        if stride < 2 or stride & (stride - 1):
            raise bad(f"stride must be a power of two >= 2, got {stride}")
        if window < 2 * stride or window % (2 * stride):
            raise bad(f"window must be a multiple of 2 x stride ({2 * stride}), got {window}")
        if p["design"] not in ("codec", "conv"):
            raise bad(f"design must be 'codec' or 'conv', got {p['design']!r}")
        if not 0.0 <= float(p["sign_band"]) <= 1.0:
            raise bad(f"sign_band must be in [0, 1], got {p['sign_band']!r}")
        if p["inference"] not in ("windows", "full"):
            raise bad(f"inference must be 'windows' or 'full', got {p['inference']!r}")
        if min(int(p["kernel"]), int(p["latent_kernel"]), int(p["latent_channels"]), int(p["hidden_channels"])) < 1:
            raise bad("kernel, latent_kernel, latent_channels and hidden_channels must be positive")
        if int(p["sample_hop"]) < 1:
            raise bad(f"sample_hop must be positive, got {p['sample_hop']!r}")
        acts_to_check = [p["activation"], p["output_activation"]]
    for act in acts_to_check:
        if act not in ACTIVATIONS:
            raise bad(f"activation {act!r} is not one the runtime implements ({', '.join(ACTIVATIONS)})")


def _check_denoiser(p: Mapping[str, Any], bad: Any) -> None:
    levels, window = int(p["levels"]), int(p["window"])
    if not 1 <= levels <= 6:
        raise bad(f"levels must be 1..6, got {levels}")
    if len(p["channels"]) != levels + 1 or len(p["blocks"]) != levels + 1:
        raise bad(f"channels and blocks need {levels + 1} entries (one per rate), got "
                  f"{len(p['channels'])} and {len(p['blocks'])}")
    if min(int(c) for c in p["channels"]) < 1 or min(int(b) for b in p["blocks"]) < 0:
        raise bad("channels must be positive and blocks >= 0")
    if window < 2 ** levels or window % 2 ** levels:
        raise bad(f"window must be a multiple of 2^levels ({2 ** levels}), got {window}")
    if int(p["kernel"]) < 1 or int(p["sample_hop"]) < 1:
        raise bad("kernel and sample_hop must be positive")
    if not 1.0 <= float(p["sign_band"]):
        raise bad("sign_band must be >= 1 for the denoiser (continuous-sign inputs)")
    if p["inference"] != "full":
        raise bad("the denoiser runs on whole clips: inference must be 'full'")
    for key in ("capture_sigma", "pop_rate", "gap_rate"):
        lo, hi = (float(v) for v in p[key])
        if not 0.0 <= lo <= hi:
            raise bad(f"{key} must be a range [lo, hi] with 0 <= lo <= hi, got {p[key]!r}")
    for key in ("capture_share", "sign_flip"):
        if not 0.0 <= float(p[key]) <= 1.0:
            raise bad(f"{key} must be in [0, 1], got {p[key]!r}")


def stride_of(architecture: str, params: Mapping[str, Any]) -> int:
    """Frames per step at the coarsest rate: whole-clip inputs are padded to a multiple of it."""
    if architecture == "denoiser":
        return 2 ** int(params["levels"])
    return int(params.get("stride", 1))


def latent_per_frame(architecture: str, params: Mapping[str, Any], input_size: int = 0) -> float:
    """Latent numbers per frame: what the compression ratio is computed from (a denoiser keeps them all)."""
    if architecture == "denoiser":
        return float(input_size)
    if architecture == "temporal":
        return int(params["latent_channels"]) / int(params["stride"])
    return float(params["units"][-1])


def compression(architecture: str, params: Mapping[str, Any], input_size: int) -> dict[str, float]:
    """``latent_per_frame``, ``bits_per_frame`` and ``ratio`` (vs input_size float32 per frame)."""
    latent = latent_per_frame(architecture, params, input_size)
    bits = 16 if params.get("latent_dtype") == "float16" else 32
    bits_per_frame = latent * bits
    return {"latent_per_frame": latent, "bits_per_frame": bits_per_frame, "ratio": input_size * 32 / bits_per_frame}


def network_spec(architecture: str, params: Mapping[str, Any], input_size: int) -> dict[str, list[dict[str, Any]]]:
    """The layer list the runtime executes; layer names are the Keras layer names."""
    encoder: list[dict[str, Any]] = []
    decoder: list[dict[str, Any]] = []
    if params["normalise"]:
        encoder.append({"type": "normalize", "name": "normalize"})
    if architecture in ("pose", "sparse"):
        units = [int(u) for u in params["units"]]
        acts = list(params["activations"])
        sizes = units + units[-2::-1] + [input_size]
        for i, (size, act) in enumerate(zip(sizes, acts)):
            layer = {"type": "dense", "units": size, "activation": act}
            if i < len(units):
                encoder.append({**layer, "name": f"enc{i + 1}"})
            else:
                decoder.append({**layer, "name": f"dec{i - len(units) + 1}"})
        return {"encoder": encoder, "decoder": decoder}
    if architecture == "denoiser":
        return {"encoder": [_denoiser_spec(params, input_size)], "decoder": []}
    if params.get("design", "conv") == "codec":
        return _codec_spec(params, input_size, encoder, decoder)
    levels = int(math.log2(int(params["stride"])))
    kernel, hidden = int(params["kernel"]), int(params["hidden_channels"])
    for i in range(levels):
        last = i == levels - 1
        encoder.append(
            {
                "type": "conv1d",
                "name": f"enc{i + 1}",
                "filters": int(params["latent_channels"]) if last else hidden,
                "kernel": kernel,
                "strides": 2,
                "padding": "same",
                "activation": "linear" if last else params["activation"],
            }
        )
    for i in range(levels):
        last = i == levels - 1
        decoder.append({"type": "upsample1d", "name": f"up{i + 1}", "size": 2})
        decoder.append(
            {
                "type": "conv1d",
                "name": f"dec{i + 1}",
                "filters": input_size if last else hidden,
                "kernel": kernel,
                "strides": 1,
                "padding": "same",
                "activation": params["output_activation"] if last else params["activation"],
            }
        )
    return {"encoder": encoder, "decoder": decoder}


def _codec_spec(
    params: Mapping[str, Any], input_size: int, encoder: list[dict[str, Any]], decoder: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    components, stride = int(params["latent_channels"]), int(params["stride"])
    if components > input_size:
        raise MocapError(
            f"temporal parameters: latent_channels ({components}) cannot exceed the {input_size} numbers per frame"
        )
    kernel, hidden, act = int(params["kernel"]), int(params["hidden_channels"]), params["activation"]

    def conv(name: str, filters: int, size: int, strides: int = 1, activation: str = "linear") -> dict[str, Any]:
        return {"type": "conv1d", "name": name, "filters": filters, "kernel": size, "strides": strides,
                "padding": "same", "activation": activation}

    def residual(name: str, size: int = kernel) -> dict[str, Any]:
        return {"type": "residual", "name": name,
                "layers": [conv(f"{name}1", hidden, size, activation=act), conv(f"{name}2", components, size)]}

    encoder.append({"type": "dense", "name": "proj", "units": components, "activation": "linear"})
    if params["encoder_residual"]:
        encoder.append(residual("enc_res"))
    encoder.append(conv("down", components, 2 * stride, strides=stride))
    if params["latent_residual"]:
        encoder.append(residual("enc_lat", int(params["latent_kernel"])))
        decoder.append(residual("dec_lat", int(params["latent_kernel"])))
    decoder.append({"type": "upsample1d", "name": "up", "size": stride})
    decoder.append(conv("interp", components, 2 * stride))
    if params["decoder_residual"]:
        decoder.append(residual("dec_res"))
    decoder.append({"type": "dense", "name": "back", "units": input_size, "activation": params["output_activation"]})
    return {"encoder": encoder, "decoder": decoder}


def _denoiser_spec(params: Mapping[str, Any], input_size: int) -> dict[str, Any]:
    """A residual U-Net over time: the input plus a learned correction.

    Each level halves the frame rate with a strided convolution, works there
    with residual blocks and comes back with upsampling and a convolution,
    all inside a residual block, so every rate adds to the one above it
    (a U-Net whose skips are sums, which the runtime's ``residual`` layer
    already runs). Four levels take 120 fps down to 7.5 fps, which gives a
    receptive field of about +-1.6 s: longer than the impulse response of
    the low Butterworth cutoffs it competes with, and long enough to bridge
    a 40-frame dropout. The first layer mixes all joints, so the links
    between joints are available at every rate. The last layer starts at
    zero: at step 0 the network is the identity, and training can only
    learn a correction.
    """
    channels = [int(c) for c in params["channels"]]
    blocks = [int(b) for b in params["blocks"]]
    kernel, act = int(params["kernel"]), params["activation"]

    def conv(name: str, filters: int, size: int, strides: int = 1, activation: str = "linear",
             zero: bool = False) -> dict[str, Any]:
        layer = {"type": "conv1d", "name": name, "filters": filters, "kernel": size, "strides": strides,
                 "padding": "same", "activation": activation}
        return {**layer, "zero_init": True} if zero else layer

    def stage(level: int) -> list[dict[str, Any]]:
        width = channels[level]
        layers: list[dict[str, Any]] = [
            {"type": "residual", "name": f"l{level}b{b}",
             "layers": [conv(f"l{level}b{b}a", width, kernel, activation=act),
                        conv(f"l{level}b{b}c", width, kernel, zero=True)]}
            for b in range(blocks[level])
        ]
        if level + 1 < len(channels):
            inner = channels[level + 1]
            layers.append({"type": "residual", "name": f"l{level}down", "layers": [
                conv(f"l{level}d", inner, 4, strides=2, activation=act),
                *stage(level + 1),
                {"type": "upsample1d", "name": f"l{level}up", "size": 2},
                conv(f"l{level}u", width, 3, zero=True),
            ]})
        return layers

    return {"type": "residual", "name": "clean", "layers": [
        {"type": "dense", "name": "proj", "units": channels[0], "activation": act},
        *stage(0),
        {"type": "dense", "name": "out", "units": input_size, "activation": params["output_activation"],
         "zero_init": True},
    ]}


def pca(poses: NDArray[Any], components: int,
        normalisation: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None,
        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(centre, basis (components, D)) of the poses as the network sees them (normalised when it normalises).

    Deterministic: an eigendecomposition of the covariance in float64, each
    axis signed so its largest entry is positive, so the same data always
    gives the same start.
    """
    x = np.asarray(poses, dtype=np.float64)
    if normalisation is not None:
        mean, variance = normalisation
        x = (x - mean.astype(np.float64)) / _keras_std(variance)
    centre = x.mean(axis=0)
    centred = x - centre
    values, vectors = np.linalg.eigh(centred.T @ centred / max(1, len(x)))
    basis = vectors[:, np.argsort(values)[::-1][:components]].T
    signs = np.sign(basis[np.arange(len(basis)), np.argmax(np.abs(basis), axis=1)])
    return centre, basis * np.where(signs == 0, 1.0, signs)[:, None]


def _keras_std(variance: NDArray[Any]) -> NDArray[np.float64]:
    """The divisor ``keras.layers.Normalization`` uses."""
    return np.maximum(np.sqrt(np.asarray(variance, dtype=np.float32)), np.float32(1e-7)).astype(np.float64)


def codec_weights(
    params: Mapping[str, Any],
    input_size: int,
    centre: NDArray[Any],
    basis: NDArray[Any],
    normalisation: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None,
) -> dict[str, NDArray[np.float32]]:
    """The codec's linear start in the runtime's layout (residual output kernels zero).

    ``proj`` projects on the principal axes, ``down`` averages each component
    over the ``stride`` frames ``[t*stride, (t+1)*stride)``, ``up`` +
    ``interp`` interpolate linearly between those frames' centres (exact on
    ramps away from the ends: the upsampled staircase convolved with a box
    of ``stride + 1`` taps, half-weight ends), ``back`` maps the components
    back to quaternions and undoes the normalisation. The first layer of each
    residual block is left to the caller (Keras's random start); only the
    zero output kernels are given here.
    """
    components, stride = int(params["latent_channels"]), int(params["stride"])
    basis = np.asarray(basis, dtype=np.float64)[:components]
    centre = np.asarray(centre, dtype=np.float64)
    if normalisation is None:
        mean, std = np.zeros(input_size), np.ones(input_size)
    else:
        mean, std = np.asarray(normalisation[0], dtype=np.float64), _keras_std(normalisation[1])
    eye = np.eye(components)
    down = np.zeros((2 * stride, components, components))
    down[stride // 2 : stride // 2 + stride] = eye / stride
    taps = np.zeros(2 * stride)
    taps[stride // 2 - 1 : stride // 2 + stride] = 1.0
    taps[stride // 2 - 1] = taps[stride // 2 + stride - 1] = 0.5
    interp = (taps / stride)[:, None, None] * eye
    out = {
        "proj.kernel": basis.T,
        "proj.bias": -(basis @ centre),
        "down.kernel": down,
        "down.bias": np.zeros(components),
        "interp.kernel": interp,
        "interp.bias": np.zeros(components),
        "back.kernel": basis * std[None, :],
        "back.bias": mean + std * centre,
    }
    hidden, kernel = int(params["hidden_channels"]), int(params["kernel"])
    latent_kernel = int(params["latent_kernel"])
    for block, on, size in (
        ("enc_res", params["encoder_residual"], kernel),
        ("dec_res", params["decoder_residual"], kernel),
        ("enc_lat", params["latent_residual"], latent_kernel),
        ("dec_lat", params["latent_residual"], latent_kernel),
    ):
        if on:
            out[f"{block}2.kernel"] = np.zeros((size, hidden, components))
            out[f"{block}2.bias"] = np.zeros(components)
    return {key: value.astype(np.float32) for key, value in out.items()}


def set_weights(model: Any, weights: Mapping[str, NDArray[Any]]) -> None:
    """Put runtime-layout weights (``NAME.kernel``, ``NAME.bias``) into the Keras layers of those names."""
    names = sorted({key.rsplit(".", 1)[0] for key in weights})
    for name in names:
        layer = model.get_layer(name)
        layer.set_weights([np.asarray(weights[f"{name}.kernel"]), np.asarray(weights[f"{name}.bias"])])


def build_model(
    architecture: str,
    params: Mapping[str, Any],
    input_size: int,
    normalisation: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None,
    sparsity: float | None = None,
) -> Any:
    """The Keras autoencoder (uncompiled).

    Args:
        architecture: ``pose``, ``sparse`` or ``temporal``.
        params: From :func:`resolve_params`.
        input_size: 4 x (J-1).
        normalisation: (mean, variance) per feature when ``params["normalise"]``.
        sparsity: L1 activity penalty of the sparse model's first layer
            (default ``params["l1"]``).
    """
    import keras
    from keras import layers

    spec = network_spec(architecture, params, input_size)
    temporal = architecture in TEMPORAL_ARCHITECTURES
    inputs = keras.Input(shape=(None, input_size) if temporal else (input_size,), name="poses")
    first_weighted = [True]

    def apply(layer_specs: list[dict[str, Any]], x: Any) -> Any:
        for layer in layer_specs:
            kind, name = layer["type"], layer["name"]
            if kind == "normalize":
                if normalisation is None:
                    raise ValueError("normalise is on but no (mean, variance) was given")
                mean, variance = normalisation
                x = layers.Normalization(
                    axis=-1,
                    mean=np.asarray(mean, np.float32),
                    variance=np.asarray(variance, np.float32),
                    name=name,
                )(x)
            elif kind == "dense":
                regularizer = None
                if architecture == "sparse" and first_weighted[0]:
                    l1 = float(params["l1"] if sparsity is None else sparsity)
                    regularizer = keras.regularizers.L1(l1) if l1 > 0 else None
                dense = layers.Dense(
                    layer["units"], activation=layer["activation"], activity_regularizer=regularizer, name=name,
                    kernel_initializer="zeros" if layer.get("zero_init") else "glorot_uniform",
                )
                x = dense(x)
                first_weighted[0] = False
            elif kind == "conv1d":
                x = layers.Conv1D(
                    layer["filters"],
                    layer["kernel"],
                    strides=layer["strides"],
                    padding=layer["padding"],
                    activation=layer["activation"],
                    kernel_initializer="zeros" if layer.get("zero_init") else "glorot_uniform",
                    name=name,
                )(x)
            elif kind == "upsample1d":
                x = layers.UpSampling1D(layer["size"], name=name)(x)
            elif kind == "residual":
                x = layers.Add(name=name)([x, apply(layer["layers"], x)])
            else:
                raise ValueError(f"unknown layer type {kind!r}")
        return x

    x = apply(spec["encoder"] + spec["decoder"], inputs)
    return keras.Model(inputs, x, name=f"mocap_ae_{architecture}")


def make_optimizer(params: Mapping[str, Any], total_steps: int) -> Any:
    """Adam with amsgrad (as the tutorial), constant or cosine-decayed learning rate.

    ``clipnorm`` > 0 clips each gradient's norm: the codec's residual blocks
    otherwise blow up now and then on a CPU-sized batch.

    The schedule is a function of the optimizer's step counter, which the
    ``.keras`` checkpoint stores, so a resumed job continues on the same curve.
    """
    import keras

    lr: Any = float(params["lr"])
    if params["lr_schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr, decay_steps=max(1, int(total_steps)), alpha=float(params["lr_min_fraction"])
        )
    clipnorm = float(params.get("clipnorm") or 0.0)
    return keras.optimizers.Adam(learning_rate=lr, amsgrad=True, clipnorm=clipnorm if clipnorm > 0 else None)


def compile_model(model: Any, params: Mapping[str, Any], total_steps: int) -> None:
    model.compile(optimizer=make_optimizer(params, total_steps), loss="mse", jit_compile=False)


def export_weights(model: Any, network: Mapping[str, Any]) -> dict[str, NDArray[np.float32]]:
    """The npz contents for the runtime, read from the Keras layers by name."""
    from .runtime import iter_layers

    out: dict[str, NDArray[np.float32]] = {}
    for layer_spec in iter_layers(list(network["encoder"]) + list(network["decoder"])):
        kind, name = layer_spec["type"], layer_spec["name"]
        if kind in ("upsample1d", "residual"):
            continue
        layer = model.get_layer(name)
        if kind == "normalize":
            out[f"{name}.mean"] = np.asarray(layer.mean, dtype=np.float32).reshape(-1)
            out[f"{name}.variance"] = np.asarray(layer.variance, dtype=np.float32).reshape(-1)
        elif kind in ("dense", "conv1d"):
            kernel, bias = layer.get_weights()
            out[f"{name}.kernel"] = np.asarray(kernel, dtype=np.float32)
            out[f"{name}.bias"] = np.asarray(bias, dtype=np.float32)
    return out


def random_weights(
    architecture: str, params: Mapping[str, Any], input_size: int, seed: int = 0
) -> dict[str, NDArray[np.float32]]:
    """Glorot-scaled random weights in the runtime's layout, made with numpy only.

    For tests and demos of the hosts (node, panel) on machines without
    TensorFlow; the normalisation is the identity.
    """
    rng = np.random.default_rng(seed)
    network = network_spec(architecture, params, input_size)
    out: dict[str, NDArray[np.float32]] = {}

    def fill(layer_specs: list[dict[str, Any]], width: int) -> int:
        for layer in layer_specs:
            name = layer["name"]
            if layer["type"] == "normalize":
                out[f"{name}.mean"] = np.zeros(input_size, np.float32)
                out[f"{name}.variance"] = np.ones(input_size, np.float32)
            elif layer["type"] == "dense":
                units = int(layer["units"])
                scale = math.sqrt(2.0 / (width + units))
                out[f"{name}.kernel"] = rng.normal(0, scale, (width, units)).astype(np.float32)
                out[f"{name}.bias"] = rng.normal(0, 0.01, units).astype(np.float32)
                width = units
            elif layer["type"] == "conv1d":
                k, filters = int(layer["kernel"]), int(layer["filters"])
                scale = math.sqrt(2.0 / (k * (width + filters)))
                out[f"{name}.kernel"] = rng.normal(0, scale, (k, width, filters)).astype(np.float32)
                out[f"{name}.bias"] = rng.normal(0, 0.01, filters).astype(np.float32)
                width = filters
            elif layer["type"] == "residual":
                fill(layer["layers"], width)
        return width

    fill(network["encoder"] + network["decoder"], input_size)
    return out


def untrained_model_set(
    directory: Any,
    name: str,
    architecture: str,
    joint_names: list[str],
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Any:
    """Write a registered model set with random weights (no ``.keras``); returns the sidecar path.

    The hosts treat it like any trained model, so their tests run without
    TensorFlow; its sidecar says ``"training": null``.
    """
    from .modelfile import INPUT_LAYOUT, save_model_set

    resolved = resolve_params(architecture, params)
    input_size = 4 * (len(joint_names) - 1)
    meta = {
        "name": name,
        "architecture": architecture,
        "params": resolved,
        "joint_names": list(joint_names),
        "input_layout": {"name": INPUT_LAYOUT, "size": input_size},
        "normalisation": {"mean": [0.0] * input_size, "std": [1.0] * input_size, "std_floor": 0.0}
        if resolved["normalise"]
        else None,
        "window": int(resolved["window"]) if architecture in TEMPORAL_ARCHITECTURES else None,
        "hop": int(resolved["window"]) // 2 if architecture in TEMPORAL_ARCHITECTURES else None,
        "latent_dtype": resolved["latent_dtype"],
        **compression(architecture, resolved, input_size),
        "network": network_spec(architecture, resolved, input_size),
        "training": None,
        "evaluation": None,
        "versions": {"numpy": np.__version__},
    }
    weights = random_weights(architecture, resolved, input_size, seed)
    return save_model_set(directory, name, meta, weights, None)
