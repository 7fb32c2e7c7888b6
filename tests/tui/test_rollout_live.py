"""The approve key (a) end to end: the demo sandbox, the embedded real reconciler, a two-wave rollout whose second
wave waits for an approval given from the keyboard."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import rollout as rollout_actions
from gitops_tui.actions import sources
from gitops_tui.api.paths import resource_path
from gitops_tui.kube.client import json_request
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.control_dialogs import ApproveDialog
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until
from tests.tui.gitrepo import commit, make_repo
from tests.tui.screen_text import screen_text
from tests.tui.test_controls_live import live_app  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(240)


def _value(box: Any, cluster: str, name: str) -> str:
    """The ConfigMap's ``v`` on ``cluster`` ('' while it is not there)."""
    try:
        found = json_request(box.api_client(cluster), "GET", resource_path("v1", "configmaps", "demo", name))
    except ApiException as exc:
        if exc.status == 404:
            return ""
        raise
    return str((found.get("data") or {}).get("v") or "")


def _status(box: Any, name: str) -> dict[str, Any]:
    """The source's FederatedKustomization status."""
    found = json_request(box.api_client(), "GET",
                         resource_path("types.kubefed.io/v1beta1", "federatedkustomizations", "demo", name))
    return dict(found.get("status") or {})


async def _select(app: GitOpsApp, pane: str, key: str) -> None:
    pilot = app.pilot  # type: ignore[attr-defined]
    await pilot.press(pane)
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await app_wait_until(pilot, lambda: key in screen.pane.table_rows, message=f"{key} in the pane")
    keys = list(screen.pane.table_rows)
    await pilot.press("home", *["down"] * keys.index(key))
    assert screen.pane.selected_key() == key


async def test_a_wave_awaiting_approval_is_approved_from_the_keyboard_and_applied(
        live_app: tuple[GitOpsApp, Any], tmp_path: Path) -> None:  # noqa: F811 - the fixture
    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    name = f"wave-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    sources.create_source(box.api_client(), "demo", name, str(repo), path="./apps", clusters=["dev", "staging"])
    await app_wait_until(pilot, lambda: _value(box, "staging", name) == "1", timeout=60, message="the first apply")
    try:
        rollout_actions.set_rollout(box.api_client(), "demo", name,
                                    rollout_actions.RolloutRequest("dev/staging", "staged release", approve="staging"))
        # The rollout is recorded for the revision already applied before the new commit: a commit and a request
        # that land while the rollout's first reconcile is in flight can be taken as handled by it (noted in
        # docs/reconciler.md, Staged rollouts); this test is about the approval from the keyboard.
        await app_wait_until(pilot, lambda: (_status(box, name).get("rollout") or {}).get("done"), timeout=60,
                             message="the rollout recorded for the revision already applied")
        commit(repo, name, "2")
        sources.request_reconcile(box.api_client(), "demo", name)
        await app_wait_until(pilot, lambda: _value(box, "dev", name) == "2", timeout=60, message="the first wave")
        await _select(app, "3", f"demo/{name}")
        await app_wait_until(pilot, lambda: any(name in line and "2 needs approval" in line
                                                for line in screen_text(app).splitlines()),
                             timeout=60, message="the second wave's cell awaiting approval")
        assert f"{name} awaits approval of staging" in screen_text(app).splitlines()[0]
        assert _value(box, "staging", name) == "1", "the second wave keeps its revision"
        await pilot.press("a")
        assert isinstance(app.screen, ApproveDialog)
        await pilot.press(*"CAB-9 ok", "enter")
        await app_wait_until(pilot, lambda: _value(box, "staging", name) == "2", timeout=60,
                             message="the approved wave applied")
    finally:
        sources.delete_source(box.api_client(), "demo", name)
