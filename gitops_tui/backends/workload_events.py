"""The console's watches of Warning Events on each workload cluster: those about a source's objects join the stream.

One watch per placed cluster, field-selected ``type=Warning`` and keeping no cache (the state's Events ring is
the only copy), so an idle cluster costs one open watch and nothing else. Each Warning about an object a source
manages there (api.workload_events) becomes a stream Event tagged with its cluster and source.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gitops_tui.api.paths import resource_path
from gitops_tui.api.workload_events import WARNING_SELECTOR, managed_objects, owning_source, stream_event
from gitops_tui.helm.cluster_view import project_placements
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable
from gitops_tui.kube.watch import ResourceWatch
from gitops_tui.views.state import Change, ManagementState

log = logging.getLogger(__name__)

#: The state kinds whose change may move the watched clusters or what the sources manage.
FOLLOWED_KINDS = ("projects", "clusters", "kustomizations")


class WorkloadWarnings:
    """Watches Warning Events on every placed workload cluster and emits those about managed objects."""

    def __init__(self, connections: ClusterConnections, state: ManagementState,
                 emit: Callable[[list[Change]], None]) -> None:
        self._connections = connections
        self._state = state
        self._emit = emit
        self._lock = threading.Lock()
        self._watches: dict[str, ResourceWatch] = {}
        self._seen: tuple[int, ...] = ()
        self._managed: dict[str, Any] = {}
        self._closed = False

    def follow(self) -> None:
        """Start or stop watches when projects or clusters moved; re-index what the sources manage (cheap when idle)."""
        versions = tuple(self._state.kind_versions.get(k, 0) for k in FOLLOWED_KINDS)
        if versions == self._seen:
            return
        self._seen = versions
        managed = managed_objects(self._state.items("kustomizations"))
        placements = project_placements(self._state.items("projects"), self._state.items("clusters"))
        wanted = {cluster for clusters in placements.values() for cluster in clusters}
        with self._lock:
            if self._closed:
                return
            self._managed = managed
            gone = [self._watches.pop(c) for c in list(self._watches) if c not in wanted]
            missing = sorted(wanted - set(self._watches))
        for watch in gone:
            watch.stop(timeout=1.0)
        for cluster in missing:
            self._start(cluster)

    def clusters(self) -> list[str]:
        """The clusters watched now."""
        with self._lock:
            return sorted(self._watches)

    def close(self) -> None:
        """Stop every watch."""
        with self._lock:
            self._closed = True
            watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            watch.stop(timeout=1.0)

    def _start(self, cluster: str) -> None:
        try:
            client = self._connections.api_client(cluster)
        except ClusterUnreachable as exc:  # tried again when the clusters change (the cluster turning Ready)
            log.info("cluster %s: Warning events not watched: %s", cluster, exc.reason)
            self._seen = ()
            return
        except Exception as exc:  # noqa: BLE001 - tried again at the next change
            log.info("cluster %s: Warning events not watched: %s", cluster, type(exc).__name__)
            self._seen = ()
            return
        watch = ResourceWatch(client, resource_path("v1", "events"), self._handler(cluster), field_selector=WARNING_SELECTOR,
                              name=f"warnings {cluster}", timeout_seconds=300, keep=False, drop_managed_fields=True)
        with self._lock:
            if self._closed or cluster in self._watches:
                return
            self._watches[cluster] = watch
        watch.start()

    def _handler(self, cluster: str) -> Callable[[str, dict[str, Any], dict[str, Any] | None], None]:
        def handle(kind: str, event: dict[str, Any], old: dict[str, Any] | None) -> None:
            if kind == "DELETED" or event.get("type") != "Warning":
                return  # the stream keeps what was seen, as for the management Events
            with self._lock:
                managed = self._managed
            found = owning_source(cluster, event, managed)
            if found is not None:
                self._emit([Change("events", kind, stream_event(cluster, event, *found))])

        return handle
