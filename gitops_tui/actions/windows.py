"""Operator actions on freeze windows: create, list and delete a project's windows, each journaled with who and why."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient

from gitops_tui.actions import ActionError
from gitops_tui.actions.actor import current_actor, record_action
from gitops_tui.actions.resources import cluster_names, get_project, project_namespace
from gitops_tui.actions.source_access import patch_project
from gitops_tui.actions.state import list_clusters
from gitops_tui.api import windows as wn
from gitops_tui.api.placement import placed_clusters
from gitops_tui.api.project import Project
from gitops_tui.kube.events import EventRecorder
from gitops_tui.kube.whoami import who_am_i


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def project_clusters(api: ApiClient, raw: dict[str, Any]) -> list[str]:
    """The project's clusters in its placement order (every attached cluster when it names none)."""
    return placed_clusters(Project(raw).placement, list_clusters(api)) or cluster_names(api)


def create_window(api: ApiClient, project: str, name: str, *, schedule: str, duration: str, reason: str,
                  clusters: list[str] | None = None, timezone_name: str = wn.DEFAULT_TIMEZONE,
                  actor: str | None = None, now: datetime | None = None) -> wn.Window:
    """Record a freeze window on the Project (only an operator can write it); journal and tell it with who and why.

    ActionError in one sentence for a bad name, schedule, duration or timezone, a cluster the project is not placed
    on, a missing reason, or a window of that name that exists already.
    """
    actor, now = actor or current_actor(), _now(now)
    if not reason.strip():
        raise ActionError("a reason is required to create a window")
    problem = wn.check(name, schedule.strip(), duration.strip(), timezone_name.strip() or wn.DEFAULT_TIMEZONE)
    if problem:
        raise ActionError(problem)
    raw = get_project(api, project)
    if any(w.name == name for w in wn.windows_of(raw)):
        raise ActionError(f"project {project} has a window named {name} already: delete it first "
                          f"(gitops-tui window delete {name} -p {project} --reason TEXT)")
    placed = project_clusters(api, raw)
    unknown = [c for c in clusters or [] if c not in placed]
    if unknown:
        raise ActionError(f"project {project} is not placed on {', '.join(unknown)} "
                          f"(its clusters: {', '.join(placed) or 'none'})")
    chosen = tuple(c for c in placed if c in set(clusters or []))
    window = wn.Window(name, schedule.strip(), duration.strip(), timezone_name.strip() or wn.DEFAULT_TIMEZONE,
                       chosen, reason.strip(), actor, str(who_am_i(api).get("user") or ""), wn.stamp(now))
    updated = patch_project(api, project, wn.create_patch(window))
    state = _state_text(window, now)
    EventRecorder(api).emit(updated, "Normal", wn.REASON_WINDOW_CREATED, f"{window.describe()}; {state}",
                            namespace=project_namespace(api, project))
    record_action(api, action="window-create", actor=actor, reason=f"{window.describe()}; {state}", project=project,
                  clusters=list(chosen))
    return window


def _state_text(window: wn.Window, now: datetime) -> str:
    """``open now until Mon 08:00`` or ``next opens Fri 16:00``."""
    span = window.span(now)
    if span is not None:
        return f"open now until {window.local(span[1])}"
    upcoming = window.opens_next(now)
    return f"next opens {window.local(upcoming)}" if upcoming else "never opens"


def delete_window(api: ApiClient, project: str, name: str, reason: str, actor: str | None = None,
                  now: datetime | None = None) -> wn.Window:
    """Remove a window from the Project (its clusters follow their sources again at once); journal who and why."""
    actor, now = actor or current_actor(), _now(now)
    if not reason.strip():
        raise ActionError("a reason is required to delete a window")
    raw = get_project(api, project)
    window = next((w for w in wn.windows_of(raw) if w.name == name), None)
    if window is None:
        known = ", ".join(w.name for w in wn.windows_of(raw)) or "none"
        raise ActionError(f"project {project} has no window named {name} (its windows: {known})")
    was_open = window.span(now) is not None
    updated = patch_project(api, project, wn.delete_patch(name))
    text = f"{window.describe()}; deleted by {actor}" + (" while open: its clusters follow their sources again"
                                                          if was_open else "") + f": {reason.strip()}"
    EventRecorder(api).emit(updated, "Normal", wn.REASON_WINDOW_DELETED, text,
                            namespace=project_namespace(api, project))
    record_action(api, action="window-delete", actor=actor, reason=reason.strip(), project=project,
                  clusters=list(window.clusters), objects=[f"window {name}: {window.schedule} for {window.duration} "
                                                           f"({window.timezone})"])
    return window


def list_windows(api: ApiClient, project: str | None = None,
                 now: datetime | None = None) -> list[tuple[str, wn.Window, dict[str, Any]]]:
    """(project, window, its JSON form at ``now``) of one project's windows, or of every project's."""
    from gitops_tui.api import names
    from gitops_tui.api.paths import management_path
    from gitops_tui.kube.client import json_request

    now = _now(now)
    if project:
        projects = [get_project(api, project)]
    else:
        projects = list(json_request(api, "GET", management_path(names.KIND_PROJECT, None)).get("items") or [])
    found = []
    for raw in sorted(projects, key=lambda p: str((p.get("metadata") or {}).get("name") or "")):
        name = str((raw.get("metadata") or {}).get("name") or "")
        found += [(name, w, w.to_dict(now)) for w in wn.windows_of(raw)]
    return found
