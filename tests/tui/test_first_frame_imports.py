"""The console's first frame comes before anything slow: no kubernetes client, GitPython or Helm before it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.ptyconsole import PtyProcess
from tests.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Packages that cost most of a second to import, or talk to clusters and git.
SLOW = ("kubernetes", "git", "helm_python")
#: Loaded on first use, not before the first frame: the dialogs (opened by a key) and the cron parser (a window's
#: schedule; a project without windows never loads it).
DEFERRED = ("croniter", "gitops_tui.tui.screens.dialogs", "gitops_tui.tui.screens.forms",
            "gitops_tui.tui.screens.project_form", "gitops_tui.tui.screens.text", "gitops_tui.tui.screens.pin_dialog",
            "gitops_tui.tui.screens.freeze_dialogs", "gitops_tui.tui.screens.control_dialogs")


def test_first_frame_modules_import_nothing_slow() -> None:
    """Everything the console needs up to its first frame imports no slow package, no deferred module."""
    code = (
        "import sys\n"
        "from gitops_tui import cli\n"
        "cli.build_parser(verbs=not cli.opens_console([]))\n"
        "import gitops_tui.cli.console_cmd, gitops_tui.tui.app, gitops_tui.backends.live, gitops_tui.tui.screens.main\n"
        "from gitops_tui.backends.live import LiveBackend\n"
        "from gitops_tui.tui.app import GitOpsApp\n"
        "GitOpsApp(LiveBackend(None, 'management', 'sandbox/management'), remember_theme=False)\n"
        f"print(sorted(m for m in {SLOW + DEFERRED!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True,
                         cwd=REPO_ROOT)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_console_paints_before_the_kubernetes_client_loads(demo_sandbox: Any) -> None:
    """On a real pty, the skeleton ('loading…' in the panes) is on screen before `kubernetes` is imported.

    ``python -X importtime`` writes each import to the same terminal, in order with the frames.
    """
    env = {**os.environ, "GITOPS_TUI_HOME": str(demo_sandbox.home)}
    console = PtyProcess([sys.executable, "-X", "importtime", "-m", "gitops_tui"], env, cwd=str(REPO_ROOT))
    try:
        wait_until(lambda: console.seen_at("✓dev"), timeout=60, message="the demo project on screen")
        # The first kubernetes module imported (the watches need the client, after the first frame).
        loaded = wait_until(lambda: re.search(rb"\| +kubernetes[.\r\n]", bytes(console.output)), timeout=60,
                            message="the kubernetes client to load")
        output = bytes(console.output)
        assert 0 <= output.find("loading…".encode()) < loaded.start(), "the skeleton should paint before kubernetes"
        assert 0 <= output.find(b"Projects") < loaded.start()
        assert not re.search(rb"\| +(git|helm_python)[.\r\n]", output[:loaded.start()])
    finally:
        console.proc.send_signal(signal.SIGTERM)
        try:
            console.proc.wait(timeout=15)
        finally:
            console.end()
