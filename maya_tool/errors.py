"""Errors that tell an artist what is wrong with a file and where.

Every reader raises :class:`MocapError` with the file, the 1-based row (line)
and column where parsing stopped and what was expected there, so the panel and
the Maya node can show one readable line instead of a traceback.
"""

from __future__ import annotations

import os
from typing import Optional


class MocapError(ValueError):
    """A problem with input data, located as precisely as the format allows.

    Attributes:
        path: The file that was being read, if any.
        row: 1-based line (or frame row) where the problem is, if known.
        column: 1-based column (field) where the problem is, if known.
        reason: The bare message, without the location prefix.
    """

    def __init__(
        self,
        reason: str,
        *,
        path: Optional[os.PathLike[str] | str] = None,
        row: Optional[int] = None,
        column: Optional[int] = None,
    ) -> None:
        self.path = os.fspath(path) if path is not None else None
        self.row = row
        self.column = column
        self.reason = reason
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


class ModelMismatchError(MocapError):
    """A model that does not fit a clip (joints or input size differ)."""
