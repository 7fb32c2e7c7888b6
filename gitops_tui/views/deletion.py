"""What deleting a secret or a project removes, per cluster, read from the management state (no Textual)."""

from __future__ import annotations

from dataclasses import dataclass

from gitops_tui.views import helm, model
from gitops_tui.views.glyphs import counted
from gitops_tui.views.state import ManagementState


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
    return SecretDeletion(project, name, model.secret_clusters(state, secret), used)


@dataclass(frozen=True)
class ClusterLoss:
    """What one cluster loses with a project's namespace."""

    objects: int
    """Objects the project's sources applied there."""
    secrets: list[str]
    releases: list[str]
    """Helm releases in the namespace there, as ``name chart-version``."""


@dataclass(frozen=True)
class ProjectDeletion:
    """Deleting a project: its sources and secrets go, each cluster loses the namespace and all it holds."""

    project: str
    namespace: str
    sources: list[str]
    secrets: list[str]
    clusters: dict[str, ClusterLoss]
    """Cluster -> what goes there with the namespace, in the console's cluster order."""
    releases_known: bool = True
    """False while the Helm releases were not read from every cluster yet."""

    def lines(self) -> list[str]:
        """The confirmation's lines."""
        out = [f"Delete project {self.project}?", "",
               f"Sources ({len(self.sources)}): {', '.join(self.sources) or '-'}",
               f"Secrets ({len(self.secrets)}): {', '.join(self.secrets) or '-'}", ""]
        if not self.clusters:
            return [*out, "  Not placed on any cluster."]
        out.append(f"Namespace {self.namespace} is removed from {counted(len(self.clusters), 'cluster')}, "
                   "with everything in it:")
        for cluster, loss in self.clusters.items():
            out.append(f"  {cluster:<12} {counted(loss.objects, 'object')} applied by sources")
            if loss.secrets:
                out.append(f"  {'':<12} {counted(len(loss.secrets), 'Secret')}: {', '.join(loss.secrets)}")
            if loss.releases:
                out.append(f"  {'':<12} {counted(len(loss.releases), 'Helm release')}: {', '.join(loss.releases)}")
            elif not self.releases_known:
                out.append(f"  {'':<12} Helm releases: not read yet")
        out += ["", "Objects made there by hand go with the namespace too."]
        return out


def project_deletion(state: ManagementState, project: str, releases: helm.HelmSources) -> ProjectDeletion | None:
    """Return what deleting the project removes (``releases``: the backend's Helm providers), or None when it is not in the state."""
    found = next((p for p in state.items("projects") if p["metadata"]["name"] == project), None)
    if found is None:
        return None
    namespace = (found.get("spec") or {}).get("namespace") or project
    sources = [s for s in model.sources(state) if s.namespace == namespace]
    secrets = [s for s in state.items("secrets") if s["metadata"].get("namespace") == namespace]
    status = [e.get("name", "") for e in (found.get("status") or {}).get("clusters") or [] if e.get("name")]
    placed = model.in_order(status or model.project_clusters(found, state.items("clusters")),
                            model.cluster_order(state))
    known = not helm.loading(state, releases)
    releases_here = [r for r in helm.helm_rows(state, releases) if r.namespace == namespace]
    losses = {}
    for cluster in placed:
        losses[cluster] = ClusterLoss(
            objects=sum(s.cells[cluster].inventory for s in sources if cluster in s.cells),
            secrets=sorted(s["metadata"]["name"] for s in secrets if cluster in model.secret_clusters(state, s)),
            releases=[f"{r.name} {r.chart_version}" for r in releases_here if cluster in r.clusters],
        )
    return ProjectDeletion(project, namespace, sorted(s.name for s in sources),
                           sorted(s["metadata"]["name"] for s in secrets), losses, known)
