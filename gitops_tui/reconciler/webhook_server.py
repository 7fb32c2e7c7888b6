"""The webhook receiver's HTTP server: a cap on connections, a deadline per request, bodies checked before reading.

A hostile client costs nothing: a missing, negative or non-numeric ``Content-Length`` is answered 400
and a body over the limit 413 before a byte of it is read; a connection that has not finished its
request within the deadline is shut (one reaper thread for all of them); connections beyond the cap
get 503 at once from the accepting thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

#: Most connections served at once; more get 503 without a thread.
MAX_CONNECTIONS = 64
#: Seconds a connection has to send its whole request (headers and body).
REQUEST_DEADLINE = 10.0
#: Largest body read, in bytes.
MAX_BODY = 1 << 20
#: At most this long and this much is read and dropped before closing, so a refused client reads the answer.
LINGER_SECONDS = 0.5
LINGER_BYTES = 256 * 1024
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         b"Connection: close\r\nContent-Length: 37\r\n\r\n{\"message\": \"too many connections\"}\r\n")


class BodyRefused(Exception):
    """The request's body is refused before it is read: ``status`` is 400 or 413."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def body_length(headers: Any, limit: int = MAX_BODY) -> int:
    """The announced body size; BodyRefused (400/413) for chunked, missing, negative, non-numeric or over ``limit``."""
    if (headers.get("Transfer-Encoding") or "").strip():
        raise BodyRefused(400, "send the body with a Content-Length, not a Transfer-Encoding")
    raw = headers.get("Content-Length")
    if raw is None:
        raise BodyRefused(400, "Content-Length is required")
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        raise BodyRefused(400, "Content-Length must be a non-negative number")
    size = int(text)
    if size > limit:
        raise BodyRefused(413, f"payload too large: the limit is {limit} bytes")
    return size


class BoundedHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server with at most ``max_connections`` connections, each with a request deadline."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], *,
                 max_connections: int = MAX_CONNECTIONS, deadline: float = REQUEST_DEADLINE) -> None:
        """Bind ``address``; serve each connection in a thread while fewer than ``max_connections`` are open."""
        self.deadline = deadline
        self._slots = threading.BoundedSemaphore(max_connections)
        self._deadlines: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        super().__init__(address, handler)  # a failed bind calls server_close(): the fields above exist by then
        self._reaper = threading.Thread(target=self._reap, name="webhook-deadlines", daemon=True)
        self._reaper.start()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection in a thread, or answer 503 at once when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                request.sendall(_BUSY)
                request.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            self.close_request(request)  # no lingering here: the accepting thread never waits on a client
            return
        with self._lock:
            self._deadlines[request] = time.monotonic() + self.deadline
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._done(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """Serve one connection, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._done(request)

    def finished_reading(self, request: Any) -> None:
        """The request was read whole: its deadline no longer applies (the answer may take longer)."""
        with self._lock:
            self._deadlines.pop(request, None)

    def _done(self, request: Any) -> None:
        with self._lock:
            self._deadlines.pop(request, None)
        self._slots.release()

    def _reap(self) -> None:
        """Shut every connection whose request is not read by its deadline (ends the blocked read)."""
        while not self._closing.wait(0.25):
            now = time.monotonic()
            with self._lock:
                late = [conn for conn, deadline in self._deadlines.items() if deadline <= now]
                for conn in late:
                    del self._deadlines[conn]
            for conn in late:
                log.info("webhook: a client took longer than %.0fs to send its request; closing it", self.deadline)
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def shutdown_request(self, request: Any) -> None:
        """Close a connection; unread bytes (a refused body) are drained briefly first, as Go's lingering close
        does, so the client reads our answer instead of a reset."""
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(LINGER_SECONDS)
            deadline = time.monotonic() + LINGER_SECONDS
            drained = 0
            while drained < LINGER_BYTES and time.monotonic() < deadline:
                chunk = request.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass
        self.close_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or times out is logged quietly, never as a traceback."""
        log.debug("webhook connection from %s failed", client_address, exc_info=True)

    def server_close(self) -> None:
        """Stop the reaper and close the listening socket."""
        self._closing.set()
        super().server_close()


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:0`` too) as (host, port); raise ValueError for anything else."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"listen address {listen!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


class ServedInThread:
    """A BoundedHTTPServer served by a daemon thread: ``port``, ``url``, ``start`` and ``stop``."""

    def __init__(self, server: BoundedHTTPServer, thread_name: str) -> None:
        self._server = server
        self._thread_name = thread_name
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL (``http://host:port``)."""
        host = self._server.server_address[0]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{self.port}"

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
