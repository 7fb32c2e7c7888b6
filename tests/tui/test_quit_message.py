"""Quitting the console on the local sandbox says, on the terminal, that the sandbox keeps running and how to stop it."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.cli.console_cmd import SANDBOX_KEEPS_RUNNING
from tests.ptyconsole import PtyProcess
from tests.waiting import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)


def test_quit_says_the_sandbox_keeps_running(demo_sandbox: Any) -> None:
    env = {**os.environ, "GITOPS_TUI_HOME": str(demo_sandbox.home)}
    console = PtyProcess([sys.executable, "-m", "gitops_tui", "--reconcile", "never"], env, size=(80, 24),
                         cwd=str(REPO_ROOT))
    try:
        wait_until(lambda: console.seen_at("dev"), timeout=60, message="the demo project on screen")
        console.send(b"q")
        wait_until(lambda: console.proc.poll() is not None, timeout=15, message="the console to quit")
        assert console.proc.returncode == 0
        wait_until(lambda: b"sandbox down" in bytes(console.output), timeout=5, message="the last words on the pty")
        text = bytes(console.output).decode(errors="replace").replace("\r", "").replace("\n", " ")
        assert " ".join(SANDBOX_KEEPS_RUNNING.split()) in " ".join(text.split())
    finally:
        console.end()
