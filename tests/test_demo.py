"""``mocap-ae demo``, the README's main job: model -> held-out clip -> report and table."""

from __future__ import annotations

import json

import pytest

from maya_tool import cli
from maya_tool.io import write_clip
from maya_tool.models.architectures import untrained_model_set
from tests import synth
from tests.ui_support import make_pca_model


def test_demo_writes_report_and_table(tmp_path, capsys):
    clip = synth.smooth_clip(frames=180)
    clip_path = tmp_path / "walk.csv"
    write_clip(clip, clip_path)
    model = make_pca_model(tmp_path / "models", "pca30", [synth.smooth_clip(frames=300, seed=1)])
    out = tmp_path / "report"
    code = cli.main(["demo", "--model", str(model), "--clip", str(clip_path), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    for variant in ("reconstruction", "noisy", "denoised", "butter", "savgol"):
        assert variant in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 180 and summary["sigma"] == 0.05
    assert summary["denoised"]["mean_angle_deg"] > 0 and summary["butterworth_cutoff_hz"] > 0
    assert (out / "per_joint.png").stat().st_size > 10_000
    assert json.loads((out / "demo.json").read_text())["clip"] == str(clip_path)
    # the files it says it wrote are the files in the folder, demo.json included
    listed = printed.split("files: ")[1].split(")")[0].split(", ")
    assert sorted(listed) == sorted(p.name for p in out.iterdir()) and "demo.json" in listed
    assert f"({len(listed)} files" in printed
    assert "animated joints" in printed and "best classical" in printed


def test_demo_refuses_a_model_for_another_skeleton(tmp_path, capsys):
    clip_path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=60), clip_path)
    other = untrained_model_set(tmp_path, "small", "pose", ["root", "a", "b"])
    code = cli.main(["demo", "--model", str(other), "--clip", str(clip_path), "--out", str(tmp_path / "r")])
    assert code == 2
    err = capsys.readouterr().err
    assert "model 'small' expects 3 joints" in err and "the clip has 31 joints" in err and "walk.csv" in err


def test_demo_without_models_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    from maya_tool.models import modelfile

    monkeypatch.setattr(modelfile, "default_model_dirs", lambda: [tmp_path / "none"])
    clip_path = tmp_path / "walk.csv"
    write_clip(synth.smooth_clip(frames=60), clip_path)
    assert cli.main(["demo", "--clip", str(clip_path), "--out", str(tmp_path / "r")]) == 2
    assert "mocap-ae train" in capsys.readouterr().err


@pytest.mark.cmu
def test_demo_default_clip_is_the_held_out_subject(cmu_root, monkeypatch):
    from maya_tool.commands import demo

    monkeypatch.setenv("MOCAP_AE_DATA", str(cmu_root))
    path = demo.find_clip(None, None)
    assert path.parent.name == "02" and path.stem == "02_01"
