"""Starts, stops and reports on the sandbox daemon; writes the sandbox kubeconfig."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_tui.paths import private_dir
from gitops_tui.sandbox.layout import (
    DAEMON_MODULE,
    MANAGEMENT,
    OWNER_PID_ENV,
    Layout,
    SandboxError,
    all_answer,
    answers_within,
    children,
    cluster_answers,
    cluster_url,
    is_our_daemon,
    locked,
    pid_alive,
    reap,
    sandbox_processes,
    ssl_context,
)

__all__ = ["DAEMON_MODULE", "DEFAULT_CLUSTERS", "MANAGEMENT", "NO_DEMO_ENV", "OWNER_PID_ENV", "ClusterStatus",
           "Layout", "SandboxError", "SandboxStatus", "down", "kubeconfig", "pid_alive", "status", "up"]

log = logging.getLogger(__name__)

DEFAULT_CLUSTERS: tuple[str, ...] = ("dev", "staging", "prod")
NO_DEMO_ENV = "GITOPS_TUI_NO_DEMO"
LOG_ROTATE_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class ClusterStatus:
    """One cluster of the sandbox: its name, URL, whether it answers, and the process serving it."""

    name: str
    url: str
    up: bool
    pid: int | None = None
    process: str = ""
    restarts: int = 0
    last_pid: int | None = None
    last_exit: str = ""
    last_exit_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"name": self.name, "url": self.url, "up": self.up, "pid": self.pid, "process": self.process or None,
                "restarts": self.restarts, "last_pid": self.last_pid, "last_exit": self.last_exit or None,
                "last_exit_at": self.last_exit_at or None}

    def note(self) -> str:
        """One sentence about the process when it is not simply running since the start ('' otherwise)."""
        last = f"its process {self.last_pid} {self.last_exit} at {self.last_exit_at}"
        if self.process in ("restarting", "starting") and self.restarts:
            return f"restarting: {last}"
        if self.restarts:
            return f"restarted {'once' if self.restarts == 1 else f'{self.restarts} times'}: {last}"
        return ""


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
            "clusters": [c.to_dict() for c in self.clusters],
        }


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
        KubeconfigEntry(context=name, server=cluster_url(state["clusters"][name]["port"]),
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
    with os.fdopen(os.open(layout.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") as log_file:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", DAEMON_MODULE, "--dir", str(layout.dir)],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True, env=env, cwd=str(layout.dir),
        )
    children[proc.pid] = proc
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
        if state.get("pid") == proc.pid and all_answer(layout, state):
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
    with locked(layout):
        from gitops_tui.sandbox.serving.tls import ensure_tls

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
            if answers_within(layout, state, 5.0):
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
    private_dir(layout.clusters_dir)
    known = state.get("clusters") or {}
    state["clusters"] = {
        name: {"port": (known.get(name) or {}).get("port") or 0,
               "token": (known.get(name) or {}).get("token") or secrets.token_urlsafe(32)}
        for name in [MANAGEMENT, *names]
    }
    state["workload"] = names
    state["pid"] = None
    layout.save_state(state)
    _end_leftovers(layout)
    proc = _spawn(layout)
    return _wait_ready(layout, proc, timeout)


def _register_and_seed(layout: Layout, state: dict[str, Any], seed_demo: bool) -> None:
    from gitops_tui.sandbox import seed

    workload = [n for n in _ordered(state) if n != MANAGEMENT]
    access = [seed.ClusterAccess(n, cluster_url(state["clusters"][n]["port"]), state["clusters"][n]["token"])
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


def _end_leftovers(layout: Layout, timeout: float = 15.0) -> None:
    """End every process of this sandbox still alive (cluster processes of a daemon that was killed)."""
    leftovers = sandbox_processes(layout)
    if leftovers:
        log.info("ending leftover sandbox processes %s", ", ".join(map(str, leftovers)))
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        for pid in leftovers:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(pid_alive(pid) for pid in leftovers):
            time.sleep(0.05)
        leftovers = [pid for pid in leftovers if pid_alive(pid)]
        if not leftovers:
            return


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
    reap(pid)


def down(home: Path | None = None, timeout: float = 15.0) -> bool:
    """Stop the sandbox daemon; return True when one was running. State and stores are kept."""
    layout = Layout(home)
    if not layout.dir.exists():
        return False
    with locked(layout):
        state = layout.load_state()
        pid = state.get("pid")
        running = False
        if is_our_daemon(pid, layout):
            running = True
            _terminate(pid, timeout)
        _end_leftovers(layout)  # none after a clean stop; the cluster processes of a daemon that had to be killed
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
    context = ssl_context(layout) if running else None
    processes = layout.load_processes() if running else {}
    if processes.get("pid") != pid:
        processes = {}
    for name in _ordered(state):
        c = state["clusters"][name]
        url = cluster_url(c["port"]) if c.get("port") else ""
        alive = bool(running and url and context and cluster_answers(url, c["token"], context))
        proc = (processes.get("clusters") or {}).get(name) or {}
        result.clusters.append(ClusterStatus(
            name=name, url=url, up=alive, pid=proc.get("pid"), process=proc.get("state") or "",
            restarts=int(proc.get("restarts") or 0), last_pid=proc.get("last_pid"), last_exit=proc.get("last_exit") or "",
            last_exit_at=proc.get("last_exit_at") or ""))
    return result


def kubeconfig(home: Path | None = None) -> Path:
    """Return the path of the sandbox kubeconfig."""
    return Layout(home).kubeconfig
