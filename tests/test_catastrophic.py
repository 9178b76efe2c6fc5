"""No catastrophic frames from the shipped temporal codecs, on the CMU frames where they happened.

A sign switch of the codecs' inputs (``runtime.banded_signs``) is a q -> -q
step the network smooths: its raw output beside the switch passes near zero
and its direction there was arbitrary, 80-160 degrees off on frames where the
clip moved 12-74 degrees a frame (06_13 LeftFingerBase 2172-2173, the switch
one frame after LThumb's own 155 degree flip at 2173; 90_banana LeftHand
420-422). ``NumpyModel.reconstruct`` now redoes those frames from a pass with
the switch moved (``runtime.move_switches``).

A frame is catastrophic when its error exceeds 30 degrees and 1.2 times the
clip's own largest frame-to-frame step within 4 frames: a codec cannot follow
a one-frame 180 degree flip of the source (the CMU thumbs and finger bases
have many), but it must not make a pop where the source has none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from maya_tool import quaternion as quat
from maya_tool.io import read_clip
from maya_tool.models import runtime

MODELS = Path(__file__).resolve().parent.parent / "models"


def _local_step_deg(rots: np.ndarray, reach: int = 4) -> np.ndarray:
    """(F, J) largest frame-to-frame rotation of the source within ``reach`` frames, degrees."""
    step = np.zeros(rots.shape[:2])
    step[1:] = np.degrees(quat.geodesic_angle(rots[1:], rots[:-1]))
    padded = np.pad(step, ((reach, reach + 1), (0, 0)))
    return np.max([padded[k : k + len(step)] for k in range(2 * reach + 2)], axis=0)


def _segment(cmu_root: Path, relative: str, start: int, stop: int):
    clip = read_clip(cmu_root / "subjects" / relative)
    return clip.joint_rotations[start:stop], list(clip.skeleton.names[1:])


def _catastrophic(rots: np.ndarray, out: np.ndarray) -> np.ndarray:
    angle = np.degrees(quat.geodesic_angle(rots, out))
    return np.argwhere((angle > 30.0) & (angle > 1.2 * _local_step_deg(rots)))


# 06_13 from 2066: every joint's input is on its reference side there, so the
# segment's signs (and the switch at LeftFingerBase 2172/2173) are the whole clip's.
CASES = [("06/06_13.bvh", 2066, 2330, "LeftFingerBase", 2173), ("90/90_banana.amc", 300, 560, "LeftHand", 421)]


@pytest.mark.cmu
@pytest.mark.parametrize("model_name", ["temporal", "temporal-high"])
@pytest.mark.parametrize("relative, start, stop, joint, switch", CASES)
def test_no_catastrophic_frames_at_sign_switches(cmu_root, model_name, relative, start, stop, joint, switch):
    model = runtime.load_model(MODELS / f"{model_name}.json")
    rots, names = _segment(cmu_root, relative, start, stop)
    j, t = names.index(joint), switch - start
    inputs = model.inputs(rots).reshape(rots.shape)
    # The cause: the inputs switch sign there, and the plain pass's output collapses beside it.
    assert np.dot(inputs[t, j], inputs[t - 1, j]) < 0.0
    plain = model._decode_raw(model.inputs(rots))
    assert np.linalg.norm(plain[t - 2 : t + 2, j], axis=-1).min() < runtime.SWITCH_GUARD_NORM
    plain_angle = np.degrees(quat.geodesic_angle(rots, quat.normalize(plain)))
    assert plain_angle[t - 2 : t + 2, j].max() > 70.0
    out = model.reconstruct(rots)
    assert np.allclose(np.linalg.norm(out, axis=-1), 1.0) and np.all(out[..., 3] >= 0.0)
    bad = _catastrophic(rots, out)
    assert len(bad) == 0, [(start + int(f), names[int(k)]) for f, k in bad[:10]]


@pytest.mark.cmu
def test_a_source_flip_beside_a_switch_is_bridged_not_inverted(cmu_root):
    """06_13 LThumb flips 155 degrees between 2172 and 2173, and its sign switches at 2174.

    The codec was 140 degrees off at 2173 (the reported spike); a smooth
    output may sit between the two poses, not beyond them.
    """
    model = runtime.load_model(MODELS / "temporal.json")
    rots, names = _segment(cmu_root, "06/06_13.bvh", 2066, 2330)
    j, t = names.index("LThumb"), 2173 - 2066
    flip = np.degrees(quat.geodesic_angle(rots[t, j], rots[t - 1, j]))
    assert flip > 150.0
    out = model.reconstruct(rots)
    to_before = np.degrees(quat.geodesic_angle(out[t, j], rots[t - 1, j]))
    to_after = np.degrees(quat.geodesic_angle(out[t, j], rots[t, j]))
    assert max(to_before, to_after) < flip and to_after < 90.0


def test_switches_move_away_from_suspect_frames_only():
    """``move_switches`` keeps the switch off the suspect frames, on the side nearer the reference."""
    frames, angle = 40, np.linspace(0.2, 2 * np.pi - 0.2, 40)
    track = quat.from_axis_angle(np.array([1.0, 0.0, 0.0]), angle)[:, None]
    reference = quat.identity((1,))
    inputs = runtime.banded_signs(track, reference, 0.2)
    sign = np.where(np.sum(inputs * quat.continuous(inputs, axis=0), axis=-1) < 0, -1.0, 1.0)[:, 0]
    switch = int(np.flatnonzero(sign[1:] != sign[:-1])[0]) + 1
    none = np.zeros((frames, 1), dtype=bool)
    assert runtime.move_switches(inputs, reference, none, shift=4) is None
    suspect = none.copy()
    suspect[switch, 0] = True
    moved = runtime.move_switches(inputs, reference, suspect, shift=4)
    assert moved is not None
    moved_sign = np.where(np.sum(moved * quat.continuous(inputs, axis=0), axis=-1) < 0, -1.0, 1.0)[:, 0]
    new_switch = np.flatnonzero(moved_sign[1:] != moved_sign[:-1]) + 1
    assert len(new_switch) == 1 and abs(int(new_switch[0]) - switch) == 4
    assert np.allclose(np.abs(np.sum(moved * inputs, axis=-1)), 1.0)  # same rotations, signs only
