"""The numpy runtime and model files: exact layers, windows, checks, registry, no TensorFlow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from maya_tool import modes
from maya_tool import quaternion as quat
from maya_tool.errors import MocapError, ModelMismatchError
from maya_tool.models import architectures, modelfile, runtime
from maya_tool.presets import CMU_JOINT_NAMES
from tests import synth

NAMES = list(CMU_JOINT_NAMES)


def _model(tmp_path: Path, architecture: str = "pose", name: str = "m", **params):
    path = architectures.untrained_model_set(tmp_path, name, architecture, NAMES, params, seed=1)
    return runtime.load_model(path, cache=False)


def test_conv1d_matches_a_direct_loop():
    rng = np.random.default_rng(0)
    for length, kernel, stride in [(16, 9, 2), (15, 4, 2), (12, 3, 1), (7, 5, 4)]:
        x = rng.normal(size=(2, length, 3)).astype(np.float32)
        w = rng.normal(size=(kernel, 3, 5)).astype(np.float32)
        b = rng.normal(size=5).astype(np.float32)
        left, right = runtime.same_padding(length, kernel, stride)
        xp = np.pad(x.astype(np.float64), ((0, 0), (left, right), (0, 0)))
        out_len = -(-length // stride)
        expected = np.stack(
            [np.einsum("nkc,kco->no", xp[:, t * stride : t * stride + kernel], w) + b for t in range(out_len)], axis=1
        )
        np.testing.assert_allclose(runtime.conv1d(x, w, b, stride), expected, atol=1e-5)
    assert runtime.same_padding(64, 9, 2) == (3, 4)


def test_windows_blend_back_exactly():
    x = np.random.default_rng(1).normal(size=(101, 6)).astype(np.float32)
    for window in (8, 32, 64):
        windows = runtime.make_windows(x, window)
        assert windows.shape[1:] == (window, 6)
        np.testing.assert_allclose(runtime.overlap_add(windows, len(x)), x, atol=1e-6)
    weights = runtime.hann_weights(32)
    np.testing.assert_allclose(weights[:16] + weights[16:], 1.0, atol=1e-6)
    assert weights.min() > 0
    # Padding repeats the end frames.
    windows = runtime.make_windows(x, 8)
    np.testing.assert_array_equal(windows[0, :4], np.repeat(x[:1], 4, axis=0))


@pytest.mark.parametrize(
    "architecture, params",
    [
        ("pose", {}),
        ("sparse", {}),
        ("temporal", {"window": 32, "inference": "windows"}),
        ("temporal", {"window": 32, "inference": "full"}),
        ("temporal", {"window": 32, "inference": "full", "latent_residual": True, "high_ratio": True}),
        ("temporal", {"window": 32, "design": "conv"}),
    ],
)
def test_reconstruct_a_whole_clip(tmp_path, clip, architecture, params):
    model = _model(tmp_path, architecture, **params)
    out = model.reconstruct(clip.joint_rotations)
    assert out.shape == clip.joint_rotations.shape
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-9)
    assert (out[..., 3] >= 0).all()
    latent = model.encode(clip.joint_rotations)
    np.testing.assert_allclose(model.decode(latent, frames=clip.num_frames), out, atol=1e-12)
    if architecture == "temporal" and params.get("inference") == "full":
        stride = 8 if params.get("high_ratio") else 2
        assert latent.shape == (-(-(clip.num_frames + 32) // stride), 60)
    if params.get("design") == "conv":
        assert latent.shape == (-(-(clip.num_frames + 32) // 4), 120)
    applied = model.apply(clip)
    np.testing.assert_allclose(applied.joint_rotations, out, atol=1e-12)
    np.testing.assert_array_equal(applied.root_rotations, clip.root_rotations)
    assert model.reconstruct(clip.joint_rotations[:0]).shape == (0, 30, 4)


def test_temporal_windows_do_not_depend_on_clip_length_far_away(tmp_path, clip):
    """A frame's output only depends on the two windows holding it: cutting the clip's end changes nothing early."""
    model = _model(tmp_path, "temporal", window=32, inference="windows")
    full = model.reconstruct(clip.joint_rotations)
    part = model.reconstruct(clip.joint_rotations[:150])
    np.testing.assert_allclose(part[:100], full[:100], atol=1e-6)


def _codec(params, centre, basis, seed=0):
    """A NumpyModel of the codec with its linear start; residual first layers random."""
    resolved = architectures.resolve_params("temporal", params)
    weights = architectures.random_weights("temporal", resolved, 120, seed)
    weights.update(architectures.codec_weights(resolved, 120, centre, basis))
    meta = {"name": "c", "architecture": "temporal", "joint_names": NAMES, "ratio": 4.0, "bits_per_frame": 960,
            "input_layout": {"size": 120}, "params": resolved, "window": int(resolved["window"]),
            "network": architectures.network_spec("temporal", resolved, 120)}
    return runtime.NumpyModel(meta, weights, "c.json")


@pytest.mark.parametrize("params", [{}, {"high_ratio": True, "latent_residual": True}, {"stride": 4}])
def test_codec_starts_as_pca_box_average_and_linear_interpolation(params, clip):
    """At step 0 the codec is the linear codec, computed here independently: PCA, box means, np.interp."""
    poses = clip.pose_features().astype(np.float64)
    centre, basis = architectures.pca(poses, 60)
    # The basis is the principal subspace (eigh vs SVD agree up to signs) and deterministic.
    _, _, vt = np.linalg.svd(poses - poses.mean(0), full_matrices=False)
    np.testing.assert_allclose(np.abs(np.sum(basis[:10] * vt[:10], axis=1)), 1.0, atol=1e-6)
    again = architectures.pca(poses.copy(), 60)
    np.testing.assert_array_equal(again[1], basis)

    model = _codec(params, centre, basis)
    stride = model.stride
    x = poses[: 16 * stride * 4]
    codes = (x - centre) @ basis.T
    boxes = codes.reshape(-1, stride, 60).mean(axis=1)
    centres = np.arange(len(boxes)) * stride + (stride - 1) / 2
    frames = np.arange(len(x))
    interp = np.stack([np.interp(frames, centres, boxes[:, c]) for c in range(60)], axis=1)
    expected = centre + interp @ basis
    out = model.forward(x[None].astype(np.float32))[0]
    inner = slice(2 * stride, len(x) - 2 * stride)
    np.testing.assert_allclose(out[inner], expected[inner], atol=2e-5)
    assert model.encode_features(x[None].astype(np.float32)).shape == (1, len(x) // stride, 60)


def test_codec_inputs_switch_signs_with_hysteresis(tmp_path):
    """A joint wobbling about the border of its hemisphere keeps one sign; one turning well past it switches once."""
    rng = np.random.default_rng(5)
    frames = 300
    angles = np.pi + 0.15 * np.sin(np.linspace(0, 12 * np.pi, frames)) + rng.normal(0, 0.03, frames)
    rots = np.tile(np.array([0.0, 0.0, 0.0, 1.0]), (frames, 30, 1))
    rots[:, 5] = quat.positive_w(quat.from_axis_angle(np.array([0.0, 1.0, 0.0]), angles))
    rots[:, 7] = quat.positive_w(quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), np.linspace(0, 2 * np.pi, frames)))
    codec = _model(tmp_path, "temporal", name="codec", window=32)
    conv = _model(tmp_path, "temporal", name="conv", window=32, design="conv")
    assert codec.sign_band == 0.2 and conv.sign_band == 0.0

    def jumps(x):
        return np.sum(np.sum(x[1:] * x[:-1], axis=-1) < 0, axis=0)

    for model in (codec, conv):
        model.hemisphere = np.tile([0.0, 0.0, 0.0, 1.0], (30, 1))
    banded = codec.inputs(rots).reshape(frames, 30, 4)
    per_frame = conv.inputs(rots).reshape(frames, 30, 4)
    assert jumps(banded)[5] == 0 and jumps(per_frame)[5] > 10
    assert jumps(banded)[7] == 1 and np.sum(banded[:, 7] * [0, 0, 0, 1], axis=-1).min() > -0.21
    np.testing.assert_allclose(np.abs(np.sum(banded * rots, axis=-1)), 1.0, atol=1e-6)
    # The two ends of the band: per-frame hemisphere, and the continuous track.
    reference = np.tile([0.0, 0.0, 0.0, 1.0], (30, 1))
    np.testing.assert_array_equal(runtime.banded_signs(rots, reference, 0.0), quat.to_hemisphere(rots, reference))
    np.testing.assert_array_equal(runtime.banded_signs(rots, reference, 1.0),
                                  quat.continuous(quat.to_hemisphere(rots, reference)))


def test_residual_layers_add_their_branch():
    rng = np.random.default_rng(3)
    spec = {"encoder": [{"type": "dense", "name": "d", "units": 6, "activation": "linear"},
                        {"type": "residual", "name": "r", "layers": [
                            {"type": "conv1d", "name": "r1", "filters": 5, "kernel": 3, "strides": 1,
                             "padding": "same", "activation": "elu"},
                            {"type": "conv1d", "name": "r2", "filters": 6, "kernel": 3, "strides": 1,
                             "padding": "same", "activation": "linear"}]}],
            "decoder": []}
    weights = {"d.kernel": rng.normal(size=(120, 6)), "d.bias": rng.normal(size=6),
               "r1.kernel": rng.normal(size=(3, 6, 5)), "r1.bias": rng.normal(size=5),
               "r2.kernel": rng.normal(size=(3, 5, 6)), "r2.bias": rng.normal(size=6)}
    meta = {"name": "r", "architecture": "temporal", "joint_names": NAMES, "ratio": 1, "bits_per_frame": 1,
            "input_layout": {"size": 120}, "params": {}, "window": 8, "network": spec}
    model = runtime.NumpyModel(meta, weights, "r.json")
    x = rng.normal(size=(2, 11, 120)).astype(np.float32)
    w = {k: v.astype(np.float32) for k, v in weights.items()}
    h = x @ w["d.kernel"] + w["d.bias"]
    inner = runtime.ACTIVATIONS["elu"](runtime.conv1d(h, w["r1.kernel"], w["r1.bias"]))
    np.testing.assert_allclose(model.forward(x), h + runtime.conv1d(inner, w["r2.kernel"], w["r2.bias"]), atol=1e-4)
    del weights["r2.bias"]
    with pytest.raises(MocapError, match="weights lack r2.bias"):
        runtime.NumpyModel(meta, weights, "r.json")
    meta["network"] = {"encoder": [{"type": "residual", "name": "empty", "layers": []}], "decoder": []}
    with pytest.raises(MocapError, match="no inner layers"):
        runtime.NumpyModel(meta, {}, "r.json")


def test_codec_parameters_are_checked():
    with pytest.raises(MocapError, match="cannot exceed the 120"):
        architectures.network_spec("temporal", architectures.resolve_params("temporal", {"latent_channels": 121}), 120)
    with pytest.raises(MocapError, match="design must be"):
        architectures.resolve_params("temporal", {"design": "rnn"})
    conv = architectures.resolve_params("temporal", {"design": "conv"})
    assert conv["stride"] == 4 and conv["latent_channels"] == 120 and conv["output_activation"] == "tanh"
    high = architectures.resolve_params("temporal", {"high_ratio": True})
    assert architectures.compression("temporal", high, 120) == {"latent_per_frame": 7.5, "bits_per_frame": 240.0,
                                                                "ratio": 16.0}
    assert architectures.latent_per_frame("temporal", architectures.resolve_params("temporal")) == 30


def test_float16_latent_is_what_is_decoded(tmp_path, clip):
    model = _model(tmp_path, "pose", latent_dtype="float16")
    assert model.bits_per_frame == 30 * 16 and model.ratio == 8.0
    latent = model.encode(clip.joint_rotations)
    assert latent.dtype == np.float16 and latent.shape == (clip.num_frames, 30)
    np.testing.assert_allclose(model.reconstruct(clip.joint_rotations), model.decode(latent), atol=0)


def test_compute_variant_uses_the_runtime(tmp_path, clip):
    model = _model(tmp_path)
    denoised = modes.compute_variant(clip, "denoised", model=model, sigma=0.05)
    noisy = modes.compute_variant(clip, "noisy", sigma=0.05)
    np.testing.assert_allclose(denoised.joint_rotations, model.reconstruct(noisy.joint_rotations), atol=1e-12)
    assert denoised.source["variant"] == "denoised"


def test_mismatch_says_which(tmp_path, clip):
    model = _model(tmp_path)
    other = synth.smooth_clip(skeleton=synth.cmu_like_skeleton())
    renamed = list(NAMES)
    renamed[3] = "LeftKnee"
    other.skeleton.names = renamed
    other.source["path"] = "walk.bvh"
    with pytest.raises(ModelMismatchError, match="joint 3: model 'LeftLeg', clip 'LeftKnee'") as info:
        model.check_clip(other)
    assert info.value.path == "walk.bvh"
    with pytest.raises(ModelMismatchError, match="expects 31 joints .120 inputs.*clip has 25 joints .96 inputs"):
        model.check_clip(_clip_with_joints(25))
    with pytest.raises(ModelMismatchError, match=r"shape \(frames, 30, 4\).*got \(10, 24, 4\)"):
        model.reconstruct(np.zeros((10, 24, 4)))
    with pytest.raises(ModelMismatchError):
        modes.compute_variant(_clip_with_joints(25), "encoded", model=model)


def _clip_with_joints(count: int):
    from maya_tool.skeleton import Skeleton

    skeleton = Skeleton(names=[f"j{i}" for i in range(count)], parents=[-1] + list(range(count - 1)),
                        offsets=np.ones((count, 3)))
    return synth.smooth_clip(frames=10, skeleton=skeleton)


def test_sidecar_and_hash_are_checked(tmp_path):
    path = architectures.untrained_model_set(tmp_path, "m", "pose", NAMES)
    meta = modelfile.read_sidecar(path)
    assert meta["format"] == "mocap-ae.model" and meta["version"] == 1 and meta["name"] == "m"
    assert meta["weights"]["sha256"] == modelfile.sha256_file(tmp_path / "m.npz")
    assert meta["ratio"] == 4.0 and meta["bits_per_frame"] == 960 and meta["input_layout"]["size"] == 120
    for given in ("m.json", "m.npz", "m.keras", "m"):
        assert runtime.load_model(tmp_path / given).name == "m"

    # A replaced npz is refused, naming it.
    with np.load(tmp_path / "m.npz") as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["enc1.bias"] = arrays["enc1.bias"] + 1
    (tmp_path / "m.npz").write_bytes(modelfile.npz_bytes(arrays))
    with pytest.raises(MocapError, match="do not match the hash") as info:
        runtime.load_model(path, cache=False)
    assert info.value.path == str(tmp_path / "m.npz")
    assert modelfile.list_models([tmp_path]) == []

    path.write_text('{"format": "mocap-ae.model",\n "version": 1,,}')
    with pytest.raises(MocapError) as info:
        runtime.load_model(path)
    assert info.value.path == str(path) and info.value.row == 2
    path.write_text(json.dumps({"format": "other"}))
    with pytest.raises(MocapError, match="not a model sidecar"):
        modelfile.read_sidecar(path)
    with pytest.raises(MocapError, match="sidecar not found"):
        runtime.load_model(tmp_path / "missing.json")


def test_pickled_weights_are_never_loaded(tmp_path):
    path = architectures.untrained_model_set(tmp_path, "m", "pose", NAMES)
    with np.load(tmp_path / "m.npz") as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["enc1.kernel"] = np.array([{"evil": 1}], dtype=object)
    with open(tmp_path / "m.npz", "wb") as handle:
        np.savez(handle, **arrays)
    meta = json.loads(path.read_text())
    meta["weights"]["sha256"] = modelfile.sha256_file(tmp_path / "m.npz")
    path.write_text(json.dumps(meta))
    with pytest.raises(MocapError, match="cannot read model weights") as info:
        runtime.load_model(path, cache=False)
    assert info.value.path == str(tmp_path / "m.npz")


def test_save_model_set_keeps_the_previous_set_when_writing_fails(tmp_path):
    path = architectures.untrained_model_set(tmp_path, "m", "pose", NAMES, seed=1)
    (tmp_path / "m.keras").write_bytes(b"old keras")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken_keras(target: Path) -> None:
        target.write_bytes(b"partial")
        raise RuntimeError("disk full")

    meta = modelfile.read_sidecar(path)
    with pytest.raises(RuntimeError, match="disk full"):
        modelfile.save_model_set(tmp_path, "m", meta, {"x": np.zeros(3)}, broken_keras)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    modelfile.save_model_set(tmp_path, "m", meta, {"x": np.zeros(3)}, lambda t: t.write_bytes(b"new keras"))
    assert (tmp_path / "m.keras").read_bytes() == b"new keras"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.keras", "m.npz"]


def test_registry(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    architectures.untrained_model_set(first, "pose-1", "pose", NAMES)
    architectures.untrained_model_set(second, "temporal-1", "temporal", NAMES, {"high_ratio": True})
    architectures.untrained_model_set(second, "pose-1", "sparse", NAMES)
    (second / "notes.json").write_text("{}")
    monkeypatch.setenv("MOCAP_AE_MODELS", os.pathsep.join([str(first), str(second)]))
    dirs = modelfile.default_model_dirs()
    assert dirs[-2:] == [first, second] and Path.home() / ".mocap-ae" / "models" in dirs
    listed = {m.name: m for m in modelfile.list_models([first, second])}
    assert sorted(listed) == ["pose-1", "temporal-1"]
    assert listed["pose-1"].architecture == "pose"
    assert listed["temporal-1"].ratio == 16.0 and listed["temporal-1"].meta["latent_per_frame"] == 7.5
    assert runtime.load_model("temporal-1").path == second / "temporal-1.json"
    for bad in ("", "a.b", "../x", "x" * 65, "-x"):
        with pytest.raises(MocapError, match="not usable"):
            modelfile.validate_name(bad)


def test_runtime_never_imports_tensorflow(tmp_path):
    for arch in ("pose", "temporal"):
        architectures.untrained_model_set(tmp_path, arch, arch, NAMES, {"window": 32} if arch == "temporal" else {})
    script = f"""
import sys
from maya_tool.models import runtime, modelfile
from tests import synth
clip = synth.smooth_clip()
for name in ("pose", "temporal"):
    model = runtime.load_model({str(tmp_path)!r} + "/" + name + ".json")
    assert model.reconstruct(clip.joint_rotations).shape == (240, 30, 4)
assert modelfile.list_models([{str(tmp_path)!r}])
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "a heavy import crept in"
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"



def test_a_kill_during_the_set_write_leaves_the_previous_model(tmp_path):
    path = architectures.untrained_model_set(tmp_path, "m", "pose", NAMES, seed=1)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    script = f"""
import os, signal
import numpy as np
from maya_tool.models import modelfile
meta = modelfile.read_sidecar({str(path)!r})
def die(target):
    target.write_bytes(b"half a keras file")
    os.kill(os.getpid(), signal.SIGKILL)
modelfile.save_model_set({str(tmp_path)!r}, "m", meta, {{"x": np.ones(3)}}, die)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == -9
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.startswith(".")} == before
    assert [m.name for m in modelfile.list_models([tmp_path])] == ["m"]
    assert runtime.load_model(path, cache=False).name == "m"
