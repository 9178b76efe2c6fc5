"""maya_tool.quaternion against scipy's Rotation and against the properties the rest of the code relies on."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from maya_tool import quaternion as quat

ORDERS = ["XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX"]


def _random_quats(count: int, seed: int = 0) -> np.ndarray:
    return Rotation.random(count, random_state=seed).as_quat()


def _same_rotation(a: np.ndarray, b: np.ndarray, atol: float = 1e-12) -> None:
    """Equal as rotations: q and -q are the same one."""
    np.testing.assert_allclose(quat.positive_w(a), quat.positive_w(b), atol=atol)


def test_multiply_matches_scipy_composition():
    a, b = _random_quats(500, 1), _random_quats(500, 2)
    expected = (Rotation.from_quat(a) * Rotation.from_quat(b)).as_quat()
    _same_rotation(quat.multiply(a, b), expected)


def test_multiply_broadcasts_over_leading_axes():
    a = _random_quats(12, 3).reshape(3, 4, 4)
    b = _random_quats(4, 4)
    out = quat.multiply(a, b[None])
    assert out.shape == (3, 4, 4)
    _same_rotation(out[2, 1], quat.multiply(a[2, 1], b[1]))


def test_rotate_matches_scipy_apply():
    q = _random_quats(300, 5)
    v = np.random.default_rng(5).normal(size=(300, 3))
    np.testing.assert_allclose(quat.rotate(q, v), Rotation.from_quat(q).apply(v), atol=1e-12)


def test_conjugate_is_inverse():
    q = _random_quats(100, 6)
    _same_rotation(quat.multiply(q, quat.conjugate(q)), quat.identity((100,)))


def test_to_matrix_and_from_matrix_match_scipy():
    q = _random_quats(200, 7)
    m = quat.to_matrix(q)
    np.testing.assert_allclose(m, Rotation.from_quat(q).as_matrix(), atol=1e-12)
    back = quat.from_matrix(m)
    assert np.all(back[..., 3] >= 0)
    _same_rotation(back, q)


def test_from_axis_angle_matches_rotvec():
    rng = np.random.default_rng(8)
    axis = rng.normal(size=(50, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    angle = rng.uniform(-np.pi, np.pi, size=50)
    expected = Rotation.from_rotvec(axis * angle[:, None]).as_quat()
    _same_rotation(quat.from_axis_angle(axis, angle), expected)


@pytest.mark.parametrize("order", ORDERS)
def test_from_euler_intrinsic_and_extrinsic_match_scipy(order):
    angles = np.random.default_rng(9).uniform(-180, 180, size=(400, 3))
    _same_rotation(quat.from_euler(angles, order), Rotation.from_euler(order, angles, degrees=True).as_quat())
    lower = order.lower()
    _same_rotation(quat.from_euler(angles, lower), Rotation.from_euler(lower, angles, degrees=True).as_quat())
    radians = np.deg2rad(angles)
    _same_rotation(quat.from_euler(radians, order, degrees=False), quat.from_euler(angles, order))


def test_from_euler_intrinsic_is_matrix_product_in_channel_order():
    """BVH ``Zrotation Yrotation Xrotation`` means Rz @ Ry @ Rx for column vectors."""
    z, y, x = 30.0, -50.0, 70.0
    rz, ry, rx = (Rotation.from_euler(a, v, degrees=True).as_matrix() for a, v in (("z", z), ("y", y), ("x", x)))
    np.testing.assert_allclose(quat.to_matrix(quat.from_euler([z, y, x], "ZYX")), rz @ ry @ rx, atol=1e-12)
    np.testing.assert_allclose(quat.to_matrix(quat.from_euler([x, y, z], "xyz")), rz @ ry @ rx, atol=1e-12)


@pytest.mark.parametrize("order", ORDERS)
def test_to_euler_round_trips(order):
    q = _random_quats(400, 10)
    angles = quat.to_euler(q, order)
    assert angles.shape == (400, 3)
    _same_rotation(quat.from_euler(angles, order), q, atol=1e-10)


def test_to_euler_keeps_leading_shape_and_gimbal_lock_rotation():
    q = _random_quats(24, 11).reshape(2, 3, 4, 4)
    assert quat.to_euler(q, "ZYX").shape == (2, 3, 4, 3)
    locked = quat.from_euler([[40.0, 90.0, 10.0]], "ZYX")
    with pytest.warns(UserWarning, match="Gimbal"):
        angles = quat.to_euler(locked, "ZYX")
    _same_rotation(quat.from_euler(angles, "ZYX"), locked, atol=1e-9)


@pytest.mark.parametrize("bad", ["", "XYW", "AB", "ZZZ1"])
def test_unknown_euler_order_is_rejected(bad):
    with pytest.raises(ValueError, match="Euler order"):
        quat.from_euler(np.zeros(max(len(bad), 1)), bad)


def test_to_euler_rejects_repeated_axes():
    with pytest.raises(ValueError, match="unknown Euler order 'ZYZ'"):
        quat.to_euler(quat.identity((1,)), "ZYZ")


def test_from_euler_rejects_wrong_angle_count():
    with pytest.raises(ValueError, match="needs 3 angles"):
        quat.from_euler(np.zeros((5, 2)), "ZYX")


def test_slerp_endpoints_and_midpoint():
    a = quat.from_axis_angle([0.0, 0.0, 1.0], 0.2)
    b = quat.from_axis_angle([0.0, 0.0, 1.0], 1.4)
    _same_rotation(quat.slerp(a, b, 0.0), a)
    _same_rotation(quat.slerp(a, b, 1.0), b)
    _same_rotation(quat.slerp(a, b, 0.5), quat.from_axis_angle([0.0, 0.0, 1.0], 0.8))
    _same_rotation(quat.slerp(a, b, 0.25), quat.from_axis_angle([0.0, 0.0, 1.0], 0.5))


def test_slerp_takes_the_short_way_and_handles_equal_inputs():
    a = quat.from_axis_angle([1.0, 0.0, 0.0], 0.3)
    b = -quat.from_axis_angle([1.0, 0.0, 0.0], 0.5)  # same rotation as +, other hemisphere
    _same_rotation(quat.slerp(a, b, 0.5), quat.from_axis_angle([1.0, 0.0, 0.0], 0.4))
    same = quat.slerp(a, a, np.array([0.0, 0.3, 1.0]))
    assert np.all(np.isfinite(same))
    _same_rotation(same, np.tile(a, (3, 1)))


def test_slerp_matches_scipy_on_random_pairs():
    from scipy.spatial.transform import Slerp

    a, b = _random_quats(1, 12)[0], _random_quats(1, 13)[0]
    times = np.linspace(0, 1, 11)
    expected = Slerp([0.0, 1.0], Rotation.from_quat([a, b]))(times).as_quat()
    _same_rotation(quat.slerp(a, b, times), expected, atol=1e-10)


@pytest.mark.parametrize("angle", [1e-9, 1e-7, 1e-5, 1e-3, 0.5, 3.0])
def test_geodesic_angle_is_accurate_for_small_and_large_angles(angle):
    axis = np.array([0.3, -0.5, 0.8])
    axis /= np.linalg.norm(axis)
    base = _random_quats(20, 14)
    delta = quat.from_axis_angle(axis, angle)
    got = quat.geodesic_angle(base, quat.multiply(base, delta))
    np.testing.assert_allclose(got, angle, rtol=1e-6)
    # The sign of q does not change the rotation, nor the angle.
    np.testing.assert_allclose(quat.geodesic_angle(base, -quat.multiply(base, delta)), angle, rtol=1e-6)


def test_to_maya_matrix_is_row_vector_layout():
    q = _random_quats(50, 15)
    t = np.random.default_rng(15).normal(size=(50, 3)) * 10
    p = np.random.default_rng(16).normal(size=(50, 3))
    m = quat.to_maya_matrix(q, t)
    assert m.shape == (50, 4, 4)
    row = np.concatenate([p, np.ones((50, 1))], axis=1)
    moved = np.einsum("fi,fij->fj", row, m)
    np.testing.assert_allclose(moved[:, :3], Rotation.from_quat(q).apply(p) + t, atol=1e-12)
    np.testing.assert_allclose(moved[:, 3], 1.0)
    np.testing.assert_allclose(m[:, :3, 3], 0.0)
    no_t = quat.to_maya_matrix(q)
    np.testing.assert_allclose(no_t[:, 3, :3], 0.0)


def test_continuous_removes_hemisphere_flips_only():
    q = quat.from_axis_angle([0.0, 1.0, 0.0], np.linspace(0, 3.0, 40))
    flipped = q.copy()
    flipped[::3] *= -1
    out = quat.continuous(flipped)
    assert np.all(np.sum(out[1:] * out[:-1], axis=-1) > 0)
    _same_rotation(out, q)
    # Along another axis: joints on axis 1, frames on axis 0 of a (F, J, 4) array.
    stacked = np.stack([flipped, flipped], axis=1)
    np.testing.assert_allclose(quat.continuous(stacked, axis=0)[:, 1], out)


def test_normalize_scales_and_maps_zero_to_identity():
    q = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0], [1.0, 1.0, 1.0, 1.0]])
    n = quat.normalize(q)
    np.testing.assert_allclose(n[0], [0, 0, 0, 1])
    np.testing.assert_allclose(n[1], [0, 0, 1, 0])
    np.testing.assert_allclose(n[2], [0.5, 0.5, 0.5, 0.5])
    assert np.all(np.isfinite(n))
    np.testing.assert_allclose(quat.norm_deviation(q), [1.0, 1.0, 1.0])


def test_positive_w_and_identity():
    q = np.array([[0.1, 0.2, 0.3, -0.9], [0.0, 0.0, 0.0, 1.0]])
    p = quat.positive_w(q)
    assert np.all(p[:, 3] >= 0)
    np.testing.assert_allclose(p[0], -q[0])
    ident = quat.identity((2, 3))
    assert ident.shape == (2, 3, 4)
    np.testing.assert_allclose(quat.rotate(ident, np.ones(3)), np.ones((2, 3, 3)))
