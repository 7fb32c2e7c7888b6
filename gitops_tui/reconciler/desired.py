"""The desired objects of a revision: fetch the artifact, render, confine to the project, label, check the limits.

Every failure here is a RevisionFailed carrying the condition to write; nothing is written to clusters.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube import limits
from gitops_tui.kube.apply import UnknownKind, resolver_for
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.errors import OverLimit, ReconcileError
from gitops_tui.reconciler.status import Failure, git_credentials

#: Failures that a retry cannot fix without a new commit or a spec change.
STALLING_REASONS = {"ValidationFailed", "TenancyViolation", "BuildFailed", "ArtifactFailed", "KustomizeNotFound",
                    "LimitExceeded", "DryRunFailed", "URLNotAllowed", "AccessDenied"}
#: Flux kinds whose CRDs the Helm step installs on demand (so discovery may not know them yet).
FLUX_NAMESPACED = {("source.toolkit.fluxcd.io", "HelmRepository"), ("source.toolkit.fluxcd.io", "OCIRepository"),
                   ("helm.toolkit.fluxcd.io", "HelmRelease")}
_render_cache: dict[tuple[str, str, str, str], tuple[list[dict], Any]] = {}


class RevisionFailed(Exception):
    """The revision cannot be used as a whole (fetch, render or validation failed)."""

    def __init__(self, failure: Failure, revision: str = "") -> None:
        super().__init__(failure.message)
        self.failure = failure
        self.revision = revision


def failure_of(exc: ReconcileError) -> Failure:
    """The Failure of a typed reconcile error; stalled when a retry alone cannot fix it."""
    return Failure(exc.reason, exc.message, stalled=exc.reason in STALLING_REASONS)


def fetch_revision(ctx: ReconcileContext, source: GitOpsSource, ref: dict[str, str] | None = None) -> Any:
    """Fetch ``ref`` (default: the source's) with the source's own credentials; ReconcileError when git fails.

    A Flux child's URL was declared inside a repository: it goes through the operator's allow-list
    (ctx.fetch_policy) and git connects to the address that was checked (docs/security.md#outbound-fetches).
    """
    credentials = git_credentials(ctx, source.namespace, source.secret_ref)
    declared = any(_parent_label(obj) for obj in (source.repository, source.kustomization))
    return ctx.git.fetch(source.url, source.ref if ref is None else ref, credentials, source.git_timeout,
                         allow=ctx.fetch_policy if declared else None)


def _parent_label(obj: dict[str, Any] | None) -> str:
    return str((((obj or {}).get("metadata") or {}).get("labels") or {}).get(names.LABEL_PARENT_SOURCE) or "")


def fetch_artifact(ctx: ReconcileContext, source: GitOpsSource) -> Any:
    """Fetch the source's ref; raise RevisionFailed with a safe message when git fails."""
    try:
        return fetch_revision(ctx, source)
    except ReconcileError as exc:
        raise RevisionFailed(failure_of(exc)) from None


def scope_checker(connections: dict[str, Any]) -> Callable[[str, str], bool | None]:
    """Return is_namespaced(apiVersion, kind): built-in knowledge first, then discovery of a connected cluster."""
    from gitops_tui.reconciler.tenancy import builtin_is_namespaced

    def is_namespaced(api_version: str, kind: str) -> bool | None:
        known = builtin_is_namespaced(api_version, kind)
        if known is not None:
            return known
        if (api_version.rpartition("/")[0], kind) in FLUX_NAMESPACED:
            return True
        for dynamic in connections.values():
            try:
                return resolver_for(dynamic).namespaced(api_version, kind)
            except UnknownKind:
                return None
            except Exception:  # noqa: BLE001 - try the next cluster
                continue
        return None

    return is_namespaced


def desired_objects(source: GitOpsSource, artifact: Any, project: str,
                    is_namespaced: Callable[[str, str], bool | None], *, unknown_ok: bool = False,
                    policy: Any = None, variables: dict[str, str] | None = None,
                    instructions: list[Any] | None = None, decryption: Callable[[], Any] | None = None) -> list[dict]:
    """Render the artifact at the source's path, enforce tenancy and label every object; raise RevisionFailed.

    ``unknown_ok`` accepts kinds no cluster could be asked about (every cluster is checked again before writing).
    ``policy`` (platform.Policy) lifts the namespace wall for a platform project; ``variables`` are Flux's
    postBuild variables; Flux's Kustomizations and GitRepositories are left out of the objects and, given
    ``instructions``, appended to it (docs/flux.md). ``decryption()`` gives the source's SOPS keys (None without
    spec.decryption; flux/decryption.py): the render then reads a private copy with the SOPS files decrypted.
    """
    from gitops_tui.api.references import ReferenceRefused
    from gitops_tui.flux import children, references, substitute
    from gitops_tui.flux import decryption as sops
    from gitops_tui.reconciler import platform, render, tenancy

    policy = policy or platform.Policy()
    try:
        keys = decryption() if decryption is not None else None
    except ReconcileError as exc:
        raise RevisionFailed(failure_of(exc), artifact.revision) from None
    tag = f"{policy.key}|{sorted((variables or {}).items()) if variables is not None else None}"
    key = (str(artifact.path), source.path, source.namespace,
           f"{project}|{source.name}|{source.target_namespace}|{hash(tag)}|{keys.fingerprint if keys else ''}")
    cached = _render_cache.get(key)
    if cached is not None:
        if instructions is not None:
            instructions.append(cached[1])
        return copy.deepcopy(cached[0])
    try:
        if keys is not None:
            with sops.decrypted_tree(artifact.path, source.path, keys) as root:
                manifests = render.render(root, source.path, revision=artifact.revision)
        else:
            manifests = render.render(artifact.path, source.path, revision=artifact.revision)
        sops.encrypted_objects([(m.obj, m.origin) for m in manifests])
        if variables is not None:
            budget = limits.Budget()  # every substitution of the revision counts against the revision's limits
            for manifest in manifests:
                manifest.obj = substitute.substitute_object(manifest.obj, variables, budget,
                                                            f"{limits.display(manifest.obj)} in {manifest.origin}")
        manifests, found = children.split(manifests)
        if source.target_namespace:
            for manifest in manifests:
                manifest.obj.setdefault("metadata", {})["namespace"] = source.target_namespace
        if policy.platform:
            objects = platform.enforce(manifests, source.namespace, is_namespaced, policy,
                                       unknown_is_namespaced=unknown_ok)
        else:
            objects = tenancy.enforce(manifests, source.namespace, is_namespaced, unknown_is_namespaced=unknown_ok)
        objects = tenancy.label(objects, project=project, source=source.name)
        references.check_all(_referring(objects, manifests, found, source.namespace))
        limits.check_revision(zip(objects, (m.origin for m in manifests), strict=False), f"revision {artifact.revision}")
    except substitute.SubstituteError as exc:
        raise RevisionFailed(Failure("BuildFailed", f"post-build substitution failed: {exc}", stalled=True),
                             artifact.revision) from None
    except ReferenceRefused as exc:
        raise RevisionFailed(Failure(exc.reason, exc.message, stalled=True), artifact.revision) from None
    except limits.LimitExceeded as exc:
        raise RevisionFailed(failure_of(OverLimit(exc.message)), artifact.revision) from None
    except ReconcileError as exc:
        raise RevisionFailed(failure_of(exc), artifact.revision) from None
    if len(_render_cache) > 256:
        _render_cache.clear()
    _render_cache[key] = (copy.deepcopy(objects), found)
    if instructions is not None:
        instructions.append(found)
    return objects


def _referring(objects: list[dict], manifests: list[Any], found: Any,
               project_namespace: str) -> list[tuple[dict, str, str]]:
    """(object, namespace its references resolve in, where it comes from) of every object that may hold one.

    Applied objects resolve in their own namespace (tenancy set it); Flux's Kustomizations and GitRepositories
    (instructions, never applied) in the namespace they are written in, else the project's.
    """
    from gitops_tui.flux.references import display

    out = [(obj, str((obj.get("metadata") or {}).get("namespace") or project_namespace), display(obj, m.origin))
           for obj, m in zip(objects, manifests, strict=False)]
    for manifest in (*found.kustomizations, *found.repositories):
        obj = manifest.obj
        out.append((obj, str((obj.get("metadata") or {}).get("namespace") or project_namespace),
                    display(obj, manifest.origin)))
    return out
