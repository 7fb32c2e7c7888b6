"""Issue 19 item 8, the console's side: each thing a new operator met, driven as they met it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.command import CommandPalette

from gitops_tui.tui.app import GitOpsApp
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text


async def test_palette_finds_freeze(make_app: Callable[..., GitOpsApp]) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "ctrl+p")
        await app_wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), timeout=5, message="the palette")
        await pilot.press(*"freeze")
        text = await app_wait_until(pilot, lambda: "Suspend source (freeze)" in screen_text(app) and screen_text(app),
                                    timeout=5, message="the freeze entries")
        assert "Suspend project (freeze)" in text
        await pilot.press("enter")
        await app_wait_until(pilot, lambda: "Reason" in screen_text(app), timeout=5, message="the freeze dialog")


async def test_a_refused_new_source_keeps_the_form_open_with_the_refusal_beside_the_url(
        make_app: Callable[..., GitOpsApp], tmp_path: Any) -> None:
    from gitops_tui.tui.screens.forms import SourceForm

    app = make_app()
    outside = "/srv/not-allowed/repo.git"
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "n")
        form = app.screen
        assert isinstance(form, SourceForm)
        await pilot.press(*"web", "tab", *outside, "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is form, "the form stays open"
        error = str(form.query_one("#url-error").render())
        assert "outside the directories allowed" in error and "--allow-local-repos" in error
        assert form.focused is form.query_one("#url"), "the refused field takes the focus"
        url = form.query_one("#url")
        url.value = "https://github.com/stefanprodan/podinfo"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.screen is not form
    assert app.backend.state.get("gitrepositories", "demo", "web") is not None


async def test_pin_dialog_stops_at_the_oldest_and_keeps_its_highlight_when_focus_leaves(make_app: Any) -> None:
    from gitops_tui.tui.screens.pin_dialog import PinDialog, RevisionList
    from tests.tui.test_snapshots_incident import incident_app

    app = incident_app(make_app(), pinned=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "p")
        await app.workers.wait_for_complete()
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PinDialog)
        revisions = dialog.query_one(RevisionList)
        last = revisions.option_count - 1
        assert last >= 1
        await pilot.press(*["down"] * (last + 3))
        assert revisions.highlighted == last, "down at the oldest revision stays there"
        await pilot.press(*["up"] * (last + 3))
        assert revisions.highlighted == 0, "up at the newest stays there"
        await pilot.press("down", "tab")
        assert dialog.focused is not revisions and revisions.highlighted == 1
        blurred = revisions.get_component_rich_style("option-list--option-highlighted")
        plain = revisions.get_component_rich_style("option-list--option")
        assert blurred.bgcolor is not None and blurred.bgcolor != plain.bgcolor, "the chosen revision stays marked"


async def test_the_focused_dialog_field_stands_out_in_every_theme(make_app: Any) -> None:
    from textual.widgets import Input

    for theme in ("gitops-dark", "gitops-light", "gitops-high-contrast", "gitops-ansi16"):
        app = make_app(theme=theme)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("2", "s")
            await pilot.pause()
            fields = list(app.screen.query(Input))
            focused = app.screen.focused
            assert isinstance(focused, Input) and len(fields) >= 2, theme
            other = next(f for f in fields if f is not focused)
            assert focused.rich_style.bgcolor != other.rich_style.bgcolor, f"{theme}: the focused field looks the same"


async def test_fast_typing_in_the_freeze_dialog_keeps_each_field_its_own(make_app: Any) -> None:
    """Keys read in one burst (a fast typist, a paste): the tab moves the focus before the next key is delivered."""
    from textual import events
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("2", "s")
        await app_wait_until(pilot, lambda: isinstance(app.focused, Input) and app.focused.id == "reason",
                             timeout=5, message="the freeze dialog's reason field")
        for key in [*"why", "tab", *"prod", "tab", *"2h"]:
            app.post_message(events.Key(key, "\t" if key == "tab" else key))  # all queued before any is handled
        await pilot.pause()
        await pilot.pause()
        values = {field.id: field.value for field in app.screen.query(Input)}
        assert values == {"reason": "why", "clusters": "prod", "expiry": "2h"}, values
