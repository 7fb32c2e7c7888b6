"""The live backend's operations: writes to the management cluster through gitops_tui.actions (called in workers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops_tui.backends.live_controls import LiveControlOperations
from gitops_tui.backends.live_freeze import LiveFreezeOperations
from gitops_tui.backends.live_incident import IncidentOperations
from gitops_tui.views.forms import ProjectRequest, SecretRequest, SourceRequest
from gitops_tui.views.preview import format_preview

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

#: Seconds an operation waits for the management cluster's first connection.
CONNECT_WAIT = 30.0


class LiveOperations(LiveFreezeOperations, IncidentOperations, LiveControlOperations):
    """Operations through gitops_tui.actions against the management cluster (called in workers)."""

    def __init__(self, backend: Any, data_dir: Path) -> None:
        """``backend``: the LiveBackend whose management client the operations use."""
        self._backend = backend
        self.data_dir = data_dir

    @property
    def api(self) -> ApiClient:
        """The management client (waits, bounded, for the first connection)."""
        return self._backend.client(CONNECT_WAIT)

    def request_reconcile(self, project: str, name: str) -> str:
        """Ask for a reconcile now."""
        from gitops_tui.actions import sources

        sources.request_reconcile(self.api, project, name)
        return f"Reconcile of {name} requested."

    def preview_resume(self, project: str, name: str) -> str:
        """The dry-run diff a resume would revert."""
        from gitops_tui.actions import sources

        return format_preview(sources.preview_resume(self.api, project, name, self.data_dir / "reconciler"))

    def delete_preview(self, project: str, name: str) -> dict[str, list[str]]:
        """Objects each cluster would lose."""
        from gitops_tui.actions import sources

        return sources.delete_preview(self.api, project, name)

    def delete_source(self, project: str, name: str) -> str:
        """Delete a source (pruned from every cluster)."""
        from gitops_tui.actions import sources

        sources.delete_source(self.api, project, name)
        return f"Deleting {name}: its objects are pruned from every cluster."

    def delete_secret(self, project: str, name: str) -> str:
        """Delete a secret (the reconciler removes its Secret from every cluster first)."""
        from gitops_tui.actions import resources

        resources.delete_secret(self.api, project, name)
        return f"Deleting secret {name}: it is removed from every cluster."

    def delete_project(self, project: str) -> str:
        """Delete a project (the reconciler prunes its sources and secrets, then its namespaces)."""
        from gitops_tui.actions import resources

        resources.delete_project(self.api, project)
        return f"Deleting project {project}: its sources, secrets and namespaces are pruned."

    def create_source(self, request: SourceRequest) -> str:
        """Create a source."""
        from gitops_tui.actions import sources

        sources.create_source(
            self.api, request.project, request.name, request.url, ref={request.ref_kind: request.ref},
            path=request.path, secret=request.secret, interval=request.interval, clusters=request.clusters,
        )
        return f"Created source {request.name}."

    def create_secret(self, request: SecretRequest) -> str:
        """Create a git credentials secret (values go to the API only)."""
        from gitops_tui.actions import resources

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
        from gitops_tui.actions import resources

        resources.create_project(self.api, request.name, request.clusters, namespace=request.namespace)
        return f"Created project {request.name} on {', '.join(request.clusters)}."
