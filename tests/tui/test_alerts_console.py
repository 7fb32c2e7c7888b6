"""The console's describe of a project lists its alerts (read through the backend's operations; static backend)."""

from __future__ import annotations

import base64
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


SECRET = "s3cr3t-hmac-key-9f2"


async def _open_form(pilot: Any) -> Any:
    from gitops_tui.tui.screens.alert_form import AlertForm

    await pilot.press("1", "A")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(pilot.app.screen, AlertForm)
    return pilot.app.screen


async def test_the_alert_form_writes_the_alert_and_never_shows_its_secret(make_app: Any) -> None:
    from tests.tui.screen_text import screen_text

    app = make_app()
    ops = app.backend.ops
    async with app.run_test(size=(120, 36)) as pilot:
        await _open_form(pilot)
        await pilot.press(*"oncall", "tab", "tab", *"https://hooks.example.com/T0/B1/xyz")
        form = pilot.app.screen
        form.query_one("#secret_value").value = SECRET
        await pilot.pause()
        typed = screen_text(pilot.app)
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is not form, "the form closes once the alert is created"
        notes = " ".join(str(n.message) for n in pilot.app._notifications)
        await pilot.press("d")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        described = screen_text(pilot.app)
    [written] = ops.extras["alertObjects"]
    assert written["kind"] == "Alert" and written["metadata"]["namespace"] == "demo"
    assert written["spec"] == {"format": "generic", "address": "https://hooks.example.com/T0/B1/xyz",
                               "events": ["failure", "recovery", "rollout", "break-glass"],
                               "secretRef": {"name": "oncall-alert-token"}}
    [secret] = ops.extras["alertSecrets"]
    assert base64.b64decode(secret["data"]["token"]).decode() == SECRET
    assert "Created alert oncall: generic to https://hooks.example.com/…" in notes
    assert "oncall: generic to https://hooks.example.com/… on failure,recovery,rollout,break-glass (signed)" \
        in described
    for shown in (typed, notes, described, repr(ops.calls)):
        assert SECRET not in shown
        assert "T0/B1/xyz" not in shown or shown is typed, "the webhook's path is shown only while typed"


async def test_the_alert_form_names_each_bad_field_and_writes_nothing(make_app: Any) -> None:
    from tests.tui.screen_text import screen_text

    app = make_app()
    app.backend.ops.extras["alerts"] = {"demo": [{"name": "oncall", "format": "generic",
                                                  "address": "https://hooks.example.com/…", "events": ["failure"]}]}
    async with app.run_test(size=(120, 36)) as pilot:
        form = await _open_form(pilot)
        assert "Its alerts: oncall." in screen_text(pilot.app)
        await pilot.press(*"oncall", "tab", "tab", *"ftp://hooks.example.com/x", "enter")
        await pilot.pause()
        text = screen_text(pilot.app)
        assert pilot.app.screen is form
        assert "Project demo has an alert named oncall already." in text
        assert str(form.query_one("#url-error").render()) == \
            "A generic alert posts to an http(s) URL, not ftp://hooks.example.com/…."
        # a Slack alert's URL is checked by apprise when created: the refusal stays in the form under the URL
        form.query_one("#name").value = "chat"
        form.query_one("#format").value = "slack"
        form.query_one("#url").value = "https://chat.example.com/hook"
        await pilot.press("ctrl+s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert pilot.app.screen is form
        assert not form.query_one("#url-error").has_class("-hidden")
        assert "needs a Slack incoming-webhook URL" in str(form.query_one("#url-error").render())
    assert "alertObjects" not in app.backend.ops.extras


async def test_the_alert_key_is_offered_on_projects_only_and_not_read_only(make_app: Any) -> None:
    from gitops_tui.tui.screens.main import MainScreen

    app = make_app(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("1")
        screen = pilot.app.screen
        assert isinstance(screen, MainScreen)
        assert screen.check_action("alert", ()) is False
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        screen = pilot.app.screen
        assert screen.check_action("alert", ()) is False
        await pilot.press("1")
        assert screen.check_action("alert", ()) is True
