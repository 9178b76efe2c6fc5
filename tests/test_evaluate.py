"""Errors, the whole evaluation, the report and ``mocap-ae evaluate``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from maya_tool import evaluate as ev
from maya_tool import kinematics, modes, noise
from maya_tool import quaternion as quat
from maya_tool.baselines import PCA
from maya_tool.cli import main
from maya_tool.clip import Clip
from maya_tool.errors import MocapError, ModelMismatchError
from maya_tool.skeleton import Skeleton
from tests import synth

SUMMARY_VARIANT_KEYS = {*ev.TABLE_COLUMNS, "max_angle_deg", "animated", "per_joint"}
ANIMATED_KEYS = {*ev.ANIMATED_COLUMNS, "mean_position_cm", "joints"}
SUMMARY_TOP_KEYS = {
    "ratio", "bits_per_frame", "frames", "sigma", "butterworth_cutoff_hz", "butterworth_cutoff_selected_on",
    "savgol_window", "savgol_order", "model", "clips", *ev.VARIANTS, "classical", "animated_joints",
    "still_joints", "corruption", "corruption_seed", "despike_window", "despike_threshold", "despike_cutoff_hz",
}


def with_still_joints(clip: Clip, joints: tuple[int, ...]) -> Clip:
    """``clip`` with the given joint columns (0 = first non-root joint) held at their first frame."""
    rotations = clip.joint_rotations.copy()
    for j in joints:
        rotations[:, j] = rotations[0, j]
    return clip.with_joint_rotations(rotations)


def chain_clip(frames: int = 4) -> Clip:
    """root -> a -> b: a 10 cm above the root, b 10 cm along a's x axis."""
    skeleton = Skeleton(
        names=["root", "a", "b"],
        parents=np.array([-1, 0, 1]),
        offsets=np.array([[0.0, 0, 0], [0, 10, 0], [10, 0, 0]]),
    )
    return Clip(skeleton, 30.0, np.zeros((frames, 3)), quat.identity((frames, 3)))


def with_joint(clip: Clip, joint: int, rotation: np.ndarray) -> Clip:
    rotations = clip.rotations.copy()
    rotations[:, joint] = rotation
    return Clip(clip.skeleton, clip.fps, clip.root_positions, rotations)


class Identity:
    """A stand-in model that returns its input: a perfect autoencoder."""

    name = "identity"
    ratio = 4.0
    bits_per_frame = 960

    def __init__(self) -> None:
        self.checked = 0

    def check_clip(self, clip: Clip) -> None:
        self.checked += 1

    def reconstruct(self, joint_rotations: np.ndarray) -> np.ndarray:
        return np.array(joint_rotations, dtype=np.float64)


class Rejecting(Identity):
    def check_clip(self, clip: Clip) -> None:
        raise ModelMismatchError("joint LeftFoot missing")


class WrongShape(Identity):
    def reconstruct(self, joint_rotations: np.ndarray) -> np.ndarray:
        return np.asarray(joint_rotations)[:-1]


# --- frame_errors: exact answers ---------------------------------------------------------------------------------


def test_identical_clips_have_zero_error(clip: Clip) -> None:
    errors = ev.frame_errors(clip, clip.copy())
    assert errors.angle_deg.shape == (clip.num_frames, clip.skeleton.num_bones)
    assert errors.joint_names == clip.skeleton.names[1:]
    for arr in (errors.angle_deg, errors.position_cm, errors.vertex_cm):
        assert arr.shape == (clip.num_frames, 30)
        assert np.abs(arr).max() < 1e-9


@pytest.mark.parametrize("degrees", [1.0, 30.0, 90.0, 170.0])
def test_one_joint_rotated_about_its_z_axis(degrees: float) -> None:
    theta = np.radians(degrees)
    ref = chain_clip()
    cand = with_joint(ref, 1, quat.from_axis_angle([0.0, 0.0, 1.0], theta))
    errors = ev.frame_errors(ref, cand)
    half = np.sin(theta / 2)
    np.testing.assert_allclose(errors.angle_deg[:, 0], degrees, atol=1e-9)
    np.testing.assert_allclose(errors.angle_deg[:, 1], 0.0, atol=1e-9)
    # a itself does not move: its parent (the pinned root) did not turn.
    np.testing.assert_allclose(errors.position_cm[:, 0], 0.0, atol=1e-9)
    # its x and y vertices, perpendicular to the axis, move by a 3 cm chord.
    np.testing.assert_allclose(errors.vertex_cm[:, 0], 2 * 3.0 * half, atol=1e-9)
    # the child swings on a 10 cm arm; its farthest vertex on a 13 cm arm.
    np.testing.assert_allclose(errors.position_cm[:, 1], 2 * 10.0 * half, atol=1e-9)
    np.testing.assert_allclose(errors.vertex_cm[:, 1], 2 * 13.0 * half, atol=1e-9)


def test_rotation_about_the_local_axis_of_a_posed_joint() -> None:
    """The vertices follow the joint's own axes, whatever pose it is in."""
    rng = np.random.default_rng(3)
    ref = chain_clip(frames=6)
    local = quat.positive_w(quat.normalize(rng.normal(size=(6, 4))))
    ref = with_joint(ref, 1, local)
    theta = np.radians(20.0)
    cand = with_joint(ref, 1, quat.multiply(local, quat.from_axis_angle([1.0, 0.0, 0.0], theta)))
    errors = ev.frame_errors(ref, cand)
    np.testing.assert_allclose(errors.angle_deg[:, 0], 20.0, atol=1e-9)
    np.testing.assert_allclose(errors.vertex_cm[:, 0], 6.0 * np.sin(theta / 2), atol=1e-9)
    # b's offset lies along a's x axis, the rotation axis: b stays put but turns.
    np.testing.assert_allclose(errors.position_cm[:, 1], 0.0, atol=1e-9)
    np.testing.assert_allclose(errors.vertex_cm[:, 1], 6.0 * np.sin(theta / 2), atol=1e-9)


def test_root_is_pinned() -> None:
    ref = chain_clip()
    moved = Clip(ref.skeleton, ref.fps, ref.root_positions + [5.0, 0.0, 0.0], ref.rotations.copy())
    moved.rotations[:, 0] = quat.from_axis_angle([0.0, 1.0, 0.0], 1.0)
    errors = ev.frame_errors(ref, moved)
    assert np.abs(errors.position_cm).max() < 1e-9 and np.abs(errors.vertex_cm).max() < 1e-9


def test_matches_reference_kinematics_and_geodesic_angle(clip: Clip) -> None:
    rng = np.random.default_rng(1)
    cand = clip.with_joint_rotations(clip.joint_rotations + rng.normal(0, 0.03, clip.joint_rotations.shape))
    errors = ev.frame_errors(clip, cand)
    expected_angle = np.degrees(quat.geodesic_angle(clip.joint_rotations, cand.joint_rotations))
    np.testing.assert_allclose(errors.angle_deg, expected_angle, atol=1e-9)
    ref_pos = kinematics.pose_positions(clip.skeleton, clip.rotations)
    cand_pos = kinematics.pose_positions(clip.skeleton, cand.rotations)
    np.testing.assert_allclose(errors.position_cm, np.linalg.norm(ref_pos - cand_pos, axis=-1)[:, 1:], atol=1e-9)
    # virtual vertices built the slow way, from world rotation matrices.
    root_pinned = clip.rotations.copy(), cand.rotations.copy()
    for rots in root_pinned:
        rots[:, 0] = quat.identity()
    zeros = np.zeros((clip.num_frames, 3))
    (p_r, w_r), (p_c, w_c) = (kinematics.global_transforms(clip.skeleton, zeros, r) for r in root_pinned)
    m_r, m_c = quat.to_matrix(w_r), quat.to_matrix(w_c)
    dist = [np.linalg.norm(p_c + 3.0 * m_c[..., :, k] - p_r - 3.0 * m_r[..., :, k], axis=-1) for k in range(3)]
    np.testing.assert_allclose(errors.vertex_cm, np.max(dist, axis=0)[:, 1:], atol=1e-9)


def test_mismatched_clips_are_rejected(clip: Clip) -> None:
    with pytest.raises(MocapError, match="frames"):
        ev.frame_errors(clip, clip.slice(0, 10))
    with pytest.raises(MocapError, match="skeleton"):
        ev.frame_errors(clip, chain_clip(clip.num_frames))


def test_summary_statistics() -> None:
    errors = ev.FrameErrors(
        angle_deg=np.arange(200.0).reshape(100, 2),
        position_cm=np.ones((100, 2)),
        vertex_cm=np.full((100, 2), 2.0),
        joint_names=["a", "b"],
    )
    s = errors.summary()
    assert s["mean_angle_deg"] == pytest.approx(99.5)
    assert s["p99_angle_deg"] == pytest.approx(np.percentile(np.arange(200.0), 99))
    assert s["max_vertex_cm"] == 2.0 and s["mean_position_cm"] == 1.0 and s["max_angle_deg"] == 199.0
    assert s["per_joint"] == {
        "names": ["a", "b"], "mean_angle_deg": [99.0, 100.0], "mean_position_cm": [1.0, 1.0], "animated": [True, True]
    }
    # without a mask every joint counts as animated
    assert s["animated"]["mean_angle_deg"] == s["mean_angle_deg"] and s["animated"]["joints"] == ["a", "b"]


def test_animated_figures_leave_out_the_joints_that_never_move() -> None:
    angle = np.column_stack([np.arange(100.0), np.full(100, 50.0)])
    vertex = np.column_stack([np.ones(100), np.full(100, 9.0)])
    mask = np.zeros((100, 2), dtype=bool)
    mask[:, 0] = True
    errors = ev.FrameErrors(angle, np.zeros((100, 2)), vertex, ["moves", "still"], mask)
    s = errors.summary()
    moving = s["animated"]
    assert set(moving) == ANIMATED_KEYS and moving["joints"] == ["moves"]
    assert moving["mean_angle_deg"] == pytest.approx(49.5) and moving["max_angle_deg"] == 99.0
    assert moving["p99_angle_deg"] == pytest.approx(np.percentile(np.arange(100.0), 99))
    assert moving["mean_vertex_cm"] == 1.0 and moving["max_vertex_cm"] == 1.0
    assert s["mean_angle_deg"] == pytest.approx(49.75) and s["max_vertex_cm"] == 9.0
    assert s["per_joint"]["animated"] == [True, False]
    # slicing and pooling keep the mask with its frames
    pooled = ev.FrameErrors.concatenate([errors.slice(0, 10), ev.FrameErrors(angle, angle, vertex, ["moves", "still"])])
    assert pooled.animated_mask()[:10, 1].sum() == 0 and pooled.animated_mask()[10:].all()
    assert pooled.animated_joints == ["moves", "still"]


def test_frame_errors_and_error_reference_mark_the_still_joints(clip: Clip) -> None:
    still = with_still_joints(clip, (0, 5))
    rng = np.random.default_rng(4)
    cand = still.with_joint_rotations(still.joint_rotations + rng.normal(0, 0.02, still.joint_rotations.shape))
    for errors in (ev.frame_errors(still, cand), ev.ErrorReference(still).errors(cand)):
        names = still.skeleton.names[1:]
        assert errors.animated_joints == [n for i, n in enumerate(names) if i not in (0, 5)]
        moving = errors.summary()["animated"]
        expected = np.delete(errors.angle_deg, [0, 5], axis=1)
        assert moving["mean_angle_deg"] == pytest.approx(expected.mean())
        assert moving["max_angle_deg"] == pytest.approx(expected.max())


# --- evaluate_clip / evaluate_many -------------------------------------------------------------------------------


def test_noise_is_seeded_by_frame_like_the_node(clip: Clip) -> None:
    sigma = 0.05
    shown = modes.compute_variant(clip, "noisy", sigma=sigma)
    again = noise.add_noise(clip.joint_rotations, sigma, frames=np.arange(clip.num_frames))
    np.testing.assert_allclose(shown.joint_rotations, again, atol=1e-15)
    # each frame's noise depends on its number only, not on the rest of the clip.
    np.testing.assert_array_equal(noise.add_noise(clip.joint_rotations[7:8], sigma, frames=[7])[0], again[7])
    first = ev.evaluate_clip(clip, sigma=sigma, baselines=False)
    second = ev.evaluate_clip(clip, sigma=sigma, baselines=False)
    np.testing.assert_array_equal(first.errors["noisy"].angle_deg, second.errors["noisy"].angle_deg)
    np.testing.assert_allclose(
        first.errors["noisy"].vertex_cm, ev.frame_errors(clip, shown).vertex_cm, atol=1e-12
    )


def test_zero_noise_means_noisy_is_clean(clip: Clip) -> None:
    result = ev.evaluate_clip(clip, sigma=0.0, baselines=False)
    assert result.errors["noisy"].angle_deg.max() < 1e-9


def test_with_a_perfect_model(clip: Clip) -> None:
    model = Identity()
    result = ev.evaluate_clip(clip, model, sigma=0.05, savgol_windows=(9, 25))
    assert model.checked == 1
    assert list(result.errors) == list(ev.VARIANTS)
    assert result.errors["reconstruction"].angle_deg.max() < 1e-9
    np.testing.assert_allclose(result.errors["denoised"].angle_deg, result.errors["noisy"].angle_deg, atol=1e-12)
    s = result.summary()
    assert s["ratio"] == 4.0 and s["bits_per_frame"] == 960 and s["frames"] == clip.num_frames
    assert s["model"]["name"] == "identity"
    for variant in ("butterworth", "savgol"):
        assert s[variant]["mean_angle_deg"] < s["noisy"]["mean_angle_deg"]


def test_summary_json_has_every_key(clip: Clip) -> None:
    s = ev.evaluate_clip(clip, Identity(), sigma=0.05).summary()
    assert SUMMARY_TOP_KEYS <= set(s)
    for variant in ev.VARIANTS:
        assert set(s[variant]) == SUMMARY_VARIANT_KEYS
        assert len(s[variant]["per_joint"]["names"]) == 30
        assert len(s[variant]["per_joint"]["mean_angle_deg"]) == 30
        assert len(s[variant]["per_joint"]["mean_position_cm"]) == 30
    assert s["butterworth_cutoff_selected_on"] == "evaluated clips (oracle)"
    assert s["sigma"] == 0.05
    assert s["clips"][0]["frames"] == clip.num_frames
    assert json.loads(json.dumps(s)) == s


def test_without_model_the_model_variants_are_null(clip: Clip) -> None:
    result = ev.evaluate_clip(clip, sigma=0.05)
    s = result.summary()
    assert set(result.errors) == {"noisy", "butterworth", "savgol", "despike"}
    assert s["reconstruction"] is None and s["denoised"] is None and s["model"] is None and s["ratio"] is None
    best = min(result.butterworth_scores, key=lambda k: result.butterworth_scores[k])
    assert s["butterworth_cutoff_hz"] == best
    assert s["butterworth"]["animated"]["mean_angle_deg"] == pytest.approx(result.butterworth_scores[best])
    assert s["butterworth"]["mean_angle_deg"] == pytest.approx(result.butterworth_all_scores[best])
    assert s["savgol"]["animated"]["mean_angle_deg"] == pytest.approx(min(result.savgol_scores.values()))
    assert s["despike"]["animated"]["mean_angle_deg"] == pytest.approx(min(result.despike_scores.values()))


def test_model_problems_are_reported(clip: Clip) -> None:
    with pytest.raises(ModelMismatchError, match="LeftFoot"):
        ev.evaluate_clip(clip, Rejecting())
    with pytest.raises(MocapError, match="shape"):
        ev.evaluate_clip(clip, WrongShape(), baselines=False)


def test_evaluate_many_pools_frames_and_sweeps_on_the_pool() -> None:
    skeleton = synth.cmu_like_skeleton(1)
    clips = [synth.smooth_clip(frames=n, seed=s, skeleton=skeleton) for n, s in ((150, 1), (90, 2))]
    pooled = ev.evaluate_many(clips, Identity(), sigma=0.05, cutoffs=(3.0, 6.0, 9.0), savgol_windows=(11, 21))
    assert pooled.frames == 240
    assert [c["start"] for c in pooled.clips] == [0, 150]
    singles = [ev.evaluate_clip(c, sigma=0.05, baselines=False) for c in clips]
    for i, single in enumerate(singles):
        np.testing.assert_array_equal(pooled.clip_errors(i)["noisy"].angle_deg, single.errors["noisy"].angle_deg)
    assert set(pooled.butterworth_scores) == {3.0, 6.0, 9.0}
    assert pooled.butterworth_cutoff_hz == min(pooled.butterworth_scores, key=lambda k: pooled.butterworth_scores[k])
    pooled_mean = pooled.errors["butterworth"].angle_deg.mean()
    assert pooled_mean == pytest.approx(pooled.butterworth_scores[pooled.butterworth_cutoff_hz])
    with pytest.raises(MocapError, match="same joints"):
        ev.evaluate_many([clips[0], chain_clip(20)])
    with pytest.raises(MocapError, match="no clips"):
        ev.evaluate_many([])


def test_format_table_lists_each_variant_and_says_what_the_columns_are(clip: Clip) -> None:
    summary = ev.evaluate_clip(with_still_joints(clip, (1,)), Identity(), savgol_windows=(9,)).summary()
    lines = ev.format_table(summary).splitlines()
    assert "animated joints (29 of 30)" in lines[0] and "all joints" in lines[0]
    assert lines[1].split()[:3] == ["variant", "mean", "deg"]
    rows = lines[3:9]
    assert rows[0].startswith("reconstruction") and "Hz" in rows[3] and rows[4].startswith("savgol 9/")
    assert rows[5].startswith("despike ")
    assert sum(row.rstrip().endswith("*") or " * " in row for row in rows) == 1
    note = "\n".join(lines[9:])
    assert "vert cm" in note and "max vert" in note and "0.1 deg" in note and "classical" in note
    denoised = rows[2].split()
    assert float(denoised[1]) == pytest.approx(summary["denoised"]["animated"]["mean_angle_deg"], abs=1e-3)


# --- report -------------------------------------------------------------------------------------------------------


def test_report_writes_plots_csv_and_summary(tmp_path: Path) -> None:
    clip = synth.smooth_clip(frames=60)
    evaluation = ev.evaluate_clip(clip, Identity(), savgol_windows=(9,), cutoffs=(4.0, 8.0))
    from maya_tool import report

    written = report.write_report(evaluation, tmp_path / "rep", curve_variants=["denoised"])
    names = {p.name for p in written}
    assert names == {
        "summary.json", "table.txt", "curves.csv", "per_joint.png", "variants_over_time.png", "curves_denoised.png"
    }
    assert (tmp_path / "rep" / "table.txt").read_text() == ev.format_table(evaluation.summary()) + "\n"
    for path in written:
        if path.suffix == ".png":
            data = path.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert json.loads((tmp_path / "rep" / "summary.json").read_text()) == evaluation.summary()
    lines = (tmp_path / "rep" / "curves.csv").read_text().splitlines()
    assert lines[0] == "clip,frame,time_s,joint,variant,angle_deg,position_cm,vertex_cm"
    assert len(lines) == 1 + 60 * 30 * 6
    clip_name, frame, _, joint, variant, angle, _, _ = lines[1 + 30 * 6 * 2 + 6 * 3 + 2].split(",")
    assert (frame, joint, variant) == ("2", "LeftFoot", "denoised")
    assert float(angle) == pytest.approx(evaluation.errors["denoised"].angle_deg[2, 3], rel=1e-4, abs=1e-9)
    assert not list((tmp_path / "rep").glob(".*tmp"))
    with pytest.raises(MocapError, match="not computed"):
        report.write_report(evaluation, tmp_path / "other", variants=["nope"])
    report.write_report(evaluation, tmp_path / "means", variants=["noisy", "savgol"], curve_variants=[], csv="mean")
    lines = (tmp_path / "means" / "curves.csv").read_text().splitlines()
    assert len(lines) == 1 + 60 * 2
    _, frame, _, joint, variant, angle, _, _ = lines[1 + 2 * 5 + 1].split(",")
    assert (frame, joint, variant) == ("5", "mean", "savgol")
    assert float(angle) == pytest.approx(evaluation.errors["savgol"].angle_deg[5].mean(), rel=1e-4)
    assert sorted(p.name for p in (tmp_path / "means").iterdir()) == [
        "curves.csv", "per_joint.png", "summary.json", "table.txt", "variants_over_time.png"
    ]


def test_report_without_matplotlib_says_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from maya_tool import report

    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    evaluation = ev.evaluate_clip(synth.smooth_clip(frames=30), baselines=False)
    with pytest.raises(MocapError, match="plots"):
        report.write_report(evaluation, tmp_path)
    assert (tmp_path / "summary.json").is_file()


# --- CLI ------------------------------------------------------------------------------------------------------------


def test_cli_on_synthetic_csv_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from maya_tool.io import write_clip

    folder = tmp_path / "clips"
    skeleton = synth.cmu_like_skeleton(0)
    for i in range(2):
        write_clip(synth.smooth_clip(frames=80, seed=i, skeleton=skeleton), folder / f"take{i}.csv")
    pca_path = tmp_path / "pca.npz"
    PCA.fit_clips([synth.smooth_clip(frames=300, seed=5, skeleton=skeleton)], 30).save(pca_path)
    out = tmp_path / "summary.json"
    code = main(["evaluate", "--model", f"pca:{pca_path}", "--noise", "0.03", "--json", str(out), str(folder)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "2 clip(s), 160 frames" in printed and "ratio 4.00:1" in printed
    assert "denoised" in printed and "butter" in printed
    summary = json.loads(out.read_text())
    assert summary["frames"] == 160 and summary["sigma"] == 0.03 and summary["ratio"] == 4.0
    assert [Path(c["path"]).name for c in summary["clips"]] == ["take0.csv", "take1.csv"]


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(tmp_path / "missing.bvh")]) == 2
    assert "missing.bvh" in capsys.readouterr().err
    assert main(["evaluate", "--model", f"pca:{tmp_path / 'none.npz'}", str(tmp_path)]) == 2
    assert "none.npz" in capsys.readouterr().err


@pytest.mark.cmu
def test_cli_on_a_real_clip_with_baselines_only(
    cmu_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip_path = cmu_root / "subjects" / "07" / "07_01.bvh"
    out = tmp_path / "eval.json"
    report_dir = tmp_path / "report"
    code = main([
        "evaluate", "--json", str(out), "--report", str(report_dir), "--report-csv", "mean", "--preset", "cmu",
        str(clip_path),
    ])
    assert code == 0
    summary = json.loads(out.read_text())
    assert summary["frames"] == 316 and summary["model"] is None
    assert summary["butterworth"]["mean_angle_deg"] < 0.5 * summary["noisy"]["mean_angle_deg"]
    assert summary["savgol"]["mean_angle_deg"] < 0.5 * summary["noisy"]["mean_angle_deg"]
    assert 2.0 <= summary["butterworth_cutoff_hz"] <= 12.0
    assert (report_dir / "per_joint.png").is_file() and (report_dir / "curves_noisy.png").is_file()
    assert "noisy" in capsys.readouterr().out


@pytest.mark.cmu
def test_cli_fits_and_evaluates_pca_on_real_clips(
    cmu_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = [str(cmu_root / "subjects" / "08" / f"08_0{i}.bvh") for i in (1, 2, 3)]
    pca_path = tmp_path / "pca30.npz"
    out = tmp_path / "eval.json"
    code = main([
        "evaluate", "--model", f"pca:{pca_path}", "--pca-train", *train, "--no-baselines", "--json", str(out),
        str(cmu_root / "subjects" / "07" / "07_01.bvh"),
    ])
    assert code == 0
    assert PCA.load(pca_path).n_components == 30
    summary = json.loads(out.read_text())
    assert summary["ratio"] == 4.0 and summary["butterworth"] is None
    assert summary["reconstruction"]["mean_angle_deg"] < summary["noisy"]["mean_angle_deg"]


def test_cli_with_a_runtime_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from maya_tool.io import read_clip, write_clip

    skeleton = synth.cmu_like_skeleton(0)
    clip_path = tmp_path / "take.csv"
    write_clip(synth.smooth_clip(frames=90, seed=3, skeleton=skeleton), clip_path)
    pca = PCA.fit_clips([synth.smooth_clip(frames=300, seed=5, skeleton=skeleton)], 30)
    sidecar = pca.export_model(tmp_path / "models", "linear30")
    out = tmp_path / "runtime.json"
    assert main(["evaluate", "--model", str(sidecar), "--no-baselines", "--json", str(out), str(clip_path)]) == 0
    assert "model linear30, ratio 4.00:1" in capsys.readouterr().out
    summary = json.loads(out.read_text())
    assert summary["model"]["architecture"] == "pose" and summary["model"]["path"] == str(sidecar)
    reference = ev.evaluate_clip(read_clip(clip_path), pca, baselines=False).summary()
    assert summary["denoised"]["mean_angle_deg"] == pytest.approx(reference["denoised"]["mean_angle_deg"], rel=1e-3)


def test_error_reference_reuses_the_reference_pose(clip: Clip) -> None:
    rng = np.random.default_rng(2)
    reference = ev.ErrorReference(clip)
    for scale in (0.01, 0.05):
        cand = clip.with_joint_rotations(clip.joint_rotations + rng.normal(0, scale, clip.joint_rotations.shape))
        direct = ev.frame_errors(clip, cand)
        for errors in (reference.errors(cand), reference.errors(cand.joint_rotations)):
            np.testing.assert_array_equal(errors.angle_deg, direct.angle_deg)
            np.testing.assert_array_equal(errors.vertex_cm, direct.vertex_cm)
            np.testing.assert_array_equal(errors.position_cm, direct.position_cm)
    with pytest.raises(MocapError, match="frames"):
        reference.errors(clip.slice(0, 5))
    with pytest.raises(MocapError, match="shape"):
        reference.errors(clip.joint_rotations[:5])


# --- corruptions, classical, compare_on_clips ------------------------------------------------------------------------


def test_corruption_is_the_shared_module_seeded_per_clip(clip: Clip) -> None:
    from maya_tool import corruption

    setting = corruption.make("pops")
    first = ev.evaluate_clip(clip, corruption="pops", seed=3, baselines=False)
    again = ev.evaluate_clip(clip, corruption=setting, seed=3, baselines=False)
    other = ev.evaluate_clip(clip, corruption="pops", seed=4, baselines=False)
    expected = corruption.corrupt_rotations(clip.joint_rotations, setting, seed=3)
    direct = ev.frame_errors(clip, clip.with_joint_rotations(expected))
    np.testing.assert_allclose(first.errors["noisy"].angle_deg, direct.angle_deg, atol=1e-9)
    np.testing.assert_array_equal(first.errors["noisy"].angle_deg, again.errors["noisy"].angle_deg)
    assert not np.array_equal(first.errors["noisy"].angle_deg, other.errors["noisy"].angle_deg)
    s = first.summary()
    assert s["corruption"] == setting.to_dict() and s["corruption_seed"] == 3 and s["sigma"] == 0.0
    # the node's shown variant is the evaluation's noisy clip
    shown = modes.compute_variant(clip, "noisy", corruption="pops", seed=3)
    np.testing.assert_allclose(shown.joint_rotations, expected, atol=1e-12)
    # gaussian stays the tutorial's noise; sigma overrides the corruption's own
    gauss = ev.evaluate_clip(clip, corruption="gaussian", sigma=0.02, baselines=False)
    np.testing.assert_allclose(
        gauss.errors["noisy"].angle_deg,
        ev.frame_errors(clip, clip.with_joint_rotations(noise.add_noise(clip.joint_rotations, 0.02))).angle_deg,
        atol=1e-9,
    )
    with pytest.raises(MocapError, match="unknown corruption"):
        ev.evaluate_clip(clip, corruption="dust")


def test_classical_is_the_best_filter_on_the_animated_joints_and_despike_wins_on_pops(clip: Clip) -> None:
    still = with_still_joints(clip, (2,))
    result = ev.evaluate_clip(still, corruption="pops", savgol_windows=(9, 25), cutoffs=(4.0, 8.0, 12.0))
    s = result.summary()
    scores = {v: s[v]["animated"]["mean_angle_deg"] for v in ev.BASELINE_VARIANTS}
    assert s["classical"]["variant"] == min(scores, key=lambda v: scores[v]) == "despike"
    assert s["classical"]["animated"] == s["despike"]["animated"]
    assert s["classical"]["settings"] == {
        "window": s["despike_window"], "threshold": s["despike_threshold"], "cutoff_hz": s["despike_cutoff_hz"],
        "order": 2,
    }
    assert s["classical"]["selected_on"] == "evaluated clips (oracle)"
    assert scores["despike"] < 0.5 * s["noisy"]["animated"]["mean_angle_deg"]
    assert still.skeleton.names[3] in s["still_joints"] and len(s["animated_joints"]) == 29
    assert s["despike_sweep"] and all(
        set(row) == {"window", "threshold", "cutoff_hz", "mean_angle_deg", "animated_mean_angle_deg"}
        for row in s["despike_sweep"]
    )
    assert s["selection_metric"] == "animated_mean_angle_deg"


def test_pooled_clips_keep_their_own_animated_joints() -> None:
    skeleton = synth.cmu_like_skeleton(1)
    moving = synth.smooth_clip(frames=60, seed=1, skeleton=skeleton)
    held = with_still_joints(synth.smooth_clip(frames=40, seed=2, skeleton=skeleton), (0,))
    result = ev.evaluate_many([moving, held], sigma=0.05, baselines=False)
    mask = result.errors["noisy"].animated_mask()
    assert mask[:60].all() and not mask[60:, 0].any() and mask[60:, 1:].all()
    s = result.summary()
    assert s["animated_joints"] == skeleton.names[1:] and s["still_joints"] == []
    assert s["clips"][1]["still_joints"] == [skeleton.names[1]] and s["clips"][0]["still_joints"] == []


def test_model_outputs_from_elsewhere_give_the_same_evaluation(clip: Clip) -> None:
    pca = PCA.fit_clips([synth.smooth_clip(frames=300, seed=5)], 20)
    inside = ev.evaluate_clip(clip, pca, corruption="capture", seed=1, baselines=False)
    outputs = [ev.model_outputs(pca, clip, "capture", seed=1)]
    outside = ev.evaluate_clip(clip, pca, corruption="capture", seed=1, baselines=False, outputs=outputs)
    for variant in ("reconstruction", "denoised"):
        np.testing.assert_array_equal(inside.errors[variant].angle_deg, outside.errors[variant].angle_deg)
    with pytest.raises(MocapError, match="outputs for 2 clips"):
        ev.evaluate_clip(clip, pca, outputs=outputs * 2)


def test_compare_on_clips_gives_the_readme_figures(tmp_path: Path) -> None:
    from maya_tool.io import write_clip

    skeleton = synth.cmu_like_skeleton(0)
    for i in range(2):
        write_clip(synth.smooth_clip(frames=80, seed=i, skeleton=skeleton), tmp_path / "clips" / f"take{i}.csv")
    pca_path = tmp_path / "pca.npz"
    PCA.fit_clips([synth.smooth_clip(frames=300, seed=5, skeleton=skeleton)], 30).save(pca_path)
    result = ev.compare_on_clips(f"pca:{pca_path}", [tmp_path / "clips"], "capture", seed=2)
    assert result["clips"] == ["take0", "take1"] and result["frames"] == 160
    assert result["corruption"]["name"] == "capture" and result["corruption_seed"] == 2
    summary = result["summary"]
    for variant in ("reconstruction", "noisy", "denoised", *ev.BASELINE_VARIANTS):
        figures = result["variants"][variant]
        assert set(figures["animated"]) == set(ev.ANIMATED_COLUMNS)
        assert figures["animated"]["mean_angle_deg"] == summary[variant]["animated"]["mean_angle_deg"]
        assert figures["all"]["max_vertex_cm"] == summary[variant]["max_vertex_cm"]
    classical = result["classical"]
    assert classical["variant"] == summary["classical"]["variant"] and classical["settings"]
    ours = result["variants"]["denoised"]["animated"]["mean_angle_deg"]
    assert result["denoised_vs_classical"] == pytest.approx(ours / classical["animated"]["mean_angle_deg"])
    best_filter = min(result["variants"][v]["animated"]["mean_angle_deg"] for v in ("butterworth", "savgol"))
    assert result["denoised_vs_best_filter"] == pytest.approx(ours / best_filter)
    json.dumps(result)


def test_cli_takes_a_corruption_and_a_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from maya_tool.io import write_clip

    clip_path = tmp_path / "take.csv"
    write_clip(synth.smooth_clip(frames=90, seed=3), clip_path)
    out = tmp_path / "capture.json"
    fast = ["--cutoffs", "4", "8"]
    assert main(["evaluate", "--corruption", "capture", "--seed", "5", *fast, "--json", str(out), str(clip_path)]) == 0
    printed = capsys.readouterr().out
    assert "capture, sigma 0.01, pops 0.005, gaps 0.002, seed 5" in printed and "despike" in printed
    assert "max vert: its largest value" in printed
    summary = json.loads(out.read_text())
    assert summary["corruption"]["name"] == "capture" and summary["corruption_seed"] == 5
    assert summary["sigma"] == 0.01 and summary["classical"]["variant"] in ev.BASELINE_VARIANTS
    assert main(["evaluate", "--corruption", "pops", "--sigma", "0.02", "--no-baselines", "--json", str(out),
                 str(clip_path)]) == 0
    assert json.loads(out.read_text())["corruption"] == {"name": "pops", "sigma": 0.02, "pop_rate": 0.005,
                                                         "gap_rate": 0.0}
    assert main(["evaluate", "--sigma", "-1", str(clip_path)]) == 2
    assert "sigma" in capsys.readouterr().err


def test_a_full_disk_while_plotting_leaves_no_summary_claiming_a_complete_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool import report

    def full_disk(*args: object, **kwargs: object) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "_plot_variants_over_time", full_disk)
    evaluation = ev.evaluate_clip(synth.smooth_clip(frames=30), baselines=False)
    with pytest.raises(OSError):
        report.write_report(evaluation, tmp_path / "rep")
    assert not (tmp_path / "rep" / "summary.json").exists()
