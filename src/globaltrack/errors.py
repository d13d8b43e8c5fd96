"""User-facing errors: one clear line naming the file, the line and the problem."""
from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """An error caused by the user's input (missing folder, malformed file, unknown name).

    The CLI prints ``str(err)`` on one line and exits non-zero, without a traceback unless ``--debug``.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message


class AnnotationError(UserError):
    """A malformed annotation or result file."""


class FrameError(UserError):
    """A frame file that is missing or cannot be decoded: it costs the sequence it belongs to, not the run."""

