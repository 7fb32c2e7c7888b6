"""Issue 19 in the console: frozen ‖, break glass ↯, pinned ◆ and stale ◌ cells side by side; a freeze never looks
like a failure; resume refuses under a project freeze and says how to lift it; break glass names its revision."""

from __future__ import annotations

from typing import Any

import pytest

from gitops_tui.tui.screens.freeze_dialogs import BreakGlassDialog
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text
from tests.tui.truth_state import with_every_hold

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
FREEZE_PROD = ("1", "S", *"change freeze", "tab", *"prod", "enter")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("pane", [pytest.param("3", id="propagation"), pytest.param("2", id="sources")])
def test_every_hold_side_by_side(snap_compare, make_app, pane: str, size: tuple[int, int]) -> None:
    """frontend ‖ on dev and ↯ on staging, podinfo ◆ on staging, prod ◌ stale: one screen, one truth."""
    assert snap_compare(with_every_hold(make_app()), press=[pane], terminal_size=size)


async def test_cells_tell_each_hold_and_none_is_a_failure(make_app: Any) -> None:
    app = with_every_hold(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await pilot.pause()
        lines = screen_text(app).splitlines()
        frontend = next(line for line in lines if "frontend" in line and "‖ alice" in line)
        podinfo = next(line for line in lines if "podinfo" in line and "◆" in line)
        assert "‖ alice 42m" in frontend and "‖ ↯main@9f2c41d" in frontend and "✗" not in frontend
        assert "✓ ◆main@4b1e0c9" in podinfo
        assert "◌ prod: stale 10m" in lines[3] and "◌ pending" in next(line for line in lines if "redis" in line)


async def test_a_project_freeze_on_prod_counts_in_the_header_and_is_never_a_failure(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        header = screen_text(app).splitlines()[0]
        assert "✗1" in header, "podinfo fails on prod (unreachable)"
        for key in FREEZE_PROD:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.press("3")
        await pilot.pause()
        text = screen_text(app)
        header = text.splitlines()[0]
        assert "‖ demo frozen on prod" in header and "✗0" in header and "‖2" in header, header
        podinfo = next(line for line in text.splitlines() if "podinfo" in line)
        assert podinfo.lstrip().startswith("‖ podinfo") and "✗" not in podinfo, "held on prod: not failing"


async def test_resume_source_under_a_project_freeze_says_how_to_lift_it(make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        for key in FREEZE_PROD:
            await pilot.press(key)
        await app.workers.wait_for_complete()
        await pilot.press("2", "down", "r")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen), "no resume preview: nothing to resume there"
        calls = [c[0] for c in app.backend.ops.calls]
        assert "resume_source" not in calls and "preview_resume" not in calls
        said = [n.message for n in app._notifications]
        assert any("held by the freeze of project demo on prod" in m and "r on the project in Projects (1)" in m
                   for m in said), said


async def test_break_glass_on_a_pinned_cluster_names_the_one_revision_it_applies(make_app: Any) -> None:
    app = with_every_hold(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "s", *"INC-5", "tab", *"staging", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("B")
        await app_wait_until(pilot, lambda: isinstance(app.screen, BreakGlassDialog), message="the dialog")
        text = " ".join(line.strip(" │") for line in screen_text(app).splitlines() if line.strip(" │"))
        assert "Applies exactly main@9f2c41d to staging once" in text
        assert "Pinned on staging at main@4b1e0c9: this apply uses main@9f2c41d there too." in text
        await pilot.press(*"ship it", "enter")
        await app.workers.wait_for_complete()
        assert app.backend.ops.calls[-1] == ("break_glass", ("demo", "podinfo", "ship it",
                                                             "main@sha1:9f2c41d7a3b05e6c8d1f2a3b4c5d6e7f80912345",
                                                             ("staging",)))
