"""The console's keys (DESIGN.md section 8, k9s / flux9s style) and which actions change anything."""

from __future__ import annotations

from textual.binding import Binding, BindingType

from gitops_tui.tui.panes import PANES

#: Actions that write to the management cluster: hidden by --read-only.
MUTATING = frozenset({"suspend", "resume", "reconcile", "suspend_project", "new", "delete", "pin", "unpin",
                      "resume_clusters", "break_glass", "window", "override"})

#: Actions offered only on some panes: action -> the kinds of row they act on (elsewhere the key is not shown).
PANE_ACTIONS = {
    "suspend": ("source", "project"),
    "resume": ("source", "project"),
    "suspend_project": ("source", "project"),
    "reconcile": ("source",),
    "pin": ("source",),
    "unpin": ("source",),
    "tree": ("source",),
    "resume_clusters": ("source", "project"),
    "break_glass": ("source",),
    "window": ("project",),
    "override": ("source",),
    "delete": ("source", "secret", "project"),
    "new": ("source", "project", "secret"),
    "yaml": ("source", "project", "secret", "cluster", "event"),
}


def acts_on(action: str, object_kind: str) -> bool:
    """True when ``action`` does something on a pane whose rows are ``object_kind``."""
    return object_kind in PANE_ACTIONS.get(action, (object_kind,))


#: (key shown, action, description) in the help screen's order.
HELP = (
    ("s", "suspend", "Suspend: reason, clusters, expiry; again: extend it"),
    ("r", "resume", "Resume, after a preview of what it will revert"),
    ("U", "resume_clusters", "Resume on some clusters only (asks which, then a preview)"),
    ("R", "reconcile", "Reconcile the source now (Sources, Propagation)"),
    ("S", "suspend_project", "Freeze the project, its later sources too (as s)"),
    ("B", "break_glass", "Break glass: apply once while suspended (asks a reason)"),
    ("W", "window", "Freeze window of the project: schedule, duration, timezone, clusters, reason (Projects)"),
    ("O", "override", "Override one cluster: a JSON 6902 patch or Helm values, with a reason"),
    ("p", "pin", "Pin the source at a revision it applied (preview first)"),
    ("u", "unpin", "Unpin the source: it follows git again"),
    ("t", "tree", "Tree: each cluster's objects, health, drift, field managers"),
    ("n", "new", "New source; on Projects a new project, on Secrets a new secret"),
    ("ctrl+d", "delete", "Delete a source, secret or project (confirm; lists what each cluster loses)"),
    ("y", "yaml", "YAML of the object, secret values redacted (not on Helm)"),
    ("d", "describe", "Describe: conditions, clusters, events (Helm, also enter: history per cluster)"),
    ("/", "filter", "Filter as you type: words, source=NAME, cluster=NAME, project=NAME"),
    ("esc", "clear_filter", "Clear the filter"),
    (f"1-{len(PANES)}", "pane", "Go to pane: " + ", ".join(p.title for p in PANES)),
    ("tab", "next_pane", "Next pane (shift+tab: previous)"),
    ("ctrl+p", "command_palette", "Command palette (every action, themes)"),
    ("?", "help", "This help"),
    ("q", "quit", "Quit"),
)

BINDINGS: list[BindingType] = [
    Binding("s", "suspend", "Suspend"),
    Binding("r", "resume", "Resume"),
    Binding("R", "reconcile", "Reconcile", key_display="R"),
    Binding("S", "suspend_project", "Suspend project", show=False, key_display="S"),
    Binding("p", "pin", "Pin", show=False),
    Binding("u", "unpin", "Unpin", show=False),
    Binding("t", "tree", "Tree", show=False),
    Binding("U", "resume_clusters", "Resume some clusters", show=False, key_display="U"),
    Binding("B", "break_glass", "Break glass", show=False, key_display="B"),
    Binding("W", "window", "Window", key_display="W"),
    Binding("O", "override", "Override", key_display="O"),
    Binding("n", "new", "New"),
    Binding("ctrl+d", "delete", "Delete", key_display="^d"),
    Binding("y", "yaml", "YAML", show=False),
    Binding("d", "describe", "Describe", show=False),
    Binding("slash", "filter", "Filter", key_display="/"),
    Binding("escape", "clear_filter", "Clear filter", show=False),
    Binding("question_mark", "help", "Help", key_display="?"),
    Binding("q", "app.quit", "Quit"),
    Binding("tab", "next_pane", "Next pane", show=False, priority=True),
    Binding("shift+tab", "previous_pane", "Previous pane", show=False, priority=True),
    *[Binding(str(i + 1), f"pane('{p.id}')", p.title, show=False) for i, p in enumerate(PANES)],
]
