"""Draw the shelf icon: a stick figure mid-stride over a compressed "signal" bar.

Run ``python resources/make_icons.py`` to regenerate ``mocap-ae.png`` (32 px,
the shelf size), ``mocap-ae_64.png`` (high-DPI) and ``mocap-ae.svg``. Only
numpy and the standard library are used (PNG written with zlib), and the
raster is supersampled 8x for smooth edges.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BACKGROUND = (38, 50, 64)
FIGURE = (94, 214, 196)
ACCENT = (247, 178, 72)

# Stick figure in a 0..1 box (x right, y down): joints and the bones between them.
JOINTS = {
    "head": (0.50, 0.17),
    "neck": (0.50, 0.29),
    "hips": (0.50, 0.55),
    "l_hand": (0.30, 0.47),
    "r_hand": (0.72, 0.38),
    "l_elbow": (0.37, 0.38),
    "r_elbow": (0.63, 0.34),
    "l_knee": (0.40, 0.66),
    "r_knee": (0.62, 0.66),
    "l_foot": (0.33, 0.78),
    "r_foot": (0.70, 0.78),
}
BONES = [
    ("neck", "hips"), ("neck", "l_elbow"), ("l_elbow", "l_hand"), ("neck", "r_elbow"), ("r_elbow", "r_hand"),
    ("hips", "l_knee"), ("l_knee", "l_foot"), ("hips", "r_knee"), ("r_knee", "r_foot"),
]
BARS = [0.30, 0.55, 0.80, 0.55, 0.30]


def _segment_distance(px: np.ndarray, py: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def render(size: int, supersample: int = 8) -> np.ndarray:
    """RGBA image (size, size, 4) uint8."""
    n = size * supersample
    coords = (np.arange(n) + 0.5) / n
    px, py = np.meshgrid(coords, coords)
    rgba = np.zeros((n, n, 4))
    radius = 0.18
    qx = np.clip(np.abs(px - 0.5) - (0.5 - radius), 0.0, None)
    qy = np.clip(np.abs(py - 0.5) - (0.5 - radius), 0.0, None)
    inside = np.hypot(qx, qy) <= radius
    rgba[inside, :3] = BACKGROUND
    rgba[inside, 3] = 255
    width = 0.055
    figure = np.zeros((n, n), dtype=bool)
    for a, b in BONES:
        figure |= _segment_distance(px, py, JOINTS[a], JOINTS[b]) <= width / 2
    figure |= np.hypot(px - JOINTS["head"][0], py - JOINTS["head"][1]) <= 0.085
    rgba[figure & inside, :3] = FIGURE
    for i, height in enumerate(BARS):
        x0 = 0.22 + i * 0.12
        bar = (px >= x0) & (px <= x0 + 0.08) & (py >= 0.93 - 0.13 * height) & (py <= 0.93)
        rgba[bar & inside, :3] = ACCENT
    small = rgba.reshape(size, supersample, size, supersample, 4).mean(axis=(1, 3))
    alpha = small[..., 3:4]
    colour = np.divide(small[..., :3] * 255.0, alpha, out=np.zeros_like(small[..., :3]), where=alpha > 0)
    out = np.concatenate([colour, alpha], axis=-1)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an RGBA uint8 image as PNG."""
    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def svg_text() -> str:
    """The same drawing as SVG, 64 units square."""
    s = 64.0

    def pt(name: str) -> tuple[float, float]:
        x, y = JOINTS[name]
        return x * s, y * s

    rgb = "rgb({},{},{})".format
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">',
        f'<rect width="64" height="64" rx="{0.18 * s:.1f}" fill="{rgb(*BACKGROUND)}"/>',
        f'<g stroke="{rgb(*FIGURE)}" stroke-width="{0.055 * s:.2f}" stroke-linecap="round">',
    ]
    for a, b in BONES:
        (x1, y1), (x2, y2) = pt(a), pt(b)
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>')
    parts.append("</g>")
    hx, hy = pt("head")
    parts.append(f'<circle cx="{hx:.1f}" cy="{hy:.1f}" r="{0.085 * s:.1f}" fill="{rgb(*FIGURE)}"/>')
    for i, height in enumerate(BARS):
        top = (0.93 - 0.13 * height) * s
        parts.append(
            f'<rect x="{(0.22 + i * 0.12) * s:.1f}" y="{top:.1f}" width="{0.08 * s:.1f}" '
            f'height="{0.93 * s - top:.1f}" fill="{rgb(*ACCENT)}"/>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    (HERE / "mocap-ae.png").write_bytes(png_bytes(render(32)))
    (HERE / "mocap-ae_64.png").write_bytes(png_bytes(render(64)))
    (HERE / "mocap-ae.svg").write_text(svg_text(), encoding="utf-8")


if __name__ == "__main__":
    main()
