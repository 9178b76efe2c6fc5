"""The three autoencoders, as Keras models and as layer lists for the runtime.

* ``pose``: the tutorial's per-frame compressor, 120-60-30-60-120 with
  sigmoid, sigmoid, linear, tanh, trained with Adam (amsgrad) on MSE.
  ``params={"original": true}`` reproduces it exactly (no input
  normalisation, fixed learning rate, no early stopping); by default it gains
  per-feature input normalisation, a cosine learning-rate decay and early
  stopping with the best weights restored.
* ``sparse``: an overcomplete per-frame autoencoder, 120-256-128-256-120, with
  an L1 activity penalty on the first layer.
* ``temporal``: a 1-D convolutional autoencoder over windows of frames, after
  Holden et al. 2015 ("Learning motion manifolds with convolutional
  autoencoders"): each of log2(stride) encoder levels is a stride-2 ``same``
  convolution, each decoder level a x2 upsampling followed by a convolution.
  Default: window 64, stride 4, 120 latent channels (30 numbers per frame,
  4:1); ``high_ratio``: stride 8, 60 channels (7.5 per frame, 16:1).

Only layers that :mod:`maya_tool.models.runtime` re-implements exactly are
used: ``Normalization`` (first layer, with fixed mean and variance), ``Dense``,
``Conv1D`` (``same`` padding), ``UpSampling1D`` and the activations in
``runtime.ACTIVATIONS``. Every architecture ends in ``tanh`` in quaternion
space, so outputs are never de-normalised.

This module imports Keras only inside functions: the parameter helpers are
used by processes that never load TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from numpy.typing import NDArray

from ..errors import MocapError
from .modelfile import ARCHITECTURES
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
        "window": 64,
        "stride": 4,
        "latent_channels": 120,
        "hidden_channels": 128,
        "kernel": 9,
        "activation": "elu",
        "output_activation": "tanh",
        "inference": "full",
        "sample_hop": 16,
        "high_ratio": False,
    },
}
"""Default parameters per architecture; a job's ``params`` override them."""

DEFAULT_BATCH = {"pose": 256, "sparse": 256, "temporal": 32}
"""Frames (pose, sparse) or windows (temporal) per batch unless a job says otherwise."""

HIGH_RATIO = {"stride": 8, "latent_channels": 60}
"""What ``high_ratio: true`` sets for the temporal model (7.5 numbers per frame, 16:1)."""


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
    if not float(p["lr"]) > 0:
        raise bad(f"lr must be positive, got {p['lr']!r}")
    if architecture in ("pose", "sparse"):
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
        if p["inference"] not in ("windows", "full"):
            raise bad(f"inference must be 'windows' or 'full', got {p['inference']!r}")
        if int(p["kernel"]) < 1 or int(p["latent_channels"]) < 1 or int(p["hidden_channels"]) < 1:
            raise bad("kernel, latent_channels and hidden_channels must be positive")
        if int(p["sample_hop"]) < 1:
            raise bad(f"sample_hop must be positive, got {p['sample_hop']!r}")
        acts_to_check = [p["activation"], p["output_activation"]]
    for act in acts_to_check:
        if act not in ACTIVATIONS:
            raise bad(f"activation {act!r} is not one the runtime implements ({', '.join(ACTIVATIONS)})")


def latent_per_frame(architecture: str, params: Mapping[str, Any]) -> float:
    """Latent numbers per frame: what the compression ratio is computed from."""
    if architecture == "temporal":
        return int(params["latent_channels"]) / int(params["stride"])
    return float(params["units"][-1])


def compression(architecture: str, params: Mapping[str, Any], input_size: int) -> dict[str, float]:
    """``latent_per_frame``, ``bits_per_frame`` and ``ratio`` (vs input_size float32 per frame)."""
    latent = latent_per_frame(architecture, params)
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
    temporal = architecture == "temporal"
    inputs = keras.Input(shape=(None, input_size) if temporal else (input_size,), name="poses")
    x = inputs
    first_weighted = True
    for layer in spec["encoder"] + spec["decoder"]:
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
            if architecture == "sparse" and first_weighted:
                l1 = float(params["l1"] if sparsity is None else sparsity)
                regularizer = keras.regularizers.L1(l1) if l1 > 0 else None
            dense = layers.Dense(
                layer["units"], activation=layer["activation"], activity_regularizer=regularizer, name=name
            )
            x = dense(x)
            first_weighted = False
        elif kind == "conv1d":
            x = layers.Conv1D(
                layer["filters"],
                layer["kernel"],
                strides=layer["strides"],
                padding=layer["padding"],
                activation=layer["activation"],
                name=name,
            )(x)
        elif kind == "upsample1d":
            x = layers.UpSampling1D(layer["size"], name=name)(x)
        else:
            raise ValueError(f"unknown layer type {kind!r}")
    return keras.Model(inputs, x, name=f"mocap_ae_{architecture}")


def make_optimizer(params: Mapping[str, Any], total_steps: int) -> Any:
    """Adam with amsgrad (as the tutorial), constant or cosine-decayed learning rate.

    The schedule is a function of the optimizer's step counter, which the
    ``.keras`` checkpoint stores, so a resumed job continues on the same curve.
    """
    import keras

    lr: Any = float(params["lr"])
    if params["lr_schedule"] == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=lr, decay_steps=max(1, int(total_steps)), alpha=float(params["lr_min_fraction"])
        )
    return keras.optimizers.Adam(learning_rate=lr, amsgrad=True)


def compile_model(model: Any, params: Mapping[str, Any], total_steps: int) -> None:
    model.compile(optimizer=make_optimizer(params, total_steps), loss="mse", jit_compile=False)


def export_weights(model: Any, network: Mapping[str, Any]) -> dict[str, NDArray[np.float32]]:
    """The npz contents for the runtime, read from the Keras layers by name."""
    out: dict[str, NDArray[np.float32]] = {}
    for layer_spec in list(network["encoder"]) + list(network["decoder"]):
        kind, name = layer_spec["type"], layer_spec["name"]
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
    width = input_size
    for layer in network["encoder"] + network["decoder"]:
        name = layer["name"]
        if layer["type"] == "normalize":
            out[f"{name}.mean"] = np.zeros(input_size, np.float32)
            out[f"{name}.variance"] = np.ones(input_size, np.float32)
        elif layer["type"] == "dense":
            units = int(layer["units"])
            out[f"{name}.kernel"] = rng.normal(0, math.sqrt(2.0 / (width + units)), (width, units)).astype(np.float32)
            out[f"{name}.bias"] = rng.normal(0, 0.01, units).astype(np.float32)
            width = units
        elif layer["type"] == "conv1d":
            k, filters = int(layer["kernel"]), int(layer["filters"])
            scale = math.sqrt(2.0 / (k * (width + filters)))
            out[f"{name}.kernel"] = rng.normal(0, scale, (k, width, filters)).astype(np.float32)
            out[f"{name}.bias"] = rng.normal(0, 0.01, filters).astype(np.float32)
            width = filters
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
        "window": int(resolved["window"]) if architecture == "temporal" else None,
        "hop": int(resolved["window"]) // 2 if architecture == "temporal" else None,
        "latent_dtype": resolved["latent_dtype"],
        **compression(architecture, resolved, input_size),
        "network": network_spec(architecture, resolved, input_size),
        "training": None,
        "evaluation": None,
        "versions": {"numpy": np.__version__},
    }
    weights = random_weights(architecture, resolved, input_size, seed)
    return save_model_set(directory, name, meta, weights, None)
