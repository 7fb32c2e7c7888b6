"""The console is a client: beside a real `gitops-tui run`, its embedded reconciler holds no shard and says so.

A console (``--reconcile auto``, the default) alone on the management cluster holds every shard (the sandbox, a
laptop); a real `run` process appears and the console gives every shard back, the header naming who reconciles
and that this console stands by; the `run` process stops and the console takes the shards again. A console
with ``--reconcile always`` shares them with `run`; ``never`` runs no reconciler.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from gitops_tui import cli
from gitops_tui.backends.live import LiveBackend
from gitops_tui.tui.app import GitOpsApp
from gitops_tui.tui.screens.main import MainScreen
from gitops_tui.views.header import STANDS_BY, THIS_CONSOLE
from tests.reconciler.test_shards_processes import SHARDS, ShardRun, fleet
from tests.tui.awaiting import app_wait_until
from tests.tui.screen_text import screen_text
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(240)


def _holders(mgmt: Any) -> set[str]:
    return set(fleet(mgmt).holders.values())


def _header(app: GitOpsApp) -> str:
    return screen_text(app).splitlines()[0]


async def test_console_stands_by_while_a_run_process_reconciles(sandbox: Any, tmp_path: Path) -> None:
    mgmt = sandbox.api_client()
    wait_until(lambda: _holders(mgmt) <= {""}, timeout=30, message="no reconciler left by another test")
    backend = LiveBackend(sandbox.kubeconfig, "management", "sandbox/management")  # --reconcile auto
    assert backend.reconcile == "auto"
    app = GitOpsApp(backend, live=True, remember_theme=False)
    run: ShardRun | None = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            assert isinstance(app.screen, MainScreen)
            # Alone: the console reconciles (the sandbox on a laptop).
            await app_wait_until(pilot, lambda: _holders(mgmt) == {backend.identity}, timeout=60,
                                 message="the lone console to take every shard")
            await app_wait_until(pilot, lambda: f"lease:{THIS_CONSOLE} " in _header(app), timeout=10,
                                 message="the header to say this console reconciles")

            # A `run` process appears: the console gives every shard back to it.
            run = ShardRun(sandbox, tmp_path, "run")
            await app_wait_until(pilot, lambda: {h.split("/")[1] for h in _holders(mgmt)} == {str(run.pid)},
                                 timeout=30, message="the run process to hold every shard")
            assert backend.reconciler.elector.held() == []
            header = await app_wait_until(pilot, lambda: STANDS_BY in _header(app) and _header(app), timeout=10,
                                          message="the header to say the console stands by")
            assert f"/{run.pid}" in header, header
            assert sorted(fleet(mgmt).holders) == list(range(SHARDS))

            # It stays that way: the console never takes a shard back while the run process renews.
            for _ in range(40):  # 2 s of rounds, each ~0.27 s for the run process, 2 s for the console
                await pilot.pause(0.05)
                assert backend.identity not in _holders(mgmt)

            # The run process leaves: the console takes the shards again.
            assert run.stop() == 0
            await app_wait_until(pilot, lambda: _holders(mgmt) == {backend.identity}, timeout=30,
                                 message="the console to take the shards back")
            await app_wait_until(pilot, lambda: f"lease:{THIS_CONSOLE} " in _header(app), timeout=10,
                                 message="the header to say this console reconciles again")
            await app.action_quit()
    finally:
        if run is not None:
            run.stop()
        app.shutdown_backend()
    wait_until(lambda: _holders(mgmt) <= {""}, timeout=10, message="the console to release its shards on quit")


def test_console_with_reconcile_always_shares_with_run(sandbox: Any, tmp_path: Path) -> None:
    mgmt = sandbox.api_client()
    wait_until(lambda: _holders(mgmt) <= {""}, timeout=30, message="no reconciler left by another test")
    backend = LiveBackend(sandbox.kubeconfig, "management", "sandbox/management", reconcile="always")
    stop = threading.Event()
    threads = [threading.Thread(target=backend.run_feed, args=(backend.state.apply_many, stop.is_set), daemon=True),
               threading.Thread(target=backend.run_reconciler, args=(stop.is_set,), daemon=True)]
    run = ShardRun(sandbox, tmp_path, "run")
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: sorted(len(fleet(mgmt).held_by(h)) for h in _holders(mgmt)) == [4, 4]
                   and backend.identity in _holders(mgmt), timeout=60,
                   message="the console and the run process to hold four shards each")
    finally:
        run.stop()
        stop.set()
        backend.close()
        for thread in threads:
            thread.join(timeout=15)
    wait_until(lambda: _holders(mgmt) <= {""}, timeout=10, message="both to release their shards")


def test_reconcile_option_reaches_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """`gitops-tui --reconcile never` opens the console without loading the verbs; its backend runs no reconciler."""
    args = cli.build_parser(verbs=False).parse_args(["--reconcile", "never"])
    assert cli.opens_console(["--reconcile", "never"]) and args.reconcile == "never" and args.verb is None
    assert cli.build_parser(verbs=False).parse_args([]).reconcile == "auto"
    backend = LiveBackend(None, "management", "sandbox/management", reconcile=args.reconcile)
    returned = threading.Event()
    backend.run_reconciler(lambda: False)  # returns at once: no reconciler, no shard, nothing to wait for
    returned.set()
    assert returned.is_set() and backend.reconciler is None
    with pytest.raises(ValueError):
        LiveBackend(None, "management", "x", reconcile="sometimes")
