"""The HTTP layer of the sandbox server: TLS sockets, bearer auth, body limits, JSON and chunked watch answers."""

from __future__ import annotations

import json
import logging
import select
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gitops_tui.sandbox.serving.common import ApiRequest, Response, WatchStream
from gitops_tui.sandbox.serving.errors import ApiError

log = logging.getLogger(__name__)
_IDLE_TIMEOUT = 120.0
_DRAIN_LIMIT_FACTOR = 4


class HttpServer(ThreadingHTTPServer):
    """A threading HTTPS server that wraps each accepted socket and tracks open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, owner: Any) -> None:
        super().__init__(address, RequestHandler)
        self.context = context
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept a connection and wrap it in TLS; the handshake happens in the handler thread."""
        sock, addr = self.socket.accept()
        wrapped = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        """Track the connection so stop() can end it, then serve it in a thread."""
        with self._conn_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        """Forget and close one connection."""
        with self._conn_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Shut down every open connection (ends idle keep-alives and watches)."""
        with self._conn_lock:
            connections = list(self.connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log connection-level failures (TLS handshakes, resets) quietly, never to stderr."""
        log.debug("connection error from %s", client_address, exc_info=True)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection: authenticates and answers Kubernetes API requests."""

    protocol_version = "HTTP/1.1"
    #: Answers go out at once: with Nagle's algorithm on, each keep-alive reply waits ~40 ms for an ACK.
    disable_nagle_algorithm = True
    server_version = "gitops-tui-sandbox"
    sys_version = ""
    timeout = _IDLE_TIMEOUT
    server: HttpServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        """Answer GET."""
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        """Answer POST."""
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        """Answer PUT."""
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        """Answer PATCH."""
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        """Answer DELETE."""
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Send access logs to the module logger at debug level."""
        log.debug("%s " + format, self.address_string(), *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer protocol-level errors with an HTTP/1.1 Status body instead of HTML."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"
        text = message or self.responses.get(code, ("Error",))[0]
        try:
            self._send(Response(code, ApiError(code, text).encoded()))
        except OSError:
            pass

    # -- request handling --------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        owner = self.server.owner
        try:
            user = self._authenticate(method)
            body = self._read_body(owner.max_body)
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            result = owner.api.handle(ApiRequest(method, parts.path, query, self.headers, body, user))
        except ApiError as exc:
            self._send(Response(exc.code, exc.encoded()))
            return
        except Exception:  # noqa: BLE001 - never a traceback on the wire
            log.exception("internal error answering %s %s", method, urlsplit(self.path).path)
            error = ApiError(500, "Internal error occurred: see the sandbox log", "InternalError")
            self._send(Response(500, error.encoded()))
            return
        if isinstance(result, WatchStream):
            self._stream(result)
        else:
            self._send(result)

    def _authenticate(self, method: str) -> Any:
        """Return the request's user from the access gate (serving.authz); 401 / 403 drop the body first."""
        try:
            return self.server.owner.auth.admit(method, self.path, self.headers)
        except ApiError:
            self._discard_body()
            raise

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
        elif length and length.isdigit() and int(length) <= 1024 * 1024:
            self.rfile.read(int(length))
        elif length and length != "0":
            self.close_connection = True

    def _too_large(self, limit: int) -> ApiError:
        self.close_connection = True
        return ApiError(413, f"Request entity too large: limit is {limit}", "RequestEntityTooLarge")

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.strip().isdigit():
            self.close_connection = True
            raise ApiError(400, "invalid Content-Length", "BadRequest")
        size = int(length)
        if size > limit:
            self._drain(size, _DRAIN_LIMIT_FACTOR * limit)
            raise self._too_large(limit)
        return self.rfile.read(size)

    def _drain(self, size: int, cap: int) -> None:
        """Read and drop an oversized body (up to ``cap``) so the client can read our 413."""
        if size > cap:
            return
        remaining = size
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 65536))
            if not chunk:
                return
            remaining -= len(chunk)

    def _read_chunked(self, limit: int) -> bytes:
        data = bytearray()
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, "malformed chunked body", "BadRequest") from None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass
                return bytes(data)
            if len(data) + size > limit:
                raise self._too_large(limit)
            data += self.rfile.read(size)
            self.rfile.readline(1024)

    # -- answers -----------------------------------------------------------------------------

    def _send(self, response: Response) -> None:
        if isinstance(response.body, bytes | str):
            payload = response.body.encode() if isinstance(response.body, str) else response.body
        else:
            payload = json.dumps(response.body, separators=(",", ":")).encode()
        try:
            self.send_response(response.code)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-cache, private")
            for key, value in response.headers.items():
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, stream: WatchStream) -> None:
        events = stream.events
        try:
            self.send_response(200)
            self.send_header("Content-Type", stream.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.flush()
            for event in events:
                if event is None:
                    if self._client_gone():
                        self.close_connection = True
                        return
                    continue
                self._chunk(json.dumps(event, separators=(",", ":")).encode() + b"\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        except Exception:  # noqa: BLE001 - end the stream, never a traceback on the wire
            log.exception("watch stream failed")
            self.close_connection = True
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            self.connection.settimeout(0.05)
            try:
                return self.connection.recv(1) == b""
            finally:
                self.connection.settimeout(_IDLE_TIMEOUT)
        except (ssl.SSLWantReadError, BlockingIOError, TimeoutError):
            return False
        except OSError:
            return True
