"""Helm release rows for the console from watches of Helm's storage Secrets on each placed cluster: no polling."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from gitops_tui.helm.cluster_view import HelmView, project_placements
from gitops_tui.helm.listing import ReleaseRow, records_from_secrets, release_rows
from gitops_tui.helm.storage import OWNER_LABEL_SELECTOR, SECRET_TYPE
from gitops_tui.kube.client import ClusterConnections
from gitops_tui.kube.watch import ResourceWatch

log = logging.getLogger(__name__)


class WatchedReleases:
    """A Helm pane provider (``views.helm.register_provider``): one watch per placed cluster, rows rebuilt on change.

    Each cluster's Helm storage Secrets (label ``owner=helm``) are listed once and then watched; a
    change calls ``on_change`` (the console redraws the pane). ``view`` answers the detail view's
    history like ``cluster_view.HelmView``. ``listed(cluster)`` says whether a cluster's first list is in.
    """

    def __init__(self, connections: ClusterConnections, on_change: Callable[[], object]) -> None:
        self._connections = connections
        self._on_change = on_change
        self._lock = threading.Lock()
        self._watches: dict[str, ResourceWatch] = {}
        self._placements: dict[str, list[str]] = {}
        self._view = HelmView([])
        self._dirty = True
        self._closed = False

    def __call__(self, state: Any) -> list[ReleaseRow]:
        """Return the rows; start or stop watches when projects or clusters moved."""
        self._follow(project_placements(state.items("projects"), state.items("clusters")))
        return list(self.view.rows)

    @property
    def view(self) -> HelmView:
        """The releases last seen on every watched cluster."""
        with self._lock:
            if self._dirty:
                self._view, self._dirty = self._build(), False
            return self._view

    def listed(self, cluster: str) -> bool:
        """True once the first list of ``cluster``'s Helm storage is in."""
        watch = self._watches.get(cluster)
        return bool(watch and watch.synced.is_set())

    def close(self) -> None:
        """Stop every watch."""
        with self._lock:
            self._closed = True
            watches, self._watches = list(self._watches.values()), {}
        for watch in watches:
            watch.stop(timeout=1.0)

    def _follow(self, placements: dict[str, list[str]]) -> None:
        wanted = {cluster for clusters in placements.values() for cluster in clusters}
        with self._lock:
            if self._closed or (placements == self._placements and wanted <= set(self._watches)):
                return
            self._placements, self._dirty = placements, True
            gone = [self._watches.pop(c) for c in list(self._watches) if c not in wanted]
            missing = sorted(wanted - set(self._watches))
        for watch in gone:
            watch.stop(timeout=1.0)
        for cluster in missing:
            self._start(cluster)

    def _start(self, cluster: str) -> None:
        try:
            client = self._connections.api_client(cluster)
        except Exception as exc:  # noqa: BLE001 - tried again at the next redraw
            log.info("cluster %s: Helm releases not watched yet: %s", cluster, type(exc).__name__)
            return
        watch = ResourceWatch(client, "/api/v1/secrets", self._changed, label_selector=OWNER_LABEL_SELECTOR,
                              name=f"helm {cluster}", timeout_seconds=300, drop_managed_fields=True)
        with self._lock:
            if self._closed or cluster in self._watches:
                return
            self._watches[cluster] = watch
        watch.start()

    def _changed(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        with self._lock:
            self._dirty = True
        self._on_change()

    def _build(self) -> HelmView:
        """Decode the watched Secrets of each cluster's placed namespaces (called under the lock)."""
        namespaces: dict[str, set[str]] = {}
        for namespace, clusters in self._placements.items():
            for cluster in clusters:
                namespaces.setdefault(cluster, set()).add(namespace)
        records = {}
        for cluster, watch in self._watches.items():
            secrets = [s for s in watch.items() if s.get("type") == SECRET_TYPE
                       and (s.get("metadata") or {}).get("namespace") in namespaces.get(cluster, set())]
            records[cluster] = records_from_secrets(cluster, secrets)
        return HelmView(release_rows(records), records)
