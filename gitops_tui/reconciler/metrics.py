"""The reconciler's Prometheus metrics (prometheus_client), served by `run --health-listen` at GET /metrics.

One registry per process (``REGISTRY``), not the library's global one, so that only these series are served.
Labels are operator-known names (project, source, cluster, result), never tenant text beyond an object's name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)
#: The classic text format (every Prometheus reads it; our names are all legal classic names).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

RECONCILE_DURATION = Histogram(
    "gitops_tui_reconcile_duration_seconds", "How long one reconcile of a source took, by its result.",
    ["project", "source", "cluster", "result"], registry=REGISTRY,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
SOURCE_READY = Gauge("gitops_tui_source_ready", "1 when the source's last reconcile succeeded, else 0.",
                     ["project", "source"], registry=REGISTRY)
OBJECTS_APPLIED = Counter("gitops_tui_objects_applied", "Objects applied to a cluster.",
                          ["project", "cluster"], registry=REGISTRY)
OBJECTS_PRUNED = Counter("gitops_tui_objects_pruned", "Objects pruned from a cluster.",
                         ["project", "cluster"], registry=REGISTRY)
DRIFT_CORRECTED = Counter("gitops_tui_drift_corrected", "Drifted objects corrected on a cluster.",
                          ["project", "cluster"], registry=REGISTRY)
GIT_FETCH_DURATION = Histogram("gitops_tui_git_fetch_duration_seconds", "How long one git fetch took.",
                               ["result"], registry=REGISTRY, buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
SHARDS_HELD = Gauge("gitops_tui_shards_held", "Shards this reconciler holds.", registry=REGISTRY)
ALERT_DELIVERIES = Counter("gitops_tui_alert_deliveries", "Alert messages, by result (sent, failed, retried, "
                           "suppressed by the rate limit, refused by the allow-list).", ["format", "result"],
                           registry=REGISTRY)
HOLDS_ACTIVE = Gauge("gitops_tui_holds_active", "Sources held, by kind of hold (freeze, pin).", ["kind"],
                     registry=REGISTRY)


def observe_reconcile(project: str, source: str, seconds: float, failed: bool, cluster: str = "") -> None:
    """Record one reconcile of a source (``cluster`` empty: the whole source) and its readiness."""
    result = "failure" if failed else "success"
    RECONCILE_DURATION.labels(project, source, cluster or "all", result).observe(seconds)
    SOURCE_READY.labels(project, source).set(0 if failed else 1)


def count_objects(project: str, cluster: str, applied: int, pruned: int) -> None:
    """Count the objects one apply to ``cluster`` applied and pruned."""
    OBJECTS_APPLIED.labels(project, cluster).inc(applied)
    OBJECTS_PRUNED.labels(project, cluster).inc(pruned)


@contextmanager
def git_fetch() -> Iterator[dict[str, str]]:
    """Time one git check or fetch; the caller sets ``result`` (``fetched`` or ``unchanged``); an error is ``failed``."""
    outcome = {"result": "failed"}
    started = time.monotonic()
    try:
        yield outcome
    finally:
        GIT_FETCH_DURATION.labels(outcome["result"]).observe(time.monotonic() - started)


def exposition(refresh: Callable[[], None] | None = None) -> bytes:
    """The Prometheus text format of every metric (``refresh`` first sets the gauges read on demand)."""
    if refresh is not None:
        try:
            refresh()
        except Exception:  # noqa: BLE001 - a failed refresh serves the last values
            pass
    return generate_latest(REGISTRY)
