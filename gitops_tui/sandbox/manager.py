"""Starts, stops and reports on the sandbox daemon; writes the sandbox kubeconfig."""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import secrets
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_tui import paths

log = logging.getLogger(__name__)

MANAGEMENT = "management"
DEFAULT_CLUSTERS: tuple[str, ...] = ("dev", "staging", "prod")
DAEMON_MODULE = "gitops_tui.sandbox.daemon"
#: Set to a pid: the daemon exits when that process is gone (the test suite uses it).
OWNER_PID_ENV = "GITOPS_TUI_SANDBOX_OWNER_PID"
NO_DEMO_ENV = "GITOPS_TUI_NO_DEMO"
LOG_ROTATE_BYTES = 5 * 1024 * 1024


class SandboxError(Exception):
    """The sandbox could not be started, stopped or read; the message is safe to show."""


@dataclass(frozen=True)
class ClusterStatus:
    """One cluster of the sandbox: its name, URL and whether it answers."""

    name: str
    url: str
    up: bool


@dataclass
class SandboxStatus:
    """The state of the sandbox daemon and its clusters."""

    home: Path
    running: bool
    pid: int | None
    kubeconfig: Path
    clusters: list[ClusterStatus] = field(default_factory=list)
    already_running: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready view (no tokens)."""
        return {
            "home": str(self.home),
            "running": self.running,
            "pid": self.pid,
            "kubeconfig": str(self.kubeconfig),
            "clusters": [{"name": c.name, "url": c.url, "up": c.up} for c in self.clusters],
        }


class Layout:
    """The files of one sandbox under a data directory."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = (Path(home) if home is not None else paths.data_dir()).expanduser().absolute()
        self.dir = self.home / "sandbox"
        self.kubeconfig = self.dir / "kubeconfig"
        self.tls_dir = self.dir / "tls"
        self.clusters_dir = self.dir / "clusters"
        self.state = self.dir / "state.json"
        self.log = self.dir / "daemon.log"
        self.lock = self.dir / "lock"

    def db_path(self, cluster: str) -> Path:
        """Return the SQLite file of a cluster."""
        return self.clusters_dir / f"{cluster}.db"

    def load_state(self) -> dict[str, Any]:
        """Return state.json's content (empty when missing or unreadable)."""
        try:
            data = json.loads(self.state.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_state(self, state: dict[str, Any]) -> None:
        """Write state.json atomically with mode 0600."""
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state.with_name(f".state.json.tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(state, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.state)


# -- process checks --------------------------------------------------------------------------

_children: dict[int, subprocess.Popen] = {}


def _reap(pid: int) -> None:
    proc = _children.get(pid)
    if proc is not None and proc.poll() is not None:
        _children.pop(pid, None)


def pid_alive(pid: int) -> bool:
    """True when `pid` is a running (not zombie) process."""
    _reap(pid)
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


def is_our_daemon(pid: int | None, layout: Layout) -> bool:
    """True when `pid` is alive and is the sandbox daemon of this data directory."""
    if not pid or not pid_alive(pid):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    args = [a.decode(errors="replace") for a in argv]
    return DAEMON_MODULE in args and str(layout.dir) in args


@contextmanager
def _locked(layout: Layout, timeout: float = 120.0) -> Iterator[None]:
    """Hold the sandbox lock file so two commands never start or stop the daemon at once."""
    layout.dir.mkdir(parents=True, exist_ok=True)
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


def _ssl_context(layout: Layout) -> ssl.SSLContext:
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


def _url(port: int) -> str:
    return f"https://127.0.0.1:{port}"


def _all_answer(layout: Layout, state: dict[str, Any]) -> bool:
    clusters = state.get("clusters") or {}
    if not clusters:
        return False
    context = _ssl_context(layout)
    return all(
        c.get("port") and cluster_answers(_url(c["port"]), c["token"], context) for c in clusters.values()
    )


def _answers_within(layout: Layout, state: dict[str, Any], timeout: float) -> bool:
    """True when every cluster answers within `timeout` seconds (a busy daemon gets a chance)."""
    deadline = time.monotonic() + timeout
    while True:
        if _all_answer(layout, state):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


# -- commands --------------------------------------------------------------------------------


def _ordered(state: dict[str, Any]) -> list[str]:
    """Cluster names in order: management first, then the workload clusters as given."""
    clusters = state.get("clusters") or {}
    workload = [n for n in state.get("workload") or [] if n in clusters]
    rest = sorted(n for n in clusters if n != MANAGEMENT and n not in workload)
    return ([MANAGEMENT] if MANAGEMENT in clusters else []) + workload + rest


def _cluster_names(requested: Sequence[str] | None, state: dict[str, Any]) -> list[str]:
    names = list(requested) if requested else list(state.get("workload") or DEFAULT_CLUSTERS)
    for name in names:
        if not name or name == MANAGEMENT or not name.replace("-", "").isalnum() or name != name.lower():
            raise SandboxError(f"{name!r} is not a valid workload cluster name (lowercase letters, digits, '-')")
    if len(set(names)) != len(names):
        raise SandboxError("a workload cluster is named twice")
    return names


def _write_kubeconfig(layout: Layout, state: dict[str, Any]) -> None:
    from gitops_tui.sandbox.kubeconfig import KubeconfigEntry, write_kubeconfig

    entries = [
        KubeconfigEntry(context=name, server=_url(state["clusters"][name]["port"]),
                        token=state["clusters"][name]["token"])
        for name in _ordered(state)
    ]
    write_kubeconfig(layout.kubeconfig, entries, layout.tls_dir / "ca.crt", MANAGEMENT)


def _spawn(layout: Layout) -> subprocess.Popen:
    env = dict(os.environ)
    env["GITOPS_TUI_HOME"] = str(layout.home)
    try:
        if layout.log.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(layout.log, layout.log.with_name(layout.log.name + ".1"))
    except OSError:
        pass
    with open(layout.log, "ab") as log_file:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", DAEMON_MODULE, "--dir", str(layout.dir)],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, env=env, cwd=str(layout.dir),
        )
    _children[proc.pid] = proc
    return proc


def _log_tail(layout: Layout, lines: int = 5) -> str:
    try:
        text = layout.log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _wait_ready(layout: Layout, proc: subprocess.Popen, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SandboxError(f"the sandbox daemon exited at start (code {proc.returncode}); "
                               f"see {layout.log}: {_log_tail(layout)}")
        state = layout.load_state()
        if state.get("pid") == proc.pid and _all_answer(layout, state):
            return state
        time.sleep(0.1)
    _terminate(proc.pid, 5.0)
    raise SandboxError(f"the sandbox did not become ready within {timeout:.0f}s; see {layout.log}")


def up(
    clusters: Sequence[str] | None = None,
    seed_demo: bool = True,
    home: Path | None = None,
    timeout: float = 60.0,
) -> SandboxStatus:
    """Start the sandbox (or report the running one), write the kubeconfig, register and seed."""
    layout = Layout(home)
    if os.environ.get(NO_DEMO_ENV, "") not in ("", "0"):
        seed_demo = False
    with _locked(layout):
        from gitops_tui.sandbox.tls import ensure_tls

        ensure_tls(layout.tls_dir)
        state = layout.load_state()
        pid = state.get("pid")
        already = False
        if is_our_daemon(pid, layout):
            names = _cluster_names(clusters, state)
            running = [n for n in _ordered(state) if n != MANAGEMENT]
            if clusters and sorted(names) != sorted(running):
                raise SandboxError(f"the sandbox is running with clusters {','.join(running)}; "
                                   "run 'gitops-tui sandbox down' first to change them")
            if _answers_within(layout, state, 5.0):
                already = True
            else:
                log.warning("sandbox daemon %s does not answer; restarting it", pid)
                _terminate(pid, 10.0)
        elif pid:
            log.info("sandbox daemon %s is gone (stale pid); starting a new one", pid)
        if not already:
            state = _start(layout, state, _cluster_names(clusters, state), timeout)
        _write_kubeconfig(layout, state)
        _register_and_seed(layout, state, seed_demo)
    result = status(home=layout.home)
    result.already_running = already
    return result


def _start(layout: Layout, state: dict[str, Any], names: list[str], timeout: float) -> dict[str, Any]:
    layout.clusters_dir.mkdir(parents=True, exist_ok=True)
    known = state.get("clusters") or {}
    state["clusters"] = {
        name: {"port": (known.get(name) or {}).get("port") or 0,
               "token": (known.get(name) or {}).get("token") or secrets.token_urlsafe(32)}
        for name in [MANAGEMENT, *names]
    }
    state["workload"] = names
    state["pid"] = None
    layout.save_state(state)
    proc = _spawn(layout)
    return _wait_ready(layout, proc, timeout)


def _register_and_seed(layout: Layout, state: dict[str, Any], seed_demo: bool) -> None:
    from gitops_tui.sandbox import seed

    workload = [n for n in _ordered(state) if n != MANAGEMENT]
    access = [seed.ClusterAccess(n, _url(state["clusters"][n]["port"]), state["clusters"][n]["token"])
              for n in workload]
    ca = layout.tls_dir / "ca.crt"
    try:
        seed.register_clusters(layout.kubeconfig, access, ca)
        if state.get("demo") is None:
            if seed_demo:
                seed.seed_demo(layout.kubeconfig, layout.home, workload)
            state["demo"] = "seeded" if seed_demo else "skipped"
    except Exception as exc:  # noqa: BLE001 - reported as one sentence; details in the log
        log.exception("sandbox seeding failed")
        raise SandboxError(f"the sandbox is up but registering clusters or seeding the demo failed: "
                           f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}") from None
    fresh = layout.load_state()
    fresh["demo"] = state.get("demo")
    layout.save_state(fresh)


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM `pid`, wait (bounded), then SIGKILL; reap it when it is our child."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.05)
        if not pid_alive(pid):
            break
        log.warning("sandbox daemon %s ignored SIGTERM; killing it", pid)
    _reap(pid)


def down(home: Path | None = None, timeout: float = 15.0) -> bool:
    """Stop the sandbox daemon; return True when one was running. State and stores are kept."""
    layout = Layout(home)
    if not layout.dir.exists():
        return False
    with _locked(layout):
        state = layout.load_state()
        pid = state.get("pid")
        running = is_our_daemon(pid, layout)
        if running:
            _terminate(pid, timeout)
        if pid:
            state = layout.load_state()
            state["pid"] = None
            layout.save_state(state)
        return running


def status(home: Path | None = None) -> SandboxStatus:
    """Return whether the daemon runs and, per cluster, its URL and whether it answers."""
    layout = Layout(home)
    state = layout.load_state()
    pid = state.get("pid")
    running = is_our_daemon(pid, layout)
    result = SandboxStatus(home=layout.home, running=running, pid=pid if running else None,
                           kubeconfig=layout.kubeconfig)
    context = _ssl_context(layout) if running else None
    for name in _ordered(state):
        c = state["clusters"][name]
        url = _url(c["port"]) if c.get("port") else ""
        alive = bool(running and url and context and cluster_answers(url, c["token"], context))
        result.clusters.append(ClusterStatus(name=name, url=url, up=alive))
    return result


def kubeconfig(home: Path | None = None) -> Path:
    """Return the path of the sandbox kubeconfig."""
    return Layout(home).kubeconfig
