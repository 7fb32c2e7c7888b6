"""Freezes as the console shows them: who/why/since, on which clusters, time left or expired, and the header's alerts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.api.holds import operator_record
from gitops_tui.views import glyphs as g
from gitops_tui.views import model
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import age, parse_time


def time_left(until: str, now: datetime) -> str:
    """``1h`` until the expiry, '' when none or passed."""
    moment = parse_time(until)
    if moment is None or moment <= now:
        return ""
    return age(now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), moment)


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
        f"by {suspension.by}" + ("" if suspension.verified else " (unverified)"),
        f" {since} ago" if since else "",
        f" ({expiry})" if expiry and not expiry.startswith("EXPIRED") else "",
        f": {suspension.reason}" if suspension.reason else "",
    ]
    return "".join(parts)


def project_freezes(state: ManagementState) -> dict[str, model.Suspension]:
    """The frozen projects by name (a freeze that resumed by itself at its expiry no longer counts)."""
    found = {}
    for project in state.items("projects"):
        suspension = model.project_suspension(project)
        if suspension is not None and suspension.active(state.now()):
            found[project["metadata"]["name"]] = suspension
    return found


def expired_freezes(state: ManagementState, now: datetime) -> list[model.Suspension]:
    """Every freeze (of a source or a project) whose expiry passed while it still stands, oldest expiry first."""
    found = [s for s in project_freezes(state).values() if s.expired(now)]
    found += [s for s in (v.own_freeze for v in model.sources(state)) if s is not None and s.expired(now)]
    return sorted(found, key=lambda s: s.until)


def header_alerts(state: ManagementState, now: datetime) -> str:
    """The header's freeze line: ``demo frozen on prod · 1 freeze expired 10m ago`` ('' when none)."""
    parts = [f"{name} frozen" + (f" on {','.join(s.clusters)}" if s.clusters else "")
             for name, s in sorted(project_freezes(state).items())]
    expired = expired_freezes(state, now)
    if expired:
        count = len(expired)
        parts.append(f"{count} freeze{'s' if count > 1 else ''} expired {age(expired[0].until, now)} ago")
    return " · ".join(parts)


def project_detail(state: ManagementState, name: str, now: datetime) -> str:
    """The detail line of a frozen project: ``demo frozen on prod by alice 5m ago (1h left): why`` ('' when not)."""
    suspension = project_freezes(state).get(name)
    if suspension is None:
        return ""
    text = suspension_text(suspension, now).replace("project freeze ", "", 1)
    return f"{name} frozen {text}; every source of it is held, new ones too"


def describe_lines(view: model.SourceView, now: datetime) -> list[str]:
    """Describe lines of a source's holds: the freeze history (each step: who, why, when), the held clusters, the pin,
    the last break glass (the revision and clusters), and the member writes that were ignored."""
    freeze = view.own_freeze
    lines = []
    if freeze is not None and freeze.history:
        lines.append("Freeze history:")
        for step in freeze.history:
            where = f" on {','.join(step['clusters'])}" if step.get("clusters") else ""
            until = f" until {step['until']}" if step.get("until") else ""
            reason = f": {step['reason']}" if step.get("reason") else ""
            lines.append(f"  {step.get('at', '')} {step.get('action', '')} by {step.get('by', '')}{where}{until}{reason}")
    if view.held and len(view.held) < len(view.clusters):
        lines.append(f"Held on:    {', '.join(view.held)} (the others follow git)")
    if view.pin is not None:
        lines.append(f"Pinned:     {g.PIN} {view.pin.describe()}")
    glass = operator_record(view.project_obj, view.name).break_glass
    if glass is not None:
        state = "applied" if not glass.pending else "waiting for the reconciler"
        where = ", ".join(glass.clusters) or "every frozen cluster"
        lines.append(f"Break glass: by {glass.by} at {glass.token} ({state}): {g.short_revision(glass.revision)} "
                     f"on {where}: {glass.reason}")
    for ignored in view.state.ignored if view.state is not None else ():
        lines.append(f"Ignored:    {ignored.message}")
    return lines



@dataclass(frozen=True)
class FreezeChoice:
    """What the freeze dialog asked beyond the reason: an expiry, what then, and the clusters."""

    expiry: str = ""
    """A duration (``2h``) or an RFC 3339 time; '' for none."""
    then_resume: bool = False
    clusters: tuple[str, ...] = ()
    """The clusters to freeze; empty means every cluster."""

    def for_until(self) -> tuple[str, str]:
        """(``--for``, ``--until``) of the expiry: a time has a ``T`` or a ``-`` in it, a duration has neither."""
        text = self.expiry.strip()
        return ("", text) if ("T" in text or "-" in text[1:]) else (text, "")

    def request_fields(self) -> dict[str, Any]:
        """The keyword arguments of actions.freeze.FreezeRequest beyond the reason."""
        for_, until = self.for_until()
        return {"for_": for_, "until": until, "then": "resume" if self.then_resume else "", "clusters": self.clusters}


def parse_clusters(text: str) -> tuple[str, ...]:
    """Cluster names typed as ``prod`` or ``dev, prod`` (spaces or commas), sorted, without repeats."""
    return tuple(sorted({part for part in text.replace(",", " ").split() if part}))


def check_choice(choice: FreezeChoice, placed: list[str], now: datetime) -> dict[str, str]:
    """Problems of a freeze choice by field (``expiry``, ``clusters``), each one sentence; {} when it is fine."""
    errors = {}
    for_, until = choice.for_until()
    try:
        fz.parse_expiry(for_, until, now)
    except ValueError as exc:
        errors["expiry"] = str(exc).replace("--for ", "").replace("--until ", "")
    if choice.then_resume and not choice.expiry.strip():
        errors["expiry"] = "Resuming by itself needs an expiry: give a duration such as 2h."
    unknown = [c for c in choice.clusters if c not in placed]
    if unknown:
        errors["clusters"] = f"Not placed on {', '.join(unknown)}: choose among {', '.join(placed) or 'none'}."
    return errors


_HEADER = re.compile(r"^[@+!] ([^:\s]+): ")
NOTHING = "nothing to revert"


def preview_for(preview: str, clusters: tuple[str, ...]) -> str:
    """The lines of a resume preview (format_preview, blocks headed ``# source``) about ``clusters`` only."""
    blocks: list[list[str]] = [[]]
    keep = False
    for line in preview.splitlines():
        if line.startswith("# "):
            blocks.append([line])
            continue
        header = _HEADER.match(line)
        if header:
            keep = header.group(1) in clusters
        if keep and line != NOTHING:
            blocks[-1].append(line)
    out = blocks[0]
    for block in blocks[1:]:
        out += block if len(block) > 1 else [block[0], NOTHING]
    return "\n".join(out)
