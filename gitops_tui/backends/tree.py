"""Read the tree of a source from the management and workload clusters (no writes): views.tree holds its shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.api.flux_role import flux_role
from gitops_tui.api.formats import parse_revision
from gitops_tui.api.pin import Pin, pin_of
from gitops_tui.api.source import GitOpsSource
from gitops_tui.views.tree import ClusterTree, SourceTree, TreeObject, managers_of


def _desired_at(ctx: Any, source: GitOpsSource, revision: str, project: str, dynamic: Any) -> list[dict]:
    """The objects of ``revision`` of the source, rendered as the reconciler renders them."""
    from gitops_tui.reconciler.desired import desired_objects, fetch_revision, scope_checker
    from gitops_tui.reconciler.flux import decryption

    branch, sha = parse_revision(revision)
    artifact = fetch_revision(ctx, source, {"commit": sha, **({"branch": branch} if branch else {})})
    from gitops_tui.api.flux_role import render_mode

    return desired_objects(source, artifact, project, scope_checker({"cluster": dynamic}),
                           decryption=decryption.for_source(ctx, source),
                           flux_components=render_mode(source.kustomization, ctx.flux_components))


def _cluster(ctx: Any, source: GitOpsSource, project: str, entry: Any, pin: Pin | None,
             overrides: tuple[Any, ...] = ()) -> ClusterTree:
    from gitops_tui.kube.apply import get_object
    from gitops_tui.kube.client import ClusterUnreachable
    from gitops_tui.reconciler import drift, identity
    from gitops_tui.reconciler.health import health

    node = ClusterTree(entry.name, entry.last_applied_revision, pinned=pin is not None and pin.covers(entry.name),
                       status=entry.status)
    try:
        dynamic = ctx.clusters.get(entry.name)[1]
    except ClusterUnreachable as exc:
        node.error = exc.detail
        return node
    drifts: dict[str, str] = {}
    changed: dict[str, list[str]] = {}
    if node.revision:
        try:
            tenant = identity.tenant_client(dynamic, identity.applier_for(ctx, source.namespace, project))
            from gitops_tui.api import overrides as ov

            applied = ov.apply(_desired_at(ctx, source, node.revision, project, dynamic), list(overrides), entry.name,
                               node.revision)
            changed = {key: paths for key, paths in applied.changed.items()}
            found = drift.detect(entry.name, tenant, applied.objects)
            drifts = {d.ref.id: ("missing" if d.missing else "modified: " + ", ".join(c.path for c in d.fields[:3]))
                      for d in found.objects}
            node.error = found.error
        except Exception as exc:  # noqa: BLE001 - the tree shows what it could read
            node.error = f"drift not checked ({type(exc).__name__})"
    for ref in entry.inventory_refs:
        key = f"{ref.kind} {ref.namespace}/{ref.name}" if ref.namespace else f"{ref.kind} {ref.name}"
        item = TreeObject(ref.kind, ref.namespace, ref.name, drift=drifts.get(ref.id, ""),
                          overridden=list(changed.get(key, [])))
        try:
            live = get_object(dynamic, ref.api_version, ref.kind, ref.name, ref.namespace or None)
        except Exception:  # noqa: BLE001 - one unreadable object does not hide the others
            item.health = "Unknown"
        else:
            item.health = health(live).status
            item.managers = managers_of(live)
            if live is None:
                item.drift = "missing"
        node.objects.append(item)
    return node


def read_tree(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> SourceTree:
    """Read the tree of source ``name`` of ``project`` from the management and workload clusters (no writes)."""
    from gitops_tui.actions.source_diff import reading_context
    from gitops_tui.actions.state import read_source

    reading = read_source(api, project, name)
    source, state = reading.source, reading.state
    pin = pin_of(source)
    tree = SourceTree(project, name, source.artifact_revision, pin, flux=flux_role(source.kustomization))
    rank = {cluster: index for index, cluster in enumerate(state.names)}
    ctx = reading_context(api, data_dir)
    try:
        for entry in sorted(source.clusters, key=lambda c: (rank.get(c.name, len(rank)), c.name)):
            node = _cluster(ctx, source, project, entry, pin, state.overrides)
            found = state.cluster(entry.name)
            node.intent = found.intent if found is not None else node.intent
            wave = found.wave if found is not None else None
            if wave is not None:
                node.wave = f"wave {wave.index + 1} of {wave.count} ({wave.name}): {wave.state}" \
                    if wave.index < wave.count else f"in no wave: {wave.state}"
            if found is not None and found.held and found.hold is not None and found.hold.kind == "window":
                node.hold = f"window {found.hold.name}"  # a freeze window holds it: named, as in the panes
            tree.clusters.append(node)
    finally:
        ctx.clusters.close()
    return tree
