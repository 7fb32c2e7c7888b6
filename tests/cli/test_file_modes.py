"""Everything under the data directory is owner-only (issue 8 item 6), checked on the tree a real run leaves.

The processes are started with a permissive umask (022): they must restrict themselves. The tree is walked
while the sandbox runs, so the SQLite -wal and -shm files are there too.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import stop_sandbox
from tests.waiting import wait_until

READ_ONLY_CONSOLE = (
    "import logging\n"
    "from gitops_tui import themes\n"
    "from gitops_tui.cli.console_cmd import setup_logging\n"
    "setup_logging()\n"
    "logging.getLogger('gitops_tui.test').warning('the console writes its log')\n"
    "themes.remember_theme('gitops-dark')\n"
)


def permissive() -> None:
    """preexec: start the child with umask 022, as a user's shell would."""
    os.umask(0o022)


def gitops(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """Run the CLI in a fresh process with ``home`` as its data directory."""
    env = {**os.environ, "GITOPS_TUI_HOME": str(home)}
    env.pop("GITOPS_TUI_ALLOW_LOCAL_REPOS", None)  # the default: the demo folder only
    return subprocess.run([sys.executable, "-m", "gitops_tui", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=permissive, check=False)


def demo_ready(home: Path) -> bool:
    """Whether the demo source reports Ready True with an applied revision."""
    proc = subprocess.run(["kubectl", "--kubeconfig", str(home / "sandbox" / "kubeconfig"), "--context", "management",
                           "-n", "demo", "get", "federatedkustomization", "podinfo", "-o", "json"],
                          capture_output=True, text=True, timeout=30, check=False)
    if proc.returncode != 0:
        return False
    status = json.loads(proc.stdout).get("status") or {}
    ready = {c["type"]: c for c in status.get("conditions") or []}.get("Ready", {})
    return ready.get("status") == "True" and bool(status.get("lastAppliedRevision"))


@pytest.fixture
def reconciled_home(tmp_path: Path) -> Iterator[Path]:
    """A data directory after `sandbox up` and a `run` that reconciled the demo (Helm release included)."""
    home = tmp_path / "home"
    up = gitops(home, "sandbox", "up")
    assert up.returncode == 0, up.stderr
    env = {**os.environ, "GITOPS_TUI_HOME": str(home)}
    env.pop("GITOPS_TUI_ALLOW_LOCAL_REPOS", None)
    run = subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--lease-duration", "4"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=permissive)
    try:
        wait_until(lambda: demo_ready(home), timeout=90, message="the demo source to be reconciled")
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=30)
    console = subprocess.run([sys.executable, "-c", READ_ONLY_CONSOLE], env=env, capture_output=True, text=True,
                             timeout=60, preexec_fn=permissive, check=False)
    assert console.returncode == 0, console.stderr
    try:
        yield home
    finally:
        stop_sandbox(home)


def test_every_file_and_folder_under_the_data_directory_is_owner_only(reconciled_home: Path) -> None:
    home = reconciled_home
    seen: dict[str, int] = {}
    loose = []
    for root, dirs, files in os.walk(home):
        for name in [*dirs, *files]:
            path = Path(root) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            seen[path.relative_to(home).as_posix()] = info.st_mode
            if info.st_mode & 0o077:
                loose.append(f"{path.relative_to(home)} {stat.filemode(info.st_mode)}")
    assert loose == [], "readable by others:\n" + "\n".join(loose)
    names = set(seen)
    for expected in ("sandbox/clusters/management.db", "sandbox/clusters/management.db-wal",
                     "sandbox/clusters/management.db-shm", "sandbox/daemon.log", "sandbox/kubeconfig", "sandbox/processes.json",
                     "demo/podinfo.git", "reconciler/git", "logs/console.log", "console.yaml"):
        assert expected in names, f"{expected} was not written: the walk proves nothing about it"
    assert any(n.startswith("reconciler/git/") and "/trees/" in n for n in names), "a checked-out revision"
    assert any(n.startswith("reconciler/git/") and n.endswith("/git/HEAD") for n in names), "a git cache"
    assert stat.S_IMODE(seen["sandbox/clusters"]) == 0o700
    assert stat.S_IMODE(seen["sandbox/clusters/management.db"]) == 0o600
