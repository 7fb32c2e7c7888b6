"""The console's describe of a project lists its alerts (read through the backend's operations; static backend)."""

from __future__ import annotations

from typing import Any


async def test_describe_project_lists_its_alerts(make_app: Any) -> None:
    app = make_app()
    app.backend.ops.extras["alerts"] = {"demo": [
        {"name": "oncall", "format": "generic", "address": "https://hooks.example.com/…",
         "events": ["failure", "recovery"], "secret": "oncall-alert-token", "suspend": False}]}
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("1", "d")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        text = str(pilot.app.screen.query_one("#text-body").render())
    assert "Alerts:" in text and "oncall: generic to https://hooks.example.com/… on failure,recovery (signed)" in text
    assert ("project_alerts", ("demo",)) in app.backend.ops.calls
