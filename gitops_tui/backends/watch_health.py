"""A management watch that reports to FeedHealth when it re-lists, fails or is live again."""

from __future__ import annotations

from typing import Any

from gitops_tui.kube.watch import ResourceVersionExpired, ResourceWatch
from gitops_tui.views.feedhealth import FeedHealth


class ReportingWatch(ResourceWatch):
    """ResourceWatch telling ``health`` about its state under ``kind``; after a failure it re-lists at once."""

    def __init__(self, *args: Any, health: FeedHealth, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.health = health
        """Where the state of this watch is reported."""
        self.kind = kind
        """The state key of the watched kind (projects, clusters, ...)."""

    def _relist(self) -> None:
        self.health.listing(self.kind)
        try:
            super()._relist()
        except Exception as exc:
            self._failed(exc)
            raise
        self.health.healthy(self.kind)

    def _watch_once(self) -> None:
        try:
            super()._watch_once()
        except Exception as exc:
            if not isinstance(exc, ResourceVersionExpired):
                self._failed(exc)
                # Relist on the next round: it tells at once whether the cluster answers again.
                self.resource_version = None
            raise

    def _failed(self, exc: BaseException) -> None:
        if not self.stopped:
            self.health.failing(self.kind, _reason(exc))


def _reason(exc: BaseException) -> str:
    """One short, secret-free reason for a failed list or watch."""
    status = getattr(exc, "status", None)
    if status:
        return f"HTTP {status}"
    return f"no answer ({type(exc).__name__})"
