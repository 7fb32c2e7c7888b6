"""Command palette entries: the same actions as the keys, plus panes and themes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from textual.app import SystemCommand
from textual.screen import Screen

from gitops_tui.tui import keymap
from gitops_tui.tui.base import ConsoleApp
from gitops_tui.tui.panes import PANES

#: (title, help, screen action) of the palette's action entries.
ACTIONS = (
    ("Suspend source (freeze)", "Freeze the source: reason, clusters, expiry; again extends the freeze (s)",
     "suspend"),
    ("Suspend project (freeze)", "Freeze the project, sources created later too; reason, clusters, expiry (S)",
     "suspend_project"),
    ("Resume (unfreeze)", "Lift the freeze after a preview of what it will revert (r)", "resume"),
    ("Resume some clusters", "Resume on chosen clusters only, after a preview (U)", "resume_clusters"),
    ("Break glass", "Apply a suspended source's revision once; it stays suspended; asks a reason (B)",
     "break_glass"),
    ("Reconcile now", "Ask the reconciler to reconcile the source now (R)", "reconcile"),
    ("Freeze window", "Hold a project's clusters on a schedule: cron, duration, timezone, reason; or delete one (W)",
     "window"),
    ("Override on one cluster", "A JSON 6902 patch or Helm values for one cluster of the source, with a reason (O)",
     "override"),
    ("Approve rollout wave", "Release the wave of the source's rollout that waits for an approval; a reason (a)",
     "approve"),
    ("New alert", "Tell a webhook or chat about the project: format, URL, events, signing secret (A on Projects)",
     "alert"),
    ("Pin source", "Hold the source at a revision it applied, on all or some clusters; preview first (p)", "pin"),
    ("Unpin source", "Return a pinned source to following git (u)", "unpin"),
    ("Tree", "The source across clusters: objects, health, drift, field managers (t)", "tree"),
    ("New project", "Create a project: name, namespace, clusters (n on Projects)", "new_project"),
    ("New source", "Create a GitOps source (n)", "new_source"),
    ("New secret", "Create a git credentials secret (n on Secrets)", "new_secret"),
    ("Delete", "Delete the source, secret or project; lists what each cluster loses (ctrl+d)", "delete"),
    ("Show YAML", "YAML of the highlighted object (y)", "yaml"),
    ("Describe", "Conditions, clusters and events of the object (d)", "describe"),
    ("Filter", "Filter the pane: words, source=, cluster=, project= (/)", "filter"),
    ("Help", "Keys and glyphs (?)", "help"),
)
_MUTATING = keymap.MUTATING | {"new_project", "new_source", "new_secret"}


def console_commands(app: ConsoleApp, screen: Screen, stock: Iterable[SystemCommand] = ()) -> Iterable[SystemCommand]:
    """Yield Textual's ``stock`` entries but its theme picker (it lists Textual's themes too), then the console's
    entries for the main screen (mutating ones hidden when read-only) and one "Theme: NAME" per console theme."""
    from gitops_tui.tui.screens.main import MainScreen

    yield from (command for command in stock if command.callback != app.action_change_theme)
    if not isinstance(screen, MainScreen):
        yield from _theme_commands(app)
        return
    for title, help_text, action in ACTIONS:
        if app.read_only and action in _MUTATING:
            continue
        yield SystemCommand(title, help_text, _runner(screen, action))
    for index, spec in enumerate(PANES):
        yield SystemCommand(f"Go to {spec.title}", f"Show the {spec.title} pane ({index + 1})",
                            _runner(screen, f"pane('{spec.id}')"))
    yield from _theme_commands(app)


def _theme_commands(app: ConsoleApp) -> Iterable[SystemCommand]:
    for name in sorted(app.console_themes):
        yield SystemCommand(f"Theme: {name}", "Switch theme (remembered)", _theme_setter(app, name))


def _runner(screen: Screen, action: str) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await screen.run_action(action)

    return run


def _theme_setter(app: ConsoleApp, name: str) -> Callable[[], None]:
    def run() -> None:
        app.theme = name

    return run
