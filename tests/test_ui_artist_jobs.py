"""The Jobs tab as artists meet it (issue 11 items 2-4 and 10): safe names, the right job cancelled, fresh labels."""

from __future__ import annotations

from pathlib import Path

from tests import ui_support

import pytest

from maya_tool.io import write_clip
from maya_tool.ui.panel import Panel
from maya_tool.ui.qt import QtCore, QtWidgets, Qt
from tests import synth
from tests.test_ui_artist import make_panel
from tests.test_ui_jobs import fake_python, select_in_history, wait_state  # noqa: F401  (fixture)


def answer_dialog(qtbot, act):  # type: ignore[no-untyped-def]
    """When the next modal box opens, note its text and let ``act(box)`` answer it as the artist would."""
    seen: dict[str, str] = {}

    def poll() -> None:
        box = QtWidgets.QApplication.activeModalWidget()
        if not isinstance(box, QtWidgets.QMessageBox):
            QtCore.QTimer.singleShot(20, poll)
            return
        seen["text"] = f"{box.text()} {box.informativeText()}"
        act(box)

    QtCore.QTimer.singleShot(0, poll)
    return seen


def press_enter(qtbot):  # type: ignore[no-untyped-def]
    return lambda box: qtbot.keyClick(box, Qt.Key.Key_Return)


def click_button(qtbot, prefix: str):  # type: ignore[no-untyped-def]
    def act(box: QtWidgets.QMessageBox) -> None:
        button = next(b for b in box.buttons() if b.text().startswith(prefix))
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    return act


def start(qtbot, panel: Panel) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(panel.jobs_view.start_button, Qt.MouseButton.LeftButton)


def form(panel: Panel, clips: Path, name: str, epochs: int, out: Path) -> None:
    view = panel.jobs_view
    view.inputs.clear()
    view.add_input(clips)
    view.name.setText(name)
    view.epochs.setValue(epochs)
    view.output_dir.setText(str(out))


@pytest.fixture()
def clips(tmp_path: Path) -> Path:
    folder = tmp_path / "clips"
    write_clip(synth.smooth_clip(120), folder / "walk.csv")
    return folder


def test_retraining_never_replaces_a_model_without_asking(qtbot, tmp_path, fake_python, clips) -> None:  # type: ignore[no-untyped-def]
    """Item 2: a taken name asks (default: a new name), Start twice asks, a replaced model in use is reloaded."""
    out = tmp_path / "models"
    clip = synth.smooth_clip(120)
    model_path = ui_support.make_pca_model(out, "walk", [clip], latent=12)
    original = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    panel = make_panel(qtbot, tmp_path, python=fake_python)
    try:
        panel.controller.set_clip(clip)
        panel.controller.load_model(model_path)
        qtbot.waitUntil(lambda: "ratio 10:1" in panel.model_info.text(), timeout=10000)
        panel.tabs.setCurrentIndex(2)
        view = panel.jobs_view
        form(panel, clips, "walk", 2, out)

        seen = answer_dialog(qtbot, press_enter(qtbot))
        start(qtbot, panel)
        assert "already exists" in seen["text"] and "model in use" in seen["text"]
        first = view.selected_record()
        assert first is not None and first.spec.name == "walk-2" and view.name.text() == "walk-2"

        seen = answer_dialog(qtbot, press_enter(qtbot))
        start(qtbot, panel)  # pressed again at once: the queued or running walk-2 is named
        assert "walk-2 is already" in seen["text"]
        second = view.selected_record()
        assert second is not None and second.spec.name == "walk-3"
        for record in (first, second):
            wait_state(qtbot, panel.runner, record.id, ("done",))
        assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and p.stem == "walk"} == original
        models = [panel.runner.record(r.id).model for r in (first, second)]
        assert len(set(models)) == 2 and all(Path(m).stem in ("walk-2", "walk-3") for m in models)

        seen = answer_dialog(qtbot, click_button(qtbot, "Cancel"))
        view.name.setText("walk")
        start(qtbot, panel)
        assert view.selected_record().id == second.id, "cancelled: no job queued"

        view.name.setText("walk")
        seen = answer_dialog(qtbot, click_button(qtbot, "Replace"))
        start(qtbot, panel)
        third = view.selected_record()
        assert third.spec.name == "walk"
        wait_state(qtbot, panel.runner, third.id, ("done",))
        # The model in use was rewritten (20 components now): the Model box and the results follow.
        qtbot.waitUntil(lambda: "ratio 6:1" in panel.model_info.text(), timeout=10000)
        qtbot.waitUntil(lambda: panel.controller.model is not None and panel.controller.model.meta["ratio"] == 6.0,
                        timeout=10000)
    finally:
        panel.shutdown()


def test_cancel_names_the_job_it_stops_and_stops_that_one(qtbot, tmp_path, fake_python, clips, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Item 3: after Start the view stays on the new job, and Cancel stops it, not the running one."""
    monkeypatch.setenv("FAKE_EPOCH_S", "0.4")
    panel = make_panel(qtbot, tmp_path, python=fake_python)
    try:
        panel.tabs.setCurrentIndex(2)
        view = panel.jobs_view
        form(panel, clips, "long", 30, tmp_path / "models")
        start(qtbot, panel)
        running = view.selected_record()
        wait_state(qtbot, panel.runner, running.id, ("running",))
        qtbot.waitUntil(lambda: any(e["event"] == "progress" for e in panel.runner.events(running.id)), timeout=20000)
        view.name.setText("second")
        start(qtbot, panel)
        queued = view.selected_record()
        assert queued.spec.name == "second" and queued.state == "queued"
        qtbot.wait(1200)  # the running job reports several times meanwhile
        assert view.selected_record().id == queued.id
        assert view.cancel_button.text() == "Cancel second"
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        assert panel.runner.record(queued.id).state == "cancelled"
        assert panel.runner.record(running.id).state == "running"
        select_in_history(view, running.id)
        assert view.cancel_button.text() == "Cancel long"
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        wait_state(qtbot, panel.runner, running.id, ("cancelled",))
    finally:
        panel.shutdown()


def test_job_labels_belong_to_the_job_shown(qtbot, tmp_path, fake_python, clips, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Item 4 (jobs) and 10: a new job shows its own axes and a starting message; a failed one says so."""
    panel = make_panel(qtbot, tmp_path, python=fake_python)
    try:
        panel.tabs.setCurrentIndex(2)
        view = panel.jobs_view
        assert "No job yet" in view.loss_empty.toPlainText()
        form(panel, clips, "short", 3, tmp_path / "models")
        start(qtbot, panel)
        short = view.selected_record()
        wait_state(qtbot, panel.runner, short.id, ("done",))
        qtbot.waitUntil(lambda: view.progress.text().startswith("done"), timeout=5000)
        assert len(view.loss_data()[0]) == 3

        monkeypatch.setenv("FAKE_EPOCH_S", "3")
        form(panel, clips, "long", 40, tmp_path / "models")
        start(qtbot, panel)
        long = view.selected_record()
        assert "3/3" not in view.progress.text() and "%" not in view.progress.format()
        assert len(view.loss_data()[0]) == 0
        x_low, x_high = view.loss_plot.getPlotItem().getViewBox().viewRange()[0]
        assert x_high >= 40 and x_low < 1, "the new job's own epochs on the axis, not the last job's"
        assert "No epoch finished yet" in view.loss_empty.toPlainText()
        wait_state(qtbot, panel.runner, long.id, ("running",))
        assert "loading" in view.progress.format() or "epoch 1/40" in view.progress.text()
        qtbot.waitUntil(lambda: any(e["event"] == "start" for e in panel.runner.events(long.id)), timeout=20000)
        assert "error" in view.loss_plot.getPlotItem().getAxis("left").labelText.lower()
        qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
        wait_state(qtbot, panel.runner, long.id, ("cancelled", "failed"))
        qtbot.waitUntil(lambda: "cancelled" in view.progress.text(), timeout=5000)
        assert "40/40" not in view.progress.text()

        monkeypatch.setenv("FAKE_EPOCH_S", "0.1")
        monkeypatch.setenv("FAKE_FAIL", "1")
        form(panel, clips, "broken", 2, tmp_path / "models")
        start(qtbot, panel)
        broken = view.selected_record()
        wait_state(qtbot, panel.runner, broken.id, ("failed",))
        qtbot.waitUntil(lambda: view.progress.text().startswith("failed"), timeout=5000)
    finally:
        panel.shutdown()


def test_training_form_remembers_and_explains(qtbot, tmp_path, fake_python) -> None:  # type: ignore[no-untyped-def]
    """Item 10: best architecture by default, settings remembered, Start with nothing says why under Start."""
    from maya_tool.models.modelfile import ARCHITECTURES

    panel = make_panel(qtbot, tmp_path, python=fake_python)
    try:
        panel.tabs.setCurrentIndex(2)
        view = panel.jobs_view
        best = "denoiser" if "denoiser" in ARCHITECTURES else "temporal"
        assert view.preset.currentText() == best
        start(qtbot, panel)
        assert "nothing to train on" in view.form_message.text() and view.form_message.isVisible()
        assert view.selected_record() is None
        view.preset.setCurrentText("temporal-high")
        view.epochs.setValue(17)
        view.noise.setValue(0.03)
    finally:
        panel.shutdown()
    again = make_panel(qtbot, tmp_path, python=fake_python)
    try:
        view = again.jobs_view
        assert (view.preset.currentText(), view.epochs.value(), abs(view.noise.value() - 0.03) < 1e-9) == (
            "temporal-high", 17, True)
        axis = view.loss_plot.getPlotItem().getAxis("bottom")
        ticks = axis.tickValues(0.5, 3.5, 300)
        assert ticks and all(float(v).is_integer() for _, values in ticks for v in values)
        assert [name for _, name in [(i, l.text) for i, l in view.legend.items]] == []
    finally:
        again.shutdown()
