"""The sandbox background process: one ClusterServer and one controller manager per cluster."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from gitops_tui.paths import restrict_umask
from gitops_tui.sandbox.layout import MANAGEMENT, OWNER_PID_ENV, Layout, pid_alive

log = logging.getLogger("gitops_tui.sandbox.daemon")

WATCHDOG_INTERVAL = 1.0


def _start_server(layout: Layout, name: str, token: str, port: int, tls: object) -> object:
    """Start the server of one cluster on its saved port, or on a fresh one if that port is taken."""
    from gitops_tui.sandbox.serving.server import ClusterServer

    server = ClusterServer(name=name, db_path=layout.db_path(name), token=token, tls=tls, port=port)
    try:
        server.start()
    except OSError as exc:
        if not port:
            raise
        log.warning("cluster %s: port %s is taken (%s); using a fresh port", name, port, exc)
        server.stop()
        server = ClusterServer(name=name, db_path=layout.db_path(name), token=token, tls=tls, port=0)
        server.start()
    return server


class Daemon:
    """Runs the cluster servers and their controller managers until asked to stop."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.stop_event = threading.Event()
        self.servers: dict[str, object] = {}
        self.controllers: list[object] = []

    def run(self) -> int:
        """Serve until SIGTERM / SIGINT (or the owner process or data directory is gone)."""
        from gitops_tui.sandbox.controllers.manager import ControllerManager, api_client_for
        from gitops_tui.sandbox.controllers.tokens import TokenController
        from gitops_tui.sandbox.serving.tls import ensure_tls

        state = self.layout.load_state()
        clusters = state.get("clusters") or {}
        if MANAGEMENT not in clusters:
            log.error("state.json names no clusters; start the sandbox with 'gitops-tui sandbox up'")
            return 2
        tls = ensure_tls(self.layout.tls_dir)
        self.layout.clusters_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name, info in clusters.items():
                server = _start_server(self.layout, name, info["token"], int(info.get("port") or 0), tls)
                self.servers[name] = server
                info["port"] = server.port  # type: ignore[attr-defined]
                log.info("cluster %s serving on %s", name, server.url)  # type: ignore[attr-defined]
            ca_pem = tls.ca_cert.read_text()
            for name, server in self.servers.items():
                api_client = api_client_for(server.url, clusters[name]["token"], str(tls.ca_cert))  # type: ignore[attr-defined]
                manager = ControllerManager(name, api_client, ca_pem)
                manager.start()
                self.controllers.append(manager)
                self.controllers.append(TokenController.for_server(server, str(tls.ca_cert)).start())
            state["pid"] = os.getpid()
            self.layout.save_state(state)
            log.info("sandbox daemon %s ready with clusters %s", os.getpid(), ", ".join(clusters))
            self._wait()
        finally:
            self.shutdown()
        return 0

    def _wait(self) -> None:
        owner = int(os.environ.get(OWNER_PID_ENV) or 0)
        while not self.stop_event.wait(WATCHDOG_INTERVAL):
            if owner and not pid_alive(owner):
                log.info("owner process %s is gone; stopping", owner)
                return
            if not self.layout.dir.is_dir():
                log.info("data directory %s is gone; stopping", self.layout.dir)
                return
            current = self.layout.load_state().get("pid")
            if current is not None and current != os.getpid():
                log.info("another daemon (%s) owns this sandbox; stopping", current)
                return

    def shutdown(self) -> None:
        """Stop the controllers, then the servers (which close their stores)."""
        for manager in self.controllers:
            try:
                manager.stop()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("stopping the controllers of a cluster failed")
        for name, server in self.servers.items():
            try:
                server.stop()  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001 - keep stopping the rest
                log.exception("stopping cluster %s failed", name)
        self.controllers.clear()
        self.servers.clear()
        log.info("sandbox daemon %s stopped", os.getpid())

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Signal handler: ask the main loop to stop."""
        log.info("received signal %s; stopping", signum)
        self.stop_event.set()


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
    sandbox_dir = Path(args.dir)
    daemon = Daemon(Layout(sandbox_dir.parent))
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return daemon.run()


if __name__ == "__main__":
    sys.exit(main())
