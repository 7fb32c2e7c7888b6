"""Staged rollouts in the console: each cell's wave, the header's count of waiting and halted rollouts, describe's
waves, and the approve key (a) with its confirm dialog; on the recorded demo (static backend, frozen clock)."""

from __future__ import annotations

from typing import Any

from gitops_tui.tui.screens.control_dialogs import ApproveDialog
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.views import glyphs as g
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


async def test_a_wave_awaiting_approval_is_waiting_not_suspended_in_every_pane(make_app: Any) -> None:
    """Nobody placed a hold: the source says Waiting (») in the Sources pane, its project's count and the header,
    as `get sources` leaves SUSPENDED empty and shows the wave in ROLLOUT (tests/reconciler/test_rollout_cli.py)."""
    app = with_rollout(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        view = _podinfo(app)
        assert (view.status, g.LABELS[view.status]) == (g.WAITING, "Waiting")
        assert view.cells["prod"].status == g.WAITING
        row = next(line for line in screen_text(app).splitlines()[1:] if " podinfo " in f" {line} ")
        assert "» podinfo" in row and "Waiting" in row and "Suspended" not in row, row
        header = screen_text(app).splitlines()[0]
        assert "»1" in header and "‖1" in header, header  # frontend is suspended by alice; podinfo waits
        await pilot.press("1")
        demo = next(line for line in screen_text(app).splitlines()[1:] if " demo " in f" {line} ")
        assert "1‖ 1»" in demo, demo


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
        described = screen_text(app)
        assert "approved by" in described and "CAB-7 ok" in described
        assert "2. staging          soaked" in described, "its soak is over"


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


def test_journal_rows_of_a_rollout_set_approved_and_halted(make_app: Any) -> None:
    from gitops_tui.api.journal_crd import JOURNAL_API_VERSION, KIND_JOURNAL_ENTRY
    from gitops_tui.views.journal_rows import journal_table
    from gitops_tui.views.state import Change

    app = make_app()
    entries = [("rollout", "alice", "CHG-42 staged release", ["waves dev/staging/prod"]),
               ("approve", "bob", "CAB-7 ok", ["wave prod", f"revision {GIT}"]),
               ("rollout-halt", "gitops-tui (rollout)", "rollout halted at staging: Deployment podinfo not available",
                []), ("rollout-off", "alice", "done for today", [])]
    for index, (action, actor, reason, objects) in enumerate(entries):
        spec = {"time": f"2026-01-15T11:0{index}:00.000000Z", "action": action, "actor": actor, "reason": reason,
                "project": "demo", "source": "podinfo", "clusters": ["prod"], "objects": objects}
        app.backend.state.apply(Change("journal", "ADDED", {
            "apiVersion": JOURNAL_API_VERSION, "kind": KIND_JOURNAL_ENTRY,
            "metadata": {"name": f"j-{index}", "namespace": "gitops-tui-system"}, "spec": spec}))
    rows = journal_table(app.backend.state, app.backend.now()).rows
    assert [(r.cells[1], r.status) for r in rows] == [
        ("» rollout", g.PROGRESS), (f"{g.glyph(g.READY)} approve", g.READY),
        (f"{g.glyph(g.FAILING)} rollout-halt", g.FAILING), ("» rollout-off", g.READY)]
    assert rows[1].cells[2] == "bob" and rows[1].cells[5] == "CAB-7 ok" and "wave prod" in rows[1].cells[6]


def test_the_header_counts_rollouts_when_more_than_one_waits_or_halted() -> None:
    from types import SimpleNamespace

    from gitops_tui.views.header import HeaderInfo
    from gitops_tui.views.header_fit import header_parts
    from gitops_tui.views.rollout import rollout_alerts

    def source(name: str, halted: bool) -> Any:
        spec = SimpleNamespace(waves=[SimpleNamespace(name="dev"), SimpleNamespace(name="prod")])
        progress = SimpleNamespace(halted=SimpleNamespace(wave="dev") if halted else None)
        rollout = SimpleNamespace(spec=spec, progress=progress, word="awaiting approval", awaiting=1)
        return SimpleNamespace(name=name, state=SimpleNamespace(rollout=rollout))

    assert rollout_alerts([source("web", False)]) == "web awaits approval of prod"
    many = [source("web", False), source("api", False), source("db", True), source("ui", True)]
    assert rollout_alerts(many) == "2 rollouts halted · 2 rollouts await approval"
    parts = header_parts(HeaderInfo(context="c", leader="nobody", ready=0, failing=0, suspended=0, progressing=0, rollouts=rollout_alerts(many)))
    part = next(p for p in parts if p.text.startswith("»"))
    assert part.style == g.FAILING, "a halt colours the alert as a failure"
    waiting = next(p for p in header_parts(HeaderInfo(context="c", leader="nobody", ready=0, failing=0, suspended=0, progressing=0, rollouts="web awaits approval of prod"))
                   if p.text.startswith("»"))
    assert waiting.style == g.SUSPENDED
