"""The freeze keys on recorded objects: a project frozen on prod in 7 keys plus the reason, break glass, some clusters."""

from __future__ import annotations

from typing import Any

from gitops_tui.api import freeze as fz
from gitops_tui.tui.commands import console_commands
from gitops_tui.tui.screens.dialogs import ConfirmDialog
from gitops_tui.tui.screens.freeze_dialogs import BreakGlassDialog, ClustersDialog, FreezeDialog
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.views.freeze import FreezeChoice
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text

#: The frontend source's git revision in the recorded demo (what the break-glass dialog shows).
REVISION = "main@sha1:9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345"

REASON = "INC-7 prod freeze"
#: From the console's first screen (as after SSH login) to "project demo frozen on prod only, with a reason".
FREEZE_PROJECT_ON_PROD = ("S", *REASON, "tab", "p", "r", "o", "d", "enter")


def _project(app: Any, name: str) -> dict[str, Any]:
    return next(p for p in app.backend.state.items("projects") if p["metadata"]["name"] == name)


async def test_project_frozen_on_prod_only_in_at_most_8_keys_plus_the_reason(make_app: Any) -> None:
    keys = [k for k in FREEZE_PROJECT_ON_PROD]
    typed_reason = len(REASON)
    assert len(keys) - typed_reason <= 8, "the README promises at most 8 keystrokes plus the reason"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "the first screen, as after SSH login"
        for key in keys:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.backend.ops.calls == [("suspend_project", ("demo", REASON, FreezeChoice(clusters=("prod",))))]
        frozen = fz.project_freeze(_project(app, "demo"))
        assert frozen is not None and (frozen.clusters, frozen.reason, frozen.by) == (("prod",), REASON, "operator")
        assert "demo frozen on prod" in screen_text(app).splitlines()[0], "the header says so"
        await pilot.press("3")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        podinfo = next(line for line in lines if "podinfo" in line)
        # Issue 19: the source's own glyph says it is held (on prod); among its cells, only prod's is held.
        assert podinfo.count("‖") == 2 and podinfo.lstrip().startswith("‖ podinfo"), "held: the source and prod"
        assert podinfo.rstrip().endswith("‖ operator 0s") and podinfo.count("✓") == 2, "‖ in the prod cell only"


async def test_break_glass_asks_a_reason_and_leaves_the_source_suspended(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "B", "enter")
        assert isinstance(app.screen, BreakGlassDialog)
        await app_wait_until(pilot, lambda: "A reason is required to break glass." in screen_text(app),
                             message="the dialog's refusal")
        await pilot.press(*"hotfix 12", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        # Issue 19: the dialog's revision and the frozen clusters go with the request (it applies exactly those).
        assert app.backend.ops.calls == [("break_glass", ("demo", "frontend", "hotfix 12", REVISION,
                                                           ("dev", "staging")))]
        frontend = app.backend.state.get("kustomizations", "demo", "frontend")
        glass = fz.break_glass_of(frontend)
        assert glass is not None and (glass.by, glass.reason, glass.applied) == ("operator", "hotfix 12", False)
        assert fz.source_freeze(frontend) is not None, "still suspended"
        await pilot.press("down", "B")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "podinfo is not suspended: no break glass"
        assert any("podinfo is not suspended" in n.message for n in app._notifications)


async def test_resume_some_clusters_previews_those_clusters_then_resumes_them(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "U", *"prod", "enter")
        assert isinstance(app.screen, ClustersDialog)
        await app_wait_until(pilot, lambda: "Not frozen on prod" in screen_text(app), message="the dialog's refusal")
        await pilot.press(*["backspace"] * 4, *"dev", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(app)
        assert "Resume source frontend on dev" in text and "Nothing will be reverted" in text, \
            "the recorded preview is about staging only: nothing on dev"
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.backend.ops.calls[-1] == ("resume_source", ("demo", "frontend", ("dev",)))
        frozen = fz.source_freeze(app.backend.state.get("kustomizations", "demo", "frontend"))
        assert frozen is not None and frozen.clusters == ("staging",)


async def test_suspend_again_extends_the_freeze_and_keeps_its_history(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "s")
        assert isinstance(app.screen, FreezeDialog)
        await app_wait_until(pilot, lambda: "Extend the freeze of" in screen_text(app), message="the extend dialog")
        await pilot.press(*"still fixing", "tab", "tab", *"1h", "enter")
        await app.workers.wait_for_complete()
        frozen = fz.source_freeze(app.backend.state.get("kustomizations", "demo", "frontend"))
        assert frozen is not None and frozen.until == "2026-01-15T13:00:00Z" and frozen.at == "2026-01-15T11:18:00Z"
        assert [s["action"] for s in frozen.history] == ["extend"] and frozen.reason == "still fixing"


async def test_read_only_offers_no_freeze_key_nor_palette_entry(make_app: Any) -> None:
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2", "B", "U", "S")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen) and app.backend.ops.calls == []
        titles = {c.title for c in console_commands(app, app.screen)}
        assert not titles & {"Break glass", "Resume some clusters", "Suspend project"}


async def test_palette_offers_break_glass_and_resume_some_clusters(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        command = next(c for c in console_commands(app, app.screen) if c.title == "Break glass")
        await command.callback()
        await pilot.pause()
        assert isinstance(app.screen, BreakGlassDialog)
        await pilot.press("escape")
        command = next(c for c in console_commands(app, app.screen) if c.title == "Resume some clusters")
        await command.callback()
        await pilot.pause()
        assert isinstance(app.screen, ClustersDialog)
