"""Operator actions on freezes: suspend a source or a project (with an expiry, on some clusters), resume, break glass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from gitops_tui import journal
from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor
from gitops_tui.actions.resources import cluster_names, get_project, project_namespace
from gitops_tui.actions.sources import DiffReport, SourceActionError, _patch, _precise_now, _source, diff_source
from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from gitops_tui.api.paths import management_path
from gitops_tui.api.project import Project
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.reconciler.status import load_source, object_path


@dataclass(frozen=True)
class FreezeRequest:
    """What an operator asks when freezing: why, for how long, then what, and on which clusters."""

    reason: str
    for_: str = ""
    """A duration (``2h``); "" for no expiry."""
    until: str = ""
    """An RFC 3339 expiry; "" for none (give ``for_`` or ``until``, not both)."""
    then: str = ""
    """``resume`` to resume by itself at expiry; "" to stay frozen and raise an alarm."""
    clusters: tuple[str, ...] = ()
    """The clusters to freeze; empty means every cluster."""


def _utc(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


def _check(request: FreezeRequest, placed: list[str], what: str, now: datetime) -> str:
    """Raise ActionError for a bad request; return the expiry ("" for none)."""
    if not request.reason.strip():
        raise ActionError(f"a reason is required to suspend {what}")
    if request.then not in ("", fz.THEN_RESUME):
        raise ActionError(f"--then {request.then!r} is not known: the only choice is 'resume'")
    try:
        until = fz.parse_expiry(request.for_, request.until, now)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    if request.then and not until:
        raise ActionError("--then resume needs an expiry: give --for or --until")
    unknown = [c for c in request.clusters if c not in placed]
    if unknown:
        raise ActionError(f"{what} is not placed on {', '.join(unknown)} (its clusters: {', '.join(placed) or 'none'})")
    return until


def _placed(api: ApiClient, source: GitOpsSource, project: dict[str, Any]) -> list[str]:
    clusters = json_request(api, "GET", object_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE))
    return source.resolve_clusters(list(clusters.get("items") or []), Project(project).placement)


def _project_placed(api: ApiClient, project: dict[str, Any]) -> list[str]:
    view = Project(project)
    named = view.placement_clusters
    return named if named else cluster_names(api)


def freeze_source(api: ApiClient, project: str, name: str, request: FreezeRequest, actor: str | None = None,
                  now: datetime | None = None) -> GitOpsSource:
    """Suspend a source (all or some clusters, with an optional expiry), or extend its freeze keeping the history."""
    actor, now = actor or current_actor(), _utc(now)
    source = _source(api, project, name)
    placed = _placed(api, source, get_project(api, project))
    until = _check(request, placed, f"source {name}", now)
    current = fz.source_freeze(source.kustomization)
    try:
        change = fz.merge(current, by=actor, reason=request.reason.strip(), now=now, until=until, then=request.then,
                          clusters=list(request.clusters))
    except ValueError as exc:
        raise SourceActionError(f"source {name}: {exc}") from None
    fk = _patch(api, source.kustomization or {}, fz.source_patch(change))
    EventRecorder(api).emit(fk, "Normal", fz.REASON_FREEZE_EXTENDED if change.extended else "Suspended",
                            _freeze_message("extended" if change.extended else "suspended", change))
    journal.record(api, action="extend" if change.extended else "suspend", actor=actor, reason=_journal_reason(change),
                   project=project, source=name, clusters=change.clusters)
    return GitOpsSource(source.repository, fk)


def _journal_reason(change: fz.FreezeChange) -> str:
    until = f" (until {change.until}" + (", then resume)" if change.then else ")") if change.until else ""
    return f"{change.reason}{until}"


def _freeze_message(verb: str, change: fz.FreezeChange) -> str:
    where = f" on {', '.join(change.clusters)}" if change.clusters else ""
    until = f" until {change.until}" + (" then resume" if change.then else "") if change.until else ""
    return f"{verb} by {change.by}{where}{until}: {change.reason}"


def resume_source(api: ApiClient, project: str, name: str, clusters: list[str] | None = None,
                  actor: str | None = None, now: datetime | None = None) -> GitOpsSource:
    """Resume a source on every cluster, or only on ``clusters`` (the others stay frozen); reconcile now."""
    actor, now = actor or current_actor(), _utc(now)
    source = _source(api, project, name)
    current = fz.source_freeze(source.kustomization)
    left: list[str] = []
    if clusters:
        if current is None:
            raise SourceActionError(f"source {name} is not suspended")
        placed = _placed(api, source, get_project(api, project))
        left = fz.remaining(current, placed, clusters)
        not_frozen = [c for c in clusters if c not in (placed if current.everywhere else current.clusters)]
        if not_frozen:
            raise SourceActionError(f"source {name} is not suspended on {', '.join(not_frozen)} "
                                    f"(suspended on {current.where()})")
    fk = _patch(api, source.kustomization or {},
                fz.source_resume_patch(current, left, list(clusters or []), actor, fz.stamp(now), _precise_now()))
    where = f" on {', '.join(clusters)}" if clusters and left else ""
    detail = f" (suspended by {current.by} since {current.at}: {current.reason})" if current else ""
    EventRecorder(api).emit(fk, "Normal", "Resumed", f"resumed by {actor}{where}{detail}")
    journal.record(api, action="resume", actor=actor,
                   reason=f"was suspended by {current.by}: {current.reason}" if current else "",
                   project=project, source=name, clusters=list(clusters or []))
    return GitOpsSource(source.repository, fk)


def _patch_project(api: ApiClient, project: str, patch: dict[str, Any]) -> dict[str, Any]:
    try:
        return json_request(api, "PATCH", management_path(names.KIND_PROJECT, None, project), patch,
                            content_type="application/merge-patch+json")
    except ApiException as exc:
        raise ActionError(f"the management cluster refused the change to project {project} (HTTP {exc.status})") from None


def freeze_project(api: ApiClient, project: str, request: FreezeRequest, actor: str | None = None,
                   now: datetime | None = None) -> fz.Freeze:
    """Record a freeze on the Project: every source of it, present or created later, is held while it stands."""
    actor, now = actor or current_actor(), _utc(now)
    raw = get_project(api, project)
    namespace = project_namespace(api, project)
    until = _check(request, _project_placed(api, raw), f"project {project}", now)
    try:
        change = fz.merge(fz.project_freeze(raw), by=actor, reason=request.reason.strip(), now=now, until=until,
                          then=request.then, clusters=list(request.clusters))
    except ValueError as exc:
        raise ActionError(f"project {project}: {exc}") from None
    updated = _patch_project(api, project, fz.project_patch(change))
    EventRecorder(api).emit(updated, "Normal", fz.REASON_FREEZE_EXTENDED if change.extended else "Suspended",
                            "project " + _freeze_message("extended" if change.extended else "suspended", change),
                            namespace=namespace)
    journal.record(api, action="extend" if change.extended else "suspend", actor=actor, reason=_journal_reason(change),
                   project=project, clusters=change.clusters)
    frozen = fz.project_freeze(updated)
    assert frozen is not None
    return frozen


def project_source_names(api: ApiClient, project: str) -> list[str]:
    """The names of the project's sources (all of them are held while the project is frozen)."""
    return _project_sources(api, project_namespace(api, project))


def _project_sources(api: ApiClient, namespace: str) -> list[str]:
    listed = json_request(api, "GET", object_path(names.KIND_FEDERATED_KUSTOMIZATION, namespace))
    return sorted(str(item["metadata"]["name"]) for item in listed.get("items") or [])


def resume_project(api: ApiClient, project: str, clusters: list[str] | None = None, actor: str | None = None,
                   now: datetime | None = None) -> list[str]:
    """Lift the project's freeze (all or ``clusters``) and resume its suspended sources there; return those sources."""
    actor, now = actor or current_actor(), _utc(now)
    raw = get_project(api, project)
    namespace = project_namespace(api, project)
    current = fz.project_freeze(raw)
    if current is not None:
        left = fz.remaining(current, _project_placed(api, raw), clusters) if clusters else []
        updated = _patch_project(api, project, fz.project_resume_patch(current, left, actor, fz.stamp(now),
                                                                      list(clusters or [])))
        where = f" on {', '.join(clusters)}" if clusters and left else ""
        EventRecorder(api).emit(updated, "Normal", "Resumed",
                                f"project resumed by {actor}{where} (suspended by {current.by} since {current.at}: "
                                f"{current.reason})", namespace=namespace)
        journal.record(api, action="resume", actor=actor, reason=f"was suspended by {current.by}: {current.reason}",
                       project=project, clusters=list(clusters or []))
    done = []
    for name in _project_sources(api, namespace):
        held = fz.source_freeze(load_source(api, namespace, name).kustomization)
        targets = [c for c in clusters or [] if held is not None and held.holds(c)]
        if held is None or (clusters and not targets):
            continue
        try:
            resume_source(api, project, name, targets or None, actor, now)
        except SourceActionError:  # frozen everywhere but not placed on a named cluster: nothing to lift there
            continue
        done.append(name)
    return done


def break_glass(api: ApiClient, project: str, name: str, reason: str, actor: str | None = None,
                now: datetime | None = None) -> str:
    """Ask for one apply of a frozen source's revision without resuming it (who, why, when recorded); return the token."""
    actor, now = actor or current_actor(), _utc(now)
    if not reason.strip():
        raise SourceActionError("a reason is required to break glass")
    source = _source(api, project, name)
    if fz.source_freeze(source.kustomization) is None and fz.project_freeze(get_project(api, project)) is None:
        raise SourceActionError(f"source {name} is not suspended: reconcile it normally")
    token = _precise_now()
    fk = _patch(api, source.kustomization or {}, fz.break_glass_patch(actor, reason.strip(), token))
    EventRecorder(api).emit(fk, "Warning", fz.REASON_BREAK_GLASS,
                            f"break glass by {actor}: apply once while suspended: {reason.strip()}")
    journal.record(api, action="break-glass", actor=actor, reason=reason.strip(), project=project, source=name)
    return token


def break_glass_handled(api: ApiClient, project: str, name: str, token: str) -> GitOpsSource | None:
    """The source once the reconciler has applied the break-glass request ``token``, else None."""
    source = _source(api, project, name)
    glass = fz.break_glass_of(source.kustomization)
    return source if glass is not None and glass.at == token and glass.applied else None


@dataclass
class SourcePreview:
    """What resuming one source of a project reverts (its diff), or why it could not be computed."""

    name: str
    report: DiffReport | None = None
    error: str = ""


def preview_project_resume(api: ApiClient, project: str, data_dir: Path | None = None) -> list[SourcePreview]:
    """For every source of the project, the dry-run diff a resume would revert."""
    namespace = project_namespace(api, project)
    previews = []
    for name in _project_sources(api, namespace):
        try:
            previews.append(SourcePreview(name, diff_source(api, project, name, data_dir)))
        except ActionError as exc:
            previews.append(SourcePreview(name, error=str(exc)))
    return previews
