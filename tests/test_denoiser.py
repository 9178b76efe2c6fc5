"""The denoiser architecture: whole clips, +-1 s of context, sign-safe, the same in numpy as in Keras."""

from __future__ import annotations

import numpy as np
import pytest

from maya_tool import corruption, quaternion as quat
from maya_tool.errors import MocapError
from maya_tool.models import architectures, modelfile, runtime
from tests import synth
from tests.test_training import _keras_predict, _train, data  # noqa: F401 - the fixture is used below

NAMES = synth.cmu_like_skeleton(0).names
SMALL = ["--param", "channels=[16,16,16]", "--param", "blocks=[1,0,1]", "--param", "levels=2",
         "--param", "window=32", "--param", "sample_hop=8"]


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("denoiser")
    return runtime.load_model(architectures.untrained_model_set(folder, "dn", "denoiser", list(NAMES)))


def test_defaults_are_a_denoiser_not_a_codec():
    params = architectures.resolve_params("denoiser")
    assert params["inference"] == "full" and params["sign_band"] >= 1.0
    assert architectures.compression("denoiser", params, 120)["ratio"] == pytest.approx(1.0)
    assert "denoiser" in modelfile.TEMPORAL_ARCHITECTURES
    with pytest.raises(MocapError, match="multiple of 2\\^levels"):
        architectures.resolve_params("denoiser", {"window": 100})
    with pytest.raises(MocapError, match="entries"):
        architectures.resolve_params("denoiser", {"levels": 2})


@pytest.mark.parametrize("frames", [1, 17, 301])
def test_any_clip_length_gives_unit_quaternions_frame_for_frame(untrained, frames):
    rots = synth.smooth_clip(frames, seed=2, skeleton=synth.cmu_like_skeleton(0)).joint_rotations
    out = untrained.reconstruct(rots)
    assert out.shape == rots.shape
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-9)
    assert (out[..., 3] >= 0).all()


def test_q_and_minus_q_give_the_same_result(untrained):
    rots = synth.smooth_clip(200, seed=4, skeleton=synth.cmu_like_skeleton(0)).joint_rotations
    flipped = rots.copy()
    flipped[:, 5] *= -1
    flipped[50:120, 9] *= -1
    np.testing.assert_allclose(untrained.reconstruct(flipped), untrained.reconstruct(rots), atol=1e-6)


def test_receptive_field_reaches_at_least_one_second_each_way(untrained):
    rots = synth.smooth_clip(1200, seed=5, skeleton=synth.cmu_like_skeleton(0)).joint_rotations
    bumped = rots.copy()
    bumped[600] = quat.multiply(quat.from_axis_angle(np.array([1.0, 0, 0]), 0.5), bumped[600])
    changed = np.abs(untrained.reconstruct(bumped) - untrained.reconstruct(rots)).max(axis=(1, 2)) > 1e-7
    reach = np.flatnonzero(changed)
    assert reach.min() <= 600 - 120 and reach.max() >= 600 + 120


@pytest.mark.slow
def test_trained_denoiser_runs_the_same_in_numpy_and_keras_and_starts_as_identity(data, tmp_path):  # noqa: F811
    out = tmp_path / "models"
    code, events, stderr = _train([data["npz"], "--name", "dn", "-o", out, "--architecture", "denoiser",
                                   "--epochs", "2", "--batch-size", "4", "--noise", "0", "0.05", *SMALL])
    assert code == 0, stderr[-3000:]
    model = runtime.load_model(out / "dn.json")
    assert model.architecture == "denoiser" and model.meta["training"]["noise"]["model"] == "corruption.TrainingMix"
    clip = data["clips"][0]
    noisy = corruption.corrupt_rotations(clip.joint_rotations, corruption.make("capture"), seed=1)
    padded = model.pad_clip(model.inputs(noisy))[None]
    (keras_clip,) = _keras_predict(tmp_path, [(out / "dn.keras", padded)])
    np.testing.assert_allclose(model.forward(padded), keras_clip, atol=1e-5, rtol=0)
    hop = model.window // 2
    cropped = keras_clip[0, hop : hop + clip.num_frames].reshape(-1, 30, 4).astype(np.float64)
    expected = quat.positive_w(cropped / np.linalg.norm(cropped, axis=-1, keepdims=True))
    np.testing.assert_allclose(model.reconstruct(noisy), expected, atol=1e-4)
    with np.load(out / "dn.npz") as weights:
        assert np.abs(weights["out.kernel"]).max() > 0  # the zero start was left: the comparison covered it
    # Before any step the network is the identity (its last layers start at zero).
    params = architectures.resolve_params("denoiser", {"channels": [8, 8], "blocks": [1, 1], "levels": 1,
                                                       "window": 16})
    net = architectures.network_spec("denoiser", params, 120)
    inner = net["encoder"][0]["layers"]
    assert inner[-1]["name"] == "out" and inner[-1]["zero_init"]
