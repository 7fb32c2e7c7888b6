"""The endpoints of `run --health-listen`: GET /healthz and /readyz for the kubelet's probes, /metrics for Prometheus."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from gitops_tui.reconciler.webhook_server import BoundedHTTPServer, ServedInThread, parse_listen

log = logging.getLogger(__name__)

#: A check: (passing, one sentence saying why).
Check = Callable[[], tuple[bool, str]]
#: Few connections and a short deadline: only the kubelet calls these.
MAX_CONNECTIONS = 8
REQUEST_DEADLINE = 5.0


class ProbeServer(ServedInThread):
    """Serves ``GET /healthz`` (``live``) and ``GET /readyz`` (``ready``): 200 when the check passes, else 503."""

    def __init__(self, listen: str, live: Check, ready: Check, *, max_connections: int = MAX_CONNECTIONS,
                 deadline: float = REQUEST_DEADLINE, metrics: Callable[[], bytes] | None = None) -> None:
        """Bind ``host:port`` (port 0 picks one); raise ValueError for an address that is not HOST:PORT.
        ``metrics`` gives the Prometheus text of GET /metrics (none: 404)."""
        self._checks = {"/healthz": live, "/readyz": ready}
        self.metrics = metrics
        super().__init__(BoundedHTTPServer(parse_listen(listen), self._handler_class(deadline),
                                           max_connections=max_connections, deadline=deadline), "gitops-tui-probes")

    def answer(self, path: str) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for ``path``: a failing or raising check is 503 with its reason."""
        check = self._checks.get(path.split("?")[0].rstrip("/"))
        if check is None:
            return 404, {"message": "use GET /healthz, /readyz or /metrics"}
        try:
            passing, reason = check()
        except Exception as exc:  # noqa: BLE001 - a broken check fails the probe, never the server
            passing, reason = False, f"the check failed ({type(exc).__name__})"
        return (200 if passing else 503), {"message": reason}

    def _handler_class(self, deadline: float) -> type[BaseHTTPRequestHandler]:
        probes = self

        class Handler(BaseHTTPRequestHandler):
            """One probe request."""

            server_version = "gitops-tui-probes"
            timeout = deadline

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                """Answer a probe."""
                self.server.finished_reading(self.connection)  # type: ignore[attr-defined]
                content_type = "application/json"
                if self.path.split("?")[0].rstrip("/") == "/metrics" and probes.metrics is not None:
                    from gitops_tui.reconciler.metrics import CONTENT_TYPE

                    status, data, content_type = 200, probes.metrics(), CONTENT_TYPE
                else:
                    status, body = probes.answer(self.path)
                    data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Access logs at debug level (the kubelet calls every few seconds)."""
                log.debug("probes: " + format, *args)

        return Handler


def reconciler_checks(synced: Callable[[], bool], stopping: threading.Event) -> tuple[Check, Check]:
    """The (live, ready) checks of a `run` process: live until it stops; ready once its watches hold a first list."""

    def live() -> tuple[bool, str]:
        return (False, "stopping") if stopping.is_set() else (True, "running")

    def ready() -> tuple[bool, str]:
        if stopping.is_set():
            return False, "stopping"
        if not synced():
            return False, "the management API has not been read yet"
        return True, "the management API is read and watched"

    return live, ready
