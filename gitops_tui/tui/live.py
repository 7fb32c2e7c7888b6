"""The live backend: list+watch of the management cluster, real actions, the embedded reconciler."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui import paths
from gitops_tui.actions import resources, sources
from gitops_tui.api import names
from gitops_tui.kube.client import api_client_from_kubeconfig
from gitops_tui.kube.kubeconfig_guard import STRICT, KubeconfigPolicy
from gitops_tui.kube.watch import ResourceWatch, resource_path
from gitops_tui.reconciler.context import management_path
from gitops_tui.views import helm as helm_view
from gitops_tui.views.feedhealth import FeedHealth
from gitops_tui.views.forms import ProjectRequest, SecretRequest, SourceRequest
from gitops_tui.views.state import Change, ManagementState

log = logging.getLogger(__name__)

#: (state key, REST collection path) of everything the console follows.
WATCHED = (
    ("projects", management_path(names.KIND_PROJECT)),
    ("clusters", management_path(names.KIND_KUBEFED_CLUSTER)),
    ("secrets", management_path(names.KIND_FEDERATED_SECRET)),
    ("gitrepositories", management_path(names.KIND_FEDERATED_GIT_REPOSITORY)),
    ("kustomizations", management_path(names.KIND_FEDERATED_KUSTOMIZATION)),
    ("events", resource_path("v1", "events")),
    ("leases", resource_path("coordination.k8s.io/v1", "leases", names.SYSTEM_NAMESPACE)),
)


def format_preview(report: Any) -> str:
    """Turn a resume preview (a DiffReport) into diff-like lines ('' when nothing would change)."""
    lines: list[str] = []
    if getattr(report, "error", ""):
        lines.append(f"! cannot compute the preview: {report.error}")
    for cluster in getattr(report, "clusters", []):
        if cluster.error:
            lines.append(f"! {cluster.cluster}: {cluster.error}")
        for drift in cluster.objects:
            data = drift.to_dict()
            by = ", ".join(drift.managers) or "an unknown manager"
            if data["missing"]:
                lines.append(f"+ {cluster.cluster}: {data['object']} is missing; it will be created again")
                continue
            lines.append(f"@ {cluster.cluster}: {data['object']} (changed by {by})")
            for change in data["fields"]:
                lines.append(f"-   {change['path']}: {change['live']}")
                lines.append(f"+   {change['path']}: {change['desired']}")
    return "\n".join(lines)


class LiveOperations:
    """Operations through gitops_tui.actions against the management cluster."""

    def __init__(self, api: ApiClient, data_dir: Path) -> None:
        self.api = api
        self.data_dir = data_dir

    def suspend_source(self, project: str, name: str, reason: str) -> str:
        """Suspend one source."""
        sources.suspend_source(self.api, project, name, reason)
        return f"Suspended {name}: {reason}"

    def resume_source(self, project: str, name: str) -> str:
        """Resume one source."""
        sources.resume_source(self.api, project, name)
        return f"Resumed {name}."

    def suspend_project(self, project: str, reason: str) -> str:
        """Suspend every source of a project."""
        done = sources.suspend_project(self.api, project, reason)
        return f"Suspended {len(done)} source(s) of {project}."

    def resume_project(self, project: str) -> str:
        """Resume every suspended source of a project."""
        done = sources.resume_project(self.api, project)
        return f"Resumed {len(done)} source(s) of {project}."

    def request_reconcile(self, project: str, name: str) -> str:
        """Ask for a reconcile now."""
        sources.request_reconcile(self.api, project, name)
        return f"Reconcile of {name} requested."

    def preview_resume(self, project: str, name: str) -> str:
        """The dry-run diff a resume would revert."""
        return format_preview(sources.preview_resume(self.api, project, name, self.data_dir / "reconciler"))

    def delete_preview(self, project: str, name: str) -> dict[str, list[str]]:
        """Objects each cluster would lose."""
        return sources.delete_preview(self.api, project, name)

    def delete_source(self, project: str, name: str) -> str:
        """Delete a source (pruned from every cluster)."""
        sources.delete_source(self.api, project, name)
        return f"Deleting {name}: its objects are pruned from every cluster."

    def delete_secret(self, project: str, name: str) -> str:
        """Delete a secret (the reconciler removes its Secret from every cluster first)."""
        resources.delete_secret(self.api, project, name)
        return f"Deleting secret {name}: it is removed from every cluster."

    def delete_project(self, project: str) -> str:
        """Delete a project (the reconciler prunes its sources and secrets, then its namespaces)."""
        resources.delete_project(self.api, project)
        return f"Deleting project {project}: its sources, secrets and namespaces are pruned."

    def create_source(self, request: SourceRequest) -> str:
        """Create a source."""
        sources.create_source(
            self.api, request.project, request.name, request.url, ref={request.ref_kind: request.ref},
            path=request.path, secret=request.secret, interval=request.interval, clusters=request.clusters,
        )
        return f"Created source {request.name}."

    def create_secret(self, request: SecretRequest) -> str:
        """Create a git credentials secret (values go to the API only)."""
        if request.kind == "basic":
            data = resources.secret_data(username=request.username, password=request.password)
        elif request.kind == "token":
            data = resources.secret_data(token=request.token)
        else:
            data = resources.secret_data(ssh_key=request.identity.encode(),
                                         known_hosts=request.known_hosts.encode() or None)
        resources.create_secret(self.api, request.project, request.name, data, clusters=request.clusters or None)
        return f"Created secret {request.name}."

    def create_project(self, request: ProjectRequest) -> str:
        """Create a project (resources.create_project refuses a namespace that is not free for it)."""
        resources.create_project(self.api, request.name, request.clusters, namespace=request.namespace)
        return f"Created project {request.name} on {', '.join(request.clusters)}."


class LiveBackend:
    """Lists and watches the management cluster; runs the embedded reconciler when asked."""

    def __init__(self, kubeconfig: Path, context: str | None, label: str, *, reconcile: bool = True,
                 kubeconfig_policy: KubeconfigPolicy = STRICT) -> None:
        self.api = api_client_from_kubeconfig(kubeconfig, context)
        #: What the stored kubeconfigs of workload clusters may use (kube.kubeconfig_guard).
        self.kubeconfig_policy = kubeconfig_policy
        self.context = label
        self.identity: str | None = f"console@{socket.gethostname()}/{os.getpid()}"
        self.state = ManagementState()
        self.health = FeedHealth()
        """Live, re-listing or failing, per watched kind (the console's banner)."""
        self.ops = LiveOperations(self.api, paths.data_dir())
        self._reconcile = reconcile
        self._closed = threading.Event()
        self._watches: list[ResourceWatch] = []
        self.reconciler: Any = None
        self._helm_feed: Any = None
        self._helm_connections: Any = None
        self._register_helm()

    def _register_helm(self) -> None:
        """Feed the Helm Releases pane from the Helm package's background reader, when it is there."""
        try:
            from gitops_tui.helm.cluster_view import PaneFeed
            from gitops_tui.kube.client import ClusterConnections
        except ImportError:
            return
        self._helm_connections = ClusterConnections(self.api, policy=self.kubeconfig_policy)
        self._helm_feed = PaneFeed(self._helm_connections)
        helm_view.register_provider(self._helm_feed)

    def write_access(self) -> str:
        """Return why this identity cannot change sources ('' when it can, or when the server cannot say)."""
        from gitops_tui.kube.write_access import source_write_access
        from gitops_tui.views.access import NO_WRITE_ACCESS

        namespaces = sorted({(p.get("spec") or {}).get("namespace") or p["metadata"]["name"]
                             for p in self.state.items("projects")})
        answer = source_write_access(self.api, namespaces)
        return NO_WRITE_ACCESS if answer.allowed is False else ""

    def synced(self) -> bool:
        """True once every watch has its first list."""
        return bool(self._watches) and all(w.synced.is_set() for w in self._watches)

    def now(self) -> datetime:
        """The wall clock (UTC)."""
        return datetime.now(timezone.utc)

    def run_feed(self, emit: Callable[[list[Change]], None], stopped: Callable[[], bool]) -> None:
        """Watch every followed kind in its own thread until ``stopped()``; changes go to ``emit``."""
        from gitops_tui.tui.watch_health import ReportingWatch

        self.health.listener = lambda: emit([])
        for key, path in WATCHED:
            def handler(kind: str, obj: dict[str, Any], old: dict[str, Any] | None, key: str = key) -> None:
                if key == "events" and not _ours(obj):
                    return
                emit([Change(key, kind, obj)])
                if key == "clusters" and kind != "DELETED" and _ready(obj) and not _ready(old):
                    threading.Thread(target=self._probe_version, args=(obj, emit), daemon=True,
                                     name="cluster version").start()

            watch = ReportingWatch(self.api, path, handler, name=f"console {key}", timeout_seconds=60,
                                   health=self.health, kind=key)
            self._watches.append(watch)
            watch.start()
        while not stopped() and not self._closed.wait(0.2):
            pass
        self._stop_watches()

    def run_reconciler(self, stopped: Callable[[], bool]) -> None:
        """Run the embedded reconciler (leader election included) until ``stopped()``."""
        if not self._reconcile:
            return
        from gitops_tui.reconciler.manager import Reconciler

        self.reconciler = Reconciler(self.api, data_dir=paths.data_dir() / "reconciler", identity=self.identity,
                                     kubeconfig_policy=self.kubeconfig_policy)
        self.reconciler.start()
        try:
            while not stopped() and not self._closed.wait(0.2):
                pass
        finally:
            self.reconciler.stop(timeout=5.0)

    def _probe_version(self, cluster: dict[str, Any], emit: Callable[[list[Change]], None]) -> None:
        """Read a workload cluster's /version once it is Ready (for the Clusters pane)."""
        from gitops_tui.kube.client import ClusterConnections, json_request

        name = cluster["metadata"]["name"]
        connections = ClusterConnections(self.api, policy=self.kubeconfig_policy)
        try:
            info = json_request(connections.api_client(name), "GET", "/version", timeout=(3.0, 5.0))
            emit([Change("versions", "MODIFIED", {"metadata": {"name": name}, "version": info.get("gitVersion", "")})])
        except Exception as exc:  # noqa: BLE001 - the pane shows '-' for an unknown version
            log.info("cluster %s version unknown: %s", name, type(exc).__name__)
        finally:
            connections.close()

    def _stop_watches(self) -> None:
        for watch in self._watches:
            watch.stop(timeout=2.0)
        self._watches.clear()

    def close(self) -> None:
        """Stop the watches and the reconciler (they notice within 0.2 s); drop the Helm feed."""
        self._closed.set()
        if self._helm_feed is not None:
            helm_view.unregister_provider(self._helm_feed)
            self._helm_feed = None
            self._helm_connections.close()


def _ready(cluster: dict[str, Any] | None) -> bool:
    for cond in ((cluster or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == names.READY:
            return cond.get("status") == "True"
    return False


def _ours(event: dict[str, Any]) -> bool:
    """Keep the Events of the management objects (the audit trail), not every Event of the cluster."""
    kind = (event.get("involvedObject") or {}).get("kind", "")
    return event.get("reportingComponent") == names.REPORTING_COMPONENT or kind in names.RESOURCES
