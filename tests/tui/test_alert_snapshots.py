"""Snapshots of the new-alert form (A on Projects), filled and with errors, at 80x24 and 120x36."""

from __future__ import annotations

import pytest

from tests.tui.snapshot_setup import SIZES

#: A generic alert with a typed signing key (shown masked) and the drift events added.
FILLED = ("1", "A", *"oncall", "tab", "tab", *"https://alerts.example.com/hook", "tab", "down", "down", "space",
          "tab", "tab", *"hmac-key-7")
FORMS = {
    "alert-filled": FILLED,
    "alert-errors": ("1", "A", *"On Call", "tab", "tab", *"ftp://hooks.example.com/x", "enter"),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(FORMS))
def test_alert_form(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """The form as the operator sees it: the typed key masked, each bad field's sentence under it."""
    assert snap_compare(make_app(), press=list(FORMS[name]), terminal_size=size)
