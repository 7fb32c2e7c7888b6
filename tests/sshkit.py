"""Test kit for the console over SSH: a private sshd, tmux sessions, the console's processes by marker."""

from __future__ import annotations

import contextlib
import getpass
import os
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.waiting import wait_until

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
#: Marks for test modules that need sshd, ssh and tmux.
NEEDS_SSH = [
    pytest.mark.ssh,
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


@contextlib.contextmanager
def running_sshd(folder: Path) -> Iterator[dict[str, Any]]:
    """A private sshd on a loopback port: temporary host key, one authorized key for this user."""
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
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
        "MaxStartups 64", "MaxSessions 64",
    ]) + "\n")
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
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

    def screen(self, session: str = "console") -> str:
        """The visible pane text of a session."""
        return self.run("capture-pane", "-p", "-t", session, check=False).stdout

    def wait_for(self, text: str, message: str, timeout: float = 30, session: str = "console") -> None:
        """Wait (bounded) until the screen shows ``text``; the failure shows the screen."""
        try:
            wait_until(lambda: text in self.screen(session), timeout=timeout, message=message)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; screen:\n{self.screen(session)}") from None

    def keys(self, *keys: str, session: str = "console") -> None:
        """Send keys to a session."""
        self.run("send-keys", "-t", session, *keys)


def console_pids(marker: str) -> list[int]:
    """PIDs of processes whose environment carries the marker (the console and its children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def console_command(home: Path, marker: str) -> str:
    """The shell command running the console in 16 colours with ``marker`` in its environment."""
    return (f"cd {shlex.quote(str(REPO_ROOT))} && exec env {marker} GITOPS_TUI_HOME={shlex.quote(str(home))} "
            f"TEXTUAL_COLOR_SYSTEM=standard {shlex.quote(sys.executable)} -m gitops_tui --theme gitops-ansi16")


def ssh_console_command(sshd: dict[str, Any], home: Path, marker: str) -> str:
    """The shell command of ``ssh -t`` to localhost running the console (see console_command)."""
    remote = console_command(home, marker)
    ssh = ["ssh", "-t", "-p", str(sshd["port"]), "-i", str(sshd["key"]), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
           f"{sshd['user']}@127.0.0.1", remote]
    return shlex.join(ssh)
