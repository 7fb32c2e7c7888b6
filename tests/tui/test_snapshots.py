"""Snapshots of every pane and dialog at 80x24 and 120x36, from recorded objects (deterministic)."""

from __future__ import annotations

import pytest

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]

#: name -> keys pressed from the first pane.
SCREENS = {
    "projects": ["1"],
    "sources": ["2"],
    "propagation": ["3"],
    "secrets": ["4"],
    "helm": ["5"],
    "helm-detail": ["5", "down", "enter"],
    "helm-detail-d": ["5", "d"],
    "clusters": ["6"],
    "events": ["7"],
    "suspend-dialog": ["2", "down", "s"],
    "suspend-reason-required": ["2", "down", "s", "enter"],
    "suspend-project-dialog": ["1", "S"],
    "resume-preview": ["2", "r"],
    "delete-confirm": ["2", "down", "ctrl+d"],
    "delete-secret": ["4", "ctrl+d"],
    "delete-project": ["1", "ctrl+d"],
    "new-source-form": ["2", "n"],
    "new-source-errors": ["2", "n", *"Bad_Name", "tab", *"nope", "enter"],
    "new-secret-form": ["4", "n", *"git-token", "tab", "tab", *"bot", "tab", *"hunter2"],
    "new-secret-errors": ["4", "n", "enter"],
    "yaml-view": ["2", "y"],
    "describe-view": ["2", "down", "d"],
    "help": ["question_mark"],
    "filter": ["7", "slash", *"cluster=staging", "enter"],
    "palette": ["ctrl+p"],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """Every pane and dialog looks as recorded."""
    assert snap_compare(make_app(), press=SCREENS[name], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_read_only(snap_compare, make_app, size: tuple[int, int]) -> None:
    """Read-only: no mutating key in the footer."""
    assert snap_compare(make_app(read_only=True), press=["2"], terminal_size=size)


@pytest.mark.parametrize("theme", ["gitops-light", "gitops-high-contrast", "gitops-ansi16"])
def test_themes(snap_compare, make_app, theme: str) -> None:
    """Each shipped theme on the Sources pane."""
    assert snap_compare(make_app(theme=theme), press=["2"], terminal_size=(80, 24))
