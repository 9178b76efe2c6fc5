"""*Clean selected skeleton* through the fake Maya: other names, rotate orders, orients; layer, undo, weight."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from maya_tool import quaternion as quat
from maya_tool.clean import CleanOptions, clean_clip
from maya_tool.clip import Clip
from maya_tool.errors import MocapError
from maya_tool.models import architectures
from maya_tool.models.runtime import load_model
from maya_tool.presets import CMU_JOINT_NAMES
from maya_tool.skeleton import Skeleton
from tests import synth
from tests.fake_maya import FakeMaya, fake_maya  # noqa: F401  (fixture)

ORDERS = ("xyz", "yzx", "zxy", "xzy", "yxz", "zyx")
TO_MIXAMO = {"LowerBack": "Spine", "Spine": "Spine1", "Spine1": "Spine2", "LThumb": "LeftHandThumb1",
             "RThumb": "RightHandThumb1"}
FRAMES = 40


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):  # type: ignore[no-untyped-def]
    return architectures.untrained_model_set(tmp_path_factory.mktemp("m"), "tiny", "temporal",
                                             list(CMU_JOINT_NAMES), {"window": 16}, seed=4)


def _euler_q(values, order):  # type: ignore[no-untyped-def]
    values = np.asarray(values, dtype=np.float64)
    return quat.from_euler(values[..., ["xyz".index(a) for a in order]], order)


def _to_rotate(q, order):  # type: ignore[no-untyped-def]
    angles = quat.to_euler(q, order)
    out = np.empty_like(angles)
    for k, a in enumerate(order):
        out[..., "xyz".index(a)] = angles[..., k]
    return out


def _build_rig(cmds):  # type: ignore[no-untyped-def]
    """A Mixamo-named rig (plus an extra joint the model does not know) animated with a CMU-like clip.

    Every joint gets its own rotate order, joint orient and rotate axis; the
    rotate keys are chosen so the world-aligned local rotations are the clip's.
    Returns the expected model-convention clip (scene names) and the scene joints.
    """
    base = synth.smooth_clip(frames=FRAMES, fps=24.0, seed=5)
    sk = base.skeleton
    names = ["mixamorig:" + TO_MIXAMO.get(n, n) for n in sk.names] + ["mixamorig:HeadTop_End"]
    parents = list(sk.parents) + [sk.index("Head")]
    offsets = np.vstack([sk.offsets, [[0.0, 9.0, 1.0]]])
    rng = np.random.default_rng(11)
    rotations = np.concatenate([base.rotations, quat.identity((FRAMES, 1))], axis=1)
    rotations[:, -1] = quat.from_euler(rng.normal(0, 10, (FRAMES, 3)), "ZYX")
    count = len(names)
    orient = rng.uniform(-60, 60, (count, 3))
    axis = rng.uniform(-20, 20, (count, 3))
    orders = [ORDERS[i % 6] for i in range(count)]
    cmds.namespace(add="mixamorig")
    rest = np.zeros((count, 4))
    joints: list[str] = []
    for j in range(count):
        p = parents[j]
        parent_rest = rest[p] if p >= 0 else quat.identity()
        b = quat.multiply(parent_rest, _euler_q(orient[j], "xyz"))
        rest[j] = quat.multiply(b, _euler_q(axis[j], "xyz"))
        if p < 0:
            cmds.select(clear=True)
        else:
            cmds.select(joints[p], replace=True)
        local_t = quat.rotate(quat.conjugate(parent_rest), offsets[j]) if p >= 0 else offsets[j]
        name = cmds.joint(name=names[j], position=tuple(float(v) for v in local_t), relative=True,
                          rotationOrder=orders[j])
        cmds.setAttr(f"{name}.jointOrient", *orient[j])
        cmds.setAttr(f"{name}.rotateAxis", *axis[j])
        r = quat.multiply(quat.multiply(quat.conjugate(b)[None], rotations[:, j]), b[None])
        values = _to_rotate(r, orders[j])
        for f in range(FRAMES):
            for k, ax in enumerate("XYZ"):
                cmds.setKeyframe(f"{name}.rotate{ax}", time=float(f + 1), value=float(values[f, k]))
        joints.append(name)
    for f in range(FRAMES):
        for k, ax in enumerate("XYZ"):
            cmds.setKeyframe(f"{joints[0]}.translate{ax}", time=float(f + 1), value=float(base.root_positions[f, k]))
    cmds.playbackOptions(minTime=1, maxTime=FRAMES)
    expected = Clip(Skeleton(joints, parents, offsets), 24.0, base.root_positions, quat.positive_w(rotations))
    return expected, joints, orders


def _layer_rotation(cmds, layer, joint, order):  # type: ignore[no-untyped-def]
    node = cmds._scene().nodes[layer]
    keys = [node.layer_keys[(joint, f"rotate{a}")] for a in "XYZ"]
    values = np.array([[keys[k][float(t)] for k in range(3)] for t in range(1, FRAMES + 1)])
    return _euler_q(values, order)


def _scene_state(cmds):  # type: ignore[no-untyped-def]
    scene = cmds._scene()
    return pickle.dumps(({n: (v.type, v.parent, v.attrs, v.keys, v.layer_attrs, v.layer_keys)
                          for n, v in sorted(scene.nodes.items())}, scene.layers, scene.connections))


def test_clean_selected_writes_the_core_result_on_a_layer(fake_maya: FakeMaya, model_path) -> None:  # type: ignore[no-untyped-def]
    from maya_tool.maya import clean as maya_clean

    cmds = fake_maya.cmds
    expected_clip, joints, orders = _build_rig(cmds)
    curves_before = pickle.dumps({j: cmds._scene().nodes[j].keys for j in joints})
    state_before = _scene_state(cmds)
    cmds.select(joints[5])  # any joint of the skeleton: the whole hierarchy is cleaned
    done = maya_clean.clean_selected(model_path, strength=0.6)

    layer = done.layer
    assert layer == "tiny_clean"
    assert cmds.animLayer(layer, query=True, override=True) is True
    assert cmds.animLayer(layer, query=True, weight=True) == pytest.approx(0.6)
    assert cmds._scene().nodes[layer].attrs["rotationAccumulationMode"] == 1
    opened = [kw for args, kw in cmds.calls_of("undoInfo") if kw.get("openChunk")]
    closed = [kw for args, kw in cmds.calls_of("undoInfo") if kw.get("closeChunk")]
    assert len(opened) == len(closed) == 1

    model = load_model(model_path)
    core = clean_clip(expected_clip, model, CleanOptions(name_map="mixamo"))
    assert done.report["unmapped_clip_joints"] == ["mixamorig:HeadTop_End"]
    assert done.report["missing_model_joints"] == []
    assert sorted(done.take.joints) == sorted(joints)  # read depth first: the order may differ, names match
    worst = 0.0
    for j, joint in enumerate(joints):
        if not core.weights[:, j].any():
            assert (joint, "rotateX") not in cmds._scene().nodes[layer].layer_keys
            continue
        r = _layer_rotation(cmds, layer, joint, orders[j])
        b = done.take.bases[done.take.joints.index(joint)]
        local = quat.multiply(quat.multiply(b[None], r), quat.conjugate(b)[None])
        worst = max(worst, float(np.degrees(quat.geodesic_angle(local, core.clip.rotations[:, j])).max()))
    assert worst < 1e-4
    assert core.weights[:, 1:len(CMU_JOINT_NAMES)].any(axis=0).sum() >= 25

    assert pickle.dumps({j: cmds._scene().nodes[j].keys for j in joints}) == curves_before

    cmds.animLayer(layer, edit=True, weight=0.0)
    for j, joint in enumerate(joints):
        base_values = cmds._scene().nodes[joint].keys
        for t in (1.0, 17.0, float(FRAMES)):
            seen = cmds.getAttr(f"{joint}.rotate", time=t)[0]
            assert seen == tuple(base_values[f"rotate{a}"][t] for a in "XYZ")

    cmds.undo()
    assert _scene_state(cmds) == state_before
    assert not cmds.objExists(layer)


def test_layer_weight_is_the_core_strength(fake_maya: FakeMaya, model_path) -> None:  # type: ignore[no-untyped-def]
    from maya_tool.maya import clean as maya_clean

    cmds = fake_maya.cmds
    expected_clip, joints, orders = _build_rig(cmds)
    cmds.select(joints[0])
    done = maya_clean.clean_selected(model_path, strength=0.35, feet=False, start=1, end=FRAMES)
    core = clean_clip(expected_clip, load_model(model_path), CleanOptions(name_map="mixamo", strength=0.35, feet=False))
    for j in (1, 7, 18):
        seen = np.array([cmds.getAttr(f"{joints[j]}.rotate", time=float(t))[0] for t in range(1, FRAMES + 1)])
        r = _euler_q(seen, orders[j])
        b = done.take.bases[done.take.joints.index(joints[j])]
        local = quat.multiply(quat.multiply(b[None], r), quat.conjugate(b)[None])
        assert np.degrees(quat.geodesic_angle(local, core.clip.rotations[:, j])).max() < 1e-4


def test_several_selected_joints_clean_only_those_and_preview_writes_nothing(fake_maya: FakeMaya, model_path) -> None:  # type: ignore[no-untyped-def]
    from maya_tool.maya import clean as maya_clean

    cmds = fake_maya.cmds
    _, joints, _ = _build_rig(cmds)
    cmds.select([joints[2], joints[18]])
    before = _scene_state(cmds)
    preview = maya_clean.preview_selected(model_path, threshold_deg=1.0)
    assert _scene_state(cmds) == before and preview.layer is None
    cleaned = {preview.take.joints[j] for j in np.flatnonzero(preview.result.weights.max(axis=0) > 0)}
    assert cleaned == {joints[2], joints[18]}
    assert all(1.0 <= t <= FRAMES for t in preview.flagged_times)
    done = maya_clean.clean_selected(model_path)
    held = {j for j, _ in cmds._scene().nodes[done.layer].layer_attrs}
    assert held <= {joints[2], joints[18]}
    cmds.select(clear=True)
    with pytest.raises(MocapError, match="select a joint"):
        maya_clean.clean_selected(model_path)


def test_panel_button_cleans_the_selected_skeleton(fake_maya: FakeMaya, model_path, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sys

    from tests import ui_support  # noqa: F401  (Qt set up for tests)
    from maya_tool.jobs import JobStore
    from maya_tool.maya.host import MayaHost
    from maya_tool.ui.panel import create_panel
    from maya_tool.ui.settings import Settings

    cmds = fake_maya.cmds
    _, joints, _ = _build_rig(cmds)
    panel = create_panel(MayaHost(), settings=Settings(tmp_path / "panel.ini"), job_store=JobStore(tmp_path / "jobs"),
                         training_python=sys.executable)
    qtbot.addWidget(panel)
    panel.controller.set_model(load_model(model_path), str(model_path))
    assert panel.clean_button is not None
    cmds.select(clear=True)
    panel.clean_button.click()
    assert "select a joint" in panel.status.text()
    cmds.select(joints[0])
    panel.clean_button.click()
    assert "Cleaned onto layer tiny_clean" in panel.status.text()
    assert cmds.animLayer("tiny_clean", query=True, exists=True)
