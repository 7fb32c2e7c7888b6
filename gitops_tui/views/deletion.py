"""What deleting a secret or a project removes, per cluster, read from the management state (no Textual)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_tui.views import model
from gitops_tui.views.state import ManagementState


def secret_clusters(state: ManagementState, secret: dict[str, Any]) -> list[str]:
    """Return the clusters a FederatedSecret is placed on (its own placement, else its project's)."""
    meta = secret.get("metadata") or {}
    placement = (secret.get("spec") or {}).get("placement")
    clusters = state.items("clusters")
    if placement:
        return model.placement_clusters(placement, clusters)
    project = model.project_by_namespace(state).get(meta.get("namespace", ""), "")
    found = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
    return model.project_clusters(found, clusters)


@dataclass(frozen=True)
class SecretDeletion:
    """Deleting one secret: the clusters that lose its Secret and the sources that still use it."""

    project: str
    name: str
    clusters: list[str]
    used_by: list[str]

    def lines(self) -> list[str]:
        """The confirmation's lines (never a value)."""
        out = [f"Delete secret {self.project}/{self.name}?", ""]
        if self.clusters:
            out.append(f"The Secret {self.name} is removed from {len(self.clusters)} cluster(s):")
            out += [f"  {c:<12} loses Secret {self.name}" for c in self.clusters]
        else:
            out.append("  Not placed on any cluster.")
        if self.used_by:
            out += ["", f"Still used by: {', '.join(self.used_by)} (their fetches will fail)."]
        return out


def secret_deletion(state: ManagementState, namespace: str, name: str) -> SecretDeletion | None:
    """Return what deleting the secret removes, or None when it is not in the state."""
    secret = state.get("secrets", namespace, name)
    if secret is None:
        return None
    project = model.project_by_namespace(state).get(namespace, namespace)
    used = sorted(s.name for s in model.sources(state) if s.namespace == namespace and s.secret == name)
    return SecretDeletion(project, name, secret_clusters(state, secret), used)


@dataclass(frozen=True)
class ProjectDeletion:
    """Deleting a project: its sources and secrets go, each cluster loses the namespace and what was applied."""

    project: str
    namespace: str
    sources: list[str]
    secrets: list[str]
    clusters: dict[str, int]
    """Cluster -> objects the project's sources applied there (pruned with the namespace)."""

    def lines(self) -> list[str]:
        """The confirmation's lines."""
        out = [f"Delete project {self.project}?", "",
               f"Sources ({len(self.sources)}): {', '.join(self.sources) or '-'}",
               f"Secrets ({len(self.secrets)}): {', '.join(self.secrets) or '-'}", ""]
        if self.clusters:
            out.append(f"Namespace {self.namespace} is removed from {len(self.clusters)} cluster(s):")
            for cluster, count in sorted(self.clusters.items()):
                out.append(f"  {cluster:<12} loses namespace {self.namespace} and {count} "
                           f"object{'s' if count != 1 else ''}")
        else:
            out.append("  Not placed on any cluster.")
        return out


def project_deletion(state: ManagementState, project: str) -> ProjectDeletion | None:
    """Return what deleting the project removes, or None when it is not in the state."""
    found = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
    if found is None:
        return None
    namespace = (found.get("spec") or {}).get("namespace") or project
    sources = [s for s in model.sources(state) if s.namespace == namespace]
    secrets = sorted(s["metadata"]["name"] for s in state.items("secrets")
                     if s["metadata"].get("namespace") == namespace)
    status = [e.get("name", "") for e in (found.get("status") or {}).get("clusters") or [] if e.get("name")]
    placed = status or model.project_clusters(found, state.items("clusters"))
    counts = {c: 0 for c in placed}
    for source in sources:
        for cluster, cell in source.cells.items():
            if cluster in counts:
                counts[cluster] += cell.inventory
    return ProjectDeletion(project, namespace, sorted(s.name for s in sources), secrets, counts)
