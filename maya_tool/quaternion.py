"""Unit quaternions in xyzw order, vectorised over any leading axes.

xyzw is the order of the CSV layout, of scipy and of Maya's ``MQuaternion``
constructor, so no component shuffling happens between the file, the models
and the node. Rotations act on column vectors (``v' = q v q*``); the one place
where Maya's row-vector convention appears is :func:`to_maya_matrix`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]

_AXES = {"X": 0, "Y": 1, "Z": 2}


def identity(shape: tuple[int, ...] = ()) -> FloatArray:
    """Identity rotations with the given leading shape."""
    q = np.zeros(tuple(shape) + (4,))
    q[..., 3] = 1.0
    return q


def normalize(q: ArrayLike, eps: float = 1e-12) -> FloatArray:
    """Scale to unit length; a zero quaternion becomes the identity, not NaN."""
    q = np.asarray(q, dtype=np.float64)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    out = np.divide(q, n, out=np.zeros_like(q), where=n > eps)
    out[..., 3] = np.where(n[..., 0] > eps, out[..., 3], 1.0)
    return out


def positive_w(q: ArrayLike) -> FloatArray:
    """Pick the w >= 0 representative so equal rotations have equal numbers."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.where(q[..., 3:4] < 0.0, -1.0, 1.0)


def continuous(q: ArrayLike, axis: int = 0) -> FloatArray:
    """Flip signs along ``axis`` so neighbouring samples lie in one hemisphere.

    Filters and temporal models interpolate components linearly, which is only
    meaningful when consecutive quaternions are on the same side.
    """
    q = np.moveaxis(np.array(q, dtype=np.float64), axis, 0)
    if len(q) > 1:
        dots = np.sum(q[1:] * q[:-1], axis=-1)
        flips = np.cumsum(dots < 0.0, axis=0) % 2 == 1
        q[1:] = np.where(flips[..., None], -q[1:], q[1:])
    return np.moveaxis(q, 0, axis)


def conjugate(q: ArrayLike) -> FloatArray:
    """The inverse of a unit quaternion."""
    q = np.array(q, dtype=np.float64)
    q[..., :3] *= -1.0
    return q


def multiply(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Hamilton product ``a * b``: apply ``b`` first, then ``a``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack(
        [
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        ],
        axis=-1,
    )


def rotate(q: ArrayLike, v: ArrayLike) -> FloatArray:
    """Rotate vectors ``v`` (..., 3) by ``q`` without building matrices."""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u = q[..., :3]
    t = 2.0 * np.cross(u, v)
    return v + q[..., 3:4] * t + np.cross(u, t)


def from_axis_angle(axis: ArrayLike, angle: ArrayLike) -> FloatArray:
    """Rotation by ``angle`` radians about the unit vector ``axis``."""
    axis = np.asarray(axis, dtype=np.float64)
    half = 0.5 * np.asarray(angle, dtype=np.float64)[..., None]
    return np.concatenate([axis * np.sin(half), np.cos(half)], axis=-1)


def from_euler(angles: ArrayLike, order: str, degrees: bool = True) -> FloatArray:
    """Quaternions from Euler angles given in channel order.

    Args:
        angles: (..., len(order)) angles, the i-th about axis ``order[i]``.
        order: Axis letters as the channels are listed in a BVH file, e.g.
            ``"ZYX"``. Upper case means intrinsic (BVH, ASF/AMC): the matrix
            is ``R[order[0]] @ R[order[1]] @ R[order[2]]``. Lower case means
            extrinsic, which is the same rotation with the order reversed.
        degrees: Whether ``angles`` are in degrees.

    Raises:
        ValueError: For an order that is not made of X, Y and Z.
    """
    if not order or any(c.upper() not in _AXES for c in order):
        raise ValueError(f"unknown Euler order {order!r}: expected letters X, Y, Z such as 'ZYX'")
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape[-1] != len(order):
        raise ValueError(f"Euler order {order!r} needs {len(order)} angles per rotation, got {angles.shape[-1]}")
    if degrees:
        angles = np.deg2rad(angles)
    intrinsic = order.isupper()
    letters = order.upper()
    result = identity(angles.shape[:-1])
    for i, letter in enumerate(letters):
        half = 0.5 * angles[..., i]
        axis_q = np.zeros(angles.shape[:-1] + (4,))
        axis_q[..., _AXES[letter]] = np.sin(half)
        axis_q[..., 3] = np.cos(half)
        result = multiply(result, axis_q) if intrinsic else multiply(axis_q, result)
    return result


def to_euler(q: ArrayLike, order: str, degrees: bool = True) -> FloatArray:
    """Euler angles in channel order, the inverse of :func:`from_euler`.

    Uses scipy's decomposition, which handles gimbal lock for all twelve
    sequences; the round trip through :func:`from_euler` is tested.
    """
    from scipy.spatial.transform import Rotation

    q = np.asarray(q, dtype=np.float64)
    flat = q.reshape(-1, 4)
    if len(order) == 3 and len(set(order.upper())) == 3:
        angles = Rotation.from_quat(flat).as_euler(order, degrees=degrees)
    else:
        raise ValueError(f"unknown Euler order {order!r}: expected three distinct axes such as 'ZYX'")
    return angles.reshape(q.shape[:-1] + (3,))


def to_matrix(q: ArrayLike) -> FloatArray:
    """3x3 rotation matrices for column vectors (``v' = R @ v``)."""
    q = np.asarray(q, dtype=np.float64)
    x, y, z, w = np.moveaxis(q, -1, 0)
    xx, yy, zz = x * x, y * y, z * z
    xy, xz, yz = x * y, x * z, y * z
    wx, wy, wz = w * x, w * y, w * z
    m = np.stack(
        [
            1 - 2 * (yy + zz), 2 * (xy - wz), 2 * (xz + wy),
            2 * (xy + wz), 1 - 2 * (xx + zz), 2 * (yz - wx),
            2 * (xz - wy), 2 * (yz + wx), 1 - 2 * (xx + yy),
        ],
        axis=-1,
    )
    return m.reshape(q.shape[:-1] + (3, 3))


def from_matrix(m: ArrayLike) -> FloatArray:
    """Quaternions (w >= 0) from 3x3 column-vector rotation matrices."""
    from scipy.spatial.transform import Rotation

    m = np.asarray(m, dtype=np.float64)
    flat = Rotation.from_matrix(m.reshape(-1, 3, 3)).as_quat()
    return positive_w(flat.reshape(m.shape[:-2] + (4,)))


def to_maya_matrix(q: ArrayLike, translation: ArrayLike | None = None) -> FloatArray:
    """4x4 matrices in Maya's row-vector layout (``p' = p @ M``).

    Maya's ``MMatrix`` multiplies row vectors from the left, so its rotation
    block is the transpose of :func:`to_matrix` and translation is the last
    row. Flattened row by row, this is what an ``MMatrix`` is built from.
    """
    q = np.asarray(q, dtype=np.float64)
    out = np.zeros(q.shape[:-1] + (4, 4))
    out[..., :3, :3] = np.swapaxes(to_matrix(q), -1, -2)
    out[..., 3, 3] = 1.0
    if translation is not None:
        out[..., 3, :3] = translation
    return out


def geodesic_angle(a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Angle in radians of the rotation taking ``a`` to ``b``, in [0, pi].

    Computed with atan2 on the relative rotation, which stays accurate for the
    small errors that matter when comparing a reconstruction to the original.
    """
    rel = multiply(conjugate(a), b)
    return 2.0 * np.arctan2(np.linalg.norm(rel[..., :3], axis=-1), np.abs(rel[..., 3]))


def slerp(a: ArrayLike, b: ArrayLike, t: ArrayLike) -> FloatArray:
    """Spherical interpolation along the shorter arc; ``t`` broadcasts."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)[..., None]
    dot = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(dot < 0.0, -b, b)
    dot = np.abs(dot)
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    sin_theta = np.sin(theta)
    near = sin_theta < 1e-6
    safe = np.where(near, 1.0, sin_theta)
    wa = np.where(near, 1.0 - t, np.sin((1.0 - t) * theta) / safe)
    wb = np.where(near, t, np.sin(t * theta) / safe)
    return normalize(wa * a + wb * b)


def norm_deviation(q: ArrayLike) -> FloatArray:
    """|1 - |q||, used by readers to warn about non-unit input."""
    return np.abs(1.0 - np.linalg.norm(np.asarray(q, dtype=np.float64), axis=-1))


def mean_direction(q: ArrayLike) -> FloatArray:
    """Per-joint average rotation direction (N, J, 4) -> (J, 4), w >= 0.

    The principal eigenvector of the sum of ``q q^T`` (Markley's average):
    unlike a component mean it does not care which sign each sample has.
    """
    q = np.asarray(q, dtype=np.float64)
    scatter = np.einsum("nji,njk->jik", q, q)
    _, vectors = np.linalg.eigh(scatter)
    return positive_w(vectors[..., -1])


def to_hemisphere(q: ArrayLike, reference: ArrayLike) -> FloatArray:
    """Flip each quaternion onto the side of its joint's ``reference``.

    Clips keep w >= 0, which flips the sign of a joint that turns through
    about 180 degrees (the CMU finger bases sit there). A model fed such a
    joint sees two far-apart inputs for one pose; measured against a
    per-joint reference direction the sign stays stable.
    """
    q = np.asarray(q, dtype=np.float64)
    dots = np.sum(q * np.asarray(reference, dtype=np.float64), axis=-1, keepdims=True)
    return q * np.where(dots < 0.0, -1.0, 1.0)
