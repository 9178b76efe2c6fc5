"""The Qt 5/6 shims the Maya glue relies on, on whichever binding this leg runs."""

from __future__ import annotations

from tests import ui_support  # noqa: F401  (offscreen before Qt loads)

from maya_tool.ui import qt


def test_wrap_pointer_gives_back_the_widget_maya_would_hand_over(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = qt.QtWidgets.QWidget()
    widget.setObjectName("mocapAEWorkspaceControl")
    layout = qt.QtWidgets.QVBoxLayout(widget)
    qtbot.addWidget(widget)
    wrapped = qt.wrap_pointer(qt.pointer_of(widget))
    assert wrapped.objectName() == "mocapAEWorkspaceControl"
    assert wrapped.layout() is layout or wrapped.layout().objectName() == layout.objectName()
    child = qt.QtWidgets.QLabel("panel")
    wrapped.layout().addWidget(child)
    assert child.parent() is not None and child.parent().objectName() == "mocapAEWorkspaceControl"
