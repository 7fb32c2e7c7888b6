"""Freeze windows and per-cluster overrides as the console shows and asks them: the header, describe lines, and the
window and override dialogs' requests with their checks (each wrong field its own sentence). No Textual, no I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from gitops_tui.api import windows as wn
from gitops_tui.api.project import Project
from gitops_tui.views import model
from gitops_tui.views.freeze import parse_clusters
from gitops_tui.views.state import ManagementState


def open_windows(state: ManagementState, now: datetime) -> list[tuple[str, wn.OpenWindow]]:
    """(project, window) of every window open now, by project."""
    return [(Project(p).name, found) for p in state.items("projects") for found in wn.open_windows(p, now)]


def header_windows(state: ManagementState, now: datetime) -> str:
    """``window weekend open on prod until Mon 08:00`` (each open window; '' when none)."""
    return " · ".join(found.header() for _, found in open_windows(state, now))


def project_windows_line(project: dict | None, now: datetime) -> str:
    """The detail line of a project's windows: ``window weekend open on prod until Mon 08:00: why`` ('' when none)."""
    parts = []
    for window in wn.windows_of(project):
        span = window.span(now)
        if span is not None:
            parts.append(f"window {window.name} open on {window.where()} until {window.local(span[1])} "
                         f"by {window.by}: {window.reason}")
    return " · ".join(parts)


def describe_lines(view: model.SourceView, now: datetime) -> list[str]:
    """Describe lines of a source's windows (its project's, open or not) and overrides (verified or a member's)."""
    lines = []
    for window in wn.windows_of(view.project_obj):
        if not any(window.covers(c) for c in view.clusters):
            continue
        span = window.span(now)
        upcoming = window.opens_next(now)
        state = f"OPEN until {window.local(span[1])}" if span else (
            f"opens {window.local(upcoming)}" if upcoming else "never opens")
        lines.append(f"Window:     {window.name} {state} on {window.where()} ({window.schedule} for {window.duration}, "
                     f"{window.timezone}) by {window.by}: {window.reason}")
    for item in view.state.overrides if view.state is not None else ():
        lines.append(f"Override:   {item.cluster} {item.target} {', '.join(item.paths)} by {item.who}"
                     + (f": {item.reason}" if item.reason else ""))
    return lines


@dataclass(frozen=True)
class WindowRequest:
    """What the window dialog asks: a new window, or the deletion of one (``delete``), with a reason."""

    name: str
    reason: str
    schedule: str = ""
    duration: str = ""
    timezone: str = wn.DEFAULT_TIMEZONE
    clusters: tuple[str, ...] = ()
    delete: bool = False


def check_window(request: WindowRequest, placed: list[str], existing: list[str]) -> dict[str, str]:
    """Each wrong field of the window dialog and why (field id -> sentence); {} when it may be sent."""
    errors: dict[str, str] = {}
    if request.delete:
        if request.name not in existing:
            errors["name"] = f"No window {request.name or '(blank)'}: its windows are {', '.join(existing) or 'none'}."
    else:
        found = wn.problems(request.name, request.schedule, request.duration, request.timezone or wn.DEFAULT_TIMEZONE)
        errors.update({field: problem[0].upper() + problem[1:] + "." for field, problem in found.items()})
        if not found and request.name in existing:
            errors["name"] = f"Window {request.name} exists: tick Delete to remove it first."
        wrong = [c for c in request.clusters if c not in placed]
        if wrong:
            errors["clusters"] = f"Not a cluster of the project: {', '.join(wrong)} (its clusters: {', '.join(placed)})."
    if not request.reason:
        errors["reason"] = "A reason is required."
    return errors


def window_request(name: str, reason: str, schedule: str, duration: str, timezone: str, clusters: str,
                   delete: bool) -> WindowRequest:
    """The dialog's fields as a request."""
    return WindowRequest(name.strip(), reason.strip(), schedule.strip(), duration.strip(),
                         timezone.strip() or wn.DEFAULT_TIMEZONE, tuple(parse_clusters(clusters)), delete)


@dataclass(frozen=True)
class OverrideRequest:
    """What the override dialog asks: a cluster, a target, a JSON 6902 patch or a values file; or a removal."""

    cluster: str
    reason: str
    target: str = ""
    patch: str = ""
    values: str = ""
    """The path of a YAML file of Helm values (read when the request is sent)."""
    remove: bool = False


def check_override(request: OverrideRequest, placed: list[str]) -> dict[str, str]:
    """Each wrong field of the override dialog and why; {} when it may be sent."""
    errors: dict[str, str] = {}
    if request.cluster not in placed:
        errors["cluster"] = f"Choose one of the source's clusters: {', '.join(placed)}."
    if request.target and ("/" not in request.target or not all(request.target.split("/", 1))):
        errors["target"] = "Name the object as Kind/name, e.g. Deployment/podinfo."
    if not request.remove:
        if bool(request.patch) == bool(request.values):
            errors["patch"] = "Give a JSON 6902 patch, or a values file below (not both)."
        elif request.patch:
            try:
                loaded = json.loads(request.patch)
            except json.JSONDecodeError as exc:
                errors["patch"] = f"Not JSON ({exc.msg} at column {exc.colno})."
            else:
                if not isinstance(loaded, (list, dict)):
                    errors["patch"] = "A JSON 6902 patch is a list of {op, path, value}."
            if not request.target and "target" not in errors:
                errors["target"] = "A patch needs its object: Kind/name."
    if not request.reason:
        errors["reason"] = "A reason is required."
    return errors
