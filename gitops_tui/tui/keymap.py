"""The console's keys (DESIGN.md section 8, k9s / flux9s style) and which actions change anything."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from textual.binding import Binding, BindingType

from gitops_tui import paths
from gitops_tui.tui.panes import PANES

#: Actions that write to the management cluster: hidden by --read-only.
MUTATING = frozenset({"suspend", "resume", "reconcile", "suspend_project", "new", "delete", "pin", "unpin",
                      "resume_clusters", "break_glass", "window", "override", "approve", "alert"})

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
    "alert": ("project",),
    "override": ("source",),
    "approve": ("source",),
    "delete": ("source", "secret", "project"),
    "new": ("source", "project", "secret"),
    "yaml": ("source", "project", "secret", "cluster", "event"),
}


def acts_on(action: str, object_kind: str) -> bool:
    """True when ``action`` does something on a pane whose rows are ``object_kind``."""
    return object_kind in PANE_ACTIONS.get(action, (object_kind,))


@dataclass(frozen=True)
class Key:
    """One key of the console: its id (what a user keymap names), keys, footer label and help line."""

    id: str
    keys: str
    label: str
    description: str
    display: str = ""
    footer: bool = True
    priority: bool = False
    action: str = ""
    help: bool = True
    binds: bool = True
    help_key: str = ""

    @property
    def shown(self) -> str:
        """The key as the help screen and README show it (the footer shows ``display``)."""
        return self.help_key or self.display or self.keys


#: Every key, in the help screen's order (DESIGN.md section 8); BINDINGS, HELP and README's table come from it.
KEYS: tuple[Key, ...] = (
    Key("suspend", "s", "Suspend", "Suspend: reason, clusters, expiry; again: extend it"),
    Key("resume", "r", "Resume", "Resume, after a preview of what it will revert"),
    Key("resume_clusters", "U", "Resume some clusters", "Resume on some clusters only (asks which, then a preview)",
        display="U", footer=False),
    Key("reconcile", "R", "Reconcile", "Reconcile the source now (Sources, Propagation)", display="R"),
    Key("suspend_project", "S", "Suspend project", "Freeze the project, its later sources too (as s)", display="S",
        footer=False),
    Key("break_glass", "B", "Break glass", "Break glass: apply once while suspended (asks a reason)", display="B",
        footer=False),
    Key("window", "W", "Window",
        "Freeze window of the project: schedule, duration, timezone, clusters, reason (Projects)", display="W"),
    Key("override", "O", "Override", "Override one cluster: a JSON 6902 patch or Helm values, with a reason",
        display="O"),
    Key("approve", "a", "Approve", "Approve the wave of the source's rollout that waits for it (confirm, with a reason)"),
    Key("alert", "A", "Alert", "New alert of the project (Projects): URL, format, events, secret", display="A",
        footer=False),
    Key("pin", "p", "Pin", "Pin the source at a revision it applied (preview first)", footer=False),
    Key("unpin", "u", "Unpin", "Unpin the source: it follows git again", footer=False),
    Key("tree", "t", "Tree", "Tree: each cluster's objects, health, drift, field managers", footer=False),
    Key("new", "n", "New", "New source; on Projects a new project, on Secrets a new secret"),
    Key("delete", "ctrl+d", "Delete", "Delete a source, secret or project (confirm; lists what each cluster loses)",
        display="^d", help_key="ctrl+d"),
    Key("yaml", "y", "YAML", "YAML of the object, secret values redacted (not on Helm)", footer=False),
    Key("describe", "d", "Describe", "Describe: conditions, clusters, events (Helm, also enter: history per cluster)",
        footer=False),
    Key("filter", "slash", "Filter", "Filter as you type: words, source=NAME, cluster=NAME, project=NAME",
        display="/"),
    Key("clear_filter", "escape", "Clear filter", "Clear the filter", help_key="esc", footer=False),
    Key("pane", "", "", "Go to pane: " + ", ".join(p.title for p in PANES), display=f"1-{len(PANES)}",
        binds=False),
    Key("next_pane", "tab", "Next pane", "Next pane (shift+tab: previous)", footer=False, priority=True),
    Key("previous_pane", "shift+tab", "Previous pane", "Previous pane", footer=False, priority=True, help=False),
    Key("command_palette", "ctrl+p", "", "Command palette (every action, themes)", binds=False),
    Key("help", "question_mark", "Help", "This help", display="?"),
    Key("quit", "q", "Quit", "Quit", action="app.quit"),
)


def help_lines(remapped: Mapping[str, str] | None = None) -> tuple[tuple[str, str, str], ...]:
    """(key shown, action id, description) in the help screen's order, with the user's remapped keys."""
    remapped = remapped or {}
    return tuple((remapped.get(k.id, k.shown), k.id, k.description) for k in KEYS if k.help)


#: (key shown, action, description) in the help screen's order (the keys as shipped).
HELP = help_lines()

BINDINGS: list[BindingType] = [
    *[Binding(k.keys, k.action or k.id, k.label, show=k.footer, key_display=k.display or None,
              priority=k.priority, id=k.id) for k in KEYS if k.binds],
    *[Binding(str(i + 1), f"pane('{p.id}')", p.title, show=False, id=f"pane_{p.id}") for i, p in enumerate(PANES)],
]

_IDS = {k.id for k in KEYS if k.binds} | {f"pane_{p.id}" for p in PANES}
_KEY_TEXT = re.compile(r"^[a-z0-9_+]+(,[a-z0-9_+]+)*$", re.IGNORECASE)


def keymap_path() -> Path:
    """The operator's keymap file, beside the theme folder: ``<data>/keymap.toml``."""
    return paths.data_dir() / "keymap.toml"


def load_user_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """The operator's remapped keys ({binding id: keys}) and one sentence per problem; none when there is no file.

    The file holds a ``[keys]`` table: ``suspend = "x"`` or ``filter = "f,slash"`` (Textual's key names).
    """
    path = path or keymap_path()
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return {}, [f"{path.name} is not read: {exc}"]
    table = data.get("keys")
    if not isinstance(table, dict):
        return {}, [f"{path.name} has no [keys] table; nothing is remapped."]
    found: dict[str, str] = {}
    problems: list[str] = []
    for key_id, keys in table.items():
        if key_id not in _IDS:
            problems.append(f"{path.name}: {key_id!r} is not a key id (ids: {', '.join(sorted(_IDS))}).")
        elif not isinstance(keys, str) or not _KEY_TEXT.match(keys):
            problems.append(f"{path.name}: {key_id} = {keys!r} is not a key name such as \"x\" or \"ctrl+x,f2\".")
        else:
            found[key_id] = keys
    return found, problems


def readme_table() -> str:
    """README's keymap table, generated from KEYS (tests/tui/test_keymap.py checks README matches)."""
    rows = ["| key | action |", "|---|---|"]
    rows += [f"| `{shown}` | {text} |" for shown, _, text in HELP]
    return "\n".join(rows)
