"""Read Helm's storage Secrets from every cluster of a project: release rows, per-cluster history, unreachable clusters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubernetes.client.exceptions import ApiException

from gitops_tui.api.formats import ObjectRef
from gitops_tui.api.paths import resource_path
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.project import Project
from gitops_tui.helm.listing import ReleaseRow, history, records_from_secrets, release_rows, short_time
from gitops_tui.helm.storage import OWNER_LABEL_SELECTOR, SECRET_TYPE, ReleaseRecord
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable, json_request

log = logging.getLogger(__name__)

#: (connect, read) seconds for one cluster's listing: an unreachable cluster must not stall the view.
LIST_TIMEOUT: tuple[float, float] = (3.0, 15.0)
MAX_PARALLEL = 8

#: Namespace -> the clusters where releases of that namespace are shown (a project's namespace and clusters).
Placements = Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class HelmView:
    """Every Helm release found on a set of clusters: rows for the list, records for history, errors per cluster."""

    rows: list[ReleaseRow]
    records: dict[str, list[ReleaseRecord]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    """Cluster -> why its releases could not be read (not fatal: the other clusters are listed)."""

    def history(self, cluster: str, namespace: str, name: str) -> list[ReleaseRecord]:
        """Return one release's revisions on one cluster, newest first (the detail view)."""
        return history(self.records.get(cluster, []), cluster, namespace, name)

    def row_history(self, row: ReleaseRow) -> dict[str, list[ReleaseRecord]]:
        """Return the revision history of a row's release on each cluster it runs on."""
        return {cluster: self.history(cluster, row.namespace, row.name) for cluster in row.clusters}

    def detail(self, row: ReleaseRow) -> list[dict[str, Any]]:
        """Return the detail view's lines: each cluster of the row, its revisions newest first (no values)."""
        return [
            {"cluster": cluster, "revision": r.revision, "status": r.status, "chart": r.chart_ref,
             "appVersion": r.app_version, "updated": short_time(r.updated), "description": r.description}
            for cluster, revisions in sorted(self.row_history(row).items()) for r in revisions
        ]

    def release_clusters(self, namespace: str, name: str) -> list[str]:
        """Return every cluster where the release has a stored record (whatever its version)."""
        return sorted(c for c, recs in self.records.items() if any((r.namespace, r.name) == (namespace, name) for r in recs))


def _list_secrets(connections: ClusterConnections, cluster: str, namespaces: set[str] | None) -> list[dict[str, Any]]:
    """List the Helm storage Secrets of one cluster (all namespaces, or the given ones)."""
    client = connections.api_client(cluster)
    query = {"labelSelector": OWNER_LABEL_SELECTOR}
    paths = ([resource_path("v1", "secrets")] if namespaces is None
             else [resource_path("v1", "secrets", ns) for ns in sorted(namespaces)])
    items: list[dict[str, Any]] = []
    for path in paths:
        listed = json_request(client, "GET", path, query=query, timeout=LIST_TIMEOUT)
        items.extend(i for i in listed.get("items") or [] if i.get("type") == SECRET_TYPE)
    return items


def _read_cluster(connections: ClusterConnections, cluster: str,
                  namespaces: set[str] | None) -> tuple[list[ReleaseRecord], str]:
    """Return (records, error) for one cluster; error is '' when it was read."""
    try:
        return records_from_secrets(cluster, _list_secrets(connections, cluster, namespaces)), ""
    except ClusterUnreachable as exc:
        return [], f"{exc.reason}: {exc.detail}"
    except ApiException as exc:
        return [], f"listing Helm releases answered HTTP {exc.status}"
    except Exception as exc:  # noqa: BLE001 - transport failures of any kind
        log.debug("cluster %s: Helm listing failed: %s", cluster, type(exc).__name__)
        return [], f"ClusterNotReachable: cluster is not reachable ({type(exc).__name__})"


def collect(connections: ClusterConnections, clusters: Iterable[str],
            namespaces: Iterable[str] | None = None) -> HelmView:
    """Read Helm's storage on each cluster (in parallel), limited to `namespaces` when given."""
    names = list(clusters)
    if namespaces is None:
        return collect_placements(connections, None, all_namespaces_on=names)
    return collect_placements(connections, {ns: names for ns in set(namespaces)})


def collect_placements(connections: ClusterConnections, placements: Placements | None,
                       all_namespaces_on: Iterable[str] = ()) -> HelmView:
    """Read releases of each namespace on its clusters (`placements`), or of every namespace on `all_namespaces_on`."""
    scope: dict[str, set[str] | None] = {}
    if placements is None:
        scope = {cluster: None for cluster in all_namespaces_on}
    else:
        for namespace, clusters in placements.items():
            for cluster in clusters:
                current = scope.setdefault(cluster, set())
                assert current is not None
                current.add(namespace)
    records: dict[str, list[ReleaseRecord]] = {}
    errors: dict[str, str] = {}
    if scope:
        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(scope)), thread_name_prefix="helm-view") as pool:
            futures = {c: pool.submit(_read_cluster, connections, c, ns) for c, ns in sorted(scope.items())}
            for cluster, future in futures.items():
                found, error = future.result()
                records[cluster] = found
                if error:
                    errors[cluster] = error
    return HelmView(release_rows(records), records, errors)


def project_placements(projects: Iterable[dict[str, Any]], clusters: list[dict[str, Any]],
                       only: str | None = None,
                       kustomizations: Iterable[dict[str, Any]] = ()) -> dict[str, list[str]]:
    """Return namespace -> cluster names where releases of that namespace are shown, from raw Projects and
    KubeFedClusters: each project's namespace on its clusters, and with ``kustomizations``, every namespace a
    platform project owns on each cluster (release_namespaces)."""
    placements: dict[str, set[str]] = {}
    known = {(c.get("metadata") or {}).get("name") for c in clusters}
    projects = list(projects)
    for raw in projects:
        project = Project(raw)
        if only is not None and project.name != only:
            continue
        names = placed_clusters(project.placement, clusters, include_unknown=True)
        placements.setdefault(project.namespace, set()).update(n for n in names if n in known)
    for (cluster, namespace), owner in release_namespaces(projects, kustomizations).items():
        if (only is None or owner == only) and cluster in known:
            placements.setdefault(namespace, set()).add(cluster)
    return {namespace: sorted(clusters_) for namespace, clusters_ in placements.items()}


def release_namespaces(projects: Iterable[dict[str, Any]],
                       kustomizations: Iterable[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(cluster, namespace) -> platform project, for every namespace a platform project owns on a cluster.

    A platform project may apply into any namespace no other project owns (docs/flux.md), so its Helm releases
    (the HelmRelease objects it applied) may live there: the namespaces of its sources' objects on each cluster
    (their inventories) and the Namespaces it made, other projects' namespaces excepted.
    """
    known = [Project(raw) for raw in projects]
    platform = {p.namespace: p.name for p in known if p.platform}
    others = {p.namespace for p in known if not p.platform}
    owned: dict[tuple[str, str], str] = {}
    for ks in kustomizations:
        owner = platform.get(str((ks.get("metadata") or {}).get("namespace") or ""))
        if owner is None:
            continue
        for entry in (ks.get("status") or {}).get("clusters") or []:
            cluster = str(entry.get("name") or "")
            for item in entry.get("inventory") or []:
                try:
                    ref = ObjectRef.from_entry(item)
                except (KeyError, ValueError, TypeError):
                    continue
                namespace = ref.name if ref.kind == "Namespace" and not ref.group else ref.namespace
                if namespace and namespace not in others:
                    owned.setdefault((cluster, namespace), owner)
    return owned


class PaneFeed:
    """Helm rows for the console, refreshed in the background so building a pane never waits on a cluster.

    Wiring: ``backend.helm.register(PaneFeed(ClusterConnections(api)))`` (a ``views.helm.HelmSources``); ``feed.view``
    is the latest HelmView (rows, ``history(cluster, namespace, name)``, ``errors``) for the detail view.
    """

    def __init__(self, connections: ClusterConnections, max_age: float = 5.0) -> None:
        self._connections = connections
        self._max_age = max_age
        self._lock = threading.Lock()
        self._view = HelmView([])
        self._read_at = 0.0
        self._scope: dict[str, list[str]] = {}
        self._busy = False
        self._answered: set[str] = set()
        self._good_at: dict[str, str] = {}

    def loading(self, state: Any) -> bool:
        """True until every cluster of the current placements has answered a listing once (or failed to)."""
        scope = project_placements(state.items("projects"), state.items("clusters"))
        wanted = {c for clusters in scope.values() for c in clusters}
        with self._lock:
            return self._read_at == 0.0 or not wanted <= self._answered

    def failing(self) -> dict[str, tuple[str, str]]:
        """Return cluster -> (time of its last good listing, '' if none; why the last one failed)."""
        with self._lock:
            return {c: (self._good_at.get(c, ""), e) for c, e in self._view.errors.items()}

    @property
    def view(self) -> HelmView:
        """The latest collected view (empty until the first refresh ends)."""
        with self._lock:
            return self._view

    def refresh(self, placements: Mapping[str, Iterable[str]]) -> HelmView:
        """Collect now (blocking) for these placements and keep the result (a failing cluster keeps its last rows)."""
        view = collect_placements(self._connections, placements)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self._lock:
            records = dict(view.records)
            for cluster in view.errors:
                records[cluster] = self._view.records.get(cluster, [])
            view = HelmView(release_rows(records), records, view.errors)
            self._good_at.update({c: now for c in view.records if c not in view.errors})
            self._answered.update(view.records)
            self._view, self._read_at = view, time.monotonic()
        return view

    def __call__(self, state: Any) -> list[Any]:
        """Return the pane rows from the last view; start a background refresh when stale or the scope moved."""
        scope = project_placements(state.items("projects"), state.items("clusters"))
        with self._lock:
            stale = scope != self._scope or time.monotonic() - self._read_at > self._max_age
            start = stale and not self._busy
            if start:
                self._busy, self._scope = True, scope
            view = self._view
        if start:
            threading.Thread(target=self._background, args=(scope,), name="helm-pane-feed", daemon=True).start()
        return list(view.rows)

    def _background(self, scope: dict[str, list[str]]) -> None:
        try:
            self.refresh(scope)
        except Exception:  # noqa: BLE001 - the pane keeps its last rows
            log.warning("Helm release refresh failed", exc_info=True)
        finally:
            with self._lock:
                self._busy = False
