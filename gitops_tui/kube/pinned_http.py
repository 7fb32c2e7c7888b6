"""HTTP GETs to a URL from tenant content: checked by the fetch policy, connected to the checked address, bounded.

Each request (and each redirect, checked again) connects to an address FetchPolicy.check returned, never to a
second lookup of the name; TLS still verifies the certificate for the name. Bodies are read up to a limit.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urljoin, urlsplit

from gitops_tui.kube.outbound import FetchPolicy, FetchRefused, Target
from gitops_tui.redact import scrub_url

MAX_REDIRECTS = 5


class FetchFailed(Exception):
    """The server could not be reached or answered with an error; ``message`` is one sentence."""

    def __init__(self, message: str) -> None:
        """Record the sentence."""
        super().__init__(message)
        self.message = message


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to one checked address, sending the URL's host name."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        """Connect to the checked address, not to a new lookup of the name."""
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address; the certificate is verified for the URL's host name."""

    def __init__(self, target: Target, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        """Connect to the checked address, then TLS with SNI and verification for the host name."""
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def get(policy: FetchPolicy, url: str, what: str, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """The body of ``url`` (redirects followed, each checked); FetchRefused, or FetchFailed for network and HTTP errors."""
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        target = policy.check(current, what)
        status, location, body = _request(target, max_bytes, timeout)
        if status in (301, 302, 303, 307, 308) and location:
            current = urljoin(current, location)
            continue
        if not 200 <= status < 300:
            raise FetchFailed(f"{what} {scrub_url(current)} answered HTTP {status}")
        return body
    raise FetchFailed(f"{what} {scrub_url(url)} redirects more than {MAX_REDIRECTS} times")


def post(policy: FetchPolicy, url: str, what: str, body: bytes, headers: dict[str, str], *,
         timeout: float = 10.0) -> int:
    """POST ``body`` to ``url`` (checked, no redirect followed): the HTTP status; FetchRefused, or FetchFailed for
    network errors. The error names the URL's scheme and host only: a webhook's path is often its secret."""
    target = policy.check(url, what)
    status, _, _ = _request(target, 64 * 1024, timeout, "POST", body, headers)
    return status


def _request(target: Target, max_bytes: int, timeout: float, method: str = "GET", data: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """One request to the first checked address that accepts the connection: (status, Location, body)."""
    shown = scrub_url(target.url) if method == "GET" else f"{target.scheme}://{target.host}:{target.port}"
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    last: Exception | None = None
    for address in target.addresses:
        if target.scheme == "https":
            connection: http.client.HTTPConnection = _PinnedHTTPS(target, address, timeout,
                                                                  ssl.create_default_context())
        else:
            connection = _PinnedHTTP(target, address, timeout)
        try:
            connection.request(method, path, body=data,
                               headers={"User-Agent": "gitops-tui", "Accept": "*/*", **(headers or {})})
            response = connection.getresponse()
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchFailed(f"{shown} is larger than {max_bytes // (1024 * 1024)} MiB")
            return response.status, response.getheader("Location") or "", body
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        finally:
            connection.close()
    detail = type(last).__name__ if last else "no address"
    raise FetchFailed(f"{shown} cannot be reached ({detail})")


__all__ = ["FetchFailed", "FetchRefused", "get", "post"]
