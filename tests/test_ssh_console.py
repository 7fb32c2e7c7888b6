"""The console over a real SSH login to localhost, in tmux: open, suspend a source with a reason, quit."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitops_tui.actions import sources
from gitops_tui.api import names
from gitops_tui.kube.client import json_request
from gitops_tui.reconciler.context import management_path
from tests.tui.gitrepo import make_repo
from tests.waiting import wait_until

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
pytestmark = [
    pytest.mark.ssh,
    pytest.mark.timeout(180),
    pytest.mark.skipif(SSHD is None, reason="openssh-server (sshd) is not installed"),
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(shutil.which("ssh") is None, reason="openssh-client (ssh) is not installed"),
]
REPO_ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(4).startswith(b"SSH-")
    except OSError:
        return False


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A private sshd on a loopback port: temporary host key, one authorized key for this user."""
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    folder = tmp_path / "ssh"
    folder.mkdir(mode=0o700)
    for key in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / key)], check=True,
                       timeout=30)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    (folder / "authorized_keys").chmod(0o600)
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {folder / 'host_key'}",
        f"AuthorizedKeysFile {folder / 'authorized_keys'}", f"PidFile {folder / 'sshd.pid'}",
        "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes", "StrictModes no", "UsePAM no", "PrintMotd no", "PrintLastLog no",
    ]) + "\n")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                            stderr=open(folder / "sshd.log", "wb"))
    try:
        wait_until(lambda: _answers(port) or proc.poll() is not None, timeout=15, message="sshd to listen")
        if proc.poll() is not None:
            pytest.fail(f"sshd did not start: {(folder / 'sshd.log').read_text()[-500:]}")
        yield {"port": port, "key": folder / "client_key", "user": getpass.getuser()}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Tmux:
    """One tmux server on a private socket, driven with send-keys and read with capture-pane."""

    def __init__(self, socket_path: Path) -> None:
        self.base = ["tmux", "-S", str(socket_path)]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run a tmux command."""
        return subprocess.run([*self.base, *args], capture_output=True, text=True, timeout=15, check=check)

    def screen(self) -> str:
        """The visible pane text."""
        return self.run("capture-pane", "-p", "-t", "console", check=False).stdout

    def wait_for(self, text: str, message: str, timeout: float = 30) -> None:
        """Wait (bounded) until the screen shows ``text``; the failure shows the screen."""
        try:
            wait_until(lambda: text in self.screen(), timeout=timeout, message=message)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; screen:\n{self.screen()}") from None

    def keys(self, *keys: str) -> None:
        """Send keys to the console."""
        self.run("send-keys", "-t", "console", *keys)


def _console_pids(marker: str) -> list[int]:
    """PIDs of processes whose environment carries the test's marker (the console and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _open_console(tmux: Tmux, sshd: dict[str, Any], box: Any, marker: str) -> None:
    """Start ``ssh -t`` to localhost in tmux running the console in 16 colours, and wait for it to paint."""
    remote = (f"cd {shlex.quote(str(REPO_ROOT))} && exec env {marker} GITOPS_TUI_HOME={shlex.quote(str(box.home))} "
              f"TEXTUAL_COLOR_SYSTEM=standard {shlex.quote(sys.executable)} -m gitops_tui --theme gitops-ansi16")
    ssh = ["ssh", "-t", "-p", str(sshd["port"]), "-i", str(sshd["key"]), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
           f"{sshd['user']}@127.0.0.1", remote]
    tmux.run("new-session", "-d", "-s", "console", "-x", "80", "-y", "24", shlex.join(ssh))
    tmux.run("set-option", "-t", "console", "remain-on-exit", "on")
    tmux.wait_for("lease:", "the console to open over SSH", timeout=60)
    tmux.wait_for("Projects", "the panes to be drawn")


def test_console_exits_when_the_terminal_goes_away(sshd: dict[str, Any], demo_sandbox: Any,
                                                   tmp_path: Path) -> None:
    """Killing the terminal (tmux, hence the SSH session) ends the console: no process is left behind."""
    marker = f"GITOPS_TUI_TEST_MARK={uuid.uuid4().hex}"
    tmux = Tmux(tmp_path / "tmux.sock")
    try:
        _open_console(tmux, sshd, demo_sandbox, marker)
        assert _console_pids(marker)
    finally:
        tmux.run("kill-server", check=False)
    wait_until(lambda: not _console_pids(marker), timeout=30, message="the console to exit after the hangup")


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
        tmux.wait_for("reason (required)", "the suspend dialog")
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
        assert _console_pids(marker), "the console process should be running before quitting"
        tmux.keys("q")
        wait_until(lambda: not _console_pids(marker), timeout=30, message="the console to exit")
        log_text = (Path(box.home) / "logs" / "console.log").read_text()
        assert "console starting on sandbox/management" in log_text
        wait_until(lambda: tmux.run("display-message", "-p", "-t", "console", "#{pane_dead}").stdout.strip() == "1",
                   timeout=15, message="the SSH session to end")
    finally:
        tmux.run("kill-server", check=False)
        sources.delete_source(box.api_client(), "demo", name)
    assert not _console_pids(marker)
