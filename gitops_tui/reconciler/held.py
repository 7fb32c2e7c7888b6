"""What the reconciler does for a source held on every cluster: keep its artifact on git's revision, report drift."""

from __future__ import annotations

import logging
from typing import Any

from gitops_tui.api.flux_role import render_mode
from gitops_tui.api.formats import parse_revision
from gitops_tui.api.source import GitOpsSource
from gitops_tui.reconciler import drift as drift_mod
from gitops_tui.reconciler import flux_step, identity
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.desired import RevisionFailed, desired_objects, fetch_artifact, fetch_revision, scope_checker
from gitops_tui.reconciler.drift_views import views_for
from gitops_tui.reconciler.flux import decryption
from gitops_tui.reconciler.status import project_of, with_artifact, write_status

log = logging.getLogger(__name__)


def old_entries(source: GitOpsSource) -> dict[str, dict[str, Any]]:
    """The source's status entries by cluster."""
    status = (source.kustomization or {}).get("status") or {}
    return {c["name"]: dict(c) for c in status.get("clusters") or [] if c.get("name")}


def follow_git(ctx: ReconcileContext, source: GitOpsSource) -> None:
    """While every cluster is held, keep the artifact on git's revision (as Flux's source-controller keeps fetching
    for a suspended Kustomization): every surface shows what a resume or a break glass would apply. Nothing else."""
    if source.repository is None:
        return
    try:
        artifact = fetch_artifact(ctx, source)
    except RevisionFailed as exc:
        log.info("git of held %s/%s not fetched: %s", source.namespace, source.name, exc.failure.reason)
        return
    if artifact.revision == source.artifact_revision:
        return
    ctx.recorder.emit(source.repository, "Normal", "NewArtifact", f"fetched revision {artifact.revision} (held: "
                      "not applied)", revision=artifact.revision)
    repo = source.repository
    write_status(ctx.api_client, repo, with_artifact(dict(repo.get("status") or {}), artifact.revision,
                                                     ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")))


def report_drift(ctx: ReconcileContext, source: GitOpsSource) -> None:
    """While suspended: report drift from each cluster's last applied revision in Events; write nothing else."""
    by_revision: dict[str, list[str]] = {}
    for cluster, row in old_entries(source).items():
        if row.get("lastAppliedRevision"):
            by_revision.setdefault(row["lastAppliedRevision"], []).append(cluster)
    if not by_revision:
        return
    project, _ = project_of(ctx, source)
    for revision, clusters in sorted(by_revision.items()):
        try:
            artifact = fetch_revision(ctx, source, {"commit": parse_revision(revision)[1]})
            applier = identity.applier_for(ctx, source.namespace, project)  # dry-runs as the tenant
            connections = {c: identity.tenant_client(ctx.clusters.get(c)[1], applier) for c in clusters}
            policy, variables = flux_step.render_inputs(ctx, source, artifact, project)
            desired = desired_objects(source, artifact, project, scope_checker(connections), policy=policy,
                                      variables=variables, decryption=decryption.for_source(ctx, source),
                                      flux_components=render_mode(source.kustomization, ctx.flux_components))
            views = views_for(ctx, source, connections, desired, old_entries(source))
            found = [drift_mod.detect(c, dynamic, desired, views.get(c)) for c, dynamic in connections.items()]
        except Exception as exc:  # noqa: BLE001 - observing is best effort while suspended
            log.info("drift of suspended %s/%s not checked: %s", source.namespace, source.name, type(exc).__name__)
            continue
        for result in found:
            for item in result.objects:
                message = drift_mod.event_message(result.cluster, item) + " (not corrected: the source is suspended)"
                ctx.recorder.emit(source.kustomization or {}, "Warning", "DriftDetected", message,
                                  cluster=result.cluster, revision=revision)
