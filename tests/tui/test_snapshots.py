"""Snapshots of every pane and dialog at 80x24 and 120x36, from recorded objects (deterministic)."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from gitops_tui.backends.static import FROZEN_NOW
from gitops_tui.views.access import NO_WRITE_ACCESS
from gitops_tui.views.feedhealth import FeedHealth
from gitops_tui.views.state import Change

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
    "new-project-form": ["1", "n"],
    "new-source-form": ["2", "n"],
    "new-source-errors": ["2", "n", *"Bad_Name", "tab", *"nope", "enter"],
    "new-secret-form": ["4", "n", *"git-token", "tab", "tab", *"bot", "tab", *"hunter2"],
    "new-secret-errors": ["4", "n", "enter"],
    "yaml-view": ["2", "y"],
    "describe-view": ["2", "down", "d"],
    "help": ["question_mark"],
    "filter": ["7", "slash", *"cluster=staging", "enter"],
    "filter-typing": ["2", "down", "slash", *"redis"],
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(snap_compare, make_app, name: str, size: tuple[int, int]) -> None:
    """Every pane and dialog looks as recorded."""
    assert snap_compare(make_app(), press=SCREENS[name], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_palette(snap_compare, make_app, size: tuple[int, int]) -> None:
    """The command palette, once its search has listed the commands (it runs in a worker: slow on a busy machine)."""
    from textual.command import CommandList, CommandPalette
    from textual.widgets import Input

    from tests.tui.awaiting import app_wait_until

    async def open_palette(pilot: Any) -> None:
        await pilot.press("ctrl+p")

        def listed() -> bool:
            palette = pilot.app.screen
            return (isinstance(palette, CommandPalette) and not palette._show_busy
                    and palette.query_one(CommandList).option_count > 0)

        await app_wait_until(pilot, listed, message="the palette's commands")
        pilot.app.screen.query_one(Input).cursor_blink = False  # a blinking cursor is a coin toss in a picture
        await pilot.pause()

    assert snap_compare(make_app(), run_before=open_palette, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_read_only(snap_compare, make_app, size: tuple[int, int]) -> None:
    """Read-only: no mutating key in the footer."""
    assert snap_compare(make_app(read_only=True), press=["2"], terminal_size=size)


@pytest.mark.parametrize("theme", ["gitops-light", "gitops-high-contrast", "gitops-ansi16"])
def test_themes(snap_compare, make_app, theme: str) -> None:
    """Each shipped theme on the Sources pane."""
    assert snap_compare(make_app(theme=theme), press=["2"], terminal_size=(80, 24))


def _stale_staging(app: Any) -> Any:
    """Turn staging stale since two minutes (its probe fails) in the app's recorded state."""
    state = app.backend.state
    cluster = copy.deepcopy(state.get("clusters", "kube-federation-system", "staging"))
    since = (FROZEN_NOW - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "reason": "ClusterNotReachable", "message": "connection refused",
         "lastTransitionTime": since},
        {"type": "Offline", "status": "True", "reason": "ClusterNotReachable", "message": "connection refused",
         "lastTransitionTime": since},
    ]
    state.apply(Change("clusters", "MODIFIED", cluster))
    return app


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", [pytest.param("1", id="projects"), pytest.param("3", id="propagation"),
                                  pytest.param("5", id="helm"), pytest.param("6", id="clusters")])
def test_stale_cluster(snap_compare, make_app, pane: str, size: tuple[int, int]) -> None:
    """staging stopped answering 2 minutes ago (prod 10): glyph and age, never ✓, in every per-cluster pane."""
    assert snap_compare(_stale_staging(make_app()), press=[pane], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("trouble", ["broken", "relisting"])
def test_watch_banner(snap_compare, make_app, trouble: str, size: tuple[int, int]) -> None:
    """A broken (or re-listing) management watch shows a banner over the panes until it is live again."""
    app = make_app()
    health = FeedHealth(clock=lambda: FROZEN_NOW - timedelta(seconds=90))
    for kind in ("projects", "kustomizations", "events"):
        health.healthy(kind)
    if trouble == "broken":
        health.failing("kustomizations", "no answer (MaxRetryError)")
        health.failing("events", "no answer (MaxRetryError)")
    else:
        health.listing("kustomizations")
    app.backend.health = health
    assert snap_compare(app, press=["2"], terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_read_only_detected(snap_compare, make_app, size: tuple[int, int]) -> None:
    """No write access (the access review says no): the header says so and the footer offers no change."""
    app = make_app()
    app.backend.denied = NO_WRITE_ACCESS

    async def check(pilot: Any) -> None:
        await pilot.press("2")
        pilot.app.screen.check_write_access()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, run_before=check, terminal_size=size)


@pytest.mark.parametrize("size", SIZES)
def test_new_project_refused(snap_compare, make_app, size: tuple[int, int]) -> None:
    """The management side refuses the namespace (another project's): the sentence stands beside the field."""
    async def fill(pilot: Any) -> None:
        await pilot.press("1", "n", *"web", "tab", *"payments", "tab", "space", "ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(make_app(), run_before=fill, terminal_size=size)
