"""The context handed to every per-object reconcile function, and the result they return."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable
from gitops_tui.kube.events import EventRecorder

if TYPE_CHECKING:  # pragma: no cover - typing only
    from kubernetes.client import ApiClient
    from kubernetes.dynamic import DynamicClient

    from gitops_tui.reconciler.source import GitSource

__all__ = ["ClusterUnreachable", "ReconcileContext", "ReconcileResult", "utc_now"]


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def _always_leader() -> bool:
    return True


def _never_stop(namespace: str, name: str) -> bool:
    return False


def _no_requeue(kind: str, namespace: str, name: str) -> None:
    return None


@dataclass
class ReconcileResult:
    """What a reconcile function returns: when to run again (seconds), or None for the default interval."""

    requeue_after: float | None = None


@dataclass
class ReconcileContext:
    """Everything a reconcile function may use: clients, cluster connections, events, git, clocks.

    - ``api_client`` / ``dynamic``: the management cluster.
    - ``clusters.get(name) -> (api_client, dynamic)`` or raises ``ClusterUnreachable``.
    - ``recorder.emit(involved, type, reason, message, cluster=, revision=)`` writes core/v1 Events.
    - ``is_leader()``: this process holds the lease (always True when run without election).
    - ``should_stop(namespace, name)``: True once the source was suspended or deleted since the
      reconcile began, or leadership was lost; check it before every write to a cluster.
    - ``requeue(kind, namespace, name)``: ask the manager to reconcile another object at once
      (``kind`` is a management kind such as ``"FederatedKustomization"``).
    - ``now()``: aware UTC datetime (tests may inject a fake clock).
    """

    api_client: ApiClient
    dynamic: DynamicClient
    clusters: ClusterConnections
    recorder: EventRecorder
    git: GitSource | Any
    data_dir: Path
    is_leader: Callable[[], bool] = field(default=_always_leader)
    should_stop: Callable[[str, str], bool] = field(default=_never_stop)
    requeue: Callable[[str, str, str], None] = field(default=_no_requeue)
    now: Callable[[], datetime] = field(default=utc_now)
