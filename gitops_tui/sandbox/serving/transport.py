"""The HTTP layer of the sandbox server: requests from connections, bearer auth, body limits, JSON and chunked watch answers.

connections.py owns sockets and threads (a selector for idle connections, a bounded worker pool);
this module turns one buffered request head into an ApiRequest, answers it, and hands keep-alive
connections back. Watches run in threads of their own, at most ``max_watches`` at a time.
"""

from __future__ import annotations

import http.client
import io
import json
import logging
import select
import ssl
import threading
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gitops_tui.sandbox.serving.common import ApiRequest, Response, WatchStream
from gitops_tui.sandbox.serving.connections import (
    Connection,
    ConnectionServer,
    Reader,
    head_end,
    too_many_requests,
)
from gitops_tui.sandbox.serving.errors import ApiError

log = logging.getLogger(__name__)
_DRAIN_LIMIT_FACTOR = 4
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: Watches (long-running requests) served at once; more get 429.
MAX_WATCHES = 512


class HttpServer(ConnectionServer):
    """The HTTPS server of one ClusterServer (``owner``): its connections, request pool and watch threads."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, owner: Any, **limits: Any) -> None:
        """Bind ``address``; ``owner`` gives ``auth``, ``max_body``, ``api`` and ``metrics``."""
        self.max_watches = int(limits.pop("max_watches", MAX_WATCHES))
        super().__init__(address, context, self._serve_request, **limits)
        self.owner = owner
        self.watch_slots = threading.BoundedSemaphore(self.max_watches)

    def _serve_request(self, conn: Connection) -> None:
        """Answer the request whose head is buffered on ``conn`` (runs in the pool)."""
        try:
            RequestHandler(self, conn).serve()
        except Exception:  # noqa: BLE001 - never a traceback, never a lost pool thread
            log.exception("internal error serving a connection")
            self.forget(conn)
        finally:
            self.finished()


class RequestHandler:
    """One request on one connection: authenticates it and answers the Kubernetes API."""

    server_version = "gitops-tui-sandbox"

    def __init__(self, server: HttpServer, conn: Connection) -> None:
        """Prepare to answer the next request buffered on ``conn``."""
        self.server = server
        self.conn = conn
        self.reader = Reader(conn, server.io_timeout)
        self.close_connection = False
        self.command = ""
        self.path = ""
        self.headers: http.client.HTTPMessage = http.client.HTTPMessage()

    # -- one request -------------------------------------------------------------------------

    def serve(self) -> None:
        """Parse the head, answer, then keep the connection alive or close it."""
        self.conn.sock.settimeout(self.server.io_timeout)
        streaming = False
        try:
            if self._parse_head():
                if self.command in _METHODS:
                    streaming = self._handle(self.command)
                else:
                    self._send_error(501, f"Unsupported method ({self.command!r})")
        except (OSError, TimeoutError, ConnectionError, ValueError):
            log.debug("client %s went away", self.conn.address, exc_info=True)
            self.close_connection = True
        if not streaming:
            self._release()

    def _release(self) -> None:
        """Park the connection for its next request, or close it."""
        if self.close_connection:
            self.server.forget(self.conn)
        else:
            self.server.park(self.conn)

    def _parse_head(self) -> bool:
        """Read the request line and headers from the buffer; answer 400/431 and return False when they are bad."""
        end = head_end(self.conn.inbuf)
        if end < 0:
            self._send_error(431, "Request Header Fields Too Large")
            return False
        head = bytes(self.conn.inbuf[:end])
        del self.conn.inbuf[:end]
        line, _, rest = head.partition(b"\r\n")
        words = line.decode("latin-1").split()
        if len(words) != 3 or not words[2].startswith("HTTP/1."):
            self._send_error(400, f"Bad request syntax ({line[:100].decode('latin-1')!r})")
            return False
        self.command, self.path, version = words
        try:
            self.headers = http.client.parse_headers(io.BytesIO(rest))
        except http.client.HTTPException:
            self._send_error(431, "Too many headers")
            return False
        connection = (self.headers.get("Connection") or "").lower()
        if connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive"):
            self.close_connection = True
        return True

    def _handle(self, method: str) -> bool:
        """Answer one API request; True when a watch thread took the connection over."""
        owner = self.server.owner
        parts = urlsplit(self.path)
        watching = False
        try:
            user = self._authenticate(method)
            body = self._read_body(owner.max_body)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            if parts.path == "/metrics":
                result: Response | WatchStream = owner.metrics.response(method)
            else:
                result = owner.api.handle(ApiRequest(method, parts.path, query, self.headers, body, user))
        except ApiError as exc:
            self._send(Response(exc.code, exc.encoded(), getattr(exc, "content_type", "application/json")))
            return False
        except (OSError, TimeoutError, ConnectionError):
            raise
        except Exception:  # noqa: BLE001 - never a traceback on the wire
            log.exception("internal error answering %s %s", method, parts.path)
            error = ApiError(500, "Internal error occurred: see the sandbox log", "InternalError")
            self._send(Response(500, error.encoded()))
            return False
        if isinstance(result, WatchStream):
            watching = self._start_watch(result)
        else:
            self._send(result)
        return watching

    def _authenticate(self, method: str) -> Any:
        """Return the request's user from the access gate (serving.authz); 401 / 403 drop the body first."""
        try:
            return self.server.owner.auth.admit(method, self.path, self.headers)
        except ApiError:
            self._discard_body()
            raise

    # -- request bodies ----------------------------------------------------------------------

    def _discard_body(self) -> None:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
        elif length and length.isdigit() and int(length) <= 1024 * 1024:
            self.reader.skip(int(length))
        elif length and length != "0":
            self.close_connection = True

    def _too_large(self, limit: int) -> ApiError:
        self.close_connection = True
        return ApiError(413, f"Request entity too large: limit is {limit}", "RequestEntityTooLarge")

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._continue()
            return self._read_chunked(limit)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        if not length.strip().isdigit() or not length.strip().isascii():
            self.close_connection = True
            raise ApiError(400, "invalid Content-Length", "BadRequest")
        size = int(length)
        if size > limit:
            self._drain(size, _DRAIN_LIMIT_FACTOR * limit)
            raise self._too_large(limit)
        self._continue()
        return self.reader.read(size)

    def _continue(self) -> None:
        """Answer ``Expect: 100-continue`` before the body is sent."""
        if (self.headers.get("Expect") or "").lower() == "100-continue":
            self.conn.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _drain(self, size: int, cap: int) -> None:
        """Read and drop an oversized body (up to ``cap``) so the client can read our 413."""
        if size <= cap:
            try:
                self.reader.skip(size)
            except (OSError, TimeoutError, ConnectionError):
                pass

    def _read_chunked(self, limit: int) -> bytes:
        data = bytearray()
        while True:
            line = self.reader.readline(1024).strip()
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                self.close_connection = True
                raise ApiError(400, "malformed chunked body", "BadRequest") from None
            if size == 0:
                while self.reader.readline(1024).strip():
                    pass
                return bytes(data)
            if size < 0 or len(data) + size > limit:
                raise self._too_large(limit)
            data += self.reader.read(size)
            self.reader.readline(1024)

    # -- answers -----------------------------------------------------------------------------

    def _head(self, code: int, headers: list[tuple[str, str]]) -> bytes:
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {code} {phrase}", f"Server: {self.server_version}",
                 f"Date: {formatdate(usegmt=True)}", *(f"{k}: {v}" for k, v in headers)]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send_error(self, code: int, message: str) -> None:
        """Answer a protocol-level error with a Status body and close the connection."""
        self.close_connection = True
        self._send(Response(code, ApiError(code, message).encoded()))

    def _send(self, response: Response) -> None:
        if isinstance(response.body, bytes | str):
            payload = response.body.encode() if isinstance(response.body, str) else response.body
        else:
            payload = json.dumps(response.body, separators=(",", ":")).encode()
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(payload))),
                   ("Cache-Control", "no-cache, private"), *response.headers.items()]
        self.server.owner.metrics.observe(self.command, self.path, self.headers, response.code)
        try:
            self.conn.sock.sendall(self._head(response.code, headers) + payload)
        except OSError:
            self.close_connection = True

    # -- watches (long-running) --------------------------------------------------------------

    def _start_watch(self, stream: WatchStream) -> bool:
        """Serve a watch in a thread of its own, or answer 429 when ``max_watches`` run already."""
        if not self.server.watch_slots.acquire(blocking=False):
            close = getattr(stream.events, "close", None)
            if close is not None:
                close()
            self.server.owner.metrics.observe(self.command, self.path, self.headers, 429)
            self.close_connection = True
            self.conn.sock.sendall(too_many_requests())
            return False
        thread = threading.Thread(target=self._watch_thread, args=(stream,), name="sandbox-watch", daemon=True)
        thread.start()
        return True

    def _watch_thread(self, stream: WatchStream) -> None:
        metrics = self.server.owner.metrics
        metrics.watch_started(self.command, self.path, self.headers)
        try:
            self._stream(stream)
        finally:
            metrics.watch_ended(self.command, self.path, self.headers)
            self.server.watch_slots.release()
            self._release()

    def _chunk(self, data: bytes) -> None:
        self.conn.sock.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _stream(self, stream: WatchStream) -> None:
        events = stream.events
        try:
            self.server.owner.metrics.observe(self.command, self.path, self.headers, 200)
            self.conn.sock.sendall(self._head(200, [("Content-Type", stream.content_type),
                                                    ("Transfer-Encoding", "chunked"),
                                                    ("Cache-Control", "no-cache, private")]))
            for event in events:
                if event is None:
                    if self._client_gone():
                        self.close_connection = True
                        return
                    continue
                self._chunk(json.dumps(event, separators=(",", ":")).encode() + b"\n")
            self.conn.sock.sendall(b"0\r\n\r\n")
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
        sock = self.conn.sock
        try:
            if not sock.pending():
                readable, _, _ = select.select([sock], [], [], 0)
                if not readable:
                    return False
            sock.settimeout(0.05)
            try:
                data = sock.recv(4096)
            finally:
                sock.settimeout(self.server.io_timeout)
            if data:
                self.conn.inbuf += data  # a pipelined request: keep it for after the watch
                return False
            return True
        except (ssl.SSLWantReadError, BlockingIOError, TimeoutError):
            return False
        except (OSError, ValueError):  # ValueError: the socket was closed under us (the server is stopping)
            return True

