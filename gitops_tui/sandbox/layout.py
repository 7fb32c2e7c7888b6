"""The files of one sandbox on disk and whether its daemon and clusters are alive."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeGuard

from gitops_tui import paths

MANAGEMENT = "management"
DAEMON_MODULE = "gitops_tui.sandbox.daemon"
#: Set to a pid: the daemon exits when that process is gone (the test suite uses it).
OWNER_PID_ENV = "GITOPS_TUI_SANDBOX_OWNER_PID"


class SandboxError(Exception):
    """The sandbox could not be started, stopped or read; the message is safe to show."""


class Layout:
    """The files of one sandbox under a data directory."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (Path(home) if home is not None else paths.data_dir()).expanduser().absolute()
        self.dir = self.home / "sandbox"
        self.kubeconfig = self.dir / "kubeconfig"
        self.tls_dir = self.dir / "tls"
        self.clusters_dir = self.dir / "clusters"
        self.state = self.dir / "state.json"
        #: Written by the daemon only: its cluster processes (pid, restarts, last exit), read by `sandbox status`.
        self.processes = self.dir / "processes.json"
        self.log = self.dir / "daemon.log"
        self.lock = self.dir / "lock"

    def db_path(self, cluster: str) -> Path:
        """Return the SQLite file of a cluster."""
        return self.clusters_dir / f"{cluster}.db"

    def load_state(self) -> dict[str, Any]:
        """Return state.json's content (empty when missing or unreadable)."""
        return _load_json(self.state)

    def save_state(self, state: dict[str, Any]) -> None:
        """Write state.json atomically with mode 0600."""
        self.dir.mkdir(parents=True, exist_ok=True)
        _save_json(self.state, state)

    def load_processes(self) -> dict[str, Any]:
        """Return processes.json's content (empty when missing or unreadable)."""
        return _load_json(self.processes)

    def save_processes(self, processes: dict[str, Any]) -> None:
        """Write processes.json atomically with mode 0600 (the daemon only)."""
        _save_json(self.processes, processes)


def _load_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# -- process checks --------------------------------------------------------------------------

#: The daemons this process started, by pid, so they can be reaped once they exit.
children: dict[int, subprocess.Popen] = {}


def reap(pid: int) -> None:
    """Collect the exit status of ``pid`` when it is our exited child (so it is no zombie)."""
    proc = children.get(pid)
    if proc is not None and proc.poll() is not None:
        children.pop(pid, None)


def pid_alive(pid: int) -> bool:
    """True when `pid` is a running (not zombie) process."""
    reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _runs_sandbox(pid: int, layout: Layout) -> bool:
    """True when process ``pid`` runs the daemon module for this data directory (the daemon or a cluster of it)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in argv]
    return DAEMON_MODULE in args and str(layout.dir) in args


def is_our_daemon(pid: int | None, layout: Layout) -> TypeGuard[int]:
    """True when `pid` is alive and is the sandbox daemon of this data directory."""
    return bool(pid) and pid_alive(pid) and _runs_sandbox(pid, layout)  # type: ignore[arg-type]


def sandbox_processes(layout: Layout) -> list[int]:
    """Every live process of this sandbox: its daemon and the cluster processes it forked (same command line)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid() and _runs_sandbox(int(entry.name), layout):
            if pid_alive(int(entry.name)):
                found.append(int(entry.name))
    return sorted(found)


@contextmanager
def locked(layout: Layout, timeout: float = 120.0) -> Iterator[None]:
    """Hold the sandbox lock file so two commands never start or stop the daemon at once."""
    paths.private_dir(layout.dir)
    os.chmod(layout.dir, 0o700)
    handle = open(layout.lock, "a+")  # noqa: SIM115 - closed in finally
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                    raise SandboxError("another sandbox command holds the lock; try again") from None
                time.sleep(0.1)
        yield
    finally:
        handle.close()


# -- health ----------------------------------------------------------------------------------


def ssl_context(layout: Layout) -> ssl.SSLContext:
    """A TLS context trusting the sandbox CA."""
    return ssl.create_default_context(cafile=str(layout.tls_dir / "ca.crt"))


def cluster_answers(url: str, token: str, context: ssl.SSLContext, timeout: float = 2.0) -> bool:
    """True when the cluster at `url` answers /readyz (or /version) with 200."""
    for path in ("/readyz", "/version"):
        request = urllib.request.Request(url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=context) as resp:  # noqa: S310
                if resp.status == 200:
                    return True
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                return False
        except (OSError, ValueError):
            return False
    return False


def cluster_url(port: int) -> str:
    """The URL of the sandbox cluster on ``port``."""
    return f"https://127.0.0.1:{port}"


def all_answer(layout: Layout, state: dict[str, Any]) -> bool:
    """True when every cluster named in ``state`` answers now."""
    clusters = state.get("clusters") or {}
    if not clusters:
        return False
    context = ssl_context(layout)
    return all(
        c.get("port") and cluster_answers(cluster_url(c["port"]), c["token"], context) for c in clusters.values()
    )


def answers_within(layout: Layout, state: dict[str, Any], timeout: float) -> bool:
    """True when every cluster answers within `timeout` seconds (a busy daemon gets a chance)."""
    deadline = time.monotonic() + timeout
    while True:
        if all_answer(layout, state):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
