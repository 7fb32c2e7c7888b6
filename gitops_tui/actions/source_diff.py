"""The dry-run diff of a source on its placed clusters, each against its target revision, shared by diff, resume,
pin and break glass (no writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui import paths
from gitops_tui.actions.state import read_source
from gitops_tui.api.flux_role import render_mode
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable
from gitops_tui.kube.events import EventRecorder


@dataclass
class DiffReport:
    """Drift of one source on every placed cluster, or why it could not be computed."""

    source: str
    revision: str = ""
    error: str = ""
    clusters: list[Any] = field(default_factory=list)
    compared: dict[str, str] = field(default_factory=dict)
    """The revision each cluster was compared with when it is not ``revision`` (a pinned cluster: the pin's)."""
    overridden: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Each cluster's overridden fields (object -> paths): compared with the revision as its overrides change it."""

    @property
    def drifted(self) -> bool:
        """True when any cluster differs from git."""
        return any(c.drifted for c in self.clusters)

    @property
    def failed(self) -> bool:
        """True when the diff could not be computed (fetch, render or a cluster failed)."""
        return bool(self.error) or any(c.error for c in self.clusters)


def reading_context(api: ApiClient, data_dir: Path | None) -> Any:
    """A ReconcileContext for reading (git under the data directory, cluster connections); close its clusters."""
    from gitops_tui.reconciler.context import ReconcileContext
    from gitops_tui.reconciler.source import GitSource

    base = Path(data_dir) if data_dir else paths.data_dir() / "reconciler"
    return ReconcileContext(api_client=api, dynamic=None, clusters=ClusterConnections(api),  # type: ignore[arg-type]
                            recorder=EventRecorder(api), git=GitSource(base / "git", data_dir=base), data_dir=base)


def diff_source(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> DiffReport:
    """Compare every placed cluster with what it should run (dry-run apply, no writes): git's revision, or the pin's
    on a pinned cluster (frozen or not: what a resume would apply). The basis of `diff` and the resume previews."""
    reading = read_source(api, project, name)
    targets = {c.name: c.pin.revision for c in reading.state.clusters if c.pin is not None}
    ctx = reading_context(api, data_dir)
    try:
        return diff_clusters(ctx, reading.source, name, targets, reading.state.names, reading.state.overrides)
    finally:
        ctx.clusters.close()


def diff_clusters(ctx: Any, source: GitOpsSource, name: str, targets: dict[str, str] | None = None,
                  order: list[str] | None = None, overrides: tuple[Any, ...] = ()) -> DiffReport:
    """Diff each cluster against its target revision (``targets``; git's for the others) with its ``overrides``
    applied (api/overrides.py), in ``order``."""
    from gitops_tui.api import overrides as ov
    from gitops_tui.reconciler import drift, identity, status
    from gitops_tui.reconciler import source_controller as sc
    from gitops_tui.reconciler.desired import fetch_artifact
    from gitops_tui.reconciler.flux import decryption
    from gitops_tui.reconciler.flux_step import render_inputs
    from gitops_tui.reconciler.pin import Lane

    report = DiffReport(source=name)
    connections: dict[str, Any] = {}
    targets = targets or {}
    try:
        project_name, placement = status.project_of(ctx, source)
        clusters = order if order is not None else status.placed_clusters(ctx, source, placement)
        report.revision = fetch_artifact(ctx, source).revision
        applier = identity.applier_for(ctx, source.namespace, project_name)  # dry-runs as the project would apply
        for cluster in clusters:
            try:
                connections[cluster] = identity.tenant_client(ctx.clusters.get(cluster)[1], applier)
            except ClusterUnreachable as exc:
                report.clusters.append(drift.ClusterDrift(cluster, error=exc.detail))
        groups: dict[str, list[str]] = {}
        for cluster in connections:
            groups.setdefault(targets.get(cluster) or report.revision, []).append(cluster)
        desired: dict[str, list[dict]] = {}
        for revision, members in groups.items():
            lane = Lane(members, "" if revision == report.revision else revision)
            artifact = lane.fetch(ctx, source)
            policy, variables = render_inputs(ctx, source, artifact, project_name)
            chosen = {c: connections[c] for c in members}
            objects = sc.desired_objects(source, artifact, project_name, sc.scope_checker(chosen), policy=policy,
                                         variables=variables, decryption=decryption.for_source(ctx, source),
                                         flux_components=render_mode(source.kustomization, ctx.flux_components))
            for cluster in members:
                try:
                    applied = ov.apply(objects, list(overrides), cluster, artifact.revision)
                except ov.OverrideRefused as exc:
                    report.clusters.append(drift.ClusterDrift(cluster, error=exc.message))
                    continue
                desired[cluster] = applied.objects
                if applied.changed:
                    report.overridden[cluster] = applied.changed
                if revision != report.revision:
                    report.compared[cluster] = revision
    except sc.RevisionFailed as exc:
        report.error = exc.failure.message
        return report
    for cluster, dynamic in connections.items():
        if cluster not in desired:
            continue
        try:
            report.clusters.append(drift.detect(cluster, dynamic, desired[cluster]))
        except Exception as exc:  # noqa: BLE001 - transport failures
            report.clusters.append(drift.ClusterDrift(cluster, error=f"cannot reach the cluster ({type(exc).__name__})"))
    rank = {c: i for i, c in enumerate(clusters)}
    report.clusters.sort(key=lambda c: (rank.get(c.cluster, len(rank)), c.cluster))
    return report
