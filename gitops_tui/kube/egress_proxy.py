"""A loopback CONNECT proxy through which Go clients (Helm's registry client) reach only what the allow-list lets through.

Helm's registry client is Go code that opens its own connections: to the registry, to its token service (the
``WWW-Authenticate`` realm) and to wherever a blob download redirects. Its worker processes are started with
``HTTPS_PROXY``/``HTTP_PROXY`` naming this proxy and their own token, so every such connection to a host that is
not a loopback address written in the URL comes here first (Go itself never proxies ``localhost`` or a loopback
IP). A CONNECT is checked by the operator's FetchPolicy (kube/outbound.py) for the session the worker's token has
open, then connected to the address the check resolved (no second lookup: DNS rebinding cannot move it); what it
refuses is answered 403 and remembered, so the caller can name the URL and the flag. Plain-HTTP requests through
the proxy are refused: plain HTTP is spoken only to a loopback address written in the URL. The bytes each session
reads are counted and bounded. docs/security.md#outbound-fetches.
"""

from __future__ import annotations

import base64
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gitops_tui.kube.outbound import FetchPolicy, FetchRefused, Target

#: Connections served at once (more are answered 503); seconds to read a request head; its size.
MAX_CONNECTIONS = 32
HEAD_SECONDS = 10.0
MAX_HEAD = 16 * 1024
CONNECT_SECONDS = 30.0
USER = "gitops-tui"


@dataclass
class Session:
    """What one worker may reach while it works on one request: the policy, the repository's own checked target,
    the bytes it may still read, and the first refusal (one sentence) if any."""

    policy: FetchPolicy
    what: str
    primary: Target
    budget: int
    refused: str = ""
    exceeded: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, message: str) -> None:
        """Remember the first refusal of this session."""
        with self.lock:
            self.refused = self.refused or message

    def spend(self, count: int) -> bool:
        """Count ``count`` bytes read from upstream; False once the budget is spent."""
        with self.lock:
            self.budget -= count
            if self.budget < 0:
                self.exceeded = True
            return self.budget >= 0


class EgressProxy:
    """The proxy: ``url_for(token)`` goes in a worker's environment; ``session(token, ...)`` opens what it may reach."""

    def __init__(self) -> None:
        """Listen on an ephemeral loopback port; connections are served by daemon threads."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        threading.Thread(target=self._accept, name="egress-proxy", daemon=True).start()

    def url_for(self, token: str) -> str:
        """The proxy URL (with the worker's token as its password) for ``HTTPS_PROXY``."""
        return f"http://{USER}:{token}@127.0.0.1:{self.port}"

    @contextmanager
    def serving(self, token: str, session: Session) -> Iterator[Session]:
        """Let the worker holding ``token`` reach what ``session`` allows while the block runs."""
        with self._lock:
            self._sessions[token] = session
        try:
            yield session
        finally:
            with self._lock:
                self._sessions.pop(token, None)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _answer(client, 503, "Too many connections")
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), name="egress-proxy-conn", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            self._handle(client)
        except OSError:
            pass
        finally:
            client.close()
            self._slots.release()

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(HEAD_SECONDS)
        head = _read_head(client)
        if head is None:
            return
        request_line, headers = head
        method, _, rest = request_line.partition(" ")
        target_text = rest.partition(" ")[0]
        session = self._session_of(headers.get("proxy-authorization", ""))
        if session is None:
            _answer(client, 407, "Proxy Authentication Required")
            return
        if method.upper() != "CONNECT":
            session.refuse(f"{session.what}: the registry's client asked for plain http URL {target_text}, which is "
                           "not fetched: plain http is spoken only to a loopback address written in the URL")
            _answer(client, 403, "Forbidden")
            return
        host, _, port_text = target_text.rpartition(":")
        host = host.strip("[]").lower()
        try:
            port = int(port_text)
        except ValueError:
            _answer(client, 400, "Bad Request")
            return
        addresses = self._addresses(session, host, port)
        if not addresses:
            _answer(client, 403, "Forbidden")
            return
        upstream = _connect(addresses, port)
        if upstream is None:
            _answer(client, 502, "Bad Gateway")
            return
        with upstream:
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pump(client, upstream, session)

    def _session_of(self, authorization: str) -> Session | None:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, token = base64.b64decode(encoded.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        with self._lock:
            return self._sessions.get(token) if user == USER else None

    @staticmethod
    def _addresses(session: Session, host: str, port: int) -> tuple[str, ...]:
        """The checked addresses for host:port: the repository's own, else a fresh check; () when refused."""
        primary = session.primary
        if host == primary.host and port == primary.port and primary.scheme == "https":
            return primary.addresses
        try:
            return session.policy.check(f"https://{_bracketed(host)}:{port}/", f"{session.what}: a connection the "
                                        "registry's client opened to").addresses
        except FetchRefused as exc:
            session.refuse(exc.message)
            return ()


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _read_head(client: socket.socket) -> tuple[str, dict[str, str]] | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > MAX_HEAD:
            _answer(client, 431, "Request Header Fields Too Large")
            return None
    lines = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _answer(client: socket.socket, status: int, reason: str) -> None:
    try:
        client.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
    except OSError:
        pass


def _connect(addresses: tuple[str, ...], port: int) -> socket.socket | None:
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=CONNECT_SECONDS)
        except OSError:
            continue
    return None


def _pump(client: socket.socket, upstream: socket.socket, session: Session) -> None:
    """Copy both ways until one side closes; stop when the session has read its budget."""
    client.settimeout(None)
    upstream.settimeout(None)
    peers = {client: upstream, upstream: client}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 120.0)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            if sock is upstream and not session.spend(len(data)):
                return
            peers[sock].sendall(data)


_PROXY: EgressProxy | None = None
_PROXY_LOCK = threading.Lock()


def shared_proxy() -> EgressProxy:
    """The process's proxy (started on first use)."""
    global _PROXY
    with _PROXY_LOCK:
        if _PROXY is None:
            _PROXY = EgressProxy()
        return _PROXY
