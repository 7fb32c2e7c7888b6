"""Server-side apply of one object (field manager gitops-tui, force), dry-run apply, get and delete, with a discovery cache."""

from __future__ import annotations

import json
import threading
import weakref
from typing import Any

from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import NotFoundError, ResourceNotFoundError

from gitops_tui.api.paths import dynamic_path
from gitops_tui.kube.impersonation import own_client

FIELD_MANAGER = "gitops-tui"


class UnknownKind(LookupError):
    """The cluster does not serve the object's apiVersion and kind."""

    def __init__(self, api_version: str, kind: str) -> None:
        super().__init__(f"the cluster does not serve {kind} in {api_version}")
        self.api_version = api_version
        self.kind = kind


class Resolver:
    """Maps (apiVersion, kind) to API resources through discovery, cached, refreshed once on a miss."""

    def __init__(self, dynamic: DynamicClient) -> None:
        self._dynamic = dynamic
        self._cache: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def resource(self, api_version: str, kind: str) -> Any:
        """Return the discovery resource for apiVersion/kind; raise UnknownKind when not served."""
        key = (api_version, kind)
        found = self._cache.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._lookup(api_version, kind)
            if found is None:
                self._dynamic.resources.invalidate_cache()
                found = self._lookup(api_version, kind)
            if found is None:
                raise UnknownKind(api_version, kind)
            self._cache[key] = found
            return found

    def _lookup(self, api_version: str, kind: str) -> Any:
        try:
            return self._dynamic.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - ResourceNotUniqueError etc.
            if type(exc).__name__ == "ResourceNotUniqueError":
                found = self._dynamic.resources.search(api_version=api_version, kind=kind)
                plain = [r for r in found if "/" not in getattr(r, "name", "")]
                return plain[0] if plain else None
            raise

    def namespaced(self, api_version: str, kind: str) -> bool:
        """Return True when the kind is namespaced on this cluster (raises UnknownKind)."""
        return bool(self.resource(api_version, kind).namespaced)


_RESOLVERS: weakref.WeakKeyDictionary[DynamicClient, Resolver] = weakref.WeakKeyDictionary()
_RESOLVERS_LOCK = threading.Lock()


def resolver_for(dynamic: DynamicClient) -> Resolver:
    """Return the shared Resolver of a dynamic client (one discovery cache per cluster connection: an impersonating
    client shares its own client's)."""
    dynamic = own_client(dynamic)
    with _RESOLVERS_LOCK:
        found = _RESOLVERS.get(dynamic)
        if found is None:
            found = Resolver(dynamic)
            _RESOLVERS[dynamic] = found
        return found


def _decode(response: Any) -> dict:
    data = response.data
    return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)


def _target(obj: dict) -> tuple[str, str, str, str | None]:
    meta = obj.get("metadata") or {}
    return obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("name", ""), meta.get("namespace")


def apply_object(
    dynamic: DynamicClient,
    obj: dict,
    *,
    dry_run: bool = False,
    force: bool = True,
    field_manager: str = FIELD_MANAGER,
) -> dict:
    """Server-side apply ``obj`` and return the resulting object (the would-be object when dry_run)."""
    api_version, kind, name, namespace = _target(obj)
    resource = resolver_for(dynamic).resource(api_version, kind)
    body = {k: v for k, v in obj.items() if k != "status"}
    params: dict[str, Any] = {"field_manager": field_manager, "force_conflicts": force}
    if dry_run:
        params["dry_run"] = "All"
    path = dynamic_path(resource, namespace, name)
    response = dynamic.request(
        "patch",
        path,
        body=json.dumps(body),
        content_type="application/apply-patch+yaml",
        serialize=False,
        **params,
    )
    return _decode(response)


def get_object(dynamic: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None) -> dict | None:
    """Return the live object, or None when it does not exist."""
    resource = resolver_for(dynamic).resource(api_version, kind)
    path = dynamic_path(resource, namespace, name)
    try:
        return _decode(dynamic.request("get", path, serialize=False))
    except NotFoundError:
        return None


def delete_object(dynamic: DynamicClient, api_version: str, kind: str, name: str, namespace: str | None) -> bool:
    """Delete the object (background propagation); return False when it was already gone."""
    resource = resolver_for(dynamic).resource(api_version, kind)
    path = dynamic_path(resource, namespace, name)
    try:
        dynamic.request("delete", path, serialize=False, propagation_policy="Background")
    except NotFoundError:
        return False
    return True


def list_objects(dynamic: DynamicClient, api_version: str, kind: str, namespace: str | None) -> dict[str, dict]:
    """Return the live objects of a kind in ``namespace`` by name (one LIST); {} when the kind is not served.

    Transport and API errors propagate (the caller decides what an unreadable cluster means).
    """
    try:
        resource = resolver_for(dynamic).resource(api_version, kind)
    except UnknownKind:
        return {}
    path = dynamic_path(resource, namespace)
    listed = _decode(dynamic.request("get", path, serialize=False))
    return {str((item.get("metadata") or {}).get("name", "")): item for item in listed.get("items") or []}
