"""Snapshots of the freeze dialogs and of frozen, expired and one-cluster states, at 80x24 and 120x36."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from gitops_tui.api import freeze as fz
from gitops_tui.backends.static import FROZEN_NOW
from gitops_tui.views.state import Change
from tests.tui.snapshot_setup import SIZES, press_settled

#: name -> keys pressed from the first pane (dialogs, still open).
DIALOGS = {
    "freeze-project-filled": ["1", "S", *"change freeze", "tab", *"prod", "tab", *"2h", "tab", "space"],
    "freeze-errors": ["2", "down", "s", "tab", *"mars", "tab", *"soon", "enter"],
    "freeze-extend": ["2", "s"],
    "resume-clusters": ["2", "U"],
    "resume-clusters-wrong": ["2", "U", *"mars", "enter"],
    "break-glass": ["2", "B"],
    "break-glass-reason-required": ["2", "B", "enter"],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(DIALOGS))
def test_freeze_dialog(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """Each freeze dialog as the operator sees it."""
    assert snap_compare(make_app(), press=DIALOGS[name], terminal_size=size)


#: name -> keys: the demo project frozen on prod only (from Projects), then a pane.
FROZEN = {
    "projects": ("1",),
    "sources": ("2",),
    "propagation": ("3",),
    "project-resume-preview": ("1", "r"),
}
FREEZE_PROD = ("1", "S", *"change freeze", "tab", *"prod", "enter")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(FROZEN))
def test_project_frozen_on_prod(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """The demo project frozen on prod: the header, the Projects row, ‖ only in prod cells, the resume preview."""
    assert snap_compare(make_app(), run_before=press_settled(*FREEZE_PROD, *FROZEN[name]), terminal_size=size)


def _expired(app: Any) -> Any:
    """frontend's freeze (by alice at 11:18) expired at 11:50, ten minutes before the frozen clock."""
    state = app.backend.state
    until = fz.stamp(FROZEN_NOW - timedelta(minutes=10))
    obj = copy.deepcopy(state.get("kustomizations", "demo", "frontend"))
    obj["metadata"]["annotations"][fz.ANNOTATION_SUSPEND_UNTIL] = until
    state.apply(Change("kustomizations", "MODIFIED", obj))
    project = copy.deepcopy(state.get("projects", "", "demo"))  # the operator's record holds the expiry too
    project["spec"]["sourceHolds"]["frontend"]["freeze"]["until"] = until
    state.apply(Change("projects", "MODIFIED", project))
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", [pytest.param("2", id="sources"), pytest.param("3", id="propagation")])
def test_expired_freeze(snap_compare, make_app, pane: str, size: tuple[int, int]) -> None:
    """An expired freeze that stays: the header says "1 freeze expired 10m ago" and the row says so."""
    assert snap_compare(_expired(make_app()), press=[pane], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_source_frozen_on_prod_with_expiry(snap_compare, make_app, size: tuple[int, int]) -> None:
    """podinfo frozen on prod for 2h (then resume): ‖ in its prod cell only, the time left in its row."""
    keys = ("2", "down", "s", *"db migration", "tab", *"prod", "tab", *"2h", "tab", "space", "enter", "3")
    assert snap_compare(make_app(), run_before=press_settled(*keys), terminal_size=size)
