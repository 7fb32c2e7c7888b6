"""Typed Helm failures with Flux helm-controller's reasons, carrying Helm's own message."""

from __future__ import annotations

INSTALL_FAILED = "InstallFailed"
UPGRADE_FAILED = "UpgradeFailed"
ARTIFACT_FAILED = "ArtifactFailed"
VALUES_FAILED = "ValuesFailed"


class HelmReleaseFailed(Exception):
    """A release could not be rendered or installed; nothing of it was applied."""

    def __init__(self, reason: str, message: str, *, quotes_values: bool = True) -> None:
        """``quotes_values`` False marks a message made without any value (shown whole even with Secret data)."""
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.quotes_values = quotes_values


class WaitFailed(Exception):
    """A release's objects did not become ready within its timeout (Helm's wait); the message says which and why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
