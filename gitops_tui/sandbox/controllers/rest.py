"""A controller's REST calls through the official client: any resource by path, JSON in and out, and watches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.watch.watch import iter_resp_lines

ApiException = client.ApiException
MERGE_PATCH = "application/merge-patch+json"
REQUEST_TIMEOUT = 30


@dataclass(frozen=True)
class Resource:
    """One REST resource: group, version, plural, kind and scope."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def key(self) -> str:
        """'<group>/<plural>': how the controllers name an informer."""
        return f"{self.group}/{self.plural}"

    @property
    def api_version(self) -> str:
        """'v1' for the core group, else 'group/version'."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The URL path of the collection, an object or one of its subresources."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


def status_of(exc: BaseException) -> int:
    """The HTTP status of a failed call (0 when it never got an answer)."""
    return int(getattr(exc, "status", 0) or 0)


class Rest:
    """JSON requests to one cluster through an official-client ApiClient."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client

    def _call(self, method: str, path: str, query: dict[str, Any] | None, body: Any, content_type: str,
              timeout: float | tuple[float, float]) -> client.rest.RESTResponse:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        params = [(k, v) for k, v in (query or {}).items() if v is not None]
        prepared = self.api_client.param_serialize(method, path, query_params=params, header_params=headers,
                                                   body=body, auth_settings=["BearerToken"])
        response = self.api_client.call_api(*prepared, _request_timeout=timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException(http_resp=response)
        return response

    def request(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
                content_type: str = "application/json", timeout: float = REQUEST_TIMEOUT) -> Any:
        """Send one request and return the decoded JSON answer (ApiException on a refusal)."""
        response = self._call(method, path, query, body, content_type, timeout)
        data = response.read()
        return json.loads(data) if data else None

    def get(self, path: str, query: dict[str, Any] | None = None) -> Any:
        """GET a path."""
        return self.request("GET", path, query)

    def create(self, res: Resource, obj: dict[str, Any], manager: str) -> dict[str, Any]:
        """POST a new object."""
        namespace = (obj.get("metadata") or {}).get("namespace", "")
        return self.request("POST", res.path(namespace), {"fieldManager": manager}, obj)

    def patch(self, res: Resource, namespace: str, name: str, patch: dict[str, Any], manager: str,
              subresource: str = "") -> dict[str, Any]:
        """Merge-patch an object (or its status)."""
        return self.request("PATCH", res.path(namespace, name, subresource), {"fieldManager": manager},
                            patch, MERGE_PATCH)

    def delete(self, res: Resource, namespace: str, name: str, policy: str = "Background",
               uid: str = "") -> dict[str, Any] | None:
        """DELETE an object with a propagation policy (and a uid precondition when given)."""
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy}
        if uid:
            body["preconditions"] = {"uid": uid}
        return self.request("DELETE", res.path(namespace, name), None, body)

    def watch(self, res: Resource, resource_version: str, timeout: int) -> Iterator[dict[str, Any]]:
        """Yield the events of a watch from ``resource_version`` until the server ends it.

        No bookmarks: the sandbox sends one every few seconds on every watch, and they were half of an
        idle cluster's CPU; a watch whose version was compacted meanwhile lists again (410).
        """
        query = {"watch": "true", "resourceVersion": resource_version, "timeoutSeconds": str(timeout)}
        response = self._call("GET", res.path(), query, None, "", (10, timeout + 15))
        finished = False
        try:
            for line in iter_resp_lines(response.response):
                if line:
                    yield json.loads(line)
            finished = True
        finally:
            if finished:
                response.response.release_conn()
            else:  # left mid-stream (an ERROR event, a stop): never hand a half-read connection back
                response.response.close()
