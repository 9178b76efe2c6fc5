"""Scene building, wiring, comparison, baking and export, against the recording fake ``maya.cmds``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from maya_tool import quaternion as quat
from maya_tool.io.csv import read_csv
from tests import synth
from tests.fake_maya import clips as maya_helpers
from tests.fake_maya import FakeMaya, fake_maya  # noqa: F401  (fixture)


def _oriented_skeleton():  # type: ignore[no-untyped-def]
    skeleton = synth.cmu_like_skeleton(seed=3)
    rng = np.random.default_rng(3)
    skeleton.rest_rotations = quat.positive_w(quat.normalize(rng.normal(size=(skeleton.num_joints, 4))))
    skeleton.offsets[0] = (1.0, 90.0, -2.0)
    return skeleton


def test_build_skeleton_creates_joints_with_names_parents_offsets_and_orients(fake_maya: FakeMaya) -> None:
    from maya_tool.maya import scene

    cmds = fake_maya.cmds
    skeleton = _oriented_skeleton()
    cmds.namespace(add="a")
    joints = scene.build_skeleton(skeleton, namespace="a")
    world = cmds._scene().nodes  # type: ignore[attr-defined]
    assert joints == [f"a:{n}" for n in skeleton.names]
    assert len(cmds.calls_of("joint")) == skeleton.num_joints  # type: ignore[attr-defined]
    for j, name in enumerate(joints):
        node = world[name]
        assert node.type == "joint"
        parent = skeleton.parents[j]
        assert node.parent == (joints[parent] if parent >= 0 else None)
        np.testing.assert_allclose(node.attrs["translate"], skeleton.offsets[j], atol=1e-12)
        orient = quat.from_euler(np.array(node.attrs["jointOrient"]), "xyz")
        assert quat.geodesic_angle(orient, skeleton.rest_rotations[j]) < 1e-9
        assert node.attrs["rotateOrder"] == 0, "xyz, the order decomposeMatrix outputs"
    assert cmds._scene().selection == []  # type: ignore[attr-defined]


def _write_clip(tmp_path: Path, frames: int = 48):  # type: ignore[no-untyped-def]
    clip = synth.smooth_clip(frames=frames)
    return clip, maya_helpers.write_csv_clip(clip, tmp_path)


def test_load_clip_wires_time_node_decompose_and_joints(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.maya import scene

    cmds = fake_maya.cmds
    clip, path = _write_clip(tmp_path)
    rig = scene.load_clip(path, namespace="walk")
    world = cmds._scene()  # type: ignore[attr-defined]
    assert cmds.calls_of("loadPlugin")  # type: ignore[attr-defined]
    assert rig.namespace == "walk" and rig.node == "walk:csvToMat"
    assert world.nodes[rig.node].type == "csvToMat"
    assert world.nodes[rig.node].attrs["filePath"] == str(path)
    assert world.nodes[rig.node].attrs["mode"] == 0
    assert rig.joints == [f"walk:{n}" for n in clip.skeleton.names]
    connections = set(world.connections)
    assert ("time1.outTime", f"{rig.node}.time") in connections
    assert len(rig.decompose) == clip.skeleton.num_joints
    for i, (joint, dm) in enumerate(zip(rig.joints, rig.decompose)):
        assert world.nodes[dm].type == "decomposeMatrix"
        assert (f"{rig.node}.matOut[{i}]", f"{dm}.inputMatrix") in connections
        assert (f"{dm}.outputRotate", f"{joint}.rotate") in connections
        assert ((f"{dm}.outputTranslate", f"{joint}.translate") in connections) == (i == 0)
    assert world.nodes[rig.root].parent == rig.group
    end = math.ceil((clip.num_frames - 1) / clip.fps * 24.0)
    assert world.playback["minTime"] == 0.0 and world.playback["maxTime"] == end


def test_second_load_gets_its_own_namespace(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.maya import scene

    _, path = _write_clip(tmp_path)
    first = scene.load_clip(path)
    second = scene.load_clip(path)
    assert first.namespace == "mocap" and second.namespace == "mocap1"
    assert len(fake_maya.cmds.calls_of("loadPlugin")) == 1  # type: ignore[attr-defined]


def test_comparison_rig_stands_beside_the_original(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.maya import scene

    cmds = fake_maya.cmds
    clip, path = _write_clip(tmp_path)
    model = maya_helpers.write_tiny_model(tmp_path, clip)
    original, denoised = scene.load_comparison(path, model, mode="denoised", noise=0.04)
    world = cmds._scene()  # type: ignore[attr-defined]
    node = world.nodes[denoised.node].attrs
    assert node["mode"] == 3 and node["modelPath"] == str(model) and node["noise"] == pytest.approx(0.04)
    assert world.nodes[original.node].attrs["mode"] == 0
    assert world.nodes[original.group].attrs["translate"][0] == 0.0
    assert world.nodes[denoised.group].attrs["translate"][0] == pytest.approx(scene.default_spacing(clip.skeleton))
    assert scene.default_spacing(clip.skeleton) >= 100.0
    assert original.namespace != denoised.namespace


def test_bake_keys_the_joints_and_removes_the_driver(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.maya import scene

    cmds = fake_maya.cmds
    _, path = _write_clip(tmp_path)
    rig = scene.load_clip(path)
    scene.bake(rig)
    (args, kwargs), = cmds.calls_of("bakeResults")  # type: ignore[attr-defined]
    assert list(args[0]) == rig.joints
    assert kwargs["time"] == (0.0, cmds._scene().playback["maxTime"])  # type: ignore[attr-defined]
    assert kwargs["simulation"] is True
    world = cmds._scene().nodes  # type: ignore[attr-defined]
    assert rig.node not in world and not any(dm in world for dm in rig.decompose)
    assert all(j in world for j in rig.joints)


def test_export_selected_round_trips_keyed_animation(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.maya import scene

    cmds = fake_maya.cmds
    skeleton = _oriented_skeleton()
    clip = synth.smooth_clip(frames=12, skeleton=skeleton)
    joints = scene.build_skeleton(skeleton)
    cmds.setAttr(f"{joints[7]}.rotateOrder", 5)  # an artist's zyx joint
    for f in range(clip.num_frames):
        for j, joint in enumerate(joints):
            order = scene.ROTATE_ORDERS[cmds.getAttr(f"{joint}.rotateOrder")]
            angles = quat.to_euler(clip.rotations[f, j], order)
            xyz = [angles[order.index(axis)] for axis in "xyz"]
            for axis, value in zip("XYZ", xyz):
                cmds.setKeyframe(f"{joint}.rotate{axis}", time=float(f), value=float(value))
        for axis, value in zip("XYZ", clip.root_positions[f]):
            cmds.setKeyframe(f"{joints[0]}.translate{axis}", time=float(f), value=float(value))
    cmds.select(joints[12])
    out = tmp_path / "exported.csv"
    exported = scene.export_selected(out, start=0, end=clip.num_frames - 1)
    back = read_csv(out)
    for result in (exported, back):
        assert result.skeleton.names == skeleton.names
        np.testing.assert_array_equal(result.skeleton.parents, skeleton.parents)
        np.testing.assert_allclose(result.skeleton.offsets[1:], skeleton.offsets[1:], atol=1e-6)
        assert np.max(quat.geodesic_angle(result.skeleton.rest_rotations, skeleton.rest_rotations)) < 1e-6
        assert result.num_frames == clip.num_frames and result.fps == 24.0
        assert np.max(quat.geodesic_angle(result.rotations, clip.rotations)) < 1e-6
        np.testing.assert_allclose(result.root_positions, clip.root_positions, atol=1e-5)


def test_export_without_selection_says_what_to_do(fake_maya: FakeMaya, tmp_path: Path) -> None:
    from maya_tool.errors import MocapError
    from maya_tool.maya import scene

    with pytest.raises(MocapError, match="select a joint"):
        scene.export_selected(tmp_path / "x.csv")


def test_node_matrices_drive_joints_through_decompose_semantics(tmp_path: Path) -> None:
    """What decomposeMatrix makes of matOut (xyz Euler of the row-vector matrix) is the clip rotation."""
    clip = synth.smooth_clip(frames=5)
    from maya_tool.nodecore import ClipEvaluator, NodeInputs

    path = maya_helpers.write_csv_clip(clip, tmp_path)
    evaluator = ClipEvaluator()
    assert evaluator.update(NodeInputs(str(path))) is None
    mats = evaluator.frame_matrices(3)
    column = np.swapaxes(mats[:, :3, :3], -1, -2)  # back to column-vector rotations
    np.testing.assert_allclose(quat.from_matrix(column), quat.positive_w(clip.rotations[3]), atol=1e-6)
    np.testing.assert_allclose(mats[0, 3, :3], clip.root_positions[3], atol=1e-6)
