"""Training sets: concatenation, checks, resampling, files, splits; then on CMU data."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from maya_tool import dataset as ds_module
from maya_tool.clip import Clip
from maya_tool.dataset import Dataset, build_dataset, collect_files, dataset_from_clips, split_by_clip, subject_of
from maya_tool.errors import MocapError
from maya_tool.skeleton import Skeleton
from tests import synth


def _clips(tmp_path: Path, lengths=(240, 150, 90, 60), names=None) -> list[tuple[Path, Clip]]:
    """Synthetic clips with CMU-style names; the files exist so their sha256 is recorded."""
    names = names or ["07_01.bvh", "07_02.bvh", "09_01.bvh", "09_02.bvh"][: len(lengths)]
    out = []
    for i, (name, frames) in enumerate(zip(names, lengths)):
        path = tmp_path / name
        path.write_bytes(f"source {name}".encode())
        out.append((path, synth.smooth_clip(frames=frames, seed=i)))
    return out


def test_concatenation_and_boundaries(tmp_path: Path) -> None:
    clips = _clips(tmp_path)
    ds = dataset_from_clips(clips)
    assert ds.poses.dtype == np.float32 and ds.poses.shape == (540, 120)
    assert ds.clip_starts.tolist() == [0, 240, 390, 480, 540]
    assert ds.clip_ranges() == [(0, 240), (240, 390), (390, 480), (480, 540)]
    assert ds.num_clips == 4 and ds.num_frames == 540 and ds.fps == 120.0
    assert ds.joint_names == clips[0][1].skeleton.names and len(ds.joint_names) == 31
    for i, (_, clip) in enumerate(clips):
        np.testing.assert_array_equal(ds.clip_poses(i), clip.pose_features())
        start, stop = ds.clip_ranges()[i]
        np.testing.assert_allclose(ds.root_positions[start:stop], clip.root_positions, rtol=1e-6)
        np.testing.assert_allclose(ds.root_rotations[start:stop], clip.root_rotations, atol=1e-7)
    assert np.all(ds.poses.reshape(540, 30, 4)[..., 3] >= 0)
    m = ds.manifest
    assert m["frames"] == 540 and m["clips"] == 4 and m["fps"] == 120.0 and m["joints"] == 31
    assert [f["frames"] for f in m["files"]] == [240, 150, 90, 60]
    assert [f["subject"] for f in m["files"]] == ["07", "07", "09", "09"]
    assert m["subjects"] == ["07", "09"] == ds.subjects
    assert m["files"][0]["sha256"] == ds_module.file_sha256(clips[0][0])
    assert re.fullmatch(r"[0-9a-f]{64}", m["content_hash"])
    assert m["preset"] == "none" and "created" in m


def test_clip_round_trips_through_dataset(tmp_path: Path) -> None:
    clips = _clips(tmp_path)
    ds = dataset_from_clips(clips)
    back = ds.clip(2)
    original = clips[2][1]
    assert back.num_frames == original.num_frames and back.skeleton.same_layout(original.skeleton)
    np.testing.assert_allclose(back.rotations, original.rotations, atol=1e-6)
    np.testing.assert_allclose(back.root_positions, original.root_positions, atol=1e-4)


def test_layout_mismatch_names_the_file(tmp_path: Path) -> None:
    clips = _clips(tmp_path, lengths=(50, 50))
    other = synth.cmu_like_skeleton()
    names = list(other.names)
    names[5] = "LeftToe"
    renamed = Skeleton(names=names, parents=other.parents, offsets=other.offsets, name="renamed")
    bad = tmp_path / "odd_one.bvh"
    clips.append((bad, synth.smooth_clip(frames=50, skeleton=renamed)))
    with pytest.raises(MocapError) as info:
        dataset_from_clips(clips)
    message = str(info.value)
    assert message.startswith(str(bad)) and "LeftToe" in message and "LeftToeBase" in message
    assert "07_01.bvh" in message

    small = Skeleton(names=["root", "a", "b"], parents=[-1, 0, 1], offsets=np.ones((3, 3)))
    rotations = np.tile([0.0, 0.0, 0.0, 1.0], (10, 3, 1))
    tiny = Clip(skeleton=small, fps=120.0, root_positions=np.zeros((10, 3)), rotations=rotations)
    with pytest.raises(MocapError, match="3 joints, but 07_01.bvh has 31"):
        dataset_from_clips([clips[0], (tmp_path / "tiny.csv", tiny)])


def test_fps_must_agree_or_be_resampled(tmp_path: Path) -> None:
    clips = _clips(tmp_path, lengths=(240, 240))
    slow = replace(clips[1][1], fps=60.0)
    with pytest.raises(MocapError) as info:
        dataset_from_clips([clips[0], (clips[1][0], slow)])
    assert str(clips[1][0]) in str(info.value) and "60 fps" in str(info.value) and "--fps" in str(info.value)

    ds = dataset_from_clips([clips[0], (clips[1][0], slow)], fps=30.0)
    assert ds.fps == 30.0
    # 240 frames at 120 fps span 1.99 s -> 60 frames at 30 fps; at 60 fps -> 120 frames at 30 fps.
    assert ds.clip_starts.tolist() == [0, 60, 180]
    files = ds.manifest["files"]
    assert [(f["source_fps"], f["source_frames"], f["fps"]) for f in files] == [(120.0, 240, 30.0), (60.0, 240, 30.0)]
    np.testing.assert_allclose(ds.clip_poses(0)[1], clips[0][1].pose_features()[4], atol=1e-6)


def test_save_load_round_trip(tmp_path: Path) -> None:
    ds = dataset_from_clips(_clips(tmp_path))
    out = tmp_path / "sets" / "train.npz"
    assert ds.save(out) == out
    assert sorted(p.name for p in out.parent.iterdir()) == ["train.json", "train.npz"]
    with np.load(out, allow_pickle=False) as raw:
        assert all(raw[k].dtype != object for k in raw.files)
        assert raw["poses"].dtype == np.float32
    for given in (out, tmp_path / "sets" / "train", tmp_path / "sets" / "train.json"):
        back = Dataset.load(given)
        for name in ("poses", "root_positions", "root_rotations", "clip_starts"):
            np.testing.assert_array_equal(getattr(back, name), getattr(ds, name))
            assert getattr(back, name).dtype == getattr(ds, name).dtype
        assert back.fps == ds.fps and back.joint_names == ds.joint_names
        assert back.skeleton.to_dict() == ds.skeleton.to_dict()
        assert back.manifest == ds.manifest
    assert json.loads((out.parent / "train.json").read_text()) == ds.manifest
    ds.save(tmp_path / "plain")
    assert (tmp_path / "plain.npz").is_file() and (tmp_path / "plain.json").is_file()


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(MocapError, match="no such data set"):
        Dataset.load(tmp_path / "absent.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(MocapError) as info:
        Dataset.load(junk)
    assert str(junk) in str(info.value)
    other = tmp_path / "other.npz"
    np.savez_compressed(other, poses=np.zeros((2, 4)))
    with pytest.raises(MocapError, match="not a mocap-ae data set: missing"):
        Dataset.load(other)
    ds = dataset_from_clips(_clips(tmp_path, lengths=(20, 20)))
    pickled = tmp_path / "pickled.npz"
    ds.save(pickled)
    with zipfile.ZipFile(pickled) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members["manifest_json.npy"] = _object_npy()
    with zipfile.ZipFile(pickled, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(MocapError, match="unreadable data set"):
        Dataset.load(pickled)


def _object_npy() -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_content_hash_is_about_the_data(tmp_path: Path) -> None:
    a = dataset_from_clips(_clips(tmp_path))
    b = dataset_from_clips(_clips(tmp_path))
    assert a.content_hash == b.content_hash
    clips = _clips(tmp_path)
    clips[1][1].rotations[10, 4] = [0.0, 0.0, 0.0, 1.0]
    assert dataset_from_clips(clips).content_hash != a.content_hash
    assert dataset_from_clips(_clips(tmp_path), fps=60.0).content_hash != a.content_hash


def test_subset_and_split_by_clip(tmp_path: Path) -> None:
    names = [f"{s:02d}_{t:02d}.bvh" for s in (5, 6, 7) for t in (1, 2, 3, 4)]
    lengths = [40 + 7 * i for i in range(12)]
    ds = dataset_from_clips(_clips(tmp_path, lengths=lengths, names=names))
    sub = ds.subset([3, 0])
    assert sub.clip_starts.tolist() == [0, lengths[3], lengths[3] + lengths[0]]
    np.testing.assert_array_equal(sub.clip_poses(0), ds.clip_poses(3))
    assert [f["path"] for f in sub.files] == [ds.files[3]["path"], ds.files[0]["path"]]
    assert sub.manifest["frames"] == sub.num_frames and sub.manifest["parent_hash"] == ds.content_hash
    assert sub.content_hash != ds.content_hash

    train, val = split_by_clip(ds, 0.25, seed=3)
    t_idx, v_idx = train.manifest["split"]["clips"], val.manifest["split"]["clips"]
    assert sorted(t_idx + v_idx) == list(range(12)) and not set(t_idx) & set(v_idx)
    assert train.num_frames + val.num_frames == ds.num_frames
    assert val.num_frames >= 0.25 * ds.num_frames and len(v_idx) < 12
    for part, idx in ((train, t_idx), (val, v_idx)):
        for k, i in enumerate(idx):
            np.testing.assert_array_equal(part.clip_poses(k), ds.clip_poses(i))  # whole clips, never frames
        assert part.subjects == sorted({ds.files[i]["subject"] for i in idx})
        assert part.manifest["subjects"] == part.subjects
    assert val.manifest["split"]["role"] == "validation" and train.manifest["split"]["seed"] == 3
    again = split_by_clip(ds, 0.25, seed=3)[1].manifest["split"]["clips"]
    assert again == v_idx
    assert any(split_by_clip(ds, 0.25, seed=s)[1].manifest["split"]["clips"] != v_idx for s in range(4, 10))

    train, val = split_by_clip(ds, 0.0)
    assert train.num_clips == 12 and val.num_clips == 0 and val.poses.shape == (0, 120)
    train, val = split_by_clip(ds, 0.95)
    assert train.num_clips == 1
    with pytest.raises(MocapError, match="at least 2 clips"):
        split_by_clip(ds.subset([0]), 0.1)
    with pytest.raises(MocapError, match="validation fraction"):
        split_by_clip(ds, 1.0)


def test_subject_of() -> None:
    assert subject_of("data/subjects/35/35_01.amc") == "35"
    assert subject_of("x/07_12.bvh") == "07"
    assert subject_of("mocap/alice/walk.csv") == "alice"
    assert subject_of("143_22.bvh") == "143"


def test_collect_files(tmp_path: Path) -> None:
    for rel in ("a/07_01.bvh", "a/07_02.BVH", "a/b/35_01.amc", "a/b/35.asf", "a/notes.txt", "a/.hidden/07_03.bvh",
                "a/clip.csv", "a/clip.skeleton.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    files = collect_files([tmp_path / "a"])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "a/07_01.bvh", "a/07_02.BVH", "a/b/35_01.amc", "a/clip.csv"]
    assert collect_files([tmp_path / "a/07_01.bvh", tmp_path / "a"])[0].name == "07_01.bvh"
    assert len(collect_files([tmp_path / "a/07_01.bvh", tmp_path / "a"])) == 4
    assert [f.name for f in collect_files([tmp_path / "a"], subjects=["7"])] == ["07_01.bvh", "07_02.BVH"]
    assert [f.name for f in collect_files([tmp_path / "a"], subjects=["35", "a"])] == ["35_01.amc", "clip.csv"]
    with pytest.raises(MocapError, match="no such file"):
        collect_files([tmp_path / "missing"])
    with pytest.raises(MocapError, match="not a motion file"):
        collect_files([tmp_path / "a/notes.txt"])
    with pytest.raises(MocapError, match="no bvh/amc/csv files found .* for subjects 99"):
        collect_files([tmp_path / "a"], subjects=["99"])


def test_build_reads_every_file_once(tmp_path: Path, monkeypatch, capsys) -> None:
    folder = tmp_path / "subjects"
    made = {}
    for i, name in enumerate(["05/05_01.bvh", "05/05_02.bvh", "06/06_01.bvh"]):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
        made[path] = synth.smooth_clip(frames=30 + i, seed=i)
    calls: list[tuple[Path, str]] = []

    def fake_read(path: Path, preset: str) -> Clip:
        calls.append((path, preset))
        return made[path]

    monkeypatch.setattr(ds_module, "read_motion", fake_read)
    ds = build_dataset([folder], preset="cmu", subjects=["05"], progress=True)
    assert "reading" in capsys.readouterr().err
    assert calls == [(folder / "05/05_01.bvh", "cmu"), (folder / "05/05_02.bvh", "cmu")]
    assert ds.clip_starts.tolist() == [0, 30, 61] and ds.manifest["preset"] == "cmu" and ds.subjects == ["05"]
    with pytest.raises(MocapError, match="unknown preset"):
        build_dataset([folder], preset="mb")
    with pytest.raises(MocapError, match="fps: 0 fps is outside the frame rates accepted"):
        build_dataset([folder], fps=0)


# --- real CMU data --------------------------------------------------------------------------


def _motion_frames(cmu_root: Path) -> dict[str, int]:
    """``subjects/NN/NAME`` -> "Motion frames (120 fps)" from SOURCE.md's tables."""
    frames = {}
    for line in (cmu_root / "SOURCE.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("subjects/") and cells[3].isdigit():
            frames[cells[0]] = int(cells[3])
    return frames


@pytest.fixture(scope="module")
def run_files(cmu_root: Path) -> list[Path]:
    """Subject 09's short runs (09_01 .. 09_05): quick to read."""
    return [cmu_root / f"subjects/09/09_{i:02d}.bvh" for i in range(1, 6)]


@pytest.mark.cmu
def test_build_cmu_runs(cmu_root: Path, run_files: list[Path], tmp_path: Path) -> None:
    expected = _motion_frames(cmu_root)
    ds = build_dataset(run_files, preset="cmu")
    lengths = [expected[f"subjects/09/{p.name}"] for p in run_files]
    assert ds.num_frames == sum(lengths) == ds.manifest["frames"]
    assert np.diff(ds.clip_starts).tolist() == lengths
    assert ds.fps == 120.0 and ds.poses.shape[1] == 120 and ds.subjects == ["09"]
    assert all(f.get("dropped_first_frame") is True for f in ds.files)
    assert [f["sha256"] for f in ds.files] == [ds_module.file_sha256(p) for p in run_files]
    # Unit quaternions, w >= 0, no T-pose frame left (the converter's frame is all-zero rotations for most joints).
    q = ds.poses.reshape(ds.num_frames, 30, 4).astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-5)
    assert np.all(q[..., 3] >= 0)

    again = build_dataset(run_files, preset="cmu")
    assert again.content_hash == ds.content_hash

    out = ds.save(tmp_path / "runs.npz")
    back = Dataset.load(out)
    np.testing.assert_array_equal(back.poses, ds.poses)
    np.testing.assert_array_equal(back.clip_starts, ds.clip_starts)
    assert back.manifest == ds.manifest and back.content_hash == ds.content_hash


@pytest.mark.cmu
def test_build_cmu_resampled_to_30(cmu_root: Path, run_files: list[Path]) -> None:
    full = build_dataset(run_files, preset="cmu")
    ds = build_dataset(run_files, preset="cmu", fps=30)
    assert ds.fps == 30.0
    for (a, b), (c, d) in zip(ds.clip_ranges(), full.clip_ranges()):
        assert (b - a) == (d - c - 1) // 4 + 1  # every 4th frame, first and all that fit
    np.testing.assert_allclose(ds.clip_poses(0)[3], full.clip_poses(0)[12], atol=1e-6)
    assert abs(ds.num_frames / full.num_frames - 0.25) < 0.02
    assert ds.content_hash != full.content_hash


@pytest.mark.cmu
def test_build_mixes_amc_and_bvh(cmu_root: Path, tmp_path: Path) -> None:
    expected = _motion_frames(cmu_root)
    link = tmp_path / "mixed"
    (link / "35").mkdir(parents=True)
    for name in ("35.asf", "35_01.amc"):
        (link / "35" / name).symlink_to(cmu_root / "subjects/35" / name)
    (link / "09").mkdir()
    (link / "09" / "09_02.bvh").symlink_to(cmu_root / "subjects/09/09_02.bvh")
    ds = build_dataset([link], preset="cmu")
    assert [Path(f["path"]).name for f in ds.files] == ["09_02.bvh", "35_01.amc"]
    assert np.diff(ds.clip_starts).tolist() == [expected["subjects/09/09_02.bvh"], expected["subjects/35/35_01.amc"]]
    assert ds.subjects == ["09", "35"] and ds.joint_names[:3] == ["Hips", "LHipJoint", "LeftUpLeg"]
    assert ds.files[1]["sha256"] == ds_module.file_sha256(cmu_root / "subjects/35/35_01.amc")
    assert ds.files[1]["asf_sha256"] == ds_module.file_sha256(cmu_root / "subjects/35/35.asf")
    train, val = split_by_clip(ds, 0.5, seed=0)
    assert {tuple(train.subjects), tuple(val.subjects)} == {("09",), ("35",)}
