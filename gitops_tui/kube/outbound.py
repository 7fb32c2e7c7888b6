"""Where tenant content may make the reconciler connect: the operator's ``--allow-fetch`` patterns, else public https.

A URL declared inside a repository (a HelmRepository, OCIRepository or GitRepository, a chart's URL in an
index) is fetched only when the check below lets it through: default, ``https`` to hosts whose every address is
public; a pattern of ``run --allow-fetch PATTERN`` (or the console's, or ``$GITOPS_TUI_ALLOW_FETCH``) allows
more. Loopback, link-local, private and other non-public addresses, and the ports of the local sandbox, need a
pattern that names the host (and, for a sandbox port, the port) exactly. The check resolves the name once and
returns the addresses it checked, and the callers connect to those (no second lookup: DNS rebinding cannot move
the connection). A refusal opens no connection. docs/security.md#outbound-fetches.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from gitops_tui import paths
from gitops_tui.redact import scrub_url

#: Patterns (whitespace-separated) when no flag names them: how `--allow-fetch` reaches the console's reconciler.
ALLOW_FETCH_ENV = "GITOPS_TUI_ALLOW_FETCH"
FLAG = "--allow-fetch"
REASON_URL_NOT_ALLOWED = "URLNotAllowed"
#: Schemes a pattern may allow; https alone is allowed without one.
SCHEMES = ("https", "http", "ssh")
DEFAULT_PORTS = {"https": 443, "http": 80, "ssh": 22}
_SCP_LIKE = re.compile(r"^(?:(?P<user>[\w.+-]+)@)?(?P<host>[\w.-]+):(?!//)(?P<path>\S+)$")

Resolver = Callable[[str, int], list[str]]


class FetchRefused(Exception):
    """A URL from tenant content the operator's allow-list does not let through; ``message`` names it and the flag."""

    reason = REASON_URL_NOT_ALLOWED

    def __init__(self, message: str) -> None:
        """Record the sentence."""
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Pattern:
    """One ``--allow-fetch`` pattern: ``scheme://host[:port][/path]``, each part a glob (``*``, ``?``, ``[..]``)."""

    text: str
    scheme: str
    host: str
    port: str  # "" means the scheme's default port
    path: str

    @classmethod
    def parse(cls, text: str) -> Pattern:
        """Read a pattern; ValueError (one sentence) when it is not ``scheme://host[:port][/path]``."""
        parts = urlsplit(text.strip())
        if parts.scheme not in (*SCHEMES, "*") or not parts.netloc:
            raise ValueError(f"{FLAG} {text!r} is not a pattern of the form scheme://host[:port][/path] "
                             f"(scheme one of {', '.join(SCHEMES)})")
        netloc = parts.netloc.rpartition("@")[2]
        host, port = netloc, ""
        if netloc.startswith("["):  # [ipv6]:port
            host, _, rest = netloc[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        elif netloc.count(":") == 1:
            host, port = netloc.split(":")
        return cls(text.strip(), parts.scheme, host.lower(), port, parts.path or "/*")

    @property
    def names_host(self) -> bool:
        """Whether the pattern names one host exactly (no wildcard): only then may it reach a non-public address."""
        return not any(c in self.host for c in "*?[")

    def matches(self, target: Target) -> bool:
        """Whether ``target`` falls under this pattern (no port in the pattern: the scheme's default port only)."""
        port_ok = (fnmatch.fnmatchcase(str(target.port), self.port) if self.port
                   else target.port == DEFAULT_PORTS.get(target.scheme))
        return (port_ok and fnmatch.fnmatchcase(target.scheme, self.scheme)
                and fnmatch.fnmatchcase(target.host, self.host) and fnmatch.fnmatchcase(target.path or "/", self.path))


@dataclass(frozen=True)
class Target:
    """A URL as the check saw it, with the addresses it resolved: connect to these, never look the name up again."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...] = ()


def split_url(url: str) -> Target:
    """scheme, host, port and path of an https/http/ssh URL or an scp-like ``user@host:path`` (ssh)."""
    scp = _SCP_LIKE.match(url) if "://" not in url else None
    if scp:
        return Target(url, "ssh", scp.group("host").lower(), 22, "/" + scp.group("path").lstrip("/"))
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return Target(url, parts.scheme.lower(), (parts.hostname or "").lower(),
                  port or DEFAULT_PORTS.get(parts.scheme.lower(), 0), parts.path or "/")


def _public(address: str) -> bool:
    """Whether an address is a public one (not loopback, link-local, private, shared, reserved or multicast)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _kind(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for test, word in ((ip.is_loopback, "a loopback"), (ip.is_link_local, "a link-local"),
                       (ip.is_private, "a private"), (ip.is_multicast, "a multicast")):
        if test:
            return word
    return "a non-public"


def _loopback_literal(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP literal (Go connects to these without a proxy)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (IP literals as they are), in the resolver's order, without repeats."""
    try:
        ipaddress.ip_address(host)
        return [host]
    except ValueError:
        pass
    found: list[str] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        if sockaddr[0] not in found:
            found.append(str(sockaddr[0]))
    return found


def sandbox_ports() -> set[int]:
    """The ports of the local sandbox's API servers (its state.json), which no tenant URL may reach by default."""
    try:
        state = json.loads((paths.sandbox_dir() / "state.json").read_text())
        return {int(c["port"]) for c in (state.get("clusters") or {}).values() if isinstance(c, dict) and c.get("port")}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return set()


class FetchPolicy:
    """The operator's allow-list for URLs from tenant content (docs/security.md#outbound-fetches)."""

    def __init__(self, patterns: Iterable[str] = (), *, resolver: Resolver = resolve,
                 protected_ports: Callable[[], set[int]] = sandbox_ports) -> None:
        """Allow what ``patterns`` (``--allow-fetch``) name beside public https; ValueError for a bad pattern."""
        self.patterns = tuple(Pattern.parse(p) for p in patterns if p.strip())
        self._resolve = resolver
        self._protected = protected_ports

    @classmethod
    def from_env(cls, configured: Sequence[str] | None = None) -> FetchPolicy:
        """``configured`` (the flag), else the patterns of $GITOPS_TUI_ALLOW_FETCH, else none (public https only)."""
        chosen = list(configured or ())
        if not chosen:
            chosen = os.environ.get(ALLOW_FETCH_ENV, "").split()
        return cls(chosen)

    def check(self, url: str, what: str = "the URL", *, resolve_names: bool = True) -> Target:
        """The target with its checked addresses; FetchRefused (naming the URL and the flag) when not allowed.

        ``resolve_names`` False checks what the URL says alone (scheme, pattern, an IP literal), for a revision
        checked before anything is fetched; the fetch checks again with the resolved addresses.
        """
        target = split_url(url)
        shown = scrub_url(url)
        if target.scheme not in SCHEMES or not target.host:
            raise self._refused(shown, what, f"only {', '.join(SCHEMES)} URLs are fetched from a repository's content")
        matching = [p for p in self.patterns if p.matches(target)]
        if not matching and target.scheme != "https":
            kind = "plain http URLs" if target.scheme == "http" else f"{target.scheme} URLs"
            raise self._refused(shown, what, f"{kind} from a repository's content are fetched only when a pattern "
                                             "allows them")
        if not resolve_names:
            try:
                ipaddress.ip_address(target.host)
            except ValueError:
                return target
            return self._checked(target, [target.host], matching, shown, what)
        try:
            addresses = self._resolve(target.host, target.port)
        except (OSError, UnicodeError):
            raise self._refused(shown, what, f"host {target.host} cannot be resolved", hint=False) from None
        if not addresses:
            raise self._refused(shown, what, f"host {target.host} has no address", hint=False)
        return self._checked(target, addresses, matching, shown, what)

    def check_registry(self, url: str, what: str, *, insecure: bool = False,
                       resolve_names: bool = True) -> Target:
        """Check an ``oci://host[:port]/path`` URL as the https URL Helm's registry client fetches (http when
        ``insecure``, Flux's field, Helm's --plain-http: then only for a loopback address written in the URL,
        ``localhost`` included, and only when a pattern allows that plain http URL)."""
        shown = scrub_url(url)
        if not url.startswith("oci://"):
            raise self._refused(shown, what, "an OCI URL starts with oci://", hint=False)
        scheme = "http" if insecure else "https"
        target = split_url(f"{scheme}://{url[len('oci://'):]}")
        if insecure and not _loopback_literal(target.host):
            raise self._refused(shown, what, "plain http (spec.insecure) is used only for a loopback address written "
                                             "in the URL (127.0.0.1, [::1] or localhost)", hint=False)
        fetched = f"{scheme}://{url[len('oci://'):]}"
        try:
            checked = self.check(fetched, what, resolve_names=resolve_names)
        except FetchRefused as exc:  # name the URL as the repository wrote it
            raise FetchRefused(exc.message.replace(scrub_url(fetched), f"{shown} (fetched as {scrub_url(fetched)})",
                                                   1)) from None
        return Target(url, checked.scheme, checked.host, checked.port, checked.path, checked.addresses)

    def _checked(self, target: Target, addresses: list[str], matching: list[Pattern], shown: str, what: str) -> Target:
        exact = [p for p in matching if p.names_host]
        protected = self._protected()
        for address in addresses:
            if not _public(address) and not exact:
                named = "" if address == target.host else f" ({address})"
                raise self._refused(shown, what, f"{target.host} is {_kind(address)} address{named}; only a pattern "
                                                 "naming that host may reach it")
            if not _public(address) and target.port in protected and not any(p.port == str(target.port) for p in exact):
                raise self._refused(shown, what, f"port {target.port} of {address} is the sandbox's API server; only "
                                                 "a pattern naming that port may reach it")
        return Target(target.url, target.scheme, target.host, target.port, target.path, tuple(addresses))

    @staticmethod
    def _refused(shown: str, what: str, why: str, hint: bool = True) -> FetchRefused:
        advice = f"; the operator allows it with `gitops-tui run {FLAG} PATTERN` (docs/security.md)" if hint else ""
        return FetchRefused(f"{what} {shown} is not fetched: {why}{advice}")
