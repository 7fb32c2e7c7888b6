"""The window (W) and override (O) keys end to end: the demo sandbox, the embedded real reconciler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import sources
from gitops_tui.actions import windows as window_actions
from gitops_tui.api import names
from gitops_tui.api import windows as wn
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.control_dialogs import OverrideDialog, WindowDialog
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until
from tests.tui.gitrepo import commit, make_repo
from tests.tui.live_console import live_console
from tests.tui.screen_text import screen_text
from tests.world import get_or_none

pytestmark = pytest.mark.timeout(240)
FK = names.KIND_FEDERATED_KUSTOMIZATION


def _configmap(box: Any, cluster: str, name: str) -> dict[str, Any] | None:
    return get_or_none(box.api_client(cluster), f"/api/v1/namespaces/demo/configmaps/{name}")


def _value(box: Any, cluster: str, name: str) -> str:
    return str(((_configmap(box, cluster, name) or {}).get("data") or {}).get("v") or "")


def _project(box: Any) -> dict[str, Any]:
    return json_request(box.api_client(), "GET", management_path(names.KIND_PROJECT, None, "demo"))


@pytest.fixture
async def live_app(use_demo_sandbox: Any) -> AsyncIterator[tuple[GitOpsApp, Any]]:
    """The console on the demo sandbox with its embedded reconciler (holding the lease)."""
    async with live_console(use_demo_sandbox, (120, 36)) as app:
        yield app, use_demo_sandbox


async def _select(app: GitOpsApp, pane: str, key: str) -> None:
    pilot = app.pilot  # type: ignore[attr-defined]
    await pilot.press(pane)
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await app_wait_until(pilot, lambda: key in screen.pane._keys, message=f"{key} in the pane")
    await pilot.press("home", *["down"] * screen.pane._keys.index(key))
    assert screen.pane.selected_key() == key


async def test_a_window_from_the_keyboard_holds_dev_and_its_deletion_lets_the_commit_through(
        live_app: tuple[GitOpsApp, Any], tmp_path: Path) -> None:
    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    name = f"win-{uuid.uuid4().hex[:6]}"
    window = f"w{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    sources.create_source(box.api_client(), "demo", name, str(repo), path="./apps", clusters=["dev"])
    await app_wait_until(pilot, lambda: _value(box, "dev", name) == "1", timeout=60, message="the first apply")
    try:
        await _select(app, "1", "demo")
        await pilot.press("W")
        assert isinstance(app.screen, WindowDialog)
        await pilot.press("enter")
        await app_wait_until(pilot, lambda: "A reason is required." in screen_text(app), message="the refusal")
        await pilot.press(*window, "tab", *"* * * * *", "tab", *"1h", "tab", *"UTC", "tab", *"dev", "tab",
                          *"release freeze", "enter")
        found = await app_wait_until(pilot, lambda: next((w for w in wn.windows_of(_project(box))
                                                          if w.name == window), None), message="the window recorded")
        assert (found.clusters, found.reason, found.schedule) == (("dev",), "release freeze", "* * * * *")
        await app_wait_until(pilot, lambda: f"window {window} open on dev" in screen_text(app).splitlines()[0],
                             message="the header names the open window")
        commit(repo, name, "2")
        sources.request_reconcile(box.api_client(), "demo", name)
        await _select(app, "3", f"demo/{name}")
        await app_wait_until(pilot, lambda: any(f"‖ {window}" in line and name in line
                                                for line in screen_text(app).splitlines()),
                             timeout=60, message="the Propagation cell held by the window")
        assert _value(box, "dev", name) == "1", "the commit waits while the window is open"

        await _select(app, "1", "demo")
        await pilot.press("W", *window, "tab", "tab", "tab", "tab", "tab", *"freeze over", "tab", "space", "enter")
        await app_wait_until(pilot, lambda: _value(box, "dev", name) == "2", timeout=60,
                             message="the window deleted: the commit that waited is applied")
    finally:
        if any(w.name == window for w in wn.windows_of(_project(box))):
            window_actions.delete_window(box.api_client(), "demo", window, "test cleanup")
        sources.delete_source(box.api_client(), "demo", name)


async def test_an_override_from_the_keyboard_patches_one_cluster(live_app: tuple[GitOpsApp, Any],
                                                                  tmp_path: Path) -> None:
    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    name = f"ovr-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    sources.create_source(box.api_client(), "demo", name, str(repo), path="./apps", clusters=["dev", "staging"])
    await app_wait_until(pilot, lambda: _value(box, "staging", name) == "1", timeout=60, message="the first apply")
    try:
        await _select(app, "2", f"demo/{name}")
        await pilot.press("O")
        assert isinstance(app.screen, OverrideDialog)
        await pilot.press(*"staging", "tab", *f"ConfigMap/{name}", "tab",
                          *'[{"op":"replace","path":"/data/v","value":"staging-only"}]', "tab", "tab",
                          *"staging test data", "enter")
        await app_wait_until(pilot, lambda: _value(box, "staging", name) == "staging-only", timeout=60,
                             message="the override applied on staging")
        assert _value(box, "dev", name) == "1", "dev is not overridden"
        fk = json_request(box.api_client(), "GET", management_path(FK, "demo", name))
        (item,) = fk["spec"]["overrides"]
        assert item["clusterName"] == "staging" and item["reason"] == "staging test data"
        await pilot.press("d")
        await app_wait_until(pilot, lambda: "Override:   staging ConfigMap/" in screen_text(app),
                             message="describe lists the override")
    finally:
        sources.delete_source(box.api_client(), "demo", name)
