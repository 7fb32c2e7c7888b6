"""Operator actions on GitOps sources (create, suspend, resume, reconcile, diff, delete), shared by the CLI and the console."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui import paths
from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import check_clusters, check_name, project_namespace
from gitops_tui.api import builders, names
from gitops_tui.api.flux_role import render_mode
from gitops_tui.api.formats import parse_duration
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import ClusterConnections, ClusterUnreachable, json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.inventory import describe, parse_entries
from gitops_tui.reconciler.source_urls import SourceUrlRefused, allowed_local_roots, check_source_url, forbidden_dirs
from gitops_tui.reconciler.status import get_object, load_source, object_path

FK = names.KIND_FEDERATED_KUSTOMIZATION
FGR = names.KIND_FEDERATED_GIT_REPOSITORY
#: A password in any URL, or any user part of an http(s) URL (often a token): credentials belong in a secret.
_URL_CREDENTIALS = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s]*:[^/@\s]*@|https?://[^/@\s]+@)", re.IGNORECASE)


class SourceActionError(ActionError):
    """A source action could not be done; the message is one clear sentence for the operator."""


def _precise_now() -> str:
    """An RFC 3339 time with microseconds (so two requests in one second differ)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _source(api: ApiClient, project: str, name: str) -> GitOpsSource:
    namespace = project_namespace(api, project)
    source = load_source(api, namespace, name)
    if source.kustomization is None:
        raise SourceActionError(f"source {name!r} does not exist in project {project!r}")
    return source


def _patch(api: ApiClient, obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    path = object_path(obj["kind"], meta["namespace"], meta["name"])
    try:
        return json_request(api, "PATCH", path, patch, content_type="application/merge-patch+json")
    except ApiException as exc:
        if exc.status == 404:
            raise SourceActionError(f"source {meta['name']!r} no longer exists") from None
        raise SourceActionError(f"the management cluster refused the change (HTTP {exc.status})") from None


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
    source = _source(api, project, name)
    token = _precise_now()
    _patch(api, source.kustomization or {}, builders.reconcile_patch(at=token))
    record_action(api, action="reconcile", actor=actor or current_actor(), project=project, source=name)
    return token


def load_source_of(api: ApiClient, project: str, name: str) -> GitOpsSource:
    """Return the source ``name`` of ``project``; raise SourceActionError when it does not exist."""
    return _source(api, project, name)


def reconcile_handled(api: ApiClient, project: str, name: str, token: str) -> GitOpsSource | None:
    """Return the source once its status shows ``token`` handled (lastHandledReconcileAt), else None."""
    source = _source(api, project, name)
    status = (source.kustomization or {}).get("status") or {}
    return source if status.get("lastHandledReconcileAt") == token else None


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


_context = reading_context


def diff_source(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> DiffReport:
    """Compare every placed cluster with what it should run (dry-run apply, no writes): git's revision, or the pin's
    on a pinned cluster (frozen or not: what a resume would apply). The basis of `diff` and the resume previews."""
    from gitops_tui.actions.state import read_source

    reading = read_source(api, project, name)
    targets = {c.name: c.pin.revision for c in reading.state.clusters if c.pin is not None}
    ctx = _context(api, data_dir)
    try:
        return _diff(ctx, reading.source, name, targets, reading.state.names, reading.state.overrides)
    finally:
        ctx.clusters.close()


def _diff(ctx: Any, source: GitOpsSource, name: str, targets: dict[str, str] | None = None,
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


def preview_resume(api: ApiClient, project: str, name: str, data_dir: Path | None = None) -> DiffReport:
    """Return what a resume would revert: the dry-run diff of every placed cluster against git."""
    return diff_source(api, project, name, data_dir)


def delete_preview(api: ApiClient, project: str, name: str) -> dict[str, list[str]]:
    """Return, per cluster, the objects a delete would prune (from the status inventory); empty lists when orphaned."""
    source = _source(api, project, name)
    result: dict[str, list[str]] = {}
    for entry in ((source.kustomization or {}).get("status") or {}).get("clusters") or []:
        refs = [] if source.orphan else parse_entries(entry.get("inventory"))
        result[str(entry.get("name"))] = [describe(ref) for ref in refs]
    return result


def delete_source(api: ApiClient, project: str, name: str, orphan: bool = False, actor: str | None = None) -> None:
    """Delete a source; the finalizer prunes its objects from every cluster unless ``orphan`` keeps them."""
    actor = actor or current_actor()
    source = _source(api, project, name)
    fk = source.kustomization or {}
    if orphan and not source.orphan:
        fk = _patch(api, fk, {"metadata": {"annotations": {names.ANNOTATION_ORPHAN: "true"}}})
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
