"""The journal as text: a table for the terminal, JSON for scripts, Markdown ready to paste into a postmortem."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from gitops_tui.journal import Entry
from gitops_tui.kube.whoami import identity_text


def _clock(entry: Entry) -> str:
    """The entry's time to the second, UTC ("2026-12-01 02:10:33Z")."""
    return entry.time[:19].replace("T", " ") + "Z" if entry.time else ""


def where(entry: Entry) -> str:
    """"project/source" (or the one that is set) and the clusters in brackets."""
    place = "/".join(part for part in (entry.project, entry.source) if part)
    if entry.clusters:
        place += f" [{', '.join(entry.clusters)}]"
    return place


def objects_text(entry: Entry, limit: int = 3) -> str:
    """The first ``limit`` objects touched, then how many more."""
    text = ", ".join(entry.objects[:limit])
    return text + (f" (+{len(entry.objects) - limit})" if len(entry.objects) > limit else "")


def actor_text(entry: Entry) -> str:
    """The claimed actor with the SSH address when it is not already in it (``alice@10.1.2.3``)."""
    if entry.ssh and not entry.actor.endswith(f"@{entry.ssh}"):
        return f"{entry.actor}@{entry.ssh}"
    return entry.actor


def identity_of(entry: Entry) -> str:
    """The identity the API server saw (``sandbox-admin``), or the unverified claim of a member's write."""
    return identity_text(entry.identity) or "-"


def as_table(entries: Sequence[Entry]) -> str:
    """Aligned columns: TIME ACTION ACTOR IDENTITY WHERE REASON OBJECTS."""
    rows = [["TIME", "ACTION", "ACTOR", "IDENTITY", "WHERE", "REASON", "OBJECTS"]]
    rows += [[_clock(e), e.action, actor_text(e), identity_of(e), where(e) or "-", e.reason or "-",
              objects_text(e) or "-"] for e in entries]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(v.ljust(widths[i]) for i, v in enumerate(r)).rstrip() for r in rows)


def as_json(entries: Sequence[Entry]) -> str:
    """``{"kind": "JournalEntryList", "items": [...]}``, oldest first."""
    return json.dumps({"kind": "JournalEntryList", "items": [e.to_dict() for e in entries]}, indent=2)


def _md(text: str) -> str:
    """Escape a table cell for Markdown (pipes and line breaks)."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def as_markdown(entries: Sequence[Entry], since: datetime | None = None, now: datetime | None = None) -> str:
    """A postmortem timeline: a heading with the window, then one table row per entry (times in UTC)."""
    lines = ["## Timeline (gitops-tui journal)", ""]
    if since is not None:
        until = f" to {now.strftime('%Y-%m-%d %H:%M:%SZ')}" if now else ""
        lines += [f"From {since.strftime('%Y-%m-%d %H:%M:%SZ')}{until}, times in UTC.", ""]
    if not entries:
        return "\n".join(lines + ["No action was recorded in this window.", ""])
    lines += ["| Time (UTC) | Action | Actor | Identity | Where | Reason | Objects |", "|---|---|---|---|---|---|---|"]
    for e in entries:
        objects = ", ".join(f"`{_md(o)}`" for o in e.objects[:20])
        if len(e.objects) > 20:
            objects += f" and {len(e.objects) - 20} more"
        lines.append(f"| {_clock(e)} | {_md(e.action)} | {_md(actor_text(e))} | {_md(identity_of(e))} "
                     f"| {_md(where(e))} | {_md(e.reason)} | {objects} |")
    return "\n".join(lines) + "\n"
