"""REST paths of resources and of the management kinds (pure: no client is needed to name a path)."""

from __future__ import annotations

from gitops_tui.api import names


def resource_path(api_version: str, plural: str, namespace: str | None = None, name: str | None = None) -> str:
    """Return the REST path of a resource collection (or one object): ``/api/v1/...`` or ``/apis/g/v/...``."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    if namespace:
        base += f"/namespaces/{namespace}"
    base += f"/{plural}"
    if name:
        base += f"/{name}"
    return base


def management_path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    """Return the REST path of a management kind (see names.RESOURCES), a collection or one object."""
    group, version, plural = names.RESOURCES[kind]
    return resource_path(f"{group}/{version}", plural, None if kind == names.KIND_PROJECT else namespace, name)
