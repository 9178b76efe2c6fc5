"""Per-joint hemisphere: a joint turning through 180 degrees must not flip a model's input."""

from __future__ import annotations

import json

import numpy as np

from maya_tool import quaternion as quat
from maya_tool.models import runtime
from maya_tool.models.architectures import untrained_model_set
from tests import synth


def _near_half_turn(frames: int = 50) -> np.ndarray:
    """A finger-like joint wobbling around 180 degrees about x: w changes sign all the time."""
    angles = np.radians(180.0 + 5.0 * np.sin(np.linspace(0, 6 * np.pi, frames)))
    return quat.positive_w(quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), angles))


def test_mean_direction_ignores_sign_and_to_hemisphere_makes_signs_stable():
    q = _near_half_turn()
    assert (np.diff(np.sign(q[:, 0])) != 0).any(), "w >= 0 flips the x component back and forth"
    ref = quat.mean_direction(q[:, None])[0]
    np.testing.assert_allclose(np.abs(ref), [1.0, 0.0, 0.0, 0.0], atol=1e-3)
    stable = quat.to_hemisphere(q, ref)
    assert (np.sign(stable[:, 0]) == np.sign(stable[0, 0])).all()
    np.testing.assert_allclose(quat.geodesic_angle(stable, q), 0.0, atol=1e-7)


def test_runtime_feeds_inputs_on_the_trained_hemisphere(tmp_path):
    clip = synth.smooth_clip(frames=40)
    rotations = clip.joint_rotations.copy()
    rotations[:, 20] = _near_half_turn(40)
    path = untrained_model_set(tmp_path, "pose", "pose", clip.skeleton.names)
    meta = json.loads(path.read_text())
    reference = quat.mean_direction(rotations)
    meta["hemisphere"] = reference.tolist()
    path.write_text(json.dumps(meta))
    model = runtime.load_model(path, cache=False)
    flipped = rotations.copy()
    flipped[::2] *= -1.0
    np.testing.assert_array_equal(model.inputs(rotations), model.inputs(flipped))
    inputs = model.inputs(rotations).reshape(40, -1, 4)
    assert (np.sum(inputs * reference, axis=-1) >= 0).all()
    np.testing.assert_allclose(model.reconstruct(rotations), model.reconstruct(flipped), atol=1e-12)
