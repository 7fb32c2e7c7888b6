"""What a new user tripped over, against the demo sandbox: Helm 'loading', a quiet quit, a refusal beside its field."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from gitops_tui.actions import resources
from gitops_tui.backends.live import LiveBackend, watched
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.tui.screens.project_form import ProjectForm
from gitops_tui.views import helm
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text

pytestmark = pytest.mark.timeout(240)


def _released_everywhere(screen: MainScreen) -> bool:
    row = screen.pane.table_rows.get("demo/frontend@0.1.0")
    return row is not None and set(row.cells[2].split(",")) == {"dev", "staging", "prod"}


async def test_helm_pane_says_loading_never_empty_while_a_release_exists(use_demo_sandbox: Any,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A console with the reconciler makes sure the demo release exists and quits without pool warnings; a second
    console shown the Helm pane at once says 'Loading', never 'No Helm release found', until the release row."""
    box = use_demo_sandbox
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management")
    app = GitOpsApp(backend, live=True, remember_theme=False)
    caplog.set_level(logging.WARNING, logger="urllib3.connectionpool")
    async with app.run_test(size=(120, 36)) as pilot:
        await app_wait_until(pilot, lambda: backend.reconciler is not None and backend.reconciler.is_leader(),
                             timeout=60, message="the embedded reconciler to lead")
        held = len(watched()) + len(backend.reconciler.watches)
        assert held <= backend.api.configuration.connection_pool_maxsize, \
            f"{held} watches hold a connection each; the pool keeps fewer and discards the rest noisily"
        await pilot.press("5")
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await app_wait_until(pilot, lambda: _released_everywhere(screen), timeout=120,
                             message="the demo release on three clusters")
        await app.action_quit()
    assert not [r for r in caplog.records if "Connection pool is full" in r.getMessage()]

    viewer = LiveBackend(box.kubeconfig, "management", "sandbox/management", reconcile=False)
    second = GitOpsApp(viewer, live=True, remember_theme=False, read_only=True)
    seen: list[str] = []
    async with second.run_test(size=(120, 36)) as pilot:
        await pilot.press("5")
        screen = second.screen
        assert isinstance(screen, MainScreen)

        def shown() -> bool:
            text = screen_text(second)
            seen.append("loading" if helm.LOADING in text else "empty" if "No Helm release found" in text
                        else "rows" if _released_everywhere(screen) else "other")
            return seen[-1] == "rows"

        await app_wait_until(pilot, shown, timeout=60, message="the release row in a fresh console")
    second.shutdown_backend()
    assert "empty" not in seen, f"'No Helm release found' was shown while the release existed: {seen}"


async def test_a_project_taken_meanwhile_is_refused_beside_its_name(use_demo_sandbox: Any) -> None:
    """The form is open; someone creates the same project; Create shows the management cluster's answer in place."""
    box = use_demo_sandbox
    api = box.api_client()
    name = f"race-{uuid.uuid4().hex[:6]}"
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management", reconcile=False)
    app = GitOpsApp(backend, live=True, remember_theme=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.screen
            assert isinstance(screen, MainScreen)
            await pilot.press("1")
            await app_wait_until(pilot, lambda: "demo" in screen.pane._keys, message="the projects listed")
            await pilot.press("n")
            form = app.screen
            assert isinstance(form, ProjectForm)
            resources.create_project(api, name, ["dev"])
            await pilot.press(*name, "tab", "tab", "space", "ctrl+s")
            label = form.query_one("#name-error")
            await app_wait_until(pilot, lambda: not label.has_class("-hidden"), message="the refusal")
            assert "already exists" in str(label.render()) and app.screen is form
            await pilot.press("escape")
    finally:
        app.shutdown_backend()
        resources.delete_project(api, name)
