"""At idle the console's own requests are watches only: no polling of the Helm pane, versions or anything else."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from urllib3.connectionpool import HTTPConnectionPool

from gitops_tui.backends.live import LiveBackend
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from tests.tui.awaiting import app_wait_until

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def requests_sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """Every HTTP request this process sends from now on, as 'WATCH path' or 'METHOD path'."""
    counts: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()
    original = HTTPConnectionPool.urlopen

    def urlopen(pool: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        path, _, query = url.partition("?")
        with lock:
            counts[f"{'WATCH' if 'watch=true' in query else method} {path}"] += 1
        return original(pool, method, url, *args, **kwargs)

    monkeypatch.setattr(HTTPConnectionPool, "urlopen", urlopen)
    yield counts


async def test_idle_console_sends_only_watches(use_demo_sandbox: Any, requests_sent: collections.Counter[str]) -> None:
    """Once the demo is applied, the embedded reconciler is stopped (its lease renewals and cluster health
    checks are its own); the console then idles on the Helm pane and on Clusters: over 6 s each it
    sends no request but (re-opened) watches.

    The idle windows are the point of the test (about 30 s in all).
    """
    box = use_demo_sandbox
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management")
    app = GitOpsApp(backend, live=True, remember_theme=False, theme="gitops-dark")
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.screen
        assert isinstance(screen, MainScreen)
        await pilot.press("5")
        await app_wait_until(pilot, lambda: screen.pane.id == "helm" and "frontend" in str(screen.pane._keys),
                             timeout=90, message="the demo Helm release in the Helm pane")
        await app_wait_until(pilot, lambda: len(app.backend.state.items("versions")) == 3, timeout=30,
                             message="the clusters' versions")
        await asyncio.to_thread(backend.reconciler.stop, 10.0)
        for key in ("5", "6"):
            await pilot.press(key)
            before = collections.Counter(requests_sent)
            await pilot.pause(6.0)
            sent = requests_sent - before
            assert all(kind.startswith("WATCH ") for kind in sent), f"polling at idle: {dict(sent)}"
    app.shutdown_backend()
