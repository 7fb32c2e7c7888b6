"""The console over a real SSH login to localhost, in tmux: open, suspend a source with a reason, quit.

Killing it over SSH at every moment is tests/tui/test_console_exit.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import sources
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from tests.sshkit import NEEDS_SSH, Tmux, console_pids, running_sshd, ssh_console_command
from tests.tui.gitrepo import make_repo
from tests.waiting import wait_until

pytestmark = [*NEEDS_SSH, pytest.mark.timeout(180)]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A private sshd for one test."""
    with running_sshd(tmp_path / "ssh") as server:
        yield server


def _open_console(tmux: Tmux, sshd: dict[str, Any], box: Any, marker: str) -> None:
    """Start ``ssh -t`` to localhost in tmux running the console in 16 colours, and wait for it to paint."""
    tmux.run("new-session", "-d", "-s", "console", "-x", "80", "-y", "24", ssh_console_command(sshd, box.home, marker))
    tmux.run("set-option", "-t", "console", "remain-on-exit", "on")
    tmux.wait_for("lease:", "the console to open over SSH", timeout=60)
    tmux.wait_for("Projects", "the panes to be drawn")


def test_console_over_ssh_suspends_and_quits(sshd: dict[str, Any], demo_sandbox: Any, tmp_path: Path) -> None:
    """Over SSH in tmux: open, move to a source, suspend it with a reason, quit; nothing is left running."""
    box = demo_sandbox
    name = f"ssh-{uuid.uuid4().hex[:6]}"
    repo = make_repo(tmp_path / "repo", name, "1")
    sources.create_source(box.api_client(), "demo", name, str(repo), path="./apps", clusters=["dev"])
    marker = f"GITOPS_TUI_TEST_MARK={uuid.uuid4().hex}"
    tmux = Tmux(tmp_path / "tmux.sock")
    try:
        _open_console(tmux, sshd, box, marker)
        styled = tmux.run("capture-pane", "-e", "-p", "-t", "console").stdout
        assert "\x1b[" in styled and not any(code in styled for code in ("38;5;", "48;5;", "38;2;", "48;2;")), \
            "the console should draw with the 16 ANSI colours only"
        tmux.keys("2")
        tmux.wait_for(name, "the source in the Sources pane")
        tmux.keys("/")
        tmux.wait_for("filter: words", "the filter prompt")
        tmux.keys("-l", name)
        tmux.keys("Enter")
        tmux.wait_for(f" {name} /", "the source selected by the filter (shown in the detail line)")
        tmux.keys("s")
        tmux.wait_for("No write reaches the chosen clusters", "the suspend dialog")
        tmux.keys("-l", "ssh incident: hand fix")
        tmux.keys("Enter")
        path = management_path(names.KIND_FEDERATED_KUSTOMIZATION, "demo", name)

        def suspended() -> dict[str, Any] | None:
            fk = json_request(box.api_client(), "GET", path)
            return fk if fk["spec"]["template"]["spec"].get("suspend") else None

        fk = wait_until(suspended, timeout=30, message="the suspension on the management object")
        annotations = fk["metadata"]["annotations"]
        assert annotations[names.ANNOTATION_SUSPEND_REASON] == "ssh incident: hand fix"
        assert annotations[names.ANNOTATION_SUSPENDED_BY].endswith("@127.0.0.1")
        tmux.wait_for("ssh incident", "the suspension on screen")
        assert console_pids(marker), "the console process should be running before quitting"
        tmux.keys("q")
        wait_until(lambda: not console_pids(marker), timeout=30, message="the console to exit")
        log_text = (Path(box.home) / "logs" / "console.log").read_text()
        assert "console starting on sandbox/management" in log_text
        wait_until(lambda: tmux.run("display-message", "-p", "-t", "console", "#{pane_dead}").stdout.strip() == "1",
                   timeout=15, message="the SSH session to end")
    finally:
        tmux.run("kill-server", check=False)
        sources.delete_source(box.api_client(), "demo", name)
    assert not console_pids(marker)
