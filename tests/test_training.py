"""Training as a job process: real (tiny) Keras runs, events, cancel/resume, atomic model sets.

The slow tests start ``python -m maya_tool train`` the way the panel does and
read its JSON events. Keras predictions are made in a subprocess too, so
TensorFlow never enters the test process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from maya_tool import cli, jobs, modes
from maya_tool.dataset import dataset_from_clips
from maya_tool.io import read_clip, write_clip
from maya_tool.models import modelfile, runtime
from tests import synth

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
POSE_ARGS = ["--architecture", "pose", "--epochs", "2", "--batch-size", "1", "--noise", "0.01", "0.05",
             "--progress-every", "5", "--seed", "0"]
TEMPORAL_ARGS = ["--architecture", "temporal", "--epochs", "2", "--batch-size", "4", "--noise", "0.03",
                 "--param", "window=32", "--param", "sample_hop=8", "--param", "hidden_channels=64",
                 "--param", "latent_residual=true", "--param", "latent_kernel=3"]

KERAS_PREDICT = """
import sys
import numpy as np
import keras
for keras_path, x_path, out_path in zip(*[iter(sys.argv[1:])] * 3):
    model = keras.saving.load_model(keras_path, safe_mode=True)
    np.save(out_path, model.predict(np.load(x_path), verbose=0, batch_size=64))
"""


def _clips():
    skeleton = synth.cmu_like_skeleton(0)
    return [synth.smooth_clip(240, seed=1, skeleton=skeleton), synth.smooth_clip(200, seed=2, skeleton=skeleton)]


def _train(args, *, until=None, send=None, timeout=300):
    """Run the job process; optionally send a signal after the first event of kind ``until``."""
    process = subprocess.Popen([sys.executable, "-m", "maya_tool", "train", *map(str, args)], cwd=ROOT, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    events = []
    assert process.stdout is not None
    for line in process.stdout:
        event = jobs.parse_event(line)
        if event is None:
            continue
        events.append(event)
        if until is not None and event["event"] == until and send is not None:
            process.send_signal(send)
            send = None
    code = process.wait(timeout=timeout)
    stderr = process.stderr.read() if process.stderr else ""
    return code, events, stderr


def _keras_predict(tmp: Path, pairs):
    """[(keras_path, x)] -> Keras predictions, all in one subprocess."""
    argv = []
    for i, (keras_path, x) in enumerate(pairs):
        np.save(tmp / f"x{i}.npy", x)
        argv += [str(keras_path), str(tmp / f"x{i}.npy"), str(tmp / f"y{i}.npy")]
    result = subprocess.run([sys.executable, "-c", KERAS_PREDICT, *argv], env=ENV, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return [np.load(tmp / f"y{i}.npy") for i in range(len(pairs))]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    clips = _clips()
    paths = [folder / "synth_01.csv", folder / "synth_02.csv"]
    for clip, path in zip(clips, paths):
        write_clip(clip, path)
    dataset = dataset_from_clips(list(zip(paths, clips)))
    return {"npz": dataset.save(folder / "train.npz"), "csv": paths, "clips": clips, "folder": folder}


@pytest.fixture(scope="module")
def pose_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("pose")
    code, events, stderr = _train([data["npz"], "--name", "pose", "-o", out, *POSE_ARGS])
    assert code == 0, stderr[-3000:]
    return {"out": out, "events": events, "json": out / "pose.json"}


@pytest.fixture(scope="module")
def temporal_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("temporal")
    code, events, stderr = _train([*data["csv"], "--name", "temporal", "-o", out, *TEMPORAL_ARGS])
    assert code == 0, stderr[-3000:]
    return {"out": out, "events": events, "json": out / "temporal.json"}


@pytest.mark.slow
def test_training_job_events_and_model_set(pose_run):
    events = pose_run["events"]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done"
    assert kinds.count("epoch") == 2 and kinds.count("checkpoint") == 1 and "progress" in kinds
    assert len({e["job"] for e in events}) == 1
    progress = [e for e in events if e["event"] == "progress"]
    first = progress[0]
    assert first["epoch"] == 1 and first["epochs"] == 2 and first["step"] == 5 and first["steps"] > 100
    assert all(k in first for k in ("loss", "eta_s", "elapsed_s"))
    elapsed = [e["elapsed_s"] for e in events if "elapsed_s" in e]
    assert elapsed == sorted(elapsed)
    epoch_events = [e for e in events if e["event"] == "epoch"]
    assert all(e["val_loss"] is not None and e["val_loss"] > 0 for e in epoch_events)
    done = events[-1]
    assert done["model"] == str(pose_run["json"]) and done["ratio"] == 4.0
    out = pose_run["out"]
    assert sorted(p.name for p in out.iterdir()) == ["pose.json", "pose.keras", "pose.npz"]  # checkpoint removed

    meta = modelfile.read_sidecar(pose_run["json"])
    assert meta["architecture"] == "pose" and meta["name"] == "pose"
    assert meta["joint_names"][1] == "LHipJoint" and len(meta["joint_names"]) == 31
    assert meta["input_layout"] == {"name": "joint_quaternions_xyzw", "size": 120}
    assert meta["ratio"] == 4.0 and meta["bits_per_frame"] == 960 and meta["latent_dtype"] == "float32"
    assert len(meta["normalisation"]["mean"]) == len(meta["normalisation"]["std"]) == 120
    assert min(meta["normalisation"]["std"]) >= meta["normalisation"]["std_floor"] * (1 - 1e-6)
    training = meta["training"]
    assert training["epochs"] == 2 and training["seed"] == 0 and training["noise"]["sigma"] == [0.01, 0.05]
    assert len(training["losses"]["loss"]) == len(training["losses"]["val_loss"]) == 2
    assert training["validation_frames"] + training["train_frames"] == 440
    assert len(training["validation_files"]) == 1  # split by clip, never by frame
    assert training["manifest_hash"] and [f["frames"] for f in training["files"]] == [240, 200]
    assert meta["evaluation"]["validation"]["denoised"]["mean_angle_deg"] >= 0
    assert set(meta["versions"]) >= {"python", "numpy", "keras", "tensorflow"}
    assert meta["weights"]["sha256"] == modelfile.sha256_file(out / "pose.npz")
    assert [m.name for m in modelfile.list_models([out])] == ["pose"]


@pytest.mark.slow
def test_numpy_runtime_matches_keras(pose_run, temporal_run, data, tmp_path):
    clip = data["clips"][0]
    pose = runtime.load_model(pose_run["json"])
    temporal = runtime.load_model(temporal_run["json"])
    assert temporal.window == 32 and temporal.meta["training"]["files"][0]["path"].endswith("synth_01.csv")
    x = clip.pose_features()
    noisy = modes.compute_variant(clip, "noisy", sigma=0.05).pose_features()
    windows = runtime.make_windows(x, 32)
    assert temporal.inference == "full" and temporal.hemisphere is not None
    padded = temporal.pad_clip(temporal.inputs(clip.joint_rotations))[None]
    keras_pose, keras_noisy, keras_windows, keras_clip = _keras_predict(
        tmp_path,
        [(pose_run["out"] / "pose.keras", x), (pose_run["out"] / "pose.keras", noisy),
         (temporal_run["out"] / "temporal.keras", windows), (temporal_run["out"] / "temporal.keras", padded)]
    )
    np.testing.assert_allclose(pose.forward(x), keras_pose, atol=1e-5, rtol=0)
    np.testing.assert_allclose(pose.forward(noisy), keras_noisy, atol=1e-5, rtol=0)
    np.testing.assert_allclose(temporal.forward(windows), keras_windows, atol=1e-5, rtol=0)
    # Every residual branch has left its zero start, so the comparison covered them.
    with np.load(temporal_run["out"] / "temporal.npz") as weights:
        assert {"proj.kernel", "down.kernel", "interp.kernel", "back.kernel"} <= set(weights.files)
        for block in ("enc_res2", "dec_res2", "enc_lat2", "dec_lat2"):
            assert np.abs(weights[f"{block}.kernel"]).max() > 0
    # The whole-clip pass is one network pass over the edge-padded clip, cropped and renormalised.
    hop = temporal.window // 2
    cropped = keras_clip[0, hop : hop + clip.num_frames].reshape(-1, 30, 4).astype(np.float64)
    expected = cropped / np.linalg.norm(cropped, axis=-1, keepdims=True)
    expected = np.where(expected[..., 3:] < 0, -expected, expected)
    np.testing.assert_allclose(temporal.reconstruct(clip.joint_rotations), expected, atol=1e-4)

    denoised = modes.compute_variant(clip, "denoised", model=pose, sigma=0.05)
    assert denoised.num_frames == clip.num_frames and denoised.source["variant"] == "denoised"
    np.testing.assert_allclose(np.linalg.norm(denoised.joint_rotations, axis=-1), 1.0, atol=1e-9)
    modes.compute_variant(clip, "denoised", model=temporal, sigma=0.05)


@pytest.mark.slow
def test_temporal_training_starts_from_the_linear_codec(data, tmp_path):
    """With a vanishing learning rate the trained codec is its start.

    The start is computed here independently: PCA of the training poses, box means, np.interp.
    """
    code, _, stderr = _train([data["npz"], "--name", "lin", "-o", tmp_path, "--architecture", "temporal", "--epochs",
                              "1", "--batch-size", "8", "--validation-fraction", "0", "--param", "window=32",
                              "--param", "stride=4", "--param", "lr=1e-10", "--param", "hidden_channels=16"])
    assert code == 0, stderr[-3000:]
    model = runtime.load_model(tmp_path / "lin.json")
    clips = [model.inputs(c.joint_rotations).astype(np.float64) for c in data["clips"]]
    poses = np.concatenate(clips)
    centre = poses.mean(axis=0)
    _, _, vt = np.linalg.svd(poses - centre, full_matrices=False)
    basis = vt[:60]
    x = clips[0][:128]
    boxes = ((x - centre) @ basis.T).reshape(-1, 4, 60).mean(axis=1)
    centres = np.arange(len(boxes)) * 4 + 1.5
    interp = np.stack([np.interp(np.arange(len(x)), centres, boxes[:, c]) for c in range(60)], axis=1)
    expected = centre + interp @ basis
    out = model.forward(x[None].astype(np.float32))[0]
    np.testing.assert_allclose(out[8:-8], expected[8:-8], atol=1e-4)


@pytest.mark.slow
@pytest.mark.cmu
def test_numpy_runtime_matches_keras_on_cmu_clips(pose_run, cmu_bvh_files, tmp_path):
    """A tiny temporal model trained on two CMU runs (BVH read through the data set builder), checked on a third."""
    runs = {p.stem: p for p in cmu_bvh_files if p.parent.name == "09"}  # never subject 02: held out
    code, _, stderr = _train([runs["09_01"], runs["09_02"], "--name", "cmu", "-o", tmp_path, *TEMPORAL_ARGS])
    assert code == 0, stderr[-3000:]
    temporal = runtime.load_model(tmp_path / "cmu.json")
    assert temporal.meta["training"]["subjects"] == ["09"] and temporal.meta["fps"] == 120.0
    pose = runtime.load_model(pose_run["json"])
    clip = read_clip(runs["09_03"])
    pose.check_clip(clip)
    temporal.check_clip(clip)
    x = clip.pose_features()
    windows = runtime.make_windows(x, 32)
    keras_pose, keras_windows = _keras_predict(
        tmp_path, [(pose_run["out"] / "pose.keras", x), (tmp_path / "cmu.keras", windows)]
    )
    np.testing.assert_allclose(pose.forward(x), keras_pose, atol=1e-5, rtol=0)
    np.testing.assert_allclose(temporal.forward(windows), keras_windows, atol=1e-5, rtol=0)
    assert modes.compute_variant(clip, "denoised", model=temporal, sigma=0.05).num_frames == clip.num_frames


@pytest.mark.slow
def test_sigterm_checkpoints_resume_finishes_and_sigkill_leaves_the_model(pose_run, data, tmp_path):
    out = tmp_path / "models"
    shutil.copytree(pose_run["out"], out)
    previous = {p.name: p.read_bytes() for p in out.iterdir()}
    args = [data["npz"], "--name", "pose", "-o", out, *POSE_ARGS]

    code, events, stderr = _train(args, until="progress", send=signal.SIGTERM)
    assert code == jobs.EXIT_CANCELLED, stderr[-3000:]
    cancelled = events[-1]
    assert cancelled["event"] == "cancelled" and "SIGTERM" in cancelled["message"]
    assert cancelled["epoch"] == 1 and 5 <= cancelled["step"] < cancelled.get("steps", 10**9)
    assert Path(cancelled["checkpoint"]) == out / ".pose.checkpoint"
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")} == previous
    state = json.loads((out / ".pose.checkpoint" / "state.json").read_text())
    assert state["state"]["epoch"] == 0 and state["state"]["step"] == cancelled["step"]

    code, events, stderr = _train(["--name", "pose", "-o", out, "--resume"])  # the checkpoint knows the rest
    assert code == 0, stderr[-3000:]
    assert events[0]["event"] == "start" and events[0]["resumed"] is True and events[-1]["event"] == "done"
    first = next(e for e in events if e["event"] == "progress")
    assert first["epoch"] == 1 and first["step"] > cancelled["step"]
    assert not (out / ".pose.checkpoint").exists()
    meta = modelfile.read_sidecar(out / "pose.json")
    assert meta["training"]["resumed"] == 1 and meta["training"]["job"] == events[0]["job"]
    # Reproducible: the interrupted-and-resumed run ends with the very weights of the uninterrupted one.
    with np.load(out / "pose.npz") as resumed, np.load(pose_run["out"] / "pose.npz") as straight:
        assert resumed.files == straight.files
        for key in resumed.files:
            np.testing.assert_allclose(resumed[key], straight[key], atol=1e-6, rtol=0)

    # SIGKILL gives no chance to clean up: the registered model must still be the last complete one.
    registered = {p.name: p.read_bytes() for p in out.iterdir()}
    code, events, _ = _train([*args[:-2], "--seed", "1"], until="progress", send=signal.SIGKILL)
    assert code == -signal.SIGKILL and events[-1]["event"] == "progress"
    assert {p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")} == registered
    assert [m.name for m in modelfile.list_models([out])] == ["pose"]
    assert runtime.load_model(out / "pose.json", cache=False).meta["training"]["resumed"] == 1


def test_bad_inputs_are_error_events_naming_the_file(tmp_path, capsys):
    broken = tmp_path / "broken.bvh"
    broken.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 zero 0\n")
    code = cli.main(["train", str(broken), "--name", "x", "-o", str(tmp_path), "--job", "j1"])
    events = [jobs.parse_event(line) for line in capsys.readouterr().out.splitlines()]
    assert code == jobs.EXIT_ERROR
    assert [e["event"] for e in events] == ["start", "error"] and events[-1]["job"] == "j1"
    assert str(broken) in events[-1]["message"]

    spec = tmp_path / "job.json"
    spec.write_text(json.dumps({"name": "x", "inputs": [str(broken)], "architecture": "rnn"}))
    code = cli.main(["train", "--spec", str(spec), "--events", str(tmp_path / "e.jsonl")])
    error = jobs.read_events(tmp_path / "e.jsonl")[0][-1]
    assert code == jobs.EXIT_ERROR and error["event"] == "error"
    assert str(spec) in error["message"] and "architecture 'rnn'" in error["message"]
    capsys.readouterr()

    code = cli.main(["train", str(broken), "--name", "x", "--param", "units=[8]"])
    error = [jobs.parse_event(line) for line in capsys.readouterr().out.splitlines()][-1]
    assert code == jobs.EXIT_ERROR and "2 activations" in error["message"]


def test_spec_and_flags_combine(tmp_path):
    from maya_tool.commands import train as command

    spec = jobs.JobSpec(name="a", inputs=["x.npz"], epochs=10, params={"window": 96}, architecture="temporal")
    spec.save(tmp_path / "job.json")
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--spec", str(tmp_path / "job.json"), "--epochs", "3", "--noise", "0.01",
                              "0.1", "--param", "stride=8", "--param", "inference=full"])
    combined = command.build_spec(args)
    assert combined.epochs == 3 and combined.noise == [0.01, 0.1] and combined.name == "a"
    assert combined.params == {"window": 96, "stride": 8, "inference": "full"}


def test_sigterm_while_loading_data_cancels_at_once(tmp_path, monkeypatch):
    from maya_tool.models import training

    def slow_load(spec):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("the handler should have stopped the job inside the load")

    monkeypatch.setattr(training, "load_data", slow_load)
    events = tmp_path / "events.jsonl"
    spec = jobs.JobSpec(name="x", inputs=[str(tmp_path)], output_dir=str(tmp_path))
    previous = signal.getsignal(signal.SIGTERM)
    code = training.train(spec, job_id="j", events=events, stream=None)
    kinds = [e["event"] for e in jobs.read_events(events)[0]]
    assert code == jobs.EXIT_CANCELLED and kinds == ["start", "cancelled"]
    assert not (tmp_path / ".x.checkpoint").exists()
    assert signal.getsignal(signal.SIGTERM) is previous


def test_denoising_noise_keeps_the_clean_sign_for_codecs():
    """The codec's targets are sign-banded tracks: its noisy inputs must take each clean quaternion's sign."""
    from maya_tool.models import training

    rng = np.random.default_rng(0)
    clean = synth.smooth_clip(120, seed=3, skeleton=synth.cmu_like_skeleton(0)).joint_rotations
    clean = (clean * np.where(rng.random(clean.shape[:2] + (1,)) < 0.5, -1.0, 1.0)).reshape(1, 120, -1)
    noisy = training.corrupt(clean.astype(np.float32), (0.05, 0.05), np.random.default_rng(1), align=True)
    dots = np.sum(noisy.reshape(120, -1, 4) * clean.reshape(120, -1, 4), axis=-1)
    assert dots.min() > 0.9
    angles = np.degrees(2 * np.arccos(np.clip(dots, -1, 1)))
    assert 3 < angles.mean() < 20  # sigma 0.05 on components is several degrees
