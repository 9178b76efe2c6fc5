"""The core clean step: blending, masks, ranges, root, name maps and the change report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from maya_tool import corruption
from maya_tool import quaternion as quat
from maya_tool.clean import CleanOptions, blend, clean_clip, frame_weights, map_joints
from maya_tool.errors import MocapError, ModelMismatchError
from maya_tool.filters import butterworth
from maya_tool.models import architectures
from maya_tool.models.runtime import load_model
from maya_tool.presets import CMU_JOINT_NAMES
from maya_tool.skeleton import Skeleton
from tests import synth


class FilterModel:
    """A stand-in denoiser with the runtime's interface: a 6 Hz zero-phase low-pass."""

    name = "filter"
    joint_names = list(CMU_JOINT_NAMES)

    def check_clip(self, clip):  # type: ignore[no-untyped-def]
        if clip.skeleton.names != self.joint_names:
            raise ModelMismatchError("joints differ")

    def reconstruct(self, rots):  # type: ignore[no-untyped-def]
        return butterworth(rots, 120.0, 6.0)


@pytest.fixture(scope="module")
def untrained(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = architectures.untrained_model_set(tmp_path_factory.mktemp("m"), "noise", "temporal", list(CMU_JOINT_NAMES),
                                             {"window": 16}, seed=3)
    return load_model(path)


def _options(**kw):  # type: ignore[no-untyped-def]
    return CleanOptions(feet=False, **kw)


def test_strength_zero_is_the_input_bit_for_bit(untrained):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames=96)
    result = clean_clip(clip, untrained, _options(strength=0.0))
    assert np.array_equal(result.clip.rotations, clip.rotations)
    assert np.array_equal(result.clip.root_positions, clip.root_positions)
    assert result.clip.skeleton is clip.skeleton
    assert result.report["max_change_deg"] == 0.0


def test_strength_one_is_the_model_and_half_is_halfway(untrained):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames=96)
    full = clean_clip(clip, untrained, _options(strength=1.0)).clip
    expected = untrained.reconstruct(clip.joint_rotations)
    assert np.allclose(quat.geodesic_angle(full.joint_rotations, expected), 0.0, atol=1e-9)
    half = clean_clip(clip, untrained, _options(strength=0.5)).clip
    to_input = quat.geodesic_angle(half.joint_rotations, clip.joint_rotations)
    to_model = quat.geodesic_angle(half.joint_rotations, expected)
    assert np.allclose(to_input, to_model, atol=1e-7)
    assert np.allclose(to_input * 2, quat.geodesic_angle(clip.joint_rotations, expected), atol=1e-7)
    for out in (full, half):
        assert np.allclose(np.linalg.norm(out.rotations, axis=-1), 1.0, atol=1e-12)
        assert np.all(out.rotations[..., 3] >= 0)
        assert np.array_equal(out.rotations[:, 0], clip.rotations[:, 0])
        assert np.array_equal(out.root_positions, clip.root_positions)


def test_joint_mask_and_frame_range(untrained):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames=120)
    result = clean_clip(clip, untrained, _options(joints=("LeftArm", "Head"), frames=(30, 90), ramp_frames=4))
    changed = ~np.all(result.clip.rotations == clip.rotations, axis=-1)
    cols = {clip.skeleton.names[j] for j in np.flatnonzero(changed.any(axis=0))}
    assert cols == {"LeftArm", "Head"}
    rows = np.flatnonzero(changed.any(axis=1))
    assert rows.min() == 30 and rows.max() == 89
    assert np.allclose(result.weights[30:35, clip.skeleton.index("Head")], [0.2, 0.4, 0.6, 0.8, 1.0])
    with pytest.raises(MocapError, match="Nope"):
        clean_clip(clip, untrained, _options(joints=("Nope",)))


def test_frame_weights_ramp_only_inside_the_clip() -> None:
    assert np.array_equal(frame_weights(10, 1.0, None, 4), np.ones(10))
    w = frame_weights(10, 0.5, (0, 5), 1)
    assert np.allclose(w, [0.5, 0.5, 0.5, 0.5, 0.25, 0, 0, 0, 0, 0])


def test_blend_is_exact_at_the_ends() -> None:
    rng = np.random.default_rng(0)
    a = quat.positive_w(quat.normalize(rng.normal(size=(5, 4))))
    b = quat.normalize(rng.normal(size=(5, 4)))
    assert np.array_equal(blend(a, b, 0.0), a)
    assert np.allclose(blend(a, b, 1.0), quat.positive_w(b), atol=1e-15, rtol=0)


def test_root_smooth_cleans_the_root_translation() -> None:
    clip = synth.smooth_clip(frames=240)
    rng = np.random.default_rng(1)
    noisy = clip.copy()
    noisy.root_positions = clip.root_positions + rng.normal(0, 1.0, clip.root_positions.shape)
    kept = clean_clip(noisy, FilterModel(), _options())
    assert np.array_equal(kept.clip.root_positions, noisy.root_positions)
    smoothed = clean_clip(noisy, FilterModel(), _options(root="smooth", root_cutoff_hz=4.0))
    err_before = np.abs(noisy.root_positions - clip.root_positions).mean()
    err_after = np.abs(smoothed.clip.root_positions - clip.root_positions).mean()
    assert err_after < 0.4 * err_before
    assert smoothed.report["root_translation_max_change_cm"] > 0


def test_report_finds_the_pops_and_is_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames=240)
    bad = corruption.corrupt_clip(clip, corruption.make("pops", pop_rate=0.004), seed=5)
    popped = np.degrees(quat.geodesic_angle(bad.rotations, clip.rotations)) > 9.0
    result = clean_clip(bad, FilterModel(), _options(threshold_deg=5.0))
    report = json.loads(json.dumps(result.report))
    flagged = set(report["flagged_frames"])
    pop_frames = set(np.flatnonzero(popped.any(axis=1)).tolist())
    assert pop_frames and len(pop_frames & flagged) >= 0.9 * len(pop_frames)
    joint = clip.skeleton.names[int(np.flatnonzero(popped.any(axis=0))[0])]
    entry = next(j for j in report["joints"] if j["name"] == joint)
    assert entry["max_change_deg"] > 9.0 and entry["flagged_runs"] >= 1
    assert any(e["joint"] == joint for e in report["events"])
    assert report["model"] == "filter" and report["options"]["strength"] == 1.0
    assert CleanOptions.from_dict(report["options"]) == _options(threshold_deg=5.0)


def test_other_names_map_onto_the_model_and_unknown_joints_pass_through(untrained) -> None:  # type: ignore[no-untyped-def]
    base = synth.smooth_clip(frames=64)
    inverse = {v: k for k, v in {"Spine": "LowerBack", "Spine1": "Spine", "Spine2": "Spine1"}.items()}
    names = ["mixamorig:" + inverse.get(n, n) for n in base.skeleton.names]
    names[base.skeleton.index("LHipJoint")] = "mixamorig:LeftHipExtra"
    sk = base.skeleton
    skeleton = Skeleton(names, sk.parents, sk.offsets, channels=sk.channels, end_sites=sk.end_sites)
    clip = base.copy()
    clip.skeleton = skeleton
    mapping = map_joints(names, CMU_JOINT_NAMES, "mixamo")
    assert mapping[names.index("mixamorig:Spine")] == CMU_JOINT_NAMES.index("LowerBack")
    result = clean_clip(clip, untrained, _options(name_map="mixamo"))
    extra = names.index("mixamorig:LeftHipExtra")
    assert np.array_equal(result.clip.rotations[:, extra], clip.rotations[:, extra])
    assert result.report["unmapped_clip_joints"] == ["mixamorig:LeftHipExtra"]
    assert result.report["missing_model_joints"] == ["LHipJoint"]
    inputs = clip.rotations[:, 1:].copy()
    inputs[:, extra - 1] = quat.identity()
    expected = untrained.reconstruct(inputs)
    upleg = names.index("mixamorig:LeftUpLeg")
    assert np.allclose(quat.geodesic_angle(result.clip.rotations[:, upleg], expected[:, upleg - 1]), 0, atol=1e-9)
    with pytest.raises(ModelMismatchError, match="name map"):
        clean_clip(clip, untrained, _options(name_map={n: "x" for n in names}))


@pytest.mark.parametrize("bad", [dict(strength=1.5), dict(strength=float("nan")), dict(root="wobble"),
                                 dict(frames=(5, 2)), dict(name_map="blender"), dict(threshold_deg=0)])
def test_bad_options_are_refused(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MocapError):
        CleanOptions(**bad)


def test_change_curves_show_change_jitter_and_sliding() -> None:
    from maya_tool.clean import change_curves, jitter

    clip = synth.smooth_clip(frames=240)
    noisy = corruption.corrupt_clip(clip, corruption.make("capture"), seed=2)
    result = clean_clip(noisy, FilterModel(), CleanOptions(feet=True))
    curves = change_curves(noisy, result.clip, threshold_deg=5.0)
    assert curves.change_deg.shape == (240, clip.skeleton.num_joints)
    assert np.array_equal(np.flatnonzero(curves.flagged), result.report["flagged_frames"])
    assert curves.jitter_after[:, 1:].mean() < 0.2 * curves.jitter_before[:, 1:].mean()
    assert curves.legs == ["Left", "Right"] and curves.sliding_before.shape == (240, 2)
    summary = json.loads(json.dumps(curves.summary()))
    assert summary["joints"][3]["jitter_after_deg_s2"] < summary["joints"][3]["jitter_before_deg_s2"]
    # A rotation turning at a constant rate has no jitter.
    steady = quat.from_axis_angle(np.array([0.0, 0.0, 1.0]), np.linspace(0, 3, 50))[:, None]
    assert np.allclose(jitter(steady, 120.0), 0.0, atol=1e-6)


def test_a_take_at_another_rate_is_cleaned_at_the_models_rate(untrained) -> None:  # type: ignore[no-untyped-def]
    class Rated(FilterModel):
        meta = {"fps": 120.0}

    fast = synth.smooth_clip(frames=240, fps=120.0, seed=4)
    slow = fast.resample(30.0)
    seen: list[int] = []

    class Spy(Rated):
        def reconstruct(self, rots):  # type: ignore[no-untyped-def]
            seen.append(len(rots))
            return super().reconstruct(rots)

    result = clean_clip(slow, Spy(), _options())
    assert seen == [4 * (slow.num_frames - 1) + 1] and result.report["model_fps"] == 120.0
    assert result.clip.num_frames == slow.num_frames
    at_120 = clean_clip(fast, Rated(), _options()).clip
    diff = np.degrees(quat.geodesic_angle(result.clip.rotations, at_120.rotations[::4]))
    assert diff.mean() < 0.5
    assert clean_clip(fast, Rated(), _options()).report["model_fps"] is None


def test_the_denoiser_architecture_cleans_through_the_same_step(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = load_model(architectures.untrained_model_set(tmp_path, "den", "denoiser", list(CMU_JOINT_NAMES), seed=1))
    clip = synth.smooth_clip(frames=200)
    full = clean_clip(clip, model, CleanOptions()).clip
    assert full.num_frames == 200 and np.allclose(np.linalg.norm(full.rotations, axis=-1), 1.0)
    assert np.array_equal(clean_clip(clip, model, CleanOptions(strength=0.0)).clip.rotations, clip.rotations)
