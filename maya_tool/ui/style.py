"""Colours and fonts shared by every view, so a joint looks the same everywhere.

A joint's colour in the joint list, its error curve, its bar and its bones in
the skeleton view come from :func:`joint_colors`; the plots use the dark
theme Maya artists are used to.
"""

from __future__ import annotations

import colorsys

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


def joint_colors(count: int) -> list[QtGui.QColor]:
    """Distinct colours for ``count`` joints, stable for a given count.

    Hues follow the golden ratio so neighbouring joints (often the same limb,
    plotted next to each other) differ strongly; lightness alternates over
    three levels so 30 curves stay distinguishable on a dark background.
    """
    colours = []
    for i in range(count):
        hue = (0.07 + i * 0.618033988749895) % 1.0
        lightness = (0.62, 0.5, 0.72)[i % 3]
        saturation = (0.85, 0.75, 0.9)[(i // 3) % 3]
        r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
        colours.append(QtGui.QColor(int(r * 255), int(g * 255), int(b * 255)))
    return colours


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


def apply_dark_theme(app: QtWidgets.QApplication) -> None:
    """Maya's dark look for the standalone window (inside Maya, Maya's own theme applies)."""
    app.setStyle("Fusion")
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
