"""Staged rollouts in the console: each cell's wave, the header's count of waiting and halted rollouts, describe's
waves, and the approve key (a) with its confirm dialog; on the recorded demo (static backend, frozen clock)."""

from __future__ import annotations

from typing import Any

from gitops_tui.tui.screens.control_dialogs import ApproveDialog
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.views import model
from tests.tui.rollout_state import GIT, with_rollout
from tests.tui.screen_text import screen_text


def _podinfo(app: Any) -> Any:
    return next(s for s in model.sources(app.backend.state) if s.name == "podinfo")


async def _select(pilot: Any, name: str) -> None:
    await pilot.press("2")
    screen = pilot.app.screen
    assert isinstance(screen, MainScreen)
    keys = screen.pane._keys
    await pilot.press("home", *["down"] * keys.index(f"demo/{name}"))
    assert screen.pane.selected_key() == f"demo/{name}"


async def test_cells_show_each_wave_and_the_header_the_wave_awaiting_approval(make_app: Any) -> None:
    app = with_rollout(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        text = screen_text(app)
        assert "podinfo awaits approval of prod" in text.splitlines()[0]
        assert "3 needs approval" in text, text
        assert "2 main@9f2c41d" in text and "1 main@9f2c41d" in text
        view = _podinfo(app)
        assert view.cells["prod"].message == "prod held: awaiting approval of wave prod: rollout of main@9f2c41d; " \
                                             "keeps main@4b1e0c9"


async def test_a_soak_shows_its_time_left_and_no_approval_is_offered_yet(make_app: Any) -> None:
    app = with_rollout(make_app(), soak_started="2026-01-15T11:56:00Z")  # 4 minutes into a 10m soak
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        text = screen_text(app)
        assert "2 soak 6m left" in text, text
        assert "3 awaiting wave" in text
        assert "awaits approval" not in text.splitlines()[0]


async def test_a_halt_is_a_failure_in_the_header_and_holds_the_later_waves(make_app: Any) -> None:
    halt = {"wave": "staging", "cause": "Deployment podinfo not available after 5m", "at": "2026-01-15T11:50:00Z"}
    app = with_rollout(make_app(), halted=halt)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        text = screen_text(app)
        assert "podinfo halted at staging" in text.splitlines()[0]
        view = _podinfo(app)
        assert view.status == "failing" and view.message.startswith("rollout halted at staging: Deployment podinfo")
        assert view.cells["prod"].text == "3 halted"
        assert view.cells["prod"].message.startswith("prod held: rollout halted at staging")


async def test_approve_key_confirms_with_a_reason_and_records_the_approval_for_the_revision(make_app: Any) -> None:
    app = with_rollout(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await _select(pilot, "podinfo")
        await pilot.pause()
        assert "a Approve" in screen_text(app).splitlines()[-1].replace("\xa0", " ")
        await pilot.press("a")
        assert isinstance(app.screen, ApproveDialog)
        dialog_text = screen_text(app)
        assert "Approve wave prod of demo/podinfo" in dialog_text and "main@9f2c41d to prod" in dialog_text
        await pilot.press("enter")  # no reason: the dialog stays and says so
        assert isinstance(app.screen, ApproveDialog)
        assert "A reason is required to approve a wave." in screen_text(app)
        await pilot.press(*"CAB-7 ok", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert ("approve_wave", ("demo", "podinfo", "prod", "CAB-7 ok", GIT)) in app.backend.ops.calls
        rollout = _podinfo(app).state.rollout
        assert rollout.approval(2) is not None and rollout.approval(2).by == app.backend.ops.actor
        assert rollout.state == "progressing"
        await pilot.press("d")
        assert "approved by" in screen_text(app) and "CAB-7 ok" in screen_text(app)


async def test_approve_is_not_offered_on_a_source_without_a_rollout(make_app: Any) -> None:
    app = with_rollout(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await _select(pilot, "frontend")
        await pilot.pause()
        assert "Approve" not in screen_text(app).splitlines()[-1]
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert not [c for c in app.backend.ops.calls if c[0] == "approve_wave"]
