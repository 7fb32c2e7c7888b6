"""No git or ssh child outlives its reconciler, and the ssh identity of a killed fetch is removed at the next start.

Issue 8 item 6: `kill -9` of `gitops-tui run` while it fetches from an ssh server that never answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import resources
from gitops_tui.actions import sources as actions
from gitops_tui.api import names
from gitops_tui.kube.client import api_client_from_kubeconfig, json_request
from gitops_tui.reconciler.context import management_path
from tests.waiting import wait_until


class HangingServer:
    """Accepts TCP connections and never says a word (an ssh server that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        """Stop accepting (waking the blocked accept first, so no later socket inherits it) and drop every connection."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=5)
        self.sock.close()
        for conn in self.held:
            conn.close()


def processes_for(port: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process whose arguments name ``port`` (git and ssh of the hanging fetch)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = " ".join(a.decode(errors="replace") for a in argv if a)
        if f"127.0.0.1:{port}" in text or (argv and argv[0].endswith(b"ssh") and str(port).encode() in argv):
            found.append((int(entry.name), text))
    return found


def start_run(sandbox: Any, log: Path) -> subprocess.Popen:
    """`gitops-tui run` on the session sandbox."""
    with log.open("a") as out:
        return subprocess.Popen([sys.executable, "-m", "gitops_tui", "run", "--lease-duration", "3"],
                                env=sandbox.env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def hanging() -> Iterator[HangingServer]:
    """A hanging ssh server for one test."""
    server = HangingServer()
    try:
        yield server
    finally:
        server.close()


def test_kill_9_during_a_fetch_leaves_no_child_and_no_identity(sandbox: Any, hanging: HangingServer,
                                                               tmp_path: Path) -> None:
    """Two real `gitops-tui run` processes: the first is killed mid-fetch, the second cleans up at its start."""
    api = api_client_from_kubeconfig(sandbox.kubeconfig, "management")
    project = f"kill-{uuid.uuid4().hex[:6]}"
    key = tmp_path / "id"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    resources.create_project(api, project, ["dev"])
    resources.create_secret(api, project, "ssh", resources.secret_data(ssh_key=key.read_bytes(),
                                                                       known_hosts=b"127.0.0.1 ssh-ed25519 AAAA\n"))
    actions.create_source(api, project, "hangs", f"ssh://git@127.0.0.1:{hanging.port}/repo.git", secret="ssh",
                          interval="1h")
    identities = sandbox.home / "reconciler" / "git" / ".identities"
    log = tmp_path / "run.log"
    first = start_run(sandbox, log)
    second: subprocess.Popen | None = None
    try:
        wait_until(lambda: any(" ssh " in f" {cmd} " or cmd.startswith("ssh ") for _, cmd in processes_for(hanging.port)),
                   timeout=30, message="ssh to hang on the server")
        left = sorted(p.name for p in identities.glob(f"ssh-{first.pid}-*"))
        assert left and (identities / left[0] / "identity").is_file(), "the identity is written under the data dir"
        assert (identities / left[0] / "identity").stat().st_mode & 0o077 == 0

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        wait_until(lambda: processes_for(hanging.port) == [], timeout=10,
                   message=f"git and ssh to die with their reconciler: {processes_for(hanging.port)}")
        assert (identities / left[0]).exists(), "a killed process cannot clean up after itself"

        second = start_run(sandbox, log)
        wait_until(lambda: not (identities / left[0]).exists(), timeout=20,
                   message="the next start to remove the killed fetch's identity")
    finally:
        for kind in (names.KIND_FEDERATED_KUSTOMIZATION, names.KIND_FEDERATED_GIT_REPOSITORY):
            for method, body in (("PATCH", {"metadata": {"finalizers": None}}), ("DELETE", None)):
                try:
                    json_request(api, method, management_path(kind, project, "hangs"), body,
                                 content_type="application/merge-patch+json")
                except Exception:  # noqa: BLE001 - cleanup
                    pass
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        hanging.close()
        wait_until(lambda: processes_for(hanging.port) == [], timeout=15, message="no git or ssh left at the end")
        resources.delete_project(api, project)
    assert "Traceback" not in log.read_text()
    assert os.path.isdir(identities)
