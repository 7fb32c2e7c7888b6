"""The Journal pane: every operator action and automatic correction, oldest first, newest at the bottom."""

from __future__ import annotations

from datetime import datetime

from gitops_tui.journal import Entry
from gitops_tui.journal.render import actor_text, identity_of, objects_text, where
from gitops_tui.views import glyphs as g
from gitops_tui.views.rows import Row, Table
from gitops_tui.views.state import ManagementState
from gitops_tui.views.timefmt import parse_time

#: Rows the pane shows (the newest); `gitops-tui journal` lists them all.
MAX_ROWS = 500
#: The status word of each action (its glyph and colour in the pane).
ACTION_STATUS = {
    "suspend": g.SUSPENDED, "extend": g.SUSPENDED, "expiry": g.SUSPENDED, "resume": g.READY, "unpin": g.READY, "pin": g.PROGRESS,
    "break-glass": g.FAILING, "delete": g.FAILING, "drift-corrected": g.PROGRESS, "prune": g.PROGRESS,
    "window-create": g.SUSPENDED, "window-open": g.SUSPENDED, "window-close": g.READY, "window-delete": g.READY,
    "override": g.PROGRESS, "override-remove": g.PROGRESS,
}

#: Actions with a glyph of their own (not a status glyph: break glass is no failure, a pin is not in progress).
ACTION_GLYPHS = {"break-glass": "!", "pin": g.PIN, "unpin": "◇"}


def action_glyph(action: str) -> str:
    """The glyph before an action in the Journal: its own, else its status's."""
    return ACTION_GLYPHS.get(action) or g.glyph(ACTION_STATUS.get(action, g.NONE))


def _when(value: str) -> str:
    """``MM-DD HH:MM:SS`` in UTC (the journal spans days)."""
    moment = parse_time(value)
    return moment.strftime("%m-%d %H:%M:%S") if moment else ""


def journal_table(state: ManagementState, now: datetime) -> Table:
    """Time, action, actor, where, reason and objects of each journal entry."""
    entries = sorted((Entry.from_object(obj) for obj in state.items("journal")), key=lambda e: (e.time, e.name))
    rows = []
    for entry in entries[-MAX_ROWS:]:
        status = ACTION_STATUS.get(entry.action, g.NONE)
        rows.append(Row(
            key=entry.name,
            cells=(_when(entry.time), f"{action_glyph(entry.action)} {entry.action}", actor_text(entry),
                   identity_of(entry), where(entry) or "-", entry.reason or "-", objects_text(entry) or "-"),
            status=status,
            tags={"source": entry.source, "cluster": " ".join(entry.clusters), "project": entry.project},
        ))
    return Table(("Time", "Action", "Actor", "Identity", "Where", "Reason", "Objects"), rows,
                 "No action recorded yet: suspend, resume, pin and the reconciler's corrections show here.",
                 {"Reason": "head", "Objects": "head", "Where": "head", "Identity": "head"},
                 optional=("Objects", "Identity"))
