"""Typed reconcile failures with a Flux-style `reason` and one clear message; the API server's refusal on one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubernetes.dynamic.exceptions import DynamicApiError


class ReconcileError(Exception):
    """A reconcile failure: `reason` is the condition reason, `message` one clear sentence.

    Messages never contain secret values. `origin` names the file (and document) when known,
    `object` names the object as "Kind/name" when known.
    """

    reason = "ReconciliationFailed"

    def __init__(self, message: str, *, origin: str = "", object: str = "") -> None:  # noqa: A002
        """Record the message and what it is about."""
        super().__init__(message)
        self.message = message
        self.origin = origin
        self.object = object

    def __str__(self) -> str:
        """The message."""
        return self.message


class GitOperationFailed(ReconcileError):
    """Cloning or fetching failed: unreachable, wrong credentials, missing ref, timeout."""

    reason = "GitOperationFailed"


class AuthenticationFailed(ReconcileError):
    """The credentials Secret is missing or has none of the expected keys."""

    reason = "AuthenticationFailed"


class ArtifactFailed(ReconcileError):
    """The fetched revision cannot be used: missing path, unsafe content, checkout failure."""

    reason = "ArtifactFailed"


class BuildFailed(ReconcileError):
    """`kustomize build` (or another renderer) failed; the message carries its error output."""

    reason = "BuildFailed"


class KustomizeNotFound(BuildFailed):
    """Neither `kustomize` nor `kubectl` is on PATH, so a kustomization cannot be built."""

    reason = "KustomizeNotFound"


class ValidationFailed(ReconcileError):
    """A manifest is not valid: bad YAML, or an object without apiVersion/kind/metadata.name."""

    reason = "ValidationFailed"


class OverLimit(ValidationFailed):
    """The revision is too big or too expensive to use (kube.limits): an alias bomb, an object over 1.5 MiB."""

    reason = "LimitExceeded"  # names.REASON_LIMIT_EXCEEDED


class TenancyViolation(ReconcileError):
    """An object would land outside the project namespace, or is cluster-scoped or unknown."""

    reason = "TenancyViolation"


class ReferenceInvalid(ReconcileError):
    """A reference of the source's own objects is not a name, or names another namespace (api.references)."""

    reason = "ValidationFailed"

    def __init__(self, message: str, reason: str = "ValidationFailed") -> None:
        """Record the sentence and its reason (``AccessDenied`` for another namespace)."""
        super().__init__(message)
        self.reason = reason


class Stopped(Exception):
    """The source was suspended or deleted, or leadership was lost, before a write: nothing more is written."""


class ObjectFailure(Exception):
    """One object of a revision could not be applied, pruned or validated; the message names it."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def api_message(exc: DynamicApiError) -> str:
    """The API server's own message for a refused request (its Status summary) on one line, at most 400 characters
    (RBAC's escalation refusal lists the rules it misses one per line)."""
    try:
        summary = exc.summary()
    except Exception:  # noqa: BLE001 - summary parses the body
        summary = f"HTTP {getattr(exc, 'status', '?')}"
    return summary.replace("\n", " ")[:400]
