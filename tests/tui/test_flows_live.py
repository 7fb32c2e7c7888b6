"""Pilot tests of the console's flows end to end: the demo sandbox, the embedded real reconciler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import sources
from gitops_tui.api import freeze as fz
from gitops_tui.api import names
from gitops_tui.reconciler.context import management_path
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.dialogs import ConfirmDialog
from gitops_tui.tui.screens.forms import SecretForm, SourceForm
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until
from tests.tui.gitrepo import commit, make_repo
from tests.tui.live_console import live_console
from tests.tui.screen_text import screen_text
from tests.world import get_or_none

pytestmark = pytest.mark.timeout(240)
FK = names.KIND_FEDERATED_KUSTOMIZATION


def _configmap(box: Any, name: str) -> dict[str, Any] | None:
    return get_or_none(box.api_client("dev"), f"/api/v1/namespaces/demo/configmaps/{name}")


def _fk(box: Any, name: str) -> dict[str, Any] | None:
    return get_or_none(box.api_client(), management_path(FK, "demo", name))


@pytest.fixture
async def live_app(use_demo_sandbox: Any) -> AsyncIterator[tuple[GitOpsApp, Any]]:
    """The console on the demo sandbox with its embedded reconciler (holding the lease)."""
    async with live_console(use_demo_sandbox, (100, 30)) as app:
        yield app, use_demo_sandbox


async def _select_source(app: GitOpsApp, name: str) -> None:
    pilot = app.pilot  # type: ignore[attr-defined]
    await pilot.press("2")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await app_wait_until(pilot, lambda: f"demo/{name}" in screen.pane._keys, message=f"{name} in Sources")
    index = screen.pane._keys.index(f"demo/{name}")
    await pilot.press("home", *["down"] * index)
    assert screen.pane.selected_key() == f"demo/{name}"


async def test_suspend_resume_preview_delete(live_app: tuple[GitOpsApp, Any], tmp_path: Path) -> None:
    """Suspend (reason kept, applies stop), resume preview lists a kubectl change, delete prunes."""
    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    name = f"e2e-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    sources.create_source(box.api_client(), "demo", name, str(repo), path="./apps", clusters=["dev"])
    await app_wait_until(pilot, lambda: (_configmap(box, name) or {}).get("data", {}).get("v") == "1",
                         timeout=60, message="the first apply")

    await _select_source(app, name)
    await pilot.press("s")
    await pilot.press(*"incident 42: hand fix")
    await pilot.press("enter")
    fk = await app_wait_until(pilot, lambda: (_fk(box, name) or {}).get("metadata", {}).get("annotations", {})
                              .get(names.ANNOTATION_SUSPEND_REASON) and _fk(box, name), message="the suspension")
    annotations = fk["metadata"]["annotations"]
    assert annotations[names.ANNOTATION_SUSPEND_REASON] == "incident 42: hand fix"
    assert annotations[names.ANNOTATION_SUSPENDED_BY] and annotations[names.ANNOTATION_SUSPENDED_AT]
    assert fk["spec"]["template"]["spec"]["suspend"] is True
    await app_wait_until(pilot, lambda: "suspended by" in screen_text(app) and "incident 42" in screen_text(app),
                         message="the suspension on screen")

    # While suspended: a hand change on the cluster and a new commit; a reconcile now applies nothing.
    box.kubectl("dev", "-n", "demo", "patch", "configmap", name, "--type=merge", "-p", '{"data":{"v":"kubectl"}}')
    commit(repo, name, "2")
    reconciler = app.backend.reconciler  # type: ignore[attr-defined]
    key = (FK, "demo", name)
    runs = reconciler.runs.get(key, 0)
    await pilot.press("R")
    await app_wait_until(pilot, lambda: reconciler.runs.get(key, 0) > runs
                         and ("demo", name) not in reconciler.inflight, message="a reconcile pass while suspended")
    assert _configmap(box, name)["data"]["v"] == "kubectl"

    # Resume: the preview lists the kubectl change; confirming reconciles at once.
    await pilot.press("r")
    dialog = await app_wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog) and app.screen,
                                  timeout=60, message="the resume preview")
    body = await app_wait_until(pilot, lambda: "Resume source" in screen_text(app) and screen_text(app),
                                message="the preview drawn")
    assert "kubectl" in body and "data" in body, body
    await pilot.press("y")
    assert dialog is not app.screen
    await app_wait_until(pilot, lambda: (_configmap(box, name) or {}).get("data", {}).get("v") == "2",
                         timeout=60, message="the resume to apply the new revision")
    assert names.ANNOTATION_SUSPENDED_BY not in (_fk(box, name) or {}).get("metadata", {}).get("annotations", {})

    # Delete: the confirmation counts what dev loses, then the object is pruned.
    await _select_source(app, name)
    await pilot.press("ctrl+d")
    body = await app_wait_until(pilot, lambda: "Delete source" in screen_text(app) and screen_text(app),
                                message="the delete confirmation")
    assert "dev          loses 1 object" in body, body
    await pilot.press("y")
    await app_wait_until(pilot, lambda: _configmap(box, name) is None and _fk(box, name) is None,
                         timeout=60, message="the prune and the deletion")


def _error(app: GitOpsApp, field: str) -> str:
    label = app.screen.query_one(f"#{field}-error")
    return "" if label.has_class("-hidden") else str(label.render())


async def test_forms_refuse_bad_input_then_create(live_app: tuple[GitOpsApp, Any], tmp_path: Path) -> None:
    """New secret and new source: messages beside bad fields, then real objects; no secret value shown."""
    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    secret = f"creds-{uuid.uuid4().hex[:6]}"
    await pilot.press("4", "n")
    await app_wait_until(pilot, lambda: isinstance(app.screen, SecretForm), message="the secret form")
    await pilot.press(*"Bad Name", "enter")
    assert "a-z" in _error(app, "name") and "username is required" in _error(app, "username")
    assert "password is required" in _error(app, "password")
    await pilot.press(*["backspace"] * 8, *secret, "tab", "tab", *"bot", "tab", *"s3cr3t-pw", "enter")
    await app_wait_until(pilot, lambda: get_or_none(box.api_client(), management_path(
        names.KIND_FEDERATED_SECRET, "demo", secret)), message="the FederatedSecret")
    await app_wait_until(pilot, lambda: secret in screen_text(app), message="the secret in the pane")
    assert "password,username" in screen_text(app) or "username" in screen_text(app)
    await pilot.press("y")
    assert "s3cr3t-pw" not in screen_text(app)
    await pilot.press("escape")

    name = f"form-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    await pilot.press("2", "n")
    await app_wait_until(pilot, lambda: isinstance(app.screen, SourceForm), message="the source form")
    await pilot.press(*"UPPER", "tab", *"not a url", "enter")
    assert "a-z" in _error(app, "name") and "URL" in _error(app, "url")
    form = app.screen
    assert isinstance(form, SourceForm)
    form.query_one("#name").value = name
    form.query_one("#url").value = str(repo)
    form.query_one("#path").value = "./apps"
    form.query_one("#clusters").deselect_all()
    await pilot.press("ctrl+s")
    assert "at least one cluster" in _error(app, "clusters")
    form.query_one("#clusters").select("dev")
    await pilot.press("ctrl+s")
    await app_wait_until(pilot, lambda: (_configmap(box, name) or {}).get("data", {}).get("v") == "1",
                         timeout=60, message="the new source to apply")
    sources.delete_source(box.api_client(), "demo", name)


async def test_suspend_and_resume_a_whole_project(live_app: tuple[GitOpsApp, Any], tmp_path: Path) -> None:
    """S on Projects freezes the project with the reason (its sources held); r previews every source, then resumes."""
    from gitops_tui.actions import resources

    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    api = box.api_client()
    project = f"p-{uuid.uuid4().hex[:6]}"
    resources.create_project(api, project, ["dev"])
    repo = make_repo(tmp_path / "repo", "cm-a", "1")
    for name in ("src-a", "src-b"):
        sources.create_source(api, project, name, str(repo), path="./apps")
    try:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("1")
        await app_wait_until(pilot, lambda: project in screen.pane._keys, message="the project row")
        await pilot.press("home", *["down"] * screen.pane._keys.index(project), "S")
        await app_wait_until(pilot, lambda: "Suspend every source of project" in screen_text(app),
                             message="the freeze dialog")
        await pilot.press(*"maintenance window", "enter")

        def frozen() -> Any:
            return fz.project_freeze(get_or_none(api, management_path("Project", None, project)))

        await app_wait_until(pilot, lambda: (frozen() is not None and frozen().reason == "maintenance window"),
                             message="the project frozen")
        await app_wait_until(pilot, lambda: "0✓ 0✗ 2‖" in screen_text(app), message="the project counts")
        await pilot.press("r")
        body = await app_wait_until(pilot, lambda: f"Resume project {project}" in screen_text(app)
                                    and "# src-b" in screen_text(app) and screen_text(app),
                                    timeout=60, message="the project resume preview, every source")
        assert "# src-a" in body, body
        await pilot.press("y")
        await app_wait_until(pilot, lambda: frozen() is None, message="the project resumed")
    finally:
        for name in ("src-a", "src-b"):
            sources.delete_source(api, project, name)
        resources.delete_project(api, project)


async def test_helm_pane_shows_the_demo_release_and_its_history(live_app: tuple[GitOpsApp, Any]) -> None:
    """The demo's HelmRelease, released by the embedded reconciler, is one row on three clusters; enter opens history."""
    app, _box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    await pilot.press("5")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    expected = ("frontend", "0.1.0", "dev,staging,prod")  # the placement order, as in every pane

    def released_everywhere() -> bool:
        row = screen.pane.table_rows.get("demo/frontend@0.1.0")
        return row is not None and row.cells[:3] == expected

    # The release reaches each cluster in turn: wait for the one row naming all three.
    try:
        await app_wait_until(pilot, released_everywhere, timeout=90, message="the demo release on three clusters")
    except AssertionError as exc:
        status = ((_fk(_box, "podinfo") or {}).get("status") or {}).get("clusters") or []
        seen = [(c.get("name"), c.get("status"), c.get("message")) for c in status]
        raise AssertionError(f"{exc}; rows {screen.pane._keys}; demo source per cluster: {seen}") from None
    assert [key for key in screen.pane._keys if key.startswith("demo/frontend@")] == ["demo/frontend@0.1.0"]
    await pilot.press("home", *["down"] * screen.pane._keys.index("demo/frontend@0.1.0"), "enter")
    text = await app_wait_until(pilot, lambda: "History on staging" in screen_text(app) and screen_text(app),
                                message="the release detail")
    assert "History on dev" in text and "podinfo-frontend-0.1.0" in text and "Install complete" in text
    assert "Released by gitops-tui" not in text  # values are never shown
    await pilot.press("escape")


async def test_delete_secret_from_the_console(live_app: tuple[GitOpsApp, Any]) -> None:
    """ctrl+d on a secret lists the clusters losing it; confirming removes it from them."""
    from gitops_tui.actions import resources

    app, box = live_app
    pilot = app.pilot  # type: ignore[attr-defined]
    name = f"gone-{uuid.uuid4().hex[:6]}"
    resources.create_secret(box.api_client(), "demo", name, resources.secret_data(token="t0ken-value"))
    await app_wait_until(pilot, lambda: get_or_none(box.api_client("dev"), f"/api/v1/namespaces/demo/secrets/{name}"),
                         timeout=60, message="the Secret on dev")
    await pilot.press("4")
    screen = app.screen
    assert isinstance(screen, MainScreen)
    await app_wait_until(pilot, lambda: f"demo/{name}" in screen.pane._keys, message="the secret row")
    await pilot.press("home", *["down"] * screen.pane._keys.index(f"demo/{name}"), "ctrl+d")
    text = await app_wait_until(pilot, lambda: f"Delete secret demo/{name}?" in screen_text(app) and screen_text(app),
                                message="the confirmation")
    assert f"prod         loses Secret {name}" in text and "t0ken-value" not in text
    await pilot.press("y")
    await app_wait_until(pilot, lambda: get_or_none(box.api_client("prod"), f"/api/v1/namespaces/demo/secrets/{name}") is None
                         and get_or_none(box.api_client(), management_path(names.KIND_FEDERATED_SECRET, "demo", name)) is None,
                         timeout=60, message="the Secret removed from the clusters")
