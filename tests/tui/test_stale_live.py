"""A real cluster server stops answering: the console draws its cells stale (glyph and age), never ✓, then fresh again."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from gitops_tui.actions import resources, sources
from gitops_tui.api import names
from gitops_tui.backends.live import LiveBackend
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.views import glyphs
from tests.tui.awaiting import app_wait_until
from tests.tui.gitrepo import make_repo
from tests.tui.screen_text import screen_text

pytestmark = pytest.mark.timeout(240)


def _kubeconfig(directory: Path, context: str, url: str, token: str, ca: Path) -> Path:
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig

    return write_kubeconfig(directory / f"{context}.kubeconfig", [KubeconfigEntry(context, url, token)], ca, context)


def _cell(screen: MainScreen, key: str, column_prefix: str) -> tuple[str, str] | None:
    """(text, status) of the Propagation cell of row ``key`` in the column whose header starts with the prefix."""
    columns = screen.pane._columns
    row = screen.pane.table_rows.get(key)
    index = next((i for i, c in enumerate(columns) if c.startswith(column_prefix)), None)
    if row is None or index is None:
        return None
    return row.cells[index], row.statuses[index]


async def test_a_stopped_cluster_turns_stale_everywhere_then_fresh(sandbox: Any, tmp_path: Path) -> None:
    """Stop a real cluster server: Propagation, Projects and Clusters say 'edge: stale' with no ✓ (bounded waits).

    About 30 s: the embedded reconciler probes each cluster every 5 s and must first apply the source there.
    """
    from gitops_tui.sandbox.controllers.tokens import TokenController
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls

    mgmt = sandbox.api_client()
    edge = f"edge-{uuid.uuid4().hex[:5]}"
    project = f"stale-{uuid.uuid4().hex[:5]}"
    tls = ensure_tls(tmp_path / "tls")
    server = ClusterServer(edge, tmp_path / "edge.db", "edge-token", tls, 0)
    server.start()
    port = server.port
    kubeconfig = _kubeconfig(tmp_path, edge, server.url, "edge-token", tls.ca_cert)
    # The sandbox's demo folder is where local repositories are allowed by default.
    repo = make_repo(sandbox.home / "demo" / "repos" / project, "stale-cm")
    tokens = TokenController.for_server(server, str(tls.ca_cert)).start()  # fills the joined ServiceAccount's token
    try:
        resources.attach_cluster(mgmt, edge, kubeconfig)
    finally:
        tokens.stop()
    resources.create_project(mgmt, project, ["dev", edge])
    # A long interval: no reconcile meets the stopped cluster (it would say ✗ ClusterNotReachable, also true).
    sources.create_source(mgmt, project, "app", str(repo), path="./apps", interval="1h")
    backend = LiveBackend(sandbox.kubeconfig, "management", "sandbox/management")
    app = GitOpsApp(backend, live=True, remember_theme=False, theme="gitops-dark")
    key = f"{project}/app"
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            screen = app.screen
            assert isinstance(screen, MainScreen)
            await pilot.press("3")
            await app_wait_until(pilot, lambda: (_cell(screen, key, edge) or ("", ""))[1] == glyphs.READY,
                                 timeout=120, message=f"the source applied on {edge}")

            server.stop()
            await app_wait_until(pilot, lambda: (_cell(screen, key, f"{glyphs.glyph(glyphs.STALE)} {edge}: stale")
                                                 or ("", ""))[1] == glyphs.STALE,
                                 # bounded, generous: on a loaded machine the probe that notices takes its time
                                 timeout=120, message=f"the {edge} column to turn stale")
            text, status = _cell(screen, key, f"◌ {edge}: stale") or ("", "")
            assert text.startswith("◌ main@") and status == glyphs.STALE, "the last good revision, drawn stale"
            assert "✓" not in text
            assert screen.pane.table_rows[key].cells[0].startswith("◌ app"), "the source is stale, not ✓ Ready"
            await pilot.press("1")
            await app_wait_until(pilot, lambda: project in screen.pane.table_rows, message="the project row")
            clusters = screen.pane.table_rows[project].cells[3]
            assert "✓dev" in clusters and f"◌{edge}: stale" in clusters, clusters
            await pilot.press("6")
            await app_wait_until(pilot, lambda: edge in screen.pane.table_rows, message="the cluster row")
            assert screen.pane.table_rows[edge].cells[0].startswith("✗ Offline, stale")

            server = ClusterServer(edge, tmp_path / "edge.db", "edge-token", tls, port)
            server.start()
            await pilot.press("3")
            await app_wait_until(pilot, lambda: (_cell(screen, key, edge) or ("", ""))[1] == glyphs.READY,
                                 timeout=60, message=f"{edge} fresh again")
            assert not any(c.startswith("◌") for c in screen.pane._columns)
            assert "◌" not in screen_text(app).split("\n")[0], "the header counts no stale source"

            # Clean up while the embedded reconciler still runs (it prunes and lifts the finalizers).
            sources.delete_source(mgmt, project, "app")
            resources.delete_project(mgmt, project)
            await app_wait_until(pilot, lambda: _gone(mgmt, management_path(names.KIND_PROJECT, None, project)),
                                 timeout=60, message="the project finalized")
    finally:
        app.shutdown_backend()
        for path in (management_path(names.KIND_KUBEFED_CLUSTER, names.FEDERATION_NAMESPACE, edge),
                     f"/api/v1/namespaces/{names.FEDERATION_NAMESPACE}/secrets/{edge}-kubeconfig"):
            try:
                json_request(mgmt, "DELETE", path)
            except ApiException:
                pass
        server.stop()


def _gone(api: Any, path: str) -> bool:
    try:
        json_request(api, "GET", path)
    except ApiException as exc:
        return exc.status == 404
    return False
