"""The numpy forward pass: what Maya and the panel run, without TensorFlow.

A trained model is exported as plain float32 arrays (``NAME.npz``) plus a
layer list in its sidecar (``NAME.json``, key ``network``). This module
re-implements exactly those layers (normalisation, dense on frames or on
sequences, 1-D convolution with TensorFlow's ``same`` padding,
nearest-neighbour upsampling, residual blocks ``x + f(x)`` and a few
activations) so a whole clip is reconstructed in one batched pass, in
milliseconds, inside ``mayapy`` where TensorFlow is rarely installable.

Loading never executes code from a file: the JSON is data, the npz is read
with ``allow_pickle=False`` and its hash must match the sidecar.

Temporal models see windows of frames. A clip is cut into windows of ``W``
frames every ``W/2`` frames, padded at both ends by repeating the first and
last frames, and the outputs are blended with a periodic Hann window whose
half-overlapping copies sum to one, so every frame is a weighted average of
the two windows that contain it and no seam shows.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from .. import quaternion as quat
from ..clip import Clip
from ..errors import MocapError, ModelMismatchError
from . import modelfile

Array = NDArray[np.float32]

KERAS_EPSILON = np.float32(1e-7)
"""``keras.backend.epsilon()``: the floor of the normalisation's std."""

_CHUNK_VALUES = 1 << 21
"""Rows per batch are chosen so one batch holds about this many input values."""


def _sigmoid(x: Array) -> Array:
    return (np.float32(0.5) * (np.tanh(np.float32(0.5) * x) + np.float32(1.0))).astype(np.float32)


def _elu(x: Array) -> Array:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0))).astype(np.float32)


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "linear": lambda x: x,
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, np.float32(0.0)),
    "elu": _elu,
}
"""Activations the runtime implements; architectures use only these."""


def same_padding(length: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's ``SAME`` padding (more on the right when odd)."""
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def conv1d(x: Array, kernel: Array, bias: Array | None, stride: int = 1, padding: str = "same") -> Array:
    """``keras.layers.Conv1D`` on (N, T, Cin) with a (K, Cin, Cout) kernel, as one matmul."""
    k, cin, cout = kernel.shape
    if padding == "same":
        left, right = same_padding(x.shape[1], k, stride)
        x = np.pad(x, ((0, 0), (left, right), (0, 0)))
    elif padding != "valid":
        raise ValueError(f"unsupported padding {padding!r}")
    if x.shape[1] < k:
        return np.zeros((x.shape[0], 0, cout), dtype=np.float32)
    patches = np.lib.stride_tricks.sliding_window_view(x, k, axis=1)[:, ::stride]  # (N, T', Cin, K)
    n, t = patches.shape[:2]
    flat = np.ascontiguousarray(patches).reshape(n * t, cin * k)
    out = flat @ np.ascontiguousarray(kernel.transpose(1, 0, 2)).reshape(cin * k, cout)
    if bias is not None:
        out += bias
    return out.reshape(n, t, cout)


def hann_weights(window: int) -> Array:
    """Periodic Hann shifted half a sample: positive everywhere, and two copies
    half a window apart sum to exactly one."""
    t = (np.arange(window, dtype=np.float64) + 0.5) / window
    return np.sin(np.pi * t).astype(np.float32) ** 2


def window_starts(frames: int, window: int) -> tuple[NDArray[np.int64], int]:
    """Window start rows in the padded clip, and the padded length.

    The clip is padded by ``hop = window // 2`` frames in front, and behind up
    to the end of the last window, so every real frame lies in two windows.
    """
    hop = window // 2
    count = -(-frames // hop) + 1
    return np.arange(count, dtype=np.int64) * hop, (count + 1) * hop


def make_windows(features: Array, window: int) -> Array:
    """(F, D) frames -> (n, window, D) half-overlapping windows, edge-padded."""
    frames = len(features)
    hop = window // 2
    starts, padded_len = window_starts(frames, window)
    index = np.clip(np.arange(padded_len) - hop, 0, frames - 1)
    padded = features[index]
    return np.stack([padded[s : s + window] for s in starts]).astype(np.float32)


def overlap_add(windows: Array, frames: int) -> Array:
    """Blend (n, window, D) outputs of :func:`make_windows` back into (frames, D)."""
    n, window, dim = windows.shape
    hop = window // 2
    starts, padded_len = window_starts(frames, window)
    if len(starts) != n:
        raise ValueError(f"{n} windows cannot cover {frames} frames (expected {len(starts)})")
    weights = hann_weights(window)
    total = np.zeros((padded_len, dim), dtype=np.float64)
    norm = np.zeros(padded_len, dtype=np.float64)
    for start, out in zip(starts, windows):
        total[start : start + window] += weights[:, None] * out
        norm[start : start + window] += weights
    return (total[hop : hop + frames] / norm[hop : hop + frames, None]).astype(np.float32)


def banded_signs(rots: NDArray[Any], reference: NDArray[Any], band: float) -> NDArray[np.float64]:
    """(F, J, 4) rotations with each joint's sign switched with hysteresis along the frames.

    The track is first made continuous; then its sign follows the side of the
    joint's ``reference`` it is on, changing only when the dot product with
    the reference passes ``-band`` or ``band``: a joint wandering about the
    border keeps one sign, a joint turning well past it returns to the
    reference side (one jump, where a purely continuous track would carry a
    far-side excursion into the data). ``band`` 0 is the per-frame
    hemisphere, ``band`` >= 1 the continuous track.
    """
    track = quat.continuous(np.asarray(rots, dtype=np.float64), axis=0)
    if len(track) == 0:
        return track
    dots = np.sum(track * np.asarray(reference, dtype=np.float64), axis=-1)
    side = np.where(dots > band, 1, np.where(dots < -band, -1, 0))
    side[0] = np.where(dots[0] >= 0, 1, -1)
    frames = np.arange(len(side))[:, None]
    last = np.maximum.accumulate(np.where(side != 0, frames, 0), axis=0)
    return track * np.take_along_axis(side, last, axis=0)[..., None]


SWITCH_GUARD_NORM = 0.8
"""Raw output norm below which a temporal codec's frame is suspect.

A convolution smooths the q -> -q step of a sign switch, so its output on
the frames beside the switch passes close to zero and its direction there is
arbitrary (the CMU finger bases and the wrists of 06_13 and 90_banana came
out 80-160 degrees off while the clip moved 12-14 degrees a frame). Clean
frames stay between 0.97 and 1.03 (1st and 99th percentiles, clean and
noisy inputs); below 0.8 is under 0.1% of them.
"""

SWITCH_SHIFT = 8
"""Frames a sign switch next to a suspect frame is moved for the second pass.

Two or three times how far the shipped codecs smear a switch (3-4 frames at
stride 2, about 8 at stride 8), and short enough that a track carried past
its switch point stays near the trained side (dot with the reference not far
below ``-sign_band``)."""


def move_switches(
    inputs: NDArray[Any], reference: NDArray[Any], suspect: NDArray[np.bool_], shift: int = SWITCH_SHIFT
) -> NDArray[np.float64] | None:
    """The (F, J, 4) model inputs with each sign switch next to a suspect frame moved ``shift`` frames.

    A switch is moved later (the old sign kept for ``shift`` more frames) or
    earlier (the new sign taken ``shift`` frames sooner), whichever keeps the
    moved frames closer to the joint's ``reference`` side, and never across
    another switch. Returns None when no switch was moved.
    """
    rots = np.asarray(inputs, dtype=np.float64)
    track = quat.continuous(rots, axis=0)
    sign = np.where(np.sum(rots * track, axis=-1) < 0.0, -1.0, 1.0)
    dots = np.sum(track * np.asarray(reference, dtype=np.float64), axis=-1)
    frames = len(sign)
    moved = sign.copy()
    for before, joint in np.argwhere(sign[1:] != sign[:-1]):
        t = int(before) + 1
        if not suspect[max(0, t - shift) : t + shift, joint].any():
            continue
        options = []
        later, earlier = slice(t, min(frames, t + shift)), slice(max(0, t - shift), t)
        if np.all(sign[later, joint] == sign[t, joint]):
            options.append((float(np.max(-sign[t - 1, joint] * dots[later, joint])), later, sign[t - 1, joint]))
        if np.all(sign[earlier, joint] == sign[t - 1, joint]):
            options.append((float(np.max(-sign[t, joint] * dots[earlier, joint])), earlier, sign[t, joint]))
        if options:
            _, span, value = min(options, key=lambda option: option[0])
            moved[span, joint] = value
    if np.array_equal(moved, sign):
        return None
    return track * moved[..., None]


def _check_shapes(layers: Sequence[Mapping[str, Any]], width: int | None, weights: Mapping[str, Array],
                  npz: Path) -> int | None:
    """Follow the feature width through ``layers``, naming the first layer whose weights do not fit.

    Returns the output width, or None past a layer type this check does not
    know (it then leaves the rest to the forward pass).
    """
    for spec in layers:
        if width is None:
            return None
        kind, name = spec.get("type"), spec.get("name")
        if kind == "normalize":
            for part in ("mean", "variance"):
                if weights[f"{name}.{part}"].size != width:
                    raise MocapError(f"layer {name!r}: {part} has {weights[f'{name}.{part}'].size} values for "
                                     f"{width} inputs", path=npz)
        elif kind in ("dense", "conv1d"):
            kernel, bias = weights[f"{name}.kernel"], weights[f"{name}.bias"]
            rank, axis = (2, 0) if kind == "dense" else (3, 1)
            if kernel.ndim != rank or kernel.shape[axis] != width:
                want = f"({width}, outputs)" if kind == "dense" else f"(taps, {width}, outputs)"
                raise MocapError(f"layer {name!r} ({kind}): kernel has shape {kernel.shape}, expected {want} "
                                 f"for its {width} inputs", path=npz)
            if bias.shape != (kernel.shape[-1],):
                raise MocapError(f"layer {name!r} ({kind}): bias has shape {bias.shape}, expected "
                                 f"({kernel.shape[-1]},)", path=npz)
            width = int(kernel.shape[-1])
        elif kind == "residual":
            inner = _check_shapes(spec.get("layers") or [], width, weights, npz)
            if inner is not None and inner != width:
                raise MocapError(f"residual layer {name!r} ends with {inner} channels, its input has {width}", path=npz)
        elif kind != "upsample1d":
            return None
    return width


def iter_layers(layers: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Every layer spec, depth first: a ``residual`` block, then the layers inside it."""
    for spec in layers:
        yield spec
        if spec.get("type") == "residual":
            yield from iter_layers(spec.get("layers") or [])


class NumpyModel:
    """A trained autoencoder, evaluated with numpy only.

    Attributes:
        name: Model name.
        architecture: ``pose``, ``sparse``, ``temporal`` or ``denoiser``.
        meta: The sidecar dict.
        joint_names: All J joint names the model was trained on, root first.
        ratio: Compression ratio against 4 x (J-1) float32 per frame.
        bits_per_frame: Latent bits per frame as stored.
        path: The sidecar path.
        input_size: 4 x (J-1).
        window: Frames per window (temporal) or None.
    """

    def __init__(self, meta: Mapping[str, Any], weights: Mapping[str, NDArray[Any]], path: os.PathLike[str] | str):
        self.meta = dict(meta)
        self.path = Path(path)
        self.name = str(meta["name"])
        self.architecture = str(meta["architecture"])
        self.joint_names = [str(n) for n in meta["joint_names"]]
        self.ratio = float(meta["ratio"])
        self.bits_per_frame = float(meta["bits_per_frame"])
        layout = meta["input_layout"]
        self.input_size = int(layout["size"] if isinstance(layout, Mapping) else 4 * (len(self.joint_names) - 1))
        if self.input_size != 4 * (len(self.joint_names) - 1):
            raise MocapError(
                f"input size {self.input_size} does not match {len(self.joint_names)} joints (expected "
                f"4 x {len(self.joint_names) - 1})",
                path=self.path,
            )
        params = meta.get("params") or {}
        self.window: int | None = int(meta["window"]) if meta.get("window") else None
        self.inference = str(params.get("inference", "windows"))
        # Whole-clip inputs are padded to a multiple of the coarsest rate's step.
        self.stride = 2 ** int(params["levels"]) if self.architecture == "denoiser" else int(params.get("stride", 1))
        self.latent_dtype = np.dtype(str(meta.get("latent_dtype", "float32")))
        if self.latent_dtype not in (np.float32, np.float16):
            raise MocapError(
                f"latent_dtype {meta.get('latent_dtype')!r} is not supported: expected float32 or float16", path=self.path
            )
        self.temporal = self.architecture in modelfile.TEMPORAL_ARCHITECTURES
        self.sign_band = float(params.get("sign_band", 0.0)) if self.temporal else 0.0
        hemisphere = meta.get("hemisphere")
        self.hemisphere = None if hemisphere is None else np.asarray(hemisphere, dtype=np.float64).reshape(-1, 4)
        if self.hemisphere is not None and len(self.hemisphere) != len(self.joint_names) - 1:
            raise MocapError(
                f"hemisphere has {len(self.hemisphere)} entries for {len(self.joint_names) - 1} joints", path=self.path
            )
        self._encoder = list(meta["network"]["encoder"])
        self._decoder = list(meta["network"]["decoder"])
        self._weights = {key: np.asarray(value, dtype=np.float32) for key, value in weights.items()}
        self._check_weights()
        self._encoder_steps = self._compile(self._encoder)
        self._decoder_steps = self._compile(self._decoder)

    def __repr__(self) -> str:
        return f"NumpyModel({self.name!r}, {self.architecture}, ratio {self.ratio:g}, {self.path})"

    def _check_weights(self) -> None:
        npz = self.path.with_suffix(".npz")
        for spec in iter_layers(self._encoder + self._decoder):
            kind = spec.get("type")
            needed = {
                "normalize": ("mean", "variance"),
                "dense": ("kernel", "bias"),
                "conv1d": ("kernel", "bias"),
                "upsample1d": (),
                "residual": (),
            }.get(kind)
            if needed is None:
                raise MocapError(f"layer {spec.get('name')!r} has unknown type {kind!r}", path=self.path)
            if kind == "residual" and not spec.get("layers"):
                raise MocapError(f"residual layer {spec.get('name')!r} has no inner layers", path=self.path)
            if kind in ("dense", "conv1d") and spec.get("activation", "linear") not in ACTIVATIONS:
                raise MocapError(
                    f"layer {spec['name']!r} uses activation {spec.get('activation')!r}, which the runtime does not "
                    f"implement ({', '.join(ACTIVATIONS)})",
                    path=self.path,
                )
            for part in needed:
                if f"{spec['name']}.{part}" not in self._weights:
                    raise MocapError(f"weights lack {spec['name']}.{part}", path=npz)
        for key, value in self._weights.items():
            if not np.isfinite(value).all():
                raise MocapError(f"weight {key!r} holds NaN or infinite values: the model is damaged", path=npz)
        _check_shapes(self._decoder, _check_shapes(self._encoder, self.input_size, self._weights, npz), self._weights, npz)

    # ------------------------------------------------------------------ layers
    def _compile(self, layers: Sequence[Mapping[str, Any]]) -> list[Callable[[Array], Array]]:
        """The layer list as ready-to-call steps, weights looked up once.

        The node and the panel call the network once per change, but the
        tutorial's per-pose path calls it once per frame; building the steps
        once keeps that path to the arithmetic alone.
        """
        w = self._weights
        steps: list[Callable[[Array], Array]] = []
        for spec in layers:
            kind, name = spec["type"], spec["name"]
            activation = ACTIVATIONS[spec.get("activation", "linear")]
            if kind == "normalize":
                mean = w[f"{name}.mean"]
                scale = np.maximum(np.sqrt(w[f"{name}.variance"]), KERAS_EPSILON)
                steps.append(lambda x, m=mean, d=scale: (x - m) / d)
            elif kind == "dense":
                kernel, bias = w[f"{name}.kernel"], w[f"{name}.bias"]
                steps.append(lambda x, k=kernel, b=bias, f=activation: f(x @ k + b))
            elif kind == "conv1d":
                kernel, bias = w[f"{name}.kernel"], w[f"{name}.bias"]
                stride, padding = int(spec.get("strides", 1)), spec["padding"]
                steps.append(
                    lambda x, k=kernel, b=bias, s=stride, p=padding, f=activation: f(conv1d(x, k, b, s, p))
                )
            elif kind == "upsample1d":
                size = int(spec["size"])
                steps.append(lambda x, n=size: np.repeat(x, n, axis=1))
            elif kind == "residual":
                inner = self._compile(spec["layers"])
                steps.append(lambda x, branch=inner: x + self._apply(branch, x))
        return steps

    @staticmethod
    def _apply(steps: Sequence[Callable[[Array], Array]], x: Array) -> Array:
        for step in steps:
            x = step(x).astype(np.float32, copy=False)
        return x

    def _batched(self, steps: Sequence[Callable[[Array], Array]], x: Array) -> Array:
        if len(x) == 0:
            probe = self._apply(steps, np.zeros((1,) + x.shape[1:], dtype=np.float32))
            return np.zeros((0,) + probe.shape[1:], dtype=np.float32)
        rows = max(1, _CHUNK_VALUES // max(1, int(np.prod(x.shape[1:]))))
        if len(x) <= rows:
            return self._apply(steps, x)
        return np.concatenate([self._apply(steps, x[i : i + rows]) for i in range(0, len(x), rows)])

    def encode_features(self, x: NDArray[Any]) -> Array:
        """Network encoder on model inputs: (N, D), or (N, T, D) for temporal models."""
        return self._batched(self._encoder_steps, np.asarray(x, dtype=np.float32))

    def decode_features(self, z: NDArray[Any]) -> Array:
        """Network decoder back to model inputs' layout (raw outputs, not renormalised)."""
        return self._batched(self._decoder_steps, np.asarray(z, dtype=np.float32))

    def forward(self, x: NDArray[Any]) -> Array:
        """The raw network output for raw inputs: what Keras ``model.predict`` returns."""
        return self.decode_features(self.encode_features(x))

    # ------------------------------------------------------------------- clips
    def check_clip(self, clip: Clip) -> None:
        """Refuse a clip whose joints differ from the model's, saying which.

        The root's name is not compared: the models never see the root.

        Raises:
            ModelMismatchError: Naming the clip file and the model.
        """
        names = list(clip.skeleton.names)
        path = clip.source.get("path") if isinstance(clip.source, Mapping) else None
        if len(names) != len(self.joint_names):
            raise ModelMismatchError(
                f"model {self.name!r} expects {len(self.joint_names)} joints ({self.input_size} inputs = 4 x "
                f"{len(self.joint_names) - 1} non-root joints) but the clip has {len(names)} joints "
                f"({4 * (len(names) - 1)} inputs)",
                path=path,
            )
        differ = [
            (i, model_name, clip_name)
            for i, (model_name, clip_name) in enumerate(zip(self.joint_names[1:], names[1:]), start=1)
            if model_name != clip_name
        ]
        if differ:
            listed = "; ".join(f"joint {i}: model {m!r}, clip {c!r}" for i, m, c in differ[:5])
            more = f" and {len(differ) - 5} more" if len(differ) > 5 else ""
            raise ModelMismatchError(
                f"model {self.name!r} was trained on other joints: {listed}{more}", path=path
            )

    def inputs(self, joint_rotations: NDArray[Any]) -> Array:
        """Model inputs: flat quaternions, each joint on its trained hemisphere.

        With a ``sign_band`` (temporal codecs) a joint's sign only changes
        where its rotation is decisively on the other side (see
        :func:`banded_signs`), so noise near the hemisphere's border cannot
        make the input jump from q to -q frame after frame.
        """
        rots = np.asarray(joint_rotations)
        joints = len(self.joint_names) - 1
        if rots.ndim == 2 and rots.shape[1] == self.input_size:
            rots = rots.reshape(len(rots), joints, 4)
        elif rots.ndim != 3 or rots.shape[1:] != (joints, 4):
            raise ModelMismatchError(
                f"model {self.name!r} expects rotations of shape (frames, {joints}, 4) ({self.input_size} inputs), "
                f"got {rots.shape}"
            )
        if self.hemisphere is not None:
            rots = quat.to_hemisphere(rots, self.hemisphere)
            if self.sign_band > 0:
                rots = banded_signs(rots, self.hemisphere, self.sign_band)
        elif self.sign_band >= 1.0:
            # A continuous-sign model without a reference: start each track at w >= 0.
            rots = quat.continuous(quat.positive_w(rots), axis=0)
        return rots.reshape(len(rots), self.input_size).astype(np.float32)

    def _store(self, latent: Array) -> NDArray[Any]:
        return latent.astype(self.latent_dtype)

    def encode(self, joint_rotations: NDArray[Any]) -> NDArray[Any]:
        """The latent a clip would be stored as, in the model's latent dtype.

        Shapes: (F, latent) for pose models; (windows, W/stride, channels) for
        temporal models with windowed inference, (ceil(padded/stride),
        channels) with whole-clip inference.
        """
        return self._encode_inputs(self.inputs(joint_rotations))

    def _encode_inputs(self, x: Array) -> NDArray[Any]:
        """:meth:`encode` on inputs already made by :meth:`inputs` (hemisphere and signs applied)."""
        if not self.temporal:
            return self._store(self.encode_features(x))
        assert self.window is not None
        if len(x) == 0:
            raise ModelMismatchError(f"model {self.name!r} cannot encode an empty clip")
        if self.inference == "full":
            return self._store(self.encode_features(self.pad_clip(x)[None])[0])
        return self._store(self.encode_features(make_windows(x, self.window)))

    def decode(self, latent: NDArray[Any], frames: int | None = None) -> NDArray[np.float64]:
        """Joint rotations (F, J-1, 4), unit and w >= 0, from :meth:`encode`'s latent.

        Args:
            latent: As returned by :meth:`encode`.
            frames: Frames of the clip (temporal models; defaults to the most
                the latent can cover).
        """
        z = np.asarray(latent).astype(np.float32)
        if not self.temporal:
            out = self.decode_features(z)
        else:
            assert self.window is not None
            hop = self.window // 2
            if self.inference == "full":
                decoded = self.decode_features(z[None])[0]
                frames = len(decoded) - 2 * hop if frames is None else frames
                out = decoded[hop : hop + frames]
            else:
                frames = (len(z) - 1) * hop if frames is None else frames
                out = overlap_add(self.decode_features(z), frames)
        return quat.positive_w(quat.normalize(self._raw_rotations(out)))

    def _raw_rotations(self, out: Array) -> NDArray[np.float64]:
        """Network outputs (F, 4(J-1)) as (F, J-1, 4) float64, not yet unit."""
        return out.reshape(len(out), len(self.joint_names) - 1, 4).astype(np.float64)

    def _decode_raw(self, x: Array) -> NDArray[np.float64]:
        """The raw (F, J-1, 4) outputs for inputs already made by :meth:`inputs`."""
        z = np.asarray(self._encode_inputs(x)).astype(np.float32)
        if not self.temporal:
            return self._raw_rotations(self.decode_features(z))
        assert self.window is not None
        hop = self.window // 2
        if self.inference == "full":
            return self._raw_rotations(self.decode_features(z[None])[0][hop : hop + len(x)])
        return self._raw_rotations(overlap_add(self.decode_features(z), len(x)))

    def pad_clip(self, x: Array) -> Array:
        """Half a window of edge frames on each side, rounded up to the stride.

        What whole-clip (``inference: full``) passes feed the network, so the
        first and last frames get the same context as the middle ones.
        """
        assert self.window is not None
        hop = self.window // 2
        total = len(x) + 2 * hop
        total += -total % self.stride
        index = np.clip(np.arange(total) - hop, 0, len(x) - 1)
        return x[index]

    def reconstruct(self, joint_rotations: NDArray[Any]) -> NDArray[np.float64]:
        """Encode and decode a whole clip in one batch: (F, J-1, 4) -> (F, J-1, 4).

        The inputs are prepared once: their hemisphere and sign pass costs as
        much as a small pose model's forward pass.
        """
        x = self.inputs(joint_rotations)
        if len(x) == 0:
            return np.zeros((0, len(self.joint_names) - 1, 4))
        raw = self._decode_raw(x)
        if self.temporal and 0.0 < self.sign_band < 1.0 and self.hemisphere is not None:
            raw = self._guard_switches(x, raw)
        return quat.positive_w(quat.normalize(raw))

    def _guard_switches(self, x: Array, raw: NDArray[np.float64]) -> NDArray[np.float64]:
        """Redo the frames a sign switch spoilt, from a pass with that switch moved away.

        Where a joint's raw output norm falls below :data:`SWITCH_GUARD_NORM`
        next to one of its sign switches, the network runs again (on the
        stretch of clip around the moved switches only) with those switches
        moved :data:`SWITCH_SHIFT` frames (:func:`move_switches`), and each
        suspect frame keeps whichever output is nearer unit length. Frames
        near no switch, e.g. where the clip itself flips a joint by 180
        degrees in one frame, are left as they are. Only :meth:`reconstruct`
        can do this: it needs the inputs, which a stored latent does not carry.
        """
        norms = np.linalg.norm(raw, axis=-1)
        suspect = norms < SWITCH_GUARD_NORM
        if not suspect.any():
            return raw
        rots = x.reshape(raw.shape).astype(np.float64)
        moved = move_switches(rots, self.hemisphere, suspect)
        if moved is None:
            return raw
        assert self.window is not None
        # The shipped codecs see about 50 frames either way, well under a window: moved inputs change
        # nothing a window away, and a stretch cut two windows out (where the stride and hop phases
        # match) gives the whole-clip outputs a window around the moved frames.
        reach = self.window
        align = int(np.lcm(self.stride, self.window // 2))
        changed = np.flatnonzero(np.any(moved != rots, axis=(1, 2)))
        other = raw.copy()
        for group in np.split(changed, np.flatnonzero(np.diff(changed) > 2 * reach) + 1):
            first, last = int(group[0]) - reach, int(group[-1]) + 1 + reach
            start = max(0, first - reach) // align * align
            stop = min(len(rots), last + reach)
            part = self._decode_raw(moved[start:stop].reshape(stop - start, -1).astype(np.float32))
            keep = slice(max(0, first), min(len(rots), last))
            other[keep] = part[keep.start - start : keep.stop - start]
        better = suspect & (np.abs(np.linalg.norm(other, axis=-1) - 1.0) < np.abs(norms - 1.0))
        return np.where(better[..., None], other, raw)

    def apply(self, clip: Clip) -> Clip:
        """The clip with its joints replaced by the model's reconstruction."""
        self.check_clip(clip)
        return clip.with_joint_rotations(self.reconstruct(clip.joint_rotations), model=self.name)


_CACHE: dict[Path, tuple[tuple[int, ...], NumpyModel]] = {}


def _stamp(*paths: Path) -> tuple[int, ...]:
    """What tells a cached model from its files rewritten since: mtime, size and inode of each.

    A training job renames new files over the old ones, so the inode
    changes even when the size does and the clock's tick is too coarse to.
    """
    stamp: list[int] = []
    for p in paths:
        st = p.stat()
        stamp += [st.st_mtime_ns, st.st_size, st.st_ino]
    return tuple(stamp)


def load_model(path: os.PathLike[str] | str, *, cache: bool = True) -> NumpyModel:
    """Load a model for the numpy runtime.

    Args:
        path: The sidecar, the npz, the Keras file or the stem of a model set,
            or a bare model name searched in :func:`modelfile.default_model_dirs`.
        cache: Reuse a model already loaded from the same, unchanged files.

    Raises:
        MocapError: Naming the file, when a file is missing or malformed, or
            the npz does not match the hash in the sidecar.
    """
    json_path = modelfile.find_model(path)
    for attempt in range(2):
        meta = modelfile.read_sidecar(json_path)
        try:
            npz_path = modelfile.verify_weights(json_path, meta)
            break
        except MocapError:
            # A job may be renaming a new set into place right now.
            if attempt:
                raise
            time.sleep(0.2)
    key = _stamp(json_path, npz_path)
    resolved = json_path.resolve()
    if cache and resolved in _CACHE and _CACHE[resolved][0] == key:
        return _CACHE[resolved][1]
    weights = modelfile.read_weights(npz_path)
    try:
        model = NumpyModel(meta, weights, json_path)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, MocapError):
            raise
        raise MocapError(f"malformed model sidecar: {exc}", path=json_path) from None
    if cache:
        _CACHE[resolved] = (key, model)
    return model

