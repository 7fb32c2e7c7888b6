"""The reconcile's Flux step: a child's hold and variables before rendering, the children's sync after validating."""

from __future__ import annotations

import threading
from typing import Any

from gitops_tui.api import flux_role, names
from gitops_tui.api.formats import parse_revision
from gitops_tui.api.references import ReferenceRefused
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.outbound import FetchRefused
from gitops_tui.reconciler import platform
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.desired import RevisionFailed, failure_of
from gitops_tui.reconciler.errors import ReconcileError
from gitops_tui.reconciler.flux import bounds, children, gates
from gitops_tui.reconciler.flux.substitute import SubstituteError
from gitops_tui.reconciler.projects import project_for_namespace
from gitops_tui.reconciler.source_urls import SourceUrlRefused, is_remote
from gitops_tui.reconciler.status import Failure

_NAMESPACE_LOCKS: dict[str, threading.Lock] = {}
_NAMESPACE_LOCKS_GUARD = threading.Lock()


def _namespace_lock(namespace: str) -> threading.Lock:
    """One lock per project namespace: the cap is counted and the children written by one parent at a time."""
    with _NAMESPACE_LOCKS_GUARD:
        return _NAMESPACE_LOCKS.setdefault(namespace, threading.Lock())


def render_inputs(ctx: ReconcileContext, source: GitOpsSource, artifact: Any,
                  project: str) -> tuple[platform.Policy, dict[str, str] | None]:
    """The project's policy and the source's postBuild variables; RevisionFailed when a variable cannot be had."""
    policy = platform.policy_for(ctx, source.namespace, project)
    try:
        return policy, gates.variables(ctx, source, artifact)
    except SubstituteError as exc:
        raise RevisionFailed(Failure("BuildFailed", f"post-build substitution failed: {exc}", stalled=True),
                             artifact.revision) from None
    except ReferenceRefused as exc:
        raise RevisionFailed(Failure(exc.reason, exc.message, stalled=True), artifact.revision) from None


def check_children(source: GitOpsSource, artifact: Any, found: list[Any]) -> None:
    """Refuse the revision (RevisionFailed) when a Flux Kustomization in it uses what is not supported."""
    for instructions in found:
        try:
            children.desired_children(source, instructions, parse_revision(artifact.revision)[1])
        except ReconcileError as exc:
            raise RevisionFailed(failure_of(exc), artifact.revision) from None


def sync_children(ctx: ReconcileContext, source: GitOpsSource, artifact: Any, found: list[Any]) -> None:
    """Create, update and delete the source's children as the revision declares them; Events name what changed.

    RevisionFailed when a child's name is taken by a source that is not this one's child (nothing is taken over).
    """
    instructions = found[0] if found else children.Instructions()
    if not instructions.kustomizations and not _has_children(ctx, source):
        return
    try:
        check_urls(ctx, instructions)
        with _namespace_lock(source.namespace):
            check_bounds(ctx, source, instructions)
            removed = children.sync(ctx.api_client, source, instructions, parse_revision(artifact.revision)[1])
    except ReconcileError as exc:
        raise RevisionFailed(failure_of(exc), artifact.revision) from None
    involved = source.kustomization or {}
    for name in removed:
        ctx.recorder.emit(involved, "Normal", "ChildRemoved", f"child source {name} left git and is deleted",
                          revision=artifact.revision)
        ctx.requeue(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, name)
    for manifest in instructions.kustomizations:
        ctx.requeue(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace,
                    children.child_name(source.name, str(manifest.obj["metadata"]["name"])))


def _has_children(ctx: ReconcileContext, source: GitOpsSource) -> bool:
    """Whether the source has child sources (the watch cache's FederatedKustomizations, else one LIST)."""
    if ctx.cache is None:
        return bool(children.existing_children(ctx.api_client, source.namespace, source.name))
    return any(((fk.get("metadata") or {}).get("labels") or {}).get(children.LABEL_PARENT) == source.name
               for fk in ctx.cache.list(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, copies=False))


def flux_block(found: list[Any]) -> dict[str, Any]:
    """``status.flux`` for the revision: the Kustomizations that are the source itself, Flux's own components."""
    instructions = found[0] if found else children.Instructions()
    bootstrap = tuple(m.display for m in instructions.bootstrap)
    return flux_role.status_block(bootstrap, instructions.components_mode if instructions.components else "",
                                  len(instructions.components))


def note_bootstrap(ctx: ReconcileContext, source: GitOpsSource, block: dict[str, Any], revision: str) -> None:
    """One Event when what the source is to Flux changes (a bootstrap recognised, Flux's components left out)."""
    old = ((source.kustomization or {}).get("status") or {}).get("flux") or {}
    if block == old or not block:
        return
    role = flux_role.flux_role({"status": {"flux": block}})
    parts = []
    if role.bootstrap and role.bootstrap != flux_role.flux_role({"status": {"flux": old}}).bootstrap:
        parts.append(f"{', '.join(role.bootstrap)} (Flux bootstrap, gotk-sync) is this source itself, not a child")
    if role.components:
        parts.append(role.components_sentence())
    if parts:
        ctx.recorder.emit(source.kustomization or {}, "Normal", "FluxBootstrap", "; ".join(parts), revision=revision)


def check_urls(ctx: ReconcileContext, instructions: children.Instructions) -> None:
    """Refuse (URLNotAllowed) a revision declaring a GitRepository whose remote URL the operator's allow-list refuses.

    What the URL says is checked here (scheme, patterns, an IP literal); its child checks the resolved addresses
    again at every fetch, and connects to those only.
    """
    for manifest in instructions.repositories:
        if str(manifest.obj["metadata"]["name"]) in instructions.this_repository:
            continue  # the source's own repository, read at its commit: never fetched from this URL
        url = str(((manifest.obj.get("spec") or {}).get("url")) or "")
        if url and is_remote(url):
            try:
                ctx.fetch_policy.check(url, f"{manifest.display} in {manifest.origin}: the URL", resolve_names=False)
            except FetchRefused as exc:
                raise SourceUrlRefused(exc.message) from None


def check_bounds(ctx: ReconcileContext, source: GitOpsSource, instructions: children.Instructions) -> None:
    """Refuse (ValidationFailed, OverLimit) a revision whose Kustomizations make a cycle or exceed the project's cap."""
    declared = [(str(m.obj["metadata"]["name"]), f"{m.display} in {m.origin}") for m in instructions.kustomizations]
    if not declared:
        return
    chain = bounds.ancestry(lambda name: ctx.get(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, name),
                            source.name, source.kustomization)
    bounds.check_cycles(chain, declared)
    wanted = {children.child_name(source.name, name) for name, _ in declared}
    listed = ctx.list(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace)
    others = sum(1 for fk in listed if bounds.parent_label(fk) not in ("", source.name)
                 and fk["metadata"]["name"] not in wanted)
    project = project_for_namespace(ctx, source.namespace)
    name = str(((project or {}).get("metadata") or {}).get("name") or source.namespace)
    bounds.check_cap(bounds.max_children(project), name, others, len(wanted))


def delete_children(ctx: ReconcileContext, source: GitOpsSource) -> None:
    """The source is being deleted: delete its children too (orphaned with it when it is orphaned)."""
    existing = children.existing_children(ctx.api_client, source.namespace, source.name)
    if not existing:
        return
    if source.orphan:
        for child in existing:
            children.mark_orphan(ctx.api_client, source.namespace, child["metadata"]["name"])
    for name in children.sync(ctx.api_client, source, children.Instructions(), ""):
        ctx.requeue(names.KIND_FEDERATED_KUSTOMIZATION, source.namespace, name)
