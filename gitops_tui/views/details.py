"""Texts of the YAML and describe views: conditions, clusters and events of one object."""

from __future__ import annotations

import copy
import re
import textwrap
from datetime import datetime
from typing import Any

import yaml

from gitops_tui.api.flux_role import flux_role
from gitops_tui.api.project import Project
from gitops_tui.redact import hide_url_password
from gitops_tui.views import glyphs as g
from gitops_tui.views.controls import describe_lines as control_lines
from gitops_tui.views.freeze import describe_lines, suspension_text
from gitops_tui.views.model import SourceView
from gitops_tui.views.rollout import describe_rollout
from gitops_tui.views.rows import event_row
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import stamp

REDACTED = "<redacted>"


def redact(obj: dict[str, Any]) -> dict[str, Any]:
    """Return a copy with every Secret value and git URL credential replaced (data, stringData, template data)."""
    out = copy.deepcopy(obj)
    template: dict[str, Any] = (out.get("spec") or {}).get("template") or {}
    for holder in (out, template):
        for key in ("data", "stringData"):
            if isinstance(holder.get(key), dict):
                holder[key] = {k: REDACTED for k in holder[key]}
    template_spec = template.get("spec")
    repository: dict[str, Any] = template_spec if isinstance(template_spec, dict) else {}
    if isinstance(repository.get("url"), str):
        repository["url"] = hide_url_password(repository["url"])
    annotations = (out.get("metadata") or {}).get("annotations") or {}
    annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    (out.get("metadata") or {}).pop("managedFields", None)
    return out


def to_yaml(*objects: dict[str, Any] | None) -> str:
    """Return the objects as YAML documents, secrets redacted."""
    docs = [redact(o) for o in objects if o]
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


def _conditions(obj: dict[str, Any] | None) -> list[str]:
    lines = []
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        lines.append(
            f"  {cond.get('type', ''):<12} {cond.get('status', ''):<7} {cond.get('reason', '')}"
            f"  {g.shorten_digests(cond.get('message', ''))}".rstrip()
        )
    return lines or ["  (none)"]


def describe_source(view: SourceView, state: ManagementState, now: datetime) -> str:
    """Return the describe text of a source: spec, suspension, conditions, clusters, events."""
    lines = [
        f"Name:       {view.name}",
        f"Project:    {view.project} (namespace {view.namespace})",
        f"Status:     {g.glyph(view.status)} {g.LABELS[view.status]}",
        f"URL:        {view.url}",
        f"Ref:        {view.ref or '-'}    Path: {view.path or '.'}    Interval: {view.interval or '-'}",
        f"Secret:     {view.secret or '-'}    Prune: {'yes' if view.prune else 'no'}",
        f"Revision:   {view.revision or '-'}",
    ]
    role = flux_role(view.kustomization).sentence()
    if role:
        lines.append(f"Flux:       {role}")
    if view.suspension:
        lines.append(f"Suspended:  {g.glyph(g.SUSPENDED)} {suspension_text(view.suspension, now)}")
        lines.append(f"            since {stamp(view.suspension.at)}")
    lines += describe_lines(view, now)
    lines += describe_rollout(view.state.rollout if view.state is not None else None, now)
    lines += control_lines(view, now)
    lines.append("Conditions (repository):")
    lines += _conditions(view.repository)
    lines.append("Conditions (kustomization):")
    lines += _conditions(view.kustomization)
    lines.append("Clusters:")
    for cluster in view.clusters:
        cell = view.cells.get(cluster)
        if cell:
            lines.append(
                f"  {g.glyph(cell.status)} {cluster:<10} {cell.shown(now):<16} {g.counted(cell.inventory, 'object'):<10} "
                f"{cell.message}".rstrip()
            )
    if not view.clusters:
        lines.append("  (not placed)")
    lines.append("Events:")
    events = [
        e for e in state.items("events")
        if (e.get("involvedObject") or {}).get("name") == view.name
        and (e.get("metadata") or {}).get("namespace") == view.namespace
    ][-10:]
    for event in events:
        cells = event_row(event).cells
        lines.append(f"  {cells[0]} {cells[1]:<7} {cells[3]:<8} {cells[4]}: {cells[5]}")
    if not events:
        lines.append("  (none)")
    return "\n".join(lines)


def describe_object(obj: dict[str, Any]) -> str:
    """Return a generic describe text: metadata, conditions and placement of any object."""
    meta = obj.get("metadata") or {}
    lines = [
        f"Kind:       {obj.get('kind', '')}",
        f"Name:       {meta.get('name', '')}",
        f"Namespace:  {meta.get('namespace', '-') or '-'}",
        f"Created:    {stamp(meta.get('creationTimestamp'))}",
        "Conditions:",
        *_conditions(obj),
    ]
    placement = (obj.get("spec") or {}).get("placement") or {}
    clusters = [c.get("name", "") for c in placement.get("clusters") or []]
    if clusters:
        lines.append(f"Placement:  {', '.join(clusters)}")
    if obj.get("kind") == "Project":
        limit = Project(obj).max_flux_children
        stated = "maxFluxChildren" in ((obj.get("spec") or {}).get("limits") or {})
        lines.append(f"Limits:     {limit} Flux child sources{'' if stated else ' (default)'}")
        lines.append(f"Applies as: {applies_as(obj)}")
    return "\n".join(lines)


def alert_lines(alerts: list[dict[str, Any]]) -> list[str]:
    """The Alerts section of a project's describe: name, format, address (scheme and host), events."""
    if not alerts:
        return ["Alerts:     none (gitops-tui create alert NAME -p PROJECT ...; docs/alerts.md)"]
    lines = ["Alerts:"]
    for item in alerts:
        flags = " (signed)" if item.get("secret") else ""
        flags += " (suspended)" if item.get("suspend") else ""
        lines.append(f"  {item.get('name', '')}: {item.get('format', '')} to {item.get('address', '')} on "
                     f"{','.join(item.get('events') or [])}{flags}")
    return lines


def applies_as(project: dict[str, Any]) -> str:
    """Who a project's objects are applied as on its clusters, and who made and bound that ServiceAccount."""
    view = Project(project)
    how = ("made by you (spec.serviceAccountName), bound to what you granted" if view.service_account_name
           else "made by gitops-tui, bound to admin in the namespace")
    return f"ServiceAccount {view.namespace}/{view.applier} ({how})"


_LABEL = re.compile(r"^(\s*)(\S+:\s+)?")
_TREE = re.compile(r"^([ │├└─]*[├└]── |[ │]*│ +)")


def hang(text: str, width: int) -> str:
    """Wrap ``text`` to ``width`` cells with hanging indents: a wrapped line continues under its value
    (``Name:       ...``) or, for other lines, four cells right of where the line starts."""
    if width < 20:
        return text
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        tree = _TREE.match(line)
        if tree:  # a tree's branch: the continuation keeps the trunk (│) and goes four cells in
            prefix = tree.group(1).replace("├──", "│  ").replace("└──", "   ") + "    "
        else:
            found = _LABEL.match(line)
            lead, label = (found.group(1), found.group(2) or "") if found else ("", "")
            indent = len(lead) + len(label) if label and len(lead) + len(label) < width // 2 else len(lead) + 4
            prefix = " " * min(indent, width // 2)
        out += textwrap.wrap(line, width, subsequent_indent=prefix[: width // 2], break_on_hyphens=False,
                             drop_whitespace=True) or [line]
    return "\n".join(out)
