"""The panel follows a training job on a real Ray cluster like a local one: progress, re-attach, cancel, resume.

Needs the Ray head of ``tests/test_cluster.py`` (``MOCAP_AE_RAY_ADDRESS``);
the job is a real tiny ``mocap-ae train`` run through the Jobs API.
"""

from __future__ import annotations

from pathlib import Path

from tests import ui_support  # noqa: F401  (Qt offscreen before anything loads Qt)

import pytest

from maya_tool.jobs import JobStore
from maya_tool.models.runtime import load_model
from maya_tool.ui import jobrunner
from maya_tool.ui.host import StandaloneHost
from maya_tool.ui.panel import Panel, create_panel
from maya_tool.ui.settings import Settings
from tests.test_cluster import ray_cluster, train_data  # noqa: F401  (fixtures)


def _panel(qtbot, tmp_path: Path) -> Panel:  # type: ignore[no-untyped-def]
    panel = create_panel(StandaloneHost(), settings=Settings(tmp_path / "panel.ini"),
                         job_store=JobStore(tmp_path / "jobs"))
    qtbot.addWidget(panel)
    panel.show()
    panel.tabs.setCurrentIndex(2)
    return panel


def _events(panel: Panel, job_id: str, kind: str) -> list[dict]:
    return [e for e in panel.runner.events(job_id) if e["event"] == kind]


@pytest.mark.slow
@pytest.mark.qt
def test_a_cluster_job_in_the_panel_reattaches_cancels_and_resumes(qtbot, tmp_path, ray_cluster,  # noqa: F811
                                                                   train_data, monkeypatch) -> None:  # noqa: F811
    # No early stopping: the job must still be running when the second panel opens and cancels it.
    monkeypatch.setitem(jobrunner.PRESETS, "pose", ("pose", {"early_stopping": False}))
    first = _panel(qtbot, tmp_path)
    view = first.jobs_view
    view.where.setCurrentIndex(1)
    view.ray_address.setText(ray_cluster["dashboard"])
    view._where_changed()
    view.inputs.clear()
    view.add_input(train_data)
    view.preset.setCurrentText("pose")
    view.name.setText("on-ray")
    view.epochs.setValue(40)  # long enough to be still running when the second panel opens, on any machine
    view.batch_size.setValue(1)
    view.output_dir.setText(str(tmp_path / "models"))
    record = view.start_job()
    assert record is not None and record.ray_address == ray_cluster["dashboard"]
    qtbot.waitUntil(lambda: bool(_events(first, record.id, "progress")), timeout=120000)
    assert JobStore(tmp_path / "jobs").get(record.id).ray_job, "the Ray job id is in the record"
    qtbot.waitUntil(lambda: view.eta.text().startswith("ETA") and "/40" in view.progress.format(), timeout=30000)
    first.close()
    first.shutdown()

    second = _panel(qtbot, tmp_path)  # a panel opened later (Maya restarted): the where-choice is remembered
    try:
        assert second.jobs_view.where.currentIndex() == 1
        assert second.jobs_view.ray_address.text() == ray_cluster["dashboard"]
        assert [r.id for r in second.runner.running()] == [record.id]
        seen = len(_events(second, record.id, "progress"))
        qtbot.waitUntil(lambda: len(_events(second, record.id, "progress")) > seen, timeout=60000)
        second.jobs_view.show_job(record.id)
        second.jobs_view.cancel_shown()
        qtbot.waitUntil(lambda: second.runner.record(record.id).state in ("cancelled", "done", "failed"), timeout=90000)
        cancelled = second.runner.record(record.id)
        assert cancelled.state == "cancelled", (cancelled.state, cancelled.message, _events(second, record.id, "epoch")[-1:])
        assert "checkpoint" in (cancelled.message or "") and not (tmp_path / "models" / "on-ray.json").exists()

        second.jobs_view.show_job(record.id)
        assert second.jobs_view.resume_shown() is not None, second.status.text()
        qtbot.waitUntil(lambda: second.runner.record(record.id).state in ("done", "failed"), timeout=180000)
        done = second.runner.record(record.id)
        assert done.state == "done", done.message
        assert done.model == str(tmp_path / "models" / "on-ray.json")
        assert load_model(done.model, cache=False).meta["training"]["resumed"] == 1
        train, _ = second.jobs_view.loss_data()
        assert len(train) >= 3, "every epoch of both runs is on the loss curve"
    finally:
        second.shutdown()
