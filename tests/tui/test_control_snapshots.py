"""Snapshots of the window (W) and override (O) dialogs and of a window open on prod, at 80x24 and 120x36."""

from __future__ import annotations

import pytest

from tests.tui.snapshot_setup import SIZES, press_settled

#: A window of the demo project open at the frozen clock (Thursday 15 January 2026, 13:00 in Berlin) on prod.
WINDOW = ("1", "W", *"release", "tab", *"0 9 * * 4", "tab", *"27h", "tab", *"Europe/Berlin", "tab", *"prod", "tab",
          *"quarterly release freeze")
OVERRIDE = ("2", "down", "O", *"prod", "tab", *"Deployment/podinfo", "tab",
            *'[{"op":"replace","path":"/spec/replicas","value":3}]', "tab", "tab", *"prod load")

#: name -> keys pressed from the first pane (dialogs, still open).
DIALOGS = {
    "window-filled": WINDOW,
    "window-errors": ("1", "W", *"Weekend", "tab", *"every friday", "tab", *"forever", "enter"),
    "override-filled": OVERRIDE,
    "override-errors": ("2", "O", *"mars", "tab", *"frontend", "enter"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(DIALOGS))
def test_control_dialog(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """Each dialog as the operator sees it."""
    assert snap_compare(make_app(), press=list(DIALOGS[name]), terminal_size=size)


#: name -> keys after the window is saved (and, for describe, an override of frontend on prod).
AFTER = {
    "window-projects": ("1",),
    "window-propagation": ("3",),
    "window-sources": ("2",),
    "override-describe": (*OVERRIDE, "enter", "d"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(AFTER))
def test_window_open_on_prod(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """The header names the open window; prod cells say ‖ release; describe lists the window and the override."""
    assert snap_compare(make_app(), run_before=press_settled(*WINDOW, "enter", *AFTER[name]), terminal_size=size)
