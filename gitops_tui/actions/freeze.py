"""Operator actions on freezes: suspend a source or a project (with an expiry, on some clusters), resume, break glass."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import cluster_names, get_project, project_namespace
from gitops_tui.actions.source_access import SourceActionError, patch_project, patch_source, precise_now, project_source
from gitops_tui.actions.source_diff import DiffReport, diff_source, reading_context
from gitops_tui.actions.state import list_clusters, read_source
from gitops_tui.api import freeze as fz
from gitops_tui.api import holds, names
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.project import Project
from gitops_tui.api.source import GitOpsSource
from gitops_tui.kube.client import json_request
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.whoami import who_am_i
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
    return now or datetime.now(UTC)


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
    """The project's clusters in its placement order (every attached cluster when it names none)."""
    clusters = list_clusters(api)
    return placed_clusters(Project(project).placement, clusters) or cluster_names(api)


def _identity(api: ApiClient) -> str:
    """The user the API server says the operator is (SelfSubjectReview), '' when it cannot say."""
    return str(who_am_i(api).get("user") or "")


def _current_freeze(source: GitOpsSource, raw_project: dict[str, Any]) -> fz.Freeze | None:
    """The source's own freeze to extend or resume: the operator's record, else what the source itself says."""
    return holds.operator_record(raw_project, source.name).freeze or fz.source_freeze(source.kustomization)


def freeze_source(api: ApiClient, project: str, name: str, request: FreezeRequest, actor: str | None = None,
                  now: datetime | None = None) -> GitOpsSource:
    """Suspend a source (all or some clusters, with an optional expiry), or extend its freeze keeping the history.

    The operator's freeze is recorded on the Project first (where a project member cannot lift it), then copied to
    the FederatedKustomization (where Flux and kubectl read ``suspend``).
    """
    actor, now = actor or current_actor(), _utc(now)
    source = project_source(api, project, name)
    raw_project = get_project(api, project)
    placed = _placed(api, source, raw_project)
    until = _check(request, placed, f"source {name}", now)
    current = _current_freeze(source, raw_project)
    try:
        change = fz.merge(current, by=actor, reason=request.reason.strip(), now=now, until=until, then=request.then,
                          clusters=list(request.clusters), order=placed)
    except ValueError as exc:
        raise SourceActionError(f"source {name}: {exc}") from None
    patch_project(api, project, holds.record_patch(name, freeze=fz.freeze_record(change, _identity(api))))
    fk = patch_source(api, source.kustomization or {}, fz.source_patch(change))
    EventRecorder(api).emit(fk, "Normal", fz.REASON_FREEZE_EXTENDED if change.extended else "Suspended",
                            _freeze_message("extended" if change.extended else "suspended", change))
    record_action(api, action="extend" if change.extended else "suspend", actor=actor, reason=_journal_reason(change),
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
    """Resume a source on every cluster, or only on ``clusters`` (the others stay frozen); reconcile now.

    Refused while its project's freeze holds those clusters (it says how to lift that). The operator's record on the
    Project is lifted first (a copy left on the source is then known as stale), then the source's own fields.
    """
    actor, now = actor or current_actor(), _utc(now)
    source = project_source(api, project, name)
    raw_project = get_project(api, project)
    refusal = fz.project_hold_refusal(project, name, fz.project_freeze(raw_project), list(clusters or []), now)
    if refusal:
        raise SourceActionError(refusal)
    record = holds.operator_record(raw_project, name).freeze
    current = _current_freeze(source, raw_project)
    left: list[str] = []
    placed = _placed(api, source, raw_project)
    if current is None:
        refusal = window_hold_refusal(project, name, raw_project, list(clusters or placed), now)
        if refusal:
            raise SourceActionError(refusal)
    if clusters:
        if current is None:
            raise SourceActionError(f"source {name} is not suspended")
        left = fz.remaining(current, placed, clusters)
        not_frozen = [c for c in clusters if c not in (placed if current.everywhere else current.clusters)]
        if not_frozen:
            raise SourceActionError(f"source {name} is not suspended on {', '.join(not_frozen)} "
                                    f"(suspended on {current.where()})")
    if record is not None:
        kept = fz.resumed_record(record, left, actor, fz.stamp(now), list(clusters or []))
        patch_project(api, project, holds.record_patch(
            name, freeze=kept if kept is not None else holds.lifted_freeze_record(record, actor, fz.stamp(now))))
    fk = patch_source(api, source.kustomization or {},
                fz.source_resume_patch(current, left, list(clusters or []), actor, fz.stamp(now), precise_now()))
    where = f" on {', '.join(clusters)}" if clusters and left else ""
    detail = f" (suspended by {current.by} since {current.at}: {current.reason})" if current else ""
    EventRecorder(api).emit(fk, "Normal", "Resumed", f"resumed by {actor}{where}{detail}")
    record_action(api, action="resume", actor=actor,
                   reason=f"was suspended by {current.by}: {current.reason}" if current else "",
                   project=project, source=name, clusters=list(clusters or []))
    return GitOpsSource(source.repository, fk)


def window_hold_refusal(project: str, name: str, raw_project: dict[str, Any], clusters: list[str],
                        now: datetime) -> str:
    """The sentence refusing to resume source ``name`` that no freeze holds while a freeze window holds ``clusters``
    ('' when none does): resuming would lift nothing."""
    from gitops_tui.api.windows import open_windows

    for found in open_windows(raw_project, now):
        held = [c for c in clusters if found.window.covers(c)]
        if held:
            window = found.window
            return (f"source {name} is not suspended; it is held on {', '.join(held)} by {found.header()} "
                    f"(by {window.by}: {window.reason}); resuming would not lift it: delete the window with "
                    f"`gitops-tui window delete {window.name} -p {project} --reason TEXT`, or break glass")
    return ""


def freeze_project(api: ApiClient, project: str, request: FreezeRequest, actor: str | None = None,
                   now: datetime | None = None) -> fz.Freeze:
    """Record a freeze on the Project: every source of it, present or created later, is held while it stands."""
    actor, now = actor or current_actor(), _utc(now)
    raw = get_project(api, project)
    namespace = project_namespace(api, project)
    until = _check(request, _project_placed(api, raw), f"project {project}", now)
    try:
        change = fz.merge(fz.project_freeze(raw), by=actor, reason=request.reason.strip(), now=now, until=until,
                          then=request.then, clusters=list(request.clusters), order=_project_placed(api, raw))
    except ValueError as exc:
        raise ActionError(f"project {project}: {exc}") from None
    updated = patch_project(api, project, fz.project_patch(change, _identity(api)))
    EventRecorder(api).emit(updated, "Normal", fz.REASON_FREEZE_EXTENDED if change.extended else "Suspended",
                            "project " + _freeze_message("extended" if change.extended else "suspended", change),
                            namespace=namespace)
    record_action(api, action="extend" if change.extended else "suspend", actor=actor, reason=_journal_reason(change),
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
        updated = patch_project(api, project, fz.project_resume_patch(current, left, actor, fz.stamp(now),
                                                                      list(clusters or [])))
        where = f" on {', '.join(clusters)}" if clusters and left else ""
        EventRecorder(api).emit(updated, "Normal", "Resumed",
                                f"project resumed by {actor}{where} (suspended by {current.by} since {current.at}: "
                                f"{current.reason})", namespace=namespace)
        record_action(api, action="resume", actor=actor, reason=f"was suspended by {current.by}: {current.reason}",
                       project=project, clusters=list(clusters or []))
    done = []
    for name in _project_sources(api, namespace):
        held = _current_freeze(load_source(api, namespace, name), get_project(api, project))
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
                now: datetime | None = None, revision: str = "", clusters: list[str] | None = None) -> str:
    """Ask for one apply of ``revision`` (default: git's, fetched now) on the frozen clusters (all, or ``clusters``),
    without resuming them; return the request's token.

    Exactly that revision is applied, on exactly those clusters (a pinned one too), and named in the Event and the
    journal. Recorded on the Project (only an operator breaks glass), then copied to the source's annotations.
    """
    from gitops_tui.actions.pin import resolve_known_revision

    actor, now = actor or current_actor(), _utc(now)
    if not reason.strip():
        raise SourceActionError("a reason is required to break glass")
    reading = read_source(api, project, name, now)
    held = reading.state.held
    if not held:
        raise SourceActionError(f"source {name} is not suspended: reconcile it normally")
    unknown = [c for c in clusters or [] if c not in held]
    if unknown:
        raise SourceActionError(f"source {name} is not frozen on {', '.join(unknown)} (frozen on {', '.join(held)})")
    chosen = [c for c in held if c in (clusters or held)]
    target = resolve_known_revision(api, reading.source, revision) if revision else git_revision(api, reading.source)
    if not target:
        raise SourceActionError(f"source {name} has no revision fetched yet: give --revision")
    token = precise_now()
    request = holds.BreakGlassRequest(token, actor, reason.strip(), target, tuple(chosen), _identity(api))
    patch_project(api, project, holds.record_patch(name, break_glass=request.to_record()))
    fk = patch_source(api, reading.source.kustomization or {},
                {"metadata": {"annotations": {**fz.break_glass_patch(actor, reason.strip(), token)["metadata"]["annotations"],
                                              names.ANNOTATION_REQUESTED_AT: token}}})
    what = f"apply {target} once on {', '.join(chosen)} while frozen"
    EventRecorder(api).emit(fk, "Warning", fz.REASON_BREAK_GLASS, f"break glass by {actor}: {what}: {reason.strip()}",
                            revision=target)
    record_action(api, action="break-glass", actor=actor, reason=reason.strip(), project=project,
                  source=name, clusters=chosen, objects=[f"revision {target}"])
    return token


def git_revision(api: ApiClient, source: GitOpsSource) -> str:
    """Git's revision of the source's ref now (fetched), else the last one the reconciler fetched ('' when none)."""
    from gitops_tui.reconciler.desired import RevisionFailed, fetch_artifact

    ctx = reading_context(api, None)
    try:
        return str(fetch_artifact(ctx, source).revision)
    except RevisionFailed:
        return source.artifact_revision
    finally:
        ctx.clusters.close()


def break_glass_request(api: ApiClient, project: str, name: str) -> holds.BreakGlassRequest | None:
    """The operator's last break glass of the source, as recorded on its Project (None when none)."""
    return holds.operator_record(get_project(api, project), name).break_glass


def break_glass_handled(api: ApiClient, project: str, name: str, token: str) -> GitOpsSource | None:
    """The source once the reconciler has applied the break-glass request ``token``, else None."""
    source = project_source(api, project, name)
    request = holds.operator_record(get_project(api, project), name).break_glass
    return source if request is not None and request.token == token and not request.pending else None


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
