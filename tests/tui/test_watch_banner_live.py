"""The management cluster stops answering: the console shows the broken-watch banner until its watches are live again."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from gitops_tui.backends.live import LiveBackend
from gitops_tui.kube.client import api_client_from_kubeconfig
from gitops_tui.kube.management_api import ensure_management_api
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until

pytestmark = pytest.mark.timeout(120)


def _banner(app: GitOpsApp) -> str:
    banner = app.screen.query_one("#banner")
    return str(banner.render()) if banner.has_class("-shown") else ""


async def test_banner_while_the_management_watch_is_broken(tmp_path: Path) -> None:
    """A real management API server is stopped, then started again on its port (bounded waits, ~15 s)."""
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig
    from gitops_tui.sandbox.serving.server import ClusterServer
    from gitops_tui.sandbox.serving.tls import ensure_tls

    token = secrets.token_urlsafe(16)
    tls = ensure_tls(tmp_path / "tls")
    server = ClusterServer("management", tmp_path / "mgmt.db", token, tls, 0)
    server.start()
    port = server.port
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", [KubeconfigEntry("management", server.url, token)],
                                  tls.ca_cert, "management")
    ensure_management_api(api_client_from_kubeconfig(kubeconfig, "management"))
    backend = LiveBackend(kubeconfig, "management", "test/management", reconcile=False)
    app = GitOpsApp(backend, live=True, read_only=True, remember_theme=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            assert isinstance(app.screen, MainScreen)
            await app_wait_until(pilot, backend.synced, message="the first lists")
            assert _banner(app) == ""

            server.stop()
            text = await app_wait_until(pilot, lambda: _banner(app), timeout=30, message="the banner")
            assert text.startswith("✗ Management watch broken for") and "may be stale" in text, text

            server = ClusterServer("management", tmp_path / "mgmt.db", token, tls, port)
            server.start()
            await app_wait_until(pilot, lambda: _banner(app) == "", timeout=30,
                                 message="the banner to go once the watches are live again")
    finally:
        app.shutdown_backend()
        server.stop()
