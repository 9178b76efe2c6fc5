"""Job plumbing: the event protocol, job specs, the history and re-attaching to a job."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from maya_tool import jobs
from maya_tool.errors import MocapError


def _spec(**overrides) -> jobs.JobSpec:
    values = {"name": "pose-v1", "inputs": ["data/train.npz"], "epochs": 5, "noise": [0.01, 0.05]}
    values.update(overrides)
    return jobs.JobSpec(**values)


def test_spec_round_trip_and_validation(tmp_path):
    spec = _spec(params={"window": 96}, architecture="temporal", fps=30.0)
    path = tmp_path / "job.json"
    spec.save(path)
    assert jobs.JobSpec.load(path) == spec
    assert json.loads(path.read_text())["architecture"] == "temporal"

    path.write_text(json.dumps({**spec.to_dict(), "epoch": 3}))
    with pytest.raises(MocapError, match="unknown job spec keys epoch") as info:
        jobs.JobSpec.load(path)
    assert info.value.path == str(path)
    path.write_text('{"name": "x",\n "inputs": [}')
    with pytest.raises(MocapError) as info:
        jobs.JobSpec.load(path)
    assert info.value.row == 2
    for bad, message in [
        ({"name": "a b"}, "name"),
        ({"architecture": "vae"}, "architecture 'vae' is unknown"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"noise": [0.1, 0.05]}, "noise"),
        ({"noise": "lots"}, "noise"),
        ({"inputs": []}, "inputs is empty"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
    ]:
        with pytest.raises(MocapError, match=message):
            jobs.JobSpec.from_dict({**_spec().to_dict(), **bad})
    assert jobs.noise_range(0) == (0.0, 0.0) and jobs.noise_range([0.01, 0.1]) == (0.01, 0.1)


def test_events_go_to_stdout_and_file(tmp_path):
    stream = io.StringIO()
    path = tmp_path / "sub" / "events.jsonl"
    writer = jobs.EventWriter("job-1", stream, path)
    writer.emit("start", epochs=3)
    writer.emit("progress", epoch=1, epochs=3, step=10, steps=40, loss=float("nan"), eta_s=12.5, elapsed_s=1.0)
    lines = stream.getvalue().splitlines()
    assert path.read_text().splitlines() == lines
    events = [jobs.parse_event(line) for line in lines]
    assert [e["event"] for e in events] == ["start", "progress"]
    assert events[1]["loss"] is None and events[1]["job"] == "job-1" and events[1]["step"] == 10
    assert "T" in events[0]["time"]
    assert jobs.parse_event("2026-01-01 I tensorflow: something") is None
    assert jobs.parse_event('{"event": "party"}') is None
    assert jobs.parse_event(b'{"event": "done", "job": "x"}\n') == {"event": "done", "job": "x"}
    with pytest.raises(ValueError):
        jobs.make_event("finished", "x")


def test_read_events_leaves_a_partial_line_for_later(tmp_path):
    path = tmp_path / "events.jsonl"
    assert jobs.read_events(path) == ([], 0)
    first = jobs.format_event(jobs.make_event("start", "j", epochs=1)) + "\n"
    path.write_text(first + '{"event": "prog')
    events, offset = jobs.read_events(path)
    assert [e["event"] for e in events] == ["start"] and offset == len(first)
    with open(path, "a") as handle:
        handle.write('ress", "job": "j", "step": 1}\n')
    events, offset = jobs.read_events(path, offset)
    assert [e["event"] for e in events] == ["progress"] and offset == path.stat().st_size


def test_train_command():
    argv = jobs.train_command("job.json", job_id="j1", events="e.jsonl")
    assert argv[0] == sys.executable
    assert argv[1:] == ["-m", "maya_tool", "train", "--spec", "job.json", "--job", "j1", "--events", "e.jsonl"]
    assert jobs.train_command("job.json", "python3") == ["python3", "-m", "maya_tool", "train", "--spec", "job.json"]


def test_store_records_and_reattach(tmp_path):
    store = jobs.JobStore(tmp_path)
    record = store.create(_spec())
    assert record.state == "queued" and record.spec_path.is_file()
    assert jobs.JobSpec.load(record.spec_path) == record.spec
    assert store.command(record)[-4:] == ["--job", record.id, "--events", record.events]
    second = store.create(_spec(name="pose-v2"))
    assert [r.id for r in store.list()] == [record.id, second.id]
    with pytest.raises(MocapError, match="already exists"):
        store.create(_spec(), job_id=record.id)
    with pytest.raises(MocapError, match="no job 'nope'"):
        store.get("nope")

    # A job whose process is gone is settled from its events after a restart.
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    record.state, record.pid = "running", finished.pid
    store.update(record)
    writer = jobs.EventWriter(record.id, None, record.events)
    writer.emit("start", epochs=5)
    writer.emit("cancelled", message="SIGTERM received", checkpoint="/x/.pose-v1.checkpoint")
    reloaded = store.refresh(store.get(record.id))
    assert reloaded.state == "cancelled" and reloaded.message == "SIGTERM received" and reloaded.pid is None
    assert store.get(record.id).state == "cancelled"

    # Without a final event the job failed.
    second.state, second.pid = "running", finished.pid
    store.update(second)
    assert store.refresh(second).state == "failed"

    # A live process stays running.
    assert jobs.is_alive(subprocess.os.getpid())
    assert not jobs.is_alive(finished.pid) and not jobs.is_alive(None)


def test_store_start_runs_the_job_process(tmp_path):
    """The launcher wires spec, id and events file; a bad input ends as a failed job naming the file."""
    store = jobs.JobStore(tmp_path / "jobs")
    record = store.create(_spec(inputs=[str(tmp_path / "missing.bvh")], output_dir=str(tmp_path / "models")))
    process = store.start(record)
    assert store.get(record.id).state == "running"
    code = process.wait(timeout=120)
    done = store.finish(store.get(record.id), code)
    assert code == jobs.EXIT_ERROR and done.state == "failed" and done.exit_code == 1
    assert "missing.bvh" in done.message and "input not found" in done.message
    events = store.events(done)
    assert [e["event"] for e in events] == ["start", "error"] and events[0]["job"] == record.id


def test_a_resumed_run_is_settled_by_its_own_events(tmp_path):
    """The first run's ``cancelled`` stays in the file; a resumed run that dies silently failed."""
    store = jobs.JobStore(tmp_path)
    record = store.create(_spec())
    writer = jobs.EventWriter(record.id, None, record.events)
    writer.emit("start", epochs=5)
    writer.emit("cancelled", message="SIGTERM received")
    time.sleep(0.01)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    record.state, record.pid, record.started = "running", gone.pid, jobs.now_iso()
    store.update(record)
    settled = store.refresh(store.get(record.id))
    assert settled.state == "failed" and "without a final event" in settled.message
    writer.emit("done", model="/x/pose-v1.json")
    record.state, record.pid = "running", gone.pid
    store.update(record)
    assert store.refresh(record).state == "done"


# --------------------------------------------------------------------- name lock
_HOLD = """
import sys, time
from maya_tool import jobs
with jobs.NameLock(sys.argv[1], "walk", "job-A"):
    print("locked", flush=True)
    time.sleep(60)
"""


def _holder(tmp_path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_job_on_a_name_in_use_is_refused_naming_the_running_one(tmp_path):
    proc = _holder(tmp_path)
    try:
        with pytest.raises(MocapError, match=rf"another job is training 'walk' into {tmp_path}: job job-A \(pid {proc.pid}, started ") as info:
            jobs.NameLock(tmp_path, "walk", "job-B").acquire()
        assert info.value.path == str(jobs.lock_path(tmp_path, "walk"))
        with jobs.NameLock(tmp_path, "run", "job-C"):  # another name in the folder is free
            pass
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_job_does_not_leave_its_name_locked(tmp_path):
    proc = _holder(tmp_path)
    proc.kill()  # SIGKILL: no cleanup runs, the file stays
    proc.wait()
    assert jobs.lock_path(tmp_path, "walk").exists()
    with jobs.NameLock(tmp_path, "walk", "job-B") as lock:
        assert json.loads(lock.path.read_text())["job"] == "job-B"
    assert not jobs.lock_path(tmp_path, "walk").exists()  # released: nothing left in the model folder


def test_train_refuses_a_name_in_use_and_leaves_the_running_jobs_checkpoint(tmp_path):
    from maya_tool.models import training

    ckpt = training.checkpoint_dir(tmp_path, "walk")
    ckpt.mkdir()
    (ckpt / "state.json").write_text("{}")
    proc = _holder(tmp_path)
    try:
        out = io.StringIO()
        spec = jobs.JobSpec(name="walk", inputs=[str(tmp_path / "x.npz")], output_dir=str(tmp_path))
        assert training.train(spec, stream=out, handle_signals=False) == jobs.EXIT_ERROR
        events = [json.loads(line) for line in out.getvalue().splitlines()]
        assert [e["event"] for e in events] == ["error"]
        assert "another job is training 'walk'" in events[0]["message"] and "job-A" in events[0]["message"]
        assert (ckpt / "state.json").read_text() == "{}"
    finally:
        proc.kill()
        proc.wait()


def test_a_job_removes_the_temp_files_a_killed_run_of_its_name_left(tmp_path):
    """SIGKILL skips clean-up: hidden temps of NAME's files stay until the next job on NAME, which removes them."""
    from types import SimpleNamespace

    import numpy as np

    from maya_tool.models import training

    left = [tmp_path / ".walk.keras.abcd_123.keras", tmp_path / ".walk.json.zzzzzzzz.json.tmp",
            tmp_path / ".walk.npz.0a1b2c3d.npz.tmp"]
    kept = [tmp_path / ".run.json.abcdefgh.json.tmp", tmp_path / ".walk.json.notes", tmp_path / "walk.json"]
    for path in left + kept:
        path.write_text("x")
    spec = jobs.JobSpec(name="walk", inputs=[str(tmp_path / "absent.npz")], output_dir=str(tmp_path))
    assert training.train(spec, stream=io.StringIO(), handle_signals=False) == jobs.EXIT_ERROR  # no data: fails after
    assert not any(p.exists() for p in left) and all(p.exists() for p in kept)

    class _Model:
        def save(self, path):
            path.write_bytes(b"keras")

        def get_weights(self):
            return [np.zeros(3, dtype=np.float32)]

    job = training.TrainingJob(spec, jobs.EventWriter("job-A", io.StringIO()))
    job.model, job.dataset, job.batches, job.normalisation = _Model(), SimpleNamespace(content_hash="h"), \
        SimpleNamespace(steps=4), None
    job.ckpt_dir.mkdir()
    stale = job.ckpt_dir / ".ckpt-60.keras.k3j4h5g6.keras"  # what the issue found after a killed job
    stale.write_bytes(b"half a model")
    job._save_checkpoint()
    assert sorted(p.name for p in job.ckpt_dir.iterdir()) == ["best-1.npz", "ckpt-1.keras", "state.json"]
