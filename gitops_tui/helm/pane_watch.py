"""Helm release rows for the console from watches of Helm's storage Secrets on each placed cluster: no polling."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gitops_tui.api.paths import resource_path
from gitops_tui.helm.cluster_view import HelmView, project_placements
from gitops_tui.helm.listing import ReleaseRow, records_from_secrets, release_rows
from gitops_tui.helm.storage import OWNER_LABEL_SELECTOR, SECRET_TYPE
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable
from gitops_tui.kube.watch import ResourceWatch

log = logging.getLogger(__name__)

#: Seconds a cluster may take to answer its first listing before the pane stops saying "loading" for it.
FIRST_LIST_WAIT = 10.0


class WatchedReleases:
    """A Helm pane provider (registered in a backend's ``views.helm.HelmSources``): one watch per placed cluster, rows rebuilt on change.

    Each cluster's Helm storage Secrets (label ``owner=helm``) are listed once and then watched; a
    change calls ``on_change`` (the console redraws the pane). ``view`` answers the detail view's
    history like ``cluster_view.HelmView``; ``loading(state)`` and ``failing()`` answer as
    ``cluster_view.PaneFeed`` does (the pane says loading until every placed cluster answered; a
    cluster that cannot be reached keeps its last rows and says why).
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
        self._errors: dict[str, str] = {}
        self._good_at: dict[str, str] = {}
        self._started: dict[str, float] = {}
        self._placed: dict[str, list[str]] = {}
        self._placed_at: tuple[int, ...] = ()

    def __call__(self, state: Any) -> list[ReleaseRow]:
        """Return the rows; start or stop watches when projects or clusters moved."""
        self._follow(self._placements_of(state))
        return list(self.view.rows)

    @property
    def view(self) -> HelmView:
        """The releases last seen on every watched cluster."""
        with self._lock:
            if self._dirty:
                self._view, self._dirty = self._build(), False
            return self._view

    def loading(self, state: Any) -> bool:
        """True until every placed cluster's Helm storage was listed once (or could not be, within FIRST_LIST_WAIT)."""
        self._follow(self._placements_of(state))
        now = time.monotonic()
        with self._lock:
            waiting = False
            for cluster in {c for clusters in self._placements.values() for c in clusters}:
                watch = self._watches.get(cluster)
                if cluster in self._errors or (watch is not None and watch.synced.is_set()):
                    continue
                if now - self._started.get(cluster, now) > FIRST_LIST_WAIT:
                    self._errors[cluster] = f"no answer to the listing of Helm releases within {FIRST_LIST_WAIT:.0f}s"
                    continue
                waiting = True
            return waiting

    def _placements_of(self, state: Any) -> dict[str, list[str]]:
        """Namespace -> clusters to show releases of (platform projects' namespaces too), cached per state change."""
        versions = tuple(state.kind_versions.get(k, 0) for k in ("projects", "clusters", "kustomizations"))
        if versions != self._placed_at:
            self._placed = project_placements(state.items("projects"), state.items("clusters"),
                                              kustomizations=state.items("kustomizations"))
            self._placed_at = versions
        return self._placed

    def failing(self) -> dict[str, tuple[str, str]]:
        """Cluster -> (time of its last good answer, '' if none; why it cannot be watched now)."""
        with self._lock:
            return {c: (self._good_at.get(c, ""), why) for c, why in self._errors.items()}

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
        except ClusterUnreachable as exc:  # a refused kubeconfig or a cluster not reachable: tried again later
            log.info("cluster %s: Helm releases not watched yet: %s", cluster, exc.reason)
            with self._lock:
                self._errors[cluster], self._dirty = f"{exc.reason}: {exc.detail}", True
            return
        except Exception as exc:  # noqa: BLE001 - tried again at the next redraw
            log.info("cluster %s: Helm releases not watched yet: %s", cluster, type(exc).__name__)
            with self._lock:
                self._errors[cluster] = f"ClusterNotReachable: cluster is not reachable ({type(exc).__name__})"
                self._dirty = True
            return
        watch = ResourceWatch(client, resource_path("v1", "secrets"), self._changed, label_selector=OWNER_LABEL_SELECTOR,
                              name=f"helm {cluster}", timeout_seconds=300, drop_managed_fields=True)
        with self._lock:
            if self._closed or cluster in self._watches:
                return
            self._watches[cluster] = watch
            self._errors.pop(cluster, None)
            self._started[cluster] = time.monotonic()
        watch.start()

    def _changed(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A Helm storage Secret changed on a cluster: the rows are rebuilt at the next redraw."""
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
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        for cluster, watch in self._watches.items():
            if watch.synced.is_set():
                self._good_at[cluster] = stamp
                if self._errors.get(cluster, "").startswith("no answer"):
                    del self._errors[cluster]
            secrets = [s for s in watch.items() if s.get("type") == SECRET_TYPE
                       and (s.get("metadata") or {}).get("namespace") in namespaces.get(cluster, set())]
            records[cluster] = records_from_secrets(cluster, secrets)
        for cluster in self._errors:
            records.setdefault(cluster, [])
        return HelmView(release_rows(records), records, dict(self._errors))
