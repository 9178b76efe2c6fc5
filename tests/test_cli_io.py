"""``mocap-ae info``, ``convert`` and ``data build`` run in-process through ``cli.main``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli
from maya_tool import quaternion as quat
from maya_tool.commands.info import describe_clip
from maya_tool.dataset import Dataset
from maya_tool.io import read_clip, write_clip
from maya_tool.io.bvh import read_bvh
from tests import synth


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"mocap-ae {command}: error: ")
    return lines[0]


@pytest.fixture()
def synth_csv(tmp_path: Path, clip) -> Path:
    path = tmp_path / "walk.csv"
    write_clip(clip, path)
    return path


# --- info -----------------------------------------------------------------------------------


def test_info_text(synth_csv: Path, clip, capsys) -> None:
    code, out, err = _run(capsys, "info", synth_csv)
    assert code == 0 and err == ""
    assert "frames:     240" in out and "fps:        120" in out and "duration:   2.000 s" in out
    assert "31 joints (120 model inputs)" in out
    lo, hi = clip.root_positions.min(axis=0), clip.root_positions.max(axis=0)
    assert f"x {lo[0]:.1f} .. {hi[0]:.1f}" in out and f"z {lo[2]:.1f} .. {hi[2]:.1f}" in out
    assert "(ok)" in out
    assert "LeftUpLeg" in out and "RThumb" in out


def test_info_json_ranges(synth_csv: Path, clip, capsys) -> None:
    code, out, _ = _run(capsys, "info", synth_csv, "--json")
    assert code == 0
    info = json.loads(out)
    assert info["frames"] == 240 and info["fps"] == 120.0 and info["duration_s"] == 2.0 and info["joints"] == 31
    assert info["format"] == "csv" and info["path"] == str(synth_csv)
    np.testing.assert_allclose(info["root_position_cm"]["min"], clip.root_positions.min(axis=0), atol=1e-3)
    np.testing.assert_allclose(info["root_position_cm"]["max"], clip.root_positions.max(axis=0), atol=1e-3)
    angles = np.degrees(quat.geodesic_angle(quat.identity(), clip.rotations))
    by_name = {j["name"]: j for j in info["joint_rotations"]}
    for j, name in enumerate(clip.skeleton.names):
        r = by_name[name]["rotation_deg"]
        assert r["min"] == pytest.approx(angles[:, j].min(), abs=1e-3)
        assert r["max"] == pytest.approx(angles[:, j].max(), abs=1e-3)
        assert r["mean"] == pytest.approx(angles[:, j].mean(), abs=1e-3)
    assert by_name["LeftUpLeg"]["parent"] == "LHipJoint" and by_name["Hips"]["parent"] is None
    assert info["quaternion_norm"]["ok"] is True and info["quaternion_norm"]["max_deviation"] < 1e-6


def test_info_flags_non_unit_quaternions(synth_csv: Path, capsys) -> None:
    lines = synth_csv.read_text().splitlines()
    cells = lines[5].split(",")
    cells[7:11] = ["0.5", "0.5", "0.5", "0.9"]  # joint 1 of frame 5: length 1.2
    lines[5] = ",".join(cells)
    synth_csv.write_text("\n".join(lines) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, _ = _run(capsys, "info", synth_csv, "--json")
    assert code == 0
    norm = json.loads(out)["quaternion_norm"]
    assert norm["ok"] is False and norm["normalised_on_read"] == 1


def test_describe_clip_finds_worst_quaternion(clip) -> None:
    clip.rotations[17, 4] *= 1.01
    info = describe_clip(clip)
    norm = info["quaternion_norm"]
    assert norm["ok"] is False and norm["max_deviation"] == pytest.approx(0.01, rel=1e-6)
    assert (norm["worst_frame"], norm["worst_joint"]) == (18, clip.skeleton.names[4])


def test_info_bad_file_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n\tOFFSET 0 0 zero\n")
    code, out, err = _run(capsys, "info", bad)
    assert code == 2 and out == ""
    line = _error_line(err, "info")
    assert str(bad) in line and "row 4" in line

    code, _, err = _run(capsys, "info", tmp_path / "absent.bvh")
    assert code == 2 and "absent.bvh" in _error_line(err, "info") and "no such file" in err

    (tmp_path / "notes.txt").write_text("hello")
    code, _, err = _run(capsys, "info", tmp_path / "notes.txt")
    assert code == 2 and ".txt" in _error_line(err, "info")


def test_info_rejects_options_that_do_not_apply(synth_csv: Path, capsys) -> None:
    code, _, err = _run(capsys, "info", synth_csv, "--asf", "x.asf")
    assert code == 2 and "--asf does not apply to .csv input" in _error_line(err, "info")


# --- convert --------------------------------------------------------------------------------


def test_convert_csv_bvh_csv_round_trip(synth_csv: Path, clip, tmp_path: Path, capsys) -> None:
    bvh = tmp_path / "walk.bvh"
    code, out, _ = _run(capsys, "convert", synth_csv, bvh)
    assert code == 0 and f"wrote {bvh}: 240 frames at 120 fps, 31 joints" in out
    back = read_bvh(bvh, preset="none")
    np.testing.assert_allclose(back.root_positions, clip.root_positions, atol=1e-4)
    assert np.max(quat.geodesic_angle(back.rotations, clip.rotations)) < 1e-4

    csv2 = tmp_path / "out" / "again.csv"
    code, out, _ = _run(capsys, "convert", bvh, csv2, "--preset", "none")
    assert code == 0 and "again.skeleton.json" in out
    assert (tmp_path / "out" / "again.skeleton.json").is_file()
    again = read_clip(csv2)
    assert again.skeleton.names == clip.skeleton.names and again.fps == 120.0
    np.testing.assert_allclose(again.skeleton.offsets, clip.skeleton.offsets, atol=1e-4)
    assert np.max(quat.geodesic_angle(again.rotations, clip.rotations)) < 1e-4


def test_convert_resamples(synth_csv: Path, tmp_path: Path, capsys) -> None:
    out_csv = tmp_path / "slow.csv"
    code, out, _ = _run(capsys, "convert", synth_csv, out_csv, "--fps", "30")
    assert code == 0 and "60 frames at 30 fps" in out
    assert read_clip(out_csv).fps == 30.0


def test_convert_errors(synth_csv: Path, tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "convert", synth_csv, tmp_path / "x.fbx")
    assert code == 2 and ".fbx" in _error_line(err, "convert")
    code, _, err = _run(capsys, "convert", synth_csv, synth_csv)
    assert code == 2 and "same file" in _error_line(err, "convert")
    code, _, err = _run(capsys, "convert", synth_csv, tmp_path / "y.bvh", "--no-drop-first-frame")
    assert code == 2 and "--no-drop-first-frame does not apply to .csv" in _error_line(err, "convert")
    code, _, err = _run(capsys, "convert", synth_csv, tmp_path / "y.csv", "--output-scale", "2")
    assert code == 2 and "BVH output only" in _error_line(err, "convert")
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n4,5\n")
    code, _, err = _run(capsys, "convert", bad, tmp_path / "z.bvh")
    assert code == 2 and str(bad) in _error_line(err, "convert")
    assert not (tmp_path / "z.bvh").exists() and not (tmp_path / "y.bvh").exists()


@pytest.mark.cmu
def test_info_and_convert_cmu_bvh(cmu_root: Path, tmp_path: Path, capsys) -> None:
    src = cmu_root / "subjects/09/09_01.bvh"
    code, out, _ = _run(capsys, "info", src, "--json")
    info = json.loads(out)
    assert code == 0 and info["frames"] == 148 and info["fps"] == 120.0 and info["joints"] == 31
    assert info["source"]["preset"] == "cmu" and info["source"]["dropped_first_frame"] is True
    hips_low, hips_high = info["root_position_cm"]["min"][1], info["root_position_cm"]["max"][1]
    assert 60 < hips_low < hips_high < 130  # hip height of a running adult, in cm
    assert info["quaternion_norm"]["ok"]
    code, out, _ = _run(capsys, "info", src, "--json", "--no-drop-first-frame")
    assert json.loads(out)["frames"] == 149

    csv_path = tmp_path / "09_01.csv"
    code, out, _ = _run(capsys, "convert", src, csv_path)
    assert code == 0 and (tmp_path / "09_01.skeleton.json").is_file()
    original, converted = read_bvh(src), read_clip(csv_path)
    assert converted.num_frames == 148 and converted.skeleton.same_layout(original.skeleton)
    np.testing.assert_allclose(converted.root_positions, original.root_positions, atol=1e-4)
    assert np.max(quat.geodesic_angle(converted.rotations, original.rotations)) < 1e-5

    bvh_path = tmp_path / "back.bvh"
    code, _, _ = _run(capsys, "convert", src, bvh_path)
    assert code == 0
    back = read_bvh(bvh_path, preset="none", scale=5.6444)
    assert back.num_frames == 148
    np.testing.assert_allclose(back.root_positions, original.root_positions, atol=1e-3)


@pytest.mark.cmu
def test_info_and_convert_cmu_amc(cmu_root: Path, tmp_path: Path, capsys) -> None:
    amc = cmu_root / "subjects/35/35_01.amc"
    code, out, _ = _run(capsys, "info", amc, "--json")
    info = json.loads(out)
    assert code == 0 and info["frames"] == 358 and info["fps"] == 120.0 and info["joints"] == 31
    assert info["joint_rotations"][0]["name"] == "Hips"
    out_bvh = tmp_path / "35_01.bvh"
    code, out, _ = _run(capsys, "convert", amc, out_bvh, "--asf", cmu_root / "subjects/35/35.asf", "--fps", "30")
    assert code == 0 and "90 frames at 30 fps" in out
    assert read_bvh(out_bvh, preset="none").num_frames == 90


# --- data build -----------------------------------------------------------------------------


def test_data_build_from_csv_folder(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "takes"
    for i, frames in enumerate((120, 80)):
        (folder / f"1{i}").mkdir(parents=True)
        write_clip(synth.smooth_clip(frames=frames, seed=i), folder / f"1{i}" / f"1{i}_01.csv")
    out = tmp_path / "set.npz"
    code, text, err = _run(capsys, "data", "build", folder, "-o", out)
    assert code == 0, err
    assert "clips:        2" in text and "frames:       200" in text and "subjects:     10 11" in text
    ds = Dataset.load(out)
    assert ds.num_frames == 200 and (tmp_path / "set.json").is_file()
    assert f"content hash: {ds.content_hash}" in text

    code, text, _ = _run(capsys, "data", "build", folder, "-o", out, "--fps", "30", "--subjects", "11", "--json")
    summary = json.loads(text)
    assert code == 0 and summary["clips"] == 1 and summary["frames"] == 20 and summary["subjects"] == ["11"]
    assert summary["fps"] == 30.0 and summary["content_hash"] == Dataset.load(out).content_hash

    code, text, _ = _run(capsys, "info", out, "--json")
    assert code == 0 and json.loads(text)["frames"] == 20


def test_data_build_errors(tmp_path: Path, capsys) -> None:
    code, _, err = _run(capsys, "data", "build", tmp_path / "nothing", "-o", tmp_path / "x.npz")
    assert code == 2 and "no such file or folder" in _error_line(err, "data")
    (tmp_path / "empty").mkdir()
    code, _, err = _run(capsys, "data", "build", tmp_path / "empty", "-o", tmp_path / "x.npz")
    assert code == 2 and "no bvh/amc/csv files" in _error_line(err, "data")
    write_clip(synth.smooth_clip(frames=30), tmp_path / "a.csv")
    code, _, err = _run(capsys, "data", "build", tmp_path / "a.csv", "-o", tmp_path / "x.h5")
    assert code == 2 and ".npz" in _error_line(err, "data")
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.cmu
def test_data_build_cmu_subjects(cmu_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cmu.npz"
    code, text, err = _run(capsys, "data", "build", cmu_root / "subjects/09", cmu_root / "subjects/35",
                           "--subjects", "35", "--preset", "cmu", "-o", out, "--json")
    assert code == 0, err
    summary = json.loads(text)
    assert summary["clips"] == 1 and summary["frames"] == 358 and summary["subjects"] == ["35"]
    assert summary["features"] == 120
