"""One sandbox cluster in a process of its own: its API server, its controllers, until the supervisor says stop.

The supervisor (daemon.py) forks this process after importing everything it needs, so a cluster starts
without paying for the imports again. The process ends when asked (SIGTERM), when its supervisor is gone
(the kernel sends SIGTERM then: PR_SET_PDEATHSIG; the parent is also checked every second), and within
``STOP_DEADLINE`` seconds of either, whatever its threads do.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
from gitops_tui.sandbox.controllers.tokens import TokenController
from gitops_tui.sandbox.layout import Layout
from gitops_tui.sandbox.schema import kube_schemas
from gitops_tui.sandbox.serving.server import ClusterServer
from gitops_tui.sandbox.serving.tls import TlsFiles

log = logging.getLogger("gitops_tui.sandbox.cluster")

#: Seconds a stopping cluster process has before SIGALRM ends it (its store is WAL: nothing is lost).
STOP_DEADLINE = 10
#: Exit code of a restarted cluster whose port is taken (a restart never moves a cluster to another port).
PORT_TAKEN = 3
#: Exit code of a cluster that could not start for another reason (the log says why).
FAILED = 1
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
#: The signals the supervisor blocks around fork(); the cluster process unblocks them once its handlers are set.
BLOCKED = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}


def preload() -> None:
    """Load, in the daemon before it forks, what every cluster process would otherwise load by itself.

    The client's CoreV1Api (the kubernetes package imports it on first use: seconds in a process whose
    informers are listing) and the release's definitions (read on first validation).
    """
    from kubernetes.client import CoreV1Api  # noqa: F401 - the import is the point

    kube_schemas.definition_name("apps", "v1", "Deployment")


def _prctl(option: int, value: Any) -> None:
    """Linux prctl(2), best effort (the parent check below covers a kernel that refuses)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _log_as(name: str) -> None:
    """Prefix this process's log lines with the cluster's name (they share daemon.log)."""
    formatter = logging.Formatter(f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


def _report(fd: int, message: dict[str, Any]) -> None:
    """Tell the supervisor how the start went (one JSON line on the pipe), then close it."""
    try:
        os.write(fd, json.dumps(message).encode() + b"\n")
    except OSError:
        pass
    finally:
        os.close(fd)


def _start_server(layout: Layout, name: str, token: str, port: int, tls: TlsFiles, may_move: bool) -> ClusterServer:
    """Start the server of one cluster on its port; on its first start, a fresh port when that one is taken."""
    server = ClusterServer(name=name, db_path=layout.db_path(name), token=token, tls=tls, port=port)
    try:
        server.start()
    except OSError as exc:
        if not port or not may_move:
            raise
        log.warning("cluster %s: port %s is taken (%s); using a fresh port", name, port, exc)
        server.stop()
        server = ClusterServer(name=name, db_path=layout.db_path(name), token=token, tls=tls, port=0)
        server.start()
    return server


class ClusterProcess:
    """The server and controllers of one cluster, in the current (forked) process."""

    def __init__(self, layout: Layout, name: str, token: str, port: int, tls: TlsFiles, parent: int) -> None:
        """Serve cluster ``name`` on ``port`` for the supervisor ``parent``."""
        self.layout, self.name, self.token, self.port, self.tls, self.parent = layout, name, token, port, tls, parent
        self.stop_event = threading.Event()
        self.server: ClusterServer | None = None
        self.controllers: list[Any] = []

    def run(self, report_fd: int, may_move: bool) -> int:
        """Start, report the port on ``report_fd``, serve until asked to stop; return the exit code."""
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        _prctl(_PR_SET_NAME, f"sandbox:{self.name}"[:15].encode())
        _log_as(self.name)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._request_stop)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, BLOCKED)
        if os.getppid() != self.parent:  # the supervisor died before the death signal was armed
            os.close(report_fd)
            return FAILED
        try:
            self.server = _start_server(self.layout, self.name, self.token, self.port, self.tls, may_move)
        except OSError as exc:
            log.error("cluster %s cannot listen on port %s: %s", self.name, self.port, exc)
            _report(report_fd, {"error": f"port {self.port} is taken"})
            return PORT_TAKEN
        try:
            self._start_controllers()
        except Exception as exc:  # noqa: BLE001 - reported; the supervisor retries
            log.exception("the controllers of cluster %s did not start", self.name)
            _report(report_fd, {"error": f"its controllers did not start: {type(exc).__name__}"})
            self._shutdown()
            return FAILED
        _report(report_fd, {"port": self.server.port})
        log.info("cluster %s (pid %s) serving on %s", self.name, os.getpid(), self.server.url)
        while not self.stop_event.wait(1.0):
            if os.getppid() != self.parent:
                log.info("the sandbox daemon %s is gone; stopping", self.parent)
                break
        signal.alarm(STOP_DEADLINE)
        self._shutdown()
        return 0

    def _start_controllers(self) -> None:
        assert self.server is not None
        ca = str(self.tls.ca_cert)
        manager = ControllerManager(self.name, api_client_for(self.server.url, self.token, ca),
                                    Path(ca).read_text())
        manager.start()
        self.controllers.append(manager)
        self.controllers.append(TokenController.for_server(self.server, ca).start())

    def _request_stop(self, signum: int, frame: object) -> None:
        self.stop_event.set()

    def _shutdown(self) -> None:
        """Stop the controllers, then the server (which closes the store)."""
        for controller in self.controllers:
            try:
                controller.stop()
            except Exception:  # noqa: BLE001 - keep stopping
                log.exception("stopping the controllers of cluster %s failed", self.name)
        if self.server is not None:
            self.server.stop()
        log.info("cluster %s (pid %s) stopped", self.name, os.getpid())
