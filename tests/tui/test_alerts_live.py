"""The new-alert form end to end: the demo sandbox's management cluster holds the Alert, its Secret and the journal
entry the form wrote; the typed key is never shown, logged or journaled, the webhook's path never leaves the form."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from gitops_tui import journal
from gitops_tui.api import names
from gitops_tui.api.paths import management_path, resource_path
from gitops_tui.backends.live import LiveBackend
from gitops_tui.kube.client import json_request
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.alert_form import AlertForm
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text

pytestmark = pytest.mark.timeout(180)


async def test_the_alert_form_creates_the_alert_and_its_secret_on_the_management_cluster(
        use_demo_sandbox: Any) -> None:
    box = use_demo_sandbox
    api = box.api_client()
    name = f"oncall-{uuid.uuid4().hex[:6]}"
    key = f"key-{uuid.uuid4().hex}"
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management", reconcile="never")
    app = GitOpsApp(backend, live=True, remember_theme=False, theme="gitops-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        await app_wait_until(pilot, lambda: any(p["metadata"]["name"] == "demo" for p in backend.state.items("projects")),
                             timeout=60, message="the demo project listed")
        await pilot.press("1", "A")
        await app_wait_until(pilot, lambda: isinstance(app.screen, AlertForm), timeout=30, message="the alert form")
        form = app.screen
        await pilot.press(*name, "tab", "tab", *"https://alerts.example.com/hooks/T0-secret-path")
        form.query_one("#secret_value").value = key
        await pilot.press("ctrl+s")
        await app_wait_until(pilot, lambda: app.screen is not form, timeout=30, message="the form to close")
        notes = " ".join(str(n.message) for n in app._notifications)
        shown = screen_text(app)
    app.shutdown_backend()

    alert = json_request(api, "GET", management_path(names.KIND_ALERT, "demo", name))
    assert alert["spec"] == {"format": "generic", "address": "https://alerts.example.com/hooks/T0-secret-path",
                             "events": ["failure", "recovery", "rollout", "break-glass"],
                             "secretRef": {"name": f"{name}-alert-token"}}
    secret = json_request(api, "GET", resource_path("v1", "secrets", "demo", f"{name}-alert-token"))
    assert base64.b64decode(secret["data"]["token"]).decode() == key
    [entry] = [e for e in journal.list_entries(api, project="demo") if e.action == "alert-create" and name in e.reason]
    assert entry.reason == f"alert {name}: generic to https://alerts.example.com/… on failure, recovery, rollout, " \
        "break-glass"
    assert entry.objects == [f"Alert {name}", f"Secret {name}-alert-token key token"]
    assert f"Created alert {name}: generic to https://alerts.example.com/…" in notes
    for text in (notes, shown, repr(entry.to_dict())):
        assert key not in text
        assert "T0-secret-path" not in text
