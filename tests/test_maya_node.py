"""The csvToMat plug-in, loaded and driven through the fake Maya API.

These tests load ``plug-ins/csvToMat.py`` the way Maya does
(``initializePlugin`` with a plug-in MObject), then pull the node's outputs
through the fake dependency graph, which calls ``compute`` only for dirty
outputs as set by ``attributeAffects``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from maya_tool import corruption, modes
from maya_tool import quaternion as quat
from maya_tool.io.csv import read_csv
from maya_tool.models.runtime import load_model
from maya_tool.nodecore import ClipEvaluator, NodeInputs
from tests.fake_maya import clips as maya_helpers
from tests.fake_maya import FakeMaya, fake_maya  # noqa: F401  (fixture)

INPUTS = ("filePath", "frame", "time", "encode", "modelPath", "noise", "noiseType", "mode")
OUTPUTS = ("matOut", "frameError", "jointCount")
SIGMA = 0.05


@pytest.fixture(scope="module")
def walk(cmu_root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """CMU 07_01 (160 frames) as CSV, a model fitted to it, and the clip as read back."""
    folder = tmp_path_factory.mktemp("walk")
    clip = maya_helpers.cmu_clip(cmu_root)
    csv_path = maya_helpers.write_csv_clip(clip, folder)
    model_path = maya_helpers.write_tiny_model(folder, clip)
    return {"csv": csv_path, "model": model_path, "clip": read_csv(csv_path), "folder": folder}


def _matrices(node) -> np.ndarray:  # type: ignore[no-untyped-def]
    elements = node.get_array("matOut")
    assert sorted(elements) == list(range(len(elements))), "matOut must be dense from index 0"
    return np.array([list(elements[i]) for i in range(len(elements))]).reshape(-1, 4, 4)


def _expected(clip, frame: int, mode: str, model=None, encode: bool = False, sigma: float = SIGMA) -> np.ndarray:  # type: ignore[no-untyped-def]
    variant = modes.compute_variant(clip, mode, model=model, encode=encode, sigma=sigma)
    translation = np.zeros((clip.skeleton.num_joints, 3))
    translation[0] = variant.root_positions[frame]
    return quat.to_maya_matrix(variant.rotations[frame], translation)


def _errors(fake: FakeMaya) -> list[str]:
    return [m for kind, m in fake.om.reports if kind == "error"]  # type: ignore[attr-defined]


def _new_node(fake: FakeMaya, csv: Path | str = "", model: Path | str = ""):  # type: ignore[no-untyped-def]
    fake.load_plugin()
    node = fake.om.FakeNode("csvToMat")  # type: ignore[attr-defined]
    node.set("filePath", str(csv))
    node.set("modelPath", str(model))
    return node


def test_plugin_registers_every_attribute_with_maya_flags(fake_maya: FakeMaya) -> None:
    om = fake_maya.om
    module = fake_maya.load_plugin()
    node_type = om.node_types["csvToMat"]  # type: ignore[attr-defined]
    assert 0 <= node_type.type_id.id() <= 0x0007FFFF, "node id must be in Autodesk's local range"
    attrs = {a.name: a for a in node_type.attributes}
    assert set(attrs) == set(INPUTS + OUTPUTS)
    kinds = {
        "filePath": "typed", "modelPath": "typed", "frame": "numeric", "noise": "numeric", "encode": "numeric",
        "mode": "enum", "noiseType": "enum", "time": "time", "matOut": "matrix", "frameError": "numeric", "jointCount": "numeric",
    }
    assert {n: a.kind for n, a in attrs.items()} == kinds
    assert attrs["filePath"].data_type == om.MFnData.kString and attrs["filePath"].flags["usedAsFilename"]
    assert attrs["modelPath"].data_type == om.MFnData.kString and attrs["modelPath"].flags["usedAsFilename"]
    assert attrs["frame"].data_type == om.MFnNumericData.kFloat
    assert attrs["noise"].data_type == om.MFnNumericData.kFloat
    assert attrs["encode"].data_type == om.MFnNumericData.kBoolean
    assert attrs["jointCount"].data_type == om.MFnNumericData.kInt
    assert attrs["time"].data_type == om.MFnUnitAttribute.kTime
    for name in ("frame", "noise", "noiseType", "encode", "mode"):
        assert attrs[name].flags["keyable"], f"{name} must be keyable"
    for name in ("filePath", "modelPath", "time") + OUTPUTS:
        assert not attrs[name].flags["keyable"], f"{name} must not be keyable"
    assert attrs["mode"].fields == {"original": 0, "encoded": 1, "noisy": 2, "denoised": 3, "cleaned": 4}
    assert tuple(attrs["mode"].fields) == modes.MODES
    assert attrs["noiseType"].fields == {"gaussian": 0, "pops": 1, "gaps": 2, "capture": 3}
    assert tuple(attrs["noiseType"].fields) == corruption.CORRUPTIONS
    mat = attrs["matOut"].flags
    assert mat["array"] and mat["usesArrayDataBuilder"] and not mat["writable"] and not mat["storable"]
    for name in OUTPUTS:
        assert not attrs[name].flags["writable"] and not attrs[name].flags["storable"]
    for name in INPUTS:
        assert attrs[name].flags["writable"] and attrs[name].flags["storable"]
    assert sorted(node_type.affects) == sorted((i, o) for i in INPUTS for o in OUTPUTS)
    om.unload_plugin(module)  # type: ignore[attr-defined]
    assert "csvToMat" not in om.node_types  # type: ignore[attr-defined]


@pytest.mark.cmu
@pytest.mark.parametrize("mode", modes.MODES)
def test_matout_equals_core_matrices_in_every_mode(fake_maya: FakeMaya, walk: dict, mode: str) -> None:
    clip = walk["clip"]
    model = load_model(walk["model"])
    node = _new_node(fake_maya, walk["csv"], walk["model"])
    node.set("mode", mode)
    node.set("noise", SIGMA)
    last = clip.num_frames - 1
    for frame in (0, 37, last):
        node.set("frame", float(frame))
        got = _matrices(node)
        expected = _expected(clip, frame, mode, model=model)
        assert got.shape == (clip.skeleton.num_joints, 4, 4)
        np.testing.assert_allclose(got[0], expected[0], atol=1e-6, err_msg=f"root, {mode}, frame {frame}")
        np.testing.assert_allclose(got[1:], expected[1:], atol=1e-6, err_msg=f"joints, {mode}, frame {frame}")
        assert node.get("jointCount") == clip.skeleton.num_joints
    assert _errors(fake_maya) == []


@pytest.mark.cmu
def test_encode_toggle_and_frame_error(fake_maya: FakeMaya, walk: dict) -> None:
    clip = walk["clip"]
    model = load_model(walk["model"])
    node = _new_node(fake_maya, walk["csv"], walk["model"])
    node.set("frame", 12.0)
    assert node.get("frameError") == pytest.approx(0.0)
    node.set("encode", True)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 12, "encoded", model=model), atol=1e-6)
    variant = modes.compute_variant(clip, "encoded", model=model)
    angles = np.degrees(quat.geodesic_angle(clip.joint_rotations[12], variant.joint_rotations[12]))
    assert node.get("frameError") == pytest.approx(float(angles.mean()), abs=1e-4)
    assert node.get("frameError") > 0.01
    node.set("mode", "noisy")
    node.set("noise", SIGMA)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 12, "denoised", model=model), atol=1e-6)


@pytest.mark.cmu
def test_compute_is_a_lookup_after_the_first_evaluation(fake_maya: FakeMaya, walk: dict) -> None:
    node = _new_node(fake_maya, walk["csv"], walk["model"])
    node.set("mode", "denoised")
    node.set("noise", SIGMA)
    node.get_array("matOut")
    evaluator = node.user._evaluator
    evaluator.file_check_interval = 0.0  # look at the files on every frame, as a slow playback does
    calls: list[str] = []
    original, key_for = evaluator._evaluate, evaluator.key_for

    def evaluate(inputs: NodeInputs):  # type: ignore[no-untyped-def]
        calls.append("evaluate")
        return original(inputs)

    def key(inputs: NodeInputs):  # type: ignore[no-untyped-def]
        calls.append("key")
        return key_for(inputs)

    evaluator._evaluate, evaluator.key_for = evaluate, key
    for frame in range(0, 60, 3):
        node.set("frame", float(frame))
        node.get_array("matOut")
    assert calls == [], "scrubbing must not re-evaluate the clip, nor even rebuild its cache key"
    node.set("noise", 0.02)
    node.get_array("matOut")
    assert calls == ["key", "evaluate"]


@pytest.mark.cmu
@pytest.mark.parametrize("evaluation_manager", [False, True], ids=["dg", "evaluation-manager"])
def test_scrubbing_reads_only_the_frame_and_follows_keyed_settings(
    fake_maya: FakeMaya, walk: dict, evaluation_manager: bool
) -> None:
    clip = walk["clip"]
    model = load_model(walk["model"])
    node = _new_node(fake_maya, walk["csv"], walk["model"])
    node.evaluation_manager = evaluation_manager
    node.dirty_calls.clear()
    node.set("mode", "denoised")
    node.set("noise", SIGMA)
    node.get_array("matOut")
    read: list[str] = []
    block, input_value = node.block, node.block.inputValue

    def spy(what):  # type: ignore[no-untyped-def]
        read.append(block._attr(what).name)
        return input_value(what)

    block.inputValue = spy
    for frame in range(0, 30, 3):
        node.set("frame", float(frame))
        node.get_array("matOut")
    assert read == ["frame"] * 10, "a frame change must not re-read the five settings"
    for frame, sigma in ((31, 0.02), (32, 0.03), (33, 0.03)):  # noise keyed to change on two frames
        read.clear()
        if sigma != node.get("noise"):
            node.set("noise", sigma)
        node.set("frame", float(frame))
        got = _matrices(node)
        np.testing.assert_allclose(got, _expected(clip, frame, "denoised", model=model, sigma=sigma), atol=1e-6)
        assert ("noise" in read) == (frame != 33)
    if evaluation_manager:
        assert node.dirty_calls == [], "the Evaluation Manager never calls setDependentsDirty"
    assert _errors(fake_maya) == []


@pytest.mark.cmu
def test_background_evaluations_leave_no_settings_behind(fake_maya: FakeMaya, walk: dict) -> None:
    """Cached playback evaluates keyed noise at other times in another context; the scene's own frame must not see it."""
    clip = walk["clip"]
    model = load_model(walk["model"])
    node = _new_node(fake_maya, walk["csv"], walk["model"])
    node.evaluation_manager = True
    node.set("mode", "denoised")
    node.set("noise", SIGMA)
    node.set("frame", 10.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 10, "denoised", model=model), atol=1e-6)
    node.normal_context = False
    node.set("noise", 0.02)  # the keyed value at the frame the background fills
    node.set("frame", 90.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 90, "denoised", model=model, sigma=0.02), atol=1e-6)
    node.normal_context = True
    node.values["noise"] = SIGMA  # the scene's own value never changed: nothing is dirtied
    node.set("frame", 11.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 11, "denoised", model=model), atol=1e-6)
    assert _errors(fake_maya) == []


@pytest.mark.cmu
def test_frames_outside_the_clip_clamp(fake_maya: FakeMaya, walk: dict) -> None:
    clip = walk["clip"]
    node = _new_node(fake_maya, walk["csv"])
    node.set("frame", -25.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 0, "original"), atol=1e-6)
    node.set("frame", 1e6)
    np.testing.assert_allclose(_matrices(node), _expected(clip, clip.num_frames - 1, "original"), atol=1e-6)
    node.set("frame", 9.6)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 10, "original"), atol=1e-6)


@pytest.mark.cmu
@pytest.mark.parametrize(("unit_name", "scene_fps"), [("kFilm", 24.0), ("kNTSCFrame", 30.0)])
def test_connected_time_maps_scene_frames_through_the_clip_fps(
    fake_maya: FakeMaya, walk: dict, unit_name: str, scene_fps: float
) -> None:
    om = fake_maya.om
    clip = walk["clip"]
    assert clip.fps == 120.0
    node = _new_node(fake_maya, walk["csv"])
    node.set("frame", 3.0)
    unit = getattr(om.MTime, unit_name)
    node.connect("time", om.MTime(10.0, unit))
    expected_frame = int(round(10 / scene_fps * 120.0))  # 50 at 24 fps, 40 at 30 fps
    np.testing.assert_allclose(_matrices(node), _expected(clip, expected_frame, "original"), atol=1e-6)
    node.set("time", om.MTime(11.0, unit))
    np.testing.assert_allclose(
        _matrices(node), _expected(clip, int(round(11 / scene_fps * 120.0)), "original"), atol=1e-6
    )
    node.disconnect("time")
    np.testing.assert_allclose(_matrices(node), _expected(clip, 3, "original"), atol=1e-6)


def _rest_check(node, skeleton) -> None:  # type: ignore[no-untyped-def]
    mats = _matrices(node)
    assert mats.shape == (skeleton.num_joints, 4, 4)
    expected = np.tile(np.eye(4), (skeleton.num_joints, 1, 1))
    expected[0, 3, :3] = skeleton.offsets[0]
    np.testing.assert_allclose(mats, expected, atol=1e-12)
    assert node.get("jointCount") == skeleton.num_joints


def _bump(path: Path) -> None:
    """Make sure a rewritten file gets a new stamp even on coarse-mtime file systems."""
    later = time.time() + 5
    os.utime(path, (later, later))


def _wait_for_file_check() -> None:
    """Let the node's next frame look at the files again (it looks at most every file_check_interval)."""
    time.sleep(ClipEvaluator.file_check_interval + 0.01)


@pytest.mark.cmu
def test_malformed_csv_reports_once_shows_rest_pose_and_recovers(
    fake_maya: FakeMaya, walk: dict, tmp_path: Path
) -> None:
    clip = walk["clip"]
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path, "broken")
    good_text = csv_path.read_text()
    lines = good_text.splitlines()
    cells = lines[5].split(",")
    cells[9] = "abc"
    lines[5] = ",".join(cells)
    csv_path.write_text("\n".join(lines) + "\n")
    _bump(csv_path)

    node = _new_node(fake_maya, csv_path)
    for frame in (0.0, 4.0, 80.0):
        node.set("frame", frame)
        _rest_check(node, clip.skeleton)
        assert node.get("frameError") == 0.0
    errors = _errors(fake_maya)
    assert len(errors) == 1, errors
    assert "broken.csv" in errors[0] and "row 6" in errors[0] and "column 10" in errors[0]
    assert errors[0].startswith("csvToMat1: ")

    csv_path.write_text(good_text)
    _bump(csv_path)
    _wait_for_file_check()
    node.set("frame", 7.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 7, "original"), atol=1e-6)
    assert len(_errors(fake_maya)) == 1


@pytest.mark.cmu
def test_missing_file_reports_once(fake_maya: FakeMaya, tmp_path: Path) -> None:
    node = _new_node(fake_maya, tmp_path / "nowhere.csv")
    for frame in (0.0, 1.0, 2.0):
        node.set("frame", frame)
        mats = _matrices(node)
        np.testing.assert_allclose(mats, np.eye(4)[None], atol=0)
    errors = _errors(fake_maya)
    assert len(errors) == 1 and "nowhere.csv" in errors[0]


def test_empty_file_path_is_quiet(fake_maya: FakeMaya) -> None:
    node = _new_node(fake_maya)
    np.testing.assert_allclose(_matrices(node), np.eye(4)[None])
    assert node.get("jointCount") == 1
    assert fake_maya.om.reports == []  # type: ignore[attr-defined]


@pytest.mark.cmu
def test_mismatched_model_reports_once_and_recovers_when_rewritten(
    fake_maya: FakeMaya, walk: dict, tmp_path: Path
) -> None:
    clip = walk["clip"]
    wrong_names = list(clip.skeleton.names)
    wrong_names[5] = "Tail"
    model_path = maya_helpers.write_tiny_model(tmp_path, clip, name="other", joint_names=wrong_names)
    node = _new_node(fake_maya, walk["csv"], model_path)
    node.set("mode", "encoded")
    for frame in (0.0, 10.0):
        node.set("frame", frame)
        _rest_check(node, clip.skeleton)
    errors = _errors(fake_maya)
    assert len(errors) == 1, errors
    assert "Tail" in errors[0]

    maya_helpers.write_tiny_model(tmp_path, clip, name="other")  # a training job replaces the set
    _wait_for_file_check()
    node.set("frame", 11.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 11, "encoded", model=load_model(model_path)), atol=1e-6)
    assert len(_errors(fake_maya)) == 1


@pytest.mark.cmu
def test_model_being_rewritten_is_reported_then_picked_up(fake_maya: FakeMaya, walk: dict, tmp_path: Path) -> None:
    clip = walk["clip"]
    model_path = maya_helpers.write_tiny_model(tmp_path, clip, name="job")
    npz = model_path.with_suffix(".npz")
    npz.write_bytes(b"half a file")  # the sidecar registers another hash
    node = _new_node(fake_maya, walk["csv"], model_path)
    node.set("mode", "encoded")
    _rest_check(node, clip.skeleton)
    assert len(_errors(fake_maya)) == 1
    maya_helpers.write_tiny_model(tmp_path, clip, name="job", latent=8)
    _wait_for_file_check()
    node.set("frame", 2.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 2, "encoded", model=load_model(model_path)), atol=1e-6)
    assert len(_errors(fake_maya)) == 1


def test_mode_needing_a_model_without_one_is_an_error(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from tests import synth

    clip = synth.smooth_clip(frames=20)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    node = _new_node(fake_maya, csv_path)
    node.set("mode", "denoised")
    _rest_check(node, clip.skeleton)
    errors = _errors(fake_maya)
    assert len(errors) == 1 and "modelPath" in errors[0]


def test_evaluator_shares_nothing_between_nodes_but_the_model_cache(tmp_path: Path) -> None:
    from tests import synth

    clip = synth.smooth_clip(frames=30)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    model_path = maya_helpers.write_tiny_model(tmp_path, clip)
    a, b = ClipEvaluator(), ClipEvaluator()
    assert a.update(NodeInputs(str(csv_path), str(model_path), 0.0, "encoded")) is None
    assert b.update(NodeInputs(str(csv_path), "", 0.0, "original")) is None
    assert a.frame_error(5) > 0 and b.frame_error(5) == 0
    np.testing.assert_allclose(b.frame_matrices(5)[1:], quat.to_maya_matrix(clip.rotations[5, 1:]), atol=1e-6)
    assert a.fps == 120.0 and a.frame_for_seconds(0.5) == 60.0


def test_matout_shrinks_when_the_clip_goes_away(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from tests import synth

    clip = synth.smooth_clip(frames=10)
    node = _new_node(fake_maya, maya_helpers.write_csv_clip(clip, tmp_path))
    assert len(node.get_array("matOut")) == clip.skeleton.num_joints
    node.set("filePath", "")
    assert sorted(node.get_array("matOut")) == [0]
    assert node.get("jointCount") == 1


def test_frame_error_is_the_evaluation_angle_measure(tmp_path: Path) -> None:
    from maya_tool import evaluate
    from tests import synth

    clip = synth.smooth_clip(frames=40)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    evaluator = ClipEvaluator()
    assert evaluator.update(NodeInputs(str(csv_path), "", 0.07, "noisy")) is None
    reference = read_csv(csv_path)
    noisy = modes.compute_variant(reference, "noisy", sigma=0.07)
    expected = evaluate.frame_errors(reference, noisy).angle_deg.mean(axis=1)
    np.testing.assert_allclose([evaluator.frame_error(f) for f in range(40)], expected, atol=1e-9)


def test_frame_output_is_frame_matrices_as_floats(tmp_path: Path) -> None:
    from tests import synth

    clip = synth.smooth_clip(frames=25)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    evaluator = ClipEvaluator()
    assert evaluator.update(NodeInputs(str(csv_path), "", 0.05, "noisy")) is None
    for frame in (0.0, 3.4, 3.5, 7.0, -4.0, 1e9, float("nan"), float("inf"), float("-inf")):
        rows, error = evaluator.frame_output(frame)
        assert type(rows) is list and all(type(r) is list and len(r) == 16 for r in rows)
        assert all(type(v) is float for v in rows[1])
        np.testing.assert_array_equal(np.array(rows).reshape(-1, 4, 4), evaluator.frame_matrices(frame))
        assert error == evaluator.frame_error(frame)
    row = evaluator.clip_row(12.0)
    rotations, positions = evaluator.rotations, evaluator.root_positions
    assert rotations is not None and positions is not None
    translation = np.zeros((clip.skeleton.num_joints, 3))
    translation[0] = positions[row]
    expected = quat.to_maya_matrix(rotations[row], translation)
    np.testing.assert_allclose(np.array(evaluator.frame_output(12.0)[0]).reshape(-1, 4, 4), expected, atol=1e-12)


def test_only_the_shown_variant_keeps_a_matrix_table(tmp_path: Path) -> None:
    from tests import synth

    clip = synth.smooth_clip(frames=30)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    evaluator = ClipEvaluator()
    evaluator.sync(str(csv_path), "", 0.05, modes.MODES.index("original"), False)
    original = evaluator._result
    original_rows = evaluator.frame_output(9.0)[0]
    evaluator.sync(str(csv_path), "", 0.05, modes.MODES.index("noisy"), False)
    noisy = evaluator._result
    assert original is not None and noisy is not None
    assert original.table is None and noisy.table is not None
    calls: list[NodeInputs] = []
    evaluate = evaluator._evaluate

    def counting(inputs: NodeInputs):  # type: ignore[no-untyped-def]
        calls.append(inputs)
        return evaluate(inputs)

    evaluator._evaluate = counting  # type: ignore[method-assign]
    evaluator.sync(str(csv_path), "", 0.05, modes.MODES.index("original"), False)
    assert calls == [], "a mode flip back must reuse the kept variant"
    assert evaluator._result is original and original.table is not None and noisy.table is None
    assert evaluator.frame_output(9.0)[0] == original_rows


def test_unchanged_inputs_look_at_the_files_at_most_every_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya_tool import nodecore
    from tests import synth

    clip = synth.smooth_clip(frames=20)
    csv_path = maya_helpers.write_csv_clip(clip, tmp_path)
    model_path = maya_helpers.write_tiny_model(tmp_path, clip)
    stats: list[str] = []

    def counting_stat(path: str) -> os.stat_result:
        stats.append(path)
        return os.stat(path)

    monkeypatch.setattr(nodecore, "_stat", counting_stat)
    evaluator = ClipEvaluator()
    encoded = modes.MODES.index("encoded")
    args = (str(csv_path), str(model_path), 0.0, encoded, False)
    assert evaluator.sync(*args) is None
    watched = {p for p, _ in evaluator._watch}
    assert watched == {str(csv_path), str(csv_path.with_name("walk.skeleton.json")), str(model_path), str(model_path.with_suffix(".npz"))}

    evaluator.file_check_interval = 3600.0
    for _ in range(50):
        assert evaluator.sync(*args) is None
    assert stats == [], "within the interval a frame must not touch the disk"
    before = evaluator.frame_matrices(4)
    moved = clip.with_joint_rotations(clip.joint_rotations[::-1].copy())
    maya_helpers.write_csv_clip(moved, tmp_path)
    _bump(csv_path)
    evaluator.sync(*args)
    np.testing.assert_array_equal(evaluator.frame_matrices(4), before)

    evaluator.file_check_interval = 0.0
    stats.clear()
    assert evaluator.sync(*args) is None
    assert not np.allclose(evaluator.frame_matrices(4), before), "the rewritten clip must be picked up"
    stats.clear()
    for _ in range(3):
        evaluator.sync(*args)
    assert len(stats) == 3 * len(watched), "with interval 0 every call stats every watched file"

    evaluator.file_check_interval = 3600.0
    assert evaluator.sync(str(csv_path), str(model_path), 0.0, modes.MODES.index("original"), False) is None
    np.testing.assert_allclose(evaluator.frame_matrices(4)[1:], quat.to_maya_matrix(read_csv(csv_path).rotations[4, 1:]), atol=1e-6)


def test_fake_mmatrix_keeps_maya_value_semantics(fake_maya: FakeMaya) -> None:
    om = fake_maya.om
    flat = [float(i) for i in range(16)]
    m = om.MMatrix(flat)
    assert len(m) == 16 and list(m) == flat and m.getElement(1, 2) == 6.0 and m[-1] == 15.0
    assert list(om.MMatrix([flat[0:4], flat[4:8], flat[8:12], flat[12:16]])) == flat
    assert list(om.MMatrix(range(16))) == flat and all(type(v) is float for v in om.MMatrix(range(16)))
    assert list(om.MMatrix()) == list(np.eye(4).ravel())
    for bad in (flat[:15], flat + [1.0], ["x"] * 16, [flat[:4]] * 3, "abcdefghijklmnop"):
        with pytest.raises(TypeError):
            om.MMatrix(bad)
    copy = om.MMatrix(m)
    m[0] = 42.0
    m.setElement(3, 3, -1.0)
    assert copy[0] == 0.0 and copy[15] == 15.0 and m[0] == 42.0 and m[15] == -1.0
    assert om.MMatrix(flat) == copy and om.MMatrix(flat) != m
    a = om.MMatrix([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1])  # translate (5, 6, 7)
    b = om.MMatrix([2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1])  # scale 2
    assert list(a * b)[12:15] == [10.0, 12.0, 14.0], "row vectors: A * B applies A first"

    fake_maya.load_plugin()
    node = fake_maya.om.FakeNode("csvToMat")
    node.get_array("matOut")
    builder = node.block.outputArrayValue(node.plug("matOut").attribute()).builder()
    handle = builder.addElement(0)
    source = om.MMatrix(flat)
    handle.setMMatrix(source)
    source[0] = 99.0
    with pytest.raises(TypeError):
        handle.setMMatrix(flat)
    out = node.block.outputArrayValue(node.plug("matOut").attribute())
    out.set(builder)
    stored = node.arrays["matOut"][0]
    assert list(om.MMatrix._from_packed(stored)) == flat, "the data block keeps a copy, not the caller's matrix"
    out.jumpToLogicalElement(0)
    assert list(out.inputValue().asMatrix()) == flat


# --- noiseType ------------------------------------------------------------------------------------------------------


def _still_and_moving_clip():  # type: ignore[no-untyped-def]
    from tests import synth

    clip = synth.smooth_clip(frames=120, seed=4)
    rotations = clip.joint_rotations.copy()
    rotations[:, 3] = rotations[0, 3]  # one joint that never moves: it must never pop
    return clip.with_joint_rotations(rotations)


def test_noise_type_defaults_to_the_tutorials_gaussian(fake_maya: FakeMaya, tmp_path: Path) -> None:
    clip = read_csv(maya_helpers.write_csv_clip(_still_and_moving_clip(), tmp_path))
    node = _new_node(fake_maya, tmp_path / "walk.csv")
    assert node.get("noiseType") == 0
    node.set("mode", "noisy")
    node.set("noise", SIGMA)
    node.set("frame", 17.0)
    np.testing.assert_allclose(_matrices(node), _expected(clip, 17, "noisy"), atol=1e-6)
    node.set("noiseType", "gaussian")
    np.testing.assert_allclose(_matrices(node), _expected(clip, 17, "noisy"), atol=1e-6)
    assert _errors(fake_maya) == []


@pytest.mark.parametrize("kind", corruption.CORRUPTIONS)
def test_noise_type_shows_the_take_the_evaluation_scores(fake_maya: FakeMaya, tmp_path: Path, kind: str) -> None:
    """The node's noisy clip is mocap-ae evaluate's, seed 0; noise is the sigma of gaussian and capture only."""
    from maya_tool import evaluate

    clip = read_csv(maya_helpers.write_csv_clip(_still_and_moving_clip(), tmp_path))
    node = _new_node(fake_maya, tmp_path / "walk.csv")
    node.set("mode", "noisy")
    node.set("noiseType", kind)
    node.set("noise", 0.02)
    setting = evaluate.resolve_corruption(kind, 0.02 if kind in ("gaussian", "capture") else None)
    scored = evaluate.corrupt(clip.joint_rotations, setting, seed=0)
    shown = clip.with_joint_rotations(scored)
    for frame in range(clip.num_frames):
        node.set("frame", float(frame))
        translation = np.zeros((clip.skeleton.num_joints, 3))
        translation[0] = clip.root_positions[frame]
        np.testing.assert_allclose(
            _matrices(node), quat.to_maya_matrix(shown.rotations[frame], translation), atol=1e-6,
            err_msg=f"{kind}, frame {frame}",
        )
    assert not np.array_equal(scored, clip.joint_rotations)
    if kind in ("pops", "gaps"):  # no jitter, and the still joint neither pops nor drops out
        np.testing.assert_allclose(scored[:, 3], clip.joint_rotations[:, 3], atol=1e-12)
    assert _errors(fake_maya) == []


def test_pops_and_gaps_ignore_noise_without_reevaluating(tmp_path: Path) -> None:
    from tests import synth

    csv_path = maya_helpers.write_csv_clip(synth.smooth_clip(frames=60), tmp_path)
    loads = []

    def loader(path: str):  # type: ignore[no-untyped-def]
        loads.append(path)
        return read_csv(path)

    evaluator = ClipEvaluator(clip_loader=loader, variants=1)
    pops = corruption.CORRUPTIONS.index("pops")
    assert evaluator.sync(str(csv_path), "", 0.01, modes.MODES.index("noisy"), False, pops) is None
    shown = evaluator.rotations.copy()
    assert evaluator.sync(str(csv_path), "", 0.08, modes.MODES.index("noisy"), False, pops) is None
    assert len(loads) == 1
    np.testing.assert_array_equal(evaluator.rotations, shown)
    capture = corruption.CORRUPTIONS.index("capture")
    assert evaluator.sync(str(csv_path), "", 0.08, modes.MODES.index("noisy"), False, capture) is None
    assert len(loads) == 2 and not np.array_equal(evaluator.rotations, shown)
    # the original mode does not depend on the noise type at all
    original = NodeInputs(str(csv_path), "", 0.08, "original", noise_type="gaps")
    assert evaluator.key_for(original) == evaluator.key_for(NodeInputs(str(csv_path), "", 0.0, "original"))


def test_bad_noise_type_or_sigma_reports_once_and_recovers(tmp_path: Path) -> None:
    from tests import synth

    csv_path = maya_helpers.write_csv_clip(synth.smooth_clip(frames=30), tmp_path)
    evaluator = ClipEvaluator()
    noisy = modes.MODES.index("noisy")
    message = evaluator.sync(str(csv_path), "", 0.05, noisy, False, 9)
    assert message is not None and "noiseType" in message and "capture" in message
    assert evaluator.sync(str(csv_path), "", 0.05, noisy, False, 9) is None
    assert not evaluator.ok
    message = evaluator.sync(str(csv_path), "", 5.0, noisy, False, corruption.CORRUPTIONS.index("capture"))
    assert message is not None and "sigma" in message
    assert evaluator.sync(str(csv_path), "", 0.05, noisy, False, 3) is None and evaluator.ok
