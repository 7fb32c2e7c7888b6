"""Console behaviour on recorded objects: read-only hides every change, the palette mirrors the keys."""

from __future__ import annotations

from typing import Any

from gitops_tui.tui.commands import console_commands
from gitops_tui.tui.screens.freeze_dialogs import FreezeDialog
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.screen_text import screen_text


async def test_read_only_hides_mutations(make_app: Any) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "s", "S", "n", "ctrl+d", "r", "R")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert app.backend.ops.calls == []
        titles = [c.title for c in console_commands(app, app.screen)]
        assert "Suspend source" not in titles and "New secret" not in titles and "Describe" in titles
        footer = screen_text(app).splitlines()[-1]
        assert "Suspend" not in footer and "Filter" in footer


async def test_palette_runs_the_same_action(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "down")
        command = next(c for c in console_commands(app, app.screen) if c.title == "Suspend source (freeze)")
        await command.callback()
        await pilot.pause()
        assert isinstance(app.screen, FreezeDialog)
        await pilot.press(*"from the palette", "enter")
        await app.workers.wait_for_complete()
        assert app.backend.ops.calls == [("suspend_source", ("demo", "podinfo", "from the palette"))]


async def test_suspend_needs_a_reason(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "down", "s", "enter")
        assert isinstance(app.screen, FreezeDialog)
        assert "A reason is required." in screen_text(app)
        assert app.backend.ops.calls == []


async def test_events_follow_the_stream(make_app: Any) -> None:
    from gitops_tui.views.state import Change

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("7")
        event = {"metadata": {"name": "new.1", "namespace": "demo"}, "involvedObject": {"name": "podinfo"},
                 "type": "Normal", "reason": "Streamed", "message": "hello", "lastTimestamp": "2026-01-15T11:59:00Z"}
        app.coalescer.emit([Change("events", "ADDED", event)])
        await pilot.pause()
        await pilot.pause()
        assert "Streamed" in screen_text(app)
        assert app.screen.pane.selected_key() == "demo/new.1"


async def test_tall_terminals_keep_the_event_stream_visible(make_app: Any) -> None:
    from gitops_tui.views.state import Change

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        event = {"metadata": {"name": "new.2", "namespace": "demo"}, "involvedObject": {"name": "redis"},
                 "type": "Warning", "reason": "HealthCheckFailed", "message": "redis not ready",
                 "lastTimestamp": "2026-01-15T11:59:30Z"}
        app.coalescer.emit([Change("events", "ADDED", event)])
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "HealthCheckFailed" in text and "‖ frontend  Suspended" in text
    small = make_app()
    async with small.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        assert "ReconciliationSucceeded" not in screen_text(small)


async def test_delete_secret_lists_the_clusters_that_lose_it(make_app: Any) -> None:
    """ctrl+d on Secrets: the confirmation names every cluster losing the Secret; n cancels, y deletes."""
    from gitops_tui.tui.screens.dialogs import ConfirmDialog

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("4")
        screen = app.screen
        await pilot.press("home", *["down"] * screen.pane._keys.index("payments/ledger-token"), "ctrl+d")
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert "Delete secret payments/ledger-token?" in text
        assert "dev          loses Secret ledger-token" in text and "staging      loses Secret" in text
        assert "prod" not in text.split("Delete secret")[1] and "c2VjcmV0" not in text
        await pilot.press("n")
        assert app.backend.ops.calls == [] and isinstance(app.screen, MainScreen)
        await pilot.press("ctrl+d", "y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.backend.ops.calls == [("delete_secret", ("payments", "ledger-token"))]
        assert "payments/ledger-token" not in app.screen.pane._keys


async def test_delete_project_lists_sources_secrets_and_namespaces(make_app: Any) -> None:
    """ctrl+d on Projects: sources, secrets and each cluster losing the namespace are listed before deleting."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("1")
        screen = app.screen
        await pilot.press("home", *["down"] * screen.pane._keys.index("payments"), "ctrl+d")
        text = screen_text(app)
        assert "Delete project payments?" in text and "Sources (1): ledger" in text
        assert "Secrets (1): ledger-token" in text
        assert "Namespace payments is removed from 2 clusters" in text
        assert "dev          5 objects applied by sources" in text and "staging      5 objects applied" in text
        assert "1 Secret: ledger-token" in text
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.backend.ops.calls == [("delete_project", ("payments",))]
        assert "payments" not in screen.pane._keys
