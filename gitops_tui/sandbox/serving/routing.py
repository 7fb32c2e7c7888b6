"""Parsing request paths of the Kubernetes REST API into routes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote


@dataclass(frozen=True)
class ResourceRoute:
    """A request for a resource collection, an object or an object's subresource."""

    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str = ""
    watch_path: bool = False

    @property
    def group_version(self) -> str:
        """Return "v1" or "<group>/<version>"."""
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True)
class SpecialRoute:
    """A non-resource request: discovery, openapi, version or health."""

    kind: str  # "discovery" | "openapi" | "version" | "health"
    path: str


_NAMESPACE_SUBRESOURCES = {"status", "finalize"}


def parse_path(path: str) -> ResourceRoute | SpecialRoute | None:
    """Return the route of ``path`` (no query string), or None for an unknown path."""
    path = path.rstrip("/") or "/"
    parts = [unquote(p) for p in path.split("/")[1:] if p != ""]
    if path in ("/version",):
        return SpecialRoute("version", path)
    if path in ("/healthz", "/livez", "/readyz") or (
        len(parts) == 2 and parts[0] in ("healthz", "livez", "readyz")
    ):
        return SpecialRoute("health", path)
    if parts[:1] == ["openapi"]:
        return SpecialRoute("openapi", path)
    if parts[:1] == ["api"]:
        if len(parts) <= 2:
            return SpecialRoute("discovery", path)
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"]:
        if len(parts) <= 3:
            return SpecialRoute("discovery", path)
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    return _resource_route(group, version, rest)


def _resource_route(group: str, version: str, rest: list[str]) -> ResourceRoute | None:
    watch = False
    if rest and rest[0] == "watch":
        watch, rest = True, rest[1:]
    if not rest:
        return None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (
        group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES
    ):
        namespace, rest = rest[1], rest[2:]
        if len(rest) > 3:
            return None
        return ResourceRoute(
            group, version, rest[0], namespace,
            rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else "", watch,
        )
    if len(rest) > 3:
        return None
    return ResourceRoute(
        group, version, rest[0], None,
        rest[1] if len(rest) > 1 else None, rest[2] if len(rest) > 2 else "", watch,
    )
