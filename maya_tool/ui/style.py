"""Colours and fonts shared by every view, so a joint looks the same everywhere.

A joint's colour in the joint list, its error curve, its bar and its bones in
the skeleton view come from :func:`joint_colors`; the plots use the dark
theme Maya artists are used to.
"""

from __future__ import annotations

import colorsys
import re

from .qt import QtGui, QtWidgets

BACKGROUND = "#2b2b2b"
PLOT_BACKGROUND = "#1e1e1e"
FOREGROUND = "#c8c8c8"
GRID_ALPHA = 0.15
ORIGINAL = (150, 150, 150)
"""The original clip in the skeleton view: neutral grey under the coloured result."""
CURSOR = (255, 204, 0)
"""The current-time line: Maya's time-slider yellow-orange."""
LOSS = (80, 170, 255)
VAL_LOSS = (255, 140, 60)

STATE_COLOURS = {
    "queued": "#9e9e9e",
    "running": "#4fc3f7",
    "done": "#81c784",
    "failed": "#e57373",
    "cancelled": "#ffb74d",
}


LIMB_HUES = {
    ("left", "leg"): (0.56, 0.66),
    ("left", "arm"): (0.36, 0.50),
    ("right", "leg"): (0.98, 1.08),
    ("right", "arm"): (0.76, 0.92),
    ("centre", "spine"): (0.12, 0.20),
}
"""Hue range per (side, limb): left blue/cyan, right red/magenta, the spine yellow-green."""

_LEFT = re.compile(r"^(left|l(?=[A-Z_])|l_)", re.IGNORECASE)
_RIGHT = re.compile(r"^(right|r(?=[A-Z_])|r_)", re.IGNORECASE)


def joint_side(name: str) -> str:
    """``left``, ``right`` or ``centre`` from a joint name (LeftArm, LThumb, l_knee...)."""
    if re.match(r"^left", name, re.IGNORECASE) or re.match(r"^L(?=[A-Z_])", name) or name.lower().startswith("l_"):
        return "left"
    if re.match(r"^right", name, re.IGNORECASE) or re.match(r"^R(?=[A-Z_])", name) or name.lower().startswith("r_"):
        return "right"
    return "centre"


def limb_groups(names: list[str], parents: list[int] | None = None) -> list[tuple[str, str]]:
    """(side, limb) of each joint: a sided joint below a centre joint other than the root is an arm."""
    groups = []
    for j, name in enumerate(names):
        side = joint_side(name)
        if side == "centre":
            groups.append(("centre", "spine"))
            continue
        limb = "leg"
        if parents is not None:
            k = parents[j]
            while k > 0 and joint_side(names[k]) != "centre":
                k = parents[k]
            limb = "arm" if k > 0 else "leg"
        elif re.search(r"arm|hand|shoulder|thumb|finger|clav", name, re.IGNORECASE):
            limb = "arm"
        groups.append((side, limb))
    return groups


def joint_colors(count: int, names: list[str] | None = None, parents: list[int] | None = None) -> list[QtGui.QColor]:
    """Colours for ``count`` joints that tell them apart and group them by limb.

    With names, each limb gets its hue family (left blue/cyan, right
    red/magenta, spine yellow-green) so left and right never look alike, and
    joints along a limb step through the family's hues and three lightness
    levels, so neighbours in the list and on the plot differ. Without names,
    golden-ratio hues.
    """
    if not names or len(names) != count:
        colours = []
        for i in range(count):
            hue = (0.07 + i * 0.618033988749895) % 1.0
            lightness = (0.62, 0.5, 0.72)[i % 3]
            saturation = (0.85, 0.75, 0.9)[(i // 3) % 3]
            r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
            colours.append(QtGui.QColor(int(r * 255), int(g * 255), int(b * 255)))
        return colours
    groups = limb_groups(names, parents)
    members: dict[tuple[str, str], list[int]] = {}
    for j, group in enumerate(groups):
        members.setdefault(group, []).append(j)
    colours: list[QtGui.QColor] = [QtGui.QColor()] * count
    for group, joints in members.items():
        lo, hi = LIMB_HUES.get(group, (0.3, 0.38))
        n = len(joints)
        for k, j in enumerate(joints):
            hue = (lo + (hi - lo) * (k / max(n - 1, 1))) % 1.0
            lightness = (0.76, 0.44, 0.60)[k % 3]
            saturation = (0.95, 0.8)[k % 2]
            r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
            colours[j] = QtGui.QColor(int(r * 255), int(g * 255), int(b * 255))
    return colours


def colour_distance(a: QtGui.QColor, b: QtGui.QColor) -> float:
    """A perceptual distance (CIE76 Delta E in Lab): below about 10, two curves are hard to tell apart."""

    def lab(c: QtGui.QColor) -> tuple[float, float, float]:
        def lin(v: float) -> float:
            v /= 255.0
            return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

        r, g, bl = lin(c.red()), lin(c.green()), lin(c.blue())
        x = (0.4124 * r + 0.3576 * g + 0.1805 * bl) / 0.95047
        y = 0.2126 * r + 0.7152 * g + 0.0722 * bl
        z = (0.0193 * r + 0.1192 * g + 0.9505 * bl) / 1.08883

        def f(t: float) -> float:
            return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

        fx, fy, fz = f(x), f(y), f(z)
        return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)

    la, lb = lab(a), lab(b)
    return float(sum((p - q) ** 2 for p, q in zip(la, lb)) ** 0.5)


def swatch(colour: QtGui.QColor, size: int = 12) -> QtGui.QIcon:
    """A small square icon of a colour, for list items."""
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(colour)
    return QtGui.QIcon(pixmap)


PANEL_STYLE = """
QGroupBox { font-weight: bold; border: 1px solid #444; border-radius: 4px; margin-top: 14px; padding-top: 6px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; }
QLabel#status[level="error"] { color: #ff8a80; }
QLabel#status[level="warning"] { color: #ffd180; }
QLabel#caption { color: #9e9e9e; }
QToolButton:checked { background-color: #5285a6; color: white; border: 1px solid #3d6680; border-radius: 3px; padding: 2px 6px; }
QLabel#figure { font-family: monospace; }
"""
"""Styles the panel sets on itself only, never on the application (Maya's own look stays)."""


UI_POINT_SIZE = 8.5
"""The standalone panel's font size, about Maya's own UI font."""


def apply_dark_theme(app: QtWidgets.QApplication) -> None:
    """Maya's dark look for the standalone window (inside Maya, Maya's own theme applies).

    The font too: the panel is laid out for a UI font the size of Maya's
    (8.5 pt), and a Qt 5 build on Linux defaults to 12 pt, which would clip
    labels at dock size.
    """
    app.setStyle("Fusion")
    font = app.font()
    font.setPointSizeF(UI_POINT_SIZE)
    app.setFont(font)
    palette = QtGui.QPalette()
    role = QtGui.QPalette.ColorRole
    colours = {
        role.Window: "#3c3c3c",
        role.WindowText: "#dcdcdc",
        role.Base: "#2b2b2b",
        role.AlternateBase: "#353535",
        role.ToolTipBase: "#f0f0f0",
        role.ToolTipText: "#202020",
        role.Text: "#dcdcdc",
        role.Button: "#4a4a4a",
        role.ButtonText: "#dcdcdc",
        role.BrightText: "#ff5252",
        role.Highlight: "#5285a6",
        role.HighlightedText: "#ffffff",
        role.Link: "#6fb3e0",
        role.PlaceholderText: "#8a8a8a",
    }
    for key, value in colours.items():
        palette.setColor(key, QtGui.QColor(value))
    disabled = QtGui.QPalette.ColorGroup.Disabled
    for key in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, key, QtGui.QColor("#7a7a7a"))
    app.setPalette(palette)


def media_icon(kind: str, colour: str = "#d0d0d0", size: int = 16) -> QtGui.QIcon:
    """Transport icons drawn here, legible on dark and light themes alike.

    ``kind``: ``play``, ``pause``, ``first``, ``last``, ``prev`` or ``next``.
    """
    from .qt import QtCore

    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(0, 0, 0, 0))
    painter = QtGui.QPainter(pixmap)
    painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
    painter.setPen(QtCore.Qt.PenStyle.NoPen)
    painter.setBrush(QtGui.QColor(colour))
    s, m = float(size), size * 0.2

    def triangle(x0: float, x1: float) -> None:
        painter.drawPolygon(QtGui.QPolygonF([QtCore.QPointF(x0, m), QtCore.QPointF(x1, s / 2), QtCore.QPointF(x0, s - m)]))

    def bar(x: float) -> None:
        painter.drawRect(QtCore.QRectF(x, m, s * 0.14, s - 2 * m))

    if kind == "play":
        triangle(s * 0.28, s * 0.8)
    elif kind == "pause":
        bar(s * 0.28)
        bar(s * 0.58)
    elif kind == "next":
        triangle(s * 0.22, s * 0.66)
        bar(s * 0.66)
    elif kind == "prev":
        bar(s * 0.2)
        triangle(s * 0.78, s * 0.34)
    elif kind == "last":
        triangle(s * 0.1, s * 0.45)
        triangle(s * 0.42, s * 0.77)
        bar(s * 0.77)
    elif kind == "first":
        bar(s * 0.09)
        triangle(s * 0.58, s * 0.23)
        triangle(s * 0.9, s * 0.55)
    painter.end()
    return QtGui.QIcon(pixmap)
