"""The sandbox daemon: a supervisor that serves each cluster in a process of its own and restarts one that dies.

It imports the server and the controllers once, then forks one process per cluster (cluster_process.py):
the clusters run really in parallel, each with its own interpreter lock. It starts no thread itself, so
forking stays safe for as long as it lives. It reports each cluster's process in processes.json.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import logging
import os
import selectors
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from gitops_tui.paths import restrict_umask
from gitops_tui.sandbox.layout import MANAGEMENT, OWNER_PID_ENV, Layout, pid_alive

log = logging.getLogger("gitops_tui.sandbox.daemon")

WATCHDOG_INTERVAL = 1.0
#: Seconds every cluster has to start (its store opened, its server listening, its controllers started).
START_TIMEOUT = 60.0
#: Seconds the cluster processes have to stop after SIGTERM before they are killed.
STOP_WAIT = 12.0
#: Restart delays of a cluster process that died: doubled each time up to the maximum; back to the first
#: once it has run for RESET_AFTER seconds.
FIRST_BACKOFF, MAX_BACKOFF, RESET_AFTER = 0.5, 30.0, 60.0


def _utc() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_exit(status: int, error: str = "") -> str:
    """How a process ended, from its wait status: ``was killed by SIGKILL``, ``exited with code 3 (port 8 is taken)``."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        text = f"was killed by {name}"
    else:
        text = f"exited with code {os.waitstatus_to_exitcode(status)}"
    return f"{text} ({error})" if error else text


@dataclass
class Cluster:
    """One cluster's process as the supervisor sees it."""

    name: str
    token: str
    port: int
    pid: int | None = None
    state: str = "starting"  # starting, running, restarting, stopped
    report_fd: int | None = None
    report: bytes = b""
    error: str = ""
    since: float = 0.0
    started_at: str = ""
    restarts: int = 0
    last_pid: int | None = None
    last_exit: str = ""
    last_exit_at: str = ""
    next_start: float | None = None
    backoff: float = FIRST_BACKOFF
    first_start: bool = True

    def to_dict(self) -> dict[str, Any]:
        """What processes.json says about it."""
        return {"pid": self.pid, "state": self.state, "port": self.port, "started_at": self.started_at,
                "restarts": self.restarts, "last_pid": self.last_pid, "last_exit": self.last_exit or None,
                "last_exit_at": self.last_exit_at or None}


@dataclass
class Supervisor:
    """Forks, watches and stops the cluster processes until asked to stop."""

    layout: Layout
    clusters: dict[str, Cluster] = field(default_factory=dict)
    stopping: bool = False
    tls: Any = None

    def run(self) -> int:
        """Serve until SIGTERM / SIGINT (or the owner process or data directory is gone)."""
        from gitops_tui.sandbox.serving.tls import ensure_tls

        state = self.layout.load_state()
        names = state.get("clusters") or {}
        if MANAGEMENT not in names:
            log.error("state.json names no clusters; start the sandbox with 'gitops-tui sandbox up'")
            return 2
        self.tls = ensure_tls(self.layout.tls_dir)
        self.layout.clusters_dir.mkdir(parents=True, exist_ok=True)
        from gitops_tui.sandbox import cluster_process

        cluster_process.preload()  # once, before any fork
        gc.freeze()  # what is imported now is shared by every cluster process, never scanned by their collectors
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        signal.set_wakeup_fd(self._wake_w)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the loop through the wakeup fd
        try:
            for name, info in names.items():
                self.clusters[name] = Cluster(name, info["token"], int(info.get("port") or 0))
                self._fork(self.clusters[name])
            if not self._wait_started():
                return 1
            for name, cluster in self.clusters.items():
                state["clusters"][name]["port"] = cluster.port
            state["pid"] = os.getpid()
            self.layout.save_state(state)
            self._save()
            log.info("sandbox daemon %s ready with clusters %s (pids %s)", os.getpid(), ", ".join(self.clusters),
                     ", ".join(str(c.pid) for c in self.clusters.values()))
            self._loop()
        finally:
            self.shutdown()
        return 0

    # -- cluster processes -------------------------------------------------------------------

    def _fork(self, cluster: Cluster) -> None:
        """Start ``cluster`` in a forked process; it reports its port (or why it failed) on a pipe."""
        from gitops_tui.sandbox.cluster_process import BLOCKED, FAILED, ClusterProcess

        read_end, write_end = os.pipe()
        parent = os.getpid()
        signal.pthread_sigmask(signal.SIG_BLOCK, BLOCKED)
        try:
            pid = os.fork()
            if pid == 0:  # the cluster process: never returns into the supervisor's code
                code = FAILED
                try:
                    os.close(read_end)
                    self._forget_fds()
                    code = ClusterProcess(self.layout, cluster.name, cluster.token, cluster.port, self.tls,
                                          parent).run(write_end, may_move=cluster.first_start)
                except BaseException:  # noqa: BLE001 - logged; the supervisor sees the exit code
                    log.exception("cluster %s failed", cluster.name)
                finally:
                    logging.shutdown()
                    os._exit(code)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, BLOCKED)
        os.close(write_end)
        os.set_blocking(read_end, False)
        self._selector.register(read_end, selectors.EVENT_READ, cluster)
        cluster.pid, cluster.report_fd, cluster.report, cluster.error = pid, read_end, b"", ""
        cluster.state, cluster.since, cluster.started_at, cluster.next_start = "starting", time.monotonic(), _utc(), None

    def _forget_fds(self) -> None:
        """In a new cluster process: drop the supervisor's wakeup pipe, selector and the other clusters' pipes."""
        signal.set_wakeup_fd(-1)
        for cluster in self.clusters.values():
            if cluster.report_fd is not None:
                os.close(cluster.report_fd)
        self._selector.close()
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)

    def _read_report(self, cluster: Cluster) -> None:
        """Read what the cluster process says about its start."""
        assert cluster.report_fd is not None
        try:
            data = os.read(cluster.report_fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        cluster.report += data
        if data and b"\n" not in cluster.report:
            return
        self._selector.unregister(cluster.report_fd)
        os.close(cluster.report_fd)
        cluster.report_fd = None
        try:
            message = json.loads(cluster.report.split(b"\n", 1)[0] or b"{}")
        except ValueError:
            message = {}
        if "port" in message:
            cluster.port, cluster.state, cluster.first_start = int(message["port"]), "running", False
            if cluster.restarts:
                log.info("cluster %s is back (pid %s) on port %s", cluster.name, cluster.pid, cluster.port)
                self._save()
        else:
            cluster.error = str(message.get("error") or "")

    def _reap(self) -> None:
        """Collect the cluster processes that ended; schedule a restart of each (unless stopping)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            cluster = next((c for c in self.clusters.values() if c.pid == pid), None)
            if cluster is None:
                continue
            if cluster.report_fd is not None:
                self._read_report(cluster)
            self._ended(cluster, status)

    def _ended(self, cluster: Cluster, status: int) -> None:
        now = time.monotonic()
        cluster.last_exit, cluster.last_exit_at = describe_exit(status, cluster.error), _utc()
        cluster.last_pid = cluster.pid
        if self.stopping:
            cluster.pid, cluster.state = None, "stopped"
            return
        if now - cluster.since > RESET_AFTER:
            cluster.backoff = FIRST_BACKOFF
        log.warning("cluster %s (pid %s) %s; restarting it in %.1f s", cluster.name, cluster.pid,
                    cluster.last_exit, cluster.backoff)
        cluster.pid, cluster.state, cluster.next_start = None, "restarting", now + cluster.backoff
        cluster.restarts += 1
        cluster.backoff = min(MAX_BACKOFF, cluster.backoff * 2)
        self._save()

    def _restart_due(self) -> None:
        now = time.monotonic()
        for cluster in self.clusters.values():
            if cluster.state == "restarting" and cluster.next_start is not None and cluster.next_start <= now:
                self._fork(cluster)

    def _save(self) -> None:
        self.layout.save_processes({"pid": os.getpid(), "updated_at": _utc(),
                                    "clusters": {n: c.to_dict() for n, c in self.clusters.items()}})

    # -- the loop ----------------------------------------------------------------------------

    def _wait_started(self) -> bool:
        """Wait (bounded) until every cluster reported its port; False when one failed or is late."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and not self.stopping:
            self._poll(0.5)
            failed = [c for c in self.clusters.values() if c.state == "restarting"]
            if failed:
                for cluster in failed:
                    log.error("cluster %s did not start: it %s (see above)", cluster.name, cluster.last_exit)
                return False
            if all(c.state == "running" for c in self.clusters.values()):
                return True
        if not self.stopping:
            late = [c.name for c in self.clusters.values() if c.state != "running"]
            log.error("clusters %s did not start within %.0f s", ", ".join(late), START_TIMEOUT)
        return False

    def _poll(self, timeout: float) -> None:
        """Wait for a signal, a report or ``timeout``; then read reports and reap."""
        for key, _ in self._selector.select(max(0.0, timeout)):
            if key.data is None:
                try:
                    while os.read(self._wake_r, 512):
                        pass
                except OSError:
                    pass
            else:
                self._read_report(key.data)
        self._reap()

    def _loop(self) -> None:
        owner = int(os.environ.get(OWNER_PID_ENV) or 0)
        next_check = time.monotonic() + WATCHDOG_INTERVAL
        while not self.stopping:
            due = [c.next_start for c in self.clusters.values() if c.next_start is not None]
            self._poll(min([next_check, *due]) - time.monotonic())
            self._restart_due()
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + WATCHDOG_INTERVAL
                if self._should_leave(owner):
                    return

    def _should_leave(self, owner: int) -> bool:
        if owner and not pid_alive(owner):
            log.info("owner process %s is gone; stopping", owner)
            return True
        if not self.layout.dir.is_dir():
            log.info("data directory %s is gone; stopping", self.layout.dir)
            return True
        current = self.layout.load_state().get("pid")
        if current is not None and current != os.getpid():
            log.info("another daemon (%s) owns this sandbox; stopping", current)
            return True
        return False

    def shutdown(self) -> None:
        """Stop every cluster process (SIGTERM, then SIGKILL after STOP_WAIT) and wait for each."""
        self.stopping = True
        live = [c for c in self.clusters.values() if c.pid is not None]
        for cluster in live:
            try:
                os.kill(cluster.pid, signal.SIGTERM)  # type: ignore[arg-type]
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_WAIT
        while any(c.pid is not None for c in live) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        for cluster in live:
            if cluster.pid is not None:
                log.warning("cluster %s (pid %s) ignored SIGTERM; killing it", cluster.name, cluster.pid)
                try:
                    os.kill(cluster.pid, signal.SIGKILL)
                    _, status = os.waitpid(cluster.pid, 0)
                    self._ended(cluster, status)
                except (ProcessLookupError, ChildProcessError):
                    cluster.pid, cluster.state = None, "stopped"
        for cluster in self.clusters.values():
            cluster.state, cluster.next_start = "stopped", None
        if self.clusters and self.layout.dir.is_dir():
            self._save()
        log.info("sandbox daemon %s stopped", os.getpid())

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: ask the main loop to stop."""
        log.info("received signal %s; stopping", signum)
        self.stopping = True


def main(argv: list[str] | None = None) -> int:
    """Entry point of `python -m gitops_tui.sandbox.daemon --dir <sandbox dir>`."""
    parser = argparse.ArgumentParser(prog="gitops-tui-sandbox-daemon")
    parser.add_argument("--dir", required=True, help="the sandbox folder (<data>/sandbox)")
    args = parser.parse_args(argv)
    restrict_umask()  # the stores (-wal and -shm too) and everything else it writes are owner-only
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    supervisor = Supervisor(Layout(Path(args.dir).parent))
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
