"""REST paths of resources and of the management kinds: every path of the code base is built here, from quoted parts.

A path is never concatenated from a name or a namespace: each part goes through ``quote_part`` (percent-encoding
every character but letters, digits and ``-._~``), and ``.``, ``..`` and the empty string are refused, so a name
such as ``../../beta/secrets/db`` can only ever name one object in the namespace the caller chose
(docs/security.md#references-are-names). ``tests/test_request_paths.py`` fails on any path built elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gitops_tui.api import names


class PathPartRefused(ValueError):
    """A part of a request path that would not name exactly one path segment ("", "." or "..")."""


def quote_part(part: str) -> str:
    """One path segment, percent-encoded (``/`` and ``%`` included); PathPartRefused for "", "." and ".."."""
    text = str(part)
    if text in ("", ".", ".."):
        raise PathPartRefused(f"{text!r} cannot be part of a request path")
    return quote(text, safe="")


def join(*parts: str) -> str:
    """``/`` followed by the quoted parts joined with ``/`` (e.g. join("api", "v1") is "/api/v1")."""
    return "/" + "/".join(quote_part(p) for p in parts)


def group_version_parts(api_version: str) -> tuple[str, ...]:
    """The leading parts of an apiVersion's path: ("api", "v1") for the core group, else ("apis", group, version)."""
    group, _, version = str(api_version).rpartition("/")
    return ("api", version) if not group else ("apis", group, version)


def resource_path(api_version: str, plural: str, namespace: str | None = None, name: str | None = None,
                  subresource: str | None = None) -> str:
    """The path of a collection, or of one object (and its subresource): ``/api/v1/...`` or ``/apis/g/v/...``."""
    parts = list(group_version_parts(api_version))
    if namespace:
        parts += ["namespaces", namespace]
    parts.append(plural)
    if name:
        parts.append(name)
        if subresource:
            parts.append(subresource)
    return join(*parts)


def item_path(collection: str, name: str) -> str:
    """The path of one object of ``collection`` (a path resource_path built): the name quoted and appended."""
    return f"{collection}/{quote_part(name)}"


def discovery_path(api_version: str | None = None) -> str:
    """The discovery document of the core group (``/api``), or of one group version (``/apis/g/v``)."""
    return join("api") if api_version is None else join(*group_version_parts(api_version))


def management_path(kind: str, namespace: str | None = None, name: str | None = None,
                    subresource: str | None = None) -> str:
    """The path of a management kind (see names.RESOURCES): a collection, one object, or its subresource."""
    group, version, plural = names.RESOURCES[kind]
    return resource_path(f"{group}/{version}", plural, None if kind == names.KIND_PROJECT else namespace, name,
                         subresource)


def dynamic_path(resource: Any, namespace: str | None = None, name: str | None = None) -> str:
    """The path of a kubernetes DynamicClient resource (its group_version and plural), built here rather than by
    the client, which concatenates names as they are."""
    group_version = str(resource.group_version)
    plural = str(resource.name)
    return resource_path(group_version, plural, namespace if getattr(resource, "namespaced", False) else None, name)
