"""Retraining from the panel: start, progress, cancel, resume, a killed job, re-attaching.

The fast tests run a stand-in job process (a small script speaking the
``mocap-ae train`` event protocol and its checkpoint/resume rules, epochs of a
fraction of a second) so every path of the runner is exercised in seconds;
the ``slow`` tests run real tiny ``mocap-ae train`` jobs (TensorFlow, a few
seconds each): the whole retraining flow, and a SIGKILL that must leave the
previous model files byte-identical.
"""

from __future__ import annotations

import hashlib
import os
import signal
import stat
import sys
from pathlib import Path

from tests import ui_support

import numpy as np
import pytest

from maya_tool import jobs
from maya_tool.errors import MocapError
from maya_tool.evaluate import frame_errors
from maya_tool.io import write_clip
from maya_tool.jobs import JobStore
from maya_tool.models.modelfile import list_models
from maya_tool.models.runtime import load_model
from maya_tool.modes import compute_variant
from maya_tool.ui.host import StandaloneHost
from maya_tool.ui.jobrunner import JobRunner, can_resume, detect_training_python, make_spec
from maya_tool.ui.jobs_view import JobsView, default_job_name, format_eta
from maya_tool.ui import style
from maya_tool.ui.panel import Panel, create_panel
from maya_tool.ui.qt import QtGui, Qt
from maya_tool.ui.settings import Settings
from tests import synth

FAKE_JOB = '''\
#!{python}
"""Stand-in for `python -m maya_tool train --spec S --job J --events E [--resume]` with quick epochs.

Like the real job it saves `.NAME.checkpoint/state.json` (naming the job) after
each epoch and on SIGTERM, continues after the saved epoch with --resume, and
removes the checkpoint once the model is written.
"""
import json, os, shutil, signal, sys, time
sys.path.insert(0, {root!r})
from maya_tool.jobs import EventWriter

args = sys.argv[1:]
spec = json.load(open(args[args.index("--spec") + 1]))
job = args[args.index("--job") + 1]
writer = EventWriter(job, None, args[args.index("--events") + 1])
epochs = spec["epochs"]
delay = float(os.environ.get("FAKE_EPOCH_S", "0.15"))
ckpt = os.path.join(spec["output_dir"], "." + spec["name"] + ".checkpoint")
resume = "--resume" in args
first = 1
if resume:
    first = json.load(open(os.path.join(ckpt, "state.json")))["epoch"] + 1
state = {{"epoch": first - 1}}

def save():
    os.makedirs(ckpt, exist_ok=True)
    with open(os.path.join(ckpt, "state.tmp"), "w") as handle:
        json.dump({{"format": "mocap-ae.checkpoint", "job": job, "epoch": state["epoch"]}}, handle)
    os.replace(os.path.join(ckpt, "state.tmp"), os.path.join(ckpt, "state.json"))

def stop(signum, frame):
    save()
    writer.emit("checkpoint", epoch=state["epoch"], epochs=epochs, checkpoint=ckpt)
    writer.emit("cancelled", message="SIGTERM received: checkpoint saved")
    sys.exit(3)

signal.signal(signal.SIGTERM, stop)
writer.emit("start", epochs=epochs, resumed=resume)
for epoch in range(first, epochs + 1):
    for step in (1, 2):
        time.sleep(delay / 2)
        writer.emit("progress", epoch=epoch, epochs=epochs, step=step, steps=2, loss=1.0 / epoch,
                    eta_s=(epochs - epoch) * delay, elapsed_s=epoch * delay)
    print(f"epoch {{epoch}} finished", file=sys.stderr, flush=True)
    state["epoch"] = epoch
    save()
    writer.emit("epoch", epoch=epoch, epochs=epochs, loss=1.0 / epoch, val_loss=1.2 / epoch,
                eta_s=(epochs - epoch) * delay, elapsed_s=epoch * delay)
if os.environ.get("FAKE_FAIL"):
    print("ValueError: the data set is empty", file=sys.stderr, flush=True)
    writer.emit("error", message="the data set is empty")
    sys.exit(1)
from tests import synth, ui_support
model = ui_support.make_pca_model(spec["output_dir"], spec["name"], [synth.smooth_clip(120)], latent=20)
shutil.rmtree(ckpt, ignore_errors=True)
writer.emit("done", model=str(model), epoch=epochs, epochs=epochs)
'''

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _replace_models_without_asking(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests rerun jobs under one name on purpose: answer the name-clash question with Replace.

    The question itself (default: a new name) is driven through its dialog in test_ui_artist_jobs.py.
    """
    monkeypatch.setattr(JobsView, "_ask_about_clash", lambda self, name, reason, unique: "overwrite")


@pytest.fixture()
def fake_python(tmp_path: Path) -> str:
    """An executable that the runner uses as "the training Python"."""
    path = tmp_path / "fake-python"
    path.write_text(FAKE_JOB.format(python=sys.executable, root=str(REPO)))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def make_panel(qtbot, tmp_path: Path, python: str) -> Panel:  # type: ignore[no-untyped-def]
    panel = create_panel(
        StandaloneHost(),
        settings=Settings(tmp_path / "panel.ini"),
        job_store=JobStore(tmp_path / "jobs"),
        training_python=python,
    )
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.show()
    panel.tabs.setCurrentIndex(2)
    return panel


def fill_form(panel: Panel, clip_dir: Path, name: str, epochs: int, output: Path) -> None:
    view = panel.jobs_view
    view.inputs.clear()
    view.add_input(clip_dir)
    view.name.setText(name)
    view.epochs.setValue(epochs)
    view.output_dir.setText(str(output))


def wait_state(qtbot, runner: JobRunner, job_id: str, states: tuple[str, ...], timeout: int = 30000) -> jobs.JobRecord:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: runner.record(job_id).state in states, timeout=timeout)
    return runner.record(job_id)


def first_epoch(qtbot, runner: JobRunner, job_id: str, timeout: int = 60000) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(e["event"] == "epoch" for e in runner.events(job_id)), timeout=timeout)


def history_state(view: JobsView, job_id: str) -> str:
    """The State column of a job's row in the history list."""
    for i in range(view.history.topLevelItemCount()):
        item = view.history.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == job_id:
            return item.text(2)
    raise AssertionError(f"job {job_id} is not in the history")


def select_in_history(view: JobsView, job_id: str) -> None:
    for i in range(view.history.topLevelItemCount()):
        item = view.history.topLevelItem(i)
        if item.data(0, Qt.ItemDataRole.UserRole) == job_id:
            view.history.setCurrentItem(item)
            return
    raise AssertionError(f"job {job_id} is not in the history")


def epoch_events(runner: JobRunner, job_id: str) -> list[dict]:
    return [e for e in runner.events(job_id) if e["event"] == "epoch"]


def epochs_of_last_run(runner: JobRunner, job_id: str) -> list[dict]:
    """Epoch events after the last ``start``: a resumed job's file holds its earlier runs too."""
    events = runner.events(job_id)
    starts = [i for i, e in enumerate(events) if e["event"] == "start"]
    return [e for e in events[starts[-1]:] if e["event"] == "epoch"] if len(starts) > 1 else []


def test_form_helpers() -> None:
    assert default_job_name("temporal-high", "/x/07_01.bvh") == "temporal-high-07_01"
    assert format_eta(187) == "ETA 3:07" and format_eta(3725) == "ETA 1:02:05" and format_eta(None) == ""
    spec = make_spec("m", ["a.bvh"], "temporal-high", epochs=3, noise=0.05, sparsity=1e-6)
    assert spec.architecture == "temporal" and spec.params == {"high_ratio": True} and spec.sparsity is None
    assert make_spec("s", ["a.bvh"], "sparse", sparsity=1e-6).sparsity == 1e-6
    with pytest.raises(Exception, match="unknown preset"):
        make_spec("m", ["a.bvh"], "huge")
    assert detect_training_python("/opt/py") == "/opt/py"
    assert detect_training_python(None, maya=False) == sys.executable


def test_job_from_the_form_to_a_loaded_model(qtbot, tmp_path, fake_python) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(120)
    clip_path = tmp_path / "clips" / "walk.csv"
    write_clip(clip, clip_path)
    panel = make_panel(qtbot, tmp_path, fake_python)
    try:
        panel.open_clip(clip_path)
        qtbot.waitUntil(lambda: panel.controller.clip is not None, timeout=10000)
        view = panel.jobs_view
        qtbot.mouseClick(view.add_clip_button, Qt.MouseButton.LeftButton)
        assert view.input_paths() == [str(clip_path)]
        assert view.name.text() == f"{view.preset.currentText()}-walk" and view.preset.currentText() != "pose"
        view.preset.setCurrentText("temporal")
        assert view.name.text() == "temporal-walk" and not view.sparsity.isEnabled()
        view.preset.setCurrentText("sparse")
        assert view.sparsity.isEnabled()
        view.sparsity.setText("1e-6")
        view.epochs.setValue(4)
        view.noise.setValue(0.05)
        view.output_dir.setText(str(tmp_path / "models"))
        qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
        records = panel.runner.records()
        assert len(records) == 1
        record = records[0]
        assert record.spec.architecture == "sparse" and record.spec.sparsity == 1e-6 and record.spec.noise == 0.05
        qtbot.waitUntil(lambda: view.progress.value() > 0, timeout=20000)
        record = wait_state(qtbot, panel.runner, record.id, ("done",))
        assert panel.runner.record(record.id).pid is None
        epochs = [e for e in panel.runner.events(record.id) if e["event"] == "epoch"]
        train, val = view.loss_data()
        np.testing.assert_allclose(train, [e["loss"] for e in epochs])
        np.testing.assert_allclose(val, [e["val_loss"] for e in epochs])
        assert view.progress.value() == 100
        assert view.history.topLevelItem(0).text(2) == "done"
        assert "finished" in panel.status.text()
        names = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
        assert any(n.startswith("sparse-walk") for n in names), "a finished job's model is registered in the list"
        assert view.load_button.isEnabled()
        qtbot.mouseClick(view.load_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.controller.model is not None, timeout=10000)
        assert panel.controller.model.name == "sparse-walk"
        qtbot.waitUntil(lambda: not panel.controller.busy, timeout=10000)
    finally:
        panel.shutdown()


def test_cancel_a_running_job(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.3")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    panel = make_panel(qtbot, tmp_path, fake_python)
    try:
        fill_form(panel, tmp_path / "clips", "long", 200, tmp_path / "models")
        record = panel.jobs_view.start_job()
        first_epoch(qtbot, panel.runner, record.id)
        assert panel.jobs_view.cancel_button.isEnabled()
        ui_support.ARTIFACTS.mkdir(exist_ok=True)
        shot = ui_support.ARTIFACTS / "panel-job-running-fake.png"
        assert panel.grab().save(str(shot)) and ui_support.distinct_colours(shot) > 20
        qtbot.mouseClick(panel.jobs_view.cancel_button, Qt.MouseButton.LeftButton)
        record = wait_state(qtbot, panel.runner, record.id, ("cancelled",))
        assert "checkpoint" in (record.message or "")
        assert "cancelled" in panel.status.text()
        assert not (tmp_path / "models" / "long.json").exists()
    finally:
        panel.shutdown()


def test_resume_a_cancelled_job_from_the_history(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.3")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    models = tmp_path / "models"
    panel = make_panel(qtbot, tmp_path, fake_python)
    try:
        view = panel.jobs_view
        fill_form(panel, tmp_path / "clips", "resumable", 6, models)
        record = view.start_job()
        first_epoch(qtbot, panel.runner, record.id)
        assert view.resume_button.toolTip() and not view.resume_button.isEnabled(), "nothing to resume while it runs"
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        record = wait_state(qtbot, panel.runner, record.id, ("cancelled",))
        assert view.resume_button.isEnabled()
        stopped = [e["epoch"] for e in epoch_events(panel.runner, record.id)]
        assert 1 <= len(stopped) < 6

        fill_form(panel, tmp_path / "clips", "other", 2, models)
        other = view.start_job()
        assert not view.resume_button.isEnabled()
        select_in_history(view, record.id)
        assert view.job_title.text().startswith("resumable") and view.resume_button.isEnabled()
        view.resume_button.setFocus()
        qtbot.keyClick(view.resume_button, Qt.Key.Key_Return)  # keyboard: Enter on the focused button
        assert panel.runner.queued() == [record.id], "one job at a time: the resumed one waits"
        assert history_state(view, record.id) == "queued" and "resume from its checkpoint" in panel.status.text()
        assert not view.resume_button.isEnabled() and view.cancel_button.isEnabled()
        wait_state(qtbot, panel.runner, other.id, ("done",))
        qtbot.waitUntil(lambda: history_state(view, record.id) == "running", timeout=10000)
        record = wait_state(qtbot, panel.runner, record.id, ("done",))

        events = panel.runner.events(record.id)
        starts = [e for e in events if e["event"] == "start"]
        assert [s.get("resumed") for s in starts] == [False, True]
        other_done = next(e for e in panel.runner.events(other.id) if e["event"] == "done")
        assert starts[1]["time"] >= other_done["time"]
        epochs = epoch_events(panel.runner, record.id)
        assert [e["epoch"] for e in epochs] == list(range(1, 7)), "the resumed run goes on after the saved epoch"
        select_in_history(view, record.id)
        train, val = view.loss_data()
        np.testing.assert_allclose(train, [e["loss"] for e in epochs])
        np.testing.assert_allclose(val, [e["val_loss"] for e in epochs])
        np.testing.assert_array_equal(view.loss_curve.xData, np.arange(1, 7))
        assert history_state(view, record.id) == "done" and "resumed" in view.job_title.text()
        assert view.progress.value() == 100 and view.load_button.isEnabled() and not view.resume_button.isEnabled()
        assert Path(record.model).is_file() and not (models / ".resumable.checkpoint").exists()
    finally:
        panel.shutdown()


def test_a_resumed_run_that_dies_fails_and_can_resume_again(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.15")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    clips, models = str(tmp_path / "clips"), str(tmp_path / "models")
    runner = JobRunner(JobStore(tmp_path / "jobs"), fake_python)
    try:
        record = runner.submit(make_spec("phoenix", [clips], epochs=10, output_dir=models))
        waiting = runner.submit(make_spec("later", [clips], epochs=2, output_dir=models))
        runner.cancel(waiting.id)
        assert runner.record(waiting.id).message == "cancelled before it started"
        assert can_resume(runner.record(waiting.id))
        first_epoch(qtbot, runner, record.id)
        with pytest.raises(MocapError, match="already running"):
            runner.resume(record.id)
        runner.cancel(record.id)
        wait_state(qtbot, runner, record.id, ("cancelled",))
        assert runner.resume(record.id).state == "running"
        assert jobs.JobSpec.load(record.spec_path).resume, "the job runs with --resume from now on"
        qtbot.waitUntil(lambda: len(epochs_of_last_run(runner, record.id)) >= 1, timeout=20000)
        os.kill(runner.record(record.id).pid, signal.SIGKILL)
        killed = wait_state(qtbot, runner, record.id, ("failed", "cancelled"))
        assert killed.state == "failed", "the earlier run's 'cancelled' must not be taken for this run's end"
        assert "without a final event" in (killed.message or "")
        assert can_resume(killed), "it saved a checkpoint after each epoch"
        impostor = runner.store.create(make_spec("phoenix", [clips], epochs=3, output_dir=models))
        impostor.state = "failed"
        runner.store.update(impostor)
        assert not can_resume(impostor), "the checkpoint under this name belongs to another job"
        impostor.state = "cancelled"
        runner.store.update(impostor)
        with pytest.raises(MocapError, match="replaced by job"):
            runner.resume(impostor.id)  # running it from the start would delete phoenix's checkpoint
        runner.resume(record.id)
        done = wait_state(qtbot, runner, record.id, ("done", "failed"))
        assert done.state == "done", runner.log_tail(record.id)
        numbers = [e["epoch"] for e in epoch_events(runner, record.id)]
        assert numbers[-1] == 10 and numbers == sorted(set(numbers))
        with pytest.raises(MocapError, match="cannot be resumed"):
            runner.resume(record.id)
        assert not runner.record(waiting.id).spec.resume
        runner.resume(waiting.id)  # cancelled before it ran: no checkpoint, so it starts from the beginning
        assert not runner.record(waiting.id).spec.resume
        assert wait_state(qtbot, runner, waiting.id, ("done", "failed")).state == "done"
        assert [e["epoch"] for e in epoch_events(runner, waiting.id)] == [1, 2]
    finally:
        runner.close()


def test_a_killed_job_fails_and_keeps_the_current_model(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.3")
    clip = synth.smooth_clip(60)
    write_clip(clip, tmp_path / "clips" / "a.csv")
    current = load_model(ui_support.make_pca_model(tmp_path / "models", "current", [clip], latent=10))
    panel = make_panel(qtbot, tmp_path, fake_python)
    try:
        panel.controller.set_clip(clip)
        panel.controller.set_model(current)
        fill_form(panel, tmp_path / "clips", "current", 200, tmp_path / "models")
        record = panel.jobs_view.start_job()
        first_epoch(qtbot, panel.runner, record.id)
        os.kill(panel.runner.record(record.id).pid, signal.SIGKILL)
        record = wait_state(qtbot, panel.runner, record.id, ("failed",))
        assert "without a final event" in (record.message or "")
        assert "epoch 1 finished" in panel.jobs_view.log.toPlainText()
        assert panel.status.property("level") == "error" and "failed" in panel.status.text()
        assert panel.controller.model is current
        assert load_model(tmp_path / "models" / "current.json").meta["weights"] == current.meta["weights"]
        qtbot.waitUntil(lambda: not panel.controller.busy, timeout=10000)
    finally:
        panel.shutdown()


def test_a_failing_job_shows_its_last_log_lines(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_FAIL", "1")
    monkeypatch.setenv("FAKE_EPOCH_S", "0.05")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    panel = make_panel(qtbot, tmp_path, fake_python)
    try:
        fill_form(panel, tmp_path / "clips", "broken", 2, tmp_path / "models")
        record = wait_state(qtbot, panel.runner, panel.jobs_view.start_job().id, ("failed",))
        assert record.message == "the data set is empty"
        assert "ValueError: the data set is empty" in panel.jobs_view.log.toPlainText()
        assert "the data set is empty" in panel.status.text()
    finally:
        panel.shutdown()


def test_reattach_after_the_panel_is_recreated(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.25")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    first = make_panel(qtbot, tmp_path, fake_python)
    fill_form(first, tmp_path / "clips", "survivor", 8, tmp_path / "models")
    record = first.jobs_view.start_job()
    first_epoch(qtbot, first.runner, record.id)
    first.close()
    assert jobs.is_alive(JobStore(tmp_path / "jobs").get(record.id).pid), "closing the panel must not stop the job"
    second = make_panel(qtbot, tmp_path, fake_python)
    try:
        assert [r.id for r in second.runner.running()] == [record.id]
        assert second.jobs_view.job_title.text().startswith("survivor")
        done = wait_state(qtbot, second.runner, record.id, ("done",))
        assert done.model and Path(done.model).is_file()
        train, _ = second.jobs_view.loss_data()
        assert len(train) == 8, "epochs written before re-attaching are read from the events file"
    finally:
        second.shutdown()
    third = make_panel(qtbot, tmp_path, fake_python)
    try:
        assert third.runner.running() == []
        assert third.jobs_view.history.topLevelItem(0).text(2) == "done"
    finally:
        third.shutdown()


def test_jobs_queue_one_at_a_time(qtbot, tmp_path, fake_python, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FAKE_EPOCH_S", "0.1")
    write_clip(synth.smooth_clip(60), tmp_path / "clips" / "a.csv")
    runner = JobRunner(JobStore(tmp_path / "jobs"), fake_python)
    try:
        spec_a = make_spec("first", [str(tmp_path / "clips")], epochs=3, output_dir=str(tmp_path / "models"))
        spec_b = make_spec("second", [str(tmp_path / "clips")], epochs=2, output_dir=str(tmp_path / "models"))
        a, b = runner.submit(spec_a), runner.submit(spec_b)
        assert [r.id for r in runner.running()] == [a.id] and runner.queued() == [b.id]
        wait_state(qtbot, runner, a.id, ("done",))
        wait_state(qtbot, runner, b.id, ("done",))
        first_b = next(e for e in runner.events(b.id) if e["event"] == "start")
        last_a = next(e for e in runner.events(a.id) if e["event"] == "done")
        assert first_b["time"] >= last_a["time"]
    finally:
        runner.close()


def test_a_missing_training_python_fails_the_job_cleanly(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(JobStore(tmp_path / "jobs"), str(tmp_path / "no-such-python"))
    messages: list[str] = []
    runner.message.connect(lambda text, level: messages.append(text))
    try:
        record = runner.submit(make_spec("x", ["a.bvh"], epochs=1))
        assert runner.record(record.id).state == "failed"
        assert any("Training Python" in m for m in messages)
    finally:
        runner.close()


# --------------------------------------------------------------- real jobs
def _tiny_real_clips(folder: Path) -> Path:
    for seed in (0, 1):
        write_clip(synth.smooth_clip(360, seed=seed), folder / f"clip{seed}.csv")
    return folder


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_real_retraining_flow(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Start, progress drawn, cancel, resume, finish, load the new model: the error curves follow it."""
    clips = _tiny_real_clips(tmp_path / "clips")
    clip = synth.smooth_clip(360)
    models = tmp_path / "models"
    previous = load_model(ui_support.make_pca_model(tmp_path / "before", "before", [clip], latent=12))
    style.apply_dark_theme(QtGui.QGuiApplication.instance())  # what `mocap-ae panel` looks like
    panel = make_panel(qtbot, tmp_path, sys.executable)
    try:
        view, runner = panel.jobs_view, panel.runner
        panel.controller.set_clip(clip, path=str(clips / "clip0.csv"))
        panel.controller.set_model(previous)
        panel.mode_combo.setCurrentText("encoded")
        fill_form(panel, clips, "retrained", 15, models)
        view.batch_size.setValue(4)  # ~90 steps an epoch: long enough to cancel the job mid-run
        qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
        (record,) = runner.records()
        assert record.spec.batch_size == 4

        def drawn() -> bool:
            count = len(epoch_events(runner, record.id))
            return count >= 2 and len(view.loss_data()[0]) == count

        qtbot.waitUntil(drawn, timeout=120000)
        epochs = epoch_events(runner, record.id)
        train, val = view.loss_data()
        np.testing.assert_allclose(train, [e["loss"] for e in epochs])
        np.testing.assert_allclose(val, [e["val_loss"] for e in epochs])
        np.testing.assert_array_equal(view.loss_curve.xData, [e["epoch"] for e in epochs])
        assert view.progress.value() > 0 and history_state(view, record.id) == "running"
        ui_support.ARTIFACTS.mkdir(exist_ok=True)
        QtGui.QGuiApplication.processEvents()
        shot = ui_support.ARTIFACTS / "panel-job-running.png"
        assert panel.grab().save(str(shot)) and ui_support.distinct_colours(shot) > 20

        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        record = wait_state(qtbot, runner, record.id, ("cancelled", "failed", "done"), timeout=60000)
        assert record.state == "cancelled", runner.log_tail(record.id)
        assert "checkpoint" in (record.message or "") and history_state(view, record.id) == "cancelled"
        stopped = epoch_events(runner, record.id)
        assert len(stopped) < 15 and not (models / "retrained.json").exists()
        qtbot.waitUntil(lambda: not panel.controller.busy, timeout=20000)
        qtbot.mouseClick(panel.error_view.all_button, Qt.MouseButton.LeftButton)  # every curve, not the worst 5
        before = {name: item.yData.copy() for name, item in panel.error_view.curve_items().items()}
        expected = frame_errors(clip, compute_variant(clip, "encoded", model=previous))
        for j, name in enumerate(expected.joint_names):
            np.testing.assert_allclose(before[name], expected.angle_deg[:, j], atol=1e-6)

        assert view.resume_button.isEnabled()
        qtbot.mouseClick(view.resume_button, Qt.MouseButton.LeftButton)
        assert history_state(view, record.id) == "running", "the same job goes on"
        record = wait_state(qtbot, runner, record.id, ("done", "failed", "cancelled"), timeout=120000)
        assert record.state == "done", runner.log_tail(record.id)
        assert history_state(view, record.id) == "done" and len(runner.records()) == 1
        events = runner.events(record.id)
        assert [e.get("resumed") for e in events if e["event"] == "start"] == [False, True]
        epochs = epoch_events(runner, record.id)
        assert [e["epoch"] for e in epochs] == list(range(1, len(epochs) + 1)) and len(epochs) > len(stopped)
        train, _ = view.loss_data()
        np.testing.assert_allclose(train, [e["loss"] for e in epochs])

        qtbot.mouseClick(view.load_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.controller.model is not previous, timeout=20000)
        assert panel.controller.model.name == "retrained"

        def replotted() -> bool:
            curves = panel.error_view.curve_items()
            return not panel.controller.busy and any(
                not np.array_equal(curves[name].yData, before[name]) for name in before
            )

        qtbot.waitUntil(replotted, timeout=20000)
        expected = frame_errors(clip, compute_variant(clip, "encoded", model=load_model(models / "retrained.json")))
        curves = panel.error_view.curve_items()
        for j, name in enumerate(expected.joint_names):
            np.testing.assert_allclose(curves[name].yData, expected.angle_deg[:, j], atol=1e-6)
        assert not np.allclose(expected.angle_deg.mean(axis=0), [before[n].mean() for n in expected.joint_names])
    finally:
        panel.shutdown()


@pytest.mark.slow
def test_real_job_killed_leaves_the_previous_model_files_byte_identical(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clips = _tiny_real_clips(tmp_path / "clips")
    models = tmp_path / "models"
    panel = make_panel(qtbot, tmp_path, sys.executable)
    try:
        view, runner = panel.jobs_view, panel.runner
        fill_form(panel, clips, "keeper", 2, models)
        first = wait_state(qtbot, runner, view.start_job().id, ("done", "failed"), timeout=120000)
        assert first.state == "done", runner.log_tail(first.id)
        files = [models / f"keeper{ext}" for ext in (".json", ".npz", ".keras")]
        digests = [_sha256(f) for f in files]
        previous = load_model(models / "keeper.json")
        panel.controller.set_clip(synth.smooth_clip(360))
        panel.controller.set_model(previous)

        fill_form(panel, clips, "keeper", 500, models)
        view.batch_size.setValue(4)
        second = view.start_job()
        first_epoch(qtbot, runner, second.id, timeout=120000)
        os.kill(runner.record(second.id).pid, signal.SIGKILL)
        second = wait_state(qtbot, runner, second.id, ("failed", "done", "cancelled"), timeout=30000)
        assert second.state == "failed" and "without a final event" in (second.message or "")
        assert history_state(view, second.id) == "failed" and history_state(view, first.id) == "done"
        assert panel.status.property("level") == "error" and "failed" in panel.status.text()
        assert [_sha256(f) for f in files] == digests, "the killed job must not touch the previous model's files"
        reloaded = load_model(models / "keeper.json")
        assert reloaded.meta["weights"] == previous.meta["weights"]
        assert reloaded.meta["created"] == previous.meta["created"]
        assert [m.name for m in list_models([models])] == ["keeper"]
        assert panel.controller.model is previous
        qtbot.waitUntil(lambda: not panel.controller.busy, timeout=20000)
    finally:
        panel.shutdown()
