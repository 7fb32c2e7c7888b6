"""What the Reconciler feeds its metrics: each source reconcile timed with its result, corrections, holds, shards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from gitops_tui.api import alerts as al
from gitops_tui.api import names
from gitops_tui.reconciler import metrics


class _Measure:
    """Times one reconcile of a source; it failed when it raised or recorded a failure Event on its thread."""

    def __init__(self, owner: ReconcileMetrics, project: str, source: str) -> None:
        self._owner, self.project, self.source = owner, project, source
        self._started = 0.0

    def __enter__(self) -> _Measure:
        self._owner.local.failed = False
        self._started = time.monotonic()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        failed = kind is not None or bool(self._owner.local.failed)
        self._owner.local.failed = None
        metrics.observe_reconcile(self.project, self.source, time.monotonic() - self._started, failed)


class ReconcileMetrics:
    """The Reconciler's side of the metrics: a listener on its EventRecorder and the gauges set before a scrape."""

    def __init__(self) -> None:
        """Per-thread state: whether the reconcile running on this thread recorded a failure."""
        self.local = threading.local()

    def reconcile(self, project: str, source: str) -> _Measure:
        """A context manager timing one reconcile of ``source``."""
        return _Measure(self, project, source)

    def note_event(self, involved: dict[str, Any], type_: str, reason: str, message: str, cluster: str | None,
                   revision: str | None, namespace: str | None) -> None:
        """An EventRecorder listener: a failure marks this thread's reconcile failed; drift corrections count."""
        if getattr(self.local, "failed", None) is not None and \
                al.classify(str(involved.get("kind") or ""), type_, reason) == "failure":
            self.local.failed = True
        if reason == "DriftCorrected":
            meta = involved.get("metadata") or {}
            project = str((meta.get("labels") or {}).get(names.LABEL_PROJECT) or meta.get("namespace") or "")
            metrics.DRIFT_CORRECTED.labels(project, cluster or "all").inc()

    @staticmethod
    def refresh(elector: Any, kustomizations: Iterable[dict[str, Any]]) -> None:
        """Set the shards held (``elector`` None: no election, no gauge) and the freezes and pins active."""
        from gitops_tui.api.freeze import source_freeze
        from gitops_tui.api.pin import pin_of

        if elector is not None:
            metrics.SHARDS_HELD.set(len(elector.held()))
        sources = list(kustomizations)
        metrics.HOLDS_ACTIVE.labels("freeze").set(sum(1 for fk in sources if source_freeze(fk) is not None))
        metrics.HOLDS_ACTIVE.labels("pin").set(sum(1 for fk in sources if pin_of(fk) is not None))
