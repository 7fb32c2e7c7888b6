"""Operator actions shared by the command line and the console (they only write the management cluster)."""

from __future__ import annotations


class ActionError(Exception):
    """An action could not be done; the message is one clear sentence, safe to show (never a secret)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
