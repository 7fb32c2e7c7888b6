"""What the sandbox's store answers with: its refusals and the log's events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class StoreError(Exception):
    """Base class of the store's refusals."""


class NotFound(StoreError):
    """The object does not exist."""


class AlreadyExists(StoreError):
    """An object with that key already exists."""


class Conflict(StoreError):
    """The caller's resourceVersion precondition is stale."""


class Expired(StoreError):
    """The requested resourceVersion is older than the kept history."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"too old resource version: {requested} ({compacted})")
        self.requested = requested
        self.compacted = compacted


class StoreClosed(StoreError):
    """The store has been closed."""


@dataclass(frozen=True)
class LogEvent:
    """One change from the log: ADDED, MODIFIED or DELETED with the object at that revision."""

    revision: int
    type: str
    group: str
    plural: str
    namespace: str
    name: str
    object: dict[str, Any]
