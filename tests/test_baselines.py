"""The PCA baseline: fit, reconstruct, files, and its place in the evaluation."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from maya_tool import evaluate as ev
from maya_tool.baselines import PCA
from maya_tool.clip import Clip
from maya_tool.errors import MocapError, ModelMismatchError
from maya_tool.skeleton import Skeleton
from tests import synth


@pytest.fixture(scope="module")
def train() -> Clip:
    return synth.smooth_clip(frames=600, seed=0)


def test_sizes_ratio_and_orthonormal_components(train: Clip) -> None:
    pca = PCA.fit_clips([train], 30)
    assert (pca.n_components, pca.input_size) == (30, 120)
    assert pca.ratio == 4.0 and pca.bits_per_frame == 960
    assert pca.name == "pca-30" and pca.joint_names == train.skeleton.names
    np.testing.assert_allclose(pca.components @ pca.components.T, np.eye(30), atol=1e-10)
    assert (np.diff(pca.explained_variance) <= 1e-12).all()
    assert pca.encode(train.joint_rotations).shape == (train.num_frames, 30)


def test_all_components_reconstruct_exactly(train: Clip) -> None:
    pca = PCA.fit(train.pose_features(np.float64), 120)
    out = pca.reconstruct(train.joint_rotations)
    np.testing.assert_allclose(out, train.joint_rotations, atol=1e-9)


def test_more_components_fit_better(train: Clip) -> None:
    test = synth.smooth_clip(frames=200, seed=0, skeleton=train.skeleton).slice(50)
    errors = []
    for n in (5, 15, 30, 60):
        out = PCA.fit_clips([train], n).reconstruct(test.joint_rotations)
        np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-12)
        assert (out[..., 3] >= 0).all()
        errors.append(ev.rotation_errors(test.skeleton, test.joint_rotations, out).angle_deg.mean())
    assert errors == sorted(errors, reverse=True) and errors[-1] < errors[0]


def test_save_and_load_without_pickle(train: Clip, tmp_path: Path) -> None:
    pca = PCA.fit_clips([train], 30, name="pca30-train")
    path = tmp_path / "models" / "pca30.npz"
    pca.save(path)
    assert pca.path == path
    with zipfile.ZipFile(path) as archive:
        assert set(archive.namelist()) >= {"mean.npy", "components.npy", "joint_names.npy"}
    with np.load(path, allow_pickle=False) as data:
        assert data["joint_names"].dtype.kind == "U"
    loaded = PCA.load(path)
    assert loaded.name == "pca30-train" and loaded.path == path and loaded.joint_names == train.skeleton.names
    np.testing.assert_array_equal(loaded.reconstruct(train.joint_rotations), pca.reconstruct(train.joint_rotations))
    assert not [p for p in path.parent.iterdir() if p.name != "pca30.npz"]


def test_bad_files_name_themselves(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="missing.npz"):
        PCA.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    with pytest.raises(MocapError, match="garbage.npz"):
        PCA.load(garbage)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(MocapError, match="not a PCA file"):
        PCA.load(other)


def test_check_clip_names_the_joints_that_differ(train: Clip) -> None:
    pca = PCA.fit_clips([train], 10)
    pca.check_clip(train)
    names = list(train.skeleton.names)
    names[4] = "LeftAnkle"
    renamed = Skeleton(names, train.skeleton.parents, train.skeleton.offsets)
    with pytest.raises(ModelMismatchError, match="LeftAnkle"):
        pca.check_clip(Clip(renamed, train.fps, train.root_positions, train.rotations))
    small = Skeleton(["root", "a"], np.array([-1, 0]), np.array([[0.0, 0, 0], [0, 1, 0]]))
    anonymous = PCA(pca.mean, pca.components)
    with pytest.raises(ModelMismatchError, match="120 numbers"):
        anonymous.check_clip(Clip(small, 30.0, np.zeros((2, 3)), np.tile([0, 0, 0, 1.0], (2, 2, 1))))
    with pytest.raises(ModelMismatchError, match="120 numbers"):
        pca.reconstruct(np.zeros((3, 2, 4)))


def test_fit_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="two poses"):
        PCA.fit(np.zeros((1, 8)), 2)
    with pytest.raises(ValueError, match="n_components"):
        PCA.fit(np.zeros((10, 8)), 9)


def test_pca_is_a_model_for_the_evaluation(train: Clip) -> None:
    pca = PCA.fit_clips([train], 30)
    test = synth.smooth_clip(frames=120, seed=0, skeleton=train.skeleton)
    summary = ev.evaluate_clip(test, pca, baselines=False).summary()
    assert summary["ratio"] == 4.0 and summary["bits_per_frame"] == 960
    assert summary["model"] == {"name": "pca-30", "path": None, "architecture": "pca"}
    assert summary["reconstruction"]["mean_angle_deg"] > 0.0
    applied = pca.apply(test)
    np.testing.assert_allclose(applied.joint_rotations, pca.reconstruct(test.joint_rotations), atol=1e-12)
    np.testing.assert_array_equal(applied.root_rotations, test.root_rotations)


@pytest.mark.cmu
def test_pca_on_real_walks(cmu_root: Path) -> None:
    from maya_tool.io import read_clip

    train = [read_clip(cmu_root / "subjects" / "08" / f"08_0{i}.bvh") for i in (1, 2, 3, 4)]
    test = read_clip(cmu_root / "subjects" / "07" / "07_01.bvh")
    other_subject = PCA.fit_clips(train, 30)
    errors = ev.rotation_errors(test.skeleton, test.joint_rotations, other_subject.reconstruct(test.joint_rotations))
    assert errors.angle_deg.mean() < 5.0
    # a walk has far fewer than 30 degrees of freedom: fitted on itself, PCA is nearly exact.
    itself = PCA.fit_clips([test], 30)
    errors = ev.rotation_errors(test.skeleton, test.joint_rotations, itself.reconstruct(test.joint_rotations))
    assert errors.angle_deg.mean() < 0.5


def test_exported_pca_runs_in_the_numpy_runtime(train: Clip, tmp_path: Path) -> None:
    from maya_tool.models.runtime import load_model

    pca = PCA.fit_clips([train], 30)
    sidecar = pca.export_model(tmp_path / "models", "pca30")
    model = load_model(sidecar, cache=False)
    assert (model.name, model.architecture, model.ratio, model.bits_per_frame) == ("pca30", "pose", 4.0, 960)
    model.check_clip(train)
    np.testing.assert_allclose(
        model.reconstruct(train.joint_rotations), pca.reconstruct(train.joint_rotations), atol=1e-4
    )
    with pytest.raises(MocapError, match="joint names"):
        PCA(pca.mean, pca.components).export_model(tmp_path / "models", "anonymous")
