"""Errors shown to the user and the exit codes of the `vanban` command."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    INPUT_FAILED = 1  # some inputs could not be processed (each named on stderr)
    USAGE = 2  # bad arguments, or an output directory vanban cannot use
    INTERRUPTED = 130


class VanbanError(Exception):
    """Bad input or environment: shown to the user as one line naming the file."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
