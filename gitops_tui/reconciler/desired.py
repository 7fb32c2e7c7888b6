"""The desired objects of a revision: fetch the artifact, render, confine to the project, label, check the limits.

Every failure here is a RevisionFailed carrying the condition to write; nothing is written to clusters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitops_tui.api import names
from gitops_tui.api.formats import parse_duration
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube import limits
from gitops_tui.kube.apply import UnknownKind, resolver_for
from gitops_tui.reconciler.context import ReconcileContext
from gitops_tui.reconciler.errors import OverLimit, ReconcileError
from gitops_tui.reconciler.render import plain_copy
from gitops_tui.reconciler.status import Failure, git_credentials

#: Failures that a retry cannot fix without a new commit or a spec change.
STALLING_REASONS = {"ValidationFailed", "TenancyViolation", "BuildFailed", "ArtifactFailed", "KustomizeNotFound",
                    "LimitExceeded", "DryRunFailed", "URLNotAllowed", "AccessDenied"}
#: Flux kinds whose CRDs the Helm step installs on demand (so discovery may not know them yet).
FLUX_NAMESPACED = {("source.toolkit.fluxcd.io", "HelmRepository"), ("source.toolkit.fluxcd.io", "HelmChart"),
                   ("source.toolkit.fluxcd.io", "OCIRepository"),
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
    artifact = ctx.git.fetch(source.url, source.ref if ref is None else ref, credentials, source.git_timeout,
                             allow=ctx.fetch_policy if declared else None,
                             max_age=answer_age(source) if ctx.share_git else 0.0,
                             owner=(source.namespace, source.name) if ref is None else None)
    recipe = source.artifact_recipe
    return artifact if not recipe else external_artifact(ctx, source, artifact, recipe)


def head_check(ctx: ReconcileContext, source: GitOpsSource) -> Callable[[], str]:
    """For a settled source's next intervals: the commit its ref names then, from an ls-remote answer of its
    repository at most one interval old (no git at all when the ref did not move and its tree is made).

    The credentials are those read now: a change of its FederatedSecret asks for a full reconcile (the manager).
    """
    credentials = git_credentials(ctx, source.namespace, source.secret_ref)
    url, ref, timeout, interval = source.url, dict(source.ref), source.git_timeout, source.interval
    owner = (source.namespace, source.name)

    def head() -> str:
        peeked = ctx.git.peek(url, ref, credentials, interval)  # another source of the repository asked this interval
        return peeked or ctx.git.fetch(url, ref, credentials, timeout, max_age=interval, owner=owner).commit

    return head


def answer_age(source: GitOpsSource) -> float:
    """How old an ls-remote answer of the source's repository and credentials (maybe another source's) may serve.

    A spec change, a reconcile asked for (a webhook delivery, ``reconcile``) or a source never fetched asks git
    now (0); otherwise the source's interval: sources on one repository share one ls-remote per interval.
    """
    status = (source.kustomization or {}).get("status") or {}
    requested = bool(source.requested_at) and source.requested_at != status.get("lastHandledReconcileAt")
    repository = source.repository_view
    changed = (source.generation != source.observed_generation
               or repository.generation != repository.observed_generation)
    if requested or changed or not source.artifact_revision:
        return 0.0
    return source.interval


def external_artifact(ctx: ReconcileContext, source: GitOpsSource, artifact: Any, recipe: dict[str, Any]) -> Any:
    """The ExternalArtifact a child reads, built from its parent's tree (and any other GitRepository it names).

    Its revision stays the commit's (pins, history and dependsOn are per commit); its content digest
    (``latest@sha256:...``) names its folder, so an unchanged artifact renders once (docs/flux.md).
    """
    import dataclasses

    from gitops_tui.reconciler.flux.artifact_generator import generate

    def fetch(spec: dict[str, Any]) -> Any:
        secret = str((spec.get("secretRef") or {}).get("name") or "")
        other = ctx.git.fetch(str(spec.get("url") or ""), dict(spec.get("ref") or {}),
                              git_credentials(ctx, source.namespace, secret),
                              parse_duration(spec.get("timeout"), default=source.git_timeout), allow=ctx.fetch_policy)
        return other.path

    path, digest = generate(recipe, artifact.path, fetch, ctx.data_dir / "artifacts")
    return dataclasses.replace(artifact, path=path, digest=digest, external=str(recipe.get("name") or ""))


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
                    instructions: list[Any] | None = None, decryption: Callable[[], Any] | None = None,
                    flux_components: str = "skip") -> list[dict]:
    """Render the artifact at the source's path, enforce tenancy and label every object; raise RevisionFailed.

    ``unknown_ok`` accepts kinds no cluster could be asked about (every cluster is checked again before writing).
    ``policy`` (platform.Policy) lifts the namespace wall for a platform project; ``variables`` are Flux's
    postBuild variables; Flux's Kustomizations and GitRepositories are left out of the objects and, given
    ``instructions``, appended to it (docs/flux.md), with the Kustomizations that are this source itself (Flux's
    bootstrap) and Flux's own components, left out too unless ``flux_components`` is ``apply``. ``decryption()``
    gives the source's SOPS keys (None without spec.decryption; flux/decryption.py): the render then reads a private
    copy with the SOPS files decrypted.
    """
    from gitops_tui.api.references import ReferenceRefused
    from gitops_tui.reconciler import platform, render, tenancy
    from gitops_tui.reconciler.flux import (
        bootstrap,
        children,
        kustomize_build,
        kustomize_fields,
        references,
        substitute,
    )
    from gitops_tui.reconciler.flux import decryption as sops

    policy = policy or platform.Policy()
    try:
        keys = decryption() if decryption is not None else None
    except ReconcileError as exc:
        raise RevisionFailed(failure_of(exc), artifact.revision) from None
    tag = (f"{policy.key}|{sorted((variables or {}).items()) if variables is not None else None}|{flux_components}"
           f"|{source.url}|{sorted(source.declared_ref.items())}")
    key = (str(artifact.path), source.path, source.namespace,
           f"{project}|{source.name}|{source.target_namespace}|{hash(tag)}|{keys.fingerprint if keys else ''}")
    cached = _render_cache.get(key)
    if cached is not None:
        if instructions is not None:
            instructions.append(cached[1])
        return [plain_copy(obj) for obj in cached[0]]
    try:
        fields = kustomize_fields.read_fields(source.kustomization_spec)

        def build(root: Any) -> list[Any]:
            if fields.needs_build:  # patches, images, components, affixes: kustomize-controller's generated build
                return kustomize_build.build(root, source.path, fields, artifact.revision)
            return render.render(root, source.path, revision=artifact.revision)

        if keys is not None:
            with sops.decrypted_tree(artifact.path, source.path, keys) as root:
                manifests = build(root)
        else:
            manifests = build(artifact.path)
        sops.encrypted_objects([(m.obj, m.origin) for m in manifests])
        if variables is not None:
            budget = limits.Budget()  # every substitution of the revision counts against the revision's limits
            for manifest in manifests:
                manifest.obj = substitute.substitute_object(manifest.obj, variables, budget,
                                                            f"{limits.display(manifest.obj)} in {manifest.origin}")
        kustomize_fields.set_common_metadata([m.obj for m in manifests], fields)
        manifests, found = children.split(manifests)
        found = bootstrap.recognise(source, found)
        manifests, found = bootstrap.leave_components(manifests, found, flux_components)
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
    _render_cache[key] = ([plain_copy(obj) for obj in objects], found)
    if instructions is not None:
        instructions.append(found)
    return objects


def _referring(objects: list[dict], manifests: list[Any], found: Any,
               project_namespace: str) -> list[tuple[dict, str, str]]:
    """(object, namespace its references resolve in, where it comes from) of every object that may hold one.

    Applied objects resolve in their own namespace (tenancy set it); Flux's Kustomizations and GitRepositories
    (instructions, never applied) in the namespace they are written in, else the project's.
    """
    from gitops_tui.reconciler.flux.references import display

    out = [(obj, str((obj.get("metadata") or {}).get("namespace") or project_namespace), display(obj, m.origin))
           for obj, m in zip(objects, manifests, strict=False)]
    for manifest in (*found.kustomizations, *found.repositories, *found.bootstrap, *found.generators):
        obj = manifest.obj
        out.append((obj, str((obj.get("metadata") or {}).get("namespace") or project_namespace),
                    display(obj, manifest.origin)))
    return out
