"""The console on the demo sandbox with its embedded real reconciler: what the live pilot tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from gitops_tui.backends.live import LiveBackend
from gitops_tui.tui.app import GitOpsApp
from tests.tui.awaiting import app_wait_until


@asynccontextmanager
async def live_console(box: Any, size: tuple[int, int]) -> AsyncIterator[GitOpsApp]:
    """Run the console on ``box`` (the demo sandbox) at ``size`` until its reconciler leads; ``app.pilot`` drives it."""
    backend = LiveBackend(box.kubeconfig, "management", "sandbox/management")
    app = GitOpsApp(backend, live=True, remember_theme=False, theme="gitops-dark")
    async with app.run_test(size=size) as pilot:
        await app_wait_until(pilot, lambda: backend.reconciler is not None and backend.reconciler.is_leader(),
                             timeout=60, message="the embedded reconciler to lead")
        app.pilot = pilot  # type: ignore[attr-defined]
        yield app
    app.shutdown_backend()
