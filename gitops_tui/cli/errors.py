"""The one exception type the command line turns into a clear stderr sentence and exit code."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing error: printed as one sentence on stderr, no traceback."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
