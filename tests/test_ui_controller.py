"""The panel's controller, host protocol, workers and settings, without widgets."""

from __future__ import annotations

import time

from tests import ui_support  # noqa: F401  (sets QT_QPA_PLATFORM before Qt loads)

import numpy as np
import pytest

from maya_tool import noise
from maya_tool.errors import MocapError
from maya_tool.evaluate import frame_errors
from maya_tool.models.runtime import load_model
from maya_tool.modes import compute_variant
from maya_tool.ui.controller import Controller, error_text
from maya_tool.ui.host import ATTRIBUTES, Host, StandaloneHost, coerce_attribute
from maya_tool.ui.settings import MAX_RECENT, Settings
from maya_tool.ui.workers import TaskRunner
from tests import synth


@pytest.fixture()
def host() -> StandaloneHost:
    return StandaloneHost()


@pytest.fixture()
def controller(qtbot, host):  # type: ignore[no-untyped-def]
    ctrl = Controller(host)
    yield ctrl
    ctrl.close()


def wait_idle(qtbot, controller: Controller) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not controller.busy, timeout=20000)


def test_standalone_host_implements_the_protocol(host: StandaloneHost) -> None:
    assert isinstance(host, Host)
    assert set(ATTRIBUTES) == {"clip", "model", "mode", "encode", "noise", "compare"}


def test_coerce_attribute_accepts_node_values_and_refuses_bad_ones() -> None:
    assert coerce_attribute("mode", 3) == "denoised"
    assert coerce_attribute("mode", "noisy") == "noisy"
    assert coerce_attribute("encode", 1) is True
    assert coerce_attribute("noise", "0.25") == 0.25
    assert coerce_attribute("model", None) == ""
    for name, value in (("mode", "blurry"), ("noise", -1), ("colour", 1)):
        with pytest.raises(ValueError):
            coerce_attribute(name, value)


def test_evaluation_is_the_evaluation_modules_numbers(qtbot, controller: Controller) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(300)
    controller.set_clip(clip)
    controller.set_noise(0.03)
    controller.set_mode("noisy")
    wait_idle(qtbot, controller)
    evaluation = controller.evaluation
    assert evaluation is not None and evaluation.mode == "noisy"
    expected = frame_errors(clip, compute_variant(clip, "noisy", sigma=0.03))
    np.testing.assert_array_equal(evaluation.curves("angle"), expected.angle_deg)
    np.testing.assert_array_equal(evaluation.curves("position"), expected.position_cm)
    np.testing.assert_allclose(evaluation.means("angle"), expected.angle_deg.mean(axis=0))
    assert evaluation.joint_names == list(clip.skeleton.names[1:])


def test_model_modes_use_the_model(qtbot, controller: Controller, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(200)
    model = load_model(ui_support.make_pca_model(tmp_path, "pca", [clip], latent=12))
    controller.set_clip(clip)
    controller.set_model(model)
    controller.set_mode("denoised")
    wait_idle(qtbot, controller)
    expected = frame_errors(clip, compute_variant(clip, "denoised", model=model, sigma=controller.noise))
    np.testing.assert_array_equal(controller.evaluation.curves("angle"), expected.angle_deg)
    assert controller.evaluation.summary()["mean_angle_deg"] > 0


def test_a_mode_without_its_model_is_a_status_message(qtbot, controller: Controller) -> None:  # type: ignore[no-untyped-def]
    messages: list[tuple[str, str]] = []
    controller.message.connect(lambda text, level: messages.append((text, level)))
    controller.set_clip(synth.smooth_clip(50))
    controller.set_mode("encoded")
    wait_idle(qtbot, controller)
    assert controller.evaluation is None
    assert any(level == "error" and "needs a model" in text for text, level in messages)


def test_model_for_other_joints_is_reported_by_name(qtbot, controller: Controller, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(60)
    skeleton = synth.cmu_like_skeleton()
    skeleton.names[5] = "Tail"
    other = synth.smooth_clip(60, skeleton=skeleton)
    model = load_model(ui_support.make_pca_model(tmp_path, "other", [other], latent=8))
    messages: list[tuple[str, str]] = []
    controller.message.connect(lambda text, level: messages.append((text, level)))
    controller.set_clip(clip)
    controller.set_model(model)
    controller.set_mode("encoded")
    wait_idle(qtbot, controller)
    assert controller.evaluation is None
    assert any("Tail" in text for text, level in messages if level in ("warning", "error"))


def test_loading_a_missing_clip_is_a_message_not_an_exception(qtbot, controller: Controller, tmp_path) -> None:  # type: ignore[no-untyped-def]
    messages: list[tuple[str, str]] = []
    controller.message.connect(lambda text, level: messages.append((text, level)))
    bad = tmp_path / "broken.bvh"
    bad.write_text("HIERARCHY\nROOT Hips\n{\n  OFFSET 0 0\n")
    controller.load_clip(bad)
    wait_idle(qtbot, controller)
    assert controller.clip is None
    text, level = messages[-1]
    assert level == "error" and "broken.bvh" in text and "Traceback" not in text


def test_controls_reach_the_host_and_host_changes_come_back(qtbot, controller: Controller, host) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(120)
    controller.set_clip(clip, path="/data/walk.bvh")
    assert host.clip is clip and host.clip_path == "/data/walk.bvh"
    assert host.attributes()["mode"] == "original"
    controller.set_mode("noisy")
    controller.set_noise(0.1)
    controller.set_frame(42)
    assert host.read_attribute("mode") == "noisy" and host.read_attribute("noise") == 0.1
    assert host.current_frame() == 42

    writes_before = len([h for h in host.history if h[0] == "write_attribute"])
    changes: list[tuple[str, object]] = []
    controller.stateChanged.connect(lambda name, value: changes.append((name, value)))
    host.set_attribute_externally("mode", 1)  # an enum index, as a Maya node stores it
    host.set_attribute_externally("encode", True)
    host.set_time_externally(7)
    assert controller.mode == "encoded" and controller.encode is True and controller.frame == 7
    assert changes == [("mode", "encoded"), ("encode", True)]
    writes = [h[1] for h in host.history if h[0] == "write_attribute"][writes_before:]
    # Nothing echoed back but the encode that the node's new mode implies (issue 11 item 1: no contradiction).
    assert writes == [("encode", True)]
    assert host.current_frame() == 7
    host.set_attribute_externally("mode", "encoded")  # the same value again: nothing happens
    assert changes == [("mode", "encoded"), ("encode", True)]
    wait_idle(qtbot, controller)


def test_sync_from_host_takes_over_an_existing_node(qtbot, host, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(80)
    path = tmp_path / "walk.csv"
    from maya_tool.io import write_clip

    write_clip(clip, path)
    host.update_node({"clip": str(path), "mode": "noisy", "noise": 0.2, "encode": False, "compare": False, "model": ""})
    host.set_current_frame(10)
    controller = Controller(host)
    try:
        controller.sync_from_host()
        wait_idle(qtbot, controller)
        assert controller.mode == "noisy" and controller.noise == 0.2 and controller.compare is False
        assert controller.clip is not None and controller.clip.num_frames == 80
    finally:
        controller.close()


def test_frames_are_clamped_and_stepping_pauses(qtbot, controller: Controller) -> None:  # type: ignore[no-untyped-def]
    controller.set_clip(synth.smooth_clip(30))
    controller.set_frame(1000)
    assert controller.frame == 29
    controller.set_frame(-5)
    assert controller.frame == 0
    controller.play()
    assert controller.playing
    qtbot.waitUntil(lambda: controller.frame > 3, timeout=3000)
    controller.step(1)
    assert not controller.playing
    controller.last_frame()
    assert controller.frame == 29
    wait_idle(qtbot, controller)


def test_selection_keeps_known_joints_only(controller: Controller) -> None:
    controller.set_clip(synth.smooth_clip(10))
    seen: list[list[str]] = []
    controller.selectionChanged.connect(seen.append)
    controller.set_selected_joints(["LeftArm", "NoSuchJoint", "Head"])
    assert controller.selected_joints == ["LeftArm", "Head"] and seen == [["LeftArm", "Head"]]


def test_task_runner_delivers_only_the_latest_request(qtbot) -> None:  # type: ignore[no-untyped-def]
    runner = TaskRunner()
    delivered: list[int] = []

    def slow(value: int) -> int:
        time.sleep(0.05)
        return value

    for value in range(5):
        runner.submit("k", slow, value, on_done=delivered.append)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert delivered[-1] == 4
    assert len(delivered) <= 2, "superseded requests are computed at most once and never shown"
    errors: list[BaseException] = []
    runner.submit("e", lambda: (_ for _ in ()).throw(MocapError("bad", path="x.bvh")), on_error=errors.append)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert error_text(errors[0]) == "x.bvh: bad"


def test_settings_keep_json_values_and_a_short_recent_list(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(tmp_path / "panel.ini")
    for i in range(MAX_RECENT + 3):
        settings.add_recent_clip(tmp_path / f"clip{i}.bvh")
    settings.add_recent_clip(tmp_path / "clip5.bvh")
    settings.set("model_dirs", ["/only/one"])
    settings.sync()
    again = Settings(tmp_path / "panel.ini")
    recent = again.recent_clips()
    assert len(recent) == MAX_RECENT and recent[0].endswith("clip5.bvh") and len(set(recent)) == len(recent)
    assert again.model_dirs() == ["/only/one"]
    assert again.get("missing", 3) == 3


def test_cached_noise_is_bit_identical_to_per_frame_noise() -> None:
    rotations = synth.smooth_clip(64).joint_rotations
    noise._unit_noise.cache_clear()
    cached = noise.add_noise(rotations, 0.037)
    manual = np.stack([noise.frame_noise(f, rotations.shape[1:], 0.037) for f in range(64)])
    from maya_tool import quaternion as quat

    np.testing.assert_array_equal(cached, quat.positive_w(quat.normalize(rotations + manual)))
    np.testing.assert_array_equal(noise.add_noise(rotations[9:], 0.037, frames=np.arange(9, 64)), cached[9:])
