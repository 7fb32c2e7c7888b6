"""Operator actions on GitOps sources (create, suspend, resume, reconcile, diff, delete), shared by the CLI and the console."""

from __future__ import annotations

import re
from pathlib import Path

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import check_clusters, check_name, project_namespace
from gitops_tui.actions.source_access import SourceActionError, patch_source, precise_now, project_source
from gitops_tui.actions.source_diff import DiffReport, diff_source
from gitops_tui.api import builders, names
from gitops_tui.api.formats import parse_duration
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.inventory import describe, parse_entries
from gitops_tui.reconciler.source_urls import SourceUrlRefused, allowed_local_roots, check_source_url, forbidden_dirs
from gitops_tui.reconciler.status import get_object, object_path

FK = names.KIND_FEDERATED_KUSTOMIZATION
FGR = names.KIND_FEDERATED_GIT_REPOSITORY
#: A password in any URL, or any user part of an http(s) URL (often a token): credentials belong in a secret.
_URL_CREDENTIALS = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s]*:[^/@\s]*@|https?://[^/@\s]+@)", re.IGNORECASE)


def create_source(api: ApiClient, project: str, name: str, url: str, ref: dict[str, str] | str | None = None,
                  path: str = "./", secret: str = "", interval: str = names.DEFAULT_INTERVAL,
                  provider: str = names.DEFAULT_PROVIDER, clusters: list[str] | None = None,
                  prune: bool = True, local_repos: list[Path] | None = None) -> GitOpsSource:
    """Create the FederatedGitRepository and FederatedKustomization of a new source in ``project``.

    A local path or ``file://`` URL must lie under ``local_repos`` (default: source_urls.allowed_local_roots()).
    """
    check_name("source", name)
    _check_source_spec(url, interval, local_repos)
    namespace = project_namespace(api, project)
    if clusters:
        check_clusters(api, clusters)
    if isinstance(ref, str):
        ref = {"branch": ref}
    if secret and get_object(api, names.KIND_FEDERATED_SECRET, namespace, secret) is None:
        raise SourceActionError(f"secret {secret!r} does not exist in project {project!r}")
    repository, kustomization = builders.new_source(
        name, namespace, url, ref=ref or {"branch": "main"}, path=path or "./", secret_ref=secret,
        interval=interval, provider=provider, prune=prune, clusters=clusters,
    )
    created = []
    for obj in (repository, kustomization):
        try:
            created.append(json_request(api, "POST", object_path(obj["kind"], namespace), obj))
        except ApiException as exc:
            if exc.status == 409:
                raise SourceActionError(f"source {name!r} already exists in project {project!r}") from None
            if exc.status == 422:
                raise SourceActionError(f"the source {name!r} is not valid (names are lowercase letters, digits and '-')") from None
            raise SourceActionError(f"the management cluster refused the source (HTTP {exc.status})") from None
    record_action(api, action="create", actor=current_actor(), project=project, source=name, clusters=clusters or (),
                   objects=[f"FederatedGitRepository {name}", f"FederatedKustomization {name}"])
    return GitOpsSource(created[0], created[1])


def _check_source_spec(url: str, interval: str, local_repos: list[Path] | None = None) -> None:
    """Raise SourceActionError for a URL that holds credentials or may not be fetched, or a bad interval."""
    if _URL_CREDENTIALS.match(url):
        # The URL itself is never repeated: it holds a secret.
        raise SourceActionError("the URL holds credentials: put them in a secret "
                                "(create secret --password-stdin) and name it with --secret")
    try:
        check_source_url(url, allowed_local_roots(local_repos), forbidden_dirs())
    except SourceUrlRefused as exc:
        raise SourceActionError(exc.message) from None
    try:
        seconds = parse_duration(interval)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise SourceActionError(f"interval {interval!r} is not a positive duration: use a form like 30s, 5m or 1h")


def suspend_source(api: ApiClient, project: str, name: str, reason: str, actor: str | None = None) -> GitOpsSource:
    """Suspend a source on every cluster with who, why and when (actions.freeze.freeze_source: expiry, clusters)."""
    from gitops_tui.actions import freeze

    return freeze.freeze_source(api, project, name, freeze.FreezeRequest(reason), actor)


def resume_source(api: ApiClient, project: str, name: str, actor: str | None = None) -> GitOpsSource:
    """Resume a source on every cluster and ask for a reconcile now (actions.freeze.resume_source: some clusters)."""
    from gitops_tui.actions import freeze

    return freeze.resume_source(api, project, name, actor=actor)


def request_reconcile(api: ApiClient, project: str, name: str, actor: str | None = None) -> str:
    """Ask for a reconcile now (reconcile.fluxcd.io/requestedAt); return the requested time token."""
    source = project_source(api, project, name)
    token = precise_now()
    patch_source(api, source.kustomization or {}, builders.reconcile_patch(at=token))
    record_action(api, action="reconcile", actor=actor or current_actor(), project=project, source=name)
    return token


def load_source_of(api: ApiClient, project: str, name: str) -> GitOpsSource:
    """Return the source ``name`` of ``project``; raise SourceActionError when it does not exist."""
    return project_source(api, project, name)


def reconcile_handled(api: ApiClient, project: str, name: str, token: str) -> GitOpsSource | None:
    """Return the source once its status shows ``token`` handled (lastHandledReconcileAt), else None."""
    source = project_source(api, project, name)
    status = (source.kustomization or {}).get("status") or {}
    return source if status.get("lastHandledReconcileAt") == token else None


def preview_resume(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> DiffReport:
    """Return what a resume would revert: the dry-run diff of every placed cluster against git."""
    return diff_source(api, project, name, data_dir)


def delete_preview(api: ApiClient, project: str, name: str) -> dict[str, list[str]]:
    """Return, per cluster, the objects a delete would prune (from the status inventory); empty lists when orphaned."""
    source = project_source(api, project, name)
    result: dict[str, list[str]] = {}
    for entry in ((source.kustomization or {}).get("status") or {}).get("clusters") or []:
        refs = [] if source.orphan else parse_entries(entry.get("inventory"))
        result[str(entry.get("name"))] = [describe(ref) for ref in refs]
    return result


def delete_source(api: ApiClient, project: str, name: str, orphan: bool = False, actor: str | None = None) -> None:
    """Delete a source; the finalizer prunes its objects from every cluster unless ``orphan`` keeps them."""
    actor = actor or current_actor()
    source = project_source(api, project, name)
    fk = source.kustomization or {}
    if orphan and not source.orphan:
        fk = patch_source(api, fk, {"metadata": {"annotations": {names.ANNOTATION_ORPHAN: "true"}}})
    what = "keeping its objects (orphan)" if orphan or source.orphan else "pruning its objects from every cluster"
    EventRecorder(api).emit(fk, "Normal", "DeleteRequested", f"deleted by {actor}, {what}")
    record_action(api, action="delete", actor=actor, reason=what, project=project, source=name,
                   objects=[] if orphan or source.orphan else
                   [o for objs in delete_preview(api, project, name).values() for o in objs])
    for obj in (fk, source.repository):
        if obj is None:
            continue
        meta = obj["metadata"]
        try:
            json_request(api, "DELETE", object_path(obj["kind"], meta["namespace"], meta["name"]))
        except ApiException as exc:
            if exc.status != 404:
                raise SourceActionError(f"the management cluster refused to delete {name!r} (HTTP {exc.status})") from None
    _forget_holds(api, project, name)


def _forget_holds(api: ApiClient, project: str, name: str) -> None:
    """Drop the operator's records of a deleted source from its Project (a new source of that name starts clean)."""
    from gitops_tui.api.holds import FIELD_SOURCE_HOLDS, forget_patch
    from gitops_tui.api.paths import management_path

    try:
        raw = json_request(api, "GET", management_path(names.KIND_PROJECT, None, project))
        if name in ((raw.get("spec") or {}).get(FIELD_SOURCE_HOLDS) or {}):
            json_request(api, "PATCH", management_path(names.KIND_PROJECT, None, project), forget_patch(name),
                         content_type="application/merge-patch+json")
    except ApiException:
        pass  # the source is deleted either way; a stale record only holds a source of that name if one comes back
