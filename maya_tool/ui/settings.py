"""What the panel remembers between sessions, behind one small class.

Values go through QSettings in INI format, but lists and dicts are stored as
JSON strings: QSettings turns a one-element list into a plain string in INI
files and PySide2/PySide6 convert types differently, so JSON is the only way
to read back exactly what was written under both bindings.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .qt import QtCore

ORGANISATION = "mocap-ae"
APPLICATION = "panel"
SETTINGS_ENV = "MOCAP_AE_SETTINGS"
"""Environment variable naming an INI file to use instead of the user's settings (CI, tests)."""

MAX_RECENT = 10


class Settings:
    """Typed access to the panel's QSettings.

    Args:
        path: INI file to use. Defaults to ``$MOCAP_AE_SETTINGS`` when set,
            else the per-user ``mocap-ae/panel.ini`` that Qt places in the
            platform's config folder.
    """

    def __init__(self, path: os.PathLike[str] | str | None = None) -> None:
        path = path if path is not None else os.environ.get(SETTINGS_ENV) or None
        if path is not None:
            self.qsettings = QtCore.QSettings(os.fspath(path), QtCore.QSettings.Format.IniFormat)
        else:
            self.qsettings = QtCore.QSettings(
                QtCore.QSettings.Format.IniFormat, QtCore.QSettings.Scope.UserScope, ORGANISATION, APPLICATION
            )

    @property
    def path(self) -> str:
        return str(self.qsettings.fileName())

    def get(self, key: str, default: Any = None) -> Any:
        """A JSON value stored with :meth:`set`, or ``default`` when absent or unreadable."""
        raw = self.qsettings.value(key)
        if raw is None or raw == "":
            return default
        try:
            return json.loads(str(raw))
        except ValueError:
            return default

    def set(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, json.dumps(value))

    def get_bytes(self, key: str) -> QtCore.QByteArray | None:
        """Widget state (splitters, window geometry) saved with :meth:`set_bytes`."""
        raw = self.qsettings.value(key)
        if not raw:
            return None
        return QtCore.QByteArray.fromBase64(QtCore.QByteArray(str(raw).encode("ascii")))

    def set_bytes(self, key: str, value: QtCore.QByteArray) -> None:
        self.qsettings.setValue(key, bytes(value.toBase64().data()).decode("ascii"))

    def sync(self) -> None:
        self.qsettings.sync()

    def recent_clips(self) -> list[str]:
        value = self.get("recent_clips", [])
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_recent_clip(self, path: os.PathLike[str] | str) -> list[str]:
        """Put a clip first in the recent list (no duplicates, at most :data:`MAX_RECENT`)."""
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_clips() if p != path]
        recent = recent[:MAX_RECENT]
        self.set("recent_clips", recent)
        return recent

    def model_dirs(self) -> list[str]:
        """Folders the artist added to the model list, on top of the defaults."""
        value = self.get("model_dirs", [])
        return [str(v) for v in value] if isinstance(value, list) else []

    def add_model_dir(self, folder: os.PathLike[str] | str) -> list[str]:
        folder = str(Path(folder).resolve())
        dirs = self.model_dirs()
        if folder not in dirs:
            dirs.append(folder)
            self.set("model_dirs", dirs)
        return dirs
