"""Freezes as the console shows them: who/why/since, on which clusters, time left or expired, and the header's alerts."""

from __future__ import annotations

from datetime import datetime, timezone

from gitops_tui.views import model
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import age, parse_time


def time_left(until: str, now: datetime) -> str:
    """``1h`` until the expiry, '' when none or passed."""
    moment = parse_time(until)
    if moment is None or moment <= now:
        return ""
    return age(now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), moment)


def expiry_text(suspension: model.Suspension, now: datetime) -> str:
    """``EXPIRED 10m ago``, ``1h left``, ``resumes in 1h`` or '' without an expiry."""
    if not suspension.until:
        return ""
    if suspension.expired(now):
        return f"EXPIRED {age(suspension.until, now)} ago"
    left = time_left(suspension.until, now)
    return f"resumes in {left}" if suspension.then else f"{left} left"


def suspension_text(suspension: model.Suspension | None, now: datetime) -> str:
    """``EXPIRED 10m ago, project freeze on prod by alice 12m ago: reason`` ('' when not suspended)."""
    if suspension is None:
        return ""
    since = age(suspension.at, now)
    expiry = expiry_text(suspension, now)
    parts = [
        f"{expiry}, " if expiry.startswith("EXPIRED") else "",
        "project freeze " if suspension.scope == "project" else "",
        f"on {','.join(suspension.clusters)} " if suspension.clusters else "",
        f"by {suspension.by}",
        f" {since} ago" if since else "",
        f" ({expiry})" if expiry and not expiry.startswith("EXPIRED") else "",
        f": {suspension.reason}" if suspension.reason else "",
    ]
    return "".join(parts)


def project_freezes(state: ManagementState) -> dict[str, model.Suspension]:
    """The frozen projects by name."""
    found = {}
    for project in state.items("projects"):
        suspension = model.project_suspension(project)
        if suspension is not None:
            found[project["metadata"]["name"]] = suspension
    return found


def expired_freezes(state: ManagementState, now: datetime) -> list[model.Suspension]:
    """Every freeze (of a source or a project) whose expiry passed while it still stands, oldest expiry first."""
    found = [s for s in project_freezes(state).values() if s.expired(now)]
    found += [s for s in (model.suspension_of(v.kustomization) for v in model.sources(state))
              if s is not None and s.expired(now)]
    return sorted(found, key=lambda s: s.until)


def header_alerts(state: ManagementState, now: datetime) -> str:
    """The header's freeze line: ``frozen: demo(prod) · 1 freeze expired 10m ago`` ('' when none)."""
    parts = []
    frozen = project_freezes(state)
    if frozen:
        parts.append("frozen: " + " ".join(f"{name}({','.join(s.clusters)})" if s.clusters else name
                                           for name, s in sorted(frozen.items())))
    expired = expired_freezes(state, now)
    if expired:
        count = len(expired)
        parts.append(f"{count} freeze{'s' if count > 1 else ''} expired {age(expired[0].until, now)} ago")
    return " · ".join(parts)
