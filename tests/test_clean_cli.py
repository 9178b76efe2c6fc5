"""``mocap-ae corrupt`` and ``mocap-ae clean`` on files: formats, frames, batches, reports, skipping."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli
from maya_tool import quaternion as quat
from maya_tool.clean import CleanOptions, clean_clip, clean_file
from maya_tool.io import read_clip, write_clip
from maya_tool.io.bvh import parse_bvh
from maya_tool.models import architectures
from maya_tool.models.runtime import load_model
from maya_tool.presets import CMU_JOINT_NAMES
from tests import synth


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    return Path(architectures.untrained_model_set(tmp_path_factory.mktemp("models"), "tiny", "temporal",
                                                  list(CMU_JOINT_NAMES), {"window": 16}, seed=2))


def _tpose_bvh(path: Path, frames: int = 120, seed: int = 0) -> Path:
    """A CMU-named BVH whose first frame is a converter's T-pose (whole degrees, unrotated root)."""
    clip = synth.smooth_clip(frames=frames, seed=seed)
    rots = clip.rotations.copy()
    rots[0] = quat.identity()
    rots[0, clip.skeleton.index("LeftArm")] = quat.from_euler([0.0, 0.0, -16.0], "ZYX")
    clip.rotations = rots
    clip.source = {"scale": 5.6444}
    write_clip(clip, path)
    return path


def _run(capsys, *argv: object) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _frame_lines(path: Path) -> list[str]:
    data = parse_bvh(path)
    lines = path.read_text().splitlines()
    return [line for line in lines[data.motion_row - 1:] if line.strip()]


def test_strength_zero_gives_back_the_file(tmp_path, model_path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = _tpose_bvh(tmp_path / "in" / "take.bvh")
    assert read_clip(src).source["dropped_first_frame"]
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--strength", "0", src, "-o", tmp_path / "out")
    assert code == 0, out
    result = tmp_path / "out" / "take.bvh"
    assert result.read_text() == src.read_text()
    a, b = parse_bvh(src), parse_bvh(result)
    assert a.names == b.names and a.channels == b.channels and np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.motion, b.motion)
    report = json.loads((tmp_path / "out" / "take.clean.json").read_text())
    assert report["max_change_deg"] == 0.0 and report["written"]["kept_first_frame"]


def test_corrupt_and_clean_keep_every_frame_and_the_tpose(tmp_path, model_path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = _tpose_bvh(tmp_path / "take.bvh", frames=150)
    bad = tmp_path / "bad" / "take.bvh"
    bad.parent.mkdir()
    code, out, _ = _run(capsys, "corrupt", "--corruption", "capture", "--seed", "1", src, bad)
    assert code == 0 and "150 frames" in out
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--root", "smooth", bad, "-o", tmp_path / "out")
    assert code == 0, out
    cleaned = tmp_path / "out" / "take.bvh"
    lines_in, lines_bad, lines_out = (_frame_lines(p) for p in (src, bad, cleaned))
    assert len(lines_in) == len(lines_bad) == len(lines_out) == 150
    assert lines_in[0] == lines_bad[0] == lines_out[0]
    header = src.read_text().split("MOTION")[0]
    assert bad.read_text().split("MOTION")[0] == header == cleaned.read_text().split("MOTION")[0]
    # What the file holds is the core's result (same reader, 6 decimals).
    bad_clip = read_clip(bad)
    expected = clean_clip(bad_clip, load_model(model_path), CleanOptions(root="smooth")).clip
    back = read_clip(cleaned)
    assert np.degrees(quat.geodesic_angle(back.rotations, expected.rotations)).max() < 1e-4
    assert np.abs(back.root_positions - expected.root_positions).max() < 1e-4


def test_csv_and_amc_round_trip_at_strength_zero(tmp_path, model_path, capsys, clip) -> None:  # type: ignore[no-untyped-def]
    write_clip(clip, tmp_path / "in" / "walk.csv")
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--strength", "0", tmp_path / "in", "-o", tmp_path / "o")
    assert code == 0, out
    back = read_clip(tmp_path / "o" / "walk.csv")
    assert np.abs(back.rotations - clip.rotations).max() < 1e-6
    assert back.skeleton.to_dict() == read_clip(tmp_path / "in" / "walk.csv").skeleton.to_dict()
    assert not list((tmp_path / "in").glob("*.npy")), "the input folder got a cache file"


def test_amc_is_written_as_amc(tmp_path, model_path, cmu_root, capsys) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(cmu_root / "subjects" / "35" / "35.asf", src)
    text = (cmu_root / "subjects" / "35" / "35_01.amc").read_text().splitlines()
    cut = next(i for i, line in enumerate(text) if line.strip() == "61")
    (src / "35_01.amc").write_text("\n".join(text[:cut]) + "\n")
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--strength", "0", src, "-o", tmp_path / "zero")
    assert code == 0, out
    assert (tmp_path / "zero" / "35_01.amc").read_text() == (src / "35_01.amc").read_text()
    code, out, _ = _run(capsys, "clean", "--model", model_path, src, "-o", tmp_path / "full")
    assert code == 0, out
    back = read_clip(tmp_path / "full" / "35_01.amc")
    original = read_clip(src / "35_01.amc")
    assert back.num_frames == original.num_frames == 60
    expected = clean_clip(original, load_model(model_path), CleanOptions()).clip
    report = json.loads((tmp_path / "full" / "35_01.clean.json").read_text())
    error = np.degrees(quat.geodesic_angle(back.rotations, expected.rotations)).max(axis=0)
    assert error.max() <= report["written"]["projection_max_deg"] + 1e-3
    femur = original.skeleton.index("LeftUpLeg")  # three dofs: written exactly
    assert error[femur] < 1e-3


def test_batch_with_a_bad_file_reports_it_and_skips_done_work(tmp_path, model_path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "takes"
    _tpose_bvh(folder / "a.bvh", seed=1)
    _tpose_bvh(folder / "sub" / "b.bvh", seed=2)
    broken = folder / "c.bvh"
    broken.write_text((folder / "a.bvh").read_text().replace("Frames: 120", "Frames: 130"))
    out_dir = tmp_path / "out"
    code, out, _ = _run(capsys, "clean", "--model", model_path, folder, "-o", out_dir)
    assert code != 0
    lines = out.strip().splitlines()
    assert sum(line.startswith("cleaned") for line in lines) == 2
    failed = [line for line in lines if line.startswith("FAILED")]
    assert len(failed) == 1 and str(broken) in failed[0] and "Frames: 130" in failed[0]
    assert (out_dir / "a.bvh").is_file() and (out_dir / "sub" / "b.bvh").is_file()
    assert (out_dir / "sub" / "b.clean.json").is_file() and not (out_dir / "c.bvh").exists()
    stamp = (out_dir / "a.bvh").stat().st_mtime_ns
    code, out, _ = _run(capsys, "clean", "--model", model_path, folder, "-o", out_dir)
    assert code != 0
    assert sum(line.startswith("skipped") for line in out.splitlines()) == 2
    assert (out_dir / "a.bvh").stat().st_mtime_ns == stamp
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--strength", "0.5", folder / "a.bvh", "-o", out_dir)
    assert code == 0 and out.startswith("cleaned"), "changed options must clean again"


def test_refuses_to_overwrite_inputs(tmp_path, model_path, capsys) -> None:  # type: ignore[no-untyped-def]
    src = _tpose_bvh(tmp_path / "take.bvh")
    code, _, err = _run(capsys, "clean", "--model", model_path, src, "-o", tmp_path)
    assert code == 2 and "overwrite the input" in err
    code, _, err = _run(capsys, "corrupt", "--corruption", "pops", src, tmp_path / "x.csv")
    assert code == 2 and ".bvh" in err


def test_clean_file_is_a_pure_function_of_its_arguments(tmp_path, model_path) -> None:  # type: ignore[no-untyped-def]
    src = _tpose_bvh(tmp_path / "take.bvh")
    first = clean_file(model_path, src, tmp_path / "a" / "take.bvh", {"strength": 0.7, "feet": False})
    second = clean_file(load_model(model_path), src, tmp_path / "b" / "take.bvh", CleanOptions(strength=0.7, feet=False))
    assert first["key"] == second["key"] and first["status"] == second["status"] == "cleaned"
    assert (tmp_path / "a" / "take.bvh").read_text() == (tmp_path / "b" / "take.bvh").read_text()


def test_reference_scores_inputs_and_outputs(tmp_path, model_path, capsys) -> None:  # type: ignore[no-untyped-def]
    originals = tmp_path / "originals"
    _tpose_bvh(originals / "a.bvh", seed=3)
    bad = tmp_path / "bad"
    bad.mkdir()
    assert _run(capsys, "corrupt", "--corruption", "capture", "--seed", "1", originals / "a.bvh", bad / "a.bvh")[0] == 0
    code, out, _ = _run(capsys, "clean", "--model", model_path, "--strength", "0", bad, "-o", tmp_path / "out",
                        "--reference", originals)
    assert code == 0, out
    score = json.loads((tmp_path / "out" / "reference_score.json").read_text())
    assert score["inputs"]["animated_mean_deg"] == pytest.approx(score["outputs"]["animated_mean_deg"])
    assert score["inputs"]["animated_mean_deg"] > 0.3
    assert "animated-joint mean angle, input" in out.splitlines()[-1]
