"""The few Qt names that moved between Qt 5 and Qt 6, in one place.

Maya 2022-2024 ship PySide2 (Qt 5.15), Maya 2025+ and the standalone panel run
PySide6. Qt.py hides most differences; the rest (``QAction``/``QShortcut``
moved from QtWidgets to QtGui, ``exec_`` renamed ``exec``, mouse event
positions) is wrapped here so the widgets never test the binding themselves.
Enums are always written fully scoped (``Qt.AlignmentFlag.AlignLeft``), which
both bindings accept and newer PySide6 requires.
"""

from __future__ import annotations

import contextlib
import io
import sys
from typing import Any


def _import_qt_quietly() -> None:
    """Import Qt.py, dropping its warnings about QtMultimedia only.

    Qt.py imports every submodule it knows and prints an ImportError for each
    that fails; QtMultimedia needs libpulse, which Maya hosts and CI machines
    often lack, and nothing here uses it. Other warnings still reach stderr.
    """
    if "Qt" in sys.modules:
        return
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        import Qt  # noqa: F401
    for line in captured.getvalue().splitlines():
        if "ImportError(QtMultimedia" not in line:
            print(line, file=sys.stderr)


_import_qt_quietly()

from Qt import QtCore, QtGui, QtWidgets  # noqa: E402, F401  (re-exported for the widgets)

Qt = QtCore.Qt
Signal = QtCore.Signal
Slot = QtCore.Slot

QAction: Any = getattr(QtGui, "QAction", None) or QtWidgets.QAction
QShortcut: Any = getattr(QtGui, "QShortcut", None) or QtWidgets.QShortcut


def exec_(obj: Any, *args: Any) -> Any:
    """Run a dialog, menu or application loop under either binding."""
    run = getattr(obj, "exec", None) or obj.exec_
    return run(*args)


def application() -> QtWidgets.QApplication:
    """The running QApplication, created when this process has none yet."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication([])
    return app  # type: ignore[return-value]


def binding() -> str:
    """``PySide6 6.5.3 (Qt 6.5.3)``: for bug reports and the About line."""
    import Qt as qt_module

    return f"{qt_module.__binding__} {qt_module.__binding_version__} (Qt {QtCore.qVersion()})"


def wrap_pointer(pointer: int, base: Any = None) -> Any:
    """The Python widget for a C++ ``QWidget*`` (what Maya's ``MQtUtil.findControl`` returns).

    Goes through Qt.py's ``QtCompat.wrapInstance`` (shiboken2 or shiboken6),
    so the Maya glue never imports a binding itself.
    """
    from Qt import QtCompat

    return QtCompat.wrapInstance(int(pointer), base or QtWidgets.QWidget)


def pointer_of(widget: Any) -> int:
    """The C++ address of a widget, the inverse of :func:`wrap_pointer`."""
    from Qt import QtCompat

    pointer = QtCompat.getCppPointer(widget)
    return int(pointer[0] if isinstance(pointer, (tuple, list)) else pointer)
