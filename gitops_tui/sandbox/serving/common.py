"""Shared pieces of the sandbox server's request handling: requests, responses and object helpers."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from gitops_tui.sandbox.serving.errors import bad_request

MAX_BODY = 3 * 1024 * 1024


class Headers(Protocol):
    """A request's headers as the server reads them: one value by name (http.client.HTTPMessage, or a dict)."""

    def get(self, name: str, /) -> str | None:
        """Return the value of the header ``name``, or None when absent."""


@dataclass
class ApiRequest:
    """One decoded HTTP request: method, path, first value of each query parameter, headers, body."""

    method: str
    path: str
    query: dict[str, str]
    headers: Headers
    body: bytes = b""
    #: The authenticated user (serving.authn.UserInfo), set by the access gate.
    user: Any = None

    def header(self, name: str) -> str:
        """Return a header's value, or "" when absent."""
        return self.headers.get(name) or ""

    def flag(self, name: str) -> bool:
        """Return whether a boolean query parameter is set true."""
        return self.query.get(name, "").lower() in ("1", "true", "yes")

    @property
    def dry_run(self) -> bool:
        """Whether the request asks for dryRun=All."""
        value = self.query.get("dryRun", "")
        if value and value != "All":
            raise bad_request(f"unsupported dry run value {value!r}: only All is supported")
        return value == "All"


@dataclass
class Response:
    """A JSON (or raw) answer with its HTTP status code."""

    code: int
    body: Any
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class WatchStream:
    """A streaming answer: an iterator of watch events; None items are heartbeats."""

    events: Iterator[dict[str, Any] | None]
    content_type: str = "application/json"


def now() -> str:
    """Return the current UTC time in RFC 3339 with second precision."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    """Return obj.metadata, creating it when missing or not an object."""
    value = obj.get("metadata")
    if not isinstance(value, dict):
        value = {}
        obj["metadata"] = value
    return value


def parse_rv(value: Any, what: str = "resourceVersion") -> int | None:
    """Parse a resourceVersion string into an int (None for empty); 400 when not a number."""
    if value in (None, ""):
        return None
    try:
        number = int(str(value))
    except ValueError as exc:
        raise bad_request(f"invalid {what}: {value!r} is not a valid resource version") from exc
    if number < 0:
        raise bad_request(f"invalid {what}: {value!r} is not a valid resource version")
    return number


def manager_name(req: ApiRequest) -> str:
    """Return the field manager: the fieldManager parameter, else the User-Agent's product name."""
    explicit = req.query.get("fieldManager")
    if explicit:
        return explicit
    agent = req.header("User-Agent").split("/")[0].strip()
    return agent or "unknown"


def spec_of(obj: dict[str, Any], with_status: bool = False) -> dict[str, Any]:
    """Return the part whose changes bump generation: all but metadata (and status unless asked)."""
    skip = ("metadata", "apiVersion", "kind") if with_status else ("metadata", "status", "apiVersion", "kind")
    return {k: v for k, v in obj.items() if k not in skip}


def storage_key(rt: Any) -> tuple[str, str]:
    """Return the (group, plural) bucket of a type; events.k8s.io Events share core Events' storage."""
    if (rt.group, rt.plural) == ("events.k8s.io", "events"):
        return ("", "events")
    return (rt.group, rt.plural)
