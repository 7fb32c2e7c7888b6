"""The console's pin, unpin, tree and Journal pane drive the operations they name (static backend, pilot)."""

from __future__ import annotations

from typing import Any

from gitops_tui.api.pin import pin_of
from gitops_tui.tui import keymap
from gitops_tui.views.journal_rows import journal_table
from gitops_tui.views.pin_view import PinRequest, check_pin_form
from tests.tui.test_snapshots_incident import GOOD, incident_app


async def _settle(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def test_pin_asks_reason_and_clusters_previews_then_pins(make_app: Any) -> None:
    app = incident_app(make_app(), pinned=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "p")
        await _settle(pilot)
        await pilot.press("tab", *"rollback", "tab", *"prod", "enter")
        await _settle(pilot)
        await pilot.press("y")
        await _settle(pilot)
    ops = app.backend.ops
    assert [c[0] for c in ops.calls] == ["pin_choices", "preview_pin", "pin_source"]
    request = ops.calls[-1][1][2]
    assert request == PinRequest(GOOD, "rollback", ["prod"], ""), "the second newest revision is offered first"
    pin = pin_of(app.backend.state.get("kustomizations", "demo", "podinfo"))
    assert pin is not None and pin.clusters == ("prod",) and pin.reason == "rollback"


async def test_unpin_and_tree_need_a_pinned_source_and_read_only_hides_pin(make_app: Any) -> None:
    app = incident_app(make_app())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2", "down", "u")
        await _settle(pilot)
        await pilot.press("y")
        await _settle(pilot)
        await pilot.press("t")
        await _settle(pilot)
        assert "Cluster staging" in str(pilot.app.screen.query_one("#text-body").render())
    assert [c[0] for c in app.backend.ops.calls] == ["unpin_source", "source_tree"]
    assert pin_of(app.backend.state.get("kustomizations", "demo", "podinfo")) is None
    assert {"pin", "unpin"} <= keymap.MUTATING and keymap.acts_on("tree", "source")
    assert not keymap.acts_on("pin", "journal") and not keymap.acts_on("tree", "project")


def test_pin_form_refuses_what_the_reconciler_would_refuse() -> None:
    assert check_pin_form(GOOD, "", "", "", ["dev"])[1] == "A reason is required."
    assert check_pin_form(GOOD, "x", "qa", "", ["dev", "prod"])[1] == "qa is not a cluster of this source (dev, prod)."
    assert check_pin_form(GOOD, "x", "", "xyz; rm", ["dev"])[1] == "The fix commit is a SHA: 7 to 40 hex digits."
    assert check_pin_form(GOOD, " x ", "dev prod", "ABCDEF1", ["dev", "prod"]) == (
        PinRequest(GOOD, "x", ["dev", "prod"], "abcdef1"), "")


def test_journal_pane_lists_entries_oldest_first_with_actor_reason_and_objects(make_app: Any) -> None:
    app = incident_app(make_app())
    table = journal_table(app.backend.state, app.backend.now())
    assert table.columns == ("Time", "Action", "Actor", "Identity", "Where", "Reason", "Objects")
    actions = [row.cells[1].split(" ", 1)[1] for row in table.rows]
    assert actions == ["suspend", "secret-change", "resume", "pin", "drift-corrected", "reconcile"]
    pin = table.rows[3]
    # Issue 18 item 9: the identity the API server saw, beside the claimed actor.
    assert pin.cells[2] == "alice@10.0.0.7" and pin.cells[3] == "alice" and pin.cells[4] == "demo/podinfo [staging]"
    assert pin.tags["cluster"] == "staging"
