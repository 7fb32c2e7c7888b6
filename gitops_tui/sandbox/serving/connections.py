"""Connections of the sandbox server: one selector thread holds every idle connection, a bounded pool serves requests.

An idle keep-alive connection costs a socket and no thread: the selector thread accepts, finishes
the TLS handshake and reads request heads without blocking, and hands a connection with a whole
head to the worker pool. A full pool (``max_in_flight`` requests queued or running) answers
429 at once, like kube-apiserver's max-in-flight filter. Handshakes and heads must arrive within
``header_timeout``; idle connections close after ``idle_timeout``; beyond ``max_connections`` the
oldest idle connection makes room. Long-running requests (watches) leave the pool for threads of
their own, bounded by ``max_watches`` (see transport.py).
"""

from __future__ import annotations

import collections
import errno
import logging
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gitops_tui.sandbox.serving.errors import ApiError

log = logging.getLogger(__name__)

#: Longest request head (request line and headers), in bytes.
MAX_HEAD = 64 * 1024
#: Seconds a connection has to finish its TLS handshake or a request head once it started one.
HEADER_TIMEOUT = 10.0
#: Seconds a single read or write of a request body or an answer may wait.
IO_TIMEOUT = 30.0
#: Seconds an idle keep-alive connection is kept.
IDLE_TIMEOUT = 90.0
WORKERS = 8
MAX_IN_FLIGHT = 64
MAX_CONNECTIONS = 4096
def too_many_requests() -> bytes:
    """The whole 429 answer kube-apiserver's max-in-flight filter gives, with a Status body."""
    body = ApiError(429, "Too many requests, please try again later.", "TooManyRequests",
                    {"retryAfterSeconds": 1}).encoded()
    return (b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def head_end(buffer: bytes | bytearray) -> int:
    """The index just past the blank line ending a request head in ``buffer``, or -1."""
    index = buffer.find(b"\r\n\r\n")
    return index + 4 if index >= 0 else -1


class Connection:
    """One client connection: its TLS socket, the bytes read but not used yet, and its timers."""

    def __init__(self, sock: ssl.SSLSocket, address: Any) -> None:
        """Wrap an accepted socket (handshake not done yet)."""
        self.sock = sock
        self.address = address
        self.inbuf = bytearray()
        self.handshaken = False
        now = time.monotonic()
        self.since = now  # when the handshake or the current head began, or the connection went idle

    @property
    def has_head(self) -> bool:
        """Whether a whole request head is buffered."""
        return head_end(self.inbuf) >= 0

    def close(self) -> None:
        """Close the socket (any error ignored)."""
        try:
            self.sock.close()
        except OSError:
            pass


class Reader:
    """Reads a request body from a connection in blocking mode, each wait bounded, the whole by a deadline."""

    def __init__(self, conn: Connection, timeout: float = IO_TIMEOUT) -> None:
        """Read from ``conn`` (its buffered bytes first) for at most ``timeout`` seconds in all."""
        self.conn = conn
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout

    def _fill(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request body did not arrive in time")
        self.conn.sock.settimeout(min(remaining, self.timeout))
        data = self.conn.sock.recv(65536)
        if not data:
            raise ConnectionError("the client closed the connection")
        self.conn.inbuf += data

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes (raises TimeoutError or ConnectionError when they do not come)."""
        while len(self.conn.inbuf) < size:
            self._fill()
        data = bytes(self.conn.inbuf[:size])
        del self.conn.inbuf[:size]
        return data

    def readline(self, limit: int) -> bytes:
        """One line, at most ``limit`` bytes."""
        while True:
            index = self.conn.inbuf.find(b"\n", 0, limit)
            if index >= 0 or len(self.conn.inbuf) >= limit:
                end = index + 1 if index >= 0 else limit
                data = bytes(self.conn.inbuf[:end])
                del self.conn.inbuf[:end]
                return data
            self._fill()

    def skip(self, size: int) -> None:
        """Read and drop ``size`` bytes."""
        while size > 0:
            if not self.conn.inbuf:
                self._fill()
            taken = min(size, len(self.conn.inbuf))
            del self.conn.inbuf[:taken]
            size -= taken


class ConnectionServer:
    """Accepts TLS connections on ``address`` and calls ``serve(conn)`` in the pool for each request head."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, serve: Callable[[Connection], None], *,
                 workers: int = WORKERS, max_in_flight: int = MAX_IN_FLIGHT,
                 max_connections: int = MAX_CONNECTIONS, header_timeout: float = HEADER_TIMEOUT,
                 idle_timeout: float = IDLE_TIMEOUT, io_timeout: float = IO_TIMEOUT) -> None:
        """Bind and listen; nothing is served until serve_forever()."""
        self.context = context
        self._serve = serve
        self.max_in_flight = max_in_flight
        self.max_connections = max_connections
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.io_timeout = io_timeout
        self.socket = socket.create_server(address, backlog=128)
        self.socket.setblocking(False)
        self.server_address = self.socket.getsockname()[:2]
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self.socket, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-request")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._parked: collections.deque[Connection] = collections.deque()
        self._idle: dict[Connection, None] = {}  # selector-owned connections, oldest first
        self._all: set[Connection] = set()
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._accept_paused_until = 0.0
        self._next_expiry = 0.0

    # -- life cycle --------------------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Run the selector loop until shutdown()."""
        self._stopped.clear()
        try:
            while not self._stop.is_set():
                for key, _mask in self._selector.select(timeout=poll_interval):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._drain_wake()
                    else:
                        self._ready(key.data)
                self._take_parked()
                self._expire()
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop the selector loop and wait for it."""
        self._stop.set()
        self._wake()
        self._stopped.wait(timeout=5)

    def close_connections(self) -> None:
        """Shut down every open connection (ends idle keep-alives, requests and watches)."""
        with self._lock:
            connections = list(self._all)
        for conn in connections:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def server_close(self) -> None:
        """Close the listener, every connection and the pool."""
        self.close_connections()
        with self._lock:
            connections, self._all = list(self._all), set()
        for conn in connections:
            conn.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        for sock in (self.socket, self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()

    @property
    def in_flight(self) -> int:
        """Requests queued or running in the pool now."""
        with self._lock:
            return self._in_flight

    @property
    def connection_count(self) -> int:
        """Connections open now."""
        with self._lock:
            return len(self._all)

    # -- called by request handling (any thread) ---------------------------------------------
    def park(self, conn: Connection) -> None:
        """Give a served keep-alive connection back to the selector (or serve its next buffered head)."""
        conn.since = time.monotonic()
        self._parked.append(conn)
        self._wake()

    def forget(self, conn: Connection) -> None:
        """Close a connection for good."""
        with self._lock:
            self._all.discard(conn)
        conn.close()

    def finished(self) -> None:
        """A request left the pool (answered, or handed to a long-running thread)."""
        with self._lock:
            self._in_flight -= 1

    # -- selector thread ---------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except OSError:
            pass

    def _accept(self) -> None:
        if time.monotonic() < self._accept_paused_until:
            return
        while True:
            try:
                raw, address = self.socket.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("out of file descriptors: closing idle connections, accepting again in 1 s")
                    self._evict_idle(len(self._idle) // 2 or 1)
                    self._accept_paused_until = time.monotonic() + 1.0
                return
            if self.connection_count >= self.max_connections and not self._evict_idle(1):
                raw.close()
                continue
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            raw.setblocking(False)
            conn = Connection(self.context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False), address)
            with self._lock:
                self._all.add(conn)
            self._watch(conn)
            self._ready(conn)

    def _watch(self, conn: Connection, events: int = selectors.EVENT_READ) -> None:
        try:
            self._selector.register(conn.sock, events, conn)
        except KeyError:
            self._selector.modify(conn.sock, events, conn)
        self._idle[conn] = None

    def _set_events(self, conn: Connection, events: int) -> None:
        if self._selector.get_key(conn.sock).events != events:
            self._selector.modify(conn.sock, events, conn)

    def _unwatch(self, conn: Connection) -> None:
        self._idle.pop(conn, None)
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _drop(self, conn: Connection) -> None:
        self._unwatch(conn)
        self.forget(conn)

    def _ready(self, conn: Connection) -> None:
        """Advance a connection without blocking: handshake, then read until a whole head is in."""
        try:
            if not conn.handshaken:
                conn.sock.do_handshake()
                conn.handshaken = True
                conn.since = time.monotonic()
            while not conn.has_head and len(conn.inbuf) <= MAX_HEAD:
                data = conn.sock.recv(65536)
                if not data:
                    self._drop(conn)
                    return
                if not conn.inbuf:
                    conn.since = time.monotonic()
                conn.inbuf += data
        except ssl.SSLWantReadError:
            self._set_events(conn, selectors.EVENT_READ)
        except ssl.SSLWantWriteError:
            self._set_events(conn, selectors.EVENT_WRITE)
            return
        except (OSError, ValueError):
            self._drop(conn)
            return
        if conn.has_head or len(conn.inbuf) > MAX_HEAD:
            self._dispatch(conn)

    def _dispatch(self, conn: Connection) -> None:
        """Hand a connection with a whole head to the pool, or answer 429 when the pool is full."""
        self._unwatch(conn)
        with self._lock:
            full = self._in_flight >= self.max_in_flight
            if not full:
                self._in_flight += 1
        if full:
            try:
                conn.sock.send(too_many_requests())
            except (OSError, ValueError):
                pass
            self.forget(conn)
            return
        try:
            self._pool.submit(self._serve, conn)
        except RuntimeError:  # the pool is shut down
            self.finished()
            self.forget(conn)

    def _take_parked(self) -> None:
        while self._parked:
            conn = self._parked.popleft()
            try:
                conn.sock.setblocking(False)  # the selector thread never waits on a socket
            except OSError:
                self.forget(conn)
                continue
            if conn.has_head:
                self._dispatch(conn)
                continue
            self._watch(conn)
            if conn.sock.pending():
                self._ready(conn)

    def _expire(self) -> None:
        """Close handshakes and heads slower than header_timeout, and connections idle beyond idle_timeout."""
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + 0.5
        late = [c for c in self._idle
                if now - c.since > (self.idle_timeout if c.handshaken and not c.inbuf else self.header_timeout)]
        for conn in late:
            self._drop(conn)

    def _evict_idle(self, count: int) -> bool:
        """Close up to ``count`` of the oldest idle connections; True when one was closed."""
        victims = [c for c in self._idle if c.handshaken and not c.inbuf][:count]
        for conn in victims:
            self._drop(conn)
        return bool(victims)
